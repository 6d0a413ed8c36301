//! The agreement's seams over a running service node: its ledger as the [`Log`] (records
//! fetched from its peers over libp2p when a proposal names some it lacks), and its WebChain
//! follower as the [`WebChain`].
//!
//! ```text
//!  unordered   the ledger's records beyond the ordered ends (at most MAX_RANGE per device),
//!              each device's up to the first not valid at the proposal's block
//!  hold(range) the ledger's (leaves from its index), or a variant kept ─► leaves, once
//!              vetted at the proposal's block: at once if they passed under the registry
//!              the block has (CheckedUnder), else checked again
//!              else, after a moment for gossip, every trusted peer asked (Range request)
//!              ─► an answer that is the range's, checked at the proposal's block (a final
//!              proposal's: by its leaves) ─► appended if it extends the device's records
//!              here, else kept as a variant ─► again; a record that fails the checks makes
//!              the range unholdable
//!  finalize    one ledger write (a final variant becomes the device's records) ─► the ends
//!              ordered so far published: records below them are replicated
//!              a close: its epoch closed in the ledger at the ends ordered, with the
//!              certified root (checked against the tree built here) and certificate
//! ```

use super::{
	chain::{leaves_hash, BlockNumber, Close, EpochCertificate, Proposal, Range, Schedule, State},
	log::{Log, Unholdable, Vetting, WebChain},
	vetting::{Prefix, VetFailure, Vetter},
};
use crate::{
	committer::Committer,
	error::{CloseError, StorageError},
	ledger::{CertifiedCut, HeldRange, Ledger},
	p2p::Network,
	validate::Checked,
	webchain::{self, Finalized},
};
use commonware_cryptography::sha256::Digest;
use std::{collections::BTreeMap, ops::Range as Numbers, sync::Arc, time::Duration};
use thingschain_device::{Chain, Error};
use thingschain_primitives::{
	ids::{DeviceId, Epoch, Hash, ServiceId},
	merkle::leaf_hash,
	nest::SignedNestRecord,
};
use tokio::sync::watch;

/// The most records of one device a proposal orders: an answer to a range request must fit
/// in one libp2p message (1,024 records of the longest size is 4 MiB of 8).
pub const MAX_RANGE: u64 = 1_024;

/// How long a node waits before asking its peers again for a range none of them sent.
const RETRY: Duration = Duration::from_millis(250);

/// What the agreement has ordered so far, published after every final proposal: a device's
/// records below its end are replicated.
pub type Ordered = watch::Receiver<Option<Arc<State>>>;

/// Why the agreement cannot go on over this node's ledger: the node must stop.
#[derive(Debug, thiserror::Error)]
pub enum LogFailure {
	/// The ledger failed.
	#[error(transparent)]
	Ledger(#[from] Arc<StorageError>),
	/// An epoch the agreement closed could not be closed here as agreed (its tree here does
	/// not have the certified root, or its records are not all here).
	#[error("epoch {epoch} cannot be closed as agreed: {error}")]
	Close {
		/// The epoch.
		epoch: Epoch,
		/// Why.
		error: CloseError,
	},
}

impl From<StorageError> for LogFailure {
	fn from(error: StorageError) -> Self {
		LogFailure::Ledger(Arc::new(error))
	}
}

/// A service node's ledger, network and writer, as the agreement's log.
#[derive(Clone)]
pub struct LedgerLog {
	ledger: Arc<Ledger>,
	committer: Committer,
	vetter: Vetter,
	network: Network,
	ordered: Arc<watch::Sender<Option<Arc<State>>>>,
	/// Set when the ledger fails under the agreement: the node must stop.
	failed: Arc<watch::Sender<Option<Arc<LogFailure>>>>,
}

impl LedgerLog {
	/// The log over `ledger`, fetching through `network` and storing through `committer`.
	/// A node stopped between making a close final and closing its epoch closes it now.
	pub fn new(
		ledger: Arc<Ledger>,
		committer: Committer,
		network: Network,
	) -> Result<LedgerLog, LogFailure> {
		let agreed = ledger.agreed()?;
		let log = LedgerLog {
			vetter: Vetter::new(ledger.clone(), committer.clone()),
			ledger,
			committer,
			network,
			ordered: Arc::new(watch::channel(agreed.clone().map(|(_, state)| Arc::new(state))).0),
			failed: Arc::new(watch::channel(None).0),
		};
		if let Some((digest, state)) = agreed {
			let close = log.ledger.proposal(&digest)?.and_then(|proposal| proposal.close);
			if let Some(close) = close {
				log.close(&close, &state, None)?;
			}
		}
		Ok(log)
	}

