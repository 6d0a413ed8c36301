//! # The peg between NestChains, through WebChain
//!
//! Sidechain pegging (two-way peg) between service NestChains, with WebChain's anchors as
//! the SPV proofs:
//!
//! ```text
//!  source NestChain              WebChain                                destination
//!  lock in epoch e ──anchor──►  Anchors(source, e)
//!                               claim(lock, e, proof)  ◄── after ConfirmationPeriod
//!                               ├─ contest: a revert anchored in epochs e ..= e+k ──► Contested
//!                               └─ epochs e+1 ..= e+k anchored, then ContestPeriod ──► Final
//!                                                                  ──► transfer / return
//!                                                                      (to source only)
//!                                                                  ──► settle: Arrivals(destination, n)
//!                                                                      ──► destination's NestChain
//! ```
//!
//! 1. A value or record is locked on the source NestChain: its service nodes put a
//!    [`PegLock`] in the source's state, which gets anchored in epoch `e`.
//! 2. After the anchor is `ConfirmationPeriod` blocks old, anyone claims the lock on WebChain
//!    with an inclusion proof against that anchor. A lock is claimed once, ever; claims are
//!    keyed by the source and the lock id, so no other service can take a lock's id first.
//! 3. The claimed value stays frozen until the source has anchored its next `k` epochs
//!    ([`FinalityEpochs`], per source service, at least 1) and `ContestPeriod` blocks have
//!    passed since the last of them, so whoever watches the source can answer that anchor.
//!    Until then anyone may void the claim by proving a [`PegRevert`] of the lock anchored in
//!    epochs `e ..= e + k`, the lock's own epoch included. A claim is never final while the
//!    source has not anchored those epochs, however long that takes. An epoch of that window
//!    the source skipped (settled with no state, see `pallet_nest_anchor`) may have held a
//!    revert nobody can prove: anyone may void the claim by naming it ([`Pallet::void_skipped`]).
//! 4. Then the claim is final: the holder may transfer it on the destination, and it can only
//!    go back to the chain it came from. Anyone may settle a final claim
//!    ([`Pallet::settle`]): it joins the destination's [`Arrivals`], numbered in the order
//!    they were settled, which the destination's service nodes append to their NestChain, and
//!    moves no more on WebChain. A claim made after its final epoch was anchored stays
//!    contestable for the contest period from when it is made.

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
	nest::{record_bytes, PegArrival, PegLock, PegRevert, RecordKind},
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
	/// Final and settled: it is its destination's arrival ([`Settled`]) and moves no more on
	/// WebChain.
	Settled,
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
	/// The last source epoch a revert may be anchored in (`epoch` + the source's finality
	/// epochs when it was claimed); once it is anchored the contest period starts.
	pub final_epoch: Epoch,
	/// Blocks the claim stays contestable after `final_epoch` is anchored. A claim made after
	/// that anchor gets the blocks since, too: it stays contestable the full contest period
	/// after it is made.
	pub contest_period: BlockNumberFor<T>,
	/// Where it stands.
	pub status: ClaimStatus,
}

impl<T: Config> Claim<T> {
	/// The first block at which it is final, once the source has anchored `final_epoch`.
	pub fn final_at(&self) -> Option<BlockNumberFor<T>> {
		let (_, anchored_at) = T::Anchors::anchor(self.lock.source, self.final_epoch)?;
		Some(anchored_at.saturating_add(self.contest_period))
	}

	/// Whether it is claimed, not contested, and past its last contestable block.
	pub fn is_final(&self, now: BlockNumberFor<T>) -> bool {
		self.status == ClaimStatus::Claimed && self.final_at().is_some_and(|at| now >= at)
	}
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

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// Anchored NestChain state.
		type Anchors: AnchorInspect<BlockNumberFor<Self>>;

		/// Whether destination services are active.
		type Registry: ServiceInspect<Self::AccountId, BlockNumberFor<Self>, Self::Balance>;

		/// The registry's balance type.
		type Balance: Parameter + MaxEncodedLen;

		/// Who sets the periods and each service's finality epochs (governance).
		type UpdateOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Later epochs a source must anchor before its locks' claims can be final, for a
		/// service governance has not set its own for. At least 1.
		#[pallet::constant]
		type DefaultFinalityEpochs: Get<Epoch>;

		/// Weights of this pallet's calls, measured by its benchmarks.
		type WeightInfo: WeightInfo;

