//! Real records for the tests: devices with sr25519 keys (the device SDK's), registered for
//! the service with one granted reader, sealing readings with the device core.

use crate::{
	devices::{Admission, DeviceCache, DeviceEntry},
	error::Rejection,
	validate::{check, Checked, Rules},
};
use polkadot_sdk::{
	sp_core::{ed25519, Pair},
	sp_runtime::MultiSignature,
};
use rand_core::OsRng;
use std::sync::Arc;
use thingschain_device_core::{seal, signing::DeviceKey, Placement};
use thingschain_primitives::{
	envelope::Envelope,
	envelope::{Provenance, ReaderKey},
	ids::{DeviceId, Hash, ServiceId},
	nest::{NestBody, NestRecord, SignedNestRecord},
};

/// The service the fixtures' node keeps.
pub const SERVICE: ServiceId = 3;

/// The one service [`SERVICE`]'s devices may lock value to.
pub const PEG_DESTINATION: ServiceId = SERVICE + 1;

/// A device signing with `key`, admitted and let lock value, with one granted `reader`.
pub fn member(key: [u8; 32], reader: ReaderKey) -> DeviceEntry {
	let admission = Admission::Admitted { may_lock: true };
	DeviceEntry { key, active: true, admission, readers: vec![reader] }
}

/// The bytes of a reading: the 256-byte record.
pub const READING_BYTES: usize = 256;

/// Devices of [`SERVICE`], numbered from `first_device`, registered in `devices`.
#[derive(Clone)]
pub struct Fleet {
	/// The chain the records are signed for.
	pub genesis: Hash,
	/// The first device's id.
	pub first_device: DeviceId,
	/// The devices' key seeds.
	pub seeds: Vec<[u8; 32]>,
	/// The reader every device's records are sealed for.
	pub reader: ReaderKey,
	/// The registry as the node has it.
	pub devices: Arc<DeviceCache>,
	/// The node's rules.
	pub rules: Rules,
}

impl Fleet {
	/// `count` active devices of [`SERVICE`], admitted and let lock value to
	/// [`PEG_DESTINATION`].
	pub fn new(count: usize) -> Fleet {
		let genesis = Hash::repeat_byte(0x9e);
		let reader = [0x42; 32];
		let seeds: Vec<[u8; 32]> = (0..count).map(|i| [i as u8 + 1; 32]).collect();
		let fleet = Fleet {
			genesis,
			first_device: 10,
			seeds,
			reader,
			devices: Arc::new(DeviceCache::default()),
			rules: Rules {
				service: SERVICE,
				genesis_hash: genesis,
				max_record_bytes: 4_096,
				max_readers: 16,
			},
		};
		for i in 0..count {
			fleet.devices.set(0, fleet.device_id(i), Some(member(fleet.key(i).public(), reader)));
		}
		fleet.devices.set_peg_destinations(0, vec![PEG_DESTINATION]);
		fleet
	}

	/// Checks `records` as the node would on their arrival.
	pub fn check(&self, records: Vec<SignedNestRecord>) -> Vec<Result<Checked, Rejection>> {
		check(&self.rules, &self.devices.latest(), records)
	}

	/// The id of the `index`-th device.
	pub fn device_id(&self, index: usize) -> DeviceId {
		self.first_device + index as DeviceId
	}

	/// The `index`-th device's key.
	pub fn key(&self, index: usize) -> DeviceKey {
		DeviceKey::from_seed(&self.seeds[index])
	}

	/// The `index`-th device's signed reading with `sequence`: [`READING_BYTES`] bytes.
	pub fn record(&self, index: usize, sequence: u64) -> SignedNestRecord {
		self.record_of_size(index, sequence, READING_BYTES)
	}

	/// The `index`-th device's signed reading of `bytes` bytes with `sequence`.
	pub fn record_of_size(&self, index: usize, sequence: u64, bytes: usize) -> SignedNestRecord {
		let device = self.device_id(index);
		let provenance = Provenance { genesis_hash: self.genesis, device };
		let reading = vec![sequence as u8; bytes];
		let sealed =
			seal(&reading, &[self.reader], Placement::Inline, &provenance, sequence, &mut OsRng)
				.expect("a reading seals");
		self.signed(index, NestBody::Reading(sealed.envelope))
	}

	/// The `index`-th device's record saying `body`, signed.
	pub fn signed(&self, index: usize, body: NestBody) -> SignedNestRecord {
		let record = NestRecord { service: SERVICE, device: self.device_id(index), body };
		self.sign(record, index)
	}

	/// The `index`-th device's lock with `sequence` of a value for account `[7; 32]` on
	/// service `destination`.
	pub fn lock(&self, index: usize, sequence: u64, destination: ServiceId) -> SignedNestRecord {
		let beneficiary = [7; 32].into();
		let payload = Hash::repeat_byte(sequence as u8);
		self.signed(index, NestBody::Lock { sequence, destination, beneficiary, payload })
	}

	/// `record` signed by the `index`-th device's key.
	pub fn sign(&self, record: NestRecord, index: usize) -> SignedNestRecord {
		self.key(index).sign_record(record, &self.genesis, OsRng)
	}

	/// A device with an ed25519 key, registered in `devices`: one of its records, and the same
	/// record signed by another ed25519 key.
	pub fn ed25519_records(&self, devices: &DeviceCache) -> (SignedNestRecord, SignedNestRecord) {
		let (key, other) = (ed25519::Pair::from_seed(&[7; 32]), ed25519::Pair::from_seed(&[8; 32]));
		let id = self.first_device + 1_000;
		devices.set(0, id, Some(member(key.public().0, self.reader)));
		let mut record = self.record(0, 0).record;
		record.device = id;
		let signed_by = |pair: &ed25519::Pair| SignedNestRecord {
			record: record.clone(),
			signature: MultiSignature::Ed25519(pair.sign(&record.signing_bytes(&self.genesis))),
		};
		(signed_by(&key), signed_by(&other))
	}
}

/// The envelope of `signed`, a reading.
pub fn envelope_mut(signed: &mut SignedNestRecord) -> &mut Envelope {
	match &mut signed.record.body {
		NestBody::Reading(envelope) => envelope,
		other => panic!("not a reading: {other:?}"),
	}
}
