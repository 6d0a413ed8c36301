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
