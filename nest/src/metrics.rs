//! The service node's Prometheus metrics, served on `--prometheus-addr` with the SDK's
//! endpoint (`substrate-prometheus-endpoint`, as the WebChain node serves its own).
//!
//! | metric | what |
//! |---|---|
//! | `thingschain_nest_records_received_total` | records devices submitted (`nestnode_submit`) |
//! | `thingschain_nest_records_acknowledged_total{level}` | records acknowledged: `replicated` (ordered by the service's agreement), `stored` (durable on this node only), `duplicate` (a retry of one it holds, not replicated yet) |
//! | `thingschain_nest_records_refused_total{reason}` | records refused, by [`Rejection::reason`] |
//! | `thingschain_nest_submit_seconds` | a `nestnode_submit` call's time, from its decoding to its answers |
//! | `thingschain_nest_records` | records the ledger holds |
//! | `thingschain_nest_open_epoch` | the epoch the ledger closes next |
//! | `thingschain_nest_epoch_lag` | epochs WebChain says have ended that the node has not closed |
//! | `thingschain_nest_anchored_epochs` | epochs WebChain has anchored for the service (its next anchor's epoch) |
//! | `thingschain_nest_webchain_block` | the last finalized WebChain block the node read |
//! | `thingschain_nest_trusted_peers` | the service's other nodes it is connected to and trusts |
//! | `thingschain_nest_agreement_height` | proposals of the service's agreement final on this node |
//! | `thingschain_nest_replicated_records` | records the agreement has ordered (replicated) |
//! | `thingschain_nest_certified_epochs` | epochs the agreement closed with a certified root |
//! | `thingschain_nest_equivocations` | sequences for which the node holds a device's two signed records (`nestnode_equivocations`) |
//!
//! The gauges are sampled from the node's state every [`SAMPLE_EVERY`]; the counters and the
//! histogram as things happen.

use crate::{
	agreement::ledger_log::Ordered,
	error::{Rejection, StorageError},
	ledger::{Ledger, Stored},
	p2p::Network,
	rpc::Answer,
	webchain::Finalized,
};
use polkadot_sdk::substrate_prometheus_endpoint::{
	exponential_buckets, register, Counter, CounterVec, Gauge, Histogram, HistogramOpts, Opts,
	PrometheusError, Registry, U64,
};
use std::{sync::Arc, time::Duration};
use tokio::sync::watch;

/// How often the gauges are read from the node's state.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(2);

/// What the service node counts.
#[derive(Clone)]
pub struct Metrics {
	received: Counter<U64>,
	acknowledged: CounterVec<U64>,
	refused: CounterVec<U64>,
	submit_seconds: Histogram,
	records: Gauge<U64>,
	open_epoch: Gauge<U64>,
	epoch_lag: Gauge<U64>,
	anchored_epochs: Gauge<U64>,
	webchain_block: Gauge<U64>,
	trusted_peers: Gauge<U64>,
	agreement_height: Gauge<U64>,
	replicated_records: Gauge<U64>,
	certified_epochs: Gauge<U64>,
	equivocations: Gauge<U64>,
}

impl Metrics {
	/// The metrics, registered in `registry`.
	pub fn register(registry: &Registry) -> Result<Metrics, PrometheusError> {
		let counter = |name: &str, help: &str| register(Counter::new(name, help)?, registry);
		let gauge = |name: &str, help: &str| register(Gauge::new(name, help)?, registry);
		let by = |name: &str, help: &str, label: &str| {
			register(CounterVec::new(Opts::new(name, help), &[label])?, registry)
		};
		Ok(Metrics {
			received: counter(
				"thingschain_nest_records_received_total",
				"Records devices submitted",
			)?,
			acknowledged: by(
				"thingschain_nest_records_acknowledged_total",
				"Records acknowledged, by level (replicated: ordered by the service's agreement; \
				 stored: durable on this node; duplicate: a retry)",
				"level",
			)?,
			refused: by(
				"thingschain_nest_records_refused_total",
				"Records refused, by reason",
				"reason",
			)?,
			submit_seconds: register(
				Histogram::with_opts(
					HistogramOpts::new(
						"thingschain_nest_submit_seconds",
						"Time of a nestnode_submit call, from its decoding to its answers",
					)
					// 1 ms to ~16 s.
					.buckets(exponential_buckets(0.001, 2.0, 15)?),
				)?,
				registry,
			)?,
			records: gauge("thingschain_nest_records", "Records the ledger holds")?,
			open_epoch: gauge("thingschain_nest_open_epoch", "The epoch the next cut closes")?,
			epoch_lag: gauge(
				"thingschain_nest_epoch_lag",
				"Epochs WebChain says have ended that this node has not closed",
			)?,
			anchored_epochs: gauge(
				"thingschain_nest_anchored_epochs",
				"Epochs WebChain has anchored for the service",
			)?,
			webchain_block: gauge(
				"thingschain_nest_webchain_block",
				"The last finalized WebChain block the node read",
			)?,
			agreement_height: gauge(
				"thingschain_nest_agreement_height",
				"Proposals of the service's agreement final on this node",
			)?,
			replicated_records: gauge(
				"thingschain_nest_replicated_records",
				"Records the service's agreement has ordered: replicated",
			)?,
			certified_epochs: gauge(
				"thingschain_nest_certified_epochs",
				"Epochs the service's agreement closed with a certified root",
			)?,
			equivocations: gauge(
				"thingschain_nest_equivocations",
				"Sequences for which the node holds two records a device signed",
			)?,

			trusted_peers: gauge(
				"thingschain_nest_trusted_peers",
				"The service's other nodes this node is connected to and trusts",
			)?,
		})
	}

