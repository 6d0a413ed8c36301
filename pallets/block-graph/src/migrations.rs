//! Storage migrations for the runtime's `Migrations`, each checking its work under
//! try-runtime (`post_upgrade`).

use crate::*;
use polkadot_sdk::frame_support::traits::OnRuntimeUpgrade;
#[cfg(feature = "try-runtime")]
use {alloc::vec::Vec, polkadot_sdk::sp_runtime::TryRuntimeError};

/// A chain that gains the pallet by a runtime upgrade starts with a reference share, as one
/// started with the pallet has from its genesis: sets [`ReferenceShare`] to `Share` where it
/// was never set.
///
/// Not a `VersionedMigration`: FRAME marks a pallet that an upgrade adds (one without storage)
/// with its current storage version before any migration runs, so a version guard would
/// skip it. Where the share exists (from genesis or set by governance), this leaves it.
pub struct InitializeShare<T, Share>(PhantomData<(T, Share)>);

impl<T: Config, Share: Get<Perbill>> OnRuntimeUpgrade for InitializeShare<T, Share> {
	fn on_runtime_upgrade() -> Weight {
		if ReferenceShare::<T>::exists() {
			return T::DbWeight::get().reads(1);
		}
		ReferenceShare::<T>::put(Share::get());
		T::DbWeight::get().reads_writes(1, 1)
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(_: Vec<u8>) -> Result<(), TryRuntimeError> {
		ensure!(ReferenceShare::<T>::exists(), "the reference share is not set");
		Ok(())
	}
}
