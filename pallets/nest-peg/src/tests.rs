//! Peg tests: locks proven against real anchors of the source chain.

use crate::{mock::*, *};
use polkadot_sdk::frame_support::{assert_noop, assert_ok};

fn signed(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

/// A lock of record `lock` from the source to the destination, for account 7.
fn lock(byte: u8) -> PegLock<AccountId> {
	PegLock {
		lock_id: id(byte),
		source: SOURCE,
		destination: DESTINATION,
		beneficiary: 7,
		payload: id(0xee),
	}
}

fn lock_record(lock: &PegLock<AccountId>) -> Vec<u8> {
	record_bytes(RecordKind::Lock, lock)
}

/// Anchors a source epoch holding `lock` among other records; returns (epoch, proof).
fn anchor_lock(lock: &PegLock<AccountId>) -> (Epoch, InclusionProof) {
	let records = vec![b"id:alice".to_vec(), lock_record(lock), b"id:bob".to_vec()];
	let epoch = anchor_records(SOURCE, &records);
	(epoch, prove(&records, 1))
}

fn confirm() {
	System::set_block_number(System::block_number() + CONFIRMATION);
}

fn end_contest() {
	System::set_block_number(System::block_number() + CONTEST);
}

fn claim(lock: &PegLock<AccountId>, epoch: Epoch, proof: InclusionProof) -> DispatchResult {
	Peg::claim(signed(3), lock.clone(), epoch, proof)
}

#[test]
fn a_proven_lock_is_claimed_after_the_confirmation_period() {
	new_test_ext().execute_with(|| {
		let lock = lock(1);
		let (epoch, proof) = anchor_lock(&lock);
		System::set_block_number(System::block_number() + CONFIRMATION - 1);
		assert_noop!(claim(&lock, epoch, proof.clone()), Error::<Test>::ClaimTooEarly);
		confirm();
		assert_ok!(claim(&lock, epoch, proof));
		let claim = Claims::<Test>::get(id(1)).unwrap();
		assert_eq!((claim.holder, claim.status, claim.epoch), (7, ClaimStatus::Claimed, epoch));
		System::assert_last_event(
			Event::Claimed {
				lock_id: id(1),
				source: SOURCE,
				destination: DESTINATION,
				holder: 7,
				contest_ends: System::block_number() + CONTEST,
			}
			.into(),
		);
	});
}

#[test]
fn a_lock_is_claimed_once_ever() {
	new_test_ext().execute_with(|| {
		let lock = lock(1);
		let (epoch, proof) = anchor_lock(&lock);
		confirm();
		assert_ok!(claim(&lock, epoch, proof.clone()));
		assert_noop!(claim(&lock, epoch, proof.clone()), Error::<Test>::AlreadyClaimed);
		// Proving the same lock again in a later anchor does not help either.
		let (later, later_proof) = anchor_lock(&lock);
		confirm();
		assert_noop!(claim(&lock, later, later_proof), Error::<Test>::AlreadyClaimed);
	});
}

#[test]
fn claims_need_a_valid_proof_against_an_anchor() {
	new_test_ext().execute_with(|| {
		let lock = lock(1);
		assert_noop!(
			claim(&lock, 0, prove(&[lock_record(&lock)], 0)),
			Error::<Test>::UnknownAnchor
		);
		let (epoch, proof) = anchor_lock(&lock);
		confirm();
		let forged = PegLock { beneficiary: 8, ..lock.clone() };
		assert_noop!(claim(&forged, epoch, proof.clone()), Error::<Test>::InvalidProof);
		let wrong_place = InclusionProof { leaf_index: 0, ..proof };
		assert_noop!(claim(&lock, epoch, wrong_place), Error::<Test>::InvalidProof);
	});
}

#[test]
fn the_destination_must_be_another_active_service() {
	new_test_ext().execute_with(|| {
		let same = PegLock { destination: SOURCE, ..lock(1) };
		let (epoch, proof) = anchor_lock(&same);
		confirm();
		assert_noop!(claim(&same, epoch, proof), Error::<Test>::SameChain);
		let lock = lock(2);
		let (epoch, proof) = anchor_lock(&lock);
		confirm();
		assert_ok!(Registry::remove_service_node(
			signed(OWNER),
			DESTINATION,
			nodes_of(DESTINATION)[0]
		));
		assert_noop!(claim(&lock, epoch, proof), Error::<Test>::DestinationUnavailable);
	});
}

#[test]
fn the_value_is_frozen_during_the_contest_period_then_transferable() {
	new_test_ext().execute_with(|| {
		let lock = lock(1);
		let (epoch, proof) = anchor_lock(&lock);
		confirm();
		assert_ok!(claim(&lock, epoch, proof));
		assert_noop!(Peg::transfer(signed(7), id(1), 9), Error::<Test>::StillInContestPeriod);
		end_contest();
		assert_noop!(Peg::transfer(signed(9), id(1), 9), Error::<Test>::NotHolder);
		assert_noop!(Peg::transfer(signed(7), id(2), 9), Error::<Test>::UnknownClaim);
		assert_ok!(Peg::transfer(signed(7), id(1), 9));
		assert_eq!(Claims::<Test>::get(id(1)).unwrap().holder, 9);
		System::assert_last_event(Event::Transferred { lock_id: id(1), from: 7, to: 9 }.into());
	});
}

#[test]
fn a_revert_in_a_later_anchor_voids_the_claim() {
	new_test_ext().execute_with(|| {
		let lock = lock(1);
		let (epoch, proof) = anchor_lock(&lock);
		confirm();
		assert_ok!(claim(&lock, epoch, proof.clone()));
		let revert = record_bytes(RecordKind::Revert, &PegRevert { lock_id: id(1) });
		// A revert in the same anchor as the lock is not later.
		assert_noop!(Peg::contest(signed(5), id(1), epoch, proof), Error::<Test>::RevertNotLater);
		let records = vec![b"id:carol".to_vec(), revert.clone()];
		let later = anchor_records(SOURCE, &records);
		assert_noop!(
			Peg::contest(signed(5), id(1), later, prove(&records, 0)),
			Error::<Test>::InvalidProof
		);
		assert_ok!(Peg::contest(signed(5), id(1), later, prove(&records, 1)));
		assert_eq!(Claims::<Test>::get(id(1)).unwrap().status, ClaimStatus::Contested);
		System::assert_last_event(Event::ClaimContested { lock_id: id(1), by: 5 }.into());
		end_contest();
		assert_noop!(Peg::transfer(signed(7), id(1), 9), Error::<Test>::NotClaimed);
		assert_noop!(
			Peg::contest(signed(5), id(1), later, prove(&records, 1)),
			Error::<Test>::NotClaimed
		);
	});
}

#[test]
fn a_claim_cannot_be_contested_once_final() {
	new_test_ext().execute_with(|| {
		let lock = lock(1);
		let (epoch, proof) = anchor_lock(&lock);
		confirm();
		assert_ok!(claim(&lock, epoch, proof));
		end_contest();
		let records = vec![record_bytes(RecordKind::Revert, &PegRevert { lock_id: id(1) })];
		let later = anchor_records(SOURCE, &records);
		assert_noop!(
			Peg::contest(signed(5), id(1), later, prove(&records, 0)),
			Error::<Test>::ContestPeriodOver
		);
	});
}

#[test]
fn a_pegged_value_only_returns_to_its_source() {
	new_test_ext().execute_with(|| {
		let lock = lock(1);
		let (epoch, proof) = anchor_lock(&lock);
		confirm();
		assert_ok!(claim(&lock, epoch, proof));
		assert_noop!(
			Peg::return_to_source(signed(7), id(1), SOURCE, 7),
			Error::<Test>::StillInContestPeriod
		);
		end_contest();
		assert_noop!(
			Peg::return_to_source(signed(7), id(1), DESTINATION, 7),
			Error::<Test>::WrongReturnChain
		);
		assert_ok!(Peg::return_to_source(signed(7), id(1), SOURCE, 7));
		System::assert_last_event(Event::Returned { lock_id: id(1), source: SOURCE, to: 7 }.into());
		assert_noop!(Peg::transfer(signed(7), id(1), 9), Error::<Test>::NotClaimed);
	});
}

#[test]
fn governance_sets_the_periods() {
	new_test_ext().execute_with(|| {
		assert_eq!(
			(ConfirmationPeriod::<Test>::get(), ContestPeriod::<Test>::get()),
			(CONFIRMATION, CONTEST)
		);
		assert_noop!(
			Peg::set_periods(signed(1), 1, 2),
			polkadot_sdk::sp_runtime::DispatchError::BadOrigin
		);
		assert_ok!(Peg::set_periods(RuntimeOrigin::root(), 1, 2));
		System::assert_last_event(Event::PeriodsSet { confirmation: 1, contest: 2 }.into());
		let lock = lock(1);
		let (epoch, proof) = anchor_lock(&lock);
		System::set_block_number(System::block_number() + 1);
		assert_ok!(claim(&lock, epoch, proof));
		assert_eq!(Claims::<Test>::get(id(1)).unwrap().contest_ends, System::block_number() + 2);
	});
}
