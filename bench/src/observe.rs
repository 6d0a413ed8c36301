//! Follows a node's best and finalized blocks while a run goes on: when each of the run's
//! transactions was first seen in a best block and when that block was finalized, how full
//! each block was, and the node's CPU and memory.

use codec::Decode;
use serde_json::Value as Json;
use std::{
	collections::HashMap,
	sync::atomic::{AtomicBool, AtomicUsize, Ordering},
	time::{Duration, Instant},
};
use subxt::{
	dynamic::At,
	ext::scale_value,
	rpcs::{rpc_params, RpcClient},
	OnlineClient, PolkadotConfig,
};

/// One block of the best chain, as the observer saw it.
#[derive(Clone, Debug)]
pub struct Block {
	pub number: u64,
	pub hash: String,
	parent: String,
	/// When it was first seen as (part of) the best chain, since the start.
	pub seen: Duration,
	/// When it was seen finalized, since the start.
	pub finalized: Option<Duration>,
	/// Its extrinsics, inherents included.
	pub extrinsics: usize,
	/// The run's transactions in it.
	pub ours: usize,
	/// Its extrinsics' bytes.
	pub length: usize,
	/// The weight (ref time, picoseconds) its extrinsics and hooks used.
	pub ref_time: u64,
}

/// A sample of the node process.
#[derive(Clone, Copy, Debug)]
pub struct ProcessSample {
	/// Since the start.
	pub at: Duration,
	/// CPU used since the previous sample, in cores (2.0: both cores busy).
	pub cores: f64,
	/// Resident memory, bytes.
	pub rss: u64,
}

/// The chain's limits a block is measured against.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
	/// Most ref time a block may use (`System.BlockWeights.max_block`).
	pub max_ref_time: u64,
	/// Most bytes of normal transactions in a block (`System.BlockLength.max.normal`).
	pub max_normal_length: u64,
}

impl Limits {
	/// Reads the limits from the chain's metadata constants.
	pub async fn read(client: &OnlineClient<PolkadotConfig>) -> Result<Self, String> {
		let at = client.at_current_block().await.map_err(|e| e.to_string())?;
		let metadata = at.metadata_ref();
		let weights = constant(metadata, "System", "BlockWeights")?;
		let length = constant(metadata, "System", "BlockLength")?;
		Ok(Limits {
			max_ref_time: weights
				.at("max_block")
				.at("ref_time")
				.and_then(|v| v.as_u128())
				.ok_or("System.BlockWeights has no max_block.ref_time")? as u64,
			max_normal_length: length
				.at("max")
				.at("normal")
				.and_then(|v| v.as_u128())
				.ok_or("System.BlockLength has no max.normal")? as u64,
		})
	}
}

/// The runtime constant `pallet.name`, decoded with its type from `metadata`.
pub fn constant(
	metadata: &subxt::Metadata,
	pallet: &str,
	name: &str,
) -> Result<scale_value::Value<()>, String> {
	let constant = metadata
		.pallet_by_name(pallet)
		.and_then(|p| p.constant_by_name(name))
		.ok_or(format!("no {pallet}.{name}"))?;
	scale_value::scale::decode_as_type(&mut constant.value(), constant.ty(), metadata.types())
		.map(|v| v.remove_context())
		.map_err(|e| format!("{pallet}.{name}: {e}"))
}

/// What the observer recorded.
#[derive(Default)]
pub struct Observations {
	/// Every block seen, by hash.
	pub blocks: HashMap<String, Block>,
	/// The block each of the run's transactions was first seen in, by transaction id.
	pub included_in: HashMap<usize, String>,
	/// Samples of the node process, once a second.
	pub process: Vec<ProcessSample>,
}

/// Counters the progress line reads while the observer runs.
#[derive(Default)]
pub struct Progress {
	pub included: AtomicUsize,
	pub finalized: AtomicUsize,
	pub best: AtomicUsize,
	/// Set to stop the observer.
	pub stop: AtomicBool,
}

/// What the observer matches blocks against.
pub struct Context<'a> {
	/// The run's transactions: hash → id.
	pub ids: &'a HashMap<[u8; 32], usize>,
	/// The best block before the run; older blocks are not recorded.
	pub floor: u64,
	/// The run's start.
	pub start: Instant,
}

