//! Runtime tests: genesis presets built by the real WASM runtime; transfers, multisig, proxy
//! and delegated-proof-of-stake calls applied as signed transactions through `Executive`; and
//! blocks produced with Aura digests so authorship, rewards and session rotation run as on a
//! live chain.

mod common;

use common::*;
use polkadot_sdk::{
	frame_support::{dispatch::GetDispatchInfo, BoundedVec},
	frame_system, pallet_aura, pallet_multisig, pallet_proxy, pallet_sudo,
	pallet_transaction_payment,
	sc_chain_spec::GenesisConfigBuilderRuntimeCaller,
	sp_consensus_aura::{sr25519::AuthorityId as AuraId, Slot, AURA_ENGINE_ID},
	sp_core::{crypto::Pair, sr25519, Decode, Encode},
	sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET},
	sp_keyring::Sr25519Keyring,
	sp_runtime::{
		generic::{Digest, DigestItem},
		traits::{Header as _, Zero},
		ApplyExtrinsicResult, DispatchError, Perbill,
	},
};
use thingschain_runtime::{
	genesis_config_presets::{
		preset_names, BLOCK_REWARD, CANDIDATE_BOND, DEV_ENDOWMENT, GENESIS_VOTE, TESTNET_ENDOWMENT,
		TESTNET_RUNTIME_PRESET,
	},
	units::TIC,
	AccountId, Balance, Balances, Dpos, Executive, Header, ProxyType, Runtime, RuntimeCall,
	RuntimeEvent, RuntimeOrigin, Session, System, UncheckedExtrinsic, WASM_BINARY,
};

/// The dispatch error of a failing `pallet_dpos` call.
fn dpos_error(error: pallet_dpos::Error<Runtime>) -> DispatchError {
	error.into()
}

#[test]
fn every_preset_builds_its_genesis() {
	let names: Vec<String> = preset_names().into_iter().map(|p| p.to_string()).collect();
	assert_eq!(names, [DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET, TESTNET_RUNTIME_PRESET]);

	let expectations = [
		(DEV_RUNTIME_PRESET, 1, Some(Sr25519Keyring::Alice), DEV_ENDOWMENT),
		(LOCAL_TESTNET_RUNTIME_PRESET, 4, Some(Sr25519Keyring::Alice), DEV_ENDOWMENT),
		(TESTNET_RUNTIME_PRESET, 3, None, TESTNET_ENDOWMENT),
	];
	for (preset, validators, sudo, endowment) in expectations {
		genesis_ext(preset).execute_with(|| {
			let aura = polkadot_sdk::pallet_aura::Authorities::<Runtime>::get();
			let grandpa = polkadot_sdk::pallet_grandpa::Pallet::<Runtime>::grandpa_authorities();
			assert_eq!(aura.len(), validators, "{preset}: aura authorities");
			assert_eq!(grandpa.len(), validators, "{preset}: grandpa authorities");
			let delegates = pallet_session::Validators::<Runtime>::get();
			assert_eq!(delegates.len(), validators, "{preset}: session validators");
			// Every genesis delegate is a bonded candidate elected by one genesis vote.
			assert_eq!(pallet_dpos::Candidates::<Runtime>::count() as usize, validators);
			for summary in Dpos::candidate_summaries() {
				assert!(summary.elected, "{preset}: {:?} is elected", summary.account);
				assert_eq!(summary.self_bond, CANDIDATE_BOND, "{preset}: self-bond");
				assert_eq!(summary.total, CANDIDATE_BOND + GENESIS_VOTE, "{preset}: backing");
				assert!(delegates.contains(&summary.account));
			}
			assert_eq!(pallet_dpos::BlockReward::<Runtime>::get(), BLOCK_REWARD);
			assert_eq!(pallet_sudo::Key::<Runtime>::get(), sudo.map(account), "{preset}: sudo");
			assert_eq!(
				free(&account(Sr25519Keyring::Alice)),
				endowment - CANDIDATE_BOND,
				"{preset}: endowment less the candidate bond"
			);
		});
	}
}

#[test]
fn unknown_preset_is_rejected() {
	let wasm = WASM_BINARY.unwrap();
	let err = GenesisConfigBuilderRuntimeCaller::<()>::new(wasm)
		.get_storage_for_named_preset(Some(&"mainnet".to_string()))
		.expect_err("there is no mainnet preset");
	assert!(err.contains("mainnet"), "error names the preset: {err}");
}

#[test]
fn signed_transfer_moves_funds_and_charges_fees() {
	use Sr25519Keyring::{Alice, Bob, Charlie};
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		// Alice, the only delegate, authors the block.
		assert_eq!(current_author(), account(Alice));
		let (alice_before, issuance) = (free(&account(Alice)), Balances::total_issuance());

		dispatch(Bob, transfer(&account(Charlie), 10 * TIC));

		assert_eq!(free(&account(Charlie)), DEV_ENDOWMENT + 10 * TIC);
		let fee = DEV_ENDOWMENT - 10 * TIC - free(&account(Bob));
		assert!(!fee.is_zero() && fee < TIC / 100, "a transfer costs a small, non-zero fee: {fee}");
		// Four fifths of the fee, rounded down, are burned; the rest goes to the block's delegate.
		let to_author = free(&account(Alice)) - alice_before;
		let burned = issuance - Balances::total_issuance();
		assert_eq!(to_author + burned, fee);
		assert_eq!(to_author, fee - fee * 4 / 5, "fee {fee}");
		assert_eq!(System::account_nonce(&account(Bob)), 1);
	});
}

#[test]
fn a_transaction_is_charged_its_measured_overhead_with_its_extensions_counted_once() {
	use polkadot_sdk::frame_support::dispatch::DispatchClass;
	use thingschain_runtime::{configs::RuntimeBlockWeights, weights::extrinsic_weights};
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		let measured = extrinsic_weights::ExtrinsicBaseWeight::get();
		let remark = RuntimeCall::System(frame_system::Call::remark { remark: vec![] });
		let info = signed_by(&Sr25519Keyring::Alice.pair(), remark).get_dispatch_info();
		let base = RuntimeBlockWeights::get().get(DispatchClass::Normal).base_extrinsic;
		let fixed = base + info.extension_weight;
		// Never less than `benchmark overhead` timed for a whole no-op transaction ...
		assert!(fixed.all_gte(measured), "{fixed:?} charged, {measured:?} measured");
		// ... and the extensions, weighed on their own, are not charged again in the base.
		assert_eq!(
			fixed.ref_time(),
			measured.ref_time().max(info.extension_weight.ref_time()),
			"base {base:?}, extensions {:?}",
			info.extension_weight
		);
	});
}

/// The fee of a signed transfer from Bob, as the runtime would charge it now.
fn transfer_fee() -> Balance {
	let call = transfer(&account(Sr25519Keyring::Charlie), TIC);
	let xt = signed_by(&Sr25519Keyring::Bob.pair(), call);
	pallet_transaction_payment::Pallet::<Runtime>::compute_fee(
		xt.encoded_size() as u32,
		&xt.get_dispatch_info(),
		0,
	)
}

