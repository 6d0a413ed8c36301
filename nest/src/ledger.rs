//! The service's ledger on this node: every acknowledged record, each device's next sequence,
//! the epochs and their roots, in one redb database. Every write is one transaction committed
//! with `Durability::Immediate` (fsynced before `commit` returns), so what the node
//! acknowledges survives a crash, and a crash mid-write leaves none of that write.
//!
//! ```text
//!  log            arrival             → the signed record    (SCALE), in the order stored here
//!  index          (device, sequence)  → (arrival, leaf hash)
//!  next_sequence  device              → the sequence it writes next
//!  epoch_ranges   (epoch, device)     → (start, end)        the epoch's cut: its tree, in order
//!  epoch_ends     (device, end)       → epoch               a record's epoch: the first end above it
//!  meta           "open_epoch"        → the epoch the next cut closes
//!                 "layout"            → how these tables are laid out (refused if not this node's)
//!  sealed         epoch               → root, leaves, arrivals   written with the cut, once
//!  certificates   epoch               → EpochCertificate    the quorum's proof of its root
//!  arrivals       number              → a peg arrival       WebChain's NestPeg.Arrivals, copied
//!  arrival_ends   end                 → epoch               an arrival's epoch: the first end above it
//!  peg_records    (device, sequence)  → (revert?, lock id)  the locks and reverts devices wrote
//!  peg_duties     lock id             → PegDuty             where a closed epoch's lock and revert are
//! ```
//!
//! An epoch's tree holds its devices' records, then the peg arrivals WebChain settled for the
//! service that the epoch's cut takes (`EpochCut::arrivals`): every node copies them from
//! WebChain's finalized state, in WebChain's order, so none is replicated between nodes.
//!
//! Records are not put in an epoch when they arrive: an epoch is closed, once the service's
//! agreement made its close final (`crate::agreement`), by a cut, which says
//! for each device that wrote in it the sequence after its last record there ([`EpochCut`]).
//! A device's sequences have no gaps, so a cut is a few numbers, and every node that holds the
//! records below a cut computes the same tree from it, whatever order they arrived in: the
//! epoch's records ordered by device, then sequence. The cut's records and its root are
//! written in one transaction; an epoch is never closed twice, so a node never has two roots
//! for one epoch, even across a crash.
//!
//! The records themselves go at the end of one log, and only small entries by device: a write
//! of records from thousands of devices changes a page of the index per device, and few of the
//! log, instead of a page per device of every table holding whole records (docs/performance.md:
//! the node's write path at 20,000 records/s).

mod agreement;
mod equivocations;

pub use agreement::{HeldRange, Unordered};
pub use equivocations::Equivocation;

use crate::{
	agreement::chain::EpochCertificate,
	error::{CloseError, Rejection, StorageError},
	tree::{siblings, Node, TreeBuilder},
	validate::Checked,
};
use codec::{Decode, Encode};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::{collections::BTreeMap, ops::Range, path::Path};
use thingschain_primitives::{
	ids::{DeviceId, Epoch, Hash},
	merkle::{leaf_hash, InclusionProof},
	nest::{NestBody, NestRecord, PegArrival, SignedNestRecord},
};

/// An account on WebChain, as peg records name their beneficiaries.
pub type AccountId = polkadot_sdk::sp_runtime::AccountId32;

/// Every record, by its arrival here (0, 1, …): its [`SignedNestRecord`] (SCALE). Written at
/// its end only.
const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
/// Each record's arrival (its key in [`LOG`]) and leaf hash, by device and sequence.
const INDEX: TableDefinition<(u64, u64), (u64, [u8; 32])> = TableDefinition::new("index");
/// Each device's next sequence.
const NEXT_SEQUENCE: TableDefinition<u64, u64> = TableDefinition::new("next_sequence");
/// Each closed epoch's devices, in its tree's order, with their range of sequences.
const EPOCH_RANGES: TableDefinition<(u32, u64), (u64, u64)> = TableDefinition::new("epoch_ranges");
/// The epoch each device's range ending before `end` is in.
const EPOCH_ENDS: TableDefinition<(u64, u64), u32> = TableDefinition::new("epoch_ends");
/// The open epoch, under [`OPEN_EPOCH`].
const META: TableDefinition<&str, u32> = TableDefinition::new("meta");
/// Each closed epoch's [`SealedEpoch`] (SCALE).
const SEALED: TableDefinition<u32, &[u8]> = TableDefinition::new("sealed");
/// Each closed epoch's [`EpochCertificate`] (SCALE), when this node has one.
const CERTIFICATES: TableDefinition<u32, &[u8]> = TableDefinition::new("certificates");

/// Each peg arrival of the service, by its number (WebChain's): its [`PegArrival`] (SCALE).
const ARRIVALS: TableDefinition<u64, &[u8]> = TableDefinition::new("arrivals");
/// The epoch whose arrivals end below each end, for the closed epochs that hold some.
const ARRIVAL_ENDS: TableDefinition<u64, u32> = TableDefinition::new("arrival_ends");
/// Each lock or revert a device wrote, by device and sequence: whether it is a revert, and
/// the lock's id.
const PEG_RECORDS: TableDefinition<(u64, u64), (bool, [u8; 32])> =
	TableDefinition::new("peg_records");
/// Each lock of the closed epochs whose peg this node may still have to act on, by lock id:
/// its [`PegDuty`] (SCALE).
const PEG_DUTIES: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("peg_duties");

/// The `meta` key of the open epoch.
const OPEN_EPOCH: &str = "open_epoch";
/// The `meta` key of the tables' layout.
const LAYOUT_KEY: &str = "layout";
/// The tables' layout this node reads and writes: 5 since closed epochs' trees are stored
/// (4: proofs rebuilt each epoch's tree, a ledger opened here gets its trees; 3: epochs
/// closed by a leader's signed cut; 2: records without kinds, epochs without peg arrivals; 1:
/// whole records by device, without this key).
const LAYOUT: u32 = 5;

/// The layout whose ledgers this node takes, storing their closed epochs' trees.
const LAYOUT_WITHOUT_TREES: u32 = 4;

/// The nodes of closed epochs' trees ([`crate::tree`]), by epoch, level (0: the leaves) and
/// index: a proof reads one a level.
const TREES: TableDefinition<(u32, u8, u64), [u8; 32]> = TableDefinition::new("trees");

/// Where each device's leaves start in an epoch's tree: `(epoch, device)` → leaf index.
const LEAF_OFFSETS: TableDefinition<(u32, u64), u64> = TableDefinition::new("leaf_offsets");

/// How many nodes of an epoch's tree being built are written together, before the close
/// (a few in the tests, so that every close there writes in parts).
const NODES_PER_WRITE: usize = if cfg!(test) { 8 } else { 1 << 16 };

/// An appended record, acknowledged: durably stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
	/// Its leaf hash.
	pub leaf: Hash,
	/// Whether the ledger had it already (a device's retry): acknowledged again, not stored twice.
	pub duplicate: bool,
}

/// Where `epoch` ends: for each device that wrote in it, in increasing order, the sequence
/// after its last record in the epoch. The epoch holds each device's records from the end of
/// its previous cut up to there.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct EpochCut {
	/// The epoch it closes.
	pub epoch: Epoch,
	/// `(device, end)`, by device.
	pub ends: Vec<(DeviceId, u64)>,
	/// How many of the service's peg arrivals the epochs up to this one hold: this one holds
	/// those from the previous epoch's count on, after the devices' records.
	pub arrivals: u64,
}

/// A closed epoch's cut with the root its tree must have, and the quorum's proof of that
/// root: what a node serves a super node, which closes the epoch with it
/// ([`crate::agreement::certified`]).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct CertifiedCut {
	/// The cut.
	pub cut: EpochCut,
	/// Its tree's root.
	pub root: Hash,
	/// The agreement's certificate of the close (a node that finalized the close from a far
	/// descendant's certificate has none).
	pub certificate: Option<EpochCertificate>,
}

