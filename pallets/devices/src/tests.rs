//! Device registry tests on the mock runtime.

use crate::{mock::*, *};
use polkadot_sdk::frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect as _, InspectHold as _},
};
use polkadot_sdk::sp_runtime::testing::TestSignature;
use proptest::prelude::*;

fn signed(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn limits(max_transactions: u32, max_fees: Balance) -> FeeLimits<Balance, u64> {
	FeeLimits { window: 10, max_transactions, max_fees, max_deposits: 100 }
}

/// Registers a sensor signing with `key` for `owner`, in service 0 (`OWNER`'s); returns its
/// id.
fn register(owner: AccountId, key: AccountId) -> DeviceId {
	register_into(owner, key, 0)
}

fn admitted(service: ServiceId, may_lock: bool) -> Membership {
	Membership { service, status: MemberStatus::Admitted { may_lock } }
}

fn requested(service: ServiceId) -> Membership {
	Membership { service, status: MemberStatus::Requested }
}

/// Device `id`'s membership.
fn membership(id: DeviceId) -> Option<Membership> {
	Devices::<Test>::get(id).unwrap().service
}

/// Registers a sensor signing with `key` for `owner`, asking to join `service`; returns its
/// id.
fn register_into(owner: AccountId, key: AccountId, service: ServiceId) -> DeviceId {
	let id = NextDeviceId::<Test>::get();
	assert_ok!(DeviceRegistry::register(
		signed(owner),
		key,
		proof(owner, key),
		DeviceKind::Sensor,
		Some(service),
		b"thermometer".to_vec(),
		100,
		limits(5, 20),
	));
	id
}

fn held(owner: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::DeviceDeposit.into(), &owner)
}

fn sufficients(key: AccountId) -> u32 {
	System::account(key).sufficients
}

#[test]
fn an_owner_registers_a_device_that_can_sign_without_tokens() {
	new_test_ext().execute_with(|| {
		let id = register(OWNER, 500);
		let device = Devices::<Test>::get(id).unwrap();
		assert_eq!((device.owner, device.key, device.kind), (OWNER, 500, DeviceKind::Sensor));
		// Service 0 is its owner's: the device is admitted, without the right to lock value.
		assert_eq!(
			(device.service, device.status),
			(Some(admitted(0, false)), DeviceStatus::Active)
		);
		assert_eq!(
			(device.retention, device.limits, device.deposit),
			(100, limits(5, 20), DEPOSIT)
		);
		assert_eq!(DeviceOfKey::<Test>::get(500), Some(id));
		assert_eq!(held(OWNER), DEPOSIT);
		// The key holds nothing, yet exists on chain: it has a nonce and can sign.
		assert_eq!(Balances::balance(&500), 0);
		assert!(System::account_exists(&500));
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>(),
			vec![
				Event::DeviceRegistered { id, owner: OWNER, key: 500 },
				Event::DeviceAdmitted { id, service: 0, may_lock: false }
			]
		);
		assert_eq!(
			DeviceRegistry::active_device(&500),
			Ok(ActiveDevice { id, owner: OWNER, retention: 100, limits: limits(5, 20) })
		);
		assert_eq!(<DeviceRegistry as DeviceInspect<_, _, _>>::owner(id), Some(OWNER));
	});
}

#[test]
fn registration_errors() {
	new_test_ext().execute_with(|| {
		let try_register = |owner, key, service, metadata: &[u8], retention, window| {
			DeviceRegistry::register(
				signed(owner),
				key,
				proof(owner, key),
				DeviceKind::Gateway,
				service,
				metadata.to_vec(),
				retention,
				FeeLimits { window, max_transactions: 1, max_fees: 1, max_deposits: 1 },
			)
		};
		register(OWNER, 500);
		assert_noop!(try_register(OTHER_OWNER, 500, None, b"", 100, 10), Error::<Test>::KeyInUse);
		assert_noop!(
			try_register(OWNER, 501, None, &[0; 17], 100, 10),
			Error::<Test>::MetadataTooLong
		);
		assert_noop!(
			try_register(OWNER, 501, Some(3), b"", 100, 10),
			Error::<Test>::UnknownService
		);
		assert_noop!(
			try_register(OWNER, 501, None, b"", MIN_RETENTION - 1, 10),
			Error::<Test>::RetentionOutOfRange
		);
		assert_noop!(
			try_register(OWNER, 501, None, b"", MAX_RETENTION + 1, 10),
			Error::<Test>::RetentionOutOfRange
		);
		assert_noop!(try_register(OWNER, 501, None, b"", 100, 0), Error::<Test>::EmptyFeeWindow);
		// An owner without the deposit registers nothing.
		assert!(try_register(7, 501, None, b"", 100, 10).is_err());
		assert!(!DeviceOfKey::<Test>::contains_key(501));
		// At the bounds, and without a service, it works.
		assert_ok!(try_register(OWNER, 501, None, &[0; 16], MIN_RETENTION, 1));
		assert_ok!(try_register(OWNER, 502, Some(1), b"", MAX_RETENTION, 1));
	});
}

