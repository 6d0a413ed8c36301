//! The accounts a workload signs with: senders funded by Alice, and devices registered by Bob
//! (who pays their fees and deposits) with one reader granted. Set up with batched
//! transactions before the clock starts.

use codec::Decode;
use subxt::dynamic::Value;
use subxt_signer::sr25519::{dev, Keypair};
use thingschain_device::{chain::Included, Chain, DeviceId, Error};
use thingschain_device_core::{signing::DeviceKey, ReaderSecret};
use thingschain_primitives::{device::KeyBinding, ids::ServiceId};

/// One TIC in plancks.
pub const TIC: u128 = 1_000_000_000_000;
/// Calls per setup batch: well within a block's weight and length.
pub const BATCH: usize = 250;

/// The seed of a key the harness signs with, derived from its role and index so runs are
/// repeatable.
pub fn seed(role: &str, index: usize) -> [u8; 32] {
	crate::hash(format!("thingschain-bench/{role}/{index}").as_bytes())
}

/// The key of `role` number `index`, as the device core signs with it.
pub fn key(role: &str, index: usize) -> DeviceKey {
	DeviceKey::from_seed(&seed(role, index))
}

/// The same key as [`key`], as subxt signs with it (for setup transactions).
pub fn keypair(role: &str, index: usize) -> Keypair {
	Keypair::from_secret_key(seed(role, index)).expect("any 32 bytes are an sr25519 mini secret")
}

/// `pallet.name(fields)` as a `RuntimeCall` value, for batching.
pub fn call(pallet: &str, name: &str, fields: Vec<(&str, Value)>) -> Value {
	Value::unnamed_variant(pallet, [Value::named_variant(name, fields)])
}

/// `MultiAddress::Id(account)`.
pub fn address(account: [u8; 32]) -> Value {
	Value::unnamed_variant("Id", [Value::from_bytes(account)])
}

/// Sends `calls` as `Utility.batch_all` transactions of `per_batch` calls signed by
/// `signer`, all submitted at once with consecutive nonces, and waits for each to succeed in
/// a best block; returns the events of every batch, in order.
pub async fn send_batches(
	chain: &Chain,
	signer: &Keypair,
	calls: Vec<Value>,
	per_batch: usize,
) -> Result<Vec<Included>, Error> {
	let after = chain.best_number().await?;
	let first = chain.next_nonce(&signer.public_key().to_account_id()).await?;
	let mut hashes = Vec::new();
	let mut calls = calls.into_iter().peekable();
	while calls.peek().is_some() {
		let batch: Vec<Value> = calls.by_ref().take(per_batch).collect();
		let transaction = subxt::dynamic::transaction("Utility", "batch_all", (batch,));
		let nonce = first + hashes.len() as u64;
		hashes.push(chain.submit(&transaction, signer, nonce).await?);
	}
	let mut receipts = chain.receipts(after, &hashes).await?;
	hashes.iter().map(|hash| receipts.remove(hash).unwrap_or(Err(Error::Timeout))).collect()
}

/// `count` senders, each given `amount` by Alice.
pub async fn fund_senders(
	chain: &Chain,
	count: usize,
	amount: u128,
) -> Result<Vec<DeviceKey>, Error> {
	let senders: Vec<DeviceKey> = (0..count).map(|i| key("sender", i)).collect();
	let transfers = senders
		.iter()
		.map(|sender| {
			call(
				"Balances",
				"transfer_keep_alive",
				vec![("dest", address(sender.public())), ("value", Value::u128(amount))],
			)
		})
		.collect();
	send_batches(chain, &dev::alice(), transfers, BATCH).await?;
	Ok(senders)
}

/// Devices registered by Bob, who pays for them, with `reader` granted.
pub struct Fleet {
	/// Each device's signing key and id.
	pub devices: Vec<(DeviceKey, DeviceId)>,
	/// The reader every record is sealed for.
	pub reader: ReaderSecret,
}

/// The first nonce a device's transactions use: binding its key spent nonce 0.
pub const FIRST_DEVICE_NONCE: u64 = 1;

/// Registers `count` devices owned by Bob, of NestChain `service` if one is given, with limits
/// no run reaches and the shortest retention, and grants all of them one reader. The bench's
/// device keys are fresh on every chain it starts, so each signs its binding at nonce 0.
pub async fn register_fleet(
	chain: &Chain,
	count: usize,
	service: Option<ServiceId>,
) -> Result<Fleet, Error> {
	let keys: Vec<DeviceKey> = (0..count).map(|i| key("device", i)).collect();
	let bob = dev::bob();
	let binding = KeyBinding::new(chain.genesis_hash(), bob.public_key().0, 0u32).message();
	let registrations = keys
		.iter()
		.map(|device| {
			let proof = device.sign(&binding, rand_core::OsRng);
			call(
				"Devices",
				"register",
				vec![
					("key", Value::from_bytes(device.public())),
					("proof", Value::unnamed_variant("Sr25519", [Value::from_bytes(proof)])),
					("kind", Value::unnamed_variant("Sensor", [])),
					("service", option(service.map(|id| Value::u128(id.into())))),
					("metadata", Value::from_bytes(b"bench")),
					// An hour of 2-second blocks: the runtime's minimum.
					("retention", Value::u128(1_800)),
					(
						"limits",
						Value::named_composite([
							("window", Value::u128(1_800)),
							("max_transactions", Value::u128(u32::MAX.into())),
							("max_fees", Value::u128(1_000_000 * TIC)),
							("max_deposits", Value::u128(1_000_000 * TIC)),
						]),
					),
				],
			)
		})
		.collect();
	let batches = send_batches(chain, &bob, registrations, BATCH).await?;
	let ids: Vec<DeviceId> = first_fields(&batches, "Devices", "DeviceRegistered")?;
	if ids.len() != count {
		return Err(Error::Metadata(format!("{} of {count} devices registered", ids.len())));
	}

	let reader = ReaderSecret::generate(&mut rand_core::OsRng);
	let grants = ids
		.iter()
		.map(|id| {
			call(
				"Payloads",
				"grant_reader",
				vec![
					("device", Value::u128((*id).into())),
					("reader", Value::from_bytes(reader.public_key())),
				],
			)
		})
		.collect();
	send_batches(chain, &bob, grants, BATCH).await?;
	Ok(Fleet { devices: keys.into_iter().zip(ids).collect(), reader })
}

/// `Some(value)` or `None`, as an `Option` field.
pub fn option(value: Option<Value>) -> Value {
	match value {
		Some(value) => Value::unnamed_variant("Some", [value]),
		None => Value::unnamed_variant("None", []),
	}
}

/// The leading field (decoded as `T`) of every `pallet.name` event of `batches`, in order:
/// the ids of what they created.
pub fn first_fields<T: Decode>(
	batches: &[Included],
	pallet: &str,
	name: &str,
) -> Result<Vec<T>, Error> {
	batches
		.iter()
		.flat_map(|batch| batch.events.iter())
		.filter(|event| event.pallet == pallet && event.name == name)
		.map(|event| T::decode(&mut &event.fields[..]))
		.collect::<Result<_, _>>()
		.map_err(|e| Error::Metadata(format!("{pallet}.{name}: {e}")))
}
