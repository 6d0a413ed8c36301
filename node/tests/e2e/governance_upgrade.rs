//! A release going out on a network without sudo: three delegates run the previous release,
//! TIC holders vote the new runtime in, and its storage migration runs on the chain's real
//! state.
//!
//! 1. The network starts on the previous release's rehearsal runtime (`fixtures/`, built
//!    with the `fast-runtime` periods) from the `testnet` preset, with more TIC for Alice
//!    (who funds the NestChain accounts) and Ferdie (the voter).
//! 2. A `nest_admin` referendum appoints Alice registrar and creates a service; its
//!    identity-verified node and a super node anchor epoch 0. Bob, the service's owner,
//!    registers a device of the service and it stores a record.
//! 3. `thingschain try-upgrade` runs this source's rehearsal runtime's migrations and every
//!    pallet's `try_state` on the network's state.
//! 4. A `root` referendum authorizes that runtime's code hash; Alice submits the code with
//!    `apply_authorized_upgrade`.
//! 5. The new `spec_version` is live; `NestAnchor.Latest` holds the migrated anchor with the
//!    block it was made at; the device is admitted to its service by the devices' migration
//!    (its owner owns the service), the rest of its entry as it was; the entries of ten items
//!    (anchors, services, super nodes, device keys, records, stakes, votes, identities) and
//!    idle accounts' balances are as before; epoch 1 anchors under the new code; finality
//!    continues.

use crate::common::{
	exported_spec, finalized_number, hex, start_network, unhex, wait_for, NODE_BIN,
};
use codec::{Decode, DecodeAll, Encode};
use polkadot_sdk::sp_io::hashing::{blake2_128, blake2_256, twox_128, twox_64};
use serde_json::Value as Json;
use std::{collections::BTreeMap, process::Command, time::Duration};
use subxt::{
	dynamic::Value,
	rpcs::{rpc_params, RpcClient},
};
use subxt_signer::sr25519::dev;
use thingschain_bench::{
	accounts,
	governance::{self, Electorate, Origin},
	nest::{self, Authority},
	workload::{self, named},
};
use thingschain_device::Chain;

const TIC: u128 = 1_000_000_000_000;
/// The previous release's rehearsal runtime: the network's code before the upgrade.
const PREVIOUS: &str =
	concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/fixtures/rehearsal-runtime-114.wasm");
/// Items whose stored entries the upgrade must leave as they were.
const KEPT: [(&str, &str); 10] = [
	("NestAnchor", "Anchors"),
	("ServiceRegistry", "Services"),
	("ServiceRegistry", "SuperNodes"),
	("Devices", "DeviceOfKey"),
	("Payloads", "Ledgers"),
	("Payloads", "Records"),
	("Dpos", "Ledgers"),
	("Dpos", "Candidates"),
	("Dpos", "Voters"),
	("Identity", "IdentityOf"),
];

/// The `testnet` spec on the previous release's runtime, with Alice and Ferdie given
/// `alice` and `ferdie`.
fn previous_release_spec(dir: &std::path::Path, alice: u128, ferdie: u128) -> String {
	let mut spec = exported_spec("testnet", false);
	let genesis = &mut spec["genesis"]["runtimeGenesis"];
	let code = std::fs::read(PREVIOUS).expect("the previous release's runtime");
	genesis["code"] = format!("0x{}", hex(&code)).into();
	// The previous release has no block graph (spec 116 adds it, with a migration that sets
	// its reference share).
	genesis["patch"].as_object_mut().unwrap().remove("blockGraph");
	let endowed = genesis["patch"]["balances"]["balances"].as_array_mut().unwrap();
	let alice_id = dev::alice().public_key().to_account_id().to_string();
	let ferdie_id = dev::ferdie().public_key().to_account_id().to_string();
	let mut rewritten = 0;
	for entry in endowed.iter_mut() {
		let amount = match entry[0].as_str() {
			Some(id) if id == alice_id => alice,
			Some(id) if id == ferdie_id => ferdie,
			_ => continue,
		};
		entry[1] = serde_json::to_value(amount).unwrap();
		rewritten += 1;
	}
	assert_eq!(rewritten, 2, "the testnet preset endows Alice and Ferdie");
	let path = dir.join("previous-release.json");
	std::fs::write(&path, serde_json::to_vec(&spec).unwrap()).unwrap();
	path.display().to_string()
}

