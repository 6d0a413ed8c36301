//! The encrypted envelope a device's data record travels and rests in.
//!
//! ```text
//!  plaintext ──XChaCha20-Poly1305(content key, nonce, aad = header)──► ciphertext (inline or off chain)
//!  content key ──for each reader: X25519(ephemeral secret, reader key) → HKDF-SHA256 → KEK──►
//!               XChaCha20-Poly1305(KEK, nonce) ──► wrapped key (32 bytes + 16-byte tag)
//! ```
//!
//! A fresh content key and ephemeral X25519 key pair are drawn per record, so every
//! key-encryption key is used once. The header (version, algorithm, ephemeral key, nonce,
//! sequence and, for data kept off chain, its locator) is authenticated as associated data,
//! and so is the envelope's [`Provenance`]: the chain (its genesis hash) and the device whose
//! record it is. Changing any of it makes opening fail, so an envelope copied into another
//! device's records, or onto another chain, does not open there; the chain refuses a device's
//! envelope whose sequence is not above the last it stored, so none is stored twice.
//! The chain stores envelopes without being able to read them; the runtime only checks their
//! bounds and sequence. Sealing and opening live in the device SDK's core crate.
//!
//! ```text
//!  associated data = "tc/envelope" ‖ version ‖ algorithm ‖ ephemeral key ‖ nonce ‖ sequence
//!                    ‖ Option(locator) ‖ genesis hash ‖ device id           (SCALE)
//! ```

use crate::ids::{DeviceId, Hash};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{sp_core::ConstU32, sp_runtime::BoundedVec};
use scale_info::TypeInfo;

/// The envelope format this crate describes. Version 1 (no sequence, not bound to a chain
/// and device) is no longer accepted.
pub const ENVELOPE_VERSION: u8 = 2;
/// Most ciphertext bytes an envelope carries inline; larger data is kept off chain.
pub const MAX_INLINE_BYTES: u32 = 4096;
/// Most readers a content key is wrapped for.
pub const MAX_READERS: u32 = 32;
/// Longest off-chain locator (URL, content id), in bytes.
pub const MAX_LOCATOR_BYTES: u32 = 256;
/// An X25519 public key.
pub type ReaderKey = [u8; 32];
/// A content key wrapped for one reader: 32 encrypted bytes and a 16-byte tag.
pub type WrappedContentKey = [u8; 48];
/// Where off-chain ciphertext is kept.
pub type Locator = BoundedVec<u8, ConstU32<MAX_LOCATOR_BYTES>>;

/// The hash an envelope names off-chain ciphertext by: BLAKE2-256.
pub fn ciphertext_hash(ciphertext: &[u8]) -> Hash {
	polkadot_sdk::sp_crypto_hashing::blake2_256(ciphertext).into()
}

/// How an envelope is encrypted.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Algorithm {
	/// Content: XChaCha20-Poly1305 under a random key; key wrapping: X25519 with an
	/// ephemeral key, HKDF-SHA256, XChaCha20-Poly1305.
	X25519XChaCha20Poly1305,
}

/// Where the ciphertext is.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum Body {
	/// In the envelope.
	Inline(BoundedVec<u8, ConstU32<MAX_INLINE_BYTES>>),
	/// Off chain (a service node, an IPFS-style store), named by `locator`; `hash` is the
	/// BLAKE2-256 of the ciphertext, `size` its length.
	External { hash: Hash, size: u64, locator: Locator },
}

impl Body {
	/// Ciphertext length in bytes.
	pub fn size(&self) -> u64 {
		match self {
			Body::Inline(bytes) => bytes.len() as u64,
			Body::External { size, .. } => *size,
		}
	}
}

/// The content key, wrapped for one reader.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Recipient {
	/// The reader's X25519 public key.
	pub reader: ReaderKey,
	/// The content key, encrypted for that reader.
	pub wrapped_key: WrappedContentKey,
}

/// Where an envelope belongs, authenticated with it: the chain and the device whose record it
/// is. Not stored in the envelope: a reader knows both from where it read the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode)]
pub struct Provenance {
	/// The chain's genesis hash.
	pub genesis_hash: Hash,
	/// The device that sealed it.
	pub device: DeviceId,
}

