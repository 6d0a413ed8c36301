//! Writing readings to a service's NestChain instead of WebChain: a service node takes a
//! device's records at rates WebChain blocks cannot (`nestnode_*`, docs/rpc.md), and anchors
//! them on WebChain every epoch.
//!
//! ```text
//!  device: seal the reading for the granted readers (record number = its sequence)
//!          ─► sign "tc/nest/record/1" ‖ genesis ‖ NestRecord ─► nestnode_submit ─► stored
//!  a retry sends the same signed record (acknowledged again as a duplicate), never a fresh seal
//! ```
//!
//! From the device's offline queue ([`flush`]): each queued reading is sealed and signed
//! once, numbered after the last one sealed (or from the node's next sequence), and the
//! record written beside it in the queue *before* it is sent. Until the node answers it is
//! sent again as that same record; a stored (or duplicate) answer removes it from the queue.
//! A reading sealed for a service node goes nowhere else; one that is not yet sealed goes to
//! WebChain instead when the service node cannot be reached (`thingschain-device flush
//! --nest`), and a reading once sent to WebChain stays on WebChain's path.

use crate::Chain;
use crate::{
	error::rpc,
	queue::{bound_device, FlushReport, Queue, Reading},
	DeviceKeys, Error,
};
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

/// The code of a record refused because its sequence is past the device's next one (docs/rpc.md).
pub const SEQUENCE_GAP: i32 = 9309;
/// The code of a record refused because the node holds another record with its sequence.
pub const SEQUENCE_REUSED: i32 = 9310;
/// The most records one `nestnode_submit` takes (docs/rpc.md).
pub const MAX_RECORDS_PER_CALL: usize = 4_096;

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

/// Sends the device's queued readings (those not public, nor sent to WebChain already) to the
/// service node `node` of its service, as the device holding `keys` on `chain`; see the
/// module's documentation. What the node refuses stays queued (re-sealed later if refused
/// for its sequence), with the reason in the report.
pub async fn flush(
	chain: &Chain,
	node: &ServiceNode,
	keys: &DeviceKeys,
	queue: &Queue,
) -> Result<FlushReport, Error> {
	let mut readings: Vec<Reading> = queue.pending()?;
	readings.retain(|r| r.for_service.is_some() || (!r.public && r.sent.is_none()));
	let mut report = FlushReport::default();
	if readings.iter().any(|r| r.for_service.is_none()) {
		seal_for_service(chain, node, keys, queue, &mut readings).await?;
	}
	// In the order of their sequences: a re-sealed reading comes after those still waiting.
	readings.sort_by_key(|r| r.for_service.as_ref().map(|record| record.record.sequence()));
	for chunk in readings.chunks(MAX_RECORDS_PER_CALL) {
		let records: Vec<SignedNestRecord> =
			chunk.iter().filter_map(|r| r.for_service.clone()).collect();
		let answers = node.submit(&records).await?;
		if answers.len() != records.len() {
			let error = format!("{} answers to {} records", answers.len(), records.len());
			return Err(Error::Rpc(error));
		}
		for (reading, answer) in chunk.iter().zip(answers) {
			match answer {
				Answer::Stored { .. } | Answer::Duplicate { .. } => {
					queue.remove(reading.seq)?;
					report.stored += 1;
				}
				Answer::Refused { code, error } => {
					if code == SEQUENCE_GAP || code == SEQUENCE_REUSED {
						queue.clear_sealed(reading.seq)?;
					}
					report
						.errors
						.push(Error::Rejected(format!("reading {}: {error}", reading.seq)));
				}
			}
		}
	}
	report.remaining = queue.pending()?.len();
	Ok(report)
}

/// Seals and signs each of `readings` not sealed yet as the device's next record in its
/// service, noting each in `queue` before anything is sent.
async fn seal_for_service(
	chain: &Chain,
	node: &ServiceNode,
	keys: &DeviceKeys,
	queue: &Queue,
	readings: &mut [Reading],
) -> Result<(), Error> {
	let device = bound_device(chain, keys).await?;
	let service = chain.service_of(device).await?.ok_or_else(|| {
		Error::Rejected(format!("device {device} belongs to no service: it writes to WebChain"))
	})?;
	let readers = chain.readers(device).await?;
	let genesis = Hash::from(chain.genesis_hash());
	let last_sealed = readings.iter().filter_map(|r| r.for_service.as_ref()).last();
	let mut sequence = match last_sealed {
		Some(record) => record.record.sequence() + 1,
		None => node.next_sequence(device).await?,
	};
	for reading in readings.iter_mut().filter(|r| r.for_service.is_none()) {
		let record = nest_record(
			&keys.signer,
			genesis,
			(service, device),
			&readers,
			&reading.data,
			sequence,
		)?;
		queue.mark_sealed(reading.seq, &record)?;
		reading.for_service = Some(record);
		sequence += 1;
	}
	Ok(())
}
