//! On-chain governance: TIC holders decide by referenda, the elected delegates form the
//! council, and no call needs sudo.
//!
//! - **Referenda** (pallet-referenda) run on [`tracks`]: each track dispatches its passed
//!   calls with its own origin ([`origins`]), and each privileged call accepts only the tracks
//!   allowed to make it. Votes are pallet-conviction-voting's: locked balance times conviction.
//!   A referendum's call is a preimage (pallet-preimage) and its enactment is scheduled
//!   (pallet-scheduler).
//! - **The council** (pallet-collective) is the set of delegates each DPoS election chooses
//!   (`pallet_dpos::Config::DelegateMembers`). Two thirds of it can whitelist a call
//!   (pallet-whitelist), which a `whitelisted_caller` referendum then dispatches as root with
//!   far less support than `root` needs, and can cancel an ongoing referendum.
//! - **Runtime upgrades**: a `root` referendum (or a whitelisted call) enacts
//!   `system.authorize_upgrade(code_hash)`; then anyone submits the code with
//!   `system.apply_authorized_upgrade`, which is free when it matches.
//!
//! `docs/governance.md` has the table of calls and tracks and the upgrade steps.
//!
//! The `fast-runtime` feature shortens every period (tracks, vote locks, motions) to minutes,
//! as Polkadot's feature of that name, so a local network can go through a whole referendum
//! and upgrade while one watches. It is never deployed.

pub mod origins;
pub mod tracks;

pub use origins::pallet_custom_origins;

use crate::{
	configs::RuntimeBlockWeights,
	units::{deposit, DAYS, MINUTES, TIC},
	AccountId, Balance, Balances, BlockNumber, OriginCaller, Preimage, Referenda, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeHoldReason, RuntimeOrigin, Scheduler, System,
};
use polkadot_sdk::{
	frame_support::{
		parameter_types,
		traits::{
			fungible::HoldConsideration, tokens::currency::TotalIssuanceOf, ConstU128, ConstU32,
			EitherOf, EqualPrivilegeOnly, LinearStoragePrice,
		},
		weights::Weight,
	},
	frame_system::{EnsureRoot, EnsureSigned},
	pallet_collective, pallet_conviction_voting, pallet_preimage, pallet_referenda,
	pallet_scheduler, pallet_whitelist,
	sp_runtime::Perbill,
};

/// `prod` blocks, or `fast` in a `fast-runtime` build.
pub(crate) const fn prod_or_fast(prod: BlockNumber, fast: BlockNumber) -> BlockNumber {
	if cfg!(feature = "fast-runtime") {
		fast
	} else {
		prod
	}
}

/// The council's instance of pallet-collective.
pub type CouncilCollective = pallet_collective::Instance1;

/// Two thirds of the council.
pub type CouncilSupermajority =
	pallet_collective::EnsureProportionAtLeast<AccountId, CouncilCollective, 2, 3>;

/// Root, or a passed `nest_admin` referendum: NestChain services, registrars, peg periods.
pub type NestAdmin = EitherOf<EnsureRoot<AccountId>, origins::NestAdmin>;

/// Root, or a passed `staking_admin` referendum: block reward, sessions, delegate count.
pub type StakingAdmin = EitherOf<EnsureRoot<AccountId>, origins::StakingAdmin>;

impl pallet_custom_origins::Config for Runtime {}

parameter_types! {
	/// A preimage's request status, its hash key and its bytes.
	pub const PreimageBaseDeposit: Balance = deposit(2, 64);
	pub const PreimageByteDeposit: Balance = deposit(0, 1);
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
}

/// The calls referenda and motions decide on, stored by hash until they are enacted.
impl pallet_preimage::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = crate::weights::pallet_preimage::WeightInfo<Runtime>;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		PreimageHoldReason,
		LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>,
	>;
}

parameter_types! {
	/// Scheduled calls (enacted referenda) may take most of a block; ordinary transactions
	/// keep the rest.
	pub MaximumSchedulerWeight: Weight =
		Perbill::from_percent(80) * RuntimeBlockWeights::get().max_block;
}

/// Runs enacted referenda and their alarms at the blocks they are due.
impl pallet_scheduler::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeOrigin = RuntimeOrigin;
	type PalletsOrigin = OriginCaller;
	type RuntimeCall = RuntimeCall;
	type MaximumWeight = MaximumSchedulerWeight;
	// Only referenda (through their own pallet) and root schedule.
	type ScheduleOrigin = EnsureRoot<AccountId>;
	type OriginPrivilegeCmp = EqualPrivilegeOnly;
	type MaxScheduledPerBlock = ConstU32<50>;
	type WeightInfo = crate::weights::pallet_scheduler::WeightInfo<Runtime>;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

