//! Unit tests on the mock runtime, and a property test that random call sequences keep the
//! pallet's bookkeeping exact.

use crate::{mock::*, *};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold as _},
	pallet_authorship::EventHandler as _,
	sp_runtime::{DispatchError, TokenError},
	sp_staking::offence::{OffenceDetails, OnOffenceHandler},
};
use proptest::prelude::*;

fn origin(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::Staked.into(), &who)
}

fn backing(who: AccountId) -> Backing<Test> {
	Backings::<Test>::get(who).expect("candidate is backed")
}

fn last_event() -> Event<Test> {
	System::read_events_for_pallet::<Event<Test>>().pop().expect("an event was emitted")
}

fn set_keys(who: AccountId) {
	let (keys, proof) = session_keys(who);
	assert_ok!(Session::set_keys(origin(who), keys, proof));
}

/// Bonds `stake` for `who` and approves `targets`.
fn vote_with(who: AccountId, stake: Balance, targets: Vec<AccountId>) {
	assert_ok!(Dpos::bond(origin(who), stake));
	assert_ok!(Dpos::vote(origin(who), targets));
}

/// The pallet's invariants ([`Pallet::do_try_state`]), and that no account holds stake
/// without a ledger (which the pallet cannot enumerate).
pub fn assert_invariants() {
	assert_ok!(Dpos::do_try_state());
	for who in (1..=ACCOUNTS).filter(|who| !Ledgers::<Test>::contains_key(who)) {
		assert_eq!(held(who), 0, "{who} holds stake without a ledger");
	}
}

mod genesis {
	use super::*;

	#[test]
	fn genesis_candidates_are_bonded_registered_and_elected() {
		ExtBuilder::default().build_and_execute(|| {
			assert_eq!(Session::validators(), vec![1, 2, 3]);
			assert_eq!(Elected::<Test>::get().into_inner(), vec![1, 2, 3]);
			assert_eq!(held(1), 500);
			assert_eq!(backing(2).self_bond, 400);
			assert_eq!(backing(2).commission, Perbill::from_percent(20));
			assert_eq!(Balances::free_balance(Dpos::pot()), ED);
			assert_eq!(BlockReward::<Test>::get(), REWARD);
			assert_eq!(SessionLength::<Test>::get(), SESSION);
		});
	}

	#[test]
	fn without_candidates_the_session_keys_decide() {
		ExtBuilder::default().candidates(vec![]).build_and_execute(|| {
			assert_eq!(Session::validators(), vec![1, 2, 3, 4, 5, 6]);
			assert_eq!(Dpos::elect(), Err(0));
			run_to_session(2);
			assert!(System::read_events_for_pallet::<Event<Test>>()
				.contains(&Event::ElectionSkipped { session: 2, eligible: 0 }));
		});
	}

	#[test]
	#[should_panic(
		expected = "genesis voter 10 cannot bond 2000000: Funds are unavailable (its balance is 1000000)"
	)]
	fn a_genesis_voter_without_the_funds_is_named() {
		ExtBuilder::default().voters(vec![(10, 2 * ENDOWMENT, vec![3])]).build_and_execute(|| {});
	}

	#[test]
	#[should_panic(expected = "genesis voter 10 cannot approve [7]: UnknownCandidate")]
	fn a_genesis_vote_for_a_non_candidate_is_named() {
		ExtBuilder::default().voters(vec![(10, 250, vec![7])]).build_and_execute(|| {});
	}

	#[test]
	fn genesis_votes_count() {
		ExtBuilder::default().voters(vec![(10, 250, vec![3])]).build_and_execute(|| {
			assert_eq!(backing(3).votes, 250);
			assert_eq!(backing(3).voters, 1);
			assert_eq!(Session::validators(), vec![3, 1, 2]);
		});
	}
}

mod staking {
	use super::*;

