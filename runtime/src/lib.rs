//! The ThingsChain WebChain runtime.
//!
//! Block production is Aura, finality is GRANDPA, and both authority sets come from
//! `pallet-session` session keys of the delegates that `pallet-dpos` elects by delegated proof
//! of stake at every session boundary. Each authored block mints a reward for its delegate and
//! the delegate's voters; GRANDPA equivocations are reported through `pallet-offences` and
//! slash the offender's bond, and so do Aura equivocations (two blocks sealed for one slot)
//! reported through `pallet-aura-equivocation`. Accounts hold TIC (12 decimals); multisig, proxy and utility let
//! institutions and device owners act through shared or delegated accounts. Every privileged
//! call is decided on chain ([`governance`]): referenda of TIC holders and a council of the
//! elected delegates.

#![cfg_attr(not(feature = "std"), no_std)]
// `#[frame_support::runtime]` expands deeply.
#![recursion_limit = "256"]

extern crate alloc;

use alloc::vec::Vec;

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

/// The rehearsal runtime: this code built with the `fast-runtime` periods and the try-runtime
/// checks (`build.rs`), which upgrade tests run a local network on and upgrade to. Never
/// deployed.
#[cfg(feature = "std")]
pub mod rehearsal {
	include!(concat!(env!("OUT_DIR"), "/rehearsal_wasm_binary.rs"));
}

// Before `apis`, which calls the benchmark-list macros it defines.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod apis;
pub mod configs;
pub mod genesis_config_presets;
pub mod governance;
pub mod weights;

use polkadot_sdk::{
	frame_support, frame_system, pallet_aura, pallet_authorship, pallet_balances,
	pallet_collective, pallet_conviction_voting, pallet_grandpa, pallet_identity, pallet_multisig,
	pallet_offences, pallet_preimage, pallet_proxy, pallet_referenda, pallet_scheduler,
	pallet_sudo, pallet_timestamp, pallet_transaction_payment, pallet_utility, pallet_whitelist,
	sp_runtime, sp_version,
};
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::{runtime_version, RuntimeVersion};

pub use configs::ProxyType;

/// Basic types shared by the runtime, the node and the tests.
pub mod types {
	use super::*;

	/// Block number: u32 lasts 270 years at 2-second blocks.
	pub type BlockNumber = u32;
	/// Signature of a transaction; sr25519, ed25519 or ecdsa keys all work.
	pub type Signature = MultiSignature;
	/// An account is identified by the public key that signs for it.
	pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
	/// Balance of an account, in the smallest unit of TIC.
	pub type Balance = u128;
	/// Per-account transaction counter.
	pub type Nonce = u32;
	/// Block and state hash.
	pub type Hash = polkadot_sdk::sp_core::H256;
	/// Address format of a transaction's sender.
	pub type Address = MultiAddress<AccountId, ()>;
}
pub use types::*;

/// The native token TIC and the time units the configuration is written in.
pub mod units {
	use super::{Balance, BlockNumber};

	/// Decimal places of TIC.
	pub const TOKEN_DECIMALS: u8 = 12;
	/// Ticker of the native token.
	pub const TOKEN_SYMBOL: &str = "TIC";
	/// One TIC.
	pub const TIC: Balance = 1_000_000_000_000;
	/// A thousandth of a TIC.
	pub const MILLI_TIC: Balance = TIC / 1_000;
	/// A millionth of a TIC.
	pub const MICRO_TIC: Balance = MILLI_TIC / 1_000;
	/// Smallest balance an account may hold; below it the account is reaped.
	pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_TIC;

	/// Target block time. Aura slots have the same length. Two seconds: IoT writes are
	/// included quickly and GRANDPA finalizes a few seconds later, while a block still has
	/// time to be built, gossiped and imported by every delegate.
	pub const MILLI_SECS_PER_BLOCK: u64 = 2_000;
	/// Length of an Aura slot.
	pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;
	/// Blocks per minute.
	pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
	/// Blocks per hour.
	pub const HOURS: BlockNumber = MINUTES * 60;
	/// Blocks per day.
	pub const DAYS: BlockNumber = HOURS * 24;

	/// Deposit for storing `items` entries taking `bytes` bytes in total.
	pub const fn deposit(items: u32, bytes: u32) -> Balance {
		items as Balance * 20 * MILLI_TIC + (bytes as Balance) * 100 * MICRO_TIC
	}
}

/// Opaque types: what the node needs to know about blocks without knowing the runtime's
/// calls. They encode exactly like the runtime's own types.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier.
	pub type BlockId = generic::BlockId<Block>;

	impl_opaque_keys! {
		/// Session keys of a block producer: Aura signs blocks, GRANDPA votes on finality.
		pub struct SessionKeys {
			pub aura: Aura,
			pub grandpa: Grandpa,
		}
	}
}
pub use opaque::SessionKeys;

