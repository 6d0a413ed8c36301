//! The chain-spec tooling: committed specs match the runtime, and `make-chain-spec.sh` turns an
//! operator's own keys into a spec a validator can run, refusing well-known dev keys.

use crate::common::{best_number, finalized_number, start_node, wait_for, NODE_BIN};
use serde_json::{json, Value};
use std::{
	path::{Path, PathBuf},
	process::{Command, Output},
	time::Duration,
};

fn repo_root() -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn script(name: &str, args: &[&str]) -> Output {
	Command::new("bash")
		.arg(repo_root().join("scripts").join(name))
		.args(args)
		.env("NODE_BIN", NODE_BIN)
		.output()
		.expect("bash runs")
}

fn node(args: &[&str]) -> Output {
	Command::new(NODE_BIN).args(args).output().expect("thingschain runs")
}

/// A fresh key pair from `thingschain key generate`: (secret phrase, SS58 address).
fn generate_key(scheme: &str) -> (String, String) {
	let output = node(&["key", "generate", "--scheme", scheme, "--output-type", "json"]);
	assert!(output.status.success());
	let key: Value = serde_json::from_slice(&output.stdout).unwrap();
	(key["secretPhrase"].as_str().unwrap().into(), key["ss58Address"].as_str().unwrap().into())
}

fn write_operator(dir: &Path, validator: (&str, &str, &str), endowed: &str) -> PathBuf {
	let operator = json!({
		"name": "ThingsChain Integration",
		"id": "thingschain_it",
		"preset": "testnet",
		"bootNodes": [],
		"validators": [{ "account": validator.0, "aura": validator.1, "grandpa": validator.2 }],
		"endowments": [[endowed, "5000000000000000"]],
		"sudo": null
	});
	let path = dir.join("operator.json");
	std::fs::write(&path, serde_json::to_vec_pretty(&operator).unwrap()).unwrap();
	path
}

/// The paths (`.genesis.raw.top.0x3a636f6465`, ...) where `a` and `b` differ.
fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
	match (a, b) {
		(Value::Object(a), Value::Object(b)) => {
			let keys: std::collections::BTreeSet<_> = a.keys().chain(b.keys()).collect();
			for key in keys {
				let (x, y) =
					(a.get(key).unwrap_or(&Value::Null), b.get(key).unwrap_or(&Value::Null));
				differences(x, y, &format!("{path}.{key}"), out);
			}
		}
		(a, b) if a != b => out.push(path.to_string()),
		_ => {}
	}
}

/// The committed specs are what `scripts/generate-chain-specs.sh` writes from this source,
/// the runtime's WASM code included (runtime/build.rs makes the blob the same in any
/// checkout).
#[test]
fn committed_chain_specs_match_the_runtime() {
	let mut stale = Vec::new();
	for chain in ["local", "testnet"] {
		for raw in [false, true] {
			let name = format!("{chain}{}.json", if raw { "-raw" } else { "" });
			let mut args = vec!["export-chain-spec", "--chain", chain];
			args.extend(raw.then_some("--raw"));
			let output = node(&args);
			assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
			let fresh: Value = serde_json::from_slice(&output.stdout).unwrap();
			let file = repo_root().join("chain-specs").join(&name);
			let committed: Value = std::fs::read(&file)
				.map(|bytes| serde_json::from_slice(&bytes).unwrap())
				.unwrap_or(Value::Null);
			let mut paths = Vec::new();
			differences(&committed, &fresh, "", &mut paths);
			if !paths.is_empty() {
				paths.truncate(20);
				stale.push(format!("chain-specs/{name} differs at {}", paths.join(", ")));
			}
		}
	}
	assert!(
		stale.is_empty(),
		"stale chain specs; run scripts/generate-chain-specs.sh:\n{}",
		stale.join("\n")
	);
}

