//! # Devices: the registry of IoT devices and their signing keys
//!
//! An **owner** (any account, typically an institution's multisig) registers a device with
//! the public key the device signs with, and that key's **proof of possession**: its signature
//! of a [`KeyBinding`] to this owner on this chain, at the key's current nonce. Nobody can bind
//! a key they do not hold, and every proof binds once. The device gets a [`DeviceId`] that
//! outlives key rotations; its key account is made to exist on chain (a "sufficient"
//! reference), so a device holding no tokens still has a nonce and can sign transactions
//! whose fees its owner pays.
//!
//! ```text
//!  owner ──register(key, proof, kind, service, metadata, retention, limits)──► Device #id (Active)
//!    │        holds DeviceDeposit                                                │  ▲
//!    ├──rotate_key(id, new_key, proof)── old key stops, new key signs ───────────┤  │
//!    ├──suspend(id) ─────────────────────────────────────────────────────► Suspended
//!    ├──resume(id) ─────────────────────────────────────────────────────────┘
//!    └──remove(id)── deposit returned, key retired (its nonce kept)
//! ```
//!
//! A device writes to a NestChain service only with that service's owner's consent:
//!
//! ```text
//!  register(.., service, ..) / join_service(id, service)
//!    │ by the service's owner, or the service is open ──► Admitted { may_lock: false }
//!    └ anyone else ──► Requested ──admit(id, service, may_lock) by its owner──► Admitted
//!  admit(id, service, may_lock) again: the service's owner lets it lock value, or not
//!  leave_service(id), by the device's owner or the service's ──► no service
//! ```
//!
//! The service's nodes take records only from its admitted devices, and locks only from
//! those allowed to lock, as of the finalized WebChain block they check against.
//!
//! A key that stops signing for a device (rotated out, or its device removed) is **retired**:
//! its nonce is kept in [`RetiredKeys`], and restored if the key is bound again, so the
//! transactions it signed before can never be replayed.
//!
//! - Each device carries what other pallets enforce for it: the **retention** period of its
//!   data records and its **limits** (most transactions and most fees per window, most record
//!   deposits held at once), read through [`DeviceInspect`].
//! - Its owner pays its transaction fees, within those limits: [`OwnerPays`].
//! - A device may belong to a NestChain service of the registry ([`Membership`]), which must
//!   exist and consent ([`ServiceAdmission`]).
//! - Only the owner changes a device; a suspended device's key is refused by
//!   [`DeviceInspect::active_device`] users until it is resumed.
//! - Removing a device tells the pallets keeping its data ([`Config::OnRemoved`]), which drop
//!   what only the device needed (its reader list).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
pub mod fees;
#[cfg(any(test, feature = "try-runtime"))]
mod invariants;
pub mod migrations;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

pub use fees::{OwnerPays, SponsoredCalls};
pub use pallet::*;
pub use thingschain_primitives::ids::DeviceId;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
pub use pallet_service_registry::{Admission, ServiceAdmission};
use polkadot_sdk::{
	frame_support::{
		self,
		pallet_prelude::*,
		traits::{
			fungible::{self, MutateHold as _},
			tokens::Precision,
		},
	},
	frame_system::{self, pallet_prelude::*},
	sp_runtime::traits::{IdentifyAccount, One, Saturating, Verify, Zero},
};
use scale_info::TypeInfo;
pub use thingschain_primitives::device::KeyBinding;
use thingschain_primitives::ids::ServiceId;

/// Balance of the deposit currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// What a device is.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum DeviceKind {
	/// Measures and reports.
	Sensor,
	/// Acts on commands.
	Actuator,
	/// Relays for devices that cannot reach the chain themselves.
	Gateway,
	/// Anything else.
	Other,
}

/// Whether a device may act.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum DeviceStatus {
	/// Its key signs for it.
	Active,
	/// Stopped by its owner (lost, stolen, under maintenance).
	Suspended,
}

