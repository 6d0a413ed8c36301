//! What can go wrong, and whether trying again later may help.

use thingschain_device_core::SealError;

/// An SDK error.
#[derive(Debug)]
pub enum Error {
	/// The node cannot be reached (the device may be offline): try again later.
	Offline(String),
	/// The node answered with an error, or the connection broke mid-way.
	Rpc(String),
	/// The chain refused a transaction (invalid, or its dispatch failed), with the reason.
	Rejected(String),
	/// A transaction was not included in time.
	Timeout,
	/// The chain's metadata lacks something this SDK uses: wrong chain or runtime.
	Metadata(String),
	/// The signing key is not a registered device's.
	NotRegistered,
	/// The device is bound to another owner than the one its key file pins (or pins none):
	/// nothing is sealed for readers that owner chose.
	OwnerMismatch { pinned: Option<String>, found: String },
	/// A key file or key is malformed.
	Keys(String),
	/// The data cannot be sealed.
	Seal(SealError),
	/// Reading or writing local files failed.
	Io(std::io::Error),
}

impl Error {
	/// Whether the same request may succeed later (the node may become reachable, the
	/// transaction may fit a later block).
	pub fn is_transient(&self) -> bool {
		matches!(self, Error::Offline(_) | Error::Rpc(_) | Error::Timeout)
	}
}

impl std::fmt::Display for Error {
	fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
		match self {
			Error::Offline(e) => write!(f, "the node cannot be reached: {e}"),
			Error::Rpc(e) => write!(f, "node error: {e}"),
			Error::Rejected(e) => write!(f, "the chain refused the transaction: {e}"),
			Error::Timeout => f.write_str("the transaction was not included in time"),
			Error::Metadata(e) => write!(f, "unexpected chain metadata: {e}"),
			Error::NotRegistered => f.write_str("this key is not a registered, active device's"),
			Error::OwnerMismatch { pinned: Some(pinned), found } => write!(
				f,
				"the device is registered by {found}, not by {pinned}, the owner its key file trusts"
			),
			Error::OwnerMismatch { pinned: None, found } => write!(
				f,
				"the device is registered by {found}, but its key file trusts no owner: register it with this key file"
			),
			Error::Keys(e) => write!(f, "bad key: {e}"),
			Error::Seal(e) => write!(f, "cannot seal: {e}"),
			Error::Io(e) => write!(f, "{e}"),
		}
	}
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
	fn from(e: std::io::Error) -> Self {
		Error::Io(e)
	}
}

impl From<SealError> for Error {
	fn from(e: SealError) -> Self {
		Error::Seal(e)
	}
}

/// Turns any displayable error into [`Error::Rpc`].
pub fn rpc(e: impl std::fmt::Display) -> Error {
	Error::Rpc(e.to_string())
}
