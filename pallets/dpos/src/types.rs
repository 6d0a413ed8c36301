//! Records the pallet keeps per account, and the reward arithmetic on them.
//!
//! Rewards are paid lazily with reward-per-point accumulators, so no hook ever iterates
//! over voters:
//!
//! - each candidate's [`Backing`] accumulates, per unit of backing, the part of every block
//!   reward it does not keep as commission;
//! - a direct voter's [`Voter`] record remembers, per approved candidate, the accumulator
//!   value it was last paid up to; what it earned since is `power * (now - then)`;
//! - a voter that receives delegated power shares those earnings with its delegators
//!   pro rata to stake through a second accumulator, `pool_reward_per_point`.

use crate::{BalanceOf, Config};
use codec::{Decode, Encode, MaxEncodedLen};
use polkadot_sdk::{
	frame_support::{
		pallet_prelude::*, CloneNoBound, DebugNoBound, DefaultNoBound, Deserialize, EqNoBound,
		PartialEqNoBound, Serialize,
	},
	frame_system::pallet_prelude::BlockNumberFor,
	sp_runtime::{
		traits::{Saturating, Zero},
		FixedPointNumber, FixedU128, Perbill,
	},
};
use scale_info::TypeInfo;

/// A delegate candidate at genesis: it bonds `bond` of its balance and registers with
/// `commission`. In a chain spec: `{ "account": ..., "bond": ..., "commission": ... }`
/// (commission in parts per billion).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(crate = "polkadot_sdk::frame_support::__private::serde", deny_unknown_fields)]
pub struct GenesisCandidate<AccountId, Balance> {
	/// The candidate's account.
	pub account: AccountId,
	/// Its self-bond.
	pub bond: Balance,
	/// The share of its blocks' rewards it keeps.
	pub commission: Perbill,
}

/// A voter at genesis: it bonds `stake` of its balance and approves `approvals`, which must be
/// genesis candidates. In a chain spec: `{ "account": ..., "stake": ..., "approvals": [...] }`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(crate = "polkadot_sdk::frame_support::__private::serde", deny_unknown_fields)]
pub struct GenesisVoter<AccountId, Balance> {
	/// The voter's account.
	pub account: AccountId,
	/// Its stake, the power of each approval.
	pub stake: Balance,
	/// The candidates it approves.
	pub approvals: alloc::vec::Vec<AccountId>,
}

/// Reward per point of backing (per unit of stake), as a fixed-point number.
pub type RewardPerPoint = FixedU128;

/// What `points` earned while an accumulator moved from `then` to `now`, rounded down.
pub fn earned<T: Config>(
	points: BalanceOf<T>,
	then: RewardPerPoint,
	now: RewardPerPoint,
) -> BalanceOf<T> {
	now.saturating_sub(then).saturating_mul_int(points)
}

/// `amount / points` as a reward-per-point increment (zero when nobody holds points).
pub fn per_point<T: Config>(amount: BalanceOf<T>, points: BalanceOf<T>) -> RewardPerPoint {
	if points.is_zero() {
		Zero::zero()
	} else {
		RewardPerPoint::saturating_from_rational(amount, points)
	}
}

/// A part of the stake on its way out: held until `unlock_at`, then withdrawable.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct UnlockChunk<Balance, BlockNumber> {
	/// Amount unbonding.
	pub value: Balance,
	/// First block at which it can be withdrawn.
	pub unlock_at: BlockNumber,
}

/// The stake of one account, all of it held under [`crate::HoldReason::Staked`].
#[derive(
	Encode,
	Decode,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	TypeInfo,
	MaxEncodedLen,
	DefaultNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct Ledger<T: Config> {
	/// Stake that counts: as a candidate's self-bond, a vote or a delegation.
	pub active: BalanceOf<T>,
	/// Stake that no longer counts and unlocks over time, oldest first.
	pub unlocking: BoundedVec<UnlockChunk<BalanceOf<T>, BlockNumberFor<T>>, T::MaxUnlockingChunks>,
}

impl<T: Config> Ledger<T> {
	/// Everything held: active plus unlocking.
	pub fn total(&self) -> BalanceOf<T> {
		self.unlocking.iter().fold(self.active, |sum, chunk| sum.saturating_add(chunk.value))
	}

