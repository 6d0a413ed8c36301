//! The records under a proposal are checked against WebChain's registry as it stood at the
//! proposal's block, by every node, whenever it checks: a device removed, suspended or
//! re-keyed (or a reader revoked, a destination closed) after writing resolves the same way
//! everywhere. A leader proposes each device's records only up to the first one not valid at
//! its block.
//!
//! ```text
//!  held records of a range, at block B:
//!    registry at B (DeviceCache) ─► the device's terms ──┬─ the terms they passed under
//!                                                        │  (CheckedUnder) ─► valid
//!                                                        └─ other, or not known ─► each
//!                                                           record checked at B (signature
//!                                                           included) ─► the valid prefix
//!  fetched records, at block B: checked at B; all must pass
//! ```

use super::{
	chain::{leaves_hash, BlockNumber, Range, State},
	log::Unholdable,
};
use crate::{
	committer::Committer,
	error::{Rejection, StorageError},
	ledger::{Ledger, Unordered},
	validate::Checked,
};
use std::sync::Arc;
use thingschain_primitives::nest::SignedNestRecord;

/// How many of a range's records, from its first, are valid at a block.
#[derive(Debug)]
pub struct Prefix {
	/// How many.
	pub valid: u64,
	/// Why the next one is not, if there is a next one.
	pub invalid: Option<Unholdable>,
}