/// A closed epoch's tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SealedEpoch {
	/// The Merkle root of its records: what the node attests on WebChain.
	pub root: Hash,
	/// How many records it holds.
	pub leaves: u32,
	/// Its cut's [`EpochCut::arrivals`].
	pub arrivals: u64,
}

/// Something an epoch holds, with the proof of its place in its closed epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof<T> {
	/// Its epoch.
	pub epoch: Epoch,
	/// It, as stored.
	pub stored: T,
	/// Its epoch's root and size.
	pub sealed: SealedEpoch,
	/// Its inclusion proof under that root.
	pub proof: InclusionProof,
}

/// A device's record with its proof.
pub type RecordProof = Proof<SignedNestRecord>;

/// A peg arrival with its proof.
pub type ArrivalProof = Proof<PegArrival<AccountId>>;

/// Where a device's record is in the closed epochs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Place {
	/// The epoch that holds it.
	pub epoch: Epoch,
	/// The device that wrote it.
	pub device: DeviceId,
	/// Its sequence.
	pub sequence: u64,
}

/// A lock of the closed epochs, and its revert if a closed epoch holds one: what the node
/// may still have to do for it on WebChain (claim it, contest its claim, settle it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct PegDuty {
	/// Where the lock is (`None` for a revert closed after its lock's duty was done).
	pub lock: Option<Place>,
	/// Where its revert is.
	pub revert: Option<Place>,
}

/// An epoch's tree as a cut makes it, before the close is written.
struct EpochTree {
	/// Each device's range of sequences in the epoch, and the index of its first leaf.
	ranges: Vec<(DeviceId, Range<u64>, u64)>,
	/// The peg records among them: whether each is a revert, its lock's id and its place.
	pegs: Vec<(bool, [u8; 32], Place)>,
	/// Its root, size and arrivals.
	sealed: SealedEpoch,
	/// The arrivals it holds.
	arrivals: Range<u64>,
	/// The nodes of its tree not yet written.
	nodes: Vec<Node>,
}

/// An epoch's tree being built as its leaves are read: its nodes are written as they come,
/// [`NODES_PER_WRITE`] at a time, while the epoch is open (nothing reads them yet; a close
/// that fails leaves them to be written over), so it holds one node per level, not its leaves.
struct TreeWriter<'a> {
	db: &'a Database,
	epoch: Epoch,
	builder: TreeBuilder,
	nodes: Vec<Node>,
}

impl<'a> TreeWriter<'a> {
	fn new(db: &'a Database, epoch: Epoch) -> TreeWriter<'a> {
		TreeWriter { db, epoch, builder: TreeBuilder::default(), nodes: Vec::new() }
	}

	fn push(&mut self, leaf: Hash) -> Result<(), StorageError> {
		self.builder.push(leaf, &mut self.nodes);
		if self.nodes.len() >= NODES_PER_WRITE {
			let mut write = self.db.begin_write()?;
			// Not fsynced: the next durable write (a device's, or the close) makes them
			// durable, and a node stopped first writes them again.
			write.set_durability(redb::Durability::None).map_err(redb::Error::from)?;
			store_nodes(&write, self.epoch, &self.nodes)?;
			write.commit()?;
			self.nodes.clear();
		}
		Ok(())
	}

	/// The root and size of the tree, and its nodes not yet written.
	fn finish(mut self) -> (Hash, u64, Vec<Node>) {
		let leaves = self.builder.leaves();
		let root = self.builder.finish(&mut self.nodes);
		(root, leaves, self.nodes)
	}
}

/// Writes `nodes` of epoch `epoch`'s tree.
fn store_nodes(
	write: &redb::WriteTransaction,
	epoch: Epoch,
	nodes: &[Node],
) -> Result<(), StorageError> {
	let mut trees = write.open_table(TREES)?;
	for node in nodes {
		trees.insert((epoch, node.level, node.index), node.hash.0)?;
	}
	Ok(())
}

/// Which leaf of an epoch a proof is for.
#[derive(Clone, Copy)]
enum Leaf {
	/// Device `.0`'s record `.1`.
	Record(DeviceId, u64),
	/// Arrival number `.0`.
	Arrival(u64),
}

/// The most bytes of records (SCALE) one read of a device's records returns, and always at
/// least one: an answer to a peer (libp2p frames of 8 MiB) or to a JSON-RPC caller (hex,
/// twice this, under jsonrpsee's 10 MB) fits whatever size the records have.
pub const MAX_READ_BYTES: usize = 4 << 20;

/// redb's page cache. Its default, 1 GiB, would be most of a node's memory under load;
/// writes go to the end of each table and reads are mostly of the open epoch, so a smaller
/// cache holds what is used (docs/performance.md has the node's memory at 20,000 records/s).
const CACHE_BYTES: usize = 128 << 20;

/// The service's ledger.
pub struct Ledger {
	db: Database,
}

impl Ledger {
	/// Opens the ledger at `path`, creating it if it is not there; refuses a ledger laid out
	/// as another version of the node writes it, rather than read it wrong.
	pub fn open(path: &Path) -> Result<Ledger, StorageError> {
		let db = redb::Builder::new().set_cache_size(CACHE_BYTES).create(path)?;
		let write = db.begin_write()?;
		{
			write.open_table(LOG)?;
			write.open_table(INDEX)?;
			write.open_table(NEXT_SEQUENCE)?;
			write.open_table(EPOCH_RANGES)?;
			write.open_table(EPOCH_ENDS)?;
			write.open_table(SEALED)?;
			write.open_table(CERTIFICATES)?;
			write.open_table(ARRIVALS)?;
			write.open_table(ARRIVAL_ENDS)?;
			write.open_table(PEG_RECORDS)?;
			write.open_table(PEG_DUTIES)?;
			write.open_table(TREES)?;
			write.open_table(LEAF_OFFSETS)?;
			write.open_table(equivocations::EQUIVOCATIONS)?;
			Self::open_agreement_tables(&write)?;
			let mut meta = write.open_table(META)?;
			let layout = meta.get(LAYOUT_KEY)?.map(|v| v.value());
			// A ledger without a layout but with an open epoch is of layout 1.
			let found = layout.or(meta.get(OPEN_EPOCH)?.map(|_| 1));
			match found {
				Some(LAYOUT | LAYOUT_WITHOUT_TREES) => {}
				Some(found) => return Err(StorageError::Layout { found, expected: LAYOUT }),
				None => {
					meta.insert(LAYOUT_KEY, LAYOUT)?;
					meta.insert(OPEN_EPOCH, 0)?;
				}
			}
		}
		write.commit()?;
		let ledger = Ledger { db };
		ledger.store_missing_trees()?;
		Ok(ledger)
	}

	/// Stores the trees of a layout-4 ledger's closed epochs, one epoch a write, then marks
	/// the ledger layout 5 (a node stopped meanwhile stores them again when it starts).
	fn store_missing_trees(&self) -> Result<(), StorageError> {
		let read = self.db.begin_read()?;
		let layout = read.open_table(META)?.get(LAYOUT_KEY)?.map(|v| v.value());
		if layout != Some(LAYOUT_WITHOUT_TREES) {
			return Ok(());
		}
		let (sealed, ranges) = (read.open_table(SEALED)?, read.open_table(EPOCH_RANGES)?);
		let (index, arrivals) = (read.open_table(INDEX)?, read.open_table(ARRIVALS)?);
		for entry in sealed.iter()? {
			let (epoch, closed) = entry?;
			let epoch = epoch.value();
			let closed = SealedEpoch::decode(&mut closed.value())
				.map_err(|source| StorageError::Corrupted { what: "sealed epoch", source })?;
			let mut tree = TreeWriter::new(&self.db, epoch);
			let mut offsets = Vec::new();
			for entry in ranges.range((epoch, 0)..=(epoch, u64::MAX))? {
				let (key, range) = entry?;
				let (device, (start, end)) = (key.value().1, range.value());
				offsets.push((device, tree.builder.leaves()));
				each_leaf(&index, device, start..end, |leaf| tree.push(leaf))?;
			}
			let settled = arrivals_before(&sealed, epoch)?;
			each_arrival(&arrivals, settled..closed.arrivals, |leaf| tree.push(leaf))?;
			let (root, _, nodes) = tree.finish();
			if root != closed.root {
				return Err(StorageError::Corrupted {
					what: "closed epoch",
					source: "its records do not make its root".into(),
				});
			}
			let write = self.db.begin_write()?;
			store_nodes(&write, epoch, &nodes)?;
			let mut leaf_offsets = write.open_table(LEAF_OFFSETS)?;
			for (device, offset) in offsets {
				leaf_offsets.insert((epoch, device), offset)?;
			}
			drop(leaf_offsets);
			write.commit()?;
		}
		let write = self.db.begin_write()?;
		write.open_table(META)?.insert(LAYOUT_KEY, LAYOUT)?;
		write.commit()?;
		Ok(())
	}

