//! The NestChain side of a run: services owned by Bob, each trusting the same
//! identity-verified service nodes, and one super node whose approval anchors an epoch.
//!
//! ```text
//!  Alice         fund the nodes
//!  governance    add Alice as registrar, create the services: Alice as sudo on a dev
//!                chain, or a `nest_admin` referendum on a chain without sudo
//!  each node     set an identity naming its node key and ask Alice to judge it; the
//!                super node stakes
//!  Alice         judge every node KnownGood
//!  Bob (owner)   trust every node in every service
//!  node 0        attest epoch 0 of every service
//!  ─── the run ── nodes 1.. attest epoch 0 of every service, the super node approves it;
//!                 whichever comes last anchors the epoch (no order between them matters)
//! ```

use crate::{
	accounts::{self, address, call, first_fields, send_batches, TIC},
	governance::{self, Electorate},
	network, observe,
	workload::named,
};
use codec::Encode;
use std::{
	net::{IpAddr, Ipv4Addr, SocketAddr},
	path::Path,
	time::Duration,
};
use subxt::{dynamic::Value, OnlineClient, PolkadotConfig};
use subxt_signer::sr25519::{dev, Keypair};
use thingschain_device::{chain::DeviceSigning, Chain, Error};
use thingschain_device_core::signing::DeviceKey;
use thingschain_primitives::ids::{Hash, ServiceId};

/// Attestations per setup batch: an attestation weighs up to ~3 ms.
const ATTEST_BATCH: usize = 100;
/// What each node and the super node get from Alice: fees and the identity deposit.
const NODE_FUNDS: u128 = 1_000 * TIC;

/// The services of a run and who attests and approves them.
pub struct Nest {
	/// Each service and the root its epoch 0 is attested with.
	pub services: Vec<(ServiceId, Hash)>,
	/// The nodes that attest during the run (every node but node 0, which attested in setup).
	pub attesters: Vec<DeviceKey>,
	/// The super node that approves every anchor.
	pub super_node: DeviceKey,
}

/// Who makes the setup's privileged calls: appointing the registrar, creating services.
pub enum Authority<'a> {
	/// Alice, the dev chain's sudo key.
	Sudo,
	/// A `nest_admin` referendum that this electorate passes.
	Referendum(&'a Electorate),
}

/// The nonce of the run's first transaction of every attester and of the super node: each
/// sent one setup transaction.
pub const FIRST_NONCE: u64 = 1;

/// The registry's rules a run's setup follows (`ServiceRegistry` constants).
#[derive(Clone, Copy, Debug)]
pub struct Rules {
	/// The most trusted nodes a service may have.
	pub max_nodes: usize,
	/// The shortest epoch, in blocks: the run's services use it, so epoch 0 ends soon.
	pub min_epoch: u32,
	/// The smallest super-node stake.
	pub min_stake: u128,
}

impl Rules {
	/// Reads them from the chain's metadata.
	pub async fn read(client: &OnlineClient<PolkadotConfig>) -> Result<Self, String> {
		let at = client.at_current_block().await.map_err(|e| e.to_string())?;
		let number = |name: &str| {
			observe::constant(at.metadata_ref(), "ServiceRegistry", name)?
				.as_u128()
				.ok_or_else(|| format!("ServiceRegistry.{name} is not a number"))
		};
		Ok(Rules {
			max_nodes: number("MaxServiceNodes")? as usize,
			min_epoch: number("MinEpochLength")? as u32,
			min_stake: number("MinSuperNodeStake")?,
		})
	}
}

/// Sets up `services` services, each trusting `nodes` service nodes (quorum: all of them),
/// with node 0's attestation of epoch 0 in every one, the privileged calls made by
/// `authority`; see the module's picture.
pub async fn set_up(
	chain: &Chain,
	signing: &DeviceSigning,
	authority: Authority<'_>,
	rules: Rules,
	nodes: usize,
	services: usize,
) -> Result<Nest, Error> {
	let trusted = trust_nodes(chain, signing, authority, rules, nodes, services).await?;
	let services: Vec<(ServiceId, Hash)> =
		trusted.services.iter().map(|service| (*service, root(*service))).collect();
	let epoch_ends = trusted.created_at + u64::from(rules.min_epoch);
	let ended = || async { chain.best_number().await.ok().filter(|best| *best >= epoch_ends) };
	network::poll(Duration::from_secs(120), ended)
		.await
		.ok_or_else(|| Error::Rpc(format!("block {epoch_ends}, the end of epoch 0, never came")))?;
	let first = services
		.iter()
		.map(|(service, root)| call("NestAnchor", "attest", attest_fields(*service, *root)));
	send_batches(chain, &trusted.nodes[0], first.collect(), ATTEST_BATCH).await?;

	Ok(Nest {
		services,
		attesters: (1..nodes).map(|i| accounts::key(NODE_ROLE, i)).collect(),
		super_node: accounts::key(SUPER_ROLE, 0),
	})
}

