//! The pallet's tests: who is paid for a referenced block, and every way a reference is
//! refused, each performed.

use crate::{mock::*, Error, Event, NotRewarded, Noted, PaidSlots, ReferenceShare};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, inherent::ProvideInherent, traits::Hooks, BoundedVec},
	frame_system::RawOrigin,
	sp_consensus_aura::Slot,
	sp_core::H256,
	sp_inherents::InherentData,
	sp_runtime::{traits::Header as _, DigestItem, DispatchError, DispatchResult, Perbill},
};
use thingschain_primitives::block_graph::{INHERENT_IDENTIFIER, MAX_DEPTH};

/// `headers` in the order of their hashes, as the digest lists them.
fn in_order(headers: &[Header]) -> Vec<Header> {
	let mut headers = headers.to_vec();
	headers.sort_by_key(|header| header.hash());
	headers
}

/// Notes `headers` in the current block.
fn note(headers: Vec<Header>) -> DispatchResult {
	crate::Pallet::<Test>::note_references(
		RawOrigin::None.into(),
		BoundedVec::truncate_from(headers),
	)
}

/// Starts block `number` in `slot` referencing `headers` and notes them.
fn reference(number: u64, slot: u64, headers: &[Header]) -> DispatchResult {
	let headers = in_order(headers);
	let hashes: Vec<H256> = headers.iter().map(|h| h.hash()).collect();
	start_block(number, slot, &hashes);
	note(headers)
}

/// Why the current block did not pay for `header`, if it did not.
fn refusal(header: &Header) -> Option<NotRewarded> {
	events().into_iter().find_map(|event| match event {
		Event::ReferenceNotRewarded { block, reason } if block == header.hash() => Some(reason),
		_ => None,
	})
}

#[test]
fn a_referenced_blocks_author_is_paid_its_share_once() {
	new_test_ext().execute_with(|| {
		run_to(6);
		// A competitor of block 6, sealed in slot 7 by its author (Dave, account 4).
		let fork = fork_block(6, canonical(5), 7);
		assert_ok!(reference(7, 8, &[fork.clone()]));
		assert_eq!(Rewarded::get(), vec![(account(3), SHARE)]);
		assert_eq!(
			events(),
			vec![Event::ReferenceRewarded { block: fork.hash(), slot: 7.into(), author: 4 }]
		);
		end_block();
		// Referenced again (the node refuses that on one branch; another branch may), it is
		// not paid again.
		assert_ok!(reference(8, 9, &[fork.clone()]));
		assert_eq!(refusal(&fork), Some(NotRewarded::SlotPaid));
		assert_eq!(Rewarded::get().len(), 1);
		end_block();
	});
}

#[test]
fn two_blocks_of_one_slot_are_paid_once() {
	new_test_ext().execute_with(|| {
		run_to(6);
		// Dave equivocates in slot 7: two headers, both sealed by him.
		let first = sealed(6, canonical(5), 7, 1, turn(7));
		let second = sealed(6, canonical(5), 7, 2, turn(7));
		assert_ok!(reference(7, 8, &[first.clone(), second.clone()]));
		let [paid, refused] = in_order(&[first, second]).try_into().unwrap();
		assert_eq!(refusal(&paid), None);
		assert_eq!(refusal(&refused), Some(NotRewarded::SlotPaid));
		assert_eq!(Rewarded::get(), vec![(account(3), SHARE)]);
		end_block();
	});
}

#[test]
fn a_block_of_a_slot_this_chain_has_a_block_in_is_not_paid() {
	new_test_ext().execute_with(|| {
		run_to(6);
		// Block 5 of this chain is slot 5's; another block of slot 5 is an equivocation.
		let twin = fork_block(5, canonical(4), 5);
		assert_ok!(reference(7, 8, &[twin.clone()]));
		assert_eq!(refusal(&twin), Some(NotRewarded::SlotPaid));
		assert!(Rewarded::get().is_empty());
		end_block();
	});
}