/// Every stored entry of `pallet.item` at block `at`, key to value.
async fn entries(rpc: &RpcClient, pallet: &str, item: &str, at: &Json) -> BTreeMap<String, String> {
	let prefix = [twox_128(pallet.as_bytes()), twox_128(item.as_bytes())].concat();
	let pairs: Vec<(String, String)> = rpc
		.request("state_getPairs", rpc_params![format!("0x{}", hex(&prefix)), at])
		.await
		.expect("state_getPairs");
	pairs.into_iter().collect()
}

/// The hash of block `number` of the best chain.
async fn block_hash(rpc: &RpcClient, number: u64) -> Json {
	rpc.request("chain_getBlockHash", rpc_params![number]).await.expect("block hash")
}

/// The `spec_version` of the runtime at block `at`.
async fn spec_version(rpc: &RpcClient, at: &Json) -> u64 {
	let version: Json =
		rpc.request("state_getRuntimeVersion", rpc_params![at]).await.expect("runtime version");
	version["specVersion"].as_u64().unwrap()
}

/// The SCALE value of `key` at block `at`.
async fn stored(rpc: &RpcClient, key: &[u8], at: &Json) -> Option<Vec<u8>> {
	let value: Option<String> = rpc
		.request("state_getStorage", rpc_params![format!("0x{}", hex(key)), at])
		.await
		.expect("storage");
	value.map(|v| unhex(&v))
}

/// The `System.Account` entries of `accounts` at `at`.
async fn balances(rpc: &RpcClient, accounts: &[[u8; 32]], at: &Json) -> Vec<Option<Vec<u8>>> {
	let mut all = Vec::new();
	for account in accounts {
		let mut key = [twox_128(b"System"), twox_128(b"Account")].concat();
		key.extend(blake2_128(account));
		key.extend(account);
		all.push(stored(rpc, &key, at).await);
	}
	all
}

/// The storage key of `NestAnchor.Latest` or `Anchors` (`Twox64Concat` keys) under `keys`.
fn anchor_key(item: &str, keys: &[&[u8]]) -> Vec<u8> {
	let mut key = [twox_128(b"NestAnchor"), twox_128(item.as_bytes())].concat();
	for part in keys {
		key.extend(twox_64(part));
		key.extend(*part);
	}
	key
}

