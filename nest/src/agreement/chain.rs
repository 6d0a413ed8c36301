//! What a proposal is and when it may extend its parent: the pure rules every node applies
//! the same way, so that honest nodes agree on a proposal's validity
//! (`Automaton::verify` must be deterministic).
//!
//! ```text
//!  State after the parent { height, block, ends: device → next sequence, open epoch }
//!    + Proposal { parent, height + 1, block ≥ parent's, ranges: device from = end … to,
//!                 close: Some(open epoch, root, leaves, arrivals ≥ the parent's) iff the
//!                 open epoch ended by `block` }
//!    = State after the proposal (the open epoch moves on when it closes)
//! ```
//!
//! A range names its records by the hash of their leaves, so a device that signed two
//! records with one sequence cannot make two nodes hold different logs under one proposal.

use crate::tree::{Discard, TreeBuilder};
use codec::{Decode, DecodeLimit, Encode};
use commonware_cryptography::sha256::Digest;
use polkadot_sdk::sp_crypto_hashing::{blake2_256, sha2_256};
use std::{collections::BTreeMap, future::Future, sync::Arc};
use thingschain_primitives::ids::{DeviceId, Epoch, Hash};

/// WebChain block numbers, as the service node reads them.
pub type BlockNumber = u64;

/// The most records one proposal orders: what a leader gathers in one view at 20,000
/// records/s, with room to catch up.
pub const MAX_RECORDS_PER_PROPOSAL: u64 = 16_384;

/// The most ranges (devices) one proposal holds: every device with a record waiting, for a
/// fleet of thousands that each wait for their last record's replication before sending
/// the next (a record waits for one view, not several).
pub const MAX_RANGES_PER_PROPOSAL: usize = 8_192;

/// The longest encoded proposal taken from a peer.
pub const MAX_PROPOSAL_BYTES: usize = 128 + MAX_RANGES_PER_PROPOSAL * 56;

/// How deep a decoded proposal may nest (it does not nest).
const DECODE_DEPTH: u32 = 4;

/// Device `device`'s records `from..to`, whose leaf hashes, in sequence order, hash to
/// `leaves` ([`leaves_hash`]).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub struct Range {
	/// The device.
	pub device: DeviceId,
	/// Its first record's sequence.
	pub from: u64,
	/// One past its last record's sequence.
	pub to: u64,
	/// The hash of the records' leaves.
	pub leaves: Hash,
}

impl Range {
	/// How many records it holds.
	pub fn len(&self) -> u64 {
		self.to.saturating_sub(self.from)
	}

	/// Whether it holds none (never, in a valid proposal).
	pub fn is_empty(&self) -> bool {
		self.len() == 0
	}
}

/// The hash a [`Range`] names its records' `leaves` by.
pub fn leaves_hash(leaves: &[Hash]) -> Hash {
	blake2_256(&leaves.encode()).into()
}

/// An epoch closed by a proposal, and the root of its tree ([`EpochTree`]): the root the
/// service's nodes attest on WebChain once the proposal is final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Close {
	/// The epoch.
	pub epoch: Epoch,
	/// The Merkle root of its tree.
	pub root: Hash,
	/// How many leaves its tree has: records and peg arrivals.
	pub leaves: u64,
	/// How many of the service's peg arrivals (WebChain's, numbered from 0) the epochs up to
	/// this one hold: this one holds those from the previous close's count on.
	pub arrivals: u64,
	/// WebChain skipped the epoch (`NestAnchor.skip_epoch`) by the proposal's block: it holds
	/// nothing, and its records go to the next epoch.
	pub skipped: bool,
}

impl Close {
	/// The close of `epoch`, which WebChain skipped, after epochs holding `arrivals`
	/// arrivals: empty.
	pub fn skipped(epoch: Epoch, arrivals: u64) -> Close {
		Close { epoch, root: Hash::zero(), leaves: 0, arrivals, skipped: true }
	}
}

