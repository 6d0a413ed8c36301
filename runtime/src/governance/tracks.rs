//! The referendum tracks: each origin a referendum can dispatch with, and how much deposit,
//! time, approval and support it takes. Periods fit a small chain of two-second blocks:
//! a week to decide, a day of confirmation before a runtime upgrade, less for the rest. A
//! `fast-runtime` build runs every track in the same few blocks ([`super::prod_or_fast`]).

use super::{origins::Origin, prod_or_fast};
use crate::{
	units::{DAYS, HOURS, MINUTES, TIC},
	Balance, BlockNumber, OriginCaller,
};
use alloc::borrow::Cow;
use polkadot_sdk::{
	frame_system::RawOrigin,
	pallet_referenda::{self, Curve, Track, TrackInfo},
	sp_runtime::{str_array, Perbill},
};

/// A track's identifier, as referenda store it.
pub type TrackId = u16;

/// The tracks' identifiers.
pub mod id {
	use super::TrackId;

	/// Anything, as root: runtime upgrades (`system.authorize_upgrade`), balances' forced
	/// moves, GRANDPA's stall recovery.
	pub const ROOT: TrackId = 0;
	/// A call the council whitelisted, dispatched as root after a lighter referendum.
	pub const WHITELISTED_CALLER: TrackId = 1;
	/// NestChain services, identity registrars, peg periods, stuck anchor rounds.
	pub const NEST_ADMIN: TrackId = 2;
	/// Block reward, session length, delegate count.
	pub const STAKING_ADMIN: TrackId = 3;
	/// Cancelling a referendum (deposits refunded).
	pub const REFERENDUM_CANCELLER: TrackId = 4;
	/// Killing a referendum (deposits slashed).
	pub const REFERENDUM_KILLER: TrackId = 5;
}

/// Approval (ayes of all votes, by conviction) falls from all to a majority over the decision
/// period: a referendum passes early only if nearly no one objects.
const APPROVAL: Curve = Curve::LinearDecreasing {
	length: Perbill::from_percent(100),
	floor: Perbill::from_percent(50),
	ceil: Perbill::from_percent(100),
};

/// Support (aye capital without conviction, of the total issuance) falls from `ceil` to
/// `floor` over the decision period.
const fn support(ceil: u32, floor_per_mill: u32) -> Curve {
	Curve::LinearDecreasing {
		length: Perbill::from_percent(100),
		floor: Perbill::from_perthousand(floor_per_mill),
		ceil: Perbill::from_percent(ceil),
	}
}

/// What every track shares: a week to decide, a majority of the votes at its end. In a
/// `fast-runtime` build a referendum prepares for 2 blocks, confirms for 5 and is enacted 2
/// after, within 10 minutes of deciding.
const fn track(
	id: TrackId,
	name: &str,
	max_deciding: u32,
	decision_deposit: Balance,
	prepare_period: BlockNumber,
	confirm_period: BlockNumber,
	min_enactment_period: BlockNumber,
	min_support: Curve,
) -> Track<TrackId, Balance, BlockNumber> {
	Track {
		id,
		info: TrackInfo {
			name: str_array(name),
			max_deciding,
			decision_deposit,
			prepare_period: prod_or_fast(prepare_period, 2),
			decision_period: prod_or_fast(7 * DAYS, 10 * MINUTES),
			confirm_period: prod_or_fast(confirm_period, 5),
			min_enactment_period: prod_or_fast(min_enactment_period, 2),
			min_approval: APPROVAL,
			min_support,
		},
	}
}

/// Every track, sorted by id as pallet-referenda requires.
static TRACKS: [Track<TrackId, Balance, BlockNumber>; 6] = [
	// One upgrade at a time, with a day to look at it before it is enacted.
	track(id::ROOT, "root", 1, 1_000 * TIC, HOURS, DAYS, HOURS, support(50, 10)),
	// The council vouched for the call: little support needed, quick confirmation.
	track(
		id::WHITELISTED_CALLER,
		"whitelisted_caller",
		10,
		100 * TIC,
		10 * MINUTES,
		10 * MINUTES,
		10 * MINUTES,
		support(10, 5),
	),
	track(
		id::NEST_ADMIN,
		"nest_admin",
		10,
		500 * TIC,
		HOURS,
		3 * HOURS,
		10 * MINUTES,
		support(50, 10),
	),
	track(
		id::STAKING_ADMIN,
		"staking_admin",
		10,
		500 * TIC,
		HOURS,
		3 * HOURS,
		10 * MINUTES,
		support(50, 10),
	),
	// Stopping a bad referendum must be able to beat its own decision: quick and enacted
	// within a minute.
	track(
		id::REFERENDUM_CANCELLER,
		"referendum_canceller",
		10,
		100 * TIC,
		10 * MINUTES,
		HOURS,
		MINUTES,
		support(10, 10),
	),
	track(
		id::REFERENDUM_KILLER,
		"referendum_killer",
		10,
		500 * TIC,
		10 * MINUTES,
		HOURS,
		MINUTES,
		support(50, 10),
	),
];

/// The tracks, for pallet-referenda.
pub struct TracksInfo;
impl pallet_referenda::TracksInfo<Balance, BlockNumber> for TracksInfo {
	type Id = TrackId;
	type RuntimeOrigin = OriginCaller;

	fn tracks() -> impl Iterator<Item = Cow<'static, Track<TrackId, Balance, BlockNumber>>> {
		TRACKS.iter().map(Cow::Borrowed)
	}

	fn track_for(origin: &OriginCaller) -> Result<TrackId, ()> {
		match origin {
			OriginCaller::system(RawOrigin::Root) => Ok(id::ROOT),
			OriginCaller::Origins(origin) => Ok(match origin {
				Origin::WhitelistedCaller => id::WHITELISTED_CALLER,
				Origin::NestAdmin => id::NEST_ADMIN,
				Origin::StakingAdmin => id::STAKING_ADMIN,
				Origin::ReferendumCanceller => id::REFERENDUM_CANCELLER,
				Origin::ReferendumKiller => id::REFERENDUM_KILLER,
			}),
			_ => Err(()),
		}
	}
}