	#[test]
	fn bond_holds_funds_and_creates_a_ledger() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Dpos::bond(origin(10), 50));
			assert_eq!(last_event(), Event::Bonded { who: 10, amount: 50 });
			assert_eq!(Dpos::active_stake(&10), 50);
			assert_eq!(held(10), 50);
			assert_eq!(Balances::free_balance(10), ENDOWMENT - 50);
			assert_ok!(Dpos::bond(origin(10), 5));
			assert_eq!(held(10), 55);
		});
	}

	#[test]
	fn bond_errors() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(Dpos::bond(origin(10), 0), Error::<Test>::ZeroAmount);
			assert_noop!(Dpos::bond(origin(10), MIN_STAKE - 1), Error::<Test>::StakeBelowMinimum);
			assert_noop!(
				Dpos::bond(origin(10), ENDOWMENT + 1),
				DispatchError::Token(TokenError::FundsUnavailable)
			);
		});
	}

	#[test]
	fn unbond_moves_stake_to_an_unlocking_chunk() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Dpos::bond(origin(10), 100));
			assert_ok!(Dpos::unbond(origin(10), 30));
			assert_eq!(
				last_event(),
				Event::Unbonded { who: 10, amount: 30, unlock_at: 1 + UNBONDING }
			);
			// A second unbond in the same block merges into the same chunk.
			assert_ok!(Dpos::unbond(origin(10), 20));
			let ledger = Ledgers::<Test>::get(10).unwrap();
			assert_eq!(ledger.active, 50);
			assert_eq!(
				ledger.unlocking.into_inner(),
				vec![UnlockChunk { value: 50, unlock_at: 1 + UNBONDING }]
			);
			assert_eq!(held(10), 100, "unbonding stake stays held");
		});
	}

	#[test]
	fn unbond_errors() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(Dpos::unbond(origin(10), 1), Error::<Test>::NoStake);
			assert_ok!(Dpos::bond(origin(10), 100));
			assert_noop!(Dpos::unbond(origin(10), 0), Error::<Test>::ZeroAmount);
			assert_noop!(Dpos::unbond(origin(10), 101), Error::<Test>::InsufficientStake);
			assert_noop!(Dpos::unbond(origin(10), 95), Error::<Test>::StakeBelowMinimum);
			assert_noop!(Dpos::unbond(origin(1), 401), Error::<Test>::BondBelowMinimum);
			for block in 2..5 {
				System::set_block_number(block);
				assert_ok!(Dpos::unbond(origin(10), 10));
			}
			System::set_block_number(5);
			assert_noop!(Dpos::unbond(origin(10), 10), Error::<Test>::TooManyUnlockingChunks);
		});
	}

	#[test]
	fn rebond_takes_newest_chunks_first() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(Dpos::rebond(origin(10), 1), Error::<Test>::NoStake);
			assert_ok!(Dpos::bond(origin(10), 100));
			assert_noop!(Dpos::rebond(origin(10), 1), Error::<Test>::NothingToRebond);
			assert_ok!(Dpos::unbond(origin(10), 20));
			System::set_block_number(2);
			assert_ok!(Dpos::unbond(origin(10), 30));
			assert_noop!(Dpos::rebond(origin(10), 51), Error::<Test>::InsufficientUnbonding);
			assert_ok!(Dpos::rebond(origin(10), 35));
			assert_eq!(last_event(), Event::Rebonded { who: 10, amount: 35 });
			let ledger = Ledgers::<Test>::get(10).unwrap();
			assert_eq!(ledger.active, 85);
			assert_eq!(
				ledger.unlocking.into_inner(),
				vec![UnlockChunk { value: 15, unlock_at: 1 + UNBONDING }]
			);
		});
	}

	#[test]
	fn withdraw_only_after_the_unbonding_period() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(Dpos::withdraw_unbonded(origin(10)), Error::<Test>::NoStake);
			assert_ok!(Dpos::bond(origin(10), 100));
			assert_noop!(Dpos::withdraw_unbonded(origin(10)), Error::<Test>::NothingToWithdraw);
			assert_ok!(Dpos::unbond(origin(10), 100));
			System::set_block_number(1 + UNBONDING - 1);
			assert_noop!(Dpos::withdraw_unbonded(origin(10)), Error::<Test>::UnbondingNotFinished);
			System::set_block_number(1 + UNBONDING);
			assert_ok!(Dpos::withdraw_unbonded(origin(10)));
			assert_eq!(last_event(), Event::Withdrawn { who: 10, amount: 100 });
			assert_eq!(Balances::free_balance(10), ENDOWMENT);
			assert!(!Ledgers::<Test>::contains_key(10), "an empty ledger is removed");
		});
	}
}

mod candidates {
	use super::*;

