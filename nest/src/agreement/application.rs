//! The service's application under simplex: it builds proposals when this node leads,
//! verifies others' against the chain rules, certifies one only once this node holds every
//! record under it durably, and hands each finalized proposal to the log in order.
//!
//! ```text
//!  simplex ─► Mailbox ─► actor loop ─► one task per request (they wait on bodies, blocks,
//!                                       records without holding the loop up)
//!    propose(parent)  parent's state + log.unordered(ends, finalized block) [+ close: the
//!                     root of the epoch's tree, with the peg arrivals this node holds]
//!    verify(digest)   body (from the leader's broadcast, or asked of peers) ─► chain::extend,
//!                     and its block finalized here
//!    certify(digest)  log.hold(every range under it not yet held here, checked against the
//!                     registry at its proposal's WebChain block) [+ root recomputed, its
//!                     arrivals waited for]
//!    finalized(d)     each proposal up to d, in order: hold its records (by their leaves: a
//!                     quorum checked them), log.finalize (a close with its certificate: d's
//!                     finalization and the bodies up to d)
//!  peers ◄─► bodies channel: Body(proposal) on broadcast, Want(digest) when one is missing
//! ```

use super::{
	chain::{
		self, BlockNumber, Close, EpochCertificate, EpochTree, Proposal, Range, State,
		MAX_CERTIFIED_BODIES, MAX_PROPOSAL_BYTES, MAX_RANGES_PER_PROPOSAL,
		MAX_RECORDS_PER_PROPOSAL,
	},
	log::{Log, Unholdable, Vetting, WebChain},
};
use codec::{Decode, DecodeLimit, Encode};
use commonware_actor::Feedback;
use commonware_consensus::{
	simplex::{
		scheme::ed25519::Scheme,
		types::{Activity, Context},
		Plan,
	},
	types::Round,
	Automaton, CertifiableAutomaton, Relay, Reporter,
};
use commonware_cryptography::{ed25519::PublicKey, sha256::Digest};
use commonware_p2p::{Receiver, Recipients, Sender};
use commonware_runtime::{Clock, Handle, Spawner};
use commonware_utils::channel::{mpsc, oneshot};
use futures::future::{select, Either};
use polkadot_sdk::sp_crypto_hashing::sha2_256;
use std::{
	collections::{BTreeMap, BTreeSet},
	pin::pin,
	sync::{Arc, Mutex},
	time::Duration,
};
use thingschain_primitives::ids::Hash;
use tokio::sync::Notify;

/// What consensus hands the application about a proposal.
pub type ProposalContext = Context<Digest, PublicKey>;

/// How [`Core::hold_through`] checks records.
#[derive(Clone, Copy)]
enum Check {
	/// Each proposal's against the registry at its block: to certify.
	AtTheirBlocks,
	/// By their leaves: the proposals are final.
	Final,
}

/// How long a node waits for a missing body or WebChain block before asking again.
const RETRY: Duration = Duration::from_millis(250);

/// How long a leader gathers records before proposing them.
const PACE: Duration = Duration::from_millis(200);

/// How long a leader with nothing to order waits before proposing an empty proposal (which
/// keeps the views, and the epochs' closes, going). Below the leader timeout.
const IDLE: Duration = Duration::from_secs(1);

/// How many bodies a node answers a `Want` with: the one wanted and its ancestors.
const ANCESTRY: usize = 64;

/// The most bodies kept beyond the finalized log (consensus keeps far fewer views open):
/// about 900 MiB of the longest.
const MAX_BODIES: usize = 2_048;

/// The digest consensus starts from, for `service` on the WebChain of `genesis_hash`: its
/// state is the empty log ([`State::default`]).
pub fn genesis(genesis_hash: &Hash, service: u32) -> Digest {
	Digest(sha2_256(&(b"tc/nest/agreement/1", genesis_hash, service).encode()))
}

/// What nodes send each other on the bodies channel.
#[derive(Encode, Decode)]
enum Wire {
	/// A proposal's body.
	Body(Proposal),
	/// A request for the body with this digest.
	Want([u8; 32]),
}

impl Wire {
	fn decode_bounded(bytes: &[u8]) -> Option<Wire> {
		if bytes.len() > MAX_PROPOSAL_BYTES + 1 {
			return None;
		}
		Wire::decode_all_with_depth_limit(4, &mut &bytes[..]).ok()
	}
}