/// The ranges of an epoch in its tree's order: each device's records of the epoch, devices
/// in increasing order and each device's in sequence order, then the peg arrivals it holds.
/// The order does not depend on how proposals split the epoch, so a node's ledger builds
/// the same tree from the epoch's cut alone (`Ledger::close_epoch`), and so does a super node.
#[derive(Default)]
pub struct EpochTree {
	devices: BTreeMap<DeviceId, Vec<Range>>,
}

impl EpochTree {
	/// Adds `range`, which follows the device's earlier ranges of the epoch.
	pub fn add(&mut self, range: &Range) {
		self.devices.entry(range.device).or_default().push(range.clone());
	}

	/// The root and size of the tree: each range's leaves as `leaves` reads them (its
	/// records', in sequence order), then the epoch's `arrivals`. It holds a range's leaves
	/// at a time and one node per level, not the epoch's leaves.
	pub async fn root<E, F, Fut>(self, mut leaves: F, arrivals: Vec<Hash>) -> Result<(Hash, u64), E>
	where
		F: FnMut(Range) -> Fut,
		Fut: Future<Output = Result<Vec<Hash>, E>>,
	{
		let mut tree = TreeBuilder::default();
		for range in self.devices.into_values().flatten() {
			for leaf in leaves(range).await? {
				tree.push(leaf, &mut Discard);
			}
		}
		for leaf in arrivals {
			tree.push(leaf, &mut Discard);
		}
		let count = tree.leaves();
		Ok((tree.finish(&mut Discard), count))
	}
}

/// The most proposals an [`EpochCertificate`] carries: a close is nearly always certified by
/// its own finalization, or a near descendant's.
pub const MAX_CERTIFIED_BODIES: usize = 8;

/// The quorum's proof that an epoch closed with a root: the proposal that closes it, its
/// descendants up to the one a finalization certificate names (a final proposal makes its
/// ancestors final), and that certificate (commonware's `Finalization`, encoded), which a
/// quorum of the service's nodes signed once each held every record under it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct EpochCertificate {
	/// The closing proposal first, each next one its child.
	pub bodies: Vec<Proposal>,
	/// The finalization of the last one.
	pub finalization: Vec<u8>,
}

impl EpochCertificate {
	/// The close it certifies, if its bodies are a chain from a close.
	pub fn close(&self) -> Option<Close> {
		let linked = self.bodies.windows(2).all(|pair| pair[1].parent == pair[0].digest().0);
		let within = self.bodies.len() <= MAX_CERTIFIED_BODIES;
		self.bodies.first().filter(|_| linked && within).and_then(|first| first.close)
	}

	/// The digest its finalization must name: the last body's.
	pub fn certified(&self) -> Option<Digest> {
		self.bodies.last().map(Proposal::digest)
	}
}

/// What a leader proposes: the records it orders after its parent's, checked against
/// WebChain's registry at `block`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Proposal {
	/// The proposal it extends (the genesis digest for the first).
	pub parent: [u8; 32],
	/// Its parent's height plus one.
	pub height: u64,
	/// The WebChain block (finalized) whose registry its records were checked against.
	pub block: BlockNumber,
	/// The records it orders, by device, devices in increasing order.
	pub ranges: Vec<Range>,
	/// The epoch it closes, if the open epoch ended by `block`.
	pub close: Option<Close>,
}

impl Proposal {
	/// Its digest: what consensus votes on.
	pub fn digest(&self) -> Digest {
		Digest(sha2_256(&self.encode()))
	}

	/// Decodes a proposal a peer sent, bounded in size and depth.
	pub fn decode_bounded(bytes: &[u8]) -> Option<Proposal> {
		if bytes.len() > MAX_PROPOSAL_BYTES {
			return None;
		}
		Proposal::decode_all_with_depth_limit(DECODE_DEPTH, &mut &bytes[..]).ok()
	}

	/// How many records it orders.
	pub fn records(&self) -> u64 {
		self.ranges.iter().map(Range::len).sum()
	}
}

