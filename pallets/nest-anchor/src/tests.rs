//! Anchor tests on the mock runtime with the real registry.

use crate::{mock::*, *};
use polkadot_sdk::frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{InspectHold as _, Mutate as _},
};
use thingschain_primitives::merkle;

fn signed(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn root(byte: u8) -> Hash {
	Hash::repeat_byte(byte)
}

/// The hash of the latest anchor of service 0 (zero before the first).
fn prev() -> Hash {
	NestAnchor::next_epoch(0).1
}

/// Moves (forward only) to the first block after `epoch` of service 0 ended.
fn end_epoch(epoch: Epoch) {
	let ended = 1 + EPOCH * (epoch as u64 + 1);
	System::set_block_number(System::block_number().max(ended));
}

/// Anchors `epoch` with `root`: two nodes attest, two super nodes approve.
fn anchor(epoch: Epoch, root: Hash) {
	end_epoch(epoch);
	let prev = prev();
	for node in [1, 2] {
		assert_ok!(NestAnchor::attest(signed(node), 0, epoch, root, prev));
	}
	for super_node in [21, 22] {
		assert_ok!(NestAnchor::approve(signed(super_node), 0, epoch, root));
	}
	assert!(Anchors::<Test>::contains_key(0, epoch), "epoch {epoch} is anchored");
}

/// Service 0's terms.
fn terms() -> pallet_service_registry::ServiceTerms<u64> {
	<Registry as pallet_service_registry::ServiceInspect<_, _, _>>::service(0).unwrap()
}

fn stake(super_node: AccountId) -> Balance {
	Balances::balance_on_hold(
		&pallet_service_registry::HoldReason::SuperNodeStake.into(),
		&super_node,
	)
}

#[test]
fn quorum_attestations_and_super_node_approvals_anchor_an_epoch() {
	new_test_ext().execute_with(|| {
		end_epoch(0);
		assert_ok!(NestAnchor::attest(signed(1), 0, 0, root(1), Hash::zero()));
		assert_ok!(NestAnchor::approve(signed(21), 0, 0, root(1)));
		assert_ok!(NestAnchor::approve(signed(22), 0, 0, root(1)));
		assert!(!Anchors::<Test>::contains_key(0, 0), "one attestation is below the quorum of two");
		assert_ok!(NestAnchor::attest(signed(2), 0, 0, root(1), Hash::zero()));
		let hash = anchor_hash(0, 0, &root(1), &Hash::zero());
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>().last(),
			Some(&Event::Anchored { service: 0, epoch: 0, root: root(1), hash })
		);
		let anchor = Anchors::<Test>::get(0, 0).unwrap();
		assert_eq!((anchor.root, anchor.prev, anchor.hash), (root(1), Hash::zero(), hash));
		assert_eq!(anchor.approvers.into_inner(), vec![21, 22]);
		assert_eq!(
			Latest::<Test>::get(0),
			Some(LatestAnchor { epoch: 0, hash, anchored_at: System::block_number() })
		);
		assert!(Pending::<Test>::get(0).is_none());
	});
}

#[test]
fn the_service_owner_pays_the_approvers_of_each_anchor() {
	new_test_ext().execute_with(|| {
		let free = || [OWNER, 21, 22, 23].map(|who| Balances::free_balance(who));
		let before = free();
		anchor(0, root(1));
		// The mock's fee of 100, in two equal shares; 23 did not approve.
		assert_eq!(free(), [before[0] - 100, before[1] + 50, before[2] + 50, before[3]]);
		assert!(System::events().iter().any(|r| r.event
			== pallet_service_registry::Event::AnchorFeePaid {
				service: 0,
				payer: OWNER,
				fee: 100
			}
			.into()));
	});
}

