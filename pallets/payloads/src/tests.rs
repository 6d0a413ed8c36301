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
		ConstU32,
	},
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
	let id = NextRecordId::<Test>::get(DEVICE);
	assert_ok!(Payloads::store(signed(DEVICE_KEY), payload));
	id
}

#[test]
fn a_device_stores_an_encrypted_record_paid_by_its_owner() {
	with_device().execute_with(|| {
		grant(0);
		grant(1);
		let payload = encrypted(&[reader(1), reader(0)], MAX_PAYLOAD_LEN);
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
			payload_events().last(),
			Some(&Event::RecordStored {
				device: DEVICE,
				record: 0,
				public: false,
				expires_at: 1 + RETENTION
			})
		);
		assert_eq!(store(encrypted(&[reader(0)], 1)), 1);
	});
}

#[test]
fn plain_data_is_stored_only_when_marked_public() {
	with_device().execute_with(|| {
		assert_eq!(store(public(MAX_PAYLOAD_LEN as usize)), 0);
		assert!(matches!(payload_events().last(), Some(Event::RecordStored { public: true, .. })));
		// Without readers, nothing can be encrypted for anyone.
		assert_noop!(
			Payloads::store(signed(DEVICE_KEY), encrypted(&[reader(0)], 8)),
			Error::<Test>::NotAReader
		);
	});
}

#[test]
fn records_off_chain_keep_only_hash_size_and_locator() {
	with_device().execute_with(|| {
		grant(0);
		let Payload::Encrypted(mut envelope) = encrypted(&[reader(0)], 0) else { unreachable!() };
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
			store_as(DEVICE_KEY, encrypted(&[reader(0)], MAX_PAYLOAD_LEN + 1)),
			Error::<Test>::PayloadTooLarge
		);
		let four: Vec<_> = (0..4).map(reader).collect();
		assert_noop!(store_as(DEVICE_KEY, encrypted(&four, 8)), Error::<Test>::TooManyRecipients);
		assert_noop!(store_as(DEVICE_KEY, encrypted(&[], 8)), Error::<Test>::NoRecipients);
		assert_noop!(
			store_as(DEVICE_KEY, encrypted(&[reader(0), reader(2)], 8)),
			Error::<Test>::NotAReader
		);
		assert_noop!(
			store_as(DEVICE_KEY, encrypted(&[reader(1), reader(1)], 8)),
			Error::<Test>::DuplicateRecipient
		);
		let Payload::Encrypted(mut future) = encrypted(&[reader(0)], 8) else { unreachable!() };
		future.version = 2;
		assert_noop!(
			store_as(DEVICE_KEY, Payload::Encrypted(future)),
			Error::<Test>::UnsupportedVersion
		);
		assert_ok!(DeviceRegistry::suspend(signed(OWNER), DEVICE));
		assert_noop!(store_as(DEVICE_KEY, public(1)), Error::<Test>::DeviceSuspended);
		assert_eq!(NextRecordId::<Test>::get(DEVICE), 0);
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
			vec![encrypted(&[reader(0)], 8), public(MAX_PAYLOAD_LEN as usize), public(0)];
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
		assert_eq!(NextRecordId::<Test>::get(DEVICE), 4);
		let total: Balance = payloads.iter().map(deposit_of).sum();
		assert_eq!((held(OWNER), Balances::balance(&OWNER)), (held_before + total, free - total));
		let stored: Vec<_> = payload_events()
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
		let bad = encrypted(&[reader(1)], 8);
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
		assert_eq!(NextRecordId::<Test>::get(device), 0);
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
		store(encrypted(&[reader(0)], 8));
		assert_ok!(Payloads::revoke_reader(signed(OWNER), DEVICE, reader(0)));
		assert_noop!(
			Payloads::revoke_reader(signed(OWNER), DEVICE, reader(0)),
			Error::<Test>::NotAReader
		);
		// A revoked reader gets nothing new; what it could read stays.
		assert_noop!(
			Payloads::store(signed(DEVICE_KEY), encrypted(&[reader(0)], 8)),
			Error::<Test>::NotAReader
		);
		assert!(Records::<Test>::contains_key(DEVICE, 0));
		assert_eq!(Readers::<Test>::get(DEVICE).into_inner(), vec![reader(1), reader(2)]);
		assert_eq!(
			payload_events().last(),
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
		assert_eq!(payload_events().last(), Some(&Event::RecordRemoved { device: DEVICE, record }));
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
		assert_eq!(payload_events().last(), Some(&Event::RecordReaped { device: DEVICE, record }));
	});
}

#[derive(Clone, Debug)]
enum Op {
	Store(usize),
	StoreBatch(Vec<usize>),
	Remove(RecordId),
	Reap(RecordId),
	Wait(u64),
}

fn op() -> impl Strategy<Value = Op> {
	prop_oneof![
		(0..80usize).prop_map(Op::Store),
		prop::collection::vec(0..70usize, 0..=MAX_BATCH as usize).prop_map(Op::StoreBatch),
		(0..12u64).prop_map(Op::Remove),
		(0..12u64).prop_map(Op::Reap),
		(1..60u64).prop_map(Op::Wait),
	]
}

proptest! {
	/// Whatever is stored, removed, reaped or refused: the owner's held record deposits are
	/// exactly the deposits of the records that exist, no record outlives a reap after its
	/// expiry, and no token is created or destroyed.
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
						let next = NextRecordId::<Test>::get(DEVICE);
						let stored = Payloads::store_batch(
							signed(DEVICE_KEY),
							batch(lens.iter().map(|len| public(*len)).collect()),
						);
						// A batch that fits may still find the owner out of funds: all or nothing.
						prop_assert!(fits || stored.is_err());
						let added = if stored.is_ok() { lens.len() as RecordId } else { 0 };
						prop_assert_eq!(NextRecordId::<Test>::get(DEVICE), next + added);
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
						System::set_block_number(System::block_number() + blocks);
						Ok(())
					},
				};
			}
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
