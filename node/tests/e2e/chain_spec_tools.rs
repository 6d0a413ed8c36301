//! The chain-spec tooling: committed specs match the runtime, and `thingschain operator-spec`
//! turns an operator's own keys into a spec a validator can run, refusing well-known dev keys,
//! bonds below the runtime's minimum and files it does not understand.

use crate::common::{best_number, finalized_number, start_node, wait_for, NODE_BIN};
use polkadot_sdk::{
	sc_executor::{RuntimeVersion, RuntimeVersionOf, WasmExecutor},
	sp_core::{
		bytes,
		traits::{CallContext, CodeExecutor, RuntimeCode, WrappedRuntimeCode},
	},
	sp_io::{self, hashing::blake2_256},
};
use serde_json::{json, Value};
use std::{
	path::{Path, PathBuf},
	process::{Command, Output},
	time::Duration,
};

fn repo_root() -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
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

/// Alice's sr25519 account, a well-known dev key.
const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
/// Alice's ed25519 key.
const ALICE_ED: &str = "5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu";

/// An operator file: one validator (account, Aura, GRANDPA) on the testnet preset, `endowed`
/// with 5,000 TIC, no sudo.
fn operator_json(validator: (&str, &str, &str), endowed: &str) -> Value {
	json!({
		"name": "ThingsChain Integration",
		"id": "thingschain_it",
		"preset": "testnet",
		"bootNodes": [],
		"validators": [{ "account": validator.0, "aura": validator.1, "grandpa": validator.2 }],
		"endowments": [[endowed, "5000000000000000"]],
		"sudo": null
	})
}

fn write_operator(dir: &Path, validator: (&str, &str, &str), endowed: &str) -> PathBuf {
	let path = dir.join("operator.json");
	let operator = operator_json(validator, endowed);
	std::fs::write(&path, serde_json::to_vec_pretty(&operator).unwrap()).unwrap();
	path
}

/// The paths (`.genesis.raw.top.0x1234...`, ...) where `a` and `b` differ.
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

/// Where a spec keeps the runtime's WASM code: plain specs name it, raw ones store it under
/// the well-known `:code` key.
const CODE_POINTERS: [&str; 2] = ["/genesis/runtimeGenesis/code", "/genesis/raw/top/0x3a636f6465"];

/// Takes the WASM code out of `spec`, as bytes.
fn take_code(spec: &mut Value) -> Option<Vec<u8>> {
	let pointer = CODE_POINTERS.iter().find(|pointer| spec.pointer(pointer).is_some())?;
	let code = spec.pointer_mut(pointer)?.take();
	Some(bytes::from_hex(code.as_str()?).expect("the code is hex"))
}

/// What a runtime blob says it is, as a node reads it: its version and its metadata.
#[derive(Debug, PartialEq)]
struct RuntimeIdentity {
	version: RuntimeVersion,
	metadata: Vec<u8>,
}

fn runtime_identity(code: &[u8]) -> RuntimeIdentity {
	let executor = WasmExecutor::<sp_io::SubstrateHostFunctions>::builder().build();
	let fetcher = WrappedRuntimeCode(code.into());
	let runtime_code =
		RuntimeCode { code_fetcher: &fetcher, heap_pages: None, hash: blake2_256(code).to_vec() };
	let mut externalities = sp_io::TestExternalities::default();
	let mut ext = externalities.ext();
	let mut version = executor.runtime_version(&mut ext, &runtime_code).expect("a runtime version");
	// The linker orders the blob's list of runtime APIs by symbol, which differs between
	// checkouts too: the set is what the runtime offers.
	let mut apis = version.apis.to_vec();
	apis.sort();
	version.apis = apis.into();
	let (metadata, _) =
		executor.call(&mut ext, &runtime_code, "Metadata_metadata", &[], CallContext::Offchain);
	RuntimeIdentity { version, metadata: metadata.expect("the runtime's metadata") }
}

