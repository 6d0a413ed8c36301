//! NestChains end to end on a running dev chain, driven with subxt as an institution, its
//! service nodes, a super node and a peg user would:
//!
//! 1. governance (sudo on the dev chain) appoints Ferdie registrar and creates a government-ID
//!    service with 5-block epochs, quorum 2, owned by a 2-of-3 multisig of Alice, Bob, Ferdie;
//! 2. Charlie, Dave and Eve prove their identity to Ferdie; the multisig onboards all three;
//! 3. Bob stakes as a super node; three epochs are anchored and chained, the institution
//!    paying Bob the anchor fee; a record is proven over `nest_verifyInclusion`;
//! 4. Eve is removed (quorum still met, epoch 3 anchors), then Dave (suspended, refused);
//! 5. a record locked on a bank service is claimed on a land registry after the
//!    confirmation period; a second lock is reverted in the bank's next epoch and its claim
//!    contested; only the first is spendable, once that epoch is anchored and the contest
//!    period after it is over.

use crate::common::{best_number, hex, metric, start_node, wait_for};
use polkadot_sdk::sp_runtime::traits::{BlakeTwo256, Hash as _};
use serde_json::{json, Value as Json};
use std::time::Duration;
use subxt::{
	config::polkadot::PolkadotExtrinsicParamsBuilder,
	dynamic::{self, At, Value},
	ext::{codec::Encode, scale_value::Composite},
	rpcs::{rpc_params, RpcClient},
	tx::TransactionStatus,
	OnlineClient, PolkadotConfig,
};
use subxt_signer::sr25519::{dev, Keypair};
use thingschain_bench::nest::{known_good_fields, request_judgement_fields, set_identity_fields};
use thingschain_primitives::{
	ids::Hash,
	merkle::{self, InclusionProof},
	nest::{record_bytes, PegLock, PegRevert, RecordKind},
};

type Client = OnlineClient<PolkadotConfig>;

/// The dev node, through subxt and raw JSON-RPC.
struct Chain {
	client: Client,
	rpc: RpcClient,
}

const TIC: u128 = 1_000_000_000_000;
/// Blocks per NestChain epoch in this test (the runtime's minimum).
const EPOCH: u64 = 5;
/// The runtime's anchor fee.
const ANCHOR_FEE: u128 = TIC;
/// Peg periods set by governance for the test, in blocks.
const CONFIRMATION: u64 = 2;
const CONTEST: u64 = 24;

