//! The checks a record passes before it reaches the ledger: every check that needs no ledger
//! state. sr25519 signatures, nearly all of a device fleet's, are verified in batches (one
//! multi-scalar multiplication for many), split over every core.

use crate::{
	devices::{Admission, DeviceEntry, Registry, Terms},
	error::Rejection,
};
use codec::Encode;
use polkadot_sdk::sp_runtime::{traits::Verify, AccountId32, MultiSignature};
use rayon::prelude::*;
use thingschain_primitives::{
	envelope::{Body, Envelope, ENVELOPE_VERSION},
	ids::{Hash, ServiceId},
	merkle::leaf_hash,
	nest::{NestBody, NestRecord, SignedNestRecord},
};

/// Substrate's sr25519 signing context, which device keys sign with.
const SIGNING_CONTEXT: &[u8] = b"substrate";

/// Below this many records a batch is checked on one core: a thread costs more.
const MIN_RECORDS_PER_THREAD: usize = 32;

/// What a record must satisfy here.
#[derive(Clone, Debug)]
pub struct Rules {
	/// This node's service.
	pub service: ServiceId,
	/// WebChain's genesis hash: a record is signed for one chain.
	pub genesis_hash: Hash,
	/// The longest signed record taken, in bytes (SCALE).
	pub max_record_bytes: usize,
	/// The most recipients an envelope may name (WebChain's `Payloads::MaxReaders`).
	pub max_readers: usize,
}

/// A record that passed every check that needs no ledger state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
	/// The record.
	pub record: NestRecord,
	/// Its device key's signature.
	pub signature: MultiSignature,
	/// Its leaf hash in the epoch's tree.
	pub leaf: Hash,
	/// What it was checked against: none for a record taken on a quorum's word (a final
	/// proposal names it).
	pub terms: Option<Terms>,
}

impl Checked {
	/// `signed`, unchecked: a record a final proposal names by its leaf, which a quorum of the
	/// service's nodes checked at the proposal's block.
	pub fn ordered(signed: SignedNestRecord) -> Checked {
		let SignedNestRecord { record, signature } = signed;
		let leaf = leaf_hash(&record.leaf_bytes());
		Checked { record, signature, leaf, terms: None }
	}
}

/// Checks `records` against `registry`: one outcome each, in order.
pub fn check(
	rules: &Rules,
	registry: &Registry,
	records: Vec<SignedNestRecord>,
) -> Vec<Result<Checked, Rejection>> {
	let per_thread =
		records.len().div_ceil(rayon::current_num_threads()).max(MIN_RECORDS_PER_THREAD);
	if records.len() <= per_thread {
		return check_on_this_thread(rules, registry, records);
	}
	let mut parts = Vec::new();
	let mut rest = records;
	while rest.len() > per_thread {
		let tail = rest.split_off(per_thread);
		parts.push(std::mem::replace(&mut rest, tail));
	}
	parts.push(rest);
	// rayon's pool, one thread a core, however many calls check at once; in order.
	let checked: Vec<Vec<_>> =
		parts.into_par_iter().map(|part| check_on_this_thread(rules, registry, part)).collect();
	checked.into_iter().flatten().collect()
}

/// [`check`] on the calling thread.
fn check_on_this_thread(
	rules: &Rules,
	registry: &Registry,
	records: Vec<SignedNestRecord>,
) -> Vec<Result<Checked, Rejection>> {
	let mut outcomes: Vec<Result<(SignedNestRecord, Terms), Rejection>> = records
		.into_iter()
		.map(|signed| {
			let terms = check_record(rules, registry, &signed)?;
			Ok((signed, terms))
		})
		.collect();
	check_signatures(&rules.genesis_hash, &mut outcomes);
	outcomes
		.into_iter()
		.map(|outcome| {
			let (SignedNestRecord { record, signature }, terms) = outcome?;
			let leaf = leaf_hash(&record.leaf_bytes());
			Ok(Checked { record, signature, leaf, terms: Some(terms) })
		})
		.collect()
}

