//! `nest_*` JSON-RPC methods: NestChain anchors and inclusion proofs, read through the
//! runtime's `NestApi` at the best block (or a given one).

use jsonrpsee::{core::RpcResult, proc_macros::rpc, types::ErrorObjectOwned};
use pallet_nest_anchor::runtime_api::NestApi as NestRuntimeApi;
use polkadot_sdk::{
	sp_api::ProvideRuntimeApi, sp_blockchain::HeaderBackend, sp_core::Bytes,
	sp_runtime::traits::Block as BlockT,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use thingschain_primitives::{
	ids::{Epoch, Hash, ServiceId},
	merkle::InclusionProof,
};

/// An anchored epoch as `nest_anchor` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Anchor {
	/// Merkle root of the epoch's records.
	pub root: Hash,
	/// The anchor's hash, which the next anchor names.
	pub hash: Hash,
}

/// A Merkle inclusion proof in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Proof {
	/// Position of the record among the leaves.
	pub leaf_index: u32,
	/// How many leaves the tree has.
	pub number_of_leaves: u32,
	/// Sibling hashes from the leaf to the root.
	pub siblings: Vec<Hash>,
}

/// NestChain queries.
#[rpc(server, client)]
pub trait NestApi<BlockHash> {
	/// The root and hash of `service`'s anchored `epoch`, or null.
	#[method(name = "nest_anchor")]
	fn anchor(
		&self,
		service: ServiceId,
		epoch: Epoch,
		at: Option<BlockHash>,
	) -> RpcResult<Option<Anchor>>;

	/// Whether `record` (hex bytes) is in the state anchored for `service`'s `epoch`. Errors if
	/// the epoch is not anchored or the proof is malformed.
	#[method(name = "nest_verifyInclusion")]
	fn verify_inclusion(
		&self,
		service: ServiceId,
		epoch: Epoch,
		record: Bytes,
		proof: Proof,
		at: Option<BlockHash>,
	) -> RpcResult<bool>;
}

/// Serves [`NestApiServer`] from a client.
pub struct Nest<C, Block> {
	client: Arc<C>,
	_block: std::marker::PhantomData<Block>,
}

impl<C, Block> Nest<C, Block> {
	/// Queries through `client`.
	pub fn new(client: Arc<C>) -> Self {
		Self { client, _block: Default::default() }
	}
}

fn error(code: i32, message: String) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(code, message, None::<()>)
}

impl<C, Block> NestApiServer<Block::Hash> for Nest<C, Block>
where
	Block: BlockT,
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: NestRuntimeApi<Block>,
{
	fn anchor(
		&self,
		service: ServiceId,
		epoch: Epoch,
		at: Option<Block::Hash>,
	) -> RpcResult<Option<Anchor>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let anchor = self
			.client
			.runtime_api()
			.anchor(at, service, epoch)
			.map_err(|e| error(1, format!("unable to query the anchor: {e:?}")))?;
		Ok(anchor.map(|(root, hash)| Anchor { root, hash }))
	}

	fn verify_inclusion(
		&self,
		service: ServiceId,
		epoch: Epoch,
		record: Bytes,
		proof: Proof,
		at: Option<Block::Hash>,
	) -> RpcResult<bool> {
		let siblings = proof.siblings.try_into().map_err(|_| {
			error(2, "the proof has more siblings than a tree of 2^32 leaves".into())
		})?;
		let proof = InclusionProof {
			leaf_index: proof.leaf_index,
			number_of_leaves: proof.number_of_leaves,
			siblings,
		};
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		self.client
			.runtime_api()
			.verify_inclusion(at, service, epoch, record.to_vec(), proof)
			.map_err(|e| error(1, format!("unable to verify the proof: {e:?}")))?
			.ok_or_else(|| error(3, format!("epoch {epoch} of service {service} is not anchored")))
	}
}
