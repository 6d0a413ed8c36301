//! WebChain as a service node reads it: its service's terms and nodes, the next anchor its
//! nodes attest, and the devices registered for it, all at finalized blocks only (what a
//! fork can take back never decides what the node accepts).
//!
//! ```text
//!  connect ─► the finalized head F: every device of the service (Devices.Devices,
//!  │          Payloads.Readers) into the DeviceCache, the service and its next anchor
//!  │          (each block: the active services its policy lets devices lock value to)
//!  ▼
//!  each finalized block N (and each the stream skipped since the last, in order): the
//!  │          devices named by a Devices or Payloads reader event and the peg destinations
//!  │          are read again at that block ─► DeviceCache, as changes made by it
//!  │          the service and next anchor at N ─► watch channel ─► the anchorer
//!  ▼
//!  the connection fails or WebChain restarts ─► reconnect with backoff, go on from the last
//!             block read (reload from scratch after more than REPLAY_BLOCKS)
//! ```

use crate::{
	agreement::chain::BlockNumber,
	devices::{Admission, DeviceCache, DeviceEntry},
};
use codec::Decode;
use polkadot_sdk::sp_runtime::AccountId32;
use std::{collections::HashMap, sync::Arc, time::Duration};
use subxt::{
	dynamic::{self, At, Value},
	ext::scale_value::{Composite, ValueDef},
};
use thingschain_device::{chain::device_service, error::rpc, Chain, Error};
use thingschain_primitives::{
	envelope::ReaderKey,
	ids::{DeviceId, Epoch, Hash, ServiceId},
	nest::PegArrival,
};
use tokio::sync::watch;

/// The first wait before trying to reach WebChain again.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between two attempts to reach WebChain.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// The most finalized blocks a follower reads one by one after a gap (a reconnection): well
/// within the 256 blocks of state a WebChain node keeps by default. After a longer gap it
/// reads the registry afresh and forgets what came before.
const REPLAY_BLOCKS: BlockNumber = 128;

/// A service's terms and trusted nodes at a finalized block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceView {
	/// Blocks per epoch.
	pub epoch_length: u64,
	/// The block its epoch 0 starts at.
	pub genesis: u64,
	/// Its trusted nodes' accounts.
	pub nodes: Vec<[u8; 32]>,
	/// The keys its trusted nodes' identities name ([`crate::node_key`]), in the order of
	/// `nodes`: `None` for a node whose identity names none.
	pub keys: Vec<Option<[u8; 32]>>,
	/// Whether it accepts anchors (enough trusted nodes).
	pub active: bool,
}

impl ServiceView {
	/// How many of its epochs have ended by block `number`: epoch `e` ends where epoch
	/// `e + 1` starts, at `genesis + (e + 1) · epoch_length` (as `ServiceTerms::epoch_end`).
	pub fn epochs_ended(&self, number: u64) -> Epoch {
		let elapsed = number.saturating_sub(self.genesis) / self.epoch_length.max(1);
		Epoch::try_from(elapsed).unwrap_or(Epoch::MAX)
	}

	/// The first block after `epoch` (as `ServiceTerms::epoch_end`): the service's nodes in
	/// that block's state are those that lead and attest the epoch.
	pub fn epoch_end(&self, epoch: Epoch) -> u64 {
		self.genesis.saturating_add(self.epoch_length.saturating_mul(u64::from(epoch) + 1))
	}
}

/// The epoch WebChain anchors next for the service, and the anchor it builds on
/// (`NestAnchor::next_epoch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NextAnchor {
	/// The epoch.
	pub epoch: Epoch,
	/// The hash of the service's latest anchor (zero before its first).
	pub prev: Hash,
}

/// WebChain at a finalized block, as far as a service node is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finalized {
	/// The block's number.
	pub number: u64,
	/// The service there.
	pub service: ServiceView,
	/// Its next anchor there.
	pub next: NextAnchor,
	/// The roots trusted nodes attested for the next anchor's epoch so far.
	pub pending: Vec<Candidate>,
	/// How many peg arrivals WebChain settled for the service (`NestPeg.ArrivalCount`).
	pub arrivals: u64,
}

/// A root attested for the next anchor's epoch, and who counted for it
/// (`NestAnchor.Pending`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Candidate {
	/// The root.
	pub root: Hash,
	/// The trusted nodes that attested it.
	pub attesters: Vec<[u8; 32]>,
	/// The super nodes that approved it.
	pub approvers: Vec<[u8; 32]>,
}

