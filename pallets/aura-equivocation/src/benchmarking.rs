//! Benchmark of the report check: two headers, two seal verifications.

use super::*;
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_system,
	sp_consensus_aura::digests::CompatibleDigestItem,
	sp_runtime::{
		traits::{Header as _, One},
		Digest, DigestItem,
	},
};

/// A header of `slot`, made distinct by `variant`, sealed by `key` (from the keystore).
fn sealed_header<T: Config>(slot: Slot, variant: u8, key: &T::AuthorityId) -> HeaderFor<T> {
	let pre_digest = <DigestItem as CompatibleDigestItem<
		<T::AuthorityId as RuntimeAppPublic>::Signature,
	>>::aura_pre_digest(slot);
	let mut header = HeaderFor::<T>::new(
		One::one(),
		Default::default(),
		Default::default(),
		frame_system::Pallet::<T>::parent_hash(),
		Digest { logs: alloc::vec![pre_digest, DigestItem::Other(alloc::vec![variant])] },
	);
	let signature = key.sign(&header.hash()).expect("the benchmark keystore signs");
	header.digest_mut().push(<DigestItem as CompatibleDigestItem<_>>::aura_seal(signature));
	header
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn check_equivocation_proof() {
		let offender = T::AuthorityId::generate_pair(None);
		let slot = Slot::from(42);
		let proof = EquivocationProof {
			first_header: sealed_header::<T>(slot, 1, &offender),
			second_header: sealed_header::<T>(slot, 2, &offender),
			offender,
			slot,
		};
		let valid;
		#[block]
		{
			valid = crate::check_equivocation_proof::<HeaderFor<T>, T::AuthorityId>(&proof);
		}
		assert!(valid);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
