//! The 4-validator `local` network on 127.0.0.1: all four validators author, GRANDPA
//! finalizes, finality survives one validator being killed, and the killed validator
//! catches up after a restart.

use crate::common::{aura_slot, best_number, finalized_number, start_network, wait_for};
use std::{
	collections::BTreeSet,
	time::{Duration, Instant},
};

const VALIDATORS: [&str; 4] = ["alice", "bob", "charlie", "dave"];

#[tokio::test(flavor = "multi_thread")]
async fn four_validators_author_finalize_and_survive_one_failure() {
	let dir = tempfile::tempdir().unwrap();
	let mut nodes = start_network(dir.path(), "local", &VALIDATORS);
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