	#[test]
	fn register_candidate_with_bond_and_keys() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Dpos::bond(origin(4), 150));
			let metadata = BoundedVec::truncate_from(b"node-4".to_vec());
			assert_ok!(Dpos::register_candidate(
				origin(4),
				Perbill::from_percent(5),
				metadata.clone()
			));
			assert_eq!(
				last_event(),
				Event::CandidateRegistered {
					who: 4,
					self_bond: 150,
					commission: Perbill::from_percent(5)
				}
			);
			assert_eq!(Candidates::<Test>::get(4).unwrap().metadata, metadata);
			assert_eq!(backing(4).self_bond, 150);
			assert_eq!(backing(4).total(), 150);
		});
	}

	#[test]
	fn register_candidate_errors() {
		ExtBuilder::default().build_and_execute(|| {
			let register =
				|who| Dpos::register_candidate(origin(who), Perbill::zero(), Default::default());
			assert_noop!(register(1), Error::<Test>::AlreadyCandidate);
			assert_noop!(register(4), Error::<Test>::BondBelowMinimum);
			assert_ok!(Dpos::bond(origin(4), MIN_BOND - 1));
			assert_noop!(register(4), Error::<Test>::BondBelowMinimum);
			assert_ok!(Dpos::bond(origin(7), MIN_BOND));
			assert_noop!(register(7), Error::<Test>::NoSessionKeys);

			vote_with(5, MIN_BOND, vec![1]);
			assert_noop!(register(5), Error::<Test>::AlreadyVoting);
			assert_ok!(Dpos::bond(origin(6), MIN_BOND));
			assert_ok!(Dpos::delegate(origin(6), 5));
			assert_noop!(register(6), Error::<Test>::AlreadyDelegating);
			assert_ok!(Dpos::unvote(origin(5)));
			assert_noop!(register(5), Error::<Test>::HasDelegators);
		});
	}

	#[test]
	fn too_many_candidates() {
		ExtBuilder::default().build_and_execute(|| {
			for who in 4..=7 {
				if who == 7 {
					set_keys(7);
				}
				assert_ok!(Dpos::bond(origin(who), MIN_BOND));
				let result =
					Dpos::register_candidate(origin(who), Perbill::zero(), Default::default());
				if who < 7 {
					assert_ok!(result);
				} else {
					// No more than the least backed (4, 5 and 6 have the minimum): refused.
					assert_noop!(result, Error::<Test>::TooManyCandidates);
				}
			}
		});
	}

	#[test]
	fn a_full_candidate_list_takes_who_bonds_more_than_the_least_backed() {
		ExtBuilder::default().build_and_execute(|| {
			// A squatter fills the free slots with minimum bonds; one is also voted for.
			for who in 4..=6 {
				assert_ok!(Dpos::bond(origin(who), MIN_BOND));
				assert_ok!(Dpos::register_candidate(
					origin(who),
					Perbill::zero(),
					Default::default()
				));
			}
			vote_with(8, 50, vec![4]);
			// An honest newcomer bonds more than 5 or 6 has behind it, less than 4.
			set_keys(7);
			assert_ok!(Dpos::bond(origin(7), MIN_BOND + 1));
			assert_ok!(Dpos::register_candidate(origin(7), Perbill::zero(), Default::default()));
			let Event::CandidateEvicted { who: evicted, by, unbonding, unlock_at } =
				System::read_events_for_pallet::<Event<Test>>().into_iter().rev().nth(1).unwrap()
			else {
				panic!("an eviction before the registration")
			};
			assert!(evicted == 5 || evicted == 6, "the least backed went: {evicted}");
			assert_eq!((by, unbonding, unlock_at), (7, MIN_BOND, 1 + UNBONDING));
			assert!(!Candidates::<Test>::contains_key(evicted));
			assert_eq!(Ledgers::<Test>::get(evicted).unwrap().unlocking[0].value, MIN_BOND);
			assert_eq!(Candidates::<Test>::count(), 6);
		});
	}

	#[test]
	fn full_unlocking_chunks_do_not_keep_a_candidate_from_being_evicted() {
		ExtBuilder::default().build_and_execute(|| {
			for who in 4..=6 {
				assert_ok!(Dpos::bond(origin(who), MIN_BOND + 10));
				assert_ok!(Dpos::register_candidate(
					origin(who),
					Perbill::zero(),
					Default::default()
				));
			}
			// 4 fills its unlocking chunks, one a block, then holds the least backing.
			for _ in 0..3 {
				assert_ok!(Dpos::unbond(origin(4), 1));
				run_to_block(System::block_number() + 1);
			}
			assert_noop!(Dpos::unbond(origin(4), 1), Error::<Test>::TooManyUnlockingChunks);
			set_keys(7);
			assert_ok!(Dpos::bond(origin(7), MIN_BOND + 10));
			assert_ok!(Dpos::register_candidate(origin(7), Perbill::zero(), Default::default()));
			assert!(!Candidates::<Test>::contains_key(4));
			// The self-bond joined the newest chunk, which now unlocks with it.
			let ledger = Ledgers::<Test>::get(4).unwrap();
			let newest = ledger.unlocking.last().unwrap();
			assert_eq!(ledger.unlocking.len(), 3);
			assert_eq!(
				(newest.value, newest.unlock_at),
				(1 + MIN_BOND + 7, System::block_number() + UNBONDING)
			);
		});
	}

	#[test]
	fn update_candidate_changes_commission_and_metadata() {
		ExtBuilder::default().build_and_execute(|| {
			let metadata = BoundedVec::truncate_from(b"https://x".to_vec());
			assert_noop!(
				Dpos::update_candidate(origin(4), Perbill::zero(), metadata.clone()),
				Error::<Test>::NotCandidate
			);
			assert_ok!(Dpos::update_candidate(
				origin(1),
				Perbill::from_percent(50),
				metadata.clone()
			));
			assert_eq!(backing(1).commission, Perbill::from_percent(50));
			assert_eq!(Candidates::<Test>::get(1).unwrap().metadata, metadata);
			assert_eq!(
				last_event(),
				Event::CandidateUpdated { who: 1, commission: Perbill::from_percent(50) }
			);
		});
	}

	#[test]
	fn leaving_unbonds_the_self_bond() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(Dpos::leave_candidates(origin(4)), Error::<Test>::NotCandidate);
			assert_ok!(Dpos::leave_candidates(origin(3)));
			assert_eq!(
				last_event(),
				Event::CandidateLeft { who: 3, unbonding: 300, unlock_at: 1 + UNBONDING }
			);
			assert!(!Candidates::<Test>::contains_key(3));
			assert!(!Backings::<Test>::contains_key(3), "nobody backs it any more");
			assert_eq!(Dpos::active_stake(&3), 0);
			assert_eq!(held(3), 300);
			System::set_block_number(1 + UNBONDING);
			assert_ok!(Dpos::withdraw_unbonded(origin(3)));
			assert_eq!(Balances::free_balance(3), ENDOWMENT);
		});
	}

	#[test]
	fn votes_for_a_departed_candidate_count_again_when_it_returns() {
		ExtBuilder::default().build_and_execute(|| {
			vote_with(10, 70, vec![3]);
			assert_ok!(Dpos::leave_candidates(origin(3)));
			assert_eq!(backing(3).total(), 70, "the vote stays recorded");
			assert!(!Dpos::elect().unwrap().contains(&3));
			assert_ok!(Dpos::rebond(origin(3), 300));
			assert_ok!(Dpos::register_candidate(origin(3), Perbill::zero(), Default::default()));
			assert_eq!(backing(3).total(), 370);
		});
	}

	#[test]
	fn resume_after_chill() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(Dpos::resume_candidacy(origin(4)), Error::<Test>::NotCandidate);
			assert_noop!(Dpos::resume_candidacy(origin(1)), Error::<Test>::NotChilled);
			Dpos::chill(&1);
			assert!(!Dpos::elect().unwrap().contains(&1));
			assert_ok!(Dpos::resume_candidacy(origin(1)));
			assert_eq!(last_event(), Event::CandidateResumed { who: 1 });
			assert!(Dpos::elect().unwrap().contains(&1));
		});
	}
}

mod voting {
	use super::*;

	#[test]
	fn vote_backs_each_target_with_the_whole_power() {
		ExtBuilder::default().build_and_execute(|| {
			vote_with(10, 100, vec![1, 3]);
			assert_eq!(last_event(), Event::Voted { voter: 10, targets: vec![1, 3] });
			assert_eq!((backing(1).votes, backing(1).voters), (100, 1));
			assert_eq!((backing(3).votes, backing(3).voters), (100, 1));
			assert_eq!(backing(2).votes, 0);
			// A new vote replaces the old one.
			assert_ok!(Dpos::vote(origin(10), vec![2]));
			assert_eq!((backing(1).votes, backing(1).voters), (0, 0));
			assert_eq!((backing(2).votes, backing(2).voters), (100, 1));
		});
	}

