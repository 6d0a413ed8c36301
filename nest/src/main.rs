//! `thingschain-nest`: a service node, or with `--super` a super node, of one NestChain
//! service. See the crate's documentation and docs/nestchains.md.

use clap::Parser;
use libp2p::Multiaddr;
use polkadot_sdk::substrate_prometheus_endpoint::{init_prometheus, Registry};
use std::{net::SocketAddr, path::PathBuf, str::FromStr, sync::Arc};
use subxt_signer::{sr25519::Keypair, SecretUri};
use thingschain_device::Chain;
use thingschain_nest::{
	agreement::{self, ledger_log::LedgerLog},
	committer::Committer,
	devices::DeviceCache,
	epochs::{Epochs, Role},
	ledger::Ledger,
	metrics::Metrics,
	node_key::{NodeKey, IDENTITY_FIELD},
	p2p::{self, Network},
	peers::RpcPeers,
	peg::Relayer,
	prove::prove,
	rpc::{NestNode, NestNodeApiServer, MAX_RECORDS_PER_CALL},
	server::{self, Limits},
	supervisor::Essential,
	validate::Rules,
	webchain::{self, Backoff},
};
use thingschain_primitives::ids::{DeviceId, Hash, ServiceId};

/// A ThingsChain service node: keeps one service's NestChain.
#[derive(Parser, Debug)]
#[command(name = "thingschain-nest", version)]
enum Cli {
	/// Keep the service's NestChain: take device records over JSON-RPC, replicate them among
	/// the service's nodes, close its epochs and attest their roots on WebChain (or, with
	/// --super, check and approve them).
	Run(Run),
	/// Prove a record against WebChain without trusting the service node that serves it: the
	/// device's signature against the key WebChain has for it, the record's Merkle proof
	/// against its epoch's anchored root. Exits non-zero unless proven.
	VerifyRecord(VerifyRecord),
	/// Print the node's key (made on first use), which its account's on-chain identity names
	/// before the registrar judges it (docs/nestchains.md, "Running a service node").
	Key(KeyArgs),
}

/// `thingschain-nest key`.
#[derive(clap::Args, Debug)]
struct KeyArgs {
	/// The node's data directory, as given to `run`.
	#[arg(long)]
	base_path: PathBuf,
}

/// `thingschain-nest verify-record`.
#[derive(clap::Args, Debug)]
struct VerifyRecord {
	/// The service node's JSON-RPC URL.
	#[arg(long)]
	nest: String,
	/// WebChain's JSON-RPC URL.
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	webchain: String,
	/// The service.
	#[arg(long)]
	service: ServiceId,
	/// The device.
	#[arg(long)]
	device: DeviceId,
	/// The record's sequence.
	#[arg(long)]
	sequence: u64,
}

/// `thingschain-nest run`.
#[derive(clap::Args, Debug)]
struct Run {
	/// WebChain's JSON-RPC URL.
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	webchain: String,
	/// The service's id on WebChain.
	#[arg(long)]
	service: ServiceId,
	/// A file holding the node's account key as a secret URI (a mnemonic, a 0x seed, or a
	/// dev URI such as //Charlie): a trusted node of the service, or with --super a super node.
	#[arg(long)]
	key_file: PathBuf,
	/// Where the ledger is kept.
	#[arg(long)]
	base_path: PathBuf,
	/// Where the JSON-RPC server (HTTP and WebSocket) listens.
	#[arg(long, default_value = "127.0.0.1:9950")]
	rpc_addr: SocketAddr,
	/// Where the service node's libp2p network listens.
	#[arg(long, default_value = "/ip4/0.0.0.0/tcp/30444", conflicts_with = "super_node")]
	p2p_listen: Multiaddr,
	/// Another node of the service to connect to (a libp2p address; no peer id needed). May be
	/// given more than once.
	#[arg(long = "p2p-peer", conflicts_with = "super_node")]
	p2p_peers: Vec<Multiaddr>,
	/// Run as a super node: follow the service's log from the --rpc-peer nodes, approve the
	/// roots that match.
	#[arg(long = "super", requires = "rpc_peers")]
	super_node: bool,
	/// With --super: a service node's JSON-RPC URL (ws://) to read certified cuts and records
	/// from. May be given more than once.
	#[arg(long = "rpc-peer", requires = "super_node")]
	rpc_peers: Vec<String>,
	/// The longest signed record taken, in bytes.
	#[arg(long, default_value_t = 4_096)]
	max_record_bytes: usize,
	/// The most JSON-RPC connections open at once.
	#[arg(long, default_value_t = 2_000)]
	rpc_max_connections: usize,
	/// The most JSON-RPC connections open at once from one IP address (a gateway's devices
	/// share one).
	#[arg(long, default_value_t = 500)]
	rpc_max_connections_per_ip: usize,
	/// The longest a JSON-RPC call may take, in seconds.
	#[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
	rpc_call_timeout: u64,
	/// Where the Prometheus metrics are served (`/metrics`).
	#[arg(long, default_value = "127.0.0.1:9616")]
	prometheus_addr: SocketAddr,
	/// Serve no Prometheus metrics.
	#[arg(long)]
	no_prometheus: bool,
}

