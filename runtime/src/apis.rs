//! Runtime APIs: what the node, Polkadot.js Apps and other clients may call in the runtime.

use crate::{
	genesis_config_presets, AccountId, Aura, AuraEquivocation, Balance, Block, BlockGraph, Dpos,
	Executive, Grandpa, Historical, InherentDataExt, Nonce, Runtime, RuntimeCall,
	RuntimeGenesisConfig, SessionKeys, System, TransactionPayment, VERSION,
};
use alloc::vec::Vec;
use codec::Encode;
use pallet_dpos::CandidateSummary;
use polkadot_sdk::{
	frame_support::{
		self,
		genesis_builder_helper::{build_state, get_preset},
		traits::KeyOwnerProofSystem,
		weights::Weight,
	},
	frame_system_rpc_runtime_api, pallet_aura, pallet_grandpa,
	pallet_transaction_payment::{FeeDetails, RuntimeDispatchInfo},
	pallet_transaction_payment_rpc_runtime_api, sp_api, sp_block_builder,
	sp_consensus_aura::{self, sr25519::AuthorityId as AuraId, SlotDuration},
	sp_consensus_grandpa::{self as fg_primitives, AuthorityList as GrandpaAuthorityList},
	sp_core::{crypto::KeyTypeId, OpaqueMetadata},
	sp_genesis_builder, sp_inherents, sp_offchain,
	sp_runtime::{
		traits::Block as BlockT,
		transaction_validity::{TransactionSource, TransactionValidity},
		ApplyExtrinsicResult,
	},
	sp_session, sp_transaction_pool,
	sp_version::RuntimeVersion,
};
use thingschain_primitives::{
	ids::{Epoch, Hash, ServiceId},
	merkle::InclusionProof,
};

