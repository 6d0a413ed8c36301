//! The peg, as a service node plays it (`pallets/nest-peg` has WebChain's side).
//!
//! ```text
//!  source: this service's devices lock values for another service (`NestBody::Lock`)
//!   a closed epoch's lock, its epoch anchored and confirmed ─► NestPeg.claim(lock, e, proof)    (in turn)
//!   a revert in the claim's window, the claim not final      ─► NestPeg.contest(service, id, e', proof)
//!                                                              or, e' skipped, NestPeg.void_skipped   (any node)
//!   the claim final, no revert in its window known           ─► NestPeg.settle(service, id)   (in turn)
//!     all from WebChain's finalized state, asking WebChain when (`NestPeg.claimable_from`,
//!     `NestPeg.final_from`)
//!
//!  destination: values locked for this service
//!   NestPeg.Arrivals(service, n), settled claims in WebChain's order ─► the ledger's arrivals
//!   ─► the next close takes them: the epoch's tree holds them after its devices' records
//! ```
//!
//! Relays run in a loop of their own, and a duty whose lock is claimed is taken a step at
//! every block (claims are read from WebChain's events), however many other duties wait.
//!
//! Claims and settlements are sent by the service's nodes in turn: each has [`TURN_BLOCKS`]
//! blocks, in an order that starts at the lock epoch's number, so a node that is down only
//! delays them, and WebChain takes each once. Every node copies the arrivals from WebChain's
//! finalized blocks; a close naming more than a node has read yet waits there until it has. A lock whose revert a closed epoch holds is
//! never claimed or settled by its nodes, and while a claim of it is not final every node
//! voids it. A duty ends when WebChain has its claim contested, returned or settled, or final
//! with a revert known (nothing is left to do).

use crate::{
	devices::DeviceCache,
	error::StorageError,
	ledger::{Ledger, PegDuty, Place},
	webchain::{self, number, variant_name, Finalized},
};
use codec::{Decode, Encode};
use std::{
	collections::{HashMap, HashSet},
	sync::Arc,
};
use subxt::{
	dynamic::{self, At, Value},
	ext::scale_value::Composite,
};
use subxt_signer::sr25519::Keypair;
use thingschain_device::{error::rpc, Chain, Error};
use thingschain_primitives::{
	ids::{Epoch, Hash, ServiceId},
	merkle::InclusionProof,
	nest::PegLock,
};
use tokio::sync::watch;

/// The most arrivals read from WebChain for one finalized block.
const ARRIVALS_PER_BLOCK: u64 = 256;

/// Blocks before a peg transaction WebChain refused is sent again.
const RETRY_AFTER_BLOCKS: u64 = 20;

/// Blocks a node's turn to send a lock's claim or settlement lasts.
const TURN_BLOCKS: u64 = 10;

/// The most duties taken a step at one finalized block (each reads WebChain once to thrice);
/// the next block goes on where this one stopped.
const DUTIES_PER_BLOCK: usize = 64;

/// A `NestPeg` transaction a node sends for one lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relay {
	/// Claim the lock at this place.
	Claim(Place),
	/// Contest the lock's claim with the revert at this place.
	Contest(Place),
	/// Void the lock's claim: the source skipped the epoch of its revert at this place.
	VoidSkipped(Place),
	/// Settle the final claim of the lock at this place.
	Settle(Place),
}

impl Relay {
	/// The call's name.
	fn name(self) -> &'static str {
		match self {
			Relay::Claim(_) => "claim",
			Relay::Contest(_) => "contest",
			Relay::VoidSkipped(_) => "void_skipped",
			Relay::Settle(_) => "settle",
		}
	}

	/// Whether the nodes send it in turn ([`in_turn`]): claims and settlements wait for their
	/// turn, while voiding a reverted lock's claim is every node's business, before it turns
	/// final.
	fn takes_turns(self) -> bool {
		matches!(self, Relay::Claim(_) | Relay::Settle(_))
	}

	fn place(self) -> Place {
		match self {
			Relay::Claim(place)
			| Relay::Contest(place)
			| Relay::VoidSkipped(place)
			| Relay::Settle(place) => place,
		}
	}
}

