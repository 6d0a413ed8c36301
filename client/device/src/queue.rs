//! Readings kept on the device until it can reach the chain.
//!
//! A device that is often offline queues each reading on its own storage
//! ([`Queue::push`]). [`flush`], once online, seals every queued reading for the readers the
//! owner granted *at that moment* (a reader revoked meanwhile gets nothing new), signs it with
//! a fresh nonce from the node and a short mortality (a transaction that misses its window is
//! dead, not replayed later), submits them all, and removes each reading only once its record
//! is in a block. What fails stays queued, in order, for the next flush; the device keeps no
//! nonce of its own that could go stale while offline.

use crate::{chain::RecordId, Chain, DeviceKeys, Error};
use codec::{Decode, Encode};
use rand_core::OsRng;
use std::path::{Path, PathBuf};
use thingschain_device_core::{seal, Placement};
use thingschain_primitives::envelope::{Payload, ReaderKey};

/// A queued reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
	/// Its place in the queue.
	pub seq: u64,
	/// Stored as plain data, readable by anyone, instead of encrypted.
	pub public: bool,
	/// The reading.
	pub data: Vec<u8>,
}

impl Reading {
	/// The payload to store: sealed for `readers`, or as is when public.
	pub fn payload(&self, readers: &[ReaderKey]) -> Result<Payload, Error> {
		if self.public {
			let data =
				self.data.clone().try_into().map_err(|_| {
					Error::Seal(thingschain_device_core::SealError::TooLargeForInline)
				})?;
			return Ok(Payload::Public(data));
		}
		Ok(Payload::Encrypted(seal(&self.data, readers, Placement::Inline, &mut OsRng)?.envelope))
	}
}

/// A directory of queued readings, one file each, named by sequence number.
pub struct Queue {
	dir: PathBuf,
}

impl Queue {
	/// The queue in `dir`, created if needed.
	pub fn open(dir: &Path) -> Result<Self, Error> {
		std::fs::create_dir_all(dir)?;
		Ok(Self { dir: dir.to_path_buf() })
	}

	/// Queues a reading; returns its sequence number. The file appears whole or not at all.
	pub fn push(&self, data: &[u8], public: bool) -> Result<u64, Error> {
		let seq = self.pending()?.last().map_or(0, |last| last.seq + 1);
		let tmp = self.dir.join(format!("{seq:020}.tmp"));
		std::fs::write(&tmp, (public, data).encode())?;
		std::fs::rename(&tmp, self.path(seq))?;
		Ok(seq)
	}

	/// Every queued reading, oldest first.
	pub fn pending(&self) -> Result<Vec<Reading>, Error> {
		let mut readings = Vec::new();
		for entry in std::fs::read_dir(&self.dir)? {
			let path = entry?.path();
			let Some(seq) = path
				.file_name()
				.and_then(|n| n.to_str())
				.and_then(|n| n.strip_suffix(".reading"))
				.and_then(|n| n.parse().ok())
			else {
				continue;
			};
			let (public, data) = <(bool, Vec<u8>)>::decode(&mut &std::fs::read(&path)?[..])
				.map_err(|e| {
					Error::Io(std::io::Error::new(
						std::io::ErrorKind::InvalidData,
						format!("{}: {e}", path.display()),
					))
				})?;
			readings.push(Reading { seq, public, data });
		}
		readings.sort_by_key(|r| r.seq);
		Ok(readings)
	}

	/// Forgets reading `seq`, once it is on chain.
	pub fn remove(&self, seq: u64) -> Result<(), Error> {
		Ok(std::fs::remove_file(self.path(seq))?)
	}

	fn path(&self, seq: u64) -> PathBuf {
		self.dir.join(format!("{seq:020}.reading"))
	}
}

