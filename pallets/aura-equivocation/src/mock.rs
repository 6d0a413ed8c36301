//! A test runtime with real sr25519 Aura keys and headers. Key ownership and offence
//! reporting are stand-ins: a registry of which account owns which key this session, and a
//! log of the offences reported.

use crate::{self as pallet_aura_equivocation, AuraEquivocationOffence};
use polkadot_sdk::{
	frame_support::{derive_impl, parameter_types, traits::KeyOwnerProofSystem, weights::Weight},
	frame_system,
	sp_consensus_aura::{digests::CompatibleDigestItem, sr25519::AuthorityId, Slot},
	sp_core::{sr25519, Pair, H256},
	sp_runtime::{traits::Header as _, BuildStorage, Digest, DigestItem, KeyTypeId},
	sp_session::MembershipProof,
	sp_staking::{
		offence::{Offence, OffenceError, ReportOffence},
		SessionIndex,
	},
};
pub use thingschain_mock_support::CheckedExt;

pub type AccountId = u64;
type Block = frame_system::mocking::MockBlock<Test>;
pub type Header = frame_system::pallet_prelude::HeaderFor<Test>;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		AuraEquivocation: pallet_aura_equivocation,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

/// Transactions as the offchain pool extension receives them.
pub type Extrinsic = polkadot_sdk::sp_runtime::testing::TestXt<RuntimeCall, ()>;

impl<C> frame_system::offchain::CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type RuntimeCall = RuntimeCall;
	type Extrinsic = Extrinsic;
}

impl<C> frame_system::offchain::CreateBare<C> for Test
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> Extrinsic {
		Extrinsic::new_bare(call)
	}
}

/// The session the registry's key owners belong to.
pub const SESSION: SessionIndex = 7;
/// Validators in that session.
pub const VALIDATORS: u32 = 4;

parameter_types! {
	/// Keys of this session's validators and the accounts owning them.
	pub static KeyOwners: Vec<(AuthorityId, AccountId)> = vec![];
	/// Offences reported: offender, session, validator count, slot.
	pub static Reported: Vec<(AccountId, SessionIndex, u32, Slot)> = vec![];
	pub const OffenceHandlingWeight: Weight = Weight::from_parts(1_000, 0);
	/// The session and slot of the current block.
	pub static CurrentSession: SessionIndex = SESSION;
	pub static CurrentSlot: u64 = 1;
	/// The sessions before this one the history was pruned of.
	pub static PrunedUpTo: SessionIndex = 0;
}

/// Reports count for three sessions.
pub const REPORT_WINDOW: SessionIndex = 3;
/// Blocks an unsigned report stays in the pool.
pub const REPORT_LONGEVITY: u64 = 20;

/// Aura's authorities in turn order: Alice has the slots `0 mod 4`, Bob `1`, Charlie `2`, Dave
/// `3`.
pub fn authorities() -> Vec<AuthorityId> {
	["//Alice", "//Bob", "//Charlie", "//Dave"].map(|seed| key(seed).1).to_vec()
}

/// The schedule the statics above describe.
pub struct TestSchedule;
impl crate::SlotSchedule<AuthorityId> for TestSchedule {
	fn session() -> SessionIndex {
		CurrentSession::get()
	}
	fn slot() -> Slot {
		Slot::from(CurrentSlot::get())
	}
	fn authorities() -> Vec<AuthorityId> {
		authorities()
	}
}

/// Notes how far the history was pruned.
pub struct TestPruning;
impl crate::PruneSessions for TestPruning {
	fn prune_up_to(session: SessionIndex) {
		PrunedUpTo::set(session);
	}
}

/// Starts session `session` at slot `slot`, as the chain's first block of it would.
pub fn start_session(session: SessionIndex, slot: u64) {
	use polkadot_sdk::frame_support::traits::Hooks;
	CurrentSession::set(session);
	CurrentSlot::set(slot);
	AuraEquivocation::on_initialize(System::block_number());
}

/// Proves key ownership from [`KeyOwners`] for proofs of [`SESSION`].
pub struct TestKeyOwnerProofs;
impl KeyOwnerProofSystem<(KeyTypeId, AuthorityId)> for TestKeyOwnerProofs {
	type Proof = MembershipProof;
	type IdentificationTuple = (AccountId, ());

