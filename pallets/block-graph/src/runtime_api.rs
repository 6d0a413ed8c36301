//! What the node asks the runtime about the blocks a block references.

use alloc::vec::Vec;
use codec::Codec;
use polkadot_sdk::{sp_api, sp_consensus_aura::Slot};

sp_api::decl_runtime_apis! {
	/// The block graph's view of blocks.
	pub trait BlockGraphApi<AccountId: Codec> {
		/// The account of the key that sealed `header`, if that key's turn its slot was, as
		/// this block's state records the sessions: the block's author, as the node names it.
		fn sealer(header: Block::Header) -> Option<AccountId>;

		/// How many of `headers`, the referenced headers of a child of this block in `slot`,
		/// that child would pay for: the node counts those as its work in fork choice.
		fn payable(headers: Vec<Block::Header>, slot: Slot) -> u32;
	}
}