/// The attack: a stranger registers a device into a service it has nothing to do with, and
/// admits it itself. It only asks to join; the service's owner alone admits it.
#[test]
fn a_stranger_s_device_only_asks_to_join_a_closed_service() {
	new_test_ext().execute_with(|| {
		let id = register_into(OTHER_OWNER, 500, 1);
		assert_eq!(membership(id), Some(requested(1)));
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>().last(),
			Some(&Event::JoinRequested { id, service: 1 })
		);
		assert_noop!(
			DeviceRegistry::admit(signed(OTHER_OWNER), id, 1, true),
			Error::<Test>::NotServiceOwner
		);
		assert_noop!(
			DeviceRegistry::admit(signed(OWNER), id, 1, false),
			Error::<Test>::NotServiceOwner
		);
		// An admission names the service: one meant for open service 2, of the same owner,
		// admits nothing here (a device moved while a multisig approved the call).
		assert_noop!(
			DeviceRegistry::admit(signed(SERVICE_OWNER), id, 2, true),
			Error::<Test>::NotInService
		);
		assert_eq!(membership(id), Some(requested(1)));

		// The service's owner admits it, letting it lock value; then takes the right back.
		assert_ok!(DeviceRegistry::admit(signed(SERVICE_OWNER), id, 1, true));
		assert_eq!(membership(id), Some(admitted(1, true)));
		assert_ok!(DeviceRegistry::admit(signed(SERVICE_OWNER), id, 1, false));
		assert_eq!(membership(id), Some(admitted(1, false)));
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>().last(),
			Some(&Event::DeviceAdmitted { id, service: 1, may_lock: false })
		);
		// A device without a service, or no device, is admitted to nothing.
		let loner = register(OWNER, 501);
		assert_ok!(DeviceRegistry::leave_service(signed(OWNER), loner));
		assert_noop!(
			DeviceRegistry::admit(signed(OWNER), loner, 0, false),
			Error::<Test>::NotInService
		);
		assert_noop!(
			DeviceRegistry::admit(signed(SERVICE_OWNER), 9, 1, false),
			Error::<Test>::UnknownDevice
		);
	});
}

#[test]
fn an_open_service_admits_every_device_but_none_may_lock_until_its_owner_says() {
	new_test_ext().execute_with(|| {
		let id = register_into(OTHER_OWNER, 500, 2);
		assert_eq!(membership(id), Some(admitted(2, false)));
		assert_ok!(DeviceRegistry::admit(signed(SERVICE_OWNER), id, 2, true));
		assert_eq!(membership(id), Some(admitted(2, true)));
	});
}

