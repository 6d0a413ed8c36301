//! Epochs and anchors, driven by WebChain's finalized blocks. A service node's epochs are
//! closed by the service's agreement (`crate::agreement`): a final proposal that closes one
//! closes it in the ledger with its certified root. A super node takes no part in the
//! agreement: it closes each ended epoch with a cut a service node serves, once it verified
//! the cut's certificate and built the certified root from the records. Then the next epoch
//! WebChain anchors is attested, by a service node, or approved, by a super node, with the
//! root the ledger stored when it closed that epoch.
//!
//! ```text
//!  finalized block N ──► the service's peg arrivals settled by N copied to the ledger
//!    ├─► (super node) every epoch ended by N and still open here:
//!    │     a peer's CertifiedCut ─► its certificate: a quorum of the nodes' keys (WebChain)
//!    │     finalized its close ─► the proposals back to the previous close (EpochRanges)
//!    │     ─► fetch the records it lacks, range by range (checked by the ranges' leaves)
//!    │     ─► close_epoch (refused unless the tree built here has the certified root)
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
	agreement::{certified::NotCertified, service::participants_of},
	committer::Committer,
	epoch_ranges::{EpochRanges, MissingProposal},
	error::{CloseError, StorageError},
	ledger::{CertifiedCut, Ledger, SealedEpoch},
	peers::RpcPeers,
	peg,
	validate::{Checked, Rules},
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
	/// A trusted node of the service: it takes part in the agreement and attests roots.
	ServiceNode,
	/// A super node: it follows the service's log from its nodes and approves the roots it
	/// computes itself (Proof of Truth).
	SuperNode,
}

/// Everything the epochs' driver uses.
pub struct Epochs {
	/// Attest or approve.
	pub role: Role,
	/// The node's account key: signs its transactions.
	pub key: Keypair,
	/// WebChain's JSON-RPC URL, for transactions.
	pub webchain: String,
	/// The records' rules (its service).
	pub rules: Arc<Rules>,
	/// The ledger.
	pub ledger: Arc<Ledger>,
	/// Its writer, shared with the devices' writes.
	pub committer: Committer,
	/// The service's nodes a super node reads certified cuts and records from
	/// (`--rpc-peer`); none on a service node, whose agreement closes its epochs.
	pub peers: Option<RpcPeers>,
}

