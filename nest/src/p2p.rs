//! Replication among a service's nodes over libp2p (TCP, noise, yamux): gossipsub spreads the
//! records devices write to each node, request-response serves records to nodes that
//! lack them ([`protocol`]). Only peers whose [`protocol::PeerBinding`] names a trusted node of
//! the service on WebChain (as of the last finalized block read) are trusted: their gossip is
//! accepted and forwarded, their requests answered; anyone else's gossip is rejected and its
//! requests refused.
//!
//! ```text
//!  device ─► nestnode_submit ─► ledger ─► publish ──gossip──► peer: check (signatures, rules)
//!                                                              ─► ledger, in order
//!                                                              a gap ─► Records(device, next..)
//!                                                                       from the publisher
//!  connection (at most 16 mid-handshake, 2 per peer, 128 in all)
//!             ─► hello (binding) both ways ─► trusted while WebChain lists the account
//!  agreement ◄─► request-response to and from participants only ([`agreement`])
//! ```

pub mod agreement;
pub mod protocol;

use crate::{
	committer::Committer,
	error::{Rejection, StorageError},
	ledger::Ledger,
	rpc::MAX_RECORDS_PER_CALL,
	validate::Rules,
	webchain::Finalized,
};
use agreement::{
	AgreementChannels, AgreementMessage, AgreementTraffic, Connected, Inboxes, Outgoing,
};
use codec::{Decode, Encode};
use commonware_cryptography::ed25519::PublicKey as AgreementKey;
use futures::StreamExt;
use libp2p::{
	connection_limits::{self, ConnectionLimits},
	identity::Keypair as PeerKeypair,
	noise,
	request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel},
	swarm::{dial_opts::DialOpts, ConnectionId, NetworkBehaviour, SwarmEvent},
	tcp, yamux, Multiaddr, PeerId, Swarm,
};
use libp2p_gossipsub as gossipsub;
use protocol::{
	Framed, HelloCodec, PeerBinding, Request, Response, SyncCodec, HELLO_PROTOCOL,
	MAX_MESSAGE_BYTES, SYNC_PROTOCOL,
};
use std::{
	collections::{BTreeMap, HashMap, HashSet},
	sync::Arc,
	time::{Duration, Instant},
};
use subxt_signer::sr25519::Keypair;
use thingschain_primitives::{ids::DeviceId, nest::SignedNestRecord};
use tokio::sync::{mpsc, oneshot, watch};

/// How long a request waits for its response.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// The most requests in flight on one connection, each way.
const MAX_STREAMS: usize = 16;

/// The most hellos in flight on one connection, each way: one is all a peer needs.
const MAX_HELLO_STREAMS: usize = 2;

/// The most commands waiting for the network task.
const MAX_WAITING_COMMANDS: usize = 1_024;

/// Connections accepted while their handshake runs: anyone may open one.
const MAX_PENDING_INCOMING: u32 = 16;

/// Connections established with one peer: its dial and this node's.
const MAX_CONNECTIONS_PER_PEER: u32 = 2;

/// Connections established in all: a service has tens of nodes, not hundreds.
const MAX_CONNECTIONS: u32 = 128;

/// How long a peer the agreement blocked stays unheard.
const BLOCKED_FOR: Duration = Duration::from_secs(600);

/// The network's behaviours.
#[derive(NetworkBehaviour)]
struct Behaviour {
	/// Refuses connections beyond the limits.
	limits: connection_limits::Behaviour,
	/// New records, pushed.
	gossip: gossipsub::Behaviour,
	/// Who each peer is.
	hello: request_response::Behaviour<HelloCodec>,
	/// Records, asked for.
	sync: request_response::Behaviour<SyncCodec>,
	/// The agreement's messages.
	agreement: request_response::Behaviour<Framed<AgreementMessage, ()>>,
}

/// What the rest of the node asks of the network task.
enum Command {
	/// Spread records devices wrote to this node.
	Publish(Vec<SignedNestRecord>),
	/// Ask `peer` (or every trusted peer) and send the answers back.
	Ask { peer: Option<PeerId>, request: Request, reply: mpsc::UnboundedSender<Response> },
	/// Tell how many peers are trusted now.
	Trusted(oneshot::Sender<usize>),
	/// Tell what became of the agreement messages received.
	AgreementTraffic(oneshot::Sender<AgreementTraffic>),
}

