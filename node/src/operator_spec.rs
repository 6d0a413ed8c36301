//! `thingschain operator-spec OPERATOR.json --out DIR`: a real network's chain spec, plain and
//! raw, from an operator's file of their own validators, votes, endowments and sudo key.
//!
//! ```text
//! OPERATOR.json ──serde──▶ OperatorFile ──checks──▶ genesis patch over the runtime's preset
//!   (chain-specs/operator.example.json)   dev keys refused, bonds ≥ the runtime's minimum,
//!                                        each validator endowed with more than its bond
//!        ──ChainSpec::builder──▶ DIR/<id>.json ──the runtime builds the genesis──▶ DIR/<id>-raw.json
//! ```
//!
//! The raw spec is the runtime's own genesis build of the patch, so a patch the runtime
//! refuses (a vote for an account that is not a candidate, say) fails here with the runtime's
//! message, not on the operator's first node.

use crate::chain_spec::{self, ChainSpec};
use pallet_dpos::{GenesisCandidate, GenesisVoter};
use polkadot_sdk::{
	sc_network::config::MultiaddrWithPeerId,
	sc_service::ChainType,
	sp_consensus_aura::sr25519::AuthorityId as AuraId,
	sp_consensus_grandpa::AuthorityId as GrandpaId,
	sp_core::{
		crypto::{AccountId32, Ss58Codec},
		Get,
	},
	sp_runtime::Perbill,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::{collections::BTreeMap, fmt, path::PathBuf};
use thingschain_runtime::{
	genesis_config_presets::{get_preset, preset_names, CANDIDATE_BOND, GENESIS_COMMISSION},
	AccountId, Balance, SessionKeys, WASM_BINARY,
};

/// Writes a network's chain spec from an operator file.
#[derive(Debug, clap::Parser)]
pub struct OperatorSpecCmd {
	/// The operator file: the network's name, id, runtime preset, boot nodes, validators
	/// (account, Aura and GRANDPA keys, optional bond and commission), genesis votes,
	/// endowments and sudo key (see chain-specs/operator.example.json).
	pub operator: PathBuf,

	/// The folder to write `<id>.json` and `<id>-raw.json` to.
	#[arg(long, default_value = ".")]
	pub out: PathBuf,

	/// Accept the well-known dev keys (Alice, Bob, ...) for a throwaway network; the spec is
	/// then a `Local` chain, which is the only kind the node loads with such keys.
	#[arg(long)]
	pub allow_dev_keys: bool,
}

/// An amount of plancks, written as a JSON number or, for amounts past 2^53 that some JSON
/// tools round, a decimal string.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(try_from = "AmountText")]
pub struct Amount(pub Balance);

#[derive(Deserialize)]
#[serde(untagged)]
enum AmountText {
	Number(Balance),
	Text(String),
}

impl TryFrom<AmountText> for Amount {
	type Error = String;
	fn try_from(text: AmountText) -> Result<Self, String> {
		match text {
			AmountText::Number(n) => Ok(Amount(n)),
			AmountText::Text(s) => {
				s.parse().map(Amount).map_err(|_| format!("`{s}` is not an amount in plancks"))
			}
		}
	}
}

/// A genesis validator: a bonded delegate candidate with its session keys.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OperatorValidator {
	/// Its account (SS58), which bonds and earns the rewards.
	pub account: AccountId,
	/// Its Aura block-authoring key (sr25519, SS58).
	pub aura: AuraId,
	/// Its GRANDPA finality key (ed25519, SS58).
	pub grandpa: GrandpaId,
	/// Its self-bond; by default the runtime's minimum, 1,000 TIC.
	pub bond: Option<Amount>,
	/// Its commission in percent; by default 10.
	pub commission_percent: Option<u8>,
}

/// A genesis vote: `voter` stakes `stake` and approves `targets`, which must be validators.
#[derive(Debug, Deserialize)]
pub struct OperatorVote(pub AccountId, pub Amount, pub Vec<AccountId>);

