//! Payloads tests on the mock runtime, with the real device registry.

use crate::{
	fixtures::{encrypted, reader},
	mock::*,
	*,
};
use codec::Encode;
use polkadot_sdk::frame_support::{
	assert_noop, assert_ok,
	traits::{
		fungible::{Inspect as _, InspectHold as _, Mutate as _},
		ConstU32, Get, Hooks,
	},
	weights::Weight,
};
use proptest::prelude::*;
use thingschain_primitives::envelope::Body;

fn signed(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn grant(i: u32) {
	assert_ok!(Payloads::grant_reader(signed(OWNER), DEVICE, reader(i)));
}

fn public(len: usize) -> Payload {
	Payload::Public(vec![b'p'; len].try_into().unwrap())
}

fn deposit_of(payload: &Payload) -> Balance {
	RECORD_DEPOSIT_BASE + payload.encoded_size() as Balance
}

fn held(owner: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::RecordDeposit.into(), &owner)
}

/// The device stores `payload`; returns the new record's id.
fn store(payload: Payload) -> RecordId {
	let id = Ledgers::<Test>::get(DEVICE).next_record;
	assert_ok!(Payloads::store(signed(DEVICE_KEY), payload));
	id
}

#[test]
fn a_device_stores_an_encrypted_record_paid_by_its_owner() {
	with_device().execute_with(|| {
		grant(0);
		grant(1);
		let payload = encrypted(&[reader(1), reader(0)], MAX_PAYLOAD_LEN, 1);
		let free = Balances::balance(&OWNER);
		assert_eq!(store(payload.clone()), 0);
		let record = Records::<Test>::get(DEVICE, 0).unwrap();
		let deposit = deposit_of(&payload);
		assert_eq!(
			record,
			Record { payload, depositor: OWNER, deposit, stored_at: 1, expires_at: 1 + RETENTION }
		);
		assert_eq!((held(OWNER), Balances::balance(&OWNER)), (deposit, free - deposit));
		// The device's key holds nothing and paid nothing.
		assert_eq!(Balances::balance(&DEVICE_KEY), 0);
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>().last(),
			Some(&Event::RecordStored {
				device: DEVICE,
				record: 0,
				public: false,
				expires_at: 1 + RETENTION
			})
		);
		assert_eq!(store(encrypted(&[reader(0)], 1, 2)), 1);
	});
}

#[test]
fn plain_data_is_stored_only_when_marked_public() {
	with_device().execute_with(|| {
		assert_eq!(store(public(MAX_PAYLOAD_LEN as usize)), 0);
		assert!(matches!(
			System::read_events_for_pallet::<Event<Test>>().last(),
			Some(Event::RecordStored { public: true, .. })
		));
		// Without readers, nothing can be encrypted for anyone.
		assert_noop!(
			Payloads::store(signed(DEVICE_KEY), encrypted(&[reader(0)], 8, 1)),
			Error::<Test>::NotAReader
		);
	});
}

#[test]
fn records_off_chain_keep_only_hash_size_and_locator() {
	with_device().execute_with(|| {
		grant(0);
		let Payload::Encrypted(mut envelope) = encrypted(&[reader(0)], 0, 1) else {
			unreachable!()
		};
		envelope.body = Body::External {
			hash: thingschain_primitives::envelope::ciphertext_hash(b"big ciphertext"),
			size: 10 * 1024 * 1024,
			locator: b"https://nest.example/blobs/1".to_vec().try_into().unwrap(),
		};
		// Ten megabytes off chain are within bounds: the chain keeps a few dozen bytes.
		store(Payload::Encrypted(envelope));
	});
}

