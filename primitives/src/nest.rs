//! Records a NestChain commits to in its anchored state, as WebChain checks them.

use crate::ids::{Hash, ServiceId};
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

#[cfg(test)]
mod tests {
	use super::*;

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
}
