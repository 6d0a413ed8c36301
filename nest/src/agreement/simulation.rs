//! A deterministic simulation of a service of four nodes on commonware's deterministic
//! runtime and simulated network: the real [`Application`] and simplex engine, devices
//! writing records, a model of WebChain (a block a second, epochs of five blocks), and one
//! seeded fault plan per run: a node crashed and restarted, partitioned, wiped, or lying as
//! leader (withholding records, closing epochs with a wrong root or with peg arrivals
//! WebChain has not settled); links slow or lossy; a device that signs two records with one
//! sequence, or one removed from the service mid-epoch; the service's owner skipping an epoch
//! on WebChain, at its end or a block or two later.
//!
//! After every finalization at every node the safety invariants are checked: one proposal per
//! height, one certified root per epoch (the root of its records and settled arrivals, its
//! certificate verified as a super node verifies it; a close is a skip exactly when WebChain
//! skipped the epoch by its block, and then empty), one record per device sequence, and no
//! record a device was told is `replicated` replaced. When the faults are over, liveness: every
//! node certifies the epochs that end, and every honest device's record is replicated and on
//! every node's disk.

//!
//! `THINGSCHAIN_SIM_SEEDS=a..b` picks the seeds (`scripts/test.sh` runs 0..200;
//! `scripts/simulate.sh` runs thousands); a failing seed names itself and replays exactly.

use super::{
	application::{self, Application},
	certified,
	chain::{
		leaves_hash, BlockNumber, Close, EpochCertificate, EpochTree, Proposal, Range, Schedule,
		State,
	},
	channels, engine_config,
	log::{Log, Unholdable, Vetting, WebChain},
	NAMESPACE,
};
use codec::{Decode, DecodeLimit, Encode};
use commonware_consensus::simplex;
use commonware_cryptography::{
	ed25519::{PrivateKey, PublicKey},
	sha256::Digest,
	Signer as _,
};
use commonware_p2p::{
	simulated::{self, Link, Oracle},
	Receiver as _, Recipients, Sender as _,
};
use commonware_runtime::{
	buffer::paged::CacheRef, deterministic, Clock, Handle, Quota, Runner as _, Spawner,
	Supervisor as _,
};
use commonware_utils::{ordered::Set, NZUsize, NZU16};
use futures::{future::select, FutureExt};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::{
	collections::BTreeMap,
	num::NonZeroU32,
	pin::pin,
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc, Mutex,
	},
	time::{Duration, UNIX_EPOCH},
};
use thingschain_primitives::{
	ids::{DeviceId, Epoch, Hash},
	merkle,
};

/// Blocks between two of the service's peg arrivals on the model of WebChain.
const ARRIVAL_BLOCKS: u64 = 3;
use tokio::sync::Notify;

const NODES: usize = 4;
const DEVICES: u64 = 4;
const BLOCK_TIME: Duration = Duration::from_secs(1);
const EPOCH_BLOCKS: u64 = 5;
/// Faults happen before this, and are all over by it.
const FAULTS_END: Duration = Duration::from_secs(20);
/// Devices stop writing then.
const WRITES_END: Duration = Duration::from_secs(25);
/// Liveness is judged then.
const RUN_END: Duration = Duration::from_secs(45);
/// How long after RUN_END every node has to finalize what devices were told is replicated.
const CATCH_UP: Duration = Duration::from_secs(15);
/// The records' channel, beside the agreement's.
const RECORDS: u64 = 4;
const QUOTA: Quota = Quota::per_second(NonZeroU32::MAX);

/// A device's record in the simulation (the service node's are signed envelopes).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
struct SimRecord {
	device: DeviceId,
	sequence: u64,
	value: u64,
}

impl SimRecord {
	fn leaf(&self) -> Hash {
		merkle::leaf_hash(&self.encode())
	}
}

/// What nodes send each other about records.
#[derive(Encode, Decode)]
enum RecordWire {
	/// Gossip of records a device wrote to the sender.
	Push(Vec<SimRecord>),
	/// A request for the records a range names.
	Want(Range),
	/// The answer to a `Want`: the range and its records.
	Have(Range, Vec<SimRecord>),
}

/// WebChain, as every node reads it: a block a second from the start, epochs of five blocks,
/// and the devices removed from the service (at a block).
#[derive(Clone)]
struct SimWebChain {
	clock: Arc<deterministic::Context>,
	removed: Arc<Mutex<BTreeMap<DeviceId, BlockNumber>>>,
	/// The epoch the service's owner skipped, and the block it did in.
	skip: Option<(Epoch, BlockNumber)>,
}

impl SimWebChain {
	fn valid(&self, record: &SimRecord, block: BlockNumber) -> Result<(), Unholdable> {
		match self.removed.lock().unwrap().get(&record.device) {
			Some(&removed) if block >= removed => Err(Unholdable::Invalid {
				device: record.device,
				sequence: record.sequence,
				block,
				reason: format!("removed at block {removed}"),
			}),
			_ => Ok(()),
		}
	}
}

