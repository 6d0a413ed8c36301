//! Runtime API for clients: the candidate ranking and an account's claimable rewards.
//! The node serves it over JSON-RPC as `dpos_candidates` and `dpos_pendingRewards`.

use crate::CandidateSummary;
use alloc::vec::Vec;
use codec::Codec;

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Read-only views of delegated proof of stake.
	pub trait DposApi<AccountId, Balance>
	where
		AccountId: Codec,
		Balance: Codec,
	{
		/// Every registered candidate, best first, with its backing and whether an election
		/// held now would make it a delegate.
		fn candidates() -> Vec<CandidateSummary<AccountId, Balance>>;

		/// Rewards `who` could claim now.
		fn pending_rewards(who: AccountId) -> Balance;
	}
}
