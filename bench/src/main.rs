//! `thingschain-bench`: runs a workload against real nodes on this machine and reports
//! throughput, latency, block fullness and the node's resources (see the crate docs and
//! `scripts/bench.sh`).

use clap::Parser;
use std::{
	collections::HashMap,
	path::PathBuf,
	sync::{atomic::Ordering, Arc},
	time::{Duration, Instant},
};
use subxt::rpcs::RpcClient;
use thingschain_bench::{
	accounts, ceiling,
	graph::GraphStats,
	latency::{self, Relay},
	nest,
	network::{self, Node},
	observe::{self, Limits, Progress},
	report::{self, RunSpec, Summary},
	submit::{self, Submissions},
	workload::{self, Transaction, Workload},
};
use thingschain_device::{Chain, Error};

/// The networks the harness starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Network {
	/// One `--dev` node.
	Dev,
	/// The four delegates of the `local` chain, all on this machine.
	Local,
}

impl Network {
	fn name(self) -> &'static str {
		match self {
			Network::Dev => "dev",
			Network::Local => "local",
		}
	}
}

/// Runs a workload against a dev node or the 4-delegate local network on 127.0.0.1.
#[derive(Parser, Debug)]
struct Args {
	/// The node binary.
	#[arg(long, default_value = "thingschain")]
	node: PathBuf,
	/// The network to start.
	#[arg(long, value_enum, default_value = "dev")]
	network: Network,
	/// Milliseconds the local network's delegates receive each other's traffic late (each
	/// reachable only through a relay that delays it): latency as across a real network, which
	/// a short slot turns into forks.
	#[arg(long, default_value_t = 0)]
	delay: u64,
	#[arg(long, value_enum, default_value = "transfer")]
	workload: Workload,
	/// Transactions offered per second.
	#[arg(long, default_value_t = 1_000.0)]
	rate: f64,
	/// Seconds of submission.
	#[arg(long, default_value_t = 60)]
	duration: u64,
	/// Calls per transaction: above 1, each transfer transaction is a `Utility.batch_all` of
	/// that many transfers and each record transaction a `Payloads.store_batch` of that many
	/// records (reported as workload `transfer-batch<N>`; writes/s = included/s × N).
	#[arg(long, default_value_t = 1)]
	batch: usize,
	/// Accounts (or devices) signing; each signs `rate × duration / signers` transactions.
	#[arg(long, default_value_t = 1_024)]
	signers: usize,
	/// RPC connections to submit over (spread over the network's nodes).
	#[arg(long, default_value_t = 8)]
	connections: usize,
	/// Seconds to wait after the last submission for inclusion and finality.
	#[arg(long, default_value_t = 60)]
	drain: u64,
	/// Extra arguments for every node (e.g. `--pool-limit=100000`).
	#[arg(long = "node-arg", allow_hyphen_values = true)]
	node_args: Vec<String>,
	/// Keep the nodes' databases and logs in this folder (by default a temporary one, removed
	/// at the end).
	#[arg(long)]
	keep: Option<PathBuf>,
	/// Add the result to this Markdown file (between `<!-- bench:begin -->` and
	/// `<!-- bench:end -->`) and write its plot beside it.
	#[arg(long)]
	report: Option<PathBuf>,
}