/// Follows `rpc`'s node until `progress.stop` is set, and samples process `pid`.
pub async fn observe(
	rpc: &RpcClient,
	context: &Context<'_>,
	pid: Option<u32>,
	progress: &Progress,
) -> Result<Observations, String> {
	let mut best = rpc
		.subscribe::<Json>("chain_subscribeNewHeads", rpc_params![], "chain_unsubscribeNewHeads")
		.await
		.map_err(|e| e.to_string())?;
	let mut finalized = rpc
		.subscribe::<Json>(
			"chain_subscribeFinalizedHeads",
			rpc_params![],
			"chain_unsubscribeFinalizedHeads",
		)
		.await
		.map_err(|e| e.to_string())?;
	let mut observations = Observations::default();
	let mut sampler = pid.map(CpuSampler::new);
	let mut tick = tokio::time::interval(Duration::from_millis(250));
	let mut last_sample = Instant::now();

	while !progress.stop.load(Ordering::Relaxed) {
		tokio::select! {
			Some(header) = best.next() => {
				let hash = header_hash(&header.map_err(|e| e.to_string())?)?;
				follow(rpc, &hash, context, &mut observations, progress).await?;
			}
			Some(header) = finalized.next() => {
				let hash = header_hash(&header.map_err(|e| e.to_string())?)?;
				follow(rpc, &hash, context, &mut observations, progress).await?;
				let now = context.start.elapsed();
				let mut cursor = hash;
				while let Some(block) = observations.blocks.get_mut(&cursor) {
					if block.finalized.is_some() {
						break;
					}
					block.finalized = Some(now);
					progress.finalized.fetch_add(block.ours, Ordering::Relaxed);
					cursor = block.parent.clone();
				}
			}
			_ = tick.tick() => {
				if last_sample.elapsed() >= Duration::from_secs(1) {
					last_sample = Instant::now();
					if let Some(sample) = sampler.as_mut().and_then(|s| s.sample(context.start)) {
						observations.process.push(sample);
					}
				}
			}
		}
	}
	Ok(observations)
}

/// The hash of the block whose header a subscription sent: BLAKE2-256 of the header's SCALE
/// encoding. (Asking the node for the hash at the header's number would name the canonical
/// block, not a fork's.)
pub fn header_hash(header: &Json) -> Result<String, String> {
	use codec::{Compact, Encode};
	let bytes = |field: &Json| -> Result<Vec<u8>, String> {
		let text = field.as_str().ok_or_else(|| format!("a header field is not hex: {field}"))?;
		hex::decode(text.trim_start_matches("0x")).map_err(|e| format!("header field {text}: {e}"))
	};
	let number = header["number"]
		.as_str()
		.and_then(|n| u32::from_str_radix(n.trim_start_matches("0x"), 16).ok())
		.ok_or("a header without a number")?;
	let logs = header["digest"]["logs"].as_array().ok_or("a header without digest logs")?;
	// Each digest log is already the SCALE encoding of its item.
	let mut encoded = bytes(&header["parentHash"])?;
	Compact(number).encode_to(&mut encoded);
	encoded.extend(bytes(&header["stateRoot"])?);
	encoded.extend(bytes(&header["extrinsicsRoot"])?);
	Compact(logs.len() as u32).encode_to(&mut encoded);
	for log in logs {
		encoded.extend(bytes(log)?);
	}
	Ok(format!("0x{}", hex::encode(crate::hash(&encoded))))
}

/// Records block `hash` and its ancestors not seen yet, down to `floor` (the best block when
/// the run started; what came before is not the run's).
async fn follow(
	rpc: &RpcClient,
	hash: &str,
	context: &Context<'_>,
	observations: &mut Observations,
	progress: &Progress,
) -> Result<(), String> {
	let mut cursor = hash.to_string();
	while !observations.blocks.contains_key(&cursor) {
		let block = fetch(rpc, &cursor, context, observations, progress).await?;
		if block.number <= context.floor {
			break;
		}
		progress.best.fetch_max(block.number as usize, Ordering::Relaxed);
		let parent = block.parent.clone();
		observations.blocks.insert(cursor, block);
		cursor = parent;
	}
	Ok(())
}

