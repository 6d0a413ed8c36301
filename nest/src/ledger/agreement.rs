//! What the agreement keeps in the ledger ([`crate::agreement::log`]), beside the records:
//!
//! ```text
//!  proposals  digest                       → Proposal (SCALE)   bodies, to verify a replay
//!  agreed     "finalized"                  → (digest, State)    the last final proposal
//!  variants   (device, from, to, leaves)   → Vec<SignedNestRecord>
//!             a range a proposal named whose records differ from those held here (the
//!             device signed two records for a sequence): kept until one of them is final
//! ```
//!
//! A final proposal that names a variant makes it the device's records here: they are
//! appended to the log and the index points at them, in the write that records the
//! proposal as final.

use super::{logged, peg_record, Ledger, INDEX, LOG, NEXT_SEQUENCE, PEG_RECORDS};
use crate::{
	agreement::chain::{leaves_hash, Proposal, Range, State},
	error::StorageError,
};
use codec::{Decode, Encode};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use std::collections::BTreeMap;
use thingschain_primitives::{
	ids::{DeviceId, Hash},
	merkle::leaf_hash,
	nest::SignedNestRecord,
};

/// Proposals' bodies, by digest.
const PROPOSALS: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("proposals");
/// The last final proposal and the log after it, under [`FINALIZED`].
const AGREED: TableDefinition<&str, &[u8]> = TableDefinition::new("agreed");
/// The `agreed` key of the last final proposal.
const FINALIZED: &str = "finalized";
/// Ranges held as other records than the index's, by range.
const VARIANTS: TableDefinition<(u64, u64, u64, [u8; 32]), &[u8]> =
	TableDefinition::new("variants");

/// A device's records this node holds beyond where the agreement ordered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unordered {
	/// The device.
	pub device: DeviceId,
	/// Its first record's sequence.
	pub from: u64,
	/// The records' leaves, in sequence order.
	pub leaves: Vec<Hash>,
}

/// The records of a range this node holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldRange {
	/// Their leaves, in sequence order.
	pub leaves: Vec<Hash>,
	/// Whether they are a variant kept beside the device's records here.
	pub variant: bool,
}

fn key(range: &Range) -> (u64, u64, u64, [u8; 32]) {
	(range.device, range.from, range.to, range.leaves.0)
}

fn corrupted(what: &'static str) -> impl FnOnce(codec::Error) -> StorageError {
	move |source| StorageError::Corrupted { what, source }
}

impl Ledger {
	/// Makes the agreement's tables (on a ledger of an older node, too: they are new ones).
	pub(super) fn open_agreement_tables(
		write: &redb::WriteTransaction,
	) -> Result<(), StorageError> {
		write.open_table(PROPOSALS)?;
		write.open_table(AGREED)?;
		write.open_table(VARIANTS)?;
		Ok(())
	}

	/// Each device's records held beyond `ends`, devices in increasing order, at most `limit`
	/// records in all.
	pub fn unordered(
		&self,
		ends: &BTreeMap<DeviceId, u64>,
		limit: u64,
	) -> Result<Vec<Unordered>, StorageError> {
		let read = self.db.begin_read()?;
		let index = read.open_table(INDEX)?;
		let mut found = Vec::new();
		let mut left = limit;
		for entry in read.open_table(NEXT_SEQUENCE)?.iter()? {
			let (device, next) = entry?;
			let (device, next) = (device.value(), next.value());
			let from = ends.get(&device).copied().unwrap_or(0);
			if next <= from {
				continue;
			}
			if left == 0 {
				break;
			}
			let to = next.min(from.saturating_add(left));
			let mut leaves = Vec::new();
			for entry in index.range((device, from)..(device, to))? {
				leaves.push(Hash::from(entry?.1.value().1));
			}
			left -= leaves.len() as u64;
			found.push(Unordered { device, from, leaves });
		}
		Ok(found)
	}

	/// The leaves of the records the index holds at each of `places` (device, sequence).
	pub fn leaves_at(&self, places: &[(DeviceId, u64)]) -> Result<Vec<Option<Hash>>, StorageError> {
		let read = self.db.begin_read()?;
		let index = read.open_table(INDEX)?;
		let leaf = |place: &(DeviceId, u64)| -> Result<_, StorageError> {
			Ok(index.get(*place)?.map(|entry| Hash::from(entry.value().1)))
		};
		places.iter().map(leaf).collect()
	}