	/// Appends `records` in one durable write: each device's records in order, each either
	/// stored (the device's next sequence), acknowledged again (the ledger's record of that
	/// sequence is the same record: a retry), or refused (a reused sequence, or a gap). One
	/// outcome per record, in order; an `Err` stores nothing.
	pub fn append(
		&self,
		records: Vec<Checked>,
	) -> Result<Vec<Result<Stored, Rejection>>, StorageError> {
		let write = self.db.begin_write()?;
		let outcomes = {
			let mut log = write.open_table(LOG)?;
			let mut index = write.open_table(INDEX)?;
			let mut next = write.open_table(NEXT_SEQUENCE)?;
			let mut pegs = write.open_table(PEG_RECORDS)?;
			let mut arrival = log.last()?.map_or(0, |(last, _)| last.value() + 1);
			let mut outcomes = Vec::with_capacity(records.len());
			let mut equivocations = Vec::new();
			for checked in records {
				let (device, sequence) = (checked.record.device, checked.record.sequence());
				let expected = next.get(device)?.map_or(0, |s| s.value());
				let outcome = if sequence == expected && !names_a_lock(&pegs, &checked.record)? {
					Err(Rejection::InvalidPeg {
						reason: "a revert names one of the device's locks",
					})
				} else if sequence == expected {
					if let Some(peg) = peg_record(&checked.record) {
						pegs.insert((device, sequence), peg)?;
					}
					let record =
						SignedNestRecord { record: checked.record, signature: checked.signature };
					log.insert(arrival, record.encode().as_slice())?;
					index.insert((device, sequence), (arrival, checked.leaf.0))?;
					next.insert(device, sequence + 1)?;
					arrival += 1;
					Ok(Stored { leaf: checked.leaf, duplicate: false })
				} else if sequence > expected {
					Err(Rejection::SequenceGap { expected })
				} else {
					let earlier = index.get((device, sequence))?.map(|entry| entry.value().0);
					let earlier = earlier.map(|arrival| logged(&log, arrival)).transpose()?;
					match earlier {
						Some(earlier) if earlier.record == checked.record => {
							Ok(Stored { leaf: checked.leaf, duplicate: true })
						}
						Some(earlier) => {
							let other = SignedNestRecord {
								record: checked.record,
								signature: checked.signature,
							};
							equivocations.push((earlier, other));
							Err(Rejection::SequenceReused { sequence })
						}
						None => Err(Rejection::SequenceReused { sequence }),
					}
				};
				outcomes.push(outcome);
			}
			(outcomes, equivocations)
		};
		let (outcomes, equivocations) = outcomes;
		for (held, other) in equivocations {
			equivocations::keep(&write, held, other)?;
		}
		write.commit()?;
		Ok(outcomes)
	}

	/// The sequence device `device`'s next record must have.
	pub fn next_sequence(&self, device: DeviceId) -> Result<u64, StorageError> {
		let read = self.db.begin_read()?;
		Ok(read.open_table(NEXT_SEQUENCE)?.get(device)?.map_or(0, |s| s.value()))
	}

	/// The epoch the next cut closes.
	pub fn open_epoch(&self) -> Result<Epoch, StorageError> {
		open_epoch_in(&self.db.begin_read()?.open_table(META)?)
	}

	/// How many records the ledger holds (redb keeps a table's length: no scan).
	pub fn record_count(&self) -> Result<u64, StorageError> {
		Ok(self.db.begin_read()?.open_table(LOG)?.len()?)
	}

	/// The cut that closes the open epoch at `ends` (each device's next sequence, whose records
	/// below it are ordered) with the service's first `arrivals` peg arrivals: the devices
	/// whose end is past their last cut's.
	pub fn cut_at(
		&self,
		ends: &BTreeMap<DeviceId, u64>,
		arrivals: u64,
	) -> Result<EpochCut, StorageError> {
		let read = self.db.begin_read()?;
		let epoch = open_epoch_in(&read.open_table(META)?)?;
		let epoch_ends = read.open_table(EPOCH_ENDS)?;
		let mut cut = Vec::new();
		for (&device, &end) in ends {
			if end > settled_in(&epoch_ends, device)? {
				cut.push((device, end));
			}
		}
		Ok(EpochCut { epoch, ends: cut, arrivals })
	}

	/// The cut of every record and arrival stored so far: what the tests close epochs with,
	/// where no agreement runs.
	#[cfg(test)]
	pub(crate) fn heads(&self) -> Result<EpochCut, StorageError> {
		let read = self.db.begin_read()?;
		let mut ends = BTreeMap::new();
		for entry in read.open_table(NEXT_SEQUENCE)?.iter()? {
			let (device, next) = entry?;
			ends.insert(device.value(), next.value());
		}
		self.cut_at(&ends, read.open_table(ARRIVALS)?.len()?)
	}

	/// `cut` with the root its tree has here (none if it has no tree here).
	#[cfg(test)]
	pub(crate) fn certified(&self, cut: EpochCut) -> CertifiedCut {
		let root = self.epoch_tree(&cut).map_or(Hash::zero(), |tree| tree.sealed.root);
		CertifiedCut { cut, root, certificate: None }
	}

	/// Closes the open epoch at [`Self::heads`].
	#[cfg(test)]
	pub(crate) fn close_held(&self) -> Result<SealedEpoch, CloseError> {
		self.close_epoch(&self.certified(self.heads()?))
	}

	/// Closes the open epoch at `certified`'s cut: puts each device's records below its end
	/// (and after its previous cut) in the epoch, and stores the epoch's root and certificate,
	/// in one write, if the tree has the root the cut names. Whether the root is certified is
	/// for the caller to check.
	///
	/// The tree is built from a read snapshot, and only its outcome written: records below a
	/// stored device's next sequence never change, so devices' writes go on meanwhile (redb
	/// has one writer at a time), and the write checks that the epoch is still open.
	pub fn close_epoch(&self, certified: &CertifiedCut) -> Result<SealedEpoch, CloseError> {
		let cut = &certified.cut;
		let EpochTree { ranges, pegs, sealed, arrivals, nodes } = self.epoch_tree(cut)?;
		if sealed.root != certified.root {
			return Err(CloseError::Root { certified: certified.root, built: sealed.root });
		}
		let write = self.db.begin_write()?;
		{
			let mut meta = write.open_table(META)?;
			let open = open_epoch_in(&meta)?;
			if cut.epoch != open {
				return Err(CloseError::NotOpen { open });
			}
			let mut epoch_ranges = write.open_table(EPOCH_RANGES)?;
			let mut epoch_ends = write.open_table(EPOCH_ENDS)?;
			let mut leaf_offsets = write.open_table(LEAF_OFFSETS)?;
			for (device, range, offset) in ranges {
				epoch_ranges.insert((open, device), (range.start, range.end))?;
				epoch_ends.insert((device, range.end), open)?;
				leaf_offsets.insert((open, device), offset)?;
			}
			store_nodes(&write, open, &nodes)?;
			if !arrivals.is_empty() {
				write.open_table(ARRIVAL_ENDS)?.insert(arrivals.end, open)?;
			}
			let mut duties = write.open_table(PEG_DUTIES)?;
			for (revert, lock_id, place) in pegs {
				let mut duty = duty_in(&duties, lock_id)?.unwrap_or_default();
				// The first revert of a lock is the one that can void its claim in time.
				let slot = if revert { &mut duty.revert } else { &mut duty.lock };
				slot.get_or_insert(place);
				duties.insert(lock_id, duty.encode().as_slice())?;
			}
			write.open_table(SEALED)?.insert(open, sealed.encode().as_slice())?;
			if let Some(certificate) = &certified.certificate {
				let certificate = certificate.encode();
				write.open_table(CERTIFICATES)?.insert(open, certificate.as_slice())?;
			}
			meta.insert(OPEN_EPOCH, open + 1)?;
		}
		write.commit()?;
		Ok(sealed)
	}

