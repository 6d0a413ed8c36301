//! Epochs and anchors, driven by WebChain's finalized blocks: every epoch that has ended is
//! closed (by the leader's signed cut, [`crate::cut`]), then the next epoch WebChain anchors is
//! attested, by a service node, or approved, by a super node, with the root the ledger stored
//! when it closed that epoch.
//!
//! ```text
//!  finalized block N ──► every epoch ended by N and still open here:
//!    │                     leader: sign heads() ─► close_epoch
//!    │                     other:  a peer's cut, signed by the leader ─► fetch what is missing
//!    │                             (checked like a device's write) ─► close_epoch
//!    └─► WebChain's next epoch e, once closed here:
//!          service node: NestAnchor.attest(service, e, root(e), prev)
//!          super node:   NestAnchor.approve(service, e, root(e)), once a node attested root(e)
//! ```
//!
//! The root of an epoch is stored in the transaction that closes it and never changes, and
//! `prev` is WebChain's latest anchor, so a node that restarts, or whose transaction was lost,
//! sends the same attestation again: it never attests, nor a super node approves, two roots
//! of one epoch. WebChain refusing a repeat (`AlreadyAttested`, `AlreadyApproved`,
//! `StaleEpoch`) means it was counted.

use crate::{
	committer::Committer,
	cut::{self, CutRejected},
	error::{CloseError, StorageError},
	ledger::{Ledger, SealedEpoch, SignedCut},
	peers::Peers,
	peg,
	rpc::MAX_RECORDS_PER_CALL,
	validate::Rules,
	webchain::{self, Finalized},
};
use std::sync::Arc;
use subxt::{
	dynamic::{self, Value},
	ext::scale_value::Composite,
};
use subxt_signer::sr25519::Keypair;
use thingschain_device::{Chain, Error};
use thingschain_primitives::ids::{Epoch, Hash, ServiceId};
use tokio::sync::watch;

/// What this node does with an epoch's root on WebChain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
	/// A trusted node of the service: it leads epochs in turn and attests roots.
	ServiceNode,
	/// A super node: it follows the service's log from its nodes and approves the roots it
	/// computes itself (Proof of Truth).
	SuperNode,
}

/// Everything the epochs' driver uses.
pub struct Epochs {
	/// Attest or approve.
	pub role: Role,
	/// The node's account key: signs its cuts and transactions.
	pub key: Keypair,
	/// WebChain's JSON-RPC URL, for transactions.
	pub webchain: String,
	/// The records' rules (its service, WebChain's genesis hash).
	pub rules: Arc<Rules>,
	/// The ledger.
	pub ledger: Arc<Ledger>,
	/// Its writer, shared with the devices' writes.
	pub committer: Committer,
	/// The service's other nodes.
	pub peers: Peers,
}

/// Why an epoch could not be closed yet.
#[derive(Debug)]
enum Waiting {
	/// No peer has the leader's cut yet.
	NoCut,
	/// A peer's cut is not the leader's.
	BadCut(CutRejected),
	/// No peer serves records the cut holds.
	NoRecords { device: u64, from: u64 },
	/// A record a peer served was refused here.
	Refused { device: u64, sequence: u64, reason: String },
	/// The ledger refused the cut or failed.
	Close(CloseError),
	/// The ledger's writer failed storing fetched records.
	Write(Arc<StorageError>),
	/// WebChain could not be read.
	WebChain(Error),
}

impl std::fmt::Display for Waiting {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Waiting::NoCut => f.write_str("no peer has the leader's cut yet"),
			Waiting::BadCut(e) => write!(f, "{e}"),
			Waiting::NoRecords { device, from } => {
				write!(f, "no peer serves device {device}'s records from {from}")
			}
			Waiting::Refused { device, sequence, reason } => {
				write!(f, "device {device}'s record {sequence} from a peer is refused: {reason}")
			}
			Waiting::Close(e) => write!(f, "{e}"),
			Waiting::Write(e) => write!(f, "{e}"),
			Waiting::WebChain(e) => write!(f, "{e}"),
		}
	}
}

