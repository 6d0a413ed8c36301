//! # Service registry: NestChain services, their trusted service nodes, and super nodes
//!
//! - **Services** (government IDs, medical records, ...) are created by governance
//!   (`CreateOrigin`), each owned by an account: typically the multisig account of the
//!   institution that runs it.
//! - **Service nodes** are not anonymous. The owner onboards a node only once the node's
//!   identity carries a positive registrar judgement (`IdentityVerifier`, pallet-identity in
//!   the runtime): this is Proof of Truth's trust root. A service with fewer trusted nodes
//!   than its quorum is **suspended**; its anchors are refused until it has enough again.
//! - **Super nodes** deposit a large stake (held on their account) to approve anchors; an
//!   approval of two different roots for one service epoch is slashed
//!   ([`ServiceInspect::slash_super_node`], called by the anchor pallet). The active set is
//!   bounded (`MaxSuperNodes`) and ranked by stake: when it is full, a newcomer must stake
//!   more than the lowest, who is evicted (and unbonds as if it had left). Each remembers when
//!   it was admitted, so the anchor pallet counts only those active since an epoch began, and
//!   can chill one that stops approving ([`ServiceInspect::chill_super_node`]).
//! - **Who writes to a service** is its owner's decision: its [`ServicePolicy`] says whether
//!   any device may join it (`open`) or only those the owner consents to (the default), and
//!   to which services its devices may lock value on the peg (none by default). The device
//!   registry asks through [`ServiceAdmission`]; the service nodes read it from finalized
//!   blocks.
//! - **Fees**: each accepted anchor costs its service's owner `AnchorFee`, shared equally by
//!   the super nodes that approved it ([`ServiceInspect::pay_anchor_fee`]): the institution
//!   pays for the information its NestChain attaches to WebChain.
//!
//! - Only **current** trusted nodes count: [`ServiceInspect::service_node`] answers from the
//!   node list and the node's registrar judgement as they are now, and removing a node tells
//!   the anchor pallet ([`Config::OnNodeRemoved`]), which drops its pending attestations.
//!
//! Other pallets read the registry through [`ServiceInspect`].

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
#[cfg(any(test, feature = "try-runtime"))]
mod invariants;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

pub use pallet::*;
use thingschain_primitives::ids::Epoch;
pub use thingschain_primitives::ids::ServiceId;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	frame_support::{
		self,
		pallet_prelude::*,
		traits::{
			fungible::{self, hold::Balanced as _, Mutate as _, MutateHold as _},
			tokens::{Precision, Preservation},
			Imbalance, OnUnbalanced,
		},
	},
	frame_system::{self, pallet_prelude::*},
	sp_runtime::{
		traits::{AtLeast32BitUnsigned, Saturating, Zero},
		Perbill,
	},
};
use scale_info::TypeInfo;

/// Balance of the staked currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// Funds taken by a slash.
pub type CreditOf<T> =
	fungible::Credit<<T as frame_system::Config>::AccountId, <T as Config>::Currency>;

/// Whether an account's identity has been verified, e.g. by a registrar judgement.
pub trait VerifyIdentity<AccountId> {
	/// True if `who` proved who it is to a trusted registrar.
	fn is_verified(who: &AccountId) -> bool;
}

/// How an account stands with a service's trusted nodes, now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStanding {
	/// Not one of the service's nodes (never added, or removed).
	NotANode,
	/// One of its nodes, but its identity no longer has a positive registrar judgement.
	Unverified,
	/// A trusted node: on the list, its identity verified.
	Trusted,
}

/// Told when a trusted node leaves a service, by the pallets that keep what it did.
pub trait OnServiceNodeRemoved<AccountId> {
	/// `node` is no longer a node of `service`.
	fn on_service_node_removed(service: ServiceId, node: &AccountId);
	/// The most [`Self::on_service_node_removed`] weighs.
	fn weight() -> Weight;
}

