//! Where a super node, which takes no part in the service's agreement, gets each epoch's
//! certified cut, the proposals that lead to it and the records below it that it lacks: the
//! service nodes' JSON-RPC (`nestnode_cut`, `nestnode_proposals`, `nestnode_records`), read
//! without being one of them. Nothing a node serves is trusted: cuts are checked against the
//! agreement's certificate ([`crate::agreement::certified`]), proposals by their digests
//! back from the certified one, records by the leaves the proposals name
//! ([`crate::epoch_ranges`]).

use crate::{
	agreement::chain::{leaves_hash, Proposal, Range},
	ledger::CertifiedCut,
	rpc::{MAX_PROPOSALS_PER_CALL, MAX_RECORDS_PER_CALL},
};
use codec::{Decode, DecodeAll};
use polkadot_sdk::sp_core::Bytes;
use subxt::rpcs::{rpc_params, RpcClient};
use thingschain_device::{error::rpc, Error};
use thingschain_primitives::{
	ids::{Epoch, Hash},
	merkle::leaf_hash,
	nest::SignedNestRecord,
};
use tokio::sync::Mutex;

/// Service nodes by their JSON-RPC URLs (`ws://`), asked in turn.
pub struct RpcPeers {
	peers: Vec<Peer>,
}

/// One peer and its connection, opened when first needed and again after a failure.
struct Peer {
	url: String,
	client: Mutex<Option<RpcClient>>,
}

impl RpcPeers {
	/// The peers at `urls`.
	pub fn new(urls: Vec<String>) -> RpcPeers {
		RpcPeers {
			peers: urls.into_iter().map(|url| Peer { url, client: Mutex::new(None) }).collect(),
		}
	}

	/// Each certified cut of `epoch` the peers have, one per peer that answers with one.
	pub async fn cuts(&self, epoch: Epoch) -> Vec<CertifiedCut> {
		let mut cuts = Vec::new();
		for peer in &self.peers {
			match peer.request::<Option<Bytes>>("nestnode_cut", rpc_params![epoch]).await {
				Ok(Some(bytes)) => match CertifiedCut::decode_all(&mut &bytes[..]) {
					Ok(cut) => cuts.push(cut),
					Err(e) => {
						tracing::warn!(target: "peers", "{}: a cut that does not decode: {e}", peer.url)
					}
				},
				Ok(None) => {}
				Err(e) => tracing::debug!(target: "peers", "{}: {e}", peer.url),
			}
		}
		cuts
	}

	/// The proposal `digest` names and as many of its ancestors as the first peer that has
	/// it serves (at most [`MAX_PROPOSALS_PER_CALL`]), newest first: each the one its child
	/// names, checked by its digest.
	pub async fn proposals(&self, digest: [u8; 32]) -> Vec<Proposal> {
		for peer in &self.peers {
			let params = rpc_params![Hash::from(digest), MAX_PROPOSALS_PER_CALL];
			let chain = match peer.request::<Bytes>("nestnode_proposals", params).await {
				Ok(bytes) => Vec::<Proposal>::decode(&mut &bytes[..]),
				Err(e) => {
					tracing::debug!(target: "peers", "{}: {e}", peer.url);
					continue;
				}
			};
			let mut expected = digest;
			let linked: Vec<Proposal> = (chain.unwrap_or_default().into_iter())
				.take_while(|proposal| {
					let named = proposal.digest().0 == expected;
					expected = proposal.parent;
					named
				})
				.collect();
			if !linked.is_empty() {
				return linked;
			}
		}
		Vec::new()
	}

	/// The records `range` names, from the first peer that serves them all (checked against
	/// the range's leaves), or none.
	pub async fn range(&self, range: &Range) -> Option<Vec<SignedNestRecord>> {
		for peer in &self.peers {
			match peer.range(range).await {
				Ok(Some(records)) => return Some(records),
				Ok(None) => {}
				Err(e) => tracing::debug!(target: "peers", "{}: {e}", peer.url),
			}
		}
		None
	}
}

impl Peer {
	/// The records `range` names, if this peer serves them all (asked for in as many calls as
	/// its answers' size limit takes).
	async fn range(&self, range: &Range) -> Result<Option<Vec<SignedNestRecord>>, Error> {
		let mut records: Vec<SignedNestRecord> = Vec::with_capacity(range.len() as usize);
		while (records.len() as u64) < range.len() {
			let from = range.from + records.len() as u64;
			let count = (range.to - from).min(MAX_RECORDS_PER_CALL as u64) as u32;
			let params = rpc_params![range.device, from, count];
			let bytes = self.request::<Bytes>("nestnode_records", params).await?;
			let answer = Vec::<SignedNestRecord>::decode(&mut &bytes[..]).map_err(|e| {
				Error::Io(std::io::Error::other(format!("records that do not decode: {e}")))
			})?;
			// Only the device's records from `from` on, in order, are of use.
			let before = records.len();
			records.extend(
				answer
					.into_iter()
					.zip(from..range.to)
					.take_while(|(r, sequence)| {
						r.record.device == range.device && r.record.sequence() == *sequence
					})
					.map(|(r, _)| r),
			);
			if records.len() == before {
				return Ok(None);
			}
		}
		let leaves: Vec<Hash> = records.iter().map(|r| leaf_hash(&r.record.leaf_bytes())).collect();
		Ok((leaves_hash(&leaves) == range.leaves).then_some(records))
	}

	/// Calls `method` on the peer, connecting first if need be; a failed call drops the
	/// connection, so the next one reconnects.
	async fn request<T: serde::de::DeserializeOwned>(
		&self,
		method: &str,
		params: subxt::rpcs::client::RpcParams,
	) -> Result<T, Error> {
		let mut client = self.client.lock().await;
		let connection = match &*client {
			Some(connection) => connection.clone(),
			None => {
				let connected = RpcClient::from_insecure_url(&self.url).await;
				let connection = connected.map_err(|e| Error::Offline(e.to_string()))?;
				client.insert(connection).clone()
			}
		};
		let result = connection.request(method, params).await.map_err(rpc);
		if result.is_err() {
			*client = None;
		}
		result
	}
}
