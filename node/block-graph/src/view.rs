//! The graph as a user sees it: what `dag_graph` answers (blocks and their edges over a range
//! of numbers) and a picture of it.
//!
//! ```text
//!   number →   10      11      12      13
//!   best       ●───────●───────●───────●        ● best chain (filled: finalized)
//!                       ╲             ╱          ○ other blocks
//!   fork                 ○ ┄┄┄┄┄┄┄┄┄┘           ─ parent   ┄ reference
//! ```

use serde::{Deserialize, Serialize};
use std::{
	collections::{BTreeMap, BTreeSet},
	fmt::Write,
};

/// The most block numbers one view covers (the node's `dag_graph` RPC serves no more at once).
pub const MAX_RANGE: u32 = 256;

/// Blocks over a range of numbers and the edges between them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphView {
	/// The blocks, by number, then hash.
	pub vertices: Vec<VertexView>,
	/// Parent and reference edges from these blocks.
	pub edges: Vec<EdgeView>,
}

/// One block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VertexView {
	/// Its hash, `0x`-hex.
	pub hash: String,
	/// Its number.
	pub number: u32,
	/// The account of the delegate that sealed it, if the chain can tell.
	pub author: Option<String>,
	/// Whether it is finalized.
	pub finalized: bool,
	/// Whether it is on the best chain.
	pub best: bool,
}

/// What an edge is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EdgeKind {
	/// From a block to its parent.
	Parent,
	/// From a block to a block it references.
	Reference,
}

/// An edge from block `from` to block `to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EdgeView {
	/// The block the edge leaves.
	pub from: String,
	/// The block it points to.
	pub to: String,
	/// Parent or reference.
	pub kind: EdgeKind,
}

/// Pixels between numbers and between lanes.
const STEP: u32 = 90;
const LANE: u32 = 60;
const MARGIN: u32 = 40;

/// `graph` drawn as SVG: a column per number, the best chain in the top lane and each other
/// block in the first lane below that is free at its number; parent edges solid, references
/// dashed.
pub fn render_svg(graph: &GraphView) -> String {
	let first = graph.vertices.iter().map(|v| v.number).min().unwrap_or_default();
	let last = graph.vertices.iter().map(|v| v.number).max().unwrap_or_default();
	let mut lanes: BTreeMap<&str, u32> = BTreeMap::new();
	let mut taken: BTreeSet<(u32, u32)> = BTreeSet::new();
	let mut ordered: Vec<&VertexView> = graph.vertices.iter().collect();
	ordered.sort_by_key(|v| (!v.best, v.number, v.hash.clone()));
	for vertex in ordered {
		let lane = if vertex.best {
			0
		} else {
			(1..).find(|lane| !taken.contains(&(vertex.number, *lane))).unwrap_or(1)
		};
		taken.insert((vertex.number, lane));
		lanes.insert(&vertex.hash, lane);
	}
	let position = |hash: &str| {
		let vertex = graph.vertices.iter().find(|v| v.hash == hash)?;
		let lane = lanes[hash];
		Some((MARGIN + (vertex.number - first) * STEP, MARGIN + lane * LANE))
	};
	let lane_count = lanes.values().max().map_or(1, |l| l + 1);
	let width = 2 * MARGIN + (last - first) * STEP;
	let height = 2 * MARGIN + (lane_count - 1) * LANE + 20;

	let mut svg = String::new();
	let _ = writeln!(
		svg,
		r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="10">"#
	);
	let _ = writeln!(svg, "<title>ThingsChain block graph, blocks {first} to {last}</title>");
	for edge in &graph.edges {
		let (Some((x1, y1)), Some((x2, y2))) = (position(&edge.from), position(&edge.to)) else {
			continue;
		};
		let style = match edge.kind {
			EdgeKind::Parent => r##"stroke="#555" stroke-width="2""##,
			EdgeKind::Reference => {
				r##"stroke="#d2691e" stroke-width="1.5" stroke-dasharray="5,4""##
			}
		};
		let class = match edge.kind {
			EdgeKind::Parent => "parent",
			EdgeKind::Reference => "reference",
		};
		let _ = writeln!(
			svg,
			r#"<line class="{class}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" {style}/>"#
		);
	}
	for vertex in &graph.vertices {
		let Some((x, y)) = position(&vertex.hash) else { continue };
		let fill = match (vertex.finalized, vertex.best) {
			(true, _) => "#1f4e79",
			(false, true) => "#5b9bd5",
			(false, false) => "#ffffff",
		};
		let short = vertex.hash.get(..8).unwrap_or(&vertex.hash);
		let _ = writeln!(
			svg,
			r##"<g class="block"><title>#{} {} by {}</title><circle cx="{x}" cy="{y}" r="12" fill="{fill}" stroke="#1f4e79" stroke-width="2"/><text x="{x}" y="{}" text-anchor="middle">{} {short}</text></g>"##,
			vertex.number,
			vertex.hash,
			vertex.author.as_deref().unwrap_or("unknown"),
			y + 26,
			vertex.number,
		);
	}
	svg.push_str("</svg>\n");
	svg
}

#[cfg(test)]
mod tests {
	use super::*;

	fn vertex(hash: &str, number: u32, best: bool) -> VertexView {
		VertexView { hash: hash.into(), number, author: None, finalized: false, best }
	}

	fn edge(from: &str, to: &str, kind: EdgeKind) -> EdgeView {
		EdgeView { from: from.into(), to: to.into(), kind }
	}

	#[test]
	fn a_fork_and_a_reference_are_drawn() {
		let graph = GraphView {
			vertices: vec![
				vertex("0xa1", 1, true),
				vertex("0xa2", 2, true),
				vertex("0xb2", 2, false),
				vertex("0xa3", 3, true),
			],
			edges: vec![
				edge("0xa2", "0xa1", EdgeKind::Parent),
				edge("0xb2", "0xa1", EdgeKind::Parent),
				edge("0xa3", "0xa2", EdgeKind::Parent),
				edge("0xa3", "0xb2", EdgeKind::Reference),
			],
		};
		let svg = render_svg(&graph);
		assert!(svg.starts_with("<svg"));
		assert_eq!(svg.matches(r#"class="block""#).count(), 4);
		assert_eq!(svg.matches(r#"class="parent""#).count(), 3);
		assert_eq!(svg.matches(r#"class="reference""#).count(), 1);
		// The fork is in the second lane, below block 2 of the best chain.
		assert!(svg.contains(r#"cx="130" cy="100""#), "{svg}");
		assert!(svg.contains(r#"cx="130" cy="40""#));
	}

	#[test]
	fn the_view_travels_as_camel_case_json() {
		let graph = GraphView {
			vertices: vec![vertex("0xa1", 1, true)],
			edges: vec![edge("0xa1", "0xa0", EdgeKind::Parent)],
		};
		let json = serde_json::to_value(&graph).unwrap();
		assert_eq!(json["vertices"][0]["finalized"], false);
		assert_eq!(json["edges"][0]["kind"], "parent");
		assert_eq!(serde_json::from_value::<GraphView>(json).unwrap(), graph);
	}

	#[test]
	fn an_empty_graph_is_an_empty_picture() {
		assert!(render_svg(&GraphView::default()).contains("</svg>"));
	}
}
