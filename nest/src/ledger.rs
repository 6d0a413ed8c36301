//! The service's ledger on this node: every acknowledged record, each device's next sequence,
//! the epochs and their roots, in one redb database. Every write is one transaction committed
//! with `Durability::Immediate` (fsynced before `commit` returns), so what the node
//! acknowledges survives a crash, and a crash mid-write leaves none of that write.
//!
//! ```text
//!  records        (device, sequence)         → epoch, signature, record     (SCALE)
//!  leaves         (epoch, device, sequence)  → leaf hash                    the epoch's tree, in its order
//!  next_sequence  device                     → the sequence it writes next
//!  meta           "open_epoch"               → the epoch records go to now
//!  sealed         epoch                      → root, number of leaves       (written once)
//! ```
//!
//! An epoch's tree holds its records ordered by device, then sequence: every node that holds
//! the same records in an epoch computes the same root, whatever order they arrived in (which
//! records an epoch holds is for the service's nodes to agree on: replication, a next step).

use crate::{error::Rejection, error::StorageError, validate::Checked};
use codec::{Decode, Encode};
use polkadot_sdk::sp_runtime::MultiSignature;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;
use thingschain_primitives::{
	ids::{DeviceId, Epoch, Hash},
	merkle::{leaf_hash, root_of_leaves, InclusionProof},
	nest::NestRecord,
};

/// Each record, by device and sequence: its [`StoredRecord`] (SCALE).
const RECORDS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("records");
/// Each epoch's leaves, by epoch, device and sequence: the tree's order.
const LEAVES: TableDefinition<(u32, u64, u64), [u8; 32]> = TableDefinition::new("leaves");
/// Each device's next sequence.
const NEXT_SEQUENCE: TableDefinition<u64, u64> = TableDefinition::new("next_sequence");
/// The open epoch, under [`OPEN_EPOCH`].
const META: TableDefinition<&str, u32> = TableDefinition::new("meta");
/// Each sealed epoch's [`SealedEpoch`] (SCALE).
const SEALED: TableDefinition<u32, &[u8]> = TableDefinition::new("sealed");

/// The `meta` key of the open epoch.
const OPEN_EPOCH: &str = "open_epoch";

/// A record in the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StoredRecord {
	/// The epoch it belongs to.
	pub epoch: Epoch,
	/// Its device key's signature.
	pub signature: MultiSignature,
	/// The record.
	pub record: NestRecord,
}

/// Where an appended record is: acknowledged, durably stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
	/// Its epoch.
	pub epoch: Epoch,
	/// Its leaf hash.
	pub leaf: Hash,
	/// Whether the ledger had it already (a device's retry): acknowledged again, not stored twice.
	pub duplicate: bool,
}

/// A closed epoch's tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SealedEpoch {
	/// The Merkle root of its records: what the node attests on WebChain.
	pub root: Hash,
	/// How many records it holds.
	pub leaves: u32,
}

/// A record with the proof of its place in its sealed epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordProof {
	/// The record as stored.
	pub stored: StoredRecord,
	/// Its epoch's root and size.
	pub sealed: SealedEpoch,
	/// Its inclusion proof under that root.
	pub proof: InclusionProof,
}

/// The service's ledger.
pub struct Ledger {
	db: Database,
}

impl Ledger {
	/// Opens the ledger at `path`, creating it if it is not there.
	pub fn open(path: &Path) -> Result<Ledger, StorageError> {
		let db = Database::create(path)?;
		let write = db.begin_write()?;
		{
			write.open_table(RECORDS)?;
			write.open_table(LEAVES)?;
			write.open_table(NEXT_SEQUENCE)?;
			write.open_table(SEALED)?;
			let mut meta = write.open_table(META)?;
			if meta.get(OPEN_EPOCH)?.is_none() {
				meta.insert(OPEN_EPOCH, 0)?;
			}
		}
		write.commit()?;
		Ok(Ledger { db })
	}

