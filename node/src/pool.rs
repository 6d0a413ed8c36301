//! The transaction pool, gated so that a full pool refuses what it cannot hold.
//!
//! The SDK's pools enforce `--pool-limit` and `--pool-kbytes` by eviction: flooded, the
//! fork-aware pool's views overflow before its mempool does, so every submission is answered
//! with success while accepted transactions vanish without a word to their senders, and each
//! lost nonce strands its sender's later transactions (measured in `docs/performance.md`). A
//! pool that takes no future transactions would refuse instead, but it also refuses a sender's
//! next nonce whenever a new block's view is built without its predecessor yet, so it refuses
//! senders that did nothing wrong.
//!
//! So the node puts an admission gate in front of the SDK's pool: a transaction is refused at
//! submission (JSON-RPC error 1016, `Immediately Dropped`) once the pool holds `--pool-limit`
//! transactions or `--pool-kbytes` of them, counting ready and future ones. The SDK's pool
//! behind the gate is built with twice those limits, so its own eviction never runs: what it
//! accepted it keeps until it is included or becomes invalid. Transactions from the node
//! itself (`submit_local`, e.g. equivocation reports) are never gated.
//!
//! Submissions also wait while the pool follows a new block (`maintain`). The fork-aware
//! pool builds a new block's view from the old view and a snapshot of its mempool, then swaps
//! it in; a transaction submitted in between reaches only the old view. If it waited there
//! for a predecessor, it is dropped with the old view, and every later nonce of its sender is
//! stranded: under 1,000 transfers/s, 3,299 of 60,000 accepted transactions were lost that way
//! (`docs/performance.md`). Holding submissions back for the few milliseconds of a view
//! switch closes that window.
//!
//! ```text
//!  RPC / gossip ─► gate: ready + future + this one within --pool-limit / --pool-kbytes?
//!                    │ no ─► refused: 1016 Immediately Dropped
//!                    ▼ yes
//!                  SDK pool (fork-aware or single-state), limits 2 × the gate's: never evicts
//!                    ▲
//!  new block ─► maintain (submissions wait until the new view is in place)
//! ```

use async_trait::async_trait;
use codec::Encode;
use polkadot_sdk::{
	sc_cli::TransactionPoolParams,
	sc_service::{Configuration, TaskManager},
	sc_transaction_pool::{self, PoolLimit, TransactionPoolHandle, TransactionPoolOptions},
	sc_transaction_pool_api::{
		error::Error as PoolError, ChainEvent, ImportNotificationStream, LocalTransactionFor,
		LocalTransactionPool, MaintainedTransactionPool, PoolStatus, ReadyTransactions,
		TransactionFor, TransactionPool, TransactionSource, TransactionStatusStreamFor, TxHash,
		TxInvalidityReportMap,
	},
	sp_runtime::traits::Block as BlockT,
};
use std::{collections::HashMap, pin::Pin, sync::Arc};
use thingschain_runtime::opaque::Block;

use crate::service::FullClient;

/// The SDK's pool, as its builder makes it.
type Inner = TransactionPoolHandle<Block, FullClient>;

/// How much more the SDK's pool may hold than the gate lets in: room for the submissions
/// that pass the gate at the same time, so the SDK's own limits are never reached.
const INNER_LIMIT_FACTOR: usize = 2;

/// The pool a running node has, from its command line.
#[derive(Clone, Debug)]
pub struct PoolSettings {
	/// Most transactions, and most bytes of them, admitted at once.
	pub limit: PoolLimit,
	/// The SDK pool's own options: its kind and ban time as given, twice the gate's limits.
	inner: TransactionPoolOptions,
}

impl PoolSettings {
	/// The pool `params` (the node's `--pool-*` flags) ask for, on a `--dev` chain or not.
	pub fn from_cli(params: &TransactionPoolParams, is_dev: bool) -> Self {
		let limit = PoolLimit { count: params.pool_limit, total_bytes: params.pool_kbytes * 1024 };
		let inner = TransactionPoolOptions::new_with_params(
			limit.count.saturating_mul(INNER_LIMIT_FACTOR),
			limit.total_bytes.saturating_mul(INNER_LIMIT_FACTOR),
			params.tx_ban_seconds,
			params.pool_type.into(),
			is_dev,
			params.pool_best_blocks_only,
		);
		Self { limit, inner }
	}
}

/// The node's transaction pool: the SDK's, behind an admission gate (see the module
/// documentation).
pub struct GatedPool {
	inner: Inner,
	/// What the gate admits; `None` for maintenance subcommands, which pool nothing.
	limit: Option<PoolLimit>,
	/// Held shared by submissions and exclusively while the pool follows a new block.
	maintenance: tokio::sync::RwLock<()>,
}

/// The pool for `client`: with the running node's `settings`, gated by them; otherwise (a
/// maintenance subcommand) the SDK's pool as `config` describes it, ungated.
pub fn build(
	settings: Option<&PoolSettings>,
	config: &Configuration,
	client: Arc<FullClient>,
	task_manager: &TaskManager,
) -> GatedPool {
	let options = settings.map_or_else(|| config.transaction_pool.clone(), |s| s.inner.clone());
	let inner = sc_transaction_pool::Builder::new(
		task_manager.spawn_essential_handle(),
		client,
		config.role.is_authority().into(),
	)
	.with_options(options)
	.with_prometheus(config.prometheus_registry())
	.build();
	GatedPool { inner, limit: settings.map(|s| s.limit.clone()), maintenance: Default::default() }
}

/// What the gate still lets into the pool: transactions and bytes.
struct Room {
	count: usize,
	bytes: usize,
}