#[test]
fn make_chain_spec_refuses_dev_keys() {
	let dir = tempfile::tempdir().unwrap();
	let alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
	let alice_ed = "5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu";
	let operator = write_operator(dir.path(), (alice, alice, alice_ed), alice);
	let out = dir.path().join("out");
	let output = script("make-chain-spec.sh", &[operator.to_str().unwrap(), out.to_str().unwrap()]);
	assert!(!output.status.success());
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(stderr.contains("well-known dev key"), "explains the refusal: {stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn operator_spec_runs_on_the_operators_own_keys() {
	let dir = tempfile::tempdir().unwrap();
	let (aura_phrase, aura) = generate_key("sr25519");
	let (grandpa_phrase, grandpa) = generate_key("ed25519");
	let operator = write_operator(dir.path(), (&aura, &aura, &grandpa), &aura);
	let out = dir.path().join("out");
	let output = script("make-chain-spec.sh", &[operator.to_str().unwrap(), out.to_str().unwrap()]);
	assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

	let plain: Value =
		serde_json::from_slice(&std::fs::read(out.join("thingschain_it.json")).unwrap()).unwrap();
	let patch = &plain["genesis"]["runtimeGenesis"]["patch"];
	assert_eq!(
		patch["session"]["keys"],
		json!([[aura, aura, { "aura": aura, "grandpa": grandpa }]])
	);
	assert_eq!(patch["sudo"]["key"], Value::Null);
	// The operator's validator is the genesis delegate, bonded with the default 1,000 TIC and
	// 10% commission; the preset's demo candidates and votes are gone.
	assert_eq!(
		patch["dpos"]["candidates"],
		json!([[aura, 1_000_000_000_000_000u128, 100_000_000]])
	);
	assert_eq!(patch["dpos"]["voters"], json!([]));
	assert_eq!(plain["protocolId"], "thingschain");
	assert_eq!(plain["properties"]["tokenSymbol"], "TIC");

	// The operator's validator inserts its keys and runs the raw spec: it authors and
	// finalizes alone.
	let raw = out.join("thingschain_it-raw.json");
	let base = dir.path().join("validator");
	for (scheme, key_type, phrase) in
		[("sr25519", "aura", &aura_phrase), ("ed25519", "gran", &grandpa_phrase)]
	{
		let output = node(&[
			"key",
			"insert",
			"--chain",
			raw.to_str().unwrap(),
			"--base-path",
			base.to_str().unwrap(),
			"--scheme",
			scheme,
			"--key-type",
			key_type,
			"--suri",
			phrase,
		]);
		assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
	}
	let validator = start_node(
		"operator-validator",
		dir.path(),
		&[
			"--chain",
			raw.to_str().unwrap(),
			"--validator",
			"--base-path",
			base.to_str().unwrap(),
			"--node-key",
			&format!("{:064x}", 7),
		],
	);
	let rpc = validator.rpc().await;
	wait_for("blocks on the operator's chain", Duration::from_secs(120), || async {
		best_number(&rpc).await.filter(|n| *n >= 2)
	})
	.await;
	wait_for("finality on the operator's chain", Duration::from_secs(120), || async {
		finalized_number(&rpc).await.filter(|n| *n >= 1)
	})
	.await;
}

/// `thingschain export-chain-spec --chain local [--raw]`, as JSON.
fn export_local(raw: bool) -> Value {
	let mut args = vec!["export-chain-spec", "--chain", "local"];
	if raw {
		args.push("--raw");
	}
	let output = node(&args);
	assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
	serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_live_spec_holding_well_known_keys_is_refused() {
	// The built-in public-network demo runs on dev keys, so it is not a Live chain.
	let output = node(&["export-chain-spec", "--chain", "testnet"]);
	assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
	let testnet: Value = serde_json::from_slice(&output.stdout).unwrap();
	assert_eq!(testnet["chainType"], "Local");

	// The local network's spec (Alice, Bob, ... as accounts, delegates and sudo) passed off as
	// a real network's, in its plain form (SS58 addresses in the genesis patch) and its raw
	// form (public keys inside storage keys and values): the node refuses to load either.
	let dir = tempfile::tempdir().unwrap();
	for raw in [false, true] {
		let mut spec = export_local(raw);
		spec["chainType"] = "Live".into();
		let path = dir.path().join(format!("live-{raw}.json"));
		std::fs::write(&path, serde_json::to_vec(&spec).unwrap()).unwrap();
		let output = node(&["export-chain-spec", "--chain", path.to_str().unwrap()]);
		assert!(!output.status.success(), "a Live spec with dev keys loaded (raw: {raw})");
		let stderr = String::from_utf8_lossy(&output.stderr);
		assert!(
			stderr.contains("well-known development keys") && stderr.contains("Alice (sr25519)"),
			"names the keys (raw: {raw}): {stderr}"
		);

		// The same spec as a Local chain loads.
		spec["chainType"] = "Local".into();
		std::fs::write(&path, serde_json::to_vec(&spec).unwrap()).unwrap();
		let output = node(&["export-chain-spec", "--chain", path.to_str().unwrap()]);
		assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
	}
}
