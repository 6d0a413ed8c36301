//! Benchmarks of every call, each in its worst case: the stake involved backs `MaxVotes`
//! candidates that have all earned rewards, so settling and moving totals touch the most
//! storage.

use super::*;
use crate::Pallet as Dpos;
use polkadot_sdk::{frame_benchmarking::v2::*, frame_system::RawOrigin};

/// What the benchmarks need from the rest of the runtime.
pub trait BenchmarkHelper<AccountId> {
	/// Gives `who` session keys, so it can register as a candidate.
	fn set_session_keys(who: &AccountId);
}

const SEED: u32 = 0;

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, SEED);
	T::Currency::set_balance(&who, T::MinCandidateBond::get() * 1_000u32.into());
	who
}

fn max_metadata<T: Config>() -> BoundedVec<u8, T::MaxMetadataLen> {
	BoundedVec::truncate_from(alloc::vec![b'x'; T::MaxMetadataLen::get() as usize])
}

fn bonded<T: Config>(name: &'static str, index: u32, amount: BalanceOf<T>) -> T::AccountId {
	let who = funded::<T>(name, index);
	Dpos::<T>::bond(RawOrigin::Signed(who.clone()).into(), amount).expect("funded account bonds");
	who
}

fn candidate<T: Config>(index: u32) -> T::AccountId {
	let who = bonded::<T>("candidate", index, T::MinCandidateBond::get() * 2u32.into());
	T::BenchmarkHelper::set_session_keys(&who);
	Dpos::<T>::register_candidate(
		RawOrigin::Signed(who.clone()).into(),
		Perbill::from_percent(10),
		max_metadata::<T>(),
	)
	.expect("bonded account with keys registers");
	who
}

/// `MaxVotes` candidates, each of which has authored a rewarded block.
fn rewarded_candidates<T: Config>() -> Vec<T::AccountId> {
	BlockReward::<T>::put(T::MinCandidateBond::get());
	let candidates: Vec<_> = (0..T::MaxVotes::get()).map(candidate::<T>).collect();
	candidates.iter().for_each(Dpos::<T>::reward_author);
	candidates
}

/// A voter approving every candidate in `targets`.
fn voter<T: Config>(index: u32, targets: &[T::AccountId]) -> T::AccountId {
	let who = bonded::<T>("voter", index, T::MinStake::get() * 10u32.into());
	Dpos::<T>::vote(RawOrigin::Signed(who.clone()).into(), targets.to_vec()).expect("valid vote");
	who
}

