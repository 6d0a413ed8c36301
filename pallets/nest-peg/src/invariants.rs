//! The pallet's invariants, checked by the `try_state` hook (try-runtime) and after every
//! unit test: each claim is stored under its own source and lock id, crosses between two
//! chains, rests on an anchored epoch and waits for at least one later epoch; each settled
//! claim is its destination's arrival, numbered without gaps.

use crate::*;
use polkadot_sdk::sp_runtime::TryRuntimeError;

impl<T: Config> Pallet<T> {
	/// Checks every invariant; the error names the first one broken.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		for (source, lock_id, claim) in Claims::<T>::iter() {
			ensure!(
				(claim.status == ClaimStatus::Settled)
					== Settled::<T>::contains_key(source, lock_id),
				"a claim is marked settled without an arrival, or the other way round"
			);
			ensure!(
				claim.lock.source == source && claim.lock.lock_id == lock_id,
				"a claim is stored under another lock's key"
			);
			ensure!(claim.lock.source != claim.lock.destination, "a claim stays on its own chain");
			ensure!(claim.final_epoch > claim.epoch, "a claim is final without a later epoch");
			ensure!(
				T::Anchors::anchor(source, claim.epoch).is_some(),
				"a claim rests on an epoch that is not anchored"
			);
		}
		for (source, lock_id, index) in Settled::<T>::iter() {
			let claim = Claims::<T>::get(source, lock_id).ok_or("a settled lock has no claim")?;
			ensure!(claim.status == ClaimStatus::Settled, "a settled claim is not marked so");
			let arrival = Arrivals::<T>::get(claim.lock.destination, index)
				.ok_or("a settled claim is not among its destination's arrivals")?;
			ensure!(
				arrival.lock == claim.lock && arrival.holder == claim.holder,
				"an arrival is not its settled claim"
			);
		}
		for (destination, index, arrival) in Arrivals::<T>::iter() {
			ensure!(index < ArrivalCount::<T>::get(destination), "an arrival is past its count");
			ensure!(
				Settled::<T>::get(arrival.lock.source, arrival.lock.lock_id) == Some(index),
				"an arrival is no settled claim's"
			);
		}
		for (destination, count) in ArrivalCount::<T>::iter() {
			ensure!(
				(0..count).all(|index| Arrivals::<T>::get(destination, index)
					.is_some_and(|arrival| arrival.index == index)),
				"a destination's arrivals are not numbered 0 to its count"
			);
		}
		for (_, epochs) in FinalityEpochs::<T>::iter() {
			ensure!(epochs >= 1, "a service's finality epochs are zero");
		}
		Ok(())
	}
}
