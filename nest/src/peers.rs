//! Where a super node, which takes no part in the service's agreement, gets each epoch's
//! certified cut and the records below it that it lacks: the service nodes' JSON-RPC
//! (`nestnode_cut`, `nestnode_records`), read without being one of them. Nothing a node
//! serves is trusted: cuts are checked against the agreement's certificate, records against
//! their devices' keys ([`crate::agreement::certified`], [`crate::validate`]).

use crate::ledger::CertifiedCut;
use codec::{Decode, DecodeAll};
use polkadot_sdk::sp_core::Bytes;
use subxt::rpcs::{rpc_params, RpcClient};
use thingschain_device::{error::rpc, Error};
use thingschain_primitives::{
	ids::{DeviceId, Epoch},
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

	/// Device `device`'s records from `from` on, at most `count`, from the first peer that
	/// has any.
	pub async fn records(&self, device: DeviceId, from: u64, count: u32) -> Vec<SignedNestRecord> {
		for peer in &self.peers {
			let params = rpc_params![device, from, count];
			match peer.request::<Bytes>("nestnode_records", params).await {
				Ok(bytes) => match Vec::<SignedNestRecord>::decode(&mut &bytes[..]) {
					Ok(records) if !records.is_empty() => return records,
					Ok(_) => {}
					Err(e) => {
						tracing::warn!(target: "peers", "{}: records that do not decode: {e}", peer.url)
					}
				},
				Err(e) => tracing::debug!(target: "peers", "{}: {e}", peer.url),
			}
		}
		Vec::new()
	}
}

impl Peer {
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