/// A request from consensus.
enum Message {
	Propose { context: ProposalContext, response: oneshot::Sender<Digest> },
	Verify { context: ProposalContext, payload: Digest, response: oneshot::Sender<bool> },
	Certify { payload: Digest, response: oneshot::Sender<bool> },
	Broadcast { payload: Digest, recipients: Recipients<PublicKey> },
	Finalized { payload: Digest, finalization: Vec<u8> },
}

/// Consensus's handle on the application: its automaton, relay and reporter.
#[derive(Clone)]
pub struct Mailbox {
	sender: mpsc::UnboundedSender<Message>,
}

impl Mailbox {
	fn send(&self, message: Message) -> Feedback {
		match self.sender.send(message) {
			Ok(()) => Feedback::Ok,
			Err(_) => Feedback::Closed,
		}
	}
}

impl Automaton for Mailbox {
	type Context = ProposalContext;
	type Digest = Digest;

	async fn propose(&mut self, context: ProposalContext) -> oneshot::Receiver<Digest> {
		let (response, receiver) = oneshot::channel();
		self.send(Message::Propose { context, response });
		receiver
	}

	async fn verify(
		&mut self,
		context: ProposalContext,
		payload: Digest,
	) -> oneshot::Receiver<bool> {
		let (response, receiver) = oneshot::channel();
		self.send(Message::Verify { context, payload, response });
		receiver
	}
}

impl CertifiableAutomaton for Mailbox {
	async fn certify(&mut self, _round: Round, payload: Digest) -> oneshot::Receiver<bool> {
		let (response, receiver) = oneshot::channel();
		self.send(Message::Certify { payload, response });
		receiver
	}
}

impl Relay for Mailbox {
	type Digest = Digest;
	type PublicKey = PublicKey;
	type Plan = Plan<PublicKey>;

	fn broadcast(&mut self, payload: Digest, plan: Plan<PublicKey>) -> Feedback {
		let recipients = match plan {
			Plan::Propose { .. } => Recipients::All,
			Plan::Forward { recipients, .. } => recipients,
		};
		self.send(Message::Broadcast { payload, recipients })
	}
}

impl Reporter for Mailbox {
	type Activity = Activity<Scheme, Digest>;

	fn report(&mut self, activity: Self::Activity) -> Feedback {
		match activity {
			Activity::Finalization(finalization) => self.send(Message::Finalized {
				payload: finalization.proposal.payload,
				finalization: commonware_codec::Encode::encode(&finalization).to_vec(),
			}),
			_ => Feedback::Ok,
		}
	}
}

/// What the request tasks share.
struct Known {
	/// Bodies seen or built, by digest.
	bodies: BTreeMap<Digest, Arc<Proposal>>,
	/// The log after each proposal whose chain back to the finalized tip is known.
	states: BTreeMap<Digest, State>,
	/// Proposals under which this node holds every record.
	held: BTreeSet<Digest>,
	/// The last proposal handed to the log as final, and the log after it.
	finalized: (Digest, State),
}

/// The application's shared core: cloned into every request task.
struct Core<E, L, W, S> {
	clock: Arc<E>,
	log: L,
	webchain: W,
	sender: S,
	known: Arc<Mutex<Known>>,
	/// Wakes the tasks waiting for a body when one arrives, in the order they began waiting
	/// (a `Notify`, not a `watch`: tokio's watch wakes its waiters in a random order, which
	/// would make the simulation's runs differ).
	arrived: Arc<Notify>,
}

// By hand: a derive would ask the runtime's context to be `Clone`, which only the `Arc` is.
impl<E, L: Clone, W: Clone, S: Clone> Clone for Core<E, L, W, S> {
	fn clone(&self) -> Self {
		Core {
			clock: self.clock.clone(),
			log: self.log.clone(),
			webchain: self.webchain.clone(),
			sender: self.sender.clone(),
			known: self.known.clone(),
			arrived: self.arrived.clone(),
		}
	}
}

/// The application actor; [`Application::start`] runs it.
pub struct Application<E, L, W> {
	context: E,
	log: L,
	webchain: W,
	genesis: Digest,
	mailbox: mpsc::UnboundedReceiver<Message>,
}

