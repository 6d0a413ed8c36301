//! The chain, through subxt: calls of the device registry and the payloads pallet, built from
//! the chain's metadata, and the records they keep.

use crate::{error::rpc, Error};
use codec::Decode;
use std::{collections::HashMap, ops::ControlFlow, time::Duration};
use subxt::ext::frame_decode::storage::{IntoDecodableValues, IntoEncodableValues};
use subxt::{
	config::polkadot::PolkadotExtrinsicParamsBuilder,
	dynamic::{self, At, Value},
	ext::scale_value::{self, Composite},
	rpcs::{rpc_params, RpcClient},
	utils::{AccountId32, H256},
	OnlineClient, PolkadotConfig,
};
use subxt_signer::sr25519::Keypair;
use thingschain_device_core::signing::{
	sign_transaction, ChainContext, DeviceKey, TRANSACTION_EXTENSIONS,
};
use thingschain_primitives::{
	device::KeyBinding,
	envelope::{Payload, ReaderKey},
	ids::{DeviceId, ServiceId},
};

/// Numbers a device's records.
pub type RecordId = u64;

/// Blocks a device's transaction stays valid: a transaction that did not make it in time is
/// gone, never replayed later by surprise.
pub const MORTALITY: u64 = 64;

/// How long [`Chain::receipts`] waits at most.
pub const INCLUSION_TIMEOUT: Duration = Duration::from_secs(120);

/// A device's limits: most transactions and most fees (in plancks) per `window` blocks, most
/// record deposits held at once.
#[derive(Clone, Copy, Debug)]
pub struct FeeLimits {
	pub window: u32,
	pub max_transactions: u32,
	pub max_fees: u128,
	pub max_deposits: u128,
}

/// What registering a device says about it.
#[derive(Clone, Debug)]
pub struct Registration {
	/// `Sensor`, `Actuator`, `Gateway` or `Other`.
	pub kind: String,
	/// The NestChain service it belongs to.
	pub service: Option<u64>,
	/// Free-form description.
	pub metadata: Vec<u8>,
	/// Blocks its records are kept.
	pub retention: u32,
	/// Its fee limits.
	pub limits: FeeLimits,
}

/// One event of an included transaction.
#[derive(Clone, Debug)]
pub struct ChainEvent {
	pub pallet: String,
	pub name: String,
	/// SCALE-encoded fields.
	pub fields: Vec<u8>,
}

/// A device [`Chain::register_device`] registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registered {
	/// Its id.
	pub id: DeviceId,
	/// Whether it writes to its service already (its owner owns the service, or the service
	/// is open); if not, the service's owner admits it.
	pub admitted: bool,
}

/// A transaction in a block, with its events.
#[derive(Clone, Debug)]
pub struct Included {
	pub block: u64,
	pub events: Vec<ChainEvent>,
}

impl Included {
	/// The fields of the first `pallet.name` event, decoded as `T` (a prefix of them).
	pub fn event<T: Decode>(&self, pallet: &str, name: &str) -> Option<T> {
		self.events
			.iter()
			.find(|e| e.pallet == pallet && e.name == name)
			.and_then(|e| T::decode(&mut &e.fields[..]).ok())
	}

	/// The fee paid for the transaction, by whoever paid it.
	pub fn fee(&self) -> u128 {
		self.event::<([u8; 32], u128)>("TransactionPayment", "TransactionFeePaid")
			.map_or(0, |(_, fee)| fee)
	}
}

/// A connection to a ThingsChain node.
pub struct Chain {
	client: OnlineClient<PolkadotConfig>,
	rpc: RpcClient,
}

