//! The encrypted envelope a device's data record travels and rests in.
//!
//! ```text
//!  plaintext ──XChaCha20-Poly1305(content key, nonce, aad = header)──► ciphertext (inline or off chain)
//!  content key ──for each reader: X25519(ephemeral secret, reader key) → HKDF-SHA256 → KEK──►
//!               XChaCha20-Poly1305(KEK, nonce) ──► wrapped key (32 bytes + 16-byte tag)
//! ```
//!
//! A fresh content key and ephemeral X25519 key pair are drawn per record, so every
//! key-encryption key is used once. The header (version, algorithm, ephemeral key, nonce and,
//! for data kept off chain, its locator) is authenticated as associated data: changing any of
//! it makes opening fail. The chain stores envelopes without being able to read them; the runtime only checks
//! their bounds. Sealing and opening live in the device SDK's core crate.

use crate::ids::Hash;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{sp_core::ConstU32, sp_runtime::BoundedVec};
use scale_info::TypeInfo;

/// The envelope format this crate describes.
pub const ENVELOPE_VERSION: u8 = 1;
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
	/// The ciphertext, or where it is.
	pub body: Body,
	/// Who can read it.
	pub recipients: BoundedVec<Recipient, ConstU32<MAX_READERS>>,
}

impl Envelope {
	/// The bytes the content and every wrapped key authenticate besides themselves.
	pub fn associated_data(
		version: u8,
		algorithm: Algorithm,
		ephemeral_key: &[u8; 32],
		nonce: &[u8; 24],
		locator: Option<&[u8]>,
	) -> alloc::vec::Vec<u8> {
		(b"tc/envelope", version, algorithm, ephemeral_key, nonce, locator).encode()
	}

	/// This envelope's associated data.
	pub fn own_associated_data(&self) -> alloc::vec::Vec<u8> {
		let locator = match &self.body {
			Body::Inline(_) => None,
			Body::External { locator, .. } => Some(locator.as_slice()),
		};
		Self::associated_data(
			self.version,
			self.algorithm,
			&self.ephemeral_key,
			&self.nonce,
			locator,
		)
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
