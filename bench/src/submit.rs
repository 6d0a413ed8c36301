//! Sends signed transactions at a fixed rate over several RPC connections
//! (`author_submitExtrinsic`), recording when each was sent and why any was refused.

use crate::workload::Transaction;
use std::{
	collections::{BTreeMap, HashMap, HashSet},
	sync::{
		atomic::{AtomicU64, AtomicUsize, Ordering},
		Arc, Mutex,
	},
	time::{Duration, Instant},
};
use subxt::rpcs::{rpc_params, RpcClient};
use tokio::sync::Semaphore;

/// Requests a connection keeps in flight at most; more wait, which slows the offered rate
/// (reported as submission lag) rather than queueing without bound in the harness.
const IN_FLIGHT_PER_CONNECTION: usize = 256;

/// What became of the submissions, shared with the observer and the progress line.
#[derive(Default)]
pub struct Submissions {
	/// When each transaction was sent, in microseconds since the start plus one (0: not yet).
	sent_at: Vec<AtomicU64>,
	/// Transactions the node accepted into its pool.
	pub accepted: AtomicUsize,
	/// Transactions the node refused, by its reason.
	pub refused: Mutex<BTreeMap<String, usize>>,
	/// How far behind schedule the last request went out, in microseconds.
	pub lag_micros: AtomicU64,
}

impl Submissions {
	/// Room for `count` transactions.
	pub fn new(count: usize) -> Self {
		Self { sent_at: (0..count).map(|_| AtomicU64::new(0)).collect(), ..Default::default() }
	}

	/// When transaction `id` was sent, since the start.
	pub fn sent_at(&self, id: usize) -> Option<Duration> {
		match self.sent_at[id].load(Ordering::Relaxed) {
			0 => None,
			micros => Some(Duration::from_micros(micros - 1)),
		}
	}

	/// Counts one transaction refused for `reason`.
	fn refuse(&self, reason: String) {
		*self.refused.lock().expect("not poisoned").entry(reason).or_default() += 1;
	}

	/// Transactions refused, in all.
	pub fn refused_count(&self) -> usize {
		self.refused.lock().expect("not poisoned").values().sum()
	}
}

/// Why a transaction was not sent: its signer's earlier one was refused, so it could only wait
/// in the pool's future queue for a nonce that never comes (a client resends the refused one
/// first).
pub const AFTER_REFUSAL: &str = "not sent: an earlier transaction of its signer was refused";

/// Sends `transactions` in order at `rate` per second from `start`, spread over `clients` by
/// signer. A signer's next transaction goes out only once the node has answered for its
/// previous one, so each signer's transactions reach the pool in nonce order (none waits in
/// the future queue for one overtaken on the way); after a refusal, none of that signer's
/// later ones goes out ([`AFTER_REFUSAL`]).
pub async fn submit(
	clients: &[RpcClient],
	transactions: &[Transaction],
	rate: f64,
	start: Instant,
	submissions: &Arc<Submissions>,
) {
	let lanes = clients.len();
	let workers = clients.iter().enumerate().map(|(lane, client)| async move {
		let in_flight = Arc::new(Semaphore::new(IN_FLIGHT_PER_CONNECTION));
		let mut last_of_signer: HashMap<usize, tokio::task::JoinHandle<bool>> = HashMap::new();
		let mut refused_signers = HashSet::new();
		for (id, transaction) in
			transactions.iter().enumerate().filter(|(_, t)| t.signer % lanes == lane)
		{
			let due = start + Duration::from_secs_f64(id as f64 / rate);
			tokio::time::sleep_until(due.into()).await;
			if let Some(previous) = last_of_signer.remove(&transaction.signer) {
				if !previous.await.unwrap_or(false) {
					refused_signers.insert(transaction.signer);
				}
			}
			if refused_signers.contains(&transaction.signer) {
				submissions.refuse(AFTER_REFUSAL.to_string());
				continue;
			}
			let permit = in_flight.clone().acquire_owned().await.expect("never closed");
			let now = Instant::now();
			submissions
				.lag_micros
				.store(now.saturating_duration_since(due).as_micros() as u64, Ordering::Relaxed);
			submissions.sent_at[id]
				.store(now.duration_since(start).as_micros() as u64 + 1, Ordering::Relaxed);
			let (client, submissions) = (client.clone(), submissions.clone());
			let hex = format!("0x{}", hex::encode(&transaction.bytes));
			let request = tokio::spawn(async move {
				let result: Result<serde_json::Value, _> =
					client.request("author_submitExtrinsic", rpc_params![hex]).await;
				drop(permit);
				match result {
					Ok(_) => {
						submissions.accepted.fetch_add(1, Ordering::Relaxed);
						true
					}
					Err(e) => {
						submissions.refuse(reason(&e.to_string()));
						false
					}
				}
			});
			last_of_signer.insert(transaction.signer, request);
		}
		for (_, request) in last_of_signer {
			let _ = request.await;
		}
	});
	futures::future::join_all(workers).await;
}

/// A refusal's reason without its numbers (which differ between transactions), so equal
/// reasons count together.
fn reason(error: &str) -> String {
	let reason: String = error.chars().filter(|c| !c.is_ascii_digit()).collect();
	reason.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(120).collect()
}
