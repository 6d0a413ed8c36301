//! Configuration of every pallet in the runtime.

use crate::{
	units::*,
	weights::{
		self, block_weights::BlockExecutionWeight, extrinsic_weights::ExtrinsicBaseWeight,
		paritydb_weights::constants::ParityDbWeight,
	},
	AccountId, Aura, Authorship, Balance, Balances, Block, BlockNumber, Dpos, Hash, Historical,
	Nonce, Offences, PalletInfo, Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason,
	RuntimeHoldReason, RuntimeOrigin, RuntimeTask, Session, SessionKeys, Signature, System,
	UncheckedExtrinsic, VERSION,
};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	frame_support::{
		derive_impl,
		dispatch::DispatchClass,
		parameter_types,
		traits::{
			fungible::{Balanced, Credit},
			ConstBool, ConstU128, ConstU32, ConstU64, ConstU8, Imbalance, InstanceFilter,
			OnUnbalanced, VariantCountOf,
		},
		weights::{
			constants::WEIGHT_REF_TIME_PER_SECOND, ConstantMultiplier, IdentityFee, Weight,
			WeightToFee as _,
		},
		PalletId,
	},
	frame_system::{
		self, limits::BlockLength as SystemBlockLength, limits::BlockWeights as SystemBlockWeights,
	},
	pallet_aura, pallet_authorship, pallet_balances, pallet_grandpa, pallet_identity,
	pallet_multisig, pallet_offences, pallet_proxy, pallet_sudo, pallet_timestamp,
	pallet_transaction_payment::{self, FungibleAdapter, Multiplier, TargetedFeeAdjustment},
	pallet_utility,
	sp_consensus_aura::sr25519::AuthorityId as AuraId,
	sp_runtime::{
		traits::{BlakeTwo256, Bounded, Convert, ConvertInto, One, OpaqueKeys, Verify},
		FixedPointNumber, Perbill, Perquintill,
	},
	sp_session,
	sp_version::RuntimeVersion,
};

/// Share of a block that ordinary transactions may fill; the rest is kept for operational
/// ones (equivocation reports, root and governance calls) so they always fit. A block is
/// mostly small device writes: 15 % of its compute (150 ms) still takes hundreds of
/// operational transactions.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(85);
/// Share of a block that `on_initialize` hooks are expected to take.
const AVERAGE_ON_INITIALIZE_RATIO: Perbill = Perbill::from_percent(10);
/// Compute per block: half the block time.
const MAXIMUM_BLOCK_WEIGHT: Weight =
	Weight::from_parts(WEIGHT_REF_TIME_PER_SECOND * MILLI_SECS_PER_BLOCK / 2_000, u64::MAX);

/// What every transaction is charged besides its transaction extensions' and its call's own
/// weights.
///
/// `benchmark overhead` times whole signed no-op transactions (`ExtrinsicBaseWeight`):
/// decoding, the signature and every transaction extension. The extensions are also weighed
/// on their own, by their benchmarks, and each transaction is charged those; charging the
/// measured time on top would count them twice (polkadot-sdk#9981). So the base is what the
/// measurement leaves after the extensions' weights of such a transaction: a transaction is
/// never charged less than measured, and its extensions are charged once.
pub fn extrinsic_base_weight() -> Weight {
	ExtrinsicBaseWeight::get().saturating_sub(no_op_extensions_weight())
}

/// The weights of the transaction extensions a no-op transaction runs through (the cheaper of
/// a mortal and an immortal one, so no more is taken off the base than it saves).
pub fn no_op_extensions_weight() -> Weight {
	use frame_system::ExtensionsWeightInfo as System;
	type Extensions = <Runtime as frame_system::Config>::ExtensionsWeightInfo;
	type Payment = <Runtime as pallet_transaction_payment::Config>::WeightInfo;
	let mortality = <Extensions as System>::check_mortality_immortal_transaction()
		.min(<Extensions as System>::check_mortality_mortal_transaction());
	[
		<Extensions as System>::check_non_zero_sender(),
		<Extensions as System>::check_spec_version(),
		<Extensions as System>::check_tx_version(),
		<Extensions as System>::check_genesis(),
		mortality,
		<Extensions as System>::check_nonce(),
		<Extensions as System>::check_weight(),
		<Payment as pallet_transaction_payment::WeightInfo>::charge_transaction_payment(),
		<Extensions as System>::weight_reclaim(),
	]
	.into_iter()
	.fold(Weight::zero(), Weight::saturating_add)
}