#[test]
fn store_errors() {
	with_device().execute_with(|| {
		grant(0);
		grant(1);
		let store_as = |key, payload| Payloads::store(signed(key), payload);
		assert_noop!(store_as(999, public(1)), Error::<Test>::UnknownDevice);
		assert_noop!(store_as(OWNER, public(1)), Error::<Test>::UnknownDevice);
		assert_noop!(
			store_as(DEVICE_KEY, public(MAX_PAYLOAD_LEN as usize + 1)),
			Error::<Test>::PayloadTooLarge
		);
		assert_noop!(
			store_as(DEVICE_KEY, encrypted(&[reader(0)], MAX_PAYLOAD_LEN + 1, 1)),
			Error::<Test>::PayloadTooLarge
		);
		let four: Vec<_> = (0..4).map(reader).collect();
		assert_noop!(
			store_as(DEVICE_KEY, encrypted(&four, 8, 1)),
			Error::<Test>::TooManyRecipients
		);
		assert_noop!(store_as(DEVICE_KEY, encrypted(&[], 8, 1)), Error::<Test>::NoRecipients);
		assert_noop!(
			store_as(DEVICE_KEY, encrypted(&[reader(0), reader(2)], 8, 1)),
			Error::<Test>::NotAReader
		);
		assert_noop!(
			store_as(DEVICE_KEY, encrypted(&[reader(1), reader(1)], 8, 1)),
			Error::<Test>::DuplicateRecipient
		);
		let Payload::Encrypted(mut future) = encrypted(&[reader(0)], 8, 1) else { unreachable!() };
		future.version = 1;
		assert_noop!(
			store_as(DEVICE_KEY, Payload::Encrypted(future)),
			Error::<Test>::UnsupportedVersion
		);
		assert_ok!(DeviceRegistry::suspend(signed(OWNER), DEVICE));
		assert_noop!(store_as(DEVICE_KEY, public(1)), Error::<Test>::DeviceSuspended);
		assert_eq!(Ledgers::<Test>::get(DEVICE), Ledger::default());
	});
}

#[test]
fn an_owner_who_cannot_pay_the_deposit_stores_nothing() {
	new_test_ext().execute_with(|| {
		let poor = 12;
		Balances::set_balance(&poor, DEVICE_DEPOSIT + 5);
		let device = register_device(poor, 600);
		assert!(Payloads::store(signed(600), public(8)).is_err());
		assert_eq!(Records::<Test>::iter_prefix(device).count(), 0);
		assert_eq!(Balances::balance(&poor), 5);
	});
}

/// `payloads` as a batch.
fn batch(payloads: Vec<Payload>) -> BoundedVec<Payload, ConstU32<MAX_BATCH>> {
	payloads.try_into().unwrap()
}

#[test]
fn a_batch_stores_each_record_as_store_would() {
	with_device().execute_with(|| {
		grant(0);
		store(public(1));
		let payloads =
			vec![encrypted(&[reader(0)], 8, 1), public(MAX_PAYLOAD_LEN as usize), public(0)];
		let free = Balances::balance(&OWNER);
		let held_before = held(OWNER);
		assert_ok!(Payloads::store_batch(signed(DEVICE_KEY), batch(payloads.clone())));
		// Consecutive ids after the device's earlier record, each with its own deposit.
		for (record, payload) in (1..).zip(&payloads) {
			let deposit = deposit_of(payload);
			assert_eq!(
				Records::<Test>::get(DEVICE, record),
				Some(Record {
					payload: payload.clone(),
					depositor: OWNER,
					deposit,
					stored_at: 1,
					expires_at: 1 + RETENTION
				})
			);
		}
		assert_eq!(Ledgers::<Test>::get(DEVICE).next_record, 4);
		let total: Balance = payloads.iter().map(deposit_of).sum();
		assert_eq!((held(OWNER), Balances::balance(&OWNER)), (held_before + total, free - total));
		let stored: Vec<_> = System::read_events_for_pallet::<Event<Test>>()
			.into_iter()
			.filter_map(|e| match e {
				Event::RecordStored { record, public, .. } => Some((record, public)),
				_ => None,
			})
			.collect();
		assert_eq!(stored, vec![(0, true), (1, false), (2, true), (3, true)]);
		// Each record of the batch is removed on its own, returning its own deposit.
		assert_ok!(Payloads::remove(signed(OWNER), DEVICE, 2));
		assert_eq!(held(OWNER), held_before + total - deposit_of(&payloads[1]));
	});
}

