//! `thingschain-device`: onboard IoT devices and move their encrypted data through ThingsChain.
//!
//! ```text
//! thingschain-device keygen --out device.json
//! thingschain-device register --owner //Bob --keys device.json [--service 0]
//! thingschain-device admit --owner //Alice --device 0 --service 0 [--may-lock]
//!                                          (as the service's owner)
//! thingschain-device grant --owner //Bob --device 0 --reader <x25519 hex>
//! thingschain-device enqueue --queue ./queue --data '21.5 C'      (works offline)
//! thingschain-device flush --keys device.json --queue ./queue      (retries until online)
//! thingschain-device flush --keys device.json --queue ./queue --nest ws://service-node:9955
//!                                          (to its service's NestChain; WebChain while down)
//! thingschain-device fetch --device 0 --keys reader.json           (decrypts what it may)
//! ```

use clap::{Parser, Subcommand};
use std::{path::PathBuf, process::ExitCode, time::Duration};
use thingschain_device::{
	keys::{decode32, signer_from_uri},
	nest::{self, ServiceNode},
	Chain, DeviceId, DeviceKeys, Error, FeeLimits, FlushReport, Queue, Registration,
};
use thingschain_device_core::{open, OpenError};
use thingschain_primitives::envelope::{Payload, Provenance};

#[derive(Parser)]
#[command(name = "thingschain-device", version, about)]
struct Cli {
	/// The node's WebSocket RPC endpoint.
	#[arg(long, global = true, default_value = "ws://127.0.0.1:9944")]
	url: String,
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Generate a device's (or a reader's) keys into a new key file.
	Keygen {
		#[arg(long)]
		out: PathBuf,
	},
	/// Show a key file's device account and X25519 reader key.
	Show {
		#[arg(long)]
		keys: PathBuf,
	},
	/// Register the device of a key file, owned and paid for by `--owner`: the device key signs
	/// its binding to that owner, who the key file then pins.
	Register {
		/// The owner's secret URI (`//Bob`, a mnemonic, `0x<seed>`).
		#[arg(long)]
		owner: String,
		#[arg(long)]
		keys: PathBuf,
		/// Sensor, Actuator, Gateway or Other.
		#[arg(long, default_value = "Sensor")]
		kind: String,
		/// The NestChain service the device is to write to. Unless `--owner` owns it or it is
		/// open, the device asks to join and the service's owner admits it (`admit`).
		#[arg(long)]
		service: Option<u64>,
		#[arg(long, default_value = "")]
		metadata: String,
		/// Blocks its records are kept (1,800 = one hour at 2-second blocks; the default is a
		/// day).
		#[arg(long, default_value_t = 43_200)]
		retention: u32,
		/// Fee window, in blocks (the default is an hour).
		#[arg(long, default_value_t = 1_800)]
		window: u32,
		/// Most transactions per window.
		#[arg(long, default_value_t = 1_000)]
		max_transactions: u32,
		/// Most fees per window, in plancks (10^-12 TIC).
		#[arg(long, default_value_t = 1_000_000_000_000)]
		max_fees: u128,
		/// Most record deposits held at once, in plancks (the default is 10 TIC).
		#[arg(long, default_value_t = 10_000_000_000_000)]
		max_deposits: u128,
	},
	/// Admit a device that asked to join a service, as the service's owner.
	Admit {
		/// The service owner's secret URI.
		#[arg(long)]
		owner: String,
		#[arg(long)]
		device: DeviceId,
		/// The service it asked to join.
		#[arg(long)]
		service: u32,
		/// Let it lock value on the peg, to the destinations the service's policy names.
		#[arg(long)]
		may_lock: bool,
	},
	/// Take a device out of its service, as its owner or the service's.
	LeaveService {
		/// The device owner's or the service owner's secret URI.
		#[arg(long)]
		owner: String,
		#[arg(long)]
		device: DeviceId,
	},
	/// Let a reader read the device's new records.
	Grant(ReaderChange),
	/// Stop sealing the device's new records for a reader.
	Revoke(ReaderChange),
	/// Queue a reading on the device; needs no connection.
	Enqueue {
		#[arg(long)]
		queue: PathBuf,
		#[arg(long)]
		data: String,
		/// Store it as plain data anyone can read, instead of encrypted.
		#[arg(long)]
		public: bool,
	},
	/// Send every queued reading, sealed for the device's readers; retry while offline.
	Flush {
		#[arg(long)]
		keys: PathBuf,
		#[arg(long)]
		queue: PathBuf,
		/// Attempts before giving up (the readings stay queued).
		#[arg(long, default_value_t = 5)]
		attempts: u32,
		/// Seconds between attempts.
		#[arg(long, default_value_t = 10)]
		retry_delay: u64,
		/// A node of the device's service (`ws://…`): its private readings go there, and to
		/// WebChain only while that node cannot be reached.
		#[arg(long)]
		nest: Option<String>,
	},
	/// Print a device's records, one JSON object per line, decrypting those sealed for
	/// `--keys`.
	Fetch {
		#[arg(long)]
		device: DeviceId,
		/// The reader's key file; without it nothing is decrypted.
		#[arg(long)]
		keys: Option<PathBuf>,
	},
}

