//! `thingschain-nest`: a service node, or with `--super` a super node, of one NestChain
//! service. See the crate's documentation and docs/nestchains.md.

use clap::Parser;
use libp2p::Multiaddr;
use std::{net::SocketAddr, path::PathBuf, str::FromStr, sync::Arc};
use subxt_signer::{sr25519::Keypair, SecretUri};
use thingschain_device::Chain;
use thingschain_nest::{
	committer::Committer,
	devices::DeviceCache,
	epochs::{Epochs, Role},
	ledger::Ledger,
	p2p::{self, Network},
	peers::{Peers, RpcPeers},
	peg::Relayer,
	prove::prove,
	rpc::{NestNode, NestNodeApiServer},
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
	/// With --super: a service node's JSON-RPC URL (ws://) to read cuts and records from. May
	/// be given more than once.
	#[arg(long = "rpc-peer", requires = "super_node")]
	rpc_peers: Vec<String>,
	/// The longest signed record taken, in bytes.
	#[arg(long, default_value_t = 4_096)]
	max_record_bytes: usize,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
	tracing_subscriber::fmt()
		.with_writer(std::io::stderr)
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
		)
		.init();
	let done = match Cli::parse() {
		Cli::Run(run) => serve(run).await,
		Cli::VerifyRecord(verify) => verify_record(verify).await,
	};
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

/// `thingschain-nest run`.
async fn serve(cli: Run) -> Result<(), Box<dyn std::error::Error>> {
	let key = read_key(&cli.key_file)?;
	let rules = Arc::new(webchain_rules(&cli).await);
	std::fs::create_dir_all(&cli.base_path)?;
	let ledger = Arc::new(Ledger::open(&cli.base_path.join("ledger.redb"))?);
	let devices = Arc::new(DeviceCache::default());
	let committer = Committer::start(ledger.clone(), rules.clone(), devices.clone())?;

	let (finalized, mut first) = tokio::sync::watch::channel(None);
	let status = first.clone();
	tokio::spawn(webchain::follow(cli.webchain.clone(), cli.service, devices.clone(), finalized));
	// Devices are refused until the registry is read: wait for it before serving.
	first.wait_for(Option::is_some).await?;

	let (role, peers, network) = if cli.super_node {
		(Role::SuperNode, Peers::Rpc(RpcPeers::new(cli.rpc_peers.clone())), None)
	} else {
		let (network, peer_id) = Network::start(p2p::Config {
			peer_key: p2p::peer_key(&cli.base_path.join("p2p.key"))?,
			account: key.clone(),
			listen: cli.p2p_listen.clone(),
			peers: cli.p2p_peers.clone(),
			rules: rules.clone(),
			ledger: ledger.clone(),
			committer: committer.clone(),
			finalized: first.clone(),
		})?;
		tracing::info!("libp2p peer id {peer_id}");
		(Role::ServiceNode, Peers::Network(network.clone()), Some(network))
	};
	// A service node relays its locks to WebChain; a super node keeps no peg duties.
	let relayer = (role == Role::ServiceNode)
		.then(|| Relayer::new(cli.service, key.clone(), ledger.clone(), cli.webchain.clone()));
	let epochs = Epochs {
		role,
		key,
		webchain: cli.webchain.clone(),
		rules,
		ledger: ledger.clone(),
		committer: committer.clone(),
		peers,
	};

	let node = NestNode::new(ledger, committer, status, network);
	let server = jsonrpsee::server::Server::builder().build(cli.rpc_addr).await?;
	let address = server.local_addr()?;
	let handle = server.start(node.into_rpc());
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
		stopped = shutdown() => stopped.map_err(Into::into),
	};
	handle.stop()?;
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
