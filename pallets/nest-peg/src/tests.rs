//! Peg tests: locks proven against real anchors of the source chain.

use crate::{mock::*, *};
use polkadot_sdk::frame_support::{assert_noop, assert_ok};
use thingschain_primitives::nest::data_record;

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

fn revert_record(byte: u8) -> Vec<u8> {
	record_bytes(RecordKind::Revert, &PegRevert { lock_id: id(byte) })
}

/// Anchors the next epoch of `lock`'s source holding it among the service's own data;
/// returns (epoch, proof).
fn anchor_lock(lock: &PegLock<AccountId>) -> (Epoch, InclusionProof) {
	let records = vec![data_record(b"id:alice"), lock_record(lock), data_record(b"id:bob")];
	let epoch = anchor_records(lock.source, &records);
	(epoch, prove(&records, 1))
}

/// Anchors epochs of the source holding only its own data until `epoch` is anchored.
fn anchor_source_until(epoch: Epoch) {
	while pallet_nest_anchor::Latest::<Test>::get(SOURCE).is_none_or(|latest| latest.epoch < epoch)
	{
		anchor_records(SOURCE, &[data_record(b"id:carol")]);
	}
}

fn confirm() {
	System::set_block_number(System::block_number() + CONFIRMATION);
}

/// Anchors the claim's final epoch and lets its contest period pass.
fn finalize(lock_id: Hash) {
	anchor_source_until(Claims::<Test>::get(SOURCE, lock_id).unwrap().final_epoch);
	System::set_block_number(System::block_number() + CONTEST);
}

fn claim(lock: &PegLock<AccountId>, epoch: Epoch, proof: InclusionProof) -> DispatchResult {
	Peg::claim(signed(3), lock.clone(), epoch, proof)
}

/// Anchors and claims `lock`; returns its epoch.
fn claimed(lock: &PegLock<AccountId>) -> Epoch {
	let (epoch, proof) = anchor_lock(lock);
	confirm();
	assert_ok!(claim(lock, epoch, proof));
	epoch
}

fn contest(byte: u8, epoch: Epoch, proof: InclusionProof) -> DispatchResult {
	Peg::contest(signed(5), SOURCE, id(byte), epoch, proof)
}