impl SimWebChain {
	/// How many peg arrivals WebChain had settled for the service by `block`.
	fn arrivals_at(block: BlockNumber) -> u64 {
		block / ARRIVAL_BLOCKS
	}

	/// Arrival `number`'s leaf.
	fn arrival_leaf(number: u64) -> Hash {
		merkle::leaf_hash(&(b"arrival", number).encode())
	}
}

impl Schedule for SimWebChain {
	fn epoch_end(&self, epoch: Epoch) -> BlockNumber {
		EPOCH_BLOCKS * (u64::from(epoch) + 1)
	}
}

impl WebChain for SimWebChain {
	fn finalized_block(&self) -> BlockNumber {
		let elapsed = self.clock.current().duration_since(UNIX_EPOCH).unwrap_or_default();
		(elapsed.as_millis() / BLOCK_TIME.as_millis()) as u64
	}

	async fn skipped(&self, epoch: Epoch, block: BlockNumber) -> bool {
		while self.finalized_block() < block {
			self.clock.sleep(BLOCK_TIME / 4).await;
		}
		self.skipped_by(epoch, block)
	}
}

impl SimWebChain {
	/// Whether the owner had skipped `epoch` by `block`.
	fn skipped_by(&self, epoch: Epoch, block: BlockNumber) -> bool {
		self.skip.is_some_and(|(skipped, at)| skipped == epoch && at <= block)
	}
}

/// What a node keeps across crashes (and loses when wiped).
#[derive(Default)]
struct Disk {
	/// Each device sequence's record as first written here, or as finalized.
	records: BTreeMap<(DeviceId, u64), SimRecord>,
	/// The records of ranges proposals named that differ from `records` (a device's other
	/// record for a sequence): kept beside them until one is final, since a proposal that
	/// names one may lose to one that names the other.
	variants: BTreeMap<Range, Vec<SimRecord>>,
	proposals: BTreeMap<Digest, Proposal>,
	finalized: Option<(Digest, State)>,
}

/// How a lying node lies when it leads.
#[derive(Clone, Copy, Debug)]
enum Lie {
	/// It proposes a range of records nobody holds.
	Withhold,
	/// It closes epochs with a root its records do not give.
	WrongRoot,
	/// It closes epochs with peg arrivals WebChain has not settled.
	Arrivals,
}

/// The invariants' bookkeeping, shared by every node.
#[derive(Default)]
struct Observer {
	/// The finalized proposal at each height.
	finalized: Vec<Digest>,
	/// The certified root of each epoch.
	roots: BTreeMap<Epoch, Hash>,
	/// The tree of the open epoch's final records, and their leaves.
	open_tree: EpochTree,
	open_leaves: BTreeMap<Range, Vec<Hash>>,
	/// The arrivals the closed epochs hold.
	arrivals: u64,
	/// Closes whose certificate a node verified, as a super node would.
	certificates: u64,
	/// The epoch the owner skipped on WebChain, and when ([`Plan::skip`]).
	skip: Option<(Epoch, BlockNumber)>,

	/// The finalized leaf at each device sequence.
	records: BTreeMap<(DeviceId, u64), Hash>,
	/// The leaf each honest device was told is replicated.
	replicated: BTreeMap<(DeviceId, u64), Hash>,
	/// Each node's finalized height and open epoch.
	progress: [(u64, Epoch); NODES],
	/// Ranges a node held beside a different record of the same device sequence.
	equivocations: u64,
}

