//! Benchmarks of every call, each in its worst case (a service full of nodes, a full
//! super-node set).

use super::*;
use crate::Pallet as Registry;
use polkadot_sdk::{
	frame_benchmarking::v2::*, frame_support::traits::fungible::Mutate as _,
	frame_system::RawOrigin,
};

/// What the benchmarks need from the rest of the runtime.
pub trait BenchmarkHelper<AccountId> {
	/// Gives `who` a verified identity, so it can become a service node.
	fn verify_identity(who: &AccountId);
}

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId
where
	T::Currency: fungible::Mutate<T::AccountId>,
{
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, T::MinSuperNodeStake::get() * 10u32.into());
	who
}

/// A service owned by `owner` with `nodes` verified nodes and a quorum of one.
fn service<T: Config>(owner: &T::AccountId, nodes: u32) -> ServiceId {
	let origin = T::CreateOrigin::try_successful_origin().expect("governance origin");
	let name = alloc::vec![b'n'; T::MaxNameLen::get() as usize];
	Registry::<T>::create_service(origin, owner.clone(), name, 1, T::MinEpochLength::get())
		.expect("valid service");
	let id = NextServiceId::<T>::get() - 1;
	for i in 0..nodes {
		let node: T::AccountId = account("node", i, 0);
		T::BenchmarkHelper::verify_identity(&node);
		Registry::<T>::add_service_node(RawOrigin::Signed(owner.clone()).into(), id, node)
			.expect("verified node joins");
	}
	id
}

#[benchmarks(where T::Currency: fungible::Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create_service() -> Result<(), BenchmarkError> {
		let origin =
			T::CreateOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let owner: T::AccountId = account("owner", 0, 0);
		let name = alloc::vec![b'n'; T::MaxNameLen::get() as usize];
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, owner, name, 2, T::MinEpochLength::get());
		assert!(Services::<T>::contains_key(0));
		Ok(())
	}

	#[benchmark]
	fn add_service_node() {
		let owner: T::AccountId = account("owner", 0, 0);
		let id = service::<T>(&owner, T::MaxServiceNodes::get() - 1);
		let node: T::AccountId = account("new-node", 0, 0);
		T::BenchmarkHelper::verify_identity(&node);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, node.clone());
		assert!(Services::<T>::get(id).unwrap().nodes.contains(&node));
	}

	#[benchmark]
	fn remove_service_node() {
		let owner: T::AccountId = account("owner", 0, 0);
		let id = service::<T>(&owner, T::MaxServiceNodes::get());
		let node: T::AccountId = account("node", T::MaxServiceNodes::get() - 1, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, node.clone());
		assert!(!Services::<T>::get(id).unwrap().nodes.contains(&node));
	}

	#[benchmark]
	fn set_quorum() {
		let owner: T::AccountId = account("owner", 0, 0);
		let id = service::<T>(&owner, T::MaxServiceNodes::get());
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, T::MaxServiceNodes::get() + 1);
		assert_eq!(Services::<T>::get(id).unwrap().status, ServiceStatus::Suspended);
	}

	/// Every destination another service, each checked.
	#[benchmark]
	fn set_policy(d: Linear<0, { T::MaxLockDestinations::get() }>) {
		let owner: T::AccountId = account("owner", 0, 0);
		let id = service::<T>(&owner, 0);
		let destinations: Vec<ServiceId> = (0..d).map(|_| service::<T>(&owner, 0)).collect();
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, true, destinations.clone());
		assert_eq!(Policies::<T>::get(id).lock_destinations.into_inner(), destinations);
	}

	/// Into a full set, evicting its lowest stake (the last admitted, of equal stakes).
	#[benchmark]
	fn register_super_node() {
		let min = T::MinSuperNodeStake::get();
		for i in 0..T::MaxSuperNodes::get() {
			let member = funded::<T>("member", i);
			Registry::<T>::register_super_node(RawOrigin::Signed(member).into(), min)
				.expect("room in the set");
		}
		let who = funded::<T>("super", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), min + 1u32.into());
		assert!(SuperNodes::<T>::contains_key(&who));
		let evicted: T::AccountId = account("member", T::MaxSuperNodes::get() - 1, 0);
		assert!(SuperNodes::<T>::get(&evicted).is_some_and(|n| n.unlocks_at.is_some()));
	}

	#[benchmark]
	fn leave_super_nodes() {
		let who = funded::<T>("super", 0);
		Registry::<T>::register_super_node(
			RawOrigin::Signed(who.clone()).into(),
			T::MinSuperNodeStake::get(),
		)
		.expect("funded account stakes");
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(SuperNodes::<T>::get(&who).unwrap().unlocks_at.is_some());
	}

	#[benchmark]
	fn withdraw_super_node_stake() {
		let who = funded::<T>("super", 0);
		Registry::<T>::register_super_node(
			RawOrigin::Signed(who.clone()).into(),
			T::MinSuperNodeStake::get(),
		)
		.expect("funded account stakes");
		Registry::<T>::leave_super_nodes(RawOrigin::Signed(who.clone()).into()).expect("it leaves");
		frame_system::Pallet::<T>::set_block_number(
			frame_system::Pallet::<T>::block_number() + T::SuperNodeUnbondingPeriod::get(),
		);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!SuperNodes::<T>::contains_key(&who));
	}

	impl_benchmark_test_suite!(Registry, crate::mock::genesis_ext(), crate::mock::Test);
}
