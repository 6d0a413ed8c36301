//! A service's NestChain under faults, across a real network: a dev WebChain (in this test's
//! network namespace), four service nodes and a super node, each in a network namespace of
//! its own on one bridge (`bench/src/netns.rs`; needs root), and every link between service
//! nodes 200 ms long each way (a userspace relay in front of each node: this kernel has no
//! `netem`). WebChain anchors an epoch with three of the four nodes' attestations.
//!
//! 1. a device's records, written to node 0, are acknowledged `replicated`;
//! 2. node 3 is cut off from the other nodes (`iptables` in its namespace), the device goes on
//!    writing, then node 3 is healed;
//! 3. node 2 is killed with SIGKILL, its data directory wiped (its key kept), and restarted;
//! 4. node 1 is killed with SIGKILL for good, mid-epoch.
//!
//! After each fault: WebChain anchors the service's next epoch within an epoch plus 30 s of
//! the fault, every record the device was told is replicated is on every node that is up, and
//! a healed or wiped node holds all of them again.

use crate::{
	common::{sibling_bin, unhex, wait_for},
	nest_service::{anchored, dev_services, reading, EPOCH},
};
use codec::Decode;
use serde_json::Value as Json;
use std::{
	net::{Ipv4Addr, SocketAddr},
	path::Path,
	time::{Duration, Instant},
};
use subxt::{dynamic::Value, rpcs::rpc_params};
use subxt_signer::sr25519::dev;
use thingschain_bench::{
	accounts::{call, register_fleet, send_batches},
	latency::Relay,
	nest::{Host, NestProcess, NODE_ROLE, SUPER_ROLE},
	netns::Namespaces,
	network::Node,
};
use thingschain_device::{
	nest::{Answer, ServiceNode},
	Chain,
};
use thingschain_primitives::{
	ids::{Hash, ServiceId},
	nest::SignedNestRecord,
};
use tokio::net::TcpListener;

/// Service nodes; the super node runs in the namespace after theirs.
const NODES: usize = 4;
/// Each way of every link between service nodes.
const DELAY: Duration = Duration::from_millis(200);
/// Records the device writes in each phase.
const BATCH: u64 = 5;
/// Every node's JSON-RPC and libp2p ports: each node has a network namespace, and so its
/// ports, of its own.
const PORTS: [u16; 2] = [9944, 30333];

/// The service's nodes as the test runs them.
struct Service {
	nodes: Vec<Option<Node>>,
	/// The ports of the relays in front of each node, on the host.
	relay_ports: Vec<u16>,
}

impl Service {
	/// Node `index`, which must be up.
	fn node(&self, index: usize) -> &Node {
		self.nodes[index].as_ref().expect("the node is up")
	}

	/// What node `index` says of itself (`nestnode_status`).
	async fn status(&self, index: usize) -> Option<Json> {
		let rpc = self.node(index).rpc().await;
		rpc.request("nestnode_status", rpc_params![]).await.ok()
	}

	/// Device `device`'s next sequence at node `index`.
	async fn next_sequence(&self, index: usize, device: u64) -> Option<u64> {
		let rpc = self.node(index).rpc().await;
		rpc.request("nestnode_nextSequence", rpc_params![device]).await.ok()
	}
}

/// Starts service node `index` (or, past the service nodes, the super node) in namespace
/// `index` on [`PORTS`], its peers given by `peers`.
fn start(
	dir: &Path,
	namespaces: &Namespaces,
	index: usize,
	webchain: &str,
	service: ServiceId,
	peers: &[SocketAddr],
) -> Node {
	let binary = sibling_bin("thingschain-nest");
	let namespace = namespaces.name(index);
	let host = Host { namespace: Some(&namespace), address: namespaces.address(index) };
	let (name, key) = match index < NODES {
		true => (format!("nest-{index}"), (NODE_ROLE, index)),
		false => ("super".to_string(), (SUPER_ROLE, 0)),
	};
	let name = name.as_str();
	let ports = PORTS;
	NestProcess { binary: &binary, dir, name, webchain, service, key, host, ports, peers }.start()
}

