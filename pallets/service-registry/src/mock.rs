//! A test runtime: System, Balances and the registry, with identities "verified" by a list.

use crate::{self as pallet_service_registry, VerifyIdentity};
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{ConstU128, ConstU32, ConstU64},
	},
	frame_system, pallet_balances,
	sp_runtime::BuildStorage,
};
pub use thingschain_mock_support::CheckedExt;

pub type AccountId = u64;
pub type Balance = u128;
type Block = frame_system::mocking::MockBlock<Test>;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Registry: pallet_service_registry,
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

/// Governance in these tests.
pub const ROOT: AccountId = 100;
/// The institution owning the test service.
pub const OWNER: AccountId = 10;
pub const MIN_SUPER_STAKE: Balance = 1_000;
pub const SUPER_UNBONDING: u64 = 20;
/// Paid by a service's owner per anchor; 3 does not divide evenly among two approvers.
pub const ANCHOR_FEE: Balance = 3;

parameter_types! {
	/// Accounts whose identity a registrar verified.
	pub static Verified: Vec<AccountId> = vec![1, 2, 3, 4];
}

pub struct TestIdentities;
impl VerifyIdentity<AccountId> for TestIdentities {
	fn is_verified(who: &AccountId) -> bool {
		Verified::get().contains(who)
	}
}

polkadot_sdk::frame_support::ord_parameter_types! {
	pub const Governance: AccountId = ROOT;
}

#[derive_impl(crate::config_preludes::TestDefaultConfig)]
impl crate::Config for Test {
	type Currency = Balances;
	type CreateOrigin = frame_system::EnsureSignedBy<Governance, AccountId>;
	type IdentityVerifier = TestIdentities;
	type MinSuperNodeStake = ConstU128<MIN_SUPER_STAKE>;
	type SuperNodeUnbondingPeriod = ConstU64<SUPER_UNBONDING>;
	// Small enough for a test to fill.
	type MaxSuperNodes = ConstU32<3>;
	type AnchorFee = ConstU128<ANCHOR_FEE>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = TestIdentities;
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::benchmarking::BenchmarkHelper<AccountId> for TestIdentities {
	fn verify_identity(who: &AccountId) {
		Verified::mutate(|v| v.push(*who));
	}
}

/// The mock's genesis state, as the benchmarks start from it.
pub fn genesis_ext() -> polkadot_sdk::sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: (1..=20).chain([ROOT]).map(|who| (who, 100_000)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = polkadot_sdk::sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		Verified::set(vec![1, 2, 3, 4]);
	});
	ext
}

/// The mock's genesis state for a test, which ends by checking the pallet's invariants.
pub fn new_test_ext() -> CheckedExt {
	CheckedExt::new(genesis_ext(), Registry::do_try_state)
}
