//! `thingschain-bench-nest`: devices writing to a service NestChain at a fixed rate, measured
//! against this machine's sr25519 ceiling in the same run (see `nest_load` and
//! `scripts/bench.sh`).
//!
//! ```text
//!  ceilings     sr25519 verifications/s: one by one on one core, in batches on every core
//!  WebChain     a dev node: a service trusting N identity-verified nodes (the bench's setup),
//!               its devices registered with a reader
//!  readings     every device's records sealed and signed before the clock starts
//!  N nodes      `thingschain-nest run`, each dialing those before it over libp2p
//!  the run      gateways write to node 0; the others replicate by gossip; with
//!               --acknowledge replicated, a write counts once the agreement ordered it
//!  report       stored/s, acknowledgement latency, CPU and memory per node, replication lag
//! ```

use clap::Parser;
use codec::Encode;
use std::{
	net::{Ipv4Addr, SocketAddr},
	path::PathBuf,
	time::{Duration, Instant},
};
use thingschain_bench::{
	accounts::register_fleet,
	ceiling,
	nest::{self, trust_nodes, Authority, Host, NestProcess, NODE_ROLE},
	nest_load::{self, Acks, Samples},
	network::{free_port, poll, Node},
	report::{percentiles, Table},
};
use thingschain_device::{nest::Acknowledge, Chain};
use thingschain_primitives::ids::Hash;

/// Devices write signed, sealed readings to a service's nodes on 127.0.0.1.
#[derive(Parser, Debug)]
struct Args {
	/// The WebChain node binary.
	#[arg(long, default_value = "thingschain")]
	node: PathBuf,
	/// The service node binary.
	#[arg(long, default_value = "thingschain-nest")]
	nest: PathBuf,
	/// Service nodes: the devices write to the first; the others replicate.
	#[arg(long, default_value_t = 1)]
	nodes: usize,
	/// Records offered per second, in all.
	#[arg(long, default_value_t = 20_000.0)]
	rate: f64,
	/// Seconds of writing.
	#[arg(long, default_value_t = 30)]
	duration: u64,
	/// When a write counts as acknowledged: `stored` on node 0's disk, or `replicated` by
	/// the service's agreement.
	#[arg(long, default_value = "stored", value_parser = ["stored", "replicated"])]
	acknowledge: String,
	/// Devices writing; each writes every `devices / rate` seconds.
	#[arg(long, default_value_t = 2_000)]
	devices: usize,
	/// Connections the devices' records go over (gateways).
	#[arg(long, default_value_t = 4)]
	gateways: usize,
	/// Blocks per epoch of the service: epochs close (cut, tree, root) during the run.
	#[arg(long, default_value_t = 15)]
	epoch: u32,
	/// Seconds the other nodes have, after the last acknowledgement, to hold every record.
	#[arg(long, default_value_t = 120)]
	catch_up: u64,
	/// Keep the nodes' data and logs in this folder (by default a temporary one, removed).
	#[arg(long)]
	keep: Option<PathBuf>,
	/// Add the result to this Markdown file (between `<!-- nest-bench:begin -->` and
	/// `<!-- nest-bench:end -->`).
	#[arg(long)]
	report: Option<PathBuf>,
}

/// The results table's header.
const HEADER: &str = "| nodes | offered/s × s | devices | stored | stored/s | refused | ack p50/p95/p99/max (ms) | node 0: CPU (cores), RSS max (MiB) | other nodes: lag p50/p99/max (ms), level after the load (s) | other nodes: CPU (cores), RSS max (MiB) | harness CPU (cores) | sr25519 ceiling: 1 core, batched on all (/s) | record (bytes) |\n\
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |";

fn say(message: impl std::fmt::Display) {
	eprintln!("[bench-nest] {message}");
}

