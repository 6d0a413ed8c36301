//! # DPoS: delegated proof of stake for WebChain
//!
//! Token holders elect the delegates that produce WebChain blocks, and share their rewards.
//!
//! - **Stake.** Any account bonds TIC ([`Pallet::bond`]); bonded TIC is held under
//!   [`HoldReason::Staked`] and leaves through an unbonding period ([`Pallet::unbond`],
//!   [`Pallet::rebond`], [`Pallet::withdraw_unbonded`]).
//! - **Candidates.** An account with at least `MinCandidateBond` active stake and session keys
//!   registers as a delegate candidate with a commission and metadata; its active stake is its
//!   self-bond.
//! - **Votes.** A voter approves up to `MaxVotes` candidates ([`Pallet::vote`]); each approved
//!   candidate is backed by the voter's whole current power (its active stake plus stake
//!   delegated to it). A voter may instead delegate its power to another voter
//!   ([`Pallet::delegate`]); delegation chains have depth one, so cycles cannot form.
//!   Backing totals are kept as running sums: a stake change moves only the candidates that
//!   stake backs.
//! - **Election.** At every session boundary ([`pallet_session::SessionManager`]) the top
//!   `MaxDelegates` eligible candidates by backing (ties: lower account id first) become the
//!   next authority set; how many is [`DesiredDelegates`], set by governance. Below `MinDelegates` eligible candidates the set stays as it is.
//! - **Rewards.** Each authored block mints [`BlockReward`] into the pallet's pot
//!   ([`pallet_authorship::EventHandler`]). The author keeps its commission; the rest is
//!   shared pro rata by the candidate's backing (its self-bond and its voters, and through a
//!   voter its delegators). Rewards accrue in accumulators and are paid by
//!   [`Pallet::claim_rewards`]; no hook iterates over voters.
//! - **Discipline.** A delegate that authors no block in a whole session is chilled (not
//!   elected until it calls [`Pallet::resume_candidacy`]); an equivocation reported through
//!   `pallet-offences` slashes `EquivocationSlash` of its bond and chills it.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

mod election;
#[cfg(any(test, feature = "try-runtime"))]
mod invariants;
mod rewards;
pub mod runtime_api;
mod slashing;
pub use slashing::DisableOffender;
mod types;
pub mod weights;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{self, hold::Balanced as _, Inspect, Mutate, MutateHold},
		tokens::{Precision, Preservation},
		ChangeMembers, Imbalance, InitializeMembers, OnUnbalanced, ValidatorRegistration,
		ValidatorSet,
	},
	PalletId,
};
use frame_system::pallet_prelude::*;
use polkadot_sdk::{
	frame_support, frame_system, pallet_authorship,
	sp_runtime::{
		traits::{AccountIdConversion, Saturating, Zero},
		FixedPointNumber, Perbill,
	},
	sp_staking::SessionIndex,
};

