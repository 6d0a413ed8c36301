//! # NestChain anchors: Proof-of-Truth attestations and super-node approvals
//!
//! Every epoch each service NestChain commits its confirmed state to WebChain as the Merkle
//! root of its records ([`thingschain_primitives::merkle`]).
//!
//! ```text
//!  service nodes ──attest(epoch, root, prev)──►  candidate (root, prev) of the epoch
//!  super nodes   ──approve(epoch, root)───────►       │ quorum attestations
//!                                                     │ + enough approvals
//!                                                     ▼
//!        … ◄── anchor e-1 ◄── prev ── anchor e = (root, prev, hash) ── Anchored event
//! ```
//!
//! - Only the service's trusted nodes attest (Proof of Truth), one root per node and epoch,
//!   and only while the service is active (enough trusted nodes). A node whose registrar
//!   judgement was withdrawn is refused (`IdentityNotVerified`).
//! - An anchor needs `quorum` attestations of the same (root, previous anchor) and approvals
//!   from `ApprovalThreshold` of the super nodes that were active when the epoch began (at
//!   least one): super nodes registered since cannot raise the bar. A super node that stays
//!   idle for `IdlePeriod` blocks while anchors are made without it can be chilled by anyone
//!   (`chill_idle`). Only attestations of
//!   nodes still trusted and approvals of super nodes still active count when it is decided;
//!   a node removed from its service loses its pending attestations at once.
//! - **No permanent stall.** An epoch has room for a root per trusted node, so no number of
//!   conflicting roots locks the honest one out. The service's owner (or governance,
//!   `AdminOrigin`) can expire an epoch's pending roots (`expire_pending`: nodes attest
//!   afresh) or skip the epoch altogether (`skip_epoch`: it is settled with no state, and the
//!   next epoch builds on the anchor before it); the peg voids claims whose finality window
//!   holds a skipped epoch.
//! - Anchors form a hash chain per service: epochs are anchored in order, each naming the
//!   hash of the previous anchor; a skipped epoch, a wrong previous anchor or an epoch that
//!   has not ended yet is refused with a named error.
//! - The anchor's service owner pays the registry's anchor fee to the approving super nodes
//!   when the anchor is accepted; an owner that cannot pay holds the anchor back
//!   (`AnchorFeeUnpaid`) until it can.
//! - A super node that approves two different roots for one service epoch is slashed
//!   `DoubleApprovalSlash` of its stake on the spot; the conflicting approval is not counted.
//! - Anyone checks that a record is in an anchored state with [`Pallet::verify_inclusion`]
//!   (runtime API `NestApi`, RPC `nest_verifyInclusion`).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
#[cfg(any(test, feature = "try-runtime"))]
mod invariants;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod weights;

pub use pallet::*;
pub use weights::WeightInfo;

use codec::{Decode, Encode, MaxEncodedLen};
use pallet_service_registry::{NodeStanding, OnServiceNodeRemoved, ServiceInspect, ServiceTerms};
use polkadot_sdk::{
	frame_support::{self, pallet_prelude::*},
	frame_system::{self, pallet_prelude::*},
	sp_runtime::{
		traits::{Hash as _, Saturating},
		Perbill,
	},
};
use scale_info::TypeInfo;
use thingschain_primitives::{
	ids::{Epoch, Hash, ServiceId},
	merkle::InclusionProof,
};

/// An anchored (or skipped) epoch of a service.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
pub struct Anchor<T: Config> {
	/// Merkle root of the service's confirmed records in this epoch.
	pub root: Hash,
	/// Hash of the previous anchor of the service (zero for its first).
	pub prev: Hash,
	/// This anchor's hash, which the next one names.
	pub hash: Hash,
	/// When it was anchored.
	pub anchored_at: BlockNumberFor<T>,
	/// The super nodes that approved it; approving another root for the epoch is slashed.
	pub approvers: BoundedVec<T::AccountId, T::MaxApprovers>,
	/// Settled by its owner or governance with no state (root zero, no approvers).
	pub skipped: bool,
}

