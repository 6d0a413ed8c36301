//! The block import that checks and records the graph, and chooses the best block by it.

use super::{store::BlockGraph, BOUNDS};
use codec::{Decode, Encode};
use polkadot_sdk::{
	sc_client_api::HeaderBackend,
	sc_consensus::{
		BlockCheckParams, BlockImport, BlockImportParams, ForkChoiceStrategy, ImportResult,
		StateAction,
	},
	sp_blockchain::BlockStatus,
	sp_runtime::{
		traits::{ExtrinsicLike, Header as _},
		OpaqueExtrinsic,
	},
	substrate_prometheus_endpoint::{
		exponential_buckets, register, Histogram, HistogramOpts, PrometheusError, Registry,
	},
};
use sp_consensus::Error as ConsensusError;
use std::{sync::Arc, time::Instant};
use thingschain_block_graph::{fork_choice, rules, Vertex};
use thingschain_primitives::{aura, block_graph::references, ids::Hash};
use thingschain_runtime::{
	opaque::{Block, Header},
	RuntimeCall, UncheckedExtrinsic,
};

/// Checks every block's references against the graph (refusing a block that breaks a rule),
/// records its vertex with it, and makes it the best block if GHOST over the graph's work
/// says so; then imports through `inner`.
#[derive(Clone)]
pub struct GraphImport<I> {
	inner: I,
	graph: Arc<BlockGraph>,
	times: Option<ImportTimes>,
}

/// How long the imports of blocks this node executes take (gossiped and synced blocks; not
/// the ones it authored, whose state its proposer built): the graph's part (waiting for the
/// graph, checking references, fork choice, the records) and the whole import under it
/// (execution, equivocation checks, GRANDPA, the database write). The load harness reads
/// both to report the share of import time the graph adds.
#[derive(Clone)]
pub struct ImportTimes {
	graph: Histogram,
	whole: Histogram,
}

impl ImportTimes {
	/// Registers the two histograms in the node's Prometheus registry.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let histogram = |name: &str, help: &str| {
			// 10 µs to ~5 s.
			let buckets = exponential_buckets(0.000_01, 2.0, 20)?;
			register(
				Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))?,
				registry,
			)
		};
		Ok(Self {
			graph: histogram(
				"thingschain_block_graph_import_seconds",
				"The block graph's time in the import of each block this node executed",
			)?,
			whole: histogram(
				"thingschain_block_import_seconds",
				"Whole import time of each block this node executed, the block graph's included",
			)?,
		})
	}
}

impl<I> GraphImport<I> {
	/// Wraps `inner`, keeping the graph in `graph` and the import times in `times`.
	pub fn new(inner: I, graph: Arc<BlockGraph>, times: Option<ImportTimes>) -> Self {
		Self { inner, graph, times }
	}

	/// Block `hash`'s vertex, its references checked against the graph; `body` may carry
	/// the headers of referenced blocks this node does not have.
	fn vertex(
		&self,
		hash: Hash,
		header: &Header,
		body: &[OpaqueExtrinsic],
	) -> Result<Vertex<Hash>, String> {
		let parent = *header.parent_hash();
		// Strictly: a malformed references item refuses the block (a header read back from
		// the database, `vertex_of`, has passed this).
		let references = references(header.digest()).map_err(|e| e.to_string())?;
		let mut vertex = Vertex { number: *header.number(), parent, references, counted: 0 };
		if vertex.references.is_empty() {
			return Ok(vertex);
		}
		let carried = carried_headers(body);
		rules::check(
			&self.graph.with_pending(hash, &vertex, &carried),
			BOUNDS,
			parent,
			&vertex.references,
		)
		.map_err(|e| e.to_string())?;
		// The rules found every referenced header, carried or in the database.
		let headers: Vec<Header> = vertex
			.references
			.iter()
			.filter_map(|reference| {
				let carried = carried.iter().find(|header| header.hash() == *reference).cloned();
				carried.or_else(|| self.graph.header(*reference))
			})
			.collect();
		let slot = aura::slot(header).ok_or("it names no Aura slot")?;
		vertex.counted = self.graph.payable(parent, &headers, slot);
		Ok(vertex)
	}
}

/// The headers `body` carries of the blocks its block references (its block-graph
/// inherent); none if it has none.
fn carried_headers(body: &[OpaqueExtrinsic]) -> Vec<Header> {
	for extrinsic in body {
		// The opaque form keeps an extrinsic without its length prefix; its encoding has it.
		let decoded = extrinsic.using_encoded(|bytes| UncheckedExtrinsic::decode(&mut &bytes[..]));
		let Ok(extrinsic) = decoded else { continue };
		// Inherents come first: past them, no more to look at.
		if !extrinsic.is_bare() {
			break;
		}
		if let RuntimeCall::BlockGraph(pallet_block_graph::Call::note_references { headers }) =
			extrinsic.function
		{
			return headers.into_inner();
		}
	}
	Vec::new()
}

#[async_trait::async_trait]
impl<I> BlockImport<Block> for GraphImport<I>
where
	I: BlockImport<Block, Error = ConsensusError> + Send + Sync,
{
	type Error = ConsensusError;

	async fn check_block(
		&self,
		block: BlockCheckParams<Block>,
	) -> Result<ImportResult, Self::Error> {
		self.inner.check_block(block).await
	}

	async fn import_block(
		&self,
		mut block: BlockImportParams<Block>,
	) -> Result<ImportResult, Self::Error> {
		// A block that comes with its state (warp sync's target) is imported as the sync
		// decided: the graph below it is not there to check against.
		if block.with_state() {
			return self.inner.import_block(block).await;
		}
		let started = Instant::now();
		let executed =
			matches!(block.state_action, StateAction::Execute | StateAction::ExecuteIfPossible);
		let _one_at_a_time = self.graph.import_lock.lock().await;
		let hash = block.post_hash();
		// A block the chain has (imported again) has its vertex already.
		if self.graph.client().status(hash).is_ok_and(|s| s == BlockStatus::InChain) {
			return self.inner.import_block(block).await;
		}
		let body = block.body.as_deref().unwrap_or_default();
		let vertex = self
			.vertex(hash, &block.header, body)
			.map_err(|why| ConsensusError::ClientImport(format!("block {hash:?}: {why}")))?;
		let finalized = self.graph.client().info().finalized_hash;
		let is_best =
			fork_choice::best(&self.graph.with_pending(hash, &vertex, &[]), finalized) == hash;
		block.fork_choice = Some(ForkChoiceStrategy::Custom(is_best));
		block.auxiliary.extend(self.graph.records(&hash, &vertex));
		let mut graph_took = started.elapsed();
		let imported = self.inner.import_block(block).await?;
		if matches!(imported, ImportResult::Imported(_)) {
			let caching = Instant::now();
			self.graph.imported(hash, vertex, BOUNDS.depth);
			graph_took += caching.elapsed();
			if let Some(times) = self.times.as_ref().filter(|_| executed) {
				times.graph.observe(graph_took.as_secs_f64());
				times.whole.observe(started.elapsed().as_secs_f64());
			}
		}
		Ok(imported)
	}
}
