//! What service nodes say to each other over libp2p, and how a node proves which account it is.
//!
//! ```text
//!  gossipsub  topic "/thingschain/nest/<genesis>/<service>/records"
//!             a SCALE Vec<SignedNestRecord>: records a device wrote to the publishing node
//!  request-response "/thingschain/nest/hello/1" (framed alike, at most 256 bytes each way)
//!             PeerBinding                      ─► PeerBinding
//!  request-response "/thingschain/nest/sync/2" (SCALE, each message prefixed by its length)
//!             Records { device, from, count }  ─► Records(Vec<SignedNestRecord>)
//!             Range(range)                     ─► Records(the records an agreement range
//!                                                  names, if held; else none)
//!             anything before a valid hello    ─► Refused
//!  request-response "/thingschain/nest/agreement/1" (framed alike)
//!             AgreementMessage { channel, payload } ─► () (super::agreement)
//! ```
//!
//! A [`PeerBinding`] is a service node's account key signing its libp2p peer id for one
//! service on one WebChain: a peer is trusted only while WebChain lists that account among the
//! service's trusted nodes.

use async_trait::async_trait;
use codec::{Decode, DecodeAll, Encode};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::{PeerId, StreamProtocol};
use polkadot_sdk::sp_core::{sr25519, Pair as _};
use subxt_signer::sr25519::Keypair;
use thingschain_primitives::{
	ids::{DeviceId, Hash, ServiceId},
	nest::SignedNestRecord,
};

/// The request-response protocol's name.
pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/thingschain/nest/sync/2");

/// The hello protocol's name: each side's [`PeerBinding`], the one thing a peer not yet
/// bound to a node's account is answered.
pub const HELLO_PROTOCOL: StreamProtocol = StreamProtocol::new("/thingschain/nest/hello/1");

/// The longest hello, either way (a binding is about 140 bytes): a peer not yet bound makes
/// this node read no more than that of its answer.
pub const MAX_HELLO_BYTES: usize = 256;

/// The hello protocol's codec.
pub type HelloCodec = Framed<PeerBinding, PeerBinding>;

impl Default for HelloCodec {
	fn default() -> Self {
		Framed::new(MAX_HELLO_BYTES, MAX_HELLO_BYTES)
	}
}

/// The domain tag of what a node's account signs to bind its peer id.
pub const PEER_TAG: [u8; 14] = *b"tc/nest/peer/1";

/// The longest message either protocol carries: a call's worth of records and then some.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

/// The longest request: a few numbers, or an agreement range. Anyone may send requests, so
/// they are held to this, not to [`MAX_MESSAGE_BYTES`].
pub const MAX_REQUEST_BYTES: usize = 1024;

/// The gossipsub topic of `service`'s new records on the WebChain of `genesis`.
pub fn records_topic(genesis: &Hash, service: ServiceId) -> String {
	format!("/thingschain/nest/{}/{service}/records", hex::encode(&genesis.0[..8]))
}

/// A node's account vouching for its libp2p peer id.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct PeerBinding {
	/// The node's account.
	pub account: [u8; 32],
	/// The peer id it vouches for (its bytes).
	pub peer: Vec<u8>,
	/// The account's sr25519 signature of [`binding_bytes`].
	pub signature: [u8; 64],
}

/// What an account signs to bind `peer` in `service` on the WebChain of `genesis`.
pub fn binding_bytes(genesis: &Hash, service: ServiceId, peer: &PeerId) -> Vec<u8> {
	(PEER_TAG, genesis, service, peer.to_bytes()).encode()
}

impl PeerBinding {
	/// `key` vouching for `peer`.
	pub fn sign(key: &Keypair, genesis: &Hash, service: ServiceId, peer: &PeerId) -> Self {
		let signature = key.sign(&binding_bytes(genesis, service, peer)).0;
		PeerBinding { account: key.public_key().0, peer: peer.to_bytes(), signature }
	}