/// The committed specs are what `scripts/generate-chain-specs.sh` writes from this source.
/// Their WASM code is compared by what it declares, its version and metadata, not byte for
/// byte: the same sources build a different blob in another folder (the paths in panic
/// messages, crate hashes, the order of its API list), so a byte check would fail in every
/// other checkout. A runtime change that keeps the metadata must bump `spec_version`, as an
/// upgrade needs anyway.
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
			let mut fresh: Value = serde_json::from_slice(&output.stdout).unwrap();
			let file = repo_root().join("chain-specs").join(&name);
			let mut committed: Value = std::fs::read(&file)
				.map(|bytes| serde_json::from_slice(&bytes).unwrap())
				.unwrap_or(Value::Null);
			let fresh_code = take_code(&mut fresh).expect("an exported spec holds the code");
			let mut paths = Vec::new();
			match take_code(&mut committed) {
				Some(code) if code == fresh_code => {}
				Some(code) if runtime_identity(&code) == runtime_identity(&fresh_code) => {}
				_ => paths.push("its WASM code (version or metadata)".to_string()),
			}
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

/// `thingschain operator-spec OPERATOR --out OUT`.
fn operator_spec(operator: &Path, out: &Path) -> Output {
	node(&["operator-spec", operator.to_str().unwrap(), "--out", out.to_str().unwrap()])
}

/// Each file a safe network cannot start from is refused, with the reason.
#[test]
fn operator_spec_refuses_dev_keys_low_bonds_and_unknown_fields() {
	let dir = tempfile::tempdir().unwrap();
	let (_, aura) = generate_key("sr25519");
	let (_, grandpa) = generate_key("ed25519");
	let cases: [(&str, fn(&mut Value), &str); 7] = [
		(
			"Alice as validator",
			|op| op["validators"][0]["account"] = ALICE.into(),
			"validator account 5Grwva",
		),
		(
			"Alice's GRANDPA key",
			|op| op["validators"][0]["grandpa"] = ALICE_ED.into(),
			"validator GRANDPA key 5FA9nQ",
		),
		(
			"a bond below the minimum",
			|op| op["validators"][0]["bond"] = "999000000000000".into(),
			"less than the runtime's minimum candidate bond 1000000000000000",
		),
		(
			"an endowment that does not cover the bond",
			|op| op["endowments"][0][1] = "1000000000000000".into(),
			"not more than its bond",
		),
		(
			"a misspelt field",
			|op| op["validators"][0]["comission"] = 5.into(),
			"unknown field `comission`",
		),
		("an unknown preset", |op| op["preset"] = "mainnet".into(), "no preset `mainnet`"),
		// The runtime's genesis build refuses this one; its message reaches the operator.
		(
			"a validator voting",
			|op| {
				let validator = op["validators"][0]["account"].clone();
				op["votes"] = json!([[validator.clone(), "1000000000000", [validator]]]);
			},
			"cannot approve",
		),
	];
	for (what, change, reason) in cases {
		let mut operator = operator_json((&aura, &aura, &grandpa), &aura);
		change(&mut operator);
		let file = dir.path().join("operator.json");
		std::fs::write(&file, serde_json::to_vec(&operator).unwrap()).unwrap();
		let output = operator_spec(&file, &dir.path().join("out"));
		let stderr = String::from_utf8_lossy(&output.stderr);
		assert!(!output.status.success(), "{what} is refused");
		assert!(stderr.contains(reason), "{what}: the refusal says `{reason}`: {stderr}");
		assert!(stderr.contains("well-known dev key") == what.starts_with("Alice"), "{stderr}");
	}
	assert!(!dir.path().join("out").exists(), "nothing is written");
}

#[tokio::test(flavor = "multi_thread")]
async fn operator_spec_runs_on_the_operators_own_keys() {
	let dir = tempfile::tempdir().unwrap();
	let (aura_phrase, aura) = generate_key("sr25519");
	let (grandpa_phrase, grandpa) = generate_key("ed25519");
	let operator = write_operator(dir.path(), (&aura, &aura, &grandpa), &aura);
	let out = dir.path().join("out");
	let output = operator_spec(&operator, &out);
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
		json!([{ "account": aura, "bond": 1_000_000_000_000_000u128, "commission": 100_000_000 }])
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
	crate::common::exported_spec("local", raw)
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
