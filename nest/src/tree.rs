//! An epoch's Merkle tree built as its leaves come, holding one node per level, not its
//! leaves: what the agreement certifies a close's root with, and what the ledger stores each
//! closed epoch's tree from (`crate::ledger`, a proof reading one node per level). The tree
//! is the SDK's `binary-merkle-tree`, which WebChain checks proofs with
//! (`thingschain_primitives::merkle`): each level pairs the nodes of the one below, left to
//! right, as BLAKE2-256 of `left ++ right`, and a level's odd last node goes up as it is. The
//! builder only hands out the nodes that tree is made of; the tests hold its roots and
//! proofs to the SDK's, for every size.
//!
//! ```text
//!  level 3:  root = H(n0123 ++ l4)
//!  level 2:  n0123            l4            (l4 went up as it is, twice)
//!  level 1:  n01     n23      l4
//!  level 0:  l0  l1  l2  l3   l4
//! ```

use crate::error::StorageError;
use polkadot_sdk::sp_crypto_hashing::blake2_256;
use thingschain_primitives::ids::Hash;

/// A node of an epoch's tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node {
	/// Its level: 0 for a leaf.
	pub level: u8,
	/// Its place in its level, from the left.
	pub index: u64,
	/// Its hash.
	pub hash: Hash,
}

/// Where the nodes go when only the root is wanted.
pub struct Discard;

impl Extend<Node> for Discard {
	fn extend<I: IntoIterator<Item = Node>>(&mut self, nodes: I) {
		nodes.into_iter().for_each(drop);
	}
}

/// One level of a tree being built.
#[derive(Default)]
struct Level {
	/// How many nodes it has so far.
	count: u64,
	/// Its last node, while it waits for its right sibling.
	waiting: Option<Hash>,
}

/// Builds a tree as its leaves come, handing out each node once it is known.
#[derive(Default)]
pub struct TreeBuilder {
	levels: Vec<Level>,
}

impl TreeBuilder {
	/// Adds the next leaf; the nodes it completes (itself first) go to `nodes` ([`Discard`]
	/// for the root alone).
	pub fn push(&mut self, leaf: Hash, nodes: &mut impl Extend<Node>) {
		self.add(0, leaf, nodes);
	}

	/// How many leaves it has.
	pub fn leaves(&self) -> u64 {
		self.levels.first().map_or(0, |level| level.count)
	}

	/// Appends `hash` to `level`, and the parents it completes to the levels above.
	fn add(&mut self, mut level: usize, mut hash: Hash, nodes: &mut impl Extend<Node>) {
		loop {
			if self.levels.len() <= level {
				self.levels.push(Level::default());
			}
			let at = &mut self.levels[level];
			nodes.extend([Node { level: level as u8, index: at.count, hash }]);
			at.count += 1;
			match at.waiting.take() {
				Some(left) => {
					hash = blake2_256(&[left.0, hash.0].concat()).into();
					level += 1;
				}
				None => {
					at.waiting = Some(hash);
					return;
				}
			}
		}
	}

	/// The root, every leaf pushed (all zeros for none); the nodes the odd last ones make
	/// on their way up go to `nodes`.
	pub fn finish(mut self, nodes: &mut impl Extend<Node>) -> Hash {
		let mut level = 0;
		while let Some(at) = self.levels.get_mut(level) {
			if at.count == 1 {
				return at.waiting.expect("a level's only node waits for a sibling");
			}
			if let Some(odd) = at.waiting.take() {
				self.add(level + 1, odd, nodes);
			}
			level += 1;
		}
		Hash::zero()
	}
}

/// The siblings on the path of leaf `index` of a tree of `leaves` leaves to its root, from the
/// leaf up (the SDK's proof), each read with `node(level, index)`; `None` if there is no such
/// leaf.
pub fn siblings(
	leaves: u64,
	index: u64,
	mut node: impl FnMut(u8, u64) -> Result<Option<Hash>, StorageError>,
) -> Result<Option<Vec<Hash>>, StorageError> {
	if index >= leaves {
		return Ok(None);
	}
	let (mut position, mut width, mut level) = (index, leaves, 0u8);
	let mut siblings = Vec::new();
	while width > 1 {
		let sibling = position ^ 1;
		if sibling < width {
			siblings.push(node(level, sibling)?.ok_or_else(|| StorageError::Corrupted {
				what: "epoch tree",
				source: "a node of a closed epoch's tree is missing".into(),
			})?);
		}
		position /= 2;
		width = width.div_ceil(2);
		level += 1;
	}
	Ok(Some(siblings))
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;
	use std::collections::HashMap;
	use thingschain_primitives::merkle::{root_of_leaves, InclusionProof};

	/// The tree over `leaves` as the builder stores it, and its root.
	fn built(leaves: &[Hash]) -> (HashMap<(u8, u64), Hash>, Hash) {
		let (mut builder, mut nodes) = (TreeBuilder::default(), Vec::new());
		for leaf in leaves {
			builder.push(*leaf, &mut nodes);
		}
		assert_eq!(builder.leaves(), leaves.len() as u64);
		let root = builder.finish(&mut nodes);
		let mut stored = HashMap::new();
		for node in nodes {
			assert!(stored.insert((node.level, node.index), node.hash).is_none(), "{node:?} twice");
		}
		(stored, root)
	}

	fn leaves(count: u64) -> Vec<Hash> {
		(0..count).map(|i| blake2_256(&i.to_le_bytes()).into()).collect()
	}

	/// The builder's root over `count` leaves and its proofs of leaves `indices` are the SDK's.
	fn holds_to_the_sdk(count: u64, indices: impl IntoIterator<Item = u64>) {
		let leaves = leaves(count);
		let (stored, root) = built(&leaves);
		assert_eq!(root, root_of_leaves(leaves.clone()), "{count} leaves' root");
		for index in indices {
			let siblings =
				siblings(count, index, |level, at| Ok(stored.get(&(level, at)).copied()));
			let sdk = InclusionProof::build_from_leaves(leaves.clone(), index as u32);
			let sdk = sdk.map(|proof| proof.siblings.into_inner());
			assert_eq!(siblings.unwrap(), sdk, "{count}: leaf {index}");
		}
	}

	#[test]
	fn every_small_tree_has_the_sdks_root_and_proofs() {
		for count in 0..=70 {
			holds_to_the_sdk(count, 0..=count);
		}
	}

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(64))]
		#[test]
		fn larger_trees_have_the_sdks_root_and_proofs(count in 71u64..5_000, index in 0u64..5_000) {
			holds_to_the_sdk(count, [0, index % count, count - 1, count]);
		}
	}

	#[test]
	fn a_missing_node_is_named() {
		let (mut stored, _) = built(&leaves(5));
		stored.remove(&(1, 1));
		let read = siblings(5, 0, |level, at| Ok(stored.get(&(level, at)).copied()));
		assert!(matches!(read, Err(StorageError::Corrupted { what: "epoch tree", .. })));
	}
}
