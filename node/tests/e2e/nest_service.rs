//! A service's NestChain kept by real `thingschain-nest` processes, on a dev WebChain:
//!
//! 1. the load harness's setup: a service trusting three identity-verified nodes (quorum 3)
//!    with 10-block epochs, a staked super node, two devices of the service with a reader;
//! 2. three service nodes start on 127.0.0.1, each dialing the libp2p address of those before
//!    it, and a super node given their JSON-RPC;
//! 3. once the nodes trust each other over libp2p, device 0 writes to node 0 and device 1 to
//!    node 1; node 2 holds both devices' records too (gossip), the super node once it catches
//!    up, epoch by epoch, from the nodes' certified cuts over their JSON-RPC;
//! 4. node 0 is killed with SIGKILL and restarted: every record it acknowledged is there, and
//!    device 0 goes on writing to it; device 1's offline queue is flushed by the device CLI to
//!    node 2 (`flush --nest`), and to WebChain while no service node can be reached;
//! 5. WebChain anchors the epochs from the nodes' attestations and the super node's approval
//!    alone (the test sends none), and every acknowledged record, with its proof from each
//!    node, proves against its anchored epoch over `nest_verifyInclusion`, and with
//!    `thingschain-nest verify-record`, which trusts WebChain only.

use crate::common::{device_cli, hex, metric, sibling_bin, start_node, wait_for};
use codec::Encode;
use polkadot_sdk::sp_runtime::AccountId32;
use serde_json::{json, Value as Json};
use std::{
	net::{Ipv4Addr, SocketAddr},
	path::Path,
	time::Duration,
};
use subxt::dynamic::Value;
use subxt::rpcs::{client::RpcParams, rpc_params, RpcClient};
use subxt_signer::sr25519::dev;
use thingschain_bench::{
	accounts::{self, call, register_fleet, send_batches, Fleet},
	nest::{self, sudo, trust_nodes, Authority, Host, NestProcess, Trusted, NODE_ROLE, SUPER_ROLE},
	network::{free_port, Node},
};
use thingschain_device::{
	nest::{nest_record, signed_record, Answer, ServiceNode},
	Chain,
};
use thingschain_primitives::{
	ids::{Hash, ServiceId},
	nest::{NestBody, PegArrival, SignedNestRecord},
};

/// Blocks per epoch of the test's service: at 2-second blocks the nodes anchor each epoch
/// well within the next.
pub(crate) const EPOCH: u32 = 10;
/// Records each device writes before node 0 is killed, and after.
const RECORDS: u64 = 6;

/// Starts `thingschain-nest` as `name` for `service`, with the key of `role` number `index`,
/// its RPC and libp2p on `ports` of 127.0.0.1, connecting to the service nodes on `peers`
/// (libp2p ports; RPC ports for the super node).
fn start_nest(
	dir: &Path,
	name: &str,
	webchain: &str,
	service: ServiceId,
	key: (&str, usize),
	ports: [u16; 2],
	peers: &[u16],
) -> Node {
	let binary = sibling_bin("thingschain-nest");
	let peers: Vec<SocketAddr> =
		peers.iter().map(|port| (Ipv4Addr::LOCALHOST, *port).into()).collect();
	let host = Host::LOCAL;
	NestProcess { binary: &binary, dir, name, webchain, service, key, host, ports, peers: &peers }
		.start()
}

/// `thingschain-nest verify-record` of `device`'s record `sequence` served by the node at
/// `nest`: its JSON summary, or its error output.
fn verify_record(
	webchain: &str,
	nest: &str,
	service: ServiceId,
	device: u64,
	sequence: u64,
) -> Result<Json, String> {
	let output = std::process::Command::new(sibling_bin("thingschain-nest"))
		.args(["verify-record", "--webchain", webchain, "--nest", nest])
		.args(["--service", &service.to_string(), "--device", &device.to_string()])
		.args(["--sequence", &sequence.to_string()])
		.output()
		.unwrap();
	match output.status.success() {
		true => Ok(serde_json::from_slice(&output.stdout).unwrap()),
		false => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
	}
}