/// The envelope's header: what its content and every wrapped key authenticate, with its
/// [`Provenance`], besides themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
	/// Format version.
	pub version: u8,
	/// How it is encrypted.
	pub algorithm: Algorithm,
	/// The sender's ephemeral X25519 public key.
	pub ephemeral_key: &'a [u8; 32],
	/// The XChaCha20 nonce.
	pub nonce: &'a [u8; 24],
	/// The device's sequence number of it.
	pub sequence: u64,
	/// Where its ciphertext is kept off chain, if it is.
	pub locator: Option<&'a [u8]>,
}

impl Header<'_> {
	/// The associated data of an envelope with this header and `provenance`.
	pub fn associated_data(&self, provenance: &Provenance) -> alloc::vec::Vec<u8> {
		(
			b"tc/envelope",
			self.version,
			self.algorithm,
			self.ephemeral_key,
			self.nonce,
			self.sequence,
			self.locator,
			provenance,
		)
			.encode()
	}
}

/// An encrypted record.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Envelope {
	/// Format version, [`ENVELOPE_VERSION`].
	pub version: u8,
	/// How it is encrypted.
	pub algorithm: Algorithm,
	/// The sender's ephemeral X25519 public key.
	pub ephemeral_key: [u8; 32],
	/// The XChaCha20 nonce of the content and of every wrapped key.
	pub nonce: [u8; 24],
	/// The device's number for it, above every earlier envelope of the device: the chain
	/// stores a device's envelopes in increasing sequence only.
	pub sequence: u64,
	/// The ciphertext, or where it is.
	pub body: Body,
	/// Who can read it.
	pub recipients: BoundedVec<Recipient, ConstU32<MAX_READERS>>,
}

impl Envelope {
	/// This envelope's header.
	pub fn header(&self) -> Header<'_> {
		let locator = match &self.body {
			Body::Inline(_) => None,
			Body::External { locator, .. } => Some(locator.as_slice()),
		};
		Header {
			version: self.version,
			algorithm: self.algorithm,
			ephemeral_key: &self.ephemeral_key,
			nonce: &self.nonce,
			sequence: self.sequence,
			locator,
		}
	}
}

/// What a device stores on chain: encrypted by default, plain only when explicitly public.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum Payload {
	/// Data only the envelope's recipients can read.
	Encrypted(Envelope),
	/// Data anyone may read, stored as is.
	Public(BoundedVec<u8, ConstU32<MAX_INLINE_BYTES>>),
}

impl Payload {
	/// Bytes of data the chain keeps for it inline (ciphertext or plain data).
	pub fn inline_len(&self) -> usize {
		match self {
			Payload::Encrypted(Envelope { body: Body::Inline(bytes), .. }) => bytes.len(),
			Payload::Encrypted(_) => 0,
			Payload::Public(bytes) => bytes.len(),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_associated_data_binds_the_header_the_chain_and_the_device() {
		let header = Header {
			version: ENVELOPE_VERSION,
			algorithm: Algorithm::X25519XChaCha20Poly1305,
			ephemeral_key: &[1; 32],
			nonce: &[2; 24],
			sequence: 7,
			locator: None,
		};
		let here = Provenance { genesis_hash: Hash::repeat_byte(9), device: 3 };
		let aad = header.associated_data(&here);
		let other_device = Provenance { device: 4, ..here };
		let other_chain = Provenance { genesis_hash: Hash::repeat_byte(8), ..here };
		let later = Header { sequence: 8, ..header };
		let external = Header { locator: Some(b"ipfs://x"), ..header };
		for different in [
			header.associated_data(&other_device),
			header.associated_data(&other_chain),
			later.associated_data(&here),
			external.associated_data(&here),
		] {
			assert_ne!(aad, different);
		}
		// The layout other implementations follow: fixed-size fields, no length prefixes.
		assert_eq!(&aad[..11], b"tc/envelope");
		assert_eq!(aad[11], ENVELOPE_VERSION);
		assert_eq!(aad.len(), 11 + 1 + 1 + 32 + 24 + 8 + 1 + 32 + 8);
		assert_eq!(&aad[aad.len() - 40..aad.len() - 8], &[9; 32]);
		assert_eq!(&aad[aad.len() - 8..], &3u64.to_le_bytes());
	}
}