/// The service's log after a proposal.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct State {
	/// Proposals from genesis.
	pub height: u64,
	/// The WebChain block of the last proposal.
	pub block: BlockNumber,
	/// Each device's next sequence to order (0 for a device not seen).
	pub ends: Arc<BTreeMap<DeviceId, u64>>,
	/// The epoch the next records go to.
	pub open_epoch: Epoch,
	/// The height of the open epoch's first proposal.
	pub epoch_start: u64,
	/// How many peg arrivals the closed epochs hold.
	pub arrivals: u64,
}

/// The empty log consensus starts from: epoch 0 opens with the first proposal.
impl Default for State {
	fn default() -> Self {
		State {
			height: 0,
			block: 0,
			ends: Default::default(),
			open_epoch: 0,
			epoch_start: 1,
			arrivals: 0,
		}
	}
}

impl State {
	/// Device `device`'s next sequence to order.
	pub fn end(&self, device: DeviceId) -> u64 {
		self.ends.get(&device).copied().unwrap_or(0)
	}
}

/// When each epoch ends, from WebChain's service terms.
pub trait Schedule {
	/// The first block after `epoch`: a proposal whose block is this or later closes it.
	fn epoch_end(&self, epoch: Epoch) -> BlockNumber;
}

/// Why a proposal may not extend its parent: every honest node finds the same.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
	/// It names another parent than the one consensus builds on.
	#[error("it names another parent")]
	Parent,
	/// It does not extend the log this node has finalized.
	#[error("it does not extend the finalized log")]
	Finalized,
	/// Its height is not its parent's plus one.
	#[error("height {height} does not follow {parent}")]
	Height {
		/// The proposal's.
		height: u64,
		/// Its parent's.
		parent: u64,
	},
	/// Its WebChain block is older than its parent's.
	#[error("block {block} is older than its parent's {parent}")]
	BlockBackwards {
		/// The proposal's.
		block: BlockNumber,
		/// Its parent's.
		parent: BlockNumber,
	},
	/// Its ranges are not in increasing device order, or one is empty.
	#[error("ranges out of order or empty at device {device}")]
	Ranges {
		/// The first device out of place.
		device: DeviceId,
	},
	/// A range does not start where its device's records end.
	#[error("device {device}'s range starts at {from}, its records end at {end}")]
	Gap {
		/// The device.
		device: DeviceId,
		/// Where the range starts.
		from: u64,
		/// Where the device's ordered records end.
		end: u64,
	},
	/// It orders more than a proposal may.
	#[error("it orders {records} records in {ranges} ranges")]
	TooLarge {
		/// Its records.
		records: u64,
		/// Its ranges.
		ranges: usize,
	},
	/// The open epoch ended by its block, and it does not close it.
	#[error("epoch {epoch} ended by its block and it does not close it")]
	MissingClose {
		/// The epoch that ended.
		epoch: Epoch,
	},
	/// It closes an epoch that is not the open one, or that has not ended by its block.
	#[error("it closes epoch {epoch}, which is not open and ended")]
	WrongClose {
		/// The epoch it closes.
		epoch: Epoch,
	},
	/// Its close says the epoch was skipped on WebChain by the proposal's block, or that it
	/// was not, wrongly; or closes a skipped epoch with something in it.
	#[error("epoch {epoch} skipped on WebChain by the proposal's block: {skipped}; its close says otherwise, or is not empty")]
	Skip {
		/// The epoch.
		epoch: Epoch,
		/// Whether WebChain skipped it by the proposal's block.
		skipped: bool,
	},
	/// Its close holds fewer peg arrivals than the epochs before it.
	#[error("its close holds {close} peg arrivals, the closed epochs {parent}")]
	ArrivalsBackwards {
		/// The close's count.
		close: u64,
		/// The closed epochs'.
		parent: u64,
	},
}

