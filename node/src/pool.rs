//! The transaction pool, built so that a full pool refuses what it cannot hold.
//!
//! The SDK sizes the fork-aware pool's views with a ready queue of `--pool-limit` and a
//! future queue of a tenth of it, and lets its mempool hold both. Flooded, a view's ready
//! queue then overflows before the mempool does: the view evicts its oldest transactions,
//! which frees room in the mempool, so every submission is answered with success while
//! accepted transactions vanish without a word to their senders, and each lost nonce strands
//! its sender's later transactions (measured in `docs/performance.md`).
//!
//! Here the fork-aware pool has no separate future queue: the mempool holds at most what a
//! view's ready queue holds, so it fills first, and from then on a new transaction is refused
//! at submission (JSON-RPC error 1016, `Immediately Dropped`) instead of pushing an accepted
//! one out. A transaction whose nonce is ahead of its sender's pooled ones is refused the same
//! way: its sender sends them in order (as every wallet and the device SDK do). A transaction
//! paying a higher priority may still replace accepted ones, which their watchers see as
//! `dropped`. The single-state pool (`--pool-type single-state`) is the SDK's as it is.
//!
//! ```text
//!  submit ─► mempool (≤ --pool-limit, ≤ --pool-kbytes) ──full──► refused: 1016
//!               │
//!               └─► every view's ready queue (same limits: never the one that overflows)
//! ```

use polkadot_sdk::{
	sc_cli::{TransactionPoolParams, TransactionPoolType},
	sc_service::{Configuration, TaskManager},
	sc_transaction_pool::{
		self, ForkAwareTxPool, Options, PoolLimit, TransactionPoolHandle, TransactionPoolWrapper,
	},
};
use std::{sync::Arc, time::Duration};
use thingschain_runtime::opaque::Block;

use crate::service::FullClient;

/// How long a transaction found invalid stays banned, unless `--tx-ban-seconds` says
/// otherwise (the SDK's default; none on a `--dev` chain).
const DEFAULT_BAN: Duration = Duration::from_secs(30 * 60);

/// The pool a node runs, from its command line.
#[derive(Clone, Debug)]
pub struct PoolSettings {
	/// Which of the SDK's pools.
	pub kind: TransactionPoolType,
	/// Most transactions, and most bytes of them, the pool holds.
	pub limit: PoolLimit,
	/// How long a transaction found invalid stays banned.
	pub ban_time: Duration,
}

impl PoolSettings {
	/// The pool `params` (the node's `--pool-*` flags) ask for, on a `--dev` chain or not.
	pub fn from_cli(params: &TransactionPoolParams, is_dev: bool) -> Self {
		let ban_time = match params.tx_ban_seconds {
			Some(seconds) => Duration::from_secs(seconds),
			None if is_dev => Duration::ZERO,
			None => DEFAULT_BAN,
		};
		Self {
			kind: params.pool_type,
			limit: PoolLimit { count: params.pool_limit, total_bytes: params.pool_kbytes * 1024 },
			ban_time,
		}
	}
}

/// The pool for `client`: with the running node's `settings`, the fork-aware pool refusing
/// when full (see the module documentation); otherwise (the single-state pool, or a
/// maintenance subcommand, which pools nothing) the pool as the SDK builds it from `config`.
pub fn build(
	settings: Option<&PoolSettings>,
	config: &Configuration,
	client: Arc<FullClient>,
	task_manager: &TaskManager,
) -> TransactionPoolHandle<Block, FullClient> {
	let is_validator = config.role.is_authority().into();
	match settings {
		Some(settings) if matches!(settings.kind, TransactionPoolType::ForkAware) => {
			let options = Options {
				ready: settings.limit.clone(),
				future: PoolLimit { count: 0, total_bytes: 0 },
				reject_future_transactions: false,
				ban_time: settings.ban_time,
			};
			TransactionPoolWrapper(Box::new(ForkAwareTxPool::new_full(
				options,
				is_validator,
				config.prometheus_registry(),
				task_manager.spawn_essential_handle(),
				client,
			)))
		}
		_ => sc_transaction_pool::Builder::new(
			task_manager.spawn_essential_handle(),
			client,
			is_validator,
		)
		.with_options(config.transaction_pool.clone())
		.with_prometheus(config.prometheus_registry())
		.build(),
	}
}