	/// The account vouching for `peer`, if this binding is its valid signature for it.
	pub fn verify(&self, genesis: &Hash, service: ServiceId, peer: &PeerId) -> Option<[u8; 32]> {
		if self.peer != peer.to_bytes() {
			return None;
		}
		let signature = sr25519::Signature::from_raw(self.signature);
		let account = sr25519::Public::from_raw(self.account);
		sr25519::Pair::verify(&signature, binding_bytes(genesis, service, peer), &account)
			.then_some(self.account)
	}
}

/// A request of the sync protocol.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Request {
	/// A device's records from a sequence on.
	Records {
		/// The device.
		device: DeviceId,
		/// The first sequence.
		from: u64,
		/// At most this many.
		count: u32,
	},
	/// The records a proposal's range names ([`crate::agreement::chain::Range`]): those of
	/// the ledger, or another record of the device for a sequence kept beside them.
	Range(crate::agreement::chain::Range),
}

/// A response of the sync protocol.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Response {
	/// The records this node has, in order.
	Records(Vec<SignedNestRecord>),
	/// Not answered: the asking peer is not a trusted node of the service (yet), or this
	/// node could not read its ledger.
	Refused,
}

/// A request-response codec: each message SCALE-encoded after its length (`u32`, little
/// endian), requests at most `request_limit` bytes and responses `response_limit`.
pub struct Framed<Req, Resp> {
	request_limit: usize,
	response_limit: usize,
	messages: std::marker::PhantomData<fn() -> (Req, Resp)>,
}

impl<Req, Resp> Framed<Req, Resp> {
	/// A codec with these limits.
	pub const fn new(request_limit: usize, response_limit: usize) -> Self {
		Framed { request_limit, response_limit, messages: std::marker::PhantomData }
	}
}

// By hand: a derive would ask `Req` and `Resp` to be `Clone`.
impl<Req, Resp> Clone for Framed<Req, Resp> {
	fn clone(&self) -> Self {
		Framed::new(self.request_limit, self.response_limit)
	}
}

/// The sync protocol's codec: anyone may send requests, so they are held to
/// [`MAX_REQUEST_BYTES`]; responses to [`MAX_MESSAGE_BYTES`].
pub type SyncCodec = Framed<Request, Response>;

impl Default for SyncCodec {
	fn default() -> Self {
		Framed::new(MAX_REQUEST_BYTES, MAX_MESSAGE_BYTES)
	}
}

/// Reads one message of at most `limit` bytes: its length, then as many bytes as actually
/// arrive (memory follows the data sent, not the length announced), then decodes all of them.
async fn read_message<T: Decode, R: AsyncRead + Unpin + Send>(
	io: &mut R,
	limit: usize,
) -> std::io::Result<T> {
	let invalid = |why: String| std::io::Error::new(std::io::ErrorKind::InvalidData, why);
	let mut length = [0; 4];
	io.read_exact(&mut length).await?;
	let length = u32::from_le_bytes(length) as usize;
	if length > limit {
		return Err(invalid(format!("a message of {length} bytes, more than {limit}")));
	}
	let mut bytes = Vec::new();
	io.take(length as u64).read_to_end(&mut bytes).await?;
	if bytes.len() != length {
		return Err(invalid(format!("{} of {length} bytes arrived", bytes.len())));
	}
	T::decode_all(&mut &bytes[..]).map_err(|e| invalid(e.to_string()))
}

/// Writes one message: its length, then its SCALE bytes; then closes the stream.
async fn write_message<T: Encode, W: AsyncWrite + Unpin + Send>(
	io: &mut W,
	message: T,
	limit: usize,
) -> std::io::Result<()> {
	let bytes = message.encode();
	let length = u32::try_from(bytes.len())
		.ok()
		.filter(|length| *length as usize <= limit)
		.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "message too long"))?;
	io.write_all(&length.to_le_bytes()).await?;
	io.write_all(&bytes).await?;
	io.close().await
}

