//! `thingschain try-upgrade`: runs a new runtime's upgrade on a live chain's state, off chain,
//! the way try-runtime does, before anyone votes on it.
//!
//! ```text
//!  node (JSON-RPC) ──state at its finalized block──► in memory ◄── :code = the new runtime
//!                                                        │
//!             TryRuntime_on_runtime_upgrade(All): every migration with its pre- and
//!             post-upgrade checks, then every pallet's try_state
//!                                                        ▼
//!                               the weight it took, or the check that failed
//! ```
//!
//! The runtime must be built with the `try-runtime` feature (the rehearsal runtime is). Nothing
//! is written to the chain.

use crate::service::HostFunctions;
use codec::{Decode, Encode};
use polkadot_sdk::{
	frame_remote_externalities::{Builder, Mode, OnlineConfig},
	sc_executor::{HeapAllocStrategy, RuntimeVersion, WasmExecutor},
	sp_core::{
		storage::well_known_keys::CODE,
		traits::{CallContext, ReadRuntimeVersion},
	},
	sp_crypto_hashing::blake2_64,
	sp_externalities::Extensions,
	sp_state_machine::{
		backend::{BackendRuntimeCode, TryPendingCode},
		OverlayedChanges, StateMachine,
	},
	sp_weights::Weight,
};
use std::{fmt, path::PathBuf};
use thingschain_runtime::opaque::Block;

/// Check a runtime upgrade against a running chain's state.
#[derive(Debug, clap::Parser)]
pub struct TryUpgradeCmd {
	/// WebSocket URL of a node of the chain (its state is read over JSON-RPC).
	#[arg(long, value_name = "URL", default_value = "ws://127.0.0.1:9944")]
	pub uri: String,

	/// The new runtime's WASM blob, built with the `try-runtime` feature.
	#[arg(long, value_name = "FILE")]
	pub runtime: PathBuf,
}

/// Why an upgrade check did not pass.
#[derive(Debug)]
pub enum TryUpgradeError {
	/// The runtime file cannot be read.
	Runtime(std::io::Error),
	/// The chain's state could not be downloaded.
	State(String),
	/// The runtime is not an upgrade of the chain's: another `spec_name`, a `spec_version` that
	/// is not higher (the chain would not run its migrations), or no try-runtime API.
	NotAnUpgrade(String),
	/// The upgrade, a migration's check or a `try_state` invariant failed (the runtime's log
	/// above names it), or the migrations would not fit in the block that runs them.
	Upgrade(String),
}

impl fmt::Display for TryUpgradeError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::Runtime(e) => write!(f, "cannot read the runtime: {e}"),
			Self::State(e) => write!(f, "cannot download the chain's state: {e}"),
			Self::NotAnUpgrade(e) => write!(f, "not an upgrade of this chain: {e}"),
			Self::Upgrade(e) => write!(f, "the upgrade failed its checks: {e}"),
		}
	}
}

impl std::error::Error for TryUpgradeError {
	fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
		match self {
			Self::Runtime(e) => Some(e),
			Self::State(_) | Self::NotAnUpgrade(_) | Self::Upgrade(_) => None,
		}
	}
}

/// What the upgrade would take of a block.
#[derive(Debug)]
pub struct UpgradeWeight {
	/// The weight of the migrations.
	pub used: Weight,
	/// The most a block allows.
	pub limit: Weight,
}

/// Whether `new` may replace `old` on chain and be checked: same `spec_name`, higher
/// `spec_version` (else the chain never runs its migrations), the try-runtime API.
fn check_upgrade(old: &RuntimeVersion, new: &RuntimeVersion) -> Result<(), TryUpgradeError> {
	let refuse = |why: String| Err(TryUpgradeError::NotAnUpgrade(why));
	if new.spec_name != old.spec_name {
		return refuse(format!("spec_name {} is not the chain's {}", new.spec_name, old.spec_name));
	}
	if new.spec_version <= old.spec_version {
		return refuse(format!(
			"spec_version {} is not above the chain's {}",
			new.spec_version, old.spec_version
		));
	}
	// A runtime API's id is the BLAKE2-64 of its trait name.
	if new.api_version(&blake2_64(b"TryRuntime")).is_none() {
		return refuse("the runtime is not built with the `try-runtime` feature".into());
	}
	Ok(())
}

/// `frame_try_runtime::UpgradeCheckSelect::All` (the type is compiled only into try-runtime
/// builds): the migrations' pre- and post-upgrade checks and every `try_state`.
const ALL_CHECKS: u8 = 1;

impl TryUpgradeCmd {
	/// Downloads the state, runs the upgrade on it and reports its weight.
	pub fn run(&self) -> Result<UpgradeWeight, TryUpgradeError> {
		let code = std::fs::read(&self.runtime).map_err(TryUpgradeError::Runtime)?;
		let runtime =
			tokio::runtime::Runtime::new().map_err(|e| TryUpgradeError::State(e.to_string()))?;
		let mut state = runtime
			.block_on(
				Builder::<Block>::new()
					.mode(Mode::Online(OnlineConfig {
						transport_uris: vec![self.uri.clone()],
						..Default::default()
					}))
					.build(),
			)
			.map_err(|e| TryUpgradeError::State(e.to_string()))?;
		// Migrations walk whole maps: room for a large state.
		let heap = HeapAllocStrategy::Static { extra_pages: 4096 };
		let executor = WasmExecutor::<HostFunctions>::builder()
			.with_onchain_heap_alloc_strategy(heap)
			.with_offchain_heap_alloc_strategy(heap)
			.build();
		let current = state
			.execute_with(|| polkadot_sdk::sp_io::storage::get(CODE))
			.ok_or_else(|| TryUpgradeError::State("the state has no :code".into()))?;
		let mut version = |code: &[u8]| {
			let raw = executor
				.read_runtime_version(code, &mut state.ext())
				.map_err(TryUpgradeError::NotAnUpgrade)?;
			RuntimeVersion::decode(&mut &raw[..])
				.map_err(|e| TryUpgradeError::NotAnUpgrade(e.to_string()))
		};
		let (old, new) = (version(&current)?, version(&code)?);
		check_upgrade(&old, &new)?;

		state.insert(CODE.to_vec(), code);
		let backend = state.as_backend();
		let code_fetcher = BackendRuntimeCode::new(&backend, TryPendingCode::No);
		let runtime_code =
			code_fetcher.runtime_code().map_err(|e| TryUpgradeError::Upgrade(e.into()))?;
		let mut changes = OverlayedChanges::default();
		let mut extensions = Extensions::default();
		let result = StateMachine::new(
			&backend,
			&mut changes,
			&executor,
			"TryRuntime_on_runtime_upgrade",
			&ALL_CHECKS.encode(),
			&mut extensions,
			&runtime_code,
			CallContext::Offchain,
		)
		.execute()
		.map_err(|e| TryUpgradeError::Upgrade(e.to_string()))?;
		let (used, limit) = <(Weight, Weight)>::decode(&mut &result[..])
			.map_err(|e| TryUpgradeError::Upgrade(format!("undecodable weight: {e}")))?;
		// The first block of the new code runs every migration before anything else: more
		// than a block's weight and no block can be made.
		if used.any_gt(limit) {
			return Err(TryUpgradeError::Upgrade(format!(
				"the migrations weigh {used:?}, more than a block's {limit:?}"
			)));
		}
		Ok(UpgradeWeight { used, limit })
	}
}
