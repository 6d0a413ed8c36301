//! Dispatches the command line to the node service or the chosen subcommand.

use crate::{
	chain_spec,
	cli::{Cli, Subcommand},
	pool::PoolSettings,
	service,
};
use polkadot_sdk::{
	frame_benchmarking_cli::{BenchmarkCmd, SUBSTRATE_REFERENCE_HARDWARE},
	sc_cli::{self, SubstrateCli},
	sc_network,
	sc_service::{self, PartialComponents},
	sp_runtime::traits::HashingFor,
};
use thingschain_runtime::{opaque::Block, Hash};

impl Cli {
	/// The chain spec `--chain` names, for the benchmarks that build their own genesis state
	/// instead of opening a node's database.
	fn spec_named(
		&self,
		shared: &sc_cli::SharedParams,
	) -> Result<Option<Box<dyn sc_service::ChainSpec>>, String> {
		shared.chain.as_ref().map(|chain| self.load_spec(chain)).transpose()
	}
}

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"ThingsChain Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	fn support_url() -> String {
		"https://github.com/thingschain/thingschain/issues".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		chain_spec::load(id)
	}
}

/// Runs the parts of a node a maintenance subcommand needs (client, import queue, task
/// manager) and hands them to `f`.
macro_rules! with_partial {
	($cli:expr, $cmd:expr, |$partial:ident, $config:ident| $body:expr) => {{
		let runner = $cli.create_runner($cmd)?;
		runner.async_run(|$config| {
			let $partial = service::new_partial(&$config, None, None)?;
			$body
		})
	}};
}

/// Logs to stderr for a subcommand that runs without a node, so that the runtime's message
/// reaches the user when its genesis build refuses a spec (a panic in the WASM is logged,
/// the error itself only says that the WASM trapped).
fn init_logger() -> sc_cli::Result<()> {
	sc_cli::LoggerBuilder::new("").init().map_err(Into::into)
}

/// Parses the command line and runs it.
pub fn run() -> sc_cli::Result<()> {
	let cli = Cli::from_args();

	match &cli.subcommand {
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		#[allow(deprecated)]
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		}
		Some(Subcommand::ExportChainSpec(cmd)) => {
			init_logger()?;
			let spec = cli.load_spec(&cmd.chain)?;
			cmd.run(spec)
		}
		Some(Subcommand::ChainSpecBuilder(cmd)) => cmd.run().map_err(Into::into),
		Some(Subcommand::OperatorSpec(cmd)) => {
			init_logger()?;
			cmd.run().map_err(|e| e.to_string().into())
		}
		Some(Subcommand::DagGraph(cmd)) => {
			let drawn = cmd.run().map_err(|e| sc_cli::Error::Application(Box::new(e)))?;
			eprintln!(
				"drew {} blocks ({} off the best chain) and {} references",
				drawn.blocks, drawn.forked, drawn.references
			);
			Ok(())
		}
		Some(Subcommand::TryUpgrade(cmd)) => {
			init_logger()?;
			let weight = cmd.run().map_err(|e| sc_cli::Error::Application(Box::new(e)))?;
			println!(
				"the upgrade passed every check; its migrations take {} of a block's {} ps of \
				 execution and {} of its {} bytes of proof",
				weight.used.ref_time(),
				weight.limit.ref_time(),
				weight.used.proof_size(),
				weight.limit.proof_size()
			);
			Ok(())
		}
		Some(Subcommand::CheckBlock(cmd)) => with_partial!(cli, cmd, |partial, config| {
			let PartialComponents { client, task_manager, import_queue, .. } = partial;
			Ok((cmd.run(client, import_queue), task_manager))
		}),
		Some(Subcommand::ExportBlocks(cmd)) => with_partial!(cli, cmd, |partial, config| {
			let PartialComponents { client, task_manager, .. } = partial;
			Ok((cmd.run(client, config.database), task_manager))
		}),
		Some(Subcommand::ExportState(cmd)) => with_partial!(cli, cmd, |partial, config| {
			let PartialComponents { client, task_manager, .. } = partial;
			Ok((cmd.run(client, config.chain_spec), task_manager))
		}),
		Some(Subcommand::ImportBlocks(cmd)) => with_partial!(cli, cmd, |partial, config| {
			let PartialComponents { client, task_manager, import_queue, .. } = partial;
			Ok((cmd.run(client, import_queue), task_manager))
		}),
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		}
		Some(Subcommand::Revert(cmd)) => with_partial!(cli, cmd, |partial, config| {
			let PartialComponents { client, task_manager, backend, .. } = partial;
			let aux_revert = Box::new(|client, _, blocks| {
				polkadot_sdk::sc_consensus_grandpa::revert(client, blocks)?;
				Ok(())
			});
			Ok((cmd.run(client, backend, Some(aux_revert)), task_manager))
		}),
		Some(Subcommand::Benchmark(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			match cmd {
				BenchmarkCmd::Pallet(cmd) => {
					cmd.run_with_spec::<HashingFor<Block>, ()>(cli.spec_named(&cmd.shared_params)?)
				}
				BenchmarkCmd::Block(cmd) => runner.sync_run(|config| {
					let PartialComponents { client, .. } =
						service::new_partial(&config, None, None)?;
					cmd.run(client)
				}),
				// Empty-block and per-transaction base costs, measured on the genesis of
				// `--chain` with `System::remark`s: the runtime's `weights/block_weights.rs`
				// and `weights/extrinsic_weights.rs`.
				BenchmarkCmd::Overhead(cmd) => cmd.run_with_default_builder_and_spec::<Block, ()>(
					cli.spec_named(&cmd.shared_params)?,
				),
				// Read and write costs of the node's database on the state at `--base-path`:
				// the runtime's `weights/paritydb_weights.rs`. Needs the backend's benchmarking
				// hooks, so only a `runtime-benchmarks` build has it.
				#[cfg(feature = "runtime-benchmarks")]
				BenchmarkCmd::Storage(cmd) => runner.sync_run(|config| {
					let PartialComponents { client, backend, .. } =
						service::new_partial(&config, None, None)?;
					let db = backend.expose_db();
					let storage = backend.expose_storage();
					let shared_trie_cache = backend.expose_shared_trie_cache();
					cmd.run(config, client, db, storage, shared_trie_cache)
				}),
				BenchmarkCmd::Machine(cmd) => {
					runner.sync_run(|config| cmd.run(&config, SUBSTRATE_REFERENCE_HARDWARE.clone()))
				}
				_ => {
					Err("this benchmark subcommand is not supported by this build of thingschain; \
					`benchmark pallet`, `block`, `overhead` and `machine` are, and `storage` \
					in a build with `--features runtime-benchmarks` (scripts/benchmark.sh)"
						.into())
				}
			}
		}
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<Block>(&config))
		}
		None => {
			let runner = cli.create_runner(&cli.run)?;
			let pool = PoolSettings::from_cli(&cli.run.pool_config, cli.run.shared_params.is_dev());
			let wasm_cache = cli.wasm_cache.clone();
			runner.run_node_until_exit(|config| async move {
				match config.network.network_backend {
					sc_network::config::NetworkBackendType::Libp2p => {
						service::new_full::<sc_network::NetworkWorker<Block, Hash>>(
							config,
							&pool,
							wasm_cache.as_deref(),
						)
					}
					sc_network::config::NetworkBackendType::Litep2p => {
						service::new_full::<sc_network::Litep2pNetworkBackend>(
							config,
							&pool,
							wasm_cache.as_deref(),
						)
					}
				}
				.map_err(sc_cli::Error::Service)
			})
		}
	}
}