/// Balance of the staked currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// Funds taken by a slash, before `OnSlash` decides where they go.
pub type CreditOf<T> =
	fungible::Credit<<T as frame_system::Config>::AccountId, <T as Config>::Currency>;

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
		/// The staked currency; stake is held on the staker's account.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ fungible::hold::Balanced<Self::AccountId>;

		/// The runtime's hold reasons, which include this pallet's.
		type RuntimeHoldReason: From<HoldReason>;

		/// The current authority set (pallet-session), read when a session ends.
		type ValidatorSet: ValidatorSet<Self::AccountId, ValidatorId = Self::AccountId>;

		/// Whether an account has session keys; only such candidates can be elected.
		type ValidatorRegistration: ValidatorRegistration<Self::AccountId>;

		/// Origin that sets the block reward and the session length (governance).
		type UpdateOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Where slashed stake goes; `()` burns it.
		type OnSlash: OnUnbalanced<CreditOf<Self>>;

		/// Derives the account that holds minted rewards until they are claimed.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Smallest active stake an account may keep (other than none).
		#[pallet::constant]
		type MinStake: Get<BalanceOf<Self>>;

		/// Smallest self-bond of a candidate.
		#[pallet::constant]
		type MinCandidateBond: Get<BalanceOf<Self>>;

		/// Most registered candidates; bounds the election.
		#[pallet::constant]
		type MaxCandidates: Get<u32>;

		/// Most delegates an election may choose; bounds [`DesiredDelegates`].
		#[pallet::constant]
		type MaxDelegates: Get<u32>;

		/// Fewer eligible candidates than this and the authority set is left as it is.
		#[pallet::constant]
		type MinDelegates: Get<u32>;

		/// Most candidates one voter may approve.
		#[pallet::constant]
		type MaxVotes: Get<u32>;

		/// Most unbonding chunks per account; withdraw to make room.
		#[pallet::constant]
		type MaxUnlockingChunks: Get<u32>;

		/// Longest candidate metadata, in bytes.
		#[pallet::constant]
		type MaxMetadataLen: Get<u32>;

		/// Blocks between unbonding and withdrawing.
		#[pallet::constant]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;

		/// Share of an equivocating delegate's bond that is slashed.
		#[pallet::constant]
		type EquivocationSlash: Get<Perbill>;

		/// Sessions in which an offence still slashes, counting the one it happened in: a
		/// report of an older session takes nothing, and what each offender lost is kept
		/// this long. The window, at the longest session governance may set, is shorter than
		/// [`Config::UnbondingPeriod`], so an offender cannot withdraw before it closes.
		#[pallet::constant]
		type SlashReportWindow: Get<SessionIndex>;

		/// Disables a delegate for an offence of the current session (pallet-session).
		type Disabler: DisableOffender<Self::AccountId>;

		/// Whose members are the elected delegates (the council, a pallet-collective): it is
		/// initialized by the first election and changed by every election that changes the
		/// set, so no one keeps a list by hand. `()` for none.
		type DelegateMembers: ChangeMembers<Self::AccountId> + InitializeMembers<Self::AccountId>;

		/// Weights of this pallet's calls, measured by its benchmarks.
		type WeightInfo: WeightInfo;

		/// Sets up what the benchmarks need from other pallets (session keys).
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: benchmarking::BenchmarkHelper<Self::AccountId>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// Bonded stake: a self-bond, a vote's weight or delegated power, or unbonding.
		#[codec(index = 0)]
		Staked,
	}

	/// The stake of each staking account.
	#[pallet::storage]
	pub type Ledgers<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, Ledger<T>>;

	/// Registered delegate candidates.
	#[pallet::storage]
	pub type Candidates<T: Config> = CountedStorageMap<_, Twox64Concat, T::AccountId, Candidate<T>>;

	/// What backs each candidate, and its reward accumulator.
	#[pallet::storage]
	pub type Backings<T: Config> = StorageMap<_, Twox64Concat, T::AccountId, Backing<T>>;

	/// Accounts that vote directly or receive delegated power.
	#[pallet::storage]
	pub type Voters<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, Voter<T>>;

	/// Accounts that delegate their voting power, and to whom.
	#[pallet::storage]
	pub type Delegations<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, Delegation<T::AccountId>>;

	/// The share of each offender's bond slashed for its offences in each session, for the
	/// sessions of the report window: a later report of the same session (pallet-offences
	/// hands every earlier offender of an offence to each new report) takes only an increase.
	#[pallet::storage]
	pub type SessionSlashes<T: Config> =
		StorageDoubleMap<_, Twox64Concat, SessionIndex, Blake2_128Concat, T::AccountId, Perbill>;

	/// Rewards settled to an account and not yet claimed.
	#[pallet::storage]
	pub type PendingRewards<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BalanceOf<T>, ValueQuery>;

	/// TIC minted for each authored block.
	#[pallet::storage]
	pub type BlockReward<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	#[pallet::type_value]
	pub fn DefaultSessionLength<T: Config>() -> BlockNumberFor<T> {
		100u32.into()
	}

	/// Blocks per session; the authority set can change at each session boundary.
	#[pallet::storage]
	pub type SessionLength<T: Config> =
		StorageValue<_, BlockNumberFor<T>, ValueQuery, DefaultSessionLength<T>>;

	#[pallet::type_value]
	pub fn DefaultDesiredDelegates<T: Config>() -> u32 {
		T::MaxDelegates::get()
	}

	/// How many delegates each election chooses (the size of the authority set).
	#[pallet::storage]
	pub type DesiredDelegates<T: Config> =
		StorageValue<_, u32, ValueQuery, DefaultDesiredDelegates<T>>;

	/// The delegates of the last election, so an unchanged result is not re-announced.
	#[pallet::storage]
	pub type Elected<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxDelegates>, ValueQuery>;

	/// Blocks each delegate authored in the current session.
	#[pallet::storage]
	pub type AuthoredBlocks<T: Config> = StorageMap<_, Twox64Concat, T::AccountId, u32, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Candidates at genesis.
		pub candidates: Vec<GenesisCandidate<T::AccountId, BalanceOf<T>>>,
		/// Voters at genesis.
		pub voters: Vec<GenesisVoter<T::AccountId, BalanceOf<T>>>,
		/// TIC minted per authored block.
		pub block_reward: BalanceOf<T>,
		/// Blocks per session; zero keeps the default of 100.
		pub session_length: BlockNumberFor<T>,
		/// Delegates per election; zero keeps the default of `MaxDelegates`.
		pub desired_delegates: u32,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let pot = Pallet::<T>::pot();
			frame_system::Pallet::<T>::inc_providers(&pot);
			// The pot keeps the existential deposit so paying every reward never reaps it.
			T::Currency::mint_into(&pot, T::Currency::minimum_balance())
				.expect("minting the pot's existential deposit works at genesis");
			BlockReward::<T>::put(self.block_reward);
			if !self.session_length.is_zero() {
				assert!(
					Pallet::<T>::report_window_fits(self.session_length),
					"the slash report window at this session length outlasts the unbonding period"
				);
				SessionLength::<T>::put(self.session_length);
			}
			if self.desired_delegates != 0 {
				assert!(
					(T::MinDelegates::get()..=T::MaxDelegates::get())
						.contains(&self.desired_delegates),
					"desired delegates must be between MinDelegates and MaxDelegates"
				);
				DesiredDelegates::<T>::put(self.desired_delegates);
			}
			// A genesis that cannot be built says which account lacks what: tools such as
			// zombienet rewrite balances and session keys of a spec they are given.
			for GenesisCandidate { account: who, bond, commission } in &self.candidates {
				Pallet::<T>::genesis_bond("candidate", who, *bond);
				Pallet::<T>::do_register(who, *commission, Default::default(), false)
					.unwrap_or_else(|e| {
						panic!("genesis candidate {who:?} cannot register: {}", <&str>::from(e))
					});
			}
			for GenesisVoter { account: who, stake, approvals: targets } in &self.voters {
				Pallet::<T>::genesis_bond("voter", who, *stake);
				Pallet::<T>::do_vote(who, targets.clone()).unwrap_or_else(|e| {
					panic!("genesis voter {who:?} cannot approve {targets:?}: {}", <&str>::from(e))
				});
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `amount` more of `who`'s balance is bonded.
		Bonded { who: T::AccountId, amount: BalanceOf<T> },
		/// `amount` of `who`'s stake started unbonding; it can be withdrawn at `unlock_at`.
		Unbonded { who: T::AccountId, amount: BalanceOf<T>, unlock_at: BlockNumberFor<T> },
		/// `amount` of unbonding stake is active again.
		Rebonded { who: T::AccountId, amount: BalanceOf<T> },
		/// `amount` of unbonded stake was released to `who`'s free balance.
		Withdrawn { who: T::AccountId, amount: BalanceOf<T> },
		/// `who` is now a delegate candidate.
		CandidateRegistered { who: T::AccountId, self_bond: BalanceOf<T>, commission: Perbill },
		/// `who` changed its commission or metadata.
		CandidateUpdated { who: T::AccountId, commission: Perbill },
		/// `who` is no longer a candidate; its self-bond is unbonding until `unlock_at`.
		CandidateLeft { who: T::AccountId, unbonding: BalanceOf<T>, unlock_at: BlockNumberFor<T> },
		/// The candidate list was full: `who`, the least backed, made room for `by`, which
		/// bonds more than `who`'s whole backing; `who`'s self-bond is unbonding until
		/// `unlock_at`.
		CandidateEvicted {
			who: T::AccountId,
			by: T::AccountId,
			unbonding: BalanceOf<T>,
			unlock_at: BlockNumberFor<T>,
		},
		/// The chilled candidate `who` may be elected again.
		CandidateResumed { who: T::AccountId },
		/// `voter` now approves `targets`.
		Voted { voter: T::AccountId, targets: Vec<T::AccountId> },
		/// `voter` withdrew all its approvals.
		VotesCleared { voter: T::AccountId },
		/// `who` delegates its voting power to `target`.
		Delegated { who: T::AccountId, target: T::AccountId },
		/// `who` no longer delegates to `target`.
		Undelegated { who: T::AccountId, target: T::AccountId },
		/// A block reward was minted: `author` keeps `commission`, its backers share `to_backers`.
		BlockRewarded { author: T::AccountId, commission: BalanceOf<T>, to_backers: BalanceOf<T> },
		/// `who` was paid `amount` of rewards.
		RewardsClaimed { who: T::AccountId, amount: BalanceOf<T> },
		/// The election for `session` chose `delegates` (only announced when they change).
		DelegatesElected { session: SessionIndex, delegates: Vec<T::AccountId> },
		/// Too few eligible candidates for `session`: the authority set stays.
		ElectionSkipped { session: SessionIndex, eligible: u32 },
		/// Delegate `who` authored no block in `session` and is chilled.
		DelegateChilled { who: T::AccountId, session: SessionIndex },
		/// `amount` of `who`'s stake was slashed for an offence.
		Slashed { who: T::AccountId, amount: BalanceOf<T> },
		/// Offences of `session` were reported after the report window: nothing was slashed.
		OffenceTooOld { session: SessionIndex },
		/// The block reward is now `amount`.
		BlockRewardSet { amount: BalanceOf<T> },
		/// Sessions now last `blocks` blocks.
		SessionLengthSet { blocks: BlockNumberFor<T> },
		/// Elections now choose `count` delegates.
		DesiredDelegatesSet { count: u32 },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The amount is zero.
		ZeroAmount,
		/// The account has no stake.
		NoStake,
		/// The remaining active stake would be above zero but below `MinStake`.
		StakeBelowMinimum,
		/// A candidate's self-bond would be below `MinCandidateBond`.
		BondBelowMinimum,
		/// More than the active stake.
		InsufficientStake,
		/// Too many unbonding chunks; withdraw the unlocked ones first.
		TooManyUnlockingChunks,
		/// Nothing is unbonding.
		NothingToRebond,
		/// Less is unbonding than asked for.
		InsufficientUnbonding,
		/// Nothing is unbonding.
		NothingToWithdraw,
		/// Unbonding stake exists but none of it has unlocked yet.
		UnbondingNotFinished,
		/// The account is already a candidate.
		AlreadyCandidate,
		/// The account is not a candidate.
		NotCandidate,
		/// `MaxCandidates` are registered, and the least backed has at least the caller's
		/// self-bond behind it.
		TooManyCandidates,
		/// The account has no session keys; set them with `session.set_keys` first.
		NoSessionKeys,
		/// The candidate is not chilled.
		NotChilled,
		/// Candidates back themselves with their bond; they cannot vote or delegate.
		IsCandidate,
		/// The account votes; clear its votes first.
		AlreadyVoting,
		/// The account does not vote.
		NotVoting,
		/// The account delegates its power; undelegate first.
		AlreadyDelegating,
		/// The account does not delegate.
		NotDelegating,
		/// Others delegate to this account, so it cannot become a candidate or delegate itself.
		HasDelegators,
		/// No candidate given.
		EmptyVotes,
		/// More than `MaxVotes` candidates given.
		TooManyVotes,
		/// The same candidate given twice.
		DuplicateVote,
		/// A vote target is not a registered candidate.
		UnknownCandidate,
		/// The delegation would lead back to the delegating account.
		DelegationCycle,
		/// The delegation would make a chain longer than one hop.
		DelegationTooDeep,
		/// The delegation target is not a staking voter (it has no stake or is a candidate).
		TargetNotVoter,
		/// No rewards to claim.
		NoRewards,
		/// A session must last at least one block.
		InvalidSessionLength,
		/// Sessions that long would make the slash report window outlast the unbonding
		/// period: an offender could withdraw before its offence is reported.
		SessionOutlastsUnbonding,
		/// The number of delegates must be between `MinDelegates` and `MaxDelegates`.
		InvalidDelegateCount,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(!T::MinStake::get().is_zero(), "MinStake must be positive");
			assert!(T::MinCandidateBond::get() >= T::MinStake::get());
			assert!(T::MaxVotes::get() > 0);
			assert!(T::MinDelegates::get() <= T::MaxDelegates::get());
			assert!(T::MaxDelegates::get() <= T::MaxCandidates::get());
			assert!(T::MaxUnlockingChunks::get() > 0);
			assert!(T::SlashReportWindow::get() > 0, "an offence is reportable in its session");
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
		/// Bond `amount` more of the caller's free balance as stake.
		///
		/// The new stake counts at once wherever the caller's stake counts: its self-bond, its
		/// votes, or the voter it delegates to.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::bond())]
		pub fn bond(
			origin: OriginFor<T>,
			#[pallet::compact] amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_bond(&who, amount)?;
			Self::deposit_event(Event::Bonded { who, amount });
			Ok(())
		}

		/// Start unbonding `amount` of active stake; it stops counting now and can be
		/// withdrawn after `UnbondingPeriod` blocks.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::unbond())]
		pub fn unbond(
			origin: OriginFor<T>,
			#[pallet::compact] amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let mut ledger = Ledgers::<T>::get(&who).ok_or(Error::<T>::NoStake)?;
			ensure!(amount <= ledger.active, Error::<T>::InsufficientStake);
			let active = ledger.active - amount;
			Self::ensure_active_allowed(&who, active)?;
			let unlock_at = Self::start_unbonding(&mut ledger, amount, ChunksFull::Refuse)?;
			Self::set_active(&who, ledger, active);
			Self::deposit_event(Event::Unbonded { who, amount, unlock_at });
			Ok(())
		}

		/// Make `amount` of unbonding stake active again, newest chunks first.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::rebond())]
		pub fn rebond(
			origin: OriginFor<T>,
			#[pallet::compact] amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let mut ledger = Ledgers::<T>::get(&who).ok_or(Error::<T>::NoStake)?;
			ensure!(!ledger.unlocking.is_empty(), Error::<T>::NothingToRebond);
			ensure!(ledger.take_unlocking(amount).is_zero(), Error::<T>::InsufficientUnbonding);
			let active = ledger.active.saturating_add(amount);
			Self::ensure_active_allowed(&who, active)?;
			Self::set_active(&who, ledger, active);
			Self::deposit_event(Event::Rebonded { who, amount });
			Ok(())
		}

		/// Release every unbonding chunk whose unbonding period has passed.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::withdraw_unbonded())]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut ledger = Ledgers::<T>::get(&who).ok_or(Error::<T>::NoStake)?;
			ensure!(!ledger.unlocking.is_empty(), Error::<T>::NothingToWithdraw);
			let now = frame_system::Pallet::<T>::block_number();
			let mut amount = BalanceOf::<T>::zero();
			ledger.unlocking.retain(|chunk| {
				let unlocked = chunk.unlock_at <= now;
				if unlocked {
					amount = amount.saturating_add(chunk.value);
				}
				!unlocked
			});
			ensure!(!amount.is_zero(), Error::<T>::UnbondingNotFinished);
			T::Currency::release(&HoldReason::Staked.into(), &who, amount, Precision::Exact)?;
			Self::store_ledger(&who, ledger);
			Self::deposit_event(Event::Withdrawn { who, amount });
			Ok(())
		}

		/// Register the caller as a delegate candidate, its active stake as self-bond.
		///
		/// Needs at least `MinCandidateBond` active stake and session keys, and the caller may
		/// not vote, delegate or have delegators. When `MaxCandidates` are registered, the
		/// least backed of them is evicted (its self-bond starts unbonding) if the caller's
		/// self-bond is more than that candidate's whole backing.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::register_candidate())]
		pub fn register_candidate(
			origin: OriginFor<T>,
			commission: Perbill,
			metadata: BoundedVec<u8, T::MaxMetadataLen>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register(&who, commission, metadata, true)
		}

		/// Change the caller's commission and metadata; the commission applies from the next
		/// block the candidate authors.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::update_candidate())]
		pub fn update_candidate(
			origin: OriginFor<T>,
			commission: Perbill,
			metadata: BoundedVec<u8, T::MaxMetadataLen>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Candidates::<T>::try_mutate(&who, |candidate| {
				candidate.as_mut().ok_or(Error::<T>::NotCandidate)?.metadata = metadata;
				Ok::<_, Error<T>>(())
			})?;
			Backings::<T>::mutate(&who, |backing| {
				backing.get_or_insert_with(Default::default).commission = commission;
			});
			Self::deposit_event(Event::CandidateUpdated { who, commission });
			Ok(())
		}

		/// Stop being a candidate; the whole self-bond starts unbonding.
		///
		/// Votes for the caller stay (they count again if it registers again) and their
		/// rewards so far stay claimable.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::leave_candidates())]
		pub fn leave_candidates(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(Candidates::<T>::contains_key(&who), Error::<T>::NotCandidate);
			let (unbonding, unlock_at) = Self::end_candidacy(&who)?;
			Self::deposit_event(Event::CandidateLeft { who, unbonding, unlock_at });
			Ok(())
		}

		/// Make a chilled candidate electable again.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::resume_candidacy())]
		pub fn resume_candidacy(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut candidate = Candidates::<T>::get(&who).ok_or(Error::<T>::NotCandidate)?;
			ensure!(candidate.chilled, Error::<T>::NotChilled);
			ensure!(
				Self::active_stake(&who) >= T::MinCandidateBond::get(),
				Error::<T>::BondBelowMinimum
			);
			candidate.chilled = false;
			Candidates::<T>::insert(&who, candidate);
			Self::deposit_event(Event::CandidateResumed { who });
			Ok(())
		}

		/// Approve `targets` (replacing earlier approvals) with the caller's whole power.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::vote(targets.len().min(T::MaxVotes::get() as usize) as u32))]
		pub fn vote(origin: OriginFor<T>, targets: Vec<T::AccountId>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_vote(&who, targets)
		}

		/// Withdraw all of the caller's approvals.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::unvote())]
		pub fn unvote(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(
				Voters::<T>::get(&who).is_some_and(|voter| !voter.approvals.is_empty()),
				Error::<T>::NotVoting
			);
			Self::settle(&who);
			let mut voter = Voters::<T>::get(&who).unwrap_or_default();
			Self::withdraw_approvals(&voter, Self::power(&who, &voter));
			voter.approvals.clear();
			Self::store_voter(&who, voter);
			Self::deposit_event(Event::VotesCleared { voter: who });
			Ok(())
		}

		/// Let `target` vote with the caller's power (replacing an earlier delegation).
		///
		/// The target must be a staking voter that delegates to nobody, and the caller may not
		/// vote itself or have delegators: chains are one hop long.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::delegate())]
		pub fn delegate(origin: OriginFor<T>, target: T::AccountId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(target != who, Error::<T>::DelegationCycle);
			if let Some(target_delegation) = Delegations::<T>::get(&target) {
				ensure!(target_delegation.target != who, Error::<T>::DelegationCycle);
				return Err(Error::<T>::DelegationTooDeep.into());
			}
			ensure!(!Candidates::<T>::contains_key(&who), Error::<T>::IsCandidate);
			ensure!(Ledgers::<T>::contains_key(&who), Error::<T>::NoStake);
			if let Some(voter) = Voters::<T>::get(&who) {
				ensure!(voter.delegators == 0, Error::<T>::DelegationTooDeep);
				ensure!(voter.approvals.is_empty(), Error::<T>::AlreadyVoting);
			}
			ensure!(
				Ledgers::<T>::contains_key(&target) && !Candidates::<T>::contains_key(&target),
				Error::<T>::TargetNotVoter
			);
			let current = Delegations::<T>::get(&who);
			ensure!(
				current.as_ref().is_none_or(|d| d.target != target),
				Error::<T>::AlreadyDelegating
			);

			Self::settle(&who);
			let own = Self::active_stake(&who);
			if let Some(old) = current {
				Self::move_delegated_power(&old.target, own, Zero::zero(), DelegatorChange::Leaves);
			}
			Self::settle_voter(&target);
			let paid_to =
				Self::move_delegated_power(&target, Zero::zero(), own, DelegatorChange::Joins);
			Delegations::<T>::insert(&who, Delegation { target: target.clone(), paid_to });
			Self::deposit_event(Event::Delegated { who, target });
			Ok(())
		}

		/// Stop delegating the caller's voting power.
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::undelegate())]
		pub fn undelegate(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let delegation = Delegations::<T>::get(&who).ok_or(Error::<T>::NotDelegating)?;
			Self::settle(&who);
			Delegations::<T>::remove(&who);
			let stake = Self::active_stake(&who);
			Self::move_delegated_power(
				&delegation.target,
				stake,
				Zero::zero(),
				DelegatorChange::Leaves,
			);
			Self::tidy_ledger(&who);
			Self::deposit_event(Event::Undelegated { who, target: delegation.target });
			Ok(())
		}

		/// Pay the caller every reward it has earned: commission, self-bond share, votes and
		/// delegations.
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::claim_rewards())]
		pub fn claim_rewards(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::settle(&who);
			let amount = PendingRewards::<T>::take(&who);
			ensure!(!amount.is_zero(), Error::<T>::NoRewards);
			T::Currency::transfer(&Self::pot(), &who, amount, Preservation::Preserve)?;
			Self::deposit_event(Event::RewardsClaimed { who, amount });
			Ok(())
		}

		/// Set the TIC minted per authored block.
		#[pallet::call_index(13)]
		#[pallet::weight(T::WeightInfo::set_block_reward())]
		pub fn set_block_reward(
			origin: OriginFor<T>,
			#[pallet::compact] amount: BalanceOf<T>,
		) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			BlockReward::<T>::put(amount);
			Self::deposit_event(Event::BlockRewardSet { amount });
			Ok(())
		}

		/// Set the session length; the next boundary is the next multiple of `blocks`.
		#[pallet::call_index(14)]
		#[pallet::weight(T::WeightInfo::set_session_length())]
		pub fn set_session_length(
			origin: OriginFor<T>,
			blocks: BlockNumberFor<T>,
		) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			ensure!(!blocks.is_zero(), Error::<T>::InvalidSessionLength);
			ensure!(Self::report_window_fits(blocks), Error::<T>::SessionOutlastsUnbonding);
			SessionLength::<T>::put(blocks);
			Self::deposit_event(Event::SessionLengthSet { blocks });
			Ok(())
		}

		/// Set how many delegates each election chooses, from the next election on.
		#[pallet::call_index(15)]
		#[pallet::weight(T::WeightInfo::set_desired_delegates())]
		pub fn set_desired_delegates(origin: OriginFor<T>, count: u32) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			ensure!(
				(T::MinDelegates::get()..=T::MaxDelegates::get()).contains(&count),
				Error::<T>::InvalidDelegateCount
			);
			DesiredDelegates::<T>::put(count);
			Self::deposit_event(Event::DesiredDelegatesSet { count });
			Ok(())
		}
	}
}