/// A runtime call, built from the metadata's names.
#[derive(Clone)]
struct Call {
	pallet: &'static str,
	name: &'static str,
	fields: Vec<(&'static str, Value)>,
}

fn call(pallet: &'static str, name: &'static str, fields: Vec<(&'static str, Value)>) -> Call {
	Call { pallet, name, fields }
}

impl Call {
	/// As a `RuntimeCall` value, to nest in batches, sudo and multisig calls.
	fn value(&self) -> Value {
		Value::unnamed_variant(
			self.pallet,
			[Value::named_variant(self.name, self.fields.iter().map(|(n, v)| (*n, v.clone())))],
		)
	}

	/// As a transaction payload.
	fn payload(&self) -> impl subxt::tx::Payload {
		let fields = self.fields.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
		dynamic::transaction(self.pallet, self.name, Composite::Named(fields))
	}
}

fn batch(calls: Vec<Call>) -> Call {
	call(
		"Utility",
		"batch_all",
		vec![("calls", Value::unnamed_composite(calls.iter().map(Call::value)))],
	)
}

fn sudo(inner: Call) -> Call {
	call("Sudo", "sudo", vec![("call", inner.value())])
}

fn account(who: &Keypair) -> [u8; 32] {
	who.public_key().0
}

fn id(who: [u8; 32]) -> Value {
	Value::from_bytes(who)
}

/// A `MultiAddress::Id`, what calls taking an account lookup expect.
fn address(who: [u8; 32]) -> Value {
	Value::unnamed_variant("Id", [id(who)])
}

fn hash(h: Hash) -> Value {
	Value::from_bytes(h.0)
}

fn none() -> Value {
	Value::unnamed_variant("None", [])
}

fn proof_value(proof: &InclusionProof) -> Value {
	Value::named_composite([
		("leaf_index", Value::u128(proof.leaf_index.into())),
		("number_of_leaves", Value::u128(proof.number_of_leaves.into())),
		("siblings", Value::unnamed_composite(proof.siblings.iter().map(|s| hash(*s)))),
	])
}

/// Where a transaction landed, and the events it emitted as `Pallet.Event`.
#[derive(Debug)]
struct Included {
	block: u64,
	index: u32,
	events: Vec<String>,
}

impl Included {
	fn count(&self, event: &str) -> usize {
		self.events.iter().filter(|e| *e == event).count()
	}
}

/// Signs `call` as `signer`, waits until it is in a best block (a single dev node does not
/// reorganise) and returns where it landed, or the dispatch error as text (`Pallet::Error`
/// names included).
async fn send(chain: &Chain, call: &Call, signer: &Keypair) -> Result<Included, String> {
	let text = |e: &dyn std::fmt::Display| e.to_string();
	// The next nonce counting the transaction pool: subxt's default reads it from the
	// finalized state, which lags behind transactions that are only in a best block.
	let nonce: u64 = chain
		.rpc
		.request(
			"system_accountNextIndex",
			rpc_params![signer.public_key().to_account_id().to_string()],
		)
		.await
		.map_err(|e| text(&e))?;
	let params = PolkadotExtrinsicParamsBuilder::<PolkadotConfig>::new().nonce(nonce).build();
	let mut progress = chain
		.client
		.transactions()
		.await
		.map_err(|e| text(&e))?
		.sign_and_submit_then_watch(&call.payload(), signer, params)
		.await
		.map_err(|e| text(&e))?;
	let in_block = loop {
		match progress.next().await {
			Some(Ok(
				TransactionStatus::InBestBlock(in_block)
				| TransactionStatus::InFinalizedBlock(in_block),
			)) => break in_block,
			Some(Ok(
				TransactionStatus::Error { message }
				| TransactionStatus::Invalid { message }
				| TransactionStatus::Dropped { message },
			)) => return Err(message),
			Some(Ok(_)) => continue,
			Some(Err(e)) => return Err(text(&e)),
			None => return Err("the transaction status stream ended".into()),
		}
	};
	let events = in_block.wait_for_success().await.map_err(|e| text(&e))?;
	let block = in_block.at().await.map_err(|e| text(&e))?.block_number();
	let names = events
		.iter()
		.filter_map(Result::ok)
		.map(|e| format!("{}.{}", e.pallet_name(), e.event_name()))
		.collect();
	Ok(Included { block, index: events.extrinsic_index() as u32, events: names })
}

async fn ok(chain: &Chain, call: &Call, signer: &Keypair) -> Included {
	send(chain, call, signer)
		.await
		.unwrap_or_else(|e| panic!("{}.{} failed: {e}", call.pallet, call.name))
}

/// Asserts that `call` fails with the named dispatch error.
async fn fails_with(chain: &Chain, call: &Call, signer: &Keypair, error: &str) {
	match send(chain, call, signer).await {
		Ok(_) => panic!("{}.{} succeeded, expected {error}", call.pallet, call.name),
		Err(e) => {
			assert!(e.contains(error), "{}.{}: expected {error}, got {e}", call.pallet, call.name)
		}
	}
}

/// An institution: a 2-of-3 multisig account.
struct Institution {
	signers: [Keypair; 3],
}

impl Institution {
	/// The multisig account, as pallet-multisig derives it from the sorted signatories and
	/// the threshold.
	fn account(&self) -> [u8; 32] {
		let mut who: Vec<[u8; 32]> = self.signers.iter().map(account).collect();
		who.sort();
		BlakeTwo256::hash(&(b"modlpy/utilisuba", who, 2u16).encode()).0
	}

	fn others(&self, me: usize) -> Value {
		let mut others: Vec<[u8; 32]> = self
			.signers
			.iter()
			.enumerate()
			.filter(|(i, _)| *i != me)
			.map(|(_, k)| account(k))
			.collect();
		others.sort();
		Value::unnamed_composite(others.into_iter().map(id))
	}

	/// Dispatches `inner` as the institution: the first signer proposes it, the second
	/// approves and executes it. Returns the executing transaction.
	async fn dispatch(&self, chain: &Chain, inner: Call) -> Included {
		let max_weight = Value::named_composite([
			("ref_time", Value::u128(20_000_000_000)),
			("proof_size", Value::u128(1_000_000)),
		]);
		let as_multi = |me: usize, timepoint: Value| {
			call(
				"Multisig",
				"as_multi",
				vec![
					("threshold", Value::u128(2)),
					("other_signatories", self.others(me)),
					("maybe_timepoint", timepoint),
					("call", inner.value()),
					("max_weight", max_weight.clone()),
				],
			)
		};
		let proposed = ok(chain, &as_multi(0, none()), &self.signers[0]).await;
		assert_eq!(proposed.count("Multisig.NewMultisig"), 1);
		let when = Value::named_composite([
			("height", Value::u128(proposed.block.into())),
			("index", Value::u128(proposed.index.into())),
		]);
		let executed =
			ok(chain, &as_multi(1, Value::unnamed_variant("Some", [when])), &self.signers[1]).await;
		assert_eq!(executed.count("Multisig.MultisigExecuted"), 1);
		executed
	}
}

/// Sets `who`'s on-chain identity and has registrar `registrar` (index 0) judge it.
async fn verify_identities(chain: &Chain, people: &[&Keypair], registrar: &Keypair) {
	let mut judgements = Vec::new();
	let mut requests = Vec::new();
	for who in people {
		let set = call(
			"Identity",
			"set_identity",
			set_identity_fields(&format!("{} node", hex(&account(who)[..4])), None),
		);
		let call_data =
			chain.client.transactions().await.unwrap().call_data(&set.payload()).unwrap();
		judgements.push(call(
			"Identity",
			"provide_judgement",
			known_good_fields(account(who), &call_data),
		));
		let request = call("Identity", "request_judgement", request_judgement_fields());
		requests.push(batch(vec![set, request]));
	}
	futures::future::join_all(
		people.iter().zip(&requests).map(|(who, request)| ok(chain, request, who)),
	)
	.await;
	let judged = ok(chain, &batch(judgements), registrar).await;
	assert_eq!(judged.count("Identity.JudgementGiven"), people.len());
}

/// Waits until the chain's best block is at least `number`.
async fn reach_block(rpc: &RpcClient, number: u64) {
	wait_for(&format!("block {number}"), Duration::from_secs(6 * (number + 20)), || async {
		best_number(rpc).await.filter(|n| *n >= number)
	})
	.await;
}

/// The `nest_anchor` RPC result for `service`'s `epoch` (null if not anchored).
async fn rpc_anchor(rpc: &RpcClient, service: u32, epoch: u32) -> Json {
	rpc.request("nest_anchor", rpc_params![service, epoch]).await.expect("nest_anchor answers")
}

/// A service on the chain: its id and the block its epoch 0 started.
struct Service {
	id: u32,
	genesis: u64,
}

impl Service {
	/// Anchors `epoch` with the Merkle root of `records`: waits for the epoch to end, each of
	/// `attesters` attests, then super node `approver` approves. Returns the approval.
	async fn anchor(
		&self,
		chain: &Chain,
		epoch: u32,
		records: &[Vec<u8>],
		attesters: &[&Keypair],
		approver: &Keypair,
	) -> Included {
		let rpc = &chain.rpc;
		reach_block(rpc, self.genesis + EPOCH * (epoch as u64 + 1)).await;
		let prev: Hash = match epoch {
			0 => Hash::zero(),
			_ => serde_json::from_value(rpc_anchor(rpc, self.id, epoch - 1).await["hash"].clone())
				.expect("the previous epoch is anchored"),
		};
		let root = merkle::root(records);
		let attest = call(
			"NestAnchor",
			"attest",
			vec![
				("service", Value::u128(self.id.into())),
				("epoch", Value::u128(epoch.into())),
				("root", hash(root)),
				("prev", hash(prev)),
			],
		);
		futures::future::join_all(attesters.iter().map(|node| ok(chain, &attest, node))).await;
		let approve = call(
			"NestAnchor",
			"approve",
			vec![
				("service", Value::u128(self.id.into())),
				("epoch", Value::u128(epoch.into())),
				("root", hash(root)),
			],
		);
		let approved = ok(chain, &approve, approver).await;
		assert_eq!(
			approved.count("NestAnchor.Anchored"),
			1,
			"epoch {epoch} of {} anchored",
			self.id
		);
		assert_eq!(approved.count("ServiceRegistry.AnchorFeePaid"), 1);
		let anchored = rpc_anchor(rpc, self.id, epoch).await;
		assert_eq!(anchored["root"], json!(root), "nest_anchor reports the root");
		approved
	}
}

/// `who`'s free balance at the best block.
async fn free_balance(chain: &Chain, who: [u8; 32]) -> u128 {
	let best = best_number(&chain.rpc).await.expect("best block");
	let at = chain.client.at_block(best).await.expect("best block state");
	let account = at
		.storage()
		.fetch(dynamic::storage::<([u8; 32],), Value>("System", "Account"), (who,))
		.await
		.expect("account storage reads")
		.decode()
		.expect("account decodes");
	account.at("data").at("free").and_then(|v| v.as_u128()).expect("free balance")
}

fn service_node_change(name: &'static str, service: u32, node: &Keypair) -> Call {
	call(
		"ServiceRegistry",
		name,
		vec![("service", Value::u128(service.into())), ("node", id(account(node)))],
	)
}

fn create_service(owner: [u8; 32], name: &str, quorum: u32) -> Call {
	call(
		"ServiceRegistry",
		"create_service",
		vec![
			("owner", id(owner)),
			("name", Value::from_bytes(name)),
			("quorum", Value::u128(quorum.into())),
			("epoch_length", Value::u128(EPOCH.into())),
		],
	)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_government_service_anchors_proves_suspends_and_pegs() {
	let dir = tempfile::tempdir().unwrap();
	let node = start_node("dev", dir.path(), &["--dev", "--tmp"]);
	let chain = Chain { client: node.client().await, rpc: node.rpc().await };
	let rpc = &chain.rpc;
	let (alice, bob, charlie, dave, eve, ferdie) =
		(dev::alice(), dev::bob(), dev::charlie(), dev::dave(), dev::eve(), dev::ferdie());
	let institution = Institution { signers: [dev::alice(), dev::bob(), dev::ferdie()] };
	let owner = institution.account();

	// 1. Governance sets the stage; the institution's account gets funds for anchor fees.
	let setup = ok(
		&chain,
		&batch(vec![
			sudo(batch(vec![
				call("Identity", "add_registrar", vec![("account", address(account(&ferdie)))]),
				create_service(owner, "gov-id", 2),
				call(
					"NestPeg",
					"set_periods",
					vec![
						("confirmation", Value::u128(CONFIRMATION.into())),
						("contest", Value::u128(CONTEST.into())),
					],
				),
			])),
			call(
				"Balances",
				"transfer_keep_alive",
				vec![("dest", address(owner)), ("value", Value::u128(100 * TIC))],
			),
		]),
		&alice,
	)
	.await;
	assert_eq!(setup.count("Sudo.Sudid"), 1, "{setup:?}");
	assert_eq!(setup.count("ServiceRegistry.ServiceCreated"), 1, "{setup:?}");
	let gov = Service { id: 0, genesis: setup.block };

	// 2. Only identity-verified nodes can be onboarded; the multisig onboards three.
	let nodes = [&charlie, &dave, &eve];
	let add_all = |service: u32, nodes: &[&Keypair]| {
		batch(nodes.iter().map(|n| service_node_change("add_service_node", service, n)).collect())
	};
	let early = institution.dispatch(&chain, add_all(gov.id, &nodes)).await;
	assert_eq!(early.count("ServiceRegistry.ServiceNodeAdded"), 0, "unverified nodes are refused");
	verify_identities(&chain, &nodes, &ferdie).await;
	let onboarded = institution.dispatch(&chain, add_all(gov.id, &nodes)).await;
	assert_eq!(onboarded.count("ServiceRegistry.ServiceNodeAdded"), 3);
	assert_eq!(onboarded.count("ServiceRegistry.ServiceResumed"), 1, "quorum reached: active");

	// 3. Bob is the super node; three epochs are anchored, each naming the one before.
	ok(
		&chain,
		&call("ServiceRegistry", "register_super_node", vec![("stake", Value::u128(10_000 * TIC))]),
		&bob,
	)
	.await;
	let records = |epoch: u32| -> Vec<Vec<u8>> {
		(0..5u8).map(|i| format!("passport:{epoch}:{i}").into_bytes()).collect()
	};
	let owner_before = free_balance(&chain, owner).await;
	for epoch in 0..3 {
		gov.anchor(&chain, epoch, &records(epoch), &[&charlie, &dave], &bob).await;
	}
	assert_eq!(free_balance(&chain, owner).await, owner_before - 3 * ANCHOR_FEE);

	// A record of epoch 1 is proven over RPC; another record, or an unanchored epoch, is not.
	let proof = InclusionProof::build(&records(1), 3).unwrap();
	let proof_json = json!({
		"leafIndex": proof.leaf_index,
		"numberOfLeaves": proof.number_of_leaves,
		"siblings": proof.siblings.to_vec(),
	});
	let verify = |record: &[u8], epoch: u32| {
		let params = rpc_params![gov.id, epoch, format!("0x{}", hex(record)), proof_json.clone()];
		let rpc = rpc;
		async move { rpc.request::<bool>("nest_verifyInclusion", params).await }
	};
	assert_eq!(verify(&records(1)[3], 1).await.expect("proof checked"), true);
	assert_eq!(verify(&records(1)[2], 1).await.expect("proof checked"), false);
	let unanchored = verify(&records(1)[3], 9).await.expect_err("epoch 9 is not anchored");
	let message = unanchored.to_string();
	assert!(message.contains("9103") && message.contains("not anchored"), "{message}");

	// 4. One node removed: two still meet the quorum. Two removed: suspended and refused.
	institution.dispatch(&chain, service_node_change("remove_service_node", gov.id, &eve)).await;
	gov.anchor(&chain, 3, &records(3), &[&charlie, &dave], &bob).await;
	let suspended = institution
		.dispatch(&chain, service_node_change("remove_service_node", gov.id, &dave))
		.await;
	assert_eq!(suspended.count("ServiceRegistry.ServiceSuspended"), 1);
	reach_block(rpc, gov.genesis + EPOCH * 5).await;
	let prev: Hash =
		serde_json::from_value(rpc_anchor(rpc, gov.id, 3).await["hash"].clone()).unwrap();
	let attest_suspended = call(
		"NestAnchor",
		"attest",
		vec![
			("service", Value::u128(gov.id.into())),
			("epoch", Value::u128(4)),
			("root", hash(merkle::root(&records(4)))),
			("prev", hash(prev)),
		],
	);
	fails_with(&chain, &attest_suspended, &charlie, "ServiceSuspended").await;
	assert_eq!(rpc_anchor(rpc, gov.id, 4).await, Json::Null);

	// 5. The peg: a land registry (1) and a bank (2), Charlie trusted by both.
	let created = ok(
		&chain,
		&sudo(batch(vec![create_service(owner, "land", 1), create_service(owner, "bank", 1)])),
		&alice,
	)
	.await;
	let (land, bank) =
		(Service { id: 1, genesis: created.block }, Service { id: 2, genesis: created.block });
	institution
		.dispatch(
			&chain,
			batch(vec![
				service_node_change("add_service_node", land.id, &charlie),
				service_node_change("add_service_node", bank.id, &charlie),
				// The bank's devices may lock value to the land registry.
				call(
					"ServiceRegistry",
					"set_policy",
					vec![
						("service", Value::u128(bank.id.into())),
						("open", Value::bool(false)),
						(
							"lock_destinations",
							Value::unnamed_composite([Value::u128(land.id.into())]),
						),
					],
				),
			]),
		)
		.await;
	let lock = |byte: u8| PegLock {
		lock_id: Hash::repeat_byte(byte),
		source: bank.id,
		destination: land.id,
		beneficiary: account(&dave),
		payload: Hash::repeat_byte(0xee),
	};
	let locks =
		vec![record_bytes(RecordKind::Lock, &lock(1)), record_bytes(RecordKind::Lock, &lock(2))];
	let anchored = bank.anchor(&chain, 0, &locks, &[&charlie], &bob).await;
	let lock_value = |byte: u8| {
		let lock = lock(byte);
		Value::named_composite([
			("lock_id", hash(lock.lock_id)),
			("source", Value::u128(lock.source.into())),
			("destination", Value::u128(lock.destination.into())),
			("beneficiary", id(lock.beneficiary)),
			("payload", hash(lock.payload)),
		])
	};
	let claim = |byte: u8, index: u32| {
		call(
			"NestPeg",
			"claim",
			vec![
				("lock", lock_value(byte)),
				("epoch", Value::u128(0)),
				("proof", proof_value(&InclusionProof::build(&locks, index).unwrap())),
			],
		)
	};
	// A claim must wait for the confirmation period after the anchor.
	reach_block(rpc, anchored.block + CONFIRMATION).await;
	let claimed = ok(&chain, &batch(vec![claim(1, 0), claim(2, 1)]), &ferdie).await;
	assert_eq!(claimed.count("NestPeg.Claimed"), 2);
	let give = |byte: u8| {
		call(
			"NestPeg",
			"transfer",
			vec![
				("source", Value::u128(bank.id.into())),
				("lock_id", hash(Hash::repeat_byte(byte))),
				("to", id(account(&eve))),
			],
		)
	};
	// Frozen until the bank anchors its next epoch and the contest period after it passes.
	fails_with(&chain, &give(1), &dave, "NotFinal").await;

	// Lock 2 is reverted in the bank's next anchor; Ferdie contests its claim with the proof.
	let reverts =
		vec![record_bytes(RecordKind::Revert, &PegRevert { lock_id: Hash::repeat_byte(2) })];
	let final_anchor = bank.anchor(&chain, 1, &reverts, &[&charlie], &bob).await;
	let contest = call(
		"NestPeg",
		"contest",
		vec![
			("source", Value::u128(bank.id.into())),
			("lock_id", hash(Hash::repeat_byte(2))),
			("epoch", Value::u128(1)),
			("proof", proof_value(&InclusionProof::build(&reverts, 0).unwrap())),
		],
	);
	assert_eq!(ok(&chain, &contest, &ferdie).await.count("NestPeg.ClaimContested"), 1);
	fails_with(&chain, &claim(1, 0), &ferdie, "AlreadyClaimed").await;

	// The contest period after that anchor over, lock 1 is Dave's to spend; lock 2 is void.
	reach_block(rpc, final_anchor.block + CONTEST).await;
	assert_eq!(ok(&chain, &give(1), &dave).await.count("NestPeg.Transferred"), 1);
	fails_with(&chain, &give(2), &dave, "NotClaimed").await;

	// The node's Prometheus counts the anchors once they are final: four epochs of the
	// government service, two of the bank.
	wait_for("the anchors in the metrics", Duration::from_secs(60), || async {
		metric(node.prometheus_port, "thingschain_anchors_accepted_total").filter(|n| *n == 6)
	})
	.await;
}
