//! Benchmarks of the report check (two headers, two seal verifications, the fit with the
//! session record) and of the session bookkeeping at the start of each block.

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

/// `MaxAuthorities` fresh keys (from the keystore), the largest record a session can have.
fn authorities<T: Config>() -> Vec<T::AuthorityId> {
	(0..T::MaxAuthorities::get()).map(|_| T::AuthorityId::generate_pair(None)).collect()
}

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

	/// A new session recorded with the most authorities, the one leaving the window forgotten
	/// and its historical root pruned.
	#[benchmark]
	fn record_session() {
		let session = T::ReportWindow::get();
		Pallet::<T>::record_session(0, Slot::from(0), authorities::<T>());
		let keys = authorities::<T>();
		#[block]
		{
			Pallet::<T>::record_session(session, Slot::from(1_000), keys);
		}
		assert!(SessionSlots::<T>::contains_key(session));
		assert!(!SessionSlots::<T>::contains_key(0));
	}

	/// A block within a session already recorded: the hook only looks.
	#[benchmark]
	fn session_recorded() {
		Pallet::<T>::record_session(T::Schedule::session(), Slot::from(0), authorities::<T>());
		#[block]
		{
			Pallet::<T>::on_initialize(frame_system::Pallet::<T>::block_number());
		}
	}

	/// A report's slot checked against the records of its session and the next, both with
	/// the most authorities.
	#[benchmark]
	fn check_session_fit() {
		let session = T::Schedule::session();
		let keys = authorities::<T>();
		let turns = keys.len() as u64;
		let slot = 10 * turns + turns - 1;
		let offender = keys[(slot % turns) as usize].clone();
		Pallet::<T>::record_session(session, Slot::from(0), keys);
		Pallet::<T>::record_session(session + 1, Slot::from(20 * turns), authorities::<T>());
		let fits;
		#[block]
		{
			fits = Pallet::<T>::ensure_fits_session(session, Slot::from(slot), &offender);
		}
		assert!(fits.is_ok());
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::genesis_ext(), crate::mock::Test);
}
