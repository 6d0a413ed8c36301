//! The radiating block graph's references: the digest item a WebChain block names the
//! competing blocks it recognises with, and the bounds the node and the runtime both hold
//! them to.
//!
//! A block's header may carry one pre-runtime digest item of engine [`ENGINE_ID`] whose data
//! is the SCALE encoding of [`References`]: up to [`MAX_REFERENCES`] hashes, strictly
//! ascending, of blocks that are not ancestors of its parent and are at most [`MAX_DEPTH`]
//! blocks below it. The node's block import checks the graph rules (`node/block-graph`); the
//! runtime pays the referenced blocks' authors from the headers the block's inherent carries,
//! which must be exactly these.

use crate::ids::Hash;
use alloc::vec::Vec;
use codec::{DecodeAll, Encode};
use polkadot_sdk::sp_runtime::{ConsensusEngineId, Digest, DigestItem};

/// The engine id of the references' pre-runtime digest item.
pub const ENGINE_ID: ConsensusEngineId = *b"tdag";

/// The most blocks one block may reference (`K`).
pub const MAX_REFERENCES: u32 = 4;

/// How far below its parent a referenced block may be (`D`): a block of number `n` may
/// reference blocks numbered `n - 1 - MAX_DEPTH ..= n - 1`.
pub const MAX_DEPTH: u32 = 8;

/// The longest encoded header a block may reference (headers that announce an authority
/// change list every authority, so they are the longest ones).
pub const MAX_HEADER_LENGTH: u32 = 4096;

/// The inherent data the author's node fills with the referenced blocks' (sealed) headers,
/// in the order of their hashes; the runtime's inherent carries them.
pub const INHERENT_IDENTIFIER: polkadot_sdk::sp_inherents::InherentIdentifier = *b"tdagrefs";

/// The hashes a block references, strictly ascending.
pub type References = Vec<Hash>;

/// Why a header's references cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DigestError {
	/// More than one references item.
	Repeated,
	/// The item's data is not a list of hashes.
	Undecodable,
	/// More than [`MAX_REFERENCES`] hashes.
	TooMany {
		/// How many the item lists.
		count: u32,
	},
	/// The hashes are not strictly ascending (unsorted or repeated).
	NotAscending,
}

impl core::fmt::Display for DigestError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::Repeated => write!(f, "more than one block-graph references digest item"),
			Self::Undecodable => write!(f, "the references digest item is not a list of hashes"),
			Self::TooMany { count } => {
				write!(f, "{count} references, more than the {MAX_REFERENCES} allowed")
			}
			Self::NotAscending => {
				write!(f, "the references are not strictly ascending (unsorted or repeated)")
			}
		}
	}
}

/// The digest item that carries `references` (which must be strictly ascending and at most
/// [`MAX_REFERENCES`]; [`references`] refuses a header with any other).
pub fn digest_item(references: &References) -> DigestItem {
	DigestItem::PreRuntime(ENGINE_ID, references.encode())
}

/// The references `digest` carries: empty without the item, an error if the item breaks the
/// format's rules.
pub fn references(digest: &Digest) -> Result<References, DigestError> {
	let mut items = digest.logs().iter().filter_map(|item| match item {
		DigestItem::PreRuntime(id, data) if *id == ENGINE_ID => Some(data),
		_ => None,
	});
	let Some(data) = items.next() else { return Ok(Vec::new()) };
	if items.next().is_some() {
		return Err(DigestError::Repeated);
	}
	// All of it: trailing bytes would give one list several encodings, so several hashes.
	let references =
		References::decode_all(&mut &data[..]).map_err(|_| DigestError::Undecodable)?;
	if references.len() > MAX_REFERENCES as usize {
		return Err(DigestError::TooMany { count: references.len() as u32 });
	}
	if references.windows(2).any(|pair| pair[0] >= pair[1]) {
		return Err(DigestError::NotAscending);
	}
	Ok(references)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn hash(n: u8) -> Hash {
		Hash::repeat_byte(n)
	}

	fn digest(items: Vec<DigestItem>) -> Digest {
		Digest { logs: items }
	}

	#[test]
	fn a_header_without_the_item_references_nothing() {
		let other = DigestItem::PreRuntime(*b"aura", vec![1, 2, 3]);
		assert_eq!(references(&digest(vec![other])), Ok(vec![]));
	}

	#[test]
	fn references_round_trip_through_the_digest() {
		let refs = vec![hash(1), hash(2), hash(9)];
		assert_eq!(references(&digest(vec![digest_item(&refs)])), Ok(refs));
	}

	#[test]
	fn bad_items_are_refused_by_name() {
		let one = digest_item(&vec![hash(1)]);
		assert_eq!(references(&digest(vec![one.clone(), one])), Err(DigestError::Repeated));
		let garbage = DigestItem::PreRuntime(ENGINE_ID, vec![7]);
		assert_eq!(references(&digest(vec![garbage])), Err(DigestError::Undecodable));
		let mut trailing = vec![hash(1)].encode();
		trailing.push(0);
		let trailing = DigestItem::PreRuntime(ENGINE_ID, trailing);
		assert_eq!(references(&digest(vec![trailing])), Err(DigestError::Undecodable));
		let many: Vec<_> = (1..=MAX_REFERENCES as u8 + 1).map(hash).collect();
		assert_eq!(
			references(&digest(vec![digest_item(&many)])),
			Err(DigestError::TooMany { count: MAX_REFERENCES + 1 })
		);
		let unsorted = digest_item(&vec![hash(2), hash(1)]);
		assert_eq!(references(&digest(vec![unsorted])), Err(DigestError::NotAscending));
		let repeated = digest_item(&vec![hash(2), hash(2)]);
		assert_eq!(references(&digest(vec![repeated])), Err(DigestError::NotAscending));
	}
}
