//! A test runtime with the real service registry: System, Balances, Registry, Anchors.

use crate as pallet_nest_anchor;
use pallet_service_registry::VerifyIdentity;
use polkadot_sdk::{
	frame_support::{
		derive_impl, ord_parameter_types, parameter_types,
		traits::{ConstU128, ConstU64},
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
		NestAnchor: pallet_nest_anchor,
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

pub const ROOT: AccountId = 100;
pub const OWNER: AccountId = 10;
/// Trusted nodes of the test service.
pub const NODES: [AccountId; 3] = [1, 2, 3];
/// Super nodes.
pub const SUPERS: [AccountId; 3] = [21, 22, 23];
pub const SUPER_STAKE: Balance = 10_000;
pub const EPOCH: u64 = 10;
/// Blocks a super node may stay idle while others anchor.
pub const IDLE_PERIOD: u64 = 30;

ord_parameter_types! {
	pub const Governance: AccountId = ROOT;
}

parameter_types! {
	/// Accounts whose registrar judgement a test withdrew.
	pub storage Unverified: Vec<AccountId> = Vec::new();
}

/// Every identity is verified, but those in [`Unverified`].
pub struct AllVerified;
impl VerifyIdentity<AccountId> for AllVerified {
	fn is_verified(who: &AccountId) -> bool {
		!Unverified::get().contains(who)
	}
}

#[derive_impl(pallet_service_registry::config_preludes::TestDefaultConfig)]
impl pallet_service_registry::Config for Test {
	type Currency = Balances;
	type CreateOrigin = frame_system::EnsureSignedBy<Governance, AccountId>;
	type IdentityVerifier = AllVerified;
	// A node that leaves loses its pending attestations.
	type OnNodeRemoved = NestAnchor;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = AllVerified;
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_service_registry::benchmarking::BenchmarkHelper<AccountId> for AllVerified {
	fn verify_identity(_: &AccountId) {}
}

#[derive_impl(pallet_nest_anchor::config_preludes::TestDefaultConfig)]
impl crate::Config for Test {
	type Registry = Registry;
	type Balance = Balance;
	type IdlePeriod = ConstU64<IDLE_PERIOD>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = RegistrySetup;
}

/// Builds services and super nodes through the registry's calls.
#[cfg(feature = "runtime-benchmarks")]
pub struct RegistrySetup;
#[cfg(feature = "runtime-benchmarks")]
impl crate::benchmarking::BenchmarkHelper<AccountId> for RegistrySetup {
	fn service_with_nodes(
		nodes: &[AccountId],
		quorum: u32,
	) -> thingschain_primitives::ids::ServiceId {
		let id = pallet_service_registry::NextServiceId::<Test>::get();
		Registry::create_service(RuntimeOrigin::signed(ROOT), OWNER, vec![], quorum, 5).unwrap();
		for node in nodes {
			Registry::add_service_node(RuntimeOrigin::signed(OWNER), id, *node).unwrap();
		}
		id
	}

	fn super_node(who: &AccountId) {
		use polkadot_sdk::frame_support::traits::fungible::Mutate;
		Balances::set_balance(who, 100_000);
		Registry::register_super_node(RuntimeOrigin::signed(*who), 1_000).unwrap();
	}
}

/// Service 0 (quorum 2, 10-block epochs from block 1) with three trusted nodes, and three
/// super nodes.
/// The mock's genesis state, as the benchmarks start from it.
pub fn genesis_ext() -> polkadot_sdk::sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: (1..=30).chain([ROOT]).map(|who| (who, 100_000)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = polkadot_sdk::sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		let signed = RuntimeOrigin::signed;
		Registry::create_service(signed(ROOT), OWNER, b"gov-id".to_vec(), 2, EPOCH).unwrap();
		for node in NODES {
			Registry::add_service_node(signed(OWNER), 0, node).unwrap();
		}
		for super_node in SUPERS {
			Registry::register_super_node(signed(super_node), SUPER_STAKE).unwrap();
		}
		System::reset_events();
	});
	ext
}

/// The mock's genesis state for a test, which ends by checking the pallet's invariants.
pub fn new_test_ext() -> CheckedExt {
	CheckedExt::new(genesis_ext(), NestAnchor::do_try_state)
}
