//! Authoring with references: the node's proposer names the competing blocks it knows.

use super::{store::BlockGraph, BOUNDS};
use codec::Encode;
use futures::future::{BoxFuture, FutureExt};
use polkadot_sdk::sp_consensus_aura::Slot;
use sp_consensus::{Environment, ProposeArgs, Proposer};
use std::{collections::BTreeMap, sync::Arc};
use thingschain_block_graph::rules;
use thingschain_primitives::{
	aura,
	block_graph::{digest_item, INHERENT_IDENTIFIER, MAX_HEADER_LENGTH},
	ids::Hash,
};
use thingschain_runtime::opaque::{Block, Header};

const LOG_TARGET: &str = "block-graph";

/// An [`Environment`] whose blocks reference the competing blocks the rules admit and the
/// runtime would pay for: each block's digest lists them, and its inherent data carries their
/// sealed headers for the runtime's inherent (pallet-block-graph).
pub struct WithReferences<E> {
	inner: E,
	graph: Arc<BlockGraph>,
}

impl<E> WithReferences<E> {
	/// Wraps `inner`, choosing references from `graph`.
	pub fn new(inner: E, graph: Arc<BlockGraph>) -> Self {
		Self { inner, graph }
	}
}

impl<E: Environment<Block>> Environment<Block> for WithReferences<E>
where
	E::CreateProposer: Send,
{
	type Proposer = ReferencingProposer<E::Proposer>;
	type CreateProposer = BoxFuture<'static, Result<Self::Proposer, Self::Error>>;
	type Error = E::Error;

	fn init(&mut self, parent_header: &Header) -> Self::CreateProposer {
		let (graph, parent) = (self.graph.clone(), parent_header.hash());
		self.inner
			.init(parent_header)
			.map(move |proposer| proposer.map(|inner| ReferencingProposer { inner, graph, parent }))
			.boxed()
	}
}

/// A proposer of [`WithReferences`], for a block on `parent`.
pub struct ReferencingProposer<P> {
	inner: P,
	graph: Arc<BlockGraph>,
	parent: Hash,
}

impl<P> ReferencingProposer<P> {
	/// The headers of the blocks a child of the parent in `slot` references, in the order of
	/// their hashes: of those the rules admit, the freshest the runtime at the parent would
	/// pay for (a runtime without the block graph pays for none).
	fn references(&self, slot: Slot) -> Vec<Header> {
		let graph = &*self.graph;
		// The rules first (cheap), then the runtime on what they admit.
		let all = rules::Bounds { max_references: u32::MAX, ..BOUNDS };
		let admitted = rules::choose(graph, all, self.parent, graph.candidates());
		let mut payable: BTreeMap<Hash, Header> = admitted
			.into_iter()
			.filter_map(|hash| Some((hash, graph.header(hash)?)))
			.filter(|(_, header)| {
				header.encoded_size() <= MAX_HEADER_LENGTH as usize
					&& graph.payable(self.parent, core::slice::from_ref(header), slot) == 1
			})
			.collect();
		let candidates: Vec<Hash> = payable.keys().copied().collect();
		let chosen = rules::choose(graph, BOUNDS, self.parent, candidates);
		let headers: Vec<Header> = chosen.iter().filter_map(|hash| payable.remove(hash)).collect();
		// Each alone would be paid; together, two of one slot would not both be.
		let together = graph.payable(self.parent, &headers, slot) as usize;
		if together == headers.len() {
			headers
		} else {
			Vec::new()
		}
	}
}

impl<P: Proposer<Block>> Proposer<Block> for ReferencingProposer<P> {
	type Error = P::Error;
	type Proposal = P::Proposal;

	fn propose(self, mut args: ProposeArgs<Block>) -> Self::Proposal {
		let slot = aura::slot_in(&args.inherent_digests);
		let headers = slot.map(|slot| self.references(slot)).unwrap_or_default();
		if !headers.is_empty() {
			match args.inherent_data.put_data(INHERENT_IDENTIFIER, &headers) {
				Ok(()) => {
					let hashes = headers.iter().map(|header| header.hash()).collect();
					args.inherent_digests.push(digest_item(&hashes));
				}
				// Both or neither: a block with references must carry their headers.
				Err(e) => log::warn!(target: LOG_TARGET, "not referencing blocks: {e}"),
			}
		}
		self.inner.propose(args)
	}
}