/// Why held records could not be vetted.
#[derive(Debug, thiserror::Error)]
pub enum VetFailure {
	/// Not at this block, here.
	#[error(transparent)]
	Unholdable(#[from] Unholdable),
	/// The ledger failed.
	#[error(transparent)]
	Ledger(#[from] StorageError),
}

/// Vets records against the registry at proposals' blocks.
#[derive(Clone)]
pub struct Vetter {
	ledger: Arc<Ledger>,
	committer: Committer,
}

impl Vetter {
	/// Vets `ledger`'s records with `committer`'s registry and checks.
	pub fn new(ledger: Arc<Ledger>, committer: Committer) -> Vetter {
		Vetter { ledger, committer }
	}

	/// How many of the held records `range` names, from its first, are valid at WebChain's
	/// block `block`, and why the next is not; `None` if they are not held as the range names
	/// them. Records that passed under the terms the registry has for their device at
	/// `block` are not checked again (the common case); others are, and noted.
	pub async fn held(
		&self,
		range: &Range,
		block: BlockNumber,
		variant: bool,
	) -> Result<Option<Prefix>, VetFailure> {
		let devices = self.committer.devices();
		devices.wait_for(block).await;
		let block = devices.known_block(block);
		let terms = devices.at(block).map_err(Unholdable::from)?.terms(range.device);
		let checked_under = self.committer.checked_under();
		let sequences = range.from..range.to;
		if terms.as_ref().is_some_and(|terms| {
			!variant && checked_under.all_under(range.device, sequences.clone(), terms)
		}) {
			return Ok(Some(Prefix { valid: range.len(), invalid: None }));
		}
		let Some(records) = self.ledger.range_records(range)? else { return Ok(None) };
		let outcomes = self.committer.check_at(block, records).await.map_err(Unholdable::from)?;
		let (checked, invalid) = valid_prefix(range, block, outcomes);
		let valid = checked.len() as u64;
		if let (false, Some(terms)) = (variant, terms) {
			checked_under.mark(range.device, range.from..range.from + valid, terms);
		}
		Ok(Some(Prefix { valid, invalid }))
	}

	/// A peer's `records`, `range`'s, checked at block `block`: all of them, or why one is
	/// not valid there.
	pub async fn fetched(
		&self,
		range: &Range,
		block: BlockNumber,
		records: Vec<SignedNestRecord>,
	) -> Result<Vec<Checked>, Unholdable> {
		self.committer.devices().wait_for(block).await;
		let block = self.committer.devices().known_block(block);
		let outcomes = self.committer.check_at(block, records).await?;
		let (checked, invalid) = valid_prefix(range, block, outcomes);
		invalid.map_or(Ok(checked), Err)
	}

	/// The ranges a leader at block `block` proposes of `unordered`: each device's records up
	/// to the first one not valid there (none of a device whose first is not, or if the
	/// registry there is not known here).
	pub async fn proposable(
		&self,
		unordered: Vec<Unordered>,
		block: BlockNumber,
	) -> Result<Vec<Range>, StorageError> {
		let mut ranges = Vec::with_capacity(unordered.len());
		for Unordered { device, from, mut leaves } in unordered {
			let to = from + leaves.len() as u64;
			let range = Range { device, from, to, leaves: leaves_hash(&leaves) };
			let valid = match self.held(&range, block, false).await {
				Ok(Some(prefix)) => prefix.valid,
				Ok(None) | Err(VetFailure::Unholdable(_)) => continue,
				Err(VetFailure::Ledger(error)) => return Err(error),
			};
			if valid == range.len() {
				ranges.push(range);
			} else if valid > 0 {
				leaves.truncate(valid as usize);
				ranges.push(Range { to: from + valid, leaves: leaves_hash(&leaves), ..range });
			}
		}
		Ok(ranges)
	}

	/// `state` is final: no proposal to come names an older block than its, nor records below
	/// its ends.
	pub fn forget_below(&self, state: &State) {
		self.committer.devices().forget_before(state.block);
		self.committer.checked_under().forget_below(&state.ends);
	}
}

/// The records of `outcomes` (`range`'s, checked at `block`) before the first that failed,
/// and why that one failed.
fn valid_prefix(
	range: &Range,
	block: BlockNumber,
	outcomes: Vec<Result<Checked, Rejection>>,
) -> (Vec<Checked>, Option<Unholdable>) {
	let mut checked = Vec::with_capacity(outcomes.len());
	for (outcome, sequence) in outcomes.into_iter().zip(range.from..) {
		match outcome {
			Ok(record) => checked.push(record),
			Err(rejection) => {
				let reason = rejection.to_string();
				let invalid = Unholdable::Invalid { device: range.device, sequence, block, reason };
				return (checked, Some(invalid));
			}
		}
	}
	(checked, None)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		devices::DeviceEntry,
		fixtures::{member, Fleet},
	};
	use thingschain_primitives::merkle::leaf_hash;

	/// A node's ledger and committer over `fleet`'s registry.
	struct Node {
		_dir: tempfile::TempDir,
		ledger: Arc<Ledger>,
		vetter: Vetter,
		committer: Committer,
	}

	impl Node {
		fn new(fleet: &Fleet) -> Node {
			let dir = tempfile::tempdir().unwrap();
			let ledger = Arc::new(Ledger::open(&dir.path().join("ledger.redb")).unwrap());
			Node::over(dir, ledger, fleet)
		}

		/// The node started again on the same ledger: it remembers no checks.
		fn restarted(self, fleet: &Fleet) -> Node {
			Node::over(self._dir, self.ledger, fleet)
		}

		fn over(dir: tempfile::TempDir, ledger: Arc<Ledger>, fleet: &Fleet) -> Node {
			let rules = Arc::new(fleet.rules.clone());
			let committer = Committer::start(ledger.clone(), rules, fleet.devices.clone()).unwrap();
			let vetter = Vetter::new(ledger.clone(), committer.clone());
			Node { _dir: dir, ledger, vetter, committer }
		}

		async fn write(&self, records: Vec<SignedNestRecord>) {
			for outcome in self.committer.submit(records).await.unwrap() {
				outcome.expect("stored");
			}
		}

		/// The range of device `device`'s records `from..to` as held here.
		fn range(&self, fleet: &Fleet, device: usize, from: u64, to: u64) -> Range {
			let device = fleet.device_id(device);
			let records = self.ledger.records(device, from, (to - from) as usize).unwrap();
			let leaves: Vec<_> =
				records.iter().map(|r| leaf_hash(&r.record.leaf_bytes())).collect();
			Range { device, from, to, leaves: leaves_hash(&leaves) }
		}

		async fn valid(&self, range: &Range, block: BlockNumber) -> Result<u64, String> {
			match self.vetter.held(range, block, false).await {
				Ok(Some(Prefix { valid, invalid: None })) => Ok(valid),
				Ok(Some(Prefix { valid, invalid: Some(invalid) })) => {
					Err(format!("{valid} valid, then {invalid}"))
				}
				Ok(None) => Err("not held".into()),
				Err(failure) => Err(failure.to_string()),
			}
		}
	}

	/// `fleet`'s device `index` with another key (that of `other`'s device `index`).
	fn rekeyed(fleet: &Fleet, other: &Fleet, index: usize) -> DeviceEntry {
		member(other.key(index).public(), fleet.reader)
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn held_records_are_valid_at_the_blocks_where_their_device_was() {
		let fleet = Fleet::new(2);
		let other_keys = Fleet { seeds: vec![[0xaa; 32], [0xbb; 32]], ..fleet.clone() };
		let node = Node::new(&fleet);
		node.write((0..5).map(|s| fleet.record(0, s)).collect()).await;
		let range = node.range(&fleet, 0, 0, 5);
		let devices = &fleet.devices;
		// Device 0 re-keyed at block 20, taken out of the service at 30.
		devices.set(20, fleet.device_id(0), Some(rekeyed(&fleet, &other_keys, 0)));
		devices.set(30, fleet.device_id(0), None);
		devices.read_through(40);

		assert_eq!(node.valid(&range, 10).await, Ok(5));
		let at_20 = node.valid(&range, 20).await.unwrap_err();
		assert!(at_20.starts_with("0 valid, then") && at_20.contains("signature"), "{at_20}");
		let at_30 = node.valid(&range, 30).await.unwrap_err();
		assert!(at_30.contains("no device of this service"), "{at_30}");
		// Checked again at 20 changed nothing of what held at 10.
		assert_eq!(node.valid(&range, 19).await, Ok(5));

		// A restarted node remembers no checks: it checks again, and finds the same.
		let node = node.restarted(&fleet);
		assert_eq!(node.valid(&range, 10).await, Ok(5));
		assert!(node.valid(&range, 25).await.is_err());

		// Blocks older than the registry known here are judged by the oldest one known.
		devices.forget_before(25);
		let at_25 = node.valid(&range, 25).await.unwrap_err();
		assert_eq!(node.valid(&range, 10).await.unwrap_err(), at_25);
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn fetched_records_pass_only_at_blocks_where_they_are_valid() {
		let fleet = Fleet::new(1);
		let (writer, reader) = (Node::new(&fleet), Node::new(&fleet));
		let records: Vec<_> = (0..3).map(|s| fleet.record(0, s)).collect();
		writer.write(records.clone()).await;
		let range = writer.range(&fleet, 0, 0, 3);
		let mut suspended = (*fleet.devices.get(fleet.device_id(0)).unwrap()).clone();
		suspended.active = false;
		fleet.devices.set(20, fleet.device_id(0), Some(suspended));
		fleet.devices.read_through(20);

		let taken = reader.vetter.fetched(&range, 19, records.clone()).await.unwrap();
		assert_eq!(taken.len(), 3);
		let refused = reader.vetter.fetched(&range, 20, records).await.unwrap_err();
		assert!(matches!(refused, Unholdable::Invalid { sequence: 0, block: 20, .. }), "{refused}");
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn a_leader_proposes_each_devices_records_up_to_the_first_not_valid_at_its_block() {
		let fleet = Fleet::new(3);
		let other_keys = Fleet { seeds: vec![[0xaa; 32]; 3], ..fleet.clone() };
		let node = Node::new(&fleet);
		// Device 0 writes two records, is re-keyed at block 20, and writes two more with its
		// new key; device 1 is suspended at 25; device 2 stays as it was.
		node.write(vec![fleet.record(0, 0), fleet.record(0, 1), fleet.record(1, 0)]).await;
		node.write(vec![fleet.record(2, 0), fleet.record(2, 1)]).await;
		fleet.devices.set(20, fleet.device_id(0), Some(rekeyed(&fleet, &other_keys, 0)));
		node.write(vec![other_keys.record(0, 2), other_keys.record(0, 3)]).await;
		let mut suspended = (*fleet.devices.get(fleet.device_id(1)).unwrap()).clone();
		suspended.active = false;
		fleet.devices.set(25, fleet.device_id(1), Some(suspended));
		fleet.devices.read_through(30);

		let node = &node;
		let proposed = |block| async move {
			let unordered = node.ledger.unordered(&Default::default(), 100).unwrap();
			let ranges = node.vetter.proposable(unordered, block).await.unwrap();
			ranges.iter().map(|range| (range.device, range.from, range.to)).collect::<Vec<_>>()
		};
		let (zero, one, two) = (fleet.device_id(0), fleet.device_id(1), fleet.device_id(2));
		assert_eq!(proposed(10).await, vec![(zero, 0, 2), (one, 0, 1), (two, 0, 2)]);
		assert_eq!(proposed(22).await, vec![(one, 0, 1), (two, 0, 2)]);
		assert_eq!(proposed(25).await, vec![(two, 0, 2)]);
		// Each range proposed is one a follower holds as named.
		let range = node.range(&fleet, 0, 0, 2);
		assert_eq!(node.valid(&range, 10).await, Ok(2));
	}
}
