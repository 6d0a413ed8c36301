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
use codec::{Decode, DecodeAll, Encode};
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
	/// What a service node made of it, if one did ([`crate::nest::flush`]).
	pub for_service: Option<ServiceRoute>,
}

/// Where a reading goes once a flush to a service node took it, kept beside it in the queue.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum ServiceRoute {
	/// Sealed and signed as this record for a service node: it goes to a service node only,
	/// and always as this same record (boxed: the other routes are empty).
	Sealed(Box<SignedNestRecord>),
	/// Refused by the service node in a way a fresh seal may mend (its sequence, its readers,
	/// its key, its service): sealed again for a service node at the next flush.
	Reseal,
	/// Refused by the service node for good (too large for it): it goes to WebChain.
	WebChain,
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
	/// Whether it goes to a service node: private, never sent to WebChain, and not refused by
	/// a service node for good.
	pub fn for_service_node(&self) -> bool {
		!self.public && self.sent.is_none() && self.for_service != Some(ServiceRoute::WebChain)
	}

	/// Whether it goes to WebChain: public, sent there already, or refused by a service node
	/// for good; with `fallback` (no service node is used, or none could be reached), also a
	/// private reading no service node took yet.
	pub fn for_webchain(&self, fallback: bool) -> bool {
		match self.for_service {
			Some(ServiceRoute::WebChain) => true,
			Some(_) => false,
			None => self.public || self.sent.is_some() || fallback,
		}
	}

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
		// Numbers start again once the queue is empty: no note of an earlier reading may
		// stay with this one (a crash in `remove`).
		remove_if_there(&self.sent_path(seq))?;
		remove_if_there(&self.route_path(seq))?;
		self.write_durably(&self.path(seq), &(public, data).encode())?;
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
			let for_service = read_route(&self.route_path(seq))?;
			readings.push(Reading { seq, public, data, sent, for_service });
		}
		readings.sort_by_key(|r| r.seq);
		Ok(readings)
	}

	/// Notes that reading `seq` was sent as `sent`, before waiting for it.
	pub fn mark_sent(&self, seq: u64, sent: Sent) -> Result<(), Error> {
		self.write_durably(&self.sent_path(seq), &sent.encode())
	}

	/// Forgets how reading `seq` was sent: its transaction failed in its block, so its nonce
	/// says nothing about the reading.
	pub fn clear_sent(&self, seq: u64) -> Result<(), Error> {
		remove_if_there(&self.sent_path(seq))
	}

	/// Notes where reading `seq` goes after a service node took it; a sealed record is noted
	/// (on disk, synced) before it is sent, so a retry sends this same record.
	pub fn set_route(&self, seq: u64, route: &ServiceRoute) -> Result<(), Error> {
		self.write_durably(&self.route_path(seq), &route.encode())
	}

	/// Forgets reading `seq`, once it is on chain or stored by a service node: the reading
	/// first, so a crash leaves notes of no reading (which `push` clears), never a reading
	/// without its notes (which would be sent again).
	pub fn remove(&self, seq: u64) -> Result<(), Error> {
		std::fs::remove_file(self.path(seq))?;
		self.clear_sent(seq)?;
		remove_if_there(&self.route_path(seq))
	}

	/// Writes `bytes` to `path` whole or not at all, and durably: a temporary file synced,
	/// renamed, and the directory synced.
	fn write_durably(&self, path: &Path, bytes: &[u8]) -> Result<(), Error> {
		let mut tmp = path.as_os_str().to_owned();
		tmp.push(".tmp");
		let mut file = std::fs::File::create(&tmp)?;
		std::io::Write::write_all(&mut file, bytes)?;
		file.sync_all()?;
		std::fs::rename(&tmp, path)?;
		std::fs::File::open(&self.dir)?.sync_all()?;
		Ok(())
	}

	fn path(&self, seq: u64) -> PathBuf {
		self.dir.join(format!("{seq:020}.reading"))
	}

	fn sent_path(&self, seq: u64) -> PathBuf {
		self.dir.join(format!("{seq:020}.sent"))
	}

	fn route_path(&self, seq: u64) -> PathBuf {
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

/// The route noted at `path`, if there is one. A note of another version of the SDK's record
/// layout (it does not decode whole) is read as [`ServiceRoute::Reseal`]: the reading is
/// sealed afresh, rather than the whole queue refused.
fn read_route(path: &Path) -> Result<Option<ServiceRoute>, Error> {
	match std::fs::read(path) {
		Ok(bytes) => {
			Ok(Some(ServiceRoute::decode_all(&mut &bytes[..]).unwrap_or(ServiceRoute::Reseal)))
		}
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

/// Sends every queued reading as the device holding `keys`, except those a service node took;
/// see the module documentation.
pub async fn flush(chain: &Chain, keys: &DeviceKeys, queue: &Queue) -> Result<FlushReport, Error> {
	flush_selected(chain, keys, queue, true).await
}

/// [`flush`] beside a flush to a service node that could be reached: only the readings that
/// go to WebChain whatever the service node does (public, sent there already, refused by the
/// service node for good).
pub async fn flush_beside_service_node(
	chain: &Chain,
	keys: &DeviceKeys,
	queue: &Queue,
) -> Result<FlushReport, Error> {
	flush_selected(chain, keys, queue, false).await
}

/// Sends the queued readings for WebChain ([`Reading::for_webchain`] with `fallback`).
async fn flush_selected(
	chain: &Chain,
	keys: &DeviceKeys,
	queue: &Queue,
	fallback: bool,
) -> Result<FlushReport, Error> {
	let mut readings = queue.pending()?;
	readings.retain(|reading| reading.for_webchain(fallback));
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
	fn a_reading_goes_one_way_only() {
		let reading = |public, sent, for_service| Reading {
			seq: 0,
			public,
			data: Vec::new(),
			sent,
			for_service,
		};
		// A new private reading: to a service node, or to WebChain as the fallback only.
		let new = reading(false, None, None);
		assert!(new.for_service_node() && new.for_webchain(true) && !new.for_webchain(false));
		// Public, or sent to WebChain once: WebChain only.
		let public = reading(true, None, None);
		let sent = reading(false, Some(Sent { nonce: 1, hash: [1; 32] }), None);
		for reading in [public, sent] {
			assert!(!reading.for_service_node() && reading.for_webchain(false));
		}
		// Taken by a service node (sealed, or refused there and to seal again): never WebChain,
		// not even as the fallback.
		let taken = reading(false, None, Some(ServiceRoute::Reseal));
		assert!(taken.for_service_node() && !taken.for_webchain(true));
		// Refused by a service node for good: WebChain.
		let too_large = reading(false, None, Some(ServiceRoute::WebChain));
		assert!(!too_large.for_service_node() && too_large.for_webchain(false));
	}

	#[test]
	fn a_removed_readings_notes_never_pass_to_a_new_one() {
		let dir = tempfile::tempdir().unwrap();
		let queue = Queue::open(dir.path()).unwrap();
		assert_eq!(queue.push(b"21.5", false).unwrap(), 0);
		queue.set_route(0, &ServiceRoute::Reseal).unwrap();
		queue.mark_sent(0, Sent { nonce: 3, hash: [2; 32] }).unwrap();
		// A crash in `remove` after the reading went: its notes stay behind, unread.
		std::fs::remove_file(dir.path().join("00000000000000000000.reading")).unwrap();
		assert!(queue.pending().unwrap().is_empty());
		// The next reading takes number 0 again, without them.
		assert_eq!(queue.push(b"21.6", false).unwrap(), 0);
		let pending = queue.pending().unwrap();
		assert_eq!((pending[0].sent, pending[0].for_service.clone()), (None, None));
	}

	#[test]
	fn a_route_noted_by_another_record_layout_reseals_its_reading() {
		let dir = tempfile::tempdir().unwrap();
		let queue = Queue::open(dir.path()).unwrap();
		assert_eq!(queue.push(b"21.5", false).unwrap(), 0);
		// A `Sealed` note (tag 0) whose record does not decode as this SDK's.
		std::fs::write(dir.path().join("00000000000000000000.nest"), [0, 1, 2, 3]).unwrap();
		let pending = queue.pending().unwrap();
		assert_eq!(pending[0].for_service, Some(ServiceRoute::Reseal));
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
