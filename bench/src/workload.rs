//! Workloads: every transaction of a run, signed before it starts, so the run measures the
//! chain and not the harness.

use crate::{
	accounts::{address, call, Fleet, FIRST_DEVICE_NONCE, TIC},
	nest::{self, Nest},
};
use codec::Encode;
use subxt::{dynamic::Value, ext::scale_value::Composite};
use thingschain_device::{batches, chain::DeviceSigning, Error};
use thingschain_device_core::{
	seal,
	signing::{sign_transaction, DeviceKey},
	Placement,
};
use thingschain_primitives::envelope::{Payload, Provenance, ReaderKey};

/// What a run sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
	/// `Balances.transfer_keep_alive` between funded accounts.
	Transfer,
	/// `Payloads.store` of a 256-byte encrypted envelope, signed by token-less devices whose
	/// owner pays.
	Record,
	/// NestChain anchoring: `NestAnchor.attest` of an ended epoch by identity-verified
	/// service nodes and `NestAnchor.approve` by a super node, one epoch of many services;
	/// the last of each service's transactions anchors it.
	Attest,
	/// A third each of transfers, records and attestations.
	Mix,
}

impl Workload {
	/// Its name in reports, with the batch size when transactions are batched
	/// (`transfer-batch50`, `record-batch64`).
	pub fn name(self, batch: usize) -> String {
		let name = match self {
			Workload::Transfer => "transfer",
			Workload::Record => "record",
			Workload::Attest => "attest",
			Workload::Mix => "mix",
		};
		if batch > 1 {
			format!("{name}-batch{batch}")
		} else {
			name.to_string()
		}
	}
}

/// Size of each device record's envelope, as the chain stores it.
pub const ENVELOPE_BYTES: usize = 256;

/// A signed transaction, ready to submit.
pub struct Transaction {
	/// Which signer (sender or device) signed it; one signer's transactions go in nonce order.
	pub signer: usize,
	/// Its nonce.
	pub nonce: u64,
	/// The encoded transaction.
	pub bytes: Vec<u8>,
	/// Its hash, as blocks list it.
	pub hash: [u8; 32],
}

/// Signs `per_signer` transactions from each of `senders`, each a thousandth of a TIC to the
/// next sender: one `Balances.transfer_keep_alive`, or with `batch` above 1 a
/// `Utility.batch_all` of that many (one signature, nonce and fee for all of them). Signers
/// are numbered from `first_signer`.
pub fn transfers(
	signing: &DeviceSigning,
	senders: &[DeviceKey],
	per_signer: u64,
	batch: usize,
	first_signer: usize,
) -> Result<Vec<Transaction>, Error> {
	let calls = (0..senders.len())
		.map(|i| {
			let transfer = || {
				vec![
					("dest", address(senders[(i + 1) % senders.len()].public())),
					("value", Value::u128(TIC / 1_000)),
				]
			};
			let call = if batch > 1 {
				let transfers =
					(0..batch).map(|_| call("Balances", "transfer_keep_alive", transfer()));
				let calls = Value::unnamed_composite(transfers);
				subxt::dynamic::transaction("Utility", "batch_all", named(vec![("calls", calls)]))
			} else {
				subxt::dynamic::transaction("Balances", "transfer_keep_alive", named(transfer()))
			};
			signing.call_data(&call)
		})
		.collect::<Result<Vec<_>, _>>()?;
	let context = signing.context;
	sign_all(senders, 0..per_signer, first_signer, |i, key, nonce| {
		Ok(sign_transaction(key, &calls[i], nonce, &context, rand_core::OsRng))
	})
}

/// Call fields by name.
pub fn named(fields: Vec<(&str, Value)>) -> Composite<()> {
	Composite::Named(fields.into_iter().map(|(name, value)| (name.into(), value)).collect())
}

/// Signs `per_signer` record transactions from each device of `fleet`, each record a fresh
/// envelope of [`ENVELOPE_BYTES`] sealed for the fleet's reader: one `Payloads.store`, or with
/// `batch` above 1 a `Payloads.store_batch` of that many. Signers are numbered from
/// `first_signer`.
pub fn records(
	signing: &DeviceSigning,
	fleet: &Fleet,
	per_signer: u64,
	batch: usize,
	first_signer: usize,
) -> Result<Vec<Transaction>, Error> {
	let keys: Vec<&DeviceKey> = fleet.devices.iter().map(|(key, _)| key).collect();
	let readers = [fleet.reader.public_key()];
	let plaintext = vec![0x42; plaintext_len(&readers)];
	let genesis_hash = signing.context.genesis_hash.into();
	// The `index`-th record of the transaction with `nonce` of device `device`.
	let record = |device, nonce, index| {
		let provenance = Provenance { genesis_hash, device };
		let sequence = batches::sequence(nonce, index);
		seal(&plaintext, &readers, Placement::Inline, &provenance, sequence, &mut rand_core::OsRng)
			.map(|sealed| Payload::Encrypted(sealed.envelope))
			.map_err(Error::Seal)
	};
	let nonces = FIRST_DEVICE_NONCE..FIRST_DEVICE_NONCE + per_signer;
	sign_all(&keys, nonces, first_signer, |i, key, nonce| {
		let device = fleet.devices[i].1;
		if batch > 1 {
			let payloads = (0..batch as u64)
				.map(|j| record(device, nonce, j))
				.collect::<Result<Vec<_>, _>>()?;
			signing.sign_store_batch(&payloads, key, nonce)
		} else {
			signing.sign_store(&record(device, nonce, 0)?, key, nonce)
		}
	})
}