/// An operator's file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OperatorFile {
	/// The network's name, as wallets show it.
	pub name: String,
	/// The network's id: the folder of its databases and the spec files' names.
	pub id: String,
	/// The runtime genesis preset the network starts from (`testnet`, ...).
	pub preset: String,
	/// Nodes a new node first connects to.
	#[serde(default)]
	pub boot_nodes: Vec<MultiaddrWithPeerId>,
	/// The genesis validators; the best backed of them are the first delegates.
	pub validators: Vec<OperatorValidator>,
	/// Genesis votes.
	#[serde(default)]
	pub votes: Vec<OperatorVote>,
	/// Genesis balances (SS58 address, plancks).
	pub endowments: Vec<(AccountId, Amount)>,
	/// The sudo key, or `null` for a network without one.
	pub sudo: Option<AccountId>,
}

/// Why an operator file makes no spec.
#[derive(Debug)]
pub enum OperatorSpecError {
	/// The file cannot be read or is not an operator file.
	File(String),
	/// The file names no validators.
	NoValidators,
	/// A key is a well-known dev key, which anyone can sign with.
	DevKey { role: String, key: String },
	/// A validator bonds less than the runtime's minimum.
	BondBelowMinimum { account: AccountId, bond: Balance, minimum: Balance },
	/// A validator's endowment does not cover its bond and the existential deposit.
	NotEndowed { account: AccountId, endowed: Balance, bond: Balance },
	/// A commission above 100%.
	Commission { account: AccountId, percent: u8 },
	/// The runtime has no such preset.
	UnknownPreset(String),
	/// The chain spec could not be built or written (the runtime refused the genesis, say).
	Spec(String),
}

impl fmt::Display for OperatorSpecError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		use OperatorSpecError::*;
		match self {
			File(reason) => write!(f, "{reason}"),
			NoValidators => write!(f, "the operator file lists no validators"),
			DevKey { role, key } => write!(
				f,
				"{role} {key} is a well-known dev key, which anyone can sign with \
				 (pass --allow-dev-keys for a throwaway network)"
			),
			BondBelowMinimum { account, bond, minimum } => write!(
				f,
				"validator {account} bonds {bond}, less than the runtime's minimum candidate \
				 bond {minimum}"
			),
			NotEndowed { account, endowed, bond } => write!(
				f,
				"validator {account} is endowed with {endowed}, not more than its bond {bond}"
			),
			Commission { account, percent } => {
				write!(f, "validator {account} has a commission of {percent}%, above 100%")
			}
			UnknownPreset(preset) => write!(
				f,
				"the runtime has no preset `{preset}` (it has {})",
				preset_names().join(", ")
			),
			Spec(reason) => write!(f, "{reason}"),
		}
	}
}

impl std::error::Error for OperatorSpecError {}

impl OperatorSpecCmd {
	/// Reads the operator file, writes both specs and names them.
	pub fn run(&self) -> Result<(), OperatorSpecError> {
		let file = std::fs::read(&self.operator).map_err(|e| {
			OperatorSpecError::File(format!("cannot read {}: {e}", self.operator.display()))
		})?;
		let operator: OperatorFile = serde_json::from_slice(&file).map_err(|e| {
			OperatorSpecError::File(format!(
				"{} is not an operator file: {e}",
				self.operator.display()
			))
		})?;
		let spec = operator_spec(&operator, self.allow_dev_keys)?;
		// The raw spec first: the runtime's genesis build may refuse the patch, and then no
		// file is written.
		let raw = spec.as_json(true).map_err(OperatorSpecError::Spec)?;
		let plain = spec.as_json(false).map_err(OperatorSpecError::Spec)?;
		std::fs::create_dir_all(&self.out).map_err(|e| OperatorSpecError::Spec(e.to_string()))?;
		for (suffix, json) in [("", plain), ("-raw", raw)] {
			let path = self.out.join(format!("{}{suffix}.json", operator.id));
			std::fs::write(&path, json).map_err(|e| {
				OperatorSpecError::Spec(format!("cannot write {}: {e}", path.display()))
			})?;
			println!("wrote {}", path.display());
		}
		Ok(())
	}
}

/// The chain spec of `operator`'s network.
pub fn operator_spec(
	operator: &OperatorFile,
	allow_dev_keys: bool,
) -> Result<ChainSpec, OperatorSpecError> {
	if !allow_dev_keys {
		refuse_dev_keys(operator)?;
	}
	let patch = genesis_patch(operator)?;
	let wasm = WASM_BINARY.ok_or_else(|| {
		OperatorSpecError::Spec("this node was built without the runtime (SKIP_WASM_BUILD)".into())
	})?;
	Ok(ChainSpec::builder(wasm, None)
		.with_name(&operator.name)
		.with_id(&operator.id)
		.with_protocol_id("thingschain")
		.with_chain_type(if allow_dev_keys { ChainType::Local } else { ChainType::Live })
		.with_boot_nodes(operator.boot_nodes.clone())
		.with_properties(chain_spec::properties())
		.with_genesis_config_patch(patch)
		.build())
}