parameter_types! {
	/// An equivocation can be reported as long as the offender's stake is still held.
	pub const ReportLongevity: u64 = DAYS as u64;
	/// Block hashes kept for mortal transactions: an hour and twenty minutes.
	pub const BlockHashCount: BlockNumber = 40 * MINUTES;
	pub const Version: RuntimeVersion = VERSION;

	/// Half of each block's time for compute leaves the other half to gossip the block and
	/// for every delegate to import it before the next slot. The base costs of a block and of
	/// a transaction are this machine's (`weights/`), not the SDK's reference values.
	pub RuntimeBlockWeights: SystemBlockWeights = SystemBlockWeights::builder()
		.base_block(BlockExecutionWeight::get())
		.for_class(DispatchClass::all(), |class| class.base_extrinsic = extrinsic_base_weight())
		.for_class(DispatchClass::Normal, |class| {
			class.max_total = Some(NORMAL_DISPATCH_RATIO * MAXIMUM_BLOCK_WEIGHT);
		})
		.for_class(DispatchClass::Operational, |class| {
			class.max_total = Some(MAXIMUM_BLOCK_WEIGHT);
			// Operational transactions may use what normal ones must leave.
			class.reserved =
				Some(MAXIMUM_BLOCK_WEIGHT - NORMAL_DISPATCH_RATIO * MAXIMUM_BLOCK_WEIGHT);
		})
		.avg_block_initialization(AVERAGE_ON_INITIALIZE_RATIO)
		.build_or_panic();
	pub RuntimeBlockLength: SystemBlockLength = SystemBlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(DispatchClass::Normal, |max| *max = NORMAL_DISPATCH_RATIO * *max)
		.build();
	/// Generic Substrate address format, so dev tooling shows the familiar addresses.
	pub const SS58Prefix: u16 = 42;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	type DbWeight = ParityDbWeight;
	type SystemWeightInfo = weights::frame_system::WeightInfo<Runtime>;
	type ExtensionsWeightInfo = weights::frame_system_extensions::WeightInfo<Runtime>;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_timestamp::Config for Runtime {
	type Moment = u64;
	type OnTimestampSet = Aura;
	// Aura checks slots against the timestamp; half a slot is the shortest valid period.
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = weights::pallet_timestamp::WeightInfo<Runtime>;
}

impl pallet_balances::Config for Runtime {
	type Balance = Balance;
	type DustRemoval = ();
	type RuntimeEvent = RuntimeEvent;
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ConstU32<50>;
	type ReserveIdentifier = [u8; 8];
	type WeightInfo = weights::pallet_balances::WeightInfo<Runtime>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type DoneSlashHandler = ();
}

/// Pays transaction fees: 80% is burned and 20% goes to the block's delegate, with all tips.
/// The delegate's block reward comes from `pallet-dpos`; fees only top it up, so a delegate
/// gains little from stuffing its own blocks.
pub struct DealWithFees;
impl OnUnbalanced<Credit<AccountId, Balances>> for DealWithFees {
	fn on_unbalanceds(mut fees_then_tips: impl Iterator<Item = Credit<AccountId, Balances>>) {
		if let Some(fees) = fees_then_tips.next() {
			// Dropping a credit burns it.
			let (_burned, mut to_author) = fees.ration(80, 20);
			if let Some(tips) = fees_then_tips.next() {
				tips.merge_into(&mut to_author);
			}
			if let Some(author) = Authorship::author() {
				// An author that cannot receive (it would stay below the existential deposit)
				// gets nothing: the credit is dropped, which burns it.
				let _ = Balances::resolve(&author, to_author);
			}
		}
	}
}

parameter_types! {
	/// A byte costs its share of a block's room, as a unit of weight does: filling a block's
	/// normal length costs what filling its normal compute costs (0.85 TIC at the base
	/// multiplier, ~0.19 micro-TIC a byte). Cheaper bytes made it nearly free to fill every
	/// block with a few large transactions and crowd out devices; a 256-byte device record's
	/// fee stays mostly its weight.
	pub TransactionByteFee: Balance = normal_weight_fee() / normal_max_length();
	/// Fees follow congestion: blocks fuller than this share of their normal compute raise the
	/// weight fee's multiplier, emptier ones lower it. IoT load runs blocks full for long, so
	/// the target is half of them rather than the quarter of general-purpose chains.
	pub const TargetBlockFullness: Perquintill = Perquintill::from_percent(50);
	/// How fast the multiplier moves: Polkadot's daily rate (3/40,000 a 6-second block) at
	/// 2-second blocks. Blocks full all day raise the weight fee ~1.7x, and it compounds for as
	/// long as they stay full; emptier blocks bring it back down as fast.
	pub AdjustmentVariable: Multiplier = Multiplier::saturating_from_rational(1, 40_000);
	/// Fees never drop below the benchmarked cost: an owner's device limits stay predictable.
	pub MinimumMultiplier: Multiplier = Multiplier::one();
	/// No ceiling but the arithmetic's: congestion keeps raising the price.
	pub MaximumMultiplier: Multiplier = Bounded::max_value();
}

/// The fee of a block's whole normal-dispatch compute, at the base multiplier.
fn normal_weight_fee() -> Balance {
	let max = RuntimeBlockWeights::get().get(DispatchClass::Normal).max_total;
	<Runtime as pallet_transaction_payment::Config>::WeightToFee::weight_to_fee(
		&max.unwrap_or(MAXIMUM_BLOCK_WEIGHT),
	)
}

/// The room of a block for normal transactions, in bytes.
fn normal_max_length() -> Balance {
	Balance::from(*RuntimeBlockLength::get().max.get(DispatchClass::Normal)).max(1)
}

/// The fee multiplier after each block: up under congestion, down to the base when blocks are
/// emptier than the target.
pub type SlowAdjustingFeeUpdate<R> = TargetedFeeAdjustment<
	R,
	TargetBlockFullness,
	AdjustmentVariable,
	MinimumMultiplier,
	MaximumMultiplier,
>;

/// The calls a device's owner pays for: what devices do, storing data records, each record
/// one action against the device's rate limit.
pub struct DeviceCalls;
impl pallet_devices::SponsoredCalls<RuntimeCall> for DeviceCalls {
	fn actions(call: &RuntimeCall) -> Option<u32> {
		match call {
			RuntimeCall::Payloads(pallet_payloads::Call::store { .. }) => Some(1),
			RuntimeCall::Payloads(pallet_payloads::Call::store_batch { payloads }) => {
				Some(payloads.len() as u32)
			}
			_ => None,
		}
	}
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	// Fees of data records signed by a device are paid by its owner, within the device's limits.
	type OnChargeTransaction =
		pallet_devices::OwnerPays<DeviceCalls, FungibleAdapter<Balances, DealWithFees>>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = ConstantMultiplier<Balance, TransactionByteFee>;
	type FeeMultiplierUpdate = SlowAdjustingFeeUpdate<Self>;
	// The SDK's measured charge, plus finding a device's owner (measured here).
	type WeightInfo = pallet_devices::fees::ChargeWeight<
		Runtime,
		weights::pallet_transaction_payment::WeightInfo<Runtime>,
	>;
}

impl pallet_authorship::Config for Runtime {
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Aura>;
	type EventHandler = Dpos;
}

parameter_types! {
	pub const DposPalletId: PalletId = PalletId(*b"tc/dpos_");
	pub const EquivocationSlash: Perbill = Perbill::from_percent(10);
}

impl pallet_dpos::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ValidatorSet = Session;
	type ValidatorRegistration = Session;
	type UpdateOrigin = crate::governance::StakingAdmin;
	// Slashed stake is burned.
	type OnSlash = ();
	type PalletId = DposPalletId;
	type MinStake = ConstU128<TIC>;
	type MinCandidateBond = ConstU128<{ 1_000 * TIC }>;
	type MaxCandidates = ConstU32<100>;
	type MaxDelegates = ConstU32<21>;
	// One delegate keeps a network producing blocks, however thin its candidate list gets.
	type MinDelegates = ConstU32<1>;
	type MaxVotes = ConstU32<16>;
	type MaxUnlockingChunks = ConstU32<32>;
	type MaxMetadataLen = ConstU32<256>;
	// A week: far longer than the report window at any session length up to 70 minutes
	// (`set_session_length` refuses longer ones), so an equivocating delegate's stake is still
	// held when the last report of its offence can come.
	type UnbondingPeriod = ConstU32<{ 7 * DAYS }>;
	type EquivocationSlash = EquivocationSlash;
	// A day of the genesis 10-minute sessions.
	type SlashReportWindow = ConstU32<144>;
	// An equivocator of the current session is disabled: Aura refuses its blocks until the
	// delegate set changes.
	type Disabler = Session;
	type DelegateMembers = crate::Council;
	type WeightInfo = pallet_dpos::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmarks::SessionKeysHelper;
}

