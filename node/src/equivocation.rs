//! Aura equivocation reports from the node's block import.
//!
//! An Aura authority may seal one block per slot. The SDK's Aura import queue can notice a
//! second header of a slot's author, but only logs it; GRANDPA and BABE report theirs. This
//! block import wraps the pipeline's and reports Aura's the same way: every imported block's
//! sealed header (gossiped, synced or authored here) is recorded per slot in the auxiliary
//! database (`sc_consensus_slots::check_equivocation`; the import queue's own check, which
//! would record unsealed headers under the same keys, is off: `service.rs`); a second,
//! different header of the slot's author makes an equivocation proof, which the runtime turns
//! into an unsigned report in this node's transaction pool (`AuraEquivocationApi`). The
//! runtime accepts it only from the local node and only if it still counts; the node's next
//! block, or any block this node authors, carries it.
//!
//! ```text
//!  import queue ─► ReportEquivocations ─► GRANDPA import ─► client
//!                    │ header of (slot, author) seen before, different hash?
//!                    ▼ yes
//!                  runtime at parent (else best): generate_key_ownership_proof
//!                  runtime at best: submit_report_equivocation_unsigned_extrinsic ─► local pool
//! ```
//!
//! Blocks of the initial sync are not checked: their equivocations are old, and the nodes
//! that saw them as they happened reported them. A failed report is logged, never a failed
//! import: the block is valid whatever its author did in another one.

use crate::service::FullClient;
use pallet_aura_equivocation::runtime_api::AuraEquivocationApi;
use polkadot_sdk::{
	sc_client_api::HeaderBackend,
	sc_consensus::{BlockCheckParams, BlockImport, BlockImportParams, ImportResult},
	sc_consensus_aura::standalone::{find_pre_digest, slot_author, PreDigestLookupError},
	sc_consensus_slots::check_equivocation,
	sc_transaction_pool_api::OffchainTransactionPoolFactory,
	sp_api::{ApiError, ApiExt, ProvideRuntimeApi},
	sp_blockchain,
	sp_consensus_aura::{
		sr25519::{AuthorityPair as AuraPair, AuthoritySignature},
		AuraApi, Slot, SlotDuration,
	},
	sp_runtime::traits::{Header as _, Zero},
	sp_timestamp::Timestamp,
};
use sp_consensus::BlockOrigin;
use std::{fmt, sync::Arc};
use thingschain_runtime::opaque::{Block, Header};

const LOG_TARGET: &str = "aura-equivocation";

/// A block import that reports the Aura equivocations it sees, then imports through `inner`.
#[derive(Clone)]
pub struct ReportEquivocations<I> {
	inner: I,
	client: Arc<FullClient>,
	offchain_tx_pool_factory: OffchainTransactionPoolFactory<Block>,
	slot_duration: SlotDuration,
}

impl<I> ReportEquivocations<I> {
	/// Wraps `inner`; reports go to the pool `offchain_tx_pool_factory` submits to. The chain's
	/// `slot_duration` tells the current slot, which bounds the slots remembered.
	pub fn new(
		inner: I,
		client: Arc<FullClient>,
		offchain_tx_pool_factory: OffchainTransactionPoolFactory<Block>,
		slot_duration: SlotDuration,
	) -> Self {
		Self { inner, client, offchain_tx_pool_factory, slot_duration }
	}