	/// The leaves of the records `range` names, if this node holds them: the index's (read
	/// from the index alone, no record decoded), or a variant kept.
	pub fn held_range(&self, range: &Range) -> Result<Option<HeldRange>, StorageError> {
		let read = self.db.begin_read()?;
		if let Some(variant) = read.open_table(VARIANTS)?.get(key(range))? {
			let records = Vec::<SignedNestRecord>::decode(&mut variant.value())
				.map_err(corrupted("variant"))?;
			let leaves = records.iter().map(|r| leaf_hash(&r.record.leaf_bytes())).collect();
			return Ok(Some(HeldRange { leaves, variant: true }));
		}
		let index = read.open_table(INDEX)?;
		let mut leaves = Vec::new();
		for entry in index.range((range.device, range.from)..(range.device, range.to))? {
			leaves.push(Hash::from(entry?.1.value().1));
		}
		let whole = leaves.len() as u64 == range.len() && leaves_hash(&leaves) == range.leaves;
		Ok(whole.then_some(HeldRange { leaves, variant: false }))
	}

	/// The records `range` names, if this node holds them: the index's, or a variant kept.
	pub fn range_records(
		&self,
		range: &Range,
	) -> Result<Option<Vec<SignedNestRecord>>, StorageError> {
		let read = self.db.begin_read()?;
		if let Some(variant) = read.open_table(VARIANTS)?.get(key(range))? {
			let records = Vec::<SignedNestRecord>::decode(&mut variant.value());
			return records.map(Some).map_err(corrupted("variant"));
		}
		let (index, log) = (read.open_table(INDEX)?, read.open_table(LOG)?);
		let mut records = Vec::new();
		let mut leaves = Vec::new();
		for entry in index.range((range.device, range.from)..(range.device, range.to))? {
			let (arrival, leaf) = entry?.1.value();
			records.push(logged(&log, arrival)?);
			leaves.push(Hash::from(leaf));
		}
		let whole = records.len() as u64 == range.len() && leaves_hash(&leaves) == range.leaves;
		Ok(whole.then_some(records))
	}

	/// Keeps `records` as `range`'s variant; they are the range's (the caller checked them).
	pub fn keep_variant(
		&self,
		range: &Range,
		records: &[SignedNestRecord],
	) -> Result<(), StorageError> {
		let write = self.db.begin_write()?;
		write.open_table(VARIANTS)?.insert(key(range), records.encode().as_slice())?;
		super::equivocations::keep_first_differing(&write, records)?;
		write.commit()?;
		Ok(())
	}

	/// Keeps a proposal's body.
	pub fn save_proposal(
		&self,
		digest: &[u8; 32],
		proposal: &Proposal,
	) -> Result<(), StorageError> {
		let write = self.db.begin_write()?;
		write.open_table(PROPOSALS)?.insert(*digest, proposal.encode().as_slice())?;
		write.commit()?;
		Ok(())
	}

	/// A kept proposal's body.
	pub fn proposal(&self, digest: &[u8; 32]) -> Result<Option<Proposal>, StorageError> {
		let read = self.db.begin_read()?;
		let proposals = read.open_table(PROPOSALS)?;
		let body = proposals.get(*digest)?;
		body.map(|b| Proposal::decode(&mut b.value())).transpose().map_err(corrupted("proposal"))
	}

	/// The proposal `digest` names and its ancestors, newest first: at most `count`, within
	/// `max_bytes` (one at least), and up to the first whose body is not kept here.
	pub fn proposal_chain(
		&self,
		digest: &[u8; 32],
		count: usize,
		max_bytes: usize,
	) -> Result<Vec<Proposal>, StorageError> {
		let read = self.db.begin_read()?;
		let proposals = read.open_table(PROPOSALS)?;
		let (mut chain, mut bytes, mut at) = (Vec::new(), 0, *digest);
		while chain.len() < count {
			let Some(body) = proposals.get(at)? else { break };
			bytes += body.value().len();
			if bytes > max_bytes && !chain.is_empty() {
				break;
			}
			let proposal = Proposal::decode(&mut body.value()).map_err(corrupted("proposal"))?;
			at = proposal.parent;
			chain.push(proposal);
		}
		Ok(chain)
	}

	/// The last final proposal and the log after it.
	pub fn agreed(&self) -> Result<Option<([u8; 32], State)>, StorageError> {
		let read = self.db.begin_read()?;
		let table = read.open_table(AGREED)?;
		let agreed = table.get(FINALIZED)?;
		let decode = |bytes: &[u8]| <([u8; 32], State)>::decode(&mut &bytes[..]);
		agreed.map(|a| decode(a.value())).transpose().map_err(corrupted("final proposal"))
	}