/// The identity field that names a service node's node key (`thingschain_nest::node_key`).
const NODE_KEY_FIELD: &[u8] = b"tc-nest-key";

/// Service node `index`'s node key (its libp2p identity and agreement key), from its seed:
/// written into its data directory before it starts ([`NestProcess::start`]), and named by
/// its on-chain identity ([`trust_nodes`]).
pub fn node_key(index: usize) -> libp2p::identity::Keypair {
	let mut secret = crate::hash(&(b"thingschain-bench/node-key", index as u64).encode());
	libp2p::identity::Keypair::ed25519_from_bytes(&mut secret)
		.expect("any 32 bytes are an ed25519 secret")
}

/// The public half of [`node_key`], as the node's identity names it.
pub fn node_key_public(index: usize) -> [u8; 32] {
	let key = node_key(index).try_into_ed25519().expect("node keys are ed25519");
	key.public().to_bytes()
}

/// The role of the service nodes' keys ([`accounts::seed`]).
pub const NODE_ROLE: &str = "service-node";
/// The role of the super node's key ([`accounts::seed`]).
pub const SUPER_ROLE: &str = "super-node";

/// Services whose nodes are trusted and a staked super node, before any attestation.
pub struct Trusted {
	/// The services.
	pub services: Vec<ServiceId>,
	/// The block the last of them was created in: each one's epoch 0 starts there or before.
	pub created_at: u64,
	/// The trusted nodes of every service, in the order each service lists them
	/// ([`NODE_ROLE`] keys).
	pub nodes: Vec<Keypair>,
	/// The staked super node ([`SUPER_ROLE`] key 0).
	pub super_node: Keypair,
}

/// Everything [`set_up`] does before the first attestation: funds `nodes` service nodes and a
/// super node, creates `services` services (quorum: all the nodes) with the shortest epoch,
/// has every node's identity judged and trusted by every service, and the super node staked.
pub async fn trust_nodes(
	chain: &Chain,
	signing: &DeviceSigning,
	authority: Authority<'_>,
	rules: Rules,
	nodes: usize,
	services: usize,
) -> Result<Trusted, Error> {
	let alice = dev::alice();
	let node_keys: Vec<_> = (0..nodes).map(|i| accounts::keypair(NODE_ROLE, i)).collect();
	let super_node = accounts::keypair(SUPER_ROLE, 0);
	let funding = node_keys.iter().chain([&super_node]).map(|k| {
		call(
			"Balances",
			"transfer_keep_alive",
			vec![
				("dest", address(k.public_key().0)),
				("value", Value::u128(NODE_FUNDS + rules.min_stake)),
			],
		)
	});
	send_batches(chain, &alice, funding.collect(), accounts::BATCH).await?;

	let registrar = address(alice.public_key().0);
	let mut privileged = vec![call("Identity", "add_registrar", vec![("account", registrar)])];
	privileged.extend((0..services).map(|i| {
		call(
			"ServiceRegistry",
			"create_service",
			vec![
				("owner", id(&dev::bob())),
				("name", Value::from_bytes(format!("bench-{i}"))),
				("quorum", Value::u128(nodes as u128)),
				("epoch_length", Value::u128(rules.min_epoch.into())),
			],
		)
	}));
	let created = match authority {
		Authority::Sudo => {
			let sudo_calls = privileged.into_iter().map(sudo).collect();
			send_batches(chain, &alice, sudo_calls, accounts::BATCH).await?
		}
		Authority::Referendum(electorate) => {
			let batch = subxt::dynamic::transaction("Utility", "batch_all", (privileged,));
			let origin = governance::Origin::Track("NestAdmin");
			vec![governance::pass(chain, electorate, origin, &signing.call_data(&batch)?).await?]
		}
	};
	let ids: Vec<ServiceId> = first_fields(&created, "ServiceRegistry", "ServiceCreated")?;
	if ids.len() != services {
		return Err(Error::Metadata(format!("{} of {services} services created", ids.len())));
	}
	let created_at = created.last().map_or(0, |c| c.block);

	let mut judgements = Vec::new();
	let mut requests = Vec::new();
	for (i, node) in node_keys.iter().enumerate() {
		let identity = set_identity_fields(&format!("bench node {i}"), Some(node_key_public(i)));
		let payload =
			subxt::dynamic::transaction("Identity", "set_identity", named(identity.clone()));
		let judgement = known_good_fields(node.public_key().0, &signing.call_data(&payload)?);
		judgements.push(call("Identity", "provide_judgement", judgement));
		let set = call("Identity", "set_identity", identity);
		let request = call("Identity", "request_judgement", request_judgement_fields());
		requests.push(send_batches(chain, node, vec![set, request], 2));
	}
	let stake = subxt::dynamic::transaction(
		"ServiceRegistry",
		"register_super_node",
		vec![Value::u128(rules.min_stake)],
	);
	let (requested, staked) =
		futures::join!(futures::future::try_join_all(requests), chain.send(&stake, &super_node));
	requested?;
	staked?;
	send_batches(chain, &alice, judgements, accounts::BATCH).await?;

	let trust = ids.iter().flat_map(|service| {
		node_keys.iter().map(move |node| {
			call(
				"ServiceRegistry",
				"add_service_node",
				vec![("service", Value::u128((*service).into())), ("node", id(node))],
			)
		})
	});
	send_batches(chain, &dev::bob(), trust.collect(), accounts::BATCH).await?;
	Ok(Trusted { services: ids, created_at, nodes: node_keys, super_node })
}