/// The node whose turn it is, at WebChain's block `block`, to send a claim or settlement of a
/// lock closed in `epoch`: the service's `nodes` in turn, from `epoch mod n` on, each for
/// [`TURN_BLOCKS`] blocks.
fn in_turn(nodes: &[[u8; 32]], epoch: Epoch, block: u64) -> Option<[u8; 32]> {
	let count = u64::try_from(nodes.len()).ok().filter(|count| *count > 0)?;
	let turn = (u64::from(epoch) + block / TURN_BLOCKS) % count;
	nodes.get(usize::try_from(turn).ok()?).copied()
}

/// What a node does next for one lock's peg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
	/// Nothing yet.
	Wait,
	/// Send this.
	Send(Relay),
	/// WebChain settled the lock one way or another: forget it.
	Done,
}

/// A lock's claim on WebChain, as far as its source's nodes act on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ClaimView {
	/// Neither contested, returned nor settled.
	open: bool,
	/// The source epoch that proved it.
	epoch: Epoch,
	/// The last source epoch a revert may be anchored in.
	final_epoch: Epoch,
	/// The first block it is final at, once its final epoch is anchored (`final_from`).
	final_from: Option<u64>,
}

/// Where WebChain is with a source epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EpochOnChain {
	/// Neither anchored nor skipped yet.
	Open,
	/// Anchored with a root.
	Anchored,
	/// Skipped: settled with no state.
	Skipped,
}

/// The next step for `duty` at WebChain's finalized block `at`, with its claim (if any), the
/// first block a lock of the duty's lock epoch may be claimed at (if anchored), and where
/// WebChain is with the revert's epoch.
fn next_step(
	duty: &PegDuty,
	claim: Option<ClaimView>,
	claimable_from: Option<u64>,
	revert_epoch: EpochOnChain,
	at: &Finalized,
) -> Step {
	let Some(claim) = claim else {
		return match (duty.lock, duty.revert) {
			// A lock its own device reverted is never claimed here.
			(Some(lock), None) if claimable_from.is_some_and(|from| at.number >= from) => {
				Step::Send(Relay::Claim(lock))
			}
			_ => Step::Wait,
		};
	};
	if !claim.open {
		return Step::Done;
	}
	let is_final = claim.final_from.is_some_and(|from| at.number >= from);
	if let Some(revert) = duty.revert {
		if (claim.epoch..=claim.final_epoch).contains(&revert.epoch) {
			return match (is_final, revert_epoch) {
				// Too late to void: a lock known reverted is still never settled here.
				(true, _) => Step::Done,
				(false, EpochOnChain::Anchored) => Step::Send(Relay::Contest(revert)),
				(false, EpochOnChain::Skipped) => Step::Send(Relay::VoidSkipped(revert)),
				(false, EpochOnChain::Open) => Step::Wait,
			};
		}
	}
	match (is_final, duty.lock) {
		(true, Some(lock)) => Step::Send(Relay::Settle(lock)),
		// A revert closed after its lock's duty ended: nothing to settle here.
		(true, None) => Step::Done,
		(false, _) => Step::Wait,
	}
}

/// Copies the arrivals WebChain settled for `service` by `at` that `ledger` lacks: what the
/// next cut of a node, or of a super node, takes.
pub async fn copy_arrivals(
	chain: &Chain,
	ledger: &Arc<Ledger>,
	service: ServiceId,
	at: &Finalized,
) -> Result<(), Error> {
	let have = on_ledger(ledger, |ledger| ledger.arrival_count()).await?;
	if have >= at.arrivals {
		return Ok(());
	}
	let numbers = have..at.arrivals.min(have + ARRIVALS_PER_BLOCK);
	let arrivals = webchain::arrivals_at(chain, service, at.number, numbers).await?;
	let count = on_ledger(ledger, move |ledger| ledger.add_arrivals(&arrivals)).await?;
	tracing::info!(target: "peg", "{count} peg arrivals read from WebChain");
	Ok(())
}