#[test]
fn sustained_full_blocks_raise_the_fee_and_emptier_ones_bring_it_back_to_the_base() {
	use pallet_transaction_payment::{Multiplier, NextFeeMultiplier};
	use polkadot_sdk::{frame_support::dispatch::DispatchClass, sp_runtime::traits::One};
	use thingschain_runtime::configs::RuntimeBlockWeights;
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		let base_fee = transfer_fee();
		assert_eq!(NextFeeMultiplier::<Runtime>::get(), Multiplier::one());
		let normal_max = RuntimeBlockWeights::get().get(DispatchClass::Normal).max_total.unwrap();

		// A flood fills every block's normal compute: each block raises the multiplier.
		let mut multiplier = Multiplier::one();
		for _ in 0..200 {
			let used = System::block_weight().get(DispatchClass::Normal).clone();
			System::register_extra_weight_unchecked(
				normal_max.saturating_sub(used),
				DispatchClass::Normal,
			);
			next_block();
			let next = NextFeeMultiplier::<Runtime>::get();
			assert!(next > multiplier, "a full block raised {multiplier:?} to {next:?}");
			multiplier = next;
		}
		let congested_fee = transfer_fee();
		assert!(congested_fee > base_fee, "fee {base_fee} -> {congested_fee} under congestion");

		// Empty blocks lower it again, to the benchmarked base and never below.
		let mut blocks = 0;
		while NextFeeMultiplier::<Runtime>::get() > Multiplier::one() {
			next_block();
			blocks += 1;
			assert!(blocks <= 400, "the multiplier came back down");
		}
		next_block();
		assert_eq!(NextFeeMultiplier::<Runtime>::get(), Multiplier::one());
		assert_eq!(transfer_fee(), base_fee);
	});
}

#[test]
fn filling_a_block_with_bytes_costs_what_filling_it_with_compute_costs() {
	use polkadot_sdk::frame_support::{dispatch::DispatchClass, weights::WeightToFee};
	use thingschain_runtime::configs::{RuntimeBlockLength, RuntimeBlockWeights};
	type Payment = pallet_transaction_payment::Pallet<Runtime>;
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		let normal_length = *RuntimeBlockLength::get().max.get(DispatchClass::Normal);
		let normal_weight =
			RuntimeBlockWeights::get().get(DispatchClass::Normal).max_total.unwrap();
		let by_length = Payment::length_to_fee(normal_length);
		let by_weight = <Runtime as pallet_transaction_payment::Config>::WeightToFee::weight_to_fee(
			&normal_weight,
		);
		// Equal but for the byte fee's rounding down (less than a unit a byte).
		assert!(by_length <= by_weight && by_weight - by_length < Balance::from(normal_length));

		// A megabyte of remark now costs about a fifth of a TIC (it cost 0.023 TIC), the length fee
		// nearly all of it.
		let remark = RuntimeCall::System(frame_system::Call::remark { remark: vec![0; 1 << 20] });
		let xt = signed_by(&Sr25519Keyring::Bob.pair(), remark);
		let fee = Payment::compute_fee(xt.encoded_size() as u32, &xt.get_dispatch_info(), 0);
		assert!(fee > TIC / 6 && fee < TIC / 4, "a 1 MiB transaction costs {fee}");
		// A device-sized transaction stays cheap: a transfer under a thousandth of a TIC.
		assert!(transfer_fee() < TIC / 1_000, "a transfer costs {}", transfer_fee());
	});
}

#[test]
fn transfer_above_balance_fails_and_changes_nothing_but_the_fee() {
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		let bob = account(Sr25519Keyring::Bob);
		let result = apply_signed(Sr25519Keyring::Alice, transfer(&bob, 2 * DEV_ENDOWMENT));
		assert!(
			matches!(result, Ok(Err(DispatchError::Token(_)))),
			"dispatch fails with a token error: {result:?}"
		);
		assert_eq!(free(&bob), DEV_ENDOWMENT);
	});
}

#[test]
fn multisig_two_of_three_executes_after_second_approval() {
	use Sr25519Keyring::{Alice, Bob, Charlie, Dave};
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		let alice_reserved = Balances::reserved_balance(account(Alice));
		let mut signatories = vec![account(Alice), account(Bob), account(Charlie)];
		signatories.sort();
		let multisig = pallet_multisig::Pallet::<Runtime>::multi_account_id(&signatories, 2);
		let others = |me: Sr25519Keyring| -> Vec<AccountId> {
			signatories.iter().filter(|a| **a != account(me)).cloned().collect()
		};
		dispatch(Alice, transfer(&multisig, 100 * TIC));

		let call = transfer(&account(Dave), 30 * TIC);
		let call_weight = call.get_dispatch_info().call_weight;
		let call_hash = polkadot_sdk::sp_io::hashing::blake2_256(&call.encode());

		dispatch(
			Alice,
			RuntimeCall::Multisig(pallet_multisig::Call::approve_as_multi {
				threshold: 2,
				other_signatories: others(Alice),
				maybe_timepoint: None,
				call_hash,
				max_weight: call_weight,
			}),
		);
		// One approval is not enough: nothing moved yet.
		assert_eq!(free(&account(Dave)), DEV_ENDOWMENT);
		let timepoint = pallet_multisig::Multisigs::<Runtime>::get(&multisig, call_hash)
			.expect("the operation is pending")
			.when;

		dispatch(
			Bob,
			RuntimeCall::Multisig(pallet_multisig::Call::as_multi {
				threshold: 2,
				other_signatories: others(Bob),
				maybe_timepoint: Some(timepoint),
				call: Box::new(call),
				max_weight: call_weight,
			}),
		);
		assert_eq!(free(&account(Dave)), DEV_ENDOWMENT + 30 * TIC);
		assert_eq!(free(&multisig), 70 * TIC);
		assert!(events().iter().any(|e| matches!(
			e,
			RuntimeEvent::Multisig(pallet_multisig::Event::MultisigExecuted { result: Ok(()), .. })
		)));
		// Alice's deposit for the pending operation came back.
		assert_eq!(Balances::reserved_balance(account(Alice)), alice_reserved);
	});
}

#[test]
fn proxy_acts_for_its_delegator_within_its_type() {
	use Sr25519Keyring::{Alice, Bob, Charlie, Dave};
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		let proxied = |real: Sr25519Keyring, call: RuntimeCall| {
			RuntimeCall::Proxy(pallet_proxy::Call::proxy {
				real: account(real).into(),
				force_proxy_type: None,
				call: Box::new(call),
			})
		};
		let add_proxy = |delegate: Sr25519Keyring, proxy_type| {
			RuntimeCall::Proxy(pallet_proxy::Call::add_proxy {
				delegate: account(delegate).into(),
				proxy_type,
				delay: 0,
			})
		};

		// (Alice authors the blocks and earns part of every fee, so she stays out of the way.)
		dispatch(Bob, add_proxy(Charlie, ProxyType::Any));
		let bob_before = free(&account(Bob));
		dispatch(Charlie, proxied(Bob, transfer(&account(Dave), 5 * TIC)));
		assert_eq!(free(&account(Dave)), DEV_ENDOWMENT + 5 * TIC);
		assert_eq!(
			free(&account(Bob)),
			bob_before - 5 * TIC,
			"Charlie paid the fee, Bob the value"
		);

		// A non-transfer proxy may not move funds: the inner call is filtered.
		dispatch(Charlie, add_proxy(Dave, ProxyType::NonTransfer));
		let charlie_before = free(&account(Charlie));
		System::reset_events();
		dispatch(Dave, proxied(Charlie, transfer(&account(Alice), TIC)));
		assert!(events().iter().any(|e| matches!(
			e,
			RuntimeEvent::Proxy(pallet_proxy::Event::ProxyExecuted {
				result: Err(DispatchError::Module(_)),
			})
		)));
		assert_eq!(free(&account(Charlie)), charlie_before);
	});
}

