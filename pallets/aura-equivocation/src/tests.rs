//! Reports checked against real sr25519 seals.

use crate::{mock::*, *};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, dispatch::Pays},
	sp_consensus_aura::Slot,
	sp_runtime::{traits::Header as _, Perbill},
	sp_session::MembershipProof,
	sp_staking::offence::Offence,
};

fn proof(
	offender: &AuthorityIdOf,
	slot: u64,
	first: Header,
	second: Header,
) -> Box<EquivocationProofOf<Test>> {
	Box::new(EquivocationProof {
		offender: offender.clone(),
		slot: Slot::from(slot),
		first_header: first,
		second_header: second,
	})
}

type AuthorityIdOf = <Test as Config>::AuthorityId;

fn membership() -> MembershipProof {
	MembershipProof { session: SESSION, trie_nodes: vec![], validator_count: VALIDATORS }
}

fn report(
	proof: Box<EquivocationProofOf<Test>>,
	membership: MembershipProof,
) -> DispatchResultWithPostInfo {
	AuraEquivocation::report_equivocation(RuntimeOrigin::signed(9), proof, membership)
}

#[test]
fn two_blocks_sealed_in_one_slot_are_reported_as_an_offence() {
	new_test_ext().execute_with(|| {
		let (alice, alice_key) = key("//Alice");
		let first = sealed_header(10, 40, 1, &alice);
		let second = sealed_header(10, 40, 2, &alice);
		let post =
			report(proof(&alice_key, 40, first, second), membership()).expect("valid report");
		assert_eq!(post.pays_fee, Pays::No, "an honest reporter pays nothing");
		assert_eq!(Reported::get(), vec![(1, SESSION, VALIDATORS, Slot::from(40))]);
		System::assert_last_event(
			Event::EquivocationReported { reporter: 9, offender: alice_key, slot: Slot::from(40) }
				.into(),
		);
	});
}

#[test]
fn the_same_equivocation_is_reported_once() {
	new_test_ext().execute_with(|| {
		let (alice, alice_key) = key("//Alice");
		let report_again = || {
			let (first, second) = (sealed_header(3, 4, 1, &alice), sealed_header(3, 4, 2, &alice));
			report(proof(&alice_key, 4, first, second), membership())
		};
		assert_ok!(report_again());
		assert_noop!(report_again(), Error::<Test>::DuplicateOffenceReport);
	});
}

#[test]
fn proofs_that_show_no_equivocation_are_rejected() {
	new_test_ext().execute_with(|| {
		let (alice, alice_key) = key("//Alice");
		let (bob, _) = key("//Bob");
		let header = sealed_header(10, 40, 1, &alice);
		let mut unsealed = sealed_header(10, 40, 2, &alice);
		unsealed.digest_mut().pop();
		let invalid = [
			("the same header twice", proof(&alice_key, 40, header.clone(), header.clone())),
			(
				"different slots",
				proof(&alice_key, 40, header.clone(), sealed_header(10, 41, 2, &alice)),
			),
			(
				"a slot the headers are not in",
				proof(&alice_key, 39, header.clone(), sealed_header(10, 40, 2, &alice)),
			),
			(
				"one header sealed by another key",
				proof(&alice_key, 40, header.clone(), sealed_header(10, 40, 2, &bob)),
			),
			("an unsealed header", proof(&alice_key, 40, header.clone(), unsealed)),
		];
		for (what, proof) in invalid {
			assert_noop!(report(proof, membership()), Error::<Test>::InvalidEquivocationProof);
			assert!(Reported::get().is_empty(), "{what} is no offence");
		}
	});
}

#[test]
fn the_key_must_belong_to_a_validator_of_the_session() {
	new_test_ext().execute_with(|| {
		let (charlie, charlie_key) = key("//Charlie");
		let equivocation = || {
			proof(
				&charlie_key,
				10,
				sealed_header(4, 10, 1, &charlie),
				sealed_header(4, 10, 2, &charlie),
			)
		};
		assert_noop!(report(equivocation(), membership()), Error::<Test>::InvalidKeyOwnershipProof);
		let (alice, alice_key) = key("//Alice");
		// A proof of another session than the one the slot is in: the chain's record of the
		// session refuses it before its key-ownership proof is even checked.
		let old_session = MembershipProof { session: SESSION - 1, ..membership() };
		let alice_equivocation =
			proof(&alice_key, 8, sealed_header(4, 8, 1, &alice), sealed_header(4, 8, 2, &alice));
		assert_noop!(report(alice_equivocation, old_session), Error::<Test>::SlotNotInSession);
	});
}

