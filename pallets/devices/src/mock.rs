//! A test runtime: System, Balances, transaction payment charging device fees to owners through
//! [`OwnerPays`](crate::OwnerPays), and the device registry, with services 0, 1 and 2.

use crate as pallet_devices;
use polkadot_sdk::{
	frame_support::{
		derive_impl,
		traits::{ConstU128, ConstU64},
		weights::IdentityFee,
	},
	frame_system, pallet_balances,
	pallet_transaction_payment::{self, FungibleAdapter},
	sp_runtime::{testing::TestSignature, BuildStorage},
};
pub use thingschain_mock_support::CheckedExt;
use thingschain_primitives::ids::ServiceId;

pub type AccountId = u64;
pub type Balance = u128;
type Block = frame_system::mocking::MockBlock<Test>;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		TransactionPayment: pallet_transaction_payment,
		DeviceRegistry: pallet_devices,
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

/// Owners pay for their devices' remarks, one action per 100 bytes begun (so the tests can
/// make a call of several actions); other calls are paid by their signers.
pub struct Remarks;
impl crate::SponsoredCalls<RuntimeCall> for Remarks {
	fn actions(call: &RuntimeCall) -> Option<u32> {
		match call {
			RuntimeCall::System(frame_system::Call::remark { remark }) => {
				Some((remark.len() as u32).div_ceil(100).max(1))
			}
			_ => None,
		}
	}
}

#[derive_impl(pallet_transaction_payment::config_preludes::TestDefaultConfig)]
impl pallet_transaction_payment::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = crate::OwnerPays<Remarks, FungibleAdapter<Balances, ()>>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = IdentityFee<Balance>;
}

/// An owner with funds.
pub const OWNER: AccountId = 10;
/// Another owner with funds.
pub const OTHER_OWNER: AccountId = 11;
pub const DEPOSIT: Balance = 50;
pub const MIN_RETENTION: u64 = 10;
pub const MAX_RETENTION: u64 = 1_000;

/// The owner of services 1 and 2.
pub const SERVICE_OWNER: AccountId = 12;

/// Service 0, owned by [`OWNER`], and 1, owned by [`SERVICE_OWNER`], take only the devices
/// their owners consent to; service 2, also [`SERVICE_OWNER`]'s, is open to all.
pub struct ThreeServices;
impl crate::ServiceAdmission<AccountId> for ThreeServices {
	fn admission(service: ServiceId) -> Option<crate::Admission<AccountId>> {
		let (owner, open) = match service {
			0 => (OWNER, false),
			1 => (SERVICE_OWNER, false),
			2 => (SERVICE_OWNER, true),
			_ => return None,
		};
		Some(crate::Admission { owner, open })
	}
}

#[derive_impl(pallet_devices::config_preludes::TestDefaultConfig)]
impl pallet_devices::Config for Test {
	type Currency = Balances;
	type Services = ThreeServices;
	type DeviceDeposit = ConstU128<DEPOSIT>;
	type MinRetention = ConstU64<MIN_RETENTION>;
	type MaxRetention = ConstU64<MAX_RETENTION>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ThreeServices;
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::benchmarking::BenchmarkHelper<AccountId, TestSignature> for ThreeServices {
	/// Owned by another account than the benchmarks' device owner, and closed.
	fn service() -> ServiceId {
		1
	}
	fn device_key(index: u32) -> AccountId {
		500 + AccountId::from(index)
	}
	fn sign(key: &AccountId, message: &[u8]) -> TestSignature {
		TestSignature(*key, message.to_vec())
	}
}

/// `key`'s proof of possession for binding it to `owner` now.
pub fn proof(owner: AccountId, key: AccountId) -> TestSignature {
	TestSignature(key, DeviceRegistry::key_binding(&owner, &key).message())
}

/// The mock's genesis state, as the benchmarks start from it.
pub fn genesis_ext() -> polkadot_sdk::sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(OWNER, 1_000), (OTHER_OWNER, 1_000), (SERVICE_OWNER, 1_000)],
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
	CheckedExt::new(genesis_ext(), DeviceRegistry::do_try_state)
}
