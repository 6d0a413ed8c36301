//! # The peg between NestChains, through WebChain
//!
//! Sidechain pegging (two-way peg) between service NestChains, with WebChain's anchors as
//! the SPV proofs:
//!
//! ```text
//!  source NestChain                 WebChain                          destination NestChain
//!  lock record in state ──anchor──► Anchors(source, e)
//!                                   claim(lock, e, proof)  ◄── after ConfirmationPeriod
//!                                   ├─ contest(revert in a later anchor) ──► Contested
//!                                   └─ ContestPeriod passes ──► Final ──► transfer / return
//!                                                                          (to source only)
//! ```
//!
//! 1. A value or record is locked on the source NestChain: its service nodes put a
//!    [`PegLock`] in the source's state, which gets anchored.
//! 2. After the anchor is `ConfirmationPeriod` blocks old, anyone claims the lock on WebChain
//!    with an inclusion proof against that anchor. A lock is claimed once, ever.
//! 3. During `ContestPeriod` the claimed value is frozen: anyone may cancel the claim by
//!    proving a [`PegRevert`] of the lock in a later anchor of the source.
//! 4. Then the claim is final: the holder may transfer it on the destination, and it can only
//!    go back to the chain it came from.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

pub use pallet::*;
pub use weights::WeightInfo;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use pallet_nest_anchor::AnchorInspect;
use pallet_service_registry::ServiceInspect;
use polkadot_sdk::{
	frame_support::{self, pallet_prelude::*},
	frame_system::{self, pallet_prelude::*},
	sp_runtime::traits::{Saturating, Zero},
};
use scale_info::TypeInfo;
use thingschain_primitives::{
	ids::{Epoch, Hash, ServiceId},
	merkle::InclusionProof,
	nest::{record_bytes, PegLock, PegRevert, RecordKind},
};

/// Where a claim stands.
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
pub enum ClaimStatus {
	/// Within its contest period, or past it and usable (see [`Claim::is_final`]).
	Claimed,
	/// A later anchor of the source proved the lock undone; the claim is void.
	Contested,
	/// Sent back to its source chain.
	Returned,
}

/// A lock claimed on WebChain.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
pub struct Claim<T: Config> {
	/// The lock, as proven.
	pub lock: PegLock<T::AccountId>,
	/// The source epoch whose anchor proved it.
	pub epoch: Epoch,
	/// Who holds it on the destination.
	pub holder: T::AccountId,
	/// First block at which it is final.
	pub contest_ends: BlockNumberFor<T>,
	/// Where it stands.
	pub status: ClaimStatus,
}

impl<T: Config> Claim<T> {
	/// Whether it is claimed, past its contest period and not contested.
	pub fn is_final(&self, now: BlockNumberFor<T>) -> bool {
		self.status == ClaimStatus::Claimed && now >= self.contest_ends
	}
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// Anchored NestChain state.
		type Anchors: AnchorInspect<BlockNumberFor<Self>>;

		/// Whether destination services are active.
		type Registry: ServiceInspect<Self::AccountId, BlockNumberFor<Self>, Self::Balance>;

		/// The registry's balance type.
		type Balance: Parameter + MaxEncodedLen;

		/// Who sets the confirmation and contest periods (governance).
		type UpdateOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Weights of this pallet's calls, measured by its benchmarks.
		type WeightInfo: WeightInfo;

