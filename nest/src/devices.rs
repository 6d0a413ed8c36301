//! The devices a service node takes records from: those WebChain's registry
//! (`pallets/devices`) has for the node's service, and where the service's owner lets them
//! lock value (`ServiceRegistry.Policies`), read from finalized blocks, **block by block**.
//!
//! A device's write is checked against the registry as the node last read it. The records
//! under a proposal are checked against it as it stood at the proposal's WebChain block,
//! whichever node checks and whenever: so a device removed, suspended or re-keyed after
//! writing resolves the same way on every node. The cache therefore keeps each change with
//! the block that made it, back to the block of the agreement's last final proposal (no
//! later proposal names an older block).
//!
//! ```text
//!  WebChain block  ... 100 ─────── 104 ─────────── 109 ──► (read through 112)
//!  device 7        admitted (key A)  re-keyed (key B)  removed
//!  at(102) = key A   at(106) = key B   at(110) = none   at(99): forgotten (before 100)
//! ```

use crate::agreement::chain::BlockNumber;
use std::{
	collections::HashMap,
	sync::{Arc, RwLock, RwLockReadGuard},
};
use thingschain_primitives::{
	envelope::ReaderKey,
	ids::{DeviceId, ServiceId},
};
use tokio::sync::watch;

/// What the registry says of a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceEntry {
	/// The account of the key the device signs with.
	pub key: [u8; 32],
	/// Whether it may write (not suspended by its owner).
	pub active: bool,
	/// Whether the service's owner admitted it, and let it lock value.
	pub admission: Admission,
	/// The readers its owner granted (`Payloads.Readers`): the only recipients its envelopes
	/// may name, as on WebChain.
	pub readers: Vec<ReaderKey>,
}

/// Where a device stands with its service's owner (`pallets/devices`' `MemberStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
	/// Its owner asked to join; the service's owner has not admitted it: its records are
	/// refused.
	Requested,
	/// Admitted; `may_lock`: the service's owner let it lock value on the peg.
	Admitted {
		/// Whether its locks are taken.
		may_lock: bool,
	},
}

/// Which registry a [`Registry`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
	/// As the node last read it: a device's write, a peer's gossip.
	Latest,
	/// As it stood at WebChain's finalized block: the records a proposal of that block names.
	Block(BlockNumber),
}

/// The registry at `block` is not known here: it is older than the first block this node
/// read (or read again after a gap it could not replay), or than what it keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the registry at block {block} is not known here (only from block {known_from})")]
pub struct Forgotten {
	/// The block asked for.
	pub block: BlockNumber,
	/// The first block known.
	pub known_from: BlockNumber,
}

/// What one device's records are checked against: its entry and the service's peg
/// destinations, as they stood at one block. Records that passed under terms equal to a
/// block's pass at that block too, but for their signatures and shapes, which do not change.
#[derive(Clone, Debug)]
pub struct Terms {
	/// The device.
	pub entry: Arc<DeviceEntry>,
	/// The active services its locks may go to.
	pub destinations: Arc<Vec<ServiceId>>,
}

impl PartialEq for Terms {
	fn eq(&self, other: &Terms) -> bool {
		same(&self.entry, &other.entry) && same(&self.destinations, &other.destinations)
	}
}

impl Eq for Terms {}

/// Whether `a` and `b` are equal, at once if they are one.
fn same<T: PartialEq>(a: &Arc<T>, b: &Arc<T>) -> bool {
	Arc::ptr_eq(a, b) || a == b
}

/// A value's changes, each from the block that made it, in block order.
#[derive(Debug)]
struct Changes<T>(Vec<(BlockNumber, T)>);

impl<T: PartialEq> Changes<T> {
	fn new(block: BlockNumber, value: T) -> Changes<T> {
		Changes(vec![(block, value)])
	}

	/// The value at `block`: the last change made by then.
	fn at(&self, block: BlockNumber) -> Option<&T> {
		let after = self.0.partition_point(|(from, _)| *from <= block);
		after.checked_sub(1).map(|index| &self.0[index].1)
	}

	fn latest(&self) -> Option<&T> {
		self.0.last().map(|(_, value)| value)
	}

	/// `value` from `block` on (a later block than any change kept).
	fn set(&mut self, block: BlockNumber, value: T) {
		match self.0.last_mut() {
			Some((_, last)) if *last == value => {}
			Some((from, last)) if *from == block => *last = value,
			_ => self.0.push((block, value)),
		}
	}

	/// Drops what no block from `block` on needs: every change before the one in force there.
	fn forget_before(&mut self, block: BlockNumber) {
		let after = self.0.partition_point(|(from, _)| *from <= block);
		self.0.drain(..after.saturating_sub(1));
	}
}