#[test]
fn a_device_joins_and_leaves_by_its_owner_or_its_service_s_owner() {
	new_test_ext().execute_with(|| {
		let id = register_into(OTHER_OWNER, 500, 1);
		assert_noop!(
			DeviceRegistry::join_service(signed(OTHER_OWNER), id, 2),
			Error::<Test>::AlreadyInService
		);
		// A third party takes nobody's device out.
		assert_noop!(
			DeviceRegistry::leave_service(signed(OWNER), id),
			Error::<Test>::NotOwnerOrServiceOwner
		);
		// Its owner withdraws the request, then asks again.
		assert_ok!(DeviceRegistry::leave_service(signed(OTHER_OWNER), id));
		assert_eq!(membership(id), None);
		assert_noop!(
			DeviceRegistry::leave_service(signed(OTHER_OWNER), id),
			Error::<Test>::NotInService
		);
		assert_noop!(DeviceRegistry::join_service(signed(OWNER), id, 1), Error::<Test>::NotOwner);
		assert_noop!(
			DeviceRegistry::join_service(signed(OTHER_OWNER), id, 3),
			Error::<Test>::UnknownService
		);
		assert_ok!(DeviceRegistry::join_service(signed(OTHER_OWNER), id, 1));
		assert_eq!(membership(id), Some(requested(1)));
		assert_ok!(DeviceRegistry::admit(signed(SERVICE_OWNER), id, 1, true));

		// The service's owner removes it; the nodes see the event at a known block.
		assert_ok!(DeviceRegistry::leave_service(signed(SERVICE_OWNER), id));
		assert_eq!(membership(id), None);
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>().last(),
			Some(&Event::DeviceLeftService { id, service: 1 })
		);
		// A device joining its own owner's service is admitted at once.
		let own = register(OWNER, 501);
		assert_ok!(DeviceRegistry::leave_service(signed(OWNER), own));
		assert_ok!(DeviceRegistry::join_service(signed(OWNER), own, 0));
		assert_eq!(membership(own), Some(admitted(0, false)));
	});
}

#[test]
fn the_v1_migration_admits_only_the_devices_their_service_s_owner_registered() {
	use migrations::v1::{v0, MigrateV0ToV1};
	use polkadot_sdk::frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade};
	new_test_ext().execute_with(|| {
		// Three v0 devices: of service 0 by its owner, of service 1 by a stranger, of none.
		let old = |owner, key, service| {
			let id = register(owner, key);
			let device = Devices::<Test>::take(id).unwrap();
			v0::Devices::<Test>::insert(
				id,
				v0::Device {
					owner: device.owner,
					key: device.key,
					kind: device.kind,
					service,
					metadata: device.metadata,
					status: device.status,
					retention: device.retention,
					limits: device.limits,
					deposit: device.deposit,
				},
			);
			id
		};
		let (own, stranger, loner) =
			(old(OWNER, 500, Some(0)), old(OTHER_OWNER, 501, Some(1)), old(OWNER, 502, None));
		StorageVersion::new(0).put::<DeviceRegistry>();

		#[cfg(feature = "try-runtime")]
		let before = MigrateV0ToV1::<Test>::pre_upgrade().unwrap();
		MigrateV0ToV1::<Test>::on_runtime_upgrade();
		#[cfg(feature = "try-runtime")]
		MigrateV0ToV1::<Test>::post_upgrade(before).unwrap();

		assert_eq!(membership(own), Some(admitted(0, false)));
		assert_eq!(membership(stranger), Some(requested(1)));
		assert_eq!(membership(loner), None);
		assert_eq!(Devices::<Test>::get(stranger).unwrap().owner, OTHER_OWNER);
		assert_eq!(DeviceRegistry::on_chain_storage_version(), 1);
	});
}

#[test]
fn rotating_a_key_retires_the_old_one() {
	new_test_ext().execute_with(|| {
		let id = register(OWNER, 500);
		register(OWNER, 600);
		let rotate =
			|owner, id, key| DeviceRegistry::rotate_key(signed(owner), id, key, proof(owner, key));
		assert_noop!(rotate(OTHER_OWNER, id, 501), Error::<Test>::NotOwner);
		assert_noop!(rotate(OWNER, id, 600), Error::<Test>::KeyInUse);
		assert_noop!(rotate(OWNER, 9, 501), Error::<Test>::UnknownDevice);
		// Rotating to a key needs that key's proof, not the old key's or the owner's.
		for wrong in [proof(OWNER, 500), TestSignature(OWNER, proof(OWNER, 501).1)] {
			assert_noop!(
				DeviceRegistry::rotate_key(signed(OWNER), id, 501, wrong),
				Error::<Test>::InvalidKeyProof
			);
		}
		assert_ok!(rotate(OWNER, id, 501));
		assert_eq!(Devices::<Test>::get(id).unwrap().key, 501);
		assert_eq!(
			(DeviceOfKey::<Test>::get(500), DeviceOfKey::<Test>::get(501)),
			(None, Some(id))
		);
		assert_eq!((sufficients(500), sufficients(501)), (0, 1));
		assert_eq!(DeviceRegistry::active_device(&500), Err(Inactive::Unknown));
		assert_eq!(DeviceRegistry::active_device(&501).map(|d| d.id), Ok(id));
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>().last(),
			Some(&Event::KeyRotated { id, old: 500, new: 501 })
		);
	});
}