impl Room {
	/// Takes room for `xt`, if there is enough.
	fn take(&mut self, xt: &TransactionFor<GatedPool>) -> bool {
		let len = xt.encoded_size();
		let fits = self.count >= 1 && self.bytes >= len;
		if fits {
			self.count -= 1;
			self.bytes -= len;
		}
		fits
	}
}

impl GatedPool {
	/// The room left under the limit by the pool's ready and future transactions; all of it
	/// when ungated.
	fn room(&self) -> Room {
		let Some(limit) = &self.limit else { return Room { count: usize::MAX, bytes: usize::MAX } };
		let status = self.inner.status();
		Room {
			count: limit.count.saturating_sub(status.ready + status.future),
			bytes: limit.total_bytes.saturating_sub(status.ready_bytes + status.future_bytes),
		}
	}

	/// The refusal of a transaction the pool has no room for.
	fn full() -> <Inner as TransactionPool>::Error {
		PoolError::ImmediatelyDropped.into()
	}

	/// Checks a single submission at the gate.
	fn admit_one(
		&self,
		xt: &TransactionFor<Self>,
	) -> Result<(), <Inner as TransactionPool>::Error> {
		match self.room().take(xt) {
			true => Ok(()),
			false => Err(Self::full()),
		}
	}
}

#[async_trait]
impl TransactionPool for GatedPool {
	type Block = Block;
	type Hash = <Inner as TransactionPool>::Hash;
	type InPoolTransaction = <Inner as TransactionPool>::InPoolTransaction;
	type Error = <Inner as TransactionPool>::Error;

	async fn submit_at(
		&self,
		at: <Self::Block as BlockT>::Hash,
		source: TransactionSource,
		xts: Vec<TransactionFor<Self>>,
	) -> Result<Vec<Result<TxHash<Self>, Self::Error>>, Self::Error> {
		let _submitting = self.maintenance.read().await;
		let mut room = self.room();
		let admitted: Vec<bool> = xts.iter().map(|xt| room.take(xt)).collect();
		let passed = xts.into_iter().zip(&admitted).filter_map(|(xt, ok)| ok.then_some(xt));
		let mut submitted = self.inner.submit_at(at, source, passed.collect()).await?.into_iter();
		Ok(admitted
			.into_iter()
			.map(|ok| match ok {
				true => submitted.next().expect("the pool answers for each admitted transaction"),
				false => Err(Self::full()),
			})
			.collect())
	}

	async fn submit_one(
		&self,
		at: <Self::Block as BlockT>::Hash,
		source: TransactionSource,
		xt: TransactionFor<Self>,
	) -> Result<TxHash<Self>, Self::Error> {
		let _submitting = self.maintenance.read().await;
		self.admit_one(&xt)?;
		self.inner.submit_one(at, source, xt).await
	}

	async fn submit_and_watch(
		&self,
		at: <Self::Block as BlockT>::Hash,
		source: TransactionSource,
		xt: TransactionFor<Self>,
	) -> Result<Pin<Box<TransactionStatusStreamFor<Self>>>, Self::Error> {
		let _submitting = self.maintenance.read().await;
		self.admit_one(&xt)?;
		self.inner.submit_and_watch(at, source, xt).await
	}

	async fn ready_at(
		&self,
		at: <Self::Block as BlockT>::Hash,
	) -> Box<dyn ReadyTransactions<Item = Arc<Self::InPoolTransaction>> + Send> {
		self.inner.ready_at(at).await
	}

	fn ready(&self) -> Box<dyn ReadyTransactions<Item = Arc<Self::InPoolTransaction>> + Send> {
		self.inner.ready()
	}

	async fn report_invalid(
		&self,
		at: Option<<Self::Block as BlockT>::Hash>,
		invalid_tx_errors: TxInvalidityReportMap<TxHash<Self>>,
	) -> Vec<Arc<Self::InPoolTransaction>> {
		self.inner.report_invalid(at, invalid_tx_errors).await
	}

	fn futures(&self) -> Vec<Self::InPoolTransaction> {
		self.inner.futures()
	}

	fn status(&self) -> PoolStatus {
		self.inner.status()
	}

	fn import_notification_stream(&self) -> ImportNotificationStream<TxHash<Self>> {
		self.inner.import_notification_stream()
	}

	fn on_broadcasted(&self, propagations: HashMap<TxHash<Self>, Vec<String>>) {
		self.inner.on_broadcasted(propagations)
	}

	fn hash_of(&self, xt: &TransactionFor<Self>) -> TxHash<Self> {
		self.inner.hash_of(xt)
	}

	fn ready_transaction(&self, hash: &TxHash<Self>) -> Option<Arc<Self::InPoolTransaction>> {
		self.inner.ready_transaction(hash)
	}

	async fn ready_at_with_timeout(
		&self,
		at: <Self::Block as BlockT>::Hash,
		timeout: std::time::Duration,
	) -> Box<dyn ReadyTransactions<Item = Arc<Self::InPoolTransaction>> + Send> {
		self.inner.ready_at_with_timeout(at, timeout).await
	}
}

#[async_trait]
impl MaintainedTransactionPool for GatedPool {
	async fn maintain(&self, event: ChainEvent<Self::Block>) {
		let _maintaining = self.maintenance.write().await;
		self.inner.maintain(event).await
	}
}

impl LocalTransactionPool for GatedPool {
	type Block = Block;
	type Hash = <Inner as LocalTransactionPool>::Hash;
	type Error = <Inner as LocalTransactionPool>::Error;

	fn submit_local(
		&self,
		at: <Self::Block as BlockT>::Hash,
		xt: LocalTransactionFor<Self>,
	) -> Result<Self::Hash, Self::Error> {
		self.inner.submit_local(at, xt)
	}
}
