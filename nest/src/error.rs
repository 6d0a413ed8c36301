//! Why a record is refused, and why the ledger fails.

use thingschain_device::nest;
use thingschain_primitives::ids::{DeviceId, Epoch, Hash, ServiceId};

/// Why a record was not taken: each with a stable code, which a device can act on (docs/rpc.md,
/// "The service node"). Nothing of a refused record is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
	/// The signed record is longer than the service node takes.
	TooLarge {
		/// Its length, SCALE-encoded.
		size: usize,
		/// The longest taken.
		max: usize,
	},
	/// It is written to another service's NestChain.
	WrongService {
		/// The service it names.
		service: ServiceId,
	},
	/// WebChain has no such device for this service (none at all, or one of another
	/// service or of none).
	UnknownDevice,
	/// The device's owner suspended it.
	DeviceSuspended,
	/// The device asked to join the service, whose owner has not admitted it.
	NotAdmitted,
	/// A peg lock the service's owner does not allow: by this device, or to this destination
	/// (not in the service's policy, missing or suspended).
	LockRefused {
		/// Which.
		reason: &'static str,
	},
	/// The signature is not the device key's over the record on this chain.
	BadSignature,
	/// The envelope breaks a rule WebChain holds device envelopes to.
	InvalidEnvelope {
		/// Which.
		reason: &'static str,
	},
	/// A peg lock or revert that cannot be one.
	InvalidPeg {
		/// Why.
		reason: &'static str,
	},
	/// The device's next record here has sequence `expected`: an earlier one is missing.
	SequenceGap {
		/// The sequence the device's next record must have.
		expected: u64,
	},
	/// A different record of the device has this sequence already.
	SequenceReused {
		/// The sequence.
		sequence: u64,
	},
}

impl Rejection {
	/// Its name in the node's metrics (`thingschain_nest_records_refused_total{reason}`).
	pub fn reason(&self) -> &'static str {
		match self {
			Rejection::TooLarge { .. } => "too_large",
			Rejection::WrongService { .. } => "wrong_service",
			Rejection::UnknownDevice => "unknown_device",
			Rejection::DeviceSuspended => "device_suspended",
			Rejection::NotAdmitted => "not_admitted",
			Rejection::LockRefused { .. } => "lock_refused",
			Rejection::BadSignature => "bad_signature",
			Rejection::InvalidEnvelope { .. } => "invalid_envelope",
			Rejection::InvalidPeg { .. } => "invalid_peg",
			Rejection::SequenceGap { .. } => "sequence_gap",
			Rejection::SequenceReused { .. } => "sequence_reused",
		}
	}

	/// Its stable JSON-RPC error code (those the device SDK acts on are its constants).
	pub fn code(&self) -> i32 {
		match self {
			Rejection::TooLarge { .. } => nest::TOO_LARGE,
			Rejection::WrongService { .. } => 9303,
			Rejection::UnknownDevice => nest::UNKNOWN_DEVICE,
			Rejection::DeviceSuspended => nest::DEVICE_SUSPENDED,
			Rejection::NotAdmitted => nest::NOT_ADMITTED,
			Rejection::LockRefused { .. } => 9315,
			Rejection::BadSignature => 9307,
			Rejection::InvalidEnvelope { .. } => 9308,
			Rejection::InvalidPeg { .. } => 9313,
			Rejection::SequenceGap { .. } => nest::SEQUENCE_GAP,
			Rejection::SequenceReused { .. } => nest::SEQUENCE_REUSED,
		}
	}
}

impl std::fmt::Display for Rejection {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Rejection::TooLarge { size, max } => {
				write!(f, "the signed record is {size} bytes, more than {max}")
			}
			Rejection::WrongService { service } => {
				write!(f, "the record is for service {service}, not this one")
			}
			Rejection::UnknownDevice => {
				f.write_str("no device of this service has this id on WebChain")
			}
			Rejection::DeviceSuspended => f.write_str("the device is suspended"),
			Rejection::NotAdmitted => {
				f.write_str("the service's owner has not admitted the device to the service")
			}
			Rejection::LockRefused { reason } => write!(f, "lock refused: {reason}"),
			Rejection::BadSignature => {
				f.write_str("the signature is not the device key's over this record")
			}
			Rejection::InvalidEnvelope { reason } => write!(f, "invalid envelope: {reason}"),
			Rejection::InvalidPeg { reason } => write!(f, "invalid peg record: {reason}"),
			Rejection::SequenceGap { expected } => {
				write!(f, "the device's next sequence here is {expected}")
			}
			Rejection::SequenceReused { sequence } => {
				write!(f, "the device wrote another record with sequence {sequence}")
			}
		}
	}
}

