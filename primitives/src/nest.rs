//! Records a NestChain commits to in its anchored state, as WebChain checks them, and what a
//! device signs to write one.
//!
//! ```text
//!  device signs   "tc/nest/record/1" ‖ genesis hash ‖ NestRecord { service, device, body }   (SCALE; sr25519 or ed25519)
//!  leaf bytes     "tc/nest/" ‖ RecordKind::Device ‖ NestRecord                               a reading (no signature)
//!                 "tc/nest/" ‖ RecordKind::Lock ‖ PegLock                                   a lock (its id: its place)
//!                 "tc/nest/" ‖ RecordKind::Revert ‖ PegRevert                               a revert of the device's lock
//!                 "tc/nest/" ‖ RecordKind::Arrival ‖ PegArrival                             a claim WebChain settled here
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
use polkadot_sdk::sp_runtime::AccountId32;
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

/// A claim WebChain settled as final, as its destination's NestChain records it: the
/// destination's `index`-th arrival (WebChain numbers them, so every node of the destination
/// appends them in one order).
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct PegArrival<AccountId> {
	/// Its place among the destination's arrivals (0, 1, …).
	pub index: u64,
	/// The lock, as claimed.
	pub lock: PegLock<AccountId>,
	/// Who holds the value when it arrives (the lock's beneficiary, or whom it was
	/// transferred to on WebChain).
	pub holder: AccountId,
}

impl<AccountId: Encode> PegArrival<AccountId> {
	/// The bytes the destination's tree holds for this arrival (its leaf is their hash).
	pub fn leaf_bytes(&self) -> alloc::vec::Vec<u8> {
		record_bytes(RecordKind::Arrival, self)
	}
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
	/// A [`PegArrival`].
	#[codec(index = 4)]
	Arrival,
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

/// A record a device writes to a service's NestChain: a reading, or a peg lock or revert of
/// a value it holds. Every one takes the device's next sequence in the service, so a device's
/// records are one gapless stream whatever their kind.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct NestRecord {
	/// The NestChain it is written to.
	pub service: ServiceId,
	/// The device that signed it.
	pub device: DeviceId,
	/// What it says.
	pub body: NestBody,
}

/// What a device's [`NestRecord`] says.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum NestBody {
	/// A reading, sealed for its readers. The envelope's own `sequence` (authenticated by its
	/// encryption) is the record's.
	#[codec(index = 0)]
	Reading(Envelope),
	/// Locks a value for `beneficiary` on the `destination` NestChain: the [`PegLock`] of
	/// [`NestRecord::peg_lock`], whose id is its place in the device's stream.
	#[codec(index = 1)]
	Lock {
		/// The record's sequence.
		sequence: u64,
		/// Where the value may be claimed.
		destination: ServiceId,
		/// Who owns it there.
		beneficiary: AccountId32,
		/// What is locked: the hash of the record, or of an amount and asset.
		payload: Hash,
	},
	/// Undoes the device's own lock written at `lock_sequence`: its claim on WebChain is void
	/// if this revert is anchored within the claim's window.
	#[codec(index = 2)]
	Revert {
		/// The record's sequence.
		sequence: u64,
		/// The sequence of the lock it undoes.
		lock_sequence: u64,
	},
}

/// The domain tag of a lock's id.
pub const LOCK_ID_TAG: [u8; 14] = *b"tc/nest/lock/1";

/// The id of the lock `device` writes at `sequence` in `service`: the hash of the place, so
/// ids never repeat in a service, and a revert can only name its own device's locks.
pub fn lock_id(service: ServiceId, device: DeviceId, sequence: u64) -> Hash {
	polkadot_sdk::sp_crypto_hashing::blake2_256(&(LOCK_ID_TAG, service, device, sequence).encode())
		.into()
}

impl NestRecord {
	/// The device's number for this record.
	pub fn sequence(&self) -> u64 {
		match &self.body {
			NestBody::Reading(envelope) => envelope.sequence,
			NestBody::Lock { sequence, .. } | NestBody::Revert { sequence, .. } => *sequence,
		}
	}

