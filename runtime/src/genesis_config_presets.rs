//! Genesis presets: the starting state of each kind of ThingsChain network.
//!
//! - `development`: one delegate (Alice), sudo, funded dev accounts.
//! - `local_testnet`: four delegates (Alice, Bob, Charlie, Dave), so one can fail while
//!   GRANDPA keeps its more-than-two-thirds quorum; elections choose four; sudo for local
//!   experiments.
//! - `testnet`: a public test network shape without sudo. Operators derive their own
//!   deployment from it with `thingschain operator-spec`, which swaps in their own keys.
//!
//! In every preset the genesis delegates are delegate candidates bonded with
//! [`CANDIDATE_BOND`] and elected by genesis votes: each is approved by a voter staking
//! [`GENESIS_VOTE`] (its `//stash` account on dev networks, Ferdie on the testnet).

use crate::{
	units::{MINUTES, TIC},
	AccountId, Balance, BalancesConfig, BlockGraphConfig, DposConfig, RuntimeGenesisConfig,
	SessionConfig, SessionKeys, SudoConfig,
};
use alloc::{vec, vec::Vec};
use pallet_dpos::{GenesisCandidate, GenesisVoter};
use polkadot_sdk::{
	frame_support::build_struct_json_patch,
	sp_consensus_aura::sr25519::AuthorityId as AuraId,
	sp_consensus_grandpa::AuthorityId as GrandpaId,
	sp_genesis_builder::{self, PresetId},
	sp_keyring::{Ed25519Keyring, Sr25519Keyring},
	sp_runtime::Perbill,
};
use serde_json::Value;

/// Name of the public test network preset.
pub const TESTNET_RUNTIME_PRESET: &str = "testnet";

/// Balance given to each endowed account in the dev and local presets.
pub const DEV_ENDOWMENT: Balance = 1_000_000 * TIC;
/// Balance given to each validator and to the faucet in the testnet preset.
pub const TESTNET_ENDOWMENT: Balance = 10_000 * TIC;
/// Self-bond of each genesis delegate.
pub const CANDIDATE_BOND: Balance = 1_000 * TIC;
/// Stake behind each genesis vote.
pub const GENESIS_VOTE: Balance = 2_000 * TIC;
/// Commission of each genesis delegate.
pub const GENESIS_COMMISSION: Perbill = Perbill::from_percent(10);
/// TIC minted per authored block: ten TIC a minute, whatever the block time.
pub const BLOCK_REWARD: Balance = 10 * TIC / MINUTES as Balance;
/// The share of the block reward the author of a block another block references receives: a
/// quarter, so a competing block recognised earns less than one the chain builds on.
pub const REFERENCE_SHARE: Perbill = Perbill::from_percent(25);
/// Session length at genesis: ten minutes of blocks.
pub const SESSION_LENGTH: u32 = 10 * MINUTES;

/// A block producer at genesis: its account and its two session keys.
pub struct GenesisValidator {
	pub account: AccountId,
	pub aura: AuraId,
	pub grandpa: GrandpaId,
}

/// The first `n` well-known dev accounts (Alice, Bob, Charlie, ...) as validators, each with
/// the sr25519 Aura key and ed25519 GRANDPA key of the same dev seed.
fn dev_validators(n: usize) -> Vec<GenesisValidator> {
	Sr25519Keyring::iter()
		.zip(Ed25519Keyring::iter())
		.take(n)
		.map(|(sr, ed)| GenesisValidator {
			account: sr.to_account_id(),
			aura: sr.public().into(),
			grandpa: ed.public().into(),
		})
		.collect()
}

/// The genesis state shared by every preset: `validators` are bonded candidates, elected by
/// `votes` (voter and approved candidates, each voter staking [`GENESIS_VOTE`]); elections
/// choose `delegates` (0: the runtime's maximum).
fn genesis(
	validators: Vec<GenesisValidator>,
	votes: Vec<(AccountId, Vec<AccountId>)>,
	delegates: u32,
	endowed: Vec<(AccountId, Balance)>,
	sudo: Option<AccountId>,
) -> Value {
	let candidates = validators
		.iter()
		.map(|v| GenesisCandidate {
			account: v.account.clone(),
			bond: CANDIDATE_BOND,
			commission: GENESIS_COMMISSION,
		})
		.collect::<Vec<_>>();
	let voters = votes
		.into_iter()
		.map(|(account, approvals)| GenesisVoter { account, stake: GENESIS_VOTE, approvals })
		.collect::<Vec<_>>();
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig { balances: endowed },
		block_graph: BlockGraphConfig { reference_share: REFERENCE_SHARE },
		dpos: DposConfig {
			candidates,
			voters,
			block_reward: BLOCK_REWARD,
			session_length: SESSION_LENGTH,
			desired_delegates: delegates,
		},
		session: SessionConfig {
			keys: validators
				.into_iter()
				.map(|v| {
					(v.account.clone(), v.account, SessionKeys { aura: v.aura, grandpa: v.grandpa })
				})
				.collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: sudo },
	})
}

fn dev_endowments() -> Vec<(AccountId, Balance)> {
	Sr25519Keyring::iter().map(|k| (k.to_account_id(), DEV_ENDOWMENT)).collect()
}

/// Each of `validators` elected by the vote of its dev `//stash` account.
fn stash_votes(validators: &[GenesisValidator]) -> Vec<(AccountId, Vec<AccountId>)> {
	use Sr25519Keyring::*;
	[AliceStash, BobStash, CharlieStash, DaveStash]
		.into_iter()
		.zip(validators)
		.map(|(stash, v)| (stash.to_account_id(), vec![v.account.clone()]))
		.collect()
}

fn development() -> Value {
	let validators = dev_validators(1);
	let votes = stash_votes(&validators);
	genesis(validators, votes, 0, dev_endowments(), Some(Sr25519Keyring::Alice.to_account_id()))
}

fn local_testnet() -> Value {
	let validators = dev_validators(4);
	let votes = stash_votes(&validators);
	genesis(validators, votes, 4, dev_endowments(), Some(Sr25519Keyring::Alice.to_account_id()))
}

fn testnet() -> Value {
	let validators = dev_validators(3);
	let endowed = validators
		.iter()
		.map(|v| v.account.clone())
		.chain([Sr25519Keyring::Ferdie.to_account_id()])
		.map(|a| (a, TESTNET_ENDOWMENT))
		.collect();
	let votes = vec![(
		Sr25519Keyring::Ferdie.to_account_id(),
		validators.iter().map(|v| v.account.clone()).collect(),
	)];
	genesis(validators, votes, 0, endowed, None)
}

/// The JSON patch of the named preset, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_testnet(),
		TESTNET_RUNTIME_PRESET => testnet(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work. qed.")
			.into_bytes(),
	)
}

/// Names of all presets.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
		PresetId::from(TESTNET_RUNTIME_PRESET),
	]
}