impl<AccountId> OnServiceNodeRemoved<AccountId> for () {
	fn on_service_node_removed(_: ServiceId, _: &AccountId) {}
	fn weight() -> Weight {
		Weight::zero()
	}
}

/// Whether a service accepts anchors.
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
pub enum ServiceStatus {
	/// Enough trusted nodes: anchors are accepted.
	Active,
	/// Fewer trusted nodes than the quorum: anchors are refused.
	Suspended,
}

/// A service NestChain.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
pub struct Service<T: Config> {
	/// Who onboards and removes its nodes (e.g. the institution's multisig account).
	pub owner: T::AccountId,
	/// Human-readable name.
	pub name: BoundedVec<u8, T::MaxNameLen>,
	/// How many of its trusted nodes must attest the same state for an anchor.
	pub quorum: u32,
	/// Blocks per epoch: one anchor per epoch.
	pub epoch_length: BlockNumberFor<T>,
	/// The block its epoch 0 starts at.
	pub genesis: BlockNumberFor<T>,
	/// Its trusted service nodes.
	pub nodes: BoundedVec<T::AccountId, T::MaxServiceNodes>,
	/// Whether it accepts anchors.
	pub status: ServiceStatus,
}

impl<T: Config> Service<T> {
	/// What the anchor and peg pallets read of it.
	pub fn terms(&self) -> ServiceTerms<BlockNumberFor<T>> {
		ServiceTerms {
			quorum: self.quorum,
			epoch_length: self.epoch_length,
			genesis: self.genesis,
			active: self.status == ServiceStatus::Active,
		}
	}

	/// The status its node count calls for.
	fn status_for_nodes(&self) -> ServiceStatus {
		if self.nodes.len() as u32 >= self.quorum {
			ServiceStatus::Active
		} else {
			ServiceStatus::Suspended
		}
	}
}

/// What a service's owner decided about who writes to it: [`Policies`].
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	frame_support::DefaultNoBound,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxDestinations))]
pub struct ServicePolicy<MaxDestinations: Get<u32>> {
	/// Any device may join the service. If not (the default), a device joins only with the
	/// owner's consent: the owner registers it, or admits it once its owner asked.
	pub open: bool,
	/// The services its admitted devices may lock value to on the peg (those the owner let
	/// lock); none by default.
	pub lock_destinations: BoundedVec<ServiceId, MaxDestinations>,
}

/// The policy of a service of `T`.
pub type PolicyOf<T> = ServicePolicy<<T as Config>::MaxLockDestinations>;

/// A super node's stake.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
pub struct SuperNode<T: Config> {
	/// Held stake.
	pub stake: BalanceOf<T>,
	/// Set when it leaves: its stake is released from this block on.
	pub unlocks_at: Option<BlockNumberFor<T>>,
}

/// A member of the active super-node set.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct ActiveSuperNode<AccountId, Balance, BlockNumber> {
	/// The super node.
	pub who: AccountId,
	/// Its held stake, which ranks it.
	pub stake: Balance,
	/// The block it was admitted at.
	pub since: BlockNumber,
}

/// The active super-node set of `T`.
pub type ActiveSetOf<T> = BoundedVec<
	ActiveSuperNode<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>,
	<T as Config>::MaxSuperNodes,
>;

/// What the anchor and peg pallets read of a service.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ServiceTerms<BlockNumber> {
	/// Attestations an epoch's root needs.
	pub quorum: u32,
	/// Blocks per epoch.
	pub epoch_length: BlockNumber,
	/// The block epoch 0 starts at.
	pub genesis: BlockNumber,
	/// Whether the service is active (not suspended).
	pub active: bool,
}

impl<BlockNumber: AtLeast32BitUnsigned + Copy> ServiceTerms<BlockNumber> {
	/// The first block of `epoch`.
	pub fn epoch_start(&self, epoch: Epoch) -> BlockNumber {
		self.genesis.saturating_add(self.epoch_length.saturating_mul(epoch.into()))
	}