/// The pauses between attempts to reach WebChain: from a quarter second, doubling up to
/// [`MAX_BACKOFF`], and short again after a success.
#[derive(Debug)]
pub struct Backoff {
	pause: Duration,
}

impl Default for Backoff {
	fn default() -> Self {
		Backoff { pause: FIRST_BACKOFF }
	}
}

impl Backoff {
	/// Says why the attempt to reach `url` failed, and waits before the next: longer each time.
	pub async fn wait(&mut self, url: &str, error: impl std::fmt::Display) {
		tracing::warn!(target: "webchain", "{url}: {error}; again in {:?}", self.pause);
		tokio::time::sleep(self.pause).await;
		self.pause = (self.pause * 2).min(MAX_BACKOFF);
	}

	/// An attempt succeeded: the next failure waits the shortest pause. Whether failures came
	/// before it.
	fn reset(&mut self) -> bool {
		std::mem::replace(&mut self.pause, FIRST_BACKOFF) > FIRST_BACKOFF
	}
}

/// Follows WebChain at `url` for `service` for as long as the node runs: keeps `devices`
/// current and publishes each finalized block's [`Finalized`] on `finalized`. Reconnects,
/// with growing pauses, whenever WebChain cannot be reached.
pub async fn follow(
	url: String,
	service: ServiceId,
	devices: Arc<DeviceCache>,
	finalized: watch::Sender<Option<Finalized>>,
) {
	let mut backoff = Backoff::default();
	loop {
		let error = follow_once(&url, service, &devices, &finalized, &mut backoff).await;
		backoff.wait(&url, error).await;
	}
}

/// One connection's worth of [`follow`]: returns why it stopped.
async fn follow_once(
	url: &str,
	service: ServiceId,
	devices: &DeviceCache,
	finalized: &watch::Sender<Option<Finalized>>,
	backoff: &mut Backoff,
) -> Error {
	let run = async {
		let chain = Chain::connect(url).await?;
		let client = chain.client();
		let mut blocks = client.stream_blocks().await.map_err(rpc)?;
		while let Some(block) = blocks.next().await {
			let block = block.map_err(rpc)?;
			let at = block.at().await.map_err(rpc)?;
			let number = block.number();
			match devices.last_read() {
				Some(last) if last == number => {}
				// Every block since the last one read, in order: each change at its own block
				// (the stream may skip some), so every node has the same history.
				Some(last) if last < number && number - last <= REPLAY_BLOCKS => {
					for past in last + 1..number {
						let past_at = client.at_block(past).await.map_err(rpc)?;
						read_changes(&past_at, past, service, devices).await?;
					}
					read_changes(&at, number, service, devices).await?;
				}
				// The first block, or a gap whose state WebChain may have pruned: afresh.
				_ => devices.replace(
					number,
					service_devices(&at, service).await?,
					peg_destinations(&at, service).await?,
				),
			}
			devices.read_through(number);
			let Some(view) = service_view(&at, service).await? else {
				tracing::warn!(target: "webchain", "no service {service} at block {number}");
				continue;
			};
			let next = next_anchor(&at, service).await?;
			let pending = pending(&at, service, next.epoch).await?;
			let arrivals = arrival_count(&at, service).await?;
			let at = Finalized { number, service: view, next, pending, arrivals };
			let first = finalized.send_replace(Some(at));
			if backoff.reset() || first.is_none() {
				tracing::info!(target: "webchain", "following {url} from block {number}");
			}
		}
		Err(Error::Offline("the finalized blocks' subscription ended".into()))
	};
	match run.await {
		Ok(never) => never,
		Err(error) => error,
	}
}

/// Reads what block `number` (`at`) changed in the registry: the devices its events name,
/// and the peg destinations.
async fn read_changes(
	at: &AtBlock,
	number: BlockNumber,
	service: ServiceId,
	devices: &DeviceCache,
) -> Result<(), Error> {
	for id in changed_devices(at).await? {
		devices.set(number, id, device(at, service, id).await?);
	}
	devices.set_peg_destinations(number, peg_destinations(at, service).await?);
	Ok(())
}

/// WebChain's state and events at one block.
pub(crate) type AtBlock = subxt::client::ClientAtBlock<
	subxt::PolkadotConfig,
	subxt::client::OnlineClientAtBlockImpl<subxt::PolkadotConfig>,
