//! The ThingsChain load harness.
//!
//! ```text
//!  network ── starts the nodes (a dev node, or the 4-delegate local network on 127.0.0.1)
//!  accounts ─ senders funded by Alice in batches; devices registered and paid for by Bob
//!  nest ───── NestChain services, identity-verified service nodes and a super node
//!  nest_load  devices writing to a service node (`thingschain-bench-nest`): acknowledgement
//!             latency, the nodes' CPU and memory, replication lag
//!  workload ─ every transaction signed before the clock starts (transfers, device records,
//!             attestations and approvals)
//!  submit ─── sends them at a fixed rate over several RPC connections; refusals by reason
//!  observe ── follows best and finalized blocks: inclusion and finality time of each
//!             transaction, block fullness (weight, length), the node's CPU and memory
//!  ceiling ── this machine's limits: sr25519 verifications per core, the largest block built
//!  graph ──── the block graph's side: forks referenced and orphaned, its share of import time
//!  latency ── relays that delay the delegates' traffic, as across a real network
//!  report ─── percentiles, a Markdown table (docs/performance.md) and an SVG plot
//! ```

pub mod accounts;
pub mod ceiling;
pub mod governance;
pub mod graph;
pub mod latency;
pub mod nest;
pub mod nest_load;
pub mod netns;
pub mod network;
pub mod observe;
pub mod report;
pub mod submit;
pub mod workload;

/// BLAKE2-256 of `bytes`: the hash the chain gives a transaction.
pub fn hash(bytes: &[u8]) -> [u8; 32] {
	polkadot_sdk::sp_crypto_hashing::blake2_256(bytes)
}
