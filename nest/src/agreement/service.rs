//! Runs the agreement in a service node: simplex and the application over the node's ledger,
//! follower and libp2p network, on commonware's tokio runtime (the one the node runs on).
//!
//! ```text
//!  WebChain (finalized): the service's nodes and the keys their identities name
//!     ─► participants; this node's key among them? (else it waits: it takes no part)
//!  application (LedgerLog, FollowedChain) ◄─ bodies channel
//!  simplex engine (journal in <base-path>/agreement) ◄─ votes, certificates, resolver channels
//!  ends when the engine stops or the ledger fails under it: the node stops with why
//! ```

use super::{
	application::{self, Application},
	engine_config,
	ledger_log::{FollowedChain, LedgerLog, LogFailure},
	NAMESPACE,
};
use crate::{
	node_key::NodeKey,
	p2p::agreement::{AgreementChannels, CHANNELS},
	webchain::{Finalized, ServiceView},
};
use commonware_consensus::simplex::{self, scheme::ed25519::Scheme};
use commonware_cryptography::{ed25519::PublicKey, Signer};
use commonware_runtime::{buffer::paged::CacheRef, tokio::Context, Supervisor as _};
use commonware_utils::{ordered::Set, NZUsize, NZU16};
use futures::future::{select, Either};
use std::{pin::pin, sync::Arc};
use thingschain_primitives::ids::{Hash, ServiceId};
use tokio::sync::watch;

/// Why the agreement stopped: the node stops with it.
#[derive(Debug, thiserror::Error)]
pub enum AgreementError {
	/// The ledger failed under the agreement.
	#[error("the ledger failed under the agreement: {0}")]
	Ledger(Arc<LogFailure>),
	/// The consensus engine stopped.
	#[error("the agreement's consensus engine stopped")]
	EngineStopped,
	/// WebChain's follower stopped.
	#[error("WebChain's follower stopped")]
	FollowerStopped,
	/// The node was started without the agreement's channels.
	#[error("the agreement's channels are not {expected}")]
	Channels {
		/// How many there must be.
		expected: usize,
	},
}

/// What the agreement runs on.
pub struct Parts {
	/// This node's key.
	pub key: NodeKey,
	/// Its channels over the node's network.
	pub channels: AgreementChannels,
	/// The node's ledger as the agreement's log.
	pub log: LedgerLog,
	/// WebChain as the node's follower reads it.
	pub finalized: watch::Receiver<Option<Finalized>>,
	/// WebChain's JSON-RPC URL, for what the follower does not keep.
	pub webchain: String,
	/// WebChain's genesis hash.
	pub genesis_hash: Hash,
	/// The service.
	pub service: ServiceId,
}

/// The agreement's participants in `service`: the keys its trusted nodes' identities name.
pub fn participants_of(service: &ServiceView) -> Set<PublicKey> {
	let keys = service.keys.iter().flatten();
	Set::from_iter_dedup(keys.filter_map(crate::node_key::agreement_public))
}

/// The participants WebChain lists once they include `me`.
async fn participants(
	finalized: &mut watch::Receiver<Option<Finalized>>,
	me: &PublicKey,
) -> Result<Set<PublicKey>, AgreementError> {
	let mut told = false;
	loop {
		let listed = finalized.borrow_and_update().as_ref().map(|at| participants_of(&at.service));
		match listed {
			Some(listed) if listed.position(me).is_some() => return Ok(listed),
			Some(_) if !told => {
				told = true;
				tracing::info!(
					target: "agreement",
					"this node's key {me} is not among the service's nodes' on-chain keys: it \
					 takes no part in the agreement until it is"
				);
			}
			_ => {}
		}
		finalized.changed().await.map_err(|_| AgreementError::FollowerStopped)?;
	}
}

/// Runs the agreement until it fails.
pub async fn run(context: Context, parts: Parts) -> Result<(), AgreementError> {
	let Parts { key, channels, log, mut finalized, webchain, genesis_hash, service } = parts;

	let signer = key.agreement();
	let participants = participants(&mut finalized, &signer.public_key()).await?;
	tracing::info!(target: "agreement", "taking part with {} nodes", participants.len());
	let scheme = Scheme::signer(NAMESPACE, participants, signer)
		.expect("the participants include this node's key");
	let genesis = application::genesis(&genesis_hash, service);
	let Ok([votes, certificates, resolver, bodies]) = <[_; CHANNELS]>::try_from(channels.channels)
	else {
		return Err(AgreementError::Channels { expected: CHANNELS });
	};
	let (application, mailbox) = Application::new(
		context.child("application"),
		log.clone(),
		FollowedChain::new(finalized, &webchain, service),
		genesis,
	);
	application.start(bodies);
	let page_cache = CacheRef::from_pooler(&context, NZU16!(1024), NZUsize!(10));
	let config =
		engine_config(scheme, channels.blocker, mailbox, "agreement".into(), genesis, page_cache);
	let engine = simplex::Engine::new(context.child("engine"), config);
	let running = engine.start(votes, certificates, resolver);
	let failure = async move { log.failure().await };
	match select(running, pin!(failure)).await {
		Either::Left(_) => Err(AgreementError::EngineStopped),
		Either::Right((error, _)) => Err(AgreementError::Ledger(error)),
	}
}