>;

/// Every device registered for `service` at `at`, with its readers.
async fn service_devices(
	at: &AtBlock,
	service: ServiceId,
) -> Result<HashMap<DeviceId, DeviceEntry>, Error> {
	let address = dynamic::storage::<(u64,), Value>("Devices", "Devices");
	let mut entries = at.storage().iter(address, ()).await.map_err(rpc)?;
	let mut found = Vec::new();
	while let Some(entry) = entries.next().await {
		let entry = entry.map_err(rpc)?;
		let (id,) = entry.key().map_err(rpc)?.decode().map_err(rpc)?;
		let device = entry.value().decode().map_err(rpc)?;
		if device_service(&device)? == Some(service) {
			found.push((id, device));
		}
	}
	let mut devices = HashMap::with_capacity(found.len());
	for (id, device) in found {
		devices.insert(id, entry(&device, readers(at, id).await?)?);
	}
	Ok(devices)
}

/// Device `id` at `at` if it is registered for `service`.
async fn device(
	at: &AtBlock,
	service: ServiceId,
	id: DeviceId,
) -> Result<Option<DeviceEntry>, Error> {
	let Some(device) = registered(at, id).await? else { return Ok(None) };
	if device_service(&device)? != Some(service) {
		return Ok(None);
	}
	Ok(Some(entry(&device, readers(at, id).await?)?))
}

/// The key WebChain's last finalized block has for device `id`, if it is registered.
pub async fn device_key(chain: &Chain, id: DeviceId) -> Result<Option<[u8; 32]>, Error> {
	let at = chain.client().at_current_block().await.map_err(rpc)?;
	let Some(device) = registered(&at, id).await? else { return Ok(None) };
	bytes32(device.at("key")).map(Some).ok_or_else(|| malformed("a device's key"))
}

/// `Devices.Devices(id)` at `at`, decoded with the chain's metadata.
async fn registered(at: &AtBlock, id: DeviceId) -> Result<Option<Value>, Error> {
	let address = dynamic::storage::<(u64,), Value>("Devices", "Devices");
	let value = at.storage().try_fetch(address, (id,)).await.map_err(rpc)?;
	value.map(|v| v.decode().map_err(rpc)).transpose()
}

/// The readers device `id`'s owner granted, at `at`.
async fn readers(at: &AtBlock, id: DeviceId) -> Result<Vec<ReaderKey>, Error> {
	let address = dynamic::storage::<(u64,), Value>("Payloads", "Readers");
	let value = at.storage().try_fetch(address, (id,)).await.map_err(rpc)?;
	value.map_or(Ok(Vec::new()), |v| decode(v.bytes(), "Payloads.Readers"))
}

/// The devices a `Devices` event, or a reader grant or revocation, names in block `at`: the
/// first field of each.
async fn changed_devices(at: &AtBlock) -> Result<Vec<DeviceId>, Error> {
	event_fields(at, "a device event's id", |pallet, event| match pallet {
		"Devices" => true,
		"Payloads" => matches!(event, "ReaderGranted" | "ReaderRevoked"),
		_ => false,
	})
	.await
}

/// The leading fields, decoded as `T` (`what` they are), of the events in block `at` that
/// `wanted(pallet, event)` picks, in order.
async fn event_fields<T: Decode>(
	at: &AtBlock,
	what: &str,
	wanted: impl Fn(&str, &str) -> bool,
) -> Result<Vec<T>, Error> {
	let events = at.events().fetch().await.map_err(rpc)?;
	let mut fields = Vec::new();
	for event in events.iter() {
		let event = event.map_err(rpc)?;
		if wanted(event.pallet_name(), event.event_name()) {
			fields.push(decode(event.field_bytes(), what)?);
		}
	}
	Ok(fields)
}

/// A `Devices.Devices` value of a device of the service as the cache keeps it.
fn entry(device: &Value, readers: Vec<ReaderKey>) -> Result<DeviceEntry, Error> {
	Ok(DeviceEntry {
		key: bytes32(device.at("key")).ok_or_else(|| malformed("a device's key"))?,
		active: variant_name(device.at("status")) == Some("Active"),
		admission: admission(device).ok_or_else(|| malformed("a device's membership"))?,
		readers,
	})
}

