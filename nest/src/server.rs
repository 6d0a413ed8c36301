//! The JSON-RPC server devices, super nodes and readers reach, with the limits that keep it
//! answering under load and abuse (jsonrpsee's server, accepted by a loop of our own as
//! polkadot-sdk's `sc-rpc-server` does, so connections can be counted per address).
//!
//! ```text
//!  accept ─► over the total or the address's connection limit? close it at once
//!     │      (IPv6 addresses count by their /64: one host holds a whole /64)
//!     ├────► nothing sent within `first_request`? closed
//!     └────► jsonrpsee: WebSocket or HTTP, request and response size limits, batches of at
//!            most MAX_BATCH calls, idle WebSockets closed after missed pings,
//!            every call answered within `call_timeout` (else CALL_TIMED_OUT)
//! ```

use futures::future::BoxFuture;
use jsonrpsee::{
	server::{
		middleware::rpc::{RpcServiceBuilder, RpcServiceT},
		serve_with_graceful_shutdown, stop_channel, BatchRequestConfig, Methods, PingConfig,
		ServerHandle,
	},
	types::{ErrorObject, Request},
	MethodResponse,
};
use std::{
	collections::HashMap,
	net::{IpAddr, SocketAddr},
	sync::{Arc, Mutex},
	time::Duration,
};
use tokio::net::TcpListener;

/// The code of a call not answered within [`Limits::call_timeout`] (docs/rpc.md).
pub const CALL_TIMED_OUT: i32 = 9316;

/// The most calls one JSON-RPC batch holds.
pub const MAX_BATCH: u32 = 16;

/// What the server allows.
#[derive(Clone, Debug)]
pub struct Limits {
	/// Open connections in all.
	pub connections: usize,
	/// Open connections from one IP address.
	pub connections_per_ip: usize,
	/// The longest request, in bytes.
	pub request_bytes: u32,
	/// The longest response, in bytes.
	pub response_bytes: u32,
	/// The longest a call may take.
	pub call_timeout: Duration,
	/// How long a new connection may stay silent: one that never sends a request gives its
	/// place back.
	pub first_request: Duration,
}

/// The server: where it listens, and the handle that stops it.
pub struct Server {
	/// The address it listens on (the port the system chose, for port 0).
	pub address: SocketAddr,
	/// Stops it: no new connection, the calls in progress answered.
	pub handle: ServerHandle,
	/// Accepts connections until the handle stops it.
	pub accepting: BoxFuture<'static, std::io::Result<()>>,
}

/// Binds `address` and serves `methods` within `limits`; run [`Server::accepting`].
pub async fn bind(
	address: SocketAddr,
	methods: impl Into<Methods>,
	limits: Limits,
) -> std::io::Result<Server> {
	let listener = TcpListener::bind(address).await?;
	let address = listener.local_addr()?;
	let (stop, handle) = stop_channel();
	let connections = u32::try_from(limits.connections).unwrap_or(u32::MAX);
	let (timeout, first_request) = (limits.call_timeout, limits.first_request);
	let service = jsonrpsee::server::Server::builder()
		.max_connections(connections)
		.max_request_body_size(limits.request_bytes)
		.max_response_body_size(limits.response_bytes)
		.set_batch_request_config(BatchRequestConfig::Limit(MAX_BATCH))
		// A WebSocket whose peer answers no ping for a minute is closed: idle clients that
		// vanished free their place.
		.enable_ws_ping(
			PingConfig::new()
				.ping_interval(Duration::from_secs(30))
				.inactive_limit(Duration::from_secs(60))
				.max_failures(3),
		)
		.set_rpc_middleware(
			RpcServiceBuilder::new().layer_fn(move |inner| Deadline { inner, timeout }),
		)
		.to_service_builder();
	let methods: Methods = methods.into();
	let open = Arc::new(OpenConnections::default());
	let accepting = async move {
		loop {
			let (socket, peer) = tokio::select! {
				accepted = listener.accept() => match accepted {
					Ok(accepted) => accepted,
					// The peer gave up before it was accepted, or the process is out of file
					// descriptors for now: the next accept may work.
					Err(error) => {
						tracing::debug!(target: "rpc", "accept failed: {error}");
						continue;
					}
				},
				() = stop.clone().shutdown() => return Ok(()),
			};
			let Some(permit) = open.admit(address_block(peer.ip()), &limits) else {
				tracing::debug!(target: "rpc", "{peer} refused: too many connections");
				continue;
			};
			let mut service = service.clone().build(methods.clone(), stop.clone());
			let closed = service.on_session_closed();
			let stopped = stop.clone().shutdown();
			// One task per connection, as many as the limits allow; it ends with the
			// connection, the server's stop included.
			tokio::spawn(async move {
				let mut first = [0u8; 1];
				let sent = tokio::time::timeout(first_request, socket.peek(&mut first)).await;
				if !matches!(sent, Ok(Ok(1))) {
					tracing::debug!(target: "rpc", "{peer} sent nothing: closed");
					return;
				}
				if let Err(error) = serve_with_graceful_shutdown(socket, service, stopped).await {
					tracing::debug!(target: "rpc", "{peer}: {error}");
				}
				// A WebSocket goes on after its HTTP upgrade: its place is given back when it
				// closes.
				closed.await;
				drop(permit);
			});
		}
	};
	Ok(Server { address, handle, accepting: Box::pin(accepting) })
}

