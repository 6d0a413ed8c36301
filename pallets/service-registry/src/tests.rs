//! Registry tests on the mock runtime.

use crate::{mock::*, *};
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::fungible::{InspectHold as _, Mutate as _},
	},
	sp_runtime::{DispatchError, TokenError},
};

fn signed(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

/// Creates service 0, owned by `OWNER`, quorum 2, epochs of 10 blocks.
fn create_service() {
	assert_ok!(Registry::create_service(signed(ROOT), OWNER, b"gov-id".to_vec(), 2, 10));
}

fn status() -> ServiceStatus {
	Services::<Test>::get(0).unwrap().status
}

#[test]
fn governance_creates_services_that_start_suspended() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			Registry::create_service(signed(OWNER), OWNER, vec![], 2, 10),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Registry::create_service(signed(ROOT), OWNER, vec![], 0, 10),
			Error::<Test>::InvalidQuorum
		);
		assert_noop!(
			Registry::create_service(signed(ROOT), OWNER, vec![], 2, 4),
			Error::<Test>::EpochTooShort
		);
		assert_noop!(
			Registry::create_service(signed(ROOT), OWNER, vec![b'x'; 17], 2, 10),
			Error::<Test>::NameTooLong
		);
		create_service();
		create_service();
		let service = Services::<Test>::get(1).unwrap();
		assert_eq!((service.owner, service.quorum, service.epoch_length), (OWNER, 2, 10));
		assert_eq!(service.status, ServiceStatus::Suspended);
		assert_eq!(NextServiceId::<Test>::get(), 2);
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>()[0],
			Event::ServiceCreated { id: 0, owner: OWNER, quorum: 2, epoch_length: 10 }
		);
	});
}

#[test]
fn the_owner_onboards_verified_nodes_and_the_quorum_activates_the_service() {
	new_test_ext().execute_with(|| {
		create_service();
		assert_noop!(Registry::add_service_node(signed(1), 0, 1), Error::<Test>::NotServiceOwner);
		assert_noop!(
			Registry::add_service_node(signed(OWNER), 9, 1),
			Error::<Test>::UnknownService
		);
		assert_noop!(
			Registry::add_service_node(signed(OWNER), 0, 7),
			Error::<Test>::IdentityNotVerified
		);
		assert_ok!(Registry::add_service_node(signed(OWNER), 0, 1));
		assert_noop!(
			Registry::add_service_node(signed(OWNER), 0, 1),
			Error::<Test>::AlreadyServiceNode
		);
		assert_eq!(status(), ServiceStatus::Suspended, "one node is below the quorum of two");
		assert_ok!(Registry::add_service_node(signed(OWNER), 0, 2));
		assert_eq!(status(), ServiceStatus::Active);
		assert!(System::read_events_for_pallet::<Event<Test>>()
			.contains(&Event::ServiceResumed { service: 0 }));
		let standing = |who| <Registry as ServiceInspect<_, _, _>>::service_node(0, &who);
		assert_eq!((standing(2), standing(9)), (NodeStanding::Trusted, NodeStanding::NotANode));
		// A node whose registrar judgement is withdrawn stays listed, but is not trusted.
		Verified::set(vec![1, 3, 4]);
		assert_eq!(standing(2), NodeStanding::Unverified);
		Verified::set(vec![1, 2, 3, 4]);
		assert_eq!(<Registry as ServiceInspect<_, _, _>>::service_owner(0), Some(OWNER));
		assert_eq!(
			<Registry as ServiceInspect<_, _, _>>::service(0),
			Some(ServiceTerms { quorum: 2, epoch_length: 10, genesis: 1, active: true })
		);
	});
}

#[test]
fn losing_nodes_below_the_quorum_suspends_the_service() {
	new_test_ext().execute_with(|| {
		create_service();
		for node in [1, 2, 3] {
			assert_ok!(Registry::add_service_node(signed(OWNER), 0, node));
		}
		assert_ok!(Registry::remove_service_node(signed(OWNER), 0, 3));
		assert_eq!(status(), ServiceStatus::Active, "two nodes still meet the quorum");
		// A node may leave by itself; others may not remove it.
		assert_noop!(
			Registry::remove_service_node(signed(1), 0, 2),
			Error::<Test>::NotServiceOwner
		);
		assert_ok!(Registry::remove_service_node(signed(2), 0, 2));
		assert_eq!(status(), ServiceStatus::Suspended);
		assert!(System::read_events_for_pallet::<Event<Test>>()
			.contains(&Event::ServiceSuspended { service: 0 }));
		assert_noop!(
			Registry::remove_service_node(signed(OWNER), 0, 2),
			Error::<Test>::NotServiceNode
		);
	});
}

#[test]
fn services_hold_at_most_max_service_nodes() {
	new_test_ext().execute_with(|| {
		create_service();
		Verified::set(vec![1, 2, 3, 4, 5]);
		for node in 1..=4 {
			assert_ok!(Registry::add_service_node(signed(OWNER), 0, node));
		}
		assert_noop!(
			Registry::add_service_node(signed(OWNER), 0, 5),
			Error::<Test>::TooManyServiceNodes
		);
	});
}