/// What a change of delegated power does to the target's count of delegators.
enum DelegatorChange {
	Joins,
	Leaves,
	Stays,
}

/// The session length as pallet-session's `PeriodicSessions` reads it.
pub struct CurrentSessionLength<T>(core::marker::PhantomData<T>);
impl<T: Config> Get<BlockNumberFor<T>> for CurrentSessionLength<T> {
	fn get() -> BlockNumberFor<T> {
		SessionLength::<T>::get()
	}
}

/// What unbonding does when every unlocking chunk is taken.
enum ChunksFull {
	/// Refuse with `TooManyUnlockingChunks`: the staker withdraws unlocked chunks first.
	Refuse,
	/// Add to the newest chunk, which then unlocks with the new amount: ending a candidacy
	/// never fails on the candidate's own chunks (a squatter filling them could otherwise keep
	/// its slot against eviction).
	Merge,
}

impl<T: Config> Pallet<T> {
	/// The account that holds minted rewards until they are claimed.
	pub fn pot() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// `who`'s active stake.
	pub fn active_stake(who: &T::AccountId) -> BalanceOf<T> {
		Ledgers::<T>::get(who).map(|ledger| ledger.active).unwrap_or_default()
	}

	/// The power a voter votes with: its own active stake plus what is delegated to it.
	fn power(who: &T::AccountId, voter: &Voter<T>) -> BalanceOf<T> {
		Self::active_stake(who).saturating_add(voter.received)
	}

