//! What the runtime charges for its work, every number measured on the ThingsChain reference
//! machine by `scripts/benchmark.sh`: the SDK pallets' calls (one module each), an empty
//! block and a transaction's base cost (`benchmark overhead`), and a database read and write
//! of the node's ParityDB on a loaded state (`benchmark storage`). ThingsChain's own pallets
//! keep their weights beside their code (`pallets/*/src/weights.rs`); all of them price
//! storage access with [`paritydb_weights`] through `frame_system::Config::DbWeight`.
//!
//! ```text
//!  transaction weight = ExtrinsicBaseWeight            (signature, nonce, fee: benchmark overhead)
//!                     + extensions' weights             (frame_system_extensions, transaction payment)
//!                     + the call's weight               (its pallet's benchmark)
//!                        └─ reads × DbWeight.read + writes × DbWeight.write   (benchmark storage)
//!  block weight       = BlockExecutionWeight + Σ transactions ≤ RuntimeBlockWeights
//! ```

pub mod block_weights;
pub mod extrinsic_weights;
pub mod paritydb_weights;

pub mod frame_system;
pub mod frame_system_extensions;
pub mod pallet_balances;
pub mod pallet_collective;
pub mod pallet_conviction_voting;
pub mod pallet_multisig;
pub mod pallet_preimage;
pub mod pallet_proxy;
pub mod pallet_referenda;
pub mod pallet_scheduler;
pub mod pallet_sudo;
pub mod pallet_timestamp;
pub mod pallet_transaction_payment;
pub mod pallet_utility;
pub mod pallet_whitelist;