	#[test]
	fn vote_errors() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(Dpos::vote(origin(10), vec![1]), Error::<Test>::NoStake);
			assert_ok!(Dpos::bond(origin(10), 100));
			assert_noop!(Dpos::vote(origin(10), vec![]), Error::<Test>::EmptyVotes);
			assert_noop!(Dpos::vote(origin(10), vec![1, 2, 3, 4]), Error::<Test>::TooManyVotes);
			assert_noop!(Dpos::vote(origin(10), vec![1, 2, 1]), Error::<Test>::DuplicateVote);
			assert_noop!(Dpos::vote(origin(10), vec![1, 11]), Error::<Test>::UnknownCandidate);
			assert_noop!(Dpos::vote(origin(1), vec![2]), Error::<Test>::IsCandidate);
			assert_ok!(Dpos::bond(origin(11), 100));
			assert_ok!(Dpos::delegate(origin(11), 10));
			assert_noop!(Dpos::vote(origin(11), vec![2]), Error::<Test>::AlreadyDelegating);
			assert_noop!(Dpos::unvote(origin(10)), Error::<Test>::NotVoting);
		});
	}

	#[test]
	fn unvote_removes_the_power() {
		ExtBuilder::default().build_and_execute(|| {
			vote_with(10, 100, vec![1, 2]);
			assert_ok!(Dpos::unvote(origin(10)));
			assert_eq!(last_event(), Event::VotesCleared { voter: 10 });
			assert_eq!(backing(1).votes, 0);
			assert!(!Voters::<Test>::contains_key(10));
		});
	}

	#[test]
	fn stake_changes_move_every_backed_total() {
		ExtBuilder::default().build_and_execute(|| {
			vote_with(10, 100, vec![1, 2]);
			assert_ok!(Dpos::bond(origin(10), 50));
			assert_eq!((backing(1).votes, backing(2).votes), (150, 150));
			assert_ok!(Dpos::unbond(origin(10), 30));
			assert_eq!((backing(1).votes, backing(2).votes), (120, 120));
			assert_ok!(Dpos::bond(origin(11), 40));
			assert_ok!(Dpos::delegate(origin(11), 10));
			assert_eq!(backing(1).votes, 160);
			assert_ok!(Dpos::bond(origin(11), 10));
			assert_eq!(backing(2).votes, 170);
			assert_ok!(Dpos::unbond(origin(11), 20));
			assert_eq!(backing(2).votes, 150);
			assert_ok!(Dpos::undelegate(origin(11)));
			assert_eq!(last_event(), Event::Undelegated { who: 11, target: 10 });
			assert_eq!((backing(1).votes, backing(2).votes), (120, 120));
			// A candidate's own stake moves its self-bond.
			assert_ok!(Dpos::bond(origin(3), 25));
			assert_eq!(backing(3).self_bond, 325);
		});
	}

	#[test]
	fn delegated_power_follows_the_target_s_votes() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Dpos::bond(origin(10), 100));
			assert_ok!(Dpos::bond(origin(11), 60));
			assert_ok!(Dpos::delegate(origin(11), 10));
			assert_eq!(last_event(), Event::Delegated { who: 11, target: 10 });
			assert_ok!(Dpos::vote(origin(10), vec![3]));
			assert_eq!(backing(3).votes, 160);
			assert_ok!(Dpos::vote(origin(10), vec![2]));
			assert_eq!((backing(2).votes, backing(3).votes), (160, 0));
			// Switching the delegation moves the power to the new target's candidates.
			vote_with(12, 10, vec![1]);
			assert_ok!(Dpos::delegate(origin(11), 12));
			assert_eq!((backing(1).votes, backing(2).votes), (70, 100));
		});
	}

	#[test]
	fn delegation_errors() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(Dpos::delegate(origin(10), 10), Error::<Test>::DelegationCycle);
			assert_noop!(Dpos::delegate(origin(10), 11), Error::<Test>::NoStake);
			assert_ok!(Dpos::bond(origin(10), 100));
			assert_noop!(Dpos::delegate(origin(10), 11), Error::<Test>::TargetNotVoter);
			assert_noop!(Dpos::delegate(origin(10), 1), Error::<Test>::TargetNotVoter);
			assert_noop!(Dpos::delegate(origin(1), 10), Error::<Test>::IsCandidate);
			assert_ok!(Dpos::bond(origin(11), 100));
			assert_ok!(Dpos::bond(origin(12), 100));
			assert_ok!(Dpos::delegate(origin(10), 11));
			assert_noop!(Dpos::delegate(origin(10), 11), Error::<Test>::AlreadyDelegating);
			// 11 -> 10 would close the loop 10 -> 11 -> 10.
			assert_noop!(Dpos::delegate(origin(11), 10), Error::<Test>::DelegationCycle);
			// 12 -> 10 -> 11 is two hops.
			assert_noop!(Dpos::delegate(origin(12), 10), Error::<Test>::DelegationTooDeep);
			// 11 has a delegator, so it cannot delegate onwards.
			assert_noop!(Dpos::delegate(origin(11), 12), Error::<Test>::DelegationTooDeep);
			assert_ok!(Dpos::vote(origin(12), vec![1]));
			assert_noop!(Dpos::delegate(origin(12), 11), Error::<Test>::AlreadyVoting);
			assert_noop!(Dpos::undelegate(origin(12)), Error::<Test>::NotDelegating);
		});
	}
}

mod election {
	use super::*;