#[tokio::main]
async fn main() {
	let args = Args::parse();
	match run(&args).await {
		Ok(summary) => {
			print!("{}", summary.text());
			if let Some(path) = &args.report {
				if let Err(e) = write_report(path, &summary) {
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

fn say(message: impl std::fmt::Display) {
	eprintln!("[bench] {message}");
}

async fn run(args: &Args) -> Result<Summary, String> {
	let dir = args.keep.clone().unwrap_or_else(|| {
		std::env::temp_dir().join(format!("thingschain-bench-{}", std::process::id()))
	});
	std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
	let remove_dir = || {
		if args.keep.is_none() {
			let _ = std::fs::remove_dir_all(&dir);
		}
	};
	let extra: Vec<&str> = args.node_args.iter().map(String::as_str).collect();
	let (mut nodes, relays) = start(args, &dir, &extra).await.inspect_err(|_| remove_dir())?;
	let result = drive(args, &nodes).await;
	let graph = match &result {
		Ok(_) => GraphStats::read(&nodes).await.unwrap_or_else(|e| {
			say(format!("could not read the block graph: {e}"));
			GraphStats::default()
		}),
		Err(_) => GraphStats::default(),
	};
	let log = nodes[0].log();
	for node in &mut nodes {
		node.kill();
	}
	drop(relays);
	let Outcome { transactions, submissions, observations, limits } =
		result.inspect_err(|_| remove_dir())?;
	say("measuring this machine's ceilings");
	let imported = match (args.network, run_blocks(&observations)) {
		(Network::Dev, Some((from, to))) => {
			ceiling::import_blocks(&args.node, &dir.join("dev"), from, to).unwrap_or_else(|e| {
				say(format!("could not re-execute the run's blocks: {e}"));
				Vec::new()
			})
		}
		_ => Vec::new(),
	};
	remove_dir();
	let ceilings = report::Ceilings {
		verifications_per_core: ceiling::sr25519_verifications_per_second(Duration::from_secs(2)),
		built: ceiling::largest(&ceiling::built_blocks(&log)),
		imported,
	};
	let network = match args.delay {
		0 => args.network.name().to_string(),
		delay => format!("{}+{delay}ms", args.network.name()),
	};
	let spec = RunSpec {
		workload: args.workload.name(args.batch),
		network,
		rate: args.rate,
		duration: args.duration,
	};
	Ok(report::summarise(spec, transactions, &submissions, &observations, limits, ceilings, graph))
}

/// The first and last block that carried the run's transactions.
fn run_blocks(observations: &observe::Observations) -> Option<(u64, u64)> {
	let numbers = observations.blocks.values().filter(|b| b.ours > 0).map(|b| b.number);
	let (from, to) = numbers.fold((u64::MAX, 0), |(lo, hi), n| (lo.min(n), hi.max(n)));
	(from <= to).then_some((from, to))
}

/// Starts the network `args` names, every node with `extra` arguments, and the relays that
/// delay the local network's traffic (`--delay`).
async fn start(
	args: &Args,
	dir: &std::path::Path,
	extra: &[&str],
) -> Result<(Vec<Node>, Vec<Relay>), String> {
	say(format!("starting the {} network ({})", args.network.name(), args.node.display()));
	const DELEGATES: [&str; 4] = ["alice", "bob", "charlie", "dave"];
	match (args.network, args.delay) {
		(Network::Dev, 0) => {
			let base = dir.join("dev").display().to_string();
			let mut node_args = vec!["--dev", "--base-path", &base];
			node_args.extend(extra);
			Ok((vec![Node::start(&args.node, "dev", dir, &node_args)], Vec::new()))
		}
		(Network::Dev, _) => {
			Err("--delay is for the local network: a dev node has no peers".into())
		}
		(Network::Local, 0) => {
			Ok((network::start_network(&args.node, dir, "local", &DELEGATES, extra), Vec::new()))
		}
		(Network::Local, delay) => {
			say(format!("every delegate's traffic {delay} ms late"));
			let delay = Duration::from_millis(delay);
			let network =
				latency::start_network(&args.node, dir, "local", &DELEGATES, extra, delay)
					.await
					.map_err(|e| format!("starting the relays: {e}"))?;
			Ok((network.nodes, network.relays))
		}
	}
}

/// What a run produced, before it is summarised.
struct Outcome {
	/// Transactions signed and offered.
	transactions: usize,
	submissions: Arc<Submissions>,
	observations: observe::Observations,
	limits: Limits,
}

/// Sets up accounts, signs the workload, submits it while observing, and waits for it to be
/// included and finalized.
async fn drive(args: &Args, nodes: &[Node]) -> Result<Outcome, String> {
	let error = |e: Error| e.to_string();
	let client = nodes[0].client().await;
	let rpc = nodes[0].rpc().await;
	network::poll(Duration::from_secs(120), || async {
		network::finalized_number(&rpc).await.filter(|n| *n >= 1)
	})
	.await
	.ok_or("the network finalized no block within two minutes")?;
	let chain = Chain::connect(&nodes[0].url()).await.map_err(error)?;
	let limits = Limits::read(&client).await?;

	let total = (args.rate * args.duration as f64).ceil() as usize;
	let Prepared { transactions, anchors } = prepare(args, &chain, &client, total).await?;
	let ids: HashMap<[u8; 32], usize> =
		transactions.iter().enumerate().map(|(id, t)| (t.hash, id)).collect();
	let submissions = Arc::new(Submissions::new(transactions.len()));
	let progress = Arc::new(Progress::default());

	let mut clients = Vec::new();
	for i in 0..args.connections.max(1) {
		let url = nodes[i % nodes.len()].url();
		clients.push(RpcClient::from_insecure_url(&url).await.map_err(|e| e.to_string())?);
	}
	let floor = network::best_number(&rpc).await.ok_or("no best block")?;
	say(format!(
		"submitting {} transactions at {}/s over {} connections",
		transactions.len(),
		args.rate,
		clients.len()
	));
	let start = Instant::now();
	let observer = {
		let (rpc, progress, pid) = (rpc.clone(), progress.clone(), nodes[0].pid());
		tokio::spawn(async move {
			let context = observe::Context { ids: &ids, floor, start };
			observe::observe(&rpc, &context, pid, &progress).await
		})
	};
	let reporter = tokio::spawn(report_progress(progress.clone(), submissions.clone(), start));
	submit::submit(&clients, &transactions, args.rate, start, &submissions).await;
	let accepted = || submissions.accepted.load(Ordering::Relaxed);
	say(format!(
		"all sent after {:.1} s; waiting for inclusion and finality",
		start.elapsed().as_secs_f64()
	));
	network::poll(Duration::from_secs(args.drain), || async {
		(progress.finalized.load(Ordering::Relaxed) >= accepted()).then_some(())
	})
	.await;
	progress.stop.store(true, Ordering::Relaxed);
	reporter.abort();
	// The observer wakes at least every 250 ms to see the stop.
	let observations = observer.await.map_err(|e| e.to_string())??;
	let missing: Vec<(usize, u64)> = (0..transactions.len())
		.filter(|id| !observations.included_in.contains_key(id))
		.take(8)
		.map(|id| (transactions[id].signer, transactions[id].nonce))
		.collect();
	if !missing.is_empty() {
		say(format!("not included, for example (signer, nonce): {missing:?}"));
	}
	if anchors > 0 {
		let anchored = nest::anchored(&client).await?;
		say(format!("{anchored} of {anchors} services anchored"));
		// With every attestation and approval included, a missing anchor is one that failed.
		if anchored != anchors && missing.is_empty() {
			return Err(format!(
				"all included, but only {anchored} of {anchors} services anchored"
			));
		}
	}
	Ok(Outcome { transactions: transactions.len(), submissions, observations, limits })
}

/// The signed transactions of a run.
struct Prepared {
	/// In submission order.
	transactions: Vec<Transaction>,
	/// Services the run's attestations and approvals anchor.
	anchors: usize,
}

/// Funds or registers the signers and signs `total` transactions of the workload.
async fn prepare(
	args: &Args,
	chain: &Chain,
	client: &subxt::OnlineClient<subxt::PolkadotConfig>,
	total: usize,
) -> Result<Prepared, String> {
	let error = |e: Error| e.to_string();
	let signers = args.signers.max(1);
	let third = total / 3;
	let (transfers, records, attestations) = match args.workload {
		Workload::Transfer => (total, 0, 0),
		Workload::Record => (0, total, 0),
		Workload::Attest => (0, 0, total),
		Workload::Mix => (third, total - 2 * third, third),
	};
	let per_signer = |count: usize| count.div_ceil(signers) as u64;
	let mut signing = chain.device_signing().await.map_err(error)?;
	// Long enough for the signing, the run and its backlog; the runtime keeps 1,200 block hashes.
	signing.context.mortality = 1_024;
	let mut sets = Vec::new();
	if transfers > 0 {
		say(format!("funding {signers} senders"));
		let senders =
			accounts::fund_senders(chain, signers, 100 * accounts::TIC).await.map_err(error)?;
		say(format!("signing {transfers} transfers"));
		sets.push(
			workload::transfers(&signing, &senders, per_signer(transfers), args.batch, 0)
				.map_err(error)?,
		);
	}
	if records > 0 {
		say(format!("registering {signers} devices owned by Bob"));
		let fleet = accounts::register_fleet(chain, signers, None).await.map_err(error)?;
		say(format!("sealing and signing {records} records"));
		sets.push(
			workload::records(&signing, &fleet, per_signer(records), args.batch, signers)
				.map_err(error)?,
		);
	}
	let mut anchors = 0;
	if attestations > 0 {
		let rules = nest::Rules::read(client).await?;
		// Every node but the first attests in the run, and the super node approves: as many
		// transactions per service as it has nodes.
		let nodes = signers.clamp(2, rules.max_nodes);
		anchors = (attestations / nodes).max(1);
		say(format!("setting up {anchors} services of {nodes} identity-verified nodes"));
		let nest = nest::set_up(chain, &signing, nest::Authority::Sudo, rules, nodes, anchors)
			.await
			.map_err(error)?;
		say(format!("signing {} attestations and approvals", anchors * nodes));
		sets.push(workload::attestations(&signing, &nest, 2 * signers).map_err(error)?);
	}
	let mut sets = sets.into_iter();
	let first = sets.next().unwrap_or_default();
	let mut transactions = sets.fold(first, workload::interleave);
	// Cuts only the tail of the longest set: never an attestation, whose count is rounded down.
	transactions.truncate(total);
	Ok(Prepared { transactions, anchors })
}

/// Prints a progress line every second.
async fn report_progress(progress: Arc<Progress>, submissions: Arc<Submissions>, start: Instant) {
	let mut tick = tokio::time::interval(Duration::from_secs(1));
	loop {
		tick.tick().await;
		say(format!(
			"{:>4} s: accepted {}, refused {}, included {}, finalized {}, best #{}, lag {} ms",
			start.elapsed().as_secs(),
			submissions.accepted.load(Ordering::Relaxed),
			submissions.refused_count(),
			progress.included.load(Ordering::Relaxed),
			progress.finalized.load(Ordering::Relaxed),
			progress.best.load(Ordering::Relaxed),
			submissions.lag_micros.load(Ordering::Relaxed) / 1_000,
		));
	}
}

/// Adds `summary` to the report at `path` and writes its plot beside it.
fn write_report(path: &std::path::Path, summary: &Summary) -> std::io::Result<()> {
	let plot = path.with_file_name(format!(
		"performance-{}-{}.svg",
		summary.spec.workload, summary.spec.network
	));
	std::fs::write(&plot, summary.svg())?;
	let spec = &summary.spec;
	let same_kind =
		format!("| {} | {} | {} × {} |", spec.workload, spec.network, spec.rate, spec.duration);
	let table = report::Table { marker: "bench", header: Summary::markdown_header() };
	table.add(path, &summary.markdown_row(), &same_kind)
}