	/// The tree of the epoch `cut` closes, read from one snapshot in which that epoch is open.
	fn epoch_tree(&self, cut: &EpochCut) -> Result<EpochTree, CloseError> {
		let read = self.db.begin_read()?;
		let open = open_epoch_in(&read.open_table(META)?)?;
		if cut.epoch != open {
			return Err(CloseError::NotOpen { open });
		}
		let next = read.open_table(NEXT_SEQUENCE)?;
		let index = read.open_table(INDEX)?;
		let epoch_ends = read.open_table(EPOCH_ENDS)?;
		let peg_records = read.open_table(PEG_RECORDS)?;
		let mut ranges = Vec::with_capacity(cut.ends.len());
		let mut pegs = Vec::new();
		let mut tree = TreeWriter::new(&self.db, open);
		let mut previous = None;
		for &(device, end) in &cut.ends {
			let start = settled_in(&epoch_ends, device)?;
			if previous >= Some(device) || end <= start {
				return Err(CloseError::Malformed { device });
			}
			previous = Some(device);
			let have = next.get(device)?.map_or(0, |s| s.value());
			if have < end {
				return Err(CloseError::Missing { device, have, need: end });
			}
			ranges.push((device, start..end, tree.builder.leaves()));
			each_leaf(&index, device, start..end, |leaf| tree.push(leaf))?;
			for entry in peg_records.range((device, start)..(device, end))? {
				let (key, peg) = entry?;
				let ((_, sequence), (revert, lock_id)) = (key.value(), peg.value());
				pegs.push((revert, lock_id, Place { epoch: open, device, sequence }));
			}
		}
		let settled = arrivals_before(&read.open_table(SEALED)?, open)?;
		if cut.arrivals < settled {
			return Err(CloseError::ArrivalsBack { settled, cut: cut.arrivals });
		}
		let arrivals = read.open_table(ARRIVALS)?;
		let have = arrivals.len()?;
		if have < cut.arrivals {
			return Err(CloseError::MissingArrivals { have, need: cut.arrivals });
		}
		each_arrival(&arrivals, settled..cut.arrivals, |leaf| tree.push(leaf))?;
		let (root, leaves, nodes) = tree.finish();
		// A proof numbers leaves with a u32: an epoch holds fewer.
		let leaves = u32::try_from(leaves).map_err(|_| CloseError::Malformed {
			device: cut.ends.last().map_or(0, |(device, _)| *device),
		})?;
		let sealed = SealedEpoch { leaves, root, arrivals: cut.arrivals };
		Ok(EpochTree { ranges, pegs, sealed, arrivals: settled..cut.arrivals, nodes })
	}

	/// Closed epoch `epoch`'s root; `None` while it is open.
	pub fn sealed(&self, epoch: Epoch) -> Result<Option<SealedEpoch>, StorageError> {
		sealed_in(&self.db.begin_read()?.open_table(SEALED)?, epoch)
	}

	/// The cut that closed epoch `epoch`, with its root and certificate; `None` while it is
	/// open.
	pub fn cut(&self, epoch: Epoch) -> Result<Option<CertifiedCut>, StorageError> {
		let read = self.db.begin_read()?;
		let Some(sealed) = sealed_in(&read.open_table(SEALED)?, epoch)? else {
			return Ok(None);
		};
		let ranges = read.open_table(EPOCH_RANGES)?;
		let ends = ranges
			.range((epoch, 0)..=(epoch, u64::MAX))?
			.map(|entry| {
				let (key, range) = entry?;
				Ok((key.value().1, range.value().1))
			})
			.collect::<Result<_, StorageError>>()?;
		let certificate = read.open_table(CERTIFICATES)?.get(epoch)?.map(|bytes| {
			EpochCertificate::decode(&mut bytes.value())
				.map_err(|source| StorageError::Corrupted { what: "epoch certificate", source })
		});
		Ok(Some(CertifiedCut {
			cut: EpochCut { epoch, ends, arrivals: sealed.arrivals },
			root: sealed.root,
			certificate: certificate.transpose()?,
		}))
	}

	/// Device `device`'s record `sequence`, if the ledger has it.
	pub fn record(
		&self,
		device: DeviceId,
		sequence: u64,
	) -> Result<Option<SignedNestRecord>, StorageError> {
		Ok(self.records(device, sequence, 1)?.pop())
	}

	/// Device `device`'s records from sequence `from` on, at most `count` of them and
	/// [`MAX_READ_BYTES`]: fewer than asked for does not mean there are no more.
	pub fn records(
		&self,
		device: DeviceId,
		from: u64,
		count: usize,
	) -> Result<Vec<SignedNestRecord>, StorageError> {
		self.records_within(device, from, count, MAX_READ_BYTES)
	}

	/// [`Self::records`] within `max_bytes`.
	fn records_within(
		&self,
		device: DeviceId,
		from: u64,
		count: usize,
		max_bytes: usize,
	) -> Result<Vec<SignedNestRecord>, StorageError> {
		let read = self.db.begin_read()?;
		let (index, log) = (read.open_table(INDEX)?, read.open_table(LOG)?);
		let mut records = Vec::new();
		let mut bytes = 0;
		for entry in index.range((device, from)..=(device, u64::MAX))?.take(count) {
			let record = logged(&log, entry?.1.value().0)?;
			bytes += record.encoded_size();
			if bytes > max_bytes && !records.is_empty() {
				break;
			}
			records.push(record);
		}
		Ok(records)
	}

	/// Device `device`'s record `sequence` with its inclusion proof, once its epoch is closed.
	/// Read from one snapshot.
	pub fn proof(
		&self,
		device: DeviceId,
		sequence: u64,
	) -> Result<Option<RecordProof>, StorageError> {
		let read = self.db.begin_read()?;
		let index = read.open_table(INDEX)?;
		let Some(arrival) = index.get((device, sequence))?.map(|entry| entry.value().0) else {
			return Ok(None);
		};
		let stored = logged(&read.open_table(LOG)?, arrival)?;
		let epoch_ends = read.open_table(EPOCH_ENDS)?;
		let epoch = epoch_ends.range((device, sequence + 1)..=(device, u64::MAX))?.next();
		let Some(epoch) = epoch.transpose()?.map(|(_, epoch)| epoch.value()) else {
			return Ok(None);
		};
		prove_in(&read, epoch, Leaf::Record(device, sequence), stored)
	}

	/// Peg arrival `number` with its inclusion proof, once its epoch is closed.
	pub fn arrival_proof(&self, number: u64) -> Result<Option<ArrivalProof>, StorageError> {
		let read = self.db.begin_read()?;
		let Some(stored) = arrival_in(&read.open_table(ARRIVALS)?, number)? else {
			return Ok(None);
		};
		let ends = read.open_table(ARRIVAL_ENDS)?;
		let epoch = ends.range(number + 1..)?.next().transpose()?.map(|(_, epoch)| epoch.value());
		let Some(epoch) = epoch else { return Ok(None) };
		prove_in(&read, epoch, Leaf::Arrival(number), stored)
	}

	/// How many of the service's peg arrivals the ledger holds.
	pub fn arrival_count(&self) -> Result<u64, StorageError> {
		Ok(self.db.begin_read()?.open_table(ARRIVALS)?.len()?)
	}

