//! The pallet's invariants, checked by the `try_state` hook (try-runtime) and after every
//! unit and property test: running totals equal a recount of the records they sum, holds
//! equal ledgers, records are removed when empty, and the pot can pay every reward owed.

use crate::*;
use frame_support::traits::fungible::InspectHold as _;
use polkadot_sdk::sp_runtime::TryRuntimeError;

impl<T: Config> Pallet<T> {
	/// Checks every invariant; the error names the first one broken.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		Self::check_backings()?;
		Self::check_voters()?;
		Self::check_delegations()?;
		Self::check_ledgers_and_pot()?;
		Self::check_bounds()
	}

	/// Each backing's self-bond, votes and voter count equal a recount from the ledgers and
	/// voters, and a backing without candidate or voters is removed.
	fn check_backings() -> Result<(), TryRuntimeError> {
		for (candidate, backing) in Backings::<T>::iter() {
			let registered = Candidates::<T>::contains_key(&candidate);
			let expected_self =
				if registered { Self::active_stake(&candidate) } else { Zero::zero() };
			ensure!(backing.self_bond == expected_self, "a backing's self-bond is not its stake");
			let mut votes = BalanceOf::<T>::zero();
			let mut voters = 0u32;
			for (who, voter) in Voters::<T>::iter() {
				if voter.approvals.iter().any(|a| a.candidate == candidate) {
					votes = votes.saturating_add(Self::power(&who, &voter));
					voters.saturating_inc();
				}
			}
			ensure!(backing.votes == votes, "a backing's votes are not its voters' power");
			ensure!(backing.voters == voters, "a backing's voter count is not its voters");
			ensure!(voters > 0 || registered, "a backing without candidate or voters is kept");
		}
		Ok(())
	}

	/// Each voter's received power and delegator count equal its delegations, it approves
	/// only backed candidates, has a ledger and is removed when empty.
	fn check_voters() -> Result<(), TryRuntimeError> {
		for (who, voter) in Voters::<T>::iter() {
			ensure!(!voter.is_empty(), "an empty voter record is kept");
			let mut received = BalanceOf::<T>::zero();
			let mut delegators = 0u32;
			for (delegator, delegation) in Delegations::<T>::iter() {
				if delegation.target == who {
					received = received.saturating_add(Self::active_stake(&delegator));
					delegators.saturating_inc();
				}
			}
			ensure!(voter.received == received, "a voter's received power is not its delegations");
			ensure!(
				voter.delegators == delegators,
				"a voter's delegator count is not its delegations"
			);
			ensure!(
				voter.approvals.iter().all(|a| Backings::<T>::contains_key(&a.candidate)),
				"a voter approves an account without a backing"
			);
			ensure!(Ledgers::<T>::contains_key(&who), "a voter has no ledger");
		}
		Ok(())
	}

	/// Delegations go one hop to a voter, and candidates do not delegate.
	fn check_delegations() -> Result<(), TryRuntimeError> {
		for (who, delegation) in Delegations::<T>::iter() {
			ensure!(
				Voters::<T>::contains_key(&delegation.target),
				"a delegation's target is not a voter"
			);
			ensure!(
				!Delegations::<T>::contains_key(&delegation.target),
				"a delegation chain is longer than one hop"
			);
			ensure!(!Candidates::<T>::contains_key(&who), "a candidate delegates");
		}
		Ok(())
	}

	/// What each ledger says is held is held, and the pot covers the existential deposit
	/// plus every reward owed (settled or not) to a staker or an account with unclaimed
	/// rewards.
	fn check_ledgers_and_pot() -> Result<(), TryRuntimeError> {
		let mut owed = BalanceOf::<T>::zero();
		for (who, ledger) in Ledgers::<T>::iter() {
			let held = T::Currency::balance_on_hold(&HoldReason::Staked.into(), &who);
			ensure!(held == ledger.total(), "an account's held stake is not its ledger");
			owed = owed.saturating_add(Self::pending_rewards(&who));
		}
		for (who, settled) in PendingRewards::<T>::iter() {
			if !Ledgers::<T>::contains_key(&who) {
				owed = owed.saturating_add(settled);
			}
		}
		let pot = T::Currency::balance(&Self::pot());
		ensure!(
			pot >= T::Currency::minimum_balance().saturating_add(owed),
			"the pot cannot pay every reward owed"
		);
		Ok(())
	}

	/// Bounded sets stay within their bounds, and the candidate counter counts them.
	fn check_bounds() -> Result<(), TryRuntimeError> {
		let candidates = Candidates::<T>::iter().count() as u32;
		ensure!(Candidates::<T>::count() == candidates, "the candidate counter is off");
		ensure!(candidates <= T::MaxCandidates::get(), "more candidates than MaxCandidates");
		for (session, _, _) in SessionSlashes::<T>::iter() {
			ensure!(Self::in_report_window(session), "a slash outside the report window is kept");
		}
		Ok(())
	}
}