	/// Bonds `amount` more for `who` and counts it everywhere its stake counts.
	fn do_bond(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let ledger = Ledgers::<T>::get(who).unwrap_or_default();
		let active = ledger.active.saturating_add(amount);
		ensure!(active >= T::MinStake::get(), Error::<T>::StakeBelowMinimum);
		T::Currency::hold(&HoldReason::Staked.into(), who, amount)?;
		Self::set_active(who, ledger, active);
		Ok(())
	}

	/// Bonds `amount` of `who`'s balance at genesis, or stops the genesis build with a message
	/// naming the account, its `role`, the bond and the balance it has.
	fn genesis_bond(role: &str, who: &T::AccountId, amount: BalanceOf<T>) {
		Self::do_bond(who, amount).unwrap_or_else(|e| {
			panic!(
				"genesis {role} {who:?} cannot bond {amount:?}: {} (its balance is {:?})",
				<&str>::from(e),
				T::Currency::balance(who)
			)
		})
	}

	/// Registers `who` as a candidate; genesis skips the session-key check because
	/// pallet-session sets the genesis keys after this pallet's genesis.
	fn do_register(
		who: &T::AccountId,
		commission: Perbill,
		metadata: BoundedVec<u8, T::MaxMetadataLen>,
		check_keys: bool,
	) -> DispatchResult {
		ensure!(!Candidates::<T>::contains_key(who), Error::<T>::AlreadyCandidate);
		let self_bond = Self::active_stake(who);
		ensure!(self_bond >= T::MinCandidateBond::get(), Error::<T>::BondBelowMinimum);
		if let Some(voter) = Voters::<T>::get(who) {
			ensure!(voter.approvals.is_empty(), Error::<T>::AlreadyVoting);
			ensure!(voter.delegators == 0, Error::<T>::HasDelegators);
		}
		ensure!(!Delegations::<T>::contains_key(who), Error::<T>::AlreadyDelegating);
		ensure!(
			!check_keys || T::ValidatorRegistration::is_registered(who),
			Error::<T>::NoSessionKeys
		);
		if Candidates::<T>::count() >= T::MaxCandidates::get() {
			// A full list takes a newcomer who bonds more than the least backed candidate has
			// behind it, so a squatter of minimum bonds cannot hold the slots.
			let (least, backing) =
				Self::least_backed_candidate().ok_or(Error::<T>::TooManyCandidates)?;
			ensure!(self_bond > backing, Error::<T>::TooManyCandidates);
			let (unbonding, unlock_at) = Self::end_candidacy(&least)?;
			Self::deposit_event(Event::CandidateEvicted {
				who: least,
				by: who.clone(),
				unbonding,
				unlock_at,
			});
		}

		Backings::<T>::mutate(who, |backing| {
			let backing = backing.get_or_insert_with(Default::default);
			backing.self_bond = self_bond;
			backing.self_paid_to = backing.reward_per_point;
			backing.commission = commission;
		});
		Candidates::<T>::insert(who, Candidate { metadata, chilled: false });
		Self::deposit_event(Event::CandidateRegistered { who: who.clone(), self_bond, commission });
		Ok(())
	}