#[test]
fn a_batch_with_one_bad_payload_stores_nothing() {
	with_device().execute_with(|| {
		grant(0);
		let bad = encrypted(&[reader(1)], 8, 1);
		assert_noop!(
			Payloads::store_batch(signed(DEVICE_KEY), batch(vec![public(1), bad, public(2)])),
			Error::<Test>::NotAReader
		);
		assert_noop!(
			Payloads::store_batch(
				signed(DEVICE_KEY),
				batch(vec![public(1), public(MAX_PAYLOAD_LEN as usize + 1)])
			),
			Error::<Test>::PayloadTooLarge
		);
		assert_noop!(
			Payloads::store_batch(signed(DEVICE_KEY), batch(vec![])),
			Error::<Test>::EmptyBatch
		);
		assert_noop!(
			Payloads::store_batch(signed(OWNER), batch(vec![public(1)])),
			Error::<Test>::UnknownDevice
		);
		assert_ok!(DeviceRegistry::suspend(signed(OWNER), DEVICE));
		assert_noop!(
			Payloads::store_batch(signed(DEVICE_KEY), batch(vec![public(1)])),
			Error::<Test>::DeviceSuspended
		);
	});
}

#[test]
fn an_owner_who_cannot_pay_every_deposit_of_a_batch_stores_none() {
	new_test_ext().execute_with(|| {
		let poor = 12;
		// Enough for one record's deposit, not for two.
		Balances::set_balance(&poor, DEVICE_DEPOSIT + 1 + deposit_of(&public(8)) + 5);
		let device = register_device(poor, 600);
		let free = Balances::balance(&poor);
		assert!(Payloads::store_batch(signed(600), batch(vec![public(8), public(8)])).is_err());
		assert_eq!(Records::<Test>::iter_prefix(device).count(), 0);
		assert_eq!(Ledgers::<Test>::get(device), Ledger::default());
		assert_eq!(Balances::balance(&poor), free);
		assert_ok!(Payloads::store_batch(signed(600), batch(vec![public(8)])));
	});
}

#[test]
fn owners_grant_and_revoke_readers() {
	with_device().execute_with(|| {
		assert_noop!(
			Payloads::grant_reader(signed(OTHER_OWNER), DEVICE, reader(0)),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Payloads::grant_reader(signed(OWNER), 9, reader(0)),
			Error::<Test>::UnknownDevice
		);
		(0..MAX_READERS).for_each(grant);
		assert_noop!(
			Payloads::grant_reader(signed(OWNER), DEVICE, reader(0)),
			Error::<Test>::AlreadyAReader
		);
		assert_noop!(
			Payloads::grant_reader(signed(OWNER), DEVICE, reader(MAX_READERS)),
			Error::<Test>::TooManyReaders
		);
		assert_noop!(
			Payloads::revoke_reader(signed(OTHER_OWNER), DEVICE, reader(0)),
			Error::<Test>::NotOwner
		);
		store(encrypted(&[reader(0)], 8, 1));
		assert_ok!(Payloads::revoke_reader(signed(OWNER), DEVICE, reader(0)));
		assert_noop!(
			Payloads::revoke_reader(signed(OWNER), DEVICE, reader(0)),
			Error::<Test>::NotAReader
		);
		// A revoked reader gets nothing new; what it could read stays.
		assert_noop!(
			Payloads::store(signed(DEVICE_KEY), encrypted(&[reader(0)], 8, 2)),
			Error::<Test>::NotAReader
		);
		assert!(Records::<Test>::contains_key(DEVICE, 0));
		assert_eq!(Readers::<Test>::get(DEVICE).into_inner(), vec![reader(1), reader(2)]);
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>().last(),
			Some(&Event::ReaderRevoked { device: DEVICE, reader: reader(0) })
		);
	});
}

#[test]
fn the_owner_removes_a_record_and_gets_the_deposit_back() {
	with_device().execute_with(|| {
		let free = Balances::balance(&OWNER);
		let record = store(public(20));
		assert_noop!(
			Payloads::remove(signed(OTHER_OWNER), DEVICE, record),
			Error::<Test>::NotOwner
		);
		assert_noop!(Payloads::remove(signed(OWNER), DEVICE, 7), Error::<Test>::UnknownRecord);
		// Even after the device is gone, its records stay its owner's to remove.
		assert_ok!(DeviceRegistry::remove(signed(OWNER), DEVICE));
		assert_ok!(Payloads::remove(signed(OWNER), DEVICE, record));
		assert_eq!((held(OWNER), Balances::balance(&OWNER)), (0, free + DEVICE_DEPOSIT));
		assert!(!Records::<Test>::contains_key(DEVICE, record));
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>().last(),
			Some(&Event::RecordRemoved { device: DEVICE, record })
		);
	});
}