/// Sessions last `pallet_dpos::SessionLength` blocks (ten minutes at genesis; governance
/// can change it); the delegate set changes at their edges.
type Sessions =
	pallet_session::PeriodicSessions<pallet_dpos::CurrentSessionLength<Runtime>, ConstU32<0>>;

parameter_types! {
	pub const MaxAuthorities: u32 = 100;
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = Sessions;
	type NextSessionRotation = Sessions;
	// Dpos elects the delegates; the historical wrapper records each session's set so
	// equivocation reports can prove the offender was a delegate.
	type SessionManager = pallet_session::historical::NoteHistoricalRoot<Self, Dpos>;
	type SessionHandler = <SessionKeys as OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	// At most a third of the delegates disabled at once, as the SDK's default strategy.
	type DisablingStrategy = pallet_session::disabling::UpToLimitDisablingStrategy;
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type KeyDeposit = ();
}

/// Delegates need no identification beyond their account in offence reports.
pub struct DelegateIdentification;
impl Convert<AccountId, Option<()>> for DelegateIdentification {
	fn convert(_: AccountId) -> Option<()> {
		Some(())
	}
}

impl pallet_session::historical::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type FullIdentification = ();
	type FullIdentificationOf = DelegateIdentification;
}

impl pallet_offences::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type IdentificationTuple = pallet_session::historical::IdentificationTuple<Self>;
	type OnOffenceHandler = Dpos;
}