/// Signs the run's side of `nest`'s anchors: each attester's attestation of every service
/// and the super node's approval of every service, in service order. Signers are numbered
/// from `first_signer`, the super node last.
pub fn attestations(
	signing: &DeviceSigning,
	nest: &Nest,
	first_signer: usize,
) -> Result<Vec<Transaction>, Error> {
	let signers: Vec<&DeviceKey> = nest.attesters.iter().chain([&nest.super_node]).collect();
	let supernode = nest.attesters.len();
	let services = nest.services.len() as u64;
	let nonces = nest::FIRST_NONCE..nest::FIRST_NONCE + services;
	sign_all(&signers, nonces, first_signer, |i, key, nonce| {
		let (service, root) = nest.services[(nonce - nest::FIRST_NONCE) as usize];
		let (name, fields) = if i == supernode {
			("approve", nest::approve_fields(service, root))
		} else {
			("attest", nest::attest_fields(service, root))
		};
		signing.sign_call(
			&subxt::dynamic::transaction("NestAnchor", name, named(fields)),
			key,
			nonce,
		)
	})
}

/// The plaintext length whose envelope, sealed for `readers`, encodes to [`ENVELOPE_BYTES`].
fn plaintext_len(readers: &[ReaderKey]) -> usize {
	let envelope_len = |len: usize| {
		let provenance = Provenance { genesis_hash: Default::default(), device: 0 };
		seal(&vec![0; len], readers, Placement::Inline, &provenance, 0, &mut rand_core::OsRng)
			.map(|sealed| sealed.envelope.encoded_size())
			.unwrap_or(usize::MAX)
	};
	// The ciphertext's length prefix grows by a byte past 63 bytes, hence the second probe.
	let overhead = envelope_len(64) - 64;
	ENVELOPE_BYTES.saturating_sub(overhead)
}

/// Signs `nonces` of every key with `sign(index, key, nonce)` on every core, and orders the
/// result for submission: round by round of nonces, so each signer's next transaction is
/// ready when it arrives.
fn sign_all<K, F>(
	keys: &[K],
	nonces: std::ops::Range<u64>,
	first_signer: usize,
	sign: F,
) -> Result<Vec<Transaction>, Error>
where
	K: std::borrow::Borrow<DeviceKey> + Sync,
	F: Fn(usize, &DeviceKey, u64) -> Result<Vec<u8>, Error> + Sync,
{
	let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
	let chunk = keys.len().div_ceil(threads).max(1);
	let signed: Vec<Result<Vec<Transaction>, Error>> = std::thread::scope(|scope| {
		let handles: Vec<_> = keys
			.chunks(chunk)
			.enumerate()
			.map(|(c, chunk_keys)| {
				let (sign, nonces) = (&sign, nonces.clone());
				scope.spawn(move || {
					let mut out = Vec::with_capacity(chunk_keys.len() * nonces.clone().count());
					for (offset, key) in chunk_keys.iter().enumerate() {
						let index = c * chunk + offset;
						for nonce in nonces.clone() {
							let bytes = sign(index, key.borrow(), nonce)?;
							let hash = crate::hash(&bytes);
							out.push(Transaction {
								signer: first_signer + index,
								nonce,
								bytes,
								hash,
							});
						}
					}
					Ok(out)
				})
			})
			.collect();
		handles.into_iter().map(|h| h.join().expect("a signing thread panicked")).collect()
	});
	let mut all = Vec::new();
	for part in signed {
		all.extend(part?);
	}
	all.sort_by_key(|t| (t.nonce, t.signer));
	Ok(all)
}

/// Interleaves two workloads' transactions, one of each in turn, keeping each one's order.
pub fn interleave(a: Vec<Transaction>, b: Vec<Transaction>) -> Vec<Transaction> {
	let mut out = Vec::with_capacity(a.len() + b.len());
	let (mut a, mut b) = (a.into_iter(), b.into_iter());
	loop {
		match (a.next(), b.next()) {
			(None, None) => return out,
			(x, y) => out.extend(x.into_iter().chain(y)),
		}
	}
}