	/// Takes up to `amount` out of the unlocking chunks, newest first (the latest decisions
	/// are undone first); returns the part of `amount` that was not there.
	pub fn take_unlocking(&mut self, mut amount: BalanceOf<T>) -> BalanceOf<T> {
		while let Some(chunk) = self.unlocking.last_mut() {
			if amount.is_zero() {
				break;
			}
			let take = amount.min(chunk.value);
			chunk.value -= take;
			amount -= take;
			if chunk.value.is_zero() {
				self.unlocking.pop();
			}
		}
		amount
	}
}

/// A registered delegate candidate.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
pub struct Candidate<T: Config> {
	/// Free-form description, e.g. name and URL.
	pub metadata: BoundedVec<u8, T::MaxMetadataLen>,
	/// Chilled candidates are not elected until they resume.
	pub chilled: bool,
}

/// The economic record of a candidate: what backs it and what it has earned per point.
///
/// It outlives a candidacy while voters still approve the account, so that their rewards
/// stay claimable and their power stays counted should the account register again.
#[derive(
	Encode,
	Decode,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	TypeInfo,
	MaxEncodedLen,
	DefaultNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct Backing<T: Config> {
	/// The candidate's own active stake while registered, zero after it leaves.
	pub self_bond: BalanceOf<T>,
	/// Sum of the power of every direct voter approving this candidate.
	pub votes: BalanceOf<T>,
	/// Number of direct voters approving this candidate.
	pub voters: u32,
	/// Share of each block reward the delegate keeps before its backers are paid.
	pub commission: Perbill,
	/// Reward paid so far per point of backing.
	pub reward_per_point: RewardPerPoint,
	/// `reward_per_point` up to which the self-bond has been paid.
	pub self_paid_to: RewardPerPoint,
}

impl<T: Config> Backing<T> {
	/// What the election ranks by: self-bond plus votes.
	pub fn total(&self) -> BalanceOf<T> {
		self.self_bond.saturating_add(self.votes)
	}

	/// Pays the self-bond up to now; returns what it earned.
	pub fn settle_self_bond(&mut self) -> BalanceOf<T> {
		let reward = earned::<T>(self.self_bond, self.self_paid_to, self.reward_per_point);
		self.self_paid_to = self.reward_per_point;
		reward
	}
}

/// An approval of one candidate by a direct voter.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct Approval<AccountId> {
	/// The approved candidate.
	pub candidate: AccountId,
	/// The candidate's `reward_per_point` up to which this approval has been paid.
	pub paid_to: RewardPerPoint,
}

/// An account that votes directly, or that others delegate their voting power to.
#[derive(
	Encode,
	Decode,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	TypeInfo,
	MaxEncodedLen,
	DefaultNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct Voter<T: Config> {
	/// Approved candidates; each gets the voter's whole power.
	pub approvals: BoundedVec<Approval<T::AccountId>, T::MaxVotes>,
	/// Active stake delegated to this voter.
	pub received: BalanceOf<T>,
	/// Number of accounts delegating to this voter.
	pub delegators: u32,
	/// Reward paid so far per unit of delegated stake.
	pub pool_reward_per_point: RewardPerPoint,
}

impl<T: Config> Voter<T> {
	/// Whether the record still carries anything; an empty one is removed.
	pub fn is_empty(&self) -> bool {
		self.approvals.is_empty() && self.delegators == 0
	}
}

/// A delegation of an account's voting power to a voter.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct Delegation<AccountId> {
	/// The voter that votes with this power.
	pub target: AccountId,
	/// The target's `pool_reward_per_point` up to which this delegation has been paid.
	pub paid_to: RewardPerPoint,
}

/// A candidate as the runtime API and RPC report it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct CandidateSummary<AccountId, Balance> {
	/// The candidate.
	pub account: AccountId,
	/// 1-based position in the ranking the next election uses.
	pub rank: u32,
	/// Own stake.
	pub self_bond: Balance,
	/// Power of the voters approving it.
	pub votes: Balance,
	/// `self_bond + votes`.
	pub total: Balance,
	/// Number of direct voters approving it.
	pub voters: u32,
	/// Commission on block rewards.
	pub commission: Perbill,
	/// Whether it is chilled (not elected until it resumes).
	pub chilled: bool,
	/// Whether the next election, held now, would make it a delegate.
	pub elected: bool,
}
