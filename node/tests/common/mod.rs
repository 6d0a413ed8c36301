//! Starts real `thingschain` processes on 127.0.0.1 with free ports, and talks to them
//! over JSON-RPC. Every process is killed when its `Node` is dropped.

#![allow(dead_code)] // Each test binary uses its own subset of these helpers.

use serde_json::Value;
use std::{
	collections::BTreeSet,
	future::Future,
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::Mutex,
	time::{Duration, Instant},
};
use subxt::{
	rpcs::{rpc_params, RpcClient},
	OnlineClient, PolkadotConfig,
};

/// Path of the node binary cargo built for these tests.
pub const NODE_BIN: &str = env!("CARGO_BIN_EXE_thingschain");

/// A TCP port on 127.0.0.1 that nothing listens on right now and that this test process has
/// not handed out before: a node binds its ports only once it has started, so without the
/// record two nodes (or a node's RPC and p2p ports) could be given the same one.
pub fn free_port() -> u16 {
	static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
	let mut handed_out = HANDED_OUT.lock().expect("no test panics while holding the lock");
	loop {
		let port = TcpListener::bind("127.0.0.1:0")
			.and_then(|l| l.local_addr())
			.map(|a| a.port())
			.expect("the OS hands out a free port");
		if handed_out.insert(port) {
			return port;
		}
	}
}

/// Polls `check` every 500 ms until it yields a value or `timeout` passes.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
	F: FnMut() -> Fut,
	Fut: Future<Output = Option<T>>,
{
	let start = Instant::now();
	loop {
		if let Some(value) = check().await {
			return value;
		}
		assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// A running node process.
pub struct Node {
	child: Option<Child>,
	args: Vec<String>,
	/// Name used in logs and assertions.
	pub name: String,
	/// JSON-RPC port on 127.0.0.1.
	pub rpc_port: u16,
	/// libp2p port on 127.0.0.1.
	pub p2p_port: u16,
	log: PathBuf,
}

impl Node {
	/// Starts `thingschain` with `args` plus local-only RPC, p2p and no telemetry or
	/// Prometheus; its output goes to `<log_dir>/<name>.log`.
	pub fn start(name: &str, log_dir: &Path, args: &[&str]) -> Node {
		let (rpc_port, p2p_port) = (free_port(), free_port());
		let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
		all.extend(
			[
				"--rpc-port",
				&rpc_port.to_string(),
				"--listen-addr",
				&format!("/ip4/127.0.0.1/tcp/{p2p_port}"),
				"--no-prometheus",
				"--no-telemetry",
				"--no-mdns",
			]
			.map(String::from),
		);
		let mut node = Node {
			child: None,
			args: all,
			name: name.to_string(),
			rpc_port,
			p2p_port,
			log: log_dir.join(format!("{name}.log")),
		};
		node.spawn();
		node
	}

	fn spawn(&mut self) {
		let log = std::fs::OpenOptions::new()
			.create(true)
			.append(true)
			.open(&self.log)
			.expect("log file opens");
		let child = Command::new(NODE_BIN)
			.args(&self.args)
			.stdout(Stdio::null())
			.stderr(log)
			.spawn()
			.expect("thingschain starts");
		self.child = Some(child);
	}

	/// Stops the process (SIGKILL: a crash, not a clean shutdown).
	pub fn kill(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}

	/// Starts the process again with the same arguments, ports and database.
	pub fn restart(&mut self) {
		self.kill();
		self.spawn();
	}

	/// Whether the process is still running.
	pub fn is_running(&mut self) -> bool {
		self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
	}

	/// The node's log so far.
	pub fn log(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}

	/// WebSocket URL of the RPC server.
	pub fn url(&self) -> String {
		format!("ws://127.0.0.1:{}", self.rpc_port)
	}

	/// A raw JSON-RPC client, once the server accepts connections.
	pub async fn rpc(&self) -> RpcClient {
		let url = self.url();
		wait_for(&format!("{} RPC server", self.name), Duration::from_secs(60), || async {
			RpcClient::from_insecure_url(&url).await.ok()
		})
		.await
	}

	/// A subxt client that has read the node's metadata.
	pub async fn client(&self) -> OnlineClient<PolkadotConfig> {
		let url = self.url();
		wait_for(&format!("{} subxt client", self.name), Duration::from_secs(60), || async {
			OnlineClient::<PolkadotConfig>::from_insecure_url(&url).await.ok()
		})
		.await
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		self.kill();
		if std::thread::panicking() {
			eprintln!("----- log of {} -----\n{}", self.name, tail(&self.log(), 60));
		}
	}
}

fn tail(text: &str, lines: usize) -> String {
	let all: Vec<&str> = text.lines().collect();
	all[all.len().saturating_sub(lines)..].join("\n")
}

/// A fixed libp2p secret per node of a test network, so the others can name the first as
/// boot node.
pub fn node_key(index: usize) -> String {
	format!("{:064x}", index + 1)
}

/// The libp2p peer id of secret `key`.
pub fn peer_id(key: &str, dir: &Path) -> String {
	let file = dir.join("bootnode.key");
	std::fs::write(&file, key).unwrap();
	let output = Command::new(NODE_BIN)
		.args(["key", "inspect-node-key", "--file"])
		.arg(&file)
		.output()
		.expect("key inspect-node-key runs");
	assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
	String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// Starts one validator per dev account in `names` (`alice`, `bob`, ...) on `chain`, each
/// with its own database under `dir` and the first as boot node of the others.
pub fn start_network(dir: &Path, chain: &str, names: &[&str]) -> Vec<Node> {
	let mut boot_node: Option<String> = None;
	let mut nodes = Vec::new();
	for (i, name) in names.iter().enumerate() {
		let base = dir.join(name).display().to_string();
		let key = node_key(i);
		let dev_account = format!("--{name}");
		let mut args =
			vec!["--chain", chain, &dev_account, "--base-path", &base, "--node-key", &key];
		if let Some(boot) = &boot_node {
			args.extend(["--bootnodes", boot.as_str()]);
		}
		let node = Node::start(name, dir, &args);
		if boot_node.is_none() {
			boot_node =
				Some(format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", node.p2p_port, peer_id(&key, dir)));
		}
		nodes.push(node);
	}
	nodes
}

/// Number of the header `method` returns (`chain_getHeader` of the best or finalized block).
async fn header_number(rpc: &RpcClient, hash: Option<Value>) -> Option<u64> {
	let header: Value = rpc.request("chain_getHeader", rpc_params![hash]).await.ok()?;
	u64::from_str_radix(header["number"].as_str()?.trim_start_matches("0x"), 16).ok()
}

/// Best block number.
pub async fn best_number(rpc: &RpcClient) -> Option<u64> {
	header_number(rpc, None).await
}

/// Finalized block number.
pub async fn finalized_number(rpc: &RpcClient) -> Option<u64> {
	let hash: Value = rpc.request("chain_getFinalizedHead", rpc_params![]).await.ok()?;
	header_number(rpc, Some(hash)).await
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