impl From<StorageError> for Waiting {
	fn from(error: StorageError) -> Self {
		Waiting::Close(error.into())
	}
}

impl Epochs {
	/// Runs for as long as `finalized` is published: on each finalized block, closes the
	/// epochs that ended and settles the next anchor.
	pub async fn run(self, mut finalized: watch::Receiver<Option<Finalized>>) {
		let mut chain = None;
		// The epoch this node's attestation or approval was last counted for, and the block
		// by which WebChain had it.
		let mut counted = None;
		let me = self.key.public_key().0;
		while finalized.changed().await.is_ok() {
			let Some(at) = finalized.borrow_and_update().clone() else { continue };
			// First the arrivals settled by this block: a leader's cut takes them, and the
			// other nodes need them to close the epoch with it.
			if let Err(error) = self.copy_arrivals(&at, &mut chain).await {
				tracing::warn!(target: "peg", "at block {}: {error}", at.number);
				chain = None;
			}
			match self.close_ended(&at, &mut chain).await {
				Ok(()) => {}
				// Both pass with the next blocks: a peer's cut, WebChain's arrivals read here.
				Err(
					waiting @ (Waiting::NoCut | Waiting::Close(CloseError::MissingArrivals { .. })),
				) => {
					tracing::debug!(target: "epochs", "at block {}: {waiting}", at.number)
				}
				Err(waiting) => {
					tracing::warn!(target: "epochs", "at block {}: {waiting}", at.number)
				}
			}
			if !counted.is_some_and(|counted| still_counted(counted, &at, &me, self.role)) {
				match self.settle(&at, &mut chain).await {
					Ok(Some(by)) => counted = Some((at.next.epoch, by)),
					Ok(None) => {}
					Err(error) => {
						tracing::warn!(target: "epochs", "epoch {}: {error}", at.next.epoch);
						chain = None;
					}
				}
			}
		}
	}

	/// Copies the service's arrivals settled by `at` ([`peg::copy_arrivals`]).
	async fn copy_arrivals(&self, at: &Finalized, chain: &mut Option<Chain>) -> Result<(), Error> {
		let chain = connected(&self.webchain, chain).await?;
		peg::copy_arrivals(chain, &self.ledger, self.rules.service, at).await
	}

	/// Closes every epoch that ended by `at`, in order.
	async fn close_ended(&self, at: &Finalized, chain: &mut Option<Chain>) -> Result<(), Waiting> {
		let ended = at.service.epochs_ended(at.number);
		loop {
			let open = self.blocking(|ledger| ledger.open_epoch()).await?;
			if open >= ended {
				return Ok(());
			}
			// Who led the epoch is read from its end: the service's nodes then, not now.
			let end = at.service.epoch_end(open);
			let chain = connected(&self.webchain, chain).await.map_err(Waiting::WebChain)?;
			let nodes = webchain::service_view_at(chain, self.rules.service, end)
				.await
				.map_err(Waiting::WebChain)?
				.map(|view| view.nodes)
				.unwrap_or_default();
			let signed = self.cut(open, &nodes, at.arrivals).await?;
			let sealed = self.close(signed).await?;
			tracing::info!(
				target: "epochs",
				"closed epoch {open}: {} records, root {:?}", sealed.leaves, sealed.root
			);
		}
	}

	/// The cut that closes `epoch`, whose service had `nodes` when it ended: this node's own
	/// if it leads it, else the leader's from a peer, holding no more than WebChain's
	/// `arrivals`.
	async fn cut(
		&self,
		epoch: Epoch,
		nodes: &[[u8; 32]],
		arrivals: u64,
	) -> Result<SignedCut, Waiting> {
		let (genesis, service) = (self.rules.genesis_hash, self.rules.service);
		let me = self.key.public_key().0;
		if self.role == Role::ServiceNode && cut::leader(nodes, epoch) == Some(me) {
			let heads = self.blocking(|ledger| ledger.heads()).await?;
			return Ok(cut::sign(&self.key, &genesis, service, heads));
		}
		let mut refused = None;
		let cuts = self.peers.cuts(epoch).await.into_iter().filter(|c| c.cut.epoch == epoch);
		for signed in cuts {
			match cut::verify(&signed, &genesis, service, nodes) {
				Ok(()) if signed.cut.arrivals > arrivals => {
					let cut = signed.cut.arrivals;
					refused = Some(CutRejected::UnknownArrivals { cut, webchain: arrivals })
				}
				Ok(()) => return Ok(signed),
				Err(e) => refused = Some(e),
			}
		}
		Err(refused.map_or(Waiting::NoCut, Waiting::BadCut))
	}

