//! Group commit: the appends of every call that arrives while the ledger is writing go into
//! its next write together, so many devices' records share one fsync and each call is
//! answered once its records are durable.
//!
//! ```text
//!  call 1 ─┐                        ┌─► call 1's outcomes
//!  call 2 ─┼─► queue ─► one append ─┼─► call 2's outcomes      (after the commit returns)
//!  call 3 ─┘     (all waiting)      └─► call 3's outcomes
//! ```

use crate::{
	agreement::chain::BlockNumber,
	checked_under::CheckedUnder,
	devices::{DeviceCache, Forgotten},
	error::{Rejection, StorageError},
	ledger::{Ledger, Stored},
	validate::{check, Checked, Rules},
};
use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
};
use thingschain_primitives::{ids::DeviceId, nest::SignedNestRecord};
use tokio::sync::{mpsc, oneshot, watch, Notify};

/// The most records one write takes: a burst of calls beyond it waits for the next write.
const MAX_RECORDS_PER_WRITE: usize = 16_384;

/// The most calls waiting for a write: more wait to be queued (backpressure on the callers).
const MAX_WAITING_CALLS: usize = 256;

/// Outcomes of one call's records, or the storage failure that stored none of them.
pub type Outcomes = Result<Vec<Result<Stored, Rejection>>, Arc<StorageError>>;

/// One call's records and where its outcomes go.
struct Job {
	records: Vec<Checked>,
	reply: oneshot::Sender<Outcomes>,
}

/// Appends to the ledger on a thread of its own, as many waiting calls at a time as fit.
#[derive(Clone)]
pub struct Committer {
	queue: mpsc::Sender<Job>,
	/// What records must satisfy.
	rules: Arc<Rules>,
	/// The devices they may come from.
	devices: Arc<DeviceCache>,
	/// What the stored records were checked against.
	checked_under: Arc<CheckedUnder>,
	/// Who waits for which device's records.
	waiters: Arc<Waiters>,
	/// Closed when the thread ends.
	alive: watch::Receiver<()>,
}

impl Committer {
	/// Starts the committer's thread on `ledger`, for records under `rules` from `devices`; it
	/// ends when every handle is dropped.
	pub fn start(
		ledger: Arc<Ledger>,
		rules: Arc<Rules>,
		devices: Arc<DeviceCache>,
	) -> std::io::Result<Committer> {
		let (queue, mut jobs) = mpsc::channel::<Job>(MAX_WAITING_CALLS);
		let (running, alive) = watch::channel(());
		let checked_under = Arc::new(CheckedUnder::default());
		let stored_under = checked_under.clone();
		let waiters = Arc::new(Waiters::default());
		let woken = waiters.clone();
		std::thread::Builder::new().name("nest-committer".into()).spawn(move || {
			// Dropped when the thread ends, a panic included: `stopped` returns.
			let _running = running;
			while let Some(first) = jobs.blocking_recv() {
				let mut batch = vec![first];
				let mut records = batch[0].records.len();
				while records < MAX_RECORDS_PER_WRITE {
					let Ok(job) = jobs.try_recv() else { break };
					records += job.records.len();
					batch.push(job);
				}
				commit(&ledger, &stored_under, &woken, batch);
			}
		})?;
		Ok(Committer { queue, rules, devices, checked_under, waiters, alive })
	}

	/// Notified whenever records of `device` are stored; dropped when no longer waited on.
	pub fn stores_of(&self, device: DeviceId) -> DeviceStores {
		let notify = self.waiters.lock().entry(device).or_default().clone();
		DeviceStores { device, notify, waiters: self.waiters.clone() }
	}

	/// The registry records are checked against.
	pub fn devices(&self) -> &DeviceCache {
		&self.devices
	}

	/// What the stored records were checked against.
	pub fn checked_under(&self) -> &CheckedUnder {
		&self.checked_under
	}

	/// Returns once the committer's thread has ended: nothing more is stored.
	pub async fn stopped(&self) {
		let mut alive = self.alive.clone();
		while alive.changed().await.is_ok() {}
	}

	/// Checks `records` (off the async threads) and appends those that pass: one outcome per
	/// record, in order. Devices' writes and records from other nodes all come this way.
	pub async fn submit(&self, records: Vec<SignedNestRecord>) -> Outcomes {
		let checked = self.check(records).await;
		// Refused records keep their place; the others are appended together.
		let mut outcomes = Vec::with_capacity(checked.len());
		let mut to_store = Vec::new();
		for outcome in checked {
			match outcome {
				Ok(record) => {
					outcomes.push(None);
					to_store.push(record);
				}
				Err(rejection) => outcomes.push(Some(Err(rejection))),
			}
		}
		let stored = match to_store.is_empty() {
			true => Vec::new(),
			false => self.append(to_store).await?,
		};
		// One outcome per appended record.
		let mut stored = stored.into_iter();
		Ok(outcomes.into_iter().map(|o| o.or_else(|| stored.next()).expect("one each")).collect())
	}

	/// Checks `records` as [`Self::submit`] does (against the registry as last read), off
	/// the async threads, storing nothing.
	pub async fn check(&self, records: Vec<SignedNestRecord>) -> Vec<Result<Checked, Rejection>> {
		let (rules, devices) = (self.rules.clone(), self.devices.clone());
		crate::blocking(move || check(&rules, &devices.latest(), records)).await
	}