/// The ledger failed: nothing of the write that failed is kept or acknowledged.
#[derive(Debug)]
pub enum StorageError {
	/// redb failed (the disk, the file).
	Redb(redb::Error),
	/// A stored value does not decode: the database was changed under the node.
	Corrupted { what: &'static str, source: codec::Error },
	/// The ledger's writer thread stopped.
	WriterStopped,
	/// The ledger's tables are laid out as another version of the node writes them.
	Layout {
		/// The layout found.
		found: u32,
		/// The layout this node reads.
		expected: u32,
	},
}

impl std::fmt::Display for StorageError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			StorageError::Redb(e) => write!(f, "the ledger's storage failed: {e}"),
			StorageError::Corrupted { what, source } => {
				write!(f, "the ledger's {what} does not decode: {source}")
			}
			StorageError::WriterStopped => f.write_str("the ledger's writer stopped"),
			StorageError::Layout { found, expected } => write!(
				f,
				"the ledger is laid out as another version of thingschain-nest writes it (layout \
				 {found}; this one reads {expected}): start with a fresh --base-path"
			),
		}
	}
}

impl std::error::Error for StorageError {
	fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
		match self {
			StorageError::Redb(e) => Some(e),
			StorageError::Corrupted { source, .. } => Some(source),
			StorageError::WriterStopped | StorageError::Layout { .. } => None,
		}
	}
}

/// Why a cut did not close the open epoch; nothing was written.
#[derive(Debug)]
pub enum CloseError {
	/// The cut is for another epoch than the open one.
	NotOpen {
		/// The open epoch.
		open: Epoch,
	},
	/// Its devices are not in increasing order, or a device's end is not after its previous
	/// cut.
	Malformed {
		/// The first device out of place.
		device: DeviceId,
	},
	/// This node lacks records the cut holds: it fetches them from its peers first.
	Missing {
		/// The device.
		device: DeviceId,
		/// The device's next sequence here.
		have: u64,
		/// The end the cut names.
		need: u64,
	},
	/// The cut holds fewer peg arrivals than the epochs before it.
	ArrivalsBack {
		/// The arrivals the closed epochs hold.
		settled: u64,
		/// The cut's.
		cut: u64,
	},
	/// This node has not read as many of WebChain's peg arrivals as the cut holds yet.
	MissingArrivals {
		/// The arrivals held here.
		have: u64,
		/// The cut's.
		need: u64,
	},
	/// The cut's tree here does not have the root it was certified with.
	Root {
		/// The certified root.
		certified: Hash,
		/// The root of the tree built here.
		built: Hash,
	},
	/// The ledger failed.
	Storage(StorageError),
}

impl std::fmt::Display for CloseError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			CloseError::NotOpen { open } => write!(f, "the open epoch is {open}"),
			CloseError::Malformed { device } => {
				write!(f, "the cut's end of device {device} is out of order or not after its last")
			}
			CloseError::Missing { device, have, need } => {
				write!(f, "device {device}'s records {have}..{need} are not here")
			}
			CloseError::ArrivalsBack { settled, cut } => {
				write!(f, "the cut holds {cut} peg arrivals, fewer than the {settled} before it")
			}
			CloseError::MissingArrivals { have, need } => write!(
				f,
				"the cut holds {need} peg arrivals; {have} are read from WebChain here so far"
			),
			CloseError::Root { certified, built } => {
				write!(f, "the cut's tree has root {built:?}, not the certified {certified:?}")
			}
			CloseError::Storage(e) => e.fmt(f),
		}
	}
}

impl std::error::Error for CloseError {
	fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
		match self {
			CloseError::Storage(e) => Some(e),
			_ => None,
		}
	}
}

impl From<StorageError> for CloseError {
	fn from(error: StorageError) -> Self {
		CloseError::Storage(error)
	}
}

/// `?` on each of redb's errors gives a [`StorageError`] (or a [`CloseError`] holding one).
macro_rules! from_redb {
	($($error:ty),*) => {$(
		impl From<$error> for StorageError {
			fn from(error: $error) -> Self {
				StorageError::Redb(error.into())
			}
		}

		impl From<$error> for CloseError {
			fn from(error: $error) -> Self {
				CloseError::Storage(error.into())
			}
		}
	)*};
}

from_redb!(
	redb::Error,
	redb::DatabaseError,
	redb::TransactionError,
	redb::TableError,
	redb::StorageError,
	redb::CommitError
);