#[test]
fn sudo_is_absent_on_testnet() {
	genesis_ext(TESTNET_RUNTIME_PRESET).execute_with(|| {
		let call = RuntimeCall::Sudo(pallet_sudo::Call::sudo {
			call: Box::new(transfer(&account(Sr25519Keyring::Bob), TIC)),
		});
		let result = apply_signed(Sr25519Keyring::Alice, call);
		assert!(
			matches!(result, Ok(Err(DispatchError::Module(_)))),
			"sudo without a key is refused: {result:?}"
		);
	});
}

#[test]
fn metadata_is_v15_or_newer() {
	let versions = Runtime::metadata_versions();
	assert!(versions.iter().any(|v| *v >= 15), "metadata versions: {versions:?}");
}

#[test]
fn staking_voting_and_registering_work_through_signed_transactions() {
	use Sr25519Keyring::{Alice, Bob, Charlie, Dave};
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		let bob = account(Bob);
		set_session_keys(Bob);
		dispatch(Bob, dpos(pallet_dpos::Call::bond { amount: 1_000 * TIC }));
		dispatch(
			Bob,
			dpos(pallet_dpos::Call::register_candidate {
				commission: Perbill::from_percent(5),
				metadata: BoundedVec::truncate_from(b"bob".to_vec()),
			}),
		);
		dispatch(Charlie, dpos(pallet_dpos::Call::bond { amount: 5_000 * TIC }));
		dispatch(Charlie, dpos(pallet_dpos::Call::vote { targets: vec![bob.clone()] }));
		assert_eq!(Balances::reserved_balance(account(Charlie)), 5_000 * TIC, "stake is held");

		// Bob (1000 + 5000) now outranks Alice (1000 + 2000).
		assert_eq!(Dpos::elect(), Ok(vec![bob.clone(), account(Alice)]));
		let ranking = Dpos::candidate_summaries();
		assert_eq!((ranking[0].account.clone(), ranking[0].total), (bob, 6_000 * TIC));

		// Errors are named and cost only the fee.
		dispatch(Dave, dpos(pallet_dpos::Call::bond { amount: 10 * TIC }));
		let vote_for_dave = dpos(pallet_dpos::Call::vote { targets: vec![account(Dave)] });
		assert_eq!(
			apply_signed(Dave, vote_for_dave),
			Ok(Err(dpos_error(pallet_dpos::Error::UnknownCandidate)))
		);
		let too_little = dpos(pallet_dpos::Call::bond { amount: TIC / 2 });
		assert_eq!(
			apply_signed(Sr25519Keyring::Eve, too_little),
			Ok(Err(dpos_error(pallet_dpos::Error::StakeBelowMinimum)))
		);
	});
}

#[test]
fn session_rotation_elects_delegates_and_authors_earn_rewards() {
	use Sr25519Keyring::{Dave, Eve};
	genesis_ext(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let eve_keys = back_eve_against_dave();

		let issuance = Balances::total_issuance();
		let (mut authors, mut elected) = (Vec::new(), false);
		while Session::current_index() < 2 {
			next_block();
			authors.push(current_author());
			elected |= events().iter().any(|e| {
				matches!(
					e,
					RuntimeEvent::Dpos(pallet_dpos::Event::DelegatesElected { session: 2, .. })
				)
			});
		}

		// Elected at the start of session 1, Eve is a delegate from session 2; Dave is out.
		let delegates = pallet_session::Validators::<Runtime>::get();
		assert!(delegates.contains(&account(Eve)) && !delegates.contains(&account(Dave)));
		assert!(pallet_aura::Authorities::<Runtime>::get().contains(&eve_keys.aura));
		assert!(elected, "the election at the start of session 1 was announced");
		// Every block minted exactly the block reward, credited to its author.
		assert_eq!(Balances::total_issuance(), issuance + authors.len() as u128 * BLOCK_REWARD);
		for author in &authors {
			assert!(Dpos::pending_rewards(author) > 0, "{author:?} earned its reward");
		}
	});
}

/// The current block's Aura slot.
fn current_slot() -> Slot {
	polkadot_sdk::pallet_aura::CurrentSlot::<Runtime>::get()
}

/// Two different headers `offender` sealed for `slot`.
fn aura_equivocation(
	offender: Sr25519Keyring,
	slot: Slot,
) -> polkadot_sdk::sp_consensus_slots::EquivocationProof<Header, AuraId> {
	use polkadot_sdk::sp_core::H256;
	let sealed = |variant: u8| {
		let digest = Digest { logs: vec![DigestItem::PreRuntime(AURA_ENGINE_ID, slot.encode())] };
		let mut header =
			Header::new(5, H256::repeat_byte(variant), H256::zero(), H256::zero(), digest);
		let signature = offender.pair().sign(header.hash().as_ref());
		header.digest_mut().push(DigestItem::Seal(AURA_ENGINE_ID, signature.encode()));
		header
	};
	polkadot_sdk::sp_consensus_slots::EquivocationProof {
		offender: offender.public().into(),
		slot,
		first_header: sealed(1),
		second_header: sealed(2),
	}
}

/// A report that `offender` sealed two different headers for `slot`, with the proof that its
/// key is a delegate's of this session.
fn aura_equivocation_report(offender: Sr25519Keyring, slot: Slot) -> RuntimeCall {
	use polkadot_sdk::{
		frame_support::traits::KeyOwnerProofSystem, sp_core::crypto::key_types::AURA,
	};
	let equivocation_proof = aura_equivocation(offender, slot);
	let key_owner_proof =
		thingschain_runtime::Historical::prove((AURA, equivocation_proof.offender.clone()))
			.expect("the offender is a delegate of this session");
	RuntimeCall::AuraEquivocation(pallet_aura_equivocation::Call::report_equivocation {
		equivocation_proof: Box::new(equivocation_proof),
		key_owner_proof,
	})
}

/// Whether Alice's bond was slashed by the 10% a lone equivocation on a one-delegate chain
/// costs.
fn alice_slashed() -> bool {
	events().iter().any(|e| {
		matches!(
			e,
			RuntimeEvent::Dpos(pallet_dpos::Event::Slashed { who, amount })
				if *who == account(Sr25519Keyring::Alice) && *amount == CANDIDATE_BOND / 10
		)
	})
}