	/// Checks `records` against the registry as it stood at WebChain's block `block`, off the
	/// async threads, storing nothing.
	pub async fn check_at(
		&self,
		block: BlockNumber,
		records: Vec<SignedNestRecord>,
	) -> Result<Vec<Result<Checked, Rejection>>, Forgotten> {
		let (rules, devices) = (self.rules.clone(), self.devices.clone());
		crate::blocking(move || Ok(check(&rules, &devices.at(block)?, records))).await
	}

	/// Appends `records`; answers once they are durable (or refused).
	pub async fn append(&self, records: Vec<Checked>) -> Outcomes {
		let stopped = || Arc::new(StorageError::WriterStopped);
		let (reply, outcome) = oneshot::channel();
		self.queue.send(Job { records, reply }).await.map_err(|_| stopped())?;
		outcome.await.map_err(|_| stopped())?
	}
}

/// The devices whose records someone waits for, and how to wake them.
#[derive(Default)]
struct Waiters(Mutex<HashMap<DeviceId, Arc<Notify>>>);

impl Waiters {
	fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<DeviceId, Arc<Notify>>> {
		self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// Wakes whoever waits for records of `devices`.
	fn wake(&self, devices: impl Iterator<Item = DeviceId>) {
		let waiters = self.lock();
		if waiters.is_empty() {
			return;
		}
		for device in devices {
			if let Some(notify) = waiters.get(&device) {
				notify.notify_waiters();
			}
		}
	}
}

/// A wait for one device's records to be stored ([`Committer::stores_of`]).
pub struct DeviceStores {
	device: DeviceId,
	notify: Arc<Notify>,
	waiters: Arc<Waiters>,
}

impl DeviceStores {
	/// Resolves at the device's next store after it was made (enable it, then look).
	pub fn next(&self) -> tokio::sync::futures::Notified<'_> {
		self.notify.notified()
	}
}

impl Drop for DeviceStores {
	fn drop(&mut self) {
		let mut waiters = self.waiters.lock();
		// The map's and this one: nobody else waits for the device.
		if Arc::strong_count(&self.notify) == 2 {
			waiters.remove(&self.device);
		}
	}
}

/// Appends the records of `batch` in one write, notes what the stored ones were checked
/// against, and answers each job with its share.
fn commit(ledger: &Ledger, checked_under: &CheckedUnder, waiters: &Waiters, batch: Vec<Job>) {
	let sizes: Vec<usize> = batch.iter().map(|job| job.records.len()).collect();
	let (records, replies): (Vec<_>, Vec<_>) =
		batch.into_iter().map(|job| (job.records, job.reply)).unzip();
	let records: Vec<Checked> = records.into_iter().flatten().collect();
	let places: Vec<_> = records
		.iter()
		.map(|checked| (checked.record.device, checked.record.sequence(), checked.terms.clone()))
		.collect();
	match ledger.append(records) {
		Ok(outcomes) => {
			let stored = places.iter().zip(&outcomes).filter_map(|(place, outcome)| {
				matches!(outcome, Ok(Stored { duplicate: false, .. })).then_some((
					place.0,
					place.1,
					place.2.as_ref(),
				))
			});
			checked_under.appended(stored);
			waiters.wake(places.iter().map(|place| place.0));
			let mut outcomes = outcomes.into_iter();
			for (reply, size) in replies.into_iter().zip(sizes) {
				let _ = reply.send(Ok(outcomes.by_ref().take(size).collect()));
			}
		}
		Err(error) => {
			let error = Arc::new(error);
			for reply in replies {
				let _ = reply.send(Err(error.clone()));
			}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::fixtures::Fleet;

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn concurrent_calls_each_get_their_own_outcomes() {
		let fleet = Fleet::new(8);
		let dir = tempfile::tempdir().unwrap();
		let ledger = Arc::new(Ledger::open(&dir.path().join("ledger.redb")).unwrap());
		let committer =
			Committer::start(ledger.clone(), Arc::new(fleet.rules.clone()), fleet.devices.clone())
				.unwrap();
		// Eight devices write at once, each three records in one call; device 7 also sends a
		// record past a gap.
		let calls = (0..8).map(|device| {
			let mut sequences = vec![0, 1, 2];
			if device == 7 {
				sequences.push(9);
			}
			let signed = sequences.iter().map(|&s| fleet.record(device, s)).collect();
			let checked: Vec<_> = fleet.check(signed).into_iter().map(|c| c.unwrap()).collect();
			let committer = committer.clone();
			tokio::spawn(async move { committer.append(checked).await })
		});
		let answers = futures::future::join_all(calls).await;
		for (device, answer) in answers.into_iter().enumerate() {
			let outcomes = answer.unwrap().expect("the ledger writes");
			let accepted = outcomes.iter().filter(|o| o.is_ok()).count();
			assert_eq!(accepted, 3, "device {device}");
			if device == 7 {
				assert_eq!(outcomes[3], Err(Rejection::SequenceGap { expected: 3 }));
			}
			assert_eq!(ledger.next_sequence(fleet.device_id(device)).unwrap(), 3);
		}
	}
}