/// A device's place in a NestChain service.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Membership {
	/// The service.
	pub service: ServiceId,
	/// Whether the service's owner admitted it.
	pub status: MemberStatus,
}

/// Whether a device may write to its service.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum MemberStatus {
	/// Its owner asked to join; until the service's owner admits it, the service's nodes
	/// refuse its records.
	Requested,
	/// The service's owner admitted it (or opened the service to all).
	Admitted {
		/// The service's owner let it lock value on the peg (to the destinations the service's
		/// policy names).
		may_lock: bool,
	},
}

/// How much a device may spend of its owner's funds: fees per `window` blocks, and record
/// deposits held at once.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct FeeLimits<Balance, BlockNumber> {
	/// Length of a window, in blocks (at least one).
	pub window: BlockNumber,
	/// Most paid actions per window: a record each (so a batch of n counts n), or another
	/// call its owner pays for.
	pub max_transactions: u32,
	/// Most fees per window.
	pub max_fees: Balance,
	/// Most deposits held from the owner for the device's records at once (a stolen key
	/// can lock no more of the owner's funds than this).
	pub max_deposits: Balance,
}

/// A registered device.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
pub struct Device<T: Config> {
	/// Who registered it, changes it and pays its fees.
	pub owner: T::AccountId,
	/// The account of the key it signs with.
	pub key: T::AccountId,
	/// What it is.
	pub kind: DeviceKind,
	/// The NestChain service it belongs to or asked to join, if any.
	pub service: Option<Membership>,
	/// Owner-defined description (model, location, ...).
	pub metadata: BoundedVec<u8, T::MaxMetadataLen>,
	/// Whether it may act.
	pub status: DeviceStatus,
	/// Blocks its data records are kept before they expire.
	pub retention: BlockNumberFor<T>,
	/// Its fee limits.
	pub limits: FeeLimits<BalanceOf<T>, BlockNumberFor<T>>,
	/// Held from the owner while it is registered.
	pub deposit: BalanceOf<T>,
}

/// What a device spent of its owner's funds in its current fee window.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct FeeUsage<Balance, BlockNumber> {
	/// First block of the window.
	pub window_start: BlockNumber,
	/// Paid actions in it (see [`FeeLimits::max_transactions`]).
	pub transactions: u32,
	/// Fees paid in it.
	pub fees: Balance,
}

/// Why a key cannot act as a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inactive {
	/// No registered device signs with it.
	Unknown,
	/// Its device is suspended.
	Suspended,
}

/// What other pallets (data records, fee payment) read about devices.
pub trait DeviceInspect<AccountId, BlockNumber, Balance> {
	/// The active device signing with `key`: its id, owner, retention and fee limits.
	fn active_device(
		key: &AccountId,
	) -> Result<ActiveDevice<AccountId, BlockNumber, Balance>, Inactive>;
	/// The owner of device `id`, whatever its status.
	fn owner(id: DeviceId) -> Option<AccountId>;
}

/// Told when a device is removed, by the pallets keeping what belongs to it.
pub trait OnDeviceRemoved {
	/// Device `id` was removed.
	fn on_device_removed(id: DeviceId);
	/// The most [`Self::on_device_removed`] weighs.
	fn weight() -> Weight;
}

impl OnDeviceRemoved for () {
	fn on_device_removed(_: DeviceId) {}
	fn weight() -> Weight {
		Weight::zero()
	}
}

/// The key binding a device key signs, for `T`'s chain.
pub type KeyBindingOf<T> = KeyBinding<
	<T as frame_system::Config>::Hash,
	<T as frame_system::Config>::AccountId,
	<T as frame_system::Config>::Nonce,
>;