/// Where a process runs: 127.0.0.1 in this process's network namespace, or a namespace of its
/// own with its own address ([`crate::netns`]).
#[derive(Clone, Copy, Debug)]
pub struct Host<'a> {
	/// Its network namespace, if not this process's.
	pub namespace: Option<&'a str>,
	/// The address it listens on.
	pub address: IpAddr,
}

impl Host<'_> {
	/// 127.0.0.1, here.
	pub const LOCAL: Host<'static> =
		Host { namespace: None, address: IpAddr::V4(Ipv4Addr::LOCALHOST) };
}

/// A `thingschain-nest` process of one service.
pub struct NestProcess<'a> {
	/// The `thingschain-nest` binary.
	pub binary: &'a Path,
	/// Where its key file, ledger and log go.
	pub dir: &'a Path,
	/// Its name (and its folder's, and its log's).
	pub name: &'a str,
	/// WebChain's JSON-RPC URL.
	pub webchain: &'a str,
	/// Its service.
	pub service: ServiceId,
	/// Its account: key `index` of `role` ([`NODE_ROLE`] or [`SUPER_ROLE`], a super node).
	pub key: (&'a str, usize),
	/// Where it runs.
	pub host: Host<'a>,
	/// Its JSON-RPC and libp2p ports ([`network::free_port`]s).
	pub ports: [u16; 2],
	/// The service nodes it connects to: their libp2p addresses, or their JSON-RPC addresses
	/// for a super node.
	pub peers: &'a [SocketAddr],
}

impl NestProcess<'_> {
	/// Writes its key files and starts it (`thingschain-nest run`), its metrics on a port of
	/// its own (`Node::prometheus_port`).
	pub fn start(&self) -> network::Node {
		let key_file = self.dir.join(format!("{}.key", self.name));
		let (role, index) = self.key;
		let seed = format!("0x{}", hex::encode(accounts::seed(role, index)));
		std::fs::write(&key_file, seed).expect("the key file is written");
		let base_path = self.dir.join(self.name);
		if role == NODE_ROLE {
			let node_key = node_key(index).to_protobuf_encoding().expect("an ed25519 key encodes");
			std::fs::create_dir_all(&base_path).expect("the node's directory is made");
			std::fs::write(base_path.join("p2p.key"), node_key).expect("the node key is written");
		}
		let [rpc_port, p2p_port] = self.ports;
		let prometheus_port = network::free_port();
		let host = self.host.address;
		let mut args: Vec<String> = [
			"run",
			"--webchain",
			self.webchain,
			"--service",
			&self.service.to_string(),
			"--key-file",
			&key_file.display().to_string(),
			"--base-path",
			&base_path.display().to_string(),
			"--rpc-addr",
			&SocketAddr::new(host, rpc_port).to_string(),
			"--prometheus-addr",
			&SocketAddr::new(host, prometheus_port).to_string(),
		]
		.map(String::from)
		.into();
		if role == SUPER_ROLE {
			args.push("--super".into());
			for peer in self.peers {
				args.extend(["--rpc-peer".to_string(), format!("ws://{peer}")]);
			}
		} else {
			let listen = format!("/ip4/{host}/tcp/{p2p_port}");
			args.extend(["--p2p-listen".to_string(), listen]);
			for peer in self.peers {
				let address = format!("/ip4/{}/tcp/{}", peer.ip(), peer.port());
				args.extend(["--p2p-peer".to_string(), address]);
			}
		}
		let ports = [rpc_port, p2p_port, prometheus_port];
		let node = match self.host.namespace {
			None => network::Node::launch(self.binary, self.name, self.dir, args, ports),
			Some(namespace) => {
				// `ip netns exec` execs the node: the process killed is the node itself.
				let binary = self.binary.display().to_string();
				let inside = ["netns", "exec", namespace, &binary].map(String::from);
				let args = inside.into_iter().chain(args).collect();
				network::Node::launch(Path::new("ip"), self.name, self.dir, args, ports)
			}
		};
		node.at(host)
	}
}