#[test]
fn an_owner_that_cannot_pay_holds_the_anchor_back_until_it_can() {
	new_test_ext().execute_with(|| {
		Balances::set_balance(&OWNER, 50);
		end_epoch(0);
		for node in [1, 2] {
			assert_ok!(NestAnchor::attest(signed(node), 0, 0, root(1), Hash::zero()));
		}
		assert_ok!(NestAnchor::approve(signed(21), 0, 0, root(1)));
		// The second approval would anchor the epoch, but the owner cannot pay.
		assert_noop!(
			NestAnchor::approve(signed(22), 0, 0, root(1)),
			Error::<Test>::AnchorFeeUnpaid
		);
		assert!(!Anchors::<Test>::contains_key(0, 0));
		Balances::set_balance(&OWNER, 1_000);
		assert_ok!(NestAnchor::approve(signed(22), 0, 0, root(1)));
		assert!(Anchors::<Test>::contains_key(0, 0));
		assert_eq!(Balances::free_balance(OWNER), 900);
	});
}

#[test]
fn approvals_are_needed_from_the_threshold_of_super_nodes() {
	new_test_ext().execute_with(|| {
		// Half of three super nodes, rounded up.
		assert_eq!(NestAnchor::required_approvals(&terms(), 0), 2);
		end_epoch(0);
		for node in NODES {
			assert_ok!(NestAnchor::attest(signed(node), 0, 0, root(1), Hash::zero()));
		}
		assert_ok!(NestAnchor::approve(signed(21), 0, 0, root(1)));
		assert!(!Anchors::<Test>::contains_key(0, 0), "one approval of the two needed");
		assert_ok!(NestAnchor::approve(signed(23), 0, 0, root(1)));
		assert!(Anchors::<Test>::contains_key(0, 0));
	});
}

#[test]
fn anchors_chain_epoch_after_epoch() {
	new_test_ext().execute_with(|| {
		for epoch in 0..3 {
			anchor(epoch, root(epoch as u8 + 1));
		}
		for epoch in 1..3 {
			let (anchor, before) = (
				Anchors::<Test>::get(0, epoch).unwrap(),
				Anchors::<Test>::get(0, epoch - 1).unwrap(),
			);
			assert_eq!(anchor.prev, before.hash, "epoch {epoch} names its predecessor");
			assert_eq!(anchor.hash, anchor_hash(0, epoch, &anchor.root, &anchor.prev));
		}
		assert_eq!(Latest::<Test>::get(0).unwrap().epoch, 2);
	});
}

#[test]
fn only_trusted_nodes_attest_and_only_once() {
	new_test_ext().execute_with(|| {
		end_epoch(0);
		assert_noop!(
			NestAnchor::attest(signed(7), 0, 0, root(1), Hash::zero()),
			Error::<Test>::NotServiceNode
		);
		assert_noop!(
			NestAnchor::attest(signed(1), 5, 0, root(1), Hash::zero()),
			Error::<Test>::UnknownService
		);
		assert_ok!(NestAnchor::attest(signed(1), 0, 0, root(1), Hash::zero()));
		assert_noop!(
			NestAnchor::attest(signed(1), 0, 0, root(2), Hash::zero()),
			Error::<Test>::AlreadyAttested
		);
	});
}

#[test]
fn epochs_are_anchored_in_order_once_they_end() {
	new_test_ext().execute_with(|| {
		System::set_block_number(EPOCH);
		assert_noop!(
			NestAnchor::attest(signed(1), 0, 0, root(1), Hash::zero()),
			Error::<Test>::EpochNotEnded
		);
		end_epoch(2);
		assert_noop!(
			NestAnchor::attest(signed(1), 0, 1, root(1), Hash::zero()),
			Error::<Test>::EpochGap
		);
		anchor(0, root(1));
		assert_noop!(
			NestAnchor::attest(signed(3), 0, 0, root(1), Hash::zero()),
			Error::<Test>::StaleEpoch
		);
		assert_noop!(
			NestAnchor::attest(signed(1), 0, 1, root(2), Hash::zero()),
			Error::<Test>::WrongPreviousAnchor
		);
		assert_ok!(NestAnchor::attest(signed(1), 0, 1, root(2), prev()));
	});
}