/// An answer to a peer's request, read from the ledger off the network task.
type Answer = (ResponseChannel<Response>, Response);

/// How many peers' ledger reads run at once; more wait (their requests time out if too long).
const PEER_READS_AT_ONCE: usize = 4;

/// A handle on the network task.
#[derive(Clone)]
pub struct Network {
	commands: mpsc::Sender<Command>,
}

/// What the network task needs.
pub struct Config {
	/// The node's libp2p key (its peer id).
	pub peer_key: PeerKeypair,
	/// The node's account key, which vouches for the peer id.
	pub account: Keypair,
	/// Where it listens.
	pub listen: Multiaddr,
	/// Where its peers are, dialed at start (a peer id is not needed: noise tells it).
	pub peers: Vec<Multiaddr>,
	/// The records' rules (the service, WebChain's genesis).
	pub rules: Arc<Rules>,
	/// The ledger, to answer requests.
	pub ledger: Arc<Ledger>,
	/// Its writer, for records from peers.
	pub committer: Committer,
	/// WebChain as last read: who the service's nodes are.
	pub finalized: watch::Receiver<Option<Finalized>>,
}

/// A started network: the handle to it and its task.
pub struct Started {
	/// The handle the node's other parts use.
	pub network: Network,
	/// This node's libp2p peer id.
	pub peer_id: PeerId,
	/// The agreement's channels over this network.
	pub agreement: AgreementChannels,
	/// The network's task: it runs for as long as the node does, so its end is a failure.
	pub task: tokio::task::JoinHandle<()>,
}