	/// The first block after `epoch`: from it on, the epoch can be anchored.
	pub fn epoch_end(&self, epoch: Epoch) -> BlockNumber {
		self.epoch_start(epoch.saturating_add(1))
	}
}

/// Who consents to a device joining a service: [`ServiceAdmission::admission`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admission<AccountId> {
	/// The service's owner, whose consent admits a device.
	pub owner: AccountId,
	/// Any device may join: the owner consented to all.
	pub open: bool,
}

/// What the device registry needs to know about services.
pub trait ServiceAdmission<AccountId> {
	/// Who admits devices to `service`; `None` if it does not exist.
	fn admission(service: ServiceId) -> Option<Admission<AccountId>>;
}

/// What the anchor and peg pallets need to know about services and super nodes.
pub trait ServiceInspect<AccountId, BlockNumber, Balance> {
	/// The service's terms, if it exists.
	fn service(id: ServiceId) -> Option<ServiceTerms<BlockNumber>>;
	/// The service's owner, if it exists.
	fn service_owner(id: ServiceId) -> Option<AccountId>;

	/// How `who` stands with `service`'s trusted nodes now.
	fn service_node(service: ServiceId, who: &AccountId) -> NodeStanding;
	/// Whether `source`'s owner lets its devices lock value to `destination` now (its
	/// policy names it).
	fn may_lock_to(source: ServiceId, destination: ServiceId) -> bool;
	/// Whether `who` is an active (not leaving) super node.
	fn is_super_node(who: &AccountId) -> bool;
	/// The block active super node `who` was admitted at.
	fn super_node_since(who: &AccountId) -> Option<BlockNumber>;
	/// Number of active super nodes admitted at or before block `at`.
	fn super_nodes_since(at: BlockNumber) -> u32;
	/// Takes active super node `who` out of the set, unbonding as if it had left; false if it
	/// is not one.
	fn chill_super_node(who: &AccountId) -> bool;
	/// Slashes `fraction` of super node `who`'s stake; returns the amount.
	fn slash_super_node(who: &AccountId, fraction: Perbill) -> Balance;
	/// Moves the anchor fee from `service`'s owner to the `approvers` of its anchor, in equal
	/// shares (the first takes the indivisible rest); returns the fee. Fails, moving nothing,
	/// if the owner cannot pay it and keep its account alive.
	fn pay_anchor_fee(
		service: ServiceId,
		approvers: &[AccountId],
	) -> Result<Balance, DispatchError>;
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	/// The layout of this pallet's storage. A change to it bumps this and comes with a
	/// `VersionedMigration` for the runtime's `Migrations`.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Defaults for test runtimes: `#[derive_impl(config_preludes::TestDefaultConfig)]`
	/// leaves a mock to say only what is its own.
	pub mod config_preludes {
		use super::*;
		use polkadot_sdk::frame_support::{derive_impl, traits::ConstUint};

		/// The values the mocks of the registry, the anchors and the peg share.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type OnSlash = ();
			type OnNodeRemoved = ();
			type AnchorFee = ConstUint<100>;
			type MinSuperNodeStake = ConstUint<1_000>;
			type SuperNodeUnbondingPeriod = ConstUint<20>;
			type MaxSuperNodes = ConstU32<16>;
			type MaxServiceNodes = ConstU32<4>;
			type MaxNameLen = ConstU32<16>;
			type MinEpochLength = ConstUint<5>;
			type MaxLockDestinations = ConstU32<4>;
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency super nodes stake.
		#[pallet::no_default]
		type Currency: fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ fungible::hold::Balanced<Self::AccountId>;

		/// The runtime's hold reasons, which include this pallet's.
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;

		/// Who creates services (governance).
		#[pallet::no_default]
		type CreateOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Whether a would-be service node's identity is verified.
		#[pallet::no_default]
		type IdentityVerifier: VerifyIdentity<Self::AccountId>;