	/// Closes `close`'s epoch in the ledger at the ends of `state` (the log after the
	/// proposal that closes it; none for an epoch WebChain skipped, whose records the next
	/// epoch takes), unless it is closed here already.
	fn close(
		&self,
		close: &Close,
		state: &State,
		certificate: Option<EpochCertificate>,
	) -> Result<(), LogFailure> {
		let nothing = BTreeMap::new();
		let ends = if close.skipped { &nothing } else { &*state.ends };
		let cut = self.ledger.cut_at(ends, close.arrivals)?;

		if cut.epoch > close.epoch {
			return Ok(());
		}
		let certified = CertifiedCut { cut, root: close.root, certificate };
		let sealed = self
			.ledger
			.close_epoch(&certified)
			.map_err(|error| LogFailure::Close { epoch: close.epoch, error })?;
		tracing::info!(
			target: "epochs",
			"closed epoch {}: {} leaves, root {:?}", close.epoch, sealed.leaves, sealed.root
		);
		Ok(())
	}

	/// What the agreement has ordered, as it goes.
	pub fn ordered(&self) -> Ordered {
		self.ordered.subscribe()
	}

	/// Resolves with the ledger's failure, once one happened under the agreement.
	pub async fn failure(&self) -> Arc<LogFailure> {
		let mut failed = self.failed.subscribe();
		loop {
			if let Some(error) = failed.borrow_and_update().clone() {
				return error;
			}
			if failed.changed().await.is_err() {
				return Arc::new(Arc::new(StorageError::WriterStopped).into());
			}
		}
	}

	/// Records a failure of the ledger: the agreement cannot go on without its disk.
	fn fail(&self, error: impl Into<LogFailure>) {
		let error = Arc::new(error.into());
		tracing::error!(target: "agreement", "the ledger failed: {error}");
		self.failed.send_replace(Some(error));
	}

	/// Takes a peer's `records` for `range`, which are its, once they pass `vetting`:
	/// appended when they continue the device's records here, else kept beside them.
	async fn take(
		&self,
		range: &Range,
		vetting: Vetting,
		records: Vec<SignedNestRecord>,
	) -> Result<(), Unholdable> {
		let checked = match vetting {
			Vetting::At(block) => self.vetter.fetched(range, block, records.clone()).await?,
			Vetting::Vetted => records.iter().cloned().map(Checked::ordered).collect(),
		};
		let extends = self.ledger.next_sequence(range.device).map(|next| next == range.from);
		let stored = match extends {
			// Checked already: appended as they are, not checked again.
			Ok(true) => self.committer.append(checked).await.map(drop),
			Ok(false) => self.ledger.keep_variant(range, &records).map_err(Arc::new),
			Err(error) => Err(Arc::new(error)),
		};
		if let Err(error) = stored {
			// Asked again on the next round; a ledger that fails for good stops the node.
			self.fail(error);
		}
		Ok(())
	}
}

/// Whether `records` are the ones `range` names.
fn fits(range: &Range, records: &[SignedNestRecord]) -> bool {
	let leaves: Vec<Hash> = records.iter().map(|r| leaf_hash(&r.record.leaf_bytes())).collect();
	records.len() as u64 == range.len()
		&& records.iter().zip(range.from..).all(|(signed, sequence)| {
			signed.record.device == range.device && signed.record.sequence() == sequence
		}) && leaves_hash(&leaves) == range.leaves
}

impl Log for LedgerLog {
	async fn unordered(
		&self,
		ends: &BTreeMap<DeviceId, u64>,
		block: BlockNumber,
		limit: u64,
	) -> Vec<Range> {
		let unordered = match self.ledger.unordered(ends, limit) {
			Ok(unordered) => unordered,
			Err(error) => {
				self.fail(error);
				return Vec::new();
			}
		};
		let unordered = unordered.into_iter().map(|mut device| {
			device.leaves.truncate(MAX_RANGE as usize);
			device
		});
		self.vetter.proposable(unordered.collect(), block).await.unwrap_or_else(|error| {
			self.fail(error);
			Vec::new()
		})
	}

	async fn hold(&self, range: &Range, vetting: Vetting) -> Result<Vec<Hash>, Unholdable> {
		// Gossip brings most records a moment after the proposal that names them: the range is
		// looked at again whenever the device's records are stored here, and peers are asked
		// only once that moment has passed.
		let stores = self.committer.stores_of(range.device);
		let mut ask_at = tokio::time::Instant::now() + RETRY;
		loop {
			let stored = stores.next();
			tokio::pin!(stored);
			stored.as_mut().enable();
			match self.ledger.held_range(range) {
				Ok(Some(HeldRange { leaves, variant })) => match vetting {
					Vetting::Vetted => return Ok(leaves),
					Vetting::At(block) => match self.vetter.held(range, block, variant).await {
						Ok(Some(Prefix { invalid: None, .. })) => return Ok(leaves),
						Ok(Some(Prefix { invalid: Some(invalid), .. })) => return Err(invalid),
						// No longer held as the range names them (a variant made final).
						Ok(None) => {}
						Err(VetFailure::Unholdable(unholdable)) => return Err(unholdable),
						Err(VetFailure::Ledger(error)) => self.fail(error),
					},
				},
				Ok(None) => {}
				Err(error) => self.fail(error),
			}
			if tokio::time::Instant::now() >= ask_at {
				let answers = self.network.range(range.clone()).await;
				if let Some(records) = answers.into_iter().find(|records| fits(range, records)) {
					self.take(range, vetting, records).await?;
					continue;
				}
				ask_at = tokio::time::Instant::now() + RETRY;
			}
			tokio::select! {
				() = &mut stored => {}
				() = tokio::time::sleep_until(ask_at) => {}
			}
		}
	}

