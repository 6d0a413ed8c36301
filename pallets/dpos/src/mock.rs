//! A test runtime: System, Balances, pallet-session fed by this pallet, and a block loop that
//! rotates sessions and notes authors the way Aura and pallet-authorship do.

use crate::{self as pallet_dpos, CurrentSessionLength, GenesisCandidate, GenesisVoter};
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{ChangeMembers, ConstU128, ConstU32, ConstU64, Hooks, InitializeMembers},
		PalletId,
	},
	frame_system,
	pallet_authorship::EventHandler,
	pallet_balances,
	sp_runtime::{
		impl_opaque_keys,
		testing::UintAuthorityId,
		traits::{ConvertInto, OpaqueKeys},
		BuildStorage, KeyTypeId, Perbill, RuntimeAppPublic as _,
	},
};

pub type AccountId = u64;
pub type Balance = u128;
type Block = frame_system::mocking::MockBlock<Test>;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Dpos: pallet_dpos,
		Session: pallet_session,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

pub const ED: Balance = 1;

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = ConstU128<ED>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

impl_opaque_keys! {
	pub struct MockSessionKeys {
		pub aura: UintAuthorityId,
	}
}

/// Session keys and the proof that `who` owns them.
pub fn session_keys(who: AccountId) -> (MockSessionKeys, Vec<u8>) {
	let mut keys = MockSessionKeys { aura: UintAuthorityId(who) };
	let proof = keys.create_ownership_proof(&codec::Encode::encode(&who)).expect("test keys sign");
	(keys, codec::Encode::encode(&proof))
}

pub struct TestSessionHandler;
impl pallet_session::SessionHandler<AccountId> for TestSessionHandler {
	const KEY_TYPE_IDS: &'static [KeyTypeId] = &[UintAuthorityId::ID];
	fn on_genesis_session<Ks: OpaqueKeys>(_: &[(AccountId, Ks)]) {}
	fn on_new_session<Ks: OpaqueKeys>(_: bool, _: &[(AccountId, Ks)], _: &[(AccountId, Ks)]) {}
	fn on_disabled(_: u32) {}
}

type Sessions = pallet_session::PeriodicSessions<CurrentSessionLength<Test>, ConstU64<0>>;

impl pallet_session::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = Sessions;
	type NextSessionRotation = Sessions;
	type SessionManager = Dpos;
	type SessionHandler = TestSessionHandler;
	type Keys = MockSessionKeys;
	// Half the set, less one, may be disabled: with the mock's three delegates, one can be.
	type DisablingStrategy = pallet_session::disabling::UpToLimitDisablingStrategy<2>;
	type WeightInfo = ();
	type Currency = Balances;
	type KeyDeposit = ();
}

pub const MIN_STAKE: Balance = 10;
pub const MIN_BOND: Balance = 100;
pub const UNBONDING: u64 = 50;
/// Sessions an offence slashes in: 30 blocks at [`SESSION`], less than [`UNBONDING`].
pub const REPORT_WINDOW: u32 = 3;
pub const SESSION: u64 = 10;
pub const REWARD: Balance = 1_000;

parameter_types! {
	pub const DposPalletId: PalletId = PalletId(*b"tc/dpos_");
	pub const EquivocationSlash: Perbill = Perbill::from_percent(10);
	/// Delegates whose node is down: their slots pass without a block.
	pub static Offline: Vec<AccountId> = vec![];
	/// The members [`Council`] was given, and the accounts each change let in and out.
	pub static CouncilMembers: Vec<AccountId> = vec![];
	pub static CouncilChanges: Vec<(Vec<AccountId>, Vec<AccountId>)> = vec![];
}

/// Stands for a collective whose members are the elected delegates.
pub struct Council;
impl InitializeMembers<AccountId> for Council {
	fn initialize_members(members: &[AccountId]) {
		assert!(CouncilMembers::get().is_empty(), "the council is initialized once");
		CouncilMembers::set(members.to_vec());
	}
}
impl ChangeMembers<AccountId> for Council {
	fn change_members_sorted(incoming: &[AccountId], outgoing: &[AccountId], new: &[AccountId]) {
		CouncilMembers::set(new.to_vec());
		CouncilChanges::mutate(|changes| changes.push((incoming.to_vec(), outgoing.to_vec())));
	}
}

