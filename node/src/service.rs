//! The node service: client, block-import pipeline, networking, Aura authoring, GRANDPA
//! finality and RPC, wired together.

use crate::{
	block_graph::{BlockGraph, GhostChain, GraphImport, ImportTimes, WithReferences},
	equivocation::ReportEquivocations,
	pool::{self, PoolSettings},
	proposer::LeaveTimeToImport,
};
use futures::FutureExt;
use polkadot_sdk::{
	sc_basic_authorship,
	sc_client_api::Backend,
	sc_consensus,
	sc_consensus_aura::{self, SlotProportion},
	sc_consensus_grandpa, sc_executor, sc_network, sc_offchain,
	sc_service::{self, error::Error as ServiceError, Configuration, TaskManager, WarpSyncConfig},
	sc_telemetry::{Telemetry, TelemetryWorker},
	sc_transaction_pool_api::OffchainTransactionPoolFactory,
	sp_consensus_aura::sr25519::{AuthorityId as AuraId, AuthorityPair as AuraPair},
	sp_io,
	sp_runtime::traits::Block as BlockT,
	sp_timestamp,
};
use std::{path::Path, sync::Arc, time::Duration};
use thingschain_runtime::{apis::RuntimeApi, opaque::Block};

/// What the node offers the runtime: the standard host functions, and in a benchmarking
/// build also the ones a `runtime-benchmarks` runtime imports (so that build can run a chain,
/// e.g. for `benchmark storage` on a loaded state).
#[cfg(not(feature = "runtime-benchmarks"))]
pub(crate) type HostFunctions = sp_io::SubstrateHostFunctions;
#[cfg(feature = "runtime-benchmarks")]
pub(crate) type HostFunctions =
	(sp_io::SubstrateHostFunctions, polkadot_sdk::frame_benchmarking::benchmarking::HostFunctions);

/// The client: state, blocks and runtime calls through the WASM executor.
pub type FullClient =
	sc_service::TFullClient<Block, RuntimeApi, sc_executor::WasmExecutor<HostFunctions>>;
/// The database.
pub type FullBackend = sc_service::TFullBackend<Block>;
/// The best block by the radiating block graph (GHOST over its work).
type FullSelectChain = GhostChain;
type TransactionPool = pool::GatedPool;

/// The block import every imported or authored block passes through: its references are
/// checked and recorded and fork choice made by the block graph, Aura equivocations are
/// reported, then GRANDPA records authority-set changes, then the client stores it.
pub type NodeBlockImport = GraphImport<
	ReportEquivocations<
		sc_consensus_grandpa::GrandpaBlockImport<FullBackend, Block, FullClient, FullSelectChain>,
	>,
>;

/// Blocks between GRANDPA justifications that are stored and served to syncing peers.
const GRANDPA_JUSTIFICATION_PERIOD: u32 = 512;

/// The share of a slot Aura gives its author to build and finish the block (the SDK
/// template's); `proposer::LeaveTimeToImport` builds in part of it, so that the next author
/// has the rest of the slot to import the block.
const PROPOSAL_SLOT_PORTION: f32 = 2.0 / 3.0;

/// The block-import pipeline.
///
/// Every block, whether gossiped by a peer, synced or authored here, flows
/// `import queue (Aura header + inherent checks) -> block_import -> client`. The radiating
/// block graph's import (`crate::block_graph`) is the outer layer of `block_import`, so it
/// sees blocks from every source.
pub struct BlockImportPipeline {
	/// The import chain: the block graph's import over the Aura equivocation reporter over
	/// GRANDPA's import (which records authority-set changes) over the client.
	pub block_import: NodeBlockImport,
	/// GRANDPA's view of the import, used to start the voter.
	pub grandpa_link: sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>,
	/// Checks incoming blocks before they reach `block_import`.
	pub import_queue: sc_consensus::DefaultImportQueue<Block>,
}

