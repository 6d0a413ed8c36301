//! Storage migrations, each a `VersionedMigration` for the runtime's `Migrations`: it runs
//! once, on a chain whose stored version of this pallet is the one it starts from, and
//! checks its work under try-runtime (`pre_upgrade` / `post_upgrade`).

use crate::*;

/// v0 -> v1: each service's [`Latest`] anchor names its fields and keeps the block it was
/// made at, so a client sees how old a service's state on WebChain is with one read.
pub mod v1 {
	use super::*;
	use polkadot_sdk::frame_support::{
		migrations::VersionedMigration, storage_alias, traits::UncheckedOnRuntimeUpgrade,
	};
	#[cfg(feature = "try-runtime")]
	use {alloc::vec::Vec, polkadot_sdk::sp_runtime::TryRuntimeError};

	/// The v0 layout.
	pub(crate) mod v0 {
		use super::*;

		/// The latest anchored epoch of each service and the hash of its anchor.
		#[storage_alias]
		pub type Latest<T: Config> = StorageMap<Pallet<T>, Twox64Concat, ServiceId, (Epoch, Hash)>;
	}

	/// The migration without its version guard: the runtime takes it only through
	/// [`MigrateV0ToV1`], which FRAME runs on a v0 chain alone (the pallet's tests call it
	/// directly).
	pub(crate) mod unversioned {
		use super::*;

		/// Rewrites every [`Latest`] entry, taking the block from the anchor it names.
		pub struct InnerMigrateV0ToV1<T>(PhantomData<T>);

		impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
			fn on_runtime_upgrade() -> Weight {
				// One entry per anchored service; services are created by governance, so there
				// are few enough to rewrite in one block.
				let mut entries = 0u64;
				Latest::<T>::translate::<(Epoch, Hash), _>(|service, (epoch, hash)| {
					entries += 1;
					// `try_state` guarantees the anchor exists; were it missing, the entry keeps
					// its epoch and hash with block zero rather than being lost.
					let anchored_at = Anchors::<T>::get(service, epoch)
						.map(|a| a.anchored_at)
						.unwrap_or_default();
					Some(LatestAnchor { epoch, hash, anchored_at })
				});
				T::DbWeight::get().reads_writes(2 * entries, entries)
			}

			#[cfg(feature = "try-runtime")]
			fn pre_upgrade() -> Result<Vec<u8>, TryRuntimeError> {
				Ok(v0::Latest::<T>::iter().collect::<Vec<_>>().encode())
			}

			#[cfg(feature = "try-runtime")]
			fn post_upgrade(before: Vec<u8>) -> Result<(), TryRuntimeError> {
				let before = Vec::<(ServiceId, (Epoch, Hash))>::decode(&mut &before[..])
					.map_err(|_| "the pre-upgrade entries do not decode")?;
				ensure!(
					Latest::<T>::iter_keys().count() == before.len(),
					"the number of anchored services changed"
				);
				for (service, (epoch, hash)) in before {
					let latest =
						Latest::<T>::get(service).ok_or("a service lost its latest anchor")?;
					ensure!(
						latest.epoch == epoch && latest.hash == hash,
						"a latest anchor changed its epoch or hash"
					);
					let anchor =
						Anchors::<T>::get(service, epoch).ok_or("a latest anchor is gone")?;
					ensure!(
						latest.anchored_at == anchor.anchored_at,
						"a latest anchor's block is not its anchor's"
					);
				}
				Ok(())
			}
		}
	}

	/// Rewrites every [`Latest`] entry, taking the block from the anchor it names; runs only
	/// on a chain at v0, which it leaves at v1.
	pub type MigrateV0ToV1<T> = VersionedMigration<
		0,
		1,
		unversioned::InnerMigrateV0ToV1<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
