//! Real libp2p networks on 127.0.0.1 in one process, with WebChain's view of the service
//! given by hand: gossip reaches trusted nodes and fills gaps from the publisher; an account
//! that is not one of the service's nodes gets nothing in and nothing out; the agreement's
//! messages pass between participants only.

use super::*;
use crate::{
	fixtures::Fleet,
	webchain::{NextAnchor, ServiceView},
};
use commonware_p2p::{CheckedSender as _, LimitedSender as _, Recipients};
use std::net::TcpListener;
use subxt_signer::sr25519::dev;
use thingschain_primitives::ids::Hash;
use tokio::io::AsyncReadExt as _;

/// WebChain at some block with `nodes` as the service's trusted nodes, none naming a key.
fn webchain(nodes: &[&Keypair]) -> Finalized {
	webchain_with_keys(&nodes.iter().map(|node| (*node, None)).collect::<Vec<_>>())
}

/// WebChain at some block with `nodes` as the service's trusted nodes, with the node keys
/// their identities name.
fn webchain_with_keys(nodes: &[(&Keypair, Option<&PeerKeypair>)]) -> Finalized {
	let key = |peer: &PeerKeypair| peer.clone().try_into_ed25519().unwrap().public().to_bytes();
	Finalized {
		number: 10,
		service: ServiceView {
			epoch_length: 5,
			genesis: 0,
			nodes: nodes.iter().map(|(account, _)| account.public_key().0).collect(),
			keys: nodes.iter().map(|(_, peer)| peer.map(key)).collect(),
			active: true,
		},
		next: NextAnchor { epoch: 0, prev: Hash::zero() },
		pending: Vec::new(),
		arrivals: 0,
	}
}

/// A node of the fleet's service, signing as `account`.
struct TestNode {
	_dir: tempfile::TempDir,
	ledger: Arc<Ledger>,
	committer: Committer,
	network: Network,
	agreement: AgreementChannels,
	address: Multiaddr,
	peer_id: PeerId,
}

impl TestNode {
	fn start(
		fleet: &Fleet,
		account: Keypair,
		finalized: &watch::Sender<Option<Finalized>>,
		peers: &[&TestNode],
	) -> TestNode {
		TestNode::start_as(fleet, account, PeerKeypair::generate_ed25519(), finalized, peers)
	}

	/// [`TestNode::start`] with the node key `peer_key`.
	fn start_as(
		fleet: &Fleet,
		account: Keypair,
		peer_key: PeerKeypair,
		finalized: &watch::Sender<Option<Finalized>>,
		peers: &[&TestNode],
	) -> TestNode {
		let dir = tempfile::tempdir().unwrap();
		let ledger = Arc::new(Ledger::open(&dir.path().join("ledger.redb")).unwrap());
		let rules = Arc::new(fleet.rules.clone());
		let committer =
			Committer::start(ledger.clone(), rules.clone(), fleet.devices.clone()).unwrap();
		let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
		let address: Multiaddr = format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap();
		let started = Network::start(Config {
			peer_key,
			account,
			listen: address.clone(),
			peers: peers.iter().map(|p| p.address.clone()).collect(),
			rules,
			ledger: ledger.clone(),
			committer: committer.clone(),
			finalized: finalized.subscribe(),
		})
		.unwrap();
		let (network, agreement, peer_id) = (started.network, started.agreement, started.peer_id);
		TestNode { _dir: dir, ledger, committer, network, agreement, address, peer_id }
	}

	/// Stores the fleet's `device`'s records `sequences` here, as if the device wrote them.
	async fn write(&self, fleet: &Fleet, device: usize, sequences: std::ops::Range<u64>) {
		let signed = sequences.map(|s| fleet.record(device, s)).collect();
		let outcomes = self.committer.submit(signed).await.unwrap();
		assert!(outcomes.iter().all(Result::is_ok));
	}

	fn next(&self, fleet: &Fleet, device: usize) -> u64 {
		self.ledger.next_sequence(fleet.device_id(device)).unwrap()
	}
}

/// Waits up to 20 s for `done`.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
	for _ in 0..200 {
		if done() {
			return;
		}
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
	panic!("{what} did not happen in 20 s");
}