/// Everything but the signature: size, service, device, and a reading's envelope or a peg
/// record's own rules. Whether a revert names one of the device's locks needs its earlier
/// records: the ledger checks it when it stores the revert.
fn check_record(
	rules: &Rules,
	registry: &Registry,
	signed: &SignedNestRecord,
) -> Result<Terms, Rejection> {
	let size = signed.encoded_size();
	if size > rules.max_record_bytes {
		return Err(Rejection::TooLarge { size, max: rules.max_record_bytes });
	}
	let record = &signed.record;
	if record.service != rules.service {
		return Err(Rejection::WrongService { service: record.service });
	}
	let terms = registry.terms(record.device).ok_or(Rejection::UnknownDevice)?;
	let device = &terms.entry;
	if !device.active {
		return Err(Rejection::DeviceSuspended);
	}
	let Admission::Admitted { may_lock } = device.admission else {
		return Err(Rejection::NotAdmitted);
	};
	match &record.body {
		NestBody::Reading(envelope) => check_envelope(rules, device, envelope)
			.map_err(|reason| Rejection::InvalidEnvelope { reason })?,
		NestBody::Lock { destination, .. } if *destination == rules.service => {
			return Err(Rejection::InvalidPeg { reason: "a lock must go to another service" })
		}
		NestBody::Lock { .. } if !may_lock => {
			return Err(Rejection::LockRefused {
				reason: "the service's owner did not let this device lock value",
			})
		}
		NestBody::Lock { destination, .. } if !terms.destinations.contains(destination) => {
			return Err(Rejection::LockRefused {
				reason: "the service's policy names no such active destination",
			})
		}
		NestBody::Revert { sequence, lock_sequence } if lock_sequence >= sequence => {
			return Err(Rejection::InvalidPeg { reason: "a revert undoes an earlier record" })
		}
		NestBody::Lock { .. } | NestBody::Revert { .. } => {}
	}
	Ok(terms)
}

/// The rules WebChain holds a device's envelopes to (`pallets/payloads`), and an inline body:
/// the service node keeps the ciphertext.
fn check_envelope(
	rules: &Rules,
	device: &DeviceEntry,
	envelope: &Envelope,
) -> Result<(), &'static str> {
	if envelope.version != ENVELOPE_VERSION {
		return Err("unsupported envelope version");
	}
	if !matches!(envelope.body, Body::Inline(_)) {
		return Err("the ciphertext must be in the envelope");
	}
	let recipients = &envelope.recipients;
	if recipients.is_empty() {
		return Err("no recipients");
	}
	if recipients.len() > rules.max_readers {
		return Err("more recipients than a device may have readers");
	}
	for (i, recipient) in recipients.iter().enumerate() {
		if !device.readers.contains(&recipient.reader) {
			return Err("a recipient is not a reader the device's owner granted");
		}
		if recipients[..i].iter().any(|earlier| earlier.reader == recipient.reader) {
			return Err("a recipient is named twice");
		}
	}
	Ok(())
}

/// Refuses, with [`Rejection::BadSignature`], each record whose signature is not its device
/// key's: sr25519 ones in one batch (and one by one only if the batch fails, to find which),
/// others one by one.
fn check_signatures(
	genesis_hash: &Hash,
	outcomes: &mut [Result<(SignedNestRecord, Terms), Rejection>],
) {
	let mut batch = Sr25519Batch::default();
	for (index, outcome) in outcomes.iter_mut().enumerate() {
		let Ok((signed, terms)) = outcome else { continue };
		let key = &terms.entry.key;
		let message = signed.record.signing_bytes(genesis_hash);
		let verified = match &signed.signature {
			MultiSignature::Sr25519(signature) => batch.add(index, message, signature.0, key),
			other => other.verify(&message[..], &AccountId32::from(*key)),
		};
		if !verified {
			*outcome = Err(Rejection::BadSignature);
		}
	}
	for index in batch.failed() {
		outcomes[index] = Err(Rejection::BadSignature);
	}
}

/// sr25519 signatures to verify together.
#[derive(Default)]
struct Sr25519Batch {
	indices: Vec<usize>,
	messages: Vec<Vec<u8>>,
	signatures: Vec<schnorrkel::Signature>,
	keys: Vec<schnorrkel::PublicKey>,
}

impl Sr25519Batch {
	/// Adds record `index`'s signature of `message` by `key`; false if either is not even
	/// well formed.
	fn add(&mut self, index: usize, message: Vec<u8>, signature: [u8; 64], key: &[u8; 32]) -> bool {
		let (Ok(signature), Ok(key)) =
			(schnorrkel::Signature::from_bytes(&signature), schnorrkel::PublicKey::from_bytes(key))
		else {
			return false;
		};
		self.indices.push(index);
		self.messages.push(message);
		self.signatures.push(signature);
		self.keys.push(key);
		true
	}