impl Network {
	/// Starts the network task.
	pub fn start(config: Config) -> Result<Started, Box<dyn std::error::Error>> {
		let topic = gossipsub::IdentTopic::new(protocol::records_topic(
			&config.rules.genesis_hash,
			config.rules.service,
		));
		let gossip_config = gossipsub::ConfigBuilder::default()
			.validation_mode(gossipsub::ValidationMode::Strict)
			.validate_messages()
			.max_transmit_size(MAX_MESSAGE_BYTES)
			.heartbeat_interval(Duration::from_millis(500))
			.build()?;
		let mut swarm = libp2p::SwarmBuilder::with_existing_identity(config.peer_key.clone())
			.with_tokio()
			.with_tcp(
				tcp::Config::default().nodelay(true),
				noise::Config::new,
				yamux::Config::default,
			)?
			.with_behaviour(|key| {
				let gossip = gossipsub::Behaviour::new(
					gossipsub::MessageAuthenticity::Signed(key.clone()),
					gossip_config,
				)?;
				let hello = request_response::Behaviour::new(
					[(HELLO_PROTOCOL, ProtocolSupport::Full)],
					request_response::Config::default()
						.with_request_timeout(REQUEST_TIMEOUT)
						.with_max_concurrent_streams(MAX_HELLO_STREAMS),
				);
				let limits = connection_limits::Behaviour::new(
					ConnectionLimits::default()
						.with_max_pending_incoming(Some(MAX_PENDING_INCOMING))
						.with_max_established_per_peer(Some(MAX_CONNECTIONS_PER_PEER))
						.with_max_established(Some(MAX_CONNECTIONS)),
				);
				let sync = request_response::Behaviour::new(
					[(SYNC_PROTOCOL, ProtocolSupport::Full)],
					request_response::Config::default()
						.with_request_timeout(REQUEST_TIMEOUT)
						.with_max_concurrent_streams(MAX_STREAMS),
				);
				let agreement = request_response::Behaviour::with_codec(
					Framed::new(agreement::MAX_AGREEMENT_BYTES, 0),
					[(agreement::AGREEMENT_PROTOCOL, ProtocolSupport::Full)],
					request_response::Config::default()
						.with_request_timeout(agreement::SEND_TIMEOUT)
						.with_max_concurrent_streams(agreement::MAX_STREAMS),
				);
				Ok(Behaviour { limits, gossip, hello, sync, agreement })
			})?
			.with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3_600)))
			.build();
		swarm.behaviour_mut().gossip.subscribe(&topic)?;
		swarm.listen_on(config.listen.clone())?;
		let local = *swarm.local_peer_id();
		let (commands, queue) = mpsc::channel(MAX_WAITING_COMMANDS);
		let network = Network { commands };
		let (answered, answers) = mpsc::channel(PEER_READS_AT_ONCE);
		let (outgoing, to_send) = mpsc::channel(agreement::OUTBOX);
		let connected = Connected::default();
		let (channels, inboxes) = agreement::channels(outgoing, connected.clone());
		let mut task = Task {
			inboxes,
			connected,
			participants: HashMap::new(),
			blocked: HashMap::new(),
			answered,
			reads: Arc::new(tokio::sync::Semaphore::new(PEER_READS_AT_ONCE)),
			hello: PeerBinding::sign(
				&config.account,
				&config.rules.genesis_hash,
				config.rules.service,
				&local,
			),
			swarm,
			topic,
			trusted: HashMap::new(),
			greeted: HashSet::new(),
			dialing: HashMap::new(),
			pending: HashMap::new(),
			network: network.clone(),
			config,
		};
		task.recheck_participants();
		task.dial_peers();
		let task = tokio::spawn(task.run(queue, answers, to_send));
		Ok(Started { network, peer_id: local, agreement: channels, task })
	}

	/// Spreads records devices wrote to this node (dropped if the task is gone or busy: the
	/// peers fetch them when the agreement orders them).
	pub fn publish(&self, records: Vec<SignedNestRecord>) {
		let _ = self.commands.try_send(Command::Publish(records));
	}

	/// Device `device`'s records from `from` on (at most `count`), from trusted peer `peer`.
	pub async fn records(
		&self,
		peer: PeerId,
		device: DeviceId,
		from: u64,
		count: u32,
	) -> Vec<SignedNestRecord> {
		let answers = self.ask(Some(peer), Request::Records { device, from, count }).await;
		answers
			.into_iter()
			.find_map(|answer| match answer {
				Response::Records(records) => Some(records),
				_ => None,
			})
			.unwrap_or_default()
	}

	/// The answers of every trusted peer to which records `range` names: each a list the
	/// caller checks (a peer may answer anything).
	pub async fn range(&self, range: crate::agreement::chain::Range) -> Vec<Vec<SignedNestRecord>> {
		let answers = self.ask(None, Request::Range(range)).await;
		answers
			.into_iter()
			.filter_map(|answer| match answer {
				Response::Records(records) if !records.is_empty() => Some(records),
				_ => None,
			})
			.collect()
	}

	/// How many peers are trusted now (none if the task stopped).
	pub async fn trusted_peers(&self) -> usize {
		let (reply, count) = oneshot::channel();
		if self.commands.send(Command::Trusted(reply)).await.is_err() {
			return 0;
		}
		count.await.unwrap_or(0)
	}

	/// What became of the agreement messages received so far (nothing if the task stopped).
	pub async fn agreement_traffic(&self) -> AgreementTraffic {
		let (reply, traffic) = oneshot::channel();
		if self.commands.send(Command::AgreementTraffic(reply)).await.is_err() {
			return AgreementTraffic::default();
		}
		traffic.await.unwrap_or_default()
	}

	/// Asks `peer`, or every trusted peer, and collects the answers.
	async fn ask(&self, peer: Option<PeerId>, request: Request) -> Vec<Response> {
		let (reply, mut answers) = mpsc::unbounded_channel();
		if self.commands.send(Command::Ask { peer, request, reply }).await.is_err() {
			return Vec::new();
		}
		let mut all = Vec::new();
		while let Some(answer) = answers.recv().await {
			all.push(answer);
		}
		all
	}
}