	/// The leaves of peg arrivals `numbers`, in order, if the ledger holds them all.
	pub fn arrival_leaves(&self, numbers: Range<u64>) -> Result<Option<Vec<Hash>>, StorageError> {
		let read = self.db.begin_read()?;
		let arrivals = read.open_table(ARRIVALS)?;
		if arrivals.len()? < numbers.end {
			return Ok(None);
		}
		let mut leaves = Vec::new();
		each_arrival(&arrivals, numbers, |leaf| {
			leaves.push(leaf);
			Ok(())
		})?;
		Ok(Some(leaves))
	}

	/// Stores the arrivals of `arrivals` that come next (numbered from the count held), in
	/// one write: WebChain's finalized arrivals, which never change.
	pub fn add_arrivals(&self, arrivals: &[PegArrival<AccountId>]) -> Result<u64, StorageError> {
		let write = self.db.begin_write()?;
		let count = {
			let mut table = write.open_table(ARRIVALS)?;
			let mut count = table.len()?;
			let held = count;
			for arrival in arrivals.iter().filter(|a| a.index >= held) {
				if arrival.index != count {
					break;
				}
				table.insert(count, arrival.encode().as_slice())?;
				count += 1;
			}
			count
		};
		write.commit()?;
		Ok(count)
	}

	/// Every lock this node may still have to act on for, by lock id.
	pub fn peg_duties(&self) -> Result<Vec<(Hash, PegDuty)>, StorageError> {
		let read = self.db.begin_read()?;
		let duties = read.open_table(PEG_DUTIES)?;
		let mut all = Vec::new();
		for entry in duties.iter()? {
			let (lock_id, duty) = entry?;
			all.push((Hash::from(lock_id.value()), decode_duty(duty.value())?));
		}
		Ok(all)
	}