#[test]
fn raising_the_quorum_can_suspend() {
	new_test_ext().execute_with(|| {
		create_service();
		for node in [1, 2] {
			assert_ok!(Registry::add_service_node(signed(OWNER), 0, node));
		}
		assert_noop!(Registry::set_quorum(signed(OWNER), 0, 0), Error::<Test>::InvalidQuorum);
		assert_noop!(Registry::set_quorum(signed(1), 0, 3), Error::<Test>::NotServiceOwner);
		assert_ok!(Registry::set_quorum(signed(OWNER), 0, 3));
		assert_eq!(status(), ServiceStatus::Suspended);
	});
}

#[test]
fn super_nodes_stake_leave_and_withdraw_after_unbonding() {
	new_test_ext().execute_with(|| {
		let held = |who| Balances::balance_on_hold(&HoldReason::SuperNodeStake.into(), &who);
		assert_noop!(
			Registry::register_super_node(signed(5), MIN_SUPER_STAKE - 1),
			Error::<Test>::StakeTooLow
		);
		assert_noop!(
			Registry::register_super_node(signed(5), 1_000_000),
			DispatchError::Token(TokenError::FundsUnavailable)
		);
		assert_ok!(Registry::register_super_node(signed(5), 5_000));
		assert_noop!(
			Registry::register_super_node(signed(5), 5_000),
			Error::<Test>::AlreadySuperNode
		);
		assert_eq!(held(5), 5_000);
		assert_eq!(ActiveSet::<Test>::get().len(), 1);
		assert_noop!(
			Registry::withdraw_super_node_stake(signed(5)),
			Error::<Test>::StakeStillLocked
		);
		assert_ok!(Registry::leave_super_nodes(signed(5)));
		assert_noop!(Registry::leave_super_nodes(signed(5)), Error::<Test>::NotSuperNode);
		assert!(!<Registry as ServiceInspect<_, _, _>>::is_super_node(&5));
		assert_eq!(ActiveSet::<Test>::get().len(), 0);
		System::set_block_number(1 + SUPER_UNBONDING - 1);
		assert_noop!(
			Registry::withdraw_super_node_stake(signed(5)),
			Error::<Test>::StakeStillLocked
		);
		System::set_block_number(1 + SUPER_UNBONDING);
		assert_ok!(Registry::withdraw_super_node_stake(signed(5)));
		assert_eq!(held(5), 0);
		assert_eq!(Balances::free_balance(5), 100_000);
		assert_noop!(Registry::withdraw_super_node_stake(signed(5)), Error::<Test>::NotSuperNode);
	});
}

#[test]
fn slashing_a_super_node_burns_its_share_of_the_stake() {
	new_test_ext().execute_with(|| {
		assert_ok!(Registry::register_super_node(signed(5), 4_000));
		let issuance = Balances::total_issuance();
		let slashed =
			<Registry as ServiceInspect<_, _, _>>::slash_super_node(&5, Perbill::from_percent(25));
		assert_eq!(slashed, 1_000);
		assert_eq!(SuperNodes::<Test>::get(5).unwrap().stake, 3_000);
		assert_eq!(Balances::total_issuance(), issuance - 1_000);
		assert!(System::read_events_for_pallet::<Event<Test>>()
			.contains(&Event::SuperNodeSlashed { who: 5, amount: 1_000 }));
	});
}

#[test]
fn the_owner_pays_the_anchor_fee_to_the_approvers_in_equal_shares() {
	new_test_ext().execute_with(|| {
		create_service();
		let pay = |approvers: &[AccountId]| {
			<Registry as ServiceInspect<_, _, _>>::pay_anchor_fee(0, approvers)
		};
		let balances = || [OWNER, 5, 6].map(|who| Balances::free_balance(who));
		let before = balances();
		assert_eq!(pay(&[5, 6]), Ok(ANCHOR_FEE));
		// 3 split in two: the first approver takes the indivisible rest.
		assert_eq!(balances(), [before[0] - 3, before[1] + 2, before[2] + 1]);
		assert!(System::read_events_for_pallet::<Event<Test>>().contains(&Event::AnchorFeePaid {
			service: 0,
			payer: OWNER,
			fee: 3
		}));
		assert_eq!(pay(&[]), Ok(0), "nobody approved, nobody is paid");
		assert_eq!(balances(), [before[0] - 3, before[1] + 2, before[2] + 1]);
		assert_eq!(
			<Registry as ServiceInspect<_, _, _>>::pay_anchor_fee(9, &[5]),
			Err(Error::<Test>::UnknownService.into())
		);
	});
}

#[test]
fn an_owner_that_cannot_pay_the_anchor_fee_pays_nothing() {
	new_test_ext().execute_with(|| {
		create_service();
		// Besides its existential deposit the owner has one unit less than the fee: the
		// first approver's share would go through, the second's not, so neither does.
		let spare = ANCHOR_FEE - 1;
		Balances::set_balance(&OWNER, 1 + spare);
		assert_eq!(
			<Registry as ServiceInspect<_, _, _>>::pay_anchor_fee(0, &[5, 6]),
			Err(TokenError::NotExpendable.into())
		);
		assert_eq!(Balances::free_balance(OWNER), 1 + spare);
		assert_eq!([5, 6].map(|who| Balances::free_balance(who)), [100_000, 100_000]);
	});
}

