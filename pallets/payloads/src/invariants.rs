//! The pallet's invariants, checked by the `try_state` hook (try-runtime) and after every
//! unit test: each device's ledger counts its records and their deposits, the deposits held
//! from each depositor are its records', every record is reachable by the reaper, and
//! nothing is kept for a device that is gone.

use crate::*;
use alloc::collections::BTreeMap;
use polkadot_sdk::{
	frame_support::traits::fungible::InspectHold as _, sp_runtime::TryRuntimeError,
};

impl<T: Config> Pallet<T> {
	/// Checks every invariant; the error names the first one broken.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let cursor = ReapCursor::<T>::get();
		let mut deposits = BTreeMap::<T::AccountId, BalanceOf<T>>::new();
		for (device, ledger) in Ledgers::<T>::iter() {
			let (mut live, mut held) = (0u64, BalanceOf::<T>::zero());
			for (id, record) in Records::<T>::iter_prefix(device) {
				ensure!(id < ledger.next_record, "a record id is not below its ledger's next id");
				ensure!(
					Expiries::<T>::get(record.expires_at, device)
						.is_some_and(|range| (range.first..range.end).contains(&id)),
					"a record is not in the range of its expiry block"
				);
				live.saturating_inc();
				held = held.saturating_add(record.deposit);
				let by_depositor = deposits.entry(record.depositor).or_default();
				*by_depositor = by_depositor.saturating_add(record.deposit);
			}
			ensure!(ledger.live == live, "a ledger's live count is not its records");
			ensure!(ledger.held == held, "a ledger's held deposits are not its records'");
			ensure!(
				live > 0 || T::Devices::owner(device).is_some(),
				"a removed device's empty ledger is kept"
			);
		}
		ensure!(
			Records::<T>::iter_keys().all(|(device, _)| Ledgers::<T>::contains_key(device)),
			"a record has no ledger"
		);
		for (owner, deposit) in deposits {
			let on_hold = T::Currency::balance_on_hold(&HoldReason::RecordDeposit.into(), &owner);
			ensure!(on_hold == deposit, "a depositor's held record deposits are not its records'");
		}
		for (block, _, range) in Expiries::<T>::iter() {
			ensure!(block >= cursor, "an expiry range is kept behind the reap cursor");
			ensure!(range.first < range.end, "an empty expiry range is kept");
		}
		for device in Readers::<T>::iter_keys() {
			ensure!(T::Devices::owner(device).is_some(), "a removed device's readers are kept");
		}
		Ok(())
	}
}
