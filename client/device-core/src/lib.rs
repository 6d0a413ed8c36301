//! # Device core: sealing and opening ThingsChain envelopes, signing transactions
//!
//! The part of the device SDK that runs on the device itself and in service nodes: no
//! networking, no `std` needed (the `std` feature only adds `std` support to dependencies).
//! The format is [`thingschain_primitives::envelope`]; the cryptography is RustCrypto's
//! XChaCha20-Poly1305 and HKDF-SHA256 and dalek's X25519 — nothing here is home-made but
//! the composition:
//!
//! 1. draw a content key, an ephemeral X25519 key pair and a 24-byte nonce;
//! 2. encrypt the data with the content key, authenticating the envelope header and its
//!    provenance (the chain and the device: an envelope re-stored by another device, or on
//!    another chain, does not open);
//! 3. for each reader: X25519(ephemeral secret, reader key) → HKDF-SHA256 (bound to both
//!    public keys) → key-encryption key, which encrypts the content key.
//!
//! [`signing`] signs the device's transactions (sr25519) without any networking: a client
//! fetches the [`signing::ChainContext`] once when online.
//!
//! A reader opens with its X25519 secret. Someone whose key is not among the recipients gets
//! [`OpenError::NotARecipient`]; any change to the header, a wrapped key or the ciphertext
//! gets [`OpenError::Tampered`], and so does an envelope opened as another device's or another
//! chain's than it was sealed for. A reader removed from a device's reader list is simply not
//! a recipient of the records sealed afterwards.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod signing;

use alloc::vec::Vec;
use chacha20poly1305::{
	aead::{Aead, KeyInit, Payload},
	XChaCha20Poly1305, XNonce,
};
use hkdf::Hkdf;
use rand_core::{CryptoRng, RngCore};
use sha2::Sha256;
use thingschain_primitives::envelope::{
	ciphertext_hash, Algorithm, Body, Envelope, Header, Provenance, ReaderKey, Recipient,
	ENVELOPE_VERSION, MAX_INLINE_BYTES, MAX_READERS,
};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

/// Domain of the key-encryption-key derivation.
const WRAP_INFO: &[u8] = b"tc/envelope/v2/wrap";

/// A reader's X25519 secret key.
pub struct ReaderSecret(StaticSecret);

impl ReaderSecret {
	/// A new random secret.
	pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
		Self(StaticSecret::random_from_rng(rng))
	}

	/// The secret stored as `bytes`.
	pub fn from_bytes(bytes: [u8; 32]) -> Self {
		Self(StaticSecret::from(bytes))
	}

	/// The secret's bytes, to store it.
	pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
		Zeroizing::new(self.0.to_bytes())
	}

	/// The public key others seal for.
	pub fn public_key(&self) -> ReaderKey {
		PublicKey::from(&self.0).to_bytes()
	}
}

/// Where sealed ciphertext goes.
pub enum Placement<'a> {
	/// In the envelope, on chain (at most `MAX_INLINE_BYTES` of ciphertext).
	Inline,
	/// Off chain, at `locator`; the envelope keeps its hash and size.
	External { locator: &'a [u8] },
}

/// A sealed record.
#[derive(Debug)]
pub struct Sealed {
	/// The envelope to put on chain.
	pub envelope: Envelope,
	/// For an external placement, the ciphertext to store at the locator.
	pub external_ciphertext: Option<Vec<u8>>,
}

/// Why sealing failed.
#[derive(Debug, PartialEq, Eq)]
pub enum SealError {
	/// A record nobody can read is refused.
	NoReaders,
	/// More readers than `MAX_READERS`.
	TooManyReaders,
	/// The ciphertext would exceed `MAX_INLINE_BYTES`: place it externally.
	TooLargeForInline,
	/// The locator is longer than `MAX_LOCATOR_BYTES`.
	LocatorTooLong,
	/// A reader key is a low-order point: nothing sealed for it would be secret.
	InvalidReaderKey,
}