#[test]
fn a_full_super_node_set_admits_only_a_higher_stake_and_evicts_the_lowest() {
	new_test_ext().execute_with(|| {
		// The mock's set holds three.
		for (who, stake) in [(5, 2_000), (6, 1_000), (7, 3_000)] {
			Balances::set_balance(&who, 100_000);
			assert_ok!(Registry::register_super_node(signed(who), stake));
		}
		Balances::set_balance(&8, 100_000);
		// Idle accounts cannot crowd the staked ones out for the minimum, or a tie.
		for stake in [1_000, 999] {
			assert!(Registry::register_super_node(signed(8), stake).is_err());
		}
		assert_ok!(Registry::register_super_node(signed(8), 1_001));
		let members: Vec<AccountId> = ActiveSet::<Test>::get().iter().map(|m| m.who).collect();
		assert_eq!(members, vec![5, 7, 8]);
		assert!(!<Registry as ServiceInspect<_, _, _>>::is_super_node(&6));
		let unlocks_at = System::block_number() + SUPER_UNBONDING;
		assert!(System::read_events_for_pallet::<Event<Test>>()
			.contains(&Event::SuperNodeEvicted { who: 6, unlocks_at }));
		// Evicted, it unbonds as if it had left, and withdraws after the period.
		System::set_block_number(unlocks_at);
		assert_ok!(Registry::withdraw_super_node_stake(signed(6)));
		// A slash lowers a member's rank.
		<Registry as ServiceInspect<_, _, _>>::slash_super_node(&7, Perbill::from_percent(90));
		assert_eq!(ActiveSet::<Test>::get()[1].stake, 300);
	});
}

#[test]
fn the_owner_decides_who_writes_and_where_its_devices_lock_value() {
	new_test_ext().execute_with(|| {
		create_service();
		create_service();
		create_service();
		// Closed, no destinations, until the owner says otherwise.
		assert_eq!(Policies::<Test>::get(0), ServicePolicy::default());
		assert_eq!(
			<Registry as ServiceAdmission<_>>::admission(0),
			Some(Admission { owner: OWNER, open: false })
		);
		assert_eq!(<Registry as ServiceAdmission<_>>::admission(3), None);

		assert_noop!(
			Registry::set_policy(signed(1), 0, true, vec![]),
			Error::<Test>::NotServiceOwner
		);
		assert_noop!(
			Registry::set_policy(signed(OWNER), 7, true, vec![]),
			Error::<Test>::UnknownService
		);
		for bad in [vec![0], vec![3], vec![1, 1]] {
			assert_noop!(
				Registry::set_policy(signed(OWNER), 0, false, bad),
				Error::<Test>::InvalidLockDestination
			);
		}
		assert_noop!(
			Registry::set_policy(signed(OWNER), 0, false, vec![1, 2, 1, 2, 1]),
			Error::<Test>::TooManyLockDestinations
		);

		assert_ok!(Registry::set_policy(signed(OWNER), 0, true, vec![2, 1]));
		let policy = Policies::<Test>::get(0);
		assert_eq!((policy.open, policy.lock_destinations.into_inner()), (true, vec![2, 1]));
		assert_eq!(
			<Registry as ServiceAdmission<_>>::admission(0),
			Some(Admission { owner: OWNER, open: true })
		);
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>().last(),
			Some(&Event::PolicySet { service: 0, open: true, lock_destinations: vec![2, 1] })
		);
	});
}

/// Each corruption of the registry's books is caught by `try_state` with the invariant it
/// breaks.
#[test]
fn try_state_names_a_broken_invariant() {
	let broken = |corrupt: fn(), invariant: &'static str| {
		genesis_ext().execute_with(|| {
			create_service();
			assert_ok!(Registry::register_super_node(signed(5), 5_000));
			assert_ok!(Registry::do_try_state());
			corrupt();
			assert_eq!(Registry::do_try_state(), Err(invariant.into()));
		})
	};
	broken(
		|| Services::<Test>::mutate(0, |s| s.as_mut().unwrap().status = ServiceStatus::Active),
		"a service's status does not follow its nodes",
	);
	broken(
		|| SuperNodes::<Test>::mutate(5, |n| n.as_mut().unwrap().stake += 1),
		"an active set member is not an active super node with its stake",
	);
	broken(
		|| ActiveSet::<Test>::kill(),
		"a super node that has not left is outside the active set",
	);
	broken(
		|| Policies::<Test>::insert(1, ServicePolicy::default()),
		"a policy is kept for a service that does not exist",
	);
	broken(
		|| {
			let lock_destinations = vec![0].try_into().unwrap();
			Policies::<Test>::insert(0, ServicePolicy { open: false, lock_destinations })
		},
		"a service's peg destination is itself or does not exist",
	);
}