/// The network task's state.
struct Task {
	/// The libp2p swarm.
	swarm: Swarm<Behaviour>,
	/// The service's records topic.
	topic: gossipsub::IdentTopic,
	/// This node's binding, sent to every peer.
	hello: PeerBinding,
	/// Peers that proved they are a trusted node, with its account.
	trusted: HashMap<PeerId, [u8; 32]>,
	/// Untrusted peers greeted after a finalized block: disconnected after the next one if
	/// still untrusted.
	greeted: HashSet<PeerId>,
	/// The configured peers' addresses being dialed or connected, with the connection.
	dialing: HashMap<Multiaddr, ConnectionId>,
	/// Requests in flight and where their answers go (dropped, with the sender, when done).
	pending: HashMap<OutboundRequestId, mpsc::UnboundedSender<Response>>,
	/// A handle on this task, for records fetched after a gap.
	network: Network,
	/// Where answers read off this task come back, to be sent: apart from the commands, so
	/// large answers never crowd out records to publish.
	answered: mpsc::Sender<Answer>,
	/// Permits for peers' ledger reads ([`PEER_READS_AT_ONCE`]).
	reads: Arc<tokio::sync::Semaphore>,
	/// The service's nodes' keys as WebChain last listed them, by peer id: whom the agreement
	/// hears.
	participants: HashMap<PeerId, AgreementKey>,
	/// The participants connected now, shared with the agreement's senders.
	connected: Connected,
	/// Where participants' agreement messages go.
	inboxes: Inboxes,
	/// Peers the agreement blocked, until when.
	blocked: HashMap<PeerId, Instant>,
	/// What the task was started with.
	config: Config,
}

impl Task {
	/// Serves commands, swarm events and WebChain's finalized blocks until the node stops.
	async fn run(
		mut self,
		mut commands: mpsc::Receiver<Command>,
		mut answers: mpsc::Receiver<Answer>,
		mut to_send: mpsc::Receiver<Outgoing>,
	) {
		let mut finalized = self.config.finalized.clone();
		loop {
			tokio::select! {
				command = commands.recv() => match command {
					Some(command) => self.command(command),
					None => return,
				},
				Some(outgoing) = to_send.recv() => self.agreement_send(outgoing),
				Some((channel, response)) = answers.recv() => {
					let _ = self.swarm.behaviour_mut().sync.send_response(channel, response);
				}
				event = self.swarm.select_next_some() => self.event(event),
				changed = finalized.changed() => {
					if changed.is_err() {
						return;
					}
					self.recheck_peers();
					self.recheck_participants();
					self.dial_peers();
				}
			}
		}
	}

	/// Carries out a command of the rest of the node.
	fn command(&mut self, command: Command) {
		match command {
			Command::Publish(records) => {
				let topic = self.topic.clone();
				if let Err(e) = self.swarm.behaviour_mut().gossip.publish(topic, records.encode()) {
					tracing::debug!(target: "p2p", "records not published: {e}");
				}
			}
			Command::Trusted(reply) => {
				let _ = reply.send(self.trusted.len());
			}
			Command::AgreementTraffic(reply) => {
				let _ = reply.send(self.inboxes.traffic);
			}
			Command::Ask { peer, request, reply } => {
				let peers: Vec<PeerId> = match peer {
					Some(peer) => vec![peer],
					None => self.trusted.keys().copied().collect(),
				};
				for peer in peers.into_iter().filter(|p| self.trusted.contains_key(p)) {
					let id = self.swarm.behaviour_mut().sync.send_request(&peer, request.clone());
					self.pending.insert(id, reply.clone());
				}
			}
		}
	}

	/// Handles a swarm event: connections, requests and responses, gossip.
	fn event(&mut self, event: SwarmEvent<BehaviourEvent>) {
		match event {
			SwarmEvent::NewListenAddr { address, .. } => {
				tracing::info!(target: "p2p", "listening on {address}");
			}
			SwarmEvent::ConnectionEstablished { peer_id, num_established, .. } => {
				if self.is_blocked(&peer_id) {
					let _ = self.swarm.disconnect_peer_id(peer_id);
				} else if num_established.get() == 1 {
					self.greet(peer_id);
					self.share_connected();
				}
			}
			SwarmEvent::ConnectionClosed {
				peer_id, connection_id, num_established, cause, ..
			} => {
				tracing::debug!(target: "p2p", "a connection to {peer_id} closed: {cause:?}");
				self.dialing.retain(|_, id| *id != connection_id);
				if num_established == 0 {
					self.trusted.remove(&peer_id);
					self.greeted.remove(&peer_id);
					self.share_connected();
				}
			}
			SwarmEvent::OutgoingConnectionError { connection_id, error, .. } => {
				tracing::debug!(target: "p2p", "a dial failed: {error}");
				self.dialing.retain(|_, id| *id != connection_id);
			}
			SwarmEvent::Behaviour(BehaviourEvent::Hello(event)) => self.hello_event(event),
			SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.sync_event(event),
			SwarmEvent::Behaviour(BehaviourEvent::Agreement(event)) => self.agreement_event(event),
			SwarmEvent::Behaviour(BehaviourEvent::Gossip(gossipsub::Event::Message {
				propagation_source,
				message_id,
				message,
			})) => self.gossip(propagation_source, message_id, message),
			_ => {}
		}
	}