#[test]
fn a_suspended_device_is_not_active_until_resumed() {
	new_test_ext().execute_with(|| {
		let id = register(OWNER, 500);
		assert_noop!(DeviceRegistry::resume(signed(OWNER), id), Error::<Test>::NotSuspended);
		assert_noop!(DeviceRegistry::suspend(signed(OTHER_OWNER), id), Error::<Test>::NotOwner);
		assert_ok!(DeviceRegistry::suspend(signed(OWNER), id));
		assert_noop!(DeviceRegistry::suspend(signed(OWNER), id), Error::<Test>::AlreadySuspended);
		assert_eq!(DeviceRegistry::active_device(&500), Err(Inactive::Suspended));
		assert_eq!(<DeviceRegistry as DeviceInspect<_, _, _>>::owner(id), Some(OWNER));
		assert_noop!(DeviceRegistry::resume(signed(OTHER_OWNER), id), Error::<Test>::NotOwner);
		assert_ok!(DeviceRegistry::resume(signed(OWNER), id));
		assert!(DeviceRegistry::active_device(&500).is_ok());
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>()[2..],
			[Event::DeviceSuspended { id }, Event::DeviceResumed { id }]
		);
	});
}

#[test]
fn the_owner_sets_fee_limits() {
	new_test_ext().execute_with(|| {
		let id = register(OWNER, 500);
		assert_noop!(
			DeviceRegistry::set_limits(signed(OTHER_OWNER), id, limits(1, 1)),
			Error::<Test>::NotOwner
		);
		let empty = FeeLimits { window: 0, ..limits(1, 1) };
		assert_noop!(
			DeviceRegistry::set_limits(signed(OWNER), id, empty),
			Error::<Test>::EmptyFeeWindow
		);
		assert_ok!(DeviceRegistry::set_limits(signed(OWNER), id, limits(1, 2)));
		assert_eq!(DeviceRegistry::active_device(&500).unwrap().limits, limits(1, 2));
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>().last(),
			Some(&Event::LimitsSet { id, limits: limits(1, 2) })
		);
	});
}

#[test]
fn removing_a_device_returns_the_deposit_and_forgets_the_key() {
	new_test_ext().execute_with(|| {
		let id = register(OWNER, 500);
		let free = Balances::balance(&OWNER);
		assert_noop!(DeviceRegistry::remove(signed(OTHER_OWNER), id), Error::<Test>::NotOwner);
		assert_ok!(DeviceRegistry::remove(signed(OWNER), id));
		assert_eq!((held(OWNER), Balances::balance(&OWNER)), (0, free + DEPOSIT));
		assert!(!Devices::<Test>::contains_key(id));
		assert!(!DeviceOfKey::<Test>::contains_key(500));
		assert!(!System::account_exists(&500));
		assert_noop!(DeviceRegistry::remove(signed(OWNER), id), Error::<Test>::UnknownDevice);
		assert_eq!(
			System::read_events_for_pallet::<Event<Test>>().last(),
			Some(&Event::DeviceRemoved { id })
		);
		// The key is free again, and ids are never reused.
		assert_eq!(register(OTHER_OWNER, 500), id + 1);
	});
}

/// Registers a Sensor for `owner` signing with `key`, with `proof` as its proof of possession.
fn register_with(owner: AccountId, key: AccountId, proof: TestSignature) -> DispatchResult {
	DeviceRegistry::register(
		signed(owner),
		key,
		proof,
		DeviceKind::Sensor,
		None,
		vec![],
		100,
		limits(5, 20),
	)
}

