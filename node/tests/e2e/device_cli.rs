//! A device onboarded and sending encrypted data end to end, with the `thingschain-device` CLI
//! a user would run (see the README), against a `--dev` node and a second node that only
//! syncs the chain:
//!
//! 1. keys for a device, a reader and a stranger; Bob registers the device and grants the
//!    reader;
//! 2. the device queues 100 readings and flushes them, in two `Payloads.store_batch`
//!    transactions: the device holds no token, Bob pays every fee and deposit, to the planck;
//!    a reading already on chain is not sent twice;
//! 3. the reader decrypts all 100; the stranger, through the other node, sees only ciphertext,
//!    and no plaintext is anywhere in that node's state;
//! 4. once revoked, the reader gets nothing new;
//! 5. a key file that trusts another owner than the device's seals nothing.

use crate::common::{
	best_number, device_cli, metric, node_key, peer_id, sibling_bin, start_node, wait_for,
};
use serde_json::Value as Json;
use std::{path::Path, process::Command, time::Duration};
use subxt::{
	dynamic::{self, At, Value},
	OnlineClient, PolkadotConfig,
};
use subxt_signer::sr25519::dev;

const READINGS: usize = 100;

/// The value after `label` on one of `output`'s lines.
fn field<'a>(output: &'a str, label: &str) -> &'a str {
	output
		.lines()
		.find_map(|line| line.strip_prefix(label))
		.unwrap_or_else(|| panic!("no {label:?} in {output}"))
		.trim()
}

/// `fetch`'s lines, as JSON.
fn records(output: &str) -> Vec<Json> {
	output.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect()
}

/// `who`'s `System.Account` at the best block: nonce, free and reserved (held) balance.
async fn account(client: &OnlineClient<PolkadotConfig>, url: &str, who: [u8; 32]) -> Account {
	let rpc = subxt::rpcs::RpcClient::from_insecure_url(url).await.unwrap();
	let best = best_number(&rpc).await.unwrap();
	let at = client.at_block(best).await.expect("best block state");
	let address = dynamic::storage::<([u8; 32],), Value>("System", "Account");
	let Some(account) = at.storage().try_fetch(address, (who,)).await.expect("reads") else {
		return Account::default();
	};
	let account = account.decode().expect("account decodes");
	let get = |value: Option<&Value>| value.and_then(|v| v.as_u128()).unwrap();
	Account {
		nonce: get(account.at("nonce")) as u64,
		free: get(account.at("data").at("free")),
		reserved: get(account.at("data").at("reserved")),
	}
}

/// What [`account`] reads.
#[derive(Debug, Default, PartialEq)]
struct Account {
	nonce: u64,
	free: u128,
	reserved: u128,
}