#[tokio::main]
async fn main() {
	let args = Args::parse();
	let dir = args.keep.clone().unwrap_or_else(|| {
		std::env::temp_dir().join(format!("thingschain-bench-nest-{}", std::process::id()))
	});
	let result = run(&args, &dir).await;
	if args.keep.is_none() {
		let _ = std::fs::remove_dir_all(&dir);
	}
	match result {
		Ok(result) => {
			print!("{}", result.text());
			if let Some(path) = &args.report {
				let same_kind =
					format!("| {} | {} × {} |", result.nodes_cell(), args.rate, args.duration);
				let table = Table { marker: "nest-bench", header: HEADER };
				if let Err(e) = table.add(path, &result.markdown_row(), &same_kind) {
					eprintln!("error: writing {}: {e}", path.display());
					std::process::exit(1);
				}
			}
		}
		Err(e) => {
			eprintln!("error: {e}");
			std::process::exit(1);
		}
	}
}

/// A run's numbers.
struct Outcome {
	nodes: usize,
	acknowledge: Acknowledge,
	rate: f64,
	duration: u64,
	devices: usize,
	acks: Acks,
	samples: Samples,
	/// sr25519 verifications/s, one by one on one core, and batched on every core.
	ceiling: (f64, f64),
	/// One signed record's SCALE size.
	record_bytes: usize,
}

async fn run(args: &Args, dir: &std::path::Path) -> Result<Outcome, String> {
	std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
	say("sr25519 ceilings, before anything else runs");
	let ceiling = (
		ceiling::sr25519_verifications_per_second(Duration::from_secs(2)),
		ceiling::sr25519_batch_verifications_per_second(Duration::from_secs(2)),
	);

	say(format!("a dev WebChain ({})", args.node.display()));
	let webchain = Node::start(&args.node, "webchain", dir, &["--dev", "--tmp"]);
	webchain.rpc().await;
	let chain = Chain::connect(&webchain.url()).await.map_err(|e| e.to_string())?;
	let signing = chain.device_signing().await.map_err(|e| e.to_string())?;
	let mut rules = nest::Rules::read(chain.client()).await?;
	rules.min_epoch = rules.min_epoch.max(args.epoch);
	say(format!("a service trusting {} identity-verified nodes", args.nodes));
	let trusted = trust_nodes(&chain, &signing, Authority::Sudo, rules, args.nodes, 1)
		.await
		.map_err(|e| e.to_string())?;
	let service = trusted.services[0];
	say(format!("{} devices of the service", args.devices));
	let fleet =
		register_fleet(&chain, args.devices, Some(service)).await.map_err(|e| e.to_string())?;
	let registered = chain.best_number().await.map_err(|e| e.to_string())?;

	let per_device = (args.rate * args.duration as f64 / args.devices as f64).ceil() as u64;
	say(format!("sealing and signing {per_device} readings of each device"));
	let genesis = Hash::from(chain.genesis_hash());
	let records = nest_load::readings(&fleet, genesis, service, per_device)?;
	let record_bytes = records[0][0].encoded_size();

	let ports: Vec<[u16; 2]> = (0..args.nodes).map(|_| [free_port(), free_port()]).collect();
	let url = webchain.url();
	let mut nodes: Vec<Node> = (0..args.nodes)
		.map(|i| {
			let name = format!("nest-{i}");
			let peers: Vec<SocketAddr> =
				ports[..i].iter().map(|[_, p2p]| (Ipv4Addr::LOCALHOST, *p2p).into()).collect();
			NestProcess {
				binary: &args.nest,
				dir,
				name: &name,
				webchain: &url,
				service,
				key: (NODE_ROLE, i),
				host: Host::LOCAL,
				ports: ports[i],

				peers: &peers,
			}
			.start()
		})
		.collect();
	let mut rpcs = Vec::new();
	for node in &nodes {
		rpcs.push(node.rpc().await);
	}
	say("waiting for the nodes to read the devices and trust each other");
	for (node, rpc) in nodes.iter().zip(&rpcs) {
		let ready = poll(Duration::from_secs(120), || async {
			let status: serde_json::Value =
				rpc.request("nestnode_status", subxt::rpcs::rpc_params![]).await.ok()?;
			let read = status["webchainBlock"].as_u64().is_some_and(|b| b >= registered);
			let peers = status["trustedPeers"].as_u64() == Some(args.nodes as u64 - 1);
			(read && peers).then_some(())
		})
		.await;
		ready.ok_or_else(|| format!("{} never got ready:\n{}", node.name, node.tail(30)))?;
	}

	say(format!("{} records/s for {} s to {}", args.rate, args.duration, nodes[0].name));
	let mut pids = Vec::new();
	for node in &nodes {
		pids.push(node.pid().ok_or_else(|| format!("{} is not running", node.name))?);
	}
	pids.push(std::process::id());
	let start = Instant::now();
	let (done, watch) = tokio::sync::watch::channel(false);
	let catch_up = Duration::from_secs(args.catch_up);
	let sampling = {
		let rpcs = rpcs.clone();
		tokio::spawn(async move { Samples::take(&pids, &rpcs, start, watch, catch_up).await })
	};
	let acknowledge = args.acknowledge();
	let url = nodes[0].url();
	let driven =
		nest_load::drive(&url, args.gateways, records, args.rate, start, acknowledge).await;
	let _ = done.send(true);
	let samples = sampling.await.map_err(|e| e.to_string())?;
	for node in &mut nodes {
		if !node.is_running() {
			return Err(format!("{} stopped:\n{}", node.name, node.tail(30)));
		}
		node.kill();
	}
	Ok(Outcome {
		nodes: args.nodes,
		acknowledge,
		rate: args.rate,
		duration: args.duration,
		devices: args.devices,
		acks: driven?,
		samples,
		ceiling,
		record_bytes,
	})
}