	/// The candidate with the least backing (self-bond and votes) and that backing.
	fn least_backed_candidate() -> Option<(T::AccountId, BalanceOf<T>)> {
		Candidates::<T>::iter_keys()
			.map(|who| {
				let backing = Backings::<T>::get(&who).map(|b| b.total()).unwrap_or_default();
				(who, backing)
			})
			.min_by_key(|(_, backing)| *backing)
	}

	/// Ends `who`'s candidacy: settles its rewards, removes it and starts unbonding its whole
	/// self-bond; returns the amount and when it unlocks. Votes for it stay (they count again
	/// if it registers again) and their rewards so far stay claimable.
	fn end_candidacy(
		who: &T::AccountId,
	) -> Result<(BalanceOf<T>, BlockNumberFor<T>), DispatchError> {
		Self::settle(who);
		Candidates::<T>::remove(who);
		Backings::<T>::mutate_exists(who, |maybe| {
			if let Some(backing) = maybe {
				backing.self_bond = Zero::zero();
				if backing.voters == 0 {
					*maybe = None;
				}
			}
		});
		let mut ledger = Ledgers::<T>::get(who).unwrap_or_default();
		let unbonding = ledger.active;
		let unlock_at = Self::start_unbonding(&mut ledger, unbonding, ChunksFull::Merge)?;
		ledger.active = Zero::zero();
		Self::store_ledger(who, ledger);
		Ok((unbonding, unlock_at))
	}