#[test]
fn a_nodes_unsigned_aura_report_goes_through_the_runtime_api_into_a_block() {
	use pallet_aura_equivocation::runtime_api::runtime_decl_for_aura_equivocation_api::AuraEquivocationApiV1;
	use polkadot_sdk::{
		sp_core::offchain::{testing::TestTransactionPoolExt, TransactionPoolExt},
		sp_runtime::transaction_validity::{InvalidTransaction, TransactionSource},
	};
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let mut ext = genesis_ext(DEV_RUNTIME_PRESET);
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.execute_with(|| {
		// What the node's block import does on finding Alice's second header of a slot.
		let slot = current_slot();
		let key = Sr25519Keyring::Alice.public().into();
		let key_owner_proof = Runtime::generate_key_ownership_proof(slot, key)
			.expect("Alice is a delegate of this session");
		let submitted = Runtime::submit_report_equivocation_unsigned_extrinsic(
			aura_equivocation(Sr25519Keyring::Alice, slot),
			key_owner_proof,
		);
		assert_eq!(submitted, Some(()), "the local pool takes the report");
		let pooled = pool_state.read().transactions.clone();
		assert_eq!(pooled.len(), 1);
		let report = UncheckedExtrinsic::decode(&mut &pooled[0][..]).expect("a transaction");

		let parent = System::parent_hash();
		let validate = |source| Executive::validate_transaction(source, report.clone(), parent);
		assert!(validate(TransactionSource::Local).is_ok(), "valid from the local node");
		assert_eq!(validate(TransactionSource::External), Err(InvalidTransaction::Call.into()));
		Executive::apply_extrinsic(report.clone())
			.expect("the block takes it")
			.expect("it dispatches");
		assert!(alice_slashed());
		// Another node's copy of the report, in a later block, is refused.
		assert_eq!(Executive::apply_extrinsic(report), Err(InvalidTransaction::Stale.into()));
	});
}

#[test]
fn an_aura_equivocation_report_slashes_and_chills_the_delegate() {
	use Sr25519Keyring::{Alice, Bob};
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		// A slot of hers not yet come, or one before the chain's first block, is refused.
		for slot in [1_000u64, 0] {
			assert_eq!(
				apply_signed(Bob, aura_equivocation_report(Alice, Slot::from(slot)))
					.unwrap()
					.unwrap_err(),
				pallet_aura_equivocation::Error::<Runtime>::SlotNotInSession.into()
			);
		}
		// The current slot, hers on a one-delegate chain.
		let bob_before = free(&account(Bob));
		dispatch(Bob, aura_equivocation_report(Alice, current_slot()));

		// 10% of Alice's 1,000 TIC bond is slashed (and burned), and she is chilled.
		assert!(alice_slashed());
		assert!(pallet_dpos::Candidates::<Runtime>::get(account(Alice)).unwrap().chilled);
		assert_eq!(free(&account(Bob)), bob_before, "an honest reporter pays no fee");
	});
}

#[test]
fn an_equivocating_delegate_is_disabled_and_aura_refuses_its_blocks() {
	use polkadot_sdk::frame_support::traits::DisabledValidators;
	use Sr25519Keyring::{Alice, Bob};
	genesis_ext(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let validators = thingschain_runtime::Session::validators();
		let alice = validators.iter().position(|v| *v == account(Alice)).unwrap() as u64;
		// Blocks until Alice's turn has come, then her equivocation in it; another delegate's
		// slot is not hers to equivocate in.
		while u64::from(current_slot()) % validators.len() as u64 != alice {
			next_block();
		}
		let theirs = Slot::from(u64::from(current_slot()) - 1);
		assert_eq!(
			apply_signed(Bob, aura_equivocation_report(Alice, theirs)).unwrap().unwrap_err(),
			pallet_aura_equivocation::Error::<Runtime>::NotSlotAuthor.into()
		);
		dispatch(Bob, aura_equivocation_report(Alice, current_slot()));
		assert!(<thingschain_runtime::Session as DisabledValidators>::is_disabled(alice as u32));
		// Alice's next slot: a block authored in it does not even initialize.
		let header = Executive::finalize_block();
		let number = System::block_number() + 1;
		let n = validators.len() as u64;
		let slot = (u64::from(number)..).find(|slot| slot % n == alice).unwrap();
		let digest = Digest {
			logs: vec![DigestItem::PreRuntime(AURA_ENGINE_ID, Slot::from(slot).encode())],
		};
		let next =
			Header::new(number, Default::default(), Default::default(), header.hash(), digest);
		let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
			Executive::initialize_block(&next)
		}));
		assert!(refused.is_err(), "a disabled delegate's block is refused");
	});
}

#[test]
fn a_grandpa_equivocation_report_slashes_and_chills_the_voter() {
	use polkadot_sdk::{
		frame_support::traits::KeyOwnerProofSystem,
		pallet_grandpa,
		sp_consensus_grandpa::{self as fg, Equivocation, EquivocationProof},
		sp_core::H256,
		sp_keyring::Ed25519Keyring,
	};
	use Sr25519Keyring::{Alice, Bob};
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		let (set_id, round) = (pallet_grandpa::CurrentSetId::<Runtime>::get(), 1);
		let voter = Ed25519Keyring::Alice;
		// Two prevotes of Alice's GRANDPA key for different blocks in the same round.
		let signed_prevote = |block: u8| {
			let prevote = finality_grandpa::Prevote {
				target_hash: H256::repeat_byte(block),
				target_number: 1,
			};
			let payload = fg::localized_payload(
				round,
				set_id,
				&finality_grandpa::Message::Prevote(prevote.clone()),
			);
			(prevote, voter.pair().sign(&payload).into())
		};
		let equivocation = finality_grandpa::Equivocation {
			round_number: round,
			identity: voter.public().into(),
			first: signed_prevote(1),
			second: signed_prevote(2),
		};
		let voter_key: fg::AuthorityId = voter.public().into();
		let key_owner_proof = thingschain_runtime::Historical::prove((fg::KEY_TYPE, voter_key))
			.expect("Alice votes in this session");
		let bob_before = free(&account(Bob));
		dispatch(
			Bob,
			RuntimeCall::Grandpa(pallet_grandpa::Call::report_equivocation {
				equivocation_proof: Box::new(EquivocationProof::new(
					set_id,
					Equivocation::Prevote(equivocation),
				)),
				key_owner_proof,
			}),
		);

		assert!(events().iter().any(|e| matches!(
			e,
			RuntimeEvent::Dpos(pallet_dpos::Event::Slashed { who, amount })
				if *who == account(Alice) && *amount == CANDIDATE_BOND / 10
		)));
		assert!(pallet_dpos::Candidates::<Runtime>::get(account(Alice)).unwrap().chilled);
		assert_eq!(free(&account(Bob)), bob_before, "an honest reporter pays no fee");
	});
}

/// Signs `call` as the 2-of-`signatories` multisig: the first signatory approves its hash,
/// the second executes it.
fn as_two_of_multisig(signatories: &[Sr25519Keyring], call: RuntimeCall) {
	let accounts: Vec<AccountId> = signatories.iter().map(|k| account(*k)).collect();
	let others = |me: Sr25519Keyring| -> Vec<AccountId> {
		let mut others: Vec<_> = accounts.iter().filter(|a| **a != account(me)).cloned().collect();
		others.sort();
		others
	};
	let multisig = multisig_of(signatories);
	let (max_weight, call_hash) = (
		call.get_dispatch_info().call_weight,
		polkadot_sdk::sp_io::hashing::blake2_256(&call.encode()),
	);
	dispatch(
		signatories[0],
		RuntimeCall::Multisig(pallet_multisig::Call::approve_as_multi {
			threshold: 2,
			other_signatories: others(signatories[0]),
			maybe_timepoint: None,
			call_hash,
			max_weight,
		}),
	);
	let timepoint = pallet_multisig::Multisigs::<Runtime>::get(&multisig, call_hash)
		.expect("the operation is pending")
		.when;
	dispatch(
		signatories[1],
		RuntimeCall::Multisig(pallet_multisig::Call::as_multi {
			threshold: 2,
			other_signatories: others(signatories[1]),
			maybe_timepoint: Some(timepoint),
			call: Box::new(call),
			max_weight,
		}),
	);
	assert!(
		events().iter().any(|e| matches!(
			e,
			RuntimeEvent::Multisig(pallet_multisig::Event::MultisigExecuted { result: Ok(()), .. })
		)),
		"the multisig call succeeded"
	);
}

