//! A test runtime with the real registry and anchors: three services, source 0, destination 1
//! and another 2, each with two trusted nodes, and one super node.

use crate as pallet_nest_peg;
use pallet_service_registry::VerifyIdentity;
use polkadot_sdk::{
	frame_support::{
		derive_impl, ord_parameter_types,
		traits::{ConstU128, ConstU32},
	},
	frame_system, pallet_balances,
	sp_runtime::BuildStorage,
};
pub use thingschain_mock_support::CheckedExt;
use thingschain_primitives::{
	ids::{Epoch, Hash, ServiceId},
	merkle::{self, InclusionProof},
};

pub type AccountId = u64;
pub type Balance = u128;
type Block = frame_system::mocking::MockBlock<Test>;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Registry: pallet_service_registry,
		NestAnchor: pallet_nest_anchor,
		Peg: pallet_nest_peg,
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
pub const SUPER: AccountId = 20;
pub const EPOCH: u64 = 10;
pub const CONFIRMATION: u64 = 5;
pub const CONTEST: u64 = 10;
/// Later epochs a source must anchor before its locks' claims are final.
pub const FINALITY_EPOCHS: u32 = 2;
pub const SOURCE: ServiceId = 0;
pub const DESTINATION: ServiceId = 1;
/// A third service, run by whoever wants to take another service's lock ids.
pub const OTHER: ServiceId = 2;

ord_parameter_types! {
	pub const Governance: AccountId = ROOT;
}

pub struct AllVerified;
impl VerifyIdentity<AccountId> for AllVerified {
	fn is_verified(_: &AccountId) -> bool {
		true
	}
}

#[derive_impl(pallet_service_registry::config_preludes::TestDefaultConfig)]
impl pallet_service_registry::Config for Test {
	type Currency = Balances;
	type CreateOrigin = frame_system::EnsureSignedBy<Governance, AccountId>;
	type IdentityVerifier = AllVerified;
	// A node that leaves loses its pending attestations.
	type OnNodeRemoved = NestAnchor;
	// Anchors are free here: the peg's tests count no fees.
	type AnchorFee = ConstU128<0>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = AllVerified;
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_service_registry::benchmarking::BenchmarkHelper<AccountId> for AllVerified {
	fn verify_identity(_: &AccountId) {}
}

#[derive_impl(pallet_nest_anchor::config_preludes::TestDefaultConfig)]
impl pallet_nest_anchor::Config for Test {
	type Registry = Registry;
	type Balance = Balance;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = AnchorSetup;
}

impl crate::Config for Test {
	type Anchors = NestAnchor;
	type Registry = Registry;
	type Balance = Balance;
	type UpdateOrigin = frame_system::EnsureRoot<AccountId>;
	type DefaultFinalityEpochs = ConstU32<FINALITY_EPOCHS>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = AnchorSetup;
}

/// Services and anchors made through the registry's and anchor pallet's calls.
#[cfg(feature = "runtime-benchmarks")]
pub struct AnchorSetup;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_nest_anchor::benchmarking::BenchmarkHelper<AccountId> for AnchorSetup {
	fn service_with_nodes(nodes: &[AccountId], quorum: u32) -> ServiceId {
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

#[cfg(feature = "runtime-benchmarks")]
impl crate::benchmarking::BenchmarkHelper for AnchorSetup {
	fn anchor(service: ServiceId, records: &[Vec<u8>]) -> Epoch {
		anchor_records(service, records)
	}

	fn skip(service: ServiceId) -> Epoch {
		skip_next(service)
	}

	fn source_and_destination() -> (ServiceId, ServiceId) {
		use pallet_nest_anchor::benchmarking::BenchmarkHelper;
		// Fresh services for every benchmark; one super node approves their anchors.
		let service = || {
			let id = pallet_service_registry::NextServiceId::<Test>::get();
			Self::service_with_nodes(&nodes_of(id), 2)
		};
		let (source, destination) = (service(), service());
		Registry::set_policy(RuntimeOrigin::signed(OWNER), source, false, vec![destination])
			.unwrap();
		if !pallet_service_registry::SuperNodes::<Test>::contains_key(SUPER) {
			Self::super_node(&SUPER);
		}
		(source, destination)
	}
}

/// Trusted nodes of service `id`.
pub fn nodes_of(id: ServiceId) -> [AccountId; 2] {
	[10 * (id as u64) + 1, 10 * (id as u64) + 2]
}

/// Anchors the next epoch of `service` with `records` (moving time to its end if needed);
/// returns the epoch.
pub fn anchor_records(service: ServiceId, records: &[Vec<u8>]) -> Epoch {
	let (epoch, prev) = due_epoch(service);
	let root = merkle::root(records);
	for node in nodes_of(service) {
		NestAnchor::attest(RuntimeOrigin::signed(node), service, epoch, root, prev).unwrap();
	}
	NestAnchor::approve(RuntimeOrigin::signed(SUPER), service, epoch, root).unwrap();
	epoch
}

/// Skips the next epoch of `service` as governance (moving time to its end if needed);
/// returns the epoch.
pub fn skip_next(service: ServiceId) -> Epoch {
	let (epoch, _) = due_epoch(service);
	NestAnchor::skip_epoch(RuntimeOrigin::root(), service, epoch).unwrap();
	epoch
}

/// The next epoch of `service` to settle, and the hash of the anchor before it, once time has
/// moved (forward only) to its end.
fn due_epoch(service: ServiceId) -> (Epoch, Hash) {
	let (epoch, prev) = pallet_nest_anchor::Pallet::<Test>::next_epoch(service);
	let ends = <Registry as pallet_service_registry::ServiceInspect<_, _, _>>::service(service)
		.unwrap()
		.epoch_end(epoch);
	if System::block_number() < ends {
		System::set_block_number(ends);
	}
	(epoch, prev)
}

/// The proof of `records[index]`.
pub fn prove(records: &[Vec<u8>], index: u32) -> InclusionProof {
	InclusionProof::build(records, index).unwrap()
}

/// The mock's genesis state, as the benchmarks start from it.
pub fn genesis_ext() -> polkadot_sdk::sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: (1..=30).chain([ROOT]).map(|who| (who, 100_000)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_nest_peg::GenesisConfig::<Test> {
		confirmation_period: CONFIRMATION,
		contest_period: CONTEST,
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = polkadot_sdk::sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		let signed = RuntimeOrigin::signed;
		for (id, name) in [
			(SOURCE, b"gov-id".to_vec()),
			(DESTINATION, b"bank".to_vec()),
			(OTHER, b"other".to_vec()),
		] {
			Registry::create_service(signed(ROOT), OWNER, name, 2, EPOCH).unwrap();
			for node in nodes_of(id) {
				Registry::add_service_node(signed(OWNER), id, node).unwrap();
			}
		}
		// Each service's devices may lock value to the two others.
		for id in [SOURCE, DESTINATION, OTHER] {
			let others = [SOURCE, DESTINATION, OTHER].into_iter().filter(|o| *o != id).collect();
			Registry::set_policy(signed(OWNER), id, false, others).unwrap();
		}
		Registry::register_super_node(signed(SUPER), 5_000).unwrap();
		System::reset_events();
	});
	ext
}

/// The mock's genesis state for a test, which ends by checking the pallet's invariants.
pub fn new_test_ext() -> CheckedExt {
	CheckedExt::new(genesis_ext(), Peg::do_try_state)
}

/// The lock id made of `byte`.
pub fn id(byte: u8) -> Hash {
	Hash::repeat_byte(byte)
}