fn build_block_import_pipeline(
	config: &Configuration,
	client: &Arc<FullClient>,
	graph: &Arc<BlockGraph>,
	select_chain: &FullSelectChain,
	transaction_pool: &Arc<TransactionPool>,
	task_manager: &TaskManager,
	telemetry: Option<&Telemetry>,
) -> Result<BlockImportPipeline, ServiceError> {
	let (grandpa_import, grandpa_link) = sc_consensus_grandpa::block_import(
		client.clone(),
		GRANDPA_JUSTIFICATION_PERIOD,
		client,
		select_chain.clone(),
		telemetry.map(|t| t.handle()),
	)?;
	let block_import = GraphImport::new(
		ReportEquivocations::new(
			grandpa_import.clone(),
			client.clone(),
			OffchainTransactionPoolFactory::new(transaction_pool.clone()),
			sc_consensus_aura::slot_duration(&**client)?,
		),
		graph.clone(),
		config.prometheus_registry().map(ImportTimes::register).transpose()?,
	);

	let cidp_client = client.clone();
	let import_queue = sc_consensus_aura::import_queue::<AuraPair, _, _, _, _, _>(
		sc_consensus_aura::ImportQueueParams {
			block_import: block_import.clone(),
			justification_import: Some(Box::new(grandpa_import)),
			client: client.clone(),
			create_inherent_data_providers: move |parent_hash, _| {
				let cidp_client = cidp_client.clone();
				async move {
					let slot_duration = sc_consensus_aura::standalone::slot_duration_at(
						&*cidp_client,
						parent_hash,
					)?;
					Ok(slot_inherents(slot_duration))
				}
			},
			spawner: &task_manager.spawn_essential_handle(),
			registry: config.prometheus_registry(),
			// `ReportEquivocations` checks every block for equivocations and reports them. Aura's
			// own check only logs, and it records the headers unsealed, under the same keys,
			// where they would look like a second header of their slot.
			check_for_equivocation: sc_consensus_aura::CheckForEquivocation::No,
			telemetry: telemetry.map(|t| t.handle()),
			compatibility_mode: Default::default(),
		},
	)?;

	Ok(BlockImportPipeline { block_import, grandpa_link, import_queue })
}

/// The timestamp and Aura slot inherents for a block built now.
fn slot_inherents(
	slot_duration: polkadot_sdk::sp_consensus_aura::SlotDuration,
) -> (
	polkadot_sdk::sp_consensus_aura::inherents::InherentDataProvider,
	sp_timestamp::InherentDataProvider,
) {
	let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
	let slot = polkadot_sdk::sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
		*timestamp,
		slot_duration,
	);
	(slot, timestamp)
}

/// The parts of a node that maintenance subcommands need too.
pub type Service = sc_service::PartialComponents<
	FullClient,
	FullBackend,
	FullSelectChain,
	sc_consensus::DefaultImportQueue<Block>,
	TransactionPool,
	(
		NodeBlockImport,
		sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>,
		Option<Telemetry>,
		Arc<BlockGraph>,
	),
>;

/// Builds the client, database, transaction pool and block-import pipeline. `pool` is the
/// running node's pool and `wasm_cache` where it keeps compiled runtimes; maintenance
/// subcommands, which pool and keep nothing, pass `None`.
pub fn new_partial(
	config: &Configuration,
	pool: Option<&PoolSettings>,
	wasm_cache: Option<&Path>,
) -> Result<Service, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|x| !x.is_empty())
		.map(|endpoints| -> Result<_, polkadot_sdk::sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = wasm_executor(config, wasm_cache);
	let (client, backend, keystore_container, task_manager) =
		sc_service::new_full_parts::<Block, RuntimeApi, _>(
			config,
			telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
			executor,
			Vec::new(),
		)?;
	let client = Arc::new(client);

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager.spawn_handle().spawn("telemetry", None, worker.run());
		telemetry
	});

	let graph = Arc::new(BlockGraph::new(client.clone(), backend.clone()));
	let select_chain = GhostChain::new(graph.clone());

	let transaction_pool = Arc::from(pool::build(pool, config, client.clone(), &task_manager));

	let BlockImportPipeline { block_import, grandpa_link, import_queue } =
		build_block_import_pipeline(
			config,
			&client,
			&graph,
			&select_chain,
			&transaction_pool,
			&task_manager,
			telemetry.as_ref(),
		)?;

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, grandpa_link, telemetry, graph),
	})
}

/// The runtime executor `config` asks for (the SDK's `new_wasm_executor`), keeping compiled
/// runtimes in `cache` if given.
fn wasm_executor(
	config: &Configuration,
	cache: Option<&Path>,
) -> sc_executor::WasmExecutor<HostFunctions> {
	let Some(cache) = cache else {
		return sc_service::new_wasm_executor(&config.executor);
	};
	let heap = config
		.executor
		.default_heap_pages
		.map_or(sc_executor::DEFAULT_HEAP_ALLOC_STRATEGY, |extra_pages| {
			sc_executor::HeapAllocStrategy::Static { extra_pages: extra_pages as _ }
		});
	sc_executor::WasmExecutor::builder()
		.with_execution_method(config.executor.wasm_method)
		.with_onchain_heap_alloc_strategy(heap)
		.with_offchain_heap_alloc_strategy(heap)
		.with_max_runtime_instances(config.executor.max_runtime_instances)
		.with_runtime_cache_size(config.executor.runtime_cache_size)
		.with_cache_path(cache)
		.build()
}

