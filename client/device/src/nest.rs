//! Writing readings to a service's NestChain instead of WebChain: a service node takes a
//! device's records at rates WebChain blocks cannot (`nestnode_*`, docs/rpc.md), and anchors
//! them on WebChain every epoch.
//!
//! ```text
//!  device: seal the reading for the granted readers (record number = its sequence)
//!          ─► sign "tc/nest/record/1" ‖ genesis ‖ NestRecord ─► nestnode_submit
//!          ─► replicated (the service's agreement ordered it: on enough nodes that losing
//!             those the service tolerates loses nothing), or only stored (on that node's
//!             disk) if it was not ordered within the node's wait
//!  a retry sends the same signed record (acknowledged again as a duplicate), never a fresh seal
//! ```
//!
//! From the device's offline queue ([`flush`]): each queued reading is sealed and signed
//! once, numbered after the highest one sealed (or from the node's next sequence), and the
//! record written beside it in the queue (synced) *before* it is sent. Until the node answers
//! it is sent again as that same record; a replicated answer removes it from the queue, one
//! only stored (or duplicate) leaves it there to be sent again (acknowledged again, once
//! replicated), and a refusal decides its way on ([`after_refusal`]). A reading a service node took
//! goes nowhere else, unless refused there for its size; one no service node took yet goes to
//! WebChain instead while no service node can be reached (`thingschain-device flush --nest`),
//! and a reading once sent to WebChain stays on WebChain's path (docs/devices.md).

use crate::Chain;
use crate::{
	error::rpc,
	queue::{bound_device, FlushReport, Queue, Reading, ServiceRoute},
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
	nest::{NestBody, NestRecord, SignedNestRecord},
};

/// How far a `nestnode_submit` waits before it answers: a record is acknowledged once
/// `stored` on the node's disk, or once `replicated` among the service's nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Acknowledge {
	/// Once on the answering node's disk: fast, and lost if that node is lost for good.
	Stored,
	/// Once the service's agreement ordered it: held by enough of the service's nodes that
	/// losing as many as the service tolerates loses nothing. The SDK's default.
	#[default]
	Replicated,
}

/// A service node's answer to one record (`nestnode_submit`): the service node sends this
/// type, the SDK reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum Answer {
	/// Ordered by the service's agreement: replicated among its nodes.
	Replicated {
		/// Its leaf hash.
		leaf: Hash,
	},
	/// Stored durably on the answering node (and not replicated yet, if that was asked).
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

/// The code of a record refused for its size (docs/rpc.md).
pub const TOO_LARGE: i32 = 9302;
/// The code of a record refused because the node does not know its device (yet).
pub const UNKNOWN_DEVICE: i32 = 9304;
/// The code of a record refused because its device is suspended.
pub const DEVICE_SUSPENDED: i32 = 9306;
/// The code of a record refused because the service's owner has not admitted its device (yet).
pub const NOT_ADMITTED: i32 = 9314;
/// The code of a record refused because its sequence is past the device's next one.
pub const SEQUENCE_GAP: i32 = 9309;
/// The code of a record refused because the node holds another record with its sequence.
pub const SEQUENCE_REUSED: i32 = 9310;

/// What becomes of a queued reading whose record a service node refused with `code`: the
/// same record again later (the node may learn of the device, the device be resumed or
/// admitted),
/// WebChain (the record is too large for the node), or a fresh seal (any other reason: its
/// sequence, its readers or key since changed, its service).
pub fn after_refusal(code: i32, record: &SignedNestRecord) -> ServiceRoute {
	match code {
		UNKNOWN_DEVICE | DEVICE_SUSPENDED | NOT_ADMITTED => {
			ServiceRoute::Sealed(Box::new(record.clone()))
		}
		TOO_LARGE => ServiceRoute::WebChain,
		_ => ServiceRoute::Reseal,
	}
}
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

	/// Submits `records`; one answer each, in order, once they are replicated (or the node's
	/// wait for that is over: then they are only stored).
	pub async fn submit(&self, records: &[SignedNestRecord]) -> Result<Vec<Answer>, Error> {
		self.submit_acknowledged(records, Acknowledge::Replicated).await
	}

	/// Submits `records`; one answer each, in order, once `acknowledge` holds for them.
	pub async fn submit_acknowledged(
		&self,
		records: &[SignedNestRecord],
		acknowledge: Acknowledge,
	) -> Result<Vec<Answer>, Error> {
		let records = format!("0x{}", hex::encode(records.encode()));
		self.rpc.request("nestnode_submit", rpc_params![records, acknowledge]).await.map_err(rpc)
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
	Ok(signed_record(key, genesis, (service, device), NestBody::Reading(sealed.envelope)))
}

/// Device `device`'s record saying `body` in `service` on the chain of `genesis`, signed with
/// `key`: a reading ([`nest_record`] seals one), or a peg lock or revert of a value the
/// device holds ([`NestBody::Lock`], [`NestBody::Revert`]), each with the device's next
/// sequence in the service.
pub fn signed_record(
	key: &DeviceKey,
	genesis: Hash,
	(service, device): (ServiceId, DeviceId),
	body: NestBody,
) -> SignedNestRecord {
	key.sign_record(NestRecord { service, device, body }, &genesis, OsRng)
}

