//! Passing a referendum, as TIC holders do on a chain without sudo:
//!
//! ```text
//!  proposer   Preimage.note_preimage(call) + Referenda.submit(origin, call's hash, after 1)
//!             Referenda.place_decision_deposit(index)
//!  voters     ConvictionVoting.vote(index, aye with 1x conviction, their stake)
//!  ─── the track's prepare, decision and confirm periods ───  Referenda: Approved
//!  scheduler  dispatches the call with the track's origin      Scheduler.Dispatched
//! ```
//!
//! On a `fast-runtime` chain this takes about twenty blocks; on a production runtime, days.

use crate::accounts::call;
use codec::{Decode, Encode};
use std::{ops::ControlFlow, time::Duration};
use subxt::dynamic::Value;
use subxt_signer::sr25519::Keypair;
use thingschain_device::{
	chain::{ChainEvent, Included},
	Chain, Error,
};

/// Longest wait for a referendum's decision and enactment: a `fast-runtime` decision period
/// (10 minutes) and a little more.
const DECISION_TIMEOUT: Duration = Duration::from_secs(720);

/// The origin a referendum's call is dispatched with, which picks its track.
#[derive(Clone, Copy, Debug)]
pub enum Origin {
	/// Root: the `root` track (runtime upgrades).
	Root,
	/// One of the runtime's track origins, by name (`NestAdmin`, `StakingAdmin`, ...).
	Track(&'static str),
}

impl Origin {
	fn value(self) -> Value {
		match self {
			Origin::Root => Value::unnamed_variant("system", [Value::unnamed_variant("Root", [])]),
			Origin::Track(name) => {
				Value::unnamed_variant("Origins", [Value::unnamed_variant(name, [])])
			}
		}
	}
}

/// Who carries a referendum: the proposer pays its deposits, each voter votes aye with the
/// stake given.
pub struct Electorate {
	pub proposer: Keypair,
	pub voters: Vec<(Keypair, u128)>,
}

/// Puts `call` (the SCALE encoding of a runtime call) to a referendum on `origin`'s track,
/// votes it through with `electorate`, and waits until the scheduler has dispatched it;
/// returns the block it was enacted in with the events of that block's hooks, which hold the
/// call's. An error names the stage that failed:
/// a refused transaction, a referendum that was not approved, or a failed dispatch.
pub async fn pass(
	chain: &Chain,
	electorate: &Electorate,
	origin: Origin,
	call_data: &[u8],
) -> Result<Included, Error> {
	let hash = crate::hash(call_data);
	let proposal = Value::named_variant(
		"Lookup",
		[("hash", Value::from_bytes(hash)), ("len", Value::u128(call_data.len() as u128))],
	);
	let submit = subxt::dynamic::transaction(
		"Utility",
		"batch_all",
		(vec![
			call("Preimage", "note_preimage", vec![("bytes", Value::from_bytes(call_data))]),
			call(
				"Referenda",
				"submit",
				vec![
					("proposal_origin", origin.value()),
					("proposal", proposal),
					("enactment_moment", Value::unnamed_variant("After", [Value::u128(1)])),
				],
			),
		],),
	);
	let submitted = chain.send(&submit, &electorate.proposer).await?;
	let index: u32 = submitted
		.event("Referenda", "Submitted")
		.ok_or_else(|| Error::Metadata("Referenda.submit emitted no Submitted".into()))?;

	let deposit = subxt::dynamic::transaction(
		"Referenda",
		"place_decision_deposit",
		vec![Value::u128(index.into())],
	);
	chain.send(&deposit, &electorate.proposer).await?;
	let votes = electorate
		.voters
		.iter()
		.map(|(voter, stake)| async move { chain.send(&aye(index, *stake), voter).await });
	futures::future::try_join_all(votes).await?;

	let approved = approval(chain, index).await?;
	enactment(chain, index, approved).await
}

/// `ConvictionVoting.vote` aye on referendum `index` with `stake` and a 1x conviction.
fn aye(index: u32, stake: u128) -> impl subxt::tx::Payload {
	// A vote is one byte: the aye flag (0x80) and the conviction (1: locked for one period).
	let vote = Value::unnamed_composite([Value::u128(0x80 | 1)]);
	subxt::dynamic::transaction(
		"ConvictionVoting",
		"vote",
		vec![
			Value::u128(index.into()),
			Value::named_variant("Standard", [("vote", vote), ("balance", Value::u128(stake))]),
		],
	)
}

/// The final states of a referendum, by `ReferendumInfo` variant index (0 is `Ongoing`).
const OUTCOMES: [&str; 6] = ["Ongoing", "Approved", "Rejected", "Cancelled", "TimedOut", "Killed"];

/// Waits until referendum `index` is decided; returns the block it was approved at, or the
/// outcome (`Rejected`, `TimedOut`, ...) as an error.
async fn approval(chain: &Chain, index: u32) -> Result<u64, Error> {
	let decided = crate::network::poll(DECISION_TIMEOUT, || async {
		let info = match chain.storage("Referenda", "ReferendumInfoFor", (index,)).await {
			Ok(Some(info)) => info,
			Ok(None) => return Some(Err(Error::Rejected(format!("no referendum {index}")))),
			Err(e) => return Some(Err(e)),
		};
		// Every final state starts with the block it was reached at.
		match <(u8, u32)>::decode(&mut &info[..]) {
			Ok((0, _)) => None,
			Ok(decided) => Some(Ok(decided)),
			Err(e) => Some(Err(Error::Metadata(format!("referendum {index}'s info: {e}")))),
		}
	})
	.await;
	match decided {
		Some(Ok((1, block))) => Ok(block.into()),
		Some(Ok((outcome, _))) => {
			let name = OUTCOMES.get(outcome as usize).unwrap_or(&"in an unknown state");
			Err(Error::Rejected(format!("referendum {index} ended {name}")))
		}
		Some(Err(e)) => Err(e),
		None => Err(Error::Rejected(format!("referendum {index} was not decided in time"))),
	}
}

/// Waits for the scheduler to run referendum `index`'s enactment task, at block `since` or
/// later; returns that block and its hooks' events, or why the call did not succeed.
async fn enactment(chain: &Chain, index: u32, since: u64) -> Result<Included, Error> {
	// pallet-referenda names the enactment task after the referendum.
	let name = crate::hash(&(*b"assembly", "enactment", index).encode());
	let deadline = tokio::time::Instant::now() + DECISION_TIMEOUT;
	let enacted = chain
		.follow(since, deadline, async |block| {
			let events = chain.block_events(block).await?;
			match events.iter().find_map(|event| task_outcome(index, name, event)) {
				Some(outcome) => outcome.map(|()| ControlFlow::Break(Included { block, events })),
				None => Ok(ControlFlow::Continue(())),
			}
		})
		.await?;
	enacted.ok_or_else(|| Error::Rejected(format!("referendum {index} was not enacted in time")))
}

/// What a scheduler event says of the task `name` (referendum `index`'s enactment): `None`
/// if it is about another task, else whether the call ran and succeeded.
fn task_outcome(index: u32, name: [u8; 32], event: &ChainEvent) -> Option<Result<(), Error>> {
	// `Dispatched`, `CallUnavailable` and `PermanentlyOverweight` start with the task's
	// address (block, index) and its name.
	let (_, id) = <((u32, u32), Option<[u8; 32]>)>::decode(&mut &event.fields[..]).ok()?;
	if event.pallet != "Scheduler" || id != Some(name) {
		return None;
	}
	let failed = |why: &str| Some(Err(Error::Rejected(format!("referendum {index}'s call {why}"))));
	match event.name.as_str() {
		"Dispatched" => Some(dispatched(index, event)),
		"CallUnavailable" => failed("was not run: its preimage is missing or not its length"),
		"PermanentlyOverweight" => failed("was not run: it is heavier than a block allows"),
		_ => None,
	}
}

/// Whether the call a `Scheduler.Dispatched` event reports succeeded: its fields end with
/// the `DispatchResult`.
fn dispatched(index: u32, event: &ChainEvent) -> Result<(), Error> {
	// task (block, index), id (Some + 32 bytes), then the result: 0 for `Ok`.
	let result = event.fields.get(4 + 4 + 1 + 32..).unwrap_or_default();
	match result.first() {
		Some(0) => Ok(()),
		_ => Err(Error::Rejected(format!(
			"referendum {index}'s call failed: 0x{}",
			hex::encode(result)
		))),
	}
}
