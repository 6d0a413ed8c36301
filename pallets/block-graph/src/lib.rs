//! # Block graph: rewards for the blocks a block references
//!
//! A WebChain block may reference recent blocks its branch did not build on (the digest item
//! of `thingschain_primitives::block_graph`; the node checks the graph rules and chooses
//! forks by them). This pallet pays for that parallel work: the block's author puts the
//! referenced blocks' sealed headers in the block, through the [`Pallet::note_references`]
//! inherent, and the author of each referenced block that the chain can attribute receives
//! [`ReferenceShare`] of the block reward through DPoS ([`RewardShare`]).
//!
//! ```text
//!  block n: digest references [h1, h2]        note_references([header1, header2])
//!                                               │ hashes == the digest's references?  (else the block is invalid)
//!                                               ▼ for each header:
//!   numbered n-1-D ..= n-1, parent one of this chain's blocks or of the other headers?
//!   slot before this block's, within SlotWindow, not paid before (a block of this chain
//!   or a referenced one: once per slot, so a delegate cannot be paid twice for a slot by
//!   sealing two blocks in it)?  sealed by the slot's author in its session?
//!        yes ─► RewardShare::reward(author's account, ReferenceShare) ─► ReferenceRewarded
//!        no  ─► ReferenceNotRewarded { reason }
//! ```
//!
//! A reference the chain cannot pay for (its session forgotten, say) is not an invalid
//! block: the author's node and the runtime need not agree on every rule for the block to
//! be built. Only headers that are not the digest's references make it invalid, and a
//! block that references blocks but carries no headers.

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

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	frame_support::{self, pallet_prelude::*},
	frame_system::{self, pallet_prelude::*},
	sp_consensus_aura::Slot,
	sp_core::H256,
	sp_runtime::{
		traits::{Header as _, Member, One, Saturating},
		Perbill, RuntimeAppPublic,
	},
};
use scale_info::TypeInfo;
use thingschain_primitives::{aura, block_graph};

/// Who sealed a slot: the chain's record of each session's Aura authorities
/// (`pallet-aura-equivocation` keeps it) and the accounts their keys belong to.
pub trait SlotAuthors<AuthorityId, AccountId> {
	/// The key whose turn `slot` was in its session, and the account it belongs to.
	fn slot_author(slot: Slot) -> Option<(AuthorityId, AccountId)>;
}

/// Makes slot authors for the benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AuthorityId> {
	/// Records `key` (in the keystore), owned by some account, as the author of every slot
	/// from `first` up to `now`, the current one.
	fn make_slot_author(first: Slot, now: Slot, key: &AuthorityId);
}

/// Pays block authors (DPoS).
pub trait RewardShare<AccountId> {
	/// Pays `author` `share` of the block reward.
	fn reward(author: &AccountId, share: Perbill);
}

/// Why a referenced block's author was not paid.
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
pub enum NotRewarded {
	/// It is not numbered below this block and at most the depth below its parent.
	OutOfDepth,
	/// Its parent is neither one of this chain's blocks nor another referenced block.
	UnknownParent,
	/// Its header names no Aura slot.
	NoSlot,
	/// Its slot is not before this block's.
	NotEarlier,
	/// Its slot is more than the slot window before this block's.
	TooOld,
	/// A block of its slot was paid already: one of this chain's, or a referenced one.
	SlotPaid,
	/// The chain has no record of its slot's session or the key's owner.
	UnknownAuthor,
	/// It is not sealed by its slot's author.
	BadSeal,
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
	pub trait Config:
		polkadot_sdk::frame_system::Config<Hash = H256, RuntimeEvent: From<Event<Self>>>
	{
		/// The key Aura seals blocks with (the runtime's `pallet_aura::Config::AuthorityId`).
		type AuthorityId: RuntimeAppPublic + Member + Parameter + MaxEncodedLen;

		/// Who sealed each recent slot.
		type SlotAuthors: SlotAuthors<Self::AuthorityId, Self::AccountId>;

		/// Pays the referenced blocks' authors.
		type Rewards: RewardShare<Self::AccountId>;

		/// May set [`ReferenceShare`] (governance).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// How many slots before a block's a referenced block's slot may be; the slots paid
		/// within it are remembered.
		#[pallet::constant]
		type SlotWindow: Get<u32>;

		/// Weights of this pallet's calls and hooks, measured by its benchmarks.
		type WeightInfo: WeightInfo;

		/// Makes slot authors for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AuthorityId>;
	}

	/// The share of the block reward a referenced block's author receives.
	#[pallet::storage]
	pub type ReferenceShare<T: Config> = StorageValue<_, Perbill, ValueQuery>;

	/// The slots within the slot window a block was paid for (this chain's blocks and the
	/// referenced ones), ascending.
	#[pallet::storage]
	pub type PaidSlots<T: Config> = StorageValue<_, BoundedVec<Slot, T::SlotWindow>, ValueQuery>;

