//! The agreement's channels over the service nodes' libp2p network: what simplex and the
//! application ([`crate::agreement`]) send and receive, as commonware's p2p traits, carried by
//! a request-response protocol of the same swarm that gossips records. One network, one port,
//! one set of connection limits for both.
//!
//! ```text
//!  sender(channel).send(recipients, bytes) ─► network task ─► each recipient connected:
//!     request "/thingschain/nest/agreement/1" { channel, bytes } (answered with nothing)
//!  peer's network task: sent by a participant (its peer id is the key WebChain lists for a
//!     node of the service) and not blocked? ─► inbox of the channel ─► receiver.recv()
//!     ─► (the participant's key, bytes); anything else, or a full inbox, is dropped
//! ```
//!
//! A participant is known by its key alone: the key is its libp2p identity
//! ([`crate::node_key`]), so noise has already proven who sent a message before it arrives.
//! Messages are best effort, as on commonware's own networks: simplex and the application
//! ask again for what they miss.

use crate::agreement::chain::MAX_PROPOSAL_BYTES;
use codec::{Decode, Encode};
use commonware_actor::{Feedback, Unreliable};
use commonware_cryptography::ed25519::PublicKey;
use commonware_p2p::{Blocker, CheckedSender, LimitedSender, Receiver, Recipients};
use commonware_runtime::{IoBuf, IoBufs};
use libp2p::{PeerId, StreamProtocol};
use std::{
	collections::BTreeMap,
	sync::{Arc, Mutex},
	time::SystemTime,
};
use tokio::sync::mpsc;

/// The agreement's request-response protocol.
pub const AGREEMENT_PROTOCOL: StreamProtocol = StreamProtocol::new("/thingschain/nest/agreement/1");

/// The longest agreement message: a proposal's body, the largest, and room for its framing.
pub const MAX_AGREEMENT_BYTES: usize = MAX_PROPOSAL_BYTES + 64 * 1024;

/// The agreement's channels ([`crate::agreement::channels`]): messages naming another are
/// dropped.
pub const CHANNELS: usize = crate::agreement::channels::BODIES as usize + 1;

/// How many messages of one channel wait for the agreement before more are dropped.
const INBOX: usize = 1_024;

/// How many messages wait for the network task before more are dropped.
pub(super) const OUTBOX: usize = 4_096;

/// How long a message may take to be taken by its recipient.
pub(super) const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The most agreement messages in flight on one connection, each way: votes of a few views,
/// certificates and bodies.
pub(super) const MAX_STREAMS: usize = 256;

/// One agreement message on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct AgreementMessage {
	/// Its channel.
	pub channel: u64,
	/// What the agreement sent.
	pub payload: Vec<u8>,
}

/// What the agreement asks of the network task.
pub(super) enum Outgoing {
	/// Send `payload` on `channel` to each of `to`.
	Send { channel: u64, to: Vec<PeerId>, payload: Vec<u8> },
	/// Stop listening to `peer`: it sent something no honest node would.
	Block(PeerId),
}

/// The participants this node is connected to, as the network task last saw them: what a
/// send to [`Recipients::All`] reaches.
#[derive(Clone, Default)]
pub(super) struct Connected(Arc<Mutex<BTreeMap<PublicKey, PeerId>>>);

impl Connected {
	/// Replaces the set.
	pub(super) fn set(&self, connected: BTreeMap<PublicKey, PeerId>) {
		*self.0.lock().expect("the connected set is never poisoned") = connected;
	}

	/// The peers of `recipients` that are connected.
	fn resolve(&self, recipients: Recipients<PublicKey>) -> Vec<(PublicKey, PeerId)> {
		let connected = self.0.lock().expect("the connected set is never poisoned");
		let find = |key: &PublicKey| connected.get(key).map(|peer| (key.clone(), *peer));
		match recipients {
			Recipients::All => connected.iter().map(|(k, p)| (k.clone(), *p)).collect(),
			Recipients::Some(keys) => keys.iter().filter_map(find).collect(),
			Recipients::One(key) => find(&key).into_iter().collect(),
		}
	}
}

/// One channel's sending half.
#[derive(Clone)]
pub struct AgreementSender {
	channel: u64,
	outgoing: mpsc::Sender<Outgoing>,
	connected: Connected,
}

/// A send checked against the connected participants.
pub struct CheckedSend {
	sender: AgreementSender,
	to: Vec<(PublicKey, PeerId)>,
}

impl LimitedSender for AgreementSender {
	type PublicKey = PublicKey;
	type Checked<'a> = CheckedSend;

	fn check(&mut self, recipients: Recipients<PublicKey>) -> Result<CheckedSend, SystemTime> {
		Ok(CheckedSend { sender: self.clone(), to: self.connected.resolve(recipients) })
	}
}

impl CheckedSender for CheckedSend {
	type PublicKey = PublicKey;

