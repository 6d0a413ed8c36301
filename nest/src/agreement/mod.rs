//! How a service's nodes agree on its log: commonware's `simplex` BFT consensus orders
//! proposals of record ranges, and a proposal is final only once a quorum of nodes certified
//! it, which each does only once it holds every record under it durably. A final proposal's
//! records are therefore `replicated` (on at least f + 1 honest disks), and a final proposal
//! that closes an epoch gives the epoch's one certified root.
//!
//! ```text
//!  view v, leader L(v) (round robin over the service's nodes as WebChain lists them)
//!    L:      propose { parent, height, WebChain block B, ranges, close? } ─► broadcast body
//!    each:   verify: chain::extend (ranges follow their devices' ends, close iff the
//!            epoch ended by B), B finalized here ─► notarize
//!    quorum of notarizes ─► each: certify: every record under it held durably (fetched
//!            from peers if missing, checked at B), the close's root recomputed ─► finalize
//!    quorum of finalizes ─► final: log.finalize each proposal up to it, in order
//!    L silent, withholding or lying ─► timeout or certify false ─► nullify v ─► L(v + 1)
//! ```
//!
//! Fault model (docs/nestchains.md, *Fault tolerance*): n nodes tolerate f = ⌊(n − 1)/3⌋
//! crashed or lying ones. Safety holds whatever the network does; progress needs n − f nodes
//! up and connected. [`chain`] holds the rules, [`log`] the seams to a node's ledger and
//! WebChain, [`application`] what simplex calls, [`ledger_log`] the seams over a running
//! service node, [`service`] the agreement as the node runs it.

pub mod application;
pub mod certified;
pub mod chain;
pub mod ledger_log;
pub mod log;
pub mod service;
pub mod vetting;

#[cfg(test)]
mod simulation;

use application::Mailbox;
use commonware_consensus::{
	simplex::{self, elector::RoundRobin, scheme::ed25519::Scheme, ForwardingPolicy},
	types::{Epoch, ViewDelta},
};
use commonware_cryptography::sha256::Digest;
use commonware_p2p::Blocker;
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_utils::NZUsize;
use std::time::Duration;

/// The namespace every consensus signature of a service is made in, so that no vote can be
/// replayed into another protocol.
pub const NAMESPACE: &[u8] = b"tc/nest/agreement/1";

/// The p2p channels the agreement uses: simplex's three, and the proposals' bodies.
pub mod channels {
	/// Votes.
	pub const VOTES: u64 = 0;
	/// Certificates.
	pub const CERTIFICATES: u64 = 1;
	/// Fetching missing certificates.
	pub const RESOLVER: u64 = 2;
	/// Proposals' bodies ([`super::application`]).
	pub const BODIES: u64 = 3;
}

/// How long a leader has to propose before the others move on.
pub const LEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a notarized proposal may take to certify (its records fetched) before the others
/// move on.
pub const CERTIFICATION_TIMEOUT: Duration = Duration::from_secs(4);

/// The simplex configuration of one node, whose consensus journal lives in `partition`, for
/// the service whose consensus starts at `genesis` ([`application::genesis`]).
pub fn engine_config<B: Blocker<PublicKey = commonware_cryptography::ed25519::PublicKey>>(
	scheme: Scheme,
	blocker: B,
	mailbox: Mailbox,
	partition: String,
	genesis: Digest,
	page_cache: CacheRef,
) -> simplex::Config<Scheme, RoundRobin, B, Digest, Mailbox, Mailbox, Mailbox, Sequential> {
	simplex::Config {
		scheme,
		elector: RoundRobin::default(),
		blocker,
		automaton: mailbox.clone(),
		relay: mailbox.clone(),
		reporter: mailbox,
		strategy: Sequential,
		partition,
		mailbox_size: NZUsize!(1024),
		epoch: Epoch::zero(),
		floor: simplex::Floor::Genesis(genesis),
		replay_buffer: NZUsize!(1024 * 1024),
		write_buffer: NZUsize!(1024 * 1024),
		page_cache,
		leader_timeout: LEADER_TIMEOUT,
		certification_timeout: CERTIFICATION_TIMEOUT,
		timeout_retry: Duration::from_secs(10),
		activity_timeout: ViewDelta::new(20),
		skip_timeout: ViewDelta::new(10),
		fetch_timeout: Duration::from_secs(1),
		fetch_concurrent: NZUsize!(4),
		forwarding: ForwardingPolicy::SilentVoters,
	}
}