#[test]
fn nobody_binds_a_key_they_do_not_hold() {
	new_test_ext().execute_with(|| {
		// A squatter signs the binding itself, for a key it has only seen.
		let squatted = TestSignature(OTHER_OWNER, proof(OTHER_OWNER, 500).1);
		assert_noop!(register_with(OTHER_OWNER, 500, squatted), Error::<Test>::InvalidKeyProof);
		// The device's real proof, made for its owner, seen in the pool and sent by another.
		let for_owner = proof(OWNER, 500);
		assert_noop!(
			register_with(OTHER_OWNER, 500, for_owner.clone()),
			Error::<Test>::InvalidKeyProof
		);
		// A proof for another chain (another genesis hash) does not bind here either.
		let binding = DeviceRegistry::key_binding(&OWNER, &500);
		let elsewhere = KeyBinding { genesis_hash: [1; 32].into(), ..binding };
		assert_noop!(
			register_with(OWNER, 500, TestSignature(500, elsewhere.message())),
			Error::<Test>::InvalidKeyProof
		);
		assert_ok!(register_with(OWNER, 500, for_owner.clone()));
		assert_eq!(DeviceOfKey::<Test>::get(500), Some(0));
		// Spent: once the device is removed, its proof does not bind the key again.
		assert_ok!(DeviceRegistry::remove(signed(OWNER), 0));
		assert_noop!(register_with(OWNER, 500, for_owner), Error::<Test>::InvalidKeyProof);
		assert_ok!(register_with(OWNER, 500, proof(OWNER, 500)));
	});
}

#[test]
fn a_retired_key_bound_again_keeps_its_nonce_so_old_transactions_cannot_replay() {
	new_test_ext().execute_with(|| {
		let id = register(OWNER, 500);
		// The device signs three transactions (nonces 1, 2, 3: binding spent nonce 0).
		for _ in 0..3 {
			System::inc_account_nonce(500);
		}
		assert_eq!(System::account_nonce(500), 4);
		assert_ok!(DeviceRegistry::remove(signed(OWNER), id));
		// Its account is gone, and with it the nonce the chain checks...
		assert!(!System::account_exists(&500));
		assert_eq!(System::account_nonce(500), 0);
		assert_eq!(RetiredKeys::<Test>::get(500), Some(4));
		// ...until the key is bound again: then its transactions 1, 2 and 3 stay spent.
		let again = register(OTHER_OWNER, 500);
		assert_eq!(System::account_nonce(500), 5);
		assert!(!RetiredKeys::<Test>::contains_key(500));
		// Rotated out, a key is retired just the same.
		assert_ok!(DeviceRegistry::rotate_key(
			signed(OTHER_OWNER),
			again,
			501,
			proof(OTHER_OWNER, 501)
		));
		assert_eq!(RetiredKeys::<Test>::get(500), Some(5));
		assert_eq!(System::account_nonce(501), 1);
	});
}

mod owner_paid_fees {
	use super::*;
	use crate::fees::{RATE_LIMITED, SPENDING_CAP_REACHED};
	use polkadot_sdk::{
		frame_support::dispatch::{DispatchInfo, PostDispatchInfo},
		pallet_transaction_payment::OnChargeTransaction,
		sp_runtime::transaction_validity::{InvalidTransaction, TransactionValidityError},
	};

	type Charge = <Test as polkadot_sdk::pallet_transaction_payment::Config>::OnChargeTransaction;
	type Liquidity = <Charge as OnChargeTransaction<Test>>::LiquidityInfo;

	fn remark() -> RuntimeCall {
		RuntimeCall::System(polkadot_sdk::frame_system::Call::remark { remark: vec![1] })
	}

	/// Charges `fee` for `call` signed by `who`, as the transaction-payment extension does.
	fn charge(
		who: AccountId,
		call: &RuntimeCall,
		fee: Balance,
	) -> Result<Liquidity, TransactionValidityError> {
		let info = DispatchInfo::default();
		<Charge as OnChargeTransaction<Test>>::can_withdraw_fee(&who, call, &info, fee, 0)?;
		<Charge as OnChargeTransaction<Test>>::withdraw_fee(&who, call, &info, fee, 0)
	}

	/// Settles a charge at `actual` fee after dispatch.
	fn settle(who: AccountId, actual: Balance, paid: Liquidity) {
		let post = PostDispatchInfo::default();
		assert_ok!(<Charge as OnChargeTransaction<Test>>::correct_and_deposit_fee(
			&who,
			&DispatchInfo::default(),
			&post,
			actual,
			0,
			paid
		));
	}

