//! Benchmarks of both calls in their worst case: an epoch with the most competing roots,
//! whose last attestation or approval completes the anchor and pays the most approvers.

use super::*;
use crate::Pallet as NestAnchor;
use alloc::vec::Vec;
use polkadot_sdk::{frame_benchmarking::v2::*, frame_system::RawOrigin};

/// What the benchmarks need from the registry.
pub trait BenchmarkHelper<AccountId> {
	/// A new active service with `nodes` as trusted nodes, quorum `quorum` and epochs short
	/// enough that epoch 0 has ended by block 1,000,000.
	fn service_with_nodes(nodes: &[AccountId], quorum: u32) -> ServiceId;
	/// Makes `who` an active super node.
	fn super_node(who: &AccountId);
}

/// The root the benchmarks anchor.
const ROOT: Hash = Hash::repeat_byte(0xaa);

fn signed<T: Config>(who: &T::AccountId) -> OriginFor<T> {
	RawOrigin::Signed(who.clone()).into()
}

/// A service with `MaxAttesters` trusted nodes whose epoch 0 has ended, the most competing
/// roots it can have (each attested by one node), every node but the last `quorum`
/// attesting one of them, and enough super nodes that an anchor needs `MaxApprovers`
/// approvals (at most four times that many). Returns the service, the `quorum` nodes left
/// to attest `ROOT`, and the super nodes.
fn contested_epoch<T: Config>() -> (ServiceId, Vec<T::AccountId>, Vec<T::AccountId>) {
	let nodes: Vec<T::AccountId> =
		(0..T::MaxAttesters::get()).map(|i| account("node", i, 0)).collect();
	// Other roots, leaving at least two nodes for `ROOT`'s quorum.
	let others = (T::MaxCandidates::get() as usize - 1).min(nodes.len() - 2);
	let quorum = (nodes.len() - others) as u32;
	let service = T::BenchmarkHelper::service_with_nodes(&nodes, quorum);
	let most_approvers = T::MaxApprovers::get();
	let mut supers: Vec<T::AccountId> = Vec::new();
	while NestAnchor::<T>::required_approvals() < most_approvers
		&& supers.len() < 4 * most_approvers as usize
	{
		let super_node = account("super", supers.len() as u32, 0);
		T::BenchmarkHelper::super_node(&super_node);
		supers.push(super_node);
	}
	frame_system::Pallet::<T>::set_block_number(1_000_000u32.into());
	for (i, node) in nodes.iter().take(others).enumerate() {
		NestAnchor::<T>::attest(
			signed::<T>(node),
			service,
			0,
			Hash::repeat_byte(i as u8),
			Hash::zero(),
		)
		.expect("trusted node attests");
	}
	(service, nodes[others..].to_vec(), supers)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn attest() {
		let (service, quorum, supers) = contested_epoch::<T>();
		let (last, first) = quorum.split_last().expect("a quorum has members");
		for node in first {
			NestAnchor::<T>::attest(signed::<T>(node), service, 0, ROOT, Hash::zero())
				.expect("trusted node attests");
		}
		for super_node in supers.iter().take(NestAnchor::<T>::required_approvals() as usize) {
			NestAnchor::<T>::approve(signed::<T>(super_node), service, 0, ROOT).expect("approves");
		}
		#[extrinsic_call]
		_(RawOrigin::Signed(last.clone()), service, 0, ROOT, Hash::zero());
		assert!(Anchors::<T>::contains_key(service, 0));
	}

	#[benchmark]
	fn approve() {
		let (service, quorum, supers) = contested_epoch::<T>();
		for node in &quorum {
			NestAnchor::<T>::attest(signed::<T>(node), service, 0, ROOT, Hash::zero())
				.expect("trusted node attests");
		}
		let needed = NestAnchor::<T>::required_approvals() as usize;
		for super_node in supers.iter().take(needed - 1) {
			NestAnchor::<T>::approve(signed::<T>(super_node), service, 0, ROOT).expect("approves");
		}
		#[extrinsic_call]
		_(RawOrigin::Signed(supers[needed - 1].clone()), service, 0, ROOT);
		assert!(Anchors::<T>::contains_key(service, 0));
	}

	impl_benchmark_test_suite!(NestAnchor, crate::mock::new_test_ext(), crate::mock::Test);
}