	#[test]
	fn top_candidates_by_backing_ties_to_the_lower_account() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Dpos::bond(origin(4), 300));
			assert_ok!(Dpos::register_candidate(origin(4), Perbill::zero(), Default::default()));
			// 3 and 4 both have 300: the lower account wins the tie.
			assert_eq!(Dpos::elect().unwrap(), vec![1, 2, 3]);
			vote_with(10, 10, vec![4]);
			assert_eq!(Dpos::elect().unwrap(), vec![1, 2, 4]);
			let ranking: Vec<_> = Dpos::candidate_summaries()
				.into_iter()
				.map(|c| (c.account, c.rank, c.total, c.elected))
				.collect();
			assert_eq!(
				ranking,
				vec![(1, 1, 500, true), (2, 2, 400, true), (4, 3, 310, true), (3, 4, 300, false)]
			);
		});
	}

	#[test]
	fn a_vote_changes_the_authority_set_two_session_boundaries_later() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Dpos::bond(origin(4), 300));
			assert_ok!(Dpos::register_candidate(origin(4), Perbill::zero(), Default::default()));
			vote_with(10, 450, vec![4]);
			// Session 1 was planned at genesis; the election at its start plans session 2.
			run_to_session(1);
			assert_eq!(Session::validators(), vec![1, 2, 3]);
			assert!(System::read_events_for_pallet::<Event<Test>>()
				.contains(&Event::DelegatesElected { session: 2, delegates: vec![4, 1, 2] }));
			run_to_session(2);
			assert_eq!(Session::validators(), vec![4, 1, 2]);
			// 4 now authors its slots.
			run_to_block(System::block_number() + 3);
			assert!(AuthoredBlocks::<Test>::get(4) > 0);
		});
	}

	#[test]
	fn the_council_is_the_elected_delegates_from_genesis_on() {
		ExtBuilder::default().build_and_execute(|| {
			assert_eq!(CouncilMembers::get(), vec![1, 2, 3]);
			assert_ok!(Dpos::bond(origin(4), 300));
			assert_ok!(Dpos::register_candidate(origin(4), Perbill::zero(), Default::default()));
			vote_with(10, 450, vec![4]);
			run_to_session(1);
			// Sorted, whatever the election's order (4, 1, 2); 4 in, 3 out.
			assert_eq!(CouncilMembers::get(), vec![1, 2, 4]);
			assert_eq!(CouncilChanges::get(), vec![(vec![4], vec![3])]);
			// An unchanged result changes nothing.
			run_to_session(3);
			assert_eq!(CouncilChanges::get().len(), 1);
		});
	}

	#[test]
	fn an_unchanged_result_is_not_announced_again() {
		ExtBuilder::default().build_and_execute(|| {
			run_to_session(3);
			assert!(!System::read_events_for_pallet::<Event<Test>>()
				.iter()
				.any(|e| matches!(e, Event::DelegatesElected { .. })));
			assert_eq!(Session::validators(), vec![1, 2, 3]);
		});
	}

	#[test]
	fn too_few_eligible_candidates_keep_the_set() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Dpos::leave_candidates(origin(2)));
			assert_ok!(Dpos::leave_candidates(origin(3)));
			run_to_session(2);
			assert!(System::read_events_for_pallet::<Event<Test>>()
				.contains(&Event::ElectionSkipped { session: 2, eligible: 1 }));
			assert_eq!(Session::validators(), vec![1, 2, 3]);
		});
	}

	#[test]
	fn candidates_without_session_keys_are_not_elected() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Session::purge_keys(origin(3)));
			assert_eq!(Dpos::elect().unwrap(), vec![1, 2]);
		});
	}

	#[test]
	fn a_delegate_that_misses_a_whole_session_is_chilled() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Dpos::bond(origin(4), 200));
			assert_ok!(Dpos::register_candidate(origin(4), Perbill::zero(), Default::default()));
			Offline::set(vec![3]);
			run_to_session(1);
			assert!(System::read_events_for_pallet::<Event<Test>>()
				.contains(&Event::DelegateChilled { who: 3, session: 0 }));
			assert!(Candidates::<Test>::get(3).unwrap().chilled);
			assert!(!Candidates::<Test>::get(1).unwrap().chilled);
			run_to_session(2);
			assert_eq!(Session::validators(), vec![1, 2, 4]);
			Offline::set(vec![]);
			assert_ok!(Dpos::resume_candidacy(origin(3)));
			assert_eq!(Dpos::elect().unwrap(), vec![1, 2, 3]);
		});
	}

	#[test]
	fn the_number_of_delegates_is_set_by_governance() {
		ExtBuilder::default().build_and_execute(|| {
			assert_eq!(DesiredDelegates::<Test>::get(), 3, "defaults to MaxDelegates");
			assert_noop!(Dpos::set_desired_delegates(origin(1), 2), DispatchError::BadOrigin);
			for invalid in [1, 4] {
				assert_noop!(
					Dpos::set_desired_delegates(RuntimeOrigin::root(), invalid),
					Error::<Test>::InvalidDelegateCount
				);
			}
			assert_ok!(Dpos::set_desired_delegates(RuntimeOrigin::root(), 2));
			assert_eq!(last_event(), Event::DesiredDelegatesSet { count: 2 });
			assert_eq!(Dpos::elect().unwrap(), vec![1, 2]);
			run_to_session(2);
			assert_eq!(Session::validators(), vec![1, 2]);
		});
	}

	#[test]
	fn session_length_is_set_by_governance() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(Dpos::set_session_length(origin(1), 5), DispatchError::BadOrigin);
			assert_noop!(
				Dpos::set_session_length(RuntimeOrigin::root(), 0),
				Error::<Test>::InvalidSessionLength
			);
			// Sessions so long that the report window would outlast the unbonding period.
			assert_noop!(
				Dpos::set_session_length(
					RuntimeOrigin::root(),
					UNBONDING / REPORT_WINDOW as u64 + 1
				),
				Error::<Test>::SessionOutlastsUnbonding
			);
			assert_ok!(Dpos::set_session_length(RuntimeOrigin::root(), 4));
			assert_eq!(last_event(), Event::SessionLengthSet { blocks: 4 });
			run_to_block(4);
			assert_eq!(Session::current_index(), 1);
			run_to_block(8);
			assert_eq!(Session::current_index(), 2);
		});
	}
}

mod rewards {
	use super::*;

	#[test]
	fn block_reward_splits_commission_self_bond_and_votes_exactly() {
		// Candidate 1: self-bond 500, commission 10%, one voter with 500.
		ExtBuilder::default().voters(vec![(10, 500, vec![1])]).build_and_execute(|| {
			let issuance = Balances::total_issuance();
			Dpos::note_author(1);
			assert_eq!(
				last_event(),
				Event::BlockRewarded { author: 1, commission: 100, to_backers: 900 }
			);
			assert_eq!(Balances::total_issuance(), issuance + REWARD);
			// 900 over 1000 points: 450 to the self-bond, 450 to the voter.
			assert_eq!(Dpos::pending_rewards(&1), 100 + 450);
			assert_eq!(Dpos::pending_rewards(&10), 450);
			assert_ok!(Dpos::claim_rewards(origin(1)));
			assert_eq!(last_event(), Event::RewardsClaimed { who: 1, amount: 550 });
			assert_ok!(Dpos::claim_rewards(origin(10)));
			assert_eq!(Balances::free_balance(1), ENDOWMENT - 500 + 550);
			assert_eq!(Balances::free_balance(10), ENDOWMENT - 500 + 450);
			assert_eq!(Balances::free_balance(Dpos::pot()), ED);
			assert_eq!(Balances::total_issuance(), issuance + REWARD);
		});
	}