/// Waits until `node` trusts `count` peers.
async fn trusting(node: &TestNode, count: usize) {
	for _ in 0..200 {
		if node.network.trusted_peers().await == count {
			return;
		}
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
	panic!("the node never trusted {count} peers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_reaches_trusted_nodes_and_a_gap_is_fetched_from_the_publisher() {
	let fleet = Fleet::new(2);
	let (alice, bob) = (dev::alice(), dev::bob());
	let (finalized, _) = watch::channel(Some(webchain(&[&alice, &bob])));
	let a = TestNode::start(&fleet, alice, &finalized, &[]);
	let b = TestNode::start(&fleet, bob, &finalized, &[&a]);
	trusting(&a, 1).await;
	trusting(&b, 1).await;

	// Device 0 writes to A, which spreads its records.
	a.write(&fleet, 0, 0..4).await;
	a.network.publish(
		(0..4).map(|s| a.ledger.record(fleet.device_id(0), s).unwrap().unwrap()).collect(),
	);
	eventually("B holds device 0's records", || b.next(&fleet, 0) == 4).await;
	assert_eq!(
		b.ledger.record(fleet.device_id(0), 3).unwrap(),
		a.ledger.record(fleet.device_id(0), 3).unwrap()
	);

	// Device 1's first records reach A without gossip (as if B missed it); the next are
	// gossiped: B fetches what comes before them from A.
	a.write(&fleet, 1, 0..6).await;
	let later = (4..6).map(|s| a.ledger.record(fleet.device_id(1), s).unwrap().unwrap());
	a.network.publish(later.collect());
	eventually("B fills device 1's gap from A", || b.next(&fleet, 1) == 6).await;

	// Records are served to trusted peers.
	assert_eq!(b.network.records(a.peer_id, fleet.device_id(1), 5, 10).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_whose_account_is_not_a_node_of_the_service_gets_nothing_in_or_out() {
	let fleet = Fleet::new(1);
	let (alice, bob, mallory) = (dev::alice(), dev::bob(), dev::eve());
	// The honest nodes know Alice and Bob as the service's nodes; Eve's node, which signs its
	// binding with Eve's account, believes itself one.
	let (finalized, _) = watch::channel(Some(webchain(&[&alice, &bob])));
	let (forged, _) = watch::channel(Some(webchain(&[&alice, &bob, &mallory])));
	let a = TestNode::start(&fleet, alice, &finalized, &[]);
	let m = TestNode::start(&fleet, mallory, &forged, &[&a]);
	// A answers Eve's hello, finds her no node of the service and disconnects her: she ends
	// up trusting nobody, and A never trusted her.
	tokio::time::sleep(Duration::from_secs(1)).await;
	trusting(&m, 0).await;
	assert_eq!(a.network.trusted_peers().await, 0);

	// Eve's node gossips valid device records (it could have them from anywhere): refused.
	m.write(&fleet, 0, 0..3).await;
	m.network.publish(
		(0..3).map(|s| m.ledger.record(fleet.device_id(0), s).unwrap().unwrap()).collect(),
	);
	tokio::time::sleep(Duration::from_secs(2)).await;
	assert_eq!(a.next(&fleet, 0), 0, "nothing from an untrusted peer is stored");

	// A's records are not served to it.
	a.write(&fleet, 0, 0..2).await;
	assert_eq!(m.network.records(a.peer_id, fleet.device_id(0), 0, 10).await, Vec::new());
}

/// Waits until `node`'s agreement channel `channel` reaches `count` participants.
async fn reaching(node: &mut TestNode, channel: u64, count: usize) {
	for _ in 0..200 {
		let sender = &mut node.agreement.channels[channel as usize].0;
		if sender.check(Recipients::All).unwrap().recipients().len() == count {
			return;
		}
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
	panic!("the agreement never reached {count} participants");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agreement_messages_pass_between_participants_only() {
	use crate::agreement::channels::{BODIES, VOTES};
	use commonware_p2p::{Blocker as _, Receiver as _, Sender as _};

	let fleet = Fleet::new(1);
	let (alice, bob, eve) = (dev::alice(), dev::bob(), dev::eve());
	let keys = [(); 3].map(|()| PeerKeypair::generate_ed25519());
	// Eve's account is a node of the service (its gossip is taken), but her identity names
	// no node key: she is no participant of the agreement. Her node believes itself one.
	let honest = [(&alice, Some(&keys[0])), (&bob, Some(&keys[1])), (&eve, None)];
	let (finalized, _) = watch::channel(Some(webchain_with_keys(&honest)));
	let lying = [(&alice, Some(&keys[0])), (&bob, Some(&keys[1])), (&eve, Some(&keys[2]))];
	let (forged, _) = watch::channel(Some(webchain_with_keys(&lying)));
	let [key_a, key_b, key_e] = keys;
	let mut a = TestNode::start_as(&fleet, alice, key_a.clone(), &finalized, &[]);
	let mut b = TestNode::start_as(&fleet, bob, key_b.clone(), &finalized, &[&a]);
	let mut e = TestNode::start_as(&fleet, eve, key_e, &forged, &[&a, &b]);
	trusting(&a, 2).await;
	reaching(&mut a, VOTES, 1).await;
	reaching(&mut b, VOTES, 1).await;
	reaching(&mut e, VOTES, 2).await;
	let public = |peer: &PeerKeypair| {
		let key = peer.clone().try_into_ed25519().unwrap().public().to_bytes();
		crate::node_key::agreement_public(&key).unwrap()
	};

	// Eve sends first, to both: dropped at each. Then Bob and Alice: delivered, with who
	// sent it, on the channel it was sent on.
	let sent =
		e.agreement.channels[VOTES as usize].0.send(Recipients::All, b"forged".to_vec(), true);
	assert_eq!(sent.len(), 2, "Eve's node sends: refusing is the receivers' part");
	let sent = b.agreement.channels[VOTES as usize].0.send(Recipients::All, b"vote".to_vec(), true);
	assert_eq!(sent, vec![public(&key_a)], "Bob reaches the participant he is connected to");
	let (from, message) = a.agreement.channels[VOTES as usize].1.recv().await.unwrap();
	assert_eq!((from, message.as_ref()), (public(&key_b), &b"vote"[..]));
	let one = Recipients::One(public(&key_b));
	a.agreement.channels[BODIES as usize].0.send(one, b"body".to_vec(), false);
	let (from, message) = b.agreement.channels[BODIES as usize].1.recv().await.unwrap();
	assert_eq!((from, message.as_ref()), (public(&key_a), &b"body"[..]));
	// Nothing of Eve's arrived anywhere: each node counted hers refused.
	for node in [&a, &b] {
		let mut traffic = node.network.agreement_traffic().await;
		for _ in 0..200 {
			if traffic.refused > 0 {
				break;
			}
			tokio::time::sleep(Duration::from_millis(100)).await;
			traffic = node.network.agreement_traffic().await;
		}
		assert_eq!((traffic.delivered, traffic.refused), (1, 1), "{traffic:?}");
	}
	assert!(a.agreement.channels[VOTES as usize].1.inbox.try_recv().is_err());
	assert!(b.agreement.channels[VOTES as usize].1.inbox.try_recv().is_err());

	// Blocking a participant: its messages are no longer heard, and it is disconnected.
	a.agreement.blocker.block(public(&key_b));
	reaching(&mut a, VOTES, 0).await;
	b.agreement.channels[VOTES as usize].0.send(Recipients::All, b"again".to_vec(), true);
	let traffic = a.network.agreement_traffic().await;
	assert_eq!(traffic.delivered, 1, "{traffic:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_finish_their_handshake_are_refused_past_the_limit() {
	let fleet = Fleet::new(1);
	let (alice, bob) = (dev::alice(), dev::bob());
	let (finalized, _) = watch::channel(Some(webchain(&[&alice, &bob])));
	let a = TestNode::start(&fleet, alice, &finalized, &[]);
	let port = a.address.iter().find_map(|part| match part {
		libp2p::multiaddr::Protocol::Tcp(port) => Some(port),
		_ => None,
	});
	// An attacker opens connections and never speaks: past MAX_PENDING_INCOMING, each is
	// closed at once, instead of waiting for its handshake.
	let flood = MAX_PENDING_INCOMING as usize + 24;
	let mut sockets = Vec::new();
	for _ in 0..flood {
		sockets.push(tokio::net::TcpStream::connect(("127.0.0.1", port.unwrap())).await.unwrap());
	}
	let mut closed = 0;
	for socket in &mut sockets {
		let mut byte = [0u8; 1];
		let read = tokio::time::timeout(Duration::from_secs(2), socket.read(&mut byte)).await;
		// Closed: end of stream, or reset. Open: nothing to read before the timeout (a node
		// waits for the initiator's first handshake message).
		if matches!(read, Ok(Ok(0)) | Ok(Err(_))) {
			closed += 1;
		}
	}
	assert!(closed >= flood - MAX_PENDING_INCOMING as usize, "{closed} of {flood} closed");
	// Once they are gone, a node of the service connects and is trusted.
	drop(sockets);
	let b = TestNode::start(&fleet, bob, &finalized, &[&a]);
	trusting(&b, 1).await;
}