impl crate::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ValidatorSet = Session;
	type ValidatorRegistration = Session;
	type UpdateOrigin = frame_system::EnsureRoot<AccountId>;
	type OnSlash = ();
	type PalletId = DposPalletId;
	type MinStake = ConstU128<MIN_STAKE>;
	type MinCandidateBond = ConstU128<MIN_BOND>;
	type MaxCandidates = ConstU32<6>;
	type MaxDelegates = ConstU32<3>;
	type MinDelegates = ConstU32<2>;
	type MaxVotes = ConstU32<3>;
	type MaxUnlockingChunks = ConstU32<3>;
	type MaxMetadataLen = ConstU32<16>;
	type UnbondingPeriod = ConstU64<UNBONDING>;
	type EquivocationSlash = EquivocationSlash;
	type Disabler = Session;
	type SlashReportWindow = ConstU32<REPORT_WINDOW>;
	type DelegateMembers = Council;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::benchmarking::BenchmarkHelper<AccountId> for MockBenchmarkHelper {
	fn set_session_keys(who: &AccountId) {
		let (keys, proof) = session_keys(*who);
		Session::set_keys(RuntimeOrigin::signed(*who), keys, proof).expect("keys are valid");
	}
}

/// Every test account starts with this much.
pub const ENDOWMENT: Balance = 1_000_000;
/// Accounts 1..=ACCOUNTS exist; 1..=6 have session keys.
pub const ACCOUNTS: AccountId = 20;

/// Genesis for a test: candidates with their self-bonds and commissions, and voters.
pub struct ExtBuilder {
	candidates: Vec<(AccountId, Balance, Perbill)>,
	voters: Vec<(AccountId, Balance, Vec<AccountId>)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self {
			candidates: vec![
				(1, 500, Perbill::from_percent(10)),
				(2, 400, Perbill::from_percent(20)),
				(3, 300, Perbill::zero()),
			],
			voters: vec![],
		}
	}
}

impl ExtBuilder {
	pub fn candidates(mut self, candidates: Vec<(AccountId, Balance, Perbill)>) -> Self {
		self.candidates = candidates;
		self
	}

	pub fn voters(mut self, voters: Vec<(AccountId, Balance, Vec<AccountId>)>) -> Self {
		self.voters = voters;
		self
	}

	pub fn build(self) -> polkadot_sdk::sp_io::TestExternalities {
		// A fresh chain has no council yet (property tests build many in one thread).
		CouncilMembers::reset();
		CouncilChanges::reset();
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: (1..=ACCOUNTS).map(|who| (who, ENDOWMENT)).collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_dpos::GenesisConfig::<Test> {
			candidates: self
				.candidates
				.into_iter()
				.map(|(account, bond, commission)| GenesisCandidate { account, bond, commission })
				.collect(),
			voters: self
				.voters
				.into_iter()
				.map(|(account, stake, approvals)| GenesisVoter { account, stake, approvals })
				.collect(),
			block_reward: REWARD,
			session_length: SESSION,
			desired_delegates: 0,
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_session::GenesisConfig::<Test> {
			keys: (1..=6).map(|who| (who, who, session_keys(who).0)).collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = polkadot_sdk::sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			crate::tests::assert_invariants();
		})
	}
}

/// The delegate whose Aura slot block `n` is: validators take turns.
pub fn slot_owner(n: u64) -> AccountId {
	let validators = Session::validators();
	validators[(n % validators.len() as u64) as usize]
}

/// Runs blocks up to `n`: rotates sessions like pallet-session's hook and notes each block's
/// author like pallet-authorship, unless the slot owner is offline.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Session::on_initialize(next);
		let author = slot_owner(next);
		if !Offline::get().contains(&author) {
			Dpos::note_author(author);
		}
	}
}

/// Runs blocks until session `index` has started.
pub fn run_to_session(index: u32) {
	while Session::current_index() < index {
		run_to_block(System::block_number() + 1);
	}
}
