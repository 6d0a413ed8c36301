//! Reports checked against real sr25519 seals.

use crate::{mock::*, *};
use codec::{Decode, Encode};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, dispatch::Pays, traits::UnfilteredDispatchable},
	sp_consensus_aura::Slot,
	sp_core::offchain::{testing::TestTransactionPoolExt, TransactionPoolExt},
	sp_runtime::{
		traits::{ExtrinsicLike, Header as _},
		DispatchError, Perbill,
	},
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
			Event::EquivocationReported {
				reporter: Some(9),
				offender: alice_key,
				slot: Slot::from(40),
			}
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
fn a_signed_report_needs_a_signer_and_an_unsigned_one_none() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			AuraEquivocation::report_equivocation(RuntimeOrigin::none(), alice_in(8), membership()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			AuraEquivocation::report_equivocation_unsigned(
				RuntimeOrigin::signed(9),
				alice_in(8),
				membership()
			),
			DispatchError::BadOrigin
		);
	});
}

/// The unsigned report of `proof`, as the node's runtime call submits it.
fn unsigned(proof: Box<EquivocationProofOf<Test>>, membership: MembershipProof) -> Call<Test> {
	Call::report_equivocation_unsigned { equivocation_proof: proof, key_owner_proof: membership }
}

#[allow(deprecated)]
fn validate(source: TransactionSource, call: &Call<Test>) -> TransactionValidity {
	<AuraEquivocation as ValidateUnsigned>::validate_unsigned(source, call)
}

#[allow(deprecated)]
fn pre_dispatch(call: &Call<Test>) -> Result<(), TransactionValidityError> {
	<AuraEquivocation as ValidateUnsigned>::pre_dispatch(call)
}

#[test]
fn a_node_reports_unsigned_through_its_own_pool_and_the_report_counts_once() {
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let mut ext = genesis_ext();
	ext.register_extension(TransactionPoolExt::new(pool));
	CheckedExt::new(ext, AuraEquivocation::do_try_state).execute_with(|| {
		// sr25519 seals are randomized: one proof, compared with itself.
		let equivocation = alice_in(40);
		assert_eq!(
			AuraEquivocation::submit_unsigned_report(*equivocation.clone(), membership()),
			Some(())
		);
		let submitted = pool_state.read().transactions.clone();
		assert_eq!(submitted.len(), 1, "one report in the local pool");
		let xt = Extrinsic::decode(&mut &submitted[0][..]).expect("a transaction of this runtime");
		assert!(xt.is_bare(), "unsigned: the node signs nothing");
		let RuntimeCall::AuraEquivocation(call) = xt.function else { panic!("a report") };
		assert_eq!(call, unsigned(equivocation, membership()));

		let valid = validate(TransactionSource::Local, &call).expect("the local node's report");
		assert_eq!(valid.priority, TransactionPriority::MAX);
		assert_eq!(valid.longevity, REPORT_LONGEVITY);
		assert!(!valid.propagate, "no other node could include it");
		assert_eq!(
			valid.provides,
			vec![("AuraEquivocation", (key("//Alice").1, Slot::from(40u64))).encode()]
		);
		assert_ok!(validate(TransactionSource::InBlock, &call));
		assert_ok!(pre_dispatch(&call));

		let post = call.clone().dispatch_bypass_filter(RuntimeOrigin::none()).expect("counts");
		assert_eq!(post.pays_fee, Pays::No);
		assert_eq!(Reported::get(), vec![(1, SESSION, VALIDATORS, Slot::from(40))]);
		System::assert_last_event(
			Event::EquivocationReported {
				reporter: None,
				offender: key("//Alice").1,
				slot: Slot::from(40),
			}
			.into(),
		);
		// Counted: another node's copy of the report is stale, in the pool and in a block.
		let stale = Err(InvalidTransaction::Stale.into());
		assert_eq!(validate(TransactionSource::Local, &call), stale);
		assert_eq!(pre_dispatch(&call), stale.map(|_: ValidTransaction| ()));
	});
}

#[test]
fn unsigned_reports_are_taken_only_from_the_local_node_and_only_while_they_count() {
	new_test_ext().execute_with(|| {
		let refused = |call: &Call<Test>, why: InvalidTransaction| {
			for source in [TransactionSource::Local, TransactionSource::InBlock] {
				assert_eq!(validate(source, call), Err(why.into()), "{source:?}");
			}
			assert_eq!(pre_dispatch(call), Err(why.into()));
		};
		// A valid report gossiped by a peer: no pool of ours takes it.
		let valid = unsigned(alice_in(40), membership());
		assert_eq!(
			validate(TransactionSource::External, &valid),
			Err(InvalidTransaction::Call.into())
		);
		// Reports that prove nothing: Bob's seals in Alice's slot, a key of no validator.
		let (bob, bob_key) = key("//Bob");
		let bob_in_alices_slot =
			proof(&bob_key, 40, sealed_header(4, 40, 1, &bob), sealed_header(4, 40, 2, &bob));
		refused(&unsigned(bob_in_alices_slot, membership()), InvalidTransaction::BadProof);
		let (charlie, charlie_key) = key("//Charlie");
		let charlie_equivocation = proof(
			&charlie_key,
			42,
			sealed_header(4, 42, 1, &charlie),
			sealed_header(4, 42, 2, &charlie),
		);
		refused(&unsigned(charlie_equivocation, membership()), InvalidTransaction::BadProof);
		// A report of a session that has left the window.
		for (session, slot) in [(SESSION + 1, 200), (SESSION + 2, 300), (SESSION + 3, 400)] {
			start_session(session, slot);
		}
		refused(&valid, InvalidTransaction::Stale);
		assert!(Reported::get().is_empty());
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
fn the_block_that_begins_a_session_belongs_to_the_session_before() {
	new_test_ext().execute_with(|| {
		// The block in slot 60 begins the next session: Aura checked its seal against the
		// authorities before the change, so its slot is this session's.
		start_session(SESSION + 1, 60);
		assert_eq!(SessionSlots::<Test>::get(SESSION + 1).unwrap().first_slot, Slot::from(61));
		assert_ok!(report(alice_in(60), membership()));
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

/// Each corruption of the session records is caught by `try_state` with the invariant it
/// breaks.
#[test]
fn try_state_names_a_broken_invariant() {
	let broken = |corrupt: fn(), invariant: &'static str| {
		genesis_ext().execute_with(|| {
			start_session(SESSION + 1, 200);
			assert_ok!(AuraEquivocation::do_try_state());
			corrupt();
			assert_eq!(AuraEquivocation::do_try_state(), Err(invariant.into()));
		})
	};
	broken(|| SessionSlots::<Test>::remove(SESSION + 1), "the current session is not recorded");
	broken(
		|| {
			let record = SessionSlots::<Test>::get(SESSION).unwrap();
			SessionSlots::<Test>::insert(SESSION + 1 - REPORT_WINDOW, record);
		},
		"a session outside the report window is kept",
	);
	broken(
		|| SessionSlots::<Test>::mutate(SESSION, |r| r.as_mut().unwrap().first_slot = 300.into()),
		"a session begins before the one before it",
	);
}