/// The registry's history.
#[derive(Debug, Default)]
struct History {
	/// Each device's entries (`None`: not one of the service's devices).
	devices: HashMap<DeviceId, Changes<Option<Arc<DeviceEntry>>>>,
	/// The services the policy lets the devices lock value to that exist and are active.
	destinations: Option<Changes<Arc<Vec<ServiceId>>>>,
	/// The first block whose registry is known: none before the first read.
	known_from: Option<BlockNumber>,
}

/// The registry at one block (or as last read), while the history is borrowed: a whole batch
/// of records is checked against one consistent registry.
pub struct Registry<'a> {
	history: RwLockReadGuard<'a, History>,
	at: At,
}

impl Registry<'_> {
	/// What device `id`'s records are checked against: none if it is not one of the
	/// service's devices.
	pub fn terms(&self, id: DeviceId) -> Option<Terms> {
		let entry = self.history.devices.get(&id)?;
		let entry = match self.at {
			At::Latest => entry.latest(),
			At::Block(block) => entry.at(block),
		};
		let destinations = self.history.destinations.as_ref().and_then(|d| match self.at {
			At::Latest => d.latest(),
			At::Block(block) => d.at(block),
		});
		Some(Terms {
			entry: entry?.clone()?,
			destinations: destinations.cloned().unwrap_or_default(),
		})
	}
}

/// The registry's devices and peg destinations, read from finalized blocks, with the block of
/// each change.
pub struct DeviceCache {
	history: RwLock<History>,
	/// The last block whose changes are all here.
	read: watch::Sender<Option<BlockNumber>>,
}

impl Default for DeviceCache {
	fn default() -> Self {
		DeviceCache { history: RwLock::default(), read: watch::channel(None).0 }
	}
}