#[test]
fn conflicting_roots_are_flagged_and_only_a_quorum_anchors() {
	new_test_ext().execute_with(|| {
		end_epoch(0);
		assert_ok!(NestAnchor::attest(signed(1), 0, 0, root(1), Hash::zero()));
		assert_ok!(NestAnchor::attest(signed(2), 0, 0, root(2), Hash::zero()));
		assert!(System::read_events_for_pallet::<Event<Test>>().contains(
			&Event::ConflictingRoots { service: 0, epoch: 0, root: root(2), other: root(1) }
		));
		for super_node in [21, 22] {
			assert_ok!(NestAnchor::approve(signed(super_node), 0, 0, root(2)));
		}
		assert!(!Anchors::<Test>::contains_key(0, 0), "each root has one attestation");
		assert_ok!(NestAnchor::attest(signed(3), 0, 0, root(2), Hash::zero()));
		assert_eq!(Anchors::<Test>::get(0, 0).unwrap().root, root(2));
	});
}

#[test]
fn a_suspended_service_anchors_nothing() {
	new_test_ext().execute_with(|| {
		end_epoch(0);
		assert_ok!(Registry::remove_service_node(signed(OWNER), 0, 3));
		// Two nodes still meet the quorum.
		assert_ok!(NestAnchor::attest(signed(1), 0, 0, root(1), Hash::zero()));
		assert_ok!(Registry::remove_service_node(signed(OWNER), 0, 2));
		assert_noop!(
			NestAnchor::attest(signed(1), 0, 0, root(1), Hash::zero()),
			Error::<Test>::ServiceSuspended
		);
		assert_noop!(
			NestAnchor::approve(signed(21), 0, 0, root(1)),
			Error::<Test>::ServiceSuspended
		);
	});
}

#[test]
fn approval_errors() {
	new_test_ext().execute_with(|| {
		end_epoch(0);
		assert_ok!(NestAnchor::attest(signed(1), 0, 0, root(1), Hash::zero()));
		assert_noop!(NestAnchor::approve(signed(1), 0, 0, root(1)), Error::<Test>::NotSuperNode);
		assert_noop!(NestAnchor::approve(signed(21), 0, 0, root(9)), Error::<Test>::UnknownRoot);
		assert_ok!(NestAnchor::approve(signed(21), 0, 0, root(1)));
		assert_noop!(
			NestAnchor::approve(signed(21), 0, 0, root(1)),
			Error::<Test>::AlreadyApproved
		);
	});
}

#[test]
fn approving_two_roots_of_one_epoch_is_slashed() {
	new_test_ext().execute_with(|| {
		end_epoch(0);
		assert_ok!(NestAnchor::attest(signed(1), 0, 0, root(1), Hash::zero()));
		assert_ok!(NestAnchor::attest(signed(2), 0, 0, root(2), Hash::zero()));
		assert_ok!(NestAnchor::approve(signed(21), 0, 0, root(1)));
		assert_ok!(NestAnchor::approve(signed(21), 0, 0, root(2)));
		// 20% of 10,000 is taken, and the second approval does not count.
		assert_eq!(stake(21), 8_000);
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>().last(),
			Some(&Event::DoubleApproval { service: 0, epoch: 0, who: 21, slashed: 2_000 })
		);
		let (_, candidates) = Pending::<Test>::get(0).unwrap();
		assert!(candidates[1].approvers.is_empty());
	});
}

#[test]
fn approving_another_root_of_an_anchored_epoch_is_slashed() {
	new_test_ext().execute_with(|| {
		anchor(0, root(1));
		assert_ok!(NestAnchor::approve(signed(22), 0, 0, root(7)));
		assert_eq!(stake(22), 8_000);
		// A super node that did not approve the anchor has nothing to contradict.
		assert_noop!(NestAnchor::approve(signed(23), 0, 0, root(7)), Error::<Test>::StaleEpoch);
		assert_eq!(stake(23), SUPER_STAKE);
	});
}

