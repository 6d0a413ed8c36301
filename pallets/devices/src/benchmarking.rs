//! Benchmarks of every call, each in its worst case (longest metadata, a service to check).

use super::*;
use polkadot_sdk::{
	frame_benchmarking::v2::*, frame_support::traits::fungible::Mutate, frame_system::RawOrigin,
};

/// Owners pay for every call of their devices, one action each.
struct EveryCall;
impl<Call> crate::SponsoredCalls<Call> for EveryCall {
	fn actions(_: &Call) -> Option<u32> {
		Some(1)
	}
}

/// What the benchmarks need from the rest of the runtime.
pub trait BenchmarkHelper {
	/// A NestChain service that exists.
	fn service() -> ServiceId;
}

fn limits<T: Config>() -> FeeLimits<BalanceOf<T>, BlockNumberFor<T>> {
	FeeLimits { window: 10u32.into(), max_transactions: 100, max_fees: T::DeviceDeposit::get() }
}

/// A funded owner with one registered device; returns the owner and the device's id.
fn owner_with_device<T: Config>() -> (T::AccountId, DeviceId)
where
	T::Currency: Mutate<T::AccountId>,
{
	let owner: T::AccountId = account("owner", 0, 0);
	T::Currency::set_balance(&owner, T::DeviceDeposit::get() * 100u32.into());
	let id = NextDeviceId::<T>::get();
	Pallet::<T>::register(
		RawOrigin::Signed(owner.clone()).into(),
		account("device", 0, 0),
		DeviceKind::Sensor,
		Some(T::BenchmarkHelper::service()),
		alloc::vec![0; T::MaxMetadataLen::get() as usize],
		T::MaxRetention::get(),
		limits::<T>(),
	)
	.expect("a funded owner registers");
	(owner, id)
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register() {
		let owner: T::AccountId = account("owner", 0, 0);
		T::Currency::set_balance(&owner, T::DeviceDeposit::get() * 100u32.into());
		let key: T::AccountId = account("device", 0, 0);
		let metadata = alloc::vec![0; T::MaxMetadataLen::get() as usize];
		let service = T::BenchmarkHelper::service();
		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner),
			key.clone(),
			DeviceKind::Sensor,
			Some(service),
			metadata,
			T::MaxRetention::get(),
			limits::<T>(),
		);
		assert!(DeviceOfKey::<T>::contains_key(&key));
	}

	#[benchmark]
	fn rotate_key() {
		let (owner, id) = owner_with_device::<T>();
		let new_key: T::AccountId = account("device", 1, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, new_key.clone());
		assert_eq!(DeviceOfKey::<T>::get(&new_key), Some(id));
	}

	#[benchmark]
	fn suspend() {
		let (owner, id) = owner_with_device::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);
		assert_eq!(Devices::<T>::get(id).map(|d| d.status), Some(DeviceStatus::Suspended));
	}

	#[benchmark]
	fn resume() {
		let (owner, id) = owner_with_device::<T>();
		Pallet::<T>::suspend(RawOrigin::Signed(owner.clone()).into(), id).expect("owner suspends");
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);
		assert_eq!(Devices::<T>::get(id).map(|d| d.status), Some(DeviceStatus::Active));
	}

	#[benchmark]
	fn set_limits() {
		let (owner, id) = owner_with_device::<T>();
		let new = FeeLimits { window: 20u32.into(), max_transactions: 1, max_fees: 1u32.into() };
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, new);
		assert_eq!(Devices::<T>::get(id).map(|d| d.limits), Some(new));
	}

	#[benchmark]
	fn remove() {
		let (owner, id) = owner_with_device::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);
		assert!(!Devices::<T>::contains_key(id));
	}

	/// What [`crate::OwnerPays`] adds to charging a fee: finding the device of the signing key,
	/// its owner and its spending, and counting the fee.
	#[benchmark]
	fn charge_owner() {
		let (_, id) = owner_with_device::<T>();
		let key: T::AccountId = account("device", 0, 0);
		let call: <T as frame_system::Config>::RuntimeCall =
			frame_system::Call::<T>::remark { remark: alloc::vec![] }.into();
		#[block]
		{
			Pallet::<T>::sponsor::<EveryCall>(&key, &call, 1u32.into())
				.expect("within its limits")
				.expect("an active device")
				.record();
		}
		assert_eq!(Spending::<T>::get(id).transactions, 1);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