	/// A `nestnode_submit` whose records had `outcomes` and were answered with `answers`,
	/// one a record, after `took`.
	pub fn submitted(
		&self,
		outcomes: &[Result<Stored, Rejection>],
		answers: &[Answer],
		took: Duration,
	) {
		self.received.inc_by(outcomes.len() as u64);
		for (outcome, answer) in outcomes.iter().zip(answers) {
			let level = match (outcome, answer) {
				(Err(rejection), _) => {
					self.refused.with_label_values(&[rejection.reason()]).inc();
					continue;
				}
				(Ok(_), Answer::Replicated { .. }) => "replicated",
				(Ok(_), Answer::Refused { .. }) => {
					// The agreement ordered the device's other record for the sequence.
					self.refused.with_label_values(&["sequence_reused"]).inc();
					continue;
				}
				(Ok(Stored { duplicate: false, .. }), _) => "stored",
				(Ok(Stored { duplicate: true, .. }), _) => "duplicate",
			};
			self.acknowledged.with_label_values(&[level]).inc();
		}
		self.submit_seconds.observe(took.as_secs_f64());
	}

	/// Reads the gauges from the node's state every [`SAMPLE_EVERY`], for as long as the node
	/// runs.
	pub async fn sample(
		self,
		ledger: Arc<Ledger>,
		finalized: watch::Receiver<Option<Finalized>>,
		network: Option<Network>,
		ordered: Option<Ordered>,
	) {
		let mut every = tokio::time::interval(SAMPLE_EVERY);
		loop {
			every.tick().await;
			let read = ledger.clone();
			let state = crate::blocking(move || {
				Ok::<_, StorageError>((
					read.open_epoch()?,
					read.record_count()?,
					read.equivocation_count()?,
				))
			});
			match state.await {
				Ok((open_epoch, records, equivocations)) => {
					self.open_epoch.set(open_epoch.into());
					self.records.set(records);
					self.equivocations.set(equivocations);
					if let Some(at) = finalized.borrow().as_ref() {
						let ended = at.service.epochs_ended(at.number);
						self.epoch_lag.set(ended.saturating_sub(open_epoch).into());
						self.anchored_epochs.set(at.next.epoch.into());
						self.webchain_block.set(at.number);
					}
				}
				Err(error) => {
					tracing::warn!(target: "metrics", "the ledger could not be read: {error}")
				}
			}
			if let Some(network) = &network {
				self.trusted_peers.set(network.trusted_peers().await as u64);
			}
			if let Some(state) = ordered.as_ref().and_then(|ordered| ordered.borrow().clone()) {
				self.agreement_height.set(state.height);
				self.replicated_records.set(state.ends.values().sum());
				self.certified_epochs.set(state.open_epoch.into());
			}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use polkadot_sdk::substrate_prometheus_endpoint::prometheus::{Encoder, TextEncoder};
	use thingschain_primitives::ids::Hash;

	#[test]
	fn a_submission_counts_each_record_by_its_outcome() {
		let registry = Registry::new();
		let metrics = Metrics::register(&registry).unwrap();
		let stored = |duplicate| Ok(Stored { leaf: Hash::zero(), duplicate });
		// The first replicated, the second only stored, the third a retry; the fourth stored
		// but superseded by the device's other record, which the agreement ordered.
		let outcomes = [
			stored(false),
			stored(false),
			stored(true),
			stored(false),
			Err(Rejection::NotAdmitted),
			Err(Rejection::SequenceGap { expected: 3 }),
		];
		let leaf = Hash::zero();
		let answers = [
			Answer::Replicated { leaf },
			Answer::Stored { leaf },
			Answer::Duplicate { leaf },
			Answer::Refused { code: 0, error: String::new() },
			Answer::Refused { code: 0, error: String::new() },
			Answer::Refused { code: 0, error: String::new() },
		];
		metrics.submitted(&outcomes, &answers, Duration::from_millis(3));
		let mut text = Vec::new();
		TextEncoder::new().encode(&registry.gather(), &mut text).unwrap();
		let text = String::from_utf8(text).unwrap();
		for line in [
			"thingschain_nest_records_received_total 6",
			"thingschain_nest_records_acknowledged_total{level=\"replicated\"} 1",
			"thingschain_nest_records_acknowledged_total{level=\"stored\"} 1",
			"thingschain_nest_records_acknowledged_total{level=\"duplicate\"} 1",
			"thingschain_nest_records_refused_total{reason=\"sequence_reused\"} 1",
			"thingschain_nest_records_refused_total{reason=\"not_admitted\"} 1",
			"thingschain_nest_records_refused_total{reason=\"sequence_gap\"} 1",
			"thingschain_nest_submit_seconds_count 1",
		] {
			assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
		}
	}
}