impl Run {
	/// The JSON-RPC server's limits: a call of the most records of the longest size fits
	/// (hex doubles its bytes), and so does the largest read of the ledger.
	fn rpc_limits(&self) -> Limits {
		let submit = 2 * MAX_RECORDS_PER_CALL * self.max_record_bytes + 64 * 1024;
		let read = 2 * thingschain_nest::ledger::MAX_READ_BYTES + 64 * 1024;
		Limits {
			connections: self.rpc_max_connections,
			connections_per_ip: self.rpc_max_connections_per_ip,
			request_bytes: u32::try_from(submit).unwrap_or(u32::MAX),
			response_bytes: u32::try_from(read).unwrap_or(u32::MAX),
			call_timeout: std::time::Duration::from_secs(self.rpc_call_timeout),
			first_request: std::time::Duration::from_secs(10),
		}
	}
}

fn main() -> std::process::ExitCode {
	tracing_subscriber::fmt()
		.with_writer(std::io::stderr)
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
		)
		.init();
	let cli = Cli::parse();
	// commonware's tokio runtime: the agreement's engine needs its context (its journal lives
	// in the node's data directory); everything else runs on it as on any tokio runtime.
	let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
	let mut config = commonware_runtime::tokio::Config::new().with_worker_threads(threads);
	if let Cli::Run(run) = &cli {
		config = config.with_storage_directory(run.base_path.join("agreement"));
	}
	let runner = commonware_runtime::tokio::Runner::new(config);
	let done = commonware_runtime::Runner::start(runner, |context| async move {
		match cli {
			Cli::Run(run) => serve(run, context).await,
			Cli::VerifyRecord(verify) => verify_record(verify).await,
			Cli::Key(args) => print_key(&args.base_path),
		}
	});
	match done {
		Ok(()) => std::process::ExitCode::SUCCESS,
		Err(error) => {
			eprintln!("thingschain-nest: {error}");
			std::process::ExitCode::FAILURE
		}
	}
}

/// `thingschain-nest verify-record`: prints the proven record's epoch and root as JSON.
async fn verify_record(args: VerifyRecord) -> Result<(), Box<dyn std::error::Error>> {
	let webchain = Chain::connect(&args.webchain).await?;
	let proven = prove(&args.nest, &webchain, args.service, args.device, args.sequence).await?;
	let summary = serde_json::json!({
		"service": args.service,
		"device": args.device,
		"sequence": args.sequence,
		"epoch": proven.epoch,
		"root": proven.root,
		"signedByDevice": true,
		"anchored": true,
	});
	println!("{summary}");
	Ok(())
}

/// `thingschain-nest key`: the node key's public half and the identity field that names it,
/// as JSON.
fn print_key(base_path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
	std::fs::create_dir_all(base_path)?;
	let key = NodeKey::load_or_create(&base_path.join(NODE_KEY_FILE))?;
	let field = String::from_utf8_lossy(IDENTITY_FIELD);
	let summary = serde_json::json!({
		"key": format!("0x{}", hex::encode(key.public())),
		"identityField": field,
		"peerId": key.libp2p().public().to_peer_id().to_string(),
	});
	println!("{summary}");
	Ok(())
}

/// The node key's file in the node's data directory.
const NODE_KEY_FILE: &str = "p2p.key";

