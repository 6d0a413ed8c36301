//! The devices a service node takes records from: those WebChain's registry
//! (`pallets/devices`) has for the node's service, as the node last read them from finalized
//! blocks, and where the service's owner lets them lock value (`ServiceRegistry.Policies`).

use std::{
	collections::HashMap,
	sync::{Arc, RwLock},
};
use thingschain_primitives::{
	envelope::ReaderKey,
	ids::{DeviceId, ServiceId},
};

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

/// The registry's devices, read from finalized blocks and kept current as later ones register,
/// rotate, suspend, resume, admit and remove them; and the services this one's devices may
/// lock value to now.
#[derive(Default)]
pub struct DeviceCache {
	devices: RwLock<HashMap<DeviceId, Arc<DeviceEntry>>>,
	peg_destinations: RwLock<Vec<ServiceId>>,
}

impl DeviceCache {
	/// Device `id` as the registry has it now.
	pub fn set(&self, id: DeviceId, entry: DeviceEntry) {
		let mut devices = self.devices.write().unwrap_or_else(|poisoned| poisoned.into_inner());
		devices.insert(id, Arc::new(entry));
	}

	/// The registry as read afresh (after a reconnection): devices not in `devices` are gone.
	pub fn replace(&self, devices: HashMap<DeviceId, DeviceEntry>) {
		let devices = devices.into_iter().map(|(id, entry)| (id, Arc::new(entry))).collect();
		*self.devices.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = devices;
	}

	/// Device `id` is no longer one of the service's.
	pub fn remove(&self, id: DeviceId) {
		self.devices.write().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&id);
	}

	/// Device `id`, if the registry has it.
	pub fn get(&self, id: DeviceId) -> Option<Arc<DeviceEntry>> {
		self.devices.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&id).cloned()
	}

	/// The services the service's policy lets its devices lock value to that exist and are
	/// active, as WebChain has them now.
	pub fn set_peg_destinations(&self, destinations: Vec<ServiceId>) {
		*self.peg_destinations.write().unwrap_or_else(|poisoned| poisoned.into_inner()) =
			destinations;
	}

	/// Whether a lock to `destination` is taken: the service's policy names it and it is
	/// active.
	pub fn may_lock_to(&self, destination: ServiceId) -> bool {
		self.peg_destinations
			.read()
			.unwrap_or_else(|poisoned| poisoned.into_inner())
			.contains(&destination)
	}
}
