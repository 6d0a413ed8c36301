//! The devices a service node takes records from: those WebChain's registry
//! (`pallets/devices`) has for the node's service, as the node last read them from finalized
//! blocks.

use std::{
	collections::HashMap,
	sync::{Arc, RwLock},
};
use thingschain_primitives::{envelope::ReaderKey, ids::DeviceId};

/// What the registry says of a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceEntry {
	/// The account of the key the device signs with.
	pub key: [u8; 32],
	/// Whether it may write (not suspended by its owner).
	pub active: bool,
	/// The readers its owner granted (`Payloads.Readers`): the only recipients its envelopes
	/// may name, as on WebChain.
	pub readers: Vec<ReaderKey>,
}

/// The registry's devices, read from finalized blocks and kept current as later ones register,
/// rotate, suspend, resume and remove them.
#[derive(Default)]
pub struct DeviceCache {
	devices: RwLock<HashMap<DeviceId, Arc<DeviceEntry>>>,
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
}
