//! What the runtime tests share: genesis from the WASM runtime's presets, blocks started with
//! Aura digests, and calls applied as signed transactions through `Executive`.

// Each test file uses its own part of this.
#![allow(dead_code)]

use polkadot_sdk::{
	frame_system, pallet_balances, pallet_scheduler, pallet_timestamp, pallet_transaction_payment,
	sc_chain_spec::GenesisConfigBuilderRuntimeCaller,
	sp_consensus_aura::{Slot, AURA_ENGINE_ID},
	sp_core::{crypto::Pair, sr25519, Encode},
	sp_io::TestExternalities,
	sp_keyring::Sr25519Keyring,
	sp_keystore::{testing::MemoryKeystore, KeystoreExt},
	sp_runtime::{
		generic::{Digest, DigestItem, Era},
		traits::Header as _,
		ApplyExtrinsicResult, Perbill,
	},
};
use thingschain_runtime::{
	units::{SLOT_DURATION, TIC},
	AccountId, Balance, Balances, BlockNumber, Executive, Header, Runtime, RuntimeCall,
	RuntimeEvent, SessionKeys, SignedPayload, System, TxExtension, UncheckedExtrinsic, WASM_BINARY,
};

/// Genesis storage of `preset`, as the WASM runtime builds it for a chain spec, with block 1
/// started and a keystore for generating session keys.
pub fn genesis_ext(preset: &str) -> TestExternalities {
	let wasm = WASM_BINARY.expect("runtime tests need the WASM runtime; unset SKIP_WASM_BUILD");
	let storage = GenesisConfigBuilderRuntimeCaller::<()>::new(wasm)
		.get_storage_for_named_preset(Some(&preset.to_string()))
		.unwrap_or_else(|e| panic!("preset {preset} does not build: {e}"));
	let mut ext = TestExternalities::new(storage);
	ext.register_extension(KeystoreExt::new(MemoryKeystore::new()));
	ext.execute_with(|| start_block(System::block_hash(0)));
	ext
}

/// Initializes the block after `parent`, in Aura slot `number` (the next block's number),
/// authored by the authority whose turn that slot is, and sets its timestamp.
pub fn start_block(parent: polkadot_sdk::sp_core::H256) {
	start_block_numbered(System::block_number() + 1, parent);
}

/// Initializes block `number` on `parent`, in Aura slot `number`, and sets its timestamp.
fn start_block_numbered(number: BlockNumber, parent: polkadot_sdk::sp_core::H256) {
	start_block_with(number, parent, Vec::new());
}

/// Finalizes the current block and starts the next, its digest also carrying `extra`.
pub fn next_block_with(extra: Vec<DigestItem>) {
	let header = Executive::finalize_block();
	start_block_with(System::block_number() + 1, header.hash(), extra);
}

/// Initializes block `number` on `parent`, in Aura slot `number`, its digest also carrying
/// `extra`, and sets its timestamp.
fn start_block_with(
	number: BlockNumber,
	parent: polkadot_sdk::sp_core::H256,
	extra: Vec<DigestItem>,
) {
	let slot = Slot::from(u64::from(number));
	let mut logs = vec![DigestItem::PreRuntime(AURA_ENGINE_ID, slot.encode())];
	logs.extend(extra);
	let digest = Digest { logs };
	Executive::initialize_block(&Header::new(
		number,
		Default::default(),
		Default::default(),
		parent,
		digest,
	));
	let now = u64::from(number) * SLOT_DURATION;
	let timestamp = RuntimeCall::Timestamp(pallet_timestamp::Call::set { now });
	Executive::apply_extrinsic(UncheckedExtrinsic::new_bare(timestamp))
		.expect("timestamp inherent applies")
		.expect("timestamp inherent dispatches");
}

/// Finalizes the current block and starts the next.
pub fn next_block() {
	let header = Executive::finalize_block();
	start_block(header.hash());
}