parameter_types! {
	/// Recording an offence in pallet-offences (its report, the concurrent-reports index and
	/// the deferred-slash bookkeeping) and slashing its offender.
	pub AuraOffenceHandlingWeight: Weight = <Runtime as frame_system::Config>::DbWeight::get()
		.reads_writes(3, 3)
		.saturating_add(<pallet_dpos::weights::SubstrateWeight<Runtime> as pallet_dpos::WeightInfo>::slash());
}

/// Aura's slots and authorities and the session they belong to, for equivocation reports.
pub struct AuraSchedule;
impl pallet_aura_equivocation::SlotSchedule<AuraId> for AuraSchedule {
	fn session() -> polkadot_sdk::sp_staking::SessionIndex {
		pallet_session::Pallet::<Runtime>::current_index()
	}
	fn slot() -> polkadot_sdk::sp_consensus_aura::Slot {
		pallet_aura::CurrentSlot::<Runtime>::get()
	}
	fn authorities() -> alloc::vec::Vec<AuraId> {
		pallet_aura::Authorities::<Runtime>::get().into_inner()
	}
}

/// Session roots older than any report may name are dropped from the history.
pub struct PruneHistorical;
impl pallet_aura_equivocation::PruneSessions for PruneHistorical {
	fn prune_up_to(session: polkadot_sdk::sp_staking::SessionIndex) {
		pallet_session::historical::Pallet::<Runtime>::prune_up_to(session);
	}
}

impl pallet_aura_equivocation::Config for Runtime {
	type AuthorityId = AuraId;
	type Schedule = AuraSchedule;
	type PruneSessions = PruneHistorical;
	// The slashing window: a report older than it would slash nothing.
	type ReportWindow = <Runtime as pallet_dpos::Config>::SlashReportWindow;
	type MaxAuthorities = MaxAuthorities;
	type ReportLongevity = ReportLongevity;
	type KeyOwnerProof = sp_session::MembershipProof;
	type Offender = pallet_session::historical::IdentificationTuple<Self>;
	type KeyOwnerProofSystem = Historical;
	type ReportOffence = Offences;
	type OffenceHandlingWeight = AuraOffenceHandlingWeight;
	type WeightInfo = pallet_aura_equivocation::weights::SubstrateWeight<Runtime>;
}