		/// Anchors records for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: benchmarking::BenchmarkHelper;
	}

	/// Every lock ever claimed, by lock id.
	#[pallet::storage]
	pub type Claims<T: Config> = StorageMap<_, Blake2_128Concat, Hash, Claim<T>>;

	#[pallet::type_value]
	pub fn DefaultPeriod<T: Config>() -> BlockNumberFor<T> {
		100u32.into()
	}

	/// Blocks an anchor must be old before a lock in it may be claimed.
	#[pallet::storage]
	pub type ConfirmationPeriod<T: Config> =
		StorageValue<_, BlockNumberFor<T>, ValueQuery, DefaultPeriod<T>>;

	/// Blocks a claimed value stays frozen and contestable.
	#[pallet::storage]
	pub type ContestPeriod<T: Config> =
		StorageValue<_, BlockNumberFor<T>, ValueQuery, DefaultPeriod<T>>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Blocks before a lock may be claimed; zero keeps the default of 100.
		pub confirmation_period: BlockNumberFor<T>,
		/// Blocks a claim stays contestable; zero keeps the default of 100.
		pub contest_period: BlockNumberFor<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if !self.confirmation_period.is_zero() {
				ConfirmationPeriod::<T>::put(self.confirmation_period);
			}
			if !self.contest_period.is_zero() {
				ContestPeriod::<T>::put(self.contest_period);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// Lock `lock_id` from `source` was claimed on `destination` for `holder`; it is final
		/// at `contest_ends`.
		Claimed {
			lock_id: Hash,
			source: ServiceId,
			destination: ServiceId,
			holder: T::AccountId,
			contest_ends: BlockNumberFor<T>,
		},
		/// A later anchor of the source proved lock `lock_id` undone; its claim is void.
		ClaimContested { lock_id: Hash, by: T::AccountId },
		/// The claimed value moved to `to` on its destination.
		Transferred { lock_id: Hash, from: T::AccountId, to: T::AccountId },
		/// The claimed value went back to its source chain `source`, for `to`.
		Returned { lock_id: Hash, source: ServiceId, to: T::AccountId },
		/// Claims now wait `confirmation` blocks after their anchor and stay contestable for
		/// `contest` blocks.
		PeriodsSet { confirmation: BlockNumberFor<T>, contest: BlockNumberFor<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The named epoch of the source is not anchored.
		UnknownAnchor,
		/// The proof does not show the record in the anchored state.
		InvalidProof,
		/// The anchor is younger than `ConfirmationPeriod`.
		ClaimTooEarly,
		/// This lock was already claimed.
		AlreadyClaimed,
		/// Source and destination are the same chain.
		SameChain,
		/// The destination service does not exist or is suspended.
		DestinationUnavailable,
		/// No claim of this lock.
		UnknownClaim,
		/// The claim was contested or returned.
		NotClaimed,
		/// The contest period is over; the claim is final.
		ContestPeriodOver,
		/// The revert must be in a later anchor than the lock.
		RevertNotLater,
		/// The value is frozen until its contest period ends.
		StillInContestPeriod,
		/// Only the holder may move it.
		NotHolder,
		/// A pegged value can only go back to the chain it came from.
		WrongReturnChain,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Claim `lock` on its destination, proving it is in the source's state anchored for
		/// `epoch`. Anyone may relay the claim; the lock's beneficiary holds the value.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::claim(proof.siblings.len() as u32))]
		pub fn claim(
			origin: OriginFor<T>,
			lock: PegLock<T::AccountId>,
			epoch: Epoch,
			proof: InclusionProof,
		) -> DispatchResult {
			ensure_signed(origin)?;
			ensure!(lock.source != lock.destination, Error::<T>::SameChain);
			ensure!(!Claims::<T>::contains_key(lock.lock_id), Error::<T>::AlreadyClaimed);
			ensure!(
				T::Registry::service(lock.destination).is_some_and(|(_, _, _, active)| active),
				Error::<T>::DestinationUnavailable
			);
			let anchored_at = Self::ensure_proven(
				lock.source,
				epoch,
				&record_bytes(RecordKind::Lock, &lock),
				&proof,
			)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(
				now >= anchored_at.saturating_add(ConfirmationPeriod::<T>::get()),
				Error::<T>::ClaimTooEarly
			);
			let contest_ends = now.saturating_add(ContestPeriod::<T>::get());
			Self::deposit_event(Event::Claimed {
				lock_id: lock.lock_id,
				source: lock.source,
				destination: lock.destination,
				holder: lock.beneficiary.clone(),
				contest_ends,
			});
			Claims::<T>::insert(
				lock.lock_id,
				Claim {
					holder: lock.beneficiary.clone(),
					lock,
					epoch,
					contest_ends,
					status: ClaimStatus::Claimed,
				},
			);
			Ok(())
		}

		/// Void the claim of `lock_id` by proving, against the source's anchor of a later
		/// `epoch`, that the lock was undone. Only within the contest period.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::contest(proof.siblings.len() as u32))]
		pub fn contest(
			origin: OriginFor<T>,
			lock_id: Hash,
			epoch: Epoch,
			proof: InclusionProof,
		) -> DispatchResult {
			let by = ensure_signed(origin)?;
			let mut claim = Claims::<T>::get(lock_id).ok_or(Error::<T>::UnknownClaim)?;
			ensure!(claim.status == ClaimStatus::Claimed, Error::<T>::NotClaimed);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now < claim.contest_ends, Error::<T>::ContestPeriodOver);
			ensure!(epoch > claim.epoch, Error::<T>::RevertNotLater);
			let revert = record_bytes(RecordKind::Revert, &PegRevert { lock_id });
			Self::ensure_proven(claim.lock.source, epoch, &revert, &proof)?;
			claim.status = ClaimStatus::Contested;
			Claims::<T>::insert(lock_id, claim);
			Self::deposit_event(Event::ClaimContested { lock_id, by });
			Ok(())
		}

		/// Give the final claimed value `lock_id` to `to` on its destination chain.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::transfer())]
		pub fn transfer(origin: OriginFor<T>, lock_id: Hash, to: T::AccountId) -> DispatchResult {
			let from = ensure_signed(origin)?;
			let mut claim = Self::final_claim_of(lock_id, &from)?;
			claim.holder = to.clone();
			Claims::<T>::insert(lock_id, claim);
			Self::deposit_event(Event::Transferred { lock_id, from, to });
			Ok(())
		}

		/// Send the final claimed value `lock_id` back to `service`, which must be the chain it
		/// came from, for `to`; its service nodes then release the lock there.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::return_to_source())]
		pub fn return_to_source(
			origin: OriginFor<T>,
			lock_id: Hash,
			service: ServiceId,
			to: T::AccountId,
		) -> DispatchResult {
			let holder = ensure_signed(origin)?;
			let mut claim = Self::final_claim_of(lock_id, &holder)?;
			ensure!(service == claim.lock.source, Error::<T>::WrongReturnChain);
			claim.status = ClaimStatus::Returned;
			Claims::<T>::insert(lock_id, claim);
			Self::deposit_event(Event::Returned { lock_id, source: service, to });
			Ok(())
		}

		/// Set the confirmation and contest periods, for claims made from now on.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::set_periods())]
		pub fn set_periods(
			origin: OriginFor<T>,
			confirmation: BlockNumberFor<T>,
			contest: BlockNumberFor<T>,
		) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			ConfirmationPeriod::<T>::put(confirmation);
			ContestPeriod::<T>::put(contest);
			Self::deposit_event(Event::PeriodsSet { confirmation, contest });
			Ok(())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Checks `record` against `service`'s anchor of `epoch`; returns when it was anchored.
	fn ensure_proven(
		service: ServiceId,
		epoch: Epoch,
		record: &[u8],
		proof: &InclusionProof,
	) -> Result<BlockNumberFor<T>, DispatchError> {
		let (root, anchored_at) =
			T::Anchors::anchor(service, epoch).ok_or(Error::<T>::UnknownAnchor)?;
		ensure!(proof.verify(&root, record), Error::<T>::InvalidProof);
		Ok(anchored_at)
	}

	/// The claim of `lock_id`, if `who` holds it and it is final.
	fn final_claim_of(lock_id: Hash, who: &T::AccountId) -> Result<Claim<T>, DispatchError> {
		let claim = Claims::<T>::get(lock_id).ok_or(Error::<T>::UnknownClaim)?;
		ensure!(claim.status == ClaimStatus::Claimed, Error::<T>::NotClaimed);
		ensure!(claim.holder == *who, Error::<T>::NotHolder);
		ensure!(
			claim.is_final(frame_system::Pallet::<T>::block_number()),
			Error::<T>::StillInContestPeriod
		);
		Ok(claim)
	}
}
