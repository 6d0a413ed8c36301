//! Rewards: each authored block mints the block reward into the pot and raises its
//! delegate's accumulator; positions are settled lazily, whenever the stake behind them
//! changes or their owner claims.

use crate::*;
use frame_support::storage::{with_transaction, TransactionOutcome};

impl<T: Config> Pallet<T> {
	/// Rewards `who` could claim now: what settling its positions would credit, computed by
	/// settling and rolling the change back.
	pub fn pending_rewards(who: &T::AccountId) -> BalanceOf<T> {
		with_transaction(|| {
			Self::settle(who);
			TransactionOutcome::Rollback(Ok::<_, DispatchError>(PendingRewards::<T>::get(who)))
		})
		.unwrap_or_default()
	}

	/// Pays voter `who`'s approvals up to now: credits the voter's own share and adds its
	/// delegators' share to its pool. Returns the pool accumulator.
	pub(crate) fn settle_voter(who: &T::AccountId) -> Option<RewardPerPoint> {
		let mut voter = Voters::<T>::get(who)?;
		let power = Self::power(who, &voter);
		let mut total = BalanceOf::<T>::zero();
		for approval in voter.approvals.iter_mut() {
			if let Some(backing) = Backings::<T>::get(&approval.candidate) {
				total = total.saturating_add(earned::<T>(
					power,
					approval.paid_to,
					backing.reward_per_point,
				));
				approval.paid_to = backing.reward_per_point;
			}
		}
		let to_delegators = per_point::<T>(voter.received, power).saturating_mul_int(total);
		voter.pool_reward_per_point = voter
			.pool_reward_per_point
			.saturating_add(per_point::<T>(to_delegators, voter.received));
		let pool = voter.pool_reward_per_point;
		Voters::<T>::insert(who, voter);
		Self::credit(who, total.saturating_sub(to_delegators));
		Some(pool)
	}

	/// Brings every reward position of `who` up to date and credits what it earned.
	pub(crate) fn settle(who: &T::AccountId) {
		if let Some(mut backing) = Backings::<T>::get(who) {
			let reward = backing.settle_self_bond();
			Backings::<T>::insert(who, backing);
			Self::credit(who, reward);
		}
		Self::settle_voter(who);
		if let Some(mut delegation) = Delegations::<T>::get(who) {
			let pool = Self::settle_voter(&delegation.target).unwrap_or(delegation.paid_to);
			let reward = earned::<T>(Self::active_stake(who), delegation.paid_to, pool);
			delegation.paid_to = pool;
			Delegations::<T>::insert(who, delegation);
			Self::credit(who, reward);
		}
	}

	fn credit(who: &T::AccountId, amount: BalanceOf<T>) {
		if !amount.is_zero() {
			PendingRewards::<T>::mutate(who, |pending| *pending = pending.saturating_add(amount));
		}
	}

	/// Mints the block reward for `author` and splits it between its commission and its
	/// backers' accumulator.
	pub(crate) fn reward_author(author: &T::AccountId) {
		Self::reward(author, BlockReward::<T>::get());
	}

	/// Mints `share` of the block reward for `author`, whose block another block referenced
	/// (pallet-block-graph), split as an authored block's reward is.
	pub fn reward_referenced(author: &T::AccountId, share: Perbill) {
		Self::reward(author, share * BlockReward::<T>::get());
	}

	/// Mints `reward` for `author` and splits it between its commission and its backers'
	/// accumulator.
	fn reward(author: &T::AccountId, reward: BalanceOf<T>) {
		if reward.is_zero() || T::Currency::mint_into(&Self::pot(), reward).is_err() {
			return;
		}
		let (commission, to_backers) = Backings::<T>::mutate(author, |maybe| match maybe {
			Some(backing) if !backing.total().is_zero() => {
				let commission = backing.commission * reward;
				let to_backers = reward - commission;
				backing.reward_per_point = backing
					.reward_per_point
					.saturating_add(per_point::<T>(to_backers, backing.total()));
				(commission, to_backers)
			}
			// Nobody backs the author (it left its candidacy): it keeps the whole reward.
			_ => (reward, Zero::zero()),
		});
		Self::credit(author, commission);
		Self::deposit_event(Event::BlockRewarded {
			author: author.clone(),
			commission,
			to_backers,
		});
	}
}

impl<T: Config> pallet_authorship::EventHandler<T::AccountId, BlockNumberFor<T>> for Pallet<T> {
	fn note_author(author: T::AccountId) {
		AuthoredBlocks::<T>::mutate(&author, |blocks| *blocks = blocks.saturating_add(1));
		Self::reward_author(&author);
		frame_system::Pallet::<T>::register_extra_weight_unchecked(
			T::WeightInfo::note_author(),
			DispatchClass::Mandatory,
		);
	}
}