impl Observer {
	/// Checks one finalization at `node` against every other node's.
	fn finalized(
		&mut self,
		node: usize,
		digest: &Digest,
		proposal: &Proposal,
		leaves: &[Hash],
		state: &State,
	) {
		let height = proposal.height as usize;
		match self.finalized.get(height - 1) {
			Some(known) => assert_eq!(known, digest, "two proposals final at height {height}"),
			None => {
				assert_eq!(self.finalized.len(), height - 1, "a height skipped");
				self.finalized.push(*digest);
				let mut leaves = leaves.iter().copied();
				for range in &proposal.ranges {
					self.open_tree.add(range);
					let range_leaves = leaves.by_ref().take(range.len() as usize).collect();
					self.open_leaves.insert(range.clone(), range_leaves);
				}
				if let Some(close) = proposal.close.filter(|close| close.skipped) {
					assert_eq!(
						close,
						Close::skipped(close.epoch, self.arrivals),
						"a skip not empty"
					);
				}
				if let Some(close) = proposal.close {
					let skipped = self
						.skip
						.is_some_and(|(epoch, at)| epoch == close.epoch && at <= proposal.block);
					assert_eq!(
						close.skipped, skipped,
						"epoch {}'s close is not WebChain's",
						close.epoch
					);
				}
				if let Some(close) = proposal.close.filter(|close| !close.skipped) {
					let tree = std::mem::take(&mut self.open_tree);
					let mut open_leaves = std::mem::take(&mut self.open_leaves);
					let leaves = |range: Range| {
						let leaves = open_leaves.remove(&range).expect("each range's leaves");
						std::future::ready(Ok::<_, std::convert::Infallible>(leaves))
					};
					let arrivals = self.arrivals..close.arrivals;
					assert!(
						close.arrivals <= SimWebChain::arrivals_at(proposal.block),
						"epoch {} certified with arrivals WebChain had not settled",
						close.epoch
					);
					self.arrivals = close.arrivals;
					assert_eq!(
						Some(Ok((close.root, close.leaves))),
						tree.root(leaves, arrivals.map(SimWebChain::arrival_leaf).collect())
							.now_or_never(),
						"epoch {} certified with a root its records do not give",
						close.epoch
					);
				}
			}
		}
		if let Some(close) = proposal.close {
			let root = *self.roots.entry(close.epoch).or_insert(close.root);
			assert_eq!(root, close.root, "two certified roots for epoch {}", close.epoch);
		}
		let mut leaves = leaves.iter();
		for range in &proposal.ranges {
			for sequence in range.from..range.to {
				let leaf = *leaves.next().expect("a leaf per record");
				let known = *self.records.entry((range.device, sequence)).or_insert(leaf);
				assert_eq!(known, leaf, "device {} record {sequence} final twice", range.device);
				if let Some(told) = self.replicated.get(&(range.device, sequence)) {
					assert_eq!(*told, leaf, "a replicated record was replaced");
				}
			}
		}
		self.progress[node] = (state.height, state.open_epoch);
	}

	/// A device was told `record` is replicated.
	fn told(&mut self, record: &SimRecord) {
		let leaf = record.leaf();
		let final_leaf = self.records.get(&(record.device, record.sequence));
		assert_eq!(final_leaf, Some(&leaf), "told replicated, not final: {record:?}");
		self.replicated.insert((record.device, record.sequence), leaf);
	}
}

/// One node's log.
#[derive(Clone)]
struct SimLog {
	node: usize,
	disk: Arc<Mutex<Disk>>,
	webchain: SimWebChain,
	clock: Arc<deterministic::Context>,
	records: simulated::Sender<PublicKey, deterministic::Context>,
	/// The ranges this node is waiting for: a peer's answer is kept only for one of them.
	wanted: Arc<Mutex<BTreeMap<Range, usize>>>,
	/// Wakes the waiting `hold`s when an answer is kept.
	offered: Arc<Notify>,
	observer: Arc<Mutex<Observer>>,
	lie: Option<Lie>,
	/// The service's nodes' keys, to verify certificates with.
	participants: Set<PublicKey>,
}

impl SimLog {
	/// A device's write: taken unless another record holds its sequence here.
	fn store(&self, record: SimRecord) -> bool {
		let mut disk = self.disk.lock().unwrap();
		let key = (record.device, record.sequence);
		if let Some(held) = disk.records.get(&key) {
			return *held == record;
		}
		disk.records.insert(key, record.clone());
		drop(disk);
		let mut sender = self.records.clone();
		let _ = sender.send(Recipients::All, RecordWire::Push(vec![record]).encode(), false);
		true
	}

	/// Serves peers' gossip and requests.
	async fn serve(self, mut receiver: simulated::Receiver<PublicKey>) {
		while let Ok((peer, bytes)) = receiver.recv().await {
			let Ok(message) = RecordWire::decode_all_with_depth_limit(4, &mut bytes.as_ref())
			else {
				continue;
			};
			match message {
				RecordWire::Push(records) => {
					let mut disk = self.disk.lock().unwrap();
					for record in records {
						disk.records.entry((record.device, record.sequence)).or_insert(record);
					}
				}
				RecordWire::Want(range) => {
					if let Some(records) = self.records_of(&range) {
						let mut sender = self.records.clone();
						let answer = RecordWire::Have(range, records).encode();
						let _ = sender.send(Recipients::One(peer), answer, false);
					}
				}
				RecordWire::Have(range, records) => {
					let wanted = self.wanted.lock().unwrap().contains_key(&range);
					if wanted && self.take(&range, &records) {
						self.offered.notify_waiters();
					}
				}
			}
		}
	}

	/// The records `range` names, if this node holds them.
	fn records_of(&self, range: &Range) -> Option<Vec<SimRecord>> {
		let disk = self.disk.lock().unwrap();
		if let Some(variant) = disk.variants.get(range) {
			return Some(variant.clone());
		}
		let records: Vec<SimRecord> = (range.from..range.to)
			.map(|sequence| disk.records.get(&(range.device, sequence)).cloned())
			.collect::<Option<_>>()?;
		fits(range, &records).then_some(records)
	}