/// Writes `records` to node `index` with the device SDK; fails unless each is replicated.
async fn write(service: &Service, index: usize, records: &[SignedNestRecord]) {
	let node = ServiceNode::connect(&service.node(index).url()).await.unwrap();
	for answer in node.submit(records).await.unwrap() {
		assert!(matches!(answer, Answer::Replicated { .. }), "node {index}: {answer:?}");
	}
}

/// Waits until WebChain anchors an epoch of `service` past `before`, within an epoch plus 30
/// seconds of `fault`.
async fn anchors_after(chain: &Chain, service: ServiceId, before: Option<u32>, fault: Instant) {
	let deadline = Duration::from_secs(2 * u64::from(EPOCH) + 30);
	let left = deadline.saturating_sub(fault.elapsed());
	wait_for("WebChain anchors the next epoch", left, || async {
		let latest = anchored(chain, service).await;
		(latest > before).then_some(())
	})
	.await;
	eprintln!("epoch anchored {:.1} s after the fault", fault.elapsed().as_secs_f64());
}

/// Waits until every node in `up` holds all of `written`, the device's records, as they were
/// acknowledged.
async fn all_hold(service: &Service, up: &[usize], device: u64, written: &[SignedNestRecord]) {
	for &index in up {
		let count = written.len() as u64;
		wait_for("a node holds every acknowledged record", Duration::from_secs(90), || async {
			(service.next_sequence(index, device).await? >= count).then_some(())
		})
		.await;
		let rpc = service.node(index).rpc().await;
		let held: String =
			rpc.request("nestnode_records", rpc_params![device, 0, count]).await.unwrap();
		let held = Vec::<SignedNestRecord>::decode(&mut &unhex(&held)[..]).unwrap();
		let records = |records: &[SignedNestRecord]| -> Vec<_> {
			records.iter().map(|r| r.record.clone()).collect()
		};
		assert_eq!(records(&held), records(written), "node {index} lost or changed a record");
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_keeps_anchoring_and_loses_nothing_through_partition_wipe_and_crash() {
	let namespaces = Namespaces::create(NODES + 1).expect("network namespaces (needs root)");
	let dir = tempfile::tempdir().unwrap();
	let host = namespaces.host();
	let (webchain, _rpc, chain, trusted) = dev_services(dir.path(), NODES, 1).await;
	let service = trusted.services[0];
	let quorum = call(
		"ServiceRegistry",
		"set_quorum",
		vec![("service", Value::u128(service.into())), ("quorum", Value::u128(3))],
	);
	send_batches(&chain, &dev::bob(), vec![quorum], 1).await.unwrap();
	let fleet = register_fleet(&chain, 1, Some(service)).await.unwrap();
	let device = fleet.devices[0].1;
	let genesis = Hash::from(chain.genesis_hash());
	let registered = chain.best_number().await.unwrap();
	// The namespaces reach WebChain, which listens on 127.0.0.1 only, through a relay on the
	// bridge (a node listening on every address would also take a port the system picks, which
	// another test may have been given).
	let front = TcpListener::bind((host, 0)).await.unwrap();
	let url = format!("ws://{}", front.local_addr().unwrap());
	let local = SocketAddr::from((Ipv4Addr::LOCALHOST, webchain.rpc_port));
	let _webchain_relay = Relay::start(front, local, Duration::ZERO);

	// Each service node behind a relay on the host, which its peers dial.
	let mut relays = Vec::new();
	let mut relay_ports = Vec::new();
	for index in 0..NODES {
		let listener = TcpListener::bind((host, 0)).await.unwrap();
		relay_ports.push(listener.local_addr().unwrap().port());
		let target = SocketAddr::new(namespaces.address(index), PORTS[1]);
		relays.push(Relay::start(listener, target, DELAY));
	}
	let peers_of = |index: usize| -> Vec<SocketAddr> {
		let others = (0..NODES).filter(|other| *other != index);
		others.map(|other| SocketAddr::new(host, relay_ports[other])).collect()
	};
	let nodes = (0..NODES)
		.map(|i| Some(start(dir.path(), &namespaces, i, &url, service, &peers_of(i))))
		.collect();
	let mut service_nodes = Service { nodes, relay_ports };
	let rpc_addresses: Vec<SocketAddr> =
		(0..NODES).map(|i| SocketAddr::new(namespaces.address(i), PORTS[0])).collect();
	let _super_node = start(dir.path(), &namespaces, NODES, &url, service, &rpc_addresses);

	// 1. Every node reads the device and takes part; the device's first records replicate.
	for index in 0..NODES {
		wait_for("the nodes take part, each trusting the others", Duration::from_secs(120), || {
			let service_nodes = &service_nodes;
			async move {
				let status = service_nodes.status(index).await?;
				let read = status["webchainBlock"].as_u64().is_some_and(|b| b >= registered);
				let ready = status["agreementParticipants"] == NODES && status["trustedPeers"] == 3;
				(read && ready).then_some(())
			}
		})
		.await;
	}
	let mut written: Vec<SignedNestRecord> = Vec::new();
	let batch = |written: &mut Vec<SignedNestRecord>| -> Vec<SignedNestRecord> {
		let from = written.len() as u64;
		let records: Vec<_> =
			(from..from + BATCH).map(|s| reading(&fleet, genesis, service, 0, s)).collect();
		written.extend(records.iter().cloned());
		records
	};
	write(&service_nodes, 0, &batch(&mut written)).await;
	wait_for("WebChain anchors the service's first epoch", Duration::from_secs(120), || async {
		anchored(&chain, service).await
	})
	.await;
	all_hold(&service_nodes, &[0, 1, 2, 3], device, &written).await;

	// 2. Node 3 cut off from the others; the rest go on; healed, it catches up.
	let fault = Instant::now();
	let before = anchored(&chain, service).await;
	let others: Vec<u16> = (0..3).map(|i| service_nodes.relay_ports[i]).collect();
	namespaces.partition(3, &others, &[PORTS[1]]).unwrap();
	write(&service_nodes, 0, &batch(&mut written)).await;
	anchors_after(&chain, service, before, fault).await;
	all_hold(&service_nodes, &[0, 1, 2], device, &written).await;
	// Cut off, node 3 heard none of them: the partition is real.
	assert_eq!(service_nodes.next_sequence(3, device).await, Some(BATCH));
	let healed = Instant::now();
	namespaces.heal(3).unwrap();
	all_hold(&service_nodes, &[3], device, &written).await;
	eprintln!("the healed node caught up in {:.1} s", healed.elapsed().as_secs_f64());

	// 3. Node 2 killed and its data directory wiped (its key is its identity on WebChain):
	//    restarted empty, it fetches everything acknowledged from the others.
	let fault = Instant::now();
	let before = anchored(&chain, service).await;
	let mut wiped = service_nodes.nodes[2].take().unwrap();
	wiped.kill();
	for entry in std::fs::read_dir(dir.path().join("nest-2")).unwrap() {
		let path = entry.unwrap().path();
		if path.file_name().is_some_and(|name| name != "p2p.key") {
			match path.is_dir() {
				true => std::fs::remove_dir_all(&path).unwrap(),
				false => std::fs::remove_file(&path).unwrap(),
			}
		}
	}
	wiped.restart();
	service_nodes.nodes[2] = Some(wiped);
	write(&service_nodes, 1, &batch(&mut written)).await;
	anchors_after(&chain, service, before, fault).await;
	all_hold(&service_nodes, &[0, 1, 2, 3], device, &written).await;
	eprintln!("the wiped node caught up in {:.1} s", fault.elapsed().as_secs_f64());

	// 4. Node 1 killed for good, mid-epoch: three nodes are a quorum, on WebChain and in the
	//    agreement.
	let fault = Instant::now();
	let before = anchored(&chain, service).await;
	service_nodes.nodes[1].take().unwrap().kill();
	write(&service_nodes, 0, &batch(&mut written)).await;
	anchors_after(&chain, service, before, fault).await;
	all_hold(&service_nodes, &[0, 2, 3], device, &written).await;
}
