//! Slashing: equivocations reported through `pallet-offences` cost the offender a share of
//! its bond and its candidacy until it resumes.

use crate::*;
use polkadot_sdk::sp_staking::offence::{OffenceDetails, OnOffenceHandler};

impl<T: Config> Pallet<T> {
	/// Slashes `fraction` of `who`'s bond, active stake first, then unbonding chunks (newest
	/// first), so leaving does not escape a slash; chills it.
	pub fn slash(who: &T::AccountId, fraction: Perbill) {
		let Some(mut ledger) = Ledgers::<T>::get(who) else { return };
		let amount = fraction * ledger.total();
		if amount.is_zero() {
			return;
		}
		let (credit, _) = T::Currency::slash(&HoldReason::Staked.into(), who, amount);
		let slashed = credit.peek();
		T::OnSlash::on_unbalanced(credit);

		let from_active = slashed.min(ledger.active);
		ledger.take_unlocking(slashed - from_active);
		let active = ledger.active - from_active;
		Self::set_active(who, ledger, active);
		Self::chill(who);
		Self::deposit_event(Event::Slashed { who: who.clone(), amount: slashed });
	}
}

/// Every reported offender loses `EquivocationSlash` of its bond; the offence's own suggested
/// fraction is not used, so the share is the runtime's to choose.
impl<T: Config, Identification>
	OnOffenceHandler<T::AccountId, (T::AccountId, Identification), Weight> for Pallet<T>
{
	fn on_offence(
		offenders: &[OffenceDetails<T::AccountId, (T::AccountId, Identification)>],
		_slash_fraction: &[Perbill],
		_session: SessionIndex,
	) -> Weight {
		for details in offenders {
			Self::slash(&details.offender.0, T::EquivocationSlash::get());
		}
		T::WeightInfo::slash().saturating_mul(offenders.len() as u64)
	}
}
