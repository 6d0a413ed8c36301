//! The radiating block graph on a real network with real forks: the four `local` delegates
//! start as two groups that cannot reach each other (`--reserved-only`, each peered only
//! with its partner), so each group builds its own branch in its own slots and neither can
//! finalize (GRANDPA needs three of four). Each group is sent a transfer. When the groups
//! are joined, the blocks that follow reference the other branch's blocks; every node
//! converges on one chain and finality resumes; the losing branch's transfer returns to the
//! pool and is included again; the referenced blocks' delegates are paid; a restarted node
//! serves the same graph; and `thingschain dag-graph` draws it.

use crate::common::{
	finalized_number, metric, node_key, peer_id, start_node, wait_for, Node, NODE_BIN,
};
use serde_json::Value as Json;
use std::{path::Path, time::Duration};
use subxt::{
	dynamic::{self, At},
	rpcs::rpc_params,
	OnlineClient, PolkadotConfig,
};
use subxt_signer::sr25519::{dev, Keypair};
use thingschain_bench::network::{self, validator_args};

/// The four delegates, in two groups.
const GROUPS: [[&str; 2]; 2] = [["alice", "bob"], ["charlie", "dave"]];

/// Starts the four delegates of `local`, each allowed to peer only with reserved nodes.
fn start_apart(dir: &Path) -> Vec<Node> {
	GROUPS
		.iter()
		.flatten()
		.enumerate()
		.map(|(i, name)| {
			let mut args = validator_args(dir, "local", name, i);
			args.push("--reserved-only".into());
			start_node(name, dir, &args.iter().map(String::as_str).collect::<Vec<_>>())
		})
		.collect()
}

/// Makes `a` and `b` reserved peers of each other.
async fn connect(dir: &Path, nodes: &[Node], a: usize, b: usize) {
	for (from, to) in [(a, b), (b, a)] {
		let address = format!(
			"/ip4/127.0.0.1/tcp/{}/p2p/{}",
			nodes[to].p2p_port,
			peer_id(&node_key(to), dir)
		);
		let () = nodes[from]
			.rpc()
			.await
			.request("system_addReservedPeer", rpc_params![address])
			.await
			.expect("a local node takes reserved peers");
	}
}

/// The best block number each node sees.
async fn best_numbers(nodes: &[Node]) -> Vec<u64> {
	let mut numbers = Vec::new();
	for node in nodes {
		numbers.push(crate::common::best_number(&node.rpc().await).await.unwrap_or(0));
	}
	numbers
}

/// `who`'s nonce in the finalized state.
async fn finalized_nonce(client: &OnlineClient<PolkadotConfig>, who: &Keypair) -> u64 {
	let finalized = client.at_current_block().await.expect("finalized state");
	let address = dynamic::storage::<([u8; 32],), dynamic::Value>("System", "Account");
	let Some(account) =
		finalized.storage().try_fetch(address, (who.public_key().0,)).await.expect("reads")
	else {
		return 0;
	};
	let account = account.decode().expect("account decodes");
	account.at("nonce").and_then(|n| n.as_u128()).unwrap_or_default() as u64
}

/// Whether a finalized block up to `last` paid a referenced block's delegate.
async fn a_reference_was_paid(client: &OnlineClient<PolkadotConfig>, last: u64) -> bool {
	for number in 1..=last {
		let Ok(at) = client.at_block(number).await else { continue };
		let Ok(events) = at.events().fetch().await else { continue };
		if events.iter().filter_map(Result::ok).any(|event| {
			event.pallet_name() == "BlockGraph" && event.event_name() == "ReferenceRewarded"
		}) {
			return true;
		}
	}
	false
}

/// `dag_graph` from block 1 to `last`, as JSON.
async fn dag_graph(node: &Node, last: u64) -> Json {
	node.rpc().await.request("dag_graph", rpc_params![1, last]).await.expect("dag_graph answers")
}