	/// Handles the hello protocol: a peer's binding, asked or told, decides whether it is
	/// trusted; anyone is told this node's.
	fn hello_event(&mut self, event: request_response::Event<PeerBinding, PeerBinding>) {
		use request_response::{Event, Message};
		match event {
			Event::Message { peer, message: Message::Request { request, channel, .. } } => {
				self.trust(peer, &request);
				let hello = self.hello.clone();
				let _ = self.swarm.behaviour_mut().hello.send_response(channel, hello);
			}
			Event::Message { peer, message: Message::Response { response, .. } } => {
				self.trust(peer, &response)
			}
			Event::OutboundFailure { peer, error, .. } => {
				tracing::debug!(target: "p2p", "a hello to {peer} failed: {error}");
			}
			_ => {}
		}
	}

	/// Handles the sync protocol: answers requests, routes responses to who asked.
	fn sync_event(&mut self, event: request_response::Event<Request, Response>) {
		use request_response::{Event, Message};
		match event {
			Event::Message { peer, message: Message::Request { request, channel, .. } } => {
				self.answer(peer, request, channel)
			}
			Event::Message { message: Message::Response { request_id, response }, .. } => {
				if let Some(reply) = self.pending.remove(&request_id) {
					let _ = reply.send(response);
				}
			}
			Event::OutboundFailure { peer, request_id, error } => {
				tracing::debug!(target: "p2p", "a request to {peer} failed: {error}");
				self.pending.remove(&request_id);
			}
			_ => {}
		}
	}

	/// Sends `peer` this node's hello.
	fn greet(&mut self, peer: PeerId) {
		let hello = self.hello.clone();
		self.swarm.behaviour_mut().hello.send_request(&peer, hello);
	}

	/// Stops trusting `peer`: its gossip is ignored, and it is disconnected (a configured
	/// peer is dialed again after the next block: its account may become a node).
	fn distrust(&mut self, peer: PeerId) {
		self.trusted.remove(&peer);
		self.greeted.remove(&peer);
		self.swarm.behaviour_mut().gossip.blacklist_peer(&peer);
		let _ = self.swarm.disconnect_peer_id(peer);
	}

	/// Answers `peer`'s request, if it is a trusted peer.
	fn answer(&mut self, peer: PeerId, request: Request, channel: ResponseChannel<Response>) {
		let response = match request {
			_ if !self.trusted.contains_key(&peer) => Response::Refused,
			Request::Records { device, from, count } => {
				let count = (count as usize).min(MAX_RECORDS_PER_CALL);
				return self.answer_from_ledger(channel, move |ledger| {
					Ok(Response::Records(ledger.records(device, from, count)?))
				});
			}
			Request::Range(range) => {
				return self.answer_from_ledger(channel, move |ledger| {
					Ok(Response::Records(ledger.range_records(&range)?.unwrap_or_default()))
				});
			}
		};
		let _ = self.swarm.behaviour_mut().sync.send_response(channel, response);
	}

	/// Answers on `channel` with `read` of the ledger, run off this task (a peer's read must
	/// not hold up the swarm); a failure is logged and answered as refused.
	fn answer_from_ledger(
		&self,
		channel: ResponseChannel<Response>,
		read: impl FnOnce(&Ledger) -> Result<Response, StorageError> + Send + 'static,
	) {
		let (ledger, answered, reads) =
			(self.config.ledger.clone(), self.answered.clone(), self.reads.clone());
		tokio::spawn(async move {
			let Ok(_reading) = reads.acquire_owned().await else { return };
			let response = crate::blocking(move || read(&ledger)).await.unwrap_or_else(|e| {
				tracing::warn!(target: "p2p", "a peer's request: {e}");
				Response::Refused
			});
			let _ = answered.send((channel, response)).await;
		});
	}