		/// Where slashed super-node stake goes; `()` burns it.
		#[pallet::no_default_bounds]
		type OnSlash: OnUnbalanced<CreditOf<Self>>;

		/// Told when a node leaves a service (the anchor pallet).
		#[pallet::no_default_bounds]
		type OnNodeRemoved: OnServiceNodeRemoved<Self::AccountId>;

		/// What a service's owner pays the approving super nodes per accepted anchor.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type AnchorFee: Get<BalanceOf<Self>>;

		/// Smallest super-node stake.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MinSuperNodeStake: Get<BalanceOf<Self>>;

		/// Blocks a leaving super node's stake stays held (and slashable).
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type SuperNodeUnbondingPeriod: Get<BlockNumberFor<Self>>;

		/// Most active super nodes.
		#[pallet::constant]
		type MaxSuperNodes: Get<u32>;

		/// Most trusted nodes per service.
		#[pallet::constant]
		type MaxServiceNodes: Get<u32>;

		/// Longest service name, in bytes.
		#[pallet::constant]
		type MaxNameLen: Get<u32>;

		/// Shortest epoch, in blocks.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MinEpochLength: Get<BlockNumberFor<Self>>;

		/// Most services a service's devices may lock value to.
		#[pallet::constant]
		type MaxLockDestinations: Get<u32>;

		/// Weights of this pallet's calls, measured by its benchmarks.
		type WeightInfo: WeightInfo;

		/// Sets up what the benchmarks need from other pallets (verified identities).
		#[cfg(feature = "runtime-benchmarks")]
		#[pallet::no_default]
		type BenchmarkHelper: benchmarking::BenchmarkHelper<Self::AccountId>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A super node's stake.
		#[codec(index = 0)]
		SuperNodeStake,
	}

	/// The id the next service gets.
	#[pallet::storage]
	pub type NextServiceId<T> = StorageValue<_, ServiceId, ValueQuery>;

	/// Every service.
	#[pallet::storage]
	pub type Services<T: Config> = StorageMap<_, Twox64Concat, ServiceId, Service<T>>;

	/// Who may write to each service: its owner's policy (closed, no peg destinations, until
	/// the owner says otherwise).
	#[pallet::storage]
	pub type Policies<T: Config> = StorageMap<_, Twox64Concat, ServiceId, PolicyOf<T>, ValueQuery>;

	/// Every super node, active or leaving.
	#[pallet::storage]
	pub type SuperNodes<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, SuperNode<T>>;