	#[test]
	fn a_referenced_block_earns_its_share_of_the_reward_split_the_same_way() {
		// REWARD is 1000: a quarter of it, 250, of which the commission is 25 and the
		// backers' 225 splits half and half between the self-bond and the voter.
		ExtBuilder::default().voters(vec![(10, 500, vec![1])]).build_and_execute(|| {
			let issuance = Balances::total_issuance();
			Dpos::reward_referenced(&1, Perbill::from_percent(25));
			assert_eq!(
				last_event(),
				Event::BlockRewarded { author: 1, commission: 25, to_backers: 225 }
			);
			assert_eq!(Balances::total_issuance(), issuance + REWARD / 4);
			assert_eq!(Dpos::pending_rewards(&1), 25 + 112);
			assert_eq!(Dpos::pending_rewards(&10), 112);
			assert_eq!(
				AuthoredBlocks::<Test>::get(1),
				0,
				"a referenced block is not an authored one"
			);
		});
	}

	#[test]
	fn delegators_share_their_voter_s_reward_pro_rata() {
		ExtBuilder::default().voters(vec![(10, 300, vec![1])]).build_and_execute(|| {
			assert_ok!(Dpos::bond(origin(11), 200));
			assert_ok!(Dpos::delegate(origin(11), 10));
			Dpos::note_author(1);
			// 900 to backers over 1000 points: 450 to 1's self-bond, 450 to voter 10's power of
			// 500, of which 300/500 stays with 10 and 200/500 goes to delegator 11.
			assert_eq!(Dpos::pending_rewards(&1), 550);
			assert_eq!(Dpos::pending_rewards(&10), 270);
			assert_eq!(Dpos::pending_rewards(&11), 180);
			assert_ok!(Dpos::claim_rewards(origin(11)));
			assert_eq!(Balances::free_balance(11), ENDOWMENT - 200 + 180);
			assert_eq!(Dpos::pending_rewards(&10), 270, "settling 11 keeps 10's share");
		});
	}

	#[test]
	fn a_vote_for_several_delegates_earns_from_each() {
		ExtBuilder::default().voters(vec![(10, 100, vec![1, 3])]).build_and_execute(|| {
			Dpos::note_author(1);
			Dpos::note_author(3);
			// Block of 1: 900 over 600 points, 100 of them the voter's: 150.
			// Block of 3 (no commission): 1000 over 400 points, 100 the voter's: 250.
			assert_eq!(Dpos::pending_rewards(&10), 150 + 250);
			assert_eq!(Dpos::pending_rewards(&3), 750);
		});
	}

	#[test]
	fn rewards_follow_the_stake_at_the_time_they_were_earned() {
		ExtBuilder::default().voters(vec![(10, 500, vec![1])]).build_and_execute(|| {
			Dpos::note_author(1);
			assert_ok!(Dpos::bond(origin(10), 1000));
			Dpos::note_author(1);
			// First block 450 (500 of 1000 points); second 900 * 1500 / 2000 = 675.
			assert_eq!(Dpos::pending_rewards(&10), 450 + 675);
			assert_eq!(Dpos::pending_rewards(&1), 100 + 450 + 100 + 225);
		});
	}

	#[test]
	fn voters_of_a_departed_candidate_keep_their_rewards() {
		ExtBuilder::default().voters(vec![(10, 500, vec![1])]).build_and_execute(|| {
			Dpos::note_author(1);
			assert_ok!(Dpos::leave_candidates(origin(1)));
			assert_eq!(Dpos::pending_rewards(&1), 550);
			assert_eq!(Dpos::pending_rewards(&10), 450);
			assert_ok!(Dpos::unvote(origin(10)));
			assert!(!Backings::<Test>::contains_key(1));
			assert_ok!(Dpos::claim_rewards(origin(10)));
			assert_eq!(Balances::free_balance(10), ENDOWMENT - 500 + 450);
		});
	}

	#[test]
	fn claiming_twice_or_nothing_fails() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(Dpos::claim_rewards(origin(10)), Error::<Test>::NoRewards);
			Dpos::note_author(3);
			assert_ok!(Dpos::claim_rewards(origin(3)));
			assert_noop!(Dpos::claim_rewards(origin(3)), Error::<Test>::NoRewards);
		});
	}

	#[test]
	fn issuance_grows_by_exactly_the_rewards_minted() {
		ExtBuilder::default().voters(vec![(10, 77, vec![1, 2, 3])]).build_and_execute(|| {
			let issuance = Balances::total_issuance();
			Offline::set(vec![2]);
			run_to_block(31);
			let minted = System::read_events_for_pallet::<Event<Test>>()
				.iter()
				.filter(|e| matches!(e, Event::BlockRewarded { .. }))
				.count() as u128;
			assert_eq!(Balances::total_issuance(), issuance + minted * REWARD);
			for who in [1, 2, 3, 10] {
				if Dpos::pending_rewards(&who) > 0 {
					assert_ok!(Dpos::claim_rewards(origin(who)));
				}
			}
			assert_eq!(Balances::total_issuance(), issuance + minted * REWARD);
		});
	}

	#[test]
	fn block_reward_is_set_by_governance() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(Dpos::set_block_reward(origin(1), 5), DispatchError::BadOrigin);
			assert_ok!(Dpos::set_block_reward(RuntimeOrigin::root(), 5));
			assert_eq!(last_event(), Event::BlockRewardSet { amount: 5 });
			Dpos::note_author(3);
			// 5 over 300 points rounds down to 4; the dust stays in the pot.
			assert_eq!(Dpos::pending_rewards(&3), 4);
			assert_eq!(Balances::free_balance(Dpos::pot()), ED + 5);
			assert_ok!(Dpos::set_block_reward(RuntimeOrigin::root(), 0));
			let issuance = Balances::total_issuance();
			Dpos::note_author(3);
			assert_eq!(Balances::total_issuance(), issuance);
		});
	}
}

