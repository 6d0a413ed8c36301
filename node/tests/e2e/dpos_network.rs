//! Delegated proof of stake on a real local network: a fifth node (Eve) sets session keys,
//! registers as a candidate and is voted in, while Dave's only voter withdraws its vote.
//! After the next session boundaries Eve authors blocks and earns rewards, Dave stops
//! authoring, and GRANDPA keeps finalizing through the authority-set change.

use crate::common::{
	aura_slot, best_number, exported_spec, finalized_number, hex, metric, start_network, unhex,
	wait_for,
};
use serde_json::Value as Json;
use std::time::{Duration, Instant};
use subxt::{
	dynamic::{self, Value},
	rpcs::{rpc_params, RpcClient},
	tx::Payload,
	OnlineClient, PolkadotConfig,
};
use subxt_signer::sr25519::{dev, Keypair};
use thingschain_runtime::genesis_config_presets::BLOCK_REWARD;

const TIC: u128 = 1_000_000_000_000;
/// Short sessions so elections happen within the test; long enough that every delegate gets
/// slots while the network starts.
const SESSION_BLOCKS: u64 = 15;

/// The `local` chain spec with `SESSION_BLOCKS`-block sessions.
fn short_session_spec(dir: &std::path::Path) -> String {
	let mut spec = exported_spec("local", false);
	spec["genesis"]["runtimeGenesis"]["patch"]["dpos"]["sessionLength"] = SESSION_BLOCKS.into();
	let path = dir.join("short-sessions.json");
	std::fs::write(&path, serde_json::to_vec(&spec).unwrap()).unwrap();
	path.display().to_string()
}

fn keypair(uri: &str) -> Keypair {
	Keypair::from_uri(&uri.parse().unwrap()).unwrap()
}

/// A call of `pallet` as a `RuntimeCall` value, for batching.
fn call(pallet: &str, name: &str, fields: Vec<(&str, Value)>) -> Value {
	Value::unnamed_variant(pallet, [Value::named_variant(name, fields)])
}

async fn submit(client: &OnlineClient<PolkadotConfig>, payload: &impl Payload, signer: &Keypair) {
	client
		.transactions()
		.await
		.expect("transactions client")
		.sign_and_submit_then_watch_default(payload, signer)
		.await
		.expect("transaction submitted")
		.wait_for_finalized_success()
		.await
		.expect("transaction finalized and succeeded");
}

/// The Aura key that authored block `number`: slot modulo the authorities of its parent.
async fn author_key(
	client: &OnlineClient<PolkadotConfig>,
	rpc: &RpcClient,
	number: u64,
) -> Option<[u8; 32]> {
	let slot = aura_slot(rpc, number).await?;
	let authorities = client
		.at_block(number - 1)
		.await
		.ok()?
		.storage()
		.fetch(dynamic::storage::<(), Vec<[u8; 32]>>("Aura", "Authorities"), ())
		.await
		.ok()?
		.decode()
		.ok()?;
	authorities.get((slot % authorities.len() as u64) as usize).copied()
}

