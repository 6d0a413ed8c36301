//! A test runtime with real sr25519 Aura keys and sealed headers. Who sealed which slot and
//! the DPoS rewards are stand-ins: four authorities taking turns (slot `s` is the turn of
//! authority `s % 4`, account `s % 4 + 1`), and a log of the rewards paid.

use crate::{self as pallet_block_graph, RewardShare, SlotAuthors};
use polkadot_sdk::{
	frame_support::{derive_impl, parameter_types, traits::Hooks},
	frame_system::{self, EnsureRoot},
	sp_consensus_aura::{
		digests::CompatibleDigestItem,
		sr25519::{AuthorityId, AuthoritySignature},
		Slot,
	},
	sp_core::{sr25519, Pair, H256},
	sp_runtime::{traits::Header as _, BuildStorage, Digest, DigestItem, Perbill},
};
pub use thingschain_mock_support::CheckedExt;
use thingschain_primitives::block_graph;

pub type AccountId = u64;
type Block = frame_system::mocking::MockBlock<Test>;
pub type Header = frame_system::pallet_prelude::HeaderFor<Test>;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		BlockGraph: pallet_block_graph,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

/// The authorities, in turn order.
pub const AUTHORITIES: [&str; 4] = ["//Alice", "//Bob", "//Charlie", "//Dave"];
/// Slots remembered: references may be this many slots old, less one.
pub const SLOT_WINDOW: u32 = 16;
/// The share of the block reward a referenced block's author receives at genesis.
pub const SHARE: Perbill = Perbill::from_percent(25);

parameter_types! {
	/// Rewards paid: to whom, what share.
	pub static Rewarded: Vec<(AccountId, Perbill)> = vec![];
	/// The first slot the chain still knows the session of.
	pub static FirstKnownSlot: u64 = 0;
	/// The slots the benchmarks made an author of (its key is in the test keystore).
	pub static BenchmarkAuthor: Option<(Slot, AuthorityId)> = None;
	pub const SlotWindow: u32 = SLOT_WINDOW;
}

/// Authority `index`'s key pair.
pub fn pair(index: usize) -> sr25519::Pair {
	sr25519::Pair::from_string(AUTHORITIES[index], None).expect("a dev seed")
}

/// The authority whose turn `slot` is.
pub fn turn(slot: u64) -> usize {
	(slot % AUTHORITIES.len() as u64) as usize
}

/// The account of authority `index`.
pub fn account(index: usize) -> AccountId {
	index as AccountId + 1
}

pub struct Turns;
impl SlotAuthors<AuthorityId, AccountId> for Turns {
	fn slot_author(slot: Slot) -> Option<(AuthorityId, AccountId)> {
		if let Some((_, key)) = BenchmarkAuthor::get().filter(|(first, _)| *first <= slot) {
			return Some((key, 99));
		}
		let slot = u64::from(slot);
		(slot >= FirstKnownSlot::get())
			.then(|| (pair(turn(slot)).public().into(), account(turn(slot))))
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AuthorityId> for Turns {
	fn make_slot_author(first: Slot, _now: Slot, key: &AuthorityId) {
		BenchmarkAuthor::set(Some((first, key.clone())));
	}
}

pub struct LogRewards;
impl RewardShare<AccountId> for LogRewards {
	fn reward(author: &AccountId, share: Perbill) {
		Rewarded::mutate(|log| log.push((*author, share)));
	}
}

impl pallet_block_graph::Config for Test {
	type AuthorityId = AuthorityId;
	type SlotAuthors = Turns;
	type Rewards = LogRewards;
	type AdminOrigin = EnsureRoot<AccountId>;
	type SlotWindow = SlotWindow;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Turns;
}

/// The hash the test chain's block `number` has.
pub fn canonical(number: u64) -> H256 {
	H256::from_low_u64_be(number)
}

/// A header numbered `number` on `parent`, in `slot`, made distinct by `variant` and sealed
/// by authority `sealer`.
pub fn sealed(number: u64, parent: H256, slot: u64, variant: u8, sealer: usize) -> Header {
	let mut header = unsealed(number, parent, slot, variant);
	let signature: AuthoritySignature = pair(sealer).sign(header.hash().as_ref()).into();
	header.digest_mut().push(<DigestItem as CompatibleDigestItem<_>>::aura_seal(signature));
	header
}

/// [`sealed`] by the slot's author: a block that could have been on a competing branch.
pub fn fork_block(number: u64, parent: H256, slot: u64) -> Header {
	sealed(number, parent, slot, 0, turn(slot))
}

/// [`sealed`] without the seal.
pub fn unsealed(number: u64, parent: H256, slot: u64, variant: u8) -> Header {
	let pre_digest =
		<DigestItem as CompatibleDigestItem<AuthoritySignature>>::aura_pre_digest(Slot::from(slot));
	Header::new(
		number,
		Default::default(),
		Default::default(),
		parent,
		Digest { logs: vec![pre_digest, DigestItem::Other(vec![variant])] },
	)
}

/// Starts the test chain's block `number` in `slot`, its digest referencing `references`
/// (in the order given, so a test can also break the format's rules).
pub fn start_block(number: u64, slot: u64, references: &[H256]) {
	let mut logs = vec![<DigestItem as CompatibleDigestItem<AuthoritySignature>>::aura_pre_digest(
		Slot::from(slot),
	)];
	if !references.is_empty() {
		logs.push(block_graph::digest_item(&references.to_vec()));
	}
	System::reset_events();
	System::initialize(&number, &canonical(number - 1), &Digest { logs });
	BlockGraph::on_initialize(number);
}

/// Ends the current block.
pub fn end_block() {
	BlockGraph::on_finalize(System::block_number());
}

/// Runs the test chain's blocks `1 ..= last`, block `n` in slot `n`, referencing nothing.
pub fn run_to(last: u64) {
	for number in 1..=last {
		start_block(number, number, &[]);
		end_block();
	}
}

/// The pallet's events in the current block.
pub fn events() -> Vec<pallet_block_graph::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::BlockGraph(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// A chain at genesis whose referenced blocks' authors receive [`SHARE`], with a keystore.
pub fn genesis_ext() -> polkadot_sdk::sp_io::TestExternalities {
	Rewarded::take();
	FirstKnownSlot::set(0);
	BenchmarkAuthor::take();
	let storage = RuntimeGenesisConfig {
		system: Default::default(),
		block_graph: pallet_block_graph::GenesisConfig {
			reference_share: SHARE,
			..Default::default()
		},
	}
	.build_storage()
	.expect("the test genesis builds");
	let mut ext = polkadot_sdk::sp_io::TestExternalities::from(storage);
	ext.register_extension(polkadot_sdk::sp_keystore::KeystoreExt::new(
		polkadot_sdk::sp_keystore::testing::MemoryKeystore::new(),
	));
	ext
}

/// [`genesis_ext`], its invariants checked after every test.
pub fn new_test_ext() -> CheckedExt {
	CheckedExt::new(genesis_ext(), BlockGraph::do_try_state)
}