mod slashing {
	use super::*;

	fn report(offender: AccountId) {
		report_in(&[offender], 0);
	}

	/// What pallet-offences does on each report of an offence in `session`: every offender
	/// known for it so far, the earlier ones again.
	fn report_in(offenders: &[AccountId], session: SessionIndex) {
		let details: Vec<_> = offenders
			.iter()
			.map(|who| OffenceDetails { offender: (*who, ()), reporters: vec![] })
			.collect();
		<Dpos as OnOffenceHandler<AccountId, (AccountId, ()), _>>::on_offence(
			&details,
			&vec![Perbill::from_percent(100); offenders.len()],
			session,
		);
	}

	fn slashes() -> usize {
		System::read_events_for_pallet::<Event<Test>>()
			.iter()
			.filter(|e| matches!(e, Event::Slashed { .. }))
			.count()
	}

	#[test]
	fn later_reports_of_an_offence_do_not_slash_its_earlier_offenders_again() {
		ExtBuilder::default().build_and_execute(|| {
			report_in(&[1], 0);
			// A second offender of the same offence is reported: pallet-offences passes both.
			report_in(&[1, 2], 0);
			report_in(&[1, 2], 0);
			assert_eq!(slashes(), 2, "each offender paid once");
			assert_eq!(Dpos::active_stake(&1), 450);
			assert_eq!(Dpos::active_stake(&2), 360);
			assert_eq!(SessionSlashes::<Test>::get(0, 1), Some(Perbill::from_percent(10)));
		});
	}

	#[test]
	fn an_offence_in_another_session_slashes_again() {
		ExtBuilder::default().build_and_execute(|| {
			report_in(&[1], 0);
			run_to_session(1);
			report_in(&[1], 1);
			assert_eq!(slashes(), 2);
			assert_eq!(Dpos::active_stake(&1), 405);
		});
	}

	#[test]
	fn an_equivocator_cannot_withdraw_before_the_report_window_closes() {
		ExtBuilder::default().build_and_execute(|| {
			// Delegate 2 equivocates in session 0 and leaves at once to take its bond out.
			assert_ok!(Dpos::leave_candidates(origin(2)));
			// The last block in which its offence may still be reported ...
			run_to_block(SESSION * REPORT_WINDOW as u64 - 1);
			assert_eq!(Session::current_index(), REPORT_WINDOW - 1);
			// ... its stake is still unbonding, so the report takes its share.
			assert_noop!(Dpos::withdraw_unbonded(origin(2)), Error::<Test>::UnbondingNotFinished);
			report_in(&[2], 0);
			assert_eq!(last_event(), Event::Slashed { who: 2, amount: 40 });
			assert_eq!(held(2), 360);
		});
	}

	#[test]
	fn an_offender_of_the_current_session_is_disabled_until_the_set_changes() {
		let four = vec![
			(1, 500, Perbill::zero()),
			(2, 400, Perbill::zero()),
			(3, 300, Perbill::zero()),
			(4, 200, Perbill::zero()),
		];
		ExtBuilder::default().candidates(four).build_and_execute(|| {
			use polkadot_sdk::frame_support::traits::DisabledValidators;
			run_to_session(1);
			let index = |who| Session::validators().iter().position(|v| *v == who).unwrap() as u32;
			// An offence of an earlier session slashes, but disables nobody now.
			report_in(&[2], 0);
			assert!(!Session::is_disabled(index(2)));
			// One of this session: its offender's blocks are refused from now on.
			report_in(&[1], 1);
			assert!(Session::is_disabled(index(1)));
			// A slashed delegate is chilled, so the next election changes the set, and the
			// disabled list is cleared with it.
			run_to_session(3);
			assert!(!Session::validators().contains(&1));
			assert!(Session::disabled_validators().is_empty());
		});
	}

	#[test]
	fn a_report_after_the_window_slashes_nothing_and_the_records_are_gone() {
		ExtBuilder::default().build_and_execute(|| {
			report_in(&[1], 0);
			run_to_session(REPORT_WINDOW);
			assert_eq!(SessionSlashes::<Test>::iter_prefix(0).count(), 0, "forgotten");
			report_in(&[1, 2], 0);
			assert_eq!(last_event(), Event::OffenceTooOld { session: 0 });
			assert_eq!((Dpos::active_stake(&1), Dpos::active_stake(&2)), (450, 400));
		});
	}

	#[test]
	fn an_equivocation_slashes_the_configured_share_and_chills() {
		ExtBuilder::default().voters(vec![(10, 100, vec![1])]).build_and_execute(|| {
			let issuance = Balances::total_issuance();
			report(1);
			assert_eq!(last_event(), Event::Slashed { who: 1, amount: 50 });
			assert_eq!(Dpos::active_stake(&1), 450);
			assert_eq!(held(1), 450);
			assert_eq!(backing(1).self_bond, 450);
			assert_eq!(Balances::total_issuance(), issuance - 50);
			assert!(Candidates::<Test>::get(1).unwrap().chilled);
			assert_eq!(Dpos::active_stake(&10), 100, "voters are not slashed");
		});
	}

	#[test]
	fn leaving_does_not_escape_a_slash() {
		ExtBuilder::default().build_and_execute(|| {
			assert_ok!(Dpos::leave_candidates(origin(2)));
			report(2);
			assert_eq!(last_event(), Event::Slashed { who: 2, amount: 40 });
			let ledger = Ledgers::<Test>::get(2).unwrap();
			assert_eq!(ledger.unlocking[0].value, 360);
			assert_eq!(held(2), 360);
		});
	}
}

#[derive(Clone, Debug)]
enum Op {
	Bond(AccountId, Balance),
	Unbond(AccountId, Balance),
	Rebond(AccountId, Balance),
	Withdraw(AccountId),
	Register(AccountId, u8),
	Leave(AccountId),
	Vote(AccountId, Vec<AccountId>),
	Unvote(AccountId),
	Delegate(AccountId, AccountId),
	Undelegate(AccountId),
	Claim(AccountId),
	Blocks(u64),
	Slash(AccountId),
}

