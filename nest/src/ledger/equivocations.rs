//! The evidence of devices that signed two records for one sequence: a device's own two
//! signatures, which anyone checks with its key. A node keeps the first pair it sees for each
//! sequence, whichever record the agreement orders (every node orders the same one), and
//! serves them to the service's owner (`nestnode_equivocations`, and the
//! `thingschain_nest_equivocations` gauge).
//!
//! ```text
//!  a device's write or a peer's gossip: sequence s again, another record ─► refused
//!  (SequenceReused), the pair kept
//!  a proposal names another record for s than the one held ─► kept beside it (a variant),
//!  the pair kept
//!  equivocations: (device, s) → Equivocation { held, other }
//! ```

use super::{logged, Ledger, INDEX, LOG};
use crate::error::StorageError;
use codec::{Decode, Encode};
use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use thingschain_primitives::{ids::DeviceId, nest::SignedNestRecord};

/// The first evidence kept of each (device, sequence).
pub(super) const EQUIVOCATIONS: TableDefinition<(u64, u64), &[u8]> =
	TableDefinition::new("equivocations");

/// Two records a device signed for one sequence.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Equivocation {
	/// The one this node held first.
	pub held: SignedNestRecord,
	/// The other.
	pub other: SignedNestRecord,
}

/// Keeps `held` and `other`, two records of one device and sequence, unless that sequence's
/// evidence is kept already.
pub(super) fn keep(
	write: &redb::WriteTransaction,
	held: SignedNestRecord,
	other: SignedNestRecord,
) -> Result<(), StorageError> {
	let mut table = write.open_table(EQUIVOCATIONS)?;
	let place = (held.record.device, held.record.sequence());
	if table.get(place)?.is_none() {
		table.insert(place, Equivocation { held, other }.encode().as_slice())?;
	}
	Ok(())
}

/// Keeps, for the first of `records` (a device's, in sequence order) that differs from the
/// record the index holds for its sequence, the pair.
pub(super) fn keep_first_differing(
	write: &redb::WriteTransaction,
	records: &[SignedNestRecord],
) -> Result<(), StorageError> {
	let (index, log) = (write.open_table(INDEX)?, write.open_table(LOG)?);
	for record in records {
		let place = (record.record.device, record.record.sequence());
		let Some(arrival) = index.get(place)?.map(|entry| entry.value().0) else { return Ok(()) };
		let held = logged(&log, arrival)?;
		if held.record != record.record {
			return keep(write, held, record.clone());
		}
	}
	Ok(())
}

impl Ledger {
	/// The evidence kept, from device `device`'s sequence `sequence` on, in order: at most
	/// `count`.
	pub fn equivocations(
		&self,
		device: DeviceId,
		sequence: u64,
		count: usize,
	) -> Result<Vec<Equivocation>, StorageError> {
		let read = self.db.begin_read()?;
		let table = read.open_table(EQUIVOCATIONS)?;
		let mut found = Vec::new();
		for entry in table.range((device, sequence)..)?.take(count) {
			let (_, evidence) = entry?;
			let evidence = Equivocation::decode(&mut evidence.value())
				.map_err(|source| StorageError::Corrupted { what: "equivocation", source })?;
			found.push(evidence);
		}
		Ok(found)
	}

	/// How many sequences' evidence the ledger keeps.
	pub fn equivocation_count(&self) -> Result<u64, StorageError> {
		Ok(self.db.begin_read()?.open_table(EQUIVOCATIONS)?.len()?)
	}
}
