//! Checking an epoch's certificate without taking part in the agreement: what a super node
//! does with the cut a service node serves, and what the simulation does with every close.
//!
//! ```text
//!  EpochCertificate { bodies: close, child, …, last; finalization of last }
//!    bodies chain (each the next's parent, at most MAX_CERTIFIED_BODIES), first closes an epoch
//!    finalization names last's digest, signed by a quorum of the participants (ed25519)
//!    ─► the close { epoch, root, leaves, arrivals } is the epoch's one certified root
//! ```

use super::{
	chain::{Close, EpochCertificate},
	NAMESPACE,
};
use commonware_codec::Decode as _;
use commonware_consensus::simplex::{scheme::ed25519::Scheme, types::Finalization};
use commonware_cryptography::{certificate::Scheme as _, ed25519::PublicKey, sha256::Digest};
use commonware_parallel::Sequential;
use commonware_utils::ordered::Set;

/// Why a certificate is not taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotCertified {
	/// Its proposals are not a chain from one that closes an epoch, or too long a one.
	#[error("its proposals are not a short chain from an epoch's close")]
	NotAChain,
	/// Its finalization does not decode.
	#[error("its finalization does not decode")]
	Undecodable,
	/// Its finalization names another proposal than its last.
	#[error("its finalization names another proposal")]
	AnotherProposal,
	/// Its finalization is not signed by a quorum of the participants.
	#[error("its finalization is not signed by a quorum of the service's nodes")]
	NoQuorum,
}

/// The close `certificate` proves, if a quorum of `participants` (the service's nodes' keys
/// as WebChain lists them) finalized it.
pub fn verify(
	certificate: &EpochCertificate,
	participants: Set<PublicKey>,
) -> Result<Close, NotCertified> {
	let (Some(close), Some(last)) = (certificate.close(), certificate.certified()) else {
		return Err(NotCertified::NotAChain);
	};
	let scheme = Scheme::verifier(NAMESPACE, participants);
	let finalization = Finalization::<Scheme, Digest>::decode_cfg(
		certificate.finalization.as_slice(),
		&scheme.certificate_codec_config(),
	)
	.map_err(|_| NotCertified::Undecodable)?;
	if finalization.proposal.payload != last {
		return Err(NotCertified::AnotherProposal);
	}
	match finalization.verify(&mut rand_core::OsRng, &scheme, &Sequential) {
		true => Ok(close),
		false => Err(NotCertified::NoQuorum),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::agreement::chain::{Proposal, MAX_CERTIFIED_BODIES};
	use commonware_codec::Encode as _;
	use commonware_consensus::{
		simplex::types::{self, Finalize},
		types::{Epoch, Round, View},
	};
	use commonware_cryptography::{ed25519::PrivateKey, Signer as _};
	use thingschain_primitives::ids::Hash;

	fn keys(seed: u64) -> Vec<PrivateKey> {
		(0..4).map(|i| PrivateKey::from_seed(seed * 16 + i)).collect()
	}

	fn participants(keys: &[PrivateKey]) -> Set<PublicKey> {
		keys.iter().map(|key| key.public_key()).collect::<Vec<_>>().try_into().unwrap()
	}

	/// The finalization of `payload` signed by the first `signers` of `keys`.
	fn finalization(keys: &[PrivateKey], signers: usize, payload: Digest) -> Vec<u8> {
		let all = participants(keys);
		let proposal =
			types::Proposal::new(Round::new(Epoch::zero(), View::new(9)), View::new(8), payload);
		let votes: Vec<_> = keys[..signers]
			.iter()
			.map(|key| {
				let scheme = Scheme::signer(NAMESPACE, all.clone(), key.clone()).unwrap();
				Finalize::sign(&scheme, proposal.clone()).unwrap()
			})
			.collect();
		let scheme = Scheme::verifier(NAMESPACE, all);
		let finalization = Finalization::from_finalizes(&scheme, &votes, &Sequential);
		finalization.expect("a quorum of votes").encode().to_vec()
	}

	/// A close of epoch 3 and its child.
	fn bodies() -> Vec<Proposal> {
		let close =
			Close { epoch: 3, root: Hash::repeat_byte(5), leaves: 7, arrivals: 1, skipped: false };
		let closing =
			Proposal { parent: [1; 32], height: 4, block: 40, ranges: vec![], close: Some(close) };
		let child = Proposal {
			parent: closing.digest().0,
			height: 5,
			block: 41,
			ranges: vec![],
			close: None,
		};
		vec![closing, child]
	}

	#[test]
	fn a_close_is_certified_only_by_a_quorum_of_the_services_nodes_over_its_chain() {
		let keys = keys(1);
		let bodies = bodies();
		let certified =
			|bodies: Vec<Proposal>, finalization| EpochCertificate { bodies, finalization };
		let last = bodies[1].digest();
		let good = certified(bodies.clone(), finalization(&keys, 3, last));
		assert_eq!(verify(&good, participants(&keys)), Ok(bodies[0].close.unwrap()));

		// Another service's nodes, or a finalization of another proposal, prove nothing.
		let others = participants(&self::keys(2));
		assert_eq!(verify(&good, others), Err(NotCertified::NoQuorum));
		let elsewhere = certified(bodies.clone(), finalization(&keys, 3, bodies[0].digest()));
		assert_eq!(verify(&elsewhere, participants(&keys)), Err(NotCertified::AnotherProposal));
		// A finalization cut short, or bytes that are none.
		let mut short = finalization(&keys, 3, last);
		short.pop();
		let short = certified(bodies.clone(), short);
		assert_eq!(verify(&short, participants(&keys)), Err(NotCertified::Undecodable));

		// Bodies that do not chain from a close: a changed root breaks the link to the child,
		// a chain without a close, or a longer one than a certificate carries.
		let mut moved = bodies.clone();
		moved[0].close.as_mut().unwrap().root = Hash::repeat_byte(6);
		let moved = certified(moved, finalization(&keys, 3, last));
		assert_eq!(verify(&moved, participants(&keys)), Err(NotCertified::NotAChain));
		let unclosed = certified(bodies[1..].to_vec(), finalization(&keys, 3, last));
		assert_eq!(verify(&unclosed, participants(&keys)), Err(NotCertified::NotAChain));
		let mut long = bodies[..1].to_vec();
		while long.len() <= MAX_CERTIFIED_BODIES {
			let parent = long.last().unwrap();
			let (parent, height) = (parent.digest().0, parent.height + 1);
			long.push(Proposal { parent, height, block: 41, ranges: vec![], close: None });
		}
		let tip = long.last().unwrap().digest();
		let long = certified(long, finalization(&keys, 3, tip));
		assert_eq!(verify(&long, participants(&keys)), Err(NotCertified::NotAChain));
	}
}
