//! # Aura equivocation reports
//!
//! An Aura authority may seal only one block per slot. Anyone who sees two different headers
//! sealed by the same authority for the same slot (the node logs them when it imports the
//! second) can report them with [`Pallet::report_equivocation`], together with a proof that
//! the key belonged to a validator of that session (`pallet-session`'s historical proofs).
//! The report must also fit the chain's record of that session ([`SessionSlots`], kept at the
//! first block of every session for `ReportWindow` sessions): the slot lies within the session
//! the key-ownership proof names, the offender was that slot's author (Aura's authorities of
//! the session, in turn), and the session is recent enough (`ReportTooOld` after the window,
//! when its historical root is pruned too).
//! A valid report becomes an [`AuraEquivocationOffence`] handed to the runtime's
//! `ReportOffence` (pallet-offences), whose handler slashes the offender; the reporter pays no
//! fee.
//!
//! Nodes report what they see themselves: the node's block import finds the second header an
//! authority sealed for a slot, and through the [`runtime_api::AuraEquivocationApi`] asks the
//! runtime for the offender's key-ownership proof and to submit
//! [`Pallet::report_equivocation_unsigned`] to its own transaction pool. That unsigned report
//! is accepted only from the local node or in a block, and only while it would still count
//! (the same checks as a signed report, and not an offence already known).
//!
//! ```text
//!  block import ── 2nd header of (slot, author) ──> generate_key_ownership_proof(slot, key)
//!                                                    submit_report_equivocation_unsigned_extrinsic
//!                                                                    │ (local pool)
//!  next block <── validate_unsigned: Local/InBlock, valid, not known ┘
//!       └── report_equivocation_unsigned ──> pallet-offences ──> DPoS slash, disable
//! ```
//!
//! The SDK reports GRANDPA and BABE equivocations this way; Aura has no runtime-side report,
//! which this pallet adds.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
#[cfg(any(test, feature = "try-runtime"))]
mod invariants;
#[cfg(test)]
mod mock;
mod offence;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod weights;

pub use offence::{check_equivocation_proof, AuraEquivocationOffence};
pub use pallet::*;
pub use weights::WeightInfo;

use alloc::{boxed::Box, vec::Vec};
use codec::Codec;
use polkadot_sdk::{
	frame_support::{self, pallet_prelude::*, traits::KeyOwnerProofSystem},
	frame_system::{
		offchain::{CreateBare, SubmitTransaction},
		pallet_prelude::*,
	},
	sp_consensus_slots::{EquivocationProof, Slot},
	sp_runtime::{
		traits::Member,
		transaction_validity::{
			InvalidTransaction, TransactionPriority, TransactionSource, TransactionValidity,
			TransactionValidityError, ValidTransaction,
		},
		KeyTypeId, RuntimeAppPublic,
	},
	sp_session::{GetSessionNumber, GetValidatorCount},
	sp_staking::{offence::ReportOffence, SessionIndex},
};

/// What the chain knows now of Aura's slots and sessions.
pub trait SlotSchedule<AuthorityId> {
	/// The current session.
	fn session() -> SessionIndex;
	/// The current block's slot.
	fn slot() -> Slot;
	/// Aura's authorities, in turn order (slot `s` is theirs at `s % len`).
	fn authorities() -> alloc::vec::Vec<AuthorityId>;
}

/// Forgets session history no report may need any more.
pub trait PruneSessions {
	/// Drops what is kept of the sessions before `session`.
	fn prune_up_to(session: SessionIndex);
}

/// A session as reports are checked against it.
#[derive(
	codec::Encode,
	codec::Decode,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	scale_info::TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
pub struct SessionRecord<T: Config> {
	/// The first slot its authorities seal: the one after its first block's, which the
	/// session before sealed (or, for the chain's first recorded session, its first block's).
	pub first_slot: Slot,
	/// Its Aura authorities, in turn order.
	pub authorities: BoundedVec<T::AuthorityId, T::MaxAuthorities>,
}