	/// The leaves of `records`, `range`'s, vetted as `vetting` says (as the node's lie has
	/// them).
	fn leaves(&self, records: &[SimRecord], vetting: Vetting) -> Result<Vec<Hash>, Unholdable> {
		if let Vetting::At(block) = vetting {
			records.iter().try_for_each(|record| self.webchain.valid(record, block))?;
		}
		let mut leaves: Vec<Hash> = records.iter().map(SimRecord::leaf).collect();
		if matches!(self.lie, Some(Lie::WrongRoot)) {
			leaves.reverse();
		}
		Ok(leaves)
	}
}

/// A `hold` waiting for a range, counted in the node's wanted ranges until it ends (or is
/// dropped, when consensus no longer needs it).
struct Waiting<'a> {
	wanted: &'a Mutex<BTreeMap<Range, usize>>,
	range: Range,
}

impl<'a> Waiting<'a> {
	fn new(wanted: &'a Mutex<BTreeMap<Range, usize>>, range: &Range) -> Self {
		*wanted.lock().unwrap().entry(range.clone()).or_default() += 1;
		Waiting { wanted, range: range.clone() }
	}
}

impl Drop for Waiting<'_> {
	fn drop(&mut self) {
		let mut wanted = self.wanted.lock().unwrap();
		if let Some(waiting) = wanted.get_mut(&self.range) {
			*waiting -= 1;
			if *waiting == 0 {
				wanted.remove(&self.range);
			}
		}
	}
}

/// Whether `records` are the ones `range` names.
fn fits(range: &Range, records: &[SimRecord]) -> bool {
	let leaves: Vec<Hash> = records.iter().map(SimRecord::leaf).collect();
	records.len() as u64 == range.len()
		&& records
			.iter()
			.zip(range.from..)
			.all(|(record, sequence)| record.device == range.device && record.sequence == sequence)
		&& leaves_hash(&leaves) == range.leaves
}

impl SimLog {
	/// Keeps a peer's `records` as `range`'s variant, if they are its.
	fn take(&self, range: &Range, records: &[SimRecord]) -> bool {
		if !fits(range, records) {
			return false;
		}
		let mut disk = self.disk.lock().unwrap();
		let differs = records.iter().any(|record| {
			disk.records.get(&(record.device, record.sequence)).is_some_and(|held| held != record)
		});
		if differs {
			self.observer.lock().unwrap().equivocations += 1;
		}
		disk.variants.insert(range.clone(), records.to_vec());
		true
	}
}

impl Log for SimLog {
	async fn unordered(
		&self,
		ends: &BTreeMap<DeviceId, u64>,
		block: BlockNumber,
		limit: u64,
	) -> Vec<Range> {
		let disk = self.disk.lock().unwrap();
		let mut ranges = Vec::new();
		let mut taken = 0;
		for device in 0..=DEVICES {
			let from = ends.get(&device).copied().unwrap_or(0);
			let mut leaves = Vec::new();
			while let Some(record) = disk.records.get(&(device, from + leaves.len() as u64)) {
				if taken == limit || self.webchain.valid(record, block).is_err() {
					break;
				}
				leaves.push(record.leaf());
				taken += 1;
			}
			if !leaves.is_empty() {
				let to = from + leaves.len() as u64;
				ranges.push(Range { device, from, to, leaves: leaves_hash(&leaves) });
			}
		}
		if matches!(self.lie, Some(Lie::Withhold)) {
			let device = DEVICES + 1;
			let from = ends.get(&device).copied().unwrap_or(0);
			ranges.push(Range { device, from, to: from + 1, leaves: Hash::repeat_byte(0xee) });
		}
		ranges
	}

	async fn hold(&self, range: &Range, vetting: Vetting) -> Result<Vec<Hash>, Unholdable> {
		let _waiting = Waiting::new(&self.wanted, range);
		let records = loop {
			let mut offered = pin!(self.offered.notified());
			offered.as_mut().enable();
			if let Some(records) = self.records_of(range) {
				break records;
			}
			let want = RecordWire::Want(range.clone());
			let mut sender = self.records.clone();
			let _ = sender.send(Recipients::All, want.encode(), false);
			let _ = select(offered, pin!(self.clock.sleep(Duration::from_millis(250)))).await;
		};
		self.leaves(&records, vetting)
	}

	fn arrival_count(&self) -> u64 {
		let held = SimWebChain::arrivals_at(self.webchain.finalized_block());
		match self.lie {
			Some(Lie::Arrivals) => held + 100,
			_ => held,
		}
	}

	async fn arrivals(&self, numbers: std::ops::Range<u64>) -> Vec<Hash> {
		// The liar makes up the arrivals it names: it proposes, and the others wait for them.
		let lying = matches!(self.lie, Some(Lie::Arrivals));
		while !lying && SimWebChain::arrivals_at(self.webchain.finalized_block()) < numbers.end {
			self.clock.sleep(Duration::from_millis(250)).await;
		}
		numbers.map(SimWebChain::arrival_leaf).collect()
	}

