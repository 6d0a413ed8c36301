//! Envelopes for tests and benchmarks: well-formed, with dummy key material (the chain cannot
//! tell it from real ciphertext, and does not need to).

use crate::ReaderKey;
use alloc::vec::Vec;
use thingschain_primitives::envelope::{
	Algorithm, Body, Envelope, Payload, Recipient, ENVELOPE_VERSION,
};

/// The `i`-th distinct reader key.
pub fn reader(i: u32) -> ReaderKey {
	let mut key = [0xAA; 32];
	key[..4].copy_from_slice(&i.to_le_bytes());
	key
}

/// An encrypted payload of `len` inline ciphertext bytes for `readers`, the device's
/// `sequence`-th.
pub fn encrypted(readers: &[ReaderKey], len: u32, sequence: u64) -> Payload {
	let recipients: Vec<Recipient> =
		readers.iter().map(|reader| Recipient { reader: *reader, wrapped_key: [7; 48] }).collect();
	Payload::Encrypted(Envelope {
		version: ENVELOPE_VERSION,
		algorithm: Algorithm::X25519XChaCha20Poly1305,
		ephemeral_key: [1; 32],
		nonce: [2; 24],
		sequence,
		body: Body::Inline(alloc::vec![0xC1; len as usize].try_into().expect("within the format")),
		recipients: recipients.try_into().expect("within the format"),
	})
}