	fn arrival_count(&self) -> u64 {
		self.ledger.arrival_count().unwrap_or_else(|error| {
			self.fail(error);
			0
		})
	}

	async fn arrivals(&self, numbers: Numbers<u64>) -> Vec<Hash> {
		// The follower copies WebChain's arrivals at each finalized block it reads.
		loop {
			match self.ledger.arrival_leaves(numbers.clone()) {
				Ok(Some(leaves)) => return leaves,
				Ok(None) => tokio::time::sleep(RETRY).await,
				Err(error) => {
					self.fail(error);
					std::future::pending::<()>().await;
				}
			}
		}
	}

	fn finalize(
		&self,
		digest: &Digest,
		proposal: &Proposal,
		state: &State,
		certificate: Option<EpochCertificate>,
	) {
		let closed = self.ledger.finalize_agreed(&digest.0, proposal, state).map_err(Into::into);
		let closed = closed.and_then(|()| match &proposal.close {
			Some(close) => self.close(close, state, certificate),
			None => Ok(()),
		});
		match closed {
			Ok(()) => {
				// No proposal to come names an older block, nor records below the ends.
				self.vetter.forget_below(state);
				self.ordered.send_replace(Some(Arc::new(state.clone())));
			}
			Err(error) => self.fail(error),
		}
	}

	fn finalized(&self) -> Option<(Digest, State)> {
		match self.ledger.agreed() {
			Ok(agreed) => agreed.map(|(digest, state)| (Digest(digest), state)),
			Err(error) => {
				self.fail(error);
				None
			}
		}
	}

	fn save_proposal(&self, digest: &Digest, proposal: &Proposal) {
		if let Err(error) = self.ledger.save_proposal(&digest.0, proposal) {
			self.fail(error);
		}
	}

	fn proposal(&self, digest: &Digest) -> Option<Proposal> {
		self.ledger.proposal(&digest.0).unwrap_or_else(|error| {
			self.fail(error);
			None
		})
	}
}

/// WebChain as the node's follower last read it, and as read from its JSON-RPC at `url` for
/// what the follower does not keep (whether an epoch was skipped).
#[derive(Clone)]
pub struct FollowedChain {
	finalized: watch::Receiver<Option<Finalized>>,
	url: Arc<str>,
	service: ServiceId,
	/// The connection reads go through, made again after a failed read.
	chain: Arc<tokio::sync::Mutex<Option<Chain>>>,
}

impl FollowedChain {
	/// `service` on WebChain as `finalized` reads it, its JSON-RPC at `url`.
	pub fn new(
		finalized: watch::Receiver<Option<Finalized>>,
		url: &str,
		service: ServiceId,
	) -> FollowedChain {
		FollowedChain { finalized, url: url.into(), service, chain: Default::default() }
	}

	/// The block WebChain skipped `epoch` in, if it had by its finalized block `number`.
	async fn skipped_in(&self, epoch: Epoch, number: BlockNumber) -> Result<Option<u64>, Error> {
		let mut chain = self.chain.lock().await;
		let read = match crate::epochs::connected(&self.url, &mut chain).await {
			Ok(connected) => webchain::skipped_in(connected, self.service, epoch, number).await,
			Err(error) => Err(error),
		};
		if read.is_err() {
			*chain = None;
		}
		read
	}
}

impl Schedule for FollowedChain {
	fn epoch_end(&self, epoch: Epoch) -> BlockNumber {
		// A service's genesis and epoch length never change: every node computes the same.
		let finalized = self.finalized.borrow();
		finalized.as_ref().map_or(BlockNumber::MAX, |at| at.service.epoch_end(epoch))
	}
}

impl WebChain for FollowedChain {
	fn finalized_block(&self) -> BlockNumber {
		self.finalized.borrow().as_ref().map_or(0, |at| at.number)
	}

	async fn skipped(&self, epoch: Epoch, block: BlockNumber) -> bool {
		loop {
			let finalized = self.finalized_block();
			if finalized >= block {
				match self.skipped_in(epoch, finalized).await {
					Ok(skipped) => return skipped.is_some_and(|at| at <= block),
					Err(error) => {
						tracing::warn!(target: "agreement", "whether epoch {epoch} was skipped: {error}")
					}
				}
			}
			tokio::time::sleep(RETRY).await;
		}
	}
}
