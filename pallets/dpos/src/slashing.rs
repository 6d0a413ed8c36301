//! Slashing: equivocations reported through `pallet-offences` cost the offender a share of
//! its bond and its candidacy until it resumes. An offence of the current session also
//! disables the offender ([`Config::Disabler`], pallet-session's disabling strategy in the
//! runtime): Aura refuses the blocks it authors until the delegate set changes.
//!
//! Each offender pays once per session it offended in: pallet-offences hands the earlier
//! offenders of an offence to every later report of it, so what was taken is remembered
//! ([`SessionSlashes`]) and a report takes only an increase (should governance raise the
//! share between reports). Reports count for [`Config::SlashReportWindow`] sessions, whose
//! blocks are fewer than [`Config::UnbondingPeriod`]'s, so the stake is still held when the
//! last report can come.

use crate::*;
use polkadot_sdk::sp_staking::offence::{OffenceDetails, OffenceSeverity, OnOffenceHandler};

/// Disables an offending delegate until the delegate set changes.
pub trait DisableOffender<AccountId> {
	/// `who` offended, with `severity` (its slash).
	fn disable(who: &AccountId, severity: Perbill);
}

impl<AccountId> DisableOffender<AccountId> for () {
	fn disable(_: &AccountId, _: Perbill) {}
}

/// pallet-session disables validators as its `DisablingStrategy` decides, and re-enables them
/// when the set changes.
impl<T: pallet_session::Config> DisableOffender<T::ValidatorId> for pallet_session::Pallet<T> {
	fn disable(who: &T::ValidatorId, severity: Perbill) {
		Self::report_offence(who.clone(), OffenceSeverity(severity));
	}
}

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

	/// Slashes `who` for an offence in `session` up to `fraction` of its bond, minus what its
	/// offences in that session already cost it.
	pub fn slash_for_offence(who: &T::AccountId, fraction: Perbill, session: SessionIndex) {
		let taken = SessionSlashes::<T>::get(session, who).unwrap_or_default();
		if fraction <= taken {
			return;
		}
		SessionSlashes::<T>::insert(session, who, fraction);
		Self::slash(who, fraction.saturating_sub(taken));
	}

	/// Whether an offence of `session` is reported within the window, seen from now.
	pub fn in_report_window(session: SessionIndex) -> bool {
		T::ValidatorSet::session_index().saturating_sub(session) < T::SlashReportWindow::get()
	}

	/// Forgets what offenders lost in the session that leaves the report window when
	/// `ending` ends. A session's records are one per offender, at most its validators.
	pub(crate) fn forget_slashes_leaving_the_window(ending: SessionIndex) {
		let next = ending.saturating_add(1);
		if let Some(leaving) = next.checked_sub(T::SlashReportWindow::get()) {
			let _ = SessionSlashes::<T>::clear_prefix(leaving, u32::MAX, None);
		}
	}

	/// Whether sessions of `length` blocks keep the report window shorter than the
	/// unbonding period.
	pub fn report_window_fits(length: BlockNumberFor<T>) -> bool {
		length.saturating_mul(T::SlashReportWindow::get().into()) < T::UnbondingPeriod::get()
	}
}

/// Every reported offender loses `EquivocationSlash` of its bond, once per session; the
/// offence's own suggested fraction is not used, so the share is the runtime's to choose.
impl<T: Config, Identification>
	OnOffenceHandler<T::AccountId, (T::AccountId, Identification), Weight> for Pallet<T>
{
	fn on_offence(
		offenders: &[OffenceDetails<T::AccountId, (T::AccountId, Identification)>],
		_slash_fraction: &[Perbill],
		session: SessionIndex,
	) -> Weight {
		if !Self::in_report_window(session) {
			Self::deposit_event(Event::OffenceTooOld { session });
			return T::DbWeight::get().reads_writes(1, 1);
		}
		let current = session == T::ValidatorSet::session_index();
		for details in offenders {
			let (offender, slash) = (&details.offender.0, T::EquivocationSlash::get());
			Self::slash_for_offence(offender, slash, session);
			if current {
				T::Disabler::disable(offender, slash);
			}
		}
		// Disabling reads and writes the session's validators and disabled list.
		let disable = if current { T::DbWeight::get().reads_writes(2, 1) } else { Weight::zero() };
		T::WeightInfo::slash().saturating_add(disable).saturating_mul(offenders.len() as u64)
	}
}