#[test]
fn records_are_proven_against_the_anchored_root() {
	new_test_ext().execute_with(|| {
		let records: Vec<Vec<u8>> =
			(0..5u8).map(|i| [b"passport-hash:".as_slice(), &[i]].concat()).collect();
		let proof = merkle::InclusionProof::build(&records, 3).unwrap();
		assert_eq!(
			NestAnchor::verify_inclusion(0, 0, &records[3], &proof),
			None,
			"not anchored yet"
		);
		anchor(0, merkle::root(&records));
		assert_eq!(NestAnchor::verify_inclusion(0, 0, &records[3], &proof), Some(true));
		assert_eq!(NestAnchor::verify_inclusion(0, 0, &records[2], &proof), Some(false));
	});
}

#[test]
fn each_call_is_charged_for_the_path_it_took() {
	new_test_ext().execute_with(|| {
		type W = <Test as Config>::WeightInfo;
		let charged = |result: DispatchResultWithPostInfo| result.expect("succeeds").actual_weight;
		let most = <<Test as Config>::MaxApprovers as Get<u32>>::get();
		assert!(W::attest_kept().all_lt(W::attest(most)), "a kept attestation costs less");
		assert!(W::approve_kept().all_lt(W::approve(most)), "a kept approval costs less");

		end_epoch(0);
		assert_eq!(
			charged(NestAnchor::attest(signed(1), 0, 0, root(1), Hash::zero())),
			Some(W::attest_kept())
		);
		assert_eq!(
			charged(NestAnchor::approve(signed(21), 0, 0, root(1))),
			Some(W::approve_kept())
		);
		assert_eq!(
			charged(NestAnchor::approve(signed(22), 0, 0, root(1))),
			Some(W::approve_kept())
		);
		// The quorum's second attestation anchors and pays the two approvers.
		assert_eq!(
			charged(NestAnchor::attest(signed(2), 0, 0, root(1), Hash::zero())),
			Some(W::attest(2))
		);

		end_epoch(1);
		let prev = prev();
		for node in [1, 2] {
			assert_eq!(
				charged(NestAnchor::attest(signed(node), 0, 1, root(2), prev)),
				Some(W::attest_kept())
			);
		}
		assert_eq!(
			charged(NestAnchor::approve(signed(21), 0, 1, root(2))),
			Some(W::approve_kept())
		);
		// The second approval anchors and pays both.
		assert_eq!(charged(NestAnchor::approve(signed(22), 0, 1, root(2))), Some(W::approve(2)));
		assert!(Anchors::<Test>::contains_key(0, 1));
	});
}

#[test]
fn a_removed_node_loses_its_pending_attestation_and_a_departed_super_node_its_approval() {
	new_test_ext().execute_with(|| {
		end_epoch(0);
		assert_ok!(NestAnchor::attest(signed(1), 0, 0, root(1), Hash::zero()));
		assert_ok!(Registry::remove_service_node(signed(OWNER), 0, 1));
		let (_, candidates) = Pending::<Test>::get(0).unwrap_or_default();
		assert!(candidates.iter().all(|c| !c.attesters.contains(&1)));
		// Super node 21 approves, then leaves: its approval no longer counts either.
		assert_ok!(NestAnchor::attest(signed(2), 0, 0, root(1), Hash::zero()));
		assert_ok!(NestAnchor::approve(signed(21), 0, 0, root(1)));
		assert_ok!(Registry::leave_super_nodes(signed(21)));
		assert_ok!(NestAnchor::attest(signed(3), 0, 0, root(1), Hash::zero()));
		// Two current attestations, but the one approval came from a super node gone since.
		assert!(!Anchors::<Test>::contains_key(0, 0));
		assert_ok!(NestAnchor::approve(signed(22), 0, 0, root(1)));
		let anchor = Anchors::<Test>::get(0, 0).expect("anchored by current members");
		assert_eq!(anchor.approvers.into_inner(), vec![22]);
	});
}