	/// Whether this block's references were noted (cleared at its end).
	#[pallet::storage]
	pub type Noted<T: Config> = StorageValue<_, bool, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The share of the block reward a referenced block's author receives.
		pub reference_share: Perbill,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			ReferenceShare::<T>::put(self.reference_share);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// The author of referenced block `block` (sealed in `slot`) was paid its share.
		ReferenceRewarded { block: T::Hash, slot: Slot, author: T::AccountId },
		/// Referenced block `block`'s author was not paid, for `reason`.
		ReferenceNotRewarded { block: T::Hash, reason: NotRewarded },
		/// Referenced blocks' authors now receive `share` of the block reward.
		ReferenceShareSet { share: Perbill },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The headers are not those of the blocks this block's digest references, in order.
		NotTheDigestReferences,
		/// This block's references were noted already.
		AlreadyNoted,
		/// A header is longer than a referenced header may be.
		HeaderTooLong,
		/// This block's digest has no valid Aura slot or references item.
		BadDigest,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(_: BlockNumberFor<T>) -> Weight {
			T::WeightInfo::on_finalize()
		}

		/// Checks that a block with references noted them, and remembers its own slot as paid
		/// (its author is paid through pallet-authorship).
		fn on_finalize(_: BlockNumberFor<T>) {
			let digest = frame_system::Pallet::<T>::digest();
			if !Noted::<T>::take() {
				// The block is invalid: its references would go unchecked and unpaid. The
				// node's author always puts the headers in with the digest item.
				assert!(
					block_graph::references(&digest).is_ok_and(|refs| refs.is_empty()),
					"a block that references blocks must carry their headers",
				);
			}
			if let Some(slot) = Self::current_slot() {
				let mut paid = Self::paid_slots(slot);
				Self::mark_paid(&mut paid, slot);
				PaidSlots::<T>::put(paid);
			}
		}

		fn integrity_test() {
			assert!(T::SlotWindow::get() > 0, "a slot window of 0 pays no reference");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(
			_: BlockNumberFor<T>,
		) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Notes the sealed headers of the blocks this block references (an inherent: the
		/// author's node puts it in) and pays each one's author that the chain can attribute.
		#[pallet::call_index(0)]
		#[pallet::weight((T::WeightInfo::note_references(headers.len() as u32), DispatchClass::Mandatory))]
		pub fn note_references(
			origin: OriginFor<T>,
			headers: BoundedVec<HeaderFor<T>, ConstU32<{ block_graph::MAX_REFERENCES }>>,
		) -> DispatchResult {
			ensure_none(origin)?;
			ensure!(!Noted::<T>::get(), Error::<T>::AlreadyNoted);
			ensure!(
				headers.iter().all(|h| h.encoded_size() <= block_graph::MAX_HEADER_LENGTH as usize),
				Error::<T>::HeaderTooLong
			);
			let digest = frame_system::Pallet::<T>::digest();
			let references = block_graph::references(&digest).map_err(|_| Error::<T>::BadDigest)?;
			let hashes: Vec<H256> = headers.iter().map(|h| h.hash()).collect();
			ensure!(hashes == references, Error::<T>::NotTheDigestReferences);
			let slot = Self::current_slot().ok_or(Error::<T>::BadDigest)?;
			let now = frame_system::Pallet::<T>::block_number();
			Noted::<T>::put(true);

			let share = ReferenceShare::<T>::get();
			let (outcomes, paid) = Self::attribute_all(&headers, &hashes, now, slot);
			for (&block, outcome) in hashes.iter().zip(outcomes) {
				match outcome {
					Ok((referenced_slot, author)) => {
						T::Rewards::reward(&author, share);
						Self::deposit_event(Event::ReferenceRewarded {
							block,
							slot: referenced_slot,
							author,
						});
					}
					Err(reason) => {
						Self::deposit_event(Event::ReferenceNotRewarded { block, reason })
					}
				}
			}
			PaidSlots::<T>::put(paid);
			Ok(())
		}

		/// Sets the share of the block reward a referenced block's author receives.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::set_reference_share())]
		pub fn set_reference_share(origin: OriginFor<T>, share: Perbill) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ReferenceShare::<T>::put(share);
			Self::deposit_event(Event::ReferenceShareSet { share });
			Ok(())
		}
	}

	#[pallet::inherent]
	impl<T: Config> ProvideInherent for Pallet<T> {
		type Call = Call<T>;
		type Error = polkadot_sdk::sp_inherents::MakeFatalError<()>;
		const INHERENT_IDENTIFIER: polkadot_sdk::sp_inherents::InherentIdentifier =
			block_graph::INHERENT_IDENTIFIER;

		fn create_inherent(data: &polkadot_sdk::sp_inherents::InherentData) -> Option<Self::Call> {
			let headers: Vec<HeaderFor<T>> =
				data.get_data(&block_graph::INHERENT_IDENTIFIER).ok().flatten()?;
			(!headers.is_empty())
				.then(|| Call::note_references { headers: BoundedVec::truncate_from(headers) })
		}

		fn is_inherent(call: &Self::Call) -> bool {
			matches!(call, Call::note_references { .. })
		}
	}
}