	fn finalize(
		&self,
		digest: &Digest,
		proposal: &Proposal,
		state: &State,
		certificate: Option<EpochCertificate>,
	) {
		if let Some(certificate) = certificate {
			let close = certified::verify(&certificate, self.participants.clone());
			assert_eq!(close.ok(), proposal.close, "node {}: a close's certificate", self.node);
			self.observer.lock().unwrap().certificates += 1;
		}
		let mut leaves = Vec::new();
		for range in &proposal.ranges {
			let records = self.records_of(range).unwrap_or_else(|| {
				let disk = self.disk.lock().unwrap();
				let primary: Vec<_> = (range.from..range.to)
					.map(|sequence| {
						disk.records.get(&(range.device, sequence)).map(SimRecord::leaf)
					})
					.collect();
				let variants: Vec<_> =
					disk.variants.keys().filter(|r| r.device == range.device).collect();
				panic!(
					"node {} final {range:?} not held: primary {primary:?} variants {variants:?}",
					self.node
				)
			});
			leaves.extend(records.iter().map(SimRecord::leaf));
			let mut disk = self.disk.lock().unwrap();
			for record in records {
				disk.records.insert((record.device, record.sequence), record);
			}
			disk.variants.retain(|held, _| held.device != range.device || held.from >= range.to);
		}
		let mut disk = self.disk.lock().unwrap();
		disk.finalized = Some((*digest, state.clone()));
		drop(disk);
		self.observer.lock().unwrap().finalized(self.node, digest, proposal, &leaves, state);
	}

	fn finalized(&self) -> Option<(Digest, State)> {
		self.disk.lock().unwrap().finalized.clone()
	}

	fn save_proposal(&self, digest: &Digest, proposal: &Proposal) {
		self.disk.lock().unwrap().proposals.insert(*digest, proposal.clone());
	}

	fn proposal(&self, digest: &Digest) -> Option<Proposal> {
		self.disk.lock().unwrap().proposals.get(digest).cloned()
	}
}

/// What happens to one node.
#[derive(Clone, Copy, Debug)]
enum NodeFault {
	None,
	/// Killed at `at`, restarted `down` later with its disk.
	Crash {
		node: usize,
		at: Duration,
		down: Duration,
	},
	/// Cut off from every other node at `at`, for `cut`.
	Partition {
		node: usize,
		at: Duration,
		cut: Duration,
	},
	/// Killed at `at`, its disk and consensus journal lost, restarted empty.
	Wipe {
		node: usize,
		at: Duration,
	},
	/// Lies whenever it leads.
	Liar {
		node: usize,
		lie: Lie,
	},
}

/// What happens to one device.
#[derive(Clone, Copy, Debug)]
enum DeviceFault {
	None,
	/// Signs every record twice, with different values, to two nodes.
	Equivocates {
		device: DeviceId,
	},
	/// Removed from the service at `at` (effective two blocks later).
	Removed {
		device: DeviceId,
		at: Duration,
	},
}

/// A run's faults, drawn from its seed.
#[derive(Clone, Debug)]
struct Plan {
	latency: Duration,
	jitter: Duration,
	success_rate: f64,
	node: NodeFault,
	device: DeviceFault,
	/// An epoch the service's owner skips on WebChain, and the block it does: at the epoch's
	/// end (every close of it is a skip) or a block or two later (its close may come first).
	skip: Option<(Epoch, BlockNumber)>,
}

impl Plan {
	fn draw(seed: u64) -> Plan {
		let mut rng = StdRng::seed_from_u64(seed);
		let node = rng.gen_range(0..NODES);
		let at = Duration::from_millis(rng.gen_range(3_000..12_000));
		let node = match rng.gen_range(0..7) {
			0 => NodeFault::None,
			1 => NodeFault::Crash {
				node,
				at,
				down: Duration::from_millis(rng.gen_range(500..8_000)),
			},
			2 => NodeFault::Partition {
				node,
				at,
				cut: Duration::from_millis(rng.gen_range(500..8_000)),
			},
			3 => NodeFault::Wipe { node, at },
			4 => NodeFault::Liar { node, lie: Lie::Withhold },
			5 => NodeFault::Liar { node, lie: Lie::Arrivals },
			_ => NodeFault::Liar { node, lie: Lie::WrongRoot },
		};
		let device = rng.gen_range(0..DEVICES);
		let device = match rng.gen_range(0..4) {
			0 => DeviceFault::Equivocates { device },
			1 => DeviceFault::Removed { device, at },
			_ => DeviceFault::None,
		};
		let latency = Duration::from_millis(rng.gen_range(5..200));
		let jitter = Duration::from_millis(rng.gen_range(0..50));
		let success_rate = if rng.gen_bool(0.5) { 1.0 } else { rng.gen_range(0.85..1.0) };
		let skip = rng.gen_bool(0.25).then(|| {
			let epoch: Epoch = rng.gen_range(1..4);
			(epoch, EPOCH_BLOCKS * (u64::from(epoch) + 1) + rng.gen_range(0..3))
		});
		Plan { latency, jitter, success_rate, node, device, skip }
	}