/// Who sealed a recent slot: the session records pallet-aura-equivocation keeps, and the
/// validator that key belongs to.
pub struct RecordedSlotAuthors;
impl pallet_block_graph::SlotAuthors<AuraId, AccountId> for RecordedSlotAuthors {
	fn slot_author(slot: polkadot_sdk::sp_consensus_aura::Slot) -> Option<(AuraId, AccountId)> {
		let key = pallet_aura_equivocation::Pallet::<Runtime>::slot_author(slot)?;
		let owner = pallet_session::Pallet::<Runtime>::key_owner(
			polkadot_sdk::sp_core::crypto::key_types::AURA,
			key.as_ref(),
		)?;
		Some((key, owner))
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl pallet_block_graph::BenchmarkHelper<AuraId> for RecordedSlotAuthors {
	fn make_slot_author(
		first: polkadot_sdk::sp_consensus_aura::Slot,
		now: polkadot_sdk::sp_consensus_aura::Slot,
		key: &AuraId,
	) {
		// The current session, of one authority, `key`, from `first` up to `now`, the key
		// owned by an account of its own.
		pallet_aura::CurrentSlot::<Runtime>::put(now);
		let session = pallet_session::Pallet::<Runtime>::current_index();
		pallet_aura_equivocation::SessionSlots::<Runtime>::insert(
			session,
			pallet_aura_equivocation::SessionRecord {
				first_slot: first,
				authorities: alloc::vec![key.clone()].try_into().expect("one authority fits"),
			},
		);
		let owner = AccountId::from(key.clone().into_inner());
		pallet_session::KeyOwner::<Runtime>::insert(
			(polkadot_sdk::sp_core::crypto::key_types::AURA, key.encode()),
			owner,
		);
	}
}

/// Referenced blocks' authors are paid through DPoS.
pub struct DposReferenceRewards;
impl pallet_block_graph::RewardShare<AccountId> for DposReferenceRewards {
	fn reward(author: &AccountId, share: Perbill) {
		pallet_dpos::Pallet::<Runtime>::reward_referenced(author, share);
	}
}

parameter_types! {
	/// A referenced block's slot may be up to two minutes before the block's.
	pub const ReferenceSlotWindow: u32 = 60;
}

impl pallet_block_graph::Config for Runtime {
	type AuthorityId = AuraId;
	type SlotAuthors = RecordedSlotAuthors;
	type Rewards = DposReferenceRewards;
	type AdminOrigin = crate::governance::StakingAdmin;
	type SlotWindow = ReferenceSlotWindow;
	type WeightInfo = pallet_block_graph::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = RecordedSlotAuthors;
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	// A disabled delegate's blocks are refused.
	type DisabledValidators = Session;
	type MaxAuthorities = MaxAuthorities;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = ConstU32<0>;
	// Set ids remembered for equivocation reports: a day of ten-minute sessions, with room.
	type MaxSetIdSessionEntries = ConstU64<256>;
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem =
		pallet_grandpa::EquivocationReportSystem<Self, Offences, Historical, ReportLongevity>;
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

/// GRANDPA and Aura equivocation reports are submitted as unsigned transactions.
impl<C> frame_system::offchain::CreateBare<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_bare(call)
	}
}

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = crate::OriginCaller;
	type WeightInfo = weights::pallet_utility::WeightInfo<Runtime>;
}

parameter_types! {
	// A multisig operation stores its call hash, depositor, approvals and timepoint.
	pub const DepositBase: Balance = deposit(1, 88);
	pub const DepositFactor: Balance = deposit(0, 32);
	pub const MaxSignatories: u32 = 100;
}

impl pallet_multisig::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type Currency = Balances;
	type DepositBase = DepositBase;
	type DepositFactor = DepositFactor;
	type MaxSignatories = MaxSignatories;
	type WeightInfo = weights::pallet_multisig::WeightInfo<Runtime>;
	type BlockNumberProvider = System;
}

/// What a proxy account may do for the account that registered it.
#[derive(
	Copy,
	Clone,
	Eq,
	PartialEq,
	Ord,
	PartialOrd,
	Encode,
	Decode,
	DecodeWithMemTracking,
	Debug,
	MaxEncodedLen,
	scale_info::TypeInfo,
	Default,
)]
pub enum ProxyType {
	/// Everything.
	#[default]
	Any,
	/// Everything except moving funds.
	NonTransfer,
	/// Only rejecting announcements of other proxies.
	CancelProxy,
}

