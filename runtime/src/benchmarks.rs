//! The pallets benchmarked in this runtime (`thingschain benchmark pallet`, see
//! `scripts/benchmark.sh`) and what they need to run here.
//!
//! Every pallet whose calls a user can make is measured on this runtime, so its weights are
//! this machine's numbers priced with this node's database (`weights/`), not the SDK's
//! reference values.

use crate::{
	AccountId, Balances, NestAnchor, Runtime, RuntimeOrigin, ServiceRegistry, Session, SessionKeys,
	System,
};
use alloc::{vec, vec::Vec};
use codec::Encode;
use polkadot_sdk::frame_support::{
	traits::{fungible::Mutate, Get},
	BoundedVec,
};
use thingschain_primitives::ids::{Epoch, ServiceId};

pub use polkadot_sdk::frame_system_benchmarking::{
	extensions::Pallet as SystemExtensionsBench, Pallet as SystemBench,
};

polkadot_sdk::frame_benchmarking::define_benchmarks!(
	[frame_system, SystemBench::<Runtime>]
	[frame_system_extensions, SystemExtensionsBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_transaction_payment, TransactionPayment]
	[pallet_utility, Utility]
	[pallet_multisig, Multisig]
	[pallet_proxy, Proxy]
	[pallet_identity, Identity]
	[pallet_sudo, Sudo]
	[pallet_preimage, Preimage]
	[pallet_scheduler, Scheduler]
	[pallet_referenda, Referenda]
	[pallet_conviction_voting, ConvictionVoting]
	[pallet_collective, Council]
	[pallet_whitelist, Whitelist]
	[pallet_dpos, Dpos]
	[pallet_aura_equivocation, AuraEquivocation]
	[pallet_block_graph, BlockGraph]
	[pallet_service_registry, ServiceRegistry]
	[pallet_nest_anchor, NestAnchor]
	[pallet_nest_peg, NestPeg]
	[pallet_devices, Devices]
	[pallet_payloads, Payloads]
);

/// `System`'s benchmarks with their defaults (a runtime upgrade to a sample runtime).
impl polkadot_sdk::frame_system_benchmarking::Config for Runtime {}

impl polkadot_sdk::pallet_transaction_payment::BenchmarkConfig for Runtime {
	/// Charging a fee costs most when the delegate's share is paid out, so the block gets an
	/// author: slot 0's delegate, the first of the session (Alice on the dev chain), noted by
	/// `Authorship`'s `on_initialize` as in every block, before any transaction pays a fee.
	fn setup_benchmark_environment() {
		use polkadot_sdk::{
			frame_support::traits::Hooks,
			sp_consensus_aura::{Slot, AURA_ENGINE_ID},
			sp_runtime::DigestItem,
		};
		System::deposit_log(DigestItem::PreRuntime(AURA_ENGINE_ID, Slot::from(0u64).encode()));
		crate::Authorship::on_initialize(System::block_number());
	}
}

/// Gives benchmark accounts real session keys (generated in the benchmark's keystore), so
/// they can register as delegate candidates.
pub struct SessionKeysHelper;
impl pallet_dpos::benchmarking::BenchmarkHelper<AccountId> for SessionKeysHelper {
	fn set_session_keys(who: &AccountId) {
		let generated = SessionKeys::generate(&who.encode(), None);
		Session::set_keys(
			RuntimeOrigin::signed(who.clone()),
			generated.keys,
			generated.proof.encode(),
		)
		.expect("freshly generated keys with their proof are accepted");
	}
}

/// Services, verified identities, super nodes and anchors for the NestChain pallets'
/// benchmarks, made through the pallets' own calls (and a registrar judgement written
/// directly, as a registrar would give it).
pub struct NestSetup;

const NEST_OWNER: [u8; 32] = [0x0e; 32];

impl pallet_service_registry::benchmarking::BenchmarkHelper<AccountId> for NestSetup {
	fn verify_identity(who: &AccountId) {
		use polkadot_sdk::pallet_identity::{self, legacy::IdentityInfo, Judgement, Registration};
		let judgements = BoundedVec::truncate_from(vec![(0, Judgement::KnownGood)]);
		pallet_identity::IdentityOf::<Runtime>::insert(
			who,
			Registration { judgements, deposit: 0, info: IdentityInfo::default() },
		);
	}
}

impl pallet_nest_anchor::benchmarking::BenchmarkHelper<AccountId> for NestSetup {
	fn service_with_nodes(nodes: &[AccountId], quorum: u32) -> ServiceId {
		let owner = AccountId::from(NEST_OWNER);
		// Enough to pay for every anchor a benchmark makes.
		Balances::set_balance(&owner, 1_000_000 * crate::units::TIC);
		let id = pallet_service_registry::NextServiceId::<Runtime>::get();
		ServiceRegistry::create_service(RuntimeOrigin::root(), owner.clone(), vec![], quorum, 5)
			.expect("root creates services");
		for node in nodes {
			<Self as pallet_service_registry::benchmarking::BenchmarkHelper<_>>::verify_identity(
				node,
			);
			ServiceRegistry::add_service_node(
				RuntimeOrigin::signed(owner.clone()),
				id,
				node.clone(),
			)
			.expect("verified nodes join");
		}
		id
	}

