//! Built-in chain specifications, generated from the runtime's genesis presets.

use polkadot_sdk::{
	sc_service::{self, ChainType, Properties},
	sp_core::{
		crypto::{AccountId32, Ss58Codec},
		hexdisplay::HexDisplay,
	},
	sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET},
	sp_keyring::{Ed25519Keyring, Sr25519Keyring},
};
use thingschain_runtime::{
	genesis_config_presets::TESTNET_RUNTIME_PRESET,
	units::{TOKEN_DECIMALS, TOKEN_SYMBOL},
	WASM_BINARY,
};

/// A ThingsChain chain specification.
pub type ChainSpec = sc_service::GenericChainSpec;

/// How wallets should display TIC and addresses.
pub fn properties() -> Properties {
	let mut properties = Properties::new();
	properties.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), 42.into());
	properties
}

fn from_preset(
	name: &str,
	id: &str,
	chain_type: ChainType,
	preset: &str,
) -> Result<ChainSpec, String> {
	let wasm = WASM_BINARY.ok_or_else(|| {
		"the runtime WASM is missing: this node was built with SKIP_WASM_BUILD".to_string()
	})?;
	Ok(ChainSpec::builder(wasm, None)
		.with_name(name)
		.with_id(id)
		.with_protocol_id("thingschain")
		.with_chain_type(chain_type)
		.with_genesis_config_preset_name(preset)
		.with_properties(properties())
		.build())
}

/// Single-validator development chain (Alice), sudo enabled.
pub fn development() -> Result<ChainSpec, String> {
	from_preset(
		"ThingsChain Development",
		"thingschain_dev",
		ChainType::Development,
		DEV_RUNTIME_PRESET,
	)
}

/// Four-validator local network (Alice, Bob, Charlie, Dave).
pub fn local_testnet() -> Result<ChainSpec, String> {
	from_preset(
		"ThingsChain Local",
		"thingschain_local",
		ChainType::Local,
		LOCAL_TESTNET_RUNTIME_PRESET,
	)
}

/// The shape of a public network (three delegates, no sudo) on well-known dev keys, to try it
/// out: a `Local` chain. A real network's spec comes from `thingschain operator-spec`.
pub fn testnet() -> Result<ChainSpec, String> {
	from_preset(
		"ThingsChain Testnet",
		"thingschain_testnet",
		ChainType::Local,
		TESTNET_RUNTIME_PRESET,
	)
}

/// Loads a built-in chain by name, or a chain-spec JSON file by path.
pub fn load(id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
	Ok(match id {
		"" | "dev" => Box::new(development()?),
		"local" => Box::new(local_testnet()?),
		"testnet" => Box::new(testnet()?),
		path => {
			let path = std::path::PathBuf::from(path);
			if !path.exists() {
				return Err(format!(
					"unknown chain `{}`: not a built-in chain (dev, local, testnet) and no such file",
					path.display()
				));
			}
			let spec = ChainSpec::from_json_file(path)?;
			refuse_well_known_keys_on_live(&spec)?;
			Box::new(spec)
		}
	})
}

/// A well-known development key: anyone can sign with it (`//Alice`, `//Bob`, ... and their
/// `//stash` accounts, sr25519 and ed25519).
struct WellKnownKey {
	/// The keyring's name and the scheme, as `Alice (sr25519)`.
	name: String,
	/// The public key in lower-case hex without `0x`, as raw storage holds it.
	hex: String,
	/// The public key as an SS58 address, as a genesis patch holds it.
	ss58: String,
}

/// Every well-known development public key, with its keyring name and scheme.
fn well_known_publics() -> impl Iterator<Item = (String, [u8; 32])> {
	let sr25519 = Sr25519Keyring::iter().map(|k| (format!("{k:?} (sr25519)"), k.to_raw_public()));
	let ed25519 = Ed25519Keyring::iter().map(|k| (format!("{k:?} (ed25519)"), k.to_raw_public()));
	sr25519.chain(ed25519)
}

/// Whether `public` is a well-known development key.
pub fn is_well_known(public: &[u8]) -> bool {
	well_known_publics().any(|(_, key)| key.as_slice() == public)
}

/// Every well-known development key, in the forms a chain spec may hold it.
fn well_known_keys() -> impl Iterator<Item = WellKnownKey> {
	well_known_publics().map(|(name, public)| WellKnownKey {
		name,
		hex: format!("{}", HexDisplay::from(&public)),
		ss58: AccountId32::from(public).to_ss58check(),
	})
}

/// `spec`'s JSON without the runtime's code (`:code` in raw storage, `code` in a runtime
/// genesis). The code compiles in the runtime's development presets, so it holds their keys,
/// and a compressed blob keeps some of them readable: they give nobody anything on a chain
/// whose genesis does not name them.
fn genesis_without_code(spec: &ChainSpec) -> Result<String, String> {
	let mut json: serde_json::Value =
		serde_json::from_str(&spec.as_json(false)?).map_err(|e| e.to_string())?;
	if let Some(top) = json.pointer_mut("/genesis/raw/top").and_then(|t| t.as_object_mut()) {
		top.remove("0x3a636f6465");
	}
	let runtime = json.pointer_mut("/genesis/runtimeGenesis").and_then(|r| r.as_object_mut());
	if let Some(runtime) = runtime {
		runtime.remove("code");
	}
	Ok(json.to_string())
}

/// Refuses a `Live` chain spec (a real network's) that holds a well-known development key
/// anywhere in its genesis, as an account, a session key or in raw storage: whoever signs with
/// it controls what the key was given (funds, a delegate's slots, sudo).
fn refuse_well_known_keys_on_live(spec: &ChainSpec) -> Result<(), String> {
	use sc_service::ChainSpec as _;
	if spec.chain_type() != ChainType::Live {
		return Ok(());
	}
	let json = genesis_without_code(spec)?;
	let found: Vec<String> = well_known_keys()
		.filter(|key| json.contains(&key.hex) || json.contains(&key.ss58))
		.map(|key| key.name)
		.collect();
	if found.is_empty() {
		return Ok(());
	}
	Err(format!(
		"chain spec `{}` is a Live chain but holds well-known development keys, which anyone can \
		 sign with: {}. Make a real network's spec with your own keys \
		 (thingschain operator-spec), or set its chainType to Local to experiment",
		spec.id(),
		found.join(", ")
	))
}