	/// Appends `records` in one durable write: each device's records in order, each either
	/// stored in the open epoch (the device's next sequence), acknowledged again (the
	/// ledger's record of that sequence is the same record: a retry), or refused (a reused
	/// sequence, or a gap). One outcome per record, in order; an `Err` stores nothing.
	pub fn append(
		&self,
		records: Vec<Checked>,
	) -> Result<Vec<Result<Stored, Rejection>>, StorageError> {
		let write = self.db.begin_write()?;
		let outcomes = {
			let epoch = open_epoch_in(&write.open_table(META)?)?;
			let mut stored = write.open_table(RECORDS)?;
			let mut leaves = write.open_table(LEAVES)?;
			let mut next = write.open_table(NEXT_SEQUENCE)?;
			let mut outcomes = Vec::with_capacity(records.len());
			for checked in records {
				let (device, sequence) = (checked.record.device, checked.record.sequence());
				let expected = next.get(device)?.map_or(0, |s| s.value());
				let outcome = if sequence == expected {
					let record = StoredRecord {
						epoch,
						signature: checked.signature,
						record: checked.record,
					};
					stored.insert((device, sequence), record.encode().as_slice())?;
					leaves.insert((epoch, device, sequence), checked.leaf.0)?;
					next.insert(device, sequence + 1)?;
					Ok(Stored { epoch, leaf: checked.leaf, duplicate: false })
				} else if sequence > expected {
					Err(Rejection::SequenceGap { expected })
				} else {
					let earlier = stored.get((device, sequence))?.map(|v| decode_record(v.value()));
					match earlier.transpose()? {
						Some(earlier) if earlier.record == checked.record => {
							Ok(Stored { epoch: earlier.epoch, leaf: checked.leaf, duplicate: true })
						}
						_ => Err(Rejection::SequenceReused { sequence }),
					}
				};
				outcomes.push(outcome);
			}
			outcomes
		};
		write.commit()?;
		Ok(outcomes)
	}

	/// The sequence device `device`'s next record must have.
	pub fn next_sequence(&self, device: DeviceId) -> Result<u64, StorageError> {
		let read = self.db.begin_read()?;
		Ok(read.open_table(NEXT_SEQUENCE)?.get(device)?.map_or(0, |s| s.value()))
	}

	/// The epoch records are appended to now.
	pub fn open_epoch(&self) -> Result<Epoch, StorageError> {
		open_epoch_in(&self.db.begin_read()?.open_table(META)?)
	}

	/// Closes the open epoch: its records are final, later ones go to the next. Returns the
	/// closed epoch.
	pub fn close_epoch(&self) -> Result<Epoch, StorageError> {
		let write = self.db.begin_write()?;
		let closed = {
			let mut meta = write.open_table(META)?;
			let open = open_epoch_in(&meta)?;
			meta.insert(OPEN_EPOCH, open + 1)?;
			open
		};
		write.commit()?;
		Ok(closed)
	}

	/// Closed epoch `epoch`'s root, computed the first time and stored: the same after a
	/// restart, so the node never attests two roots of one epoch. `None` while it is open.
	pub fn seal(&self, epoch: Epoch) -> Result<Option<SealedEpoch>, StorageError> {
		if epoch >= self.open_epoch()? {
			return Ok(None);
		}
		if let Some(sealed) = self.sealed(epoch)? {
			return Ok(Some(sealed));
		}
		// Outside the write: a read sees the closed epoch, which no write changes.
		let leaves = self.leaves(epoch)?;
		let sealed = SealedEpoch {
			root: root_of_leaves(leaves.iter().copied()),
			leaves: leaves.len() as u32,
		};
		let write = self.db.begin_write()?;
		{
			let mut table = write.open_table(SEALED)?;
			if table.get(epoch)?.is_none() {
				table.insert(epoch, sealed.encode().as_slice())?;
			}
		}
		write.commit()?;
		self.sealed(epoch)
	}

	/// Epoch `epoch`'s stored root, if it was sealed.
	fn sealed(&self, epoch: Epoch) -> Result<Option<SealedEpoch>, StorageError> {
		let read = self.db.begin_read()?;
		let table = read.open_table(SEALED)?;
		let sealed = table.get(epoch)?.map(|v| SealedEpoch::decode(&mut v.value()));
		sealed
			.transpose()
			.map_err(|source| StorageError::Corrupted { what: "sealed epoch", source })
	}

	/// Epoch `epoch`'s leaves, in its tree's order.
	fn leaves(&self, epoch: Epoch) -> Result<Vec<Hash>, StorageError> {
		let read = self.db.begin_read()?;
		let table = read.open_table(LEAVES)?;
		let leaves = table
			.range((epoch, 0, 0)..=(epoch, u64::MAX, u64::MAX))?
			.map(|entry| Ok(Hash::from(entry?.1.value())))
			.collect();
		leaves
	}

	/// Device `device`'s record `sequence`, if the ledger has it.
	pub fn record(
		&self,
		device: DeviceId,
		sequence: u64,
	) -> Result<Option<StoredRecord>, StorageError> {
		let read = self.db.begin_read()?;
		let table = read.open_table(RECORDS)?;
		let record = table.get((device, sequence))?.map(|v| decode_record(v.value()));
		record.transpose()
	}