/// Token holders' referenda on the [`tracks`].
impl pallet_referenda::Config for Runtime {
	type RuntimeCall = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = crate::weights::pallet_referenda::WeightInfo<Runtime>;
	type Scheduler = Scheduler;
	type Currency = Balances;
	// Any account may submit; its track's decision deposit keeps the deciding slots for
	// referenda someone is willing to back.
	type SubmitOrigin = EnsureSigned<AccountId>;
	// The council can veto a referendum by a supermajority, refunding its deposits.
	type CancelOrigin = EitherOf<
		EitherOf<EnsureRoot<AccountId>, origins::ReferendumCanceller>,
		CouncilSupermajority,
	>;
	type KillOrigin = EitherOf<EnsureRoot<AccountId>, origins::ReferendumKiller>;
	// Deposits of killed referenda are burned.
	type Slash = ();
	type Votes = Balance;
	type Tally = pallet_conviction_voting::TallyOf<Runtime>;
	type SubmissionDeposit = ConstU128<{ 10 * TIC }>;
	type MaxQueued = ConstU32<20>;
	type UndecidingTimeout = ConstU32<{ prod_or_fast(14 * DAYS, 10 * MINUTES) }>;
	type AlarmInterval = ConstU32<1>;
	type Tracks = tracks::TracksInfo;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

/// Votes on referenda: balance locked for longer buys more weight. Stake that DPoS holds can
/// vote too: the vote's lock overlaps the hold rather than adding to it.
impl pallet_conviction_voting::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = crate::weights::pallet_conviction_voting::WeightInfo<Runtime>;
	type Currency = Balances;
	type Polls = Referenda;
	type MaxTurnout = TotalIssuanceOf<Balances, AccountId>;
	// Enough for every deciding and queued referendum of a track.
	type MaxVotes = ConstU32<128>;
	// A week per conviction step.
	type VoteLockingPeriod = ConstU32<{ prod_or_fast(7 * DAYS, MINUTES) }>;
	type BlockNumberProvider = System;
	type VotingHooks = ();
}

parameter_types! {
	pub const CouncilMotionDuration: BlockNumber = prod_or_fast(DAYS, MINUTES);
	/// A motion's call may take half a block.
	pub MaxCouncilProposalWeight: Weight =
		Perbill::from_percent(50) * RuntimeBlockWeights::get().max_block;
}

/// The elected delegates as a council; DPoS sets its members at every election.
impl pallet_collective::Config<CouncilCollective> for Runtime {
	type RuntimeOrigin = RuntimeOrigin;
	type Proposal = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type MotionDuration = CouncilMotionDuration;
	type MaxProposals = ConstU32<32>;
	type MaxMembers = <Runtime as pallet_dpos::Config>::MaxDelegates;
	// No prime member: a member who does not vote counts as against.
	type DefaultVote = pallet_collective::PrimeDefaultVote;
	type WeightInfo = crate::weights::pallet_collective::WeightInfo<Runtime>;
	// Elections set the members; no one else may. The pallet's benchmarks need an origin
	// that can (they set members to measure each size); the benchmarking runtime gets root.
	#[cfg(not(feature = "runtime-benchmarks"))]
	type SetMembersOrigin = polkadot_sdk::frame_system::EnsureNever<()>;
	#[cfg(feature = "runtime-benchmarks")]
	type SetMembersOrigin = EnsureRoot<AccountId>;
	type MaxProposalWeight = MaxCouncilProposalWeight;
	type DisapproveOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	// Members are few and bounded by `MaxProposals`; proposing costs no deposit.
	type Consideration = ();
}

/// Calls two thirds of the council vouched for, dispatched as root by a `whitelisted_caller`
/// referendum.
impl pallet_whitelist::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WhitelistOrigin = EitherOf<EnsureRoot<AccountId>, CouncilSupermajority>;
	type DispatchWhitelistedOrigin = EitherOf<EnsureRoot<AccountId>, origins::WhitelistedCaller>;
	type Preimages = Preimage;
	type DeferredDispatchExpiration = ConstU32<{ prod_or_fast(DAYS, 10 * MINUTES) }>;
	type BlockNumberProvider = System;
	type WeightInfo = crate::weights::pallet_whitelist::WeightInfo<Runtime>;
}