/// Where connections from `ip` are counted: the address itself, or an IPv6 address's /64
/// (the block one host or home gets).
fn address_block(ip: IpAddr) -> IpAddr {
	match ip {
		IpAddr::V4(_) => ip,
		IpAddr::V6(v6) => {
			IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1)))
		}
	}
}

/// The connections open, in all and by address.
#[derive(Default)]
struct OpenConnections {
	by_ip: Mutex<HashMap<IpAddr, usize>>,
}

impl OpenConnections {
	/// A place for a connection from `ip`, if `limits` leave one.
	fn admit(self: &Arc<Self>, ip: IpAddr, limits: &Limits) -> Option<ConnectionPermit> {
		let mut by_ip = self.by_ip.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let total: usize = by_ip.values().sum();
		let from_ip = by_ip.get(&ip).copied().unwrap_or(0);
		if total >= limits.connections || from_ip >= limits.connections_per_ip {
			return None;
		}
		by_ip.insert(ip, from_ip + 1);
		Some(ConnectionPermit { open: self.clone(), ip })
	}
}

/// An open connection's place, given back when it closes.
struct ConnectionPermit {
	open: Arc<OpenConnections>,
	ip: IpAddr,
}

impl Drop for ConnectionPermit {
	fn drop(&mut self) {
		let mut by_ip = self.open.by_ip.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		if let Some(count) = by_ip.get_mut(&self.ip) {
			*count -= 1;
			if *count == 0 {
				by_ip.remove(&self.ip);
			}
		}
	}
}

/// Answers each call within `timeout`, with [`CALL_TIMED_OUT`] if it takes longer (what it
/// was doing is dropped: reads have no effect, and a write's records are stored or not as a
/// whole, which a retry finds out).
#[derive(Clone)]
struct Deadline<S> {
	inner: S,
	timeout: Duration,
}