#[test]
fn expired_records_are_reaped_by_anyone_and_the_deposit_returned() {
	with_device().execute_with(|| {
		let free = Balances::balance(&OWNER);
		let record = store(public(20));
		let expires_at = 1 + RETENTION;
		System::set_block_number(expires_at - 1);
		assert_noop!(Payloads::reap(signed(77), DEVICE, record), Error::<Test>::NotExpired);
		System::set_block_number(expires_at);
		assert_ok!(Payloads::reap(signed(77), DEVICE, record));
		assert_eq!((held(OWNER), Balances::balance(&OWNER)), (0, free));
		assert_eq!(Balances::balance(&77), 0);
		assert_noop!(Payloads::reap(signed(77), DEVICE, record), Error::<Test>::UnknownRecord);
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>().last(),
			Some(&Event::RecordReaped { device: DEVICE, record })
		);
	});
}

#[test]
fn a_device_cannot_store_an_envelope_again_or_out_of_sequence() {
	with_device().execute_with(|| {
		grant(0);
		let sealed = |sequence| encrypted(&[reader(0)], 8, sequence);
		store(sealed(5));
		// The same envelope again (a replay by a stolen key), or an older one: refused.
		for stale in [5, 4] {
			assert_noop!(
				Payloads::store(signed(DEVICE_KEY), sealed(stale)),
				Error::<Test>::StaleSequence
			);
		}
		// Within a batch too, and the whole batch is refused.
		assert_noop!(
			Payloads::store_batch(signed(DEVICE_KEY), batch(vec![sealed(7), public(1), sealed(7)])),
			Error::<Test>::StaleSequence
		);
		assert_ok!(Payloads::store_batch(signed(DEVICE_KEY), batch(vec![sealed(6), sealed(9)])));
		assert_eq!(Ledgers::<Test>::get(DEVICE).last_sequence, Some(9));
		// Public data carries no sequence and leaves it as it is.
		store(public(1));
		assert_eq!(Ledgers::<Test>::get(DEVICE).last_sequence, Some(9));
	});
}

#[test]
fn a_stolen_device_key_locks_no_more_than_the_devices_deposit_cap() {
	with_device().execute_with(|| {
		let free = Balances::balance(&OWNER);
		// The thief stores the largest records it may until the cap stops it.
		let largest = public(MAX_PAYLOAD_LEN as usize);
		let per_record = deposit_of(&largest);
		let fit = (MAX_DEPOSITS / per_record) as RecordId;
		for _ in 0..fit {
			store(largest.clone());
		}
		assert_noop!(
			Payloads::store(signed(DEVICE_KEY), largest.clone()),
			Error::<Test>::DepositCapReached
		);
		assert_noop!(
			Payloads::store_batch(signed(DEVICE_KEY), batch(vec![public(1), largest.clone()])),
			Error::<Test>::DepositCapReached
		);
		assert!(held(OWNER) <= MAX_DEPOSITS);
		assert_eq!(held(OWNER), fit as Balance * per_record);
		assert_eq!(Balances::balance(&OWNER), free - held(OWNER));
		assert_eq!(Ledgers::<Test>::get(DEVICE).held, held(OWNER));
		// Deleting a record makes room again.
		assert_ok!(Payloads::remove(signed(OWNER), DEVICE, 0));
		store(largest);
	});
}

/// Runs `on_idle` at the current block with room for `steps` reaping steps.
fn idle(steps: u64) -> Weight {
	let step =
		<() as WeightInfo>::reap_expired_record().max(<() as WeightInfo>::skip_reaped_block());
	let db: polkadot_sdk::frame_support::weights::RuntimeDbWeight =
		<Test as frame_system::Config>::DbWeight::get();
	let limit = db.reads_writes(1, 1).saturating_add(step.saturating_mul(steps));
	<Payloads as Hooks<u64>>::on_idle(System::block_number(), limit)
}

/// Advances to block `n`, running `on_idle` with plenty of room at every block on the way.
fn run_to(n: u64) {
	while System::block_number() < n {
		idle(1_000);
		System::set_block_number(System::block_number() + 1);
	}
}