#[test]
fn an_unsealed_or_wrongly_sealed_block_is_not_paid() {
	new_test_ext().execute_with(|| {
		run_to(6);
		let unsealed = unsealed(6, canonical(5), 7, 0);
		// Sealed by Alice, whose turn slot 7 is not.
		let by_another = sealed(6, canonical(5), 7, 1, turn(7 + 1));
		assert_ok!(reference(7, 8, &[unsealed.clone(), by_another.clone()]));
		assert_eq!(refusal(&unsealed), Some(NotRewarded::BadSeal));
		assert_eq!(refusal(&by_another), Some(NotRewarded::BadSeal));
		assert!(Rewarded::get().is_empty());
		end_block();
	});
}

#[test]
fn a_block_of_a_session_the_chain_no_longer_knows_is_not_paid() {
	new_test_ext().execute_with(|| {
		run_to(6);
		FirstKnownSlot::set(8);
		let foreign = fork_block(6, canonical(5), 7);
		assert_ok!(reference(7, 9, &[foreign.clone()]));
		assert_eq!(refusal(&foreign), Some(NotRewarded::UnknownAuthor));
		assert!(Rewarded::get().is_empty());
		end_block();
	});
}

#[test]
fn only_recent_blocks_of_earlier_slots_on_known_parents_are_paid() {
	new_test_ext().execute_with(|| {
		let last = u64::from(MAX_DEPTH) + 4;
		run_to(last);
		let now = last + 1;
		// Numbered as this block, or below the depth.
		let level = fork_block(now, canonical(now - 1), now + 1);
		let deep = fork_block(now - u64::from(MAX_DEPTH) - 2, canonical(1), 2);
		// On a parent that is neither this chain's nor referenced.
		let orphan = fork_block(now - 1, H256::repeat_byte(7), now);
		// Of the next block's slot (`now + 6`).
		let same_slot = fork_block(now - 1, canonical(now - 2), now + 6);
		// Naming no slot.
		let mut no_slot = fork_block(now - 1, canonical(now - 2), now + 4);
		no_slot.digest_mut().logs.retain(|item| item.as_pre_runtime().is_none());
		assert_ok!(reference(now, now + 5, &[level.clone(), deep.clone(), orphan.clone()]));
		assert_eq!(refusal(&level), Some(NotRewarded::OutOfDepth));
		assert_eq!(refusal(&deep), Some(NotRewarded::OutOfDepth));
		assert_eq!(refusal(&orphan), Some(NotRewarded::UnknownParent));
		end_block();
		assert_ok!(reference(now + 1, now + 6, &[same_slot.clone(), no_slot.clone()]));
		assert_eq!(refusal(&same_slot), Some(NotRewarded::NotEarlier));
		assert_eq!(refusal(&no_slot), Some(NotRewarded::NoSlot));
		assert!(Rewarded::get().is_empty());
		end_block();
	});
}

#[test]
fn a_slot_older_than_the_window_is_not_paid() {
	new_test_ext().execute_with(|| {
		run_to(6);
		let old = fork_block(6, canonical(5), 7);
		assert_ok!(reference(7, 7 + u64::from(SLOT_WINDOW), &[old.clone()]));
		assert_eq!(refusal(&old), Some(NotRewarded::TooOld));
		end_block();
		// In the next slot, the oldest slot still in the window is paid.
		let now = 7 + u64::from(SLOT_WINDOW) + 1;
		let oldest = fork_block(6, canonical(5), now - u64::from(SLOT_WINDOW) + 1);
		assert_ok!(reference(8, now, &[oldest.clone()]));
		assert_eq!(refusal(&oldest), None);
		end_block();
	});
}

#[test]
fn a_branch_of_referenced_blocks_is_paid_block_by_block() {
	new_test_ext().execute_with(|| {
		run_to(6);
		// Two blocks of a competing branch from block 4: the second's parent is the first.
		let first = fork_block(5, canonical(4), 7);
		let second = fork_block(6, first.hash(), 8);
		assert_ok!(reference(7, 9, &[first.clone(), second.clone()]));
		assert_eq!((refusal(&first), refusal(&second)), (None, None));
		let mut paid = Rewarded::get();
		paid.sort();
		// Alice (slot 8) and Dave (slot 7).
		assert_eq!(paid, vec![(account(turn(8)), SHARE), (account(turn(7)), SHARE)]);
		end_block();
	});
}