impl InstanceFilter<RuntimeCall> for ProxyType {
	fn filter(&self, call: &RuntimeCall) -> bool {
		match self {
			ProxyType::Any => true,
			ProxyType::NonTransfer => !matches!(call, RuntimeCall::Balances(..)),
			ProxyType::CancelProxy => matches!(
				call,
				RuntimeCall::Proxy(pallet_proxy::Call::reject_announcement { .. })
					| RuntimeCall::Utility(..)
					| RuntimeCall::Multisig(..)
			),
		}
	}

	fn is_superset(&self, other: &Self) -> bool {
		match (self, other) {
			(x, y) if x == y => true,
			(ProxyType::Any, _) => true,
			(_, ProxyType::Any) => false,
			(ProxyType::NonTransfer, _) => true,
			_ => false,
		}
	}
}

parameter_types! {
	// A proxy entry is 33 bytes (account + type); an announcement is 68 bytes.
	pub const ProxyDepositBase: Balance = deposit(1, 8);
	pub const ProxyDepositFactor: Balance = deposit(0, 33);
	pub const AnnouncementDepositBase: Balance = deposit(1, 8);
	pub const AnnouncementDepositFactor: Balance = deposit(0, 68);
}

impl pallet_proxy::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type Currency = Balances;
	type ProxyType = ProxyType;
	type ProxyDepositBase = ProxyDepositBase;
	type ProxyDepositFactor = ProxyDepositFactor;
	type MaxProxies = ConstU32<32>;
	type WeightInfo = weights::pallet_proxy::WeightInfo<Runtime>;
	type MaxPending = ConstU32<32>;
	type CallHasher = BlakeTwo256;
	type AnnouncementDepositBase = AnnouncementDepositBase;
	type AnnouncementDepositFactor = AnnouncementDepositFactor;
	type BlockNumberProvider = System;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = weights::pallet_sudo::WeightInfo<Runtime>;
}

parameter_types! {
	// An identity stores up to 100 fields of a few dozen bytes; a sub-account 53 bytes.
	pub const IdentityBasicDeposit: Balance = deposit(1, 258);
	pub const IdentityByteDeposit: Balance = deposit(0, 1);
	pub const IdentityUsernameDeposit: Balance = deposit(0, 32);
	pub const IdentitySubAccountDeposit: Balance = deposit(1, 53);
}

/// Identities of service nodes and institutions, judged by registrars that governance
/// appoints; a service node is trusted only with a positive judgement.
impl pallet_identity::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type BasicDeposit = IdentityBasicDeposit;
	type ByteDeposit = IdentityByteDeposit;
	type UsernameDeposit = IdentityUsernameDeposit;
	type SubAccountDeposit = IdentitySubAccountDeposit;
	type MaxSubAccounts = ConstU32<100>;
	type IdentityInformation = pallet_identity::legacy::IdentityInfo<ConstU32<100>>;
	type MaxRegistrars = ConstU32<20>;
	// Slashed identity deposits are burned.
	type Slashed = ();
	type ForceOrigin = crate::governance::NestAdmin;
	type RegistrarOrigin = crate::governance::NestAdmin;
	type OffchainSignature = Signature;
	type SigningPublicKey = <Signature as Verify>::Signer;
	type UsernameAuthorityOrigin = crate::governance::NestAdmin;
	type PendingUsernameExpiration = ConstU32<{ 7 * DAYS }>;
	type UsernameGracePeriod = ConstU32<{ 30 * DAYS }>;
	type MaxSuffixLength = ConstU32<7>;
	type MaxUsernameLength = ConstU32<32>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
	// Still the SDK's reference-machine weights (priced with our database weights): its
	// benchmarks take over half an hour here; identity calls are rare.
	type WeightInfo = pallet_identity::weights::SubstrateWeight<Runtime>;
}

/// A would-be service node counts as identified once any registrar judged its identity
/// `Reasonable` or `KnownGood`.
pub struct RegistrarJudgement;
impl pallet_service_registry::VerifyIdentity<AccountId> for RegistrarJudgement {
	fn is_verified(who: &AccountId) -> bool {
		pallet_identity::IdentityOf::<Runtime>::get(who).is_some_and(|registration| {
			registration.judgements.iter().any(|(_, judgement)| {
				matches!(
					judgement,
					pallet_identity::Judgement::Reasonable | pallet_identity::Judgement::KnownGood
				)
			})
		})
	}
}

