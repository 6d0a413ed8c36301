//! # The ThingsChain service node
//!
//! A service's NestChain ledger: devices write signed, encrypted readings to the service's
//! nodes at rates WebChain blocks cannot take, the nodes replicate them among themselves, and
//! only each epoch's Merkle root goes to WebChain as the service's anchor
//! (`pallets/nest-anchor`). docs/nestchains.md, *The service node*, has the whole data path.
//!
//! ```text
//!  device ── nestnode_submit ──► rpc ──► committer (validate: registry, envelope, signatures;
//!                                          one fsynced redb write per burst) ──► ledger
//!                                           └─► p2p: gossip to the service's other nodes
//!  agreement (simplex among the service's nodes): proposals of record ranges, final once a
//!     quorum holds them (replicated); the proposal after an epoch's end closes it with its
//!     root ─► ledger.close_epoch ─► epochs: attest (service node)
//!  super node: a node's certified cut (a quorum's finalization) ─► close_epoch ─► approve
//!  peg: a closed epoch's locks and reverts ─► claim / contest / settle on WebChain (the nodes
//!       in turn); WebChain's arrivals for the service ─► the next close takes them
//!  prove: a record and its proof from any node, checked against WebChain only
//! ```
//!
//! A record's leaf is `merkle::leaf_hash(NestRecord::leaf_bytes())`, the tree and proofs are
//! `thingschain_primitives::merkle`'s: what `nest_verifyInclusion` and the peg check on
//! WebChain.

pub mod agreement;
pub mod checked_under;
pub mod committer;
pub mod devices;
pub mod epoch_ranges;
pub mod epochs;
pub mod error;
pub mod ledger;
pub mod metrics;
pub mod node_key;
pub mod p2p;
pub mod peers;
pub mod peg;
pub mod prove;
pub mod rpc;
pub mod server;
pub mod supervisor;
pub mod tree;
pub mod validate;
pub mod webchain;

#[cfg(test)]
mod fixtures;

/// Runs `work` on tokio's blocking threads (ledger reads, signature checks), so the async
/// threads keep serving; a panic in it is the caller's.
pub(crate) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
	tokio::task::spawn_blocking(work)
		.await
		.unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
}