	/// The active super nodes, with their stakes and admission blocks.
	#[pallet::storage]
	pub type ActiveSet<T: Config> = StorageValue<_, ActiveSetOf<T>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// Service `id` was created, owned by `owner`.
		ServiceCreated {
			id: ServiceId,
			owner: T::AccountId,
			quorum: u32,
			epoch_length: BlockNumberFor<T>,
		},
		/// `node` is now a trusted node of `service`.
		ServiceNodeAdded { service: ServiceId, node: T::AccountId },
		/// `node` is no longer a trusted node of `service`.
		ServiceNodeRemoved { service: ServiceId, node: T::AccountId },
		/// `service` has fewer trusted nodes than its quorum: its anchors are refused.
		ServiceSuspended { service: ServiceId },
		/// `service` has enough trusted nodes again.
		ServiceResumed { service: ServiceId },
		/// `service` now needs `quorum` attestations per anchor.
		QuorumSet { service: ServiceId, quorum: u32 },
		/// `service`'s owner set who may write to it: any device if `open`, and the services
		/// its devices may lock value to.
		PolicySet { service: ServiceId, open: bool, lock_destinations: Vec<ServiceId> },
		/// `who` is a super node with `stake`.
		SuperNodeRegistered { who: T::AccountId, stake: BalanceOf<T> },
		/// `who` stopped approving; its stake is released at `unlocks_at`.
		SuperNodeLeft { who: T::AccountId, unlocks_at: BlockNumberFor<T> },
		/// `who` was evicted from the full set by a higher stake; its stake is released at
		/// `unlocks_at`.
		SuperNodeEvicted { who: T::AccountId, unlocks_at: BlockNumberFor<T> },
		/// `who` was chilled for not approving; its stake is released at `unlocks_at`.
		SuperNodeChilled { who: T::AccountId, unlocks_at: BlockNumberFor<T> },
		/// The stake of a departed super node was released.
		SuperNodeStakeWithdrawn { who: T::AccountId, amount: BalanceOf<T> },
		/// `amount` of super node `who`'s stake was slashed.
		SuperNodeSlashed { who: T::AccountId, amount: BalanceOf<T> },
		/// `service`'s owner paid `fee` to the super nodes that approved its anchor.
		AnchorFeePaid { service: ServiceId, payer: T::AccountId, fee: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No such service.
		UnknownService,
		/// Only the service's owner may do this.
		NotServiceOwner,
		/// The quorum must be at least one.
		InvalidQuorum,
		/// The epoch is shorter than `MinEpochLength`.
		EpochTooShort,
		/// The name is longer than `MaxNameLen`.
		NameTooLong,
		/// The node's identity has no positive registrar judgement.
		IdentityNotVerified,
		/// The account already is a trusted node of this service.
		AlreadyServiceNode,
		/// The account is not a trusted node of this service.
		NotServiceNode,
		/// The service has `MaxServiceNodes` nodes.
		TooManyServiceNodes,
		/// The stake is below `MinSuperNodeStake`.
		StakeTooLow,
		/// The super-node set is full and the stake is not above its lowest.
		StakeTooLowForFullSet,
		/// The account already is a super node.
		AlreadySuperNode,
		/// The account is not an active super node.
		NotSuperNode,
		/// The super node has not left, or its unbonding period has not passed.
		StakeStillLocked,
		/// A peg destination is the service itself, does not exist, or is named twice.
		InvalidLockDestination,
		/// More peg destinations than `MaxLockDestinations`.
		TooManyLockDestinations,
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
		/// Create a service owned by `owner` whose anchors need `quorum` attestations, one per
		/// `epoch_length` blocks from now on. It starts suspended, until `quorum` nodes join.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create_service())]
		pub fn create_service(
			origin: OriginFor<T>,
			owner: T::AccountId,
			name: Vec<u8>,
			quorum: u32,
			epoch_length: BlockNumberFor<T>,
		) -> DispatchResult {
			T::CreateOrigin::ensure_origin(origin)?;
			ensure!(quorum > 0, Error::<T>::InvalidQuorum);
			ensure!(epoch_length >= T::MinEpochLength::get(), Error::<T>::EpochTooShort);
			let name = BoundedVec::try_from(name).map_err(|_| Error::<T>::NameTooLong)?;
			let id = NextServiceId::<T>::mutate(|next| {
				let id = *next;
				*next = next.saturating_add(1);
				id
			});
			Services::<T>::insert(
				id,
				Service {
					owner: owner.clone(),
					name,
					quorum,
					epoch_length,
					genesis: frame_system::Pallet::<T>::block_number(),
					nodes: BoundedVec::new(),
					status: ServiceStatus::Suspended,
				},
			);
			Self::deposit_event(Event::ServiceCreated { id, owner, quorum, epoch_length });
			Ok(())
		}

		/// Trust `node` to attest `service`'s state. Only the owner may add nodes, and only
		/// nodes whose identity a registrar has verified.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::add_service_node())]
		pub fn add_service_node(
			origin: OriginFor<T>,
			service: ServiceId,
			node: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(T::IdentityVerifier::is_verified(&node), Error::<T>::IdentityNotVerified);
			Self::mutate_owned(service, &who, |s| {
				ensure!(!s.nodes.contains(&node), Error::<T>::AlreadyServiceNode);
				s.nodes.try_push(node.clone()).map_err(|_| Error::<T>::TooManyServiceNodes)?;
				Ok(())
			})?;
			Self::deposit_event(Event::ServiceNodeAdded { service, node });
			Ok(())
		}

		/// Stop trusting `node`. Called by the owner, or by the node itself to leave. Its
		/// pending attestations are dropped ([`Config::OnNodeRemoved`]).
		#[pallet::call_index(2)]
		#[pallet::weight(
			T::WeightInfo::remove_service_node().saturating_add(T::OnNodeRemoved::weight())
		)]
		pub fn remove_service_node(
			origin: OriginFor<T>,
			service: ServiceId,
			node: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let owner = Services::<T>::get(service).ok_or(Error::<T>::UnknownService)?.owner;
			let as_owner = if who == node { owner } else { who };
			Self::mutate_owned(service, &as_owner, |s| {
				let position =
					s.nodes.iter().position(|n| *n == node).ok_or(Error::<T>::NotServiceNode)?;
				s.nodes.remove(position);
				Ok(())
			})?;
			T::OnNodeRemoved::on_service_node_removed(service, &node);
			Self::deposit_event(Event::ServiceNodeRemoved { service, node });
			Ok(())
		}

		/// Set how many trusted nodes must attest the same state for an anchor.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::set_quorum())]
		pub fn set_quorum(origin: OriginFor<T>, service: ServiceId, quorum: u32) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(quorum > 0, Error::<T>::InvalidQuorum);
			Self::mutate_owned(service, &who, |s| {
				s.quorum = quorum;
				Ok(())
			})?;
			Self::deposit_event(Event::QuorumSet { service, quorum });
			Ok(())
		}

		/// Become a super node, holding `stake` (at least `MinSuperNodeStake`). When the set is
		/// full, `stake` must be above its lowest, which is evicted.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::register_super_node())]
		pub fn register_super_node(
			origin: OriginFor<T>,
			#[pallet::compact] stake: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!SuperNodes::<T>::contains_key(&who), Error::<T>::AlreadySuperNode);
			ensure!(stake >= T::MinSuperNodeStake::get(), Error::<T>::StakeTooLow);
			let mut set = ActiveSet::<T>::get();
			if set.is_full() {
				let lowest = Self::lowest(&set).ok_or(Error::<T>::StakeTooLowForFullSet)?;
				ensure!(stake > set[lowest].stake, Error::<T>::StakeTooLowForFullSet);
				let evicted = set.remove(lowest).who;
				let unlocks_at = Self::start_unbonding(&evicted);
				Self::deposit_event(Event::SuperNodeEvicted { who: evicted, unlocks_at });
			}
			T::Currency::hold(&HoldReason::SuperNodeStake.into(), &who, stake)?;
			SuperNodes::<T>::insert(&who, SuperNode { stake, unlocks_at: None });
			let since = frame_system::Pallet::<T>::block_number();
			set.try_push(ActiveSuperNode { who: who.clone(), stake, since })
				.map_err(|_| Error::<T>::StakeTooLowForFullSet)?;
			ActiveSet::<T>::put(set);
			Self::deposit_event(Event::SuperNodeRegistered { who, stake });
			Ok(())
		}

		/// Stop approving anchors; the stake stays held (and slashable) for
		/// `SuperNodeUnbondingPeriod` blocks.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::leave_super_nodes())]
		pub fn leave_super_nodes(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let unlocks_at = Self::deactivate(&who).ok_or(Error::<T>::NotSuperNode)?;
			Self::deposit_event(Event::SuperNodeLeft { who, unlocks_at });
			Ok(())
		}

		/// Set who may write to `service`: if `open`, any device may join it; if not, only
		/// those its owner registers or admits. Its devices that the owner let lock may lock
		/// value to `lock_destinations` only (other existing services, at most
		/// `MaxLockDestinations`). Devices already admitted stay; the service's nodes apply
		/// the destinations from the block this is finalized in.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::set_policy(lock_destinations.len() as u32))]
		pub fn set_policy(
			origin: OriginFor<T>,
			service: ServiceId,
			open: bool,
			lock_destinations: Vec<ServiceId>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let owner = Services::<T>::get(service).ok_or(Error::<T>::UnknownService)?.owner;
			ensure!(owner == who, Error::<T>::NotServiceOwner);
			let destinations = BoundedVec::try_from(lock_destinations.clone())
				.map_err(|_| Error::<T>::TooManyLockDestinations)?;
			for (i, destination) in destinations.iter().enumerate() {
				ensure!(
					*destination != service
						&& !destinations[..i].contains(destination)
						&& Services::<T>::contains_key(destination),
					Error::<T>::InvalidLockDestination
				);
			}
			Policies::<T>::insert(service, ServicePolicy { open, lock_destinations: destinations });
			Self::deposit_event(Event::PolicySet { service, open, lock_destinations });
			Ok(())
		}

		/// Release the stake of a super node that left, once its unbonding period has passed.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::withdraw_super_node_stake())]
		pub fn withdraw_super_node_stake(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let node = SuperNodes::<T>::get(&who).ok_or(Error::<T>::NotSuperNode)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(node.unlocks_at.is_some_and(|at| at <= now), Error::<T>::StakeStillLocked);
			let amount = T::Currency::release(
				&HoldReason::SuperNodeStake.into(),
				&who,
				node.stake,
				Precision::BestEffort,
			)?;
			SuperNodes::<T>::remove(&who);
			Self::deposit_event(Event::SuperNodeStakeWithdrawn { who, amount });
			Ok(())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The position of the set's lowest stake; of equal stakes, the latest admitted (the set
	/// keeps admission order).
	fn lowest(set: &ActiveSetOf<T>) -> Option<usize> {
		set.iter().enumerate().rev().min_by_key(|(_, member)| member.stake).map(|(i, _)| i)
	}

	/// Starts `who`'s unbonding period; returns when its stake is released.
	fn start_unbonding(who: &T::AccountId) -> BlockNumberFor<T> {
		let unlocks_at = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::SuperNodeUnbondingPeriod::get());
		SuperNodes::<T>::mutate(who, |node| {
			if let Some(node) = node {
				node.unlocks_at = Some(unlocks_at);
			}
		});
		unlocks_at
	}

	/// Takes active super node `who` out of the set and starts its unbonding; returns when its
	/// stake is released, or `None` if it is not active.
	fn deactivate(who: &T::AccountId) -> Option<BlockNumberFor<T>> {
		let mut set = ActiveSet::<T>::get();
		let position = set.iter().position(|member| member.who == *who)?;
		set.remove(position);
		ActiveSet::<T>::put(set);
		Some(Self::start_unbonding(who))
	}

	/// Changes `service` as its owner `who`, then suspends or resumes it if its node count
	/// now calls for it.
	fn mutate_owned(
		service: ServiceId,
		who: &T::AccountId,
		change: impl FnOnce(&mut Service<T>) -> Result<(), Error<T>>,
	) -> DispatchResult {
		let status = Services::<T>::try_mutate(service, |maybe| {
			let s = maybe.as_mut().ok_or(Error::<T>::UnknownService)?;
			ensure!(s.owner == *who, Error::<T>::NotServiceOwner);
			change(s)?;
			let (before, after) = (s.status, s.status_for_nodes());
			s.status = after;
			Ok::<_, Error<T>>((before, after))
		})?;
		match status {
			(ServiceStatus::Active, ServiceStatus::Suspended) => {
				Self::deposit_event(Event::ServiceSuspended { service })
			}
			(ServiceStatus::Suspended, ServiceStatus::Active) => {
				Self::deposit_event(Event::ServiceResumed { service })
			}
			_ => {}
		}
		Ok(())
	}
}