/// Where a device of the service stands with its owner: its membership's status (the
/// device's `service` is `Some(Membership { service, status })`).
fn admission(device: &Value) -> Option<Admission> {
	let status = device.at("service")?.at(0)?.at("status");
	match variant_name(status)? {
		"Requested" => Some(Admission::Requested),
		"Admitted" => Some(Admission::Admitted { may_lock: status?.at("may_lock")?.as_bool()? }),
		_ => None,
	}
}

/// The services `service`'s policy lets its devices lock value to
/// (`ServiceRegistry.Policies`) that exist and are active at `at`.
async fn peg_destinations(at: &AtBlock, service: ServiceId) -> Result<Vec<ServiceId>, Error> {
	let address = dynamic::storage::<(u32,), Value>("ServiceRegistry", "Policies");
	let Some(policy) = at.storage().try_fetch(address, (service,)).await.map_err(rpc)? else {
		return Ok(Vec::new());
	};
	let policy = policy.decode().map_err(rpc)?;
	let named = policy.at("lock_destinations").and_then(numbers);
	let mut active = Vec::new();
	for destination in named.ok_or_else(|| malformed("a service's lock destinations"))? {
		if service_view(at, destination).await?.is_some_and(|view| view.active) {
			active.push(destination);
		}
	}
	Ok(active)
}

/// `ServiceRegistry.Services(service)` at `at`.
async fn service_view(at: &AtBlock, service: ServiceId) -> Result<Option<ServiceView>, Error> {
	let address = dynamic::storage::<(u32,), Value>("ServiceRegistry", "Services");
	let Some(value) = at.storage().try_fetch(address, (service,)).await.map_err(rpc)? else {
		return Ok(None);
	};
	let value = value.decode().map_err(rpc)?;
	let nodes =
		value.at("nodes").and_then(accounts).ok_or_else(|| malformed("a service's nodes"))?;
	let mut keys = Vec::with_capacity(nodes.len());
	for node in &nodes {
		keys.push(node_key(at, node).await?);
	}
	Ok(Some(ServiceView {
		epoch_length: number(value.at("epoch_length"))?,
		genesis: number(value.at("genesis"))?,
		nodes,
		keys,
		active: variant_name(value.at("status")) == Some("Active"),
	}))
}

/// The node key `account`'s on-chain identity names (`Identity.IdentityOf`, its
/// [`crate::node_key::IDENTITY_FIELD`] field), if it has one of 32 bytes.
async fn node_key(at: &AtBlock, account: &[u8; 32]) -> Result<Option<[u8; 32]>, Error> {
	let address = dynamic::storage::<([u8; 32],), Value>("Identity", "IdentityOf");
	let Some(value) = at.storage().try_fetch(address, (*account,)).await.map_err(rpc)? else {
		return Ok(None);
	};
	identity_key(&value.decode().map_err(rpc)?)
}

/// The node key an identity's registration names.
fn identity_key(registration: &Value) -> Result<Option<[u8; 32]>, Error> {
	let additional = registration.at("info").and_then(|info| info.at("additional"));
	let additional = additional.ok_or_else(|| malformed("an identity's additional fields"))?;
	let mut pairs = Vec::new();
	data_pairs(additional, &mut pairs);
	Ok(pairs.into_iter().find_map(|(name, value)| {
		(raw_data(name)? == crate::node_key::IDENTITY_FIELD)
			.then(|| raw_data(value)?.try_into().ok())
			.flatten()
	}))
}

/// The `(Data, Data)` pairs under `value`, whatever the metadata wraps them in: a pair is
/// the one composite of exactly two variants (a sequence of one pair is not mistaken for
/// the pair's newtype).
fn data_pairs<'a>(value: &'a Value, pairs: &mut Vec<(&'a Value, &'a Value)>) {
	let ValueDef::Composite(composite) = &value.value else { return };
	let fields: Vec<&Value> = composite.values().collect();
	match fields.as_slice() {
		[name, data]
			if matches!(name.value, ValueDef::Variant(_))
				&& matches!(data.value, ValueDef::Variant(_)) =>
		{
			pairs.push((name, data))
		}
		fields => fields.iter().for_each(|field| data_pairs(field, pairs)),
	}
}

/// The bytes of an identity's `Data::RawN` field.
fn raw_data(value: &Value) -> Option<Vec<u8>> {
	let ValueDef::Variant(variant) = &value.value else { return None };
	variant.name.strip_prefix("Raw")?;
	let mut bytes = Vec::new();
	for field in variant.values.values() {
		bytes.extend(leaf_bytes(field)?);
	}
	Some(bytes)
}