#[test]
fn the_headers_must_be_the_digests_references() {
	new_test_ext().execute_with(|| {
		run_to(6);
		let a = fork_block(6, canonical(5), 7);
		let b = sealed(6, canonical(5), 7, 1, turn(7));
		// The digest references `a`; the inherent carries `b`.
		start_block(7, 8, &[a.hash()]);
		assert_noop!(note(vec![b.clone()]), Error::<Test>::NotTheDigestReferences);
		// Both, out of order (the next block tries).
		let [low, high] = in_order(&[a.clone(), b.clone()]).try_into().unwrap();
		start_block(8, 9, &[low.hash(), high.hash()]);
		assert_noop!(note(vec![high, low]), Error::<Test>::NotTheDigestReferences);
		// Headers in a block whose digest references nothing.
		start_block(9, 10, &[]);
		assert_noop!(note(vec![a]), Error::<Test>::NotTheDigestReferences);
		assert!(Rewarded::get().is_empty());
		assert!(!Noted::<Test>::get());
		end_block();
	});
}

#[test]
#[should_panic(expected = "a block that references blocks must carry their headers")]
fn a_block_with_references_and_no_headers_is_invalid() {
	new_test_ext().execute_with(|| {
		run_to(6);
		start_block(7, 8, &[fork_block(6, canonical(5), 7).hash()]);
		end_block();
	});
}

#[test]
fn references_are_noted_once_a_block_and_by_no_one_else() {
	new_test_ext().execute_with(|| {
		run_to(6);
		let fork = fork_block(6, canonical(5), 7);
		assert_ok!(reference(7, 8, &[fork.clone()]));
		assert_noop!(note(vec![fork.clone()]), Error::<Test>::AlreadyNoted);
		let signed = crate::Pallet::<Test>::note_references(
			RawOrigin::Signed(1).into(),
			BoundedVec::truncate_from(vec![fork]),
		);
		assert_eq!(signed, Err(DispatchError::BadOrigin));
		end_block();
		assert!(!Noted::<Test>::get());
	});
}

#[test]
fn a_header_longer_than_allowed_is_refused() {
	new_test_ext().execute_with(|| {
		run_to(6);
		let mut long = unsealed(6, canonical(5), 7, 0);
		long.digest_mut().push(DigestItem::Other(vec![0; 5000]));
		start_block(7, 8, &[long.hash()]);
		assert_noop!(note(vec![long]), Error::<Test>::HeaderTooLong);
	});
}

#[test]
fn only_the_admin_origin_sets_the_share() {
	new_test_ext().execute_with(|| {
		run_to(6);
		let half = Perbill::from_percent(50);
		assert_noop!(
			crate::Pallet::<Test>::set_reference_share(RawOrigin::Signed(1).into(), half),
			DispatchError::BadOrigin
		);
		assert_ok!(crate::Pallet::<Test>::set_reference_share(RawOrigin::Root.into(), half));
		assert_eq!(ReferenceShare::<Test>::get(), half);
		assert_ok!(reference(7, 8, &[fork_block(6, canonical(5), 7)]));
		assert_eq!(Rewarded::get(), vec![(account(turn(7)), half)]);
		end_block();
	});
}

#[test]
fn the_inherent_carries_the_headers_the_author_put_in() {
	new_test_ext().execute_with(|| {
		let headers = vec![fork_block(6, canonical(5), 7)];
		let mut data = InherentData::new();
		assert_eq!(crate::Pallet::<Test>::create_inherent(&data), None);
		data.put_data(INHERENT_IDENTIFIER, &headers).unwrap();
		let call = crate::Pallet::<Test>::create_inherent(&data).expect("headers make a call");
		assert!(crate::Pallet::<Test>::is_inherent(&call));
		assert_eq!(
			call,
			crate::Call::note_references { headers: BoundedVec::truncate_from(headers) }
		);
	});
}

#[test]
fn a_block_remembers_its_own_slot_and_forgets_slots_out_of_the_window() {
	new_test_ext().execute_with(|| {
		run_to(3);
		let slots = |slots: &[u64]| slots.iter().copied().map(Slot::from).collect::<Vec<_>>();
		assert_eq!(PaidSlots::<Test>::get().into_inner(), slots(&[1, 2, 3]));
		start_block(4, 3 + u64::from(SLOT_WINDOW), &[]);
		BlockGraph::on_finalize(4);
		assert_eq!(PaidSlots::<Test>::get().into_inner(), slots(&[3 + u64::from(SLOT_WINDOW)]));
	});
}

