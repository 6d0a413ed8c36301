//! # The ThingsChain service node
//!
//! A service's NestChain ledger: devices write signed, encrypted readings to the service's
//! nodes at rates WebChain blocks cannot take, and only each epoch's Merkle root goes to
//! WebChain as the service's anchor (`pallets/nest-anchor`).
//!
//! ```text
//!  device ── nestnode_submit([SignedNestRecord]) ──► rpc
//!                                                     │ validate: size, service, device registered for
//!                                                     │   this service and active (DeviceCache), envelope
//!                                                     │   rules, signatures (sr25519 in batches, both cores)
//!                                                     ▼
//!                                                   Committer ── one redb write per burst of calls ──► Ledger
//!                                                     │ per device: the next sequence, a duplicate (the same
//!                                                     │   record again: acknowledged again), a reused sequence
//!                                                     │   or a gap (refused, named)
//!  device ◄── one answer per record, after the commit ┘   (fsynced: an acknowledged record survives kill -9)
//!
//!  epoch end ── Ledger::close_epoch ──► Ledger::seal(e): the root over e's leaves, ordered by
//!               (device, sequence), stored once ──► attest(service, e, root, prev) on WebChain
//! ```
//!
//! A record's leaf is `merkle::leaf_hash(NestRecord::leaf_bytes())`, the tree and proofs are
//! `thingschain_primitives::merkle`'s: what `nest_verifyInclusion` and the peg check on
//! WebChain.

pub mod committer;
pub mod cut;
pub mod devices;
pub mod epochs;
pub mod error;
pub mod ledger;
pub mod p2p;
pub mod peers;
pub mod prove;
pub mod rpc;
pub mod validate;
pub mod webchain;

#[cfg(test)]
mod fixtures;