#[test]
fn a_proven_lock_is_claimed_after_the_confirmation_period() {
	new_test_ext().execute_with(|| {
		let lock = lock(1);
		assert_eq!(Peg::claimable_from(SOURCE, 0), None, "not anchored");
		let (epoch, proof) = anchor_lock(&lock);
		let anchored_at = System::block_number();
		assert_eq!(Peg::claimable_from(SOURCE, epoch), Some(anchored_at + CONFIRMATION));
		System::set_block_number(System::block_number() + CONFIRMATION - 1);
		assert_noop!(claim(&lock, epoch, proof.clone()), Error::<Test>::ClaimTooEarly);
		confirm();
		assert_ok!(claim(&lock, epoch, proof));
		let claim = Claims::<Test>::get(SOURCE, id(1)).unwrap();
		assert_eq!((claim.holder, claim.status, claim.epoch), (7, ClaimStatus::Claimed, epoch));
		System::assert_last_event(
			Event::Claimed {
				source: SOURCE,
				lock_id: id(1),
				destination: DESTINATION,
				holder: 7,
				final_epoch: epoch + FINALITY_EPOCHS,
				contest_period: CONTEST,
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
fn another_service_cannot_take_a_locks_id_first() {
	new_test_ext().execute_with(|| {
		// Another service sees the source's lock id coming and locks the same id first, for
		// its own account 8: its claim stands, as a lock of that service.
		let squatter = PegLock { source: OTHER, beneficiary: 8, ..lock(1) };
		let (epoch, proof) = anchor_lock(&squatter);
		confirm();
		assert_ok!(claim(&squatter, epoch, proof.clone()));

		// The source's own lock of that id is still claimed, for its beneficiary; the other
		// service cannot pass its lock off as the source's (proofs are checked against the
		// source's anchors).
		let (source_epoch, source_proof) = anchor_lock(&lock(1));
		confirm();
		let forged = PegLock { source: SOURCE, ..squatter.clone() };
		assert_noop!(claim(&forged, source_epoch, proof), Error::<Test>::InvalidProof);
		assert_ok!(claim(&lock(1), source_epoch, source_proof));
		assert_eq!(Claims::<Test>::get(SOURCE, id(1)).unwrap().holder, 7);
		assert_eq!(Claims::<Test>::get(OTHER, id(1)).unwrap().holder, 8);
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
fn a_data_record_cannot_pass_for_a_lock() {
	new_test_ext().execute_with(|| {
		// A user gets data of their choosing into the source's state: the exact bytes of a
		// lock to themselves, and its bare encoding.
		let lock = PegLock { beneficiary: 8, ..lock(1) };
		let records = vec![data_record(&lock_record(&lock)), data_record(&lock.encode())];
		let epoch = anchor_records(SOURCE, &records);
		confirm();
		for index in 0..2 {
			assert_noop!(claim(&lock, epoch, prove(&records, index)), Error::<Test>::InvalidProof);
		}
	});
}

#[test]
fn the_destination_must_be_another_active_service_the_source_names() {
	new_test_ext().execute_with(|| {
		let same = PegLock { destination: SOURCE, ..lock(1) };
		let (epoch, proof) = anchor_lock(&same);
		confirm();
		assert_noop!(claim(&same, epoch, proof), Error::<Test>::SameChain);
		let lock = lock(2);
		let (epoch, proof) = anchor_lock(&lock);
		confirm();
		// The attack: a lock anchored by the source (a stranger's device before devices
		// needed consent) to a destination its owner never named moves nothing.
		assert_ok!(Registry::set_policy(signed(OWNER), SOURCE, false, vec![OTHER]));
		assert_noop!(claim(&lock, epoch, proof.clone()), Error::<Test>::DestinationNotAllowed);
		assert_ok!(Registry::set_policy(signed(OWNER), SOURCE, false, vec![DESTINATION]));
		assert_ok!(Registry::remove_service_node(
			signed(OWNER),
			DESTINATION,
			nodes_of(DESTINATION)[0]
		));
		assert_noop!(claim(&lock, epoch, proof), Error::<Test>::DestinationUnavailable);
	});
}

#[test]
fn a_claim_is_final_only_after_the_sources_next_epochs_are_anchored_and_answerable() {
	new_test_ext().execute_with(|| {
		let epoch = claimed(&lock(1));
		let transfer = || Peg::transfer(signed(7), SOURCE, id(1), 9);
		// However long the source takes to anchor its next epochs (here, a hundred blocks
		// of a stalled source), the value stays frozen: a revert may still come.
		System::set_block_number(System::block_number() + 10 * CONTEST);
		assert_noop!(transfer(), Error::<Test>::NotFinal);
		anchor_source_until(epoch + FINALITY_EPOCHS - 1);
		System::set_block_number(System::block_number() + 10 * CONTEST);
		assert_noop!(transfer(), Error::<Test>::NotFinal);
		// The final epoch is anchored: watchers have the contest period to answer it.
		anchor_source_until(epoch + FINALITY_EPOCHS);
		System::set_block_number(System::block_number() + CONTEST - 1);
		assert_noop!(transfer(), Error::<Test>::NotFinal);
		System::set_block_number(System::block_number() + 1);

		assert_noop!(Peg::transfer(signed(9), SOURCE, id(1), 9), Error::<Test>::NotHolder);
		assert_noop!(Peg::transfer(signed(7), SOURCE, id(2), 9), Error::<Test>::UnknownClaim);
		assert_noop!(Peg::transfer(signed(7), OTHER, id(1), 9), Error::<Test>::UnknownClaim);
		assert_ok!(transfer());
		assert_eq!(Claims::<Test>::get(SOURCE, id(1)).unwrap().holder, 9);
		System::assert_last_event(
			Event::Transferred { source: SOURCE, lock_id: id(1), from: 7, to: 9 }.into(),
		);
	});
}

#[test]
fn a_revert_in_the_locks_own_epoch_voids_the_claim() {
	new_test_ext().execute_with(|| {
		// The source's state both locks and reverts lock 1 in the same epoch.
		let records = vec![lock_record(&lock(1)), revert_record(1)];
		let epoch = anchor_records(SOURCE, &records);
		confirm();
		assert_ok!(claim(&lock(1), epoch, prove(&records, 0)));
		assert_noop!(contest(1, epoch, prove(&records, 0)), Error::<Test>::InvalidProof);
		assert_ok!(contest(1, epoch, prove(&records, 1)));
		assert_eq!(Claims::<Test>::get(SOURCE, id(1)).unwrap().status, ClaimStatus::Contested);
		System::assert_last_event(
			Event::ClaimContested { source: SOURCE, lock_id: id(1), by: 5 }.into(),
		);
		// Void for good: it never becomes final, and cannot be contested again.
		finalize(id(1));
		assert_noop!(Peg::transfer(signed(7), SOURCE, id(1), 9), Error::<Test>::NotClaimed);
		assert_noop!(contest(1, epoch, prove(&records, 1)), Error::<Test>::NotClaimed);
	});
}

#[test]
fn a_revert_in_the_final_epoch_voids_the_claim_within_the_contest_period() {
	new_test_ext().execute_with(|| {
		let epoch = claimed(&lock(1));
		anchor_source_until(epoch + FINALITY_EPOCHS - 1);
		let records = vec![data_record(b"id:dave"), revert_record(1)];
		let last = anchor_records(SOURCE, &records);
		assert_eq!(last, epoch + FINALITY_EPOCHS);
		System::set_block_number(System::block_number() + CONTEST - 1);
		assert_ok!(contest(1, last, prove(&records, 1)));
		assert_eq!(Claims::<Test>::get(SOURCE, id(1)).unwrap().status, ClaimStatus::Contested);
	});
}

#[test]
fn only_reverts_between_the_lock_and_the_final_epoch_count() {
	new_test_ext().execute_with(|| {
		// Claims stay contestable for ten epochs after their final epoch is anchored.
		assert_ok!(Peg::set_periods(RuntimeOrigin::root(), CONFIRMATION, 10 * EPOCH));
		// A revert anchored before the lock (an earlier lock of that id, undone) ...
		let early = vec![revert_record(1)];
		let before = anchor_records(SOURCE, &early);
		let epoch = claimed(&lock(1));
		assert_noop!(contest(1, before, prove(&early, 0)), Error::<Test>::RevertBeforeLock);
		// ... and one after the final epoch, which the claim never waited for.
		anchor_source_until(epoch + FINALITY_EPOCHS);
		let late = vec![revert_record(1)];
		let after = anchor_records(SOURCE, &late);
		assert_noop!(contest(1, after, prove(&late, 0)), Error::<Test>::RevertAfterFinalEpoch);
	});
}

#[test]
fn a_claim_cannot_be_contested_once_final() {
	new_test_ext().execute_with(|| {
		let epoch = claimed(&lock(1));
		anchor_source_until(epoch + FINALITY_EPOCHS - 1);
		let records = vec![revert_record(1)];
		let last = anchor_records(SOURCE, &records);
		System::set_block_number(System::block_number() + CONTEST);
		assert_noop!(contest(1, last, prove(&records, 0)), Error::<Test>::AlreadyFinal);
	});
}

#[test]
fn a_final_value_goes_back_to_its_source_once() {
	new_test_ext().execute_with(|| {
		claimed(&lock(1));
		let back = || Peg::return_to_source(signed(7), SOURCE, id(1), 7);
		assert_noop!(back(), Error::<Test>::NotFinal);
		finalize(id(1));
		assert_ok!(back());
		System::assert_last_event(Event::Returned { source: SOURCE, lock_id: id(1), to: 7 }.into());
		assert_noop!(back(), Error::<Test>::NotClaimed);
		assert_noop!(Peg::transfer(signed(7), SOURCE, id(1), 9), Error::<Test>::NotClaimed);
	});
}

#[test]
fn final_claims_arrive_at_their_destination_once_in_the_order_they_are_settled() {
	new_test_ext().execute_with(|| {
		claimed(&lock(1));
		claimed(&lock(2));
		let settle = |byte| Peg::settle(signed(4), SOURCE, id(byte));
		assert_noop!(settle(1), Error::<Test>::NotFinal);
		assert_noop!(settle(9), Error::<Test>::UnknownClaim);
		assert_eq!(Peg::final_from(SOURCE, id(2)), None, "its final epoch is not anchored");
		anchor_source_until(Claims::<Test>::get(SOURCE, id(2)).unwrap().final_epoch);
		let final_from = Peg::final_from(SOURCE, id(2)).expect("its final epoch is anchored");
		System::set_block_number(final_from - 1);
		assert_noop!(settle(2), Error::<Test>::NotFinal);
		System::set_block_number(final_from);
		assert_ok!(settle(2));
		System::assert_last_event(
			Event::Settled { source: SOURCE, lock_id: id(2), destination: DESTINATION, index: 0 }
				.into(),
		);
		// Lock 1's value changed hands on WebChain first: it arrives for its holder.
		finalize(id(1));
		assert_ok!(Peg::transfer(signed(7), SOURCE, id(1), 9));
		assert_ok!(settle(1));
		assert_noop!(settle(1), Error::<Test>::AlreadySettled);
		assert_eq!(ArrivalCount::<Test>::get(DESTINATION), 2);
		let arrival = |index| Arrivals::<Test>::get(DESTINATION, index).unwrap();
		assert_eq!(arrival(0), PegArrival { index: 0, lock: lock(2), holder: 7 });
		assert_eq!(arrival(1), PegArrival { index: 1, lock: lock(1), holder: 9 });
		assert_eq!(ArrivalCount::<Test>::get(SOURCE), 0);
	});
}

#[test]
fn a_final_claim_waits_for_its_destination_to_be_active_to_arrive() {
	new_test_ext().execute_with(|| {
		claimed(&lock(1));
		finalize(id(1));
		let node = nodes_of(DESTINATION)[0];
		assert_ok!(Registry::remove_service_node(signed(OWNER), DESTINATION, node));
		let settle = || Peg::settle(signed(4), SOURCE, id(1));
		assert_noop!(settle(), Error::<Test>::DestinationUnavailable);
		assert_eq!(ArrivalCount::<Test>::get(DESTINATION), 0);
	});
}

/// The attack: spend a value on WebChain after it arrived on its destination.
#[test]
fn a_settled_value_moves_no_more_on_webchain() {
	new_test_ext().execute_with(|| {
		claimed(&lock(1));
		finalize(id(1));
		assert_ok!(Peg::settle(signed(4), SOURCE, id(1)));
		assert_eq!(Claims::<Test>::get(SOURCE, id(1)).unwrap().status, ClaimStatus::Settled);
		assert_noop!(Peg::transfer(signed(7), SOURCE, id(1), 9), Error::<Test>::NotClaimed);
		let back = Peg::return_to_source(signed(7), SOURCE, id(1), 7);
		assert_noop!(back, Error::<Test>::NotClaimed);
	});
}

/// The attack: wait until the lock's window is anchored and its contest period over, then
/// claim a reverted lock, final at once. A late claim stays contestable the whole period.
#[test]
fn a_late_claim_stays_contestable_for_the_contest_period() {
	new_test_ext().execute_with(|| {
		let (epoch, proof) = anchor_lock(&lock(1));
		let records = vec![revert_record(1)];
		let revert_epoch = anchor_records(SOURCE, &records);
		anchor_source_until(epoch + FINALITY_EPOCHS);
		System::set_block_number(System::block_number() + CONTEST + CONFIRMATION);
		assert_ok!(claim(&lock(1), epoch, proof));
		let claimed_at = System::block_number();
		assert_eq!(Peg::final_from(SOURCE, id(1)), Some(claimed_at + CONTEST));
		System::set_block_number(claimed_at + CONTEST - 1);
		assert_ok!(contest(1, revert_epoch, prove(&records, 0)));
		assert_eq!(Claims::<Test>::get(SOURCE, id(1)).unwrap().status, ClaimStatus::Contested);
	});
}

#[test]
fn a_contested_or_returned_claim_never_arrives() {
	new_test_ext().execute_with(|| {
		let epoch = claimed(&lock(1));
		let records = vec![revert_record(1)];
		let revert_epoch = anchor_records(SOURCE, &records);
		assert!(revert_epoch <= epoch + FINALITY_EPOCHS);
		assert_ok!(contest(1, revert_epoch, prove(&records, 0)));
		System::set_block_number(System::block_number() + CONTEST);
		assert_noop!(Peg::settle(signed(4), SOURCE, id(1)), Error::<Test>::NotClaimed);

		claimed(&lock(2));
		finalize(id(2));
		assert_ok!(Peg::return_to_source(signed(7), SOURCE, id(2), 7));
		assert_noop!(Peg::settle(signed(4), SOURCE, id(2)), Error::<Test>::NotClaimed);
		assert_eq!(ArrivalCount::<Test>::get(DESTINATION), 0);
	});
}

#[test]
fn governance_sets_the_periods_and_each_services_finality_epochs() {
	use polkadot_sdk::sp_runtime::DispatchError::BadOrigin;
	new_test_ext().execute_with(|| {
		assert_eq!(
			(ConfirmationPeriod::<Test>::get(), ContestPeriod::<Test>::get()),
			(CONFIRMATION, CONTEST)
		);
		assert_eq!(Peg::finality_epochs(SOURCE), FINALITY_EPOCHS);
		assert_noop!(Peg::set_periods(signed(1), 1, 2), BadOrigin);
		assert_noop!(Peg::set_finality_epochs(signed(OWNER), SOURCE, 5), BadOrigin);
		assert_noop!(
			Peg::set_finality_epochs(RuntimeOrigin::root(), SOURCE, 0),
			Error::<Test>::NoFinalityEpochs
		);

		let earlier = claimed(&lock(1));
		assert_ok!(Peg::set_periods(RuntimeOrigin::root(), 1, 2));
		System::assert_last_event(Event::PeriodsSet { confirmation: 1, contest: 2 }.into());
		assert_ok!(Peg::set_finality_epochs(RuntimeOrigin::root(), SOURCE, 5));
		System::assert_last_event(Event::FinalityEpochsSet { service: SOURCE, epochs: 5 }.into());
		assert_eq!(Peg::finality_epochs(SOURCE), 5);
		assert_eq!(Peg::finality_epochs(DESTINATION), FINALITY_EPOCHS);

		// New claims take the new terms; the earlier claim keeps its own.
		let lock = lock(2);
		let (epoch, proof) = anchor_lock(&lock);
		System::set_block_number(System::block_number() + 1);
		assert_ok!(claim(&lock, epoch, proof));
		let new = Claims::<Test>::get(SOURCE, id(2)).unwrap();
		assert_eq!((new.final_epoch, new.contest_period), (epoch + 5, 2));
		let old = Claims::<Test>::get(SOURCE, id(1)).unwrap();
		assert_eq!((old.final_epoch, old.contest_period), (earlier + FINALITY_EPOCHS, CONTEST));
	});
}

#[test]
fn a_claim_whose_window_holds_a_skipped_epoch_is_voided() {
	new_test_ext().execute_with(|| {
		let lock = lock(1);
		let epoch = claimed(&lock);
		let final_epoch = Claims::<Test>::get(SOURCE, id(1)).unwrap().final_epoch;
		// The source skips an epoch of the window: a revert it held can never be proven.
		anchor_source_until(final_epoch - 1);
		let skipped = skip_next(SOURCE);
		assert!(skipped > epoch && skipped <= final_epoch);
		// The lock's own epoch was anchored, not skipped.
		assert_noop!(Peg::void_skipped(signed(5), SOURCE, id(1), epoch), Error::<Test>::NotSkipped);
		assert_ok!(Peg::void_skipped(signed(5), SOURCE, id(1), skipped));
		assert_eq!(Claims::<Test>::get(SOURCE, id(1)).unwrap().status, ClaimStatus::Contested);
		// Voided, its value goes nowhere.
		anchor_source_until(final_epoch + 1);
		System::set_block_number(System::block_number() + CONTEST);
		assert_noop!(Peg::transfer(signed(7), SOURCE, id(1), 8), Error::<Test>::NotClaimed);
	});
}

#[test]
fn a_skipped_epoch_after_the_window_voids_nothing() {
	new_test_ext().execute_with(|| {
		let lock = lock(1);
		claimed(&lock);
		let final_epoch = Claims::<Test>::get(SOURCE, id(1)).unwrap().final_epoch;
		anchor_source_until(final_epoch);
		// Within the contest period, an epoch past the window is refused as such...
		assert_noop!(
			Peg::void_skipped(signed(5), SOURCE, id(1), final_epoch + 1),
			Error::<Test>::RevertAfterFinalEpoch
		);
		// ...and once it is skipped (its end is a contest period after the final anchor),
		// the claim is final and stays so.
		let skipped = skip_next(SOURCE);
		assert_noop!(
			Peg::void_skipped(signed(5), SOURCE, id(1), skipped),
			Error::<Test>::AlreadyFinal
		);
		assert_ok!(Peg::transfer(signed(7), SOURCE, id(1), 8));
	});
}

/// Each corruption of the claims' books is caught by `try_state` with the invariant it breaks.
#[test]
fn try_state_names_a_broken_invariant() {
	let broken = |corrupt: fn(), invariant: &'static str| {
		genesis_ext().execute_with(|| {
			claimed(&lock(1));
			assert_ok!(Peg::do_try_state());
			corrupt();
			assert_eq!(Peg::do_try_state(), Err(invariant.into()));
		})
	};
	fn mutate(change: fn(&mut Claim<Test>)) {
		Claims::<Test>::mutate(SOURCE, id(1), |claim| change(claim.as_mut().unwrap()))
	}
	broken(
		|| {
			let claim = Claims::<Test>::take(SOURCE, id(1)).unwrap();
			Claims::<Test>::insert(DESTINATION, id(1), claim);
		},
		"a claim is stored under another lock's key",
	);
	broken(
		|| mutate(|claim| claim.final_epoch = claim.epoch),
		"a claim is final without a later epoch",
	);
	broken(
		|| {
			mutate(|claim| {
				claim.epoch += 100;
				claim.final_epoch += 100;
			})
		},
		"a claim rests on an epoch that is not anchored",
	);
	broken(|| FinalityEpochs::<Test>::insert(SOURCE, 0), "a service's finality epochs are zero");
	broken(
		|| Settled::<Test>::insert(SOURCE, id(1), 0),
		"a claim is marked settled without an arrival, or the other way round",
	);
	broken(
		|| mutate(|claim| claim.status = ClaimStatus::Settled),
		"a claim is marked settled without an arrival, or the other way round",
	);
	fn settled() {
		Settled::<Test>::insert(SOURCE, id(1), 0);
		mutate(|claim| claim.status = ClaimStatus::Settled);
	}
	broken(settled, "a settled claim is not among its destination's arrivals");
	broken(
		|| ArrivalCount::<Test>::insert(DESTINATION, 1),
		"a destination's arrivals are not numbered 0 to its count",
	);
	broken(
		|| {
			settled();
			let arrival = PegArrival { index: 0, lock: lock(1), holder: 9 };
			Arrivals::<Test>::insert(DESTINATION, 0, arrival);
		},
		"an arrival is not its settled claim",
	);
	fn stray() -> PegArrival<AccountId> {
		PegArrival { index: 0, lock: lock(2), holder: 7 }
	}
	broken(|| Arrivals::<Test>::insert(DESTINATION, 0, stray()), "an arrival is past its count");
	broken(
		|| {
			Arrivals::<Test>::insert(DESTINATION, 0, stray());
			ArrivalCount::<Test>::insert(DESTINATION, 1);
		},
		"an arrival is no settled claim's",
	);
}