/// The latest anchored (or skipped) epoch of a service.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
pub struct LatestAnchor<T: Config> {
	/// The epoch.
	pub epoch: Epoch,
	/// Its anchor's hash, which the next epoch's anchor names.
	pub hash: Hash,
	/// The block it was anchored (or skipped) at.
	pub anchored_at: BlockNumberFor<T>,
}

/// A root proposed for an epoch, with who backs it so far.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
pub struct Candidate<T: Config> {
	/// The proposed Merkle root.
	pub root: Hash,
	/// The previous anchor it builds on.
	pub prev: Hash,
	/// Trusted nodes that attested it.
	pub attesters: BoundedVec<T::AccountId, T::MaxAttesters>,
	/// Super nodes that approved it.
	pub approvers: BoundedVec<T::AccountId, T::MaxApprovers>,
}

/// What other pallets (the peg) read about anchors.
pub trait AnchorInspect<BlockNumber> {
	/// The root anchored for `service`'s `epoch` and the block it was anchored at (none for
	/// an epoch that was skipped).
	fn anchor(service: ServiceId, epoch: Epoch) -> Option<(Hash, BlockNumber)>;
	/// Whether `service`'s `epoch` was skipped: settled with no state.
	fn skipped(service: ServiceId, epoch: Epoch) -> bool;
}

