//! Storage migrations, each a `VersionedMigration` for the runtime's `Migrations`: it runs
//! once, on a chain whose stored version of this pallet is the one it starts from, and
//! checks its work under try-runtime (`pre_upgrade` / `post_upgrade`).

use crate::*;

/// v0 -> v1: a device's service becomes a [`Membership`] that its service's owner consents
/// to. Devices of a service whose owner registered them are admitted (their owner's own
/// consent); every other device of a service asks to join, and the service's nodes refuse its
/// records until the service's owner admits it: before v1, anyone could register a device
/// into any service. No device may lock value until its service's owner lets it.
pub mod v1 {
	use super::*;
	use polkadot_sdk::frame_support::{
		migrations::VersionedMigration, storage_alias, traits::UncheckedOnRuntimeUpgrade,
	};
	#[cfg(feature = "try-runtime")]
	use polkadot_sdk::sp_runtime::TryRuntimeError;

	/// The v0 layout.
	pub(crate) mod v0 {
		use super::*;

		/// A registered device, as v0 kept it: its service a bare id.
		#[derive(Encode, Decode)]
		pub struct Device<AccountId, Metadata, BlockNumber, Limits, Balance> {
			pub owner: AccountId,
			pub key: AccountId,
			pub kind: DeviceKind,
			pub service: Option<ServiceId>,
			pub metadata: Metadata,
			pub status: DeviceStatus,
			pub retention: BlockNumber,
			pub limits: Limits,
			pub deposit: Balance,
		}

		/// A v0 device of `T`.
		pub type DeviceOf<T> = Device<
			<T as frame_system::Config>::AccountId,
			BoundedVec<u8, <T as Config>::MaxMetadataLen>,
			BlockNumberFor<T>,
			FeeLimits<BalanceOf<T>, BlockNumberFor<T>>,
			BalanceOf<T>,
		>;

		/// Every registered device.
		#[storage_alias]
		pub type Devices<T: Config> = StorageMap<Pallet<T>, Twox64Concat, DeviceId, DeviceOf<T>>;
	}

	/// The migration without its version guard: the runtime takes it only through
	/// [`MigrateV0ToV1`], which FRAME runs on a v0 chain alone (the pallet's tests call it
	/// directly).
	pub(crate) mod unversioned {
		use super::*;

		/// Rewrites every device, its service a membership.
		pub struct InnerMigrateV0ToV1<T>(PhantomData<T>);

		impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
			fn on_runtime_upgrade() -> Weight {
				// One rewrite per device, in one block: the chains this runs on (test networks)
				// hold a few thousand devices at most. A chain with many more would take it
				// over several blocks (pallet-migrations).
				let mut devices = 0u64;
				Devices::<T>::translate::<v0::DeviceOf<T>, _>(|_, old| {
					devices += 1;
					let service = old.service.map(|service| {
						let consented = T::Services::admission(service)
							.is_some_and(|admission| admission.owner == old.owner);
						let status = if consented {
							MemberStatus::Admitted { may_lock: false }
						} else {
							MemberStatus::Requested
						};
						Membership { service, status }
					});
					Some(Device {
						owner: old.owner,
						key: old.key,
						kind: old.kind,
						service,
						metadata: old.metadata,
						status: old.status,
						retention: old.retention,
						limits: old.limits,
						deposit: old.deposit,
					})
				});
				// Each device, and its service's owner and policy.
				T::DbWeight::get().reads_writes(3 * devices, devices)
			}

			#[cfg(feature = "try-runtime")]
			fn pre_upgrade() -> Result<Vec<u8>, TryRuntimeError> {
				let services: Vec<(DeviceId, Option<ServiceId>)> =
					v0::Devices::<T>::iter().map(|(id, device)| (id, device.service)).collect();
				Ok(services.encode())
			}

			#[cfg(feature = "try-runtime")]
			fn post_upgrade(before: Vec<u8>) -> Result<(), TryRuntimeError> {
				let before = Vec::<(DeviceId, Option<ServiceId>)>::decode(&mut &before[..])
					.map_err(|_| "the pre-upgrade devices do not decode")?;
				ensure!(
					Devices::<T>::iter_keys().count() == before.len(),
					"the number of devices changed"
				);
				for (id, service) in before {
					let device = Devices::<T>::get(id).ok_or("a device is gone")?;
					ensure!(
						device.service.map(|m| m.service) == service,
						"a device changed its service"
					);
					if let Some(Membership { service, status }) = device.service {
						let owner = T::Services::admission(service).map(|a| a.owner);
						let admitted = status == MemberStatus::Admitted { may_lock: false };
						ensure!(
							admitted == (owner == Some(device.owner)),
							"a device is admitted without its service owner's consent, or not \
							 admitted with it"
						);
					}
				}
				Ok(())
			}
		}
	}

	/// Rewrites every device, its service a membership; runs only on a chain at v0, which it
	/// leaves at v1.
	pub type MigrateV0ToV1<T> = VersionedMigration<
		0,
		1,
		unversioned::InnerMigrateV0ToV1<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