impl<'a, S> RpcServiceT<'a> for Deadline<S>
where
	S: RpcServiceT<'a> + Send + Sync + 'a,
{
	type Future = BoxFuture<'a, MethodResponse>;

	fn call(&self, request: Request<'a>) -> Self::Future {
		let id = request.id.clone();
		let (call, timeout) = (self.inner.call(request), self.timeout);
		Box::pin(async move {
			match tokio::time::timeout(timeout, call).await {
				Ok(response) => response,
				Err(_) => MethodResponse::error(
					id,
					ErrorObject::owned(
						CALL_TIMED_OUT,
						format!("the call took longer than {} s", timeout.as_secs_f32()),
						None::<()>,
					),
				),
			}
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use jsonrpsee::RpcModule;
	use subxt::rpcs::{rpc_params, RpcClient};

	fn limits(connections: usize, connections_per_ip: usize) -> Limits {
		Limits {
			connections,
			connections_per_ip,
			request_bytes: 1_024,
			response_bytes: 1_024,
			call_timeout: Duration::from_millis(300),
			first_request: Duration::from_millis(300),
		}
	}

	async fn serve(limits: Limits) -> (String, ServerHandle) {
		let mut module = RpcModule::new(());
		module.register_method("echo", |params, _, _| params.one::<String>().unwrap()).unwrap();
		module
			.register_async_method("slow", |_, _, _| async {
				tokio::time::sleep(Duration::from_secs(5)).await;
				"late"
			})
			.unwrap();
		let server = bind("127.0.0.1:0".parse().unwrap(), module, limits).await.unwrap();
		tokio::spawn(server.accepting);
		(format!("ws://{}", server.address), server.handle)
	}

	#[test]
	fn an_ipv6_host_counts_as_its_slash_64() {
		let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
		let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
		let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
		assert_eq!(address_block(one), address_block(same_64));
		assert_ne!(address_block(one), address_block(other_64));
		let v4: IpAddr = "10.0.0.1".parse().unwrap();
		assert_eq!(address_block(v4), v4);
	}

	/// The attack: idle clients from one address take every place. The address's limit
	/// keeps them to their share; a client from elsewhere, or one of theirs once another
	/// leaves, is served.
	#[tokio::test]
	async fn one_address_takes_no_more_than_its_connections() {
		let open = Arc::new(OpenConnections::default());
		let here: IpAddr = "10.0.0.1".parse().unwrap();
		let there: IpAddr = "10.0.0.2".parse().unwrap();
		let limits = limits(3, 2);
		let first = open.admit(here, &limits).unwrap();
		let _second = open.admit(here, &limits).unwrap();
		assert!(open.admit(here, &limits).is_none(), "a third from one address");
		let _elsewhere = open.admit(there, &limits).unwrap();
		assert!(open.admit(there, &limits).is_none(), "over the total");
		drop(first);
		assert!(open.admit(here, &limits).is_some(), "a closed connection frees its place");
	}

	#[tokio::test]
	async fn over_the_limits_a_connection_is_closed_and_calls_are_bounded() {
		let (url, handle) = serve(limits(8, 2)).await;
		// A connection that never sends a request is closed after `first_request`
		// (the only one open: no limit closes it).
		let address = url.trim_start_matches("ws://");
		let mut silent = tokio::net::TcpStream::connect(address).await.unwrap();
		let mut read = [0u8; 1];
		let closed = tokio::time::timeout(Duration::from_secs(5), async {
			use tokio::io::AsyncReadExt;
			silent.read(&mut read).await
		});
		assert!(matches!(closed.await, Ok(Ok(0))), "the silent connection is closed");
		let client = || RpcClient::from_insecure_url(&url);
		let first = client().await.unwrap();
		let _second = client().await.unwrap();
		assert!(client().await.is_err(), "a third connection from 127.0.0.1 is closed");
		drop(first);
		// The closed connection's place is given back once the server sees it close.
		let mut third = None;
		for _ in 0..50 {
			if let Ok(client) = client().await {
				third = Some(client);
				break;
			}
			tokio::time::sleep(Duration::from_millis(20)).await;
		}
		let third = third.expect("a place frees when a connection closes");
		let echoed: String = third.request("echo", rpc_params!["hi"]).await.unwrap();
		assert_eq!(echoed, "hi");
		// A call over the time limit fails by name; a request over the size limit fails (and
		// the server closes that connection).
		let late = third.request::<String>("slow", rpc_params![]).await.unwrap_err();
		assert!(late.to_string().contains(&CALL_TIMED_OUT.to_string()), "{late}");
		let long = "x".repeat(2_000);
		assert!(third.request::<String>("echo", rpc_params![long]).await.is_err());
		handle.stop().unwrap();
		handle.stopped().await;
	}
}