/// A service node's relays of its locks to WebChain, in a loop of their own (a relay waits
/// for its transaction's inclusion; the epochs' loop never waits for it).
pub struct Relayer {
	/// The service.
	pub service: ServiceId,
	/// The node's account key (pays the relayed transactions).
	pub key: Keypair,
	/// The ledger.
	pub ledger: Arc<Ledger>,
	/// WebChain's JSON-RPC URL.
	pub webchain: String,
	/// Where the service's policy lets its devices lock value now: a claim to anywhere else
	/// would be refused (`DestinationNotAllowed`, `DestinationUnavailable`), so it waits.
	pub devices: Arc<DeviceCache>,
	/// The finalized block before which each lock's step is not sent again: the block a sent
	/// one was included in (the finalized state shows it from there), or a while after
	/// WebChain refused it.
	not_before: HashMap<(Hash, &'static str), u64>,
	/// Where the next block's turn of the other duties starts.
	next_duty: usize,
	/// The duties whose lock has an open claim on WebChain: taken a step at every block, so
	/// no number of other duties delays a contest past its period.
	claimed: HashSet<Hash>,
	/// The last finalized block whose events were read for claims of the service's locks.
	last_block: Option<u64>,
}

impl Relayer {
	/// The relayer of `service`'s node with `key`, over `ledger`, sending to `webchain` the
	/// claims `devices` (the service's policy) allow.
	pub fn new(
		service: ServiceId,
		key: Keypair,
		ledger: Arc<Ledger>,
		webchain: String,
		devices: Arc<DeviceCache>,
	) -> Self {
		let (not_before, claimed) = (HashMap::new(), HashSet::new());
		Relayer {
			service,
			key,
			ledger,
			webchain,
			devices,
			not_before,
			next_duty: 0,
			claimed,
			last_block: None,
		}
	}

	/// Runs for as long as `finalized` is published: takes the duties a step at each
	/// finalized block.
	pub async fn run(mut self, mut finalized: watch::Receiver<Option<Finalized>>) {
		let mut chain = None;
		while finalized.changed().await.is_ok() {
			let Some(at) = finalized.borrow_and_update().clone() else { continue };
			let relayed = async {
				let chain = crate::epochs::connected(&self.webchain, &mut chain).await?;
				self.relay(chain, &at).await
			};
			if let Err(error) = relayed.await {
				tracing::warn!(target: "peg", "at block {}: {error}", at.number);
				chain = None;
			}
		}
	}

	/// Takes the ledger's peg duties a step on WebChain, at finalized block `at`: every duty
	/// whose lock has an open claim (known from the claims' events since the last block), and
	/// at most [`DUTIES_PER_BLOCK`] others, going on at the next block where this one stopped
	/// (all of them at the first block, to find the claims made while the node was down). A
	/// duty that fails is left for a later block; the others go on.
	async fn relay(&mut self, chain: &Chain, at: &Finalized) -> Result<(), Error> {
		if let Some(last) = self.last_block {
			for number in last + 1..=at.number {
				self.claimed.extend(webchain::claimed_in(chain, self.service, number).await?);
			}
		}
		let first = self.last_block.is_none();
		self.last_block = Some(at.number);
		let duties = self.blocking(|ledger| ledger.peg_duties()).await?;
		let (claimed, others): (Vec<_>, Vec<_>) =
			duties.into_iter().partition(|(lock_id, _)| self.claimed.contains(lock_id));
		let turn = match first {
			true => others.len(),
			false => DUTIES_PER_BLOCK.min(others.len()),
		};
		let start = self.next_duty.checked_rem(others.len()).unwrap_or(0);
		self.next_duty = start + turn;
		let others = others.iter().cycle().skip(start).take(turn);
		let block = chain.client().at_block(at.number).await.map_err(rpc)?;
		for &(lock_id, duty) in claimed.iter().chain(others) {
			if let Err(error) = self.step(chain, &block, at, lock_id, duty).await {
				tracing::warn!(target: "peg", "lock {lock_id:?}: {error}");
			}
		}
		Ok(())
	}