	/// Closes the open epoch with `signed`, first fetching from peers the records it holds
	/// that this node lacks.
	async fn close(&self, signed: SignedCut) -> Result<SealedEpoch, Waiting> {
		let signed = Arc::new(signed);
		loop {
			let cut = signed.clone();
			match self.blocking(move |ledger| Ok(ledger.close_epoch(&cut))).await? {
				Ok(sealed) => return Ok(sealed),
				Err(CloseError::Missing { device, have, need }) => {
					let count = (need - have).min(MAX_RECORDS_PER_CALL as u64) as u32;
					self.catch_up(device, have, count).await?;
				}
				Err(error) => return Err(Waiting::Close(error)),
			}
		}
	}

	/// Fetches device `device`'s records from `from` on (at most `count`) from a peer and
	/// stores them, checked as a device's own write is.
	async fn catch_up(&self, device: u64, from: u64, count: u32) -> Result<(), Waiting> {
		// Only the device's records from `from` on, in order, are of use: anything else a
		// peer sends is left out, so a peer cannot make this loop without progress.
		let records: Vec<_> = (self.peers.records(device, from, count).await.into_iter())
			.zip(from..)
			.take_while(|(r, sequence)| {
				r.record.device == device && r.record.sequence() == *sequence
			})
			.map(|(r, _)| r)
			.collect();
		if records.is_empty() {
			return Err(Waiting::NoRecords { device, from });
		}
		let sequences: Vec<u64> = records.iter().map(|r| r.record.sequence()).collect();
		let outcomes = self.committer.submit(records).await.map_err(Waiting::Write)?;
		match outcomes.into_iter().zip(sequences).find(|(outcome, _)| outcome.is_err()) {
			Some((Err(rejection), sequence)) => {
				Err(Waiting::Refused { device, sequence, reason: rejection.to_string() })
			}
			_ => Ok(()),
		}
	}

	/// Attests or approves WebChain's next epoch with this node's root, if it closed that
	/// epoch; once WebChain counted it, the block by which it had.
	async fn settle(
		&self,
		at: &Finalized,
		chain: &mut Option<Chain>,
	) -> Result<Option<u64>, Error> {
		let epoch = at.next.epoch;
		let sealed = self.blocking(move |ledger| ledger.sealed(epoch)).await;
		let Some(sealed) = sealed.map_err(|e| Error::Io(std::io::Error::other(e)))? else {
			return Ok(None);
		};
		let me = self.key.public_key().0;
		let call = match self.role {
			Role::ServiceNode if at.service.active && at.service.nodes.contains(&me) => {
				anchor_call("attest", self.rules.service, epoch, sealed.root, Some(at.next.prev))
			}
			Role::SuperNode if at.pending.iter().any(|c| c.root == sealed.root) => {
				anchor_call("approve", self.rules.service, epoch, sealed.root, None)
			}
			_ => return Ok(None),
		};
		let chain = connected(&self.webchain, chain).await?;
		match chain.send(&call, &self.key).await {
			Ok(included) => {
				tracing::info!(target: "epochs", "{:?} counted for epoch {epoch}, root {:?}", self.role, sealed.root);
				Ok(Some(included.block))
			}
			// Counted before (a restart, a lost answer): by WebChain's best block.
			Err(Error::Rejected(reason))
				if ["AlreadyAttested", "AlreadyApproved", "StaleEpoch"]
					.iter()
					.any(|repeat| reason.contains(repeat)) =>
			{
				Ok(Some(chain.best_number().await?))
			}
			Err(error) => Err(error),
		}
	}