	/// Records `header` (sealed) and reports its author if it sealed another header of the
	/// same slot.
	fn report_if_equivocation(&self, header: &Header) -> Result<Report, ReportError> {
		let parent = *header.parent_hash();
		let slot = find_pre_digest::<Block, AuthoritySignature>(header)?;
		let authorities = self.client.runtime_api().authorities(parent)?;
		let Some(author) = slot_author::<AuraPair>(slot, &authorities) else {
			return Ok(Report::NoEquivocation);
		};
		let now = Slot::from_timestamp(Timestamp::current(), self.slot_duration);
		let Some(proof) = check_equivocation(&*self.client, now, slot, header, author)? else {
			return Ok(Report::NoEquivocation);
		};
		log::warn!(
			target: LOG_TARGET,
			"Aura authority {author:?} sealed two blocks in slot {slot}: {:?} and {:?}; reporting it",
			proof.first_header.hash(),
			proof.second_header.hash(),
		);

		// The proof must be of the equivocation's session: its parent's state is in it,
		// unless the block began a session, when the best block's may be.
		let best = self.client.info().best_hash;
		let mut key_owner_proof = None;
		for at in [parent, best] {
			key_owner_proof =
				self.client.runtime_api().generate_key_ownership_proof(at, slot, author.clone())?;
			if key_owner_proof.is_some() {
				break;
			}
		}
		let Some(key_owner_proof) = key_owner_proof else {
			return Ok(Report::NotAValidator);
		};
		let mut api = self.client.runtime_api();
		api.register_extension(self.offchain_tx_pool_factory.offchain_transaction_pool(best));
		Ok(
			match api.submit_report_equivocation_unsigned_extrinsic(best, proof, key_owner_proof)? {
				Some(()) => Report::Submitted,
				None => Report::Refused,
			},
		)
	}
}

#[async_trait::async_trait]
impl<I> BlockImport<Block> for ReportEquivocations<I>
where
	I: BlockImport<Block> + Send + Sync,
{
	type Error = I::Error;

	async fn check_block(
		&self,
		block: BlockCheckParams<Block>,
	) -> Result<ImportResult, Self::Error> {
		self.inner.check_block(block).await
	}

	async fn import_block(
		&self,
		block: BlockImportParams<Block>,
	) -> Result<ImportResult, Self::Error> {
		let checked = (block.origin != BlockOrigin::NetworkInitialSync
			&& !block.header.number().is_zero())
		.then(|| block.post_header());
		let imported = self.inner.import_block(block).await?;
		if let Some(header) = checked {
			match self.report_if_equivocation(&header) {
				Ok(Report::NoEquivocation) => {}
				Ok(Report::Submitted) => log::info!(
					target: LOG_TARGET,
					"Aura equivocation report submitted to the local pool"
				),
				Ok(Report::NotAValidator) => log::debug!(
					target: LOG_TARGET,
					"The equivocating key belongs to no validator of the session: nothing to report"
				),
				Ok(Report::Refused) => log::warn!(
					target: LOG_TARGET,
					"The runtime refused the Aura equivocation report (stale or already counted)"
				),
				Err(error) => log::warn!(
					target: LOG_TARGET,
					"Checking block {:?} for an Aura equivocation failed: {error}",
					header.hash(),
				),
			}
		}
		Ok(imported)
	}
}

/// What came of checking a block for an equivocation.
enum Report {
	/// Its author sealed no other header of its slot.
	NoEquivocation,
	/// The report is in the local pool.
	Submitted,
	/// The key is no validator's in the session: no offence to report.
	NotAValidator,
	/// The runtime did not take the report.
	Refused,
}

/// Why a block could not be checked for an equivocation.
#[derive(Debug)]
enum ReportError {
	/// Its header has no single Aura slot.
	PreDigest(PreDigestLookupError),
	/// A runtime API call failed.
	RuntimeApi(ApiError),
	/// The auxiliary database failed.
	Database(sp_blockchain::Error),
}

impl fmt::Display for ReportError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Self::PreDigest(e) => write!(f, "its Aura slot: {e}"),
			Self::RuntimeApi(e) => write!(f, "runtime API: {e}"),
			Self::Database(e) => write!(f, "slot records: {e}"),
		}
	}
}

impl std::error::Error for ReportError {
	fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
		match self {
			Self::PreDigest(e) => Some(e),
			Self::RuntimeApi(e) => Some(e),
			Self::Database(e) => Some(e),
		}
	}
}

impl From<PreDigestLookupError> for ReportError {
	fn from(e: PreDigestLookupError) -> Self {
		Self::PreDigest(e)
	}
}

impl From<ApiError> for ReportError {
	fn from(e: ApiError) -> Self {
		Self::RuntimeApi(e)
	}
}

impl From<sp_blockchain::Error> for ReportError {
	fn from(e: sp_blockchain::Error) -> Self {
		Self::Database(e)
	}
}