#[test]
fn expired_records_are_deleted_in_on_idle_oldest_first_resuming_where_it_stopped() {
	with_device().execute_with(|| {
		let free = Balances::balance(&OWNER);
		store(public(1));
		assert_ok!(Payloads::store_batch(signed(DEVICE_KEY), batch(vec![public(2), public(3)])));
		System::set_block_number(2);
		store(public(4));
		run_to(1 + RETENTION);
		// Every block before was looked at: nothing expired there.
		assert_eq!(ReapCursor::<Test>::get(), 1 + RETENTION);
		assert_eq!(Records::<Test>::iter_prefix(DEVICE).count(), 4);
		// Room for two steps: the two oldest go; the cursor stays on their block.
		let used = idle(2);
		assert!(!used.is_zero());
		let remaining: Vec<RecordId> = Records::<Test>::iter_key_prefix(DEVICE).collect();
		assert_eq!(remaining.len(), 2);
		assert!(remaining.contains(&2) && remaining.contains(&3));
		assert_eq!(ReapCursor::<Test>::get(), 1 + RETENTION);
		// No room for a step: nothing happens, and nothing is charged.
		assert_eq!(idle(0), Weight::zero());
		idle(1_000);
		assert_eq!(Records::<Test>::iter_prefix(DEVICE).count(), 1);
		// The record of the next block waits for its own expiry.
		System::set_block_number(2 + RETENTION);
		idle(1_000);
		assert_eq!(Records::<Test>::iter_prefix(DEVICE).count(), 0);
		assert_eq!((held(OWNER), Balances::balance(&OWNER)), (0, free));
		let reaped = System::read_events_for_pallet::<Event<Test>>()
			.into_iter()
			.filter(|e| matches!(e, Event::RecordReaped { .. }))
			.count();
		assert_eq!(reaped, 4);
		assert_eq!(Expiries::<Test>::iter().count(), 0);
	});
}

#[test]
fn a_record_removed_or_reaped_by_hand_is_skipped_by_on_idle() {
	with_device().execute_with(|| {
		let (first, second) = (store(public(1)), store(public(2)));
		assert_ok!(Payloads::remove(signed(OWNER), DEVICE, first));
		run_to(1 + RETENTION);
		assert_ok!(Payloads::reap(signed(77), DEVICE, second));
		idle(1_000);
		assert_eq!(ReapCursor::<Test>::get(), 2 + RETENTION);
		assert_eq!(Expiries::<Test>::iter().count(), 0);
		assert_eq!(held(OWNER), 0);
	});
}

#[test]
fn removing_a_device_drops_its_readers_and_its_ledger_with_its_last_record() {
	with_device().execute_with(|| {
		grant(0);
		let record = store(public(1));
		assert_ok!(DeviceRegistry::remove(signed(OWNER), DEVICE));
		assert!(!Readers::<Test>::contains_key(DEVICE));
		// Its record stays, its owner's to remove, until it expires.
		assert_eq!(Ledgers::<Test>::get(DEVICE).live, 1);
		run_to(1 + RETENTION);
		idle(1_000);
		assert!(!Records::<Test>::contains_key(DEVICE, record));
		assert!(!Ledgers::<Test>::contains_key(DEVICE));
		assert_eq!(held(OWNER), 0);
		// A device without records leaves nothing behind at once.
		let other = register_device(OWNER, 600);
		assert_ok!(Payloads::grant_reader(signed(OWNER), other, reader(0)));
		assert_ok!(DeviceRegistry::remove(signed(OWNER), other));
		assert!(!Readers::<Test>::contains_key(other));
		assert!(!Ledgers::<Test>::contains_key(other));
	});
}

#[derive(Clone, Debug)]
enum Op {
	Store(usize),
	StoreBatch(Vec<usize>),
	Remove(RecordId),
	Reap(RecordId),
	Wait(u64),
	Idle(u64),
}

fn op() -> impl Strategy<Value = Op> {
	prop_oneof![
		(0..80usize).prop_map(Op::Store),
		prop::collection::vec(0..70usize, 0..=MAX_BATCH as usize).prop_map(Op::StoreBatch),
		(0..12u64).prop_map(Op::Remove),
		(0..12u64).prop_map(Op::Reap),
		(1..60u64).prop_map(Op::Wait),
		(0..4u64).prop_map(Op::Idle),
	]
}

