//! The pallet's invariants, checked by the `try_state` hook (try-runtime) and after every
//! unit test: each service's anchors form an unbroken hash chain from epoch 0 to its latest,
//! the latest records the block its anchor was made at, and what is pending is for the next
//! epoch, builds on the latest anchor and lists each node once.

use crate::*;
use alloc::vec::Vec;
use polkadot_sdk::sp_runtime::TryRuntimeError;

/// Whether `accounts` names no account twice.
fn distinct<A: PartialEq>(accounts: &[A]) -> bool {
	accounts.iter().enumerate().all(|(i, a)| !accounts[..i].contains(a))
}

impl<T: Config> Pallet<T> {
	/// Checks every invariant; the error names the first one broken.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		for (service, latest) in Latest::<T>::iter() {
			let mut prev = Hash::default();
			for epoch in 0..=latest.epoch {
				let anchor = Anchors::<T>::get(service, epoch)
					.ok_or("an anchored service's chain has a gap")?;
				ensure!(anchor.prev == prev, "an anchor does not name the previous one");
				ensure!(
					anchor.hash == anchor_hash(service, epoch, &anchor.root, &anchor.prev),
					"an anchor's hash is not its own"
				);
				ensure!(
					!anchor.skipped
						|| (anchor.root == Hash::default() && anchor.approvers.is_empty()),
					"a skipped epoch carries a root or approvers"
				);
				ensure!(distinct(&anchor.approvers), "an anchor lists an approver twice");
				prev = anchor.hash;
			}
			ensure!(prev == latest.hash, "the latest hash is not the latest anchor's");
			ensure!(
				Anchors::<T>::get(service, latest.epoch)
					.is_some_and(|anchor| anchor.anchored_at == latest.anchored_at),
				"the latest anchor's block is not its anchor's"
			);
		}
		for (service, epoch) in Anchors::<T>::iter_keys() {
			ensure!(
				Latest::<T>::get(service).is_some_and(|latest| epoch <= latest.epoch),
				"an anchor lies beyond its service's latest"
			);
		}
		for (service, (epoch, candidates)) in Pending::<T>::iter() {
			let latest = Latest::<T>::get(service);
			let next = latest.as_ref().map_or(0, |l| l.epoch.saturating_add(1));
			let latest_hash = latest.map(|l| l.hash).unwrap_or_default();
			ensure!(epoch == next, "a pending epoch is not the next to anchor");
			ensure!(!candidates.is_empty(), "an empty pending epoch is kept");
			let attesters: Vec<_> = candidates.iter().flat_map(|c| c.attesters.iter()).collect();
			ensure!(distinct(&attesters), "a node attests two roots of one epoch");
			for (i, candidate) in candidates.iter().enumerate() {
				ensure!(
					candidate.prev == latest_hash,
					"a candidate does not build on the latest anchor"
				);
				ensure!(
					!candidates[..i].iter().any(|c| c.root == candidate.root),
					"a root is proposed twice"
				);
				ensure!(distinct(&candidate.approvers), "a candidate lists an approver twice");
				ensure!(
					!candidate.attesters.is_empty() || !candidate.approvers.is_empty(),
					"a candidate nobody backs is kept"
				);
			}
		}
		Ok(())
	}
}
