//! Benchmarks of every call on a contested epoch (half the trusted nodes attest competing
//! roots, the other half are `ROOT`'s quorum, every one re-checked when the anchor is
//! decided), in their two paths for `attest` and `approve`: the one that completes the anchor
//! and pays `p` approvers, and one that only adds to a candidate (the common case; the calls
//! refund to it). Then the owner's (or governance's) ways out of a stalled epoch, and what a
//! node's removal costs.

use super::*;
use crate::Pallet as NestAnchor;
use alloc::vec::Vec;
use polkadot_sdk::{frame_benchmarking::v2::*, frame_system::RawOrigin, sp_runtime::traits::One};

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

/// The approvals epoch 0 of `service` needs.
fn required<T: Config>(service: ServiceId) -> u32 {
	let terms = T::Registry::service(service).expect("the service exists");
	NestAnchor::<T>::required_approvals(&terms, 0)
}

/// A service with `MaxAttesters` trusted nodes whose epoch 0 has ended, the most competing
/// roots it can have (each attested by one node), every node but the last `quorum`
/// attesting one of them, and enough super nodes that an anchor needs `approvals` approvals
/// (or more, if other super nodes are active) and they can give them. Returns the service,
/// the `quorum` nodes left to attest `ROOT`, and the super nodes.
fn contested_epoch<T: Config>(approvals: u32) -> (ServiceId, Vec<T::AccountId>, Vec<T::AccountId>) {
	let nodes: Vec<T::AccountId> =
		(0..T::MaxAttesters::get()).map(|i| account("node", i, 0)).collect();
	// Half the nodes attest other roots, the other half (at least two) are `ROOT`'s quorum.
	let others = (nodes.len() / 2).min(T::MaxCandidates::get() as usize - 1);
	let quorum = (nodes.len() - others) as u32;
	let service = T::BenchmarkHelper::service_with_nodes(&nodes, quorum);
	let mut supers: Vec<T::AccountId> = Vec::new();
	// Super nodes already active (a test genesis has some) raise the approvals needed
	// without being ours to approve with: add ours until they alone give them.
	let required = || required::<T>(service);
	while (required() < approvals || supers.len() < required() as usize)
		&& supers.len() < 4 * T::MaxApprovers::get() as usize
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

/// Attests `ROOT` by each of `nodes` and approves it by the first `approvals` of `supers`.
fn back<T: Config>(
	service: ServiceId,
	nodes: &[T::AccountId],
	supers: &[T::AccountId],
	approvals: usize,
) {
	for node in nodes {
		NestAnchor::<T>::attest(signed::<T>(node), service, 0, ROOT, Hash::zero())
			.expect("trusted node attests");
	}
	for super_node in supers.iter().take(approvals) {
		NestAnchor::<T>::approve(signed::<T>(super_node), service, 0, ROOT).expect("approves");
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// The last attestation of a quorum, after `p` approvals: it anchors and pays them.
	#[benchmark]
	fn attest(p: Linear<1, { T::MaxApprovers::get() }>) {
		let (service, quorum, supers) = contested_epoch::<T>(p);
		let (last, first) = quorum.split_last().expect("a quorum has members");
		back::<T>(service, first, &supers, required::<T>(service) as usize);
		#[extrinsic_call]
		_(RawOrigin::Signed(last.clone()), service, 0, ROOT, Hash::zero());
		assert!(Anchors::<T>::contains_key(service, 0));
	}

	/// The first attestation of `ROOT`, the epoch's last competing root: a new candidate.
	#[benchmark]
	fn attest_kept() {
		let (service, quorum, _) = contested_epoch::<T>(T::MaxApprovers::get());
		#[extrinsic_call]
		attest(RawOrigin::Signed(quorum[0].clone()), service, 0, ROOT, Hash::zero());
		assert!(!Anchors::<T>::contains_key(service, 0));
		assert!(Pending::<T>::get(service).is_some_and(|(_, c)| c.iter().any(|c| c.root == ROOT)));
	}

	/// The last of `p` approvals of an attested root: it anchors and pays them.
	#[benchmark]
	fn approve(p: Linear<1, { T::MaxApprovers::get() }>) {
		let (service, quorum, supers) = contested_epoch::<T>(p);
		let needed = required::<T>(service) as usize;
		back::<T>(service, &quorum, &supers, needed - 1);
		#[extrinsic_call]
		_(RawOrigin::Signed(supers[needed - 1].clone()), service, 0, ROOT);
		assert!(Anchors::<T>::contains_key(service, 0));
	}

	/// The last approval but one of `MaxApprovers`: the candidate holds the most approvers
	/// and is kept.
	#[benchmark]
	fn approve_kept() {
		let (service, quorum, supers) = contested_epoch::<T>(T::MaxApprovers::get());
		let needed = required::<T>(service) as usize;
		back::<T>(service, &quorum, &supers, needed - 2);
		#[extrinsic_call]
		approve(RawOrigin::Signed(supers[needed - 2].clone()), service, 0, ROOT);
		assert!(!Anchors::<T>::contains_key(service, 0));
	}

	/// Governance drops a contested epoch's pending roots.
	#[benchmark]
	fn expire_pending() -> Result<(), BenchmarkError> {
		let (service, _, _) = contested_epoch::<T>(T::MaxApprovers::get());
		let admin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(admin as T::RuntimeOrigin, service);
		assert!(Pending::<T>::get(service).is_none());
		Ok(())
	}

	/// Governance skips a contested epoch.
	#[benchmark]
	fn skip_epoch() -> Result<(), BenchmarkError> {
		let (service, _, _) = contested_epoch::<T>(T::MaxApprovers::get());
		let admin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(admin as T::RuntimeOrigin, service, 0);
		assert!(Anchors::<T>::get(service, 0).is_some_and(|anchor| anchor.skipped));
		Ok(())
	}

	/// A node whose attestation is pending leaves its service.
	#[benchmark]
	fn on_service_node_removed() {
		let (service, quorum, supers) = contested_epoch::<T>(T::MaxApprovers::get());
		let needed = required::<T>(service) as usize;
		back::<T>(service, &quorum[..1], &supers, needed - 1);
		#[block]
		{
			<NestAnchor<T> as OnServiceNodeRemoved<T::AccountId>>::on_service_node_removed(
				service, &quorum[0],
			);
		}
		let (_, candidates) = Pending::<T>::get(service).expect("others still pending");
		assert!(candidates.iter().all(|c| !c.attesters.contains(&quorum[0])));
	}

	/// Anyone chills a super node that stayed idle while anchors were made.
	#[benchmark]
	fn chill_idle() {
		let (_, _, supers) = contested_epoch::<T>(T::MaxApprovers::get());
		let idle = supers.last().expect("super nodes approve").clone();
		let now = frame_system::Pallet::<T>::block_number();
		LastApproved::<T>::insert(&idle, now);
		LastAnchoredAt::<T>::put(now + One::one());
		frame_system::Pallet::<T>::set_block_number(now + T::IdlePeriod::get() + One::one());
		let caller: T::AccountId = account("caller", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), idle.clone());
		assert!(!T::Registry::is_super_node(&idle));
	}

	impl_benchmark_test_suite!(NestAnchor, crate::mock::genesis_ext(), crate::mock::Test);
}
