//! `thingschain dag-graph`: a running node's latest blocks drawn as SVG, forks and references
//! included, from its `dag_graph` RPC.

use crate::rpc::dag::DagApiClient;
use jsonrpsee::{
	core::client::ClientT,
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use std::{fmt, path::PathBuf};
use thingschain_block_graph::view::{render_svg, EdgeKind, GraphView, MAX_RANGE};

/// Draw the latest blocks of a node's block graph.
#[derive(Debug, clap::Parser)]
pub struct DagGraphCmd {
	/// WebSocket URL of the node.
	#[arg(long, value_name = "URL", default_value = "ws://127.0.0.1:9944")]
	pub uri: String,

	/// How many of the latest block numbers to draw (at most 256).
	#[arg(long, value_name = "N", default_value_t = 30)]
	pub last: u32,

	/// The SVG file to write; without it, the SVG goes to standard output.
	#[arg(long, value_name = "FILE")]
	pub output: Option<PathBuf>,
}

/// What the picture shows, for a line on standard error.
pub struct Drawn {
	/// Blocks drawn.
	pub blocks: usize,
	/// Of them, not on the best chain.
	pub forked: usize,
	/// Reference edges drawn.
	pub references: usize,
}

/// Why the graph could not be drawn.
#[derive(Debug)]
pub enum DagGraphError {
	/// The node could not be reached or answered with an error.
	Rpc(jsonrpsee::core::ClientError),
	/// Its best header's number did not parse.
	BadHeader(String),
	/// The SVG could not be written.
	Write(std::io::Error),
}

impl fmt::Display for DagGraphError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Self::Rpc(e) => write!(f, "the node's RPC: {e}"),
			Self::BadHeader(number) => write!(f, "the best header's number {number:?} is not hex"),
			Self::Write(e) => write!(f, "writing the SVG: {e}"),
		}
	}
}

impl std::error::Error for DagGraphError {
	fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
		match self {
			Self::Rpc(e) => Some(e),
			Self::BadHeader(_) => None,
			Self::Write(e) => Some(e),
		}
	}
}

impl DagGraphCmd {
	/// Fetches the latest blocks' graph and writes its picture.
	pub fn run(&self) -> Result<Drawn, DagGraphError> {
		let runtime = tokio::runtime::Builder::new_current_thread()
			.enable_all()
			.build()
			.map_err(DagGraphError::Write)?;
		let graph = runtime.block_on(self.fetch())?;
		let svg = render_svg(&graph);
		match &self.output {
			Some(path) => std::fs::write(path, svg).map_err(DagGraphError::Write)?,
			None => print!("{svg}"),
		}
		Ok(Drawn {
			blocks: graph.vertices.len(),
			forked: graph.vertices.iter().filter(|v| !v.best).count(),
			references: graph.edges.iter().filter(|e| e.kind == EdgeKind::Reference).count(),
		})
	}

	async fn fetch(&self) -> Result<GraphView, DagGraphError> {
		let client: WsClient =
			WsClientBuilder::default().build(&self.uri).await.map_err(DagGraphError::Rpc)?;
		let header: serde_json::Value =
			client.request("chain_getHeader", rpc_params![]).await.map_err(DagGraphError::Rpc)?;
		let number = header["number"].as_str().unwrap_or_default();
		let best = u32::from_str_radix(number.trim_start_matches("0x"), 16)
			.map_err(|_| DagGraphError::BadHeader(number.to_string()))?;
		let from = best.saturating_sub(self.last.clamp(1, MAX_RANGE) - 1);
		client.graph(from, best).await.map_err(DagGraphError::Rpc)
	}
}