impl DeviceCache {
	fn write(&self) -> std::sync::RwLockWriteGuard<'_, History> {
		self.history.write().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	fn read(&self) -> RwLockReadGuard<'_, History> {
		self.history.read().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// The registry as last read.
	pub fn latest(&self) -> Registry<'_> {
		Registry { history: self.read(), at: At::Latest }
	}

	/// The registry as it stood at `block`, or why it is not known here.
	pub fn at(&self, block: BlockNumber) -> Result<Registry<'_>, Forgotten> {
		let history = self.read();
		let known_from = history.known_from.unwrap_or(BlockNumber::MAX);
		if block < known_from {
			return Err(Forgotten { block, known_from });
		}
		Ok(Registry { history, at: At::Block(block) })
	}

	/// `block`, or the first block whose registry is known here if `block` is older: a node
	/// that started (or read WebChain afresh) after a proposal's block judges it by the
	/// oldest registry it has, rather than refuse every proposal its peers made before (and
	/// have the agreement block it for voting against what a quorum finalized).
	pub fn known_block(&self, block: BlockNumber) -> BlockNumber {
		self.read().known_from.map_or(block, |known_from| block.max(known_from))
	}

	/// Device `id` as last read, if it is one of the service's.
	pub fn get(&self, id: DeviceId) -> Option<Arc<DeviceEntry>> {
		self.latest().terms(id).map(|terms| terms.entry)
	}

	/// Device `id` as the registry has it from `block` on (`None`: not the service's).
	pub fn set(&self, block: BlockNumber, id: DeviceId, entry: Option<DeviceEntry>) {
		let entry = entry.map(Arc::new);
		let mut history = self.write();
		match history.devices.get_mut(&id) {
			Some(changes) => changes.set(block, entry),
			None if entry.is_some() => {
				let mut changes = Changes::new(block, None);
				changes.set(block, entry);
				history.devices.insert(id, changes);
			}
			None => {}
		}
		history.known_from.get_or_insert(block);
	}

	/// The registry as read afresh at `block` (devices and peg destinations), when the blocks
	/// since the last one read cannot be replayed: what came before is forgotten.
	pub fn replace(
		&self,
		block: BlockNumber,
		devices: HashMap<DeviceId, DeviceEntry>,
		destinations: Vec<ServiceId>,
	) {
		let mut history = self.write();
		history.devices = devices
			.into_iter()
			.map(|(id, entry)| (id, Changes::new(block, Some(Arc::new(entry)))))
			.collect();
		history.destinations = Some(Changes::new(block, Arc::new(destinations)));
		history.known_from = Some(block);
	}

	/// The services the service's policy lets its devices lock value to that exist and are
	/// active, from `block` on.
	pub fn set_peg_destinations(&self, block: BlockNumber, destinations: Vec<ServiceId>) {
		let destinations = Arc::new(destinations);
		let mut history = self.write();
		match &mut history.destinations {
			Some(changes) => changes.set(block, destinations),
			None => history.destinations = Some(Changes::new(block, destinations)),
		}
	}

	/// Every change up to `block` is here.
	pub fn read_through(&self, block: BlockNumber) {
		self.read.send_replace(Some(block));
	}

	/// The last block whose changes are all here.
	pub fn last_read(&self) -> Option<BlockNumber> {
		*self.read.borrow()
	}

	/// Resolves once every change up to `block` is here.
	pub async fn wait_for(&self, block: BlockNumber) {
		let mut read = self.read.subscribe();
		// The sender lives as long as `self`.
		let _ = read.wait_for(|read| read.is_some_and(|read| read >= block)).await;
	}

	/// Keeps only what the registry was at `block` and after: no proposal to come names an
	/// older block.
	pub fn forget_before(&self, block: BlockNumber) {
		let mut history = self.write();
		if history.known_from.is_none_or(|known| known >= block) {
			return;
		}
		history.known_from = Some(block);
		history.devices.retain(|_, changes| {
			changes.forget_before(block);
			!matches!(&changes.0[..], [(_, None)])
		});
		if let Some(destinations) = &mut history.destinations {
			destinations.forget_before(block);
		}
	}

	/// Whether a lock to `destination` is taken now: the service's policy names it and it is
	/// active.
	pub fn may_lock_to(&self, destination: ServiceId) -> bool {
		let history = self.read();
		let destinations = history.destinations.as_ref().and_then(Changes::latest);
		destinations.is_some_and(|destinations| destinations.contains(&destination))
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::fixtures::member;

	fn key_at(cache: &DeviceCache, id: DeviceId, block: BlockNumber) -> Option<[u8; 32]> {
		let registry = cache.at(block).expect("known");
		registry.terms(id).map(|terms| terms.entry.key)
	}

	#[test]
	fn each_block_sees_the_registry_as_it_stood_then() {
		let cache = DeviceCache::default();
		cache.set(100, 7, Some(member([1; 32], [9; 32])));
		cache.set(104, 7, Some(member([2; 32], [9; 32])));
		cache.set(109, 7, None);
		cache.set(106, 8, Some(member([3; 32], [9; 32])));
		assert_eq!(key_at(&cache, 7, 100), Some([1; 32]));
		assert_eq!(key_at(&cache, 7, 103), Some([1; 32]));
		assert_eq!(key_at(&cache, 7, 104), Some([2; 32]));
		assert_eq!(key_at(&cache, 7, 109), None);
		assert_eq!(key_at(&cache, 8, 105), None);
		assert_eq!(key_at(&cache, 8, 106), Some([3; 32]));
		assert_eq!(cache.get(7), None);
		assert_eq!(cache.get(8).map(|entry| entry.key), Some([3; 32]));
		assert_eq!(cache.at(99).err(), Some(Forgotten { block: 99, known_from: 100 }));
	}

	#[test]
	fn forgetting_keeps_what_later_blocks_need() {
		let cache = DeviceCache::default();
		cache.set(100, 7, Some(member([1; 32], [9; 32])));
		cache.set(104, 7, Some(member([2; 32], [9; 32])));
		cache.set(101, 8, Some(member([3; 32], [9; 32])));
		cache.set(102, 8, None);
		cache.set_peg_destinations(100, vec![4]);
		cache.set_peg_destinations(105, vec![]);
		cache.forget_before(103);
		assert!(cache.at(102).is_err());
		assert_eq!(key_at(&cache, 7, 103), Some([1; 32]));
		assert_eq!(key_at(&cache, 7, 104), Some([2; 32]));
		let terms = |block| cache.at(block).unwrap().terms(7).unwrap();
		assert_eq!(*terms(103).destinations, vec![4]);
		assert_eq!(*terms(105).destinations, Vec::<ServiceId>::new());
		// A device gone before the block is dropped altogether.
		assert!(!cache.history.read().unwrap().devices.contains_key(&8));
	}

	#[test]
	fn equal_terms_are_the_same_whichever_read_made_them() {
		let cache = DeviceCache::default();
		cache.set(100, 7, Some(member([1; 32], [9; 32])));
		cache.set_peg_destinations(100, vec![4]);
		let before = cache.at(100).unwrap().terms(7);
		// Read again with nothing changed: the same terms, and no new change kept.
		cache.set(103, 7, Some(member([1; 32], [9; 32])));
		cache.set_peg_destinations(103, vec![4]);
		assert_eq!(cache.latest().terms(7), before);
		assert_eq!(cache.history.read().unwrap().devices[&7].0.len(), 1);
	}
}