/// The state after `proposal`, if it may extend `parent` (whose digest is `parent_digest`)
/// under `schedule`, where `skipped` says whether WebChain had skipped the parent's open epoch
/// by the proposal's block (it matters only to a proposal that closes that epoch). The root
/// of a close is checked once the records are held, not here.
pub fn extend(
	parent_digest: &Digest,
	parent: &State,
	proposal: &Proposal,
	schedule: &impl Schedule,
	skipped: bool,
) -> Result<State, Invalid> {
	if proposal.parent != parent_digest.0 {
		return Err(Invalid::Parent);
	}
	if proposal.height != parent.height + 1 {
		return Err(Invalid::Height { height: proposal.height, parent: parent.height });
	}
	if proposal.block < parent.block {
		return Err(Invalid::BlockBackwards { block: proposal.block, parent: parent.block });
	}
	let records = proposal.records();
	if records > MAX_RECORDS_PER_PROPOSAL || proposal.ranges.len() > MAX_RANGES_PER_PROPOSAL {
		return Err(Invalid::TooLarge { records, ranges: proposal.ranges.len() });
	}
	let mut ends = (*parent.ends).clone();
	let mut previous = None;
	for range in &proposal.ranges {
		if range.is_empty() || previous.is_some_and(|previous| previous >= range.device) {
			return Err(Invalid::Ranges { device: range.device });
		}
		previous = Some(range.device);
		let end = parent.end(range.device);
		if range.from != end {
			return Err(Invalid::Gap { device: range.device, from: range.from, end });
		}
		ends.insert(range.device, range.to);
	}
	let ended = schedule.epoch_end(parent.open_epoch) <= proposal.block;
	let (open_epoch, epoch_start, arrivals) = match (proposal.close, ended) {
		(None, false) => (parent.open_epoch, parent.epoch_start, parent.arrivals),
		(None, true) => return Err(Invalid::MissingClose { epoch: parent.open_epoch }),
		(Some(close), true) if close.epoch == parent.open_epoch && skipped => {
			// Its records, and those before it in the epoch, go to the next epoch.
			if close != Close::skipped(close.epoch, parent.arrivals) {
				return Err(Invalid::Skip { epoch: close.epoch, skipped });
			}
			(parent.open_epoch + 1, parent.epoch_start, parent.arrivals)
		}
		(Some(close), true) if close.epoch == parent.open_epoch => {
			if close.skipped {
				return Err(Invalid::Skip { epoch: close.epoch, skipped });
			}
			if close.arrivals < parent.arrivals {
				let (close, parent) = (close.arrivals, parent.arrivals);
				return Err(Invalid::ArrivalsBackwards { close, parent });
			}
			(parent.open_epoch + 1, proposal.height + 1, close.arrivals)
		}
		(Some(close), _) => return Err(Invalid::WrongClose { epoch: close.epoch }),
	};
	Ok(State {
		height: proposal.height,
		block: proposal.block,
		ends: Arc::new(ends),
		open_epoch,
		epoch_start,
		arrivals,
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use futures::FutureExt;
	use proptest::prelude::*;
	use thingschain_primitives::merkle;

	/// Epochs of ten blocks from block 0.
	struct Tens;
	impl Schedule for Tens {
		fn epoch_end(&self, epoch: Epoch) -> BlockNumber {
			10 * (u64::from(epoch) + 1)
		}
	}

	fn range(device: DeviceId, from: u64, to: u64) -> Range {
		Range { device, from, to, leaves: Hash::repeat_byte(device as u8) }
	}

	fn child(parent: &Digest, height: u64, block: BlockNumber, ranges: Vec<Range>) -> Proposal {
		Proposal { parent: parent.0, height, block, ranges, close: None }
	}

	#[test]
	fn a_proposal_extends_its_parent_only_where_each_device_s_records_end() {
		let genesis = Digest([0; 32]);
		let first = child(&genesis, 1, 3, vec![range(1, 0, 5), range(4, 0, 2)]);
		let state = extend(&genesis, &State::default(), &first, &Tens, false).unwrap();
		assert_eq!((state.end(1), state.end(4), state.end(9)), (5, 2, 0));

		let digest = first.digest();
		let next = |ranges| child(&digest, 2, 4, ranges);
		assert_eq!(
			extend(&digest, &state, &next(vec![range(1, 5, 6)]), &Tens, false).unwrap().end(1),
			6
		);
		// A range that skips or repeats records, a repeated or unordered device, an empty range.
		assert_eq!(
			extend(&digest, &state, &next(vec![range(1, 6, 7)]), &Tens, false),
			Err(Invalid::Gap { device: 1, from: 6, end: 5 })
		);
		assert_eq!(
			extend(&digest, &state, &next(vec![range(1, 4, 7)]), &Tens, false),
			Err(Invalid::Gap { device: 1, from: 4, end: 5 })
		);
		assert_eq!(
			extend(&digest, &state, &next(vec![range(4, 2, 3), range(1, 5, 6)]), &Tens, false),
			Err(Invalid::Ranges { device: 1 })
		);
		assert_eq!(
			extend(&digest, &state, &next(vec![range(1, 5, 5)]), &Tens, false),
			Err(Invalid::Ranges { device: 1 })
		);
		// Another parent, a wrong height, an older block.
		assert_eq!(extend(&genesis, &state, &next(vec![]), &Tens, false), Err(Invalid::Parent));
		let mut high = next(vec![]);
		high.height = 3;
		assert_eq!(
			extend(&digest, &state, &high, &Tens, false),
			Err(Invalid::Height { height: 3, parent: 1 })
		);
		let mut old = next(vec![]);
		old.block = 2;
		assert_eq!(
			extend(&digest, &state, &old, &Tens, false),
			Err(Invalid::BlockBackwards { block: 2, parent: 3 })
		);
	}

	#[test]
	fn the_first_proposal_at_or_after_an_epoch_s_end_closes_it_and_only_it() {
		let genesis = Digest([0; 32]);
		let close = |epoch| {
			Some(Close { epoch, root: Hash::zero(), leaves: 0, arrivals: 2, skipped: false })
		};
		let mut ended = child(&genesis, 1, 10, vec![]);
		assert_eq!(
			extend(&genesis, &State::default(), &ended, &Tens, false),
			Err(Invalid::MissingClose { epoch: 0 })
		);
		ended.close = close(1);
		assert_eq!(
			extend(&genesis, &State::default(), &ended, &Tens, false),
			Err(Invalid::WrongClose { epoch: 1 })
		);
		ended.close = close(0);
		let state = extend(&genesis, &State::default(), &ended, &Tens, false).unwrap();
		assert_eq!((state.open_epoch, state.epoch_start, state.arrivals), (1, 2, 2));

		let mut early = child(&ended.digest(), 2, 15, vec![]);
		early.close = close(1);
		assert_eq!(
			extend(&ended.digest(), &state, &early, &Tens, false),
			Err(Invalid::WrongClose { epoch: 1 })
		);
		// The next close may not hold fewer arrivals than the closed epochs.
		let mut next = child(&ended.digest(), 2, 20, vec![]);
		next.close =
			Some(Close { epoch: 1, root: Hash::zero(), leaves: 0, arrivals: 1, skipped: false });
		assert_eq!(
			extend(&ended.digest(), &state, &next, &Tens, false),
			Err(Invalid::ArrivalsBackwards { close: 1, parent: 2 })
		);
		next.close = close(1);
		assert_eq!(extend(&ended.digest(), &state, &next, &Tens, false).map(|s| s.arrivals), Ok(2));
	}

	#[test]
	fn an_epoch_webchain_skipped_closes_empty_and_its_records_go_to_the_next() {
		let genesis = Digest([0; 32]);
		let first = child(&genesis, 1, 3, vec![range(1, 0, 5)]);
		let state = extend(&genesis, &State::default(), &first, &Tens, false).unwrap();
		let digest = first.digest();
		let mut closing = child(&digest, 2, 10, vec![range(1, 5, 6)]);
		// WebChain skipped epoch 0 by block 10: a close with a root, or one that does not
		// say so, is refused; so is a skip WebChain did not make.
		let root =
			Close { epoch: 0, root: Hash::repeat_byte(1), leaves: 6, arrivals: 0, skipped: false };
		for close in [root, Close { skipped: true, ..root }] {
			closing.close = Some(close);
			assert_eq!(
				extend(&digest, &state, &closing, &Tens, true),
				Err(Invalid::Skip { epoch: 0, skipped: true })
			);
		}
		closing.close = Some(Close::skipped(0, 0));
		assert_eq!(
			extend(&digest, &state, &closing, &Tens, false),
			Err(Invalid::Skip { epoch: 0, skipped: false })
		);
		let skipped = extend(&digest, &state, &closing, &Tens, true).unwrap();
		// Epoch 1 opens with epoch 0's records still in it: its tree starts at proposal 1.
		assert_eq!((skipped.open_epoch, skipped.epoch_start, skipped.end(1)), (1, 1, 6));
	}

	#[test]
	fn an_epoch_s_tree_is_by_device_then_arrivals_however_proposals_split_it() {
		let leaf = |n: u8| Hash::repeat_byte(n);
		// A range's leaves: the device's number and its sequences.
		let leaves = |range: Range| {
			let leaves = (range.from..range.to).map(|s| leaf(range.device as u8 * 10 + s as u8));
			std::future::ready(Ok::<_, ()>(leaves.collect()))
		};
		let root = |tree: EpochTree| tree.root(leaves, vec![leaf(99)]).now_or_never().unwrap();
		// Device 4 ordered in two proposals, device 1 between them.
		let mut split = EpochTree::default();
		for added in [range(4, 0, 1), range(1, 3, 4), range(4, 1, 2)] {
			split.add(&added);
		}
		let mut whole = EpochTree::default();
		whole.add(&range(1, 3, 4));
		whole.add(&range(4, 0, 2));
		let expected = merkle::root_of_leaves([leaf(13), leaf(40), leaf(41), leaf(99)]);
		assert_eq!(root(split), Ok((expected, 4)));
		assert_eq!(root(whole), Ok((expected, 4)));
	}

	#[test]
	fn a_peer_s_bytes_decode_only_within_bounds() {
		let proposal = child(&Digest([7; 32]), 1, 3, vec![range(1, 0, 5)]);
		let bytes = proposal.encode();
		assert_eq!(Proposal::decode_bounded(&bytes), Some(proposal));
		assert_eq!(Proposal::decode_bounded(&bytes[..bytes.len() - 1]), None);
		let mut trailing = bytes.clone();
		trailing.push(0);
		assert_eq!(Proposal::decode_bounded(&trailing), None);
		assert_eq!(Proposal::decode_bounded(&vec![0; MAX_PROPOSAL_BYTES + 1]), None);
	}

	proptest! {
		/// Whatever valid proposals extend a log, every device's ordered records only grow,
		/// one epoch closes at a time, and each record is ordered once.
		#[test]
		fn ends_only_grow_and_epochs_close_in_order(
			steps in proptest::collection::vec(
				(0u64..6, proptest::collection::btree_map(0u64..8, 1u64..4, 0..4)), 1..40)
		) {
			let mut digest = Digest([0; 32]);
			let mut state = State::default();
			let mut ordered = 0u64;
			for (advance, grow) in steps {
				let block = state.block + advance;
				let ranges: Vec<Range> = grow.iter()
					.map(|(&device, &count)| {
						let from = state.end(device);
						range(device, from, from + count)
					})
					.collect();
				let ended = Tens.epoch_end(state.open_epoch) <= block;
				let mut proposal = child(&digest, state.height + 1, block, ranges);
				proposal.close = ended.then_some(Close {
					epoch: state.open_epoch, root: Hash::zero(), leaves: 0, arrivals: 0, skipped: false,
				});
				let next = extend(&digest, &state, &proposal, &Tens, false).unwrap();
				for (device, end) in state.ends.iter() {
					prop_assert!(next.end(*device) >= *end);
				}
				prop_assert_eq!(next.open_epoch, state.open_epoch + u32::from(ended));
				ordered += proposal.records();
				prop_assert_eq!(next.ends.values().sum::<u64>(), ordered);
				digest = proposal.digest();
				state = next;
			}
		}
	}
}
