//! End to end on a `--dev --tmp` node: blocks are produced and finalized, a signed transfer
//! submitted over JSON-RPC lands, and bad input gets clear errors without hurting the node.

use crate::common::{best_number, finalized_number, start_node, wait_for, NODE_BIN};
use serde_json::Value;
use std::time::Duration;
use subxt::{
	dynamic::{self, At},
	rpcs::rpc_params,
	OnlineClient, PolkadotConfig,
};
use subxt_signer::sr25519::{dev, Keypair};

const TIC: u128 = 1_000_000_000_000;

async fn free_balance(client: &OnlineClient<PolkadotConfig>, who: &Keypair) -> u128 {
	let at = client.at_current_block().await.expect("latest block");
	let address = dynamic::storage::<([u8; 32],), dynamic::Value>("System", "Account");
	let account = at
		.storage()
		.fetch(address, (who.public_key().0,))
		.await
		.expect("account storage reads")
		.decode()
		.expect("account decodes");
	account.at("data").at("free").and_then(|v| v.as_u128()).expect("free balance")
}

fn transfer(to: &Keypair, value: u128) -> impl subxt::tx::Payload {
	dynamic::transaction(
		"Balances",
		"transfer_keep_alive",
		(to.public_key().to_address::<()>(), value),
	)
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_chain_produces_finalizes_and_accepts_transfers() {
	let logs = tempfile::tempdir().unwrap();
	let node = start_node("dev", logs.path(), &["--dev", "--tmp"]);
	let rpc = node.rpc().await;

	wait_for("block 2", Duration::from_secs(120), || async {
		best_number(&rpc).await.filter(|n| *n >= 2)
	})
	.await;
	wait_for("a finalized block", Duration::from_secs(120), || async {
		finalized_number(&rpc).await.filter(|n| *n >= 1)
	})
	.await;

	let client = node.client().await;
	let (alice, bob) = (dev::alice(), dev::bob());
	let (alice_before, bob_before) =
		(free_balance(&client, &alice).await, free_balance(&client, &bob).await);

	let events = client
		.transactions()
		.await
		.expect("transactions client")
		.sign_and_submit_then_watch_default(&transfer(&bob, 7 * TIC), &alice)
		.await
		.expect("transfer submitted")
		.wait_for_finalized_success()
		.await
		.expect("transfer finalized");
	assert!(
		events
			.iter()
			.filter_map(Result::ok)
			.any(|e| e.pallet_name() == "Balances" && e.event_name() == "Transfer"),
		"a Balances.Transfer event was emitted"
	);

	let (alice_after, bob_after) =
		(free_balance(&client, &alice).await, free_balance(&client, &bob).await);
	assert_eq!(bob_after, bob_before + 7 * TIC);
	let fee = alice_before - 7 * TIC - alice_after;
	assert!(fee > 0 && fee < TIC / 100, "alice paid a small fee: {fee}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_clear_errors_and_the_node_keeps_running() {
	let logs = tempfile::tempdir().unwrap();
	let mut node = start_node("dev-bad-input", logs.path(), &["--dev", "--tmp"]);
	let rpc = node.rpc().await;

	// Malformed extrinsic bytes.
	let err = rpc
		.request::<Value>("author_submitExtrinsic", rpc_params!["0xdeadbeef"])
		.await
		.expect_err("garbage is not an extrinsic");
	let message = err.to_string();
	assert!(
		message.contains("Invalid") || message.contains("decode") || message.contains("format"),
		"error explains the bytes are invalid: {message}"
	);

	// A transfer above the sender's balance: accepted into the pool (the fee is payable)
	// but its dispatch fails with a named error.
	let client = node.client().await;
	let (eve, ferdie) = (dev::eve(), dev::ferdie());
	let ferdie_before = free_balance(&client, &ferdie).await;
	let too_much = free_balance(&client, &eve).await * 2;
	let err = client
		.transactions()
		.await
		.expect("transactions client")
		.sign_and_submit_then_watch_default(&transfer(&ferdie, too_much), &eve)
		.await
		.expect("transfer submitted")
		.wait_for_finalized_success()
		.await
		.expect_err("cannot transfer more than the balance");
	let message = err.to_string();
	assert!(message.contains("Funds are unavailable"), "names the failure: {message}");
	assert_eq!(free_balance(&client, &ferdie).await, ferdie_before);

	// Our RPC methods answer a block the node does not have with their stable code
	// (docs/rpc.md) and a message.
	let unknown = format!("0x{}", "ab".repeat(32));
	for (method, params) in
		[("dpos_candidates", rpc_params![&unknown]), ("nest_anchor", rpc_params![0, 0, &unknown])]
	{
		let err = rpc.request::<Value>(method, params).await.expect_err("no such block");
		let code = if method.starts_with("dpos") { "9001" } else { "9101" };
		let message = err.to_string();
		assert!(
			message.contains(code) && message.contains("unable to query"),
			"{method}: {message}"
		);
	}

	// The node is still alive and producing blocks.
	assert!(node.is_running());
	let best = best_number(&rpc).await.expect("best block");
	wait_for("a new block after the errors", Duration::from_secs(30), || async {
		best_number(&rpc).await.filter(|n| *n > best)
	})
	.await;
}

#[test]
fn unknown_chain_spec_path_is_a_clear_error() {
	let output = std::process::Command::new(NODE_BIN)
		.args(["--chain", "/nonexistent/thingschain-spec.json", "--tmp"])
		.output()
		.expect("thingschain runs");
	assert!(!output.status.success());
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(
		stderr.contains("unknown chain") && stderr.contains("/nonexistent/thingschain-spec.json"),
		"stderr names the bad chain: {stderr}"
	);
}