/// Why opening failed.
#[derive(Debug, PartialEq, Eq)]
pub enum OpenError {
	/// The envelope's format version is not one this crate reads.
	UnsupportedVersion,
	/// The content key was not wrapped for this reader.
	NotARecipient,
	/// The header, the wrapped key or the ciphertext was changed, or the envelope was sealed
	/// for another chain or device than the provenance it is opened with.
	Tampered,
	/// The envelope's body is external and no ciphertext was given.
	CiphertextMissing,
	/// The given ciphertext is not the one the envelope names (hash or size).
	CiphertextMismatch,
}

impl core::fmt::Display for SealError {
	fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
		f.write_str(match self {
			SealError::NoReaders => "no reader to seal for: grant a reader first",
			SealError::TooManyReaders => "more readers than an envelope carries",
			SealError::TooLargeForInline => "too large to keep on chain: place it externally",
			SealError::LocatorTooLong => "the locator is too long",
			SealError::InvalidReaderKey => "a reader key is not a valid X25519 key",
		})
	}
}

impl core::fmt::Display for OpenError {
	fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
		f.write_str(match self {
			OpenError::UnsupportedVersion => "unsupported envelope version",
			OpenError::NotARecipient => "not a recipient of this record",
			OpenError::Tampered => {
				"the record was tampered with, or sealed for another device or chain"
			}
			OpenError::CiphertextMissing => "the off-chain ciphertext is missing",
			OpenError::CiphertextMismatch => "the off-chain ciphertext does not match the record",
		})
	}
}

/// Encrypts `plaintext` so that each of `readers` (X25519 public keys) can open it, as the
/// `sequence`-th record of the device and chain of `provenance`.
pub fn seal(
	plaintext: &[u8],
	readers: &[ReaderKey],
	placement: Placement,
	provenance: &Provenance,
	sequence: u64,
	rng: &mut (impl RngCore + CryptoRng),
) -> Result<Sealed, SealError> {
	if readers.is_empty() {
		return Err(SealError::NoReaders);
	}
	if readers.len() > MAX_READERS as usize {
		return Err(SealError::TooManyReaders);
	}
	let ciphertext_len = plaintext.len() + 16;
	if matches!(placement, Placement::Inline) && ciphertext_len > MAX_INLINE_BYTES as usize {
		return Err(SealError::TooLargeForInline);
	}
	let locator = match placement {
		Placement::Inline => None,
		Placement::External { locator } => {
			Some(locator.to_vec().try_into().map_err(|_| SealError::LocatorTooLong)?)
		}
	};

	let mut content_key = Zeroizing::new([0u8; 32]);
	rng.fill_bytes(content_key.as_mut());
	let ephemeral = StaticSecret::random_from_rng(&mut *rng);
	let ephemeral_key = PublicKey::from(&ephemeral).to_bytes();
	let mut nonce = [0u8; 24];
	rng.fill_bytes(&mut nonce);

	let header = Header {
		version: ENVELOPE_VERSION,
		algorithm: Algorithm::X25519XChaCha20Poly1305,
		ephemeral_key: &ephemeral_key,
		nonce: &nonce,
		sequence,
		locator: locator.as_ref().map(|l: &thingschain_primitives::envelope::Locator| l.as_slice()),
	};
	let aad = header.associated_data(provenance);
	let ciphertext = XChaCha20Poly1305::new(content_key.as_ref().into())
		.encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
		.expect("XChaCha20-Poly1305 encrypts any length this format allows");

	let mut recipients = Vec::with_capacity(readers.len());
	for reader in readers {
		let shared = ephemeral.diffie_hellman(&PublicKey::from(*reader));
		if !shared.was_contributory() {
			return Err(SealError::InvalidReaderKey);
		}
		let kek = key_encryption_key(shared.as_bytes(), &ephemeral_key, reader);
		let wrapped = XChaCha20Poly1305::new(kek.as_ref().into())
			.encrypt(XNonce::from_slice(&nonce), Payload { msg: content_key.as_ref(), aad: &aad })
			.expect("a 32-byte key always encrypts");
		recipients.push(Recipient {
			reader: *reader,
			wrapped_key: wrapped.try_into().expect("32 bytes and a 16-byte tag"),
		});
	}

	let (body, external_ciphertext) = match locator {
		None => (Body::Inline(ciphertext.try_into().expect("length checked above")), None),
		Some(locator) => (
			Body::External {
				hash: ciphertext_hash(&ciphertext),
				size: ciphertext.len() as u64,
				locator,
			},
			Some(ciphertext),
		),
	};
	Ok(Sealed {
		envelope: Envelope {
			version: ENVELOPE_VERSION,
			algorithm: Algorithm::X25519XChaCha20Poly1305,
			ephemeral_key,
			nonce,
			sequence,
			body,
			recipients: recipients.try_into().expect("reader count checked above"),
		},
		external_ciphertext,
	})
}