/// Counts the services with an anchored epoch at the last finalized block.
pub async fn anchored(client: &OnlineClient<PolkadotConfig>) -> Result<usize, String> {
	let at = client.at_current_block().await.map_err(|e| e.to_string())?;
	let latest = subxt::dynamic::storage::<(ServiceId,), Value>("NestAnchor", "Latest");
	let mut entries = at.storage().iter(latest, ()).await.map_err(|e| e.to_string())?;
	let mut count = 0;
	while let Some(entry) = entries.next().await {
		entry.map_err(|e| e.to_string())?;
		count += 1;
	}
	Ok(count)
}

/// The fields of `NestAnchor.attest` of `service`'s epoch 0, the first anchor.
pub fn attest_fields(service: ServiceId, root: Hash) -> Vec<(&'static str, Value)> {
	let mut fields = approve_fields(service, root);
	fields.push(("prev", Value::from_bytes(Hash::zero())));
	fields
}

/// The fields of `NestAnchor.approve` of `service`'s epoch 0.
pub fn approve_fields(service: ServiceId, root: Hash) -> Vec<(&'static str, Value)> {
	vec![
		("service", Value::u128(service.into())),
		("epoch", Value::u128(0)),
		("root", Value::from_bytes(root)),
	]
}

/// The root service `service`'s epoch 0 is attested with.
fn root(service: ServiceId) -> Hash {
	Hash::from(crate::hash(&(b"thingschain-bench/root", service).encode()))
}

/// `Sudo.sudo(call)`.
pub fn sudo(inner: Value) -> Value {
	call("Sudo", "sudo", vec![("call", inner)])
}

/// An account id field.
fn id(who: &Keypair) -> Value {
	Value::from_bytes(who.public_key().0)
}

/// The fields of `Identity.set_identity` with `display` as its information and, for a service
/// node, the node key it runs with (the `tc-nest-key` field the service nodes read).
pub fn set_identity_fields(
	display: &str,
	node_key: Option<[u8; 32]>,
) -> Vec<(&'static str, Value)> {
	let none = || Value::unnamed_variant("None", []);
	let raw = |bytes: &[u8]| {
		Value::unnamed_variant(format!("Raw{}", bytes.len()), [Value::from_bytes(bytes)])
	};
	let additional = node_key.map(|key| Value::unnamed_composite([raw(NODE_KEY_FIELD), raw(&key)]));
	let info = Value::named_composite([
		("additional", Value::unnamed_composite(additional)),
		("display", raw(display.as_bytes())),
		("legal", none()),
		("web", none()),
		("riot", none()),
		("email", none()),
		("pgp_fingerprint", none()),
		("image", none()),
		("twitter", none()),
	]);
	vec![("info", info)]
}

/// The fields of `Identity.request_judgement` asking registrar 0, for no fee.
pub fn request_judgement_fields() -> Vec<(&'static str, Value)> {
	vec![("reg_index", Value::u128(0)), ("max_fee", Value::u128(0))]
}

/// The fields of registrar 0's `Identity.provide_judgement` that the identity `target` set
/// with `set_identity` (that call's data) is `KnownGood`.
pub fn known_good_fields(target: [u8; 32], set_identity: &[u8]) -> Vec<(&'static str, Value)> {
	// A judgement names the hash of the identity it judges: the SCALE encoding of the info,
	// which is `set_identity`'s call data after the pallet and call indices.
	let identity = crate::hash(set_identity.get(2..).unwrap_or_default());
	vec![
		("reg_index", Value::u128(0)),
		("target", address(target)),
		("judgement", Value::unnamed_variant("KnownGood", [])),
		("identity", Value::from_bytes(identity)),
	]
}