/// The hash that chains an anchor to the next.
pub fn anchor_hash(service: ServiceId, epoch: Epoch, root: &Hash, prev: &Hash) -> Hash {
	polkadot_sdk::sp_runtime::traits::BlakeTwo256::hash_of(&(
		b"tc/anchor",
		service,
		epoch,
		root,
		prev,
	))
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
	/// leaves a mock to say only what is its own.
	pub mod config_preludes {
		use super::*;
		use polkadot_sdk::frame_support::{derive_impl, parameter_types, traits::ConstUint};

		/// The values the mocks of the anchors and the peg share.
		pub struct TestDefaultConfig;

		parameter_types! {
			/// Half of the super nodes, rounded up, approve an anchor.
			pub const ApprovalThreshold: Perbill = Perbill::from_percent(50);
			/// A fifth of its stake for approving two roots of one epoch.
			pub const DoubleApprovalSlash: Perbill = Perbill::from_percent(20);
		}

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			type ApprovalThreshold = ApprovalThreshold;
			type AdminOrigin = frame_system::EnsureRoot<u64>;
			type DoubleApprovalSlash = DoubleApprovalSlash;
			type MaxAttesters = ConstU32<4>;
			type MaxApprovers = ConstU32<8>;
			type IdlePeriod = ConstUint<30>;
			type MaxCandidates = ConstU32<4>;
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// Services, their trusted nodes and the super nodes.
		#[pallet::no_default]
		type Registry: ServiceInspect<Self::AccountId, BlockNumberFor<Self>, Self::Balance>;

		/// The registry's balance type (of super-node stakes).
		#[pallet::no_default]
		type Balance: Parameter + MaxEncodedLen + Default + Copy;

		/// Share of the active super nodes whose approval an anchor needs (at least one, at
		/// most `MaxApprovers`).
		#[pallet::constant]
		type ApprovalThreshold: Get<Perbill>;

		/// Who may expire or skip any service's pending epoch besides its owner (governance).
		#[pallet::no_default_bounds]
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Share of its stake a super node loses for approving two roots of one epoch.
		#[pallet::constant]
		type DoubleApprovalSlash: Get<Perbill>;

		/// Most attesters per candidate (the registry's most nodes per service).
		#[pallet::constant]
		type MaxAttesters: Get<u32>;

		/// Most approvers per candidate.
		#[pallet::constant]
		type MaxApprovers: Get<u32>;

		/// Blocks a super node may go without approving, while others anchor, before anyone
		/// may chill it.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type IdlePeriod: Get<BlockNumberFor<Self>>;

		/// Most competing roots per epoch: at least `MaxAttesters`, a root for every trusted
		/// node, so conflicting roots never leave the honest one without room.
		#[pallet::constant]
		type MaxCandidates: Get<u32>;

		/// Weights of this pallet's calls, measured by its benchmarks.
		type WeightInfo: WeightInfo;

		/// Sets up services and super nodes for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		#[pallet::no_default]
		type BenchmarkHelper: benchmarking::BenchmarkHelper<Self::AccountId>;
	}

	/// Anchored epochs of every service.
	#[pallet::storage]
	pub type Anchors<T: Config> =
		StorageDoubleMap<_, Twox64Concat, ServiceId, Twox64Concat, Epoch, Anchor<T>>;

	/// The latest anchored epoch of each service (v1; a tuple of its epoch and hash in v0).
	#[pallet::storage]
	pub type Latest<T: Config> = StorageMap<_, Twox64Concat, ServiceId, LatestAnchor<T>>;

	/// The block each super node last approved a root at.
	#[pallet::storage]
	pub type LastApproved<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BlockNumberFor<T>>;

	/// The block the latest anchor of any service was made at.
	#[pallet::storage]
	pub type LastAnchoredAt<T: Config> = StorageValue<_, BlockNumberFor<T>>;

	/// Roots proposed for the next epoch of each service, not yet anchored.
	#[pallet::storage]
	pub type Pending<T: Config> =
		StorageMap<_, Twox64Concat, ServiceId, (Epoch, BoundedVec<Candidate<T>, T::MaxCandidates>)>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `node` attested `root` for `service`'s `epoch`.
		Attested { service: ServiceId, epoch: Epoch, node: T::AccountId, root: Hash },
		/// Trusted nodes attested different roots for the same epoch.
		ConflictingRoots { service: ServiceId, epoch: Epoch, root: Hash, other: Hash },
		/// Super node `who` approved `root`.
		Approved { service: ServiceId, epoch: Epoch, who: T::AccountId, root: Hash },
		/// `service`'s `epoch` is anchored with `root`; the anchor's hash is `hash`.
		Anchored { service: ServiceId, epoch: Epoch, root: Hash, hash: Hash },
		/// Super node `who` approved two roots for one epoch and lost `slashed`.
		DoubleApproval { service: ServiceId, epoch: Epoch, who: T::AccountId, slashed: T::Balance },
		/// The pending roots of `service`'s `epoch` were dropped: its nodes attest afresh.
		PendingExpired { service: ServiceId, epoch: Epoch },
		/// `service`'s `epoch` was skipped: settled with no state; the next builds on `hash`.
		EpochSkipped { service: ServiceId, epoch: Epoch, hash: Hash },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No such service.
		UnknownService,
		/// The service has fewer trusted nodes than its quorum; it anchors nothing.
		ServiceSuspended,
		/// Only the service's trusted (identity-verified) nodes attest.
		NotServiceNode,
		/// The node's identity no longer has a positive registrar judgement.
		IdentityNotVerified,
		/// Only the service's owner (or governance) may expire or skip its epoch.
		NotServiceOwner,
		/// No root is pending for the service's next epoch.
		NothingPending,
		/// The super node approved within `IdlePeriod`, or no anchor was made without it since.
		NotIdle,
		/// Only active super nodes approve.
		NotSuperNode,
		/// The epoch is already anchored.
		StaleEpoch,
		/// An earlier epoch of the service is not anchored yet.
		EpochGap,
		/// The epoch has not ended.
		EpochNotEnded,
		/// The previous anchor named is not the service's latest anchor.
		WrongPreviousAnchor,
		/// This node already attested this epoch.
		AlreadyAttested,
		/// This super node already approved this root.
		AlreadyApproved,
		/// No trusted node attested this root for the epoch.
		UnknownRoot,
		/// Too many competing roots for one epoch.
		TooManyCandidates,
		/// More attestations than `MaxAttesters`.
		TooManyAttesters,
		/// More approvals than `MaxApprovers`.
		TooManyApprovers,
		/// The service's owner cannot pay the anchor fee; the anchor waits until it can.
		AnchorFeeUnpaid,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// As a trusted node of `service`, attest that `root` is its confirmed state at the
		/// end of `epoch`, building on the anchor with hash `prev` (zero for the first).
		///
		/// Weighed as the attestation that anchors and pays the most approvers; charged what
		/// it did: most attestations only add to a candidate.
		#[pallet::call_index(0)]
		#[pallet::weight(
			T::WeightInfo::attest(T::MaxApprovers::get()).max(T::WeightInfo::attest_kept())
		)]
		pub fn attest(
			origin: OriginFor<T>,
			service: ServiceId,
			epoch: Epoch,
			root: Hash,
			prev: Hash,
		) -> DispatchResultWithPostInfo {
			let node = ensure_signed(origin)?;
			let terms = Self::ensure_open(service, epoch)?;
			match T::Registry::service_node(service, &node) {
				NodeStanding::NotANode => return Err(Error::<T>::NotServiceNode.into()),
				NodeStanding::Unverified => return Err(Error::<T>::IdentityNotVerified.into()),
				NodeStanding::Trusted => {}
			}
			let latest = Self::next_epoch(service).1;
			ensure!(prev == latest, Error::<T>::WrongPreviousAnchor);

			let mut candidates = Self::pending(service, epoch);
			ensure!(
				!candidates.iter().any(|c| c.attesters.contains(&node)),
				Error::<T>::AlreadyAttested
			);
			let index = match candidates.iter().position(|c| c.root == root && c.prev == prev) {
				Some(index) => index,
				None => {
					if let Some(other) = candidates.first() {
						Self::deposit_event(Event::ConflictingRoots {
							service,
							epoch,
							root,
							other: other.root,
						});
					}
					let fresh = Candidate {
						root,
						prev,
						attesters: BoundedVec::new(),
						approvers: BoundedVec::new(),
					};
					candidates.try_push(fresh).map_err(|_| Error::<T>::TooManyCandidates)?;
					candidates.len() - 1
				}
			};
			candidates[index]
				.attesters
				.try_push(node.clone())
				.map_err(|_| Error::<T>::TooManyAttesters)?;
			Self::deposit_event(Event::Attested { service, epoch, node, root });
			let paid = Self::anchor_or_keep(service, epoch, candidates, index, &terms)?;
			Ok(Some(paid.map_or_else(T::WeightInfo::attest_kept, T::WeightInfo::attest)).into())
		}

		/// As a super node, approve `root` for `service`'s `epoch`. Approving a second root
		/// for the same epoch (pending or anchored) slashes the caller instead.
		///
		/// Weighed as the approval that anchors and pays the most approvers; an approval that
		/// only adds to a candidate is charged as such.
		#[pallet::call_index(1)]
		#[pallet::weight(
			T::WeightInfo::approve(T::MaxApprovers::get()).max(T::WeightInfo::approve_kept())
		)]
		pub fn approve(
			origin: OriginFor<T>,
			service: ServiceId,
			epoch: Epoch,
			root: Hash,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			ensure!(T::Registry::is_super_node(&who), Error::<T>::NotSuperNode);
			if let Some(anchor) = Anchors::<T>::get(service, epoch) {
				if anchor.root != root && anchor.approvers.contains(&who) {
					Self::punish_double_approval(service, epoch, &who);
					return Ok(().into());
				}
				return Err(Error::<T>::StaleEpoch.into());
			}
			let terms = Self::ensure_open(service, epoch)?;
			let mut candidates = Self::pending(service, epoch);
			let index =
				candidates.iter().position(|c| c.root == root).ok_or(Error::<T>::UnknownRoot)?;
			if let Some(other) = candidates.iter().position(|c| c.approvers.contains(&who)) {
				ensure!(other != index, Error::<T>::AlreadyApproved);
				Self::punish_double_approval(service, epoch, &who);
				return Ok(().into());
			}
			candidates[index]
				.approvers
				.try_push(who.clone())
				.map_err(|_| Error::<T>::TooManyApprovers)?;
			LastApproved::<T>::insert(&who, frame_system::Pallet::<T>::block_number());
			Self::deposit_event(Event::Approved { service, epoch, who, root });
			let paid = Self::anchor_or_keep(service, epoch, candidates, index, &terms)?;
			Ok(Some(paid.map_or_else(T::WeightInfo::approve_kept, T::WeightInfo::approve)).into())
		}

		/// Drop every root pending for `service`'s next epoch, as its owner or governance: its
		/// nodes attest afresh (after a split, or roots from nodes since removed).
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::expire_pending())]
		pub fn expire_pending(origin: OriginFor<T>, service: ServiceId) -> DispatchResult {
			Self::ensure_owner_or_admin(origin, service)?;
			let (epoch, _) = Pending::<T>::take(service).ok_or(Error::<T>::NothingPending)?;
			Self::deposit_event(Event::PendingExpired { service, epoch });
			Ok(())
		}

		/// Settle `service`'s `epoch` (its next, ended) with no state, as its owner or
		/// governance, when its nodes cannot agree on one: the next epoch builds on the anchor
		/// before it. Pending roots are dropped; a suspended service may skip too.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::skip_epoch())]
		pub fn skip_epoch(
			origin: OriginFor<T>,
			service: ServiceId,
			epoch: Epoch,
		) -> DispatchResult {
			Self::ensure_owner_or_admin(origin, service)?;
			Self::ensure_due(service, epoch)?;
			let prev = Self::next_epoch(service).1;
			let hash = anchor_hash(service, epoch, &Hash::zero(), &prev);
			Anchors::<T>::insert(
				service,
				epoch,
				Anchor {
					root: Hash::zero(),
					prev,
					hash,
					anchored_at: frame_system::Pallet::<T>::block_number(),
					approvers: BoundedVec::new(),
					skipped: true,
				},
			);
			Self::set_latest(service, epoch, hash);
			Pending::<T>::remove(service);
			Self::deposit_event(Event::EpochSkipped { service, epoch, hash });
			Ok(())
		}

		/// Chill `super_node`, which has approved nothing for `IdlePeriod` blocks (since it was
		/// admitted, if it never did) while anchors were made without it. Anyone may.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::chill_idle())]
		pub fn chill_idle(origin: OriginFor<T>, super_node: T::AccountId) -> DispatchResult {
			ensure_signed(origin)?;
			let since =
				T::Registry::super_node_since(&super_node).ok_or(Error::<T>::NotSuperNode)?;
			let last = LastApproved::<T>::get(&super_node).map_or(since, |last| last.max(since));
			let now = frame_system::Pallet::<T>::block_number();
			let anchored_since = LastAnchoredAt::<T>::get().is_some_and(|at| at > last);
			ensure!(
				anchored_since && now >= last.saturating_add(T::IdlePeriod::get()),
				Error::<T>::NotIdle
			);
			T::Registry::chill_super_node(&super_node);
			LastApproved::<T>::remove(&super_node);
			Ok(())
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				T::MaxCandidates::get() >= T::MaxAttesters::get(),
				"every trusted node must have room for its root, or conflicting roots lock out the honest one"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(
			_n: BlockNumberFor<T>,
		) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Checks that `service` exists, is active and that `epoch` is the next one to anchor and
	/// has ended; returns the service's terms.
	fn ensure_open(
		service: ServiceId,
		epoch: Epoch,
	) -> Result<ServiceTerms<BlockNumberFor<T>>, DispatchError> {
		let terms = Self::ensure_due(service, epoch)?;
		ensure!(terms.active, Error::<T>::ServiceSuspended);
		Ok(terms)
	}

	/// The next epoch of `service` to settle and the hash of the anchor it builds on (epoch 0
	/// and zero before the first).
	pub fn next_epoch(service: ServiceId) -> (Epoch, Hash) {
		Latest::<T>::get(service)
			.map_or((0, Hash::zero()), |latest| (latest.epoch.saturating_add(1), latest.hash))
	}

	/// Records `epoch` (anchored or skipped, with anchor `hash`) as `service`'s latest, now.
	fn set_latest(service: ServiceId, epoch: Epoch, hash: Hash) {
		let anchored_at = frame_system::Pallet::<T>::block_number();
		Latest::<T>::insert(service, LatestAnchor { epoch, hash, anchored_at });
	}

	/// Checks that `service` exists and that `epoch` is the next one to settle and has ended;
	/// returns the service's terms.
	fn ensure_due(
		service: ServiceId,
		epoch: Epoch,
	) -> Result<ServiceTerms<BlockNumberFor<T>>, DispatchError> {
		let terms = T::Registry::service(service).ok_or(Error::<T>::UnknownService)?;
		let (next, _) = Self::next_epoch(service);
		ensure!(epoch >= next, Error::<T>::StaleEpoch);
		ensure!(epoch == next, Error::<T>::EpochGap);
		ensure!(
			frame_system::Pallet::<T>::block_number() >= terms.epoch_end(epoch),
			Error::<T>::EpochNotEnded
		);
		Ok(terms)
	}

	/// Checks that `origin` is `service`'s owner or the admin origin.
	fn ensure_owner_or_admin(origin: OriginFor<T>, service: ServiceId) -> DispatchResult {
		let owner = T::Registry::service_owner(service).ok_or(Error::<T>::UnknownService)?;
		match T::AdminOrigin::try_origin(origin) {
			Ok(_) => Ok(()),
			Err(origin) => {
				ensure!(ensure_signed(origin)? == owner, Error::<T>::NotServiceOwner);
				Ok(())
			}
		}
	}

	/// The candidates proposed for `epoch` of `service`.
	fn pending(service: ServiceId, epoch: Epoch) -> BoundedVec<Candidate<T>, T::MaxCandidates> {
		Pending::<T>::get(service)
			.filter(|(pending_epoch, _)| *pending_epoch == epoch)
			.map(|(_, candidates)| candidates)
			.unwrap_or_default()
	}

	/// How many approvals an anchor needs with the super nodes active now: the threshold
	/// share, rounded up, at least one and at most `MaxApprovers`.
	pub fn required_approvals(terms: &ServiceTerms<BlockNumberFor<T>>, epoch: Epoch) -> u32 {
		let share = T::ApprovalThreshold::get();
		let voters = T::Registry::super_nodes_since(terms.epoch_start(epoch));
		share.mul_ceil(voters).clamp(1, T::MaxApprovers::get())
	}

	/// The approvers to pay if `candidate` has `quorum` attestations and enough approvals from
	/// those still trusted and still super nodes. Leaving out those that no longer are can only
	/// lower the counts, so a candidate already short without that is kept before the registry
	/// is asked about each of its members.
	fn current_approvers(
		service: ServiceId,
		epoch: Epoch,
		terms: &ServiceTerms<BlockNumberFor<T>>,
		candidate: &Candidate<T>,
	) -> Option<BoundedVec<T::AccountId, T::MaxApprovers>> {
		let required = Self::required_approvals(terms, epoch);
		let short = |count: usize, needed: u32| (count as u32) < needed;
		if short(candidate.attesters.len(), terms.quorum)
			|| short(candidate.approvers.len(), required)
		{
			return None;
		}
		let mut approvers = candidate.approvers.clone();
		approvers.retain(|who| T::Registry::is_super_node(who));
		let trusted = candidate
			.attesters
			.iter()
			.filter(|node| T::Registry::service_node(service, node) == NodeStanding::Trusted)
			.count();
		(!short(approvers.len(), required) && !short(trusted, terms.quorum)).then_some(approvers)
	}

	/// Anchors candidate `index` if it has `quorum` attestations and enough approvals, and
	/// its approvers are paid; returns how many were paid. Otherwise stores the candidates
	/// and returns `None`.
	fn anchor_or_keep(
		service: ServiceId,
		epoch: Epoch,
		candidates: BoundedVec<Candidate<T>, T::MaxCandidates>,
		index: usize,
		terms: &ServiceTerms<BlockNumberFor<T>>,
	) -> Result<Option<u32>, DispatchError> {
		let Some(approvers) = Self::current_approvers(service, epoch, terms, &candidates[index])
		else {
			Pending::<T>::insert(service, (epoch, candidates));
			return Ok(None);
		};
		let candidate = &candidates[index];
		T::Registry::pay_anchor_fee(service, &approvers)
			.map_err(|_| Error::<T>::AnchorFeeUnpaid)?;
		let hash = anchor_hash(service, epoch, &candidate.root, &candidate.prev);
		Anchors::<T>::insert(
			service,
			epoch,
			Anchor {
				root: candidate.root,
				prev: candidate.prev,
				hash,
				anchored_at: frame_system::Pallet::<T>::block_number(),
				approvers: approvers.clone(),
				skipped: false,
			},
		);
		Self::set_latest(service, epoch, hash);
		LastAnchoredAt::<T>::put(frame_system::Pallet::<T>::block_number());
		Pending::<T>::remove(service);
		Self::deposit_event(Event::Anchored { service, epoch, root: candidate.root, hash });
		Ok(Some(approvers.len() as u32))
	}

	/// Slashes super node `who` for approving a second root of `epoch`.
	fn punish_double_approval(service: ServiceId, epoch: Epoch, who: &T::AccountId) {
		let slashed = T::Registry::slash_super_node(who, T::DoubleApprovalSlash::get());
		Self::deposit_event(Event::DoubleApproval { service, epoch, who: who.clone(), slashed });
	}

	/// Whether `record` is in the state anchored for `service`'s `epoch`; `None` if that
	/// epoch is not anchored.
	pub fn verify_inclusion(
		service: ServiceId,
		epoch: Epoch,
		record: &[u8],
		proof: &InclusionProof,
	) -> Option<bool> {
		Anchors::<T>::get(service, epoch)
			.filter(|anchor| !anchor.skipped)
			.map(|anchor| proof.verify(&anchor.root, record))
	}
}