	/// Device `device`'s record `sequence` with its inclusion proof, once its epoch is sealed.
	pub fn proof(
		&self,
		device: DeviceId,
		sequence: u64,
	) -> Result<Option<RecordProof>, StorageError> {
		let Some(stored) = self.record(device, sequence)? else { return Ok(None) };
		let Some(sealed) = self.sealed(stored.epoch)? else { return Ok(None) };
		let leaves = self.leaves(stored.epoch)?;
		// Its place in the tree: no two records of an epoch share a leaf, since each names its
		// device and sequence.
		let leaf = leaf_hash(&stored.record.leaf_bytes());
		let Some(index) = leaves.iter().position(|l| *l == leaf) else { return Ok(None) };
		let proof = InclusionProof::build_from_leaves(leaves, index as u32);
		Ok(proof.map(|proof| RecordProof { stored, sealed, proof }))
	}
}

/// The open epoch, as the `meta` table of a read or a write holds it.
fn open_epoch_in(meta: &impl ReadableTable<&'static str, u32>) -> Result<Epoch, StorageError> {
	Ok(meta.get(OPEN_EPOCH)?.map_or(0, |epoch| epoch.value()))
}

/// A [`StoredRecord`] read back from the `records` table.
fn decode_record(mut bytes: &[u8]) -> Result<StoredRecord, StorageError> {
	StoredRecord::decode(&mut bytes)
		.map_err(|source| StorageError::Corrupted { what: "record", source })
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		fixtures::Fleet,
		validate::{check, Checked},
	};
	use thingschain_primitives::merkle::root;

	fn checked(fleet: &Fleet, records: &[(usize, u64)]) -> Vec<Checked> {
		let signed = records.iter().map(|&(device, sequence)| fleet.record(device, sequence));
		check(&fleet.rules, &fleet.devices, signed.collect())
			.into_iter()
			.map(|outcome| outcome.expect("a good record"))
			.collect()
	}

	fn ledger() -> (tempfile::TempDir, Ledger) {
		let dir = tempfile::tempdir().unwrap();
		let ledger = Ledger::open(&dir.path().join("ledger.redb")).unwrap();
		(dir, ledger)
	}

	#[test]
	fn each_device_writes_its_sequences_in_order_without_gaps_or_reuse() {
		let fleet = Fleet::new(2);
		let (_dir, ledger) = ledger();
		let first = checked(&fleet, &[(0, 0), (0, 1), (1, 0), (0, 2)]);
		let outcomes = ledger.append(first.clone()).unwrap();
		assert!(outcomes.iter().all(|o| o.as_ref().is_ok_and(|s| s.epoch == 0 && !s.duplicate)));
		assert_eq!(ledger.next_sequence(fleet.device_id(0)).unwrap(), 3);
		assert_eq!(ledger.next_sequence(fleet.device_id(1)).unwrap(), 1);

		// The same record again (a lost acknowledgement), even signed again: acknowledged,
		// not stored twice. Another record with a used sequence, or one past a gap: refused.
		let mut resigned = first[1].clone();
		resigned.signature = fleet.sign(first[1].record.clone(), 0).signature;
		let reused = checked(&fleet, &[(0, 1)]).remove(0);
		let gap = checked(&fleet, &[(1, 5)]).remove(0);
		let outcomes = ledger.append(vec![resigned, reused, gap]).unwrap();
		assert_eq!(outcomes[0], Ok(Stored { epoch: 0, leaf: first[1].leaf, duplicate: true }));
		assert_eq!(outcomes[1], Err(Rejection::SequenceReused { sequence: 1 }));
		assert_eq!(outcomes[2], Err(Rejection::SequenceGap { expected: 1 }));
		assert_eq!(ledger.next_sequence(fleet.device_id(1)).unwrap(), 1, "nothing refused is kept");
		let kept = ledger.record(fleet.device_id(0), 1).unwrap().unwrap();
		assert_eq!(kept.record, first[1].record);
		assert_eq!(kept.signature, first[1].signature, "the first signature stays");
	}

	#[test]
	fn an_epochs_root_is_over_its_records_by_device_and_sequence_and_sealed_once() {
		let fleet = Fleet::new(3);
		let (dir, ledger) = ledger();
		// Arrival order interleaves the devices.
		let arrived = checked(&fleet, &[(2, 0), (0, 0), (1, 0), (0, 1), (2, 1)]);
		ledger.append(arrived.clone()).unwrap();
		assert_eq!(ledger.seal(0).unwrap(), None, "an open epoch has no root");
		assert_eq!(ledger.close_epoch().unwrap(), 0);
		let later = checked(&fleet, &[(0, 2)]);
		assert_eq!(ledger.append(later).unwrap()[0].as_ref().unwrap().epoch, 1);

		let mut ordered = arrived.clone();
		ordered.sort_by_key(|c| (c.record.device, c.record.sequence()));
		let expected = root(ordered.iter().map(|c| c.record.leaf_bytes()));
		let sealed = ledger.seal(0).unwrap().unwrap();
		assert_eq!(sealed, SealedEpoch { root: expected, leaves: 5 });

		// Every record proves against the root, with the bytes a verifier is given.
		for c in &arrived {
			let proven = ledger.proof(c.record.device, c.record.sequence()).unwrap().unwrap();
			assert_eq!(proven.sealed, sealed);
			assert!(proven.proof.verify(&sealed.root, &proven.stored.record.leaf_bytes()));
			assert!(!proven.proof.verify(&sealed.root, &later_bytes(&fleet)));
		}
		assert_eq!(ledger.proof(fleet.device_id(0), 2).unwrap(), None, "epoch 1 is open");

		// After a restart: the same root, the same records, the same next sequences.
		drop(ledger);
		let ledger = Ledger::open(&dir.path().join("ledger.redb")).unwrap();
		assert_eq!(ledger.seal(0).unwrap(), Some(sealed));
		assert_eq!(ledger.open_epoch().unwrap(), 1);
		assert_eq!(ledger.next_sequence(fleet.device_id(0)).unwrap(), 3);
	}

	/// The leaf bytes of a record no epoch holds.
	fn later_bytes(fleet: &Fleet) -> Vec<u8> {
		fleet.record(0, 9).record.leaf_bytes()
	}

	#[test]
	fn an_empty_epoch_has_the_zero_root() {
		let (_dir, ledger) = ledger();
		ledger.close_epoch().unwrap();
		assert_eq!(ledger.seal(0).unwrap(), Some(SealedEpoch { root: Hash::zero(), leaves: 0 }));
	}

	/// The ledger against a model: any mix of in-order records, retries, reused sequences,
	/// gaps and epoch ends, and every answer, next sequence and sealed root is the model's.
	mod model {
		use super::*;
		use proptest::prelude::*;
		use std::collections::BTreeMap;

		/// Each of 3 devices' records 0..6, and a second, different record 0..6 of each.
		fn pool(fleet: &Fleet) -> [Vec<Vec<Checked>>; 2] {
			let all = |_| {
				(0..3)
					.map(|device| checked(fleet, &(0..6).map(|s| (device, s)).collect::<Vec<_>>()))
					.collect()
			};
			[all(0), all(1)]
		}

		#[derive(Clone, Debug)]
		enum Op {
			/// Device `d` writes sequence `next + offset - 1` (its second version if `other`).
			Write {
				d: usize,
				offset: u64,
				other: bool,
			},
			CloseEpoch,
		}

		fn op() -> impl Strategy<Value = Op> {
			prop_oneof![
				6 => (0..3usize, 0..3u64, any::<bool>())
					.prop_map(|(d, offset, other)| Op::Write { d, offset, other }),
				1 => Just(Op::CloseEpoch),
			]
		}

		proptest! {
			#![proptest_config(ProptestConfig { cases: 24, ..Default::default() })]
			#[test]
			fn the_ledger_keeps_each_devices_log_and_each_epochs_root(ops in prop::collection::vec(op(), 1..40)) {
				let fleet = Fleet::new(3);
				let pool = pool(&fleet);
				let (_dir, ledger) = ledger();
				// The model: each device's stored records (sequence -> which version, epoch).
				let mut model: BTreeMap<(usize, u64), (bool, Epoch)> = BTreeMap::new();
				let mut epoch = 0;
				for op in ops {
					match op {
						Op::CloseEpoch => {
							prop_assert_eq!(ledger.close_epoch().unwrap(), epoch);
							epoch += 1;
						}
						Op::Write { d, offset, other } => {
							let next = model.keys().filter(|(device, _)| *device == d).count() as u64;
							let Some(sequence) = (next + offset).checked_sub(1).filter(|s| *s < 6) else { continue };
							let record = pool[other as usize][d][sequence as usize].clone();
							let outcome = ledger.append(vec![record.clone()]).unwrap().remove(0);
							let expected = match model.get(&(d, sequence)) {
								None if sequence == next => {
									model.insert((d, sequence), (other, epoch));
									Ok(Stored { epoch, leaf: record.leaf, duplicate: false })
								}
								None => Err(Rejection::SequenceGap { expected: next }),
								Some(&(version, at)) if version == other => {
									Ok(Stored { epoch: at, leaf: record.leaf, duplicate: true })
								}
								Some(_) => Err(Rejection::SequenceReused { sequence }),
							};
							prop_assert_eq!(outcome, expected);
						}
					}
				}
				for d in 0..3 {
					let count = model.keys().filter(|(device, _)| *device == d).count() as u64;
					prop_assert_eq!(ledger.next_sequence(fleet.device_id(d)).unwrap(), count);
				}
				for e in 0..epoch {
					let leaves = model
						.iter()
						.filter(|(_, (_, at))| *at == e)
						.map(|(&(d, s), &(version, _))| pool[version as usize][d][s as usize].record.leaf_bytes());
					prop_assert_eq!(ledger.seal(e).unwrap().unwrap().root, root(leaves));
				}
			}
		}
	}
}
