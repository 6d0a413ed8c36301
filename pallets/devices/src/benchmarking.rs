//! Benchmarks of every call, each in its worst case (longest metadata, a service to check, a
//! key proof to verify, a retired key bound again).

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
pub trait BenchmarkHelper<AccountId, Signature> {
	/// A NestChain service that exists.
	fn service() -> ServiceId;
	/// The account of device key number `index`, a key [`Self::sign`] signs with.
	fn device_key(index: u32) -> AccountId;
	/// `key`'s signature of `message`.
	fn sign(key: &AccountId, message: &[u8]) -> Signature;
}

fn limits<T: Config>() -> FeeLimits<BalanceOf<T>, BlockNumberFor<T>> {
	let deposit = T::DeviceDeposit::get();
	FeeLimits {
		window: 10u32.into(),
		max_transactions: 100,
		max_fees: deposit,
		max_deposits: deposit,
	}
}

/// `key`'s proof of possession for binding it to `owner`.
pub fn key_proof<T: Config>(owner: &T::AccountId, key: &T::AccountId) -> T::Signature {
	T::BenchmarkHelper::sign(key, &Pallet::<T>::key_binding(owner, key).message())
}

/// Device key `index`, retired at nonce 7: binding it again restores that nonce.
fn retired_key<T: Config>(index: u32) -> T::AccountId {
	let key = T::BenchmarkHelper::device_key(index);
	RetiredKeys::<T>::insert(&key, T::Nonce::from(7u32));
	key
}

/// A funded owner with one registered device; returns the owner and the device's id.
fn owner_with_device<T: Config>() -> (T::AccountId, DeviceId)
where
	T::Currency: Mutate<T::AccountId>,
{
	let owner: T::AccountId = account("owner", 0, 0);
	T::Currency::set_balance(&owner, T::DeviceDeposit::get() * 100u32.into());
	let id = NextDeviceId::<T>::get();
	let key = T::BenchmarkHelper::device_key(0);
	Pallet::<T>::register(
		RawOrigin::Signed(owner.clone()).into(),
		key.clone(),
		key_proof::<T>(&owner, &key),
		DeviceKind::Sensor,
		Some(T::BenchmarkHelper::service()),
		alloc::vec![0; T::MaxMetadataLen::get() as usize],
		T::MaxRetention::get(),
		limits::<T>(),
	)
	.expect("a funded owner registers");
	(owner, id)
}

/// The service device `id` belongs to.
fn service_of<T: Config>(id: DeviceId) -> ServiceId {
	Devices::<T>::get(id).and_then(|device| device.service).expect("it joined one").service
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register() {
		let owner: T::AccountId = account("owner", 0, 0);
		T::Currency::set_balance(&owner, T::DeviceDeposit::get() * 100u32.into());
		let key = retired_key::<T>(0);
		let proof = key_proof::<T>(&owner, &key);
		let metadata = alloc::vec![0; T::MaxMetadataLen::get() as usize];
		let service = T::BenchmarkHelper::service();
		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner),
			key.clone(),
			proof,
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
		let new_key = retired_key::<T>(1);
		let proof = key_proof::<T>(&owner, &new_key);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, new_key.clone(), proof);
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
		let new = FeeLimits {
			window: 20u32.into(),
			max_transactions: 1,
			max_fees: 1u32.into(),
			max_deposits: 1u32.into(),
		};
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

	/// Asking to join a service whose owner is another account.
	#[benchmark]
	fn join_service() {
		let (owner, id) = owner_with_device::<T>();
		Pallet::<T>::leave_service(RawOrigin::Signed(owner.clone()).into(), id)
			.expect("the owner takes it out");
		let service = T::BenchmarkHelper::service();
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, service);
		let membership = Devices::<T>::get(id).and_then(|d| d.service);
		assert_eq!(membership, Some(Membership { service, status: MemberStatus::Requested }));
	}

	#[benchmark]
	fn admit() {
		let (_, id) = owner_with_device::<T>();
		let service = service_of::<T>(id);
		let service_owner = T::Services::admission(service).expect("it exists").owner;
		#[extrinsic_call]
		_(RawOrigin::Signed(service_owner), id, service, true);
		let status = Devices::<T>::get(id).and_then(|d| d.service).map(|m| m.status);
		assert_eq!(status, Some(MemberStatus::Admitted { may_lock: true }));
	}

	/// By the service's owner: the device's owner is checked first.
	#[benchmark]
	fn leave_service() {
		let (_, id) = owner_with_device::<T>();
		let service = service_of::<T>(id);
		let service_owner = T::Services::admission(service).expect("it exists").owner;
		#[extrinsic_call]
		_(RawOrigin::Signed(service_owner), id);
		assert_eq!(Devices::<T>::get(id).and_then(|d| d.service), None);
	}

	/// What [`crate::OwnerPays`] adds to charging a fee: finding the device of the signing key,
	/// its owner and its spending, and counting the fee.
	#[benchmark]
	fn charge_owner() {
		let (_, id) = owner_with_device::<T>();
		let key = T::BenchmarkHelper::device_key(0);
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

	impl_benchmark_test_suite!(Pallet, crate::mock::genesis_ext(), crate::mock::Test);
}
