//! # Aura equivocation reports
//!
//! An Aura authority may seal only one block per slot. Anyone who sees two different headers
//! sealed by the same authority for the same slot (the node logs them when it imports the
//! second) can report them with [`Pallet::report_equivocation`], together with a proof that
//! the key belonged to a validator of that session (`pallet-session`'s historical proofs).
//! A valid report becomes an [`AuraEquivocationOffence`] handed to the runtime's
//! `ReportOffence` (pallet-offences), whose handler slashes the offender; the reporter pays no
//! fee.
//!
//! The SDK reports GRANDPA and BABE equivocations this way; Aura has no runtime-side report,
//! which this pallet adds.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
#[cfg(test)]
mod mock;
mod offence;
#[cfg(test)]
mod tests;
pub mod weights;

pub use offence::{check_equivocation_proof, AuraEquivocationOffence};
pub use pallet::*;
pub use weights::WeightInfo;

use alloc::boxed::Box;
use codec::Codec;
use polkadot_sdk::{
	frame_support::{self, pallet_prelude::*, traits::KeyOwnerProofSystem},
	frame_system::pallet_prelude::*,
	sp_consensus_slots::{EquivocationProof, Slot},
	sp_runtime::{traits::Member, KeyTypeId, RuntimeAppPublic},
	sp_session::{GetSessionNumber, GetValidatorCount},
	sp_staking::offence::ReportOffence,
};

/// An equivocation proof for this runtime's headers and Aura keys.
pub type EquivocationProofOf<T> = EquivocationProof<HeaderFor<T>, <T as Config>::AuthorityId>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The key Aura seals blocks with (the runtime's `pallet_aura::Config::AuthorityId`).
		type AuthorityId: RuntimeAppPublic + Member + Parameter + MaxEncodedLen;

		/// Proof that a key belonged to a validator in some session.
		type KeyOwnerProof: Parameter + GetSessionNumber + GetValidatorCount;

		/// Who a key-ownership proof names: the validator and its identification.
		type Offender: Clone + Codec;

		/// Checks key-ownership proofs (pallet-session's historical module).
		type KeyOwnerProofSystem: KeyOwnerProofSystem<
			(KeyTypeId, Self::AuthorityId),
			Proof = Self::KeyOwnerProof,
			IdentificationTuple = Self::Offender,
		>;

		/// Receives the offence (pallet-offences).
		type ReportOffence: ReportOffence<
			Self::AccountId,
			Self::Offender,
			AuraEquivocationOffence<Self::Offender>,
		>;

		/// What recording and handling an accepted offence costs downstream (pallet-offences
		/// and the slash), on top of checking the report.
		#[pallet::constant]
		type OffenceHandlingWeight: Get<Weight>;

		/// Weights of this pallet's calls, measured by its benchmarks.
		type WeightInfo: WeightInfo;
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `reporter` proved that the authority with key `offender` sealed two blocks in `slot`.
		EquivocationReported { reporter: T::AccountId, offender: T::AuthorityId, slot: Slot },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The headers are not two different headers of the proof's slot, both sealed by the
		/// offender.
		InvalidEquivocationProof,
		/// The key-ownership proof does not show the key belonged to a validator.
		InvalidKeyOwnershipProof,
		/// This equivocation was already reported.
		DuplicateOffenceReport,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Report that `equivocation_proof.offender` sealed two different headers for the same
		/// slot. `key_owner_proof` proves the key belonged to a validator of that session. A
		/// valid report costs the reporter nothing.
		#[pallet::call_index(0)]
		#[pallet::weight(
			T::WeightInfo::check_equivocation_proof()
				// The historical root the key-ownership proof is checked against.
				.saturating_add(T::DbWeight::get().reads(1))
				.saturating_add(T::OffenceHandlingWeight::get())
		)]
		pub fn report_equivocation(
			origin: OriginFor<T>,
			equivocation_proof: Box<EquivocationProofOf<T>>,
			key_owner_proof: T::KeyOwnerProof,
		) -> DispatchResultWithPostInfo {
			let reporter = ensure_signed(origin)?;
			ensure!(
				check_equivocation_proof::<HeaderFor<T>, T::AuthorityId>(&equivocation_proof),
				Error::<T>::InvalidEquivocationProof
			);
			let session_index = key_owner_proof.session();
			let validator_set_count = key_owner_proof.validator_count();
			let EquivocationProof { offender, slot, .. } = *equivocation_proof;
			let offender_key = offender.clone();
			let offender = T::KeyOwnerProofSystem::check_proof(
				(T::AuthorityId::ID, offender),
				key_owner_proof,
			)
			.ok_or(Error::<T>::InvalidKeyOwnershipProof)?;
			let offence =
				AuraEquivocationOffence { slot, session_index, validator_set_count, offender };
			T::ReportOffence::report_offence(alloc::vec![reporter.clone()], offence)
				.map_err(|_| Error::<T>::DuplicateOffenceReport)?;
			Self::deposit_event(Event::EquivocationReported {
				reporter,
				offender: offender_key,
				slot,
			});
			Ok(Pays::No.into())
		}
	}
}
