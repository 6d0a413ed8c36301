//! The chain the node builds on and GRANDPA votes for: the graph's best block.

use super::store::BlockGraph;
use polkadot_sdk::{
	sc_client_api::{Backend as _, HeaderBackend},
	sp_blockchain::{Backend as _, Error as ChainError},
	sp_runtime::traits::Header as _,
};
use sp_consensus::{Error as ConsensusError, SelectChain};
use std::sync::Arc;
use thingschain_block_graph::fork_choice;
use thingschain_primitives::ids::Hash;
use thingschain_runtime::opaque::{Block, Header};

/// Selects GHOST's best block under the last finalized one. The client's own best block is
/// only a hint: when GRANDPA finalizes a block off the best branch, the client makes that
/// block best, not the heaviest of its descendants; the SDK's `LongestChain` would then
/// follow the longest branch from it.
#[derive(Clone)]
pub struct GhostChain {
	graph: Arc<BlockGraph>,
}

impl GhostChain {
	/// Selects over `graph`.
	pub fn new(graph: Arc<BlockGraph>) -> Self {
		Self { graph }
	}

	fn header(&self, hash: Hash) -> Result<Header, ChainError> {
		self.graph.client().header(hash)?.ok_or_else(|| ChainError::MissingHeader(hash.to_string()))
	}

	fn best_header(&self) -> Result<Header, ChainError> {
		let finalized = self.graph.client().info().finalized_hash;
		self.header(fork_choice::best(&*self.graph, finalized))
	}

	/// The best block, or its ancestor numbered `max` if it is higher; an error unless `base`
	/// is on the way down to it.
	fn finality_target(&self, base: Hash, max: Option<u32>) -> Result<Hash, ChainError> {
		let base_number = *self.header(base)?.number();
		let mut head = self.best_header()?;
		if let Some(max) = max {
			if max < base_number {
				return Err(ChainError::Application(
					format!("finality target capped at {max}, below its base {base_number}").into(),
				));
			}
			while *head.number() > max {
				head = self.header(*head.parent_hash())?;
			}
		}
		let target = head.hash();
		let mut on_the_way = head;
		while *on_the_way.number() > base_number {
			on_the_way = self.header(*on_the_way.parent_hash())?;
		}
		if on_the_way.hash() != base {
			return Err(ChainError::Application(
				format!("finality target base {base:?} is not on the best chain").into(),
			));
		}
		Ok(target)
	}
}

/// A chain lookup failed.
fn lookup(e: ChainError) -> ConsensusError {
	ConsensusError::ChainLookup(e.to_string())
}

#[async_trait::async_trait]
impl SelectChain<Block> for GhostChain {
	async fn leaves(&self) -> Result<Vec<Hash>, ConsensusError> {
		self.graph.backend().blockchain().leaves().map_err(lookup)
	}

	async fn best_chain(&self) -> Result<Header, ConsensusError> {
		self.best_header().map_err(lookup)
	}

	async fn finality_target(
		&self,
		base_hash: Hash,
		maybe_max_number: Option<u32>,
	) -> Result<Hash, ConsensusError> {
		Self::finality_target(self, base_hash, maybe_max_number).map_err(lookup)
	}
}