#[test]
fn a_node_whose_judgement_was_withdrawn_is_refused_and_its_attestation_stops_counting() {
	new_test_ext().execute_with(|| {
		end_epoch(0);
		assert_ok!(NestAnchor::attest(signed(1), 0, 0, root(1), Hash::zero()));
		Unverified::set(&vec![1, 3]);
		assert_noop!(
			NestAnchor::attest(signed(3), 0, 0, root(1), Hash::zero()),
			Error::<Test>::IdentityNotVerified
		);
		assert_ok!(NestAnchor::attest(signed(2), 0, 0, root(1), Hash::zero()));
		for super_node in [21, 22] {
			assert_ok!(NestAnchor::approve(signed(super_node), 0, 0, root(1)));
		}
		// Two attestations, one of them from a node no longer verified: below the quorum.
		assert!(!Anchors::<Test>::contains_key(0, 0));
		Unverified::set(&vec![1]);
		assert_ok!(NestAnchor::attest(signed(3), 0, 0, root(1), Hash::zero()));
		assert!(Anchors::<Test>::contains_key(0, 0));
	});
}

#[test]
fn conflicting_roots_of_every_other_node_leave_room_for_the_honest_one() {
	new_test_ext().execute_with(|| {
		assert_ok!(Registry::add_service_node(signed(OWNER), 0, 4));
		end_epoch(0);
		// Three compromised nodes attest three different roots: the most the nodes but one
		// can, and still no `TooManyCandidates` for the fourth.
		for node in [1, 2, 3] {
			assert_ok!(NestAnchor::attest(signed(node), 0, 0, root(node as u8), Hash::zero()));
		}
		assert_ok!(NestAnchor::attest(signed(4), 0, 0, root(9), Hash::zero()));
		assert_eq!(Pending::<Test>::get(0).unwrap().1.len(), 4);
	});
}

#[test]
fn the_owner_or_governance_expires_a_split_epoch_and_nodes_attest_afresh() {
	new_test_ext().execute_with(|| {
		end_epoch(0);
		assert_ok!(NestAnchor::attest(signed(1), 0, 0, root(1), Hash::zero()));
		assert_ok!(NestAnchor::attest(signed(2), 0, 0, root(2), Hash::zero()));
		assert_noop!(NestAnchor::expire_pending(signed(1), 0), Error::<Test>::NotServiceOwner);
		assert_noop!(NestAnchor::expire_pending(signed(OWNER), 9), Error::<Test>::UnknownService);
		assert_ok!(NestAnchor::expire_pending(signed(OWNER), 0));
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>().last(),
			Some(&Event::PendingExpired { service: 0, epoch: 0 })
		);
		assert!(Pending::<Test>::get(0).is_none());
		assert_noop!(
			NestAnchor::expire_pending(RuntimeOrigin::root(), 0),
			Error::<Test>::NothingPending
		);
		// Node 2 may attest again, and the epoch is anchored.
		anchor(0, root(1));
		// Governance may expire too.
		end_epoch(1);
		assert_ok!(NestAnchor::attest(signed(1), 0, 1, root(3), prev()));
		assert_ok!(NestAnchor::expire_pending(RuntimeOrigin::root(), 0));
	});
}