impl<E, L, W> Application<E, L, W>
where
	E: Clock + Spawner,
	L: Log,
	W: WebChain,
{
	/// The actor and consensus's mailbox to it, for the service whose consensus starts at
	/// `genesis` ([`genesis`]).
	pub fn new(context: E, log: L, webchain: W, genesis: Digest) -> (Self, Mailbox) {
		let (sender, mailbox) = mpsc::unbounded_channel();
		(Application { context, log, webchain, genesis, mailbox }, Mailbox { sender })
	}

	/// Runs the actor, exchanging bodies with the service's other nodes on `bodies`.
	pub fn start<S, R>(self, bodies: (S, R)) -> Handle<()>
	where
		S: Sender<PublicKey = PublicKey>,
		R: Receiver<PublicKey = PublicKey>,
	{
		let Application { context, log, webchain, genesis, mut mailbox } = self;
		let (sender, receiver) = bodies;
		let finalized = log.finalized().unwrap_or((genesis, State::default()));
		let mut states = BTreeMap::new();
		states.insert(finalized.0, finalized.1.clone());
		let known = Known {
			bodies: BTreeMap::new(),
			states,
			held: BTreeSet::from([finalized.0]),
			finalized,
		};
		let core = Core {
			clock: Arc::new(context.child("clock")),
			log,
			webchain,
			sender,
			known: Arc::new(Mutex::new(known)),
			arrived: Arc::new(Notify::new()),
		};
		context.spawn(move |context| async move {
			let listener = core.clone();
			context.child("bodies").spawn(move |_| listener.listen(receiver));
			let (finalized, mut to_finalize) = mpsc::unbounded_channel();
			let finalizer = core.clone();
			context.child("finalizer").spawn(move |_| async move {
				while let Some((payload, finalization)) = to_finalize.recv().await {
					finalizer.finalize_through(payload, finalization).await;
				}
			});
			while let Some(message) = mailbox.recv().await {
				let core = core.clone();
				match message {
					Message::Propose { context: request, response } => {
						context.child("propose").spawn(move |_| {
							answer(response, async move { core.propose(request).await })
						});
					}
					Message::Verify { context: request, payload, response } => {
						context.child("verify").spawn(move |_| {
							answer(
								response,
								async move { Some(core.verify(request, payload).await) },
							)
						});
					}
					Message::Certify { payload, response } => {
						context.child("certify").spawn(move |_| {
							answer(response, async move { Some(core.certify(payload).await) })
						});
					}
					Message::Broadcast { payload, recipients } => {
						core.send_body(payload, recipients);
					}
					Message::Finalized { payload, finalization } => {
						let _ = finalized.send((payload, finalization));
					}
				}
			}
		})
	}
}

/// Answers `response` with what `work` gives (nothing if it gives nothing), unless consensus
/// stops waiting first (it moved past the view): then the work is dropped.
async fn answer<T>(
	mut response: oneshot::Sender<T>,
	work: impl std::future::Future<Output = Option<T>>,
) {
	let outcome = match select(pin!(work), pin!(response.closed())).await {
		Either::Left((outcome, _)) => outcome,
		Either::Right(_) => None,
	};
	if let Some(outcome) = outcome {
		let _ = response.send(outcome);
	}
}

