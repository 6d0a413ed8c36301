//! Benchmarks: noting `h` referenced headers, each of the longest length a reference may
//! have and each paid (the path that verifies its seal and pays through DPoS), the end of
//! a block, and setting the share.

use super::*;
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::traits::Hooks,
	frame_system::RawOrigin,
	sp_consensus_aura::digests::CompatibleDigestItem,
	sp_runtime::{Digest, DigestItem},
};

/// The number of the block the benchmarks run in.
const NOW: u32 = 20;
/// Its slot.
const SLOT: u64 = 1_000;

/// Aura's pre-runtime digest item naming `slot`.
fn slot_item<T: Config>(slot: Slot) -> DigestItem {
	<DigestItem as CompatibleDigestItem<<T::AuthorityId as RuntimeAppPublic>::Signature>>::aura_pre_digest(slot)
}

/// Block `NOW` in `SLOT` on a chain whose earlier blocks are known, its digest referencing
/// `references`; the paid slots are a full window of slots none of them has.
fn start_block<T: Config>(references: &block_graph::References) {
	let now: BlockNumberFor<T> = NOW.into();
	for number in 0..NOW {
		frame_system::BlockHash::<T>::insert(
			BlockNumberFor::<T>::from(number),
			H256::repeat_byte(number as u8),
		);
	}
	let mut logs = alloc::vec![slot_item::<T>(SLOT.into())];
	if !references.is_empty() {
		logs.push(block_graph::digest_item(references));
	}
	frame_system::Pallet::<T>::set_block_number((NOW - 1).into());
	frame_system::Pallet::<T>::initialize(
		&now,
		&H256::repeat_byte(NOW as u8 - 1),
		&Digest { logs },
	);
	let window = u64::from(T::SlotWindow::get());
	// The window's older half, the referenced slots are in the newer one.
	let paid = (SLOT - window + 1..SLOT - window / 2).map(Slot::from).collect::<Vec<_>>();
	PaidSlots::<T>::put(BoundedVec::truncate_from(paid));
}

/// `count` headers of competing blocks, each in its own recent slot, sealed by that slot's
/// author, padded to the longest a referenced header may be; in the order of their hashes.
fn referenced_headers<T: Config>(count: u32) -> Vec<HeaderFor<T>> {
	let key = T::AuthorityId::generate_pair(None);
	let first = Slot::from(SLOT - 1 - u64::from(block_graph::MAX_REFERENCES));
	T::BenchmarkHelper::make_slot_author(first, SLOT.into(), &key);
	let mut headers: Vec<HeaderFor<T>> = (0..count)
		.map(|i| {
			let slot = Slot::from(SLOT - 1 - u64::from(i));
			let number: BlockNumberFor<T> = (NOW - 1).into();
			let mut header = HeaderFor::<T>::new(
				number,
				Default::default(),
				Default::default(),
				H256::repeat_byte(NOW as u8 - 2),
				Digest { logs: alloc::vec![slot_item::<T>(slot)] },
			);
			let padding = block_graph::MAX_HEADER_LENGTH as usize - header.encoded_size() - 100;
			header.digest_mut().push(DigestItem::Other(alloc::vec![i as u8; padding]));
			aura::seal(&mut header, &key).expect("the benchmark keystore signs");
			assert!(header.encoded_size() <= block_graph::MAX_HEADER_LENGTH as usize);
			header
		})
		.collect();
	headers.sort_by_key(|header| header.hash());
	headers
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn note_references(h: Linear<0, { block_graph::MAX_REFERENCES }>) {
		let headers = referenced_headers::<T>(h);
		start_block::<T>(&headers.iter().map(|header| header.hash()).collect());
		ReferenceShare::<T>::put(Perbill::from_percent(25));

		#[extrinsic_call]
		_(RawOrigin::None, BoundedVec::truncate_from(headers));

		let paid = frame_system::Pallet::<T>::events().len();
		assert!(paid >= h as usize, "every referenced block is paid");
	}

	/// A block whose references were noted, with a full window of paid slots.
	#[benchmark]
	fn on_finalize() {
		start_block::<T>(&Vec::new());
		Noted::<T>::put(true);
		let now: BlockNumberFor<T> = NOW.into();

		#[block]
		{
			Pallet::<T>::on_finalize(now);
		}

		assert!(PaidSlots::<T>::get().contains(&Slot::from(SLOT)));
	}

	#[benchmark]
	fn set_reference_share() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, Perbill::from_percent(10));

		assert_eq!(ReferenceShare::<T>::get(), Perbill::from_percent(10));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::genesis_ext(), crate::mock::Test);
}
