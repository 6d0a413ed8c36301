//! The node's RPC methods beyond the standard `system`, `chain`, `state` and `author` sets
//! that `sc-service` installs: account nonces, fee queries, GRANDPA finality, delegated
//! proof of stake, NestChain anchors and the block graph.

pub mod dag;
pub mod dpos;
pub mod nest;

use jsonrpsee::RpcModule;
use polkadot_sdk::{
	pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer},
	sc_client_api::AuxStore,
	sc_consensus_grandpa::{
		FinalityProofProvider, GrandpaJustificationStream, SharedAuthoritySet, SharedVoterState,
	},
	sc_consensus_grandpa_rpc::{Grandpa, GrandpaApiServer},
	sc_rpc::SubscriptionTaskExecutor,
	sc_service::TFullBackend,
	sc_transaction_pool_api::TransactionPool,
	sp_api::ProvideRuntimeApi,
	sp_block_builder::BlockBuilder,
	sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata},
	substrate_frame_rpc_system::{System, SystemApiServer},
};
use std::sync::Arc;
use thingschain_runtime::{opaque::Block, AccountId, Balance, Nonce};

/// The JSON-RPC error for one of our modules' errors: its stable code (docs/rpc.md) and its
/// message.
fn error_object(code: i32, error: &dyn std::fmt::Display) -> jsonrpsee::types::ErrorObjectOwned {
	jsonrpsee::types::ErrorObjectOwned::owned(code, error.to_string(), None::<()>)
}

/// What the GRANDPA RPC reads from the running voter.
#[derive(Clone)]
pub struct GrandpaDeps {
	/// Round state of the local voter.
	pub shared_voter_state: SharedVoterState,
	/// The current authority set.
	pub shared_authority_set:
		SharedAuthoritySet<<Block as polkadot_sdk::sp_runtime::traits::Block>::Hash, u32>,
	/// Justifications as blocks are finalized.
	pub justification_stream: GrandpaJustificationStream<Block>,
	/// Builds finality proofs for light clients.
	pub finality_provider: Arc<FinalityProofProvider<TFullBackend<Block>, Block>>,
}

/// Everything the RPC methods need.
pub struct FullDeps<C, P> {
	/// The client.
	pub client: Arc<C>,
	/// The transaction pool.
	pub pool: Arc<P>,
	/// GRANDPA state.
	pub grandpa: GrandpaDeps,
	/// The block graph.
	pub graph: Arc<crate::block_graph::BlockGraph>,
	/// Runs subscription tasks.
	pub subscription_executor: SubscriptionTaskExecutor,
}

/// Builds the RPC module with ThingsChain's extra methods.
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ AuxStore
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: polkadot_sdk::substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api:
		polkadot_sdk::pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>,
	C::Api: BlockBuilder<Block>,
	C::Api: pallet_dpos::runtime_api::DposApi<Block, AccountId, Balance>,
	C::Api: pallet_nest_anchor::runtime_api::NestApi<Block>,
	P: TransactionPool + 'static,
{
	let FullDeps { client, pool, grandpa, graph, subscription_executor } = deps;
	let mut module = RpcModule::new(());

	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(dpos::DposApiServer::into_rpc(dpos::Dpos::new(client.clone())))?;
	module.merge(nest::NestApiServer::into_rpc(nest::Nest::new(client)))?;
	module.merge(dag::DagApiServer::into_rpc(dag::Dag::new(graph)))?;
	module.merge(
		Grandpa::new(
			subscription_executor,
			grandpa.shared_authority_set,
			grandpa.shared_voter_state,
			grandpa.justification_stream,
			grandpa.finality_provider,
		)
		.into_rpc(),
	)?;

	Ok(module)
}