/// Decrypts `envelope`, a record of the device and chain of `provenance`, as the reader
/// holding `secret`; `external` is the ciphertext fetched from the locator when the body is
/// external.
pub fn open(
	envelope: &Envelope,
	provenance: &Provenance,
	external: Option<&[u8]>,
	secret: &ReaderSecret,
) -> Result<Zeroizing<Vec<u8>>, OpenError> {
	if envelope.version != ENVELOPE_VERSION {
		return Err(OpenError::UnsupportedVersion);
	}
	let me = secret.public_key();
	let recipient =
		envelope.recipients.iter().find(|r| r.reader == me).ok_or(OpenError::NotARecipient)?;
	let ciphertext = match &envelope.body {
		Body::Inline(bytes) => bytes.as_slice(),
		Body::External { hash, size, .. } => {
			let bytes = external.ok_or(OpenError::CiphertextMissing)?;
			if bytes.len() as u64 != *size || ciphertext_hash(bytes) != *hash {
				return Err(OpenError::CiphertextMismatch);
			}
			bytes
		}
	};
	let aad = envelope.header().associated_data(provenance);
	let nonce = XNonce::from_slice(&envelope.nonce);

	let shared = secret.0.diffie_hellman(&PublicKey::from(envelope.ephemeral_key));
	let kek = key_encryption_key(shared.as_bytes(), &envelope.ephemeral_key, &me);
	let content_key = Zeroizing::new(
		XChaCha20Poly1305::new(kek.as_ref().into())
			.decrypt(nonce, Payload { msg: &recipient.wrapped_key, aad: &aad })
			.map_err(|_| OpenError::Tampered)?,
	);
	let content_key: &[u8; 32] =
		content_key.as_slice().try_into().map_err(|_| OpenError::Tampered)?;
	XChaCha20Poly1305::new(content_key.into())
		.decrypt(nonce, Payload { msg: ciphertext, aad: &aad })
		.map(Zeroizing::new)
		.map_err(|_| OpenError::Tampered)
}

/// The key that wraps the content key for one reader: HKDF-SHA256 over the X25519 shared
/// secret, bound to the ephemeral and the reader's public keys.
fn key_encryption_key(
	shared: &[u8; 32],
	ephemeral: &[u8; 32],
	reader: &ReaderKey,
) -> Zeroizing<[u8; 32]> {
	let mut info = Vec::with_capacity(WRAP_INFO.len() + 64);
	info.extend_from_slice(WRAP_INFO);
	info.extend_from_slice(ephemeral);
	info.extend_from_slice(reader);
	let mut kek = Zeroizing::new([0u8; 32]);
	Hkdf::<Sha256>::new(None, shared)
		.expand(&info, kek.as_mut())
		.expect("32 bytes is a valid HKDF-SHA256 output length");
	kek
}

#[cfg(test)]
mod tests;