/// A change of a device's readers, by its owner.
#[derive(clap::Args)]
struct ReaderChange {
	/// The owner's secret URI.
	#[arg(long)]
	owner: String,
	#[arg(long)]
	device: DeviceId,
	/// The reader's X25519 key, hex (`show` prints it).
	#[arg(long)]
	reader: String,
}

impl ReaderChange {
	/// The owner's key and the reader's, checked before connecting.
	fn keys(&self) -> Result<(subxt_signer::sr25519::Keypair, [u8; 32]), Error> {
		Ok((signer_from_uri(&self.owner)?, decode32(&self.reader)?))
	}
}

#[tokio::main]
async fn main() -> ExitCode {
	match run(Cli::parse()).await {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("error: {e}");
			ExitCode::FAILURE
		}
	}
}

async fn run(cli: Cli) -> Result<(), Error> {
	match cli.command {
		Command::Keygen { out } => {
			let keys = DeviceKeys::generate();
			keys.save(&out)?;
			show(&keys);
		}
		Command::Show { keys } => show(&DeviceKeys::load(&keys)?),
		Command::Register {
			owner,
			keys,
			kind,
			service,
			metadata,
			retention,
			window,
			max_transactions,
			max_fees,
			max_deposits,
		} => {
			let (owner, path) = (signer_from_uri(&owner)?, keys);
			let mut keys = DeviceKeys::load(&path)?;
			let registration = Registration {
				kind,
				service,
				metadata: metadata.into_bytes(),
				retention,
				limits: FeeLimits { window, max_transactions, max_fees, max_deposits },
			};
			let chain = Chain::connect(&cli.url).await?;
			let owner_account = owner.public_key().to_account_id();
			let binding = chain.key_binding(&owner_account, &keys.account()).await?;
			let proof = keys.prove_binding(&path, &binding)?;
			let registered =
				chain.register_device(&owner, &keys.account(), proof, &registration).await?;
			let id = registered.id;
			println!(
				"device {id} registered, signing as {}, owned by {owner_account}",
				keys.account()
			);
			if let (Some(service), false) = (service, registered.admitted) {
				println!(
					"device {id} asked to join service {service}: its owner admits it with \
					 `thingschain-device admit --device {id} --service {service}`"
				);
			}
		}
		Command::Admit { owner, device, service, may_lock } => {
			let owner = signer_from_uri(&owner)?;
			let chain = Chain::connect(&cli.url).await?;
			let included = chain.admit(&owner, device, service, may_lock).await?;
			let locks = if may_lock { ", may lock value" } else { "" };
			println!("device {device} admitted{locks} in block {}", included.block);
		}
		Command::LeaveService { owner, device } => {
			let who = signer_from_uri(&owner)?;
			let chain = Chain::connect(&cli.url).await?;
			let included = chain.leave_service(&who, device).await?;
			println!("device {device} left its service in block {}", included.block);
		}
		Command::Grant(change) => {
			let (owner, reader) = change.keys()?;
			let chain = Chain::connect(&cli.url).await?;
			let included = chain.grant_reader(&owner, change.device, reader).await?;
			println!("reader granted in block {}", included.block);
		}
		Command::Revoke(change) => {
			let (owner, reader) = change.keys()?;
			let chain = Chain::connect(&cli.url).await?;
			let included = chain.revoke_reader(&owner, change.device, reader).await?;
			println!("reader revoked in block {}", included.block);
		}
		Command::Enqueue { queue, data, public } => {
			let seq = Queue::open(&queue)?.push(data.as_bytes(), public)?;
			println!("reading {seq} queued");
		}
		Command::Flush { keys, queue, attempts, retry_delay, nest } => {
			let to = Destination { webchain: &cli.url, service_node: nest.as_deref() };
			let (keys, queue) = (DeviceKeys::load(&keys)?, Queue::open(&queue)?);
			flush_with_retries(to, &keys, &queue, attempts, Duration::from_secs(retry_delay))
				.await?
		}
		Command::Fetch { device, keys } => {
			let reader = keys.map(|path| DeviceKeys::load(&path)).transpose()?;
			let chain = Chain::connect(&cli.url).await?;
			let provenance = Provenance { genesis_hash: chain.genesis_hash().into(), device };
			for (record, payload) in chain.records(device).await? {
				println!("{}", describe(record, &payload, &provenance, reader.as_ref()));
			}
		}
	}
	Ok(())
}

