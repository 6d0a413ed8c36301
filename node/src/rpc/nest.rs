//! `nest_*` JSON-RPC methods: NestChain anchors and inclusion proofs, read through the
//! runtime's `NestApi` at the best block (or a given one).

use jsonrpsee::{core::RpcResult, proc_macros::rpc, types::ErrorObjectOwned};
use pallet_nest_anchor::runtime_api::NestApi as NestRuntimeApi;
use polkadot_sdk::{
	sp_api::{ApiError, ProvideRuntimeApi},
	sp_blockchain::HeaderBackend,
	sp_core::Bytes,
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

/// Why a `nest_*` call fails. Codes are stable (docs/rpc.md).
#[derive(Debug)]
pub enum NestRpcError {
	/// 9101: the runtime could not answer at that block (unknown or pruned block, or a
	/// runtime without the NestChain API).
	RuntimeApi { what: &'static str, source: ApiError },
	/// 9102: the proof names more siblings than a tree of 2^32 leaves has levels.
	ProofTooDeep { siblings: usize },
	/// 9103: the epoch has no anchor, so no record of it can be proven.
	NotAnchored { service: ServiceId, epoch: Epoch },
}

impl NestRpcError {
	/// The error's JSON-RPC code.
	pub fn code(&self) -> i32 {
		match self {
			NestRpcError::RuntimeApi { .. } => 9101,
			NestRpcError::ProofTooDeep { .. } => 9102,
			NestRpcError::NotAnchored { .. } => 9103,
		}
	}
}

impl std::fmt::Display for NestRpcError {
	fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
		match self {
			NestRpcError::RuntimeApi { what, source } => {
				write!(f, "unable to query {what}: {source}")
			}
			NestRpcError::ProofTooDeep { siblings } => write!(
				f,
				"the proof has {siblings} siblings, more than a tree of 2^32 leaves has levels"
			),
			NestRpcError::NotAnchored { service, epoch } => {
				write!(f, "epoch {epoch} of service {service} is not anchored")
			}
		}
	}
}

impl std::error::Error for NestRpcError {
	fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
		match self {
			NestRpcError::RuntimeApi { source, .. } => Some(source),
			_ => None,
		}
	}
}

impl From<NestRpcError> for ErrorObjectOwned {
	fn from(error: NestRpcError) -> Self {
		super::error_object(error.code(), &error)
	}
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
			.map_err(|source| NestRpcError::RuntimeApi { what: "the anchor", source })?;
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
		let count = proof.siblings.len();
		let siblings = proof
			.siblings
			.try_into()
			.map_err(|_| NestRpcError::ProofTooDeep { siblings: count })?;
		let proof = InclusionProof {
			leaf_index: proof.leaf_index,
			number_of_leaves: proof.number_of_leaves,
			siblings,
		};
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		self.client
			.runtime_api()
			.verify_inclusion(at, service, epoch, record.to_vec(), proof)
			.map_err(|source| NestRpcError::RuntimeApi { what: "the proof", source })?
			.ok_or_else(|| NestRpcError::NotAnchored { service, epoch }.into())
	}
}
