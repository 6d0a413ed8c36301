//! The Merkle tree NestChain state is anchored with: the SDK's `binary-merkle-tree` over
//! BLAKE2-256, with leaves hashed under a domain prefix so an inner node can never pass for
//! a leaf.
//!
//! ```text
//!              root = H(n01 ++ n23)
//!            /                      \
//!     n01 = H(l0 ++ l1)      n23 = H(l2 ++ l3)
//!      /        \               /        \
//!     l0        l1             l2        l3      li = H(LEAF_PREFIX ++ record_i)
//! ```
//!
//! A proof of record *i* is the sibling hashes on its path to the root; the verifier needs
//! the root (from the anchor on WebChain), the record, its index and the number of leaves.

use crate::ids::Hash;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	binary_merkle_tree,
	sp_core::ConstU32,
	sp_runtime::{traits::BlakeTwo256, BoundedVec},
};
use scale_info::TypeInfo;

/// Prepended to a record before hashing it into a leaf.
pub const LEAF_PREFIX: &[u8] = b"tc/leaf";

/// Deepest tree a proof may describe: 2^32 leaves.
pub const MAX_PROOF_DEPTH: u32 = 32;

/// The leaf hash of `record`.
pub fn leaf_hash(record: &[u8]) -> Hash {
	let mut prefixed = Vec::with_capacity(LEAF_PREFIX.len() + record.len());
	prefixed.extend_from_slice(LEAF_PREFIX);
	prefixed.extend_from_slice(record);
	polkadot_sdk::sp_crypto_hashing::blake2_256(&prefixed).into()
}

/// The root of the tree over `records`, in order (all zeros for none).
pub fn root<I>(records: I) -> Hash
where
	I: IntoIterator,
	I::Item: AsRef<[u8]>,
{
	root_of_leaves(records.into_iter().map(|record| leaf_hash(record.as_ref())))
}

/// The root of the tree over records whose [`leaf_hash`]es are `leaves`, in order (all zeros
/// for none): for a service node that keeps its records' leaves.
pub fn root_of_leaves(leaves: impl IntoIterator<Item = Hash>) -> Hash {
	binary_merkle_tree::merkle_root_raw::<BlakeTwo256, _>(leaves)
}

/// Proof that a record is the `leaf_index`-th of `number_of_leaves` under some root.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct InclusionProof {
	/// Position of the record among the leaves.
	pub leaf_index: u32,
	/// How many leaves the tree has.
	pub number_of_leaves: u32,
	/// Sibling hashes from the leaf up to (not including) the root.
	pub siblings: BoundedVec<Hash, ConstU32<MAX_PROOF_DEPTH>>,
}

impl InclusionProof {
	/// The proof for the `leaf_index`-th of `records`, or `None` if there is no such record.
	pub fn build<I>(records: I, leaf_index: u32) -> Option<Self>
	where
		I: IntoIterator,
		I::Item: AsRef<[u8]>,
	{
		Self::build_from_leaves(
			records.into_iter().map(|r| leaf_hash(r.as_ref())).collect(),
			leaf_index,
		)
	}

	/// The proof for the `leaf_index`-th of the records whose [`leaf_hash`]es are `leaves`, or
	/// `None` if there is no such record.
	pub fn build_from_leaves(leaves: Vec<Hash>, leaf_index: u32) -> Option<Self> {
		if leaf_index as usize >= leaves.len() {
			return None;
		}
		let proof = binary_merkle_tree::merkle_proof_raw::<BlakeTwo256, _>(leaves, leaf_index);
		Some(Self {
			leaf_index,
			number_of_leaves: proof.number_of_leaves,
			siblings: BoundedVec::try_from(proof.proof).ok()?,
		})
	}

	/// Whether `record` is the proven leaf of the tree with `root`.
	pub fn verify(&self, root: &Hash, record: &[u8]) -> bool {
		binary_merkle_tree::verify_proof::<BlakeTwo256, _, _>(
			root,
			self.siblings.iter().copied(),
			self.number_of_leaves,
			self.leaf_index,
			binary_merkle_tree::Leaf::Hash(leaf_hash(record)),
		)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	#[test]
	fn a_proof_verifies_its_record_and_nothing_else() {
		let records = [b"passport:1".to_vec(), b"passport:2".to_vec(), b"passport:3".to_vec()];
		let root = root(&records);
		let proof = InclusionProof::build(&records, 1).unwrap();
		assert!(proof.verify(&root, b"passport:2"));
		assert!(!proof.verify(&root, b"passport:3"), "another record");
		assert!(!proof.verify(&Hash::repeat_byte(1), b"passport:2"), "another root");
		let moved = InclusionProof { leaf_index: 0, ..proof };
		assert!(!moved.verify(&root, b"passport:2"), "another position");
		assert_eq!(InclusionProof::build(&records, 3), None);
	}

	#[test]
	fn an_inner_node_does_not_pass_for_a_record() {
		let records = [b"a".to_vec(), b"b".to_vec(), b"c".to_vec(), b"d".to_vec()];
		let root = root(&records);
		// The left child of the root, n01, is H(l0 ++ l1): offering l0 ++ l1 as a record of a
		// one-level proof with n23 as sibling must fail, because leaves are prefixed.
		let (l0, l1) = (leaf_hash(b"a"), leaf_hash(b"b"));
		let n23 = InclusionProof::build(&records, 0).unwrap().siblings[1];
		let forged = [l0.as_bytes(), l1.as_bytes()].concat();
		let proof = InclusionProof {
			leaf_index: 0,
			number_of_leaves: 2,
			siblings: BoundedVec::try_from(alloc::vec![n23]).unwrap(),
		};
		assert!(!proof.verify(&root, &forged));
	}

	proptest! {
		#[test]
		fn every_record_of_any_tree_is_provable(
			records in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..70),
			pick in any::<proptest::sample::Index>(),
		) {
			let index = pick.index(records.len()) as u32;
			let root = root(&records);
			let proof = InclusionProof::build(&records, index).unwrap();
			prop_assert!(proof.verify(&root, &records[index as usize]));
			let mut tampered = records[index as usize].clone();
			tampered.push(0xff);
			prop_assert!(!proof.verify(&root, &tampered));
			// The same tree from the records' leaves.
			let leaves: Vec<Hash> = records.iter().map(|r| leaf_hash(r)).collect();
			prop_assert_eq!(root_of_leaves(leaves.clone()), root);
			prop_assert_eq!(InclusionProof::build_from_leaves(leaves, index), Some(proof));
		}
	}
}
