//! Who cuts an epoch: its leader, the service's trusted node at `epoch mod nodes` in the node
//! list WebChain has when the epoch ends. The leader closes the epoch with every record it
//! holds and signs the cut with its account key; every other node, and every super node,
//! closes the epoch with that signed cut once it holds the records below it. Records are
//! signed by their devices, so a leader can only choose where the epoch ends, never what a
//! device wrote.
//!
//! ```text
//!  leader     heads() ─► sign("tc/nest/cut/1" ‖ genesis ‖ service ‖ cut) ─► close_epoch ─► attest
//!  others     fetch the signed cut ─► check the signer is the leader ─► fetch missing records
//!             ─► close_epoch ─► attest (or, as a super node, approve) the same root
//! ```

use crate::ledger::{EpochCut, SignedCut};
use codec::Encode;
use polkadot_sdk::sp_core::{sr25519, Pair as _};
use subxt_signer::sr25519::Keypair;
use thingschain_primitives::ids::{Epoch, Hash, ServiceId};

/// The domain tag of what a leader signs.
pub const CUT_TAG: [u8; 13] = *b"tc/nest/cut/1";

/// What the leader of `cut`'s epoch signs, for `service` on the WebChain of `genesis`.
pub fn signing_bytes(genesis: &Hash, service: ServiceId, cut: &EpochCut) -> Vec<u8> {
	(CUT_TAG, genesis, service, cut).encode()
}

/// The account that cuts `epoch`, among the service's trusted `nodes` (none without nodes).
pub fn leader(nodes: &[[u8; 32]], epoch: Epoch) -> Option<[u8; 32]> {
	nodes.get(usize::try_from(epoch).ok()? % nodes.len().max(1)).copied()
}

/// `cut` signed by `key`.
pub fn sign(key: &Keypair, genesis: &Hash, service: ServiceId, cut: EpochCut) -> SignedCut {
	let signature = key.sign(&signing_bytes(genesis, service, &cut)).0;
	SignedCut { cut, signer: key.public_key().0, signature }
}

/// Why a signed cut is not taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CutRejected {
	/// Signed by another account than the epoch's leader.
	NotLeader {
		/// The leader, if the service has nodes.
		leader: Option<[u8; 32]>,
	},
	/// The signature is not the signer's over this cut.
	BadSignature,
	/// It holds more peg arrivals than WebChain had settled for the service at the last
	/// finalized block this node read (a later block may have them).
	UnknownArrivals {
		/// The cut's.
		cut: u64,
		/// WebChain's.
		webchain: u64,
	},
}

impl std::fmt::Display for CutRejected {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			CutRejected::NotLeader { leader: Some(leader) } => {
				write!(f, "the cut is not signed by the epoch's leader 0x{}", hex::encode(leader))
			}
			CutRejected::NotLeader { leader: None } => f.write_str("the service has no nodes"),
			CutRejected::BadSignature => f.write_str("the cut's signature is not its signer's"),
			CutRejected::UnknownArrivals { cut, webchain } => write!(
				f,
				"the cut holds {cut} peg arrivals; WebChain had settled {webchain} when last read"
			),
		}
	}
}

impl std::error::Error for CutRejected {}

/// Checks that `signed` is the cut of its epoch's leader in `service`, whose trusted nodes
/// were `nodes` when the epoch ended.
pub fn verify(
	signed: &SignedCut,
	genesis: &Hash,
	service: ServiceId,
	nodes: &[[u8; 32]],
) -> Result<(), CutRejected> {
	let leader = leader(nodes, signed.cut.epoch);
	if leader != Some(signed.signer) {
		return Err(CutRejected::NotLeader { leader });
	}
	let message = signing_bytes(genesis, service, &signed.cut);
	let signature = sr25519::Signature::from_raw(signed.signature);
	match sr25519::Pair::verify(&signature, message, &sr25519::Public::from_raw(signed.signer)) {
		true => Ok(()),
		false => Err(CutRejected::BadSignature),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use subxt_signer::sr25519::dev;

	fn view(nodes: &[&Keypair]) -> Vec<[u8; 32]> {
		nodes.iter().map(|k| k.public_key().0).collect()
	}

	#[test]
	fn only_the_epochs_leader_cuts_it_and_its_signature_covers_every_end() {
		let (alice, bob) = (dev::alice(), dev::bob());
		let view = view(&[&alice, &bob]);
		let genesis = Hash::repeat_byte(3);
		let cut = |epoch| EpochCut { epoch, ends: vec![(4, 10), (9, 2)], arrivals: 0 };
		assert_eq!(leader(&view, 0), Some(alice.public_key().0));
		assert_eq!(leader(&view, 3), Some(bob.public_key().0));
		assert_eq!(leader(&[], 3), None);

		let signed = sign(&bob, &genesis, 7, cut(1));
		assert_eq!(verify(&signed, &genesis, 7, &view), Ok(()));
		// Bob is not epoch 2's leader.
		let not_leader = sign(&bob, &genesis, 7, cut(2));
		assert_eq!(
			verify(&not_leader, &genesis, 7, &view),
			Err(CutRejected::NotLeader { leader: Some(alice.public_key().0) })
		);
		// A changed end, another service or another chain breaks the signature.
		let mut moved = signed.clone();
		moved.cut.ends[1].1 = 3;
		assert_eq!(verify(&moved, &genesis, 7, &view), Err(CutRejected::BadSignature));
		assert_eq!(verify(&signed, &genesis, 8, &view), Err(CutRejected::BadSignature));
		assert_eq!(verify(&signed, &Hash::zero(), 7, &view), Err(CutRejected::BadSignature));
		// A node removed from the service no longer leads.
		assert_eq!(
			verify(&signed, &genesis, 7, &self::view(&[&alice])),
			Err(CutRejected::NotLeader { leader: Some(alice.public_key().0) })
		);
	}
}
