//! A test runtime: System, Balances, the device registry and the payloads pallet. Owner
//! [`OWNER`] registers device [`DEVICE`] (key [`DEVICE_KEY`], records kept [`RETENTION`]
//! blocks) in [`with_device`].

use crate as pallet_payloads;
use pallet_devices::{DeviceId, DeviceKind, FeeLimits};
use polkadot_sdk::{
	frame_support::{
		assert_ok, derive_impl,
		traits::{ConstU128, ConstU32},
	},
	frame_system, pallet_balances,
	sp_runtime::{testing::TestSignature, BuildStorage},
};
pub use thingschain_mock_support::CheckedExt;

pub type AccountId = u64;
pub type Balance = u128;
type Block = frame_system::mocking::MockBlock<Test>;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		DeviceRegistry: pallet_devices,
		Payloads: pallet_payloads,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = ConstU128<1>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

#[derive_impl(pallet_devices::config_preludes::TestDefaultConfig)]
impl pallet_devices::Config for Test {
	type Currency = Balances;
	type OnRemoved = Payloads;
	type DeviceDeposit = ConstU128<DEVICE_DEPOSIT>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ServiceZero;
}

pub const RECORD_DEPOSIT_BASE: Balance = 10;
pub const MAX_PAYLOAD_LEN: u32 = 64;
pub const MAX_READERS: u32 = 3;
pub const MAX_BATCH: u32 = 4;

impl pallet_payloads::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Devices = DeviceRegistry;
	type RecordDepositBase = ConstU128<RECORD_DEPOSIT_BASE>;
	type RecordDepositPerByte = ConstU128<1>;
	type MaxPayloadLen = ConstU32<MAX_PAYLOAD_LEN>;
	type MaxReaders = ConstU32<MAX_READERS>;
	type MaxBatch = ConstU32<MAX_BATCH>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ServiceZero;
}

/// Benchmarks register devices in service 0 (every service exists here).
#[cfg(feature = "runtime-benchmarks")]
pub struct ServiceZero;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_devices::benchmarking::BenchmarkHelper<AccountId, TestSignature> for ServiceZero {
	fn service() -> thingschain_primitives::ids::ServiceId {
		0
	}
	fn device_key(index: u32) -> AccountId {
		DEVICE_KEY + AccountId::from(index)
	}
	fn sign(key: &AccountId, message: &[u8]) -> TestSignature {
		TestSignature(*key, message.to_vec())
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::benchmarking::BenchmarkHelper<AccountId> for ServiceZero {
	fn register_device(owner: &AccountId) -> (AccountId, DeviceId) {
		(DEVICE_KEY, register_capped_device(*owner, DEVICE_KEY, Balance::MAX))
	}
	fn remove_device(owner: &AccountId, id: DeviceId) {
		assert_ok!(DeviceRegistry::remove(RuntimeOrigin::signed(*owner), id));
	}
}

pub const OWNER: AccountId = 10;
pub const OTHER_OWNER: AccountId = 11;
pub const DEVICE_KEY: AccountId = 500;
pub const DEVICE: DeviceId = 0;
pub const DEVICE_DEPOSIT: Balance = 50;
pub const RETENTION: u64 = 100;
pub const OWNER_FUNDS: Balance = 1_000;
/// Most deposits held for a device's records.
pub const MAX_DEPOSITS: Balance = 700;

/// Registers a device signing with `key` for `owner`, keeping records [`RETENTION`] blocks,
/// with [`MAX_DEPOSITS`].
pub fn register_device(owner: AccountId, key: AccountId) -> DeviceId {
	register_capped_device(owner, key, MAX_DEPOSITS)
}

/// Registers a device as [`register_device`] does, with `max_deposits`.
pub fn register_capped_device(owner: AccountId, key: AccountId, max_deposits: Balance) -> DeviceId {
	let id = pallet_devices::NextDeviceId::<Test>::get();
	let proof = TestSignature(key, DeviceRegistry::key_binding(&owner, &key).message());
	assert_ok!(DeviceRegistry::register(
		RuntimeOrigin::signed(owner),
		key,
		proof,
		DeviceKind::Sensor,
		None,
		vec![],
		RETENTION,
		FeeLimits { window: 10, max_transactions: 100, max_fees: 100, max_deposits },
	));
	id
}

/// The mock's genesis state, as the benchmarks start from it.
pub fn genesis_ext() -> polkadot_sdk::sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(OWNER, OWNER_FUNDS), (OTHER_OWNER, OWNER_FUNDS)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = polkadot_sdk::sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// The mock's genesis state for a test, which ends by checking the pallet's invariants.
pub fn new_test_ext() -> CheckedExt {
	CheckedExt::new(genesis_ext(), Payloads::do_try_state)
}

/// A test externality where [`OWNER`] registered [`DEVICE`].
pub fn with_device() -> CheckedExt {
	let mut ext = new_test_ext();
	ext.execute_with(|| assert_eq!(register_device(OWNER, DEVICE_KEY), DEVICE));
	ext
}
