//! The node binary these tests run, started on 127.0.0.1 with the load harness's process
//! helpers (`thingschain_bench::network`), and what the tests read from its JSON-RPC.

use serde_json::Value;
use std::{future::Future, path::Path, time::Duration};
use subxt::rpcs::{rpc_params, RpcClient};
use thingschain_bench::network;
pub use thingschain_bench::network::{best_number, finalized_number, node_key, Node};

/// Path of the node binary cargo built for these tests.
pub const NODE_BIN: &str = env!("CARGO_BIN_EXE_thingschain");

/// The workspace's binary `name`, built beside the node's by `cargo test --workspace` (or
/// `cargo build --release -p <its package>`).
pub fn sibling_bin(name: &str) -> std::path::PathBuf {
	let bin = Path::new(NODE_BIN).with_file_name(name);
	assert!(bin.exists(), "{} is missing: cargo build --release --workspace", bin.display());
	bin
}

/// Runs the device CLI (`thingschain-device`) with `args` against the node at `url`: its
/// standard output, or the test fails with its error.
pub fn device_cli(url: &str, args: &[&str]) -> String {
	let output = std::process::Command::new(sibling_bin("thingschain-device"))
		.args(args)
		.args(["--url", url])
		.output()
		.expect("the CLI runs");
	let (out, err) = (
		String::from_utf8_lossy(&output.stdout).into_owned(),
		String::from_utf8_lossy(&output.stderr).into_owned(),
	);
	assert!(output.status.success(), "thingschain-device {args:?} failed:\n{out}{err}");
	if !err.is_empty() {
		eprintln!("thingschain-device {args:?}: {err}");
	}
	out
}

/// Starts the node binary as `name` with `args`, logging to `log_dir`.
pub fn start_node(name: &str, log_dir: &Path, args: &[&str]) -> Node {
	Node::start(Path::new(NODE_BIN), name, log_dir, args)
}

/// `thingschain export-chain-spec --chain <chain> [--raw]`, as JSON.
pub fn exported_spec(chain: &str, raw: bool) -> Value {
	let mut args = vec!["export-chain-spec", "--chain", chain];
	if raw {
		args.push("--raw");
	}
	let output =
		std::process::Command::new(NODE_BIN).args(&args).output().expect("thingschain runs");
	assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
	serde_json::from_slice(&output.stdout).unwrap()
}

/// The libp2p peer id of secret `key`.
pub fn peer_id(key: &str, dir: &Path) -> String {
	network::peer_id(Path::new(NODE_BIN), key, dir)
}

/// Starts one validator per dev account in `names` on `chain`, the first as boot node.
pub fn start_network(dir: &Path, chain: &str, names: &[&str]) -> Vec<Node> {
	network::start_network(Path::new(NODE_BIN), dir, chain, names, &[])
}

/// The value of the Prometheus counter `name` (any labels) that the node serves on
/// 127.0.0.1:`port`, or `None` if it serves no such metric (yet).
pub fn metric(port: u16, name: &str) -> Option<u64> {
	network::metric(port, name).map(|value| value as u64)
}

/// Polls `check` until it yields a value; fails the test after `timeout`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, check: F) -> T
where
	F: FnMut() -> Fut,
	Fut: Future<Output = Option<T>>,
{
	network::poll(timeout, check)
		.await
		.unwrap_or_else(|| panic!("timed out after {timeout:?} waiting for {what}"))
}

/// The Aura slot of block `number`, read from its pre-runtime digest.
pub async fn aura_slot(rpc: &RpcClient, number: u64) -> Option<u64> {
	let hash: Value = rpc.request("chain_getBlockHash", rpc_params![number]).await.ok()?;
	let header: Value = rpc.request("chain_getHeader", rpc_params![hash]).await.ok()?;
	// PreRuntime digest item: 0x06, engine id "aura", SCALE length 8 (0x20), u64 LE slot.
	const AURA_PRE_DIGEST: &str = "0x066175726120";
	header["digest"]["logs"].as_array()?.iter().find_map(|log| {
		let hex = log.as_str()?.strip_prefix(AURA_PRE_DIGEST)?;
		let bytes: Vec<u8> = (0..16)
			.step_by(2)
			.map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
			.collect::<Option<_>>()?;
		Some(u64::from_le_bytes(bytes.try_into().ok()?))
	})
}

/// `bytes` as lowercase hex, without a prefix.
pub fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of hex `text`, with or without a `0x` prefix.
pub fn unhex(text: &str) -> Vec<u8> {
	let text = text.trim_start_matches("0x");
	(0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}