/// The reference edges of a `dag_graph` answer.
fn references(graph: &Json) -> Vec<Json> {
	graph["edges"]
		.as_array()
		.expect("edges")
		.iter()
		.filter(|edge| edge["kind"] == "reference")
		.cloned()
		.collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn forks_are_referenced_chosen_by_their_work_and_drawn() {
	let dir = tempfile::tempdir().unwrap();
	let mut nodes = start_apart(dir.path());
	connect(dir.path(), &nodes, 0, 1).await;
	connect(dir.path(), &nodes, 2, 3).await;

	// Apart, each group builds a branch of its own, and a transfer goes to each.
	wait_for("both branches to grow", Duration::from_secs(120), || async {
		best_numbers(&nodes).await.iter().all(|n| *n >= 3).then_some(())
	})
	.await;
	let senders = [dev::eve(), dev::ferdie()];
	for (group, sender) in senders.iter().enumerate() {
		let client = nodes[2 * group].client().await;
		let transfer = dynamic::tx(
			"Balances",
			"transfer_keep_alive",
			vec![
				dynamic::Value::unnamed_variant(
					"Id",
					[dynamic::Value::from_bytes(dev::one().public_key().0)],
				),
				dynamic::Value::u128(1_000_000_000_000),
			],
		);
		client
			.transactions()
			.await
			.expect("transactions client")
			.sign_and_submit_default(&transfer, sender)
			.await
			.expect("the transfer is in the pool");
	}
	let alice = nodes[0].rpc().await;
	assert_eq!(finalized_number(&alice).await, Some(0), "two delegates of four cannot finalize");

	// Joined, every node sees both branches.
	for a in 0..2 {
		for b in 2..4 {
			connect(dir.path(), &nodes, a, b).await;
		}
	}
	let finalized = wait_for("finality to resume", Duration::from_secs(180), || async {
		finalized_number(&alice).await.filter(|n| *n >= 10)
	})
	.await;

	// One chain on every node.
	let mut hashes = Vec::new();
	for node in &nodes {
		let hash: Json = node
			.rpc()
			.await
			.request("chain_getBlockHash", rpc_params![finalized])
			.await
			.expect("a finalized hash");
		hashes.push(hash);
	}
	assert!(hashes.iter().all(|h| *h == hashes[0] && !h.is_null()), "{hashes:?}");

	// The graph has references; a referenced delegate was paid; both transfers are final.
	let graph = dag_graph(&nodes[0], finalized).await;
	assert!(!references(&graph).is_empty(), "no references in {graph}");
	let client = nodes[0].client().await;
	assert!(a_reference_was_paid(&client, finalized).await, "no reference was paid");
	for sender in &senders {
		wait_for("both transfers to be finalized", Duration::from_secs(60), || async {
			(finalized_nonce(&client, sender).await == 1).then_some(())
		})
		.await;
	}
	let counted = nodes.iter().filter_map(|node| {
		metric(node.prometheus_port, "thingschain_block_graph_references_total")
	});
	assert!(counted.max().unwrap_or_default() > 0, "the metric counts references");
	// Each node timed the imports of the blocks it received, and the graph's part of them.
	for node in &nodes {
		let value = |name| network::metric(node.prometheus_port, name).unwrap_or_default();
		let imports = value("thingschain_block_import_seconds_count");
		let (graph, whole) = (
			value("thingschain_block_graph_import_seconds_sum"),
			value("thingschain_block_import_seconds_sum"),
		);
		assert!(
			imports > 0.0 && graph > 0.0 && graph < whole,
			"{}: {graph} of {whole} s",
			node.name
		);
	}

	// The picture.
	let svg = dir.path().join("graph.svg");
	let output = std::process::Command::new(NODE_BIN)
		.args(["dag-graph", "--uri", &nodes[0].url(), "--last", "40", "--output"])
		.arg(&svg)
		.output()
		.expect("thingschain dag-graph runs");
	assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
	let svg = std::fs::read_to_string(svg).unwrap();
	assert!(svg.contains(r#"class="reference""#) && svg.contains(r#"class="block""#));

	// A restarted node serves the same graph of its finalized blocks, from its database.
	let dave = nodes[3].rpc().await;
	wait_for("Dave to finalize as far", Duration::from_secs(60), || async {
		finalized_number(&dave).await.filter(|n| *n >= finalized)
	})
	.await;
	let before = finalized_part(&dag_graph(&nodes[3], finalized).await);
	nodes[3].restart();
	let after = finalized_part(&dag_graph(&nodes[3], finalized).await);
	assert_eq!(after, before);
	assert!(!before.1.is_empty(), "finalized blocks carry references");
}

/// The finalized blocks of a `dag_graph` answer and the references they make.
fn finalized_part(graph: &Json) -> (Vec<Json>, Vec<Json>) {
	let finalized: Vec<Json> = graph["vertices"]
		.as_array()
		.expect("vertices")
		.iter()
		.filter(|v| v["finalized"] == true)
		.map(|v| v["hash"].clone())
		.collect();
	let mut references: Vec<Json> =
		references(graph).into_iter().filter(|edge| finalized.contains(&edge["from"])).collect();
	references.sort_by_key(|edge| edge.to_string());
	(finalized, references)
}