	fn link(&self) -> Link {
		Link { latency: self.latency, jitter: self.jitter, success_rate: self.success_rate }
	}

	fn honest(&self, device: DeviceId) -> bool {
		!matches!(self.device, DeviceFault::Equivocates { device: d } if d == device)
	}

	fn lie(&self, node: usize) -> Option<Lie> {
		match self.node {
			NodeFault::Liar { node: liar, lie } if liar == node => Some(lie),
			_ => None,
		}
	}
}

/// Everything a node needs to (re)start.
#[derive(Clone)]
struct Cluster {
	keys: Vec<PrivateKey>,
	participants: Set<PublicKey>,
	oracle: Oracle<PublicKey, deterministic::Context>,
	webchain: SimWebChain,
	observer: Arc<Mutex<Observer>>,
	genesis: Digest,
	plan: Plan,
}

/// A running node: its log (shared with devices) and whether it is up.
struct Node {
	log: SimLog,
	up: Arc<AtomicBool>,
	handle: Option<Handle<()>>,
}

/// Kills node `node` (every task it runs, before anything touches its disk again).
async fn stop(nodes: &Mutex<Vec<Node>>, node: usize) {
	let handle = {
		let mut nodes = nodes.lock().unwrap();
		nodes[node].up.store(false, Ordering::SeqCst);
		nodes[node].handle.take()
	};
	if let Some(handle) = handle {
		handle.abort();
		let _ = handle.await;
	}
}

impl Cluster {
	async fn start(
		&self,
		context: &deterministic::Context,
		node: usize,
		disk: Arc<Mutex<Disk>>,
		journal: &str,
	) -> Node {
		let key = self.keys[node].clone();
		let control = self.oracle.control(key.public_key());
		let votes = control.register(channels::VOTES, QUOTA).await.unwrap();
		let certificates = control.register(channels::CERTIFICATES, QUOTA).await.unwrap();
		let resolver = control.register(channels::RESOLVER, QUOTA).await.unwrap();
		let bodies = control.register(channels::BODIES, QUOTA).await.unwrap();
		let (records, records_in) = control.register(RECORDS, QUOTA).await.unwrap();
		let log = SimLog {
			node,
			disk,
			webchain: self.webchain.clone(),
			clock: Arc::new(context.child("log")),
			records,
			wanted: Default::default(),
			offered: Arc::new(Notify::new()),
			observer: self.observer.clone(),
			lie: self.plan.lie(node),
			participants: self.participants.clone(),
		};
		let scheme =
			simplex::scheme::ed25519::Scheme::signer(NAMESPACE, self.participants.clone(), key)
				.expect("a participant");
		let (genesis, webchain, journal) =
			(self.genesis, self.webchain.clone(), journal.to_owned());
		let served = log.clone();
		let app_log = log.clone();
		let handle = context.child("node").spawn(move |context| async move {
			context.child("records").spawn(move |_| served.serve(records_in));
			let (application, mailbox) =
				Application::new(context.child("application"), app_log, webchain, genesis);
			application.start(bodies);
			let page_cache = CacheRef::from_pooler(&context, NZU16!(1024), NZUsize!(10));
			let config = engine_config(scheme, control, mailbox, journal, genesis, page_cache);
			let engine = simplex::Engine::new(context.child("engine"), config);
			let _ = engine.start(votes, certificates, resolver).await;
		});
		Node { log, up: Arc::new(AtomicBool::new(true)), handle: Some(handle) }
	}

	async fn link(&self, node: usize, connect: bool) {
		let me = self.keys[node].public_key();
		for other in self.keys.iter().map(|key| key.public_key()).filter(|other| *other != me) {
			for (from, to) in [(me.clone(), other.clone()), (other, me.clone())] {
				let _ = self.oracle.remove_link(from.clone(), to.clone()).await;
				if connect {
					self.oracle.add_link(from, to, self.plan.link()).await.unwrap();
				}
			}
		}
	}
}