impl pallet_service_registry::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type CreateOrigin = crate::governance::NestAdmin;
	type IdentityVerifier = RegistrarJudgement;
	// Slashed super-node stake is burned.
	type OnSlash = ();
	// A node that leaves loses its pending attestations.
	type OnNodeRemoved = crate::NestAnchor;
	type MinSuperNodeStake = ConstU128<{ 10_000 * TIC }>;
	type SuperNodeUnbondingPeriod = ConstU32<DAYS>;
	// Ranked by stake; a full set admits only a higher stake than its lowest.
	type MaxSuperNodes = ConstU32<64>;
	type MaxServiceNodes = ConstU32<16>;
	type MaxNameLen = ConstU32<64>;
	// Ten seconds; services choose their own epoch, ten minutes by default in the docs.
	type MinEpochLength = ConstU32<5>;
	// A service pegs value to a few partner services, each named by its owner.
	type MaxLockDestinations = ConstU32<8>;
	// Per anchor, so a service anchoring every ten minutes pays 144 TIC a day.
	type AnchorFee = ConstU128<TIC>;
	type WeightInfo = pallet_service_registry::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmarks::NestSetup;
}

parameter_types! {
	/// Half of the active super nodes, rounded up, approve each anchor.
	pub const AnchorApprovalThreshold: Perbill = Perbill::from_percent(50);
	/// Approving two roots of one epoch costs a fifth of the super node's stake.
	pub const DoubleApprovalSlash: Perbill = Perbill::from_percent(20);
}

impl pallet_nest_anchor::Config for Runtime {
	type Registry = crate::ServiceRegistry;
	type Balance = Balance;
	type ApprovalThreshold = AnchorApprovalThreshold;
	type DoubleApprovalSlash = DoubleApprovalSlash;
	type MaxAttesters = ConstU32<16>;
	type MaxApprovers = ConstU32<32>;
	// A root for every trusted node (`MaxAttesters`): conflicting roots never crowd out one.
	type MaxCandidates = ConstU32<16>;
	// Each service's owner may too.
	type AdminOrigin = crate::governance::NestAdmin;
	// A day without approving, while others anchor, and anyone may chill a super node.
	type IdlePeriod = ConstU32<DAYS>;
	type WeightInfo = pallet_nest_anchor::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmarks::NestSetup;
}

impl pallet_nest_peg::Config for Runtime {
	type Anchors = crate::NestAnchor;
	type Registry = crate::ServiceRegistry;
	type Balance = Balance;
	type UpdateOrigin = crate::governance::NestAdmin;
	// A lock's next epoch (ten minutes on the design's epochs) must be anchored with no
	// revert before its claim can be final; governance asks more of a service it trusts less.
	type DefaultFinalityEpochs = ConstU32<1>;
	type WeightInfo = pallet_nest_peg::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmarks::NestSetup;
}

parameter_types! {
	// A device record is about 250 bytes of state.
	pub const DeviceDeposit: Balance = deposit(2, 256);
}

/// IoT devices: registered by their owners, who hold a deposit per device.
impl pallet_devices::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Services = crate::ServiceRegistry;
	// Device keys prove possession with the signatures transactions use (sr25519 for the SDK).
	type Signature = crate::Signature;
	// Its reader list goes with a removed device; its records expire as usual.
	type OnRemoved = crate::Payloads;
	type DeviceDeposit = DeviceDeposit;
	type MaxMetadataLen = ConstU32<128>;
	// From an hour of data to a year of it.
	type MinRetention = ConstU32<HOURS>;
	type MaxRetention = ConstU32<{ 365 * DAYS }>;
	type WeightInfo = pallet_devices::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmarks::NestSetup;
}

parameter_types! {
	pub const RecordDepositBase: Balance = deposit(1, 0);
	/// A tenth of the general storage price: device records are small, many and short-lived.
	pub const RecordDepositPerByte: Balance = deposit(0, 1) / 10;
}

/// Device data records: encrypted envelopes, deposits held from the device's owner.
impl pallet_payloads::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Devices = crate::Devices;
	type RecordDepositBase = RecordDepositBase;
	type RecordDepositPerByte = RecordDepositPerByte;
	type MaxPayloadLen = ConstU32<{ thingschain_primitives::envelope::MAX_INLINE_BYTES }>;
	type MaxReaders = ConstU32<16>;
	// A minute of readings at one a second, in one transaction.
	type MaxBatch = ConstU32<64>;
	type WeightInfo = pallet_payloads::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmarks::NestSetup;
}
