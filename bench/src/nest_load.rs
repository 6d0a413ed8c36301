//! A service node's write path under load: devices' signed, sealed readings sent to
//! `nestnode_submit` at a fixed rate, each acknowledged once durable, and the service's other
//! nodes followed as they replicate them.
//!
//! ```text
//!  before the clock   every device's readings sealed for its reader and signed (all cores)
//!  gateways           one WebSocket each, a share of the devices; every tick, one
//!                     nestnode_submit of their records now due, as many calls in flight as
//!                     come due; a device's next record waits for its last one's answer
//!  latency            from when a record was due (not when it was sent) to its answer, so
//!                     a node that falls behind is charged for the wait
//!  replication lag    the other nodes' record counts (nestnode_status) against the times
//!                     node 0 acknowledged that many: how old the first record they lack is
//! ```

use crate::{accounts::Fleet, observe::CpuSampler, observe::ProcessSample};
use std::{
	collections::BTreeMap,
	time::{Duration, Instant},
};
use subxt::rpcs::{rpc_params, RpcClient};
use thingschain_device::nest::{
	nest_record, Acknowledge, Answer, ServiceNode, MAX_RECORDS_PER_CALL,
};
use thingschain_primitives::{
	ids::{Hash, ServiceId},
	nest::SignedNestRecord,
};

/// Bytes of each reading before it is sealed: a small sensor sample with its metadata.
pub const READING_BYTES: usize = 256;

/// How often a gateway sends its devices' due records.
const TICK: Duration = Duration::from_millis(5);

/// How often the nodes' record counts and processes are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// `per_device` readings of each device of `fleet`, sealed for its reader and signed for
/// `service` on the chain of `genesis`, by every core: device by device, in sequence.
pub fn readings(
	fleet: &Fleet,
	genesis: Hash,
	service: ServiceId,
	per_device: u64,
) -> Result<Vec<Vec<SignedNestRecord>>, String> {
	let readers = [fleet.reader.public_key()];
	let device_readings = |(key, device): &(_, _)| -> Result<Vec<SignedNestRecord>, String> {
		(0..per_device)
			.map(|sequence| {
				let mut reading = [0u8; READING_BYTES];
				reading[..8].copy_from_slice(&sequence.to_le_bytes());
				nest_record(key, genesis, (service, *device), &readers, &reading, sequence)
					.map_err(|e| format!("sealing a reading: {e}"))
			})
			.collect()
	};
	let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
	let per_thread = fleet.devices.len().div_ceil(cores).max(1);
	std::thread::scope(|scope| {
		let threads: Vec<_> = fleet
			.devices
			.chunks(per_thread)
			.map(|devices| {
				scope.spawn(move || devices.iter().map(device_readings).collect::<Vec<_>>())
			})
			.collect();
		threads.into_iter().flat_map(|t| t.join().expect("a sealing thread")).collect()
	})
}

/// What the service node answered, over a run.
#[derive(Clone, Debug, Default)]
pub struct Acks {
	/// From due to acknowledged, of each stored record.
	pub latencies: Vec<Duration>,
	/// When each stored record was acknowledged, from the start, in order.
	pub stored_at: Vec<Duration>,
	/// Records acknowledged as already held.
	pub duplicates: usize,
	/// Records a replicated write was answered for as only stored (not ordered in the node's
	/// wait).
	pub unreplicated: usize,
	/// Refused records by code: how many, and one message.
	pub refused: BTreeMap<i32, (usize, String)>,
}

impl Acks {
	fn merge(&mut self, other: Acks) {
		self.latencies.extend(other.latencies);
		self.stored_at.extend(other.stored_at);
		self.duplicates += other.duplicates;
		self.unreplicated += other.unreplicated;
		for (code, (count, message)) in other.refused {
			self.refused.entry(code).or_insert((0, message)).0 += count;
		}
	}

	/// Records refused, whatever the reason.
	pub fn refused_count(&self) -> usize {
		self.refused.values().map(|(count, _)| count).sum()
	}
}

/// A device's records and how far it got.
struct Device {
	/// When its first record is due, after the start: devices are spread over a period.
	offset: Duration,
	records: Vec<SignedNestRecord>,
	/// Its next record to send.
	next: usize,
	/// Whether its last record is unanswered.
	waiting: bool,
}