	fn invalid(code: u8) -> Result<(), TransactionValidityError> {
		Err(InvalidTransaction::Custom(code).into())
	}

	#[test]
	fn the_owner_pays_and_gets_the_refund() {
		new_test_ext().execute_with(|| {
			let id = register(OWNER, 500);
			let before = Balances::balance(&OWNER);
			let paid = charge(500, &remark(), 8).unwrap();
			assert_eq!(Balances::balance(&OWNER), before - 8);
			settle(500, 5, paid);
			assert_eq!((Balances::balance(&OWNER), Balances::balance(&500)), (before - 5, 0));
			assert_eq!(
				Spending::<Test>::get(id),
				FeeUsage { window_start: 0, transactions: 1, fees: 5 }
			);
		});
	}

	#[test]
	fn the_rate_limit_stops_a_device_until_the_next_window() {
		new_test_ext().execute_with(|| {
			register(OWNER, 500); // 5 transactions, 20 fees per 10 blocks
			let before = Balances::balance(&OWNER);
			for _ in 0..5 {
				charge(500, &remark(), 1).unwrap();
			}
			assert_eq!(charge(500, &remark(), 1).map(drop), invalid(RATE_LIMITED));
			assert_eq!(Balances::balance(&OWNER), before - 5);
			System::set_block_number(9);
			assert_eq!(charge(500, &remark(), 1).map(drop), invalid(RATE_LIMITED));
			System::set_block_number(10);
			assert!(charge(500, &remark(), 1).is_ok());
			assert_eq!(Balances::balance(&OWNER), before - 6);
		});
	}

	/// A remark the mock's owners pay for as `actions` actions.
	fn remark_of(actions: usize) -> RuntimeCall {
		RuntimeCall::System(polkadot_sdk::frame_system::Call::remark {
			remark: vec![1; 100 * actions],
		})
	}

	#[test]
	fn a_batched_call_counts_every_action_against_the_rate_limit() {
		new_test_ext().execute_with(|| {
			let id = register(OWNER, 500); // 5 actions, 20 fees per 10 blocks
			let before = Balances::balance(&OWNER);
			// Six actions in one call: over the limit, so nothing is charged.
			assert_eq!(charge(500, &remark_of(6), 1).map(drop), invalid(RATE_LIMITED));
			assert_eq!(Balances::balance(&OWNER), before);
			assert_eq!(Spending::<Test>::get(id).transactions, 0);
			charge(500, &remark_of(4), 1).unwrap();
			assert_eq!(Spending::<Test>::get(id).transactions, 4);
			// One fee for four actions, but the fifth and sixth do not fit in two more.
			assert_eq!(charge(500, &remark_of(2), 1).map(drop), invalid(RATE_LIMITED));
			charge(500, &remark_of(1), 1).unwrap();
			assert_eq!(Balances::balance(&OWNER), before - 2);
			assert_eq!(charge(500, &remark(), 1).map(drop), invalid(RATE_LIMITED));
		});
	}

	#[test]
	fn the_spending_cap_stops_a_device_before_it_overspends() {
		new_test_ext().execute_with(|| {
			let id = register(OWNER, 500);
			let before = Balances::balance(&OWNER);
			charge(500, &remark(), 8).unwrap();
			charge(500, &remark(), 8).unwrap();
			assert_eq!(charge(500, &remark(), 5).map(drop), invalid(SPENDING_CAP_REACHED));
			// Validation alone does not count against the window either.
			assert_eq!(
				<Charge as OnChargeTransaction<Test>>::can_withdraw_fee(
					&500,
					&remark(),
					&DispatchInfo::default(),
					4,
					0
				),
				Ok(())
			);
			charge(500, &remark(), 4).unwrap();
			assert_eq!(Balances::balance(&OWNER), before - 20);
			assert_eq!(Spending::<Test>::get(id).fees, 20);
			assert_eq!(charge(500, &remark(), 1).map(drop), invalid(SPENDING_CAP_REACHED));
		});
	}

