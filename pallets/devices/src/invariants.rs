//! The pallet's invariants, checked by the `try_state` hook (try-runtime) and after every
//! unit test: keys and devices map one to one, deposits held equal the devices' deposits,
//! every device's service exists, and nothing is kept for a device that is gone.

use crate::*;
use alloc::collections::BTreeMap;
use polkadot_sdk::{
	frame_support::traits::fungible::InspectHold as _, sp_runtime::TryRuntimeError,
};

impl<T: Config> Pallet<T> {
	/// Checks every invariant; the error names the first one broken.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let mut deposits = BTreeMap::<T::AccountId, BalanceOf<T>>::new();
		for (id, device) in Devices::<T>::iter() {
			ensure!(id < NextDeviceId::<T>::get(), "a device id is not below NextDeviceId");
			ensure!(
				DeviceOfKey::<T>::get(&device.key) == Some(id),
				"a device's key is not bound to it"
			);
			ensure!(!RetiredKeys::<T>::contains_key(&device.key), "a bound key is retired");
			ensure!(
				Self::ensure_valid_retention(device.retention).is_ok(),
				"a retention is out of bounds"
			);
			if let Some(membership) = device.service {
				ensure!(
					T::Services::admission(membership.service).is_some(),
					"a device belongs to a service that does not exist"
				);
			}
			let held = deposits.entry(device.owner).or_default();
			*held = held.saturating_add(device.deposit);
		}
		for (key, id) in DeviceOfKey::<T>::iter() {
			ensure!(
				Devices::<T>::get(id).is_some_and(|device| device.key == key),
				"a bound key signs for a device that does not sign with it"
			);
		}
		for (owner, deposit) in deposits {
			let held = T::Currency::balance_on_hold(&HoldReason::DeviceDeposit.into(), &owner);
			ensure!(held == deposit, "an owner's held device deposits are not its devices'");
		}
		for (id, _) in Spending::<T>::iter() {
			ensure!(Devices::<T>::contains_key(id), "spending is kept for a removed device");
		}
		Ok(())
	}
}
