//! Runtime API for clients: anchors and inclusion proofs. The node serves it over JSON-RPC
//! as `nest_anchor` and `nest_verifyInclusion`.

use alloc::vec::Vec;
use thingschain_primitives::{
	ids::{Epoch, Hash, ServiceId},
	merkle::InclusionProof,
};

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Read-only views of NestChain anchors.
	pub trait NestApi {
		/// The root and hash of `service`'s anchored `epoch`, if anchored.
		fn anchor(service: ServiceId, epoch: Epoch) -> Option<(Hash, Hash)>;

		/// Whether `record` is in the state anchored for `service`'s `epoch`; `None` if the
		/// epoch is not anchored.
		fn verify_inclusion(
			service: ServiceId,
			epoch: Epoch,
			record: Vec<u8>,
			proof: InclusionProof,
		) -> Option<bool>;
	}
}
