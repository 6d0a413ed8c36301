//! The harness end to end against a real dev node: a short mixed run (transfers, records from
//! devices whose owner pays, and NestChain attestations and approvals that must anchor every
//! service) includes every transaction, and its report row and plot are written; a flood of a
//! small pool is refused with a reason, never lost.

use std::{
	path::{Path, PathBuf},
	process::Command,
};

/// Runs the harness with `args` against the node built beside it; returns what it printed.
fn run_harness(args: &[&str]) -> String {
	let bench = env!("CARGO_BIN_EXE_thingschain-bench");
	let node: PathBuf = Path::new(bench).with_file_name("thingschain");
	assert!(
		node.exists(),
		"{} is missing: cargo build --release -p thingschain-node",
		node.display()
	);
	let output =
		Command::new(bench).arg("--node").arg(&node).args(args).output().expect("the harness runs");
	let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(output.status.success(), "{stdout}\n{stderr}");
	stdout
}

#[test]
fn a_short_mixed_run_includes_and_reports_every_transaction() {
	let dir = tempfile::tempdir().unwrap();
	let report = dir.path().join("performance.md");
	let stdout = run_harness(&[
		"--workload",
		"mix",
		"--rate",
		"50",
		"--duration",
		"4",
		"--signers",
		"4",
		"--drain",
		"90",
		"--report",
		report.to_str().unwrap(),
	]);

	// 68 transfers, 68 records and 64 attestations and approvals (16 services of 4 nodes), all
	// included and finalized, none refused or lost; the harness fails if one did not anchor.
	assert!(stdout.contains("included 200 ("), "{stdout}");
	assert!(stdout.contains("finalized 200 ("), "{stdout}");
	assert!(stdout.contains("refused 0, lost 0"), "{stdout}");
	let doc = std::fs::read_to_string(&report).expect("the report is written");
	assert!(doc.contains("| mix | dev | 50 × 4 | 200 / 200 |"), "{doc}");
	assert!(dir.path().join("performance-mix-dev.svg").exists(), "the plot is written");
}

/// The SDK's pools, flooded, accept submissions and then evict accepted transactions
/// silently, stranding their senders' later nonces. A node whose pool holds 300 transactions,
/// offered 4,000 transfers in two seconds, must refuse what it cannot hold with the pool's
/// error and include every transaction it accepted. (The harness sends no more of a signer's
/// transactions after one is refused, as a client would resend that one first.)
#[test]
fn a_flooded_pool_refuses_what_it_cannot_hold_and_loses_nothing_it_accepted() {
	let stdout = run_harness(&[
		"--workload",
		"transfer",
		"--rate",
		"2000",
		"--duration",
		"2",
		"--signers",
		"200",
		"--drain",
		"60",
		"--node-arg=--pool-limit=300",
	]);
	let refused: usize = stdout
		.lines()
		.find_map(|line| line.split("refused ").nth(1)?.split(',').next()?.parse().ok())
		.unwrap_or_else(|| panic!("no refusal count in {stdout}"));
	assert!(refused > 0, "a 300-transaction pool took 4,000 at once: {stdout}");
	assert!(stdout.contains("Immediately Dropped"), "refused with the pool's error: {stdout}");
	assert!(stdout.contains(", lost 0"), "every accepted transaction is included: {stdout}");
}