	/// Forgets lock `lock_id`'s duty: WebChain settled it one way or the other.
	pub fn finish_peg_duty(&self, lock_id: Hash) -> Result<(), StorageError> {
		let write = self.db.begin_write()?;
		write.open_table(PEG_DUTIES)?.remove(lock_id.0)?;
		write.commit()?;
		Ok(())
	}
}

/// `leaf` of closed epoch `epoch`, holding `stored`, with its proof: the epoch's tree is built
/// again from the snapshot `read`.
fn prove_in<T>(
	read: &redb::ReadTransaction,
	epoch: Epoch,
	leaf: Leaf,
	stored: T,
) -> Result<Option<Proof<T>>, StorageError> {
	let sealed_table = read.open_table(SEALED)?;
	let Some(sealed) = sealed_in(&sealed_table, epoch)? else { return Ok(None) };
	// The epoch's leaves in its tree's order: each device's range, then its arrivals.
	let position = match leaf {
		Leaf::Record(device, sequence) => {
			let offset = read.open_table(LEAF_OFFSETS)?.get((epoch, device))?.map(|o| o.value());
			let range = read.open_table(EPOCH_RANGES)?.get((epoch, device))?.map(|r| r.value());
			let (Some(offset), Some((start, _))) = (offset, range) else { return Ok(None) };
			offset + sequence - start
		}
		Leaf::Arrival(number) => {
			let settled = arrivals_before(&sealed_table, epoch)?;
			u64::from(sealed.leaves) - (sealed.arrivals - settled) + number - settled
		}
	};
	let trees = read.open_table(TREES)?;
	let siblings = siblings(sealed.leaves.into(), position, |level, at| {
		Ok(trees.get((epoch, level, at))?.map(|node| Hash::from(node.value())))
	})?;
	let Some(siblings) = siblings else { return Ok(None) };
	let proof = InclusionProof {
		leaf_index: position as u32,
		number_of_leaves: sealed.leaves,
		siblings: siblings.try_into().map_err(|_| StorageError::Corrupted {
			what: "epoch tree",
			source: "a proof deeper than 32 levels".into(),
		})?,
	};
	Ok(Some(Proof { epoch, stored, sealed, proof }))
}

/// Whether `record` is a peg record, and the lock it writes or reverts: its `peg_records`
/// entry.
fn peg_record(record: &NestRecord) -> Option<(bool, [u8; 32])> {
	match (record.peg_lock(), record.peg_revert()) {
		(Some(lock), _) => Some((false, lock.lock_id.0)),
		(_, Some(revert)) => Some((true, revert.lock_id.0)),
		_ => None,
	}
}

/// Whether `record` is no revert, or the revert of a lock its device wrote. A revert of
/// anything else would leave every node a duty nothing ever ends.
fn names_a_lock(
	pegs: &impl ReadableTable<(u64, u64), (bool, [u8; 32])>,
	record: &NestRecord,
) -> Result<bool, StorageError> {
	let NestBody::Revert { lock_sequence, .. } = record.body else { return Ok(true) };
	let lock = pegs.get((record.device, lock_sequence))?;
	Ok(lock.is_some_and(|entry| !entry.value().0))
}

/// Lock `lock_id`'s duty, from the `peg_duties` table of a read or a write.
fn duty_in(
	duties: &impl ReadableTable<[u8; 32], &'static [u8]>,
	lock_id: [u8; 32],
) -> Result<Option<PegDuty>, StorageError> {
	duties.get(lock_id)?.map(|duty| decode_duty(duty.value())).transpose()
}

fn decode_duty(mut bytes: &[u8]) -> Result<PegDuty, StorageError> {
	PegDuty::decode(&mut bytes)
		.map_err(|source| StorageError::Corrupted { what: "peg duty", source })
}

/// Arrival `number`, from the `arrivals` table of a read or a write.
fn arrival_in(
	arrivals: &impl ReadableTable<u64, &'static [u8]>,
	number: u64,
) -> Result<Option<PegArrival<AccountId>>, StorageError> {
	let arrival = arrivals.get(number)?.map(|v| PegArrival::decode(&mut v.value()));
	arrival.transpose().map_err(|source| StorageError::Corrupted { what: "peg arrival", source })
}

/// Hands the leaves of arrivals `range` to `leaf`, in order: the end of an epoch's tree.
fn each_arrival(
	arrivals: &impl ReadableTable<u64, &'static [u8]>,
	range: Range<u64>,
	mut leaf: impl FnMut(Hash) -> Result<(), StorageError>,
) -> Result<(), StorageError> {
	for number in range {
		let arrival = arrival_in(arrivals, number)?.ok_or(StorageError::Corrupted {
			what: "arrivals",
			source: "an arrival an epoch holds is missing".into(),
		})?;
		leaf(leaf_hash(&arrival.leaf_bytes()))?;
	}
	Ok(())
}

/// The open epoch, as the `meta` table of a read or a write holds it.
fn open_epoch_in(meta: &impl ReadableTable<&'static str, u32>) -> Result<Epoch, StorageError> {
	Ok(meta.get(OPEN_EPOCH)?.map_or(0, |epoch| epoch.value()))
}

/// Where device `device`'s next cut starts: the end of its last one (0 before its first).
fn settled_in(
	epoch_ends: &impl ReadableTable<(u64, u64), u32>,
	device: DeviceId,
) -> Result<u64, StorageError> {
	let last = epoch_ends.range((device, 0)..=(device, u64::MAX))?.next_back();
	Ok(last.transpose()?.map_or(0, |(key, _)| key.value().1))
}

/// Hands device `device`'s leaves of sequences `range` to `leaf`, in order: its part of an
/// epoch's tree.
fn each_leaf(
	index: &impl ReadableTable<(u64, u64), (u64, [u8; 32])>,
	device: DeviceId,
	range: Range<u64>,
	mut leaf: impl FnMut(Hash) -> Result<(), StorageError>,
) -> Result<(), StorageError> {
	for entry in index.range((device, range.start)..(device, range.end))? {
		leaf(Hash::from(entry?.1.value().1))?;
	}
	Ok(())
}

/// The record that arrived `arrival`-th, from the log of a read or a write.
fn logged(
	log: &impl ReadableTable<u64, &'static [u8]>,
	arrival: u64,
) -> Result<SignedNestRecord, StorageError> {
	let entry = log.get(arrival)?.ok_or(StorageError::Corrupted {
		what: "log",
		source: "an indexed record is missing".into(),
	})?;
	decode_record(entry.value())
}

/// How many arrivals the epochs before `epoch` hold, from the `sealed` table of a read or a
/// write: where `epoch`'s arrivals start.
fn arrivals_before(
	sealed: &impl ReadableTable<u32, &'static [u8]>,
	epoch: Epoch,
) -> Result<u64, StorageError> {
	let Some(last) = epoch.checked_sub(1) else { return Ok(0) };
	Ok(sealed_in(sealed, last)?.map_or(0, |sealed| sealed.arrivals))
}

/// Epoch `epoch`'s [`SealedEpoch`], as the `sealed` table of a read or a write holds it.
fn sealed_in(
	table: &impl ReadableTable<u32, &'static [u8]>,
	epoch: Epoch,
) -> Result<Option<SealedEpoch>, StorageError> {
	let sealed = table.get(epoch)?.map(|v| SealedEpoch::decode(&mut v.value()));
	sealed.transpose().map_err(|source| StorageError::Corrupted { what: "sealed epoch", source })
}

/// A [`SignedNestRecord`] read back from the `records` table.
fn decode_record(mut bytes: &[u8]) -> Result<SignedNestRecord, StorageError> {
	SignedNestRecord::decode(&mut bytes)
		.map_err(|source| StorageError::Corrupted { what: "record", source })
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{fixtures::Fleet, validate::Checked};
	use thingschain_primitives::merkle::root;
	use thingschain_primitives::nest::NestBody;

	fn checked(fleet: &Fleet, records: &[(usize, u64)]) -> Vec<Checked> {
		let signed = records.iter().map(|&(device, sequence)| fleet.record(device, sequence));
		fleet
			.check(signed.collect())
			.into_iter()
			.map(|outcome| outcome.expect("a good record"))
			.collect()
	}

	fn ledger() -> (tempfile::TempDir, Ledger) {
		let dir = tempfile::tempdir().unwrap();
		let ledger = Ledger::open(&dir.path().join("ledger.redb")).unwrap();
		(dir, ledger)
	}

	/// Closes the open epoch with every record stored.
	fn close(ledger: &Ledger) -> SealedEpoch {
		ledger.close_held().unwrap()
	}

	#[test]
	fn each_device_writes_its_sequences_in_order_without_gaps_or_reuse() {
		let fleet = Fleet::new(2);
		let (_dir, ledger) = ledger();
		let first = checked(&fleet, &[(0, 0), (0, 1), (1, 0), (0, 2)]);
		let outcomes = ledger.append(first.clone()).unwrap();
		assert!(outcomes.iter().all(|o| o.as_ref().is_ok_and(|s| !s.duplicate)));
		assert_eq!(ledger.next_sequence(fleet.device_id(0)).unwrap(), 3);
		assert_eq!(ledger.next_sequence(fleet.device_id(1)).unwrap(), 1);

		// The same record again (a lost acknowledgement), even signed again: acknowledged,
		// not stored twice. Another record with a used sequence, or one past a gap: refused.
		let mut resigned = first[1].clone();
		resigned.signature = fleet.sign(first[1].record.clone(), 0).signature;
		let reused = checked(&fleet, &[(0, 1)]).remove(0);
		let gap = checked(&fleet, &[(1, 5)]).remove(0);
		let outcomes = ledger.append(vec![resigned, reused.clone(), gap]).unwrap();
		assert_eq!(outcomes[0], Ok(Stored { leaf: first[1].leaf, duplicate: true }));
		assert_eq!(outcomes[1], Err(Rejection::SequenceReused { sequence: 1 }));
		assert_eq!(outcomes[2], Err(Rejection::SequenceGap { expected: 1 }));
		assert_eq!(ledger.next_sequence(fleet.device_id(1)).unwrap(), 1, "nothing refused is kept");
		let kept = ledger.record(fleet.device_id(0), 1).unwrap().unwrap();
		assert_eq!(kept.record, first[1].record);
		assert_eq!(kept.signature, first[1].signature, "the first signature stays");

		// The device signed two records for sequence 1: the pair is kept as evidence (once),
		// a retry or a gap is none.
		let evidence = Equivocation {
			held: SignedNestRecord { record: first[1].record.clone(), signature: kept.signature },
			other: SignedNestRecord { record: reused.record.clone(), signature: reused.signature },
		};
		let device = fleet.device_id(0);
		assert_eq!(ledger.equivocations(device, 0, 10).unwrap(), vec![evidence.clone()]);
		ledger.append(checked(&fleet, &[(0, 1)])).unwrap();
		assert_eq!(ledger.equivocations(0, 0, 10).unwrap(), vec![evidence], "the first pair");
		assert_eq!(ledger.equivocations(device, 2, 10).unwrap(), vec![]);
		assert_eq!(ledger.equivocation_count().unwrap(), 1);
	}

	#[test]
	fn an_epochs_root_is_over_its_records_by_device_and_sequence_and_sealed_once() {
		let fleet = Fleet::new(3);
		let (dir, ledger) = ledger();
		// Arrival order interleaves the devices.
		let arrived = checked(&fleet, &[(2, 0), (0, 0), (1, 0), (0, 1), (2, 1)]);
		ledger.append(arrived.clone()).unwrap();
		assert_eq!(ledger.sealed(0).unwrap(), None, "an open epoch has no root");
		let cut = ledger.heads().unwrap();
		let ids = |d: usize| fleet.device_id(d);
		assert_eq!(
			cut,
			EpochCut { epoch: 0, ends: vec![(ids(0), 2), (ids(1), 1), (ids(2), 2)], arrivals: 0 }
		);
		// A cut whose tree here lacks the root it was certified with is refused, unwritten.
		let certificate = EpochCertificate { bodies: vec![], finalization: vec![7; 9] };
		let certified =
			CertifiedCut { certificate: Some(certificate), ..ledger.certified(cut.clone()) };
		let wrong = CertifiedCut { root: Hash::repeat_byte(1), ..certified.clone() };
		let refused = ledger.close_epoch(&wrong).unwrap_err();
		assert!(matches!(refused, CloseError::Root { built, .. } if built == certified.root));
		assert_eq!(ledger.open_epoch().unwrap(), 0);
		let sealed = ledger.close_epoch(&certified).unwrap();
		let later = checked(&fleet, &[(0, 2)]);
		ledger.append(later).unwrap();
		assert_eq!(
			ledger.heads().unwrap(),
			EpochCut { epoch: 1, ends: vec![(ids(0), 3)], arrivals: 0 }
		);

		let mut ordered = arrived.clone();
		ordered.sort_by_key(|c| (c.record.device, c.record.sequence()));
		let expected = root(ordered.iter().map(|c| c.record.leaf_bytes()));
		assert_eq!(sealed, SealedEpoch { root: expected, leaves: 5, arrivals: 0 });
		assert_eq!(ledger.sealed(0).unwrap(), Some(sealed));
		assert_eq!(certified.root, sealed.root);
		assert_eq!(ledger.cut(0).unwrap(), Some(certified.clone()));

		// Every record proves against the root, with the bytes a verifier is given.
		for c in &arrived {
			let proven = ledger.proof(c.record.device, c.record.sequence()).unwrap().unwrap();
			assert_eq!((proven.epoch, proven.sealed), (0, sealed));
			assert!(proven.proof.verify(&sealed.root, &proven.stored.record.leaf_bytes()));
			assert!(!proven.proof.verify(&sealed.root, &later_bytes(&fleet)));
		}
		assert_eq!(ledger.proof(ids(0), 2).unwrap(), None, "epoch 1 is open");

		// An epoch is closed once.
		assert!(matches!(
			ledger.close_epoch(&ledger.certified(cut.clone())),
			Err(CloseError::NotOpen { open: 1 })
		));

		// After a restart: the same root, cut, records and next sequences.
		drop(ledger);
		let ledger = Ledger::open(&dir.path().join("ledger.redb")).unwrap();
		assert_eq!(ledger.sealed(0).unwrap(), Some(sealed));
		assert_eq!(ledger.cut(0).unwrap(), Some(certified));
		assert_eq!(ledger.open_epoch().unwrap(), 1);
		assert_eq!(ledger.next_sequence(ids(0)).unwrap(), 3);
		let closed = close(&ledger);
		let proven = ledger.proof(ids(0), 2).unwrap().unwrap();
		assert_eq!((proven.epoch, proven.sealed, proven.proof.leaf_index), (1, closed, 0));
	}

	#[test]
	fn a_ledger_of_another_layout_is_refused_not_misread() {
		let (dir, ledger) = ledger();
		drop(ledger);
		let path = dir.path().join("ledger.redb");
		assert!(Ledger::open(&path).is_ok(), "its own layout opens again");
		// A ledger of the first layout: an open epoch, no layout key.
		let db = Database::open(&path).unwrap();
		let write = db.begin_write().unwrap();
		write.open_table(META).unwrap().remove(LAYOUT_KEY).unwrap();
		write.commit().unwrap();
		drop(db);
		let error = Ledger::open(&path).err().expect("refused");
		assert!(matches!(error, StorageError::Layout { found: 1, expected: LAYOUT }), "{error}");
	}

	#[test]
	fn a_layout_4_ledger_gets_its_closed_epochs_trees_when_opened() {
		let fleet = Fleet::new(3);
		let (dir, ledger) = ledger();
		let records: Vec<_> = (0..3).flat_map(|d| (0..7).map(move |s| (d, s))).collect();
		ledger.append(checked(&fleet, &records[..12])).unwrap();
		ledger.add_arrivals(&[arrival(0), arrival(1), arrival(2)]).unwrap();
		close(&ledger);
		ledger.append(checked(&fleet, &records[12..])).unwrap();
		close(&ledger);
		let proofs = |ledger: &Ledger| {
			let mut proofs: Vec<_> = (records.iter())
				.map(|&(d, s)| ledger.proof(fleet.device_id(d), s).unwrap().unwrap().proof)
				.collect();
			proofs.extend((0..3).map(|n| ledger.arrival_proof(n).unwrap().unwrap().proof));
			proofs
		};
		let before = proofs(&ledger);
		drop(ledger);
		// As layout 4 left it: no trees, no offsets.
		let path = dir.path().join("ledger.redb");
		let db = Database::open(&path).unwrap();
		let write = db.begin_write().unwrap();
		write.delete_table(TREES).unwrap();
		write.delete_table(LEAF_OFFSETS).unwrap();
		write.open_table(META).unwrap().insert(LAYOUT_KEY, LAYOUT_WITHOUT_TREES).unwrap();
		write.commit().unwrap();
		drop(db);
		let ledger = Ledger::open(&path).unwrap();
		assert_eq!(proofs(&ledger), before);
		let read = ledger.db.begin_read().unwrap();
		assert_eq!(
			read.open_table(META).unwrap().get(LAYOUT_KEY).unwrap().unwrap().value(),
			LAYOUT
		);
	}

	#[test]
	fn a_read_of_a_devices_records_is_held_to_its_bytes_and_never_empty() {
		let fleet = Fleet::new(1);
		let (_dir, ledger) = ledger();
		ledger.append(checked(&fleet, &[(0, 0), (0, 1), (0, 2), (0, 3), (0, 4)])).unwrap();
		assert_eq!(ledger.record_count().unwrap(), 5);
		let device = fleet.device_id(0);
		let all = ledger.records(device, 0, 10).unwrap();
		assert_eq!(all.len(), 5);
		let size = all[0].encoded_size();
		// Two and a half records' bytes: two; less than one record's: still one, so a reader
		// always gets on.
		let read = |max_bytes| ledger.records_within(device, 1, 10, max_bytes).unwrap();
		assert_eq!(read(size * 5 / 2), all[1..3]);
		assert_eq!(read(size / 2), all[1..2]);
	}

	/// The leaf bytes of a record no epoch holds.
	fn later_bytes(fleet: &Fleet) -> Vec<u8> {
		fleet.record(0, 9).record.leaf_bytes()
	}

	#[test]
	fn a_cut_closes_an_epoch_only_over_records_the_node_holds_and_after_each_devices_last() {
		let fleet = Fleet::new(2);
		let (_dir, ledger) = ledger();
		ledger.append(checked(&fleet, &[(0, 0), (0, 1), (0, 2), (1, 0)])).unwrap();
		let (a, b) = (fleet.device_id(0), fleet.device_id(1));
		let refused = |cut: EpochCut| {
			let error = ledger.close_epoch(&ledger.certified(cut)).unwrap_err();
			assert_eq!(ledger.open_epoch().unwrap(), 0, "{error}: nothing written");
			error
		};
		let cut = |ends: Vec<(DeviceId, u64)>| EpochCut { epoch: 0, ends, arrivals: 0 };
		assert!(matches!(
			refused(cut(vec![(a, 2), (b, 3)])),
			CloseError::Missing { device, have: 1, need: 3 } if device == b
		));
		assert!(
			matches!(refused(cut(vec![(b, 1), (a, 1)])), CloseError::Malformed { device } if device == a)
		);
		assert!(matches!(refused(cut(vec![(a, 1), (a, 2)])), CloseError::Malformed { .. }));
		assert!(matches!(refused(cut(vec![(a, 0)])), CloseError::Malformed { .. }));
		assert!(matches!(
			refused(EpochCut { epoch: 1, ends: vec![], arrivals: 0 }),
			CloseError::NotOpen { open: 0 }
		));

		// A cut below what the node holds (the leader had fewer): the rest waits for the next
		// epoch, and an end before a device's last cut is refused there.
		let first = ledger.close_epoch(&ledger.certified(cut(vec![(a, 1)]))).unwrap();
		assert_eq!(first.leaves, 1);
		let stale = EpochCut { epoch: 1, ends: vec![(a, 1)], arrivals: 0 };
		assert!(matches!(
			ledger.close_epoch(&ledger.certified(stale)),
			Err(CloseError::Malformed { .. })
		));
		assert_eq!(ledger.heads().unwrap().ends, vec![(a, 3), (b, 1)]);
		assert_eq!(close(&ledger).leaves, 3);
	}

	/// Arrival `index` of a lock from service 1 to the fixtures' service.
	fn arrival(index: u64) -> PegArrival<AccountId> {
		let lock = thingschain_primitives::nest::PegLock {
			lock_id: Hash::repeat_byte(index as u8),
			source: 1,
			destination: crate::fixtures::SERVICE,
			beneficiary: [9; 32].into(),
			payload: Hash::zero(),
		};
		PegArrival { index, lock, holder: [8; 32].into() }
	}

	#[test]
	fn an_epoch_holds_its_devices_records_then_the_arrivals_its_cut_takes() {
		let fleet = Fleet::new(2);
		let (_dir, ledger) = ledger();
		ledger.append(checked(&fleet, &[(1, 0), (0, 0)])).unwrap();
		// WebChain's arrivals come in order: one already held or one past a gap is left out.
		assert_eq!(ledger.add_arrivals(&[arrival(0), arrival(1)]).unwrap(), 2);
		assert_eq!(ledger.add_arrivals(&[arrival(1), arrival(3)]).unwrap(), 2);
		let cut = ledger.heads().unwrap();
		assert_eq!(cut.arrivals, 2);
		let refused = |arrivals| {
			let cut = EpochCut { arrivals, ..cut.clone() };
			ledger.close_epoch(&ledger.certified(cut)).unwrap_err()
		};
		assert!(matches!(refused(3), CloseError::MissingArrivals { have: 2, need: 3 }));
		let sealed = ledger.close_epoch(&ledger.certified(cut.clone())).unwrap();
		assert_eq!((sealed.leaves, sealed.arrivals), (4, 2));
		let stored = |device| ledger.record(fleet.device_id(device), 0).unwrap().unwrap();
		let leaves = [stored(0).record.leaf_bytes(), stored(1).record.leaf_bytes()];
		let (first, second) = (arrival(0).leaf_bytes(), arrival(1).leaf_bytes());
		assert_eq!(sealed.root, root([&leaves[0], &leaves[1], &first, &second]));
		assert_eq!(ledger.cut(0).unwrap().unwrap().cut, cut);

		// The next epoch holds the arrivals after the first's, and none before.
		ledger.add_arrivals(&[arrival(2)]).unwrap();
		let behind = EpochCut { epoch: 1, ends: vec![], arrivals: 1 };
		let back = ledger.close_epoch(&ledger.certified(behind)).unwrap_err();
		assert!(matches!(back, CloseError::ArrivalsBack { settled: 2, cut: 1 }));
		let next = close(&ledger);
		assert_eq!(
			(next.leaves, next.arrivals, next.root),
			(1, 3, root([arrival(2).leaf_bytes()]))
		);

		// Each arrival proves against its own epoch's root; none is proven before it is held.
		for (number, epoch, sealed) in [(0, 0, sealed), (1, 0, sealed), (2, 1, next)] {
			let proven = ledger.arrival_proof(number).unwrap().unwrap();
			assert_eq!(
				(proven.epoch, proven.sealed, &proven.stored),
				(epoch, sealed, &arrival(number))
			);
			assert!(proven.proof.verify(&sealed.root, &arrival(number).leaf_bytes()));
		}
		assert_eq!(ledger.arrival_proof(3).unwrap(), None);
		// The devices' records still prove with the arrivals in their tree.
		let proven = ledger.proof(fleet.device_id(1), 0).unwrap().unwrap();
		assert!(proven.proof.verify(&sealed.root, &leaves[1]));
	}

	#[test]
	fn a_closed_epochs_locks_and_reverts_are_the_nodes_peg_duties() {
		let fleet = Fleet::new(2);
		let (_dir, ledger) = ledger();
		let (other, (a, b)) =
			(crate::fixtures::SERVICE + 1, (fleet.device_id(0), fleet.device_id(1)));
		let lock = fleet.lock(0, 1, other);
		let records = vec![fleet.record(0, 0), lock.clone(), fleet.lock(1, 0, other)];
		let checked = fleet.check(records);
		ledger.append(checked.into_iter().map(Result::unwrap).collect()).unwrap();
		assert_eq!(
			ledger.peg_duties().unwrap(),
			vec![],
			"an open epoch's locks wait for its close"
		);
		close(&ledger);
		let lock_id = |signed: &SignedNestRecord| signed.record.peg_lock().unwrap().lock_id;
		let place = |epoch, device, sequence| Some(Place { epoch, device, sequence });
		let mut duties = ledger.peg_duties().unwrap();
		duties.sort_by_key(|(_, duty)| duty.lock.map(|place| place.device));
		let other_lock = fleet.lock(1, 0, other);
		assert_eq!(
			duties,
			vec![
				(lock_id(&lock), PegDuty { lock: place(0, a, 1), revert: None }),
				(lock_id(&other_lock), PegDuty { lock: place(0, b, 0), revert: None }),
			]
		);

		// A revert in a later epoch joins its lock's duty; a later revert of the same lock
		// does not move it out of the claim's window. A revert of a reading is refused.
		let revert = |sequence, lock_sequence| {
			let revert = fleet.signed(0, NestBody::Revert { sequence, lock_sequence });
			fleet.check(vec![revert]).remove(0).unwrap()
		};
		let outcomes = ledger.append(vec![revert(2, 0)]).unwrap();
		let refused = Rejection::InvalidPeg { reason: "a revert names one of the device's locks" };
		assert_eq!(outcomes, vec![Err(refused)]);
		ledger.append(vec![revert(2, 1)]).unwrap();
		close(&ledger);
		ledger.append(vec![revert(3, 1)]).unwrap();
		close(&ledger);
		let duty = ledger.peg_duties().unwrap().into_iter().find(|(id, _)| *id == lock_id(&lock));
		assert_eq!(duty.unwrap().1, PegDuty { lock: place(0, a, 1), revert: place(1, a, 2) });
		ledger.finish_peg_duty(lock_id(&lock)).unwrap();
		assert_eq!(ledger.peg_duties().unwrap().len(), 1);
	}

	#[test]
	fn an_empty_epoch_has_the_zero_root() {
		let (_dir, ledger) = ledger();
		assert_eq!(close(&ledger), SealedEpoch { root: Hash::zero(), leaves: 0, arrivals: 0 });
		assert_eq!(
			ledger.cut(0).unwrap().unwrap().cut,
			EpochCut { epoch: 0, ends: vec![], arrivals: 0 }
		);
	}

	/// The ledger against a model: any mix of in-order records, retries, reused sequences,
	/// gaps and cuts (of everything, or leaving each device's last records for later), and
	/// every answer, next sequence, root and proof is the model's.
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
			Write { d: usize, offset: u64, other: bool },
			/// Closes the open epoch, leaving each device's last `keep` records for later.
			Close { keep: u64 },
		}