	/// Runs `read` on the ledger off the async threads.
	async fn blocking<T: Send + 'static>(
		&self,
		read: impl FnOnce(&Ledger) -> Result<T, StorageError> + Send + 'static,
	) -> Result<T, StorageError> {
		let ledger = self.ledger.clone();
		crate::blocking(move || read(&ledger)).await
	}
}

/// `chain`, connected to WebChain at `url` first if it is not.
pub(crate) async fn connected<'a>(
	url: &str,
	chain: &'a mut Option<Chain>,
) -> Result<&'a Chain, Error> {
	Ok(match chain {
		Some(chain) => chain,
		None => chain.insert(Chain::connect(url).await?),
	})
}

/// Whether this node's attestation or approval, counted for `epoch` by WebChain's block `by`,
/// still stands at `at`: the epoch is still the next to anchor, and `at` is older than `by`
/// (the finalized view has not caught up) or lists `me` for a pending root. When the owner
/// expires the pending roots (`NestAnchor.expire_pending`), it stands no more: the node
/// attests (or approves) again.
fn still_counted((epoch, by): (Epoch, u64), at: &Finalized, me: &[u8; 32], role: Role) -> bool {
	let listed = |candidate: &webchain::Candidate| match role {
		Role::ServiceNode => candidate.attesters.contains(me),
		Role::SuperNode => candidate.approvers.contains(me),
	};
	epoch == at.next.epoch && (at.number < by || at.pending.iter().any(listed))
}

/// `NestAnchor.attest(service, epoch, root, prev)` or, without `prev`,
/// `NestAnchor.approve(service, epoch, root)`.
fn anchor_call(
	name: &'static str,
	service: ServiceId,
	epoch: Epoch,
	root: Hash,
	prev: Option<Hash>,
) -> impl subxt::tx::Payload {
	let mut fields = vec![
		("service".to_string(), Value::u128(service.into())),
		("epoch".to_string(), Value::u128(epoch.into())),
		("root".to_string(), Value::from_bytes(root)),
	];
	fields.extend(prev.map(|prev| ("prev".to_string(), Value::from_bytes(prev))));
	dynamic::transaction("NestAnchor", name, Composite::Named(fields))
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::webchain::{Candidate, NextAnchor, ServiceView};

	/// WebChain at block `number`, anchoring epoch 3 next, with `pending` roots.
	fn at(number: u64, pending: Vec<Candidate>) -> Finalized {
		let service = ServiceView {
			epoch_length: 10,
			genesis: 0,
			nodes: vec![[1; 32]],
			keys: vec![None],
			active: true,
		};
		let next = NextAnchor { epoch: 3, prev: Hash::zero() };
		Finalized { number, service, next, pending, arrivals: 0 }
	}

	#[test]
	fn an_attestation_stands_until_its_epoch_anchors_or_the_pending_roots_expire() {
		let me = [1; 32];
		let mine =
			Candidate { root: Hash::repeat_byte(7), attesters: vec![me], ..Default::default() };
		// Counted by block 50: the finalized view at 49 does not show it yet, at 51 it does.
		assert!(still_counted((3, 50), &at(49, vec![]), &me, Role::ServiceNode));
		assert!(still_counted((3, 50), &at(51, vec![mine.clone()]), &me, Role::ServiceNode));
		// The owner expired the pending roots: attest again.
		assert!(!still_counted((3, 50), &at(51, vec![]), &me, Role::ServiceNode));
		// Another node's attestation of another root is not this node's.
		let theirs = Candidate { attesters: vec![[2; 32]], ..mine.clone() };
		assert!(!still_counted((3, 50), &at(51, vec![theirs]), &me, Role::ServiceNode));
		// A super node counts by its approval, not by an attestation.
		assert!(!still_counted((3, 50), &at(51, vec![mine.clone()]), &me, Role::SuperNode));
		let approved = Candidate { approvers: vec![me], ..mine };
		assert!(still_counted((3, 50), &at(51, vec![approved]), &me, Role::SuperNode));
		// The epoch anchored (the next is 4): nothing stands for it.
		assert!(!still_counted((2, 50), &at(51, vec![]), &me, Role::ServiceNode));
	}
}
