//! The harness end to end: a short mixed run (transfers, and records from devices whose owner
//! pays) against a real dev node includes every transaction, and its report row and plot are
//! written.

use std::{path::Path, process::Command};

#[test]
fn a_short_mixed_run_includes_and_reports_every_transaction() {
	let bench = env!("CARGO_BIN_EXE_thingschain-bench");
	let node = Path::new(bench).with_file_name("thingschain");
	assert!(
		node.exists(),
		"{} is missing: cargo build --release -p thingschain-node",
		node.display()
	);
	let dir = tempfile::tempdir().unwrap();
	let report = dir.path().join("performance.md");

	let output = Command::new(bench)
		.arg("--node")
		.arg(&node)
		.args(["--workload", "mix", "--rate", "50", "--duration", "4", "--signers", "4"])
		.args(["--drain", "90", "--report"])
		.arg(&report)
		.output()
		.expect("the harness runs");
	let stdout = String::from_utf8_lossy(&output.stdout);
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(output.status.success(), "{stdout}\n{stderr}");

	// 100 transfers and 100 records, all included and finalized, none refused or lost.
	assert!(stdout.contains("included 200 ("), "{stdout}");
	assert!(stdout.contains("finalized 200 ("), "{stdout}");
	assert!(stdout.contains("refused 0, lost 0"), "{stdout}");
	let doc = std::fs::read_to_string(&report).expect("the report is written");
	assert!(doc.contains("| mix | dev | 50 × 4 | 200 / 200 |"), "{doc}");
	assert!(dir.path().join("performance-mix-dev.svg").exists(), "the plot is written");
}