	/// Takes lock `lock_id`'s `duty` a step.
	async fn step(
		&mut self,
		chain: &Chain,
		block: &webchain::AtBlock,
		at: &Finalized,
		lock_id: Hash,
		duty: PegDuty,
	) -> Result<(), Error> {
		let claim = self.claim_view(block, lock_id).await?;
		if claim.is_some_and(|claim| claim.open) {
			self.claimed.insert(lock_id);
		}
		let claimable_from = match (duty.lock, duty.revert, claim) {
			(Some(lock), None, None) => {
				view_block(block, "claimable_from", (self.service, lock.epoch)).await?
			}
			_ => None,
		};
		let revert_epoch = match (duty.revert, claim) {
			(Some(revert), Some(_)) => self.epoch_on_chain(block, revert.epoch).await?,
			_ => EpochOnChain::Open,
		};
		let relay = match next_step(&duty, claim, claimable_from, revert_epoch, at) {
			Step::Wait => return Ok(()),
			Step::Done => {
				self.blocking(move |ledger| ledger.finish_peg_duty(lock_id)).await?;
				self.not_before.retain(|(id, _), _| *id != lock_id);
				self.claimed.remove(&lock_id);
				return Ok(());
			}
			Step::Send(relay) => relay,
		};
		let me = self.key.public_key().0;
		let name = relay.name();
		let sent = self.not_before.get(&(lock_id, name));
		if (relay.takes_turns()
			&& in_turn(&at.service.nodes, relay.place().epoch, at.number) != Some(me))
			|| sent.is_some_and(|until| at.number < *until)
		{
			return Ok(());
		}
		let Some(fields) = self.arguments(relay, lock_id).await? else {
			tracing::debug!(target: "peg", "lock {lock_id:?}: its destination is not one the service locks value to now");
			self.not_before.insert((lock_id, name), at.number + RETRY_AFTER_BLOCKS);
			return Ok(());
		};
		let fields = fields.into_iter().map(|(field, value)| (field.to_string(), value));
		let call = dynamic::transaction("NestPeg", name, Composite::Named(fields.collect()));
		match chain.send(&call, &self.key).await {
			Ok(included) => {
				tracing::info!(target: "peg", "{name} of lock {lock_id:?} in block {}", included.block);
				self.not_before.insert((lock_id, name), included.block);
				Ok(())
			}
			Err(Error::Rejected(reason)) => {
				self.not_before.insert((lock_id, name), at.number + RETRY_AFTER_BLOCKS);
				Err(Error::Rejected(format!("{name} refused: {reason}")))
			}
			Err(error) => Err(error),
		}
	}

	/// The arguments of `relay`'s transaction for lock `lock_id`, with the proof its record
	/// needs; `None` for a claim to a destination the service's policy does not name, or that
	/// is suspended, now (a lock taken before the owner chose).
	async fn arguments(
		&self,
		relay: Relay,
		lock_id: Hash,
	) -> Result<Option<Vec<(&'static str, Value)>>, Error> {
		let source = ("source", Value::u128(self.service.into()));
		let lock_field = ("lock_id", Value::from_bytes(lock_id.0));
		let epoch = ("epoch", Value::u128(relay.place().epoch.into()));
		let proven = || async {
			let place = relay.place();
			let proof =
				self.blocking(move |ledger| ledger.proof(place.device, place.sequence)).await?;
			proof.ok_or_else(|| {
				Error::Io(std::io::Error::other(format!("no proof of the peg record at {place:?}")))
			})
		};
		Ok(Some(match relay {
			Relay::Claim(_) => {
				let proven = proven().await?;
				let lock = proven.stored.record.peg_lock();
				let lock = lock.ok_or_else(|| webchain::malformed("a lock's record"))?;
				if !self.devices.may_lock_to(lock.destination) {
					return Ok(None);
				}
				vec![("lock", lock_value(&lock)), epoch, ("proof", proof_value(&proven.proof))]
			}
			Relay::Contest(_) => {
				let proof = ("proof", proof_value(&proven().await?.proof));
				vec![source, lock_field, epoch, proof]
			}
			Relay::VoidSkipped(_) => vec![source, lock_field, epoch],
			Relay::Settle(_) => vec![source, lock_field],
		}))
	}

	/// Where WebChain is, at `block`, with the service's `epoch` (`NestAnchor.Anchors`).
	async fn epoch_on_chain(
		&self,
		block: &webchain::AtBlock,
		epoch: Epoch,
	) -> Result<EpochOnChain, Error> {
		let address = dynamic::storage::<(u32, u32), Value>("NestAnchor", "Anchors");
		let anchor = block.storage().try_fetch(address, (self.service, epoch)).await;
		let Some(anchor) = anchor.map_err(rpc)? else { return Ok(EpochOnChain::Open) };
		let anchor = anchor.decode().map_err(rpc)?;
		Ok(match anchor.at("skipped").and_then(|skipped| skipped.as_bool()) {
			Some(true) => EpochOnChain::Skipped,
			Some(false) => EpochOnChain::Anchored,
			None => return Err(webchain::malformed("an anchor's skipped flag")),
		})
	}