/// A delegator to a voter that approves `MaxVotes` rewarded candidates, which then earn once
/// more so the delegation has rewards to settle.
fn delegator<T: Config>() -> (T::AccountId, Vec<T::AccountId>) {
	let candidates = rewarded_candidates::<T>();
	let target = voter::<T>(0, &candidates);
	let who = bonded::<T>("delegator", 0, T::MinStake::get() * 10u32.into());
	Dpos::<T>::delegate(RawOrigin::Signed(who.clone()).into(), target).expect("valid delegation");
	candidates.iter().for_each(Dpos::<T>::reward_author);
	(who, candidates)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn bond() {
		let (who, _) = delegator::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), T::MinStake::get());
		assert_eq!(Dpos::<T>::active_stake(&who), T::MinStake::get() * 11u32.into());
	}

	#[benchmark]
	fn unbond() {
		let (who, _) = delegator::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), T::MinStake::get());
		assert_eq!(Dpos::<T>::active_stake(&who), T::MinStake::get() * 9u32.into());
	}

	#[benchmark]
	fn rebond() {
		let (who, _) = delegator::<T>();
		Dpos::<T>::unbond(RawOrigin::Signed(who.clone()).into(), T::MinStake::get())
			.expect("active stake unbonds");
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), T::MinStake::get());
		assert_eq!(Dpos::<T>::active_stake(&who), T::MinStake::get() * 10u32.into());
	}

	#[benchmark]
	fn withdraw_unbonded() {
		let chunks = T::MaxUnlockingChunks::get();
		let who = bonded::<T>("staker", 0, T::MinStake::get() * (chunks + 1).into());
		for block in 0..chunks {
			frame_system::Pallet::<T>::set_block_number(block.into());
			Dpos::<T>::unbond(RawOrigin::Signed(who.clone()).into(), T::MinStake::get())
				.expect("active stake unbonds");
		}
		frame_system::Pallet::<T>::set_block_number(T::UnbondingPeriod::get() + chunks.into());
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Ledgers::<T>::get(&who).expect("stake remains").unlocking.is_empty());
	}

	/// The list is full: the newcomer finds the least backed of `MaxCandidates` and evicts
	/// it, settling its rewards.
	#[benchmark]
	fn register_candidate() {
		BlockReward::<T>::put(T::MinCandidateBond::get());
		for index in Candidates::<T>::count()..T::MaxCandidates::get() {
			Dpos::<T>::reward_author(&candidate::<T>(index));
		}
		let who = bonded::<T>("newcomer", 0, T::MinCandidateBond::get() * 3u32.into());
		T::BenchmarkHelper::set_session_keys(&who);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), Perbill::from_percent(5), max_metadata::<T>());
		assert!(Candidates::<T>::contains_key(&who));
		assert_eq!(Candidates::<T>::count(), T::MaxCandidates::get());
	}

	#[benchmark]
	fn update_candidate() {
		let who = candidate::<T>(0);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), Perbill::from_percent(50), max_metadata::<T>());
		assert_eq!(Backings::<T>::get(&who).expect("backed").commission, Perbill::from_percent(50));
	}

	#[benchmark]
	fn leave_candidates() {
		let candidates = rewarded_candidates::<T>();
		voter::<T>(0, &candidates);
		let who = candidates[0].clone();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!Candidates::<T>::contains_key(&who));
	}

	#[benchmark]
	fn resume_candidacy() {
		let who = candidate::<T>(0);
		Dpos::<T>::chill(&who);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!Candidates::<T>::get(&who).expect("registered").chilled);
	}

	#[benchmark]
	fn vote(v: Linear<1, { T::MaxVotes::get() }>) {
		let candidates = rewarded_candidates::<T>();
		let who = voter::<T>(0, &candidates);
		let targets: Vec<_> = candidates.into_iter().rev().take(v as usize).collect();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), targets);
		assert_eq!(Voters::<T>::get(&who).expect("votes").approvals.len(), v as usize);
	}

	#[benchmark]
	fn unvote() {
		let candidates = rewarded_candidates::<T>();
		let who = voter::<T>(0, &candidates);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!Voters::<T>::contains_key(&who));
	}

	#[benchmark]
	fn delegate() {
		let (who, candidates) = delegator::<T>();
		let new_target = voter::<T>(1, &candidates);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), new_target.clone());
		assert_eq!(Delegations::<T>::get(&who).expect("delegates").target, new_target);
	}

	#[benchmark]
	fn undelegate() {
		let (who, _) = delegator::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!Delegations::<T>::contains_key(&who));
	}

	#[benchmark]
	fn claim_rewards() {
		let (who, _) = delegator::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Dpos::<T>::pending_rewards(&who).is_zero());
	}

	#[benchmark]
	fn set_block_reward() -> Result<(), BenchmarkError> {
		let origin =
			T::UpdateOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, T::MinStake::get());
		assert_eq!(BlockReward::<T>::get(), T::MinStake::get());
		Ok(())
	}

	#[benchmark]
	fn set_session_length() -> Result<(), BenchmarkError> {
		let origin =
			T::UpdateOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		// The longest session the slash report window allows.
		let window: BlockNumberFor<T> = T::SlashReportWindow::get().into();
		let blocks = (T::UnbondingPeriod::get() - 1u32.into()) / window;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, blocks);
		assert_eq!(SessionLength::<T>::get(), blocks);
		Ok(())
	}

	#[benchmark]
	fn set_desired_delegates() -> Result<(), BenchmarkError> {
		let origin =
			T::UpdateOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, T::MinDelegates::get());
		assert_eq!(DesiredDelegates::<T>::get(), T::MinDelegates::get());
		Ok(())
	}

	#[benchmark]
	fn note_author() {
		let candidates = rewarded_candidates::<T>();
		let author = candidates[0].clone();
		#[block]
		{
			<Dpos<T> as pallet_authorship::EventHandler<_, _>>::note_author(author.clone());
		}
		assert_eq!(AuthoredBlocks::<T>::get(&author), 1);
	}

	/// One offender of a reported offence: what its session's offences cost it so far is
	/// read and updated, then its bond slashed.
	#[benchmark]
	fn slash() {
		let candidates = rewarded_candidates::<T>();
		let who = candidates[0].clone();
		let before = Dpos::<T>::active_stake(&who);
		let session = T::ValidatorSet::session_index();
		#[block]
		{
			Dpos::<T>::slash_for_offence(&who, Perbill::from_percent(10), session);
		}
		assert!(Dpos::<T>::active_stake(&who) < before);
	}

	impl_benchmark_test_suite!(
		Dpos,
		crate::mock::ExtBuilder::default().candidates(alloc::vec![]).build(),
		crate::mock::Test
	);
}