impl Args {
	/// The acknowledgement level asked for.
	fn acknowledge(&self) -> Acknowledge {
		match self.acknowledge.as_str() {
			"replicated" => Acknowledge::Replicated,
			_ => Acknowledge::Stored,
		}
	}
}

/// Milliseconds, rounded.
fn ms(d: Duration) -> u128 {
	d.as_millis()
}

impl Outcome {
	/// The nodes cell: how many, and `replicated` if writes waited for that.
	fn nodes_cell(&self) -> String {
		match self.acknowledge {
			Acknowledge::Replicated => format!("{}, replicated", self.nodes),
			Acknowledge::Stored => self.nodes.to_string(),
		}
	}

	/// Stored records per second, from the start to the last acknowledgement.
	fn stored_per_second(&self) -> f64 {
		let elapsed = self.acks.stored_at.last().copied().unwrap_or_default();
		self.acks.stored_at.len() as f64 / elapsed.as_secs_f64().max(1e-9)
	}

	/// Acknowledgement latency: p50, p95, p99 and max.
	fn latency(&self) -> [Duration; 4] {
		let [p50, p95, p99] = percentiles(self.acks.latencies.clone());
		[p50, p95, p99, self.acks.latencies.iter().max().copied().unwrap_or_default()]
	}

	/// The other nodes' lag (p50, p99, max over every sample) and how long after the last
	/// acknowledgement the last of them held every record (`None`: one never did).
	fn replication(&self) -> Option<([Duration; 3], Option<Duration>)> {
		if self.nodes < 2 {
			return None;
		}
		let mut lags = Vec::new();
		let mut level = Some(Duration::ZERO);
		let last_ack = self.acks.stored_at.last().copied().unwrap_or_default();
		for node in 1..self.nodes {
			lags.extend(self.samples.lag(node, &self.acks.stored_at));
			level = match (level, self.samples.caught_up(node)) {
				(Some(l), Some(at)) => Some(l.max(at.saturating_sub(last_ack))),
				_ => None,
			};
		}
		let max = lags.iter().max().copied().unwrap_or_default();
		let [p50, _, p99] = percentiles(lags);
		Some(([p50, p99, max], level))
	}