		/// Anchors records for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: benchmarking::BenchmarkHelper;
	}

	/// Every lock ever claimed, by source service and lock id.
	#[pallet::storage]
	pub type Claims<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, ServiceId, Blake2_128Concat, Hash, Claim<T>>;

	/// Each destination's settled claims, numbered in the order they were settled (0, 1, …):
	/// its service nodes append them to its NestChain in that order.
	#[pallet::storage]
	pub type Arrivals<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		ServiceId,
		Twox64Concat,
		u64,
		PegArrival<T::AccountId>,
	>;

	/// How many claims each destination has had settled: the number its next arrival takes.
	#[pallet::storage]
	pub type ArrivalCount<T: Config> = StorageMap<_, Blake2_128Concat, ServiceId, u64, ValueQuery>;

	/// The arrival number of each settled claim, by source service and lock id.
	#[pallet::storage]
	pub type Settled<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, ServiceId, Blake2_128Concat, Hash, u64>;

	#[pallet::type_value]
	pub fn DefaultPeriod<T: Config>() -> BlockNumberFor<T> {
		100u32.into()
	}

	/// Blocks an anchor must be old before a lock in it may be claimed.
	#[pallet::storage]
	pub type ConfirmationPeriod<T: Config> =
		StorageValue<_, BlockNumberFor<T>, ValueQuery, DefaultPeriod<T>>;

	/// Blocks a claim stays contestable after its last contestable source epoch is anchored.
	#[pallet::storage]
	pub type ContestPeriod<T: Config> =
		StorageValue<_, BlockNumberFor<T>, ValueQuery, DefaultPeriod<T>>;

	/// Later epochs each source service must anchor before a claim of its lock is final,
	/// where governance set them ([`Config::DefaultFinalityEpochs`] elsewhere).
	#[pallet::storage]
	pub type FinalityEpochs<T: Config> = StorageMap<_, Blake2_128Concat, ServiceId, Epoch>;

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
		/// `contest_period` blocks after `source` anchors `final_epoch`, unless contested.
		Claimed {
			source: ServiceId,
			lock_id: Hash,
			destination: ServiceId,
			holder: T::AccountId,
			final_epoch: Epoch,
			contest_period: BlockNumberFor<T>,
		},
		/// An anchor of the source proved lock `lock_id` undone, or the source skipped an epoch
		/// of its window; its claim is void.
		ClaimContested { source: ServiceId, lock_id: Hash, by: T::AccountId },
		/// The claimed value moved to `to` on its destination.
		Transferred { source: ServiceId, lock_id: Hash, from: T::AccountId, to: T::AccountId },
		/// The claimed value went back to its source chain `source`, for `to`.
		Returned { source: ServiceId, lock_id: Hash, to: T::AccountId },
		/// Claims now wait `confirmation` blocks after their anchor and stay contestable for
		/// `contest` blocks after their last contestable epoch is anchored.
		PeriodsSet { confirmation: BlockNumberFor<T>, contest: BlockNumberFor<T> },
		/// Claims of `service`'s locks are final once it anchored `epochs` later epochs.
		FinalityEpochsSet { service: ServiceId, epochs: Epoch },
		/// The final claim of `source`'s lock `lock_id` is `destination`'s arrival `index`.
		Settled { source: ServiceId, lock_id: Hash, destination: ServiceId, index: u64 },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The named epoch of the source is not anchored.
		UnknownAnchor,
		/// The proof does not show the record in the anchored state.
		InvalidProof,
		/// The anchor is younger than `ConfirmationPeriod`.
		ClaimTooEarly,
		/// This lock of this source was already claimed.
		AlreadyClaimed,
		/// Source and destination are the same chain.
		SameChain,
		/// The destination service does not exist or is suspended.
		DestinationUnavailable,
		/// No claim of this lock.
		UnknownClaim,
		/// The source did not skip that epoch.
		NotSkipped,
		/// The claim was contested, returned or settled.
		NotClaimed,
		/// The claim is final: it can no longer be contested.
		AlreadyFinal,
		/// The revert is anchored before the lock's own epoch.
		RevertBeforeLock,
		/// The revert is anchored after the claim's last contestable epoch.
		RevertAfterFinalEpoch,
		/// The value is frozen until the claim is final.
		NotFinal,
		/// Only the holder may move it.
		NotHolder,
		/// A service's finality epochs must be at least 1: its next epoch may revert a lock.
		NoFinalityEpochs,
		/// The claim was settled already.
		AlreadySettled,
		/// The source's owner does not let its devices lock value to this destination (its
		/// policy does not name it).
		DestinationNotAllowed,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::DefaultFinalityEpochs::get() >= 1, "a claim waits for one later epoch");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(
			_n: BlockNumberFor<T>,
		) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
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
			ensure!(
				!Claims::<T>::contains_key(lock.source, lock.lock_id),
				Error::<T>::AlreadyClaimed
			);
			ensure!(
				T::Registry::service(lock.destination).is_some_and(|terms| terms.active),
				Error::<T>::DestinationUnavailable
			);
			// The service's nodes take locks only to these; a lock anchored before the owner
			// chose (or by a device it never let lock) moves nothing until the owner names
			// its destination.
			ensure!(
				T::Registry::may_lock_to(lock.source, lock.destination),
				Error::<T>::DestinationNotAllowed
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
			let final_epoch = epoch.saturating_add(Self::finality_epochs(lock.source));
			// A claim made after its final epoch was anchored would otherwise be final at
			// once, with no time left to contest it.
			let late = T::Anchors::anchor(lock.source, final_epoch)
				.map_or(Zero::zero(), |(_, anchored_at)| now.saturating_sub(anchored_at));
			let contest_period = ContestPeriod::<T>::get().saturating_add(late);
			Self::deposit_event(Event::Claimed {
				source: lock.source,
				lock_id: lock.lock_id,
				destination: lock.destination,
				holder: lock.beneficiary.clone(),
				final_epoch,
				contest_period,
			});
			Claims::<T>::insert(
				lock.source,
				lock.lock_id,
				Claim {
					holder: lock.beneficiary.clone(),
					lock,
					epoch,
					final_epoch,
					contest_period,
					status: ClaimStatus::Claimed,
				},
			);
			Ok(())
		}

		/// Void the claim of `source`'s lock `lock_id` by proving, against the source's anchor
		/// of `epoch` (the lock's own epoch up to the claim's final epoch), that the lock was
		/// undone. Only while the claim is not final.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::contest(proof.siblings.len() as u32))]
		pub fn contest(
			origin: OriginFor<T>,
			source: ServiceId,
			lock_id: Hash,
			epoch: Epoch,
			proof: InclusionProof,
		) -> DispatchResult {
			let by = ensure_signed(origin)?;
			let claim = Self::contestable(source, lock_id, epoch)?;
			let revert = record_bytes(RecordKind::Revert, &PegRevert { lock_id });
			Self::ensure_proven(source, epoch, &revert, &proof)?;
			Self::void(source, lock_id, claim, by);
			Ok(())
		}

		/// Give the final claimed value of `source`'s lock `lock_id` to `to` on its
		/// destination chain.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::transfer())]
		pub fn transfer(
			origin: OriginFor<T>,
			source: ServiceId,
			lock_id: Hash,
			to: T::AccountId,
		) -> DispatchResult {
			let from = ensure_signed(origin)?;
			let mut claim = Self::final_claim_of(source, lock_id, &from)?;
			claim.holder = to.clone();
			Claims::<T>::insert(source, lock_id, claim);
			Self::deposit_event(Event::Transferred { source, lock_id, from, to });
			Ok(())
		}

		/// Send the final claimed value of `source`'s lock `lock_id` back to `source`, the
		/// only chain it may go to, for `to`; its service nodes then release the lock there.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::return_to_source())]
		pub fn return_to_source(
			origin: OriginFor<T>,
			source: ServiceId,
			lock_id: Hash,
			to: T::AccountId,
		) -> DispatchResult {
			let holder = ensure_signed(origin)?;
			let mut claim = Self::final_claim_of(source, lock_id, &holder)?;
			claim.status = ClaimStatus::Returned;
			Claims::<T>::insert(source, lock_id, claim);
			Self::deposit_event(Event::Returned { source, lock_id, to });
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

		/// Set how many later epochs `service` must anchor before a claim of its lock is
		/// final (at least 1), for claims made from now on.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::set_finality_epochs())]
		pub fn set_finality_epochs(
			origin: OriginFor<T>,
			service: ServiceId,
			epochs: Epoch,
		) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			ensure!(epochs >= 1, Error::<T>::NoFinalityEpochs);
			FinalityEpochs::<T>::insert(service, epochs);
			Self::deposit_event(Event::FinalityEpochsSet { service, epochs });
			Ok(())
		}

		/// Void the claim of `source`'s lock `lock_id` because the source skipped `epoch` (the
		/// lock's own epoch up to the claim's final epoch): a revert it held can never be
		/// proven. Only while the claim is not final; its value can then go nowhere.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::void_skipped())]
		pub fn void_skipped(
			origin: OriginFor<T>,
			source: ServiceId,
			lock_id: Hash,
			epoch: Epoch,
		) -> DispatchResult {
			let by = ensure_signed(origin)?;
			let claim = Self::contestable(source, lock_id, epoch)?;
			ensure!(T::Anchors::skipped(source, epoch), Error::<T>::NotSkipped);
			Self::void(source, lock_id, claim, by);
			Ok(())
		}

		/// Settle the final claim of `source`'s lock `lock_id`: it becomes its destination's
		/// next arrival, for its holder, which the destination's service nodes append to their
		/// NestChain; on WebChain it moves no more. Anyone may; once, while the destination is
		/// active. A claim returned to its source never arrives.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::settle())]
		pub fn settle(origin: OriginFor<T>, source: ServiceId, lock_id: Hash) -> DispatchResult {
			ensure_signed(origin)?;
			let claim = Claims::<T>::get(source, lock_id).ok_or(Error::<T>::UnknownClaim)?;
			ensure!(claim.status != ClaimStatus::Settled, Error::<T>::AlreadySettled);
			ensure!(claim.status == ClaimStatus::Claimed, Error::<T>::NotClaimed);
			ensure!(
				claim.is_final(frame_system::Pallet::<T>::block_number()),
				Error::<T>::NotFinal
			);
			let destination = claim.lock.destination;
			// A suspended destination's nodes take no arrivals: it waits for them.
			ensure!(
				T::Registry::service(destination).is_some_and(|terms| terms.active),
				Error::<T>::DestinationUnavailable
			);
			let index = ArrivalCount::<T>::get(destination);
			let arrival =
				PegArrival { index, lock: claim.lock.clone(), holder: claim.holder.clone() };
			Arrivals::<T>::insert(destination, index, arrival);
			ArrivalCount::<T>::insert(destination, index.saturating_add(1));
			Settled::<T>::insert(source, lock_id, index);
			Claims::<T>::insert(source, lock_id, Claim { status: ClaimStatus::Settled, ..claim });
			Self::deposit_event(Event::Settled { source, lock_id, destination, index });
			Ok(())
		}
	}

	/// What relayers ask before they send a claim or a settlement, so they never guess the
	/// pallet's rules.
	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// The first block at which a lock anchored in `source`'s `epoch` may be claimed;
		/// `None` while that epoch is not anchored.
		pub fn claimable_from(source: ServiceId, epoch: Epoch) -> Option<BlockNumberFor<T>> {
			let (_, anchored_at) = T::Anchors::anchor(source, epoch)?;
			Some(anchored_at.saturating_add(ConfirmationPeriod::<T>::get()))
		}

		/// The first block at which the claim of `source`'s lock `lock_id` is final; `None`
		/// while its source has not anchored its final epoch, and for a claim contested or
		/// returned.
		pub fn final_from(source: ServiceId, lock_id: Hash) -> Option<BlockNumberFor<T>> {
			let claim = Claims::<T>::get(source, lock_id)?;
			(claim.status == ClaimStatus::Claimed).then(|| claim.final_at()).flatten()
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The claim of `source`'s lock `lock_id`, if it is still contestable with `epoch`: not
	/// final, and `epoch` within its window (the lock's epoch to its final epoch).
	fn contestable(source: ServiceId, lock_id: Hash, epoch: Epoch) -> Result<Claim<T>, Error<T>> {
		let claim = Claims::<T>::get(source, lock_id).ok_or(Error::<T>::UnknownClaim)?;
		ensure!(claim.status == ClaimStatus::Claimed, Error::<T>::NotClaimed);
		ensure!(
			!claim.is_final(frame_system::Pallet::<T>::block_number()),
			Error::<T>::AlreadyFinal
		);
		ensure!(epoch >= claim.epoch, Error::<T>::RevertBeforeLock);
		ensure!(epoch <= claim.final_epoch, Error::<T>::RevertAfterFinalEpoch);
		Ok(claim)
	}

	/// Voids `claim`, contested `by` someone.
	fn void(source: ServiceId, lock_id: Hash, mut claim: Claim<T>, by: T::AccountId) {
		claim.status = ClaimStatus::Contested;
		Claims::<T>::insert(source, lock_id, claim);
		Self::deposit_event(Event::ClaimContested { source, lock_id, by });
	}

	/// Later epochs `service` must anchor before a claim of its lock is final.
	pub fn finality_epochs(service: ServiceId) -> Epoch {
		FinalityEpochs::<T>::get(service).unwrap_or_else(T::DefaultFinalityEpochs::get).max(1)
	}

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

	/// The claim of `source`'s lock `lock_id`, if `who` holds it and it is final.
	fn final_claim_of(
		source: ServiceId,
		lock_id: Hash,
		who: &T::AccountId,
	) -> Result<Claim<T>, DispatchError> {
		let claim = Claims::<T>::get(source, lock_id).ok_or(Error::<T>::UnknownClaim)?;
		ensure!(claim.status == ClaimStatus::Claimed, Error::<T>::NotClaimed);
		ensure!(claim.holder == *who, Error::<T>::NotHolder);
		ensure!(claim.is_final(frame_system::Pallet::<T>::block_number()), Error::<T>::NotFinal);
		Ok(claim)
	}
}
