//! The 4-validator `local` network on 127.0.0.1, started with the README's commands ("Running
//! the 4-validator local network by hand"): all four validators author, GRANDPA finalizes,
//! finality survives one validator being killed, and the killed validator catches up after a
//! restart.

use crate::common::{
	aura_slot, best_number, finalized_number, peer_id, start_node, wait_for, Node,
};
use std::{
	collections::{BTreeMap, BTreeSet},
	path::Path,
	time::{Duration, Instant},
};

/// The README's commands for the network by hand: each validator's arguments after `$T`.
fn readme_commands() -> Vec<Vec<String>> {
	let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
		.expect("the README is readable");
	let section = readme
		.split("## Running the 4-validator local network by hand")
		.nth(1)
		.expect("the README has the section");
	let block = section.split("```sh\n").nth(1).and_then(|b| b.split("```").next()).unwrap();
	block
		.replace("\\\n", " ")
		.lines()
		.map(|line| {
			let words: Vec<String> = line.split_whitespace().map(String::from).collect();
			assert_eq!(words[0], "$T", "each command runs the node: {line}");
			words[1..].to_vec()
		})
		.collect()
}

/// The value after `flag` in `args`.
fn value<'a>(args: &'a [String], flag: &str) -> &'a str {
	let at = args.iter().position(|a| a == flag).unwrap_or_else(|| panic!("{flag} in {args:?}"));
	&args[at + 1]
}

/// Runs the README's commands as written, but on the free ports and in the folder the test
/// picks: the README's `--port`s and `--rpc-port`s give way to the test harness's, its
/// `/tmp/tc` becomes `dir`, and its boot node addresses point at the boot node's real port.
fn start_readme_network(dir: &Path) -> Vec<Node> {
	let commands = readme_commands();
	// The README's p2p port of each node started so far, and the node's index.
	let mut started: BTreeMap<&str, usize> = BTreeMap::new();
	let mut nodes: Vec<Node> = Vec::new();
	for command in &commands {
		let mut args = Vec::new();
		let mut words = command.iter();
		while let Some(word) = words.next() {
			match word.as_str() {
				"--port" | "--rpc-port" => {
					words.next();
				}
				"--bootnodes" => {
					let address = words.next().unwrap();
					let (port, peer) = address
						.strip_prefix("/ip4/127.0.0.1/tcp/")
						.unwrap()
						.split_once("/p2p/")
						.unwrap();
					let boot = started[port];
					let key = value(&commands[boot], "--node-key");
					assert_eq!(peer, peer_id(key, dir), "the README's boot node id is its key's");
					args.push(word.clone());
					args.push(format!("/ip4/127.0.0.1/tcp/{}/p2p/{peer}", nodes[boot].p2p_port));
				}
				_ => args.push(word.replace("/tmp/tc", &dir.display().to_string())),
			}
		}
		let name =
			args.iter().find(|a| ["--alice", "--bob", "--charlie", "--dave"].contains(&a.as_str()));
		let name = name.expect("a dev validator").trim_start_matches("--").to_string();
		let args: Vec<&str> = args.iter().map(String::as_str).collect();
		started.insert(value(command, "--port"), nodes.len());
		nodes.push(start_node(&name, dir, &args));
	}
	assert_eq!(nodes.len(), 4, "the README starts four validators");
	nodes
}

#[tokio::test(flavor = "multi_thread")]
async fn four_validators_author_finalize_and_survive_one_failure() {
	let dir = tempfile::tempdir().unwrap();
	let mut nodes = start_readme_network(dir.path());
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