#[test]
fn a_stalled_epoch_is_skipped_and_the_next_builds_on_the_anchor_before() {
	new_test_ext().execute_with(|| {
		anchor(0, root(1));
		let before = prev();
		assert_noop!(NestAnchor::skip_epoch(signed(OWNER), 0, 1), Error::<Test>::EpochNotEnded);
		end_epoch(1);
		assert_ok!(NestAnchor::attest(signed(1), 0, 1, root(2), before));
		assert_ok!(NestAnchor::attest(signed(2), 0, 1, root(3), before));
		assert_noop!(NestAnchor::skip_epoch(signed(2), 0, 1), Error::<Test>::NotServiceOwner);
		assert_noop!(NestAnchor::skip_epoch(signed(OWNER), 0, 2), Error::<Test>::EpochGap);
		assert_ok!(NestAnchor::skip_epoch(signed(OWNER), 0, 1));
		let skip = Anchors::<Test>::get(0, 1).unwrap();
		assert!(skip.skipped && skip.approvers.is_empty());
		assert_eq!((skip.root, skip.prev), (Hash::zero(), before));
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>().last(),
			Some(&Event::EpochSkipped { service: 0, epoch: 1, hash: skip.hash })
		);
		assert!(Pending::<Test>::get(0).is_none());
		// A skipped epoch holds no state: nothing is proven against it.
		assert_eq!(<NestAnchor as AnchorInspect<_>>::anchor(0, 1), None);
		assert!(<NestAnchor as AnchorInspect<_>>::skipped(0, 1));
		let proof = merkle::InclusionProof::build(&[vec![1]], 0).unwrap();
		assert_eq!(NestAnchor::verify_inclusion(0, 1, &[1], &proof), None);
		// The next epoch names the skip as its previous anchor.
		anchor(2, root(4));
		assert_eq!(Anchors::<Test>::get(0, 2).unwrap().prev, skip.hash);
	});
}

#[test]
fn super_nodes_admitted_after_an_epoch_began_do_not_raise_its_threshold() {
	new_test_ext().execute_with(|| {
		// Epoch 0 began at block 1 with three super nodes; five more join at block 5.
		System::set_block_number(5);
		for flood in 24..=28 {
			assert_ok!(Registry::register_super_node(signed(flood), SUPER_STAKE));
		}
		assert_eq!(NestAnchor::required_approvals(&terms(), 0), 2);
		// Epoch 1 begins with all eight: it needs four.
		assert_eq!(NestAnchor::required_approvals(&terms(), 1), 4);
		anchor(0, root(1));
		assert_eq!(Anchors::<Test>::get(0, 0).unwrap().approvers.len(), 2);
	});
}

#[test]
fn an_idle_super_node_is_chilled_by_anyone_once_anchors_were_made_without_it() {
	new_test_ext().execute_with(|| {
		// Nothing was anchored yet: 23 missed nothing.
		System::set_block_number(1 + IDLE_PERIOD);
		assert_noop!(NestAnchor::chill_idle(signed(7), 23), Error::<Test>::NotIdle);
		anchor(0, root(1)); // approved by 21 and 22
		let anchored = System::block_number();
		assert!(anchored >= 1 + IDLE_PERIOD);
		assert_ok!(NestAnchor::chill_idle(signed(7), 23));
		assert!(!<Registry as pallet_service_registry::ServiceInspect<_, _, _>>::is_super_node(
			&23
		));
		assert_noop!(NestAnchor::chill_idle(signed(7), 23), Error::<Test>::NotSuperNode);
		// 21 approved just now: not idle, however long ago it was admitted.
		assert_noop!(NestAnchor::chill_idle(signed(7), 21), Error::<Test>::NotIdle);
		// With two super nodes left, one approval is enough for the next epoch.
		end_epoch(1);
		assert_eq!(NestAnchor::required_approvals(&terms(), 1), 1);
	});
}