/// Finalizes the current block and starts block `number` on it, as if the blocks in between
/// had been empty slots. Nothing may be scheduled in between: the scheduler is told it has
/// looked at those blocks (on a live chain it would have, one at a time).
pub fn jump_to(number: BlockNumber) {
	let now = System::block_number();
	let skipped =
		pallet_scheduler::Agenda::<Runtime>::iter_keys().filter(|b| (now + 1..number).contains(b));
	assert_eq!(
		skipped.collect::<Vec<BlockNumber>>(),
		Vec::<BlockNumber>::new(),
		"a jump to {number} skips scheduled blocks"
	);
	let header = Executive::finalize_block();
	pallet_scheduler::IncompleteSince::<Runtime>::put(number);
	System::set_block_number(number - 1);
	start_block_numbered(number, header.hash());
}

/// The account whose Aura slot the current block is.
pub fn current_author() -> AccountId {
	polkadot_sdk::pallet_authorship::Pallet::<Runtime>::author().expect("blocks carry an Aura slot")
}

pub fn account(key: Sr25519Keyring) -> AccountId {
	key.to_account_id()
}

pub fn free(who: &AccountId) -> Balance {
	Balances::free_balance(who)
}

/// Signs `call` as `signer` with the runtime's transaction extensions and applies it.
pub fn apply_signed(signer: Sr25519Keyring, call: RuntimeCall) -> ApplyExtrinsicResult {
	apply_signed_by(&signer.pair(), call)
}

/// Signs `call` with `pair` (any key, e.g. a device's) and applies it.
pub fn apply_signed_by(pair: &sr25519::Pair, call: RuntimeCall) -> ApplyExtrinsicResult {
	Executive::apply_extrinsic(signed_by(pair, call))
}

/// `call` signed with `pair` and the runtime's transaction extensions, at its next nonce.
pub fn signed_by(pair: &sr25519::Pair, call: RuntimeCall) -> UncheckedExtrinsic {
	let who = AccountId::from(pair.public());
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
	let signature = payload.using_encoded(|bytes| pair.sign(bytes));
	UncheckedExtrinsic::new_signed(call, who.into(), signature.into(), extension)
}

/// Applies a signed call and requires both the transaction and its dispatch to succeed.
pub fn dispatch(signer: Sr25519Keyring, call: RuntimeCall) {
	match apply_signed(signer, call.clone()) {
		Ok(Ok(())) => {}
		other => panic!("{call:?} from {signer} failed: {other:?}"),
	}
}

pub fn transfer(dest: &AccountId, value: Balance) -> RuntimeCall {
	RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
		dest: dest.clone().into(),
		value,
	})
}

pub fn events() -> Vec<RuntimeEvent> {
	System::events().into_iter().map(|r| r.event).collect()
}

pub fn dpos(call: pallet_dpos::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::Dpos(call)
}

/// Gives `who` fresh session keys, with the proof it owns them.
pub fn set_session_keys(who: Sr25519Keyring) -> SessionKeys {
	let generated = SessionKeys::generate(&account(who).encode(), None);
	dispatch(
		who,
		RuntimeCall::Session(pallet_session::Call::set_keys {
			keys: generated.keys.clone(),
			proof: generated.proof.encode(),
		}),
	);
	generated.keys
}

/// On the `local_testnet` preset, with three-block sessions: Eve becomes a candidate backed by
/// 5,000 TIC of her stash and Dave loses his stash's vote, so the next election chooses Eve in
/// Dave's place. Returns Eve's session keys.
pub fn back_eve_against_dave() -> SessionKeys {
	use Sr25519Keyring::{DaveStash, Eve, EveStash};
	thingschain_runtime::Dpos::set_session_length(thingschain_runtime::RuntimeOrigin::root(), 3)
		.expect("root sets the session length");
	let eve_keys = set_session_keys(Eve);
	dispatch(Eve, dpos(pallet_dpos::Call::bond { amount: 1_000 * TIC }));
	dispatch(
		Eve,
		dpos(pallet_dpos::Call::register_candidate {
			commission: Perbill::from_percent(5),
			metadata: Default::default(),
		}),
	);
	dispatch(EveStash, dpos(pallet_dpos::Call::bond { amount: 5_000 * TIC }));
	dispatch(EveStash, dpos(pallet_dpos::Call::vote { targets: vec![account(Eve)] }));
	dispatch(DaveStash, dpos(pallet_dpos::Call::unvote {}));
	eve_keys
}