	/// Makes `proposal` final, in one write: where one of its ranges is a variant, its records
	/// become the device's records here, and the device's other variants it settles are
	/// dropped. Bodies are all kept: a peer catching up from far behind asks for them.
	pub fn finalize_agreed(
		&self,
		digest: &[u8; 32],
		proposal: &Proposal,
		state: &State,
	) -> Result<(), StorageError> {
		let write = self.db.begin_write()?;
		{
			let mut variants = write.open_table(VARIANTS)?;
			let mut log = write.open_table(LOG)?;
			let mut index = write.open_table(INDEX)?;
			let mut next = write.open_table(NEXT_SEQUENCE)?;
			let mut pegs = write.open_table(PEG_RECORDS)?;
			let mut arrival = log.last()?.map_or(0, |(last, _)| last.value() + 1);
			for range in &proposal.ranges {
				if let Some(variant) = variants.remove(key(range))? {
					let records = Vec::<SignedNestRecord>::decode(&mut variant.value())
						.map_err(corrupted("variant"))?;
					drop(variant);
					for signed in records {
						let (device, sequence) = (signed.record.device, signed.record.sequence());
						let leaf = leaf_hash(&signed.record.leaf_bytes());
						match peg_record(&signed.record) {
							Some(peg) => pegs.insert((device, sequence), peg)?,
							None => pegs.remove((device, sequence))?,
						};
						log.insert(arrival, signed.encode().as_slice())?;
						index.insert((device, sequence), (arrival, leaf.0))?;
						arrival += 1;
					}
					let held = next.get(range.device)?.map_or(0, |n| n.value());
					next.insert(range.device, held.max(range.to))?;
				}
				let settled: Vec<_> = variants
					.range((range.device, 0, 0, [0; 32])..(range.device, range.to, 0, [0; 32]))?
					.map(|entry| entry.map(|(key, _)| key.value()))
					.collect::<Result<_, _>>()?;
				for settled in settled {
					variants.remove(settled)?;
				}
			}
			write.open_table(AGREED)?.insert(FINALIZED, (digest, state).encode().as_slice())?;
		}
		write.commit()?;
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::fixtures::Fleet;
	use std::sync::Arc;

	fn open() -> (tempfile::TempDir, Ledger) {
		let dir = tempfile::tempdir().unwrap();
		let ledger = Ledger::open(&dir.path().join("ledger.redb")).unwrap();
		(dir, ledger)
	}

	fn append(fleet: &Fleet, ledger: &Ledger, records: Vec<SignedNestRecord>) {
		let checked = fleet.check(records);
		let checked = checked.into_iter().map(|outcome| outcome.unwrap()).collect();
		assert!(ledger.append(checked).unwrap().iter().all(Result::is_ok));
	}

	/// The range of `records`, one device's in sequence order.
	fn range_of(records: &[SignedNestRecord]) -> Range {
		let leaves: Vec<Hash> = records.iter().map(|r| leaf_hash(&r.record.leaf_bytes())).collect();
		let (first, last) = (&records[0].record, &records[records.len() - 1].record);
		Range {
			device: first.device,
			from: first.sequence(),
			to: last.sequence() + 1,
			leaves: leaves_hash(&leaves),
		}
	}

	#[test]
	fn unordered_records_are_each_devices_beyond_its_end_in_device_order() {
		let fleet = Fleet::new(2);
		let (_dir, ledger) = open();
		let (zero, one) = (fleet.device_id(0), fleet.device_id(1));
		append(&fleet, &ledger, (0..3).map(|s| fleet.record(0, s)).collect());
		append(&fleet, &ledger, (0..2).map(|s| fleet.record(1, s)).collect());
		let all = ledger.unordered(&BTreeMap::new(), 100).unwrap();
		let shape: Vec<_> = all.iter().map(|u| (u.device, u.from, u.leaves.len())).collect();
		let mut expected = vec![(zero, 0, 3), (one, 0, 2)];
		expected.sort();
		assert_eq!(shape, expected);
		let limited = ledger.unordered(&BTreeMap::new(), 4).unwrap();
		assert_eq!(limited.iter().map(|u| u.leaves.len()).sum::<usize>(), 4, "at most the limit");
		let beyond = ledger.unordered(&BTreeMap::from([(zero, 2), (one, 2)]), 100).unwrap();
		assert_eq!(beyond.len(), 1);
		assert_eq!((beyond[0].device, beyond[0].from, beyond[0].leaves.len()), (zero, 2, 1));
		let held = ledger.records(zero, 2, 1).unwrap();
		assert_eq!(beyond[0].leaves, vec![leaf_hash(&held[0].record.leaf_bytes())]);
	}

	#[test]
	fn a_devices_other_records_wait_beside_its_own_until_a_final_proposal_names_them() {
		let fleet = Fleet::new(1);
		let (_dir, ledger) = open();
		let device = fleet.device_id(0);
		append(&fleet, &ledger, (0..3).map(|s| fleet.record(0, s)).collect());
		let held = ledger.records(device, 0, 3).unwrap();
		let primary = range_of(&held[1..]);
		assert_eq!(ledger.range_records(&primary).unwrap(), Some(held[1..].to_vec()));
		let leaves = held[1..].iter().map(|r| leaf_hash(&r.record.leaf_bytes())).collect();
		let found = ledger.held_range(&primary).unwrap();
		assert_eq!(found, Some(HeldRange { leaves, variant: false }));

		// The device signed other records for sequences 1 and 2 (a reading seals afresh
		// each time): a range naming them is not held here until they are kept.
		let other: Vec<SignedNestRecord> = (1..3).map(|s| fleet.record(0, s)).collect();
		let variant = range_of(&other);
		assert_ne!(variant, primary);
		assert_eq!(ledger.range_records(&variant).unwrap(), None);
		ledger.keep_variant(&variant, &other).unwrap();
		assert_eq!(ledger.range_records(&variant).unwrap(), Some(other.clone()));
		let evidence = ledger.equivocations(device, 0, 10).unwrap();
		let pair = |e: &super::super::Equivocation| (e.held.clone(), e.other.clone());
		assert_eq!(
			evidence.iter().map(pair).collect::<Vec<_>>(),
			[(held[1].clone(), other[0].clone())]
		);
		let leaves: Vec<Hash> = other.iter().map(|r| leaf_hash(&r.record.leaf_bytes())).collect();
		let found = ledger.held_range(&variant).unwrap();
		assert_eq!(found, Some(HeldRange { leaves, variant: true }));
		// Another variant of sequence 1 alone, which the final proposal settles too.
		let third = vec![fleet.record(0, 1)];
		ledger.keep_variant(&range_of(&third), &third).unwrap();

		// A final proposal names record 0 as held and the variant after it.
		let proposal = Proposal {
			parent: [0; 32],
			height: 1,
			block: 4,
			ranges: vec![range_of(&held[..1]), variant.clone()],
			close: None,
		};
		let state = State {
			height: 1,
			block: 4,
			ends: Arc::new(BTreeMap::from([(device, 3)])),
			..State::default()
		};
		ledger.save_proposal(&[1; 32], &proposal).unwrap();
		ledger.finalize_agreed(&[1; 32], &proposal, &state).unwrap();
		assert_eq!(ledger.agreed().unwrap(), Some(([1; 32], state)));
		assert_eq!(ledger.proposal(&[1; 32]).unwrap(), Some(proposal));
		assert_eq!(ledger.records(device, 0, 3).unwrap(), [&held[..1], &other[..]].concat());
		assert_eq!(ledger.range_records(&primary).unwrap(), None, "the losing records are gone");
		assert_eq!(ledger.range_records(&range_of(&third)).unwrap(), None, "settled, dropped");
		assert_eq!(ledger.next_sequence(device).unwrap(), 3);
	}

	#[test]
	fn a_proposals_chain_is_served_newest_first_within_its_bounds() {
		let (_dir, ledger) = open();
		let mut chain: Vec<Proposal> = Vec::new();
		for height in 1..=4 {
			let parent = chain.last().map_or([0; 32], |parent| parent.digest().0);
			let proposal = Proposal { parent, height, block: height, ranges: vec![], close: None };
			ledger.save_proposal(&proposal.digest().0, &proposal).unwrap();
			chain.push(proposal);
		}
		let newest = chain[3].digest().0;
		let served = ledger.proposal_chain(&newest, 10, 1 << 20).unwrap();
		assert_eq!(served, chain.iter().rev().cloned().collect::<Vec<_>>(), "down to the first");
		assert_eq!(
			ledger.proposal_chain(&newest, 2, 1 << 20).unwrap(),
			[&chain[3], &chain[2]].map(Clone::clone)
		);
		assert_eq!(
			ledger.proposal_chain(&newest, 10, 1).unwrap(),
			[chain[3].clone()],
			"one at least"
		);
		assert!(ledger.proposal_chain(&[9; 32], 10, 1 << 20).unwrap().is_empty());
	}
}