fn op() -> impl Strategy<Value = Op> {
	let who = 1..=8u64;
	prop_oneof![
		(who.clone(), 1..400u128).prop_map(|(w, a)| Op::Bond(w, a)),
		(who.clone(), 1..400u128).prop_map(|(w, a)| Op::Unbond(w, a)),
		(who.clone(), 1..400u128).prop_map(|(w, a)| Op::Rebond(w, a)),
		who.clone().prop_map(Op::Withdraw),
		(who.clone(), 0..50u8).prop_map(|(w, c)| Op::Register(w, c)),
		who.clone().prop_map(Op::Leave),
		(who.clone(), proptest::collection::vec(1..=8u64, 1..4)).prop_map(|(w, t)| Op::Vote(w, t)),
		who.clone().prop_map(Op::Unvote),
		(who.clone(), who.clone()).prop_map(|(w, t)| Op::Delegate(w, t)),
		who.clone().prop_map(Op::Undelegate),
		who.clone().prop_map(Op::Claim),
		(1..15u64).prop_map(Op::Blocks),
		who.prop_map(Op::Slash),
	]
}

fn apply(op: Op) {
	let _ = match op {
		Op::Bond(w, a) => Dpos::bond(origin(w), a),
		Op::Unbond(w, a) => Dpos::unbond(origin(w), a),
		Op::Rebond(w, a) => Dpos::rebond(origin(w), a),
		Op::Withdraw(w) => Dpos::withdraw_unbonded(origin(w)),
		Op::Register(w, c) => {
			Dpos::register_candidate(origin(w), Perbill::from_percent(c.into()), Default::default())
		}
		Op::Leave(w) => Dpos::leave_candidates(origin(w)),
		Op::Vote(w, t) => Dpos::vote(origin(w), t),
		Op::Unvote(w) => Dpos::unvote(origin(w)),
		Op::Delegate(w, t) => Dpos::delegate(origin(w), t),
		Op::Undelegate(w) => Dpos::undelegate(origin(w)),
		Op::Claim(w) => Dpos::claim_rewards(origin(w)),
		Op::Blocks(n) => {
			run_to_block(System::block_number() + n);
			Ok(())
		}
		Op::Slash(w) => {
			Dpos::slash(&w, Perbill::from_percent(10));
			Ok(())
		}
	};
}

mod invariants {
	use super::*;

	/// Each corruption of the books is caught by `try_state` with the invariant it breaks.
	#[test]
	fn try_state_names_a_broken_invariant() {
		let broken = |corrupt: fn(), invariant: &'static str| {
			ExtBuilder::default().voters(vec![(10, 250, vec![3])]).build().execute_with(|| {
				assert_ok!(Dpos::bond(origin(11), MIN_STAKE));
				assert_ok!(Dpos::delegate(origin(11), 10));
				assert_ok!(Dpos::do_try_state());
				corrupt();
				assert_eq!(Dpos::do_try_state(), Err(invariant.into()));
			})
		};
		broken(
			|| Backings::<Test>::mutate(3, |b| b.as_mut().unwrap().votes += 1),
			"a backing's votes are not its voters' power",
		);
		broken(
			|| Voters::<Test>::mutate(10, |v| v.as_mut().unwrap().delegators = 2),
			"a voter's delegator count is not its delegations",
		);
		broken(
			|| {
				let chunk = UnlockChunk { value: 1, unlock_at: 100 };
				Ledgers::<Test>::mutate(10, |l| {
					l.as_mut().unwrap().unlocking.try_push(chunk).unwrap()
				})
			},
			"an account's held stake is not its ledger",
		);
		broken(
			|| {
				Delegations::<Test>::insert(
					3,
					Delegation { target: 10, paid_to: Default::default() },
				)
			},
			"a voter's received power is not its delegations",
		);
		broken(
			|| {
				let pot = Dpos::pot();
				assert_ok!(Balances::transfer_all(RuntimeOrigin::signed(pot), 1, false));
			},
			"the pot cannot pay every reward owed",
		);
	}
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(128))]

	/// Whatever users do, running totals equal their recount, holds equal ledgers, the pot
	/// covers every reward owed, and issuance moves only by minted rewards and slashes.
	#[test]
	fn random_calls_keep_the_books_exact(ops in proptest::collection::vec(op(), 1..60)) {
		ExtBuilder::default().build().execute_with(|| {
			let issuance = Balances::total_issuance();
			for op in ops {
				apply(op);
				assert_invariants();
			}
			let events = System::read_events_for_pallet::<Event<Test>>();
			let minted: Balance = events.iter().map(|e| match e {
				Event::BlockRewarded { commission, to_backers, .. } => commission + to_backers,
				_ => 0,
			}).sum();
			let slashed: Balance = events.iter().map(|e| match e {
				Event::Slashed { amount, .. } => *amount,
				_ => 0,
			}).sum();
			assert_eq!(Balances::total_issuance(), issuance + minted - slashed);

			// Everyone can leave and take everything out: nothing is stuck.
			let withdraw_all = || {
				run_to_block(System::block_number() + UNBONDING + 1);
				for who in 1..=8 {
					if Ledgers::<Test>::get(who).is_some_and(|l| !l.unlocking.is_empty()) {
						assert_ok!(Dpos::withdraw_unbonded(origin(who)));
					}
				}
			};
			withdraw_all();
			for who in 1..=8 {
				let _ = Dpos::leave_candidates(origin(who));
				let _ = Dpos::unvote(origin(who));
				let _ = Dpos::undelegate(origin(who));
				let active = Dpos::active_stake(&who);
				if active > 0 {
					assert_ok!(Dpos::unbond(origin(who), active));
				}
			}
			withdraw_all();
			for who in 1..=8 {
				if Dpos::pending_rewards(&who) > 0 {
					assert_ok!(Dpos::claim_rewards(origin(who)));
				}
				assert_eq!(held(who), 0, "nothing of {who} stays held");
				assert!(!Ledgers::<Test>::contains_key(who), "no ledger of {who} is left");
			}
			assert_invariants();
		});
	}
}