/// The 2-of-n multisig account of `signatories`.
fn multisig_of(signatories: &[Sr25519Keyring]) -> AccountId {
	let mut accounts: Vec<AccountId> = signatories.iter().map(|k| account(*k)).collect();
	accounts.sort();
	pallet_multisig::Pallet::<Runtime>::multi_account_id(&accounts, 2)
}

/// Gives `who` an identity that registrar `registrar` (index 0) judges `KnownGood`.
fn verified_identity(who: Sr25519Keyring, registrar: Sr25519Keyring) {
	use polkadot_sdk::{
		pallet_identity::{self, legacy::IdentityInfo, Data, Judgement},
		sp_runtime::traits::{BlakeTwo256, Hash as _},
	};
	let info = IdentityInfo {
		display: Data::Raw(BoundedVec::truncate_from(format!("{who} node").into_bytes())),
		..Default::default()
	};
	let identity = BlakeTwo256::hash_of(&info);
	dispatch(
		who,
		RuntimeCall::Identity(pallet_identity::Call::set_identity { info: Box::new(info) }),
	);
	dispatch(
		who,
		RuntimeCall::Identity(pallet_identity::Call::request_judgement {
			reg_index: 0,
			max_fee: 0,
		}),
	);
	dispatch(
		registrar,
		RuntimeCall::Identity(pallet_identity::Call::provide_judgement {
			reg_index: 0,
			target: account(who).into(),
			judgement: Judgement::KnownGood,
			identity,
		}),
	);
}

/// The attack: Bob registers a device into the institution's service, which he has nothing
/// to do with. It only asks to join; the institution's multisig, the service's owner, admits
/// it and lets it lock value to the one service its policy names.
#[test]
fn a_device_writes_to_a_service_only_with_its_owner_s_consent() {
	use pallet_devices::{MemberStatus, Membership};
	use Sr25519Keyring::{Alice, Bob, Ferdie};
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		let institution = [Alice, Bob, Ferdie];
		let owner = multisig_of(&institution);
		dispatch(Alice, transfer(&owner, 10 * TIC));
		for name in [b"gov-id".to_vec(), b"bank".to_vec()] {
			thingschain_runtime::ServiceRegistry::create_service(
				RuntimeOrigin::root(),
				owner.clone(),
				name,
				1,
				5,
			)
			.expect("root creates services");
		}
		let device = sr25519::Pair::from_seed(&[42; 32]);
		dispatch(
			Bob,
			register_device_into(&device, &account(Bob), device_limits(10, TIC), Some(0)),
		);
		let membership = || pallet_devices::Devices::<Runtime>::get(0).unwrap().service;
		assert_eq!(membership(), Some(Membership { service: 0, status: MemberStatus::Requested }));
		// Bob cannot admit it himself.
		let admit =
			RuntimeCall::Devices(pallet_devices::Call::admit { id: 0, service: 0, may_lock: true });
		assert_eq!(
			apply_signed(Bob, admit.clone()).unwrap().unwrap_err(),
			pallet_devices::Error::<Runtime>::NotServiceOwner.into()
		);
		// The institution admits it, and names where its devices may lock value.
		let policy = RuntimeCall::ServiceRegistry(pallet_service_registry::Call::set_policy {
			service: 0,
			open: false,
			lock_destinations: vec![1],
		});
		as_two_of_multisig(
			&institution,
			RuntimeCall::Utility(polkadot_sdk::pallet_utility::Call::batch_all {
				calls: vec![policy, admit],
			}),
		);
		let admitted = MemberStatus::Admitted { may_lock: true };
		assert_eq!(membership(), Some(Membership { service: 0, status: admitted }));
		let policy = pallet_service_registry::Policies::<Runtime>::get(0);
		assert_eq!(policy.lock_destinations.into_inner(), vec![1]);
		// Bob takes his device out again: its owner may.
		dispatch(Bob, RuntimeCall::Devices(pallet_devices::Call::leave_service { id: 0 }));
		assert_eq!(membership(), None);
	});
}

