//! Identifiers.

/// A service NestChain (government IDs, medical records, ...), numbered by the registry.
pub type ServiceId = u32;

/// An epoch of a service: the interval whose confirmed state one anchor commits to.
pub type Epoch = u32;

/// A 32-byte hash: Merkle roots, anchor hashes, record ids.
pub type Hash = polkadot_sdk::sp_core::H256;

/// A registered IoT device, numbered by the device registry; stays the same when its key is
/// rotated.
pub type DeviceId = u64;
