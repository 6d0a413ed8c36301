//! The pallet's invariants, checked by the `try_state` hook (try-runtime) and after every
//! unit test: the current session is recorded, only sessions a report may still name are
//! kept, and each began after the one before it, with authorities to take the turns.

use crate::*;
use polkadot_sdk::sp_runtime::TryRuntimeError;

impl<T: Config> Pallet<T> {
	/// Checks every invariant; the error names the first one broken.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let current = T::Schedule::session();
		ensure!(SessionSlots::<T>::contains_key(current), "the current session is not recorded");
		for (session, record) in SessionSlots::<T>::iter() {
			ensure!(
				session <= current && current - session < T::ReportWindow::get(),
				"a session outside the report window is kept"
			);
			ensure!(!record.authorities.is_empty(), "a session without authorities is recorded");
			if let Some(next) = SessionSlots::<T>::get(session.saturating_add(1)) {
				ensure!(
					record.first_slot < next.first_slot,
					"a session begins before the one before it"
				);
			}
		}
		Ok(())
	}
}