async fn session_validators(client: &OnlineClient<PolkadotConfig>) -> Vec<[u8; 32]> {
	client
		.at_current_block()
		.await
		.expect("latest block")
		.storage()
		.fetch(dynamic::storage::<(), Vec<[u8; 32]>>("Session", "Validators"), ())
		.await
		.expect("validators read")
		.decode()
		.expect("validators decode")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_voted_in_candidate_authors_and_a_voted_out_delegate_stops() {
	let dir = tempfile::tempdir().unwrap();
	let spec = short_session_spec(dir.path());
	let nodes = start_network(dir.path(), &spec, &["alice", "bob", "charlie", "dave", "eve"]);
	let alice = nodes[0].rpc().await;
	let client = nodes[0].client().await;
	wait_for("finality", Duration::from_secs(120), || async {
		finalized_number(&alice).await.filter(|n| *n >= 1)
	})
	.await;

	// Eve's node makes session keys, with the proof that Eve's account owns them.
	let eve = dev::eve();
	let eve_account = eve.public_key().0;
	let generated: Json = nodes[4]
		.rpc()
		.await
		.request("author_rotateKeysWithOwner", rpc_params![format!("0x{}", hex(&eve_account))])
		.await
		.expect("Eve's node generates session keys");
	let keys = unhex(generated["keys"].as_str().unwrap());
	let proof = unhex(generated["proof"].as_str().unwrap());
	let (eve_aura, eve_grandpa) = (&keys[..32], &keys[32..]);

	let register = dynamic::transaction(
		"Utility",
		"batch_all",
		(vec![
			call(
				"Session",
				"set_keys",
				vec![
					(
						"keys",
						Value::named_composite([
							("aura", Value::from_bytes(eve_aura)),
							("grandpa", Value::from_bytes(eve_grandpa)),
						]),
					),
					("proof", Value::from_bytes(&proof)),
				],
			),
			call("Dpos", "bond", vec![("amount", Value::u128(2_000 * TIC))]),
			call(
				"Dpos",
				"register_candidate",
				vec![
					("commission", Value::u128(50_000_000)),
					("metadata", Value::from_bytes(b"eve")),
				],
			),
		],),
	);
	submit(&client, &register, &eve).await;

	// Eve's stash votes her in; Dave's stash, his only voter, votes him out.
	let vote_eve = dynamic::transaction(
		"Utility",
		"batch_all",
		(vec![
			call("Dpos", "bond", vec![("amount", Value::u128(5_000 * TIC))]),
			call(
				"Dpos",
				"vote",
				vec![("targets", Value::unnamed_composite([Value::from_bytes(eve_account)]))],
			),
		],),
	);
	let unvote_dave = dynamic::transaction("Dpos", "unvote", ());
	let (eve_stash, dave_stash) = (keypair("//Eve//stash"), keypair("//Dave//stash"));
	tokio::join!(
		submit(&client, &vote_eve, &eve_stash),
		submit(&client, &unvote_dave, &dave_stash),
	);

	let candidates: Json =
		alice.request("dpos_candidates", rpc_params![]).await.expect("dpos_candidates");
	let eve_address = eve.public_key().to_account_id().to_string();
	let dave_address = dev::dave().public_key().to_account_id().to_string();
	let entry = |address: &str| {
		candidates
			.as_array()
			.unwrap()
			.iter()
			.find(|c| c["account"] == address)
			.unwrap_or_else(|| panic!("{address} is listed: {candidates}"))
			.clone()
	};
	assert_eq!(entry(&eve_address)["rank"], 1, "{candidates}");
	assert_eq!(entry(&eve_address)["total"], (7_000 * TIC).to_string());
	assert_eq!(entry(&eve_address)["elected"], true);
	assert_eq!(entry(&dave_address)["elected"], false, "{candidates}");

	// Within two session boundaries the authority set has Eve and not Dave.
	let dave_account = dev::dave().public_key().0;
	wait_for("the new delegate set", Duration::from_secs(6 * 3 * SESSION_BLOCKS), || async {
		let validators = session_validators(&client).await;
		(validators.contains(&eve_account) && !validators.contains(&dave_account)).then_some(())
	})
	.await;
	let changed_at = best_number(&alice).await.unwrap();
	let finalized_at_change = finalized_number(&alice).await.unwrap();

	// Eve authors; Dave, voted out, does not.
	let dave_aura = dev::dave().public_key().0;
	let deadline = Instant::now() + Duration::from_secs(120);
	let (mut next, mut eve_authored) = (changed_at + 1, 0);
	while eve_authored < 2 {
		assert!(Instant::now() < deadline, "Eve authored only {eve_authored} blocks");
		let best = best_number(&alice).await.unwrap_or(0);
		while next <= best {
			let Some(author) = author_key(&client, &alice, next).await else { break };
			assert_ne!(author, dave_aura, "block {next} was authored by Dave after he left");
			if author == eve_aura {
				eve_authored += 1;
			}
			next += 1;
		}
		tokio::time::sleep(Duration::from_secs(1)).await;
	}

	// Finality went on through the change, and Eve's blocks earned her rewards.
	wait_for("finality past the change", Duration::from_secs(120), || async {
		finalized_number(&alice).await.filter(|n| *n > finalized_at_change + 3)
	})
	.await;
	let pending: String = alice
		.request("dpos_pendingRewards", rpc_params![eve_address])
		.await
		.expect("dpos_pendingRewards");
	let pending: u128 = pending.parse().unwrap();
	// Eve's commission alone is 5% of the reward of each of her blocks.
	assert!(pending >= 2 * BLOCK_REWARD / 20, "Eve earned rewards: {pending}");

	// Alice's node counted the election that changed the delegates, once it was final.
	let elections = metric(nodes[0].prometheus_port, "thingschain_delegate_elections_total");
	assert!(elections.is_some_and(|n| n >= 1), "elections in the metrics: {elections:?}");
}