/// `NestAnchor::next_epoch(service)` at `at`, from `NestAnchor.Latest`.
async fn next_anchor(at: &AtBlock, service: ServiceId) -> Result<NextAnchor, Error> {
	let address = dynamic::storage::<(u32,), Value>("NestAnchor", "Latest");
	let Some(value) = at.storage().try_fetch(address, (service,)).await.map_err(rpc)? else {
		return Ok(NextAnchor { epoch: 0, prev: Hash::zero() });
	};
	// A `LatestAnchor` starts with its epoch and hash.
	let (epoch, prev): (Epoch, Hash) = decode(value.bytes(), "NestAnchor.Latest")?;
	Ok(NextAnchor { epoch: epoch.saturating_add(1), prev })
}

/// The block in which WebChain skipped `service`'s `epoch` (`NestAnchor.Anchors`: an anchor
/// with no state), if it had by its finalized block `block`.
pub async fn skipped_in(
	chain: &Chain,
	service: ServiceId,
	epoch: Epoch,
	block: u64,
) -> Result<Option<u64>, Error> {
	let at = chain.client().at_block(block).await.map_err(rpc)?;
	let address = dynamic::storage::<(u32, u32), Value>("NestAnchor", "Anchors");
	let Some(value) = at.storage().try_fetch(address, (service, epoch)).await.map_err(rpc)? else {
		return Ok(None);
	};
	let value = value.decode().map_err(rpc)?;
	let skipped = value.at("skipped").and_then(Value::as_bool);
	match skipped.ok_or_else(|| malformed("an anchor's skipped flag"))? {
		true => Ok(Some(number(value.at("anchored_at"))?)),
		false => Ok(None),
	}
}

/// The roots pending for `service`'s `epoch` at `at` (`NestAnchor.Pending`).
async fn pending(at: &AtBlock, service: ServiceId, epoch: Epoch) -> Result<Vec<Candidate>, Error> {
	let address = dynamic::storage::<(u32,), Value>("NestAnchor", "Pending");
	let Some(value) = at.storage().try_fetch(address, (service,)).await.map_err(rpc)? else {
		return Ok(Vec::new());
	};
	let value = value.decode().map_err(rpc)?;
	if number::<Epoch>(value.at(0))? != epoch {
		return Ok(Vec::new());
	}
	let candidates = value.at(1).and_then(items).ok_or_else(|| malformed("the pending roots"))?;
	candidates
		.iter()
		.map(|c| {
			Some(Candidate {
				root: Hash::from(bytes32(c.at("root"))?),
				attesters: accounts(c.at("attesters")?)?,
				approvers: accounts(c.at("approvers")?)?,
			})
		})
		.collect::<Option<_>>()
		.ok_or_else(|| malformed("a pending root"))
}

/// How many peg arrivals WebChain settled for `service` by `at` (`NestPeg.ArrivalCount`).
async fn arrival_count(at: &AtBlock, service: ServiceId) -> Result<u64, Error> {
	let address = dynamic::storage::<(u32,), Value>("NestPeg", "ArrivalCount");
	let value = at.storage().try_fetch(address, (service,)).await.map_err(rpc)?;
	value.map_or(Ok(0), |v| decode(v.bytes(), "NestPeg.ArrivalCount"))
}

/// `service`'s peg arrivals `numbers` in the state of finalized block `number`
/// (`NestPeg.Arrivals`), in order; stops at the first WebChain does not have.
pub async fn arrivals_at(
	chain: &Chain,
	service: ServiceId,
	number: u64,
	numbers: std::ops::Range<u64>,
) -> Result<Vec<PegArrival<AccountId32>>, Error> {
	let at = chain.client().at_block(number).await.map_err(rpc)?;
	let address = dynamic::storage::<(u32, u64), Value>("NestPeg", "Arrivals");
	let mut arrivals = Vec::new();
	for index in numbers {
		let Some(value) = at.storage().try_fetch(&address, (service, index)).await.map_err(rpc)?
		else {
			break;
		};
		arrivals.push(decode(value.bytes(), "NestPeg.Arrivals")?);
	}
	Ok(arrivals)
}