impl Chain {
	/// Connects to the node at `url` (`ws://` or `wss://`).
	///
	/// subxt speaks the node's legacy methods (`chain_*`, `state_*`, `author_*`), not
	/// `chainHead_v1_follow`: the node ends a follow subscription whose blocks stay pinned for
	/// a minute, which a caller reading many storage items at one block (a service node
	/// loading thousands of devices) reaches; and "the finalized block" is then the node's
	/// own, not the subscription's view of it.
	pub async fn connect(url: &str) -> Result<Self, Error> {
		let offline = |e: &dyn std::fmt::Display| Error::Offline(format!("{url}: {e}"));
		let rpc = RpcClient::from_insecure_url(url).await.map_err(|e| offline(&e))?;
		let backend = subxt::backend::LegacyBackend::builder().build(rpc.clone());
		let client = OnlineClient::from_backend(std::sync::Arc::new(backend))
			.await
			.map_err(|e| offline(&e))?;
		Ok(Self { client, rpc })
	}

	/// The raw JSON-RPC client: the node's own methods.
	pub fn rpc(&self) -> &RpcClient {
		&self.rpc
	}

	/// The subxt client: blocks, storage and events at any block.
	pub fn client(&self) -> &OnlineClient<PolkadotConfig> {
		&self.client
	}

	/// The next nonce of `who`, counting its transactions in the node's pool.
	pub async fn next_nonce(&self, who: &AccountId32) -> Result<u64, Error> {
		self.rpc.request("system_accountNextIndex", rpc_params![who.to_string()]).await.map_err(rpc)
	}

