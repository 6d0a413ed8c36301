//! The `thingschain` node binary.

#![warn(missing_docs)]

mod block_graph;
mod chain_spec;
mod cli;
mod command;
mod dag_graph;
mod equivocation;
mod metrics;
mod operator_spec;
mod pool;
mod proposer;
mod rpc;
mod service;
mod try_upgrade;

fn main() -> polkadot_sdk::sc_cli::Result<()> {
	command::run()
}
