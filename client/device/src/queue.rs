//! Readings kept on the device until it can reach the chain.
//!
//! A device that is often offline queues each reading on its own storage
//! ([`Queue::push`]). [`flush`], once online, checks that the device is still bound to the
//! owner its key file pins (else it seals nothing: a key registered by someone else must not
//! leak readings to readers they chose), seals every queued reading for the readers the
//! owner granted *at that moment* (a reader revoked meanwhile gets nothing new) as a record of
//! this device on this chain, numbered by [`batches::sequence`], signs them
//! with the device core (as the device itself would) in `Payloads.store_batch`es
//! ([`crate::batches`]) with fresh nonces from the node and a short mortality (a transaction
//! that misses its window is dead, not replayed later), submits them all, and removes each
//! reading only once its record is in a block. What fails stays queued, in order, for the next
//! flush.
//!
//! A reading sent but not yet seen in a block remembers the nonce it was sent with (noted
//! before it is submitted). The next flush counts it as stored if the chain has used that
//! nonce (only the device signs with its key), and otherwise sends it again *with the same
//! nonce and the same batch*, so at most one of its transactions can ever be included: a lost
//! connection or a crash never stores a reading twice.

use crate::{
	batches::{self, Batch},
	chain::DeviceSigning,
	Chain, DeviceKeys, Error,
};
use codec::{Decode, Encode};
use rand_core::OsRng;
use std::path::{Path, PathBuf};
use subxt::utils::H256;
use thingschain_device_core::{seal, signing::transaction_hash, Placement};
use thingschain_primitives::{
	envelope::{Payload, Provenance, ReaderKey},
	ids::DeviceId,
	nest::SignedNestRecord,
};

/// A queued reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
	/// Its place in the queue.
	pub seq: u64,
	/// Stored as plain data, readable by anyone, instead of encrypted.
	pub public: bool,
	/// The reading.
	pub data: Vec<u8>,
	/// How it was last sent to WebChain, if it was.
	pub sent: Option<Sent>,
	/// The record it was sealed and signed as for a service node, if it was: it goes to a
	/// service node only, and always as this same record ([`crate::nest::flush`]).
	pub for_service: Option<SignedNestRecord>,
}

/// How a reading was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Sent {
	/// The nonce its transaction used.
	pub nonce: u64,
	/// That transaction's hash.
	pub hash: [u8; 32],
}

impl Reading {
	/// The payload to store: sealed for `readers` as the `sequence`-th record of the device
	/// and chain of `provenance`, or as is when public.
	pub fn payload(
		&self,
		readers: &[ReaderKey],
		provenance: &Provenance,
		sequence: u64,
	) -> Result<Payload, Error> {
		if self.public {
			let data =
				self.data.clone().try_into().map_err(|_| {
					Error::Seal(thingschain_device_core::SealError::TooLargeForInline)
				})?;
			return Ok(Payload::Public(data));
		}
		let sealed =
			seal(&self.data, readers, Placement::Inline, provenance, sequence, &mut OsRng)?;
		Ok(Payload::Encrypted(sealed.envelope))
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
				.map_err(|e| invalid(&path, e))?;
			let sent = read_optional(&self.sent_path(seq))?;
			let for_service = read_optional(&self.sealed_path(seq))?;
			readings.push(Reading { seq, public, data, sent, for_service });
		}
		readings.sort_by_key(|r| r.seq);
		Ok(readings)
	}

	/// Notes that reading `seq` was sent as `sent`, before waiting for it.
	pub fn mark_sent(&self, seq: u64, sent: Sent) -> Result<(), Error> {
		let tmp = self.dir.join(format!("{seq:020}.sent.tmp"));
		std::fs::write(&tmp, sent.encode())?;
		Ok(std::fs::rename(&tmp, self.sent_path(seq))?)
	}

	/// Forgets how reading `seq` was sent: its transaction failed in its block, so its nonce
	/// says nothing about the reading.
	pub fn clear_sent(&self, seq: u64) -> Result<(), Error> {
		remove_if_there(&self.sent_path(seq))
	}

	/// Notes that reading `seq` is sealed and signed as `record` for a service node, before it
	/// is sent: a retry sends this same record.
	pub fn mark_sealed(&self, seq: u64, record: &SignedNestRecord) -> Result<(), Error> {
		let tmp = self.dir.join(format!("{seq:020}.nest.tmp"));
		std::fs::write(&tmp, record.encode())?;
		Ok(std::fs::rename(&tmp, self.sealed_path(seq))?)
	}

	/// Forgets the record reading `seq` was sealed as: the service node refused it for its
	/// sequence, so it was never stored and the reading is sealed again.
	pub fn clear_sealed(&self, seq: u64) -> Result<(), Error> {
		remove_if_there(&self.sealed_path(seq))
	}

	/// Forgets reading `seq`, once it is on chain or stored by a service node.
	pub fn remove(&self, seq: u64) -> Result<(), Error> {
		self.clear_sent(seq)?;
		self.clear_sealed(seq)?;
		Ok(std::fs::remove_file(self.path(seq))?)
	}

	fn path(&self, seq: u64) -> PathBuf {
		self.dir.join(format!("{seq:020}.reading"))
	}

	fn sent_path(&self, seq: u64) -> PathBuf {
		self.dir.join(format!("{seq:020}.sent"))
	}

	fn sealed_path(&self, seq: u64) -> PathBuf {
		self.dir.join(format!("{seq:020}.nest"))
	}
}