impl<T: Config> ServiceAdmission<T::AccountId> for Pallet<T> {
	fn admission(service: ServiceId) -> Option<Admission<T::AccountId>> {
		let owner = Services::<T>::get(service)?.owner;
		Some(Admission { owner, open: Policies::<T>::get(service).open })
	}
}

impl<T: Config> ServiceInspect<T::AccountId, BlockNumberFor<T>, BalanceOf<T>> for Pallet<T> {
	fn service(id: ServiceId) -> Option<ServiceTerms<BlockNumberFor<T>>> {
		Services::<T>::get(id).map(|s| s.terms())
	}

	fn service_owner(id: ServiceId) -> Option<T::AccountId> {
		Services::<T>::get(id).map(|s| s.owner)
	}

	fn service_node(service: ServiceId, who: &T::AccountId) -> NodeStanding {
		if !Services::<T>::get(service).is_some_and(|s| s.nodes.contains(who)) {
			NodeStanding::NotANode
		} else if !T::IdentityVerifier::is_verified(who) {
			NodeStanding::Unverified
		} else {
			NodeStanding::Trusted
		}
	}

	fn may_lock_to(source: ServiceId, destination: ServiceId) -> bool {
		Policies::<T>::get(source).lock_destinations.contains(&destination)
	}

	fn is_super_node(who: &T::AccountId) -> bool {
		SuperNodes::<T>::get(who).is_some_and(|n| n.unlocks_at.is_none())
	}