impl<E, L, W, S> Core<E, L, W, S>
where
	E: Clock + Spawner,
	L: Log,
	W: WebChain,
	S: Sender<PublicKey = PublicKey>,
{
	/// Takes bodies and answers requests for them.
	async fn listen<R: Receiver<PublicKey = PublicKey>>(self, mut receiver: R) {
		while let Ok((peer, bytes)) = receiver.recv().await {
			match Wire::decode_bounded(bytes.as_ref()) {
				Some(Wire::Body(proposal)) => self.learn(proposal),
				Some(Wire::Want(digest)) => self.send_ancestry(Digest(digest), peer),
				None => tracing::debug!(target: "agreement", "undecodable message from {peer}"),
			}
		}
	}

	/// Keeps a body (under its own digest: a peer cannot file it under another), unless it
	/// is final already, or too far ahead, or too many are kept: bodies are unsigned, so a
	/// peer may send any, and only [`MAX_BODIES`] are kept beyond the finalized log.
	fn learn(&self, proposal: Proposal) {
		let digest = proposal.digest();
		let mut known = self.known.lock().expect("poisoned");
		let floor = known.finalized.1.height;
		if proposal.height <= floor
			|| proposal.height > floor + MAX_BODIES as u64
			|| known.bodies.len() >= MAX_BODIES
			|| known.bodies.contains_key(&digest)
		{
			return;
		}
		self.log.save_proposal(&digest, &proposal);
		known.bodies.insert(digest, Arc::new(proposal));
		drop(known);
		self.arrived.notify_waiters();
	}

	/// The body of `digest`, if this node has it (in memory, or kept by the log for a node
	/// catching up).
	fn kept_body(&self, digest: &Digest) -> Option<Proposal> {
		let known = self.known.lock().expect("poisoned").bodies.get(digest).cloned();
		known.map(|body| (*body).clone()).or_else(|| self.log.proposal(digest))
	}

	fn send_body(&self, digest: Digest, recipients: Recipients<PublicKey>) {
		if let Some(body) = self.kept_body(&digest) {
			let mut sender = self.sender.clone();
			let _ = sender.send(recipients, Wire::Body(body).encode(), false);
		}
	}

	/// Answers a peer's `Want`: the body and its ancestors, as far as [`ANCESTRY`], since a
	/// node that lacks one body usually lacks those before it too (it was away).
	fn send_ancestry(&self, digest: Digest, peer: PublicKey) {
		let mut sender = self.sender.clone();
		let mut at = digest;
		for _ in 0..ANCESTRY {
			let Some(body) = self.kept_body(&at) else { return };
			at = Digest(body.parent);
			let last = body.height <= 1;
			let _ = sender.send(Recipients::One(peer.clone()), Wire::Body(body).encode(), false);
			if last {
				return;
			}
		}
	}

	/// The body of `digest`, asking peers for it until one sends it.
	async fn body(&self, digest: Digest) -> Arc<Proposal> {
		loop {
			// Listening before looking: a body that arrives in between still wakes this task.
			let mut arrived = pin!(self.arrived.notified());
			arrived.as_mut().enable();
			let known = self.known.lock().expect("poisoned").bodies.get(&digest).cloned();
			if let Some(body) = known {
				return body;
			}
			if let Some(kept) = self.log.proposal(&digest) {
				let kept = Arc::new(kept);
				self.known.lock().expect("poisoned").bodies.insert(digest, kept.clone());
				return kept;
			}
			let mut sender = self.sender.clone();
			let _ = sender.send(Recipients::All, Wire::Want(digest.0).encode(), false);
			let _ = select(arrived, pin!(self.clock.sleep(RETRY))).await;
		}
	}

	/// The log after `digest`, fetching the bodies back to a known state; an error if a
	/// proposal on the way does not extend its parent.
	async fn state(&self, digest: Digest) -> Result<State, chain::Invalid> {
		let mut chain = Vec::new();
		let mut at = digest;
		let mut state = loop {
			let known = self.known.lock().expect("poisoned").states.get(&at).cloned();
			if let Some(state) = known {
				break state;
			}
			let body = self.body(at).await;
			if body.height <= self.known.lock().expect("poisoned").finalized.1.height {
				return Err(chain::Invalid::Finalized);
			}
			let parent = Digest(body.parent);
			chain.push((at, body));
			at = parent;
		};
		while let Some((digest, body)) = chain.pop() {
			let skipped = match body.close {
				Some(close) => self.webchain.skipped(close.epoch, body.block).await,
				None => false,
			};
			state = chain::extend(&at, &state, &body, &self.webchain, skipped)?;
			self.known.lock().expect("poisoned").states.insert(digest, state.clone());
			at = digest;
		}
		Ok(state)
	}

	/// Waits until this node has read WebChain's finalized block `block`.
	async fn block_final(&self, block: BlockNumber) -> BlockNumber {
		loop {
			let finalized = self.webchain.finalized_block();
			if finalized >= block {
				return finalized;
			}
			self.clock.sleep(RETRY).await;
		}
	}

	/// Builds the proposal on `request`'s parent; `None` if the parent does not extend its own.
	async fn propose(&self, request: ProposalContext) -> Option<Digest> {
		let parent = request.parent.1;
		let state = self.state(parent).await.ok()?;
		// Records written meanwhile go into this proposal: views follow the records' pace,
		// not the network's, and an idle service proposes (empty) once a second. A leader
		// holding a full proposal's worth (a backlog) proposes it at once.
		let mut waited = Duration::ZERO;
		let (block, ranges) = loop {
			let block = self.block_final(state.block).await;
			let ranges: Vec<_> = self
				.log
				.unordered(&state.ends, block, MAX_RECORDS_PER_PROPOSAL)
				.await
				.into_iter()
				.take(MAX_RANGES_PER_PROPOSAL)
				.collect();
			let records: u64 = ranges.iter().map(Range::len).sum();
			let full =
				ranges.len() >= MAX_RANGES_PER_PROPOSAL || records >= MAX_RECORDS_PER_PROPOSAL;
			let closes = self.webchain.epoch_end(state.open_epoch) <= block;
			if full || (waited >= PACE && (!ranges.is_empty() || closes)) || waited >= IDLE {
				break (block, ranges);
			}
			self.clock.sleep(PACE).await;
			waited += PACE;
		};
		let mut proposal =
			Proposal { parent: parent.0, height: state.height + 1, block, ranges, close: None };
		let epoch = state.open_epoch;
		if self.webchain.epoch_end(epoch) <= block {
			proposal.close = Some(match self.webchain.skipped(epoch, block).await {
				true => Close::skipped(epoch, state.arrivals),
				false => {
					// Every arrival this node holds: all are WebChain's finalized ones.
					let arrivals = self.log.arrival_count().max(state.arrivals);
					let (root, leaves) = self.epoch_root(&state, &proposal, arrivals).await.ok()?;
					Close { epoch, root, leaves, arrivals, skipped: false }
				}
			});
		}
		let digest = proposal.digest();
		tracing::debug!(
			target: "agreement",
			"proposing {digest} at height {}, block {block}: {} records, close {:?}",
			proposal.height, proposal.records(), proposal.close,
		);
		self.log.save_proposal(&digest, &proposal);
		{
			let mut known = self.known.lock().expect("poisoned");
			known.bodies.insert(digest, Arc::new(proposal));
			known.held.insert(digest);
		}
		Some(digest)
	}

	/// Whether `payload` may extend `request`'s parent (waiting for what it needs to decide).
	async fn verify(&self, request: ProposalContext, payload: Digest) -> bool {
		let body = self.body(payload).await;
		if body.parent != request.parent.1 .0 {
			return false;
		}
		match self.state(payload).await {
			Ok(state) => {
				self.block_final(state.block).await;
				true
			}
			Err(invalid) => {
				tracing::info!(target: "agreement", "proposal {payload} refused: {invalid}");
				false
			}
		}
	}

	/// Whether this node holds every record under `payload` durably, and its close (if any)
	/// names the root of the epoch's records.
	async fn certify(&self, payload: Digest) -> bool {
		if self.state(payload).await.is_err() {
			return false;
		}
		if let Err(error) = self.hold_through(payload, Check::AtTheirBlocks).await {
			tracing::info!(target: "agreement", "proposal {payload} not certified: {error}");
			return false;
		}
		let body = self.body(payload).await;
		// A skip's emptiness is the chain's rule (`state` checked it): it has no tree.
		let Some(close) = body.close.filter(|close| !close.skipped) else { return true };
		let parent = self.state(Digest(body.parent)).await.expect("extends, as its child does");

		let held = self.epoch_root(&parent, &body, close.arrivals).await;
		let certified =
			held.as_ref().is_ok_and(|&(root, leaves)| root == close.root && leaves == close.leaves);
		if !certified {
			tracing::warn!(
				target: "agreement",
				"proposal {payload} closes epoch {} with root {:?}; its records give {held:?}",
				close.epoch, close.root,
			);
		}
		certified
	}

	/// Holds every record under `payload`: its ranges and those of its ancestors back to the
	/// last proposal under which this node holds everything, checked as `check` says.
	async fn hold_through(&self, payload: Digest, check: Check) -> Result<(), Unholdable> {
		let mut chain = Vec::new();
		let mut at = payload;
		while !self.known.lock().expect("poisoned").held.contains(&at) {
			let body = self.body(at).await;
			if body.height <= self.known.lock().expect("poisoned").finalized.1.height {
				// Off the finalized log: `state` refuses it before this is asked.
				break;
			}
			chain.push((at, body.clone()));
			at = Digest(body.parent);
		}
		for (digest, body) in chain.into_iter().rev() {
			let vetting = match check {
				Check::AtTheirBlocks => Vetting::At(body.block),
				Check::Final => Vetting::Vetted,
			};
			let holds = body.ranges.iter().map(|range| self.log.hold(range, vetting));
			futures::future::try_join_all(holds).await?;
			self.known.lock().expect("poisoned").held.insert(digest);
		}
		Ok(())
	}

	/// The root and size of the tree of the epoch `proposal` closes ([`EpochTree`]), whose
	/// parent's log is `parent`: the leaves of every range from the epoch's first proposal to
	/// `proposal`, and of the peg arrivals from the closed epochs' count to `arrivals` (waited
	/// for: a leader that names arrivals WebChain has not settled is never certified).
	async fn epoch_root(
		&self,
		parent: &State,
		proposal: &Proposal,
		arrivals: u64,
	) -> Result<(Hash, u64), Unholdable> {
		let mut bodies = Vec::new();
		let mut at = Digest(proposal.parent);
		for _ in parent.epoch_start..=parent.height {
			let body = self.body(at).await;
			at = Digest(body.parent);
			bodies.push(body);
		}
		let mut tree = EpochTree::default();
		for body in bodies.iter().rev().map(|body| &**body).chain([proposal]) {
			for range in &body.ranges {
				tree.add(range);
			}
		}
		let arrivals = self.log.arrivals(parent.arrivals..arrivals).await;
		let log = &self.log;
		// Each range is held already: vetted at its block, or final.
		tree.root(|range| async move { log.hold(&range, Vetting::Vetted).await }, arrivals).await
	}

	/// Hands every proposal up to `payload`, which `finalization` certifies, to the log, in
	/// order, once this node holds their records (catching up from its peers if it was away).
	async fn finalize_through(&self, payload: Digest, finalization: Vec<u8>) {
		let mut chain = Vec::new();
		let mut at = payload;
		let (tip, tip_height) = {
			let known = self.known.lock().expect("poisoned");
			(known.finalized.0, known.finalized.1.height)
		};
		while at != tip {
			let body = self.body(at).await;
			if body.height <= tip_height {
				// Another branch than the finalized one: cannot happen while a quorum is honest.
				tracing::error!(target: "agreement", "finalized {payload} does not extend {tip}");
				return;
			}
			let parent = Digest(body.parent);
			chain.push((at, body));
			at = parent;
		}
		chain.reverse();
		for (index, (digest, body)) in chain.iter().enumerate() {
			let digest = *digest;
			let Ok(state) = self.state(digest).await else {
				tracing::error!(target: "agreement", "finalized {digest} does not extend its parent");
				return;
			};
			if let Err(error) = self.hold_through(digest, Check::Final).await {
				tracing::error!(target: "agreement", "finalized {digest}: {error}");
				return;
			}
			// A node catching up did not certify it: the arrivals its close holds may not be
			// copied here yet (they come in order: the last one held means all are).
			if let Some(last) = body.close.and_then(|close| close.arrivals.checked_sub(1)) {
				self.log.arrivals(last..last + 1).await;
			}
			tracing::debug!(target: "agreement", "final: {digest} at height {}", body.height);
			let certified = &chain[index..];
			let certificate = (body.close.is_some() && certified.len() <= MAX_CERTIFIED_BODIES)
				.then(|| EpochCertificate {
					bodies: certified.iter().map(|(_, body)| (**body).clone()).collect(),
					finalization: finalization.clone(),
				});
			self.log.finalize(&digest, body, &state, certificate);
			let mut known = self.known.lock().expect("poisoned");
			known.finalized = (digest, state);
			let floor = known.finalized.1.height;
			known.bodies.retain(|_, body| body.height + 1 >= floor);
			let bodies = &known.bodies;
			let keep: BTreeSet<Digest> = bodies.keys().copied().chain([digest]).collect();
			known.states.retain(|digest, _| keep.contains(digest));
			known.held.retain(|digest| keep.contains(digest));
		}
	}
}
