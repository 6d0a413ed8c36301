//! How a WebChain block is sealed: Aura's pre-runtime digest names its slot, and its last
//! digest item is the slot author's signature of the header without that item. The
//! equivocation reports and the block graph's rewards both check headers this way.

use polkadot_sdk::{
	sp_consensus_aura::{digests::CompatibleDigestItem, Slot, AURA_ENGINE_ID},
	sp_runtime::{traits::Header, Digest, DigestItem, RuntimeAppPublic},
};

/// The slot `header` names in its Aura pre-runtime digest, if it names one.
pub fn slot<H: Header>(header: &H) -> Option<Slot> {
	slot_in(header.digest())
}

/// The slot a block's digest (a header's, or the inherent digests a proposer is given) names
/// in its Aura pre-runtime item, if it names one.
pub fn slot_in(digest: &Digest) -> Option<Slot> {
	digest.logs().iter().find_map(|item| item.pre_runtime_try_to::<Slot>(&AURA_ENGINE_ID))
}

/// Whether the seal of `header` is `key`'s signature of the header's pre-seal hash.
pub fn sealed_by<H: Header, Id: RuntimeAppPublic>(header: &H, key: &Id) -> bool {
	let mut unsealed = header.clone();
	let Some(seal) = unsealed.digest_mut().pop() else { return false };
	let Some(signature) = <DigestItem as CompatibleDigestItem<Id::Signature>>::as_aura_seal(&seal)
	else {
		return false;
	};
	key.verify(&unsealed.hash(), &signature)
}

/// Seals `header` with `key` (from the keystore, so where one is registered: benchmarks and
/// tests): appends the key's signature of the header's hash. `None` if the keystore could
/// not sign.
pub fn seal<H: Header, Id: RuntimeAppPublic>(header: &mut H, key: &Id) -> Option<()> {
	let signature = key.sign(&header.hash())?;
	header
		.digest_mut()
		.push(<DigestItem as CompatibleDigestItem<Id::Signature>>::aura_seal(signature));
	Some(())
}
