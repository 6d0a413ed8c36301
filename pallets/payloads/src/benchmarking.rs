//! Benchmarks of every call and of reaping in `on_idle`, each in its worst case: the longest
//! payload, as many recipients and readers as allowed, the reader searched for last, the
//! device's ledger removed with its last record.

use super::*;
use crate::fixtures::{encrypted, reader};
use alloc::vec::Vec;
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::traits::fungible::Mutate,
	frame_system::RawOrigin,
	sp_runtime::traits::{Bounded, One},
};

/// What the benchmarks need from the rest of the runtime.
pub trait BenchmarkHelper<AccountId> {
	/// Registers a device owned by the funded `owner`, with no limit the benchmarks reach;
	/// returns its key and id.
	fn register_device(owner: &AccountId) -> (AccountId, DeviceId);
	/// Removes `owner`'s device `id`.
	fn remove_device(owner: &AccountId, id: DeviceId);
}

/// A funded owner and its device with every reader granted: (owner, device key, device id).
fn owner_with_device<T: Config>() -> (T::AccountId, T::AccountId, DeviceId)
where
	T::Currency: Mutate<T::AccountId>,
{
	let owner: T::AccountId = account("owner", 0, 0);
	T::Currency::set_balance(&owner, BalanceOf::<T>::max_value() / 4u32.into());
	let (key, device) = T::BenchmarkHelper::register_device(&owner);
	let readers: Vec<ReaderKey> = (0..T::MaxReaders::get()).map(reader).collect();
	Readers::<T>::insert(device, BoundedVec::try_from(readers).expect("MaxReaders of them"));
	(owner, key, device)
}

/// The largest record a device may store, its `sequence`-th.
fn largest_payload<T: Config>(sequence: u64) -> Payload {
	let readers: Vec<ReaderKey> = (0..T::MaxReaders::get()).map(reader).collect();
	encrypted(&readers, T::MaxPayloadLen::get(), sequence)
}

/// An owner whose device stored the largest record: (owner, device id, record id).
fn stored_record<T: Config>() -> (T::AccountId, DeviceId, RecordId)
where
	T::Currency: Mutate<T::AccountId>,
{
	let (owner, key, device) = owner_with_device::<T>();
	Pallet::<T>::store(RawOrigin::Signed(key).into(), largest_payload::<T>(0))
		.expect("the device stores");
	(owner, device, 0)
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn store() {
		let (_, key, device) = owner_with_device::<T>();
		let payload = largest_payload::<T>(0);
		#[extrinsic_call]
		_(RawOrigin::Signed(key), payload);
		assert!(Records::<T>::contains_key(device, 0));
	}

	#[benchmark]
	fn store_batch(n: Linear<1, { T::MaxBatch::get() }>) {
		let (_, key, device) = owner_with_device::<T>();
		let payloads: Vec<Payload> = (0..n).map(|i| largest_payload::<T>(i.into())).collect();
		let payloads = BoundedVec::try_from(payloads).expect("at most MaxBatch of them");
		#[extrinsic_call]
		_(RawOrigin::Signed(key), payloads);
		assert!(Records::<T>::contains_key(device, RecordId::from(n) - 1));
	}

	#[benchmark]
	fn grant_reader() {
		let (owner, _, device) = owner_with_device::<T>();
		let last = reader(T::MaxReaders::get() - 1);
		Readers::<T>::mutate(device, |readers| readers.retain(|r| *r != last));
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), device, last);
		assert!(Readers::<T>::get(device).contains(&last));
	}

	#[benchmark]
	fn revoke_reader() {
		let (owner, _, device) = owner_with_device::<T>();
		let last = reader(T::MaxReaders::get() - 1);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), device, last);
		assert!(!Readers::<T>::get(device).contains(&last));
	}

	#[benchmark]
	fn remove() {
		let (owner, device, record) = stored_record::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), device, record);
		assert!(!Records::<T>::contains_key(device, record));
	}

	#[benchmark]
	fn reap() {
		let (_, device, record) = stored_record::<T>();
		let expires_at = Records::<T>::get(device, record).expect("stored").expires_at;
		frame_system::Pallet::<T>::set_block_number(expires_at + One::one());
		let reaper: T::AccountId = account("reaper", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(reaper), device, record);
		assert!(!Records::<T>::contains_key(device, record));
	}

	/// One step of `on_idle`'s reaping that deletes a record: the last of a removed device, so
	/// its ledger goes too.
	#[benchmark]
	fn reap_expired_record() {
		let (owner, device, record) = stored_record::<T>();
		T::BenchmarkHelper::remove_device(&owner, device);
		let now = Records::<T>::get(device, record).expect("stored").expires_at;
		let mut cursor = now;
		#[block]
		{
			assert_eq!(Pallet::<T>::reap_step(&mut cursor, now), Some(ReapStep::Reaped));
		}
		assert!(!Records::<T>::contains_key(device, record));
		assert!(!Ledgers::<T>::contains_key(device));
	}

	/// One step of `on_idle`'s reaping past a block at which nothing expires.
	#[benchmark]
	fn skip_reaped_block() {
		let now = frame_system::Pallet::<T>::block_number();
		let mut cursor = now;
		#[block]
		{
			assert_eq!(Pallet::<T>::reap_step(&mut cursor, now), Some(ReapStep::Skipped));
		}
	}

	/// What the device registry's `remove` has this pallet do: forget a full reader list and
	/// the device's ledger.
	#[benchmark]
	fn on_device_removed() {
		let (_, _, device) = owner_with_device::<T>();
		Ledgers::<T>::insert(device, Ledger::default());
		#[block]
		{
			<Pallet<T> as OnDeviceRemoved>::on_device_removed(device);
		}
		assert!(!Readers::<T>::contains_key(device));
		assert!(!Ledgers::<T>::contains_key(device));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::genesis_ext(), crate::mock::Test);
}