#[async_trait]
impl<Req, Resp> libp2p::request_response::Codec for Framed<Req, Resp>
where
	Req: Encode + Decode + Send + 'static,
	Resp: Encode + Decode + Send + 'static,
{
	type Protocol = StreamProtocol;
	type Request = Req;
	type Response = Resp;

	async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> std::io::Result<Req>
	where
		T: AsyncRead + Unpin + Send,
	{
		read_message(io, self.request_limit).await
	}

	async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> std::io::Result<Resp>
	where
		T: AsyncRead + Unpin + Send,
	{
		read_message(io, self.response_limit).await
	}

	async fn write_request<T>(
		&mut self,
		_: &StreamProtocol,
		io: &mut T,
		request: Req,
	) -> std::io::Result<()>
	where
		T: AsyncWrite + Unpin + Send,
	{
		write_message(io, request, self.request_limit).await
	}

	async fn write_response<T>(
		&mut self,
		_: &StreamProtocol,
		io: &mut T,
		response: Resp,
	) -> std::io::Result<()>
	where
		T: AsyncWrite + Unpin + Send,
	{
		write_message(io, response, self.response_limit).await
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use subxt_signer::sr25519::dev;

	#[test]
	fn a_binding_vouches_for_one_peer_in_one_service_on_one_chain() {
		let genesis = Hash::repeat_byte(1);
		let (peer, other) = (PeerId::random(), PeerId::random());
		let binding = PeerBinding::sign(&dev::charlie(), &genesis, 4, &peer);
		assert_eq!(binding.verify(&genesis, 4, &peer), Some(dev::charlie().public_key().0));
		// Another peer presenting it, another service, another chain: refused.
		assert_eq!(binding.verify(&genesis, 4, &other), None);
		assert_eq!(binding.verify(&genesis, 5, &peer), None);
		assert_eq!(binding.verify(&Hash::zero(), 4, &peer), None);
		// A binding naming the other peer but signed for this one.
		let swapped = PeerBinding { peer: other.to_bytes(), ..binding.clone() };
		assert_eq!(swapped.verify(&genesis, 4, &other), None);
		// Someone else's account claimed with Charlie's signature.
		let claimed = PeerBinding { account: dev::dave().public_key().0, ..binding };
		assert_eq!(claimed.verify(&genesis, 4, &peer), None);
	}

	#[tokio::test]
	async fn messages_are_framed_and_oversized_ones_refused() {
		let request = Request::Records { device: 3, from: 9, count: 100 };
		let mut wire = Vec::new();
		let mut cursor = futures::io::Cursor::new(&mut wire);
		write_message(&mut cursor, request.clone(), MAX_REQUEST_BYTES).await.unwrap();
		let read: Request = read_message(&mut &wire[..], MAX_REQUEST_BYTES).await.unwrap();
		assert_eq!(read, request);
		// A length beyond the limit is refused before anything is read or allocated: a request
		// may not announce a response's size.
		let mut huge = ((MAX_REQUEST_BYTES + 1) as u32).to_le_bytes().to_vec();
		huge.extend([0; 16]);
		assert!(read_message::<Request, _>(&mut &huge[..], MAX_REQUEST_BYTES).await.is_err());
		// A message shorter than announced, or with trailing bytes, is refused.
		assert!(read_message::<Request, _>(&mut &wire[..wire.len() - 1], MAX_REQUEST_BYTES)
			.await
			.is_err());
		let mut trailing = wire.clone();
		trailing[0] += 1;
		trailing.push(0);
		assert!(read_message::<Request, _>(&mut &trailing[..], MAX_REQUEST_BYTES).await.is_err());
		// Nor is a message longer than its side may be written.
		let long = Request::Records { device: 3, from: 9, count: 100 };
		let mut sink = futures::io::Cursor::new(Vec::new());
		assert!(write_message(&mut sink, long, 4).await.is_err());
	}
}