	#[test]
	fn the_owner_pays_nothing_for_suspended_devices_or_other_calls() {
		new_test_ext().execute_with(|| {
			let id = register(OWNER, 500);
			let before = Balances::balance(&OWNER);
			let transfer =
				RuntimeCall::Balances(polkadot_sdk::pallet_balances::Call::transfer_allow_death {
					dest: OTHER_OWNER,
					value: 1,
				});
			// The device's key holds nothing to pay with itself.
			let cannot_pay = Err(InvalidTransaction::Payment.into());
			assert_eq!(charge(500, &transfer, 1).map(drop), cannot_pay);
			assert_ok!(DeviceRegistry::suspend(signed(OWNER), id));
			assert_eq!(charge(500, &remark(), 1).map(drop), cannot_pay);
			// Accounts that are not devices pay for themselves.
			assert!(charge(OTHER_OWNER, &remark(), 3).is_ok());
			assert_eq!(Balances::balance(&OWNER), before);
			assert_eq!(Spending::<Test>::get(id), FeeUsage::default());
		});
	}
}

#[derive(Clone, Debug)]
enum Op {
	Register { owner: AccountId, key: AccountId },
	Rotate { owner: AccountId, id: DeviceId, key: AccountId },
	Suspend { owner: AccountId, id: DeviceId },
	Remove { owner: AccountId, id: DeviceId },
}

/// What the actors around a closed service do: device owners join and leave it, anyone tries
/// to admit.
#[derive(Clone, Debug)]
enum MemberOp {
	Join { owner: AccountId, id: DeviceId },
	Admit { who: AccountId, id: DeviceId, may_lock: bool },
	Leave { who: AccountId, id: DeviceId },
}

fn member_op() -> impl Strategy<Value = MemberOp> {
	let who = prop_oneof![Just(OWNER), Just(OTHER_OWNER), Just(SERVICE_OWNER)];
	let owner = prop_oneof![Just(OWNER), Just(OTHER_OWNER)];
	let id = 0..4u64;
	prop_oneof![
		(owner, id.clone()).prop_map(|(owner, id)| MemberOp::Join { owner, id }),
		(who.clone(), id.clone(), any::<bool>()).prop_map(|(who, id, may_lock)| MemberOp::Admit {
			who,
			id,
			may_lock
		}),
		(who, id).prop_map(|(who, id)| MemberOp::Leave { who, id }),
	]
}

fn op() -> impl Strategy<Value = Op> {
	let owner = prop_oneof![Just(OWNER), Just(OTHER_OWNER)];
	let key = 500..508u64;
	let id = 0..6u64;
	prop_oneof![
		(owner.clone(), key.clone()).prop_map(|(owner, key)| Op::Register { owner, key }),
		(owner.clone(), id.clone(), key).prop_map(|(owner, id, key)| Op::Rotate { owner, id, key }),
		(owner.clone(), id.clone()).prop_map(|(owner, id)| Op::Suspend { owner, id }),
		(owner, id).prop_map(|(owner, id)| Op::Remove { owner, id }),
	]
}

proptest! {
	/// Whatever owners do: every key maps to the one device signing with it and back, each
	/// registered key is kept alive by exactly one reference, and each owner has exactly one
	/// deposit held per device it owns, no more, no less; the pallet's invariants hold after
	/// every step.
	#[test]
	fn keys_devices_and_deposits_stay_consistent(ops in prop::collection::vec(op(), 1..40)) {
		new_test_ext().execute_with(|| {
			let issuance = Balances::total_issuance();
			for op in ops {
				let _ = match op {
					Op::Register { owner, key } => DeviceRegistry::register(
						signed(owner), key, proof(owner, key), DeviceKind::Sensor, None, vec![], 100,
						limits(1, 1),
					),
					Op::Rotate { owner, id, key } => {
						DeviceRegistry::rotate_key(signed(owner), id, key, proof(owner, key))
					}
					Op::Suspend { owner, id } => DeviceRegistry::suspend(signed(owner), id),
					Op::Remove { owner, id } => DeviceRegistry::remove(signed(owner), id),
				};
				prop_assert_eq!(DeviceRegistry::do_try_state(), Ok(()));
			}
			let devices: Vec<(DeviceId, Device<Test>)> = Devices::<Test>::iter().collect();
			prop_assert_eq!(DeviceOfKey::<Test>::iter().count(), devices.len());
			for (id, device) in &devices {
				prop_assert_eq!(DeviceOfKey::<Test>::get(device.key), Some(*id));
			}
			for key in 500..508u64 {
				let registered = devices.iter().any(|(_, d)| d.key == key);
				prop_assert_eq!(sufficients(key), registered as u32);
			}
			for owner in [OWNER, OTHER_OWNER] {
				let owned = devices.iter().filter(|(_, d)| d.owner == owner).count() as Balance;
				prop_assert_eq!(held(owner), owned * DEPOSIT);
			}
			prop_assert_eq!(Balances::total_issuance(), issuance);
			Ok(())
		})?;
	}
}