fn show(keys: &DeviceKeys) {
	println!("device account: {}", keys.account());
	println!("reader key: 0x{}", hex::encode(keys.reader_key()));
}

/// Where a flush sends readings.
#[derive(Clone, Copy)]
struct Destination<'a> {
	/// A WebChain node's URL.
	webchain: &'a str,
	/// A service node's URL, if the device writes to its service's NestChain.
	service_node: Option<&'a str>,
}

/// One attempt: to the service node if there is one and it can be reached (readings sealed
/// for it stay its own), then to WebChain for the others.
async fn flush_once(
	to: Destination<'_>,
	keys: &DeviceKeys,
	queue: &Queue,
) -> Result<FlushReport, Error> {
	let chain = Chain::connect(to.webchain).await?;
	let mut report = FlushReport::default();
	let mut reached = false;
	if let Some(url) = to.service_node {
		match ServiceNode::connect(url).await {
			Ok(node) => {
				report = nest::flush(&chain, &node, keys, queue).await?;
				reached = true;
			}
			Err(e) => eprintln!("{e}: readings no service node took go to WebChain"),
		}
	}
	let on_chain = match reached {
		true => thingschain_device::queue::flush_beside_service_node(&chain, keys, queue).await?,
		false => thingschain_device::flush(&chain, keys, queue).await?,
	};
	Ok(FlushReport {
		stored: report.stored + on_chain.stored,
		fees: on_chain.fees,
		errors: report.errors.into_iter().chain(on_chain.errors).collect(),
		remaining: on_chain.remaining,
	})
}

/// Flushes until the queue is empty or `attempts` are used; failures that may pass (offline,
/// a full block) wait `delay` and try again.
async fn flush_with_retries(
	to: Destination<'_>,
	keys: &DeviceKeys,
	queue: &Queue,
	attempts: u32,
	delay: Duration,
) -> Result<(), Error> {
	let (mut stored, mut fees) = (0, 0);
	for attempt in 1..=attempts.max(1) {
		match flush_once(to, keys, queue).await {
			Ok(report) => {
				stored += report.stored;
				fees += report.fees;
				for e in &report.errors {
					eprintln!("attempt {attempt}: {e}");
				}
				if report.remaining == 0 {
					println!("{stored} readings stored, fees paid by the owner: {fees}");
					return Ok(());
				}
			}
			Err(e) if e.is_transient() => eprintln!("attempt {attempt}: {e}"),
			Err(e) => return Err(e),
		}
		if attempt < attempts {
			tokio::time::sleep(delay).await;
		}
	}
	let remaining = queue.pending()?.len();
	println!("{stored} readings stored, fees paid by the owner: {fees}");
	Err(Error::Offline(format!("{remaining} readings kept in the queue; flush again later")))
}

/// One record of the device and chain of `provenance` as a JSON line: public data, the
/// plaintext if `reader` may open it, else only what anyone sees (sizes and recipients count).
fn describe(
	record: u64,
	payload: &Payload,
	provenance: &Provenance,
	reader: Option<&DeviceKeys>,
) -> serde_json::Value {
	use serde_json::json;
	let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
	match payload {
		Payload::Public(data) => json!({"record": record, "status": "public", "data": text(data)}),
		Payload::Encrypted(envelope) => {
			let sealed = json!({
				"record": record,
				"status": "sealed",
				"ciphertext_bytes": envelope.body.size(),
				"recipients": envelope.recipients.len(),
			});
			match reader.map(|keys| open(envelope, provenance, None, &keys.reader)) {
				Some(Ok(plain)) => {
					json!({"record": record, "status": "decrypted", "data": text(&plain)})
				}
				Some(Err(OpenError::NotARecipient)) | None => sealed,
				Some(Err(e)) => {
					json!({"record": record, "status": "unreadable", "error": e.to_string()})
				}
			}
		}
	}
}
