//! What the runtime's own pallets need to run their benchmarks here
//! (`thingschain benchmark pallet`, see `scripts/benchmark.sh`).

use crate::{AccountId, RuntimeOrigin, Session, SessionKeys};
use codec::Encode;

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