	fn prove((_, key): (KeyTypeId, AuthorityId)) -> Option<MembershipProof> {
		KeyOwners::get().iter().any(|(k, _)| *k == key).then(|| MembershipProof {
			session: SESSION,
			trie_nodes: vec![],
			validator_count: VALIDATORS,
		})
	}

	fn check_proof(
		(_, key): (KeyTypeId, AuthorityId),
		proof: MembershipProof,
	) -> Option<(AccountId, ())> {
		(proof.session == SESSION).then_some(())?;
		KeyOwners::get().into_iter().find(|(k, _)| *k == key).map(|(_, owner)| (owner, ()))
	}
}

/// Records offences in [`Reported`], refusing the same offender twice in one slot.
pub struct TestOffences;
impl ReportOffence<AccountId, (AccountId, ()), AuraEquivocationOffence<(AccountId, ())>>
	for TestOffences
{
	fn report_offence(
		_reporters: Vec<AccountId>,
		offence: AuraEquivocationOffence<(AccountId, ())>,
	) -> Result<(), OffenceError> {
		let offender = offence.offenders()[0].0;
		if Self::is_known_offence(&offence.offenders(), &offence.slot()) {
			return Err(OffenceError::DuplicateReport);
		}
		Reported::mutate(|r| {
			r.push((
				offender,
				offence.session_index(),
				offence.validator_set_count(),
				offence.slot(),
			))
		});
		Ok(())
	}

	fn is_known_offence(offenders: &[(AccountId, ())], slot: &Slot) -> bool {
		Reported::get()
			.iter()
			.any(|(o, _, _, s)| offenders.iter().any(|(x, _)| x == o) && s == slot)
	}
}

impl crate::Config for Test {
	type AuthorityId = AuthorityId;
	type KeyOwnerProof = MembershipProof;
	type Offender = (AccountId, ());
	type KeyOwnerProofSystem = TestKeyOwnerProofs;
	type Schedule = TestSchedule;
	type PruneSessions = TestPruning;
	type ReportWindow = polkadot_sdk::frame_support::traits::ConstU32<REPORT_WINDOW>;
	type MaxAuthorities = polkadot_sdk::frame_support::traits::ConstU32<8>;
	type ReportLongevity = polkadot_sdk::frame_support::traits::ConstU64<REPORT_LONGEVITY>;
	type ReportOffence = TestOffences;
	type OffenceHandlingWeight = OffenceHandlingWeight;
	type WeightInfo = ();
}

/// The dev key of `seed` (e.g. `//Alice`) as an Aura authority.
pub fn key(seed: &str) -> (sr25519::Pair, AuthorityId) {
	let pair = sr25519::Pair::from_string(seed, None).expect("dev seeds parse");
	let public = pair.public().into();
	(pair, public)
}

/// A header of block `number` in `slot`, made distinct by `variant`, sealed by `signer`.
pub fn sealed_header(number: u64, slot: u64, variant: u8, signer: &sr25519::Pair) -> Header {
	let mut header = Header::new(
		number,
		H256::repeat_byte(variant),
		H256::zero(),
		H256::zero(),
		Digest {
			logs: vec![<DigestItem as CompatibleDigestItem<sr25519::Signature>>::aura_pre_digest(
				Slot::from(slot),
			)],
		},
	);
	let signature = signer.sign(header.hash().as_ref());
	header
		.digest_mut()
		.push(<DigestItem as CompatibleDigestItem<sr25519::Signature>>::aura_seal(signature));
	header
}

/// The mock's genesis state, as the benchmarks start from it.
pub fn genesis_ext() -> polkadot_sdk::sp_io::TestExternalities {
	let storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut ext = polkadot_sdk::sp_io::TestExternalities::new(storage);
	ext.register_extension(polkadot_sdk::sp_keystore::KeystoreExt::new(
		polkadot_sdk::sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| {
		System::set_block_number(1);
		KeyOwners::set(vec![(key("//Alice").1, 1), (key("//Bob").1, 2)]);
		Reported::set(vec![]);
		// SESSION began at slot 1; the current block is at slot 100.
		start_session(SESSION, 1);
		CurrentSlot::set(100);
	});
	ext
}

/// The mock's genesis state for a test, which ends by checking the pallet's invariants.
pub fn new_test_ext() -> CheckedExt {
	CheckedExt::new(genesis_ext(), AuraEquivocation::do_try_state)
}