	fn super_node_since(who: &T::AccountId) -> Option<BlockNumberFor<T>> {
		ActiveSet::<T>::get().into_iter().find(|member| member.who == *who).map(|m| m.since)
	}

	fn super_nodes_since(at: BlockNumberFor<T>) -> u32 {
		ActiveSet::<T>::get().iter().filter(|member| member.since <= at).count() as u32
	}

	fn chill_super_node(who: &T::AccountId) -> bool {
		let Some(unlocks_at) = Self::deactivate(who) else { return false };
		Self::deposit_event(Event::SuperNodeChilled { who: who.clone(), unlocks_at });
		true
	}

	fn slash_super_node(who: &T::AccountId, fraction: Perbill) -> BalanceOf<T> {
		let Some(mut node) = SuperNodes::<T>::get(who) else { return Zero::zero() };
		let (credit, _) =
			T::Currency::slash(&HoldReason::SuperNodeStake.into(), who, fraction * node.stake);
		let amount = credit.peek();
		T::OnSlash::on_unbalanced(credit);
		node.stake = node.stake.saturating_sub(amount);
		SuperNodes::<T>::insert(who, node);
		ActiveSet::<T>::mutate(|set| {
			if let Some(member) = set.iter_mut().find(|member| member.who == *who) {
				member.stake = member.stake.saturating_sub(amount);
			}
		});
		Self::deposit_event(Event::SuperNodeSlashed { who: who.clone(), amount });
		amount
	}

	fn pay_anchor_fee(
		service: ServiceId,
		approvers: &[T::AccountId],
	) -> Result<BalanceOf<T>, DispatchError> {
		let payer = Services::<T>::get(service).ok_or(Error::<T>::UnknownService)?.owner;
		let fee = T::AnchorFee::get();
		let Some((first, others)) = approvers.split_first() else { return Ok(Zero::zero()) };
		if fee.is_zero() {
			return Ok(fee);
		}
		let share = fee / BalanceOf::<T>::from(approvers.len() as u32);
		let first_share = fee.saturating_sub(share.saturating_mul((others.len() as u32).into()));
		frame_support::storage::with_storage_layer(|| {
			T::Currency::transfer(&payer, first, first_share, Preservation::Preserve)?;
			others.iter().try_for_each(|super_node| {
				T::Currency::transfer(&payer, super_node, share, Preservation::Preserve).map(|_| ())
			})
		})?;
		Self::deposit_event(Event::AnchorFeePaid { service, payer, fee });
		Ok(fee)
	}
}