	/// The number of the best block.
	pub async fn best_number(&self) -> Result<u64, Error> {
		let header: serde_json::Value =
			self.rpc.request("chain_getHeader", rpc_params![]).await.map_err(rpc)?;
		header["number"]
			.as_str()
			.and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok())
			.ok_or_else(|| Error::Rpc("chain_getHeader has no number".into()))
	}

	/// The nonce of `who` at the best block: how many of its transactions are in blocks.
	pub async fn account_nonce(&self, who: &AccountId32) -> Result<u64, Error> {
		let value = self.storage("System", "Account", (who.0,)).await?;
		value.map_or(Ok(0), |v| decode::<u32>(&v).map(u64::from))
	}

	/// The chain's genesis hash.
	pub fn genesis_hash(&self) -> [u8; 32] {
		self.client.genesis_hash().0
	}

	/// What `key` signs to consent to be bound to a device of `owner`, at the best block: the
	/// key's nonce is its account's, or the one it kept when it was retired if higher (as the
	/// device registry computes it).
	pub async fn key_binding(
		&self,
		owner: &AccountId32,
		key: &AccountId32,
	) -> Result<KeyBinding<[u8; 32], [u8; 32], u32>, Error> {
		let nonce = u32::try_from(self.account_nonce(key).await?)
			.map_err(|_| Error::Metadata("a nonce beyond u32".into()))?;
		let at = self.at_best().await?;
		let address = dynamic::storage::<([u8; 32],), Value>("Devices", "RetiredKeys");
		let retired = at.storage().try_fetch(address, (key.0,)).await.map_err(rpc)?;
		let retired = retired.map_or(Ok(0), |v| decode::<u32>(v.bytes()))?;
		Ok(KeyBinding::new(self.genesis_hash(), owner.0, nonce.max(retired)))
	}

	/// Signs `call` with `signer` and `nonce`, valid for [`MORTALITY`] blocks, and submits it;
	/// returns its hash. Find out what became of it with [`Self::receipts`].
	pub async fn submit(
		&self,
		call: &impl subxt::tx::Payload,
		signer: &Keypair,
		nonce: u64,
	) -> Result<H256, Error> {
		let params = PolkadotExtrinsicParamsBuilder::<PolkadotConfig>::new()
			.nonce(nonce)
			.mortal(MORTALITY)
			.build();
		let mut transactions = self.client.transactions().await.map_err(rpc)?;
		let signed = transactions
			.create_signed(call, signer, params)
			.await
			.map_err(|e| Error::Rejected(e.to_string()))?;
		signed.submit().await.map_err(|e| Error::Rejected(e.to_string()))
	}

	/// What a device signs against, read once for a batch of transactions: the chain at its
	/// last finalized block, which starts the transactions' lifetime. Fails if the chain's
	/// transaction extensions are not those the device core signs for.
	pub async fn device_signing(&self) -> Result<DeviceSigning, Error> {
		let at = self.client.at_current_block().await.map_err(rpc)?;
		let extensions: Vec<String> = at
			.metadata_ref()
			.extrinsic()
			.transaction_extensions_by_version(0)
			.map(|all| all.map(|e| e.identifier().to_string()).collect())
			.unwrap_or_default();
		if extensions != TRANSACTION_EXTENSIONS {
			return Err(Error::Metadata(format!(
				"the chain's transaction extensions are {extensions:?}, devices sign for {TRANSACTION_EXTENSIONS:?}"
			)));
		}
		let version: serde_json::Value =
			self.rpc.request("state_getRuntimeVersion", rpc_params![]).await.map_err(rpc)?;
		let number = |name: &str| {
			version[name]
				.as_u64()
				.and_then(|v| u32::try_from(v).ok())
				.ok_or_else(|| Error::Rpc(format!("state_getRuntimeVersion has no {name}")))
		};
		let context = ChainContext {
			genesis_hash: self.client.genesis_hash().0,
			spec_version: number("specVersion")?,
			transaction_version: number("transactionVersion")?,
			birth: (at.block_number(), at.block_hash().0),
			mortality: MORTALITY,
		};
		Ok(DeviceSigning { at, context })
	}

	/// Submits a transaction signed elsewhere (e.g. by [`DeviceSigning::sign_store`]); returns
	/// its hash. [`Error::Rejected`] when the node refused it; [`Error::Rpc`] when the answer
	/// was lost, so the transaction may have reached the pool.
	pub async fn submit_signed(&self, transaction: &[u8]) -> Result<H256, Error> {
		self.rpc
			.request(
				"author_submitExtrinsic",
				rpc_params![format!("0x{}", hex::encode(transaction))],
			)
			.await
			.map_err(|e| match e {
				subxt::rpcs::Error::User(refusal) => Error::Rejected(refusal.to_string()),
				e => rpc(e),
			})
	}

	/// How many readings `device` sends in one transaction: the chain's `Payloads.MaxBatch`,
	/// and no more than its fee limits allow in a window (each record of a batch counts), so
	/// that a batch always fits one.
	pub async fn batch_size(&self, device: DeviceId) -> Result<usize, Error> {
		let at = self.at_best().await?;
		let max_batch = constant::<u32>(&at, "Payloads", "MaxBatch")?;
		let address = dynamic::storage::<(u64,), Value>("Devices", "Devices");
		let value = at.storage().try_fetch(address, (device,)).await.map_err(rpc)?;
		let per_window = value
			.ok_or(Error::NotRegistered)?
			.decode()
			.map_err(rpc)?
			.at("limits")
			.at("max_transactions")
			.and_then(|v| v.as_u128())
			.ok_or_else(|| Error::Metadata("a device without limits.max_transactions".into()))?;
		Ok(max_batch.min(u32::try_from(per_window).unwrap_or(u32::MAX)).max(1) as usize)
	}

	/// What became of the transactions `hashes`, submitted when block `after` was the best:
	/// follows the best chain until each is in a block, [`MORTALITY`] blocks have passed
	/// (then the missing ones can never be included) or [`INCLUSION_TIMEOUT`]. Reads blocks
	/// rather than the pool's status reports, which can call a transaction dropped or invalid
	/// after it was included.
	pub async fn receipts(
		&self,
		after: u64,
		hashes: &[H256],
	) -> Result<HashMap<H256, Result<Included, Error>>, Error> {
		let deadline = tokio::time::Instant::now() + INCLUSION_TIMEOUT;
		// The last block a transaction valid at `after` can be in.
		let last = after + MORTALITY + 1;
		let mut found = HashMap::new();
		self.follow(after + 1, deadline, async |number| {
			let at = self.client.at_block(number).await.map_err(rpc)?;
			let extrinsics = at.extrinsics().fetch().await.map_err(rpc)?;
			for extrinsic in extrinsics.iter() {
				let extrinsic = extrinsic.map_err(rpc)?;
				if hashes.contains(&extrinsic.hash()) {
					let events = extrinsic.events().await.map_err(rpc)?;
					found.insert(extrinsic.hash(), receipt(number, &events, &at));
				}
			}
			Ok(if found.len() == hashes.len() || number >= last {
				ControlFlow::Break(())
			} else {
				ControlFlow::Continue(())
			})
		})
		.await?;
		Ok(found)
	}

	/// Calls `visit` on each block of the best chain from number `from` on, in order, as they
	/// are imported, until it breaks with a value (returned) or `deadline` passes (`None`).
	pub async fn follow<T>(
		&self,
		from: u64,
		deadline: tokio::time::Instant,
		mut visit: impl AsyncFnMut(u64) -> Result<ControlFlow<T>, Error>,
	) -> Result<Option<T>, Error> {
		let mut next = from;
		loop {
			let best = self.best_number().await?;
			while next <= best {
				if let ControlFlow::Break(value) = visit(next).await? {
					return Ok(Some(value));
				}
				next += 1;
			}
			if tokio::time::Instant::now() > deadline {
				return Ok(None);
			}
			tokio::time::sleep(Duration::from_millis(500)).await;
		}
	}

	/// Signs and submits `call`, and waits for it to succeed in a best block.
	pub async fn send(
		&self,
		call: &impl subxt::tx::Payload,
		signer: &Keypair,
	) -> Result<Included, Error> {
		let after = self.best_number().await?;
		let nonce = self.next_nonce(&signer.public_key().to_account_id()).await?;
		let hash = self.submit(call, signer, nonce).await?;
		self.receipts(after, &[hash]).await?.remove(&hash).unwrap_or(Err(Error::Timeout))
	}

	/// Registers the device signing as `key`, owned and paid for by `owner`, with `proof`, the
	/// key's sr25519 signature of its [`Self::key_binding`] to `owner`.
	pub async fn register_device(
		&self,
		owner: &Keypair,
		key: &AccountId32,
		proof: [u8; 64],
		registration: &Registration,
	) -> Result<Registered, Error> {
		let service = match registration.service {
			Some(id) => Value::unnamed_variant("Some", [Value::u128(id.into())]),
			None => Value::unnamed_variant("None", []),
		};
		let limits = registration.limits;
		let call = dynamic::transaction(
			"Devices",
			"register",
			Composite::Named(vec![
				("key".into(), Value::from_bytes(key.0)),
				("proof".into(), Value::unnamed_variant("Sr25519", [Value::from_bytes(proof)])),
				("kind".into(), Value::unnamed_variant(registration.kind.clone(), [])),
				("service".into(), service),
				("metadata".into(), Value::from_bytes(&registration.metadata)),
				("retention".into(), Value::u128(registration.retention.into())),
				(
					"limits".into(),
					Value::named_composite([
						("window", Value::u128(limits.window.into())),
						("max_transactions", Value::u128(limits.max_transactions.into())),
						("max_fees", Value::u128(limits.max_fees)),
						("max_deposits", Value::u128(limits.max_deposits)),
					]),
				),
			]),
		);
		let included = self.send(&call, owner).await?;
		let id = included
			.event::<DeviceId>("Devices", "DeviceRegistered")
			.ok_or_else(|| Error::Metadata("no DeviceRegistered event".into()))?;
		let admitted = included.event::<DeviceId>("Devices", "DeviceAdmitted").is_some();
		Ok(Registered { id, admitted })
	}

	/// Admits `device` to `service`, which it asked to join, as that service's `owner`;
	/// `may_lock`: it may lock value on the peg (to the destinations the service's policy
	/// names).
	pub async fn admit(
		&self,
		owner: &Keypair,
		device: DeviceId,
		service: ServiceId,
		may_lock: bool,
	) -> Result<Included, Error> {
		let fields = vec![
			("id".into(), Value::u128(device.into())),
			("service".into(), Value::u128(service.into())),
			("may_lock".into(), Value::bool(may_lock)),
		];
		self.send(&dynamic::transaction("Devices", "admit", Composite::Named(fields)), owner).await
	}

	/// Takes `device` out of its service, as the device's owner or the service's (`who`).
	pub async fn leave_service(&self, who: &Keypair, device: DeviceId) -> Result<Included, Error> {
		let fields = vec![("id".into(), Value::u128(device.into()))];
		let call = dynamic::transaction("Devices", "leave_service", Composite::Named(fields));
		self.send(&call, who).await
	}

	/// Lets `reader` read `device`'s new records, as its `owner`.
	pub async fn grant_reader(
		&self,
		owner: &Keypair,
		device: DeviceId,
		reader: ReaderKey,
	) -> Result<Included, Error> {
		self.send(&reader_call("grant_reader", device, reader), owner).await
	}

	/// Stops sealing `device`'s new records for `reader`, as its `owner`.
	pub async fn revoke_reader(
		&self,
		owner: &Keypair,
		device: DeviceId,
		reader: ReaderKey,
	) -> Result<Included, Error> {
		self.send(&reader_call("revoke_reader", device, reader), owner).await
	}

	/// The device `key` signs for, at the best block.
	pub async fn device_of(&self, key: &AccountId32) -> Result<Option<DeviceId>, Error> {
		let value = self.storage("Devices", "DeviceOfKey", (key.0,)).await?;
		value.map(|v| decode(&v)).transpose()
	}

	/// The owner of `device`, at the best block.
	pub async fn owner_of(&self, device: DeviceId) -> Result<Option<AccountId32>, Error> {
		let value = self.storage("Devices", "Devices", (device,)).await?;
		// A device's encoding starts with its owner.
		value.map(|v| decode::<[u8; 32]>(&v).map(AccountId32)).transpose()
	}

	/// The NestChain service `device` belongs to, at the best block (`None`: none, or no such
	/// device).
	pub async fn service_of(&self, device: DeviceId) -> Result<Option<ServiceId>, Error> {
		let at = self.at_best().await?;
		let address = dynamic::storage::<(u64,), Value>("Devices", "Devices");
		let Some(value) = at.storage().try_fetch(address, (device,)).await.map_err(rpc)? else {
			return Ok(None);
		};
		device_service(&value.decode().map_err(rpc)?)
	}

	/// The readers `device`'s owner granted, at the best block.
	pub async fn readers(&self, device: DeviceId) -> Result<Vec<ReaderKey>, Error> {
		let value = self.storage("Payloads", "Readers", (device,)).await?;
		value.map_or(Ok(Vec::new()), |v| decode(&v))
	}

	/// Every record of `device` at the best block, by record id. A record's encoding starts
	/// with its payload.
	pub async fn records(&self, device: DeviceId) -> Result<Vec<(RecordId, Payload)>, Error> {
		let at = self.at_best().await?;
		let address = dynamic::storage::<(u64, u64), Value>("Payloads", "Records");
		let mut entries = at.storage().iter(address, (device,)).await.map_err(rpc)?;
		let mut records = Vec::new();
		while let Some(entry) = entries.next().await {
			let entry = entry.map_err(rpc)?;
			let (_, record) = entry.key().map_err(rpc)?.decode().map_err(rpc)?;
			records.push((record, decode(entry.value().bytes())?));
		}
		records.sort_by_key(|(record, _)| *record);
		Ok(records)
	}

	/// The events of block `number` that no transaction emitted: its hooks' and the
	/// scheduler's (enacted referenda, with their outcome in the fields).
	pub async fn block_events(&self, number: u64) -> Result<Vec<ChainEvent>, Error> {
		let at = self.client.at_block(number).await.map_err(rpc)?;
		let events = at.events().fetch().await.map_err(rpc)?;
		let mut found = Vec::new();
		for event in events.iter() {
			let event = event.map_err(rpc)?;
			if !matches!(event.phase(), subxt::events::Phase::ApplyExtrinsic(_)) {
				found.push(ChainEvent {
					pallet: event.pallet_name().to_string(),
					name: event.event_name().to_string(),
					fields: event.field_bytes().to_vec(),
				});
			}
		}
		Ok(found)
	}

	/// The runtime constant `pallet.name`, at the best block.
	pub async fn constant<T: Decode>(&self, pallet: &str, name: &str) -> Result<T, Error> {
		constant(&self.at_best().await?, pallet, name)
	}

	/// The SCALE bytes of `pallet.item` under `key` (a tuple of its keys) at the best block;
	/// `None` where nothing is stored.
	pub async fn storage<K>(
		&self,
		pallet: &str,
		item: &str,
		key: K,
	) -> Result<Option<Vec<u8>>, Error>
	where
		K: IntoEncodableValues + IntoDecodableValues,
	{
		let at = self.at_best().await?;
		let address = dynamic::storage::<K, Value>(pallet, item);
		let value = at.storage().try_fetch(address, key).await.map_err(rpc)?;
		Ok(value.map(|v| v.bytes().to_vec()))
	}

	async fn at_best(&self) -> Result<AtBlock, Error> {
		let best = self.best_number().await?;
		self.client.at_block(best).await.map_err(rpc)
	}
}

