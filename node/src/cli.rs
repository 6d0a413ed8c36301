//! Command-line interface: the standard Substrate node commands plus `benchmark` and
//! `operator-spec`.

use polkadot_sdk::{frame_benchmarking_cli, sc_cli, staging_chain_spec_builder};

/// Subcommands of the `thingschain` binary.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (kept for tools such as zombienet).
	#[deprecated(note = "use `export-chain-spec` instead")]
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export the chain specification of a built-in or file chain.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Build, convert and verify chain specs from a runtime WASM blob (the SDK's
	/// `chain-spec-builder`, built in so operators need no second tool).
	ChainSpecBuilder(staging_chain_spec_builder::ChainSpecBuilder),

	/// Write a real network's chain spec (plain and raw) from an operator file of its
	/// validators, votes, endowments and sudo key.
	OperatorSpec(crate::operator_spec::OperatorSpecCmd),

	/// Run a new runtime's migrations and every pallet's `try_state` check on a running
	/// chain's state, before proposing the upgrade (the runtime built with `try-runtime`).
	TryUpgrade(crate::try_upgrade::TryUpgradeCmd),

	/// Draw the latest blocks of a running node's block graph (forks and references) as SVG.
	DagGraph(crate::dag_graph::DagGraphCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Benchmark the runtime (pallets need a node built with `--features runtime-benchmarks`)
	/// and this machine.
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Database meta columns information.
	ChainInfo(sc_cli::ChainInfoCmd),
}

/// The `thingschain` command line.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	/// What to do; without a subcommand, run a node.
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	/// Options of a running node.
	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	/// Keep the runtimes this node compiles in DIR (wasmtime's cache): after a restart, or in
	/// another node on this machine given the same DIR, a runtime is loaded instead of being
	/// compiled again (seconds of every core).
	#[arg(long, value_name = "DIR")]
	pub wasm_cache: Option<std::path::PathBuf>,
}