fn reading(i: usize) -> String {
	format!("reading {i}: {}.{} C", 20 + i / 10, i % 10)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_sends_encrypted_readings_paid_by_its_owner_and_only_its_reader_reads_them() {
	let dir = tempfile::tempdir().unwrap();
	let key = node_key(0);
	let owner_node = start_node("owner-node", dir.path(), &["--dev", "--tmp", "--node-key", &key]);
	let boot =
		format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", owner_node.p2p_port, peer_id(&key, dir.path()));
	let other_node =
		start_node("other-node", dir.path(), &["--chain", "dev", "--tmp", "--bootnodes", &boot]);
	let (url, other_url) = (owner_node.url(), other_node.url());
	let rpc = owner_node.rpc().await;
	wait_for("block 1", Duration::from_secs(120), || async {
		best_number(&rpc).await.filter(|n| *n >= 1)
	})
	.await;
	let client = owner_node.client().await;

	// 1. Keys; Bob registers the device and grants the reader.
	let file = |name: &str| dir.path().join(name).display().to_string();
	let (device_keys, reader_keys, stranger_keys, queue) =
		(file("device.json"), file("reader.json"), file("stranger.json"), file("queue"));
	let device = device_cli(&url, &["keygen", "--out", &device_keys]);
	let reader = device_cli(&url, &["keygen", "--out", &reader_keys]);
	device_cli(&url, &["keygen", "--out", &stranger_keys]);
	let registered = device_cli(
		&url,
		&["register", "--owner", "//Bob", "--keys", &device_keys, "--metadata", "cold room 4"],
	);
	let id = field(&registered, "device").split_whitespace().next().unwrap().to_string();
	let reader_key = field(&reader, "reader key:").to_string();
	device_cli(&url, &["grant", "--owner", "//Bob", "--device", &id, "--reader", &reader_key]);
	let device_account: subxt::utils::AccountId32 =
		field(&device, "device account:").parse().expect("an SS58 address");

	// 2. A hundred readings queued (offline), then flushed.
	for i in 0..READINGS {
		device_cli(&url, &["enqueue", "--queue", &queue, "--data", &reading(i)]);
	}
	let bob = dev::bob().public_key().0;
	let before = account(&client, &url, bob).await;
	let flushed = device_cli(&url, &["flush", "--keys", &device_keys, "--queue", &queue]);
	assert!(flushed.contains(&format!("{READINGS} readings stored")), "{flushed}");
	let fees: u128 =
		field(&flushed, &format!("{READINGS} readings stored, fees paid by the owner:"))
			.parse()
			.unwrap();
	assert!(fees > 0);
	assert_eq!(std::fs::read_dir(&queue).unwrap().count(), 0, "the queue is empty");
	let after = account(&client, &url, bob).await;
	let deposits = after.reserved - before.reserved;
	assert!(deposits > 0);
	assert_eq!(before.free - after.free, deposits + fees, "Bob paid every fee and deposit");
	let device = account(&client, &url, device_account.0).await;
	assert_eq!((device.free, device.reserved), (0, 0), "the device holds nothing");
	// In Payloads.store_batch transactions of the chain's MaxBatch (64): two for 100, after
	// nonce 0, which the key's binding to Bob spent.
	assert_eq!(device.nonce, 3, "100 readings in two transactions");

	// A reading whose transaction landed just before the device lost its connection (the
	// queue remembers it was sent with the last nonce, which the chain has used) is not sent
	// twice.
	device_cli(&url, &["enqueue", "--queue", &queue, "--data", "sent before a crash"]);
	let sent_marker = [(device.nonce - 1).to_le_bytes().as_slice(), &[0u8; 32]].concat();
	std::fs::write(Path::new(&queue).join(format!("{:020}.sent", 0)), sent_marker).unwrap();
	let flushed = device_cli(&url, &["flush", "--keys", &device_keys, "--queue", &queue]);
	assert!(flushed.contains("1 readings stored, fees paid by the owner: 0"), "{flushed}");

	// 3. The reader decrypts everything; the stranger, on the other node, sees ciphertext.
	let read = records(&device_cli(&url, &["fetch", "--device", &id, "--keys", &reader_keys]));
	assert_eq!(read.len(), READINGS);
	for (i, record) in read.iter().enumerate() {
		assert_eq!(record["record"], i);
		assert_eq!(record["status"], "decrypted", "{record}");
		assert_eq!(record["data"], reading(i));
	}
	let other_rpc = other_node.rpc().await;
	let synced = best_number(&rpc).await.unwrap();
	wait_for("the other node to sync", Duration::from_secs(120), || async {
		best_number(&other_rpc).await.filter(|n| *n >= synced)
	})
	.await;
	let seen =
		records(&device_cli(&other_url, &["fetch", "--device", &id, "--keys", &stranger_keys]));
	assert_eq!(seen.len(), READINGS);
	assert!(seen.iter().all(|r| r["status"] == "sealed" && r.get("data").is_none()), "{seen:?}");
	let other_client = other_node.client().await;
	let at = other_client.at_block(synced).await.unwrap();
	let address = dynamic::storage::<(u64, u64), Value>("Payloads", "Records");
	let mut entries = at.storage().iter(address, (id.parse::<u64>().unwrap(),)).await.unwrap();
	let mut stored = 0;
	while let Some(entry) = entries.next().await {
		let bytes = entry.unwrap().value().bytes().to_vec();
		assert!(!bytes.windows(8).any(|w| w == b"reading "), "no plaintext in the node's state");
		stored += 1;
	}
	assert_eq!(stored, READINGS);

	// 4. Revoked, the reader gets nothing new.
	device_cli(&url, &["revoke", "--owner", "//Bob", "--device", &id, "--reader", &reader_key]);
	let stranger_key =
		field(&device_cli(&url, &["show", "--keys", &stranger_keys]), "reader key:").to_string();
	device_cli(&url, &["grant", "--owner", "//Bob", "--device", &id, "--reader", &stranger_key]);
	device_cli(&url, &["enqueue", "--queue", &queue, "--data", "after the revocation"]);
	device_cli(&url, &["flush", "--keys", &device_keys, "--queue", &queue]);
	let read = records(&device_cli(&url, &["fetch", "--device", &id, "--keys", &reader_keys]));
	assert_eq!(read.len(), READINGS + 1);
	assert_eq!(read[READINGS]["status"], "sealed");
	let seen = records(&device_cli(&url, &["fetch", "--device", &id, "--keys", &stranger_keys]));
	assert_eq!(seen[READINGS]["data"], "after the revocation");

	// 5. The same device key, in a key file pinned to Charlie: the device is Bob's on chain,
	// so nothing is sealed or sent, and the reading stays queued.
	let mut file: Json = serde_json::from_slice(&std::fs::read(&device_keys).unwrap()).unwrap();
	file["owner"] = Json::String(dev::charlie().public_key().to_account_id().to_string());
	let misled = dir.path().join("misled.json");
	std::fs::write(&misled, serde_json::to_vec(&file).unwrap()).unwrap();
	device_cli(&url, &["enqueue", "--queue", &queue, "--data", "for Charlie's readers"]);
	let output = Command::new(sibling_bin("thingschain-device"))
		.args(["flush", "--keys", misled.to_str().unwrap(), "--queue", &queue, "--attempts", "1"])
		.args(["--url", &url])
		.output()
		.unwrap();
	let err = String::from_utf8_lossy(&output.stderr);
	assert!(!output.status.success() && err.contains("the owner its key file trusts"), "{err}");
	assert_eq!(records(&device_cli(&url, &["fetch", "--device", &id])).len(), READINGS + 1);

	// 6. The owner node's Prometheus counts what its finalized blocks did: one device
	// registered and its records.
	wait_for("the records in the metrics", Duration::from_secs(60), || async {
		metric(owner_node.prometheus_port, "thingschain_records_stored_total")
			.filter(|n| *n == READINGS as u64 + 1)
	})
	.await;
	assert_eq!(metric(owner_node.prometheus_port, "thingschain_devices_registered_total"), Some(1));
	assert_eq!(metric(owner_node.prometheus_port, "thingschain_anchors_accepted_total"), Some(0));
}
