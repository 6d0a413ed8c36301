//! Benchmarks of every call; claims and contests by proof depth.

use super::*;
use crate::Pallet as Peg;
use alloc::vec::Vec;
use polkadot_sdk::{frame_benchmarking::v2::*, frame_system::RawOrigin};

/// What the benchmarks need from the registry and the anchors.
pub trait BenchmarkHelper {
	/// Two active services to peg between.
	fn source_and_destination() -> (ServiceId, ServiceId);
	/// Anchors the next epoch of `service` with `records`; returns the epoch.
	fn anchor(service: ServiceId, records: &[Vec<u8>]) -> Epoch;
	/// Skips the next epoch of `service` (as governance); returns the epoch.
	fn skip(service: ServiceId) -> Epoch;
}

/// `2^depth` records of the source, the lock among them, anchored and confirmed.
fn anchored_lock<T: Config>(depth: u32) -> (PegLock<T::AccountId>, Epoch, InclusionProof) {
	let (source, destination) = T::BenchmarkHelper::source_and_destination();
	let lock = PegLock {
		lock_id: Hash::repeat_byte(7),
		source,
		destination,
		beneficiary: account("holder", 0, 0),
		payload: Hash::repeat_byte(8),
	};
	let mut records: Vec<Vec<u8>> = (0..(1u32 << depth)).map(|i| i.encode()).collect();
	records[0] = record_bytes(RecordKind::Lock, &lock);
	let epoch = T::BenchmarkHelper::anchor(source, &records);
	let proof = InclusionProof::build(&records, 0).expect("the lock is a record");
	let now = frame_system::Pallet::<T>::block_number();
	frame_system::Pallet::<T>::set_block_number(now + ConfirmationPeriod::<T>::get());
	(lock, epoch, proof)
}

/// A lock anchored in a two-record epoch and claimed by its beneficiary.
fn claimed_lock<T: Config>() -> PegLock<T::AccountId> {
	let (lock, epoch, proof) = anchored_lock::<T>(1);
	Peg::<T>::claim(RawOrigin::Signed(lock.beneficiary.clone()).into(), lock.clone(), epoch, proof)
		.expect("proven lock is claimed");
	lock
}

/// A claimed lock that is final: its source anchored the claim's final epoch (without a
/// revert) and the contest period passed.
fn final_claim<T: Config>() -> PegLock<T::AccountId> {
	let lock = claimed_lock::<T>();
	let final_epoch = Claims::<T>::get(lock.source, lock.lock_id).expect("claimed").final_epoch;
	while T::Anchors::anchor(lock.source, final_epoch).is_none() {
		T::BenchmarkHelper::anchor(lock.source, &[0u32.encode()]);
	}
	let now = frame_system::Pallet::<T>::block_number();
	frame_system::Pallet::<T>::set_block_number(now + ContestPeriod::<T>::get());
	lock
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// The worst case: the claim's final epoch is anchored too (a late claim reads it).
	#[benchmark]
	fn claim(d: Linear<1, 12>) {
		let (lock, epoch, proof) = anchored_lock::<T>(d);
		let final_epoch = epoch.saturating_add(Peg::<T>::finality_epochs(lock.source));
		while T::Anchors::anchor(lock.source, final_epoch).is_none() {
			T::BenchmarkHelper::anchor(lock.source, &[0u32.encode()]);
		}
		let relayer: T::AccountId = account("relayer", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(relayer), lock.clone(), epoch, proof);
		assert!(Claims::<T>::contains_key(lock.source, lock.lock_id));
	}

	/// The revert is in the claim's final epoch, which is anchored: the finality check reads
	/// that anchor and the proof another.
	#[benchmark]
	fn contest(d: Linear<1, 12>) {
		let lock = claimed_lock::<T>();
		let revert = record_bytes(RecordKind::Revert, &PegRevert { lock_id: lock.lock_id });
		let mut records: Vec<Vec<u8>> = (0..(1u32 << d)).map(|i| i.encode()).collect();
		records[0] = revert;
		let final_epoch = Claims::<T>::get(lock.source, lock.lock_id).expect("claimed").final_epoch;
		while T::Anchors::anchor(lock.source, final_epoch.saturating_sub(1)).is_none() {
			T::BenchmarkHelper::anchor(lock.source, &[0u32.encode()]);
		}
		let last = T::BenchmarkHelper::anchor(lock.source, &records);
		let proof = InclusionProof::build(&records, 0).expect("the revert is a record");
		let challenger: T::AccountId = account("challenger", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(challenger), lock.source, lock.lock_id, last, proof);
		assert_eq!(
			Claims::<T>::get(lock.source, lock.lock_id).unwrap().status,
			ClaimStatus::Contested
		);
	}

	#[benchmark]
	fn transfer() {
		let lock = final_claim::<T>();
		let to: T::AccountId = account("to", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(lock.beneficiary.clone()), lock.source, lock.lock_id, to.clone());
		assert_eq!(Claims::<T>::get(lock.source, lock.lock_id).unwrap().holder, to);
	}

	#[benchmark]
	fn return_to_source() {
		let lock = final_claim::<T>();
		#[extrinsic_call]
		_(
			RawOrigin::Signed(lock.beneficiary.clone()),
			lock.source,
			lock.lock_id,
			lock.beneficiary.clone(),
		);
		assert_eq!(
			Claims::<T>::get(lock.source, lock.lock_id).unwrap().status,
			ClaimStatus::Returned
		);
	}

	#[benchmark]
	fn set_periods() -> Result<(), BenchmarkError> {
		let origin =
			T::UpdateOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, 7u32.into(), 9u32.into());
		assert_eq!(ContestPeriod::<T>::get(), 9u32.into());
		Ok(())
	}

	#[benchmark]
	fn set_finality_epochs() -> Result<(), BenchmarkError> {
		let origin =
			T::UpdateOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let (source, _) = T::BenchmarkHelper::source_and_destination();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, source, 3);
		assert_eq!(Peg::<T>::finality_epochs(source), 3);
		Ok(())
	}

	/// A claim whose final epoch its source skipped is voided.
	#[benchmark]
	fn void_skipped() {
		let lock = claimed_lock::<T>();
		let skipped = T::BenchmarkHelper::skip(lock.source);
		let watcher: T::AccountId = account("watcher", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(watcher), lock.source, lock.lock_id, skipped);
		let voided = Claims::<T>::get(lock.source, lock.lock_id).expect("claimed");
		assert_eq!(voided.status, ClaimStatus::Contested);
	}

	/// A final claim becomes its destination's next arrival.
	#[benchmark]
	fn settle() {
		let lock = final_claim::<T>();
		let settler: T::AccountId = account("settler", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(settler), lock.source, lock.lock_id);
		assert_eq!(Settled::<T>::get(lock.source, lock.lock_id), Some(0));
		assert_eq!(ArrivalCount::<T>::get(lock.destination), 1);
	}

	impl_benchmark_test_suite!(Peg, crate::mock::genesis_ext(), crate::mock::Test);
}