/// The NestChain service a `Devices.Devices` value names: the one the device belongs to or
/// asked to join (`None`: the device writes to WebChain only).
pub fn device_service(device: &Value) -> Result<Option<ServiceId>, Error> {
	let malformed = || Error::Metadata("Devices.Devices: no readable service field".into());
	let service = device.at("service").ok_or_else(malformed)?;
	let scale_value::ValueDef::Variant(variant) = &service.value else { return Err(malformed()) };
	// `service` is an `Option<Membership>`: `Some`'s one field is the membership, `None` has
	// none.
	match (variant.name.as_str(), service.at(0).and_then(|membership| membership.at("service"))) {
		("None", _) => Ok(None),
		("Some", Some(id)) => {
			id.as_u128().and_then(|id| id.try_into().ok()).map(Some).ok_or_else(malformed)
		}
		_ => Err(malformed()),
	}
}

/// The chain as a device signs for it: metadata and [`ChainContext`] of one finalized block.
pub struct DeviceSigning {
	at: AtBlock,
	/// What the device core signs against.
	pub context: ChainContext,
}

impl DeviceSigning {
	/// A `Payloads.store(payload)` transaction signed by the device core with `key` and
	/// `nonce`.
	pub fn sign_store(
		&self,
		payload: &Payload,
		key: &DeviceKey,
		nonce: u64,
	) -> Result<Vec<u8>, Error> {
		let fields = vec![("payload".into(), self.payload_value(payload)?)];
		self.sign_call(
			&dynamic::transaction("Payloads", "store", Composite::Named(fields)),
			key,
			nonce,
		)
	}