/// The locks of `service` claimed in finalized block `number` (its `NestPeg.Claimed` events).
pub async fn claimed_in(
	chain: &Chain,
	service: ServiceId,
	number: u64,
) -> Result<Vec<Hash>, Error> {
	let at = chain.client().at_block(number).await.map_err(rpc)?;
	// `Claimed` starts with its source and lock id.
	let claimed: Vec<(ServiceId, Hash)> = event_fields(&at, "NestPeg.Claimed", |pallet, event| {
		(pallet, event) == ("NestPeg", "Claimed")
	})
	.await?;
	Ok(claimed.into_iter().filter(|(source, _)| *source == service).map(|(_, id)| id).collect())
}

/// The name of the variant `value` is.
pub(crate) fn variant_name(value: Option<&Value>) -> Option<&str> {
	match &value?.value {
		ValueDef::Variant(variant) => Some(&variant.name),
		_ => None,
	}
}

/// A number field.
pub(crate) fn number<T: TryFrom<u128>>(value: Option<&Value>) -> Result<T, Error> {
	value
		.and_then(|v| v.as_u128())
		.and_then(|v| T::try_from(v).ok())
		.ok_or_else(|| malformed("a number field"))
}

/// A 32-byte account id or hash, however deep the metadata nests its bytes.
fn bytes32(value: Option<&Value>) -> Option<[u8; 32]> {
	leaf_bytes(value?)?.try_into().ok()
}

/// A list of 32-byte account ids (a `Vec` or `BoundedVec` of them): their bytes in order.
fn accounts(value: &Value) -> Option<Vec<[u8; 32]>> {
	let bytes = leaf_bytes(value)?;
	let accounts = bytes.chunks_exact(32);
	accounts.remainder().is_empty().then(|| accounts.map(|a| a.try_into().expect("32")).collect())
}

/// Every byte under `value`, in order: what an account, a hash or a list of them is made of,
/// whatever newtypes the metadata wraps them in.
fn leaf_bytes(value: &Value) -> Option<Vec<u8>> {
	fn collect(value: &Value, out: &mut Vec<u8>) -> Option<()> {
		match &value.value {
			ValueDef::Composite(inner) => inner.values().try_for_each(|v| collect(v, out)),
			_ => {
				out.push(u8::try_from(value.as_u128()?).ok()?);
				Some(())
			}
		}
	}
	let mut out = Vec::new();
	collect(value, &mut out)?;
	Some(out)
}

/// A list of service ids (a `Vec` or `BoundedVec` of them), in order.
fn numbers(value: &Value) -> Option<Vec<ServiceId>> {
	items(value)?.iter().map(|v| v.as_u128().and_then(|n| n.try_into().ok())).collect()
}

/// The items of a sequence (a `Vec`, or a `BoundedVec` wrapping one).
fn items(value: &Value) -> Option<Vec<&Value>> {
	let ValueDef::Composite(composite) = &value.value else { return None };
	let values: Vec<&Value> = composite.values().collect();
	match values.as_slice() {
		// A newtype around the sequence: its one field is itself an unnamed composite.
		[inner] if matches!(&inner.value, ValueDef::Composite(Composite::Unnamed(_))) => {
			items(inner)
		}
		_ => Some(values),
	}
}

pub(crate) fn decode<T: Decode>(mut bytes: &[u8], what: &str) -> Result<T, Error> {
	T::decode(&mut bytes).map_err(|e| Error::Metadata(format!("{what} does not decode: {e}")))
}

