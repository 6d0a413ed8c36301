//! Runtime API for the node's block import: when it imports a second header an authority
//! sealed for one slot, it asks the runtime for the offender's key-ownership proof and to
//! submit the unsigned report, as it does for GRANDPA (`GrandpaApi`) and BABE (`BabeApi`).

use codec::Codec;
use polkadot_sdk::{
	sp_consensus_slots::{EquivocationProof, Slot},
	sp_runtime::{traits::Block as BlockT, OpaqueValue},
};

/// A key-ownership proof, SCALE-encoded: the node passes it through without knowing its type.
pub type OpaqueKeyOwnershipProof = OpaqueValue;

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Reporting Aura equivocations from the node.
	pub trait AuraEquivocationApi<AuthorityId: Codec> {
		/// A proof that `authority_id` is a validator's key in the session of the state this
		/// is called at, or `None` if it is not one. `slot` is the equivocation's (kept for
		/// runtimes whose proofs depend on it).
		fn generate_key_ownership_proof(
			slot: Slot,
			authority_id: AuthorityId,
		) -> Option<OpaqueKeyOwnershipProof>;

		/// Submits the unsigned report of `equivocation_proof` to the calling node's
		/// transaction pool (the caller registers the offchain transaction-pool extension).
		/// `None` if the proof does not decode or the pool refused the report.
		fn submit_report_equivocation_unsigned_extrinsic(
			equivocation_proof: EquivocationProof<<Block as BlockT>::Header, AuthorityId>,
			key_owner_proof: OpaqueKeyOwnershipProof,
		) -> Option<()>;
	}
}
