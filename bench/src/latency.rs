//! Network latency between nodes on one machine: every node is reachable only through a TCP
//! relay that holds each byte for a fixed time before passing it on, so a block reaches the
//! other delegates that much later, as across a real network, and a short slot leaves them
//! too little time to build on it: the forks the block graph is for.
//!
//! ```text
//!  alice ──dials──► relay of bob (127.0.0.1:r1) ──+delay──► bob's p2p port
//!        ◄──────────────────────────── +delay ◄──
//! ```
//!
//! A relay buffers what it holds without bound (a harness's links, not a router's) and ends a
//! connection when either side closes, as libp2p's connections end.
//!
//! The nodes peer only with reserved nodes (`--reserved-only`): each other's relays. They run
//! the libp2p network backend with `--no-private-ip`, which dials a reserved peer only at its
//! configured address and drops the 127.0.0.1 addresses peers advertise; litep2p (the
//! default) would dial those too and go around the relays.

use crate::network::{self, Node};
use std::{
	io,
	net::{Ipv4Addr, SocketAddr},
	path::Path,
	time::Duration,
};
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::{TcpListener, TcpStream},
	sync::mpsc,
	task::{JoinHandle, JoinSet},
	time::Instant,
};

/// A relay in front of one node: stops, with every connection through it, when dropped.
pub struct Relay {
	task: JoinHandle<()>,
}

impl Drop for Relay {
	fn drop(&mut self) {
		self.task.abort();
	}
}

impl Relay {
	/// Relays every connection to `listener` to `target`, each direction `delay` late.
	pub fn start(listener: TcpListener, target: SocketAddr, delay: Duration) -> Relay {
		let task = tokio::spawn(async move {
			// Dropped with the task: the connections end with the relay.
			let mut connections = JoinSet::new();
			while let Ok((inbound, _)) = listener.accept().await {
				connections.spawn(async move {
					let Ok(outbound) = TcpStream::connect(target).await else {
						return;
					};
					// Each chunk goes out when due, not held back to be merged with the next.
					let _ = (inbound.set_nodelay(true), outbound.set_nodelay(true));
					let (inbound_read, inbound_write) = inbound.into_split();
					let (outbound_read, outbound_write) = outbound.into_split();
					// Either direction ending ends the connection.
					tokio::select! {
						_ = pipe(inbound_read, outbound_write, delay) => {}
						_ = pipe(outbound_read, inbound_write, delay) => {}
					}
				});
			}
		});
		Relay { task }
	}
}

/// Copies `from` to `to`, each chunk written `delay` after it was read.
async fn pipe(
	mut from: impl AsyncReadExt + Unpin,
	mut to: impl AsyncWriteExt + Unpin,
	delay: Duration,
) {
	let (sender, mut receiver) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
	let read = async move {
		let mut buffer = vec![0u8; 64 * 1024];
		while let Ok(read @ 1..) = from.read(&mut buffer).await {
			if sender.send((Instant::now() + delay, buffer[..read].to_vec())).is_err() {
				break;
			}
		}
		// The sender dropped here ends the writer once it has written what was read.
	};
	let write = async move {
		while let Some((due, chunk)) = receiver.recv().await {
			tokio::time::sleep_until(due).await;
			if to.write_all(&chunk).await.is_err() {
				return;
			}
		}
	};
	tokio::join!(read, write);
}

/// A network of validators behind relays: the nodes, and their relays, which stop when this
/// is dropped.
pub struct DelayedNetwork {
	/// The validators, in the order of their names.
	pub nodes: Vec<Node>,
	/// Their relays, in the same order.
	pub relays: Vec<Relay>,
}

/// Starts one validator per dev account in `names` on `chain`, as
/// [`network::start_network`] does, but each reachable only through a [`Relay`] that delays
/// its traffic by `delay`. The relays run on the caller's Tokio runtime.
pub async fn start_network(
	binary: &Path,
	dir: &Path,
	chain: &str,
	names: &[&str],
	extra: &[&str],
	delay: Duration,
) -> io::Result<DelayedNetwork> {
	let mut listeners = Vec::new();
	for _ in names {
		listeners.push(TcpListener::bind(("127.0.0.1", 0)).await?);
	}
	let relay_addresses = listeners
		.iter()
		.enumerate()
		.map(|(i, listener)| {
			let peer = network::peer_id(binary, &network::node_key(i), dir);
			Ok(format!("/ip4/127.0.0.1/tcp/{}/p2p/{peer}", listener.local_addr()?.port()))
		})
		.collect::<io::Result<Vec<String>>>()?;
	let mut nodes = Vec::new();
	for (i, name) in names.iter().enumerate() {
		let mut args = network::validator_args(dir, chain, name, i);
		args.extend(
			["--reserved-only", "--network-backend", "libp2p", "--no-private-ip"].map(String::from),
		);
		for (j, address) in relay_addresses.iter().enumerate() {
			if j != i {
				args.extend(["--reserved-nodes".into(), address.clone()]);
			}
		}
		args.extend(extra.iter().map(|arg| arg.to_string()));
		let args: Vec<&str> = args.iter().map(String::as_str).collect();
		nodes.push(Node::start(binary, name, dir, &args));
	}
	let relays = listeners
		.into_iter()
		.zip(&nodes)
		.map(|(listener, node)| {
			Relay::start(listener, (Ipv4Addr::LOCALHOST, node.p2p_port).into(), delay)
		})
		.collect();
	Ok(DelayedNetwork { nodes, relays })
}

#[cfg(test)]
mod tests {
	use super::*;

	/// A byte sent through a relay arrives no sooner than the delay, and the answer takes as
	/// long again.
	#[tokio::test]
	async fn a_relay_delays_both_directions() {
		let echo = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
		let target = echo.local_addr().unwrap();
		tokio::spawn(async move {
			let (mut stream, _) = echo.accept().await.unwrap();
			let mut byte = [0u8; 1];
			stream.read_exact(&mut byte).await.unwrap();
			stream.write_all(&byte).await.unwrap();
		});
		let front = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
		let port = front.local_addr().unwrap().port();
		let delay = Duration::from_millis(150);
		let _relay = Relay::start(front, target, delay);

		let mut client = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
		let sent = Instant::now();
		client.write_all(&[7]).await.unwrap();
		let mut answer = [0u8; 1];
		client.read_exact(&mut answer).await.unwrap();
		assert_eq!(answer, [7]);
		assert!(sent.elapsed() >= 2 * delay, "the round trip took {:?}", sent.elapsed());
	}
}