#[test]
fn reports_must_be_signed() {
	new_test_ext().execute_with(|| {
		let (alice, alice_key) = key("//Alice");
		let equivocation =
			proof(&alice_key, 8, sealed_header(4, 8, 1, &alice), sealed_header(4, 8, 2, &alice));
		assert_noop!(
			AuraEquivocation::report_equivocation(
				RuntimeOrigin::none(),
				equivocation,
				membership()
			),
			polkadot_sdk::sp_runtime::DispatchError::BadOrigin
		);
	});
}

#[test]
fn the_slash_grows_with_the_share_of_validators_that_equivocate() {
	let offence = |validators| AuraEquivocationOffence {
		slot: Slot::from(1),
		session_index: 0,
		validator_set_count: validators,
		offender: 1u64,
	};
	// min((3k / n)², 1)
	assert_eq!(offence(100).slash_fraction(1), Perbill::from_rational(9u32, 10_000));
	assert_eq!(offence(4).slash_fraction(1), Perbill::from_rational(9u32, 16));
	assert_eq!(offence(4).slash_fraction(2), Perbill::one());
	assert_eq!(offence(0).slash_fraction(1), Perbill::one());
}

/// Alice's equivocation in `slot`.
fn alice_in(slot: u64) -> Box<EquivocationProofOf<Test>> {
	let (alice, alice_key) = key("//Alice");
	proof(&alice_key, slot, sealed_header(4, slot, 1, &alice), sealed_header(4, slot, 2, &alice))
}

#[test]
fn only_the_author_of_the_slot_can_equivocate_in_it() {
	new_test_ext().execute_with(|| {
		// Slot 40 is Alice's turn: Bob's two seals in it are no Aura blocks of his.
		let (bob, bob_key) = key("//Bob");
		let bob_in_alices_slot =
			proof(&bob_key, 40, sealed_header(4, 40, 1, &bob), sealed_header(4, 40, 2, &bob));
		assert_noop!(report(bob_in_alices_slot, membership()), Error::<Test>::NotSlotAuthor);
		let bobs_own =
			proof(&bob_key, 41, sealed_header(4, 41, 1, &bob), sealed_header(4, 41, 2, &bob));
		assert_ok!(report(bobs_own, membership()));
	});
}

#[test]
fn the_slot_must_lie_within_the_session_the_proof_names() {
	new_test_ext().execute_with(|| {
		// Before the session began, or after the current slot.
		SessionSlots::<Test>::remove(SESSION);
		start_session(SESSION, 8);
		CurrentSlot::set(100);
		for slot in [4, 104] {
			assert_noop!(report(alice_in(slot), membership()), Error::<Test>::SlotNotInSession);
		}
		// Once the next session began at slot 60, slot 64 is that session's, not this one's.
		start_session(SESSION + 1, 60);
		assert_noop!(report(alice_in(64), membership()), Error::<Test>::SlotNotInSession);
		// A session the chain never recorded.
		let unknown = MembershipProof { session: SESSION + 2, ..membership() };
		assert_noop!(report(alice_in(64), unknown), Error::<Test>::SlotNotInSession);
		assert_ok!(report(alice_in(56), membership()));
	});
}

#[test]
fn a_report_after_the_window_is_refused_and_the_history_pruned() {
	new_test_ext().execute_with(|| {
		for (session, slot) in [(SESSION + 1, 200), (SESSION + 2, 300)] {
			start_session(session, slot);
		}
		// Still within the window (three sessions, its own included).
		assert_ok!(report(alice_in(40), membership()));
		start_session(SESSION + 3, 400);
		assert!(!SessionSlots::<Test>::contains_key(SESSION));
		assert_eq!(PrunedUpTo::get(), SESSION + 1);
		assert_noop!(report(alice_in(44), membership()), Error::<Test>::ReportTooOld);
	});
}