	/// A `Payloads.store_batch(payloads)` transaction signed by the device core with `key` and
	/// `nonce`: one signature, nonce and fee for all of `payloads` (at most the chain's
	/// `Payloads.MaxBatch`).
	pub fn sign_store_batch(
		&self,
		payloads: &[Payload],
		key: &DeviceKey,
		nonce: u64,
	) -> Result<Vec<u8>, Error> {
		let values =
			payloads.iter().map(|p| self.payload_value(p)).collect::<Result<Vec<_>, _>>()?;
		let fields = vec![("payloads".into(), Value::unnamed_composite(values))];
		let call = dynamic::transaction("Payloads", "store_batch", Composite::Named(fields));
		self.sign_call(&call, key, nonce)
	}

	/// `payload` as a value of the chain's own type for it: SCALE-encoded with the shared
	/// primitives and decoded with the chain's metadata, so a format the chain does not share
	/// is an error here, not a refused transaction.
	fn payload_value(&self, payload: &Payload) -> Result<Value, Error> {
		use codec::Encode;
		let metadata = self.at.metadata_ref();
		let field = metadata
			.pallet_by_name("Payloads")
			.and_then(|pallet| pallet.call_variant_by_name("store"))
			.and_then(|call| call.fields.first())
			.ok_or_else(|| Error::Metadata("no Payloads.store(payload)".into()))?;
		let encoded = payload.encode();
		Ok(scale_value::scale::decode_as_type(&mut &encoded[..], field.ty.id, metadata.types())
			.map_err(|e| Error::Metadata(format!("the chain's payload type differs: {e}")))?
			.remove_context())
	}