/// The device CLI's key file for the fleet's device `index` (owned by Bob, who registered it).
fn device_key_file(dir: &Path, index: usize) -> std::path::PathBuf {
	let path = dir.join(format!("device-{index}.json"));
	let bob = subxt::utils::AccountId32(dev::bob().public_key().0);
	let file = json!({
		"signing_seed": hex(&accounts::seed("device", index)),
		"reader_secret": hex(&[7u8; 32]),
		"owner": bob.to_string(),
	});
	std::fs::write(&path, file.to_string()).unwrap();
	path
}

/// A path as a CLI argument.
fn path(path: &Path) -> &str {
	path.to_str().unwrap()
}

/// Device `index` of `fleet`'s reading number `sequence`, sealed for the fleet's reader and
/// signed for `service` with the device SDK.
pub(crate) fn reading(
	fleet: &Fleet,
	genesis: Hash,
	service: ServiceId,
	index: usize,
	sequence: u64,
) -> SignedNestRecord {
	let (key, device) = &fleet.devices[index];
	let text = format!("device {index} reading {sequence}: 21.{sequence} C");
	let readers = [fleet.reader.public_key()];
	nest_record(key, genesis, (service, *device), &readers, text.as_bytes(), sequence).unwrap()
}

/// Writes `records` to service node `node` with the device SDK, once it has read WebChain's
/// block `registered` (where the devices and their readers are) and trusts its `peers` other
/// nodes; fails the test unless every one is replicated (the device SDK waits for that).
async fn write(node: &Node, registered: u64, peers: usize, records: &[SignedNestRecord]) {
	for answer in submit(node, registered, peers, records).await {
		assert!(matches!(answer, Answer::Replicated { .. }), "{answer:?}");
	}
}

/// Submits `records` to service node `node` as [`write`] does; its answers.
async fn submit(
	node: &Node,
	registered: u64,
	peers: usize,
	records: &[SignedNestRecord],
) -> Vec<Answer> {
	let rpc = node.rpc().await;
	wait_for("the node read the devices and trusts its peers", Duration::from_secs(60), || async {
		let status: Json = rpc.request("nestnode_status", rpc_params![]).await.ok()?;
		let read = status["webchainBlock"].as_u64().is_some_and(|block| block >= registered);
		(read && status["trustedPeers"] == peers).then_some(())
	})
	.await;
	ServiceNode::connect(&node.url()).await.unwrap().submit(records).await.unwrap()
}

/// The latest epoch WebChain anchored for `service`, at its finalized block.
pub(crate) async fn anchored(chain: &Chain, service: ServiceId) -> Option<u32> {
	let latest = chain.storage("NestAnchor", "Latest", (service,)).await.ok()??;
	// A `LatestAnchor` starts with its epoch.
	Some(u32::from_le_bytes(latest[..4].try_into().ok()?))
}

/// Whether WebChain's `nest_verifyInclusion` proves `proven` (a service node's
/// `nestnode_proof` or `nestnode_arrival`) against `service`'s anchor of its epoch.
async fn proves(webchain: &RpcClient, service: ServiceId, proven: &Json) -> bool {
	let proof = json!({
		"leafIndex": proven["leafIndex"],
		"numberOfLeaves": proven["numberOfLeaves"],
		"siblings": proven["siblings"],
	});
	let params = rpc_params![service, proven["epoch"].clone(), proven["record"].clone(), proof];
	webchain.request("nest_verifyInclusion", params).await.unwrap()
}

/// What `nestnode_*` method `method` answers with `params` at `rpc`, once it is not `null`.
async fn served(rpc: &RpcClient, what: &str, method: &str, params: RpcParams) -> Json {
	wait_for(what, Duration::from_secs(240), || async {
		let answer: Json = rpc.request(method, params.clone()).await.ok()?;
		(!answer.is_null()).then_some(answer)
	})
	.await
}

