//! The `thingschain-nest` binary as an operator meets it before WebChain is involved. Its
//! service, catch-up and anchoring end to end are in the node's e2e tests (`nest_service`).

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_thingschain-nest");

#[test]
fn a_node_without_its_key_refuses_to_start_and_says_why() {
	let dir = tempfile::tempdir().unwrap();
	let missing = dir.path().join("missing.key");
	let run = |key: &std::path::Path| {
		let output = Command::new(BIN)
			.args(["run", "--service", "0", "--webchain", "ws://127.0.0.1:1"])
			.arg("--key-file")
			.arg(key)
			.arg("--base-path")
			.arg(dir.path().join("data"))
			.output()
			.unwrap();
		assert!(!output.status.success());
		String::from_utf8_lossy(&output.stderr).into_owned()
	};
	let error = run(&missing);
	assert!(error.contains("the key file") && error.contains("missing.key"), "{error}");
	let garbage = dir.path().join("garbage.key");
	std::fs::write(&garbage, "not a secret uri at all //").unwrap();
	let error = run(&garbage);
	assert!(error.contains("the key file"), "{error}");
	assert!(!dir.path().join("data").exists(), "nothing is created before the key is read");
}

#[test]
fn the_node_key_is_made_once_kept_private_and_printed_for_the_nodes_identity() {
	use std::os::unix::fs::PermissionsExt;
	let dir = tempfile::tempdir().unwrap();
	let base = dir.path().join("data");
	let key = || {
		let output = Command::new(BIN).arg("key").arg("--base-path").arg(&base).output().unwrap();
		assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
		serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
	};
	let first = key();
	assert_eq!(first["identityField"], "tc-nest-key");
	let public = first["key"].as_str().unwrap();
	assert!(public.starts_with("0x") && public.len() == 66, "{first}");
	assert_eq!(key(), first, "the key is made once and read back after");
	let mode = std::fs::metadata(base.join("p2p.key")).unwrap().permissions().mode();
	assert_eq!(mode & 0o777, 0o600, "only the node's user reads its key");
}