/// An equivocation proof for this runtime's headers and Aura keys.
pub type EquivocationProofOf<T> = EquivocationProof<HeaderFor<T>, <T as Config>::AuthorityId>;

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
	pub trait Config:
		polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> + CreateBare<Call<Self>>
	{
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

		/// The current session, slot and authorities (pallet-session and pallet-aura).
		type Schedule: SlotSchedule<Self::AuthorityId>;

		/// Prunes the session history older than the report window (the historical roots).
		type PruneSessions: PruneSessions;

		/// Sessions a report counts for, its own included (the slashing pallet's window).
		#[pallet::constant]
		type ReportWindow: Get<SessionIndex>;

		/// Most Aura authorities.
		#[pallet::constant]
		type MaxAuthorities: Get<u32>;

		/// Blocks an unsigned report waits in the transaction pool before it is dropped.
		#[pallet::constant]
		type ReportLongevity: Get<u64>;

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

	/// The sessions a report may still name: the slot each began at and its authorities.
	#[pallet::storage]
	pub type SessionSlots<T: Config> = StorageMap<_, Twox64Concat, SessionIndex, SessionRecord<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// The authority with key `offender` sealed two blocks in `slot`, as `reporter` proved
		/// (`None` for a node's own unsigned report).
		EquivocationReported {
			reporter: Option<T::AccountId>,
			offender: T::AuthorityId,
			slot: Slot,
		},
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
		/// The session named is older than the report window.
		ReportTooOld,
		/// The slot is not one of the session the key-ownership proof names.
		SlotNotInSession,
		/// The offender was not the author of that slot.
		NotSlotAuthor,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// At the first block of a session, records its first slot and authorities, and
		/// forgets the session that leaves the report window.
		fn on_initialize(_: BlockNumberFor<T>) -> Weight {
			let session = T::Schedule::session();
			if SessionSlots::<T>::contains_key(session) {
				return T::WeightInfo::session_recorded();
			}
			// The block that begins a session was sealed by the session before (Aura checks a
			// block against its parent's authorities): the new ones seal from the next slot on.
			// The chain's first recorded session seals this block too.
			let slot = T::Schedule::slot();
			let rotated = session.checked_sub(1).is_some_and(SessionSlots::<T>::contains_key);
			let first_slot = if rotated { slot.saturating_add(1u64) } else { slot };
			Self::record_session(session, first_slot, T::Schedule::authorities());
			// Looking, as in a recorded session; reading the slot and authorities; recording.
			T::WeightInfo::session_recorded()
				.saturating_add(T::DbWeight::get().reads(2))
				.saturating_add(T::WeightInfo::record_session())
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
		/// Report that `equivocation_proof.offender` sealed two different headers for the same
		/// slot. `key_owner_proof` proves the key belonged to a validator of that session. A
		/// valid report costs the reporter nothing.
		#[pallet::call_index(0)]
		#[pallet::weight(Pallet::<T>::report_weight())]
		pub fn report_equivocation(
			origin: OriginFor<T>,
			equivocation_proof: Box<EquivocationProofOf<T>>,
			key_owner_proof: T::KeyOwnerProof,
		) -> DispatchResultWithPostInfo {
			let reporter = ensure_signed(origin)?;
			Self::process_report(Some(reporter), *equivocation_proof, key_owner_proof)
		}

		/// The same report, unsigned: a node submits it for an equivocation its block import
		/// found (see [`runtime_api::AuraEquivocationApi`]). Only the local node's own pool and
		/// blocks take it ([`Pallet::validate_unsigned`]).
		#[pallet::call_index(1)]
		#[pallet::weight(Pallet::<T>::report_weight())]
		pub fn report_equivocation_unsigned(
			origin: OriginFor<T>,
			equivocation_proof: Box<EquivocationProofOf<T>>,
			key_owner_proof: T::KeyOwnerProof,
		) -> DispatchResultWithPostInfo {
			ensure_none(origin)?;
			Self::process_report(None, *equivocation_proof, key_owner_proof)
		}
	}

	// `ValidateUnsigned` is deprecated for `#[pallet::authorize]`, which needs
	// `frame_system::AuthorizeCall` in the runtime's transaction extensions and general
	// transactions; GRANDPA's reports, which this runtime takes too, still come as bare
	// transactions through `ValidateUnsigned`, so these do the same.
	#[allow(deprecated)]
	#[pallet::validate_unsigned]
	impl<T: Config> ValidateUnsigned for Pallet<T> {
		type Call = Call<T>;

		/// An unsigned report is valid only from the local node (or already in a block), and
		/// only while it would count: one per offender and slot, at the highest priority,
		/// never gossiped (no other node could include it: it would come to them as
		/// `External`).
		fn validate_unsigned(source: TransactionSource, call: &Self::Call) -> TransactionValidity {
			let Call::report_equivocation_unsigned { equivocation_proof, key_owner_proof } = call
			else {
				return InvalidTransaction::Call.into();
			};
			if !matches!(source, TransactionSource::Local | TransactionSource::InBlock) {
				return InvalidTransaction::Call.into();
			}
			Self::check_unreported(equivocation_proof, key_owner_proof.clone())?;
			ValidTransaction::with_tag_prefix("AuraEquivocation")
				.priority(TransactionPriority::MAX)
				.and_provides((equivocation_proof.offender.clone(), equivocation_proof.slot))
				.longevity(T::ReportLongevity::get())
				.propagate(false)
				.build()
		}

		fn pre_dispatch(call: &Self::Call) -> Result<(), TransactionValidityError> {
			let Call::report_equivocation_unsigned { equivocation_proof, key_owner_proof } = call
			else {
				return Err(InvalidTransaction::Call.into());
			};
			Self::check_unreported(equivocation_proof, key_owner_proof.clone())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Submits an unsigned report of `equivocation_proof` to the local transaction pool; for
	/// the node, through [`runtime_api::AuraEquivocationApi`] (it needs the offchain
	/// transaction-pool extension). `None` if the pool refused it.
	pub fn submit_unsigned_report(
		equivocation_proof: EquivocationProofOf<T>,
		key_owner_proof: T::KeyOwnerProof,
	) -> Option<()> {
		let call = Call::report_equivocation_unsigned {
			equivocation_proof: Box::new(equivocation_proof),
			key_owner_proof,
		};
		SubmitTransaction::<T, Call<T>>::submit_transaction(T::create_bare(call.into())).ok()
	}

	/// The weight of either report call.
	fn report_weight() -> Weight {
		T::WeightInfo::check_equivocation_proof()
			.saturating_add(T::WeightInfo::check_session_fit())
			// The historical root the key-ownership proof is checked against.
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(T::OffenceHandlingWeight::get())
	}

	/// Records `session`, which began at `first_slot` with `authorities` (in turn order), and
	/// forgets the session that leaves the report window with its historical root.
	pub(crate) fn record_session(
		session: SessionIndex,
		first_slot: Slot,
		authorities: Vec<T::AuthorityId>,
	) {
		let authorities = BoundedVec::truncate_from(authorities);
		SessionSlots::<T>::insert(session, SessionRecord { first_slot, authorities });
		if let Some(leaving) = session.checked_sub(T::ReportWindow::get()) {
			SessionSlots::<T>::remove(leaving);
			T::PruneSessions::prune_up_to(leaving.saturating_add(1));
		}
	}

	/// Checks a report and hands its offence to `ReportOffence`, crediting `reporter`.
	fn process_report(
		reporter: Option<T::AccountId>,
		equivocation_proof: EquivocationProofOf<T>,
		key_owner_proof: T::KeyOwnerProof,
	) -> DispatchResultWithPostInfo {
		let offender = equivocation_proof.offender.clone();
		let offence = Self::check_report(&equivocation_proof, key_owner_proof)?;
		let slot = offence.slot;
		let reporters: Vec<_> = reporter.iter().cloned().collect();
		T::ReportOffence::report_offence(reporters, offence)
			.map_err(|_| Error::<T>::DuplicateOffenceReport)?;
		Self::deposit_event(Event::EquivocationReported { reporter, offender, slot });
		Ok(Pays::No.into())
	}

	/// The offence `equivocation_proof` shows, if it is one: two headers of one slot sealed
	/// by its author in a recent session, whose key `key_owner_proof` shows a validator's.
	fn check_report(
		equivocation_proof: &EquivocationProofOf<T>,
		key_owner_proof: T::KeyOwnerProof,
	) -> Result<AuraEquivocationOffence<T::Offender>, Error<T>> {
		ensure!(
			check_equivocation_proof::<HeaderFor<T>, T::AuthorityId>(equivocation_proof),
			Error::<T>::InvalidEquivocationProof
		);
		let session_index = key_owner_proof.session();
		let validator_set_count = key_owner_proof.validator_count();
		let EquivocationProof { offender, slot, .. } = equivocation_proof;
		Self::ensure_fits_session(session_index, *slot, offender)?;
		let offender = T::KeyOwnerProofSystem::check_proof(
			(T::AuthorityId::ID, offender.clone()),
			key_owner_proof,
		)
		.ok_or(Error::<T>::InvalidKeyOwnershipProof)?;
		Ok(AuraEquivocationOffence { slot: *slot, session_index, validator_set_count, offender })
	}

	/// [`Self::check_report`] for the transaction pool: `Stale` for a report that is too old
	/// or already counted, `BadProof` for one that proves nothing.
	fn check_unreported(
		equivocation_proof: &EquivocationProofOf<T>,
		key_owner_proof: T::KeyOwnerProof,
	) -> Result<(), TransactionValidityError> {
		let offence =
			Self::check_report(equivocation_proof, key_owner_proof).map_err(
				|error| match error {
					Error::<T>::ReportTooOld => InvalidTransaction::Stale,
					_ => InvalidTransaction::BadProof,
				},
			)?;
		let known = T::ReportOffence::is_known_offence(
			core::slice::from_ref(&offence.offender),
			&offence.slot,
		);
		if known {
			return Err(InvalidTransaction::Stale.into());
		}
		Ok(())
	}

	/// Checks that `session` is within the report window, that `slot` is one of its slots
	/// (from its first up to the next session's first, or the current slot) and that
	/// `offender` was that slot's author.
	pub(crate) fn ensure_fits_session(
		session: SessionIndex,
		slot: Slot,
		offender: &T::AuthorityId,
	) -> Result<(), Error<T>> {
		let current = T::Schedule::session();
		ensure!(current.saturating_sub(session) < T::ReportWindow::get(), Error::<T>::ReportTooOld);
		let author = Self::author_in_session(session, slot)?;
		ensure!(&author == offender, Error::<T>::NotSlotAuthor);
		Ok(())
	}

	/// The authority whose turn `slot` was in `session`, if `slot` is one of its slots.
	fn author_in_session(session: SessionIndex, slot: Slot) -> Result<T::AuthorityId, Error<T>> {
		let record = SessionSlots::<T>::get(session).ok_or(Error::<T>::SlotNotInSession)?;
		let end = SessionSlots::<T>::get(session.saturating_add(1))
			.map_or(T::Schedule::slot().saturating_add(1u64), |next| next.first_slot);
		ensure!(record.first_slot <= slot && slot < end, Error::<T>::SlotNotInSession);
		let turns = record.authorities.len() as u64;
		ensure!(turns > 0, Error::<T>::NotSlotAuthor);
		Ok(record.authorities[(u64::from(slot) % turns) as usize].clone())
	}

	/// The authority whose turn `slot` was, in the recorded session it lies in: the newest
	/// session that began at or before it (a slot a block may still name is almost always of
	/// the current session or the one before, so this reads one or two records).
	pub fn slot_author(slot: Slot) -> Option<T::AuthorityId> {
		let current = T::Schedule::session();
		let oldest = current.saturating_sub(T::ReportWindow::get().saturating_sub(1));
		let session = (oldest..=current).rev().find(|session| {
			SessionSlots::<T>::get(session).is_none_or(|record| record.first_slot <= slot)
		})?;
		Self::author_in_session(session, slot).ok()
	}
}