/// A dev WebChain in `dir`, with `services` services of [`EPOCH`]-block epochs that trust
/// `nodes` identity-verified nodes (quorum: all of them) and a staked super node.
/// Also WebChain's JSON-RPC client, once it serves.
pub(crate) async fn dev_services(
	dir: &Path,
	nodes: usize,
	services: usize,
) -> (Node, RpcClient, Chain, Trusted) {
	let webchain = start_node("webchain", dir, &["--dev", "--tmp"]);
	let rpc = webchain.rpc().await;
	let chain = Chain::connect(&webchain.url()).await.unwrap();
	let signing = chain.device_signing().await.unwrap();
	let mut rules = nest::Rules::read(chain.client()).await.unwrap();
	rules.min_epoch = EPOCH;
	let trusted =
		trust_nodes(&chain, &signing, Authority::Sudo, rules, nodes, services).await.unwrap();
	(webchain, rpc, chain, trusted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_nestchain_takes_device_records_and_anchors_every_epoch() {
	let dir = tempfile::tempdir().unwrap();
	// 1. The service, its nodes and super node, its devices.
	let (webchain, webchain_rpc, chain, trusted) = dev_services(dir.path(), 3, 1).await;
	let service = trusted.services[0];
	let fleet = register_fleet(&chain, 2, Some(service)).await.unwrap();
	let genesis = Hash::from(chain.genesis_hash());
	// Service nodes take the devices WebChain has finalized.
	let registered = chain.best_number().await.unwrap();

	// 2. Three service nodes, each dialing those before it, and a super node reading them.
	let ports: Vec<[u16; 2]> = (0..4).map(|_| [free_port(), free_port()]).collect();
	let url = webchain.url();
	let mut nodes: Vec<Node> = (0..3)
		.map(|i| {
			let name = format!("nest-{i}");
			let earlier: Vec<u16> = ports[..i].iter().map(|[_, p2p]| *p2p).collect();
			start_nest(dir.path(), &name, &url, service, (NODE_ROLE, i), ports[i], &earlier)
		})
		.collect();
	let rpc_ports: Vec<u16> = ports[..3].iter().map(|[rpc, _]| *rpc).collect();
	let super_node =
		start_nest(dir.path(), "super", &url, service, (SUPER_ROLE, 0), ports[3], &rpc_ports);

	// 3. Device 0 writes to node 0, device 1 to node 1.
	let records = |index: usize, sequences: std::ops::Range<u64>| -> Vec<SignedNestRecord> {
		sequences.map(|s| reading(&fleet, genesis, service, index, s)).collect()
	};
	let written = [records(0, 0..2 * RECORDS), records(1, 0..RECORDS)];
	write(&nodes[0], registered, 2, &written[0][..RECORDS as usize]).await;
	write(&nodes[1], registered, 2, &written[1]).await;
	// Every node's identity names its node key: all three take part in the agreement.
	let status: Json =
		nodes[0].rpc().await.request("nestnode_status", rpc_params![]).await.unwrap();
	assert_eq!(status["agreementParticipants"], 3, "{status}");
	// Node 2, which no device writes to, holds them too: gossiped by nodes 0 and 1.
	let node_2 = nodes[2].rpc().await;
	for index in 0..2 {
		let device = fleet.devices[index].1;
		wait_for("node 2 holds the records", Duration::from_secs(30), || async {
			let next: u64 =
				node_2.request("nestnode_nextSequence", rpc_params![device]).await.ok()?;
			(next == RECORDS).then_some(())
		})
		.await;
	}
	// The nodes' agreement orders them: every node holds every record, replicated.
	for node in &nodes {
		let rpc = node.rpc().await;
		wait_for("the agreement replicates the records", Duration::from_secs(60), || async {
			let status: Json = rpc.request("nestnode_status", rpc_params![]).await.ok()?;
			(status["replicatedRecords"] == 2 * RECORDS).then_some(())
		})
		.await;
	}
	// Each node counts what it does, in Prometheus: node 1 acknowledged device 1's records as
	// replicated; node 2 holds both devices' and counts them replicated (gauges, sampled
	// every 2 s).
	let replicated = r#"thingschain_nest_records_acknowledged_total{level="replicated"}"#;
	assert_eq!(metric(nodes[1].prometheus_port, replicated), Some(RECORDS));
	wait_for("node 2's records gauges", Duration::from_secs(30), || async {
		let port = nodes[2].prometheus_port;
		let held = metric(port, "thingschain_nest_records")? == 2 * RECORDS;
		let ordered = metric(port, "thingschain_nest_replicated_records")? == 2 * RECORDS;
		(held && ordered).then_some(())
	})
	.await;

	// 4. A crash of node 0: what it acknowledged is there after a restart.
	nodes[0].kill();
	nodes[0].restart();
	let restarted = nodes[0].rpc().await;
	let node_0 = ServiceNode::connect(&nodes[0].url()).await.unwrap();
	let next = node_0.next_sequence(fleet.devices[0].1).await.unwrap();
	assert_eq!(next, RECORDS, "every acknowledged record survives SIGKILL");
	write(&nodes[0], registered, 2, &written[0][RECORDS as usize..]).await;

	// 4b. Device 1's offline queue, flushed with the device CLI to node 2: its readings become
	// the device's next records (the others get them by gossip). With no service node to
	// reach, the next reading goes to WebChain instead.
	let device_1 = fleet.devices[1].1;
	let queue = dir.path().join("queue-1");
	let keys = device_key_file(dir.path(), 1);
	for reading in ["21.1 C", "21.2 C", "21.3 C"] {
		device_cli(&url, &["enqueue", "--queue", path(&queue), "--data", reading]);
	}
	let flush = ["flush", "--keys", path(&keys), "--queue", path(&queue), "--attempts", "1"];
	let stored = device_cli(&url, &[&flush[..], &["--nest", &nodes[2].url()]].concat());
	assert!(stored.contains("3 readings stored"), "{stored}");
	for rpc in [nodes[2].rpc().await, nodes[1].rpc().await] {
		wait_for(
			"the queued readings are device 1's next records",
			Duration::from_secs(30),
			|| async {
				let next: u64 =
					rpc.request("nestnode_nextSequence", rpc_params![device_1]).await.ok()?;
				(next == RECORDS + 3).then_some(())
			},
		)
		.await;
	}
	assert!(chain.records(device_1).await.unwrap().is_empty(), "nothing went to WebChain");
	device_cli(&url, &["enqueue", "--queue", path(&queue), "--data", "21.4 C"]);
	let unreachable = format!("ws://127.0.0.1:{}", free_port());
	let fell_back = device_cli(&url, &[&flush[..], &["--nest", &unreachable]].concat());
	assert!(fell_back.contains("1 readings stored"), "{fell_back}");
	assert_eq!(chain.records(device_1).await.unwrap().len(), 1, "the reading is on WebChain");
	assert!(std::fs::read_dir(&queue).unwrap().next().is_none(), "the queue is empty");

	// 5. Every record is proven by every node against its epoch, once anchored.
	let rpcs = [restarted, nodes[1].rpc().await, node_2, super_node.rpc().await];
	for (index, device_records) in written.iter().enumerate() {
		let device = fleet.devices[index].1;
		for (sequence, record) in device_records.iter().enumerate() {
			let mut roots = Vec::new();
			for rpc in &rpcs {
				let what = "the record's epoch closed on every node";
				let params = rpc_params![device, sequence as u64];
				let proven = served(rpc, what, "nestnode_proof", params).await;
				assert_eq!(
					proven["record"],
					json!(format!("0x{}", hex(&record.record.leaf_bytes())))
				);
				roots.push((proven["epoch"].clone(), proven["root"].clone()));
				let epoch = proven["epoch"].as_u64().unwrap() as u32;
				wait_for("the record's epoch anchored", Duration::from_secs(240), || async {
					anchored(&chain, service).await.filter(|latest| *latest >= epoch)
				})
				.await;
				let verified = proves(&webchain_rpc, service, &proven).await;
				assert!(verified, "device {index}'s record {sequence} proves against its anchor");
			}
			assert!(
				roots.windows(2).all(|w| w[0] == w[1]),
				"every node has the same root: {roots:?}"
			);
			// The operator's CLI proves it too, from any node, trusting only WebChain.
			let node = &nodes[sequence % 3];
			let proven = verify_record(&url, &node.url(), service, device, sequence as u64);
			let proven = proven.unwrap_or_else(|e| panic!("record {sequence} not proven: {e}"));
			assert_eq!(proven["epoch"], roots[0].0);
			assert_eq!(proven["root"], roots[0].1);
		}
	}
	// A record no device wrote is not proven.
	let unwritten = verify_record(&url, &nodes[1].url(), service, device_1, RECORDS + 3);
	let error = unwritten.expect_err("an unwritten record is not proven");
	assert!(error.contains("serves no proof"), "{error}");
	drop(super_node);
}

/// Blocks a peg claim waits after its anchor, and stays contestable after its final epoch is
/// anchored, in the peg test.
const CONFIRMATION: u32 = 2;
const CONTEST: u32 = 24;
/// Later epochs of the source that may revert a lock in the peg test: the revert, written once
/// the lock's claim is seen, lands well within them.
const FINALITY_EPOCHS: u32 = 3;

/// The peg between two services, each kept by one `thingschain-nest` node and approved by a
/// super node, on a dev WebChain whose periods governance shortened (sudo):
///
/// 0. a device of the source that its owner did not let lock value locks some: refused;
///    the owner lets it lock to the destination (`Devices.admit`, `ServiceRegistry.set_policy`);
/// 1. the device locks two values for the destination (two records of its own
///    stream), and the source's node claims both on WebChain once their epoch is anchored
///    and confirmed;
/// 2. the device reverts its second lock, in a later epoch within the claim's window: the
///    source's node contests that claim once the revert's epoch is anchored;
/// 3. the first claim becomes final, the source's node settles it, and it arrives on the
///    destination's node and super node as the destination's arrival 0, proven against the
///    destination's anchor; the reverted lock never arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_arrives_on_its_destination_once_final_and_a_reverted_one_never() {
	let dir = tempfile::tempdir().unwrap();
	let (webchain, webchain_rpc, chain, trusted) = dev_services(dir.path(), 1, 2).await;

	let [source, destination] = trusted.services[..] else { panic!("two services") };
	let fleet = register_fleet(&chain, 1, Some(source)).await.unwrap();
	// Later epochs of the source may revert a lock, so the test's revert lands in time.
	let governance = vec![
		sudo(call(
			"NestPeg",
			"set_periods",
			vec![
				("confirmation", Value::u128(CONFIRMATION.into())),
				("contest", Value::u128(CONTEST.into())),
			],
		)),
		sudo(call(
			"NestPeg",
			"set_finality_epochs",
			vec![
				("service", Value::u128(source.into())),
				("epochs", Value::u128(FINALITY_EPOCHS.into())),
			],
		)),
	];
	send_batches(&chain, &dev::alice(), governance, 2).await.unwrap();
	let registered = chain.best_number().await.unwrap();
	let genesis = Hash::from(chain.genesis_hash());

	let url = webchain.url();
	let ports: Vec<[u16; 2]> = (0..4).map(|_| [free_port(), free_port()]).collect();
	let node = |name: &str, service, key, i: usize, peers: &[u16]| {
		start_nest(dir.path(), name, &url, service, key, ports[i], peers)
	};
	let source_node = node("source", source, (NODE_ROLE, 0), 0, &[]);
	let _source_super = node("source-super", source, (SUPER_ROLE, 0), 1, &[ports[0][0]]);
	let destination_node = node("destination", destination, (NODE_ROLE, 0), 2, &[]);
	let destination_super =
		node("destination-super", destination, (SUPER_ROLE, 0), 3, &[ports[2][0]]);

	// 0. The device, admitted by the service's owner (Bob registered it), may not lock value
	// until Bob lets it, to the destinations the service's policy names.
	let (key, device) = &fleet.devices[0];
	let dave = AccountId32::from(dev::dave().public_key().0);
	let record = |body| signed_record(key, genesis, (source, *device), body);
	let lock = |sequence| {
		let payload = Hash::repeat_byte(sequence as u8 + 1);
		record(NestBody::Lock { sequence, destination, beneficiary: dave.clone(), payload })
	};
	let locks = [lock(0), lock(1)];
	let refused = submit(&source_node, registered, 0, &locks[..1]).await;
	assert!(matches!(refused[..], [Answer::Refused { code: 9315, .. }]), "{refused:?}");
	let policy = call(
		"ServiceRegistry",
		"set_policy",
		vec![
			("service", Value::u128(source.into())),
			("open", Value::bool(false)),
			("lock_destinations", Value::unnamed_composite([Value::u128(destination.into())])),
		],
	);
	send_batches(&chain, &dev::bob(), vec![policy], 1).await.unwrap();
	let id = device.to_string();
	let source_id = source.to_string();
	let admit = ["admit", "--owner", "//Bob", "--device", &id, "--service", &source_id];
	let admitted = device_cli(&url, &[&admit[..], &["--may-lock"]].concat());
	assert!(admitted.contains(&format!("device {id} admitted, may lock value")), "{admitted}");
	let allowed = chain.best_number().await.unwrap();

	// 1. Two locks for Dave on the destination, claimed by the source's node.
	write(&source_node, allowed, 0, &locks).await;
	let [kept, reverted] = locks.map(|l| l.record.peg_lock().unwrap());
	let claim = |lock_id: Hash| {
		let chain = &chain;
		async move { chain.storage("NestPeg", "Claims", (source, lock_id.0)).await.unwrap() }
	};
	wait_for("the source's node claimed the second lock", Duration::from_secs(240), || async {
		claim(reverted.lock_id).await
	})
	.await;

	// 2. The device reverts it; the source's node contests the claim.
	write(
		&source_node,
		registered,
		0,
		&[record(NestBody::Revert { sequence: 2, lock_sequence: 1 })],
	)
	.await;
	// A claim's status is its last field: 1 is `Contested`.
	wait_for("the reverted lock's claim is contested", Duration::from_secs(240), || async {
		claim(reverted.lock_id).await.filter(|c| c.last() == Some(&1))
	})
	.await;

	// 3. The first lock arrives on the destination, proven against its anchor.
	let arrival = PegArrival { index: 0, lock: kept.clone(), holder: dave };
	let destination_rpcs = [destination_node.rpc().await, destination_super.rpc().await];
	for rpc in &destination_rpcs {
		let proven = served(rpc, "the lock arrived", "nestnode_arrival", rpc_params![0]).await;
		assert_eq!(proven["record"], json!(format!("0x{}", hex(&arrival.leaf_bytes()))));
		let epoch = proven["epoch"].as_u64().unwrap() as u32;
		wait_for("the arrival's epoch anchored", Duration::from_secs(240), || async {
			anchored(&chain, destination).await.filter(|latest| *latest >= epoch)
		})
		.await;
		assert!(proves(&webchain_rpc, destination, &proven).await, "the arrival proves");
	}
	let settled = chain.storage("NestPeg", "Settled", (source, kept.lock_id.0)).await.unwrap();
	assert_eq!(settled, Some(0u64.encode()), "settled as the destination's arrival 0");
	assert_eq!(claim(kept.lock_id).await.unwrap().last(), Some(&3), "`Settled`: it moves no more");
	let count = chain.storage("NestPeg", "ArrivalCount", (destination,)).await.unwrap();
	assert_eq!(count, Some(1u64.encode()), "the reverted lock never arrives");
	let none: Json = destination_rpcs[0].request("nestnode_arrival", rpc_params![1]).await.unwrap();
	assert!(none.is_null());
}
