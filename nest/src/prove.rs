//! Proving that a record is in a service's anchored state without trusting the service node
//! that serves it: the node only hands over the record and its Merkle proof; the device's
//! signature is checked against the key WebChain registered for the device, and the proof
//! against the root WebChain anchored for the epoch (`nest_verifyInclusion`).
//!
//! ```text
//!  service node ── nestnode_proof(device, sequence) ──► record, signature, epoch, proof
//!  the record names this service, device and sequence
//!  WebChain     ── Devices.Devices(device).key ──► the signature is the device's
//!  WebChain     ── nest_verifyInclusion(service, epoch, record, proof) ──► true
//! ```

use crate::webchain::device_key;
use codec::DecodeAll;
use polkadot_sdk::sp_runtime::{traits::Verify, AccountId32, MultiSignature};
use serde_json::{json, Value as Json};
use subxt::rpcs::{rpc_params, RpcClient};
use thingschain_device::{error::rpc, Chain, Error};
use thingschain_primitives::{
	ids::{DeviceId, Epoch, Hash, ServiceId},
	nest::{NestRecord, RecordKind, RECORD_TAG},
};

/// A record proven against its anchor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proven {
	/// Its epoch.
	pub epoch: Epoch,
	/// The epoch's root, as WebChain anchored it.
	pub root: Hash,
	/// The record.
	pub record: NestRecord,
}

/// Why a record is not proven.
#[derive(Debug)]
pub enum NotProven {
	/// The service node has no such record in a closed epoch.
	NotServed,
	/// What it served is not this service's record of this device with this sequence.
	WrongRecord(String),
	/// The signature is not the key WebChain registered for the device.
	BadSignature,
	/// WebChain says the proof does not lead to the anchored root.
	NotIncluded,
	/// A node could not be asked, or refused (an epoch not anchored yet, say).
	Unreachable(Error),
}

impl std::fmt::Display for NotProven {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			NotProven::NotServed => f.write_str("the service node serves no proof of this record"),
			NotProven::WrongRecord(why) => {
				write!(f, "the service node served another record: {why}")
			}
			NotProven::BadSignature => {
				f.write_str("the record is not signed by the key WebChain has for the device")
			}
			NotProven::NotIncluded => {
				f.write_str("WebChain says the proof does not lead to the epoch's anchored root")
			}
			NotProven::Unreachable(e) => write!(f, "{e}"),
		}
	}
}

impl std::error::Error for NotProven {}

impl From<Error> for NotProven {
	fn from(error: Error) -> Self {
		NotProven::Unreachable(error)
	}
}

/// Proves device `device`'s record `sequence` in `service`, served by the service node at
/// `nest`, against WebChain at `webchain`.
pub async fn prove(
	nest: &str,
	webchain: &Chain,
	service: ServiceId,
	device: DeviceId,
	sequence: u64,
) -> Result<Proven, NotProven> {
	let node =
		RpcClient::from_insecure_url(nest).await.map_err(|e| Error::Offline(e.to_string()))?;
	let served: Json =
		node.request("nestnode_proof", rpc_params![device, sequence]).await.map_err(rpc)?;
	if served.is_null() {
		return Err(NotProven::NotServed);
	}
	let field = |name: &str| served.get(name).cloned().unwrap_or(Json::Null);
	let bytes = |name: &str| -> Result<Vec<u8>, NotProven> {
		let text = field(name).as_str().map(str::to_owned).unwrap_or_default();
		hex::decode(text.trim_start_matches("0x"))
			.map_err(|e| NotProven::WrongRecord(format!("{name}: {e}")))
	};
	let leaf = bytes("record")?;
	let record = device_record(&leaf).map_err(NotProven::WrongRecord)?;
	if (record.service, record.device, record.sequence()) != (service, device, sequence) {
		return Err(NotProven::WrongRecord(format!(
			"service {}, device {}, sequence {}",
			record.service,
			record.device,
			record.sequence()
		)));
	}
	let signature = MultiSignature::decode_all(&mut &bytes("signature")?[..])
		.map_err(|e| NotProven::WrongRecord(format!("signature: {e}")))?;
	let key = device_key(webchain, device).await?.ok_or(NotProven::BadSignature)?;
	let genesis = Hash::from(webchain.genesis_hash());
	if !signature.verify(&record.signing_bytes(&genesis)[..], &AccountId32::from(key)) {
		return Err(NotProven::BadSignature);
	}
	let epoch = field("epoch").as_u64().and_then(|e| Epoch::try_from(e).ok());
	let epoch = epoch.ok_or_else(|| NotProven::WrongRecord("no epoch".into()))?;
	let proof = json!({
		"leafIndex": field("leafIndex"),
		"numberOfLeaves": field("numberOfLeaves"),
		"siblings": field("siblings"),
	});
	let params = rpc_params![service, epoch, format!("0x{}", hex::encode(&leaf)), proof];
	let included: bool =
		webchain.rpc().request("nest_verifyInclusion", params).await.map_err(rpc)?;
	if !included {
		return Err(NotProven::NotIncluded);
	}
	// The root is WebChain's, not the one the service node named.
	let anchor: Json =
		webchain.rpc().request("nest_anchor", rpc_params![service, epoch]).await.map_err(rpc)?;
	let root = serde_json::from_value(anchor["root"].clone())
		.map_err(|e| Error::Rpc(format!("nest_anchor has no root: {e}")))?;
	Ok(Proven { epoch, root, record })
}

/// The device record whose leaf bytes are `leaf`.
fn device_record(leaf: &[u8]) -> Result<NestRecord, String> {
	let (tag, kind, record) = <([u8; 8], RecordKind, NestRecord)>::decode_all(&mut &leaf[..])
		.map_err(|e| format!("not a NestChain record: {e}"))?;
	if tag != RECORD_TAG || kind != RecordKind::Device {
		return Err("not a device's record".into());
	}
	Ok(record)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::fixtures::Fleet;
	use codec::Encode;
	use thingschain_primitives::nest::record_bytes;

	#[test]
	fn only_a_devices_record_leaf_is_read_as_one() {
		let record = Fleet::new(1).record(0, 4).record;
		assert_eq!(device_record(&record.leaf_bytes()), Ok(record.clone()));
		assert!(device_record(&record_bytes(RecordKind::Data, &record)).is_err());
		let mut trailing = record.leaf_bytes();
		trailing.push(0);
		assert!(device_record(&trailing).is_err());
		assert!(device_record(&record.encode()).is_err(), "no tag");
	}
}