/// Each corruption of the records' books is caught by `try_state` with the invariant it
/// breaks.
#[test]
fn try_state_names_a_broken_invariant() {
	let broken = |corrupt: fn(RecordId), invariant: &'static str| {
		genesis_ext().execute_with(|| {
			assert_eq!(register_device(OWNER, DEVICE_KEY), DEVICE);
			let record = store(public(8));
			assert_ok!(Payloads::do_try_state());
			corrupt(record);
			assert_eq!(Payloads::do_try_state(), Err(invariant.into()));
		})
	};
	broken(
		|_| Ledgers::<Test>::mutate(DEVICE, |ledger| ledger.live += 1),
		"a ledger's live count is not its records",
	);
	broken(
		|record| Records::<Test>::mutate(DEVICE, record, |r| r.as_mut().unwrap().deposit += 1),
		"a ledger's held deposits are not its records'",
	);
	broken(
		|_| Expiries::<Test>::remove(1 + RETENTION, DEVICE),
		"a record is not in the range of its expiry block",
	);
	broken(
		|_| Readers::<Test>::insert(DEVICE + 1, BoundedVec::new()),
		"a removed device's readers are kept",
	);
}

proptest! {
	/// Whatever is stored, removed, reaped (by hand or in `on_idle`) or refused: the owner's
	/// held record deposits are exactly the deposits of the records that exist, within the
	/// device's cap, and the ledger counts them (the pallet's invariants hold after every
	/// step); every record is reaped once `on_idle` had room after its expiry; no token is
	/// created or destroyed.
	#[test]
	fn deposits_match_the_records_that_exist(ops in prop::collection::vec(op(), 1..40)) {
		with_device().execute_with(|| {
			let issuance = Balances::total_issuance();
			for op in ops {
				let _ = match op {
					Op::Store(len) if len <= MAX_PAYLOAD_LEN as usize =>
						Payloads::store(signed(DEVICE_KEY), public(len)),
					Op::Store(len) => {
						let refused = Payloads::store(signed(DEVICE_KEY), public(len));
						prop_assert_eq!(refused, Err(Error::<Test>::PayloadTooLarge.into()));
						refused
					},
					Op::StoreBatch(lens) => {
						let fits = !lens.is_empty() && lens.iter().all(|len| *len <= MAX_PAYLOAD_LEN as usize);
						let next = Ledgers::<Test>::get(DEVICE).next_record;
						let stored = Payloads::store_batch(
							signed(DEVICE_KEY),
							batch(lens.iter().map(|len| public(*len)).collect()),
						);
						// A batch that fits may still find the owner out of funds: all or nothing.
						prop_assert!(fits || stored.is_err());
						let added = if stored.is_ok() { lens.len() as RecordId } else { 0 };
						prop_assert_eq!(Ledgers::<Test>::get(DEVICE).next_record, next + added);
						stored
					},
					Op::Remove(record) => Payloads::remove(signed(OWNER), DEVICE, record),
					Op::Reap(record) => {
						let expired = Records::<Test>::get(DEVICE, record)
							.map(|r| System::block_number() >= r.expires_at);
						let reaped = Payloads::reap(signed(OTHER_OWNER), DEVICE, record);
						prop_assert_eq!(reaped.is_ok(), expired == Some(true));
						reaped
					},
					Op::Wait(blocks) => {
						run_to(System::block_number() + blocks);
						Ok(())
					},
					Op::Idle(steps) => {
						idle(steps);
						Ok(())
					},
				};
				prop_assert!(held(OWNER) <= MAX_DEPOSITS);
				prop_assert_eq!(Payloads::do_try_state(), Ok(()));
			}
			let ledger = Ledgers::<Test>::get(DEVICE);
			prop_assert_eq!(ledger.held, held(OWNER));
			prop_assert_eq!(ledger.live, Records::<Test>::iter_prefix(DEVICE).count() as u64);
			idle(1_000);
			let now = System::block_number();
			prop_assert!(Records::<Test>::iter_prefix_values(DEVICE).all(|r| r.expires_at > now));
			let deposits: Balance = Records::<Test>::iter_prefix_values(DEVICE)
				.map(|r| {
					assert_eq!(r.deposit, deposit_of(&r.payload));
					r.deposit
				})
				.sum();
			prop_assert_eq!(held(OWNER), deposits);
			prop_assert_eq!(held(OTHER_OWNER), 0);
			prop_assert_eq!(Balances::total_issuance(), issuance);
			Ok(())
		})?;
	}
}