/// What a flush did.
#[derive(Debug, Default)]
pub struct FlushReport {
	/// The records stored, in queue order.
	pub stored: Vec<RecordId>,
	/// Fees paid for them (by the device's owner).
	pub fees: u128,
	/// Why readings stayed queued, if any did.
	pub errors: Vec<Error>,
	/// Readings still queued.
	pub remaining: usize,
}

/// Sends every queued reading as the device holding `keys`; see the module documentation.
pub async fn flush(chain: &Chain, keys: &DeviceKeys, queue: &Queue) -> Result<FlushReport, Error> {
	let readings = queue.pending()?;
	let mut report = FlushReport::default();
	if readings.is_empty() {
		return Ok(report);
	}
	let device = chain.device_of(&keys.account()).await?.ok_or(Error::NotRegistered)?;
	let readers = chain.readers(device).await?;
	let mut nonce = chain.next_nonce(&keys.account()).await?;
	let mut submitted = Vec::new();
	for reading in readings {
		let sent = async {
			let call = chain.store_call(&reading.payload(&readers)?).await?;
			chain.submit(&call, &keys.signer, nonce).await
		};
		match sent.await {
			Ok(pending) => submitted.push((reading.seq, pending)),
			Err(e) => {
				// Later readings would wait behind the missing nonce: keep them all queued.
				report.errors.push(e);
				break;
			}
		}
		nonce += 1;
	}
	let outcomes = futures::future::join_all(
		submitted.into_iter().map(|(seq, pending)| async move { (seq, pending.included().await) }),
	)
	.await;
	for (seq, outcome) in outcomes {
		match outcome {
			Ok(included) => {
				queue.remove(seq)?;
				report.fees += included.fee();
				if let Some((_, record)) =
					included.event::<(u64, RecordId)>("Payloads", "RecordStored")
				{
					report.stored.push(record);
				}
			}
			Err(e) => report.errors.push(e),
		}
	}
	report.remaining = queue.pending()?.len();
	Ok(report)
}

#[cfg(test)]
mod tests {
	use super::*;
	use thingschain_device_core::{open, ReaderSecret};

	#[test]
	fn readings_are_kept_in_order_until_removed() {
		let dir = tempfile::tempdir().unwrap();
		let queue = Queue::open(dir.path()).unwrap();
		assert_eq!(queue.push(b"21.5", false).unwrap(), 0);
		assert_eq!(queue.push(b"status: ok", true).unwrap(), 1);
		assert_eq!(queue.push(b"21.7", false).unwrap(), 2);
		queue.remove(1).unwrap();
		// Reopened (a device restarting), the queue is as it was left.
		let queue = Queue::open(dir.path()).unwrap();
		let pending = queue.pending().unwrap();
		assert_eq!(pending.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![0, 2]);
		assert_eq!(pending[1], Reading { seq: 2, public: false, data: b"21.7".to_vec() });
		assert_eq!(queue.push(b"21.9", false).unwrap(), 3);
		// A half-written file is not a reading.
		std::fs::write(dir.path().join("00000000000000000009.tmp"), b"").unwrap();
		assert_eq!(queue.pending().unwrap().len(), 3);
	}

	#[test]
	fn readings_are_sealed_for_the_readers_unless_public() {
		let reader = ReaderSecret::generate(&mut OsRng);
		let stranger = ReaderSecret::generate(&mut OsRng);
		let secret = Reading { seq: 0, public: false, data: b"21.5 C".to_vec() };
		let Payload::Encrypted(envelope) = secret.payload(&[reader.public_key()]).unwrap() else {
			panic!("a private reading is encrypted")
		};
		assert_eq!(open(&envelope, None, &reader).unwrap().as_slice(), b"21.5 C");
		assert!(open(&envelope, None, &stranger).is_err());
		assert!(matches!(secret.payload(&[]), Err(Error::Seal(_))));
		let public = Reading { public: true, ..secret };
		assert!(
			matches!(public.payload(&[]), Ok(Payload::Public(data)) if data.as_slice() == b"21.5 C")
		);
	}
}