	fn super_node(who: &AccountId) {
		let stake = <Runtime as pallet_service_registry::Config>::MinSuperNodeStake::get();
		Balances::set_balance(who, stake * 2);
		ServiceRegistry::register_super_node(RuntimeOrigin::signed(who.clone()), stake)
			.expect("funded account stakes");
	}
}

impl pallet_nest_peg::benchmarking::BenchmarkHelper for NestSetup {
	fn source_and_destination() -> (ServiceId, ServiceId) {
		use pallet_nest_anchor::benchmarking::BenchmarkHelper;
		let nodes: Vec<AccountId> = (0..2u8).map(|i| AccountId::from([i + 1; 32])).collect();
		let source = Self::service_with_nodes(&nodes, 2);
		let destination = Self::service_with_nodes(&nodes, 2);
		let owner = RuntimeOrigin::signed(AccountId::from(NEST_OWNER));
		ServiceRegistry::set_policy(owner, source, false, vec![destination])
			.expect("the owner names the destination");
		Self::super_node(&AccountId::from([0x5u8; 32]));
		(source, destination)
	}

	fn anchor(service: ServiceId, records: &[Vec<u8>]) -> Epoch {
		let (epoch, prev) = due_epoch(service);
		let root = thingschain_primitives::merkle::root(records);
		let nodes =
			pallet_service_registry::Services::<Runtime>::get(service).expect("exists").nodes;
		for node in nodes {
			NestAnchor::attest(RuntimeOrigin::signed(node), service, epoch, root, prev)
				.expect("trusted node attests");
		}
		NestAnchor::approve(
			RuntimeOrigin::signed(AccountId::from([0x5u8; 32])),
			service,
			epoch,
			root,
		)
		.expect("super node approves");
		epoch
	}

	fn skip(service: ServiceId) -> Epoch {
		let (epoch, _) = due_epoch(service);
		NestAnchor::skip_epoch(RuntimeOrigin::root(), service, epoch).expect("root skips epochs");
		epoch
	}
}

/// The next epoch of `service` to settle, and the hash of the anchor before it, once time has
/// moved (forward only) to its end.
fn due_epoch(service: ServiceId) -> (Epoch, thingschain_primitives::ids::Hash) {
	let (epoch, prev) = pallet_nest_anchor::Pallet::<Runtime>::next_epoch(service);
	let service_info = pallet_service_registry::Services::<Runtime>::get(service).expect("exists");
	let ends = service_info.terms().epoch_end(epoch);
	if System::block_number() < ends {
		System::set_block_number(ends);
	}
	(epoch, prev)
}

/// The keystore key type device keys are generated under in benchmarks.
const DEVICE_KEY_TYPE: polkadot_sdk::sp_core::crypto::KeyTypeId =
	polkadot_sdk::sp_core::crypto::KeyTypeId(*b"tdev");

impl pallet_devices::benchmarking::BenchmarkHelper<AccountId, crate::Signature> for NestSetup {
	fn service() -> ServiceId {
		use pallet_nest_anchor::benchmarking::BenchmarkHelper;
		Self::service_with_nodes(&[], 1)
	}

	fn device_key(index: u32) -> AccountId {
		let seed = alloc::format!("//device-{index}").into_bytes();
		let public = polkadot_sdk::sp_io::crypto::sr25519_generate(DEVICE_KEY_TYPE, Some(seed));
		AccountId::from(public)
	}

	fn sign(key: &AccountId, message: &[u8]) -> crate::Signature {
		let public = polkadot_sdk::sp_core::sr25519::Public::from_raw(key.clone().into());
		polkadot_sdk::sp_io::crypto::sr25519_sign(DEVICE_KEY_TYPE, &public, message)
			.expect("the key was generated in the keystore")
			.into()
	}
}

impl pallet_payloads::benchmarking::BenchmarkHelper<AccountId> for NestSetup {
	fn register_device(owner: &AccountId) -> (AccountId, pallet_devices::DeviceId) {
		use pallet_devices::benchmarking::BenchmarkHelper;
		let key = Self::device_key(0);
		let id = pallet_devices::NextDeviceId::<Runtime>::get();
		crate::Devices::register(
			RuntimeOrigin::signed(owner.clone()),
			key.clone(),
			pallet_devices::benchmarking::key_proof::<Runtime>(owner, &key),
			pallet_devices::DeviceKind::Sensor,
			None,
			Vec::new(),
			<Runtime as pallet_devices::Config>::MaxRetention::get(),
			pallet_devices::FeeLimits {
				window: 1,
				max_transactions: 1,
				max_fees: 1,
				max_deposits: crate::Balance::MAX,
			},
		)
		.expect("a funded owner registers a device");
		(key, id)
	}

	fn remove_device(owner: &AccountId, id: pallet_devices::DeviceId) {
		crate::Devices::remove(RuntimeOrigin::signed(owner.clone()), id)
			.expect("the owner removes its device");
	}
}