	/// The bytes the device key signs, on the chain of `genesis_hash`: [`NEST_RECORD_TAG`],
	/// the genesis hash, then the record (SCALE). The tag's first byte is above every pallet
	/// index, so these bytes never pass for a transaction's signed payload.
	pub fn signing_bytes(&self, genesis_hash: &Hash) -> alloc::vec::Vec<u8> {
		(NEST_RECORD_TAG, genesis_hash, self).encode()
	}

	/// The lock this record writes, if it is one.
	pub fn peg_lock(&self) -> Option<PegLock<AccountId32>> {
		match &self.body {
			NestBody::Lock { sequence, destination, beneficiary, payload } => Some(PegLock {
				lock_id: lock_id(self.service, self.device, *sequence),
				source: self.service,
				destination: *destination,
				beneficiary: beneficiary.clone(),
				payload: *payload,
			}),
			_ => None,
		}
	}

	/// The revert this record writes, if it is one.
	pub fn peg_revert(&self) -> Option<PegRevert> {
		match &self.body {
			NestBody::Revert { lock_sequence, .. } => {
				Some(PegRevert { lock_id: lock_id(self.service, self.device, *lock_sequence) })
			}
			_ => None,
		}
	}

	/// The bytes the NestChain's tree holds for this record (its leaf is their hash): a
	/// reading as the device's record, a lock and a revert as the very records the peg pallet
	/// proves.
	pub fn leaf_bytes(&self) -> alloc::vec::Vec<u8> {
		if let Some(lock) = self.peg_lock() {
			record_bytes(RecordKind::Lock, &lock)
		} else if let Some(revert) = self.peg_revert() {
			record_bytes(RecordKind::Revert, &revert)
		} else {
			record_bytes(RecordKind::Device, self)
		}
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
			body: NestBody::Reading(Envelope {
				version: ENVELOPE_VERSION,
				algorithm: Algorithm::X25519XChaCha20Poly1305,
				ephemeral_key: [1; 32],
				nonce: [2; 24],
				sequence: 3,
				body: Body::Inline(Default::default()),
				recipients: Default::default(),
			}),
		};
		assert_eq!(record.sequence(), 3);
		let signed = record.signing_bytes(&Hash::repeat_byte(5));
		assert_eq!(&signed[..16], b"tc/nest/record/1");
		assert_eq!(&signed[16..48], &[5; 32]);
		assert_eq!(&signed[48..52], &7u32.to_le_bytes());
		assert_eq!(&signed[52..60], &9u64.to_le_bytes());
		assert_eq!(signed[60], 0, "NestBody::Reading");
		assert_eq!(&signed[61..], &record.body.encode()[1..]);
		// Above every pallet index (a signed payload starts with one).
		assert!(signed[0] > 99);

		let leaf = record.leaf_bytes();
		assert_eq!(&leaf[..8], &RECORD_TAG);
		assert_eq!(leaf[8], 3, "RecordKind::Device");
		assert_eq!(&leaf[9..], &record.encode()[..]);
	}

	#[test]
	fn a_lock_and_its_revert_are_the_records_the_peg_proves_and_name_their_place() {
		let lock_record = NestRecord {
			service: 7,
			device: 9,
			body: NestBody::Lock {
				sequence: 4,
				destination: 8,
				beneficiary: AccountId32::new([3; 32]),
				payload: Hash::repeat_byte(6),
			},
		};
		let lock = lock_record.peg_lock().expect("a lock");
		assert_eq!((lock.source, lock.destination, lock.lock_id), (7, 8, lock_id(7, 9, 4)));
		assert_eq!(lock_record.sequence(), 4);
		assert_eq!(lock_record.leaf_bytes(), record_bytes(RecordKind::Lock, &lock));
		assert_eq!(lock_record.peg_revert(), None);

		let revert_record =
			NestRecord { body: NestBody::Revert { sequence: 5, lock_sequence: 4 }, ..lock_record };
		assert_eq!(revert_record.sequence(), 5);
		assert_eq!(
			revert_record.leaf_bytes(),
			record_bytes(RecordKind::Revert, &PegRevert { lock_id: lock.lock_id })
		);
		// Ids are places: another device, service or sequence locks under another id.
		let others = [lock_id(7, 10, 4), lock_id(8, 9, 4), lock_id(7, 9, 5)];
		assert!(others.iter().all(|other| *other != lock.lock_id));
	}
}
