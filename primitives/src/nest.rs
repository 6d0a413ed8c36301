//! Records a NestChain commits to in its anchored state, as WebChain checks them, and what a
//! device signs to write one.
//!
//! ```text
//!  device signs   "tc/nest/record/1" ‖ genesis hash ‖ NestRecord { service, device, envelope }   (SCALE; sr25519 or ed25519)
//!  leaf bytes     "tc/nest/" ‖ RecordKind::Device ‖ NestRecord                                   (no signature)
//! ```
//!
//! A leaf leaves the signature out: sr25519 signatures are randomised, so a device that signs
//! its record again (a retry, or a second service node) would otherwise make another leaf of
//! the same reading, and the service's nodes could not agree on a root.

use crate::{
	envelope::Envelope,
	ids::{DeviceId, Hash, ServiceId},
};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// A value or record locked on its `source` NestChain, to be claimed on `destination`
/// through WebChain. Service nodes put its SCALE encoding in the source's state tree.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct PegLock<AccountId> {
	/// Unique id of the lock on its source chain.
	pub lock_id: Hash,
	/// Where the value is locked.
	pub source: ServiceId,
	/// Where it may be claimed.
	pub destination: ServiceId,
	/// Who owns it on the destination.
	pub beneficiary: AccountId,
	/// What is locked: the hash of the record, or of an amount and asset.
	pub payload: Hash,
}

/// A statement in a source chain's later state that lock `lock_id` was undone (a
/// reorganisation, a revoked record). A claim it contests is cancelled.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct PegRevert {
	/// The lock that no longer holds.
	pub lock_id: Hash,
}

/// The first bytes of every record a NestChain commits to, before its [`RecordKind`]: records
/// of ThingsChain's NestChains cannot be mistaken for another protocol's byte strings.
pub const RECORD_TAG: [u8; 8] = *b"tc/nest/";

/// What a record is. Every record in a NestChain's state tree is typed, a service's own data
/// too, so no record's bytes can pass for a record of another kind: a data record holding the
/// exact bytes of a lock is still a data record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum RecordKind {
	/// The service's own data (an identity, a reading, a document hash), opaque to WebChain.
	#[codec(index = 0)]
	Data,
	/// A [`PegLock`].
	#[codec(index = 1)]
	Lock,
	/// A [`PegRevert`].
	#[codec(index = 2)]
	Revert,
	/// A device's [`NestRecord`].
	#[codec(index = 3)]
	Device,
}

/// The bytes a service node puts in its state tree for `record` of `kind`:
/// [`RECORD_TAG`], the kind, then the record's SCALE encoding.
pub fn record_bytes<R: Encode>(kind: RecordKind, record: &R) -> alloc::vec::Vec<u8> {
	(RECORD_TAG, kind, record).encode()
}

/// The bytes a service node puts in its state tree for its own `data`.
pub fn data_record(data: &[u8]) -> alloc::vec::Vec<u8> {
	record_bytes(RecordKind::Data, &data)
}

/// The domain tag of what a device key signs to write a [`NestRecord`].
pub const NEST_RECORD_TAG: [u8; 16] = *b"tc/nest/record/1";

/// A device's reading for a service's NestChain: its encrypted envelope. The envelope's own
/// `sequence` (authenticated by its encryption) numbers the device's records in the service.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct NestRecord {
	/// The NestChain it is written to.
	pub service: ServiceId,
	/// The device that sealed and signed it.
	pub device: DeviceId,
	/// The reading, sealed for its readers.
	pub envelope: Envelope,
}

impl NestRecord {
	/// The device's number for this record.
	pub fn sequence(&self) -> u64 {
		self.envelope.sequence
	}

	/// The bytes the device key signs, on the chain of `genesis_hash`: [`NEST_RECORD_TAG`],
	/// the genesis hash, then the record (SCALE). The tag's first byte is above every pallet
	/// index, so these bytes never pass for a transaction's signed payload.
	pub fn signing_bytes(&self, genesis_hash: &Hash) -> alloc::vec::Vec<u8> {
		(NEST_RECORD_TAG, genesis_hash, self).encode()
	}

	/// The bytes the NestChain's tree holds for this record (its leaf is their hash).
	pub fn leaf_bytes(&self) -> alloc::vec::Vec<u8> {
		record_bytes(RecordKind::Device, self)
	}
}

/// A [`NestRecord`] with its device key's signature of [`NestRecord::signing_bytes`]: what a
/// device sends a service node. A `MultiSignature`, as the chain takes a device key's proofs
/// (the device SDK signs sr25519).
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct SignedNestRecord {
	/// The record.
	pub record: NestRecord,
	/// The device key's signature.
	pub signature: polkadot_sdk::sp_runtime::MultiSignature,
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::envelope::{Algorithm, Body, ENVELOPE_VERSION};

	#[test]
	fn records_of_different_kinds_never_share_bytes() {
		let lock = PegLock {
			lock_id: Hash::repeat_byte(1),
			source: 0,
			destination: 1,
			beneficiary: [7u8; 32],
			payload: Hash::repeat_byte(2),
		};
		let lock_bytes = record_bytes(RecordKind::Lock, &lock);
		assert!(lock_bytes.starts_with(&RECORD_TAG));
		// A data record that holds the lock's exact bytes is a different record.
		assert_ne!(data_record(&lock_bytes), lock_bytes);
		assert_ne!(data_record(&lock_bytes[RECORD_TAG.len()..]), lock_bytes);
		let revert = record_bytes(RecordKind::Revert, &PegRevert { lock_id: lock.lock_id });
		assert_ne!(revert[RECORD_TAG.len()], lock_bytes[RECORD_TAG.len()]);
	}

	#[test]
	fn a_device_signs_the_tag_the_chain_and_the_record_and_the_leaf_leaves_the_signature_out() {
		let record = NestRecord {
			service: 7,
			device: 9,
			envelope: Envelope {
				version: ENVELOPE_VERSION,
				algorithm: Algorithm::X25519XChaCha20Poly1305,
				ephemeral_key: [1; 32],
				nonce: [2; 24],
				sequence: 3,
				body: Body::Inline(Default::default()),
				recipients: Default::default(),
			},
		};
		assert_eq!(record.sequence(), 3);
		let signed = record.signing_bytes(&Hash::repeat_byte(5));
		assert_eq!(&signed[..16], b"tc/nest/record/1");
		assert_eq!(&signed[16..48], &[5; 32]);
		assert_eq!(&signed[48..52], &7u32.to_le_bytes());
		assert_eq!(&signed[52..60], &9u64.to_le_bytes());
		assert_eq!(&signed[60..], &record.envelope.encode()[..]);
		// Above every pallet index (a signed payload starts with one).
		assert!(signed[0] > 99);

		let leaf = record.leaf_bytes();
		assert_eq!(&leaf[..8], &RECORD_TAG);
		assert_eq!(leaf[8], 3, "RecordKind::Device");
		assert_eq!(&leaf[9..], &record.encode()[..]);
	}
}
