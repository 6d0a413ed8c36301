//! Elections: ranking the candidates, choosing the delegates at each session boundary for
//! pallet-session, and chilling delegates that authored nothing in a whole session.

use crate::*;

impl<T: Config> Pallet<T> {
	/// Every registered candidate with its backing, best first: by backing, then by account.
	pub fn ranking() -> Vec<(T::AccountId, Candidate<T>, Backing<T>)> {
		let mut all: Vec<_> = Candidates::<T>::iter()
			.map(|(who, candidate)| {
				let backing = Backings::<T>::get(&who).unwrap_or_default();
				(who, candidate, backing)
			})
			.collect();
		all.sort_by(|a, b| b.2.total().cmp(&a.2.total()).then_with(|| a.0.cmp(&b.0)));
		all
	}

	/// Whether a candidate may be elected: not chilled, bonded enough, with session keys.
	fn is_eligible(who: &T::AccountId, candidate: &Candidate<T>, backing: &Backing<T>) -> bool {
		!candidate.chilled
			&& backing.self_bond >= T::MinCandidateBond::get()
			&& T::ValidatorRegistration::is_registered(who)
	}

	/// The delegates an election held now would choose, or `None` (with the number of
	/// eligible candidates) when there are fewer than `MinDelegates`.
	pub fn elect() -> Result<Vec<T::AccountId>, u32> {
		let eligible: Vec<T::AccountId> = Self::ranking()
			.into_iter()
			.filter(|(who, candidate, backing)| Self::is_eligible(who, candidate, backing))
			.map(|(who, ..)| who)
			.collect();
		if (eligible.len() as u32) < T::MinDelegates::get() {
			return Err(eligible.len() as u32);
		}
		let count = DesiredDelegates::<T>::get().min(T::MaxDelegates::get());
		Ok(eligible.into_iter().take(count as usize).collect())
	}

	/// Candidates as the runtime API reports them, in ranking order.
	pub fn candidate_summaries() -> Vec<CandidateSummary<T::AccountId, BalanceOf<T>>> {
		let elected = Self::elect().unwrap_or_default();
		Self::ranking()
			.into_iter()
			.enumerate()
			.map(|(i, (account, candidate, backing))| CandidateSummary {
				rank: i as u32 + 1,
				self_bond: backing.self_bond,
				votes: backing.votes,
				total: backing.total(),
				voters: backing.voters,
				commission: backing.commission,
				chilled: candidate.chilled,
				elected: elected.contains(&account),
				account,
			})
			.collect()
	}

	/// Chills every delegate of the ending session that authored no block in it.
	pub(crate) fn chill_absent(session: SessionIndex) {
		let delegates = T::ValidatorSet::validators();
		// Aura gives each delegate a slot every `delegates.len()` slots; in a shorter session
		// a delegate may have had no slot at all.
		let session_length = SessionLength::<T>::get();
		if session_length >= BlockNumberFor::<T>::from(delegates.len() as u32) {
			for who in delegates {
				if AuthoredBlocks::<T>::get(&who) == 0 && Self::chill(&who) {
					Self::deposit_event(Event::DelegateChilled { who, session });
				}
			}
		}
		let _ = AuthoredBlocks::<T>::clear(u32::MAX, None);
	}

	/// Gives [`Config::DelegateMembers`] the delegates just elected in place of `previous`.
	fn tell_members(previous: &[T::AccountId], elected: &[T::AccountId]) {
		let sorted = |accounts: &[T::AccountId]| {
			let mut accounts = accounts.to_vec();
			accounts.sort();
			accounts
		};
		if previous.is_empty() {
			T::DelegateMembers::initialize_members(&sorted(elected));
		} else {
			T::DelegateMembers::set_members_sorted(&sorted(elected), &sorted(previous));
		}
	}

	/// Chills candidate `who`; returns whether it was an unchilled candidate.
	pub(crate) fn chill(who: &T::AccountId) -> bool {
		Candidates::<T>::mutate(who, |maybe| match maybe {
			Some(candidate) if !candidate.chilled => {
				candidate.chilled = true;
				true
			}
			_ => false,
		})
	}
}

impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
	fn new_session(session: SessionIndex) -> Option<Vec<T::AccountId>> {
		let delegates = match Self::elect() {
			Ok(delegates) => delegates,
			Err(eligible) => {
				Self::deposit_event(Event::ElectionSkipped { session, eligible });
				return None;
			}
		};
		let previous = Elected::<T>::get();
		if previous.as_slice() == delegates.as_slice() {
			return None;
		}
		Elected::<T>::put(BoundedVec::truncate_from(delegates.clone()));
		Self::tell_members(&previous, &delegates);
		Self::deposit_event(Event::DelegatesElected { session, delegates: delegates.clone() });
		Some(delegates)
	}

	fn end_session(session: SessionIndex) {
		Self::chill_absent(session);
		Self::forget_slashes_leaving_the_window(session);
	}

	fn start_session(_: SessionIndex) {}
}

/// For `pallet_session::historical::NoteHistoricalRoot`, which records each session's
/// authority set so equivocation reports can prove who was a delegate. Delegates carry no
/// extra identification.
impl<T: Config> pallet_session::historical::SessionManager<T::AccountId, ()> for Pallet<T> {
	fn new_session(session: SessionIndex) -> Option<Vec<(T::AccountId, ())>> {
		<Self as pallet_session::SessionManager<_>>::new_session(session)
			.map(|delegates| delegates.into_iter().map(|who| (who, ())).collect())
	}

	fn end_session(session: SessionIndex) {
		<Self as pallet_session::SessionManager<_>>::end_session(session)
	}

	fn start_session(session: SessionIndex) {
		<Self as pallet_session::SessionManager<_>>::start_session(session)
	}
}
