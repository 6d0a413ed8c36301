//! Weights for `pallet_payloads`: replaced by `scripts/benchmark.sh payloads`.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use polkadot_sdk::frame_support::{traits::Get, weights::{constants::RocksDbWeight, Weight}};

/// What each of `pallet_payloads`'s calls and hooks costs.
pub trait WeightInfo {
	fn store() -> Weight;
	fn grant_reader() -> Weight;
	fn revoke_reader() -> Weight;
	fn remove() -> Weight;
	fn reap() -> Weight;
}

/// The measured weights, priced with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: polkadot_sdk::frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn store() -> Weight { Weight::from_parts(100_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(6, 4)) }
	fn grant_reader() -> Weight { Weight::from_parts(30_000_000, 5_000).saturating_add(T::DbWeight::get().reads_writes(2, 1)) }
	fn revoke_reader() -> Weight { Weight::from_parts(30_000_000, 5_000).saturating_add(T::DbWeight::get().reads_writes(2, 1)) }
	fn remove() -> Weight { Weight::from_parts(60_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(3, 3)) }
	fn reap() -> Weight { Weight::from_parts(60_000_000, 10_000).saturating_add(T::DbWeight::get().reads_writes(3, 3)) }
}

impl WeightInfo for () {
	fn store() -> Weight { Weight::from_parts(100_000_000, 10_000) }
	fn grant_reader() -> Weight { Weight::from_parts(30_000_000, 5_000) }
	fn revoke_reader() -> Weight { Weight::from_parts(30_000_000, 5_000) }
	fn remove() -> Weight { Weight::from_parts(60_000_000, 10_000) }
	fn reap() -> Weight { Weight::from_parts(60_000_000, 10_000) }
}
