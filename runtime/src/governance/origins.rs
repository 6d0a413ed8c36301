//! The origins of the referendum tracks below `root`: a referendum passed on a track
//! dispatches its call with that track's origin, and each privileged call accepts the origins
//! of the tracks allowed to make it (`docs/governance.md` has the table).

pub use pallet_custom_origins::*;

#[polkadot_sdk::frame_support::pallet]
pub mod pallet_custom_origins {
	use polkadot_sdk::frame_support::pallet_prelude::*;

	/// Nothing to configure: the pallet only declares origins.
	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// What a passed referendum of each track below `root` may do.
	#[derive(
		PartialEq, Eq, Clone, MaxEncodedLen, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug,
	)]
	#[pallet::origin]
	pub enum Origin {
		/// Dispatches a call the council whitelisted (pallet-whitelist), as root.
		WhitelistedCaller,
		/// NestChains: creates services, appoints identity registrars, sets peg periods and
		/// expires stuck anchor rounds.
		NestAdmin,
		/// Delegated proof of stake: block reward, session length, delegate count.
		StakingAdmin,
		/// Cancels an ongoing referendum, refunding its deposits.
		ReferendumCanceller,
		/// Kills an ongoing referendum, slashing its deposits.
		ReferendumKiller,
	}

	/// Declares, for each named origin, a type that accepts only that origin.
	macro_rules! ensure_origins {
		($($origin:ident),* $(,)?) => {$(
			#[doc = concat!("Accepts only the `", stringify!($origin), "` origin.")]
			pub struct $origin;
			impl<O: OriginTrait + From<Origin>> EnsureOrigin<O> for $origin
			where
				for<'a> &'a O::PalletsOrigin: TryInto<&'a Origin>,
			{
				type Success = ();

				fn try_origin(o: O) -> Result<Self::Success, O> {
					// The caller is borrowed from `o` until the statement ends.
					let accepted = matches!(o.caller().try_into(), Ok(Origin::$origin));
					if accepted { Ok(()) } else { Err(o) }
				}

				#[cfg(feature = "runtime-benchmarks")]
				fn try_successful_origin() -> Result<O, ()> {
					Ok(O::from(Origin::$origin))
				}
			}
		)*};
	}

	ensure_origins!(
		WhitelistedCaller,
		NestAdmin,
		StakingAdmin,
		ReferendumCanceller,
		ReferendumKiller
	);
}
