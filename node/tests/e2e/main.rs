//! End-to-end tests: each starts real `thingschain` processes on 127.0.0.1 (or, for the
//! service nodes under faults, in network namespaces of their own) and talks to them
//! as a user's tools would.
//!
//! They are one test binary, not one per file, so they are linked once and run side by side:
//! most of their time is spent waiting for blocks and finality, not computing, so running them
//! concurrently (`--test-threads`) shortens the suite to its longest scenario.

mod common;

mod aura_equivocation;
mod block_graph_network;
mod build_features;
mod chain_spec_tools;
mod dev_chain;
mod device_cli;
mod dpos_network;
mod governance_upgrade;
mod local_network;
mod nest_faults;
mod nest_network;
mod nest_service;
