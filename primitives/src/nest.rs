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

/// Tags that keep the different kinds of records from being mistaken for each other when
/// they are hashed into the same tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum RecordKind {
	/// A [`PegLock`].
	Lock,
	/// A [`PegRevert`].
	Revert,
}

/// The bytes a service node puts in its state tree for `record` of `kind`.
pub fn record_bytes<R: Encode>(kind: RecordKind, record: &R) -> alloc::vec::Vec<u8> {
	(kind, record).encode()
}