	/// Any `call`, encoded with the chain's metadata and signed by the device core with `key`
	/// and `nonce`.
	pub fn sign_call(
		&self,
		call: &impl subxt::tx::Payload,
		key: &DeviceKey,
		nonce: u64,
	) -> Result<Vec<u8>, Error> {
		Ok(sign_transaction(key, &self.call_data(call)?, nonce, &self.context, rand_core::OsRng))
	}

	/// The bytes of `call` (pallet index, call index, arguments) as the chain's metadata encodes
	/// it: what [`sign_transaction`] signs.
	pub fn call_data(&self, call: &impl subxt::tx::Payload) -> Result<Vec<u8>, Error> {
		self.at.transactions().call_data(call).map_err(|e| Error::Metadata(e.to_string()))
	}
}

/// The chain's state and blocks at one block.
type AtBlock = subxt::client::ClientAtBlock<
	PolkadotConfig,
	subxt::client::OnlineClientAtBlockImpl<PolkadotConfig>,
>;

/// A transaction found in block `block`, with `events`: included, or its dispatch error.
fn receipt(
	block: u64,
	events: &subxt::extrinsics::ExtrinsicEvents<PolkadotConfig>,
	at: &AtBlock,
) -> Result<Included, Error> {
	let mut included = Included { block, events: Vec::new() };
	for event in events.iter() {
		let event = event.map_err(rpc)?;
		if event.pallet_name() == "System" && event.event_name() == "ExtrinsicFailed" {
			let error =
				subxt::error::DispatchError::decode_from(event.field_bytes(), at.metadata())
					.map_or_else(|e| e.to_string(), |e| e.to_string());
			return Err(Error::Rejected(error));
		}
		included.events.push(ChainEvent {
			pallet: event.pallet_name().to_string(),
			name: event.event_name().to_string(),
			fields: event.field_bytes().to_vec(),
		});
	}
	Ok(included)
}

fn reader_call(name: &'static str, device: DeviceId, reader: ReaderKey) -> impl subxt::tx::Payload {
	dynamic::transaction(
		"Payloads",
		name,
		Composite::Named(vec![
			("device".into(), Value::u128(device.into())),
			("reader".into(), Value::from_bytes(reader)),
		]),
	)
}

/// The runtime constant `pallet.name` at `at`.
fn constant<T: Decode>(at: &AtBlock, pallet: &str, name: &str) -> Result<T, Error> {
	at.metadata_ref()
		.pallet_by_name(pallet)
		.and_then(|p| p.constant_by_name(name))
		.ok_or_else(|| Error::Metadata(format!("no {pallet}.{name}")))
		.and_then(|constant| decode(constant.value()))
}

fn decode<T: Decode>(mut bytes: &[u8]) -> Result<T, Error> {
	T::decode(&mut bytes).map_err(|e| Error::Metadata(format!("undecodable storage: {e}")))
}