	/// Replaces `who`'s approvals with `targets`.
	fn do_vote(who: &T::AccountId, targets: Vec<T::AccountId>) -> DispatchResult {
		ensure!(!targets.is_empty(), Error::<T>::EmptyVotes);
		ensure!(targets.len() <= T::MaxVotes::get() as usize, Error::<T>::TooManyVotes);
		ensure!(Ledgers::<T>::contains_key(who), Error::<T>::NoStake);
		ensure!(!Candidates::<T>::contains_key(who), Error::<T>::IsCandidate);
		ensure!(!Delegations::<T>::contains_key(who), Error::<T>::AlreadyDelegating);
		let mut sorted = targets.clone();
		sorted.sort();
		sorted.dedup();
		ensure!(sorted.len() == targets.len(), Error::<T>::DuplicateVote);
		ensure!(targets.iter().all(Candidates::<T>::contains_key), Error::<T>::UnknownCandidate);

		Self::settle(who);
		let mut voter = Voters::<T>::get(who).unwrap_or_default();
		let power = Self::power(who, &voter);
		Self::withdraw_approvals(&voter, power);
		let approvals = targets
			.iter()
			.map(|candidate| {
				let mut backing = Backings::<T>::get(candidate).unwrap_or_default();
				backing.votes = backing.votes.saturating_add(power);
				backing.voters += 1;
				let paid_to = backing.reward_per_point;
				Backings::<T>::insert(candidate, backing);
				Approval { candidate: candidate.clone(), paid_to }
			})
			.collect::<Vec<_>>();
		voter.approvals = BoundedVec::truncate_from(approvals);
		Voters::<T>::insert(who, voter);
		Self::deposit_event(Event::Voted { voter: who.clone(), targets });
		Ok(())
	}