/// Refuses a well-known dev key anywhere in the file.
fn refuse_dev_keys(operator: &OperatorFile) -> Result<(), OperatorSpecError> {
	let mut keys: Vec<(&str, &[u8])> = Vec::new();
	for v in &operator.validators {
		keys.push(("validator account", v.account.as_ref()));
		keys.push(("validator Aura key", v.aura.as_ref()));
		keys.push(("validator GRANDPA key", v.grandpa.as_ref()));
	}
	keys.extend(operator.votes.iter().map(|vote| ("voter", vote.0.as_ref())));
	keys.extend(operator.endowments.iter().map(|(who, _)| ("endowed account", who.as_ref())));
	keys.extend(operator.sudo.iter().map(|sudo| ("sudo key", sudo.as_ref())));
	match keys.into_iter().find(|(_, key)| chain_spec::is_well_known(key)) {
		Some((role, key)) => Err(OperatorSpecError::DevKey {
			role: role.into(),
			key: AccountId32::try_from(key).map(|k| k.to_ss58check()).unwrap_or_default(),
		}),
		None => Ok(()),
	}
}

/// The runtime's preset with the operator's validators, votes, endowments and sudo key.
fn genesis_patch(operator: &OperatorFile) -> Result<Value, OperatorSpecError> {
	if operator.validators.is_empty() {
		return Err(OperatorSpecError::NoValidators);
	}
	let preset = get_preset(&operator.preset)
		.ok_or_else(|| OperatorSpecError::UnknownPreset(operator.preset.clone()))?;
	let mut patch: Value = serde_json::from_slice(&preset).expect("a preset is JSON");

	let mut endowed: BTreeMap<&AccountId, Balance> = BTreeMap::new();
	for (who, Amount(amount)) in &operator.endowments {
		*endowed.entry(who).or_default() += amount;
	}
	let minimum = <thingschain_runtime::Runtime as pallet_dpos::Config>::MinCandidateBond::get();
	let mut candidates = Vec::new();
	for v in &operator.validators {
		let bond = v.bond.map_or(CANDIDATE_BOND, |Amount(bond)| bond);
		if bond < minimum {
			return Err(OperatorSpecError::BondBelowMinimum {
				account: v.account.clone(),
				bond,
				minimum,
			});
		}
		let has = endowed.get(&v.account).copied().unwrap_or_default();
		if has <= bond {
			return Err(OperatorSpecError::NotEndowed {
				account: v.account.clone(),
				endowed: has,
				bond,
			});
		}
		let commission = match v.commission_percent {
			None => GENESIS_COMMISSION,
			Some(percent) if percent <= 100 => Perbill::from_percent(percent.into()),
			Some(percent) => {
				return Err(OperatorSpecError::Commission { account: v.account.clone(), percent })
			}
		};
		candidates.push(GenesisCandidate { account: v.account.clone(), bond, commission });
	}
	let keys: Vec<(AccountId, AccountId, SessionKeys)> = operator
		.validators
		.iter()
		.map(|v| {
			let keys = SessionKeys { aura: v.aura.clone(), grandpa: v.grandpa.clone() };
			(v.account.clone(), v.account.clone(), keys)
		})
		.collect();
	let voters: Vec<_> = operator
		.votes
		.iter()
		.map(|OperatorVote(voter, Amount(stake), targets)| GenesisVoter {
			account: voter.clone(),
			stake: *stake,
			approvals: targets.clone(),
		})
		.collect();
	let balances: Vec<_> =
		operator.endowments.iter().map(|(who, Amount(amount))| (who.clone(), *amount)).collect();

	patch["session"] = json!({ "keys": keys });
	patch["balances"] = json!({ "balances": balances });
	patch["dpos"]["candidates"] = json!(candidates);
	patch["dpos"]["voters"] = json!(voters);
	patch["sudo"] = json!({ "key": operator.sudo });
	Ok(patch)
}
