//! The 4-validator `local` network on 127.0.0.1: all four validators author, GRANDPA
//! finalizes, finality survives one validator being killed, and the killed validator
//! catches up after a restart.

mod common;

use common::{aura_slot, best_number, finalized_number, wait_for, Node, NODE_BIN};
use std::{
	collections::BTreeSet,
	path::Path,
	process::Command,
	time::{Duration, Instant},
};

const VALIDATORS: [&str; 4] = ["alice", "bob", "charlie", "dave"];

/// A fixed libp2p secret per validator, so the others can name the first as boot node.
fn node_key(index: usize) -> String {
	format!("{:064x}", index + 1)
}

fn peer_id(key: &str, dir: &Path) -> String {
	let file = dir.join("bootnode.key");
	std::fs::write(&file, key).unwrap();
	let output = Command::new(NODE_BIN)
		.args(["key", "inspect-node-key", "--file"])
		.arg(&file)
		.output()
		.expect("key inspect-node-key runs");
	assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
	String::from_utf8(output.stdout).unwrap().trim().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn four_validators_author_finalize_and_survive_one_failure() {
	let dir = tempfile::tempdir().unwrap();
	let mut boot_node: Option<String> = None;
	let mut nodes: Vec<Node> = Vec::new();
	for (i, name) in VALIDATORS.iter().enumerate() {
		let base = dir.path().join(name);
		let key = node_key(i);
		let mut args = vec![
			"--chain".to_string(),
			"local".to_string(),
			format!("--{name}"),
			"--base-path".to_string(),
			base.display().to_string(),
			"--node-key".to_string(),
			key.clone(),
		];
		if let Some(boot) = &boot_node {
			args.extend(["--bootnodes".to_string(), boot.clone()]);
		}
		let args: Vec<&str> = args.iter().map(String::as_str).collect();
		let node = Node::start(name, dir.path(), &args);
		if boot_node.is_none() {
			boot_node = Some(format!(
				"/ip4/127.0.0.1/tcp/{}/p2p/{}",
				node.p2p_port,
				peer_id(&key, dir.path())
			));
		}
		nodes.push(node);
	}
	let alice = nodes[0].rpc().await;

	// Aura assigns slot s to authority s mod 4: four distinct residues among the authored
	// blocks mean all four validators produced blocks.
	let mut authors = BTreeSet::new();
	let mut next_block = 1;
	let deadline = Instant::now() + Duration::from_secs(180);
	while authors.len() < 4 {
		assert!(Instant::now() < deadline, "only validators {authors:?} authored blocks");
		let best = best_number(&alice).await.unwrap_or(0);
		while next_block <= best {
			if let Some(slot) = aura_slot(&alice, next_block).await {
				authors.insert(slot % 4);
			}
			next_block += 1;
		}
		tokio::time::sleep(Duration::from_secs(1)).await;
	}

	let finalized = wait_for("finality", Duration::from_secs(120), || async {
		finalized_number(&alice).await.filter(|n| *n >= 3)
	})
	.await;

	// Kill Dave: three of four validators are still more than two thirds.
	nodes[3].kill();
	let after_kill = finalized_number(&alice).await.unwrap().max(finalized);
	let best_at_kill = best_number(&alice).await.unwrap();
	wait_for("finality to advance without dave", Duration::from_secs(120), || async {
		finalized_number(&alice).await.filter(|n| *n >= after_kill + 4)
	})
	.await;
	assert!(best_number(&alice).await.unwrap() > best_at_kill, "blocks are still produced");

	// Dave restarts from its database and catches up with the network's finalized block.
	nodes[3].restart();
	let dave = nodes[3].rpc().await;
	let target = finalized_number(&alice).await.unwrap();
	wait_for("dave to catch up", Duration::from_secs(120), || async {
		finalized_number(&dave).await.filter(|n| *n >= target)
	})
	.await;
	for node in nodes.iter_mut() {
		assert!(node.is_running(), "{} is still running", node.name);
	}
}
