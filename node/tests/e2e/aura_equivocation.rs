//! An Aura equivocation found and reported by the nodes themselves: a second node runs with
//! Alice's keys on the 4-validator `local` network (without GRANDPA, so it equivocates only in
//! Aura), so both seal a block in each of Alice's slots. The nodes that import both report it
//! unsigned from their own pools; a block carries the report, Alice is slashed, and the
//! network goes on finalizing.

use crate::common::{finalized_number, node_key, peer_id, start_network, start_node, wait_for};
use std::time::{Duration, Instant};
use subxt::{OnlineClient, PolkadotConfig};
use subxt_signer::sr25519::dev;

/// The report in block `number`: the `AuraEquivocation.EquivocationReported` event's fields
/// and the names of all the block's events. `Err` if the block could not be read.
async fn report_in(
	client: &OnlineClient<PolkadotConfig>,
	number: u64,
) -> Result<Option<(Vec<u8>, Vec<String>)>, ()> {
	let events =
		client.at_block(number).await.map_err(drop)?.events().fetch().await.map_err(drop)?;
	let events: Vec<_> = events.iter().filter_map(Result::ok).collect();
	let report = events.iter().find(|e| {
		e.pallet_name() == "AuraEquivocation" && e.event_name() == "EquivocationReported"
	});
	Ok(report.map(|report| {
		let names =
			events.iter().map(|e| format!("{}.{}", e.pallet_name(), e.event_name())).collect();
		(report.field_bytes().to_vec(), names)
	}))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_nodes_report_an_aura_equivocation_and_it_is_slashed() {
	let dir = tempfile::tempdir().unwrap();
	let nodes = start_network(dir.path(), "local", &["alice", "bob", "charlie", "dave"]);
	let boot = format!(
		"/ip4/127.0.0.1/tcp/{}/p2p/{}",
		nodes[0].p2p_port,
		peer_id(&node_key(0), dir.path())
	);
	let twin_base = dir.path().join("alice-twin").display().to_string();
	let twin_key = node_key(nodes.len());
	let twin = start_node(
		"alice-twin",
		dir.path(),
		&[
			"--chain",
			"local",
			"--alice",
			"--no-grandpa",
			"--base-path",
			&twin_base,
			"--node-key",
			&twin_key,
			"--bootnodes",
			&boot,
		],
	);
	let bob = nodes[1].rpc().await;
	let client = nodes[1].client().await;
	twin.rpc().await;

	// Scan finalized blocks as they come for the report.
	let deadline = Instant::now() + Duration::from_secs(240);
	let mut block = 1;
	let (fields, events) = 'found: loop {
		assert!(Instant::now() < deadline, "no finalized block before {block} has the report");
		let finalized = finalized_number(&bob).await.unwrap_or(0);
		while block <= finalized {
			match report_in(&client, block).await {
				Ok(Some(found)) => break 'found found,
				Ok(None) => block += 1,
				Err(()) => {
					eprintln!("DEBUG: block {block} unreadable");
					break;
				}
			}
		}
		tokio::time::sleep(Duration::from_secs(1)).await;
	};
	// `reporter: None` (SCALE 0x00): a node's unsigned report; the offender is Alice's key.
	assert_eq!(fields[0], 0, "unsigned, not a signed report: {fields:?}");
	assert_eq!(&fields[1..33], &dev::alice().public_key().0, "Alice's Aura key");
	for event in ["Offences.Offence", "Dpos.Slashed"] {
		assert!(events.contains(&event.to_string()), "block {block} has {event}: {events:?}");
	}

	// The network goes on finalizing without Alice's blocks.
	wait_for("finality after the report", Duration::from_secs(120), || async {
		finalized_number(&bob).await.filter(|n| *n >= block + 4)
	})
	.await;
	let reporters: Vec<_> = nodes
		.iter()
		.chain([&twin])
		.filter(|node| node.log().contains("Aura equivocation report submitted"))
		.map(|node| node.name.clone())
		.collect();
	assert!(!reporters.is_empty(), "some node logged its report");
}