	/// Fails unless `active` is a valid active stake for `who`.
	fn ensure_active_allowed(who: &T::AccountId, active: BalanceOf<T>) -> DispatchResult {
		if Candidates::<T>::contains_key(who) {
			ensure!(active >= T::MinCandidateBond::get(), Error::<T>::BondBelowMinimum);
		} else {
			ensure!(
				active.is_zero() || active >= T::MinStake::get(),
				Error::<T>::StakeBelowMinimum
			);
		}
		Ok(())
	}

	/// Adds an unbonding chunk of `amount` to `ledger` (merging with one that unlocks in the
	/// same block); returns when it unlocks. `ledger.active` is left to the caller.
	fn start_unbonding(
		ledger: &mut Ledger<T>,
		amount: BalanceOf<T>,
		when_full: ChunksFull,
	) -> Result<BlockNumberFor<T>, DispatchError> {
		let unlock_at = frame_system::Pallet::<T>::block_number() + T::UnbondingPeriod::get();
		if amount.is_zero() {
			return Ok(unlock_at);
		}
		let merge_when_full = ledger.unlocking.is_full() && matches!(when_full, ChunksFull::Merge);
		match ledger.unlocking.last_mut() {
			Some(chunk) if chunk.unlock_at == unlock_at || merge_when_full => {
				chunk.value = chunk.value.saturating_add(amount);
				chunk.unlock_at = unlock_at;
			}
			_ => ledger
				.unlocking
				.try_push(UnlockChunk { value: amount, unlock_at })
				.map_err(|_| Error::<T>::TooManyUnlockingChunks)?,
		}
		Ok(unlock_at)
	}

