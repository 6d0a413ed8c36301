//! The devices a service node takes records from: WebChain's registry (`pallets/devices`) as
//! the node last read it from finalized blocks.

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
	/// The service it belongs to, if any.
	pub service: Option<ServiceId>,
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

	/// Device `id` was removed from the registry.
	pub fn remove(&self, id: DeviceId) {
		self.devices.write().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&id);
	}

	/// Device `id`, if the registry has it.
	pub fn get(&self, id: DeviceId) -> Option<Arc<DeviceEntry>> {
		self.devices.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&id).cloned()
	}
}