/// Block `hash`: its extrinsics matched against the run's, its length and weight.
async fn fetch(
	rpc: &RpcClient,
	hash: &str,
	context: &Context<'_>,
	observations: &mut Observations,
	progress: &Progress,
) -> Result<Block, String> {
	let signed: Json = rpc
		.request("chain_getBlock", rpc_params![hash])
		.await
		.map_err(|e| format!("chain_getBlock: {e}"))?;
	let block = &signed["block"];
	let extrinsics: Vec<Vec<u8>> = block["extrinsics"]
		.as_array()
		.ok_or("a block without extrinsics")?
		.iter()
		.filter_map(|x| hex::decode(x.as_str()?.trim_start_matches("0x")).ok())
		.collect();
	let mut ours = 0;
	for extrinsic in &extrinsics {
		if let Some(id) = context.ids.get(&crate::hash(extrinsic)) {
			if observations.included_in.insert(*id, hash.to_string()).is_none() {
				ours += 1;
			}
		}
	}
	progress.included.fetch_add(ours, Ordering::Relaxed);
	let number = block["header"]["number"]
		.as_str()
		.and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok())
		.ok_or("a header without a number")?;
	Ok(Block {
		number,
		hash: hash.to_string(),
		parent: block["header"]["parentHash"].as_str().unwrap_or_default().to_string(),
		seen: context.start.elapsed(),
		finalized: None,
		extrinsics: extrinsics.len(),
		ours,
		length: extrinsics.iter().map(Vec::len).sum(),
		ref_time: block_weight(rpc, hash).await?,
	})
}

/// `System.BlockWeight` at `hash`: the ref time of all three dispatch classes.
async fn block_weight(rpc: &RpcClient, hash: &str) -> Result<u64, String> {
	use polkadot_sdk::sp_crypto_hashing::twox_128;
	#[derive(Decode)]
	struct Weight {
		#[codec(compact)]
		ref_time: u64,
		#[codec(compact)]
		_proof_size: u64,
	}
	let key =
		format!("0x{}{}", hex::encode(twox_128(b"System")), hex::encode(twox_128(b"BlockWeight")));
	let value: Option<String> = rpc
		.request("state_getStorage", rpc_params![key, hash])
		.await
		.map_err(|e| format!("state_getStorage: {e}"))?;
	let Some(value) = value else { return Ok(0) };
	let bytes = hex::decode(value.trim_start_matches("0x")).map_err(|e| e.to_string())?;
	let classes =
		<[Weight; 3]>::decode(&mut &bytes[..]).map_err(|e| format!("BlockWeight: {e}"))?;
	Ok(classes.iter().map(|w| w.ref_time).sum())
}

/// Reads a process's CPU time and resident memory from `/proc`.
pub struct CpuSampler {
	pid: u32,
	last: Option<(Instant, u64)>,
}

impl CpuSampler {
	/// Clock ticks per second of `/proc/<pid>/stat` times (Linux's `USER_HZ`).
	const TICKS_PER_SECOND: f64 = 100.0;

	/// Samples process `pid`.
	pub fn new(pid: u32) -> Self {
		Self { pid, last: None }
	}

	/// Its CPU use since the previous sample (0 at the first) and its memory now, at `start`'s
	/// offset; `None` once the process is gone.
	pub fn sample(&mut self, start: Instant) -> Option<ProcessSample> {
		let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).ok()?;
		// Fields after the command name (which may contain spaces) start at the state.
		let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
		let ticks: u64 =
			fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
		let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
		let rss_kib: u64 = status
			.lines()
			.find_map(|l| l.strip_prefix("VmRSS:"))?
			.trim()
			.trim_end_matches(" kB")
			.parse()
			.ok()?;
		let now = Instant::now();
		let cores = self.last.map_or(0.0, |(at, before)| {
			(ticks - before) as f64 / Self::TICKS_PER_SECOND / now.duration_since(at).as_secs_f64()
		});
		self.last = Some((now, ticks));
		Some(ProcessSample { at: now.duration_since(start), cores, rss: rss_kib * 1024 })
	}
}