	fn recipients(&self) -> Vec<PublicKey> {
		self.to.iter().map(|(key, _)| key.clone()).collect()
	}

	fn send(self, message: impl Into<IoBufs> + Send, _priority: bool) -> Unreliable<Feedback> {
		let payload = message.into().coalesce().as_ref().to_vec();
		let to = self.to.into_iter().map(|(_, peer)| peer).collect();
		let send = Outgoing::Send { channel: self.sender.channel, to, payload };
		match self.sender.outgoing.try_send(send) {
			Ok(()) => Unreliable::Outcome(Feedback::Ok),
			Err(mpsc::error::TrySendError::Full(_)) => Unreliable::Rejected,
			Err(mpsc::error::TrySendError::Closed(_)) => Unreliable::Outcome(Feedback::Closed),
		}
	}
}

/// Why a receiver gives no more messages.
#[derive(Debug, thiserror::Error)]
#[error("the service node's network stopped")]
pub struct NetworkStopped;

/// One channel's receiving half.
#[derive(Debug)]
pub struct AgreementReceiver {
	pub(super) inbox: mpsc::Receiver<(PublicKey, IoBuf)>,
}

impl Receiver for AgreementReceiver {
	type Error = NetworkStopped;
	type PublicKey = PublicKey;

	async fn recv(&mut self) -> Result<(PublicKey, IoBuf), NetworkStopped> {
		self.inbox.recv().await.ok_or(NetworkStopped)
	}
}

/// Blocks peers for the agreement.
#[derive(Clone)]
pub struct AgreementBlocker {
	outgoing: mpsc::Sender<Outgoing>,
}

impl Blocker for AgreementBlocker {
	type PublicKey = PublicKey;

	fn block(&mut self, peer: PublicKey) -> Feedback {
		let Some(peer) = peer_of(&peer) else { return Feedback::Ok };
		match self.outgoing.try_send(Outgoing::Block(peer)) {
			Ok(()) => Feedback::Ok,
			Err(mpsc::error::TrySendError::Full(_)) => Feedback::Backoff,
			Err(mpsc::error::TrySendError::Closed(_)) => Feedback::Closed,
		}
	}
}

/// The peer id of the participant whose agreement key is `key`: the key is its identity.
pub(super) fn peer_of(key: &PublicKey) -> Option<PeerId> {
	crate::node_key::peer_id(key.as_ref().try_into().ok()?)
}

/// The agreement's ends: a sender and receiver per channel, and the blocker.
pub struct AgreementChannels {
	/// The channels, by number ([`crate::agreement::channels`]).
	pub channels: Vec<(AgreementSender, AgreementReceiver)>,
	/// Blocks misbehaving peers.
	pub blocker: AgreementBlocker,
}

/// What became of the agreement messages a node received.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AgreementTraffic {
	/// Handed to the agreement.
	pub delivered: u64,
	/// Dropped: not from a participant, or from a blocked one.
	pub refused: u64,
	/// Dropped: on no channel, or its channel's inbox was full.
	pub overflowed: u64,
}

/// The network task's side of the agreement's channels.
pub(super) struct Inboxes {
	/// Where each channel's messages go.
	inboxes: Vec<mpsc::Sender<(PublicKey, IoBuf)>>,
	/// What became of the messages received.
	pub(super) traffic: AgreementTraffic,
}

impl Inboxes {
	/// Hands `message` from participant `from` to its channel; drops it if the channel does
	/// not exist or its inbox is full.
	pub(super) fn deliver(&mut self, from: PublicKey, message: AgreementMessage) {
		let channel = message.channel;
		let inbox = usize::try_from(channel).ok().and_then(|c| self.inboxes.get(c));
		match inbox.map(|inbox| inbox.try_send((from, IoBuf::from(message.payload))).is_ok()) {
			Some(true) => self.traffic.delivered += 1,
			_ => {
				tracing::debug!(target: "p2p", "agreement channel {channel}: a message dropped");
				self.traffic.overflowed += 1;
			}
		}
	}

	/// Counts a message not taken from its sender.
	pub(super) fn refuse(&mut self) {
		self.traffic.refused += 1;
	}
}

/// Makes the channels: the agreement's ends, and the network task's.
pub(super) fn channels(
	outgoing: mpsc::Sender<Outgoing>,
	connected: Connected,
) -> (AgreementChannels, Inboxes) {
	let (channels, inboxes) = (0..CHANNELS as u64)
		.map(|channel| {
			let (inbox, receiver) = mpsc::channel(INBOX);
			let sender = AgreementSender {
				channel,
				outgoing: outgoing.clone(),
				connected: connected.clone(),
			};
			((sender, AgreementReceiver { inbox: receiver }), inbox)
		})
		.unzip();
	let blocker = AgreementBlocker { outgoing };
	let traffic = AgreementTraffic::default();
	(AgreementChannels { channels, blocker }, Inboxes { inboxes, traffic })
}