pub(crate) fn malformed(what: &str) -> Error {
	Error::Metadata(format!("{what} is not as this service node reads it"))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn epochs_end_where_the_next_starts() {
		let view =
			ServiceView { epoch_length: 5, genesis: 12, nodes: vec![], keys: vec![], active: true };
		assert_eq!(view.epochs_ended(0), 0);
		assert_eq!(view.epochs_ended(16), 0);
		assert_eq!(view.epochs_ended(17), 1, "epoch 0 is blocks 12..17");
		assert_eq!(view.epochs_ended(27), 3);
		assert_eq!(view.epoch_end(0), 17);
		assert_eq!(view.epochs_ended(view.epoch_end(4)), 5);
	}

	#[test]
	fn accounts_and_variants_are_read_from_the_metadatas_shapes() {
		let id = Value::unnamed_composite([Value::from_bytes([7u8; 32])]);
		assert_eq!(bytes32(Some(&id)), Some([7; 32]));
		assert_eq!(bytes32(Some(&Value::from_bytes([1u8; 31]))), None);
		let member = |status| {
			Value::unnamed_variant(
				"Some",
				[Value::named_composite([("service", Value::u128(4)), ("status", status)])],
			)
		};
		let admitted = Value::named_variant("Admitted", [("may_lock", Value::bool(true))]);
		let device = Value::named_composite([
			("key", id.clone()),
			("service", member(admitted)),
			("status", Value::unnamed_variant("Suspended", [])),
		]);
		assert_eq!(device_service(&device).unwrap(), Some(4));
		let entry = entry(&device, vec![[9; 32]]).unwrap();
		let admitted = Admission::Admitted { may_lock: true };
		let expected = DeviceEntry {
			key: [7; 32],
			active: false,
			admission: admitted,
			readers: vec![[9; 32]],
		};
		assert_eq!(entry, expected);
		let asking = Value::named_composite([
			("key", id),
			("service", member(Value::unnamed_variant("Requested", []))),
			("status", Value::unnamed_variant("Active", [])),
		]);
		assert_eq!(admission(&asking), Some(Admission::Requested));
		let none = Value::named_composite([("service", Value::unnamed_variant("None", []))]);
		assert_eq!(device_service(&none).unwrap(), None);
		assert_eq!(admission(&none), None);
	}

	#[test]
	fn lists_are_read_through_the_bounded_vec_newtype() {
		let account = |b: u8| Value::unnamed_composite([Value::from_bytes([b; 32])]);
		let bounded =
			|items: Vec<Value>| Value::unnamed_composite([Value::unnamed_composite(items)]);
		let nodes = bounded(vec![account(1), account(2)]);
		assert_eq!(accounts(&nodes), Some(vec![[1; 32], [2; 32]]));
		let services = bounded(vec![Value::u128(4), Value::u128(2)]);
		assert_eq!(numbers(&services), Some(vec![4, 2]));
		assert_eq!(numbers(&bounded(vec![])), Some(vec![]));
		assert_eq!(accounts(&bounded(vec![])), Some(vec![]));
		assert_eq!(accounts(&Value::from_bytes([1u8; 33])), None);

		let candidate = |b: u8| Value::named_composite([("root", account(b))]);
		for count in 0..3u8 {
			let candidates = bounded((0..count).map(candidate).collect());
			let roots: Vec<_> =
				items(&candidates).unwrap().iter().map(|c| bytes32(c.at("root"))).collect();
			assert_eq!(roots, (0..count).map(|b| Some([b; 32])).collect::<Vec<_>>());
		}
	}

	#[test]
	fn a_node_key_is_read_from_its_identitys_field_and_nothing_else() {
		let raw = |bytes: &[u8]| {
			let variant = format!("Raw{}", bytes.len());
			Value::unnamed_variant(variant, [Value::from_bytes(bytes)])
		};
		let identity = |fields: Vec<(Value, Value)>| {
			let fields = fields.into_iter().map(|(k, v)| Value::unnamed_composite([k, v]));
			let additional = Value::unnamed_composite([Value::unnamed_composite(fields)]);
			let info =
				Value::named_composite([("additional", additional), ("display", raw(b"node 1"))]);
			Value::named_composite([("judgements", Value::unnamed_composite([])), ("info", info)])
		};
		let key = [5u8; 32];
		let other = (raw(b"discord"), raw(b"node#1"));
		let named =
			identity(vec![other.clone(), (raw(crate::node_key::IDENTITY_FIELD), raw(&key))]);
		assert_eq!(identity_key(&named).unwrap(), Some(key));
		// The one field a node's identity usually has: a sequence of one pair, in the
		// bounded vector's newtype, is not read as the pair itself.
		let alone = identity(vec![(raw(crate::node_key::IDENTITY_FIELD), raw(&key))]);
		assert_eq!(identity_key(&alone).unwrap(), Some(key));
		assert_eq!(identity_key(&identity(vec![other])).unwrap(), None);
		let short = identity(vec![(raw(crate::node_key::IDENTITY_FIELD), raw(&key[..31]))]);
		assert_eq!(identity_key(&short).unwrap(), None, "a key is 32 bytes");
		let hashed = Value::unnamed_variant("BlakeTwo256", [Value::from_bytes(key)]);
		let hashed = identity(vec![(raw(crate::node_key::IDENTITY_FIELD), hashed)]);
		assert_eq!(identity_key(&hashed).unwrap(), None, "only raw data is a key");
		let broken = Value::named_composite([("judgements", Value::u128(1))]);
		assert!(identity_key(&broken).is_err());
	}
}