proptest! {
	/// Whatever device owners and strangers do, a device is admitted to closed service 1 only
	/// once its owner, [`SERVICE_OWNER`], admitted it since it last joined, and may lock only
	/// as that owner last said.
	#[test]
	fn only_a_service_s_owner_admits_devices_to_it(ops in prop::collection::vec(member_op(), 1..40)) {
		new_test_ext().execute_with(|| {
			for (i, owner) in [OWNER, OTHER_OWNER, OWNER, OTHER_OWNER].into_iter().enumerate() {
				register(owner, 500 + i as AccountId);
				assert_ok!(DeviceRegistry::leave_service(signed(owner), i as DeviceId));
			}
			// What the service's owner last let each device do, since it last joined service 1.
			let mut consented = std::collections::BTreeMap::<DeviceId, bool>::new();
			for op in ops {
				let before = Devices::<Test>::get(match op {
					MemberOp::Join { id, .. } | MemberOp::Admit { id, .. } | MemberOp::Leave { id, .. } => id,
				}).and_then(|d| d.service);
				match op {
					MemberOp::Join { owner, id } => {
						if DeviceRegistry::join_service(signed(owner), id, 1).is_ok() {
							consented.remove(&id);
						}
					}
					MemberOp::Admit { who, id, may_lock } => {
						let result = DeviceRegistry::admit(signed(who), id, 1, may_lock);
						prop_assert_eq!(result.is_ok(), who == SERVICE_OWNER && before.is_some_and(|m| m.service == 1));
						if result.is_ok() {
							consented.insert(id, may_lock);
						}
					}
					MemberOp::Leave { who, id } => {
						if DeviceRegistry::leave_service(signed(who), id).is_ok() {
							consented.remove(&id);
						}
					}
				}
				for (id, device) in Devices::<Test>::iter() {
					match device.service {
						Some(Membership { service: 1, status: MemberStatus::Admitted { may_lock } }) => {
							prop_assert_eq!(consented.get(&id), Some(&may_lock));
						}
						Some(Membership { service: 1, status: MemberStatus::Requested }) | None => {
							prop_assert!(!consented.contains_key(&id));
						}
						Some(other) => prop_assert!(false, "device {} joined {:?}", id, other),
					}
				}
				prop_assert_eq!(DeviceRegistry::do_try_state(), Ok(()));
			}
			Ok(())
		})?;
	}
}

/// Each corruption of the registry's books is caught by `try_state` with the invariant it
/// breaks.
#[test]
fn try_state_names_a_broken_invariant() {
	let broken = |corrupt: fn(DeviceId), invariant: &'static str| {
		genesis_ext().execute_with(|| {
			let id = register(OWNER, 500);
			assert_ok!(DeviceRegistry::do_try_state());
			corrupt(id);
			assert_eq!(DeviceRegistry::do_try_state(), Err(invariant.into()));
		})
	};
	broken(
		|id| Devices::<Test>::mutate(id, |device| device.as_mut().unwrap().deposit += 1),
		"an owner's held device deposits are not its devices'",
	);
	broken(
		|id| DeviceOfKey::<Test>::insert(501, id),
		"a bound key signs for a device that does not sign with it",
	);
	broken(|_| NextDeviceId::<Test>::put(0), "a device id is not below NextDeviceId");
	broken(
		|id| Spending::<Test>::insert(id + 1, FeeUsage::default()),
		"spending is kept for a removed device",
	);
	broken(
		|id| {
			Devices::<Test>::mutate(id, |device| {
				device.as_mut().unwrap().service = Some(requested(3))
			})
		},
		"a device belongs to a service that does not exist",
	);
}
