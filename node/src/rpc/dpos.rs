//! `dpos_*` JSON-RPC methods: the delegate candidate ranking and an account's claimable
//! rewards, read through the runtime's `DposApi` at the best block (or a given one).
//!
//! Balances are decimal strings, so JavaScript clients lose no precision.

use jsonrpsee::{core::RpcResult, proc_macros::rpc, types::ErrorObjectOwned};
use pallet_dpos::runtime_api::DposApi as DposRuntimeApi;
use polkadot_sdk::{
	sp_api::{ApiError, ProvideRuntimeApi},
	sp_blockchain::HeaderBackend,
	sp_runtime::traits::Block as BlockT,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use thingschain_runtime::{AccountId, Balance};

/// A delegate candidate as `dpos_candidates` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
	/// SS58 address.
	pub account: AccountId,
	/// 1-based position in the ranking the next election uses.
	pub rank: u32,
	/// Own stake, in plancks.
	pub self_bond: String,
	/// Power of the voters approving it, in plancks.
	pub votes: String,
	/// `selfBond + votes`, in plancks.
	pub total: String,
	/// Number of direct voters approving it.
	pub voters: u32,
	/// Commission on block rewards, in parts per billion.
	pub commission_perbill: u32,
	/// Chilled candidates are not elected until they resume.
	pub chilled: bool,
	/// Whether an election held now would make it a delegate.
	pub elected: bool,
}

/// Delegated proof of stake queries.
#[rpc(server, client)]
pub trait DposApi<BlockHash> {
	/// Every registered candidate, best first.
	#[method(name = "dpos_candidates")]
	fn candidates(&self, at: Option<BlockHash>) -> RpcResult<Vec<Candidate>>;

	/// Rewards `who` could claim now, in plancks.
	#[method(name = "dpos_pendingRewards")]
	fn pending_rewards(&self, who: AccountId, at: Option<BlockHash>) -> RpcResult<String>;
}

/// Serves [`DposApiServer`] from a client.
pub struct Dpos<C, Block> {
	client: Arc<C>,
	_block: std::marker::PhantomData<Block>,
}

impl<C, Block> Dpos<C, Block> {
	/// Queries through `client`.
	pub fn new(client: Arc<C>) -> Self {
		Self { client, _block: Default::default() }
	}
}

/// Why a `dpos_*` call fails. Codes are stable (docs/rpc.md).
#[derive(Debug)]
pub enum DposRpcError {
	/// 9001: the runtime could not answer at that block (unknown or pruned block, or a
	/// runtime without `DposApi`).
	RuntimeApi { what: &'static str, source: ApiError },
}

impl DposRpcError {
	/// The error's JSON-RPC code.
	pub fn code(&self) -> i32 {
		match self {
			DposRpcError::RuntimeApi { .. } => 9001,
		}
	}
}

impl std::fmt::Display for DposRpcError {
	fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
		match self {
			DposRpcError::RuntimeApi { what, source } => {
				write!(f, "unable to query {what}: {source}")
			}
		}
	}
}

impl std::error::Error for DposRpcError {
	fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
		match self {
			DposRpcError::RuntimeApi { source, .. } => Some(source),
		}
	}
}

impl From<DposRpcError> for ErrorObjectOwned {
	fn from(error: DposRpcError) -> Self {
		super::error_object(error.code(), &error)
	}
}

impl<C, Block> DposApiServer<Block::Hash> for Dpos<C, Block>
where
	Block: BlockT,
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: DposRuntimeApi<Block, AccountId, Balance>,
{
	fn candidates(&self, at: Option<Block::Hash>) -> RpcResult<Vec<Candidate>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let candidates =
			self.client.runtime_api().candidates(at).map_err(|source| {
				DposRpcError::RuntimeApi { what: "the dpos candidates", source }
			})?;
		Ok(candidates
			.into_iter()
			.map(|c| Candidate {
				account: c.account,
				rank: c.rank,
				self_bond: c.self_bond.to_string(),
				votes: c.votes.to_string(),
				total: c.total.to_string(),
				voters: c.voters,
				commission_perbill: c.commission.deconstruct(),
				chilled: c.chilled,
				elected: c.elected,
			})
			.collect())
	}

	fn pending_rewards(&self, who: AccountId, at: Option<Block::Hash>) -> RpcResult<String> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		self.client.runtime_api().pending_rewards(at, who).map(|reward| reward.to_string()).map_err(
			|source| DposRpcError::RuntimeApi { what: "the pending rewards", source }.into(),
		)
	}
}