/// One device: writes a record every 300 ms to its node (or the next one up), and waits for
/// each to be replicated; an equivocating device writes a second value to the next node.
async fn device(
	context: deterministic::Context,
	device: DeviceId,
	nodes: Arc<Mutex<Vec<Node>>>,
	observer: Arc<Mutex<Observer>>,
	honest: bool,
) {
	let mut written: Vec<SimRecord> = Vec::new();
	let mut told = 0;
	let mut sequence = 0;
	let mut rng = StdRng::seed_from_u64(device);
	loop {
		context.sleep(Duration::from_millis(300)).await;
		let now = context.current().duration_since(UNIX_EPOCH).unwrap_or_default();
		let up_nodes = nodes.lock().unwrap();
		let nodes = &*up_nodes;
		if now < WRITES_END {
			let home = (device as usize + sequence as usize) % NODES;
			let record = SimRecord { device, sequence, value: rng.gen() };
			let up = |node: usize| nodes[node].up.load(Ordering::SeqCst);
			if let Some(node) = (0..NODES).map(|i| (home + i) % NODES).find(|&node| up(node)) {
				if nodes[node].log.store(record.clone()) {
					if !honest {
						let twin = SimRecord { value: record.value ^ 1, ..record.clone() };
						let other = (node + 1) % NODES;
						if up(other) {
							nodes[other].log.store(twin);
						}
					}
					written.push(record);
					sequence += 1;
				}
			}
		}
		// Replicated: the device's next record a node finalized, for every node up.
		let replicated = (0..NODES)
			.filter(|&node| nodes[node].up.load(Ordering::SeqCst))
			.filter_map(|node| nodes[node].log.finalized())
			.map(|(_, state)| state.end(device))
			.max()
			.unwrap_or(0);
		drop(up_nodes);
		if honest {
			let mut observer = observer.lock().unwrap();
			for record in written.iter().take(replicated as usize).skip(told) {
				observer.told(record);
			}
		}
		told = told.max(replicated as usize);
		if now >= RUN_END {
			return;
		}
	}
}

/// Runs the simulation of `seed`; panics, naming what broke, if an invariant does not hold.
/// Returns the finalized log (digests by height), for replays to compare.
fn run(seed: u64) -> Vec<Digest> {
	let plan = Plan::draw(seed);
	let config = deterministic::Config::new()
		.with_seed(seed)
		.with_timeout(Some(RUN_END + Duration::from_secs(60)));
	deterministic::Runner::new(config).start(|context| async move {
		let keys: Vec<PrivateKey> =
			(0..NODES as u64).map(|i| PrivateKey::from_seed(seed * 16 + i)).collect();
		let participants: Set<PublicKey> =
			keys.iter().map(|key| key.public_key()).collect::<Vec<_>>().try_into().unwrap();
		let (network, oracle) = simulated::Network::new_with_peers(
			context.child("network"),
			simulated::Config {
				max_size: 1024 * 1024,
				disconnect_on_block: false,
				tracked_peer_sets: NZUsize!(1),
			},
			participants.iter().cloned(),
		)
		.await;
		network.start();
		let webchain = SimWebChain {
			clock: Arc::new(context.child("webchain")),
			removed: Default::default(),
			skip: plan.skip,
		};

		let observer = Arc::new(Mutex::new(Observer { skip: plan.skip, ..Observer::default() }));
		let cluster = Cluster {
			keys,
			participants,
			oracle,
			webchain: webchain.clone(),
			observer: observer.clone(),
			genesis: application::genesis(&Hash::repeat_byte(1), 7),
			plan: plan.clone(),
		};
		let disks: Vec<Arc<Mutex<Disk>>> = (0..NODES).map(|_| Default::default()).collect();
		let mut nodes = Vec::new();
		for (node, disk) in disks.iter().enumerate() {
			cluster.link(node, true).await;
			nodes.push(cluster.start(&context, node, disk.clone(), &format!("node{node}")).await);
		}
		let nodes = Arc::new(Mutex::new(nodes));
		let devices: Vec<Handle<()>> = (0..DEVICES)
			.map(|id| {
				let (nodes, observer) = (nodes.clone(), observer.clone());
				let honest = plan.honest(id);
				context
					.child("device")
					.spawn(move |context| device(context, id, nodes, observer, honest))
			})
			.collect();

		match plan.node {
			NodeFault::Crash { node, at, down } => {
				context.sleep(at).await;
				stop(&nodes, node).await;
				context.sleep(down).await;
				let restarted = cluster
					.start(&context, node, disks[node].clone(), &format!("node{node}"))
					.await;
				nodes.lock().unwrap()[node] = restarted;
			}
			NodeFault::Partition { node, at, cut } => {
				context.sleep(at).await;
				cluster.link(node, false).await;
				context.sleep(cut).await;
				cluster.link(node, true).await;
			}
			NodeFault::Wipe { node, at } => {
				context.sleep(at).await;
				stop(&nodes, node).await;
				*disks[node].lock().unwrap() = Disk::default();
				let restarted = cluster
					.start(&context, node, disks[node].clone(), &format!("node{node}wiped"))
					.await;
				nodes.lock().unwrap()[node] = restarted;
			}
			NodeFault::None | NodeFault::Liar { .. } => {}
		}
		if let DeviceFault::Removed { device, at } = plan.device {
			let now = context.current().duration_since(UNIX_EPOCH).unwrap_or_default();
			context.sleep(at.saturating_sub(now)).await;
			let block = webchain.finalized_block() + 2;
			webchain.removed.lock().unwrap().insert(device, block);
		}
		futures::future::join_all(devices).await;

		// Liveness, once the faults are over. A node may be a proposal or two behind the
		// others when the devices stop: it has until CATCH_UP to finalize what they were told.
		let caught_up = || {
			let replicated =
				observer.lock().unwrap().replicated.keys().copied().collect::<Vec<_>>();
			disks.iter().all(|disk| {
				let finalized = disk.lock().unwrap().finalized.clone();
				finalized.is_some_and(|(_, state)| {
					replicated.iter().all(|&(device, sequence)| state.end(device) > sequence)
				})
			})
		};
		while !caught_up() && context.current() < UNIX_EPOCH + RUN_END + CATCH_UP {
			context.sleep(Duration::from_millis(500)).await;
		}
		let observer = observer.lock().unwrap();
		if matches!(plan.device, DeviceFault::Equivocates { .. }) {
			assert!(observer.equivocations > 0, "no node met the device's second records");
		}
		assert!(observer.certificates > 0, "no node verified a close's certificate");
		let ended = webchain.epochs_ended_by(FAULTS_END + Duration::from_secs(10));
		for (node, (height, open)) in observer.progress.iter().enumerate() {
			assert!(
				*open >= ended,
				"node {node} certified {open} epochs, {ended} ended ({height} final)"
			);
		}
		let disks: Vec<_> = disks.iter().map(|disk| disk.lock().unwrap()).collect();
		for device in (0..DEVICES).filter(|&device| plan.honest(device)) {
			let removed = webchain.removed.lock().unwrap().contains_key(&device);
			let told = observer.replicated.keys().filter(|(d, _)| *d == device).count();
			assert!(removed || told > 0, "device {device}: nothing replicated");
			for ((d, sequence), leaf) in
				observer.replicated.iter().filter(|((d, _), _)| *d == device)
			{
				for (node, disk) in disks.iter().enumerate() {
					let held = disk.records.get(&(*d, *sequence)).map(SimRecord::leaf);
					assert_eq!(
						held,
						Some(*leaf),
						"node {node} lost device {d} record {sequence} (final through {:?}, variants {:?})",
						disk.finalized.as_ref().map(|(_, state)| (state.height, state.end(*d))),
						disk.variants.keys().filter(|range| range.device == *d).collect::<Vec<_>>(),
					);
				}
			}
		}
		observer.finalized.clone()
	})
}

