//! The ranges of records a certified epoch holds, as a super node learns them: the proposals
//! from the one that closed the previous epoch to the certified close, fetched from the
//! service's nodes and each checked by the digest its child names, so that every range, and
//! through its leaves every record, is the one the quorum certified. The super node then
//! takes exactly those records: a device that signed two records for one sequence, or that
//! was removed or re-keyed since, changes nothing.
//!
//! ```text
//!  certified close C (its certificate checked) ─► C.parent ─► … ─► the last proposal that
//!  closed an epoch (not a skip), or the first proposal: the ranges of C and of every
//!  proposal after that one, by device
//! ```

use crate::agreement::chain::{Proposal, Range};
use std::{collections::BTreeMap, future::Future};
use thingschain_primitives::ids::DeviceId;

/// The ranges of one certified epoch, by device, each device's in sequence order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct EpochRanges {
	devices: BTreeMap<DeviceId, Vec<Range>>,
}

/// The proposals before a certified close could not all be fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no peer serves proposal {digest:?}, an ancestor of the certified close")]
pub struct MissingProposal {
	/// The digest of the proposal that could not be fetched.
	pub digest: [u8; 32],
}

impl EpochRanges {
	/// The ranges of the epoch `close` closes, its ancestors fetched with `ancestors` (the
	/// proposal a digest names and some of its ancestors, newest first, each the one its
	/// child names: [`crate::peers::RpcPeers::proposals`]).
	pub async fn of<F, Fut>(close: &Proposal, ancestors: F) -> Result<EpochRanges, MissingProposal>
	where
		F: Fn([u8; 32]) -> Fut,
		Fut: Future<Output = Vec<Proposal>>,
	{
		let mut ranges = EpochRanges::default();
		ranges.add(close);
		let mut next = (close.height > 1).then_some(close.parent);
		while let Some(digest) = next {
			let chain = ancestors(digest).await;
			if chain.is_empty() {
				return Err(MissingProposal { digest });
			}
			next = None;
			for proposal in chain {
				if proposal.close.is_some_and(|close| !close.skipped) {
					return Ok(ranges);
				}
				ranges.add(&proposal);
				next = (proposal.height > 1).then_some(proposal.parent);
				if next.is_none() {
					break;
				}
			}
		}
		Ok(ranges)
	}

	fn add(&mut self, proposal: &Proposal) {
		for range in &proposal.ranges {
			let device = self.devices.entry(range.device).or_default();
			// Walked newest first: each range goes before the device's later ones.
			device.insert(0, range.clone());
		}
	}

	/// The range of `device` that holds its record `sequence`, if the epoch holds it.
	pub fn covering(&self, device: DeviceId, sequence: u64) -> Option<&Range> {
		let ranges = self.devices.get(&device)?;
		ranges.iter().find(|range| range.from <= sequence && sequence < range.to)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::agreement::chain::{leaves_hash, Close};
	use thingschain_primitives::ids::Hash;

	/// Proposals 1..=n, each the parent of the next, with `ranges(height)` and `close(height)`.
	fn chain(
		n: u64,
		ranges: impl Fn(u64) -> Vec<(DeviceId, u64, u64)>,
		close: impl Fn(u64) -> Option<Close>,
	) -> Vec<Proposal> {
		let mut proposals: Vec<Proposal> = Vec::new();
		for height in 1..=n {
			let parent = proposals.last().map_or([0; 32], |parent| parent.digest().0);
			let ranges = ranges(height)
				.into_iter()
				.map(|(device, from, to)| Range { device, from, to, leaves: leaves_hash(&[]) })
				.collect();
			proposals.push(Proposal {
				parent,
				height,
				block: height,
				ranges,
				close: close(height),
			});
		}
		proposals
	}

	/// Serves `proposals` as a node would, `per_call` at a time.
	fn served(
		proposals: &[Proposal],
		per_call: usize,
	) -> impl Fn([u8; 32]) -> std::future::Ready<Vec<Proposal>> + '_ {
		move |digest| {
			let at = proposals.iter().position(|p| p.digest().0 == digest);
			let chain = at.map_or(Vec::new(), |at| {
				proposals[..=at].iter().rev().take(per_call).cloned().collect()
			});
			std::future::ready(chain)
		}
	}

	fn closed(epoch: u32) -> Close {
		Close { epoch, root: Hash::repeat_byte(1), leaves: 1, arrivals: 0, skipped: false }
	}

	#[tokio::test]
	async fn an_epoch_holds_the_ranges_since_the_last_close_that_was_not_a_skip() {
		// Device 1 writes in every proposal; epoch 0 closes at 3, epoch 1 is skipped at 6,
		// epoch 2 closes at 9.
		let proposals = chain(
			9,
			|height| vec![(1, height * 10, height * 10 + 10)],
			|height| match height {
				3 => Some(closed(0)),
				6 => Some(Close::skipped(1, 0)),
				9 => Some(closed(2)),
				_ => None,
			},
		);
		for per_call in [1, 2, 64] {
			let ranges = EpochRanges::of(&proposals[8], served(&proposals, per_call)).await;
			let ranges = ranges.unwrap();
			assert_eq!(ranges.covering(1, 39), None, "epoch 0's");
			assert_eq!(ranges.covering(1, 40).map(|r| r.from), Some(40));
			assert_eq!(ranges.covering(1, 99).map(|r| r.to), Some(100));
			assert_eq!(ranges.covering(1, 100), None);
			assert_eq!(ranges.devices[&1].len(), 6);
		}
		// The first epoch goes back to the first proposal.
		let first = EpochRanges::of(&proposals[2], served(&proposals, 2)).await.unwrap();
		assert_eq!(first.devices[&1].iter().map(|r| r.from).collect::<Vec<_>>(), [10, 20, 30]);
	}

	#[tokio::test]
	async fn a_missing_ancestor_is_named() {
		let proposals = chain(4, |_| vec![], |height| (height == 4).then(|| closed(0)));
		let missing = EpochRanges::of(&proposals[3], served(&proposals[2..], 64)).await;
		assert_eq!(missing, Err(MissingProposal { digest: proposals[1].digest().0 }));
	}
}
