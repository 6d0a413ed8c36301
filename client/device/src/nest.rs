//! Writing readings to a service's NestChain instead of WebChain: a service node takes a
//! device's records at rates WebChain blocks cannot (`nestnode_*`, docs/rpc.md), and anchors
//! them on WebChain every epoch.
//!
//! ```text
//!  device: seal the reading for the granted readers (record number = its sequence)
//!          ─► sign "tc/nest/record/1" ‖ genesis ‖ NestRecord ─► nestnode_submit ─► stored
//!  a retry sends the same signed record (acknowledged again as a duplicate), never a fresh seal
//! ```

use crate::{error::rpc, Error};
use codec::Encode;
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use subxt::rpcs::{rpc_params, RpcClient};
use thingschain_device_core::{seal, signing::DeviceKey, Placement};
use thingschain_primitives::{
	envelope::{Provenance, ReaderKey},
	ids::{DeviceId, Hash, ServiceId},
	nest::{NestRecord, SignedNestRecord},
};

/// A service node's answer to one record (`nestnode_submit`): the service node sends this
/// type, the SDK reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum Answer {
	/// Stored durably.
	Stored {
		/// Its leaf hash.
		leaf: Hash,
	},
	/// The node had it already (a retry): acknowledged again, not stored twice.
	Duplicate {
		/// Its leaf hash.
		leaf: Hash,
	},
	/// Not taken, with the node's stable code (docs/rpc.md).
	Refused {
		/// The code.
		code: i32,
		/// Why.
		error: String,
	},
}

/// A connection to a service node.
pub struct ServiceNode {
	rpc: RpcClient,
}

impl ServiceNode {
	/// Connects to the service node at `url` (`ws://` or `wss://`).
	pub async fn connect(url: &str) -> Result<Self, Error> {
		let rpc = RpcClient::from_insecure_url(url)
			.await
			.map_err(|e| Error::Offline(format!("{url}: {e}")))?;
		Ok(Self { rpc })
	}

	/// The sequence `device`'s next record must have: where a device that lost its count
	/// goes on.
	pub async fn next_sequence(&self, device: DeviceId) -> Result<u64, Error> {
		self.rpc.request("nestnode_nextSequence", rpc_params![device]).await.map_err(rpc)
	}

	/// Submits `records`; one answer each, in order, once the stored ones are durable.
	pub async fn submit(&self, records: &[SignedNestRecord]) -> Result<Vec<Answer>, Error> {
		let records = format!("0x{}", hex::encode(records.encode()));
		self.rpc.request("nestnode_submit", rpc_params![records]).await.map_err(rpc)
	}
}

/// `reading` as device `device`'s record `sequence` in `service` on the chain of `genesis`:
/// sealed for `readers`, signed with `key`. Keep it until it is acknowledged: a retry must
/// send this same record.
pub fn nest_record(
	key: &DeviceKey,
	genesis: Hash,
	(service, device): (ServiceId, DeviceId),
	readers: &[ReaderKey],
	reading: &[u8],
	sequence: u64,
) -> Result<SignedNestRecord, Error> {
	let provenance = Provenance { genesis_hash: genesis, device };
	let sealed = seal(reading, readers, Placement::Inline, &provenance, sequence, &mut OsRng)?;
	let record = NestRecord { service, device, envelope: sealed.envelope };
	Ok(key.sign_record(record, &genesis, OsRng))
}