#[test]
fn nestchain_services_anchor_prove_records_suspend_and_peg() {
	use pallet_service_registry::Call as Registry;
	use polkadot_sdk::{pallet_identity, pallet_utility};
	use thingschain_primitives::{
		ids::Hash,
		merkle::{self, InclusionProof},
		nest::{record_bytes, PegLock, PegRevert, RecordKind},
	};
	use Sr25519Keyring::{Alice, Bob, Charlie, Dave, Eve, Ferdie};
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		let root = RuntimeOrigin::root;
		let institution = [Alice, Bob, Ferdie];
		let owner = multisig_of(&institution);
		dispatch(Alice, transfer(&owner, 10 * TIC));

		// Ferdie is a registrar; the three service nodes prove who they are to him.
		pallet_identity::Pallet::<Runtime>::add_registrar(root(), account(Ferdie).into())
			.expect("root appoints registrars");
		let nodes = [Charlie, Dave, Eve];
		thingschain_runtime::ServiceRegistry::create_service(
			root(),
			owner.clone(),
			b"gov-id".to_vec(),
			2,
			5,
		)
		.expect("root creates services");
		let add = |node: Sr25519Keyring| {
			RuntimeCall::ServiceRegistry(Registry::add_service_node {
				service: 0,
				node: account(node),
			})
		};
		// Before a registrar judged it, a node cannot be added.
		assert_eq!(
			apply_signed(Charlie, add(Charlie)).unwrap().unwrap_err(),
			pallet_service_registry::Error::<Runtime>::IdentityNotVerified.into()
		);
		nodes.iter().for_each(|node| verified_identity(*node, Ferdie));

		// The institution's 2-of-3 multisig onboards all three in one batch.
		let batch = RuntimeCall::Utility(pallet_utility::Call::batch_all {
			calls: nodes.iter().map(|n| add(*n)).collect(),
		});
		as_two_of_multisig(&institution, batch);
		let service = pallet_service_registry::Services::<Runtime>::get(0).unwrap();
		assert_eq!(service.nodes.len(), 3);
		assert_eq!(service.status, pallet_service_registry::ServiceStatus::Active);

		// Bob runs a super node.
		dispatch(
			Bob,
			RuntimeCall::ServiceRegistry(Registry::register_super_node { stake: 10_000 * TIC }),
		);

		// Three epochs are anchored, each chained to the one before.
		let records = |epoch: u32| -> Vec<Vec<u8>> {
			(0..4u8).map(|i| format!("passport:{epoch}:{i}").into_bytes()).collect()
		};
		// Once `service`'s `epoch` has ended, `attesters` attest the root of `records` and Bob
		// approves it.
		let anchor_epoch = |service: u32,
		                    epoch: u32,
		                    records: &[Vec<u8>],
		                    attesters: &[Sr25519Keyring]| {
			let info = pallet_service_registry::Services::<Runtime>::get(service).unwrap();
			while System::block_number() < info.terms().epoch_end(epoch) {
				next_block();
			}
			let (_, prev) = pallet_nest_anchor::Pallet::<Runtime>::next_epoch(service);
			let root = merkle::root(records);
			for node in attesters {
				dispatch(
					*node,
					RuntimeCall::NestAnchor(pallet_nest_anchor::Call::attest {
						service,
						epoch,
						root,
						prev,
					}),
				);
			}
			dispatch(
				Bob,
				RuntimeCall::NestAnchor(pallet_nest_anchor::Call::approve { service, epoch, root }),
			);
		};
		for epoch in 0..3 {
			anchor_epoch(0, epoch, &records(epoch), &[Charlie, Dave]);
			let anchor = pallet_nest_anchor::Anchors::<Runtime>::get(0, epoch).expect("anchored");
			assert_eq!(anchor.root, merkle::root(&records(epoch)));
		}
		let second = pallet_nest_anchor::Anchors::<Runtime>::get(0, 1).unwrap();
		assert_eq!(second.prev, pallet_nest_anchor::Anchors::<Runtime>::get(0, 0).unwrap().hash);

		// A record of epoch 1 is proven against its anchor.
		let proof = InclusionProof::build(&records(1), 2).unwrap();
		assert_eq!(
			thingschain_runtime::NestAnchor::verify_inclusion(0, 1, &records(1)[2], &proof),
			Some(true)
		);
		assert_eq!(
			thingschain_runtime::NestAnchor::verify_inclusion(0, 1, &records(0)[2], &proof),
			Some(false)
		);

		// One node removed: two still meet the quorum. A second: the service is suspended.
		let remove = |node: Sr25519Keyring| {
			RuntimeCall::ServiceRegistry(Registry::remove_service_node {
				service: 0,
				node: account(node),
			})
		};
		as_two_of_multisig(&institution, remove(Eve));
		anchor_epoch(0, 3, &records(3), &[Charlie, Dave]);
		assert!(pallet_nest_anchor::Anchors::<Runtime>::contains_key(0, 3));
		as_two_of_multisig(&institution, remove(Dave));
		while System::block_number() < service.terms().epoch_end(4) {
			next_block();
		}
		let (_, prev) = pallet_nest_anchor::Pallet::<Runtime>::next_epoch(0);
		let rejected = apply_signed(
			Charlie,
			RuntimeCall::NestAnchor(pallet_nest_anchor::Call::attest {
				service: 0,
				epoch: 4,
				root: Hash::zero(),
				prev,
			}),
		);
		assert_eq!(
			rejected.unwrap().unwrap_err(),
			pallet_nest_anchor::Error::<Runtime>::ServiceSuspended.into()
		);

		// The peg: a second service, and a lock from a third one (the source) claimed on it.
		let (source, destination) = (2u32, 1u32);
		for name in [b"bank".to_vec(), b"land".to_vec()] {
			thingschain_runtime::ServiceRegistry::create_service(root(), owner.clone(), name, 1, 5)
				.expect("root creates services");
		}
		as_two_of_multisig(
			&institution,
			RuntimeCall::Utility(pallet_utility::Call::batch_all {
				calls: [destination, source]
					.into_iter()
					.map(|service| {
						RuntimeCall::ServiceRegistry(Registry::add_service_node {
							service,
							node: account(Charlie),
						})
					})
					// The source's devices may lock value to the destination.
					.chain([RuntimeCall::ServiceRegistry(Registry::set_policy {
						service: source,
						open: false,
						lock_destinations: vec![destination],
					})])
					.collect(),
			}),
		);
		pallet_nest_peg::Pallet::<Runtime>::set_periods(root(), 2, 10).expect("root sets periods");
		let lock = |byte: u8| PegLock {
			lock_id: Hash::repeat_byte(byte),
			source,
			destination,
			beneficiary: account(Dave),
			payload: Hash::repeat_byte(0xee),
		};
		let locks = vec![
			record_bytes(RecordKind::Lock, &lock(1)),
			record_bytes(RecordKind::Lock, &lock(2)),
		];
		anchor_epoch(source, 0, &locks, &[Charlie]);
		for _ in 0..2 {
			next_block();
		}
		for (byte, index) in [(1u8, 0u32), (2, 1)] {
			dispatch(
				Ferdie,
				RuntimeCall::NestPeg(pallet_nest_peg::Call::claim {
					lock: lock(byte),
					epoch: 0,
					proof: InclusionProof::build(&locks, index).unwrap(),
				}),
			);
		}
		// Lock 2 is reverted in the next anchor of its source, and its claim contested; that
		// anchor is lock 1's final epoch (the runtime waits for one), without a revert of it.
		let reverts =
			vec![record_bytes(RecordKind::Revert, &PegRevert { lock_id: Hash::repeat_byte(2) })];
		anchor_epoch(source, 1, &reverts, &[Charlie]);
		dispatch(
			Ferdie,
			RuntimeCall::NestPeg(pallet_nest_peg::Call::contest {
				source,
				lock_id: Hash::repeat_byte(2),
				epoch: 1,
				proof: InclusionProof::build(&reverts, 0).unwrap(),
			}),
		);
		let final_at = pallet_nest_peg::Claims::<Runtime>::get(source, Hash::repeat_byte(1))
			.unwrap()
			.final_at()
			.expect("the final epoch is anchored");
		while System::block_number() < final_at {
			next_block();
		}
		// Lock 1 is final: Dave gives it to Eve; lock 2 is void.
		let give = |byte: u8| {
			RuntimeCall::NestPeg(pallet_nest_peg::Call::transfer {
				source,
				lock_id: Hash::repeat_byte(byte),
				to: account(Eve),
			})
		};
		dispatch(Dave, give(1));
		assert_eq!(
			pallet_nest_peg::Claims::<Runtime>::get(source, Hash::repeat_byte(1)).unwrap().holder,
			account(Eve)
		);
		assert_eq!(
			apply_signed(Dave, give(2)).unwrap().unwrap_err(),
			pallet_nest_peg::Error::<Runtime>::NotClaimed.into()
		);

		// Six anchors, each paid one TIC by the institution to Bob, their only approver.
		assert_eq!(Balances::free_balance(&owner), 10 * TIC - 6 * TIC);
	});
}

/// The device's `sequence`-th envelope for `reader` with `len` inline ciphertext bytes (dummy
/// key material: the runtime checks bounds, readers and sequence, it cannot read the data
/// either way).
fn envelope_for(
	reader: [u8; 32],
	len: usize,
	sequence: u64,
) -> thingschain_primitives::envelope::Payload {
	use thingschain_primitives::envelope::*;
	Payload::Encrypted(Envelope {
		version: ENVELOPE_VERSION,
		algorithm: Algorithm::X25519XChaCha20Poly1305,
		ephemeral_key: [1; 32],
		nonce: [2; 24],
		sequence,
		body: Body::Inline(vec![3; len].try_into().unwrap()),
		recipients: vec![Recipient { reader, wrapped_key: [4; 48] }].try_into().unwrap(),
	})
}