	/// The records whose signature does not verify.
	fn failed(self) -> Vec<usize> {
		let context = schnorrkel::signing_context(SIGNING_CONTEXT);
		let transcripts = self.messages.iter().map(|message| context.bytes(message));
		if schnorrkel::verify_batch(transcripts, &self.signatures, &self.keys, false).is_ok() {
			return Vec::new();
		}
		(0..self.indices.len())
			.filter(|&i| {
				let transcript = context.bytes(&self.messages[i]);
				self.keys[i].verify(transcript, &self.signatures[i]).is_err()
			})
			.map(|i| self.indices[i])
			.collect()
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::devices::DeviceEntry;
	use crate::fixtures::{envelope_mut, Fleet, PEG_DESTINATION, SERVICE};
	use thingschain_primitives::nest::{record_bytes, PegRevert, RecordKind};

	fn rejections(outcomes: &[Result<Checked, Rejection>]) -> Vec<Option<Rejection>> {
		outcomes.iter().map(|outcome| outcome.clone().err()).collect()
	}

	#[test]
	fn a_fleets_signed_records_pass_on_every_core() {
		let fleet = Fleet::new(3);
		let records: Vec<_> = (0..200u64).map(|i| fleet.record(i as usize % 3, i / 3)).collect();
		let outcomes = fleet.check(records.clone());
		assert_eq!(outcomes.len(), 200);
		for (outcome, signed) in outcomes.iter().zip(&records) {
			let checked = outcome.as_ref().expect("a good record passes");
			assert_eq!(checked.record, signed.record);
			assert_eq!(checked.leaf, leaf_hash(&signed.record.leaf_bytes()));
		}
	}

	#[test]
	fn a_bad_signature_refuses_its_record_only() {
		let fleet = Fleet::new(2);
		let mut records: Vec<_> =
			(0..100u64).map(|i| fleet.record(i as usize % 2, i / 2)).collect();
		// Another record's signature, a record changed after signing, a signature for another
		// chain.
		records[10].signature = records[11].signature.clone();
		envelope_mut(&mut records[50]).nonce[0] ^= 1;
		let foreign = Fleet { genesis: Hash::repeat_byte(0xee), ..fleet.clone() };
		records[70] = foreign.record(0, 35);
		let outcomes = fleet.check(records);
		for (i, rejection) in rejections(&outcomes).into_iter().enumerate() {
			let expected = [10, 50, 70].contains(&i).then_some(Rejection::BadSignature);
			assert_eq!(rejection, expected, "record {i}");
		}
	}

	#[test]
	fn an_ed25519_device_key_signs_too() {
		let fleet = Fleet::new(1);
		let (good, forged) = fleet.ed25519_records(&fleet.devices);
		let outcomes = fleet.check(vec![good, forged]);
		assert_eq!(rejections(&outcomes), vec![None, Some(Rejection::BadSignature)]);
	}

	#[test]
	fn records_the_service_does_not_take_are_refused_by_name() {
		let fleet = Fleet::new(4);
		let mut other_service = fleet.record(0, 0);
		other_service.record.service = SERVICE + 1;
		let unknown = Fleet { first_device: 100, ..fleet.clone() }.record(0, 0);
		let devices_entry = |device: usize, change: &dyn Fn(&mut DeviceEntry)| {
			let id = fleet.device_id(device);
			let mut entry = (*fleet.devices.get(id).unwrap()).clone();
			change(&mut entry);
			fleet.devices.set(0, id, Some(entry));
		};
		fleet.devices.set(0, fleet.device_id(1), None);
		devices_entry(2, &|entry| entry.active = false);
		devices_entry(3, &|entry| entry.readers.clear());
		let records = vec![
			other_service,
			unknown,
			fleet.record(1, 0),
			fleet.record(2, 0),
			fleet.record(3, 0),
			fleet.record_of_size(0, 1, 3_000),
		];
		let rules = Rules { max_record_bytes: 2_000, ..fleet.rules.clone() };
		let outcomes = check(&rules, &fleet.devices.latest(), records);
		let codes: Vec<i32> = outcomes.iter().map(|o| o.as_ref().unwrap_err().code()).collect();
		assert_eq!(codes, vec![9303, 9304, 9304, 9306, 9308, 9302]);
	}

	/// The attacks: a device its service's owner has not admitted writes a reading; an admitted
	/// device the owner did not let lock value locks some; a device that may lock sends value
	/// to a service the policy does not name (or that is missing or suspended: WebChain's
	/// follower keeps only active ones).
	#[test]
	fn only_admitted_devices_write_and_only_where_the_policy_lets_them_lock() {
		let fleet = Fleet::new(3);
		let set_admission = |device: usize, admission| {
			let id = fleet.device_id(device);
			let entry = DeviceEntry { admission, ..(*fleet.devices.get(id).unwrap()).clone() };
			fleet.devices.set(0, id, Some(entry));
		};
		set_admission(0, Admission::Requested);
		set_admission(1, Admission::Admitted { may_lock: false });
		let records = vec![
			fleet.record(0, 0),
			fleet.lock(0, 0, PEG_DESTINATION),
			fleet.record(1, 0),
			fleet.lock(1, 1, PEG_DESTINATION),
			fleet.lock(2, 0, PEG_DESTINATION + 1),
			fleet.lock(2, 0, PEG_DESTINATION),
		];
		let outcomes = fleet.check(records);
		let refused = |reason| Some(Rejection::LockRefused { reason });
		assert_eq!(
			rejections(&outcomes),
			vec![
				Some(Rejection::NotAdmitted),
				Some(Rejection::NotAdmitted),
				None,
				refused("the service's owner did not let this device lock value"),
				refused("the service's policy names no such active destination"),
				None,
			]
		);
		assert_eq!(outcomes[0].clone().unwrap_err().code(), 9314);
		assert_eq!(outcomes[3].clone().unwrap_err().code(), 9315);
		// The destination suspended or dropped from the policy: its locks are refused from
		// the block the node reads that at.
		fleet.devices.set_peg_destinations(0, vec![]);
		let outcome = fleet.check(vec![fleet.lock(2, 0, PEG_DESTINATION)]);
		assert_eq!(
			rejections(&outcome),
			vec![refused("the service's policy names no such active destination")]
		);
	}

	#[test]
	fn envelopes_are_held_to_webchains_rules() {
		let fleet = Fleet::new(1);
		let envelope_of = |change: &dyn Fn(&mut Envelope)| {
			let mut signed = fleet.record(0, 0);
			change(envelope_mut(&mut signed));
			fleet.sign(signed.record, 0)
		};
		type Case<'a> = (&'a dyn Fn(&mut Envelope), &'a str);
		let cases: [Case; 4] = [
			(&|e| e.version = 1, "unsupported envelope version"),
			(&|e| e.recipients.clear(), "no recipients"),
			(
				&|e| {
					let first = e.recipients[0].clone();
					e.recipients.try_push(first).unwrap();
				},
				"a recipient is named twice",
			),
			(
				&|e| {
					e.body =
						Body::External { hash: Hash::zero(), size: 1, locator: Default::default() }
				},
				"the ciphertext must be in the envelope",
			),
		];
		for (change, reason) in cases {
			let outcome = fleet.check(vec![envelope_of(change)]);
			assert_eq!(outcome[0], Err(Rejection::InvalidEnvelope { reason }));
		}
		let rules = Rules { max_readers: 0, ..fleet.rules.clone() };
		let outcome = check(&rules, &fleet.devices.latest(), vec![fleet.record(0, 0)]);
		assert_eq!(
			outcome[0],
			Err(Rejection::InvalidEnvelope {
				reason: "more recipients than a device may have readers"
			})
		);
	}

	#[test]
	fn a_devices_locks_go_elsewhere_and_its_reverts_undo_earlier_records() {
		let fleet = Fleet::new(1);
		let revert =
			|sequence, lock_sequence| fleet.signed(0, NestBody::Revert { sequence, lock_sequence });
		let records = vec![
			fleet.lock(0, 0, PEG_DESTINATION),
			revert(1, 0),
			fleet.lock(0, 2, SERVICE),
			revert(3, 3),
			revert(4, 9),
		];
		let outcomes = fleet.check(records.clone());
		let kept = |i: usize| outcomes[i].as_ref().expect("a good peg record");
		// The leaves are the very records the peg pallet proves.
		let lock = records[0].record.peg_lock().expect("a lock");
		assert_eq!(kept(0).leaf, leaf_hash(&record_bytes(RecordKind::Lock, &lock)));
		let undone = PegRevert { lock_id: lock.lock_id };
		assert_eq!(kept(1).leaf, leaf_hash(&record_bytes(RecordKind::Revert, &undone)));
		let invalid = |reason| Some(Rejection::InvalidPeg { reason });
		assert_eq!(
			rejections(&outcomes)[2..],
			[
				invalid("a lock must go to another service"),
				invalid("a revert undoes an earlier record"),
				invalid("a revert undoes an earlier record"),
			]
		);
		// A lock is signed like a reading: another beneficiary breaks the signature.
		let mut changed = records[0].clone();
		if let NestBody::Lock { beneficiary, .. } = &mut changed.record.body {
			*beneficiary = [8; 32].into();
		}
		let outcome = fleet.check(vec![changed]);
		assert_eq!(outcome[0], Err(Rejection::BadSignature));
	}
}