/// Sends `records` (each device's, in sequence) to the service node at `url` over `gateways`
/// connections, `rate` records a second in all from `start`, each acknowledged once
/// `acknowledge` holds: see the module's picture.
pub async fn drive(
	url: &str,
	gateways: usize,
	records: Vec<Vec<SignedNestRecord>>,
	rate: f64,
	start: Instant,
	acknowledge: Acknowledge,
) -> Result<Acks, String> {
	let count = records.len();
	// Each device writes every `period`; the devices take turns within it.
	let period = Duration::from_secs_f64(count as f64 / rate);
	let mut shares: Vec<Vec<Device>> = (0..gateways).map(|_| Vec::new()).collect();
	for (index, records) in records.into_iter().enumerate() {
		let offset = period.mul_f64(index as f64 / count as f64);
		shares[index % gateways].push(Device { offset, records, next: 0, waiting: false });
	}
	let mut connections = Vec::new();
	for _ in 0..gateways {
		connections.push(ServiceNode::connect(url).await.map_err(|e| e.to_string())?);
	}
	let runs = shares
		.into_iter()
		.zip(connections)
		.map(|(devices, node)| tokio::spawn(gateway(node, devices, period, start, acknowledge)));
	let mut acks = Acks::default();
	for run in futures::future::join_all(runs).await {
		acks.merge(run.map_err(|e| format!("a gateway stopped: {e}"))??);
	}
	acks.stored_at.sort();
	Ok(acks)
}

/// One gateway: sends its `devices`' due records to `node` every [`TICK`].
async fn gateway(
	node: ServiceNode,
	mut devices: Vec<Device>,
	period: Duration,
	start: Instant,
	acknowledge: Acknowledge,
) -> Result<Acks, String> {
	use futures::stream::{FuturesUnordered, StreamExt};
	let node = &node;
	let mut acks = Acks::default();
	let mut calls = FuturesUnordered::new();
	let mut tick = tokio::time::interval(TICK);
	tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
	loop {
		tokio::select! {
			_ = tick.tick() => {
				let now = Instant::now();
				let mut due = Vec::new();
				let mut batch = Vec::new();
				for (index, device) in devices.iter_mut().enumerate() {
					if device.waiting || device.next == device.records.len() {
						continue;
					}
					let at = start + device.offset + period * device.next as u32;
					if at > now {
						continue;
					}
					due.push((index, at));
					batch.push(device.records[device.next].clone());
					device.waiting = true;
					if batch.len() == MAX_RECORDS_PER_CALL {
						break;
					}
				}
				if !batch.is_empty() {
					calls.push(async move {
						(due, node.submit_acknowledged(&batch, acknowledge).await)
					});
				}
			}
			Some((due, answers)) = calls.next(), if !calls.is_empty() => {
				let now = Instant::now();
				let answers = answers.map_err(|e| format!("nestnode_submit: {e}"))?;
				if answers.len() != due.len() {
					return Err(format!("{} answers to {} records", answers.len(), due.len()));
				}
				for ((index, at), answer) in due.into_iter().zip(answers) {
					let device = &mut devices[index];
					device.next += 1;
					device.waiting = false;
					match answer {
						Answer::Stored { .. } if acknowledge == Acknowledge::Replicated => {
							acks.unreplicated += 1;
						}
						Answer::Stored { .. } | Answer::Replicated { .. } => {
							acks.latencies.push(now - at);
							acks.stored_at.push(now - start);
						}
						Answer::Duplicate { .. } => acks.duplicates += 1,
						Answer::Refused { code, error } => {
							acks.refused.entry(code).or_insert((0, error)).0 += 1;
						}
					}
				}
			}
		}
		if calls.is_empty() && devices.iter().all(|d| d.next == d.records.len()) {
			return Ok(acks);
		}
	}
}

/// The nodes of a run over time: their processes, and how many records each holds.
#[derive(Clone, Debug, Default)]
pub struct Samples {
	/// Each node's process samples.
	pub processes: Vec<Vec<ProcessSample>>,
	/// Each sample: for each node, when it was asked (from the start) and how many records
	/// it held. A sample in which a node did not answer is left out.
	pub counts: Vec<Vec<(Duration, u64)>>,
}

