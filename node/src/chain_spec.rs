//! Built-in chain specifications, generated from the runtime's genesis presets.

use polkadot_sdk::{
	sc_service::{self, ChainType, Properties},
	sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET},
};
use thingschain_runtime::{
	genesis_config_presets::TESTNET_RUNTIME_PRESET,
	units::{TOKEN_DECIMALS, TOKEN_SYMBOL},
	WASM_BINARY,
};

/// A ThingsChain chain specification.
pub type ChainSpec = sc_service::GenericChainSpec;

/// How wallets should display TIC and addresses.
fn properties() -> Properties {
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

/// Public test network without sudo.
pub fn testnet() -> Result<ChainSpec, String> {
	from_preset(
		"ThingsChain Testnet",
		"thingschain_testnet",
		ChainType::Live,
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
			Box::new(ChainSpec::from_json_file(path)?)
		}
	})
}