	/// Trusts `peer` if `binding` is a current node's account vouching for it; otherwise
	/// [`Self::distrust`]s it.
	fn trust(&mut self, peer: PeerId, binding: &PeerBinding) {
		let (genesis, service) = (&self.config.rules.genesis_hash, self.config.rules.service);
		let account = binding.verify(genesis, service, &peer).filter(|account| {
			let finalized = self.config.finalized.borrow();
			finalized.as_ref().is_some_and(|at| at.service.nodes.contains(account))
		});
		match account {
			Some(account) => {
				self.greeted.remove(&peer);
				if self.trusted.insert(peer, account).is_none() {
					tracing::info!(target: "p2p", "peer {peer} is node 0x{}", hex::encode(account));
					self.swarm.behaviour_mut().gossip.remove_blacklisted_peer(&peer);
				}
			}
			None => {
				tracing::debug!(target: "p2p", "peer {peer} is not a trusted node of the service");
				self.distrust(peer);
			}
		}
	}

	/// Dials each configured peer not connected or being dialed: at start, and again after
	/// each finalized block (a peer that restarted is found again).
	fn dial_peers(&mut self) {
		for address in &self.config.peers {
			if self.dialing.contains_key(address) {
				continue;
			}
			let dial = DialOpts::unknown_peer_id().address(address.clone()).build();
			let connection = dial.connection_id();
			match self.swarm.dial(dial) {
				Ok(()) => {
					self.dialing.insert(address.clone(), connection);
				}
				Err(e) => tracing::debug!(target: "p2p", "dialing {address}: {e}"),
			}
		}
	}

	/// After a finalized block: stops trusting peers whose account WebChain no longer lists
	/// among the service's nodes; greets connected peers not trusted yet, and disconnects
	/// those greeted after the last block that still are not.
	fn recheck_peers(&mut self) {
		let nodes = match self.config.finalized.borrow().as_ref() {
			Some(at) => at.service.nodes.clone(),
			None => return,
		};
		let removed: Vec<PeerId> = self
			.trusted
			.iter()
			.filter(|(_, account)| !nodes.contains(account))
			.map(|(peer, _)| *peer)
			.collect();
		for peer in removed {
			tracing::warn!(target: "p2p", "peer {peer}'s node was removed from the service");
			self.distrust(peer);
		}
		let untrusted: Vec<PeerId> = self
			.swarm
			.connected_peers()
			.filter(|peer| !self.trusted.contains_key(peer))
			.copied()
			.collect();
		for peer in untrusted {
			if self.greeted.contains(&peer) {
				self.distrust(peer);
			} else {
				self.greeted.insert(peer);
				self.greet(peer);
			}
		}
	}

	/// After a finalized block: the agreement hears the nodes whose keys WebChain lists now.
	fn recheck_participants(&mut self) {
		let participants = match self.config.finalized.borrow().as_ref() {
			Some(at) => at.service.keys.iter().flatten().filter_map(|key| {
				let peer = crate::node_key::peer_id(key)?;
				Some((peer, crate::node_key::agreement_public(key)?))
			}),
			None => return,
		}
		.collect();
		self.participants = participants;
		self.share_connected();
	}

	/// Tells the agreement's senders which participants are connected now.
	fn share_connected(&self) {
		let connected: BTreeMap<AgreementKey, PeerId> = self
			.swarm
			.connected_peers()
			.filter_map(|peer| Some((self.participants.get(peer)?.clone(), *peer)))
			.collect();
		self.connected.set(connected);
	}

	/// Whether the agreement blocked `peer` (a block that ran out is forgotten).
	fn is_blocked(&mut self, peer: &PeerId) -> bool {
		let now = Instant::now();
		self.blocked.retain(|_, until| *until > now);
		self.blocked.contains_key(peer)
	}