#[tokio::test(flavor = "multi_thread")]
async fn a_referendum_upgrades_the_runtime_and_its_migration_keeps_the_state() {
	let dir = tempfile::tempdir().unwrap();
	let spec = previous_release_spec(dir.path(), 100_000 * TIC, 300_000 * TIC);
	let nodes = start_network(dir.path(), &spec, &["alice", "bob", "charlie"]);
	let rpc = nodes[0].rpc().await;
	wait_for("the first finalized block", Duration::from_secs(120), || async {
		finalized_number(&rpc).await.filter(|n| *n > 0)
	})
	.await;
	let chain = Chain::connect(&nodes[0].url()).await.expect("connects");
	let best = block_hash(&rpc, chain.best_number().await.unwrap()).await;
	let previous = spec_version(&rpc, &best).await;
	let new = thingschain_runtime::VERSION.spec_version as u64;
	// The fixture is the last release before a stored layout changed, so its migration runs
	// here; releases since then may have come between.
	assert!(previous < new, "the network runs an earlier release: {previous} against {new}");

	// Ferdie's 290,000 TIC are over two thirds of the issuance: any track's support.
	let electorate =
		Electorate { proposer: dev::alice(), voters: vec![(dev::ferdie(), 290_000 * TIC)] };

	// 2. A service created by referendum, anchoring; a device with a record.
	let signing = chain.device_signing().await.unwrap();
	let rules = nest::Rules::read(&nodes[0].client().await).await.unwrap();
	let nest = nest::set_up(&chain, &signing, Authority::Referendum(&electorate), rules, 1, 1)
		.await
		.expect("the nest_admin referendum creates the service and its node attests");
	let (service, root) = nest.services[0];
	// Transactions are mortal: sign with a recent block.
	let signing = chain.device_signing().await.unwrap();
	let approvals = workload::attestations(&signing, &nest, 0).unwrap();
	for approval in &approvals {
		chain.submit_signed(&approval.bytes).await.unwrap();
	}
	let latest_key = anchor_key("Latest", &[&service.encode()]);
	wait_for("epoch 0 anchored", Duration::from_secs(60), || async {
		let at = block_hash(&rpc, chain.best_number().await.ok()?).await;
		stored(&rpc, &latest_key, &at).await
	})
	.await;
	let fleet = accounts::register_fleet(&chain, 1, Some(service)).await.unwrap();
	let device = fleet.devices[0].1.encode();
	let device_key =
		[&twox_128(b"Devices")[..], &twox_128(b"Devices"), &twox_64(&device), &device].concat();
	let signing = chain.device_signing().await.unwrap();
	let record = workload::records(&signing, &fleet, 1, 1, 0).unwrap();
	let after = chain.best_number().await.unwrap();
	let hash = chain.submit_signed(&record[0].bytes).await.unwrap();
	let stored_in = chain.receipts(after, &[hash]).await.unwrap();
	stored_in.into_values().next().unwrap().expect("the record is stored");

	// 3. The new runtime's migrations and every invariant, on this network's state (its
	// finalized block, which must hold the anchor).
	let stored_at = chain.best_number().await.unwrap();
	wait_for("the anchor and the record finalized", Duration::from_secs(60), || async {
		finalized_number(&rpc).await.filter(|n| *n >= stored_at)
	})
	.await;
	let upgrade = thingschain_runtime::rehearsal::WASM_BINARY_PATH.expect("rehearsal runtime");
	let try_upgrade = |runtime: &str| {
		Command::new(NODE_BIN)
			.args(["try-upgrade", "--uri", &nodes[0].url(), "--runtime", runtime])
			.output()
			.expect("try-upgrade runs")
	};
	let checked = try_upgrade(upgrade);
	let (out, err) =
		(String::from_utf8_lossy(&checked.stdout), String::from_utf8_lossy(&checked.stderr));
	assert!(checked.status.success(), "try-upgrade refused the upgrade: {err}");
	assert!(out.contains("the upgrade passed every check"), "{out}");
	let same = try_upgrade(PREVIOUS);
	assert!(!same.status.success(), "the chain's own runtime is no upgrade");
	assert!(
		String::from_utf8_lossy(&same.stderr)
			.contains("spec_version 114 is not above the chain's 114"),
		"{}",
		String::from_utf8_lossy(&same.stderr)
	);

	// 4. The root track authorizes the code; anyone applies it.
	let code = std::fs::read(upgrade).unwrap();
	let authorize = subxt::dynamic::transaction(
		"System",
		"authorize_upgrade",
		named(vec![("code_hash", Value::from_bytes(blake2_256(&code)))]),
	);
	let call = chain.device_signing().await.unwrap().call_data(&authorize).unwrap();
	let enacted = governance::pass(&chain, &electorate, Origin::Root, &call)
		.await
		.expect("the root referendum authorizes the upgrade");
	assert!(enacted.events.iter().any(|e| e.pallet == "System" && e.name == "UpgradeAuthorized"));
	let apply = subxt::dynamic::transaction(
		"System",
		"apply_authorized_upgrade",
		named(vec![("code", Value::from_bytes(&code))]),
	);
	let applied = chain.send(&apply, &dev::alice()).await.expect("the authorized code applies");
	assert!(applied.events.iter().any(|e| e.pallet == "System" && e.name == "CodeUpdated"));
	// Read blocks once finalized: a competing fork cannot replace them then.
	wait_for("the first block of the new runtime", Duration::from_secs(60), || async {
		finalized_number(&rpc).await.filter(|n| *n > applied.block)
	})
	.await;
	let set_at = block_hash(&rpc, applied.block).await;
	// Accounts that send nothing until the comparison and earn no block rewards.
	let idle =
		[dev::ferdie(), accounts::keypair("service-node", 0), accounts::keypair("super-node", 0)]
			.map(|k| k.public_key().0);
	let before = (kept_entries(&rpc, &set_at).await, balances(&rpc, &idle, &set_at).await);

	// 5. The first block of the new code ran the migration.
	let first = block_hash(&rpc, applied.block + 1).await;
	let before_set = block_hash(&rpc, applied.block - 1).await;
	assert_eq!(spec_version(&rpc, &before_set).await, previous);
	assert_eq!(spec_version(&rpc, &set_at).await, new, "the new runtime is live");
	let v0 = stored(&rpc, &latest_key, &set_at).await.unwrap();
	let (epoch, hash) = <(u32, [u8; 32])>::decode_all(&mut &v0[..]).expect("v0: (epoch, hash)");
	let v1 = stored(&rpc, &latest_key, &first).await.unwrap();
	let (epoch1, hash1, anchored_at) =
		<(u32, [u8; 32], u32)>::decode_all(&mut &v1[..]).expect("v1: epoch, hash, anchored_at");
	let anchor =
		stored(&rpc, &anchor_key("Anchors", &[&service.encode(), &epoch.encode()]), &first)
			.await
			.unwrap();
	let (_root, _prev, _hash, made_at) =
		<([u8; 32], [u8; 32], [u8; 32], u32)>::decode(&mut &anchor[..]).unwrap();
	assert_eq!((epoch1, hash1), (epoch, hash), "the migration keeps the epoch and hash");
	assert_eq!(anchored_at, made_at, "and adds the block the anchor was made at");
	// The block graph came with the upgrade, its reference share set by its migration.
	let share_key = [twox_128(b"BlockGraph"), twox_128(b"ReferenceShare")].concat();
	assert_eq!(stored(&rpc, &share_key, &set_at).await, None);
	let share = stored(&rpc, &share_key, &first).await.expect("the share is set");
	let expected = thingschain_runtime::genesis_config_presets::REFERENCE_SHARE;
	assert_eq!(share, expected.encode(), "the presets' share");
	// A v0 device is owner, key, kind, then its service `Some(id)`; at v1 the service's owner
	// registered it: `Admitted { may_lock: false }` follows the id, the rest unchanged.
	let v0 = stored(&rpc, &device_key, &set_at).await.expect("the device");
	let v1 = stored(&rpc, &device_key, &first).await.expect("the device, migrated");
	let service_end = 32 + 32 + 1 + 1 + 4;
	assert_eq!(v0[service_end - 5..service_end], [&[1u8][..], &service.encode()].concat());
	let admitted = [&v0[..service_end], &[1, 0], &v0[service_end..]].concat();
	assert_eq!(v1, admitted, "the device is admitted, the rest of it unchanged");
	let after = (kept_entries(&rpc, &first).await, balances(&rpc, &idle, &first).await);
	assert!(before.0.iter().all(|entries| !entries.is_empty()), "every kept item has entries");
	assert_eq!(after, before, "nothing else changed");

	// Epoch 1 anchors under the new code, building on the migrated anchor.
	let node = accounts::keypair("service-node", 0);
	let super_node = accounts::keypair("super-node", 0);
	let fields = |with_prev: bool| {
		let mut fields = vec![
			("service", Value::u128(service.into())),
			("epoch", Value::u128(1)),
			("root", Value::from_bytes(root)),
		];
		if with_prev {
			fields.push(("prev", Value::from_bytes(hash)));
		}
		named(fields)
	};
	chain
		.send(&subxt::dynamic::transaction("NestAnchor", "attest", fields(true)), &node)
		.await
		.expect("epoch 1 attested");
	let anchored = chain
		.send(&subxt::dynamic::transaction("NestAnchor", "approve", fields(false)), &super_node)
		.await
		.expect("epoch 1 approved");
	assert!(anchored.events.iter().any(|e| e.pallet == "NestAnchor" && e.name == "Anchored"));
	let now = block_hash(&rpc, anchored.block).await;
	let latest = stored(&rpc, &latest_key, &now).await.unwrap();
	assert_eq!(
		<(u32, [u8; 32], u32)>::decode_all(&mut &latest[..]).unwrap().2 as u64,
		anchored.block,
		"the new code records each anchor's block"
	);
	wait_for("finality past the upgrade", Duration::from_secs(60), || async {
		finalized_number(&rpc).await.filter(|n| *n >= anchored.block)
	})
	.await;
	drop(nodes);
}

/// The entries of every [`KEPT`] item at `at`.
async fn kept_entries(rpc: &RpcClient, at: &Json) -> Vec<BTreeMap<String, String>> {
	let mut all = Vec::new();
	for (pallet, item) in KEPT {
		all.push(entries(rpc, pallet, item, at).await);
	}
	all
}