/// Builds and starts a full node with the transaction pool `pool`, keeping compiled runtimes in
/// `wasm_cache` if given; an authority also authors blocks and votes on finality.
pub fn new_full<N: sc_network::NetworkBackend<Block, <Block as BlockT>::Hash>>(
	config: Configuration,
	pool: &PoolSettings,
	wasm_cache: Option<&Path>,
) -> Result<TaskManager, ServiceError> {
	let sc_service::PartialComponents {
		client,
		backend,
		mut task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, grandpa_link, mut telemetry, graph),
	} = new_partial(&config, Some(pool), wasm_cache)?;

	let mut net_config = sc_network::config::FullNetworkConfiguration::<
		Block,
		<Block as BlockT>::Hash,
		N,
	>::new(&config.network, config.prometheus_registry().cloned());
	let metrics = N::register_notification_metrics(config.prometheus_registry());

	let genesis_hash = client.chain_info().genesis_hash;
	let grandpa_protocol_name =
		sc_consensus_grandpa::protocol_standard_name(&genesis_hash, &config.chain_spec);
	// The GRANDPA gossip protocol only where the voter runs: a registered protocol whose
	// handle is dropped (`--no-grandpa`) makes the network refuse every connection
	// (`EssentialTaskClosed`), so such a node would have no peers.
	let enable_grandpa = !config.disable_grandpa;
	let grandpa_notification_service = enable_grandpa.then(|| {
		let (grandpa_protocol_config, grandpa_notification_service) =
			sc_consensus_grandpa::grandpa_peers_set_config::<_, N>(
				grandpa_protocol_name.clone(),
				metrics.clone(),
				net_config.peer_store_handle(),
			);
		net_config.add_notification_protocol(grandpa_protocol_config);
		grandpa_notification_service
	});

	let warp_sync = Arc::new(sc_consensus_grandpa::warp_proof::NetworkProvider::new(
		backend.clone(),
		grandpa_link.shared_authority_set().clone(),
		Vec::default(),
	));

	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) =
		sc_service::build_network(sc_service::BuildNetworkParams {
			config: &config,
			net_config,
			client: client.clone(),
			transaction_pool: transaction_pool.clone(),
			spawn_handle: task_manager.spawn_handle(),
			spawn_essential_handle: task_manager.spawn_essential_handle(),
			import_queue,
			block_announce_validator_builder: None,
			warp_sync_config: Some(WarpSyncConfig::WithProvider(warp_sync)),
			block_relay: None,
			metrics,
			gap_sync_body_policy: None,
		})?;

	if config.offchain_worker.enabled {
		let offchain_workers =
			sc_offchain::OffchainWorkers::new(sc_offchain::OffchainWorkerOptions {
				runtime_api_provider: client.clone(),
				is_validator: config.role.is_authority(),
				keystore: Some(keystore_container.keystore()),
				offchain_db: backend.offchain_storage(),
				transaction_pool: Some(OffchainTransactionPoolFactory::new(
					transaction_pool.clone(),
				)),
				network_provider: Arc::new(network.clone()),
				enable_http_requests: true,
				custom_extensions: |_| vec![],
			})?;
		task_manager.spawn_handle().spawn(
			"offchain-workers-runner",
			"offchain-worker",
			offchain_workers.run(client.clone(), task_manager.spawn_handle()).boxed(),
		);
	}

	let role = config.role;
	let force_authoring = config.force_authoring;
	let name = config.network.node_name.clone();
	let prometheus_registry = config.prometheus_registry().cloned();
	if let Some(registry) = &prometheus_registry {
		let metrics = crate::metrics::ChainMetrics::register(registry)?;
		task_manager.spawn_handle().spawn(
			"thingschain-metrics",
			None,
			metrics.run(client.clone(), graph.clone()),
		);
	}
	let shared_voter_state = sc_consensus_grandpa::SharedVoterState::empty();

	let rpc_extensions_builder = {
		let client = client.clone();
		let graph = graph.clone();
		let pool = transaction_pool.clone();
		let grandpa = crate::rpc::GrandpaDeps {
			shared_voter_state: shared_voter_state.clone(),
			shared_authority_set: grandpa_link.shared_authority_set().clone(),
			justification_stream: grandpa_link.justification_stream(),
			finality_provider: sc_consensus_grandpa::FinalityProofProvider::new_for_service(
				backend.clone(),
				Some(grandpa_link.shared_authority_set().clone()),
			),
		};
		Box::new(move |subscription_executor| {
			let deps = crate::rpc::FullDeps {
				client: client.clone(),
				pool: pool.clone(),
				grandpa: grandpa.clone(),
				graph: graph.clone(),
				subscription_executor,
			};
			crate::rpc::create_full(deps).map_err(Into::into)
		})
	};

	sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: Arc::new(network.clone()),
		client: client.clone(),
		keystore: keystore_container.keystore(),
		task_manager: &mut task_manager,
		transaction_pool: transaction_pool.clone(),
		rpc_builder: rpc_extensions_builder,
		backend,
		system_rpc_tx,
		tx_handler_controller,
		sync_service: sync_service.clone(),
		config,
		telemetry: telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	if role.is_authority() {
		let proposer_factory = LeaveTimeToImport(WithReferences::new(
			sc_basic_authorship::ProposerFactory::new(
				task_manager.spawn_handle(),
				client.clone(),
				transaction_pool.clone(),
				prometheus_registry.as_ref(),
				telemetry.as_ref().map(|x| x.handle()),
			),
			graph,
		));

		let slot_duration = sc_consensus_aura::slot_duration::<AuraId, _, _>(&*client)?;
		let aura = sc_consensus_aura::start_aura::<AuraPair, _, _, _, _, _, _, _, _, _, _>(
			sc_consensus_aura::StartAuraParams {
				slot_duration,
				client,
				select_chain,
				block_import,
				proposer_factory,
				create_inherent_data_providers: move |_, ()| async move {
					Ok(slot_inherents(slot_duration))
				},
				force_authoring,
				backoff_authoring_blocks: Option::<()>::None,
				keystore: keystore_container.keystore(),
				sync_oracle: sync_service.clone(),
				justification_sync_link: sync_service.clone(),
				block_proposal_slot_portion: SlotProportion::new(PROPOSAL_SLOT_PORTION),
				// After missed slots Aura lets the next proposer run longer; uncapped, a busy
				// author then announced its block after the next slot began, forking the chain
				// and missing more slots. Capped, a block is announced within its slot.
				max_block_proposal_slot_portion: Some(SlotProportion::new(PROPOSAL_SLOT_PORTION)),
				telemetry: telemetry.as_ref().map(|x| x.handle()),
				compatibility_mode: Default::default(),
			},
		)?;

		// Authoring is essential: if it fails the node stops rather than idling silently.
		task_manager.spawn_essential_handle().spawn_blocking("aura", Some("block-authoring"), aura);
	}

	if let Some(grandpa_notification_service) = grandpa_notification_service {
		// Only authorities sign votes; other full nodes follow finality without keys.
		let keystore = if role.is_authority() { Some(keystore_container.keystore()) } else { None };

		let grandpa_params = sc_consensus_grandpa::GrandpaParams {
			config: sc_consensus_grandpa::Config {
				gossip_duration: Duration::from_millis(333),
				justification_generation_period: GRANDPA_JUSTIFICATION_PERIOD,
				name: Some(name),
				observer_enabled: false,
				keystore,
				local_role: role,
				telemetry: telemetry.as_ref().map(|x| x.handle()),
				protocol_name: grandpa_protocol_name,
			},
			link: grandpa_link,
			network,
			sync: Arc::new(sync_service),
			notification_service: grandpa_notification_service,
			// The SDK's default also votes two blocks behind the best one, which at 2-second
			// blocks adds 4 s to finality. With one Aura author per slot forks are rare and
			// short, and GRANDPA's safety does not rest on that margin: vote for the best
			// block, within three quarters of the unfinalized chain.
			voting_rule: sc_consensus_grandpa::VotingRulesBuilder::new()
				.add(sc_consensus_grandpa::ThreeQuartersOfTheUnfinalizedChain)
				.build(),
			prometheus_registry,
			shared_voter_state,
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			offchain_tx_pool_factory: OffchainTransactionPoolFactory::new(transaction_pool),
		};

		task_manager.spawn_essential_handle().spawn_blocking(
			"grandpa-voter",
			None,
			sc_consensus_grandpa::run_grandpa_voter(grandpa_params)?,
		);
	}

	Ok(task_manager)
}