/// `thingschain-nest run`.
async fn serve(
	cli: Run,
	context: commonware_runtime::tokio::Context,
) -> Result<(), Box<dyn std::error::Error>> {
	let key = read_key(&cli.key_file)?;
	let rules = Arc::new(webchain_rules(&cli).await);
	std::fs::create_dir_all(&cli.base_path)?;
	let ledger = Arc::new(Ledger::open(&cli.base_path.join("ledger.redb"))?);
	let devices = Arc::new(DeviceCache::default());
	let committer = Committer::start(ledger.clone(), rules.clone(), devices.clone())?;
	let mut essential = Essential::default();
	let stored = committer.clone();
	essential.spawn_endless("ledger writer", async move { stored.stopped().await });

	let (finalized, mut first) = tokio::sync::watch::channel(None);
	let status = first.clone();
	let follower = webchain::follow(cli.webchain.clone(), cli.service, devices.clone(), finalized);
	essential.spawn_endless("WebChain follower", follower);
	// Devices are refused until the registry is read: wait for it before serving.
	tokio::select! {
		read = first.wait_for(Option::is_some) => { read?; }
		ended = essential.ended() => return Err(ended.into()),
	}

	let (role, peers, network, replication) = if cli.super_node {
		(Role::SuperNode, Some(RpcPeers::new(cli.rpc_peers.clone())), None, None)
	} else {
		let node_key = NodeKey::load_or_create(&cli.base_path.join(NODE_KEY_FILE))?;
		let started = Network::start(p2p::Config {
			peer_key: node_key.libp2p(),
			account: key.clone(),
			listen: cli.p2p_listen.clone(),
			peers: cli.p2p_peers.clone(),
			rules: rules.clone(),
			ledger: ledger.clone(),
			committer: committer.clone(),
			finalized: first.clone(),
		})?;
		tracing::info!("libp2p peer id {}", started.peer_id);
		let task = started.task;
		essential.spawn("libp2p network", async move { task.await.map_err(|e| e.to_string()) });
		let network = started.network;
		let log = LedgerLog::new(ledger.clone(), committer.clone(), network.clone())?;
		let ordered = log.ordered();
		let parts = agreement::service::Parts {
			key: node_key,
			channels: started.agreement,
			log,
			finalized: first.clone(),
			webchain: cli.webchain.clone(),
			genesis_hash: rules.genesis_hash,

			service: cli.service,
		};
		let agreed = agreement::service::run(context, parts);
		essential.spawn("agreement", async move { agreed.await.map_err(|e| e.to_string()) });
		(Role::ServiceNode, None, Some(network), Some(ordered))
	};

	let registry = Registry::new();
	let metrics = Metrics::register(&registry)?;
	let sampled =
		metrics.clone().sample(ledger.clone(), first.clone(), network.clone(), replication.clone());
	essential.spawn_endless("metrics sampler", sampled);
	if !cli.no_prometheus {
		let endpoint = init_prometheus(cli.prometheus_addr, registry);
		essential
			.spawn("Prometheus endpoint", async move { endpoint.await.map_err(|e| e.to_string()) });
	}
	// A service node relays its locks to WebChain; a super node keeps no peg duties.
	let relayer = (role == Role::ServiceNode).then(|| {
		let webchain = cli.webchain.clone();
		Relayer::new(cli.service, key.clone(), ledger.clone(), webchain, devices.clone())
	});
	let epochs = Epochs {
		role,
		key,
		webchain: cli.webchain.clone(),
		rules,
		ledger: ledger.clone(),
		committer: committer.clone(),
		peers,
	};

	let node = NestNode::new(ledger, committer, status, network, metrics, replication);
	let server = server::bind(cli.rpc_addr, node.into_rpc(), cli.rpc_limits()).await?;
	let (address, handle) = (server.address, server.handle);
	let accepting = server.accepting;
	essential.spawn("JSON-RPC server", async move { accepting.await.map_err(|e| e.to_string()) });
	tracing::info!(
		"{role:?} of service {} serving JSON-RPC on {address}, ledger in {}",
		cli.service,
		cli.base_path.display()
	);
	// The epochs' driver and the peg's relays run here, not spawned: the device SDK's
	// transaction futures are not `Send` for every lifetime.
	let relays = async {
		match relayer {
			Some(relayer) => relayer.run(first.clone()).await,
			None => std::future::pending().await,
		}
	};
	let stopped = tokio::select! {
		() = epochs.run(first.clone()) => Err("WebChain's follower stopped".into()),
		() = relays => Err("WebChain's follower stopped".into()),
		ended = essential.ended() => Err(ended.into()),
		stopped = shutdown() => stopped.map_err(Into::into),
	};
	// Drain: no new connection; the calls in progress (writes waiting for the disk) are
	// answered, for at most a call's time.
	handle.stop()?;
	let drained = tokio::time::timeout(cli.rpc_limits().call_timeout, handle.stopped()).await;
	if drained.is_err() {
		tracing::warn!("JSON-RPC calls still in progress at shutdown were dropped");
	}
	stopped
}

/// The account key in `path`.
fn read_key(path: &std::path::Path) -> Result<Keypair, Box<dyn std::error::Error>> {
	let uri = std::fs::read_to_string(path)
		.map_err(|e| format!("the key file {}: {e}", path.display()))?;
	let uri = SecretUri::from_str(uri.trim()).map_err(|e| format!("the key file: {e}"))?;
	Ok(Keypair::from_uri(&uri).map_err(|e| format!("the key file: {e}"))?)
}

/// The records' rules, with what WebChain says (its genesis hash and readers' limit): waits
/// for WebChain to be reachable.
async fn webchain_rules(cli: &Run) -> Rules {
	let mut backoff = Backoff::default();
	loop {
		let read = async {
			let chain = Chain::connect(&cli.webchain).await?;
			let max_readers: u32 = chain.constant("Payloads", "MaxReaders").await?;
			Ok::<_, thingschain_device::Error>(Rules {
				service: cli.service,
				genesis_hash: Hash::from(chain.genesis_hash()),
				max_record_bytes: cli.max_record_bytes,
				max_readers: max_readers as usize,
			})
		};
		match read.await {
			Ok(rules) => return rules,
			Err(e) => backoff.wait(&cli.webchain, e).await,
		}
	}
}

/// Ctrl-C or SIGTERM.
async fn shutdown() -> std::io::Result<()> {
	let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
	tokio::select! {
		result = tokio::signal::ctrl_c() => result,
		_ = term.recv() => Ok(()),
	}
}