/// Runtime version. Bump `spec_version` with every runtime change that goes on chain, and
/// `transaction_version` whenever call indices or transaction formats change.
#[runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("thingschain"),
	impl_name: alloc::borrow::Cow::Borrowed("thingschain-node"),
	authoring_version: 1,
	spec_version: 119,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// Block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// Checks every signed transaction runs through, in this order.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckMortality<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	polkadot_sdk::frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);
/// A transaction as it arrives from outside.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload a transaction's signature covers.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;
/// Storage migrations run on the next runtime upgrade. Each is a `VersionedMigration`: it
/// runs only on a chain whose stored version of its pallet is the one it starts from, so a
/// chain that already has the new layout (or started with it) skips it. Kept until every
/// deployed chain has upgraded past them.
type Migrations = (
	// spec 115: each service's latest anchor keeps the block it was made at.
	pallet_nest_anchor::migrations::v1::MigrateV0ToV1<Runtime>,
	// spec 116: the block graph is added with the genesis presets' reference share.
	pallet_block_graph::migrations::InitializeShare<Runtime, InitialReferenceShare>,
	// spec 119: a device joins a service with the service's owner's consent.
	pallet_devices::migrations::v1::MigrateV0ToV1<Runtime>,
);

polkadot_sdk::frame_support::parameter_types! {
	/// The reference share a chain that gains the block graph by an upgrade starts with.
	pub const InitialReferenceShare: polkadot_sdk::sp_runtime::Perbill =
		genesis_config_presets::REFERENCE_SHARE;
}
/// Dispatches blocks and transactions to the pallets.
pub type Executive = polkadot_sdk::frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(3)]
	pub type TransactionPayment = pallet_transaction_payment;

	// Consensus. Hooks and genesis run in the order declared here: Authorship notes the
	// block's author under the authority set it was authored with, before Session may rotate
	// it; Dpos builds its genesis (bonds, candidates, votes) before Session asks it for the
	// first delegates; Session comes before Aura and GRANDPA so their authorities are set from
	// session keys at genesis and at every session change.
	#[runtime::pallet_index(8)]
	pub type Authorship = pallet_authorship;
	#[runtime::pallet_index(9)]
	pub type Dpos = pallet_dpos;
	#[runtime::pallet_index(10)]
	pub type Session = pallet_session;
	#[runtime::pallet_index(11)]
	pub type Aura = pallet_aura;
	#[runtime::pallet_index(12)]
	pub type Grandpa = pallet_grandpa;
	#[runtime::pallet_index(13)]
	pub type Historical = pallet_session::historical;
	#[runtime::pallet_index(14)]
	pub type Offences = pallet_offences;
	#[runtime::pallet_index(15)]
	pub type AuraEquivocation = pallet_aura_equivocation;
	#[runtime::pallet_index(16)]
	pub type BlockGraph = pallet_block_graph;

	// Accounts acting together or for each other.
	#[runtime::pallet_index(20)]
	pub type Utility = pallet_utility;
	#[runtime::pallet_index(21)]
	pub type Multisig = pallet_multisig;
	#[runtime::pallet_index(22)]
	pub type Proxy = pallet_proxy;

	// NestChains: identity-verified service nodes, super nodes, anchors and the peg.
	#[runtime::pallet_index(30)]
	pub type Identity = pallet_identity;
	#[runtime::pallet_index(31)]
	pub type ServiceRegistry = pallet_service_registry;
	#[runtime::pallet_index(32)]
	pub type NestAnchor = pallet_nest_anchor;
	#[runtime::pallet_index(33)]
	pub type NestPeg = pallet_nest_peg;
	#[runtime::pallet_index(34)]
	pub type Devices = pallet_devices;
	#[runtime::pallet_index(35)]
	pub type Payloads = pallet_payloads;

	// Governance: referenda of TIC holders on tracks with their own origins, and the council
	// of elected delegates, which can whitelist urgent calls and cancel referenda.
	#[runtime::pallet_index(40)]
	pub type Preimage = pallet_preimage;
	#[runtime::pallet_index(41)]
	pub type Scheduler = pallet_scheduler;
	#[runtime::pallet_index(42)]
	pub type Referenda = pallet_referenda;
	#[runtime::pallet_index(43)]
	pub type ConvictionVoting = pallet_conviction_voting;
	#[runtime::pallet_index(44)]
	pub type Origins = governance::pallet_custom_origins;
	#[runtime::pallet_index(45)]
	pub type Council = pallet_collective<Instance1>;
	#[runtime::pallet_index(46)]
	pub type Whitelist = pallet_whitelist;

	// Development networks only: the testnet preset sets no key.
	#[runtime::pallet_index(99)]
	pub type Sudo = pallet_sudo;
}