	/// Changes `who`'s active stake to `active`: settles its rewards at the old stake, moves
	/// every total the stake counts in, and stores the ledger.
	fn set_active(who: &T::AccountId, mut ledger: Ledger<T>, active: BalanceOf<T>) {
		Self::settle(who);
		let old = ledger.active;
		if Candidates::<T>::contains_key(who) {
			Backings::<T>::mutate(who, |backing| {
				backing.get_or_insert_with(Default::default).self_bond = active;
			});
		}
		if let Some(voter) = Voters::<T>::get(who) {
			Self::shift_approvals(
				&voter,
				old.saturating_add(voter.received),
				active.saturating_add(voter.received),
			);
		}
		if let Some(delegation) = Delegations::<T>::get(who) {
			Self::move_delegated_power(&delegation.target, old, active, DelegatorChange::Stays);
		}
		ledger.active = active;
		Self::store_ledger(who, ledger);
	}

	/// Stores `ledger`, or removes it when it holds nothing and nothing refers to it.
	fn store_ledger(who: &T::AccountId, ledger: Ledger<T>) {
		let unused = ledger.active.is_zero()
			&& ledger.unlocking.is_empty()
			&& !Candidates::<T>::contains_key(who)
			&& !Voters::<T>::contains_key(who)
			&& !Delegations::<T>::contains_key(who);
		if unused {
			Ledgers::<T>::remove(who);
		} else {
			Ledgers::<T>::insert(who, ledger);
		}
	}

	/// Removes `who`'s ledger if it holds nothing and nothing refers to it any more.
	fn tidy_ledger(who: &T::AccountId) {
		if let Some(ledger) = Ledgers::<T>::get(who) {
			Self::store_ledger(who, ledger);
		}
	}

	/// Stores `voter`, or removes it (and a ledger left empty) when it no longer votes or
	/// receives delegations.
	fn store_voter(who: &T::AccountId, voter: Voter<T>) {
		if voter.is_empty() {
			Voters::<T>::remove(who);
			Self::tidy_ledger(who);
		} else {
			Voters::<T>::insert(who, voter);
		}
	}

	/// Moves the power of `voter`'s approvals from `old` to `new` in each approved backing.
	fn shift_approvals(voter: &Voter<T>, old: BalanceOf<T>, new: BalanceOf<T>) {
		if old == new {
			return;
		}
		for approval in &voter.approvals {
			Backings::<T>::mutate(&approval.candidate, |backing| {
				if let Some(backing) = backing {
					backing.votes = backing.votes.saturating_sub(old).saturating_add(new);
				}
			});
		}
	}

	/// Removes `voter`'s approvals of power `power` from their backings.
	fn withdraw_approvals(voter: &Voter<T>, power: BalanceOf<T>) {
		for approval in &voter.approvals {
			Backings::<T>::mutate_exists(&approval.candidate, |maybe| {
				if let Some(backing) = maybe {
					backing.votes = backing.votes.saturating_sub(power);
					backing.voters = backing.voters.saturating_sub(1);
					if backing.voters == 0 && !Candidates::<T>::contains_key(&approval.candidate) {
						*maybe = None;
					}
				}
			});
		}
	}

	/// Changes one delegator's stake in `target`'s received power from `old` to `new`, as
	/// the delegator joins, leaves or stays. `target` must be settled. Returns the target's
	/// pool accumulator, where a new delegation starts.
	fn move_delegated_power(
		target: &T::AccountId,
		old: BalanceOf<T>,
		new: BalanceOf<T>,
		delegator: DelegatorChange,
	) -> RewardPerPoint {
		let mut voter = Voters::<T>::get(target).unwrap_or_default();
		let own = Self::active_stake(target);
		let received = voter.received.saturating_sub(old).saturating_add(new);
		Self::shift_approvals(
			&voter,
			own.saturating_add(voter.received),
			own.saturating_add(received),
		);
		voter.received = received;
		voter.delegators = match delegator {
			DelegatorChange::Joins => voter.delegators.saturating_add(1),
			DelegatorChange::Leaves => voter.delegators.saturating_sub(1),
			DelegatorChange::Stays => voter.delegators,
		};
		let pool = voter.pool_reward_per_point;
		Self::store_voter(target, voter);
		pool
	}
}
