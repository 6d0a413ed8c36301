//! The seams between the agreement and the rest of a service node: its log of records and
//! what it reads from WebChain. The service node implements them over its ledger and
//! follower; the simulation over memory and a model of WebChain.

use super::chain::{BlockNumber, EpochCertificate, Proposal, Range, Schedule, State};
use commonware_cryptography::sha256::Digest;
use std::{collections::BTreeMap, future::Future, ops::Range as Numbers};
use thingschain_primitives::ids::{DeviceId, Epoch, Hash};

/// What a node checks a range's records against before it holds them for a proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vetting {
	/// WebChain's registry at the proposal's block: a proposal this node is to certify. Every
	/// honest node reaches the same verdict, whenever it checks.
	At(BlockNumber),
	/// Their leaves alone: a final proposal's records (a quorum checked them at its block;
	/// a node catching up may no longer know the registry there), or records this node
	/// vetted already.
	Vetted,
}

/// Why a range's records cannot be held: every honest node finds the same, since it checks
/// them against the proposal's WebChain block, but for [`Unholdable::Forgotten`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unholdable {
	/// Records whose leaves hash to the range's were found, and one is not valid at the
	/// proposal's block (a device not admitted then, a bad signature, a wrong sequence).
	#[error("device {device}'s record {sequence} is not valid at block {block}: {reason}")]
	Invalid {
		/// The device.
		device: DeviceId,
		/// The record's sequence.
		sequence: u64,
		/// The proposal's block.
		block: BlockNumber,
		/// Why.
		reason: String,
	},
	/// This node does not know the registry at the proposal's block (it started, or read
	/// WebChain afresh, after it): other nodes may hold the records, this one cannot say.
	#[error(transparent)]
	Forgotten(#[from] crate::devices::Forgotten),
}

/// A node's log of records, as the agreement uses it.
pub trait Log: Clone + Send + Sync + 'static {
	/// Records this node holds beyond `ends`, valid at `block`, as ranges in increasing
	/// device order, at most `limit` records in all: what it proposes when it leads.
	fn unordered(
		&self,
		ends: &BTreeMap<DeviceId, u64>,
		block: BlockNumber,
		limit: u64,
	) -> impl Future<Output = Vec<Range>> + Send;

	/// Resolves once this node holds the records `range` names durably (fetching from its
	/// peers what it lacks, for as long as it takes) and they pass `vetting`, with their
	/// leaves in sequence order; or with why they cannot be held. A device's other record for a sequence (it signed
	/// two) is kept beside the one named until one of them is final: a proposal that names
	/// one may lose to a proposal that names the other.
	fn hold(
		&self,
		range: &Range,
		vetting: Vetting,
	) -> impl Future<Output = Result<Vec<Hash>, Unholdable>> + Send;

	/// How many of WebChain's peg arrivals for the service this node holds (copied from
	/// finalized blocks, which never change): what it closes an epoch with when it leads.
	fn arrival_count(&self) -> u64;

	/// Resolves, once this node holds them, with the leaves of the peg arrivals `numbers`.
	fn arrivals(&self, numbers: Numbers<u64>) -> impl Future<Output = Vec<Hash>> + Send;

	/// `proposal` is final (a quorum certified it and finalized it, and this node holds its
	/// records): the records its ranges name are replicated, any other record of theirs for
	/// those sequences is dropped, and its close is its epoch's certified root, closed here
	/// with `certificate` (none when the finalization came from too far a descendant).
	/// `state` is the log after it, to start from after a restart.
	fn finalize(
		&self,
		digest: &Digest,
		proposal: &Proposal,
		state: &State,
		certificate: Option<EpochCertificate>,
	);

	/// The last proposal [`Log::finalize`]d, and the log after it.
	fn finalized(&self) -> Option<(Digest, State)>;

	/// Keeps a proposal's body, so that a restarted node can verify what consensus replays.
	fn save_proposal(&self, digest: &Digest, proposal: &Proposal);

	/// A kept proposal's body.
	fn proposal(&self, digest: &Digest) -> Option<Proposal>;
}

/// What the agreement reads from WebChain.
pub trait WebChain: Schedule + Clone + Send + Sync + 'static {
	/// The last finalized block this node has read.
	fn finalized_block(&self) -> BlockNumber;

	/// Resolves, once this node has read WebChain's finalized block `block` (asking again for
	/// as long as WebChain cannot be read), with whether WebChain had skipped the service's
	/// `epoch` by `block` (`NestAnchor.skip_epoch`): a skip and its block never change, so
	/// every node reads the same from any later finalized block.
	fn skipped(&self, epoch: Epoch, block: BlockNumber) -> impl Future<Output = bool> + Send;
}