/// An active device, as [`DeviceInspect`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveDevice<AccountId, BlockNumber, Balance> {
	/// Its id.
	pub id: DeviceId,
	/// Its owner.
	pub owner: AccountId,
	/// Blocks its records are kept.
	pub retention: BlockNumber,
	/// Its fee limits.
	pub limits: FeeLimits<Balance, BlockNumber>,
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	/// The layout of this pallet's storage. A change to it bumps this and comes with a
	/// `VersionedMigration` for the runtime's `Migrations`.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Defaults for test runtimes: `#[derive_impl(config_preludes::TestDefaultConfig)]`
	/// leaves a mock to say only what is its own. Only with `std`: test signatures are.
	#[cfg(feature = "std")]
	pub mod config_preludes {
		use super::*;
		use polkadot_sdk::{
			frame_support::{derive_impl, traits::ConstUint},
			sp_runtime::testing::TestSignature,
		};

		/// The values the mocks of the device registry and the data records share: `u64`
		/// accounts whose keys sign with `TestSignature`.
		pub struct TestDefaultConfig;

		/// Every service exists, is open to all devices and is owned by the default account.
		pub struct OpenServices;
		impl<AccountId: Default> ServiceAdmission<AccountId> for OpenServices {
			fn admission(_: ServiceId) -> Option<Admission<AccountId>> {
				Some(Admission { owner: AccountId::default(), open: true })
			}
		}

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type Services = OpenServices;
			type Signature = TestSignature;
			type OnRemoved = ();
			type DeviceDeposit = ConstUint<50>;
			type MaxMetadataLen = ConstU32<16>;
			type MinRetention = ConstUint<1>;
			type MaxRetention = ConstUint<1_000>;
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency device deposits are held in.
		#[pallet::no_default]
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reasons, which include this pallet's.
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;

		/// The NestChain services and who admits devices to them (the service registry).
		#[pallet::no_default_bounds]
		type Services: ServiceAdmission<Self::AccountId>;

		/// A device key's signature: its proof of possession of the key.
		#[pallet::no_default_bounds]
		type Signature: Verify<Signer: IdentifyAccount<AccountId = Self::AccountId>> + Parameter;

		/// Told when a device is removed (the data records pallet).
		type OnRemoved: OnDeviceRemoved;

		/// Held from the owner per registered device.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type DeviceDeposit: Get<BalanceOf<Self>>;

		/// Longest metadata, in bytes.
		#[pallet::constant]
		type MaxMetadataLen: Get<u32>;

		/// Shortest retention of a device's records, in blocks.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MinRetention: Get<BlockNumberFor<Self>>;

		/// Longest retention of a device's records, in blocks.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MaxRetention: Get<BlockNumberFor<Self>>;

		/// Weights of this pallet's calls, measured by its benchmarks.
		type WeightInfo: WeightInfo;

		/// Creates the service the benchmarks register devices for, and signs as device keys.
		#[cfg(feature = "runtime-benchmarks")]
		#[pallet::no_default]
		type BenchmarkHelper: benchmarking::BenchmarkHelper<Self::AccountId, Self::Signature>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit of a registered device.
		#[codec(index = 0)]
		DeviceDeposit,
	}

	/// The id the next device gets.
	#[pallet::storage]
	pub type NextDeviceId<T> = StorageValue<_, DeviceId, ValueQuery>;

	/// Every registered device.
	#[pallet::storage]
	pub type Devices<T: Config> = StorageMap<_, Twox64Concat, DeviceId, Device<T>>;

	/// The device each registered key signs for.
	#[pallet::storage]
	pub type DeviceOfKey<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, DeviceId>;

	/// The nonce of each key that signed for a device and no longer does, restored if it is
	/// bound again: its account may have been removed since, which resets a nonce.
	#[pallet::storage]
	pub type RetiredKeys<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, T::Nonce>;

	/// What each device spent of its owner's funds on fees in its current window.
	#[pallet::storage]
	pub type Spending<T: Config> = StorageMap<
		_,
		Twox64Concat,
		DeviceId,
		FeeUsage<BalanceOf<T>, BlockNumberFor<T>>,
		ValueQuery,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `owner` registered device `id`, signing with `key`.
		DeviceRegistered { id: DeviceId, owner: T::AccountId, key: T::AccountId },
		/// Device `id` now signs with `new`; `old` no longer does.
		KeyRotated { id: DeviceId, old: T::AccountId, new: T::AccountId },
		/// Device `id` was suspended.
		DeviceSuspended { id: DeviceId },
		/// Device `id` was resumed.
		DeviceResumed { id: DeviceId },
		/// Device `id`'s fee limits changed.
		LimitsSet { id: DeviceId, limits: FeeLimits<BalanceOf<T>, BlockNumberFor<T>> },
		/// Device `id` was removed and its deposit returned.
		DeviceRemoved { id: DeviceId },
		/// Device `id`'s owner asked for it to join `service`, whose owner has yet to admit it.
		JoinRequested { id: DeviceId, service: ServiceId },
		/// Device `id` writes to `service`, admitted by its owner; `may_lock`: it may lock value
		/// on the peg.
		DeviceAdmitted { id: DeviceId, service: ServiceId, may_lock: bool },
		/// Device `id` no longer belongs to `service` (nor asks to).
		DeviceLeftService { id: DeviceId, service: ServiceId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No such device.
		UnknownDevice,
		/// Only the device's owner may do this.
		NotOwner,
		/// The key already signs for a device.
		KeyInUse,
		/// The metadata is longer than `MaxMetadataLen`.
		MetadataTooLong,
		/// No such NestChain service.
		UnknownService,
		/// The retention is outside `MinRetention..=MaxRetention`.
		RetentionOutOfRange,
		/// A fee window must be at least one block long.
		EmptyFeeWindow,
		/// The device is already suspended.
		AlreadySuspended,
		/// The device is not suspended.
		NotSuspended,
		/// The proof is not the key's signature of its binding to the caller on this chain
		/// at the key's current nonce.
		InvalidKeyProof,
		/// The device belongs to no service, or to another one.
		NotInService,
		/// The device already belongs to a service, or asked to join one.
		AlreadyInService,
		/// Only the owner of the device's service may do this.
		NotServiceOwner,
		/// Only the device's owner or its service's owner may do this.
		NotOwnerOrServiceOwner,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(
			_n: BlockNumberFor<T>,
		) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Register a device signing with `key`, holding `DeviceDeposit` from the caller, its
		/// owner. `proof` is the key's signature of [`Pallet::key_binding`] to the caller. Its
		/// records are kept `retention` blocks; `limits` bound the fees and deposits it costs
		/// the owner.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register())]
		pub fn register(
			origin: OriginFor<T>,
			key: T::AccountId,
			proof: T::Signature,
			kind: DeviceKind,
			service: Option<ServiceId>,
			metadata: Vec<u8>,
			retention: BlockNumberFor<T>,
			limits: FeeLimits<BalanceOf<T>, BlockNumberFor<T>>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			ensure!(!DeviceOfKey::<T>::contains_key(&key), Error::<T>::KeyInUse);
			let nonce = Self::ensure_key_proof(&owner, &key, &proof)?;
			let metadata =
				BoundedVec::try_from(metadata).map_err(|_| Error::<T>::MetadataTooLong)?;
			let membership = service.map(|service| Self::joining(&owner, service)).transpose()?;
			Self::ensure_valid_retention(retention)?;
			Self::ensure_valid_limits(&limits)?;
			let deposit = T::DeviceDeposit::get();
			T::Currency::hold(&HoldReason::DeviceDeposit.into(), &owner, deposit)?;

			let id = NextDeviceId::<T>::mutate(|next| {
				let id = *next;
				*next = next.saturating_add(1);
				id
			});
			Self::bind_key(&key, nonce, id);
			Devices::<T>::insert(
				id,
				Device {
					owner: owner.clone(),
					key: key.clone(),
					kind,
					service: membership,
					metadata,
					status: DeviceStatus::Active,
					retention,
					limits,
					deposit,
				},
			);
			Self::deposit_event(Event::DeviceRegistered { id, owner, key });
			if let Some(membership) = membership {
				Self::deposit_membership_event(id, membership);
			}
			Ok(())
		}

		/// Make device `id` sign with `new_key` from now on; `proof` is the new key's
		/// signature of [`Pallet::key_binding`] to the caller. The old key is retired (a stolen
		/// key stops working).
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::rotate_key())]
		pub fn rotate_key(
			origin: OriginFor<T>,
			id: DeviceId,
			new_key: T::AccountId,
			proof: T::Signature,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!DeviceOfKey::<T>::contains_key(&new_key), Error::<T>::KeyInUse);
			let nonce = Self::ensure_key_proof(&who, &new_key, &proof)?;
			let old = Self::mutate_owned(id, &who, |device| {
				Ok(core::mem::replace(&mut device.key, new_key.clone()))
			})?;
			Self::unbind_key(&old);
			Self::bind_key(&new_key, nonce, id);
			Self::deposit_event(Event::KeyRotated { id, old, new: new_key });
			Ok(())
		}

		/// Stop device `id` from acting until it is resumed.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::suspend())]
		pub fn suspend(origin: OriginFor<T>, id: DeviceId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::set_status(id, &who, DeviceStatus::Suspended, Error::<T>::AlreadySuspended)?;
			Self::deposit_event(Event::DeviceSuspended { id });
			Ok(())
		}

		/// Let suspended device `id` act again.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::resume())]
		pub fn resume(origin: OriginFor<T>, id: DeviceId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::set_status(id, &who, DeviceStatus::Active, Error::<T>::NotSuspended)?;
			Self::deposit_event(Event::DeviceResumed { id });
			Ok(())
		}

		/// Change how much device `id` may spend on fees per window.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::set_limits())]
		pub fn set_limits(
			origin: OriginFor<T>,
			id: DeviceId,
			limits: FeeLimits<BalanceOf<T>, BlockNumberFor<T>>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::ensure_valid_limits(&limits)?;
			Self::mutate_owned(id, &who, |device| {
				device.limits = limits;
				Ok(())
			})?;
			Self::deposit_event(Event::LimitsSet { id, limits });
			Ok(())
		}

		/// Ask for device `id`, which belongs to no service, to join `service`, as its owner. It
		/// is admitted at once if the caller also owns the service or the service is open;
		/// otherwise the service's owner admits it ([`Pallet::admit`]).
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::join_service())]
		pub fn join_service(
			origin: OriginFor<T>,
			id: DeviceId,
			service: ServiceId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let membership = Self::mutate_owned(id, &who, |device| {
				ensure!(device.service.is_none(), Error::<T>::AlreadyInService);
				let membership = Self::joining(&who, service)?;
				device.service = Some(membership);
				Ok(membership)
			})?;
			Self::deposit_membership_event(id, membership);
			Ok(())
		}

		/// Admit device `id` to `service`, which it belongs to or asked to join, as that
		/// service's owner; `may_lock`: it may lock value on the peg, to the destinations the
		/// service's policy names. Called again, it changes `may_lock`. Naming the service
		/// keeps an owner of several from admitting a device to another one than it meant
		/// (one its owner moved it to while a multisig approved the call).
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::admit())]
		pub fn admit(
			origin: OriginFor<T>,
			id: DeviceId,
			service: ServiceId,
			may_lock: bool,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Devices::<T>::try_mutate(id, |maybe| {
				let device = maybe.as_mut().ok_or(Error::<T>::UnknownDevice)?;
				let membership = device.service.as_mut().ok_or(Error::<T>::NotInService)?;
				ensure!(membership.service == service, Error::<T>::NotInService);
				ensure!(
					Self::service_owner(service).as_ref() == Some(&who),
					Error::<T>::NotServiceOwner
				);
				membership.status = MemberStatus::Admitted { may_lock };
				Ok::<_, Error<T>>(())
			})?;
			Self::deposit_event(Event::DeviceAdmitted { id, service, may_lock });
			Ok(())
		}

		/// Take device `id` out of its service (or withdraw its request to join): by the
		/// device's owner, or by the service's owner. The service's nodes refuse its records
		/// from the finalized block this is in.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::leave_service())]
		pub fn leave_service(origin: OriginFor<T>, id: DeviceId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let service = Devices::<T>::try_mutate(id, |maybe| {
				let device = maybe.as_mut().ok_or(Error::<T>::UnknownDevice)?;
				let service = device.service.ok_or(Error::<T>::NotInService)?.service;
				ensure!(
					device.owner == who || Self::service_owner(service).as_ref() == Some(&who),
					Error::<T>::NotOwnerOrServiceOwner
				);
				device.service = None;
				Ok::<_, Error<T>>(service)
			})?;
			Self::deposit_event(Event::DeviceLeftService { id, service });
			Ok(())
		}

		/// Remove device `id`: its key is retired and the deposit returned to the owner; the
		/// pallets keeping its data are told ([`Config::OnRemoved`]).
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::remove().saturating_add(T::OnRemoved::weight()))]
		pub fn remove(origin: OriginFor<T>, id: DeviceId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let device = Devices::<T>::get(id).ok_or(Error::<T>::UnknownDevice)?;
			ensure!(device.owner == who, Error::<T>::NotOwner);
			T::Currency::release(
				&HoldReason::DeviceDeposit.into(),
				&device.owner,
				device.deposit,
				Precision::BestEffort,
			)?;
			Devices::<T>::remove(id);
			Spending::<T>::remove(id);
			Self::unbind_key(&device.key);
			T::OnRemoved::on_device_removed(id);
			Self::deposit_event(Event::DeviceRemoved { id });
			Ok(())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// What `key` signs to consent to be bound to a device of `owner` now: this chain's genesis
	/// hash and the key's nonce (kept from when it was retired, if it was).
	pub fn key_binding(owner: &T::AccountId, key: &T::AccountId) -> KeyBindingOf<T> {
		let genesis_hash = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		KeyBinding::new(genesis_hash, owner.clone(), Self::key_nonce(key))
	}

	/// Where a device of `owner` stands on joining `service`: admitted (without peg locks) if
	/// `owner` owns the service or the service is open, asking otherwise.
	fn joining(owner: &T::AccountId, service: ServiceId) -> Result<Membership, Error<T>> {
		let admission = T::Services::admission(service).ok_or(Error::<T>::UnknownService)?;
		let status = if admission.open || admission.owner == *owner {
			MemberStatus::Admitted { may_lock: false }
		} else {
			MemberStatus::Requested
		};
		Ok(Membership { service, status })
	}

	/// The owner of `service`, if it exists.
	fn service_owner(service: ServiceId) -> Option<T::AccountId> {
		T::Services::admission(service).map(|admission| admission.owner)
	}

	/// Says that device `id` asked to join, or was admitted to, its service.
	fn deposit_membership_event(id: DeviceId, membership: Membership) {
		let Membership { service, status } = membership;
		Self::deposit_event(match status {
			MemberStatus::Requested => Event::JoinRequested { id, service },
			MemberStatus::Admitted { may_lock } => Event::DeviceAdmitted { id, service, may_lock },
		});
	}

	/// `key`'s nonce: its account's, or the one it had when it was retired if that is higher.
	fn key_nonce(key: &T::AccountId) -> T::Nonce {
		let nonce = frame_system::Pallet::<T>::account_nonce(key);
		RetiredKeys::<T>::get(key).map_or(nonce, |retired| retired.max(nonce))
	}

	/// Checks that `proof` is `key`'s signature of its binding to `owner`; returns the nonce
	/// it signed.
	fn ensure_key_proof(
		owner: &T::AccountId,
		key: &T::AccountId,
		proof: &T::Signature,
	) -> Result<T::Nonce, Error<T>> {
		let binding = Self::key_binding(owner, key);
		ensure!(proof.verify(&binding.message()[..], key), Error::<T>::InvalidKeyProof);
		Ok(binding.nonce)
	}

	/// Changes device `id` as its owner `who`; returns what `change` returns.
	fn mutate_owned<R>(
		id: DeviceId,
		who: &T::AccountId,
		change: impl FnOnce(&mut Device<T>) -> Result<R, Error<T>>,
	) -> Result<R, DispatchError> {
		Devices::<T>::try_mutate(id, |maybe| {
			let device = maybe.as_mut().ok_or(Error::<T>::UnknownDevice)?;
			ensure!(device.owner == *who, Error::<T>::NotOwner);
			change(device)
		})
		.map_err(Into::into)
	}

	/// Puts device `id` in `status` as its owner `who`; `unchanged` if it already is.
	fn set_status(
		id: DeviceId,
		who: &T::AccountId,
		status: DeviceStatus,
		unchanged: Error<T>,
	) -> DispatchResult {
		Self::mutate_owned(id, who, |device| {
			ensure!(device.status != status, unchanged);
			device.status = status;
			Ok(())
		})
	}

	/// Makes `key` sign for device `id`, and its account exist (with a sufficient reference)
	/// so that it has a nonce without holding tokens. Its nonce becomes the one after
	/// `signed`, the nonce its proof signed: the proof is spent.
	fn bind_key(key: &T::AccountId, signed: T::Nonce, id: DeviceId) {
		DeviceOfKey::<T>::insert(key, id);
		RetiredKeys::<T>::remove(key);
		frame_system::Pallet::<T>::inc_sufficients(key);
		frame_system::Account::<T>::mutate(key, |account| {
			account.nonce = signed.saturating_add(One::one())
		});
	}

	/// Undoes [`Self::bind_key`], keeping the key's nonce: its account may go away with its
	/// sufficient reference, and the nonce with it.
	fn unbind_key(key: &T::AccountId) {
		DeviceOfKey::<T>::remove(key);
		RetiredKeys::<T>::insert(key, frame_system::Pallet::<T>::account_nonce(key));
		let _ = frame_system::Pallet::<T>::dec_sufficients(key);
	}

	fn ensure_valid_retention(retention: BlockNumberFor<T>) -> Result<(), Error<T>> {
		ensure!(
			(T::MinRetention::get()..=T::MaxRetention::get()).contains(&retention),
			Error::<T>::RetentionOutOfRange
		);
		Ok(())
	}

	fn ensure_valid_limits(
		limits: &FeeLimits<BalanceOf<T>, BlockNumberFor<T>>,
	) -> Result<(), Error<T>> {
		ensure!(!limits.window.is_zero(), Error::<T>::EmptyFeeWindow);
		Ok(())
	}
}

impl<T: Config> DeviceInspect<T::AccountId, BlockNumberFor<T>, BalanceOf<T>> for Pallet<T> {
	fn active_device(
		key: &T::AccountId,
	) -> Result<ActiveDevice<T::AccountId, BlockNumberFor<T>, BalanceOf<T>>, Inactive> {
		let id = DeviceOfKey::<T>::get(key).ok_or(Inactive::Unknown)?;
		let device = Devices::<T>::get(id).ok_or(Inactive::Unknown)?;
		ensure!(device.status == DeviceStatus::Active, Inactive::Suspended);
		Ok(ActiveDevice {
			id,
			owner: device.owner,
			retention: device.retention,
			limits: device.limits,
		})
	}

	fn owner(id: DeviceId) -> Option<T::AccountId> {
		Devices::<T>::get(id).map(|d| d.owner)
	}
}