impl SimWebChain {
	/// How many epochs ended by `at`.
	fn epochs_ended_by(&self, at: Duration) -> Epoch {
		((at.as_millis() / BLOCK_TIME.as_millis()) as u64 / EPOCH_BLOCKS) as Epoch
	}
}

/// The seeds to run: `THINGSCHAIN_SIM_SEEDS=a..b`, else 0..200.
fn seeds() -> std::ops::Range<u64> {
	let Ok(seeds) = std::env::var("THINGSCHAIN_SIM_SEEDS") else { return 0..200 };
	let (from, to) = seeds.split_once("..").expect("THINGSCHAIN_SIM_SEEDS is a..b");
	from.parse().expect("a seed")..to.parse().expect("a seed")
}

#[test]
fn a_service_stays_safe_and_live_under_every_fault_plan() {
	// `RUST_LOG=agreement=debug` with one seed shows what the nodes did.
	let _ = tracing_subscriber::fmt()
		.with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
		.with_test_writer()
		.try_init();
	for seed in seeds() {
		let plan = Plan::draw(seed);
		if let Err(panic) = std::panic::catch_unwind(|| run(seed)) {
			let why = panic
				.downcast_ref::<String>()
				.cloned()
				.or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
				.unwrap_or_default();
			panic!(
				"seed {seed} ({plan:?}) broke: {why}\nreplay: THINGSCHAIN_SIM_SEEDS={seed}..{} \
				 cargo test --release -p thingschain-nest agreement::simulation",
				seed + 1
			);
		}
	}
}

#[test]
fn a_seed_replays_exactly() {
	// A crash and restart, lossy links and an equivocating device: the most moving parts.
	let seed = (0..).find(|&seed| {
		let plan = Plan::draw(seed);
		matches!(plan.node, NodeFault::Crash { .. })
			&& matches!(plan.device, DeviceFault::Equivocates { .. })
			&& plan.success_rate < 1.0
	});
	let seed = seed.expect("such a plan");
	let log = run(seed);
	assert!(log.len() > 20, "seed {seed} finalized {} proposals", log.len());
	assert_eq!(run(seed), log, "seed {seed} did not replay");
}