impl Samples {
	/// Samples the nodes with processes `pids` and JSON-RPC `rpcs` (node 0 first) every
	/// [`SAMPLE_EVERY`] until `done` says so and every node holds as many records as node 0,
	/// or until `catch_up` after `done`.
	pub async fn take(
		pids: &[u32],
		rpcs: &[RpcClient],
		start: Instant,
		mut done: tokio::sync::watch::Receiver<bool>,
		catch_up: Duration,
	) -> Samples {
		let mut samplers: Vec<CpuSampler> = pids.iter().map(|pid| CpuSampler::new(*pid)).collect();
		let mut samples = Samples { processes: vec![Vec::new(); pids.len()], counts: Vec::new() };
		let mut since_done: Option<Instant> = None;
		loop {
			for (sampler, taken) in samplers.iter_mut().zip(&mut samples.processes) {
				taken.extend(sampler.sample(start));
			}
			let mut counts = Vec::new();
			for rpc in rpcs {
				let asked = start.elapsed();
				let status: Result<serde_json::Value, _> =
					rpc.request("nestnode_status", rpc_params![]).await;
				counts.extend(status.ok().and_then(|s| s["records"].as_u64()).map(|c| (asked, c)));
			}
			let answered = counts.len() == rpcs.len();
			let level = answered && counts.iter().all(|(_, c)| *c >= counts[0].1);
			if answered {
				samples.counts.push(counts);
			}
			if *done.borrow_and_update() {
				let since = *since_done.get_or_insert_with(Instant::now);
				if level || since.elapsed() >= catch_up {
					return samples;
				}
			}
			tokio::time::sleep(SAMPLE_EVERY).await;
		}
	}

	/// Node `node`'s replication lag at each sample (see [`lag`]) against node 0's
	/// acknowledgements `stored_at`.
	pub fn lag(&self, node: usize, stored_at: &[Duration]) -> Vec<Duration> {
		self.counts.iter().map(|sample| lag(stored_at, sample[node].0, sample[node].1)).collect()
	}

	/// When node `node` was last seen holding fewer records than node 0, if it caught up.
	pub fn caught_up(&self, node: usize) -> Option<Duration> {
		let behind = |sample: &Vec<(Duration, u64)>| sample[node].1 < sample[0].1;
		let last = self.counts.last()?;
		(!behind(last)).then(|| {
			let at = self.counts.iter().rev().find(|sample| behind(sample));
			at.map_or(Duration::ZERO, |sample| sample[node].0)
		})
	}

	/// Node `node`'s mean CPU use (cores) and largest resident memory (bytes).
	pub fn process(&self, node: usize) -> (f64, u64) {
		let samples = &self.processes[node];
		// The first sample has no CPU use: it starts the count.
		let busy: Vec<f64> = samples.iter().skip(1).map(|s| s.cores).collect();
		let cores = busy.iter().sum::<f64>() / busy.len().max(1) as f64;
		(cores, samples.iter().map(|s| s.rss).max().unwrap_or(0))
	}
}

/// How long before `at` node 0 acknowledged the first record a node holding `held` records
/// lacks: its acknowledgements are `stored_at`, in order. Zero if the node lacks nothing
/// node 0 had acknowledged by `at`. (Records count, not which: nodes receive them in
/// different orders, so this is the lag of the `held + 1`-th record.)
pub fn lag(stored_at: &[Duration], at: Duration, held: u64) -> Duration {
	stored_at
		.get(held as usize)
		.map_or(Duration::ZERO, |acknowledged| at.saturating_sub(*acknowledged))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn lag_is_the_age_of_the_first_missing_acknowledgement() {
		let ms = Duration::from_millis;
		// Node 0 acknowledged its records at 10, 20, 30 and 40 ms.
		let stored_at = [ms(10), ms(20), ms(30), ms(40)];
		// At 35 ms, a node with 1 record lacks the one acknowledged at 20 ms.
		assert_eq!(lag(&stored_at, ms(35), 1), ms(15));
		// One with all of them, or with every record acknowledged by then, lags nothing.
		assert_eq!(lag(&stored_at, ms(35), 4), Duration::ZERO);
		assert_eq!(lag(&stored_at, ms(35), 3), Duration::ZERO);
	}

	#[test]
	fn a_node_is_caught_up_after_its_last_sample_behind() {
		let s = Duration::from_secs;
		let sample = |at: u64, counts: [u64; 2]| counts.map(|c| (s(at), c)).to_vec();
		let counts =
			vec![sample(1, [10, 4]), sample(2, [20, 20]), sample(3, [30, 25]), sample(4, [30, 30])];
		let samples = Samples { processes: Vec::new(), counts };
		assert_eq!(samples.caught_up(1), Some(s(3)));
		let behind = Samples { processes: Vec::new(), counts: vec![sample(1, [10, 4])] };
		assert_eq!(behind.caught_up(1), None);
	}
}
