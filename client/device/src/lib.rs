//! # ThingsChain device SDK
//!
//! What a device, its owner and a reader need to use ThingsChain's device data records, over
//! JSON-RPC with subxt and the chain's metadata (never the runtime crate):
//!
//! - [`keys`]: a device's keys — an sr25519 signing key and an X25519 reader key — in a key file;
//! - [`chain`]: registering devices, granting and revoking readers, storing records, reading
//!   them back;
//! - [`queue`]: readings kept on the device until it is online, then sealed, signed and sent
//!   ([`queue::flush`]); what fails stays queued for the next attempt;
//! - [`batches`]: how a flush groups readings into `Payloads.store_batch` transactions and
//!   gives them nonces, so that none is ever stored twice;
//! - [`nest`]: readings written to a service node (a NestChain) instead of WebChain.
//!
//! Sealing and opening come from `thingschain-device-core`, which builds without `std` for
//! the device itself.
//!
//! ```text
//!  device: measure ─► Queue (disk) ─flush─► seal for the granted readers ─► sign a batch (mortal, fresh nonce)
//!                                                                            │ fee: the owner pays
//!  reader: fetch ◄── Payloads.Records ◄──────────────────────────────────────┘
//!          open with its X25519 secret; anyone else sees ciphertext
//! ```

pub mod batches;
pub mod chain;
pub mod error;
pub mod keys;
pub mod nest;
pub mod queue;

pub use chain::{Chain, FeeLimits, Registration};
pub use error::Error;
pub use keys::DeviceKeys;
pub use queue::{flush, FlushReport, Queue};
pub use thingschain_primitives::ids::DeviceId;