/// Sends the device's queued readings for a service node ([`Reading::for_service_node`]) to
/// the service node `node` of its service, as the device holding `keys` on `chain`; see the
/// module's documentation. What the node refuses stays queued for a service node (sealed
/// afresh unless the same record may pass later) or, too large for it, goes to WebChain;
/// the reasons are in the report.
pub async fn flush(
	chain: &Chain,
	node: &ServiceNode,
	keys: &DeviceKeys,
	queue: &Queue,
) -> Result<FlushReport, Error> {
	let mut readings: Vec<Reading> = queue.pending()?;
	readings.retain(Reading::for_service_node);
	let mut report = FlushReport::default();
	let sealed = seal_for_service(chain, node, keys, queue, readings).await?;
	for chunk in sealed.chunks(MAX_RECORDS_PER_CALL) {
		let records: Vec<SignedNestRecord> = chunk.iter().map(|(_, r)| r.clone()).collect();
		let answers = node.submit(&records).await?;
		if answers.len() != records.len() {
			let error = format!("{} answers to {} records", answers.len(), records.len());
			return Err(Error::Rpc(error));
		}
		for ((seq, record), answer) in chunk.iter().zip(answers) {
			match answer {
				Answer::Replicated { .. } => {
					queue.remove(*seq)?;
					report.stored += 1;
				}
				Answer::Stored { .. } | Answer::Duplicate { .. } => {
					// On one node's disk only: kept, and sent again as this same record.
					let error = "stored on the service node, not replicated yet";
					report.errors.push(Error::Rejected(format!("reading {seq}: {error}")));
				}
				Answer::Refused { code, error } => {
					queue.set_route(*seq, &after_refusal(code, record))?;
					report.errors.push(Error::Rejected(format!("reading {seq}: {error}")));
				}
			}
		}
	}
	report.remaining = queue.pending()?.len();
	Ok(report)
}

/// Each of `readings` (queue number and record) as a record for the service node, in the
/// order of their sequences: those sealed already as they are, the others sealed and signed
/// now as the device's next records (after the highest sealed, or from the node's next
/// sequence), each noted in `queue` before anything is sent.
async fn seal_for_service(
	chain: &Chain,
	node: &ServiceNode,
	keys: &DeviceKeys,
	queue: &Queue,
	readings: Vec<Reading>,
) -> Result<Vec<(u64, SignedNestRecord)>, Error> {
	let mut sealed = Vec::new();
	let mut to_seal = Vec::new();
	for reading in readings {
		match reading.for_service {
			Some(ServiceRoute::Sealed(record)) => sealed.push((reading.seq, *record)),
			_ => to_seal.push(reading),
		}
	}
	sealed.sort_by_key(|(_, record)| record.record.sequence());
	if to_seal.is_empty() {
		return Ok(sealed);
	}
	let device = bound_device(chain, keys).await?;
	let service = chain.service_of(device).await?.ok_or_else(|| {
		Error::Rejected(format!("device {device} belongs to no service: it writes to WebChain"))
	})?;
	let readers = chain.readers(device).await?;
	let genesis = Hash::from(chain.genesis_hash());
	let mut sequence = match sealed.last() {
		Some((_, record)) => record.record.sequence() + 1,
		None => node.next_sequence(device).await?,
	};
	for reading in to_seal {
		let record = nest_record(
			&keys.signer,
			genesis,
			(service, device),
			&readers,
			&reading.data,
			sequence,
		)?;
		queue.set_route(reading.seq, &ServiceRoute::Sealed(Box::new(record.clone())))?;
		sealed.push((reading.seq, record));
		sequence += 1;
	}
	Ok(sealed)
}

#[cfg(test)]
mod tests {
	use super::*;
	use thingschain_device_core::ReaderSecret;

	#[test]
	fn a_refused_record_is_kept_sealed_afresh_or_sent_to_webchain_by_its_reason() {
		let key = DeviceKey::from_seed(&[1; 32]);
		let readers = [ReaderSecret::generate(&mut OsRng).public_key()];
		let record = nest_record(&key, Hash::zero(), (1, 2), &readers, b"21.5 C", 0).unwrap();
		let kept = ServiceRoute::Sealed(Box::new(record.clone()));
		assert_eq!(after_refusal(UNKNOWN_DEVICE, &record), kept);
		assert_eq!(after_refusal(DEVICE_SUSPENDED, &record), kept);
		assert_eq!(after_refusal(NOT_ADMITTED, &record), kept);
		assert_eq!(after_refusal(TOO_LARGE, &record), ServiceRoute::WebChain);
		for code in [SEQUENCE_GAP, SEQUENCE_REUSED, 9303, 9307, 9308] {
			assert_eq!(after_refusal(code, &record), ServiceRoute::Reseal, "code {code}");
		}
	}
}