/// The value in the file at `path`, if there is one.
fn read_optional<T: Decode>(path: &Path) -> Result<Option<T>, Error> {
	match std::fs::read(path) {
		Ok(bytes) => Ok(Some(T::decode(&mut &bytes[..]).map_err(|e| invalid(path, e))?)),
		Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
		Err(e) => Err(e.into()),
	}
}

/// Removes the file at `path`, if there is one.
fn remove_if_there(path: &Path) -> Result<(), Error> {
	match std::fs::remove_file(path) {
		Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
		_ => Ok(()),
	}
}

fn invalid(path: &Path, e: codec::Error) -> Error {
	Error::Io(std::io::Error::new(
		std::io::ErrorKind::InvalidData,
		format!("{}: {e}", path.display()),
	))
}

/// What a flush did.
#[derive(Debug, Default)]
pub struct FlushReport {
	/// Readings now on chain.
	pub stored: usize,
	/// Fees paid for those seen in blocks during this flush (by the device's owner).
	pub fees: u128,
	/// Why readings stayed queued, if any did.
	pub errors: Vec<Error>,
	/// Readings still queued.
	pub remaining: usize,
}

/// Sends every queued reading as the device holding `keys`, except those sealed for a
/// service node; see the module documentation.
pub async fn flush(chain: &Chain, keys: &DeviceKeys, queue: &Queue) -> Result<FlushReport, Error> {
	let mut readings = queue.pending()?;
	readings.retain(|reading| reading.for_service.is_none());
	let mut report = FlushReport::default();
	if readings.is_empty() {
		report.remaining = queue.pending()?.len();
		return Ok(report);
	}
	let account = keys.account();
	let device = bound_device(chain, keys).await?;
	let readers = chain.readers(device).await?;
	let signing = chain.device_signing().await?;
	let provenance = Provenance { genesis_hash: signing.context.genesis_hash.into(), device };
	let size = chain.batch_size(device).await?;
	let after = chain.best_number().await?;
	let used = chain.account_nonce(&account).await?;
	let next = chain.next_nonce(&account).await?;
	let plan = batches::plan(readings, used, next, size);
	for seq in plan.stored {
		queue.remove(seq)?;
		report.stored += 1;
	}
	let mut waiting = Vec::new();
	for batch in plan.batches {
		match send(chain, &signing, keys, queue, (&readers, &provenance), &batch).await {
			Ok(hashes) => waiting.push((batch, hashes)),
			Err(e) => {
				// Later batches would wait behind the missing nonce: keep them all queued.
				report.errors.push(e);
				break;
			}
		}
	}
	let all: Vec<H256> = waiting.iter().flat_map(|(_, hashes)| hashes.iter().copied()).collect();
	let mut receipts = chain.receipts(after, &all).await?;
	for (batch, hashes) in waiting {
		match hashes.iter().find_map(|hash| receipts.remove(hash)) {
			Some(Ok(included)) => {
				for reading in &batch.readings {
					queue.remove(reading.seq)?;
				}
				report.stored += batch.readings.len();
				report.fees += included.fee();
			}
			Some(Err(e)) => {
				for reading in &batch.readings {
					queue.clear_sent(reading.seq)?;
				}
				report.errors.push(e);
			}
			None => report.errors.push(Error::Timeout),
		}
	}
	report.remaining = queue.pending()?.len();
	Ok(report)
}