sp_api::impl_runtime_apis! {
	impl sp_api::Core<Block> for Runtime {
		fn version() -> RuntimeVersion {
			VERSION
		}

		fn execute_block(block: <Block as BlockT>::LazyBlock) {
			Executive::execute_block(block);
		}

		fn initialize_block(header: &<Block as BlockT>::Header) -> polkadot_sdk::sp_runtime::ExtrinsicInclusionMode {
			Executive::initialize_block(header)
		}
	}

	impl sp_api::Metadata<Block> for Runtime {
		fn metadata() -> OpaqueMetadata {
			OpaqueMetadata::new(Runtime::metadata().into())
		}

		fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
			Runtime::metadata_at_version(version)
		}

		fn metadata_versions() -> Vec<u32> {
			Runtime::metadata_versions()
		}
	}

	impl frame_support::view_functions::runtime_api::RuntimeViewFunction<Block> for Runtime {
		fn execute_view_function(
			id: frame_support::view_functions::ViewFunctionId,
			input: Vec<u8>,
		) -> Result<Vec<u8>, frame_support::view_functions::ViewFunctionDispatchError> {
			Runtime::execute_view_function(id, input)
		}
	}

	impl sp_block_builder::BlockBuilder<Block> for Runtime {
		fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
			Executive::apply_extrinsic(extrinsic)
		}

		fn finalize_block() -> <Block as BlockT>::Header {
			Executive::finalize_block()
		}

		fn inherent_extrinsics(data: sp_inherents::InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
			data.create_extrinsics()
		}

		fn check_inherents(
			block: <Block as BlockT>::LazyBlock,
			data: sp_inherents::InherentData,
		) -> sp_inherents::CheckInherentsResult {
			data.check_extrinsics(&block)
		}
	}

	impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
		fn validate_transaction(
			source: TransactionSource,
			tx: <Block as BlockT>::Extrinsic,
			block_hash: <Block as BlockT>::Hash,
		) -> TransactionValidity {
			Executive::validate_transaction(source, tx, block_hash)
		}
	}

	impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
		fn offchain_worker(header: &<Block as BlockT>::Header) {
			Executive::offchain_worker(header)
		}
	}

	impl sp_consensus_aura::AuraApi<Block, AuraId> for Runtime {
		fn slot_duration() -> SlotDuration {
			SlotDuration::from_millis(Aura::slot_duration())
		}

		fn authorities() -> Vec<AuraId> {
			pallet_aura::Authorities::<Runtime>::get().into_inner()
		}
	}

	impl sp_session::SessionKeys<Block> for Runtime {
		fn generate_session_keys(
			owner: Vec<u8>,
			seed: Option<Vec<u8>>,
		) -> sp_session::OpaqueGeneratedSessionKeys {
			SessionKeys::generate(&owner, seed).into()
		}

		fn decode_session_keys(encoded: Vec<u8>) -> Option<Vec<(Vec<u8>, KeyTypeId)>> {
			SessionKeys::decode_into_raw_public_keys(&encoded)
		}
	}

	impl fg_primitives::GrandpaApi<Block> for Runtime {
		fn grandpa_authorities() -> GrandpaAuthorityList {
			Grandpa::grandpa_authorities()
		}

		fn current_set_id() -> fg_primitives::SetId {
			pallet_grandpa::CurrentSetId::<Runtime>::get()
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			equivocation_proof: fg_primitives::EquivocationProof<
				<Block as BlockT>::Hash,
				polkadot_sdk::sp_runtime::traits::NumberFor<Block>,
			>,
			key_owner_proof: fg_primitives::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			let key_owner_proof = key_owner_proof.decode()?;
			Grandpa::submit_unsigned_equivocation_report(equivocation_proof, key_owner_proof)
		}

		fn generate_key_ownership_proof(
			_set_id: fg_primitives::SetId,
			authority_id: fg_primitives::AuthorityId,
		) -> Option<fg_primitives::OpaqueKeyOwnershipProof> {
			Historical::prove((fg_primitives::KEY_TYPE, authority_id))
				.map(|proof| proof.encode())
				.map(fg_primitives::OpaqueKeyOwnershipProof::new)
		}
	}

	impl pallet_block_graph::runtime_api::BlockGraphApi<Block, AccountId> for Runtime {
		fn sealer(header: <Block as BlockT>::Header) -> Option<AccountId> {
			BlockGraph::sealer(&header).ok().map(|(_, author)| author)
		}

		fn payable(headers: Vec<<Block as BlockT>::Header>, slot: sp_consensus_aura::Slot) -> u32 {
			BlockGraph::payable(&headers, slot)
		}
	}

	impl pallet_aura_equivocation::runtime_api::AuraEquivocationApi<Block, AuraId> for Runtime {
		fn generate_key_ownership_proof(
			_slot: sp_consensus_aura::Slot,
			authority_id: AuraId,
		) -> Option<pallet_aura_equivocation::runtime_api::OpaqueKeyOwnershipProof> {
			Historical::prove((polkadot_sdk::sp_core::crypto::key_types::AURA, authority_id))
				.map(|proof| proof.encode())
				.map(pallet_aura_equivocation::runtime_api::OpaqueKeyOwnershipProof::new)
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			equivocation_proof: polkadot_sdk::sp_consensus_slots::EquivocationProof<
				<Block as BlockT>::Header,
				AuraId,
			>,
			key_owner_proof: pallet_aura_equivocation::runtime_api::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			AuraEquivocation::submit_unsigned_report(equivocation_proof, key_owner_proof.decode()?)
		}
	}

	impl pallet_dpos::runtime_api::DposApi<Block, AccountId, Balance> for Runtime {
		fn candidates() -> Vec<CandidateSummary<AccountId, Balance>> {
			Dpos::candidate_summaries()
		}

		fn pending_rewards(who: AccountId) -> Balance {
			Dpos::pending_rewards(&who)
		}
	}

	impl pallet_nest_anchor::runtime_api::NestApi<Block> for Runtime {
		fn anchor(service: ServiceId, epoch: Epoch) -> Option<(Hash, Hash)> {
			pallet_nest_anchor::Anchors::<Runtime>::get(service, epoch)
				.map(|anchor| (anchor.root, anchor.hash))
		}

		fn verify_inclusion(
			service: ServiceId,
			epoch: Epoch,
			record: Vec<u8>,
			proof: InclusionProof,
		) -> Option<bool> {
			crate::NestAnchor::verify_inclusion(service, epoch, &record, &proof)
		}
	}

	impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
		fn account_nonce(account: AccountId) -> Nonce {
			System::account_nonce(account)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentApi<Block, Balance> for Runtime {
		fn query_info(uxt: <Block as BlockT>::Extrinsic, len: u32) -> RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_info(uxt, len)
		}
		fn query_fee_details(uxt: <Block as BlockT>::Extrinsic, len: u32) -> FeeDetails<Balance> {
			TransactionPayment::query_fee_details(uxt, len)
		}
		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}
		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentCallApi<Block, Balance, RuntimeCall>
		for Runtime
	{
		fn query_call_info(call: RuntimeCall, len: u32) -> RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_call_info(call, len)
		}
		fn query_call_fee_details(call: RuntimeCall, len: u32) -> FeeDetails<Balance> {
			TransactionPayment::query_call_fee_details(call, len)
		}
		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}
		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
		fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
			build_state::<RuntimeGenesisConfig>(config)
		}

		fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
			get_preset::<RuntimeGenesisConfig>(id, genesis_config_presets::get_preset)
		}

		fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
			genesis_config_presets::preset_names()
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl polkadot_sdk::frame_benchmarking::Benchmark<Block> for Runtime {
		fn benchmark_metadata(extra: bool) -> (
			Vec<polkadot_sdk::frame_benchmarking::BenchmarkList>,
			Vec<frame_support::traits::StorageInfo>,
		) {
			use frame_support::traits::StorageInfoTrait;
			use crate::{benchmarks::{SystemBench, SystemExtensionsBench}, *};
			use polkadot_sdk::frame_benchmarking::BenchmarkList;

			let mut list = Vec::<BenchmarkList>::new();
			list_benchmarks!(list, extra);
			(list, crate::AllPalletsWithSystem::storage_info())
		}

		fn dispatch_benchmark(
			config: polkadot_sdk::frame_benchmarking::BenchmarkConfig,
		) -> Result<Vec<polkadot_sdk::frame_benchmarking::BenchmarkBatch>, alloc::string::String> {
			use frame_support::traits::WhitelistedStorageKeys;
			use crate::{benchmarks::{SystemBench, SystemExtensionsBench}, *};
			use polkadot_sdk::frame_benchmarking::BenchmarkBatch;

			let whitelist = crate::AllPalletsWithSystem::whitelisted_storage_keys();
			let mut batches = Vec::<BenchmarkBatch>::new();
			let params = (&config, &whitelist);
			add_benchmarks!(params, batches);
			Ok(batches)
		}
	}

	#[cfg(feature = "try-runtime")]
	impl polkadot_sdk::frame_try_runtime::TryRuntime<Block> for Runtime {
		fn on_runtime_upgrade(
			checks: polkadot_sdk::frame_try_runtime::UpgradeCheckSelect,
		) -> (Weight, Weight) {
			let config = polkadot_sdk::frame_executive::TryRuntimeUpgradeConfig::new(checks);
			// An upgrade that fails its checks must stop try-runtime loudly.
			let weight = Executive::try_runtime_upgrade_with_config(config)
				.expect("runtime upgrade checks failed");
			(weight, crate::configs::RuntimeBlockWeights::get().max_block)
		}

		fn execute_block(
			block: <Block as BlockT>::LazyBlock,
			state_root_check: bool,
			signature_check: bool,
			select: polkadot_sdk::frame_try_runtime::TryStateSelect,
		) -> Weight {
			Executive::try_execute_block(block, state_root_check, signature_check, select)
				.expect("try_execute_block failed")
		}
	}
}