impl<T: Config> AnchorInspect<BlockNumberFor<T>> for Pallet<T> {
	fn anchor(service: ServiceId, epoch: Epoch) -> Option<(Hash, BlockNumberFor<T>)> {
		Anchors::<T>::get(service, epoch)
			.filter(|anchor| !anchor.skipped)
			.map(|anchor| (anchor.root, anchor.anchored_at))
	}

	fn skipped(service: ServiceId, epoch: Epoch) -> bool {
		Anchors::<T>::get(service, epoch).is_some_and(|anchor| anchor.skipped)
	}
}

/// A node removed from its service loses its pending attestations; a root nobody attests or
/// approves any more makes room for others.
impl<T: Config> OnServiceNodeRemoved<T::AccountId> for Pallet<T> {
	fn on_service_node_removed(service: ServiceId, node: &T::AccountId) {
		Pending::<T>::mutate_exists(service, |pending| {
			let Some((_, candidates)) = pending else { return };
			for candidate in candidates.iter_mut() {
				candidate.attesters.retain(|attester| attester != node);
			}
			candidates.retain(|c| !c.attesters.is_empty() || !c.approvers.is_empty());
			if candidates.is_empty() {
				*pending = None;
			}
		});
	}

	fn weight() -> Weight {
		T::WeightInfo::on_service_node_removed()
	}
}