/// Why a super node could not close an epoch yet.
#[derive(Debug, thiserror::Error)]
enum Waiting {
	/// No peer serves the epoch's cut with its certificate yet.
	#[error("no peer serves the epoch's certified cut yet")]
	NoCut,
	/// A peer's certificate is not the quorum's.
	#[error("a peer's cut is not certified: {0}")]
	NotCertified(NotCertified),
	/// A peer's cut names another epoch, root or arrivals than the close its certificate
	/// proves.
	#[error("a peer's cut is not the one its certificate proves")]
	NotItsCertificate,
	/// No peer serves a proposal between the previous close and the certified one.
	#[error(transparent)]
	NoProposal(#[from] MissingProposal),
	/// No peer serves records the cut holds, as the epoch's proposals name them.
	#[error("no peer serves device {device}'s records from {from}")]
	NoRecords { device: u64, from: u64 },
	/// A record a peer served was refused here.
	#[error("device {device}'s record {sequence} from a peer is refused: {reason}")]
	Refused { device: u64, sequence: u64, reason: String },
	/// The ledger refused the cut or failed.
	#[error("{0}")]
	Close(CloseError),
	/// The ledger's writer failed storing fetched records.
	#[error("{0}")]
	Write(Arc<StorageError>),
}

impl From<StorageError> for Waiting {
	fn from(error: StorageError) -> Self {
		Waiting::Close(error.into())
	}
}

impl Epochs {
	/// Runs for as long as `finalized` is published: on each finalized block, copies the
	/// service's arrivals, closes (as a super node) the epochs that ended and settles the
	/// next anchor.
	pub async fn run(self, mut finalized: watch::Receiver<Option<Finalized>>) {
		let mut chain = None;
		// The epoch this node's attestation or approval was last counted for, and the block
		// by which WebChain had it.
		let mut counted = None;
		let me = self.key.public_key().0;
		while finalized.changed().await.is_ok() {
			let Some(at) = finalized.borrow_and_update().clone() else { continue };
			// First the arrivals settled by this block: the agreement's closes take them.
			if let Err(error) = self.copy_arrivals(&at, &mut chain).await {
				tracing::warn!(target: "peg", "at block {}: {error}", at.number);
				chain = None;
			}
			if let Some(peers) = &self.peers {
				match self.close_ended(&at, peers).await {
					Ok(()) => {}
					// Both pass with the next blocks: a peer's cut, WebChain's arrivals read here.
					Err(
						waiting @ (Waiting::NoCut
						| Waiting::Close(CloseError::MissingArrivals { .. })),
					) => {
						tracing::debug!(target: "epochs", "at block {}: {waiting}", at.number)
					}
					Err(waiting) => {
						tracing::warn!(target: "epochs", "at block {}: {waiting}", at.number)
					}
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

	/// Closes every epoch that ended by `at`, in order, with the certified cuts of the
	/// service nodes at `peers`.
	async fn close_ended(&self, at: &Finalized, peers: &RpcPeers) -> Result<(), Waiting> {
		let ended = at.service.epochs_ended(at.number);
		loop {
			let open = self.blocking(|ledger| ledger.open_epoch()).await?;
			if open >= ended {
				return Ok(());
			}
			let certified = certified_cut(peers, open, at).await?;
			let sealed = self.close(certified, peers).await?;
			tracing::info!(
				target: "epochs",
				"closed epoch {open}: {} leaves, root {:?}", sealed.leaves, sealed.root
			);
		}
	}

	/// Closes the open epoch with `certified` (whose certificate was checked), first fetching
	/// from `peers` the records it holds that this node lacks.
	async fn close(
		&self,
		certified: CertifiedCut,
		peers: &RpcPeers,
	) -> Result<SealedEpoch, Waiting> {
		let certified = Arc::new(certified);
		let mut ranges = None;
		loop {
			let cut = certified.clone();
			match self.blocking(move |ledger| Ok(ledger.close_epoch(&cut))).await? {
				Ok(sealed) => return Ok(sealed),
				Err(CloseError::Missing { device, have, .. }) => {
					let ranges = match &mut ranges {
						Some(ranges) => ranges,
						None => ranges.insert(epoch_ranges(&certified, peers).await?),
					};
					self.catch_up(peers, ranges, device, have).await?;
				}
				Err(error) => return Err(Waiting::Close(error)),
			}
		}
	}

	/// Fetches from one of `peers` the epoch's range of device `device` that holds its record
	/// `from`, and stores its records from `from` on: the quorum checked them at their
	/// proposal's block, and their leaves are the range's.
	async fn catch_up(
		&self,
		peers: &RpcPeers,
		ranges: &EpochRanges,
		device: u64,
		from: u64,
	) -> Result<(), Waiting> {
		let no_records = || Waiting::NoRecords { device, from };
		let range = ranges.covering(device, from).ok_or_else(no_records)?;
		let records = peers.range(range).await.ok_or_else(no_records)?;
		let records: Vec<Checked> = (records.into_iter())
			.skip((from - range.from) as usize)
			.map(Checked::ordered)
			.collect();
		let sequences: Vec<u64> = (from..range.to).collect();
		let outcomes = self.committer.append(records).await.map_err(Waiting::Write)?;
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

/// A cut of `epoch` one of `peers` serves whose certificate a quorum of the service's nodes,
/// as WebChain lists their keys at `at`, signed.
async fn certified_cut(
	peers: &RpcPeers,
	epoch: Epoch,
	at: &Finalized,
) -> Result<CertifiedCut, Waiting> {
	let participants = participants_of(&at.service);
	let mut refused = None;
	let cuts = peers.cuts(epoch).await.into_iter().filter(|c| c.cut.epoch == epoch);
	for certified in cuts {
		let Some(certificate) = &certified.certificate else { continue };
		match crate::agreement::certified::verify(certificate, participants.clone()) {
			Ok(close)
				if close.epoch == epoch
					&& close.root == certified.root
					&& close.arrivals == certified.cut.arrivals =>
			{
				return Ok(certified)
			}
			Ok(_) => refused = Some(Waiting::NotItsCertificate),
			Err(error) => refused = Some(Waiting::NotCertified(error)),
		}
	}
	Err(refused.unwrap_or(Waiting::NoCut))
}

/// The ranges of the epoch `certified` closes, from the proposals `peers` serve.
async fn epoch_ranges(certified: &CertifiedCut, peers: &RpcPeers) -> Result<EpochRanges, Waiting> {
	// A cut without a certificate is never taken (`certified_cut`).
	let close = certified.certificate.as_ref().and_then(|c| c.bodies.first());
	let close = close.ok_or(Waiting::NoCut)?;
	Ok(EpochRanges::of(close, |digest| peers.proposals(digest)).await?)
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
