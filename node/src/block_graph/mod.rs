//! The radiating block graph in the node: every block may reference recent blocks its
//! branch did not build on (`thingschain_primitives::block_graph`), and the node checks and
//! records those edges and chooses the best block by the work they carry
//! (`thingschain_block_graph`: the rules and GHOST).
//!
//! ```text
//!  gossip, sync ─► import queue (Aura) ─┐
//!  this node's author (Aura) ───────────┴─► GraphImport ─► ReportEquivocations ─► GRANDPA ─► client
//!                                            │ references admitted by the rules?  (else refused)
//!                                            │ vertex + referenced-by ──► auxiliary DB, with the block
//!                                            │ GHOST best from the finalized block == this block?
//!                                            ▼                          ──► ForkChoiceStrategy::Custom
//!  Aura's parent, GRANDPA's votes ◄── GhostChain (SelectChain): GHOST best from the finalized block
//!  this node's proposer ◄── WithReferences: the admitted blocks the runtime counts, in the
//!                           digest, and their headers in the inherent data (pallet-block-graph)
//! ```
//!
//! A reference counts as work only if the runtime at the block's parent would pay for it
//! (`BlockGraphApi::payable`: sealed by its slot's author, recent, each slot once): every node
//! decides that alike, from the same state and the headers the block carries, whether or not
//! it has the referenced blocks.

mod author;
mod import;
mod select;
mod store;

pub use author::WithReferences;
pub use import::{GraphImport, ImportTimes};
pub use select::GhostChain;
pub use store::BlockGraph;

use thingschain_block_graph::rules::Bounds;
use thingschain_primitives::block_graph::{MAX_DEPTH, MAX_REFERENCES};

/// WebChain's bounds on references, which its runtime holds them to as well.
pub const BOUNDS: Bounds = Bounds { max_references: MAX_REFERENCES, depth: MAX_DEPTH };