impl<T: Config> Pallet<T> {
	/// This block's Aura slot.
	fn current_slot() -> Option<Slot> {
		aura::slot_in(&frame_system::Pallet::<T>::digest())
	}

	/// The paid slots still within the window of a block in `slot`.
	fn paid_slots(slot: Slot) -> BoundedVec<Slot, T::SlotWindow> {
		let oldest = slot.saturating_sub(u64::from(T::SlotWindow::get()));
		let mut paid = PaidSlots::<T>::get();
		paid.retain(|s| *s > oldest);
		paid
	}

	/// Remembers `slot` as paid; the oldest paid slot leaves a full window.
	fn mark_paid(paid: &mut BoundedVec<Slot, T::SlotWindow>, slot: Slot) {
		let at = paid.partition_point(|s| *s < slot);
		if paid.get(at) != Some(&slot) {
			// Forced: dropping the oldest, which a full window of slots has pushed out.
			let _ = paid.force_insert_keep_right(at, slot);
		}
	}

	/// How many of `headers` (a block's referenced headers, in the order of their hashes) a
	/// child of this block, in `slot`, would pay for: the references that count as work in
	/// the node's fork choice. The same checks as the child's [`Pallet::note_references`],
	/// so a delegate gains weight only for its own slots, each once, as it would be paid.
	pub fn payable(headers: &[HeaderFor<T>], slot: Slot) -> u32 {
		let child = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
		let hashes: Vec<H256> = headers.iter().map(|h| h.hash()).collect();
		let (outcomes, _) = Self::attribute_all(headers, &hashes, child, slot);
		outcomes.iter().filter(|outcome| outcome.is_ok()).count() as u32
	}

	/// [`Self::attribute`] of each of `headers` in turn (block `now`'s references, in the
	/// order of their `hashes`; `slot` is block `now`'s): a slot paid for one header is paid
	/// for the headers after it. Returns each header's outcome and the paid slots after all.
	fn attribute_all(
		headers: &[HeaderFor<T>],
		hashes: &[H256],
		now: BlockNumberFor<T>,
		slot: Slot,
	) -> (Vec<Result<(Slot, T::AccountId), NotRewarded>>, BoundedVec<Slot, T::SlotWindow>) {
		let mut paid = Self::paid_slots(slot);
		let outcomes = headers
			.iter()
			.map(|header| {
				let outcome = Self::attribute(header, hashes, now, slot, &paid);
				if let Ok((referenced_slot, _)) = &outcome {
					Self::mark_paid(&mut paid, *referenced_slot);
				}
				outcome
			})
			.collect();
		(outcomes, paid)
	}

	/// The slot and author's account of referenced block `header` if its author is to be
	/// paid; `references` are block `now`'s, `slot` is its slot, `paid` the slots paid.
	fn attribute(
		header: &HeaderFor<T>,
		references: &[H256],
		now: BlockNumberFor<T>,
		slot: Slot,
		paid: &[Slot],
	) -> Result<(Slot, T::AccountId), NotRewarded> {
		let number = *header.number();
		let lowest = now.saturating_sub((block_graph::MAX_DEPTH + 1).into());
		if number >= now || number < lowest || number.is_zero() {
			return Err(NotRewarded::OutOfDepth);
		}
		let parent = *header.parent_hash();
		let parent_on_chain = frame_system::Pallet::<T>::block_hash(number - One::one()) == parent;
		if !parent_on_chain && !references.contains(&parent) {
			return Err(NotRewarded::UnknownParent);
		}
		let referenced_slot = Self::slot_of(header)?;
		if referenced_slot >= slot {
			return Err(NotRewarded::NotEarlier);
		}
		if referenced_slot.saturating_add(u64::from(T::SlotWindow::get())) <= slot {
			return Err(NotRewarded::TooOld);
		}
		if paid.binary_search(&referenced_slot).is_ok() {
			return Err(NotRewarded::SlotPaid);
		}
		Ok((referenced_slot, Self::sealer_in(header, referenced_slot)?))
	}

	/// The slot of `header` and the account of the key that sealed it, if that key's turn
	/// the slot was in its session.
	pub fn sealer(header: &HeaderFor<T>) -> Result<(Slot, T::AccountId), NotRewarded> {
		let slot = Self::slot_of(header)?;
		Ok((slot, Self::sealer_in(header, slot)?))
	}

	/// The slot `header` names.
	fn slot_of(header: &HeaderFor<T>) -> Result<Slot, NotRewarded> {
		aura::slot(header).ok_or(NotRewarded::NoSlot)
	}

	/// The account of the key that sealed `header`, if that key's turn `slot` was.
	fn sealer_in(header: &HeaderFor<T>, slot: Slot) -> Result<T::AccountId, NotRewarded> {
		let (key, author) = T::SlotAuthors::slot_author(slot).ok_or(NotRewarded::UnknownAuthor)?;
		ensure!(aura::sealed_by(header, &key), NotRewarded::BadSeal);
		Ok(author)
	}
}