	/// Mean CPU and largest RSS (MiB) of the other nodes, at most.
	fn others(&self) -> (f64, u64) {
		(1..self.nodes)
			.map(|n| self.samples.process(n))
			.fold((0.0, 0), |(c, r), (cores, rss)| (c.max(cores), r.max(rss >> 20)))
	}

	fn refused(&self) -> String {
		let mut out = self.acks.refused_count().to_string();
		for (code, (count, message)) in &self.acks.refused {
			out.push_str(&format!(" ({count} × {code}: {message})"));
		}
		if self.acks.duplicates > 0 {
			out.push_str(&format!(", {} duplicates", self.acks.duplicates));
		}
		if self.acks.unreplicated > 0 {
			out.push_str(&format!(
				", {} only stored (not replicated in 20 s)",
				self.acks.unreplicated
			));
		}
		out
	}

	/// The run's figures, formatted once for the text and the table.
	fn cells(&self) -> Cells {
		let [p50, p95, p99, max] = self.latency();
		let (cores, rss) = self.samples.process(0);
		let replication = self.replication().map(|([l50, l99, lmax], level)| {
			let level = level.map_or("not level".into(), |l| format!("{:.1}", l.as_secs_f64()));
			let (cores, rss) = self.others();
			(format!("{}/{}/{}, {level}", ms(l50), ms(l99), ms(lmax)), format!("{cores:.2}, {rss}"))
		});
		Cells {
			run: format!("{} × {}", self.rate, self.duration),
			stored: self.acks.stored_at.len(),
			per_second: format!("{:.0}", self.stored_per_second()),
			refused: self.refused(),
			latency: [p50, p95, p99, max].map(ms),
			node_0: format!("{cores:.2}, {}", rss >> 20),
			replication,
			harness: format!("{:.2}", self.samples.process(self.nodes).0),
			ceiling: format!("{:.0}, {:.0}", self.ceiling.0, self.ceiling.1),
		}
	}

	fn text(&self) -> String {
		let c = self.cells();
		let [p50, p95, p99, max] = c.latency;
		let mut out = format!(
			"nest: {} node(s), records/s × s offered: {}, by {} devices ({} bytes each)\n\
			 stored: {} ({}/s); refused: {}\n\
			 acknowledgement p50/p95/p99/max: {p50}/{p95}/{p99}/{max} ms\n\
			 node 0: CPU (cores), RSS max (MiB): {}; harness: {} cores\n",
			self.nodes,
			c.run,
			self.devices,
			self.record_bytes,
			c.stored,
			c.per_second,
			c.refused,
			c.node_0,
			c.harness,
		);
		if let Some((lag, others)) = &c.replication {
			out.push_str(&format!(
				"other nodes: lag p50/p99/max (ms), level after the load (s): {lag}; CPU, RSS max: {others}\n"
			));
		}
		out.push_str(&format!(
			"sr25519 ceiling, one core and batched on all (/s): {}\n",
			c.ceiling
		));
		out
	}

	fn markdown_row(&self) -> String {
		let c = self.cells();
		let [p50, p95, p99, max] = c.latency;
		let (lag, others) = c.replication.unwrap_or(("–".into(), "–".into()));
		format!(
			"| {} | {} | {} | {} | **{}** | {} | {p50}/{p95}/**{p99}**/{max} | {} | {lag} | {others} | {} | {} | {} |",
			self.nodes_cell(), c.run, self.devices, c.stored, c.per_second, c.refused, c.node_0,
			c.harness, c.ceiling, self.record_bytes,
		)
	}
}

/// A run's figures as they are printed.
struct Cells {
	/// Offered rate × seconds.
	run: String,
	stored: usize,
	per_second: String,
	refused: String,
	/// Acknowledgement p50, p95, p99, max (ms).
	latency: [u128; 4],
	/// Node 0's CPU and RSS.
	node_0: String,
	/// The other nodes' lag and their CPU and RSS, with more than one node.
	replication: Option<(String, String)>,
	harness: String,
	ceiling: String,
}