/// Each corruption of the anchors' books is caught by `try_state` with the invariant it
/// breaks.
#[test]
fn try_state_names_a_broken_invariant() {
	let broken = |corrupt: fn(), invariant: &'static str| {
		genesis_ext().execute_with(|| {
			anchor(0, root(1));
			anchor(1, root(2));
			end_epoch(2);
			assert_ok!(NestAnchor::attest(signed(1), 0, 2, root(3), prev()));
			assert_ok!(NestAnchor::do_try_state());
			corrupt();
			assert_eq!(NestAnchor::do_try_state(), Err(invariant.into()));
		})
	};
	broken(|| Anchors::<Test>::remove(0, 0), "an anchored service's chain has a gap");
	broken(
		|| Anchors::<Test>::mutate(0, 1, |a| a.as_mut().unwrap().root = root(9)),
		"an anchor's hash is not its own",
	);
	broken(
		|| Latest::<Test>::mutate(0, |l| l.as_mut().unwrap().epoch = 0),
		"the latest hash is not the latest anchor's",
	);
	broken(
		|| Latest::<Test>::mutate(0, |l| l.as_mut().unwrap().anchored_at += 1),
		"the latest anchor's block is not its anchor's",
	);
	broken(
		|| Pending::<Test>::mutate(0, |p| p.as_mut().unwrap().0 = 3),
		"a pending epoch is not the next to anchor",
	);
}

/// Service 0's latest anchor after two epochs, rewritten in the v0 layout with the stored
/// version 0, as a chain that ran the runtime before the migration holds it.
fn chain_at_v0() -> LatestAnchor<Test> {
	use polkadot_sdk::frame_support::traits::StorageVersion;
	anchor(0, root(1));
	anchor(1, root(2));
	let latest = Latest::<Test>::take(0).unwrap();
	migrations::v1::v0::Latest::<Test>::insert(0, (latest.epoch, latest.hash));
	StorageVersion::new(0).put::<NestAnchor>();
	latest
}

#[test]
fn the_v1_migration_keeps_each_latest_anchor_and_adds_its_block() {
	use migrations::v1::MigrateV0ToV1;
	use polkadot_sdk::frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade};
	new_test_ext().execute_with(|| {
		let latest = chain_at_v0();
		assert!(Latest::<Test>::get(0).is_none(), "v0's tuple does not decode as v1's struct");

		#[cfg(feature = "try-runtime")]
		let before = MigrateV0ToV1::<Test>::pre_upgrade().unwrap();
		MigrateV0ToV1::<Test>::on_runtime_upgrade();
		#[cfg(feature = "try-runtime")]
		MigrateV0ToV1::<Test>::post_upgrade(before).unwrap();

		assert_eq!(Latest::<Test>::get(0), Some(latest.clone()));
		assert_eq!(latest.anchored_at, Anchors::<Test>::get(0, 1).unwrap().anchored_at);
		assert_eq!(NestAnchor::on_chain_storage_version(), 1);

		// At v1 it is skipped: a v1 value it would misread as v0 is left alone.
		let other = LatestAnchor { epoch: 7, ..latest.clone() };
		Latest::<Test>::insert(0, other.clone());
		MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(Latest::<Test>::get(0), Some(other));
		Latest::<Test>::insert(0, latest);
	});
}

#[cfg(feature = "try-runtime")]
#[test]
fn the_v1_migration_check_refuses_a_latest_anchor_it_did_not_keep() {
	use migrations::v1::unversioned::InnerMigrateV0ToV1;
	use polkadot_sdk::frame_support::traits::UncheckedOnRuntimeUpgrade;
	new_test_ext().execute_with(|| {
		let latest = chain_at_v0();
		let before = InnerMigrateV0ToV1::<Test>::pre_upgrade().unwrap();
		InnerMigrateV0ToV1::<Test>::on_runtime_upgrade();
		let wrong = LatestAnchor { anchored_at: latest.anchored_at + 1, ..latest.clone() };
		Latest::<Test>::insert(0, wrong);
		assert_eq!(
			InnerMigrateV0ToV1::<Test>::post_upgrade(before.clone()),
			Err("a latest anchor's block is not its anchor's".into())
		);
		Latest::<Test>::remove(0);
		assert_eq!(
			InnerMigrateV0ToV1::<Test>::post_upgrade(before.clone()),
			Err("the number of anchored services changed".into())
		);
		Latest::<Test>::insert(0, latest);
		assert_eq!(InnerMigrateV0ToV1::<Test>::post_upgrade(before), Ok(()));
	});
}
