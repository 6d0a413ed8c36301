//! ThingsChain's own Prometheus metrics, served beside the node's standard ones: what the
//! chain did, counted from the events of finalized blocks.
//!
//! | metric | counts |
//! |---|---|
//! | `thingschain_anchors_accepted_total` | NestChain epoch roots anchored (`nestAnchor.Anchored`) |
//! | `thingschain_devices_registered_total` | devices registered (`devices.DeviceRegistered`) |
//! | `thingschain_records_stored_total` | device data records stored (`payloads.RecordStored`) |
//! | `thingschain_delegate_elections_total` | elections that changed the delegates (`dpos.DelegatesElected`) |
//! | `thingschain_block_graph_references_total` | references to competing blocks in finalized blocks (the block graph's edges) |
//! | `thingschain_block_graph_forks_referenced_total` | blocks finality left off the chain that a block referenced |
//! | `thingschain_block_graph_forks_orphaned_total` | blocks finality left off the chain that no block referenced: work lost |
//!
//! The block graph's import keeps two histograms beside them
//! (`crate::block_graph::ImportTimes`): `thingschain_block_graph_import_seconds`, its own
//! time in the import of each block the node executed (from a peer), and
//! `thingschain_block_import_seconds`, the whole import of those blocks.
//!
//! Each finalized block counts once, blocks that were finalized together included, and a
//! fork's blocks never count: the numbers are the chain's, the same on every node that
//! started from the same block (but the two fork counters, which count the forks this node
//! saw). A node counts from the blocks it finalizes after it starts.
//! The events are decoded with this node's runtime types; a block whose events do not decode
//! (a runtime upgrade changed them before this node was upgraded) is skipped with a warning.

use codec::Decode;
use futures::StreamExt;
use polkadot_sdk::{
	frame_system::EventRecord,
	sc_client_api::{BlockchainEvents, StorageProvider},
	sp_core::storage::StorageKey,
	sp_io::hashing::twox_128,
	substrate_prometheus_endpoint::{register, Counter, PrometheusError, Registry, U64},
};
use std::sync::Arc;
use thingschain_runtime::{opaque::Block, Hash, RuntimeEvent};

use crate::{block_graph::BlockGraph, service::FullClient};
use thingschain_block_graph::Graph;

/// Whether a runtime event is one a counter counts.
type Counts = fn(&RuntimeEvent) -> bool;

/// Each counter: its name, its help text and the events it counts.
const COUNTERS: [(&str, &str, Counts); 4] = [
	(
		"thingschain_anchors_accepted_total",
		"NestChain epoch roots anchored in finalized blocks",
		|event| {
			matches!(event, RuntimeEvent::NestAnchor(pallet_nest_anchor::Event::Anchored { .. }))
		},
	),
	("thingschain_devices_registered_total", "Devices registered in finalized blocks", |event| {
		matches!(event, RuntimeEvent::Devices(pallet_devices::Event::DeviceRegistered { .. }))
	}),
	(
		"thingschain_records_stored_total",
		"Device data records stored in finalized blocks",
		|event| {
			matches!(event, RuntimeEvent::Payloads(pallet_payloads::Event::RecordStored { .. }))
		},
	),
	(
		"thingschain_delegate_elections_total",
		"Delegate elections that changed the authority set, in finalized blocks",
		|event| matches!(event, RuntimeEvent::Dpos(pallet_dpos::Event::DelegatesElected { .. })),
	),
];

/// The registered counters.
pub struct ChainMetrics {
	counters: Vec<(Counter<U64>, Counts)>,
	graph: GraphCounters,
}

/// The block graph's counters, counted from the same finality notifications.
struct GraphCounters {
	references: Counter<U64>,
	referenced: Counter<U64>,
	orphaned: Counter<U64>,
}

impl GraphCounters {
	fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let counter = |name: &str, help: &str| register(Counter::new(name, help)?, registry);
		Ok(Self {
			references: counter(
				"thingschain_block_graph_references_total",
				"References to competing blocks in finalized blocks",
			)?,
			referenced: counter(
				"thingschain_block_graph_forks_referenced_total",
				"Blocks left off the finalized chain that a block referenced",
			)?,
			orphaned: counter(
				"thingschain_block_graph_forks_orphaned_total",
				"Blocks left off the finalized chain that no block referenced",
			)?,
		})
	}
}

impl ChainMetrics {
	/// Registers the counters in the node's Prometheus registry.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let counters = COUNTERS
			.iter()
			.map(|(name, help, counts)| {
				Ok((register(Counter::new(*name, *help)?, registry)?, *counts))
			})
			.collect::<Result<_, PrometheusError>>()?;
		Ok(ChainMetrics { counters, graph: GraphCounters::register(registry)? })
	}

	fn count(&self, events: &[EventRecord<RuntimeEvent, Hash>]) {
		for (counter, counts) in &self.counters {
			counter.inc_by(events.iter().filter(|record| counts(&record.event)).count() as u64);
		}
	}

	/// Counts the events and references of every block the client finalizes, and the forks
	/// finality leaves behind, until the node stops.
	pub async fn run(self, client: Arc<FullClient>, graph: Arc<BlockGraph>) {
		// `System::Events`, a storage value: twox128("System") ++ twox128("Events").
		let events_key = StorageKey([twox_128(b"System"), twox_128(b"Events")].concat());
		let mut finalized = client.finality_notification_stream();
		while let Some(notification) = finalized.next().await {
			// The blocks finalized with this one (its ancestors since the last notification),
			// then the block itself.
			for hash in notification.tree_route.iter().chain([&notification.hash]) {
				let references = graph.vertex(hash).map_or(0, |v| v.references.len());
				self.graph.references.inc_by(references as u64);
				match block_events(&client, *hash, &events_key) {
					Ok(events) => self.count(&events),
					Err(reason) => log::warn!(
						target: "thingschain-metrics",
						"not counting the events of block {hash}: {reason}"
					),
				}
			}
			for stale in notification.stale_blocks.iter() {
				let counter = if graph.referenced_by(&stale.hash).is_empty() {
					&self.graph.orphaned
				} else {
					&self.graph.referenced
				};
				counter.inc();
			}
		}
	}
}

/// The events block `hash` emitted, as this node's runtime types decode them.
fn block_events(
	client: &FullClient,
	hash: <Block as polkadot_sdk::sp_runtime::traits::Block>::Hash,
	key: &StorageKey,
) -> Result<Vec<EventRecord<RuntimeEvent, Hash>>, String> {
	let Some(data) = client.storage(hash, key).map_err(|e| e.to_string())? else {
		return Ok(Vec::new());
	};
	Vec::decode(&mut &data.0[..]).map_err(|e| format!("its events do not decode: {e}"))
}
