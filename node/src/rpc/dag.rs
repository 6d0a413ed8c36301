//! `dag_graph`: the radiating block graph over a range of block numbers: every block the node
//! has there (the best chain, the forks it still holds, the blocks they reference) with its
//! author, and the parent and reference edges between them.

use crate::block_graph::{BlockGraph, BOUNDS};
use jsonrpsee::{core::RpcResult, proc_macros::rpc};
use polkadot_sdk::{sp_blockchain::HeaderBackend, sp_runtime::traits::Header as _};
use std::{collections::BTreeMap, sync::Arc};
use thingschain_block_graph::{
	view::{EdgeKind, EdgeView, GraphView, VertexView, MAX_RANGE},
	Graph, Vertex,
};
use thingschain_primitives::ids::Hash;

/// Block graph queries.
#[rpc(server, client)]
pub trait DagApi {
	/// The blocks numbered `from ..= to` (at most [`MAX_RANGE`] numbers) and their edges.
	#[method(name = "dag_graph")]
	fn graph(&self, from: u32, to: u32) -> RpcResult<GraphView>;
}

/// Serves [`DagApiServer`] from the node's block graph.
pub struct Dag {
	graph: Arc<BlockGraph>,
}

impl Dag {
	/// Answers from `graph`.
	pub fn new(graph: Arc<BlockGraph>) -> Self {
		Self { graph }
	}

	/// Every block numbered `from ..= to` the node has, and the blocks those reference:
	/// the descendants of the best chain's block the depth below `from`, up to `to` (forks
	/// from further down are finalized away, or too old to be referenced). Bounded by the
	/// blocks in the range, however long the chain.
	fn vertices(&self, from: u32, to: u32) -> BTreeMap<Hash, Vertex<Hash>> {
		let mut found = BTreeMap::new();
		let in_range = |v: &Vertex<Hash>| (from..=to).contains(&v.number);
		let start = from.saturating_sub(BOUNDS.depth);
		let mut next: Vec<Hash> =
			self.graph.client().hash(start).ok().flatten().into_iter().collect();
		while let Some(hash) = next.pop() {
			let Some(vertex) = self.graph.vertex(&hash) else { continue };
			if vertex.number < to {
				next.extend(self.graph.children(&hash));
			}
			if in_range(&vertex) {
				found.insert(hash, vertex);
			}
		}
		let referenced: Vec<Hash> = found.values().flat_map(|v| v.references.clone()).collect();
		for hash in referenced {
			if let Some(vertex) = self.graph.vertex(&hash).filter(|v| in_range(v)) {
				found.entry(hash).or_insert(vertex);
			}
		}
		found
	}
}

/// Why a `dag_graph` call fails. Codes are stable (docs/rpc.md).
#[derive(Debug)]
pub enum DagRpcError {
	/// 9201: `to` is below `from`, or the range is longer than [`MAX_RANGE`].
	BadRange {
		/// The first number asked for.
		from: u32,
		/// The last number asked for.
		to: u32,
	},
}

impl std::fmt::Display for DagRpcError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::BadRange { from, to } => {
				write!(f, "blocks {from} to {to} are not a range of 1 to {MAX_RANGE} block numbers")
			}
		}
	}
}

impl From<DagRpcError> for jsonrpsee::types::ErrorObjectOwned {
	fn from(e: DagRpcError) -> Self {
		let code = match e {
			DagRpcError::BadRange { .. } => 9201,
		};
		super::error_object(code, &e)
	}
}

impl DagApiServer for Dag {
	fn graph(&self, from: u32, to: u32) -> RpcResult<GraphView> {
		if to < from || to - from >= MAX_RANGE {
			return Err(DagRpcError::BadRange { from, to }.into());
		}
		let client = self.graph.client();
		let info = client.info();
		let vertices = self.vertices(from, to);
		let canonical =
			|hash: &Hash, number: u32| client.hash(number).ok().flatten() == Some(*hash);
		let mut view = GraphView::default();
		for (hash, vertex) in &vertices {
			let on_best = vertex.number <= info.best_number && canonical(hash, vertex.number);
			let author = self
				.graph
				.header(*hash)
				.and_then(|header| self.graph.sealer(*header.parent_hash(), &header));
			view.vertices.push(VertexView {
				hash: format!("{hash:?}"),
				number: vertex.number,
				author: author.map(|a| a.to_string()),
				finalized: on_best && vertex.number <= info.finalized_number,
				best: on_best,
			});
			view.edges.push(EdgeView {
				from: format!("{hash:?}"),
				to: format!("{:?}", vertex.parent),
				kind: EdgeKind::Parent,
			});
			for reference in &vertex.references {
				view.edges.push(EdgeView {
					from: format!("{hash:?}"),
					to: format!("{reference:?}"),
					kind: EdgeKind::Reference,
				});
			}
		}
		view.vertices.sort_by(|a, b| (a.number, &a.hash).cmp(&(b.number, &b.hash)));
		Ok(view)
	}
}