/// The fee the last transaction signed by `who` paid.
fn last_fee_of(who: &AccountId) -> Balance {
	events()
		.into_iter()
		.rev()
		.find_map(|event| match event {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid {
					who: payer,
					actual_fee,
					..
				},
			) if payer == *who => Some(actual_fee),
			_ => None,
		})
		.expect("a fee was paid")
}

/// Fee limits of a device: `max_transactions` actions and `max_fees` per ten blocks.
fn device_limits(
	max_transactions: u32,
	max_fees: Balance,
) -> pallet_devices::FeeLimits<Balance, u32> {
	pallet_devices::FeeLimits { window: 10, max_transactions, max_fees, max_deposits: TIC }
}

/// The reader every test device wraps keys for.
const DEVICE_READER: [u8; 32] = [9; 32];

/// Bob registers device 0 (a token-less key) within `limits` and grants it [`DEVICE_READER`];
/// returns the device's key pair.
fn bobs_device(limits: pallet_devices::FeeLimits<Balance, u32>) -> sr25519::Pair {
	let device = sr25519::Pair::from_string("//thermometer-1", None).unwrap();
	dispatch(Sr25519Keyring::Bob, register_device(&device, &account(Sr25519Keyring::Bob), limits));
	dispatch(
		Sr25519Keyring::Bob,
		RuntimeCall::Payloads(pallet_payloads::Call::grant_reader {
			device: 0,
			reader: DEVICE_READER,
		}),
	);
	device
}

/// `owner` registers `device`, with the device key's proof of possession.
fn register_device(
	device: &sr25519::Pair,
	owner: &AccountId,
	limits: pallet_devices::FeeLimits<Balance, u32>,
) -> RuntimeCall {
	register_device_into(device, owner, limits, None)
}

/// `owner` registers `device` as [`register_device`] does, asking to join `service`.
fn register_device_into(
	device: &sr25519::Pair,
	owner: &AccountId,
	limits: pallet_devices::FeeLimits<Balance, u32>,
	service: Option<u32>,
) -> RuntimeCall {
	let key = AccountId::from(device.public());
	let binding = pallet_devices::Pallet::<Runtime>::key_binding(owner, &key);
	RuntimeCall::Devices(pallet_devices::Call::register {
		key,
		proof: device.sign(&binding.message()).into(),
		kind: pallet_devices::DeviceKind::Sensor,
		service,
		metadata: b"cold store 4".to_vec(),
		retention: thingschain_runtime::units::HOURS,
		limits,
	})
}

/// What `who` holds for record deposits.
fn held_for_records(who: &AccountId) -> Balance {
	use polkadot_sdk::frame_support::traits::fungible::InspectHold;
	let reason = thingschain_runtime::RuntimeHoldReason::Payloads(
		pallet_payloads::HoldReason::RecordDeposit,
	);
	Balances::balance_on_hold(&reason, who)
}

/// A transaction refused with custom code `code`.
fn refused(code: u8) -> ApplyExtrinsicResult {
	use polkadot_sdk::sp_runtime::transaction_validity::{
		InvalidTransaction, TransactionValidityError,
	};
	Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(code)))
}

#[test]
fn a_device_without_tokens_stores_records_paid_by_its_owner_within_its_limits() {
	use pallet_devices::fees::{RATE_LIMITED, SPENDING_CAP_REACHED};
	use Sr25519Keyring::Bob;
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		let device = bobs_device(device_limits(2, TIC));
		let key = AccountId::from(device.public());
		let store = |sequence| {
			RuntimeCall::Payloads(pallet_payloads::Call::store {
				payload: envelope_for(DEVICE_READER, 100, sequence),
			})
		};
		let held = || held_for_records(&account(Bob));

		// Two readings: the owner pays each fee and deposit, to the unit; the device nothing.
		for sequence in 0..2 {
			let before = free(&account(Bob));
			let held_before = held();
			assert_eq!(apply_signed_by(&device, store(sequence)), Ok(Ok(())));
			let (fee, deposit) = (last_fee_of(&key), held() - held_before);
			assert!(fee > 0 && deposit > 0);
			assert_eq!(free(&account(Bob)), before - fee - deposit);
			assert_eq!(free(&key), 0);
		}
		let fee = last_fee_of(&key);
		// The third in the same ten-block window is refused before it costs anything.
		let before = free(&account(Bob));
		assert_eq!(apply_signed_by(&device, store(2)), refused(RATE_LIMITED));
		assert_eq!(free(&account(Bob)), before);
		assert_eq!(pallet_payloads::Ledgers::<Runtime>::get(0).next_record, 2);

		// Next window, a cap of one and a half fees: one reading, then the cap stops the next.
		dispatch(
			Bob,
			RuntimeCall::Devices(pallet_devices::Call::set_limits {
				id: 0,
				limits: device_limits(100, fee + fee / 2),
			}),
		);
		while System::block_number() % 10 != 0 {
			next_block();
		}
		assert_eq!(apply_signed_by(&device, store(2)), Ok(Ok(())));
		let before = free(&account(Bob));
		assert_eq!(apply_signed_by(&device, store(3)), refused(SPENDING_CAP_REACHED));
		assert_eq!(free(&account(Bob)), before);
		assert_eq!(pallet_devices::Spending::<Runtime>::get(0).fees, fee);
	});
}

#[test]
fn a_device_batches_records_for_one_fee_and_each_counts_against_its_rate_limit() {
	use pallet_devices::fees::RATE_LIMITED;
	use polkadot_sdk::sp_runtime::transaction_validity::{
		InvalidTransaction, TransactionValidityError,
	};
	use Sr25519Keyring::Bob;
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		let device = bobs_device(device_limits(4, TIC));
		let key = AccountId::from(device.public());
		// Envelopes numbered from `first`, as many as asked for.
		let store_batch = |first: u64, n: u64| {
			let payloads = (first..first + n).map(|s| envelope_for(DEVICE_READER, 100, s));
			RuntimeCall::Payloads(pallet_payloads::Call::store_batch {
				payloads: payloads.collect::<Vec<_>>().try_into().unwrap(),
			})
		};
		let store = RuntimeCall::Payloads(pallet_payloads::Call::store {
			payload: envelope_for(DEVICE_READER, 100, 0),
		});

		assert_eq!(apply_signed_by(&device, store), Ok(Ok(())));
		let single_fee = last_fee_of(&key);
		let (before, held_before) = (free(&account(Bob)), held_for_records(&account(Bob)));
		assert_eq!(apply_signed_by(&device, store_batch(1, 3)), Ok(Ok(())));
		// One fee for three records, less than three single fees; three deposits.
		let (fee, held) = (last_fee_of(&key), held_for_records(&account(Bob)) - held_before);
		assert!(fee < 2 * single_fee, "a batch of 3 cost {fee}, one record {single_fee}");
		assert_eq!(held, 3 * held_before);
		assert_eq!(free(&account(Bob)), before - fee - held);
		assert_eq!(pallet_payloads::Ledgers::<Runtime>::get(0).next_record, 4);

		// Four records used the window's four actions: one more, batched or not, is refused.
		let before = free(&account(Bob));
		assert_eq!(apply_signed_by(&device, store_batch(4, 1)), refused(RATE_LIMITED));
		// A batch larger than the whole limit never fits, even in a fresh window.
		while System::block_number() % 10 != 0 {
			next_block();
		}
		assert_eq!(apply_signed_by(&device, store_batch(4, 5)), refused(RATE_LIMITED));
		assert_eq!(free(&account(Bob)), before);

		// Wrapping stores in `Utility.batch` does not make the owner pay: the device's own
		// empty account is charged, so the transaction is refused.
		let wrapped = RuntimeCall::Utility(polkadot_sdk::pallet_utility::Call::batch {
			calls: vec![store_batch(4, 1), store_batch(5, 1)],
		});
		assert_eq!(
			apply_signed_by(&device, wrapped),
			Err(TransactionValidityError::Invalid(InvalidTransaction::Payment))
		);
		assert_eq!(free(&account(Bob)), before);
		assert_eq!(pallet_payloads::Ledgers::<Runtime>::get(0).next_record, 4);
	});
}