/// The device `keys` sign for, once checked to be bound to the owner the key file pins: a
/// device bound to anyone else seals nothing for readers they chose.
pub async fn bound_device(chain: &Chain, keys: &DeviceKeys) -> Result<DeviceId, Error> {
	let device = chain.device_of(&keys.account()).await?.ok_or(Error::NotRegistered)?;
	let owner = chain.owner_of(device).await?.ok_or(Error::NotRegistered)?;
	if keys.owner.as_ref() != Some(&owner) {
		let pinned = keys.owner.as_ref().map(ToString::to_string);
		return Err(Error::OwnerMismatch { pinned, found: owner.to_string() });
	}
	Ok(device)
}

/// Seals `batch`'s readings for `readers` as records of `provenance`, signs them in one
/// transaction and submits it; returns the hashes to wait for. Each reading is noted as sent
/// before the submission, so a crash right after it still leaves the nonce known.
async fn send(
	chain: &Chain,
	signing: &DeviceSigning,
	keys: &DeviceKeys,
	queue: &Queue,
	(readers, provenance): (&[ReaderKey], &Provenance),
	batch: &Batch,
) -> Result<Vec<H256>, Error> {
	let payloads = (0..)
		.zip(&batch.readings)
		.map(|(i, r)| r.payload(readers, provenance, batches::sequence(batch.nonce, i)))
		.collect::<Result<Vec<_>, _>>()?;
	let transaction = match payloads.as_slice() {
		[payload] => signing.sign_store(payload, &keys.signer, batch.nonce)?,
		_ => signing.sign_store_batch(&payloads, &keys.signer, batch.nonce)?,
	};
	let sent = Sent { nonce: batch.nonce, hash: transaction_hash(&transaction) };
	for reading in &batch.readings {
		queue.mark_sent(reading.seq, sent)?;
	}
	let mut hashes = batch.sent_as.clone();
	match chain.submit_signed(&transaction).await {
		// Waited for by the hash the device computed (a node that hashed differently would
		// never report it included).
		Ok(_) => hashes.push(H256(sent.hash)),
		// Still in the pool under an earlier hash: wait for that one.
		Err(_) if !hashes.is_empty() => {}
		// Refused, so never sent: the readings go in a new batch next time.
		Err(e @ Error::Rejected(_)) => {
			for reading in &batch.readings {
				queue.clear_sent(reading.seq)?;
			}
			return Err(e);
		}
		// Perhaps sent: next time the same readings go again with the same nonce.
		Err(e) => return Err(e),
	}
	Ok(hashes)
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
		assert_eq!(
			pending[1],
			Reading {
				seq: 2,
				public: false,
				data: b"21.7".to_vec(),
				sent: None,
				for_service: None
			}
		);
		// How a reading was sent survives a restart, until it is forgotten.
		let sent = Sent { nonce: 7, hash: [1; 32] };
		queue.mark_sent(2, sent).unwrap();
		assert_eq!(Queue::open(dir.path()).unwrap().pending().unwrap()[1].sent, Some(sent));
		queue.clear_sent(2).unwrap();
		assert_eq!(queue.pending().unwrap()[1].sent, None);
		queue.mark_sent(2, sent).unwrap();
		assert_eq!(queue.push(b"21.9", false).unwrap(), 3);
		// A half-written file is not a reading.
		std::fs::write(dir.path().join("00000000000000000009.tmp"), b"").unwrap();
		assert_eq!(queue.pending().unwrap().len(), 3);
		// Removing a reading removes how it was sent too.
		queue.remove(2).unwrap();
		assert!(!dir.path().join("00000000000000000002.sent").exists());
		assert_eq!(queue.pending().unwrap().len(), 2);
	}

	#[test]
	fn readings_are_sealed_for_the_readers_unless_public() {
		let reader = ReaderSecret::generate(&mut OsRng);
		let stranger = ReaderSecret::generate(&mut OsRng);
		let secret = Reading {
			seq: 0,
			public: false,
			data: b"21.5 C".to_vec(),
			sent: None,
			for_service: None,
		};
		let here = Provenance { genesis_hash: [7; 32].into(), device: 3 };
		let Payload::Encrypted(envelope) =
			secret.payload(&[reader.public_key()], &here, 5).unwrap()
		else {
			panic!("a private reading is encrypted")
		};
		assert_eq!(envelope.sequence, 5);
		assert_eq!(open(&envelope, &here, None, &reader).unwrap().as_slice(), b"21.5 C");
		assert!(open(&envelope, &here, None, &stranger).is_err());
		assert!(matches!(secret.payload(&[], &here, 6), Err(Error::Seal(_))));
		let public = Reading { public: true, ..secret };
		assert!(
			matches!(public.payload(&[], &here, 7), Ok(Payload::Public(data)) if data.as_slice() == b"21.5 C")
		);
	}
}
