//! The radiating block graph's side of a run, read from the nodes before they stop: of the
//! blocks the delegates built that the finalized chain left off, how many a finalized block
//! referenced (their work counted in fork choice, their authors paid) and how many were
//! orphaned; and what the graph adds to the import of a block (the nodes' Prometheus
//! histograms).

use crate::network::{best_number, metric, Node};
use std::{
	collections::{HashMap, HashSet},
	fmt::Write as _,
};
use subxt::rpcs::rpc_params;
use thingschain_block_graph::view::{EdgeKind, GraphView, VertexView, MAX_RANGE};
use thingschain_primitives::block_graph::MAX_DEPTH;

/// The block graph's numbers at the end of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GraphStats {
	/// Finalized blocks above genesis.
	pub finalized: u64,
	/// References the finalized blocks make.
	pub references: u64,
	/// Blocks any node has that finality left off the chain and that a finalized block
	/// references. Only blocks whose fate is settled count: numbered at most the finalized
	/// head's number less `MAX_DEPTH + 1`, so no later block can reference them.
	pub forks_referenced: u64,
	/// Such blocks that no finalized block references: work lost.
	pub forks_orphaned: u64,
	/// Blocks the nodes executed on import (from peers: a node does not import its own
	/// blocks this way), all nodes together.
	pub imports: u64,
	/// Seconds those imports took in all.
	pub import_seconds: f64,
	/// Seconds of them the block graph took (its checks, fork choice and records).
	pub graph_seconds: f64,
}

impl GraphStats {
	/// Reads every node's graph (`dag_graph`) and import histograms.
	pub async fn read(nodes: &[Node]) -> Result<GraphStats, String> {
		let mut vertices: HashMap<String, VertexView> = HashMap::new();
		let mut references: HashSet<(String, String)> = HashSet::new();
		for node in nodes {
			let view = graph_of(node).await?;
			for vertex in view.vertices {
				vertices
					.entry(vertex.hash.clone())
					.and_modify(|known| known.finalized |= vertex.finalized)
					.or_insert(vertex);
			}
			references.extend(
				view.edges
					.into_iter()
					.filter(|edge| edge.kind == EdgeKind::Reference)
					.map(|edge| (edge.from, edge.to)),
			);
		}
		let sum = |name: &str| {
			nodes.iter().map(|node| metric(node.prometheus_port, name).unwrap_or(0.0)).sum::<f64>()
		};
		let mut stats = GraphStats::count(&vertices, &references);
		stats.imports = sum("thingschain_block_import_seconds_count") as u64;
		stats.import_seconds = sum("thingschain_block_import_seconds_sum");
		stats.graph_seconds = sum("thingschain_block_graph_import_seconds_sum");
		Ok(stats)
	}

	/// The chain's counts over the union of the nodes' graphs.
	fn count(
		vertices: &HashMap<String, VertexView>,
		references: &HashSet<(String, String)>,
	) -> GraphStats {
		let is_final = |hash: &String| vertices.get(hash).is_some_and(|v| v.finalized);
		let finalized: Vec<&VertexView> = vertices.values().filter(|v| v.finalized).collect();
		let head = finalized.iter().map(|v| v.number).max().unwrap_or(0);
		// The references the finalized chain makes.
		let made: Vec<&(String, String)> =
			references.iter().filter(|(from, _)| is_final(from)).collect();
		let referenced: HashSet<&String> = made.iter().map(|(_, to)| to).collect();
		let settled = |v: &&VertexView| !v.finalized && v.number + MAX_DEPTH < head;
		let (forks_referenced, forks_orphaned) =
			vertices.values().filter(settled).fold((0, 0), |(r, o), v| {
				if referenced.contains(&v.hash) {
					(r + 1, o)
				} else {
					(r, o + 1)
				}
			});
		GraphStats {
			finalized: finalized.len() as u64,
			references: made.len() as u64,
			forks_referenced,
			forks_orphaned,
			..GraphStats::default()
		}
	}

	/// The share of import time the graph takes, if any block was imported.
	pub fn import_share(&self) -> Option<f64> {
		(self.imports > 0 && self.import_seconds > 0.0)
			.then(|| self.graph_seconds / self.import_seconds)
	}

	/// One line: references, forks referenced and orphaned, the graph's import cost.
	pub fn text(&self) -> String {
		let mut out = format!(
			"{} references in {} finalized blocks; forks {} referenced, {} orphaned",
			self.references, self.finalized, self.forks_referenced, self.forks_orphaned
		);
		match self.import_share() {
			Some(share) => {
				let per_block = |seconds: f64| seconds * 1e6 / self.imports as f64;
				let _ = write!(
					out,
					"; graph {:.0} µs of a {:.0} µs import ({:.2}%, {} imports)",
					per_block(self.graph_seconds),
					per_block(self.import_seconds),
					100.0 * share,
					self.imports
				);
			}
			None => out.push_str("; no block imported from a peer"),
		}
		out
	}
}

/// Node `node`'s graph from block 1 to its best block.
async fn graph_of(node: &Node) -> Result<GraphView, String> {
	let rpc = node.rpc().await;
	let best = best_number(&rpc).await.ok_or_else(|| format!("{} has no best block", node.name))?;
	let mut graph = GraphView::default();
	let mut from = 1;
	while u64::from(from) <= best {
		let to = (from + MAX_RANGE - 1).min(best as u32);
		let part: GraphView = rpc
			.request("dag_graph", rpc_params![from, to])
			.await
			.map_err(|e| format!("{}'s dag_graph({from}, {to}): {e}", node.name))?;
		graph.vertices.extend(part.vertices);
		graph.edges.extend(part.edges);
		from = to + 1;
	}
	Ok(graph)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn vertex(hash: &str, number: u32, finalized: bool) -> (String, VertexView) {
		let view =
			VertexView { hash: hash.into(), number, author: None, finalized, best: finalized };
		(hash.into(), view)
	}

	#[test]
	fn forks_count_as_referenced_only_by_finalized_blocks_once_settled() {
		// The finalized chain f1..f16; forks a2 (referenced by f4), b3 (referenced only by
		// the fork c5), c5 (orphaned) and d10 (referenced, but too recent to be settled: a
		// block up to 19 could still reference it).
		let mut vertices: HashMap<String, VertexView> =
			(1..=16).map(|n| vertex(&format!("f{n}"), n, true)).collect();
		vertices.extend([
			vertex("a2", 2, false),
			vertex("b3", 3, false),
			vertex("c5", 5, false),
			vertex("d10", 10, false),
		]);
		let references: HashSet<(String, String)> =
			[("f4", "a2"), ("c5", "b3"), ("f11", "d10")].map(|(f, t)| (f.into(), t.into())).into();
		let stats = GraphStats::count(&vertices, &references);
		assert_eq!(
			(stats.finalized, stats.references, stats.forks_referenced, stats.forks_orphaned),
			(16, 2, 1, 2)
		);
	}

	#[test]
	fn the_import_share_is_the_graphs_part_of_the_whole() {
		let stats = GraphStats {
			finalized: 9,
			references: 3,
			forks_referenced: 2,
			forks_orphaned: 1,
			imports: 4,
			import_seconds: 0.2,
			graph_seconds: 0.004,
		};
		assert_eq!(stats.import_share(), Some(0.02));
		assert_eq!(
			stats.text(),
			"3 references in 9 finalized blocks; forks 2 referenced, 1 orphaned; graph 1000 µs of a 50000 µs import (2.00%, 4 imports)"
		);
		let dev = GraphStats::default();
		assert_eq!(dev.import_share(), None);
		assert!(dev.text().ends_with("no block imported from a peer"));
	}
}