#[test]
fn device_keys_need_their_own_proof_and_a_key_bound_again_cannot_replay_old_transactions() {
	use polkadot_sdk::sp_runtime::transaction_validity::{
		InvalidTransaction, TransactionValidityError,
	};
	use Sr25519Keyring::{Bob, Eve};
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		let device = bobs_device(device_limits(10, TIC));
		let key = AccountId::from(device.public());
		// Eve cannot bind a key she does not hold: her signature is no proof for it.
		let eve_key = sr25519::Pair::from_string("//squatted", None).unwrap();
		let RuntimeCall::Devices(pallet_devices::Call::register { key: squatted, .. }) =
			register_device(&eve_key, &account(Eve), device_limits(10, TIC))
		else {
			unreachable!()
		};
		let binding = pallet_devices::Pallet::<Runtime>::key_binding(&account(Eve), &squatted);
		let forged = pallet_devices::Call::register {
			key: squatted,
			proof: Eve.pair().sign(&binding.message()).into(),
			kind: pallet_devices::DeviceKind::Sensor,
			service: None,
			metadata: vec![],
			retention: thingschain_runtime::units::HOURS,
			limits: device_limits(10, TIC),
		};
		assert_eq!(
			apply_signed(Eve, RuntimeCall::Devices(forged)).unwrap().unwrap_err(),
			pallet_devices::Error::<Runtime>::InvalidKeyProof.into()
		);

		// The device stores a reading with an immortal transaction.
		let old = signed_by(
			&device,
			RuntimeCall::Payloads(pallet_payloads::Call::store {
				payload: envelope_for(DEVICE_READER, 100, 0),
			}),
		);
		assert_eq!(Executive::apply_extrinsic(old.clone()), Ok(Ok(())));
		// Removed, the device's account is gone; registered again (a new device id, so a new
		// record sequence), the same key must not accept that transaction a second time.
		dispatch(Bob, RuntimeCall::Devices(pallet_devices::Call::remove { id: 0 }));
		assert!(!System::account_exists(&key));
		dispatch(Bob, register_device(&device, &account(Bob), device_limits(10, TIC)));
		dispatch(
			Bob,
			RuntimeCall::Payloads(pallet_payloads::Call::grant_reader {
				device: 1,
				reader: DEVICE_READER,
			}),
		);
		assert_eq!(
			Executive::apply_extrinsic(old),
			Err(TransactionValidityError::Invalid(InvalidTransaction::Stale))
		);
		assert!(!pallet_payloads::Records::<Runtime>::contains_key(1, 0));
	});
}

/// A header of block `number` on `parent` in `slot`, sealed by `sealer` (or not at all).
fn fork_header(sealer: Option<Sr25519Keyring>, number: u32, slot: u64) -> Header {
	let parent = System::block_hash(number - 1);
	let digest =
		Digest { logs: vec![DigestItem::PreRuntime(AURA_ENGINE_ID, Slot::from(slot).encode())] };
	let mut header = Header::new(number, Default::default(), Default::default(), parent, digest);
	if let Some(sealer) = sealer {
		let signature = sealer.pair().sign(header.hash().as_ref());
		header.digest_mut().push(DigestItem::Seal(AURA_ENGINE_ID, signature.encode()));
	}
	header
}

/// Starts the next block referencing `headers` and applies its block-graph inherent; the
/// pallet's events.
fn reference_in_next_block(headers: &[Header]) -> Vec<pallet_block_graph::Event<Runtime>> {
	let mut headers = headers.to_vec();
	headers.sort_by_key(|header| header.hash());
	let hashes = headers.iter().map(|header| header.hash()).collect();
	next_block_with(vec![thingschain_primitives::block_graph::digest_item(&hashes)]);
	let note = RuntimeCall::BlockGraph(pallet_block_graph::Call::note_references {
		headers: BoundedVec::truncate_from(headers),
	});
	assert_eq!(
		Executive::apply_extrinsic(thingschain_runtime::UncheckedExtrinsic::new_bare(note)),
		Ok(Ok(()))
	);
	events()
		.into_iter()
		.filter_map(|event| match event {
			RuntimeEvent::BlockGraph(event) => Some(event),
			_ => None,
		})
		.collect()
}

#[test]
fn a_referenced_block_is_paid_once_and_forged_or_foreign_ones_not_at_all() {
	use pallet_block_graph::{Event::*, NotRewarded};
	use Sr25519Keyring::{Alice, Bob};
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		// Slots 2 to 9 have no block of this chain: a competing block 10 in one of them is
		// parallel work. Alice is the development chain's only delegate.
		jump_to(10);
		let competing = fork_header(Some(Alice), 10, 5);
		let unsealed = fork_header(None, 10, 6);
		let forged = fork_header(Some(Bob), 10, 7);
		// Slot 0 is before the first session the chain recorded.
		let foreign = fork_header(Some(Alice), 10, 0);
		let events = reference_in_next_block(&[
			competing.clone(),
			unsealed.clone(),
			forged.clone(),
			foreign.clone(),
		]);
		let outcome = |header: &Header| {
			events.iter().find_map(|event| match event {
				ReferenceRewarded { block, author, .. } if *block == header.hash() => {
					Some(Ok(author.clone()))
				}
				ReferenceNotRewarded { block, reason } if *block == header.hash() => {
					Some(Err(*reason))
				}
				_ => None,
			})
		};
		assert_eq!(outcome(&competing), Some(Ok(account(Alice))));
		assert_eq!(outcome(&unsealed), Some(Err(NotRewarded::BadSeal)));
		assert_eq!(outcome(&forged), Some(Err(NotRewarded::BadSeal)));
		assert_eq!(outcome(&foreign), Some(Err(NotRewarded::UnknownAuthor)));
		// DPoS minted the reference's share for Alice beside her own block's reward.
		let share = thingschain_runtime::genesis_config_presets::REFERENCE_SHARE * BLOCK_REWARD;
		let minted: Vec<Balance> = common::events()
			.iter()
			.filter_map(|event| match event {
				RuntimeEvent::Dpos(pallet_dpos::Event::BlockRewarded {
					author,
					commission,
					to_backers,
				}) if *author == account(Alice) => Some(commission + to_backers),
				_ => None,
			})
			.collect();
		assert_eq!(minted, vec![BLOCK_REWARD, share]);
		// Referenced again from the next block, it is not paid again.
		let again = reference_in_next_block(&[competing.clone()]);
		assert_eq!(
			again,
			vec![ReferenceNotRewarded { block: competing.hash(), reason: NotRewarded::SlotPaid }]
		);
	});
}
