//! Real `thingschain` processes on 127.0.0.1 with free ports: a single dev node or a network
//! of validators, each killed when its [`Node`] is dropped. The node's end-to-end tests start
//! their networks with this module too.

use serde_json::Value;
use std::{
	collections::BTreeSet,
	future::Future,
	net::{IpAddr, Ipv4Addr, TcpListener},
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::Mutex,
	time::{Duration, Instant},
};
use subxt::{
	rpcs::{rpc_params, RpcClient},
	OnlineClient, PolkadotConfig,
};

/// A TCP port on 127.0.0.1 that nothing listens on right now and that this process has not
/// handed out before: a node binds its ports only once it has started, so without the record
/// two nodes (or a node's RPC and p2p ports) could be given the same one.
pub fn free_port() -> u16 {
	static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
	let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
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

/// Where the nodes the harness starts from `binary` keep their compiled runtimes: the first
/// node to run a runtime compiles it, the others (in this run and later ones) load it. Beside
/// the binary, so only its owner can write the native code the nodes will load.
pub fn wasm_cache(binary: &Path) -> PathBuf {
	binary.parent().unwrap_or(Path::new(".")).join("wasm-cache")
}

/// How long a node may take to serve RPC after it starts. The first to run a runtime compiles
/// it (~3 s of both cores here; then 0.4 s from [`wasm_cache`]), and a `--dev` node compiles it
/// once more to build its genesis from the runtime's preset, uncached; when many nodes start at
/// once on a small machine, as the end-to-end tests do, they queue for the CPU (two dozen took
/// over three minutes before the cache).
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(300);

/// Polls `check` every 200 ms until it yields a value; `None` once `timeout` has passed.
pub async fn poll<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
	F: FnMut() -> Fut,
	Fut: Future<Output = Option<T>>,
{
	let start = Instant::now();
	loop {
		if let Some(value) = check().await {
			return Some(value);
		}
		if start.elapsed() >= timeout {
			return None;
		}
		tokio::time::sleep(Duration::from_millis(200)).await;
	}
}

/// A running node process.
pub struct Node {
	binary: PathBuf,
	child: Option<Child>,
	args: Vec<String>,
	/// Name used in logs and messages.
	pub name: String,
	/// The address it listens on: 127.0.0.1, or its network namespace's ([`Node::at`]).
	pub host: IpAddr,
	/// JSON-RPC port.
	pub rpc_port: u16,
	/// libp2p port on 127.0.0.1.
	pub p2p_port: u16,
	/// Prometheus metrics port on 127.0.0.1 (`/metrics`).
	pub prometheus_port: u16,
	log: PathBuf,
}

impl Node {
	/// Starts `binary` with `args` plus local-only RPC, p2p and Prometheus, no telemetry or
	/// mDNS, and the cache of compiled runtimes that the binary's nodes share
	/// ([`wasm_cache`]); its output goes to `<log_dir>/<name>.log`.
	pub fn start(binary: &Path, name: &str, log_dir: &Path, args: &[&str]) -> Node {
		let (rpc_port, p2p_port, prometheus_port) = (free_port(), free_port(), free_port());
		let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
		all.extend(
			[
				"--wasm-cache",
				&wasm_cache(binary).display().to_string(),
				"--rpc-port",
				&rpc_port.to_string(),
				"--listen-addr",
				&format!("/ip4/127.0.0.1/tcp/{p2p_port}"),
				"--prometheus-port",
				&prometheus_port.to_string(),
				"--no-telemetry",
				"--no-mdns",
			]
			.map(String::from),
		);
		Node::launch(binary, name, log_dir, all, [rpc_port, p2p_port, prometheus_port])
	}

	/// Starts any `binary` with exactly `args`, which make it listen on `ports` (RPC, p2p,
	/// Prometheus: [`free_port`]s); its output goes to `<log_dir>/<name>.log`.
	pub fn launch(
		binary: &Path,
		name: &str,
		log_dir: &Path,
		args: Vec<String>,
		ports: [u16; 3],
	) -> Node {
		let [rpc_port, p2p_port, prometheus_port] = ports;
		let mut node = Node {
			binary: binary.to_path_buf(),
			child: None,
			args,
			name: name.to_string(),
			host: IpAddr::V4(Ipv4Addr::LOCALHOST),
			rpc_port,
			p2p_port,
			prometheus_port,
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
		let child = Command::new(&self.binary)
			.args(&self.args)
			.stdout(Stdio::null())
			.stderr(log)
			.spawn()
			.unwrap_or_else(|e| panic!("{} starts: {e}", self.binary.display()));
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

	/// The node, reached at `host` (a process in a network namespace of its own).
	pub fn at(mut self, host: IpAddr) -> Node {
		self.host = host;
		self
	}

	/// The operating system's id of the process, while it runs.
	pub fn pid(&self) -> Option<u32> {
		self.child.as_ref().map(Child::id)
	}

	/// The node's log so far.
	pub fn log(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}

	/// WebSocket URL of the RPC server.
	pub fn url(&self) -> String {
		format!("ws://{}:{}", self.host, self.rpc_port)
	}

	/// A raw JSON-RPC client, once the server accepts connections (within
	/// [`STARTUP_TIMEOUT`]).
	pub async fn rpc(&self) -> RpcClient {
		let url = self.url();
		poll(STARTUP_TIMEOUT, || async { RpcClient::from_insecure_url(&url).await.ok() })
			.await
			.unwrap_or_else(|| {
				panic!("{}'s RPC server did not start:\n{}", self.name, self.tail(40))
			})
	}

	/// A subxt client that has read the node's metadata (within [`STARTUP_TIMEOUT`]).
	pub async fn client(&self) -> OnlineClient<PolkadotConfig> {
		let url = self.url();
		poll(STARTUP_TIMEOUT, || async {
			OnlineClient::<PolkadotConfig>::from_insecure_url(&url).await.ok()
		})
		.await
		.unwrap_or_else(|| panic!("{}'s RPC server did not start:\n{}", self.name, self.tail(40)))
	}

	/// The last `lines` lines of the log.
	pub fn tail(&self, lines: usize) -> String {
		let log = self.log();
		let all: Vec<&str> = log.lines().collect();
		all[all.len().saturating_sub(lines)..].join("\n")
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		self.kill();
		if std::thread::panicking() {
			eprintln!("----- log of {} -----\n{}", self.name, self.tail(60));
		}
	}
}

/// A fixed libp2p secret per node of a network, so the others can name the first as boot
/// node.
pub fn node_key(index: usize) -> String {
	format!("{:064x}", index + 1)
}

/// The libp2p peer id of secret `key`, as `binary key inspect-node-key` prints it.
pub fn peer_id(binary: &Path, key: &str, dir: &Path) -> String {
	let file = dir.join("bootnode.key");
	std::fs::write(&file, key).expect("the key file is written");
	let output = Command::new(binary)
		.args(["key", "inspect-node-key", "--file"])
		.arg(&file)
		.output()
		.expect("key inspect-node-key runs");
	assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
	String::from_utf8(output.stdout).expect("a peer id is text").trim().to_string()
}

/// Starts one validator per dev account in `names` (`alice`, `bob`, ...) on `chain`, each with
/// its own database under `dir`, `extra` arguments, and the first as boot node of the others.
pub fn start_network(
	binary: &Path,
	dir: &Path,
	chain: &str,
	names: &[&str],
	extra: &[&str],
) -> Vec<Node> {
	let mut boot_node: Option<String> = None;
	let mut nodes = Vec::new();
	for (i, name) in names.iter().enumerate() {
		let mut args = validator_args(dir, chain, name, i);
		if let Some(boot) = &boot_node {
			args.extend(["--bootnodes".into(), boot.clone()]);
		}
		args.extend(extra.iter().map(|arg| arg.to_string()));
		let args: Vec<&str> = args.iter().map(String::as_str).collect();
		let node = Node::start(binary, name, dir, &args);
		if boot_node.is_none() {
			let peer = peer_id(binary, &node_key(i), dir);
			boot_node = Some(format!("/ip4/127.0.0.1/tcp/{}/p2p/{peer}", node.p2p_port));
		}
		nodes.push(node);
	}
	nodes
}

/// The arguments of the `index`-th validator of a network on `chain`: dev account `name`'s
/// keys, its database under `dir`, and libp2p secret [`node_key`]`(index)`.
pub fn validator_args(dir: &Path, chain: &str, name: &str, index: usize) -> Vec<String> {
	let base = dir.join(name).display().to_string();
	["--chain", chain, &format!("--{name}"), "--base-path", &base, "--node-key", &node_key(index)]
		.map(String::from)
		.to_vec()
}

/// The value of the Prometheus metric `name` (its first series, whatever its labels) that a
/// node serves on 127.0.0.1:`port`, or `None` if it serves no such metric (yet).
pub fn metric(port: u16, name: &str) -> Option<f64> {
	use std::io::{Read, Write};
	let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
	stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
	let mut response = String::new();
	stream.read_to_string(&mut response).ok()?;
	response.lines().find_map(|line| {
		let rest = line.strip_prefix(name)?;
		(rest.starts_with(' ') || rest.starts_with('{')).then_some(())?;
		rest.rsplit(' ').next()?.parse().ok()
	})
}

/// Number of the header of `hash` (the best block's for `None`).
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