	/// Sends what the agreement sent, or blocks whom it blocked.
	fn agreement_send(&mut self, outgoing: Outgoing) {
		match outgoing {
			Outgoing::Send { channel, to, payload } => {
				for peer in to {
					let message = AgreementMessage { channel, payload: payload.clone() };
					self.swarm.behaviour_mut().agreement.send_request(&peer, message);
				}
			}
			Outgoing::Block(peer) => {
				tracing::warn!(target: "p2p", "the agreement blocked peer {peer}");
				self.blocked.insert(peer, Instant::now() + BLOCKED_FOR);
				let _ = self.swarm.disconnect_peer_id(peer);
			}
		}
	}

	/// A participant's agreement message goes to its channel; anyone else's is dropped.
	fn agreement_event(&mut self, event: request_response::Event<AgreementMessage, ()>) {
		use request_response::{Event, Message};
		match event {
			Event::Message { peer, message: Message::Request { request, channel, .. } } => {
				let _ = self.swarm.behaviour_mut().agreement.send_response(channel, ());
				match self.participants.get(&peer).cloned() {
					Some(key) if !self.is_blocked(&peer) => self.inboxes.deliver(key, request),
					_ => {
						tracing::debug!(target: "p2p", "an agreement message from {peer}: no participant");
						self.inboxes.refuse();
					}
				}
			}
			Event::OutboundFailure { peer, error, .. } => {
				tracing::debug!(target: "p2p", "an agreement message to {peer} failed: {error}");
			}
			_ => {}
		}
	}

	/// Gossip from trusted peers (published and forwarded by them) is accepted and stored;
	/// anything else is rejected, so gossipsub neither forwards it nor keeps the sender.
	fn gossip(&mut self, source: PeerId, id: gossipsub::MessageId, message: gossipsub::Message) {
		let publisher = message.source.filter(|p| self.trusted.contains_key(p));
		let records = (self.trusted.contains_key(&source) && publisher.is_some())
			.then(|| Vec::<SignedNestRecord>::decode(&mut &message.data[..]).ok())
			.flatten();
		let acceptance = match &records {
			Some(_) => gossipsub::MessageAcceptance::Accept,
			None => gossipsub::MessageAcceptance::Reject,
		};
		let gossip = &mut self.swarm.behaviour_mut().gossip;
		// An error only says the message left the cache already: nothing to forward.
		let _ = gossip.report_message_validation_result(&id, &source, acceptance);
		if let (Some(records), Some(publisher)) = (records, publisher) {
			let store =
				Store { committer: self.config.committer.clone(), network: self.network.clone() };
			tokio::spawn(store.gossiped(publisher, records));
		}
	}
}

/// Stores records from peers.
struct Store {
	committer: Committer,
	network: Network,
}

impl Store {
	/// Stores records `publisher` gossiped, checked as a device's own write is; where a
	/// device's records start past this node's next sequence, fetches the gap (and the rest)
	/// from the publisher first.
	async fn gossiped(self, publisher: PeerId, records: Vec<SignedNestRecord>) {
		let gaps = self.store(records).await;
		for (device, expected) in gaps {
			let missing = self
				.network
				.records(publisher, device, expected, MAX_RECORDS_PER_CALL as u32)
				.await;
			self.store(missing).await;
		}
	}

	/// Checks and appends `records`; returns the devices whose records came past a gap, with
	/// the sequence expected.
	async fn store(&self, records: Vec<SignedNestRecord>) -> Vec<(DeviceId, u64)> {
		let devices: Vec<DeviceId> = records.iter().map(|r| r.record.device).collect();
		let outcomes = match self.committer.submit(records).await {
			Ok(outcomes) => outcomes,
			Err(e) => {
				tracing::warn!(target: "p2p", "records from a peer not stored: {e}");
				return Vec::new();
			}
		};
		let mut gaps: Vec<(DeviceId, u64)> = Vec::new();
		for (outcome, device) in outcomes.into_iter().zip(devices) {
			match outcome {
				Err(Rejection::SequenceGap { expected }) => {
					if !gaps.iter().any(|(d, _)| *d == device) {
						gaps.push((device, expected));
					}
				}
				Err(rejection) => {
					tracing::warn!(target: "p2p", "a peer's record of device {device}: {rejection}")
				}
				Ok(_) => {}
			}
		}
		gaps
	}
}

#[cfg(test)]
mod tests;