mod properties {
	use super::*;
	use proptest::prelude::*;
	use std::collections::BTreeSet;

	/// A reference a block makes: how far back its slot is, and whether its slot's author or
	/// another authority sealed it.
	fn reference_strategy() -> impl Strategy<Value = (u64, bool)> {
		(1..(SLOT_WINDOW as u64 + 2), any::<bool>())
	}

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(64))]

		/// However blocks reference each other's slots, a slot is paid at most once, only to
		/// its author, and only within the window.
		#[test]
		fn every_slot_is_paid_once_to_its_author(
			blocks in proptest::collection::vec(
				(1..4u64, proptest::collection::vec(reference_strategy(), 0..4)),
				1..24,
			)
		) {
			new_test_ext().execute_with(|| {
				run_to(2);
				let (mut number, mut slot) = (3u64, 2u64);
				let mut paid: BTreeSet<Slot> = (1..=2).map(Slot::from).collect();
				for (skipped, references) in blocks {
					slot += skipped;
					let headers: Vec<Header> = references
						.iter()
						.enumerate()
						.filter(|(_, (back, _))| *back < slot)
						.map(|(variant, (back, by_author))| {
							let referenced = slot - back;
							let sealer = if *by_author { turn(referenced) } else { turn(referenced + 1) };
							sealed(number - 1, canonical(number - 2), referenced, variant as u8, sealer)
						})
						.collect();
					let before = Rewarded::get().len();
					assert_ok!(reference(number, slot, &headers));
					for event in events() {
						if let Event::ReferenceRewarded { slot: referenced, author, .. } = event {
							prop_assert!(paid.insert(referenced), "slot {referenced:?} paid twice");
							prop_assert_eq!(author, account(turn(referenced.into())));
							prop_assert!(u64::from(referenced) + u64::from(SLOT_WINDOW) > slot);
						}
					}
					prop_assert!(Rewarded::get().len() >= before);
					end_block();
					paid.insert(slot.into());
					prop_assert!(BlockGraph::do_try_state().is_ok());
					number += 1;
				}
				Ok(())
			})?;
		}
	}
}

#[test]
fn a_chain_that_gains_the_pallet_by_an_upgrade_starts_with_the_share() {
	use crate::migrations::InitializeShare;
	use polkadot_sdk::frame_support::traits::OnRuntimeUpgrade;
	polkadot_sdk::frame_support::parameter_types! {
		pub const Initial: Perbill = Perbill::from_percent(30);
	}
	new_test_ext().execute_with(|| {
		// As the pallet is on a chain it was just added to: no share.
		ReferenceShare::<Test>::kill();
		InitializeShare::<Test, Initial>::on_runtime_upgrade();
		assert_eq!(ReferenceShare::<Test>::get(), Initial::get());
		// A share from genesis or governance stays, even a zero one.
		ReferenceShare::<Test>::put(Perbill::zero());
		InitializeShare::<Test, Initial>::on_runtime_upgrade();
		assert_eq!(ReferenceShare::<Test>::get(), Perbill::zero());
	});
}

#[test]
fn a_reference_counts_as_work_only_where_it_would_be_paid() {
	new_test_ext().execute_with(|| {
		run_to(6);
		// Asked at block 6's state, for its child in slot 8.
		let competing = fork_block(6, canonical(5), 7);
		let twin = sealed(6, canonical(5), 7, 1, turn(7));
		let unsealed = unsealed(6, canonical(5), 7, 2);
		let of_this_chain = fork_block(5, canonical(4), 5);
		let payable =
			|headers: &[Header]| crate::Pallet::<Test>::payable(&in_order(headers), 8.into());
		assert_eq!(payable(&[competing.clone()]), 1);
		assert_eq!(payable(&[competing.clone(), twin]), 1, "one slot, once");
		assert_eq!(payable(&[unsealed, of_this_chain]), 0);
		// What the child is paid for, it counts.
		assert_ok!(reference(7, 8, &[competing]));
		assert_eq!(Rewarded::get().len(), 1);
		end_block();
	});
}
