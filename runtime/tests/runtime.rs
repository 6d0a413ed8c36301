//! Runtime tests: genesis presets built by the real WASM runtime, and transfers, multisig and
//! proxy calls applied as signed transactions through `Executive`.

use polkadot_sdk::{
	frame_support::dispatch::GetDispatchInfo,
	frame_system, pallet_balances, pallet_multisig, pallet_proxy, pallet_sudo,
	pallet_transaction_payment,
	sc_chain_spec::GenesisConfigBuilderRuntimeCaller,
	sp_core::{crypto::Pair, Encode},
	sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET},
	sp_io::TestExternalities,
	sp_keyring::Sr25519Keyring,
	sp_runtime::{
		generic::Era,
		traits::{Header as _, Zero},
		ApplyExtrinsicResult, DispatchError,
	},
};
use thingschain_runtime::{
	genesis_config_presets::{preset_names, DEV_ENDOWMENT, TESTNET_ENDOWMENT, TESTNET_RUNTIME_PRESET},
	units::TIC,
	AccountId, Balance, Balances, Executive, Header, ProxyType, Runtime, RuntimeCall,
	RuntimeEvent, SignedPayload, System, TxExtension, UncheckedExtrinsic, WASM_BINARY,
};

/// Genesis storage of `preset`, as the WASM runtime builds it for a chain spec.
fn genesis_ext(preset: &str) -> TestExternalities {
	let wasm = WASM_BINARY.expect("runtime tests need the WASM runtime; unset SKIP_WASM_BUILD");
	let storage = GenesisConfigBuilderRuntimeCaller::<()>::new(wasm)
		.get_storage_for_named_preset(Some(&preset.to_string()))
		.unwrap_or_else(|e| panic!("preset {preset} does not build: {e}"));
	let mut ext = TestExternalities::new(storage);
	ext.execute_with(|| {
		let parent = System::block_hash(0);
		Executive::initialize_block(&Header::new(
			1,
			Default::default(),
			Default::default(),
			parent,
			Default::default(),
		));
	});
	ext
}

fn account(key: Sr25519Keyring) -> AccountId {
	key.to_account_id()
}

fn free(who: &AccountId) -> Balance {
	Balances::free_balance(who)
}

/// Signs `call` as `signer` with the runtime's transaction extensions and applies it.
fn apply_signed(signer: Sr25519Keyring, call: RuntimeCall) -> ApplyExtrinsicResult {
	let who = signer.to_account_id();
	let extension: TxExtension = (
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckMortality::from(Era::Immortal),
		frame_system::CheckNonce::from(System::account_nonce(&who)),
		frame_system::CheckWeight::new(),
		pallet_transaction_payment::ChargeTransactionPayment::from(0),
		polkadot_sdk::frame_metadata_hash_extension::CheckMetadataHash::new(false),
		frame_system::WeightReclaim::new(),
	);
	let payload = SignedPayload::new(call.clone(), extension.clone()).expect("valid payload");
	let signature = payload.using_encoded(|bytes| signer.pair().sign(bytes));
	let xt = UncheckedExtrinsic::new_signed(call, who.into(), signature.into(), extension);
	Executive::apply_extrinsic(xt)
}

/// Applies a signed call and requires both the transaction and its dispatch to succeed.
fn dispatch(signer: Sr25519Keyring, call: RuntimeCall) {
	match apply_signed(signer, call.clone()) {
		Ok(Ok(())) => {},
		other => panic!("{call:?} from {signer} failed: {other:?}"),
	}
}

fn transfer(dest: &AccountId, value: Balance) -> RuntimeCall {
	RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
		dest: dest.clone().into(),
		value,
	})
}

fn events() -> Vec<RuntimeEvent> {
	System::events().into_iter().map(|r| r.event).collect()
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
			assert_eq!(
				polkadot_sdk::pallet_session::Validators::<Runtime>::get().len(),
				validators,
				"{preset}: session validators"
			);
			assert_eq!(pallet_sudo::Key::<Runtime>::get(), sudo.map(account), "{preset}: sudo");
			assert_eq!(free(&account(Sr25519Keyring::Alice)), endowment, "{preset}: endowment");
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
	genesis_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		let (alice, bob) = (account(Sr25519Keyring::Alice), account(Sr25519Keyring::Bob));
		let issuance = Balances::total_issuance();

		dispatch(Sr25519Keyring::Alice, transfer(&bob, 10 * TIC));

		assert_eq!(free(&bob), DEV_ENDOWMENT + 10 * TIC);
		let fee = DEV_ENDOWMENT - 10 * TIC - free(&alice);
		assert!(!fee.is_zero() && fee < TIC / 100, "a transfer costs a small, non-zero fee: {fee}");
		// Fees are burned for now, so issuance falls by exactly the fee.
		assert_eq!(Balances::total_issuance(), issuance - fee);
		assert_eq!(System::account_nonce(&alice), 1);
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
		let mut signatories = vec![account(Alice), account(Bob), account(Charlie)];
		signatories.sort();
		let multisig = pallet_multisig::Pallet::<Runtime>::multi_account_id(&signatories, 2);
		let others = |me: Sr25519Keyring| -> Vec<AccountId> {
			signatories.iter().filter(|a| **a != account(me)).cloned().collect()
		};
		dispatch(Alice, transfer(&multisig, 100 * TIC));

		let call = transfer(&account(Dave), 30 * TIC);
		let call_weight = call.get_dispatch_info().call_weight;
		let call_hash = polkadot_sdk::sp_core::blake2_256(&call.encode());

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
		let timepoint = pallet_multisig::Pallet::<Runtime>::timepoint();

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
		assert_eq!(Balances::reserved_balance(account(Alice)), 0);
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

		dispatch(Alice, add_proxy(Bob, ProxyType::Any));
		let alice_before = free(&account(Alice));
		dispatch(Bob, proxied(Alice, transfer(&account(Dave), 5 * TIC)));
		assert_eq!(free(&account(Dave)), DEV_ENDOWMENT + 5 * TIC);
		assert_eq!(free(&account(Alice)), alice_before - 5 * TIC, "Bob paid the fee, Alice the value");

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