	/// Lock `lock_id`'s claim at `block`, if it was claimed.
	async fn claim_view(
		&self,
		block: &webchain::AtBlock,
		lock_id: Hash,
	) -> Result<Option<ClaimView>, Error> {
		let key = (self.service, lock_id.0);
		let address = dynamic::storage::<(u32, [u8; 32]), Value>("NestPeg", "Claims");
		let Some(claim) = block.storage().try_fetch(address, key).await.map_err(rpc)? else {
			return Ok(None);
		};
		let claim = claim.decode().map_err(rpc)?;
		Ok(Some(ClaimView {
			open: variant_name(claim.at("status")) == Some("Claimed"),
			epoch: number(claim.at("epoch"))?,
			final_epoch: number(claim.at("final_epoch"))?,
			final_from: view_block(block, "final_from", (self.service, lock_id)).await?,
		}))
	}

	/// Runs `work` on the ledger off the async threads.
	async fn blocking<T: Send + 'static>(
		&self,
		work: impl FnOnce(&Ledger) -> Result<T, StorageError> + Send + 'static,
	) -> Result<T, Error> {
		on_ledger(&self.ledger, work).await
	}
}

/// Runs `work` on `ledger` off the async threads.
async fn on_ledger<T: Send + 'static>(
	ledger: &Arc<Ledger>,
	work: impl FnOnce(&Ledger) -> Result<T, StorageError> + Send + 'static,
) -> Result<T, Error> {
	let ledger = ledger.clone();
	crate::blocking(move || work(&ledger)).await.map_err(|e| Error::Io(std::io::Error::other(e)))
}

/// The block number NestPeg's view function `name` answers with `args` (SCALE) at `block`
/// (an `Option` of one). Called through the `RuntimeViewFunction` API as the runtime declares
/// it: the function's query id, then its arguments as one byte vector; the answer is
/// `Result<Vec<u8>, ViewFunctionDispatchError>`.
async fn view_block(
	block: &webchain::AtBlock,
	name: &str,
	args: impl Encode,
) -> Result<Option<u64>, Error> {
	let metadata = block.metadata_ref();
	let function = metadata.pallet_by_name("NestPeg").and_then(|p| p.view_function_by_name(name));
	let function = function.ok_or_else(|| webchain::malformed("NestPeg's view functions"))?;
	let input = (function.query_id(), args.encode()).encode();
	let answer = block.view_functions().call_raw(Some(&input)).await.map_err(rpc)?;
	// The error's first byte names it (not implemented, not found, codec).
	match Result::<Vec<u8>, u8>::decode(&mut &answer[..]) {
		Ok(Ok(bytes)) => {
			let from: Option<u32> = webchain::decode(&bytes, name)?;
			Ok(from.map(u64::from))
		}
		Ok(Err(code)) => Err(Error::Metadata(format!("NestPeg.{name} failed (code {code})"))),
		Err(e) => Err(Error::Metadata(format!("NestPeg.{name}'s answer does not decode: {e}"))),
	}
}

/// A `PegLock` as a call's argument.
fn lock_value(lock: &PegLock<polkadot_sdk::sp_runtime::AccountId32>) -> Value {
	let beneficiary: &[u8; 32] = lock.beneficiary.as_ref();
	Value::named_composite([
		("lock_id", Value::from_bytes(lock.lock_id.0)),
		("source", Value::u128(lock.source.into())),
		("destination", Value::u128(lock.destination.into())),
		("beneficiary", Value::from_bytes(*beneficiary)),
		("payload", Value::from_bytes(lock.payload.0)),
	])
}

