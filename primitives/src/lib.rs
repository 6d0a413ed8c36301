//! Formats every part of ThingsChain agrees on, in one small `no_std` crate: the runtime checks
//! them, service nodes and the device SDK produce them.
//!
//! - [`aura`]: how a WebChain block is sealed, as the runtime checks it;
//! - [`block_graph`]: the references a block names competing blocks with;
//! - [`device`]: what a device key signs to be bound to its owner's device;
//! - [`envelope`]: the encrypted envelope device data travels and rests in;
//! - [`ids`]: how services, epochs and devices are numbered;
//! - [`merkle`]: the Merkle tree NestChain state is anchored with, and its inclusion proofs;
//! - [`nest`]: the typed records a NestChain commits to (its own data, devices' readings, peg
//!   locks) and what a device signs to write one.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod aura;
pub mod block_graph;
pub mod device;
pub mod envelope;
pub mod ids;
pub mod merkle;
pub mod nest;