		fn op() -> impl Strategy<Value = Op> {
			prop_oneof![
				6 => (0..3usize, 0..3u64, any::<bool>())
					.prop_map(|(d, offset, other)| Op::Write { d, offset, other }),
				1 => (0..2u64).prop_map(|keep| Op::Close { keep }),
			]
		}

		proptest! {
			#![proptest_config(ProptestConfig { cases: 24, ..Default::default() })]
			#[test]
			fn the_ledger_keeps_each_devices_log_and_each_epochs_root(ops in prop::collection::vec(op(), 1..40)) {
				let fleet = Fleet::new(3);
				let pool = pool(&fleet);
				let (_dir, ledger) = ledger();
				// The model: each device's stored records (sequence -> which version, and the
				// epoch once cut), and where its next cut starts.
				let mut model: BTreeMap<(usize, u64), (bool, Option<Epoch>)> = BTreeMap::new();
				let mut settled = [0u64; 3];
				let mut epoch = 0;
				for op in ops {
					match op {
						Op::Close { keep } => {
							let mut ends = Vec::new();
							for (d, settled) in settled.iter_mut().enumerate() {
								let next = model.keys().filter(|(device, _)| *device == d).count() as u64;
								let end = next.saturating_sub(keep);
								if end > *settled {
									ends.push((fleet.device_id(d), end));
									for s in *settled..end {
										model.get_mut(&(d, s)).unwrap().1 = Some(epoch);
									}
									*settled = end;
								}
							}
							ledger.close_epoch(&ledger.certified(EpochCut { epoch, ends, arrivals: 0 })).unwrap();
							epoch += 1;
						}
						Op::Write { d, offset, other } => {
							let next = model.keys().filter(|(device, _)| *device == d).count() as u64;
							let Some(sequence) = (next + offset).checked_sub(1).filter(|s| *s < 6) else { continue };
							let record = pool[other as usize][d][sequence as usize].clone();
							let outcome = ledger.append(vec![record.clone()]).unwrap().remove(0);
							let expected = match model.get(&(d, sequence)) {
								None if sequence == next => {
									model.insert((d, sequence), (other, None));
									Ok(Stored { leaf: record.leaf, duplicate: false })
								}
								None => Err(Rejection::SequenceGap { expected: next }),
								Some(&(version, _)) if version == other => {
									Ok(Stored { leaf: record.leaf, duplicate: true })
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
				let bytes = |d: usize, s: u64, version: bool| pool[version as usize][d][s as usize].record.leaf_bytes();
				for e in 0..epoch {
					let leaves = model
						.iter()
						.filter(|(_, (_, at))| *at == Some(e))
						.map(|(&(d, s), &(version, _))| bytes(d, s, version));
					prop_assert_eq!(ledger.sealed(e).unwrap().unwrap().root, root(leaves));
				}
				for (&(d, s), &(version, at)) in &model {
					let proven = ledger.proof(fleet.device_id(d), s).unwrap();
					prop_assert_eq!(proven.as_ref().map(|p| p.epoch), at);
					if let Some(proven) = proven {
						prop_assert!(proven.proof.verify(&proven.sealed.root, &bytes(d, s, version)));
					}
				}
			}
		}
	}
}