/// An `InclusionProof` as a call's argument.
fn proof_value(proof: &InclusionProof) -> Value {
	Value::named_composite([
		("leaf_index", Value::u128(proof.leaf_index.into())),
		("number_of_leaves", Value::u128(proof.number_of_leaves.into())),
		(
			"siblings",
			Value::unnamed_composite(proof.siblings.iter().map(|s| Value::from_bytes(s.0))),
		),
	])
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::webchain::{NextAnchor, ServiceView};
	use EpochOnChain::{Anchored, Open, Skipped};

	/// WebChain at block 100.
	fn at() -> Finalized {
		let service =
			ServiceView { epoch_length: 10, genesis: 0, nodes: vec![], keys: vec![], active: true };
		let next = NextAnchor { epoch: 4, prev: Hash::zero() };
		Finalized { number: 100, service, next, pending: vec![], arrivals: 0 }
	}

	fn place(epoch: Epoch) -> Place {
		Place { epoch, device: 1, sequence: u64::from(epoch) }
	}

	/// A claim of a lock of `epoch` (its window: `epoch` and the next), final from `final_from`.
	fn claim(epoch: Epoch, final_from: Option<u64>) -> Option<ClaimView> {
		Some(ClaimView { open: true, epoch, final_epoch: epoch + 1, final_from })
	}

	fn lock(epoch: Epoch) -> PegDuty {
		PegDuty { lock: Some(place(epoch)), revert: None }
	}

	fn reverted(lock: Epoch, revert: Epoch) -> PegDuty {
		PegDuty { lock: Some(place(lock)), revert: Some(place(revert)) }
	}

	#[test]
	fn a_lock_is_claimed_once_confirmed_unless_its_device_reverted_it() {
		let step = |duty, from| next_step(&duty, None, from, Open, &at());
		assert_eq!(step(lock(2), None), Step::Wait, "not anchored");
		assert_eq!(step(lock(2), Some(101)), Step::Wait, "not confirmed");
		assert_eq!(step(lock(2), Some(100)), Step::Send(Relay::Claim(place(2))));
		assert_eq!(step(reverted(2, 3), Some(100)), Step::Wait);
	}

	#[test]
	fn a_claim_of_a_reverted_lock_is_voided_in_its_window_and_never_settled() {
		let step = |duty, claim, revert_epoch| next_step(&duty, claim, None, revert_epoch, &at());
		// The revert is in the claim's window (epochs 2 and 3): contested once its epoch is
		// anchored, voided if it was skipped, and never settled, even once final.
		assert_eq!(step(reverted(2, 3), claim(2, None), Open), Step::Wait);
		assert_eq!(
			step(reverted(2, 3), claim(2, None), Anchored),
			Step::Send(Relay::Contest(place(3)))
		);
		assert_eq!(
			step(reverted(2, 3), claim(2, None), Skipped),
			Step::Send(Relay::VoidSkipped(place(3)))
		);
		assert_eq!(step(reverted(2, 3), claim(2, Some(90)), Anchored), Step::Done);
		// A revert after the window voids nothing: the final claim is settled.
		assert_eq!(
			step(reverted(2, 4), claim(2, Some(90)), Anchored),
			Step::Send(Relay::Settle(place(2)))
		);
		assert_eq!(step(lock(2), claim(2, Some(101)), Open), Step::Wait, "not final yet");
		assert_eq!(step(lock(2), claim(2, Some(100)), Open), Step::Send(Relay::Settle(place(2))));
		// Contested, returned or settled: done.
		let closed = ClaimView { open: false, ..claim(2, None).unwrap() };
		assert_eq!(step(lock(2), Some(closed), Open), Step::Done);
	}

	#[test]
	fn claims_and_settlements_wait_for_their_turn_and_voids_for_nobody() {
		assert!(Relay::Claim(place(1)).takes_turns() && Relay::Settle(place(1)).takes_turns());
		assert!(!Relay::Contest(place(1)).takes_turns());
		assert!(!Relay::VoidSkipped(place(1)).takes_turns());
		// Each node in turn, from the epoch's, for TURN_BLOCKS blocks: one down only delays.
		let nodes = [[1; 32], [2; 32], [3; 32]];
		let turns: Vec<_> = (0..4).map(|turn| in_turn(&nodes, 1, turn * TURN_BLOCKS + 3)).collect();
		assert_eq!(turns, [Some([2; 32]), Some([3; 32]), Some([1; 32]), Some([2; 32])]);
		assert_eq!(in_turn(&nodes, 1, TURN_BLOCKS - 1), Some([2; 32]));
		assert_eq!(in_turn(&[], 1, 0), None);
	}
}
