//! Governance on the real runtime: referenda on each track dispatch with that track's origin
//! and nothing more, the council is the elected delegates and decides by two thirds, and a
//! chain without sudo (the testnet preset) upgrades and administers itself by votes.
//!
//! Referenda take days; the tests jump from one scheduled block to the next (the scheduler
//! catches up on everything due) instead of producing every block in between.

mod common;

use common::*;
use polkadot_sdk::{
	frame_support::{
		dispatch::GetDispatchInfo,
		storage::{storage_prefix, unhashed},
		traits::{
			fungible::Inspect, schedule::DispatchTime, Get, StorePreimage, UnfilteredDispatchable,
		},
	},
	frame_system, pallet_collective,
	pallet_conviction_voting::{AccountVote, Conviction, Vote},
	pallet_referenda::{self, ReferendumInfo, TracksInfo as _},
	pallet_scheduler, pallet_whitelist,
	sp_core::Encode,
	sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET,
	sp_keyring::Sr25519Keyring::{self, Alice, Bob, Charlie, Dave, Eve, Ferdie},
	sp_runtime::{traits::Hash as _, DispatchError},
};
use thingschain_runtime::{
	genesis_config_presets::{BLOCK_REWARD, TESTNET_RUNTIME_PRESET},
	governance::{
		origins::Origin,
		tracks::{id, TracksInfo},
		CouncilCollective,
	},
	units::TIC,
	AccountId, Balances, BlockNumber, Hash, OriginCaller, Preimage, Runtime, RuntimeCall,
	RuntimeEvent, RuntimeOrigin, System,
};

type ReferendumIndex = u32;

/// `origin` of a track below root, as referenda carry it.
fn track_origin(origin: Origin) -> OriginCaller {
	OriginCaller::Origins(origin)
}

fn root() -> OriginCaller {
	OriginCaller::system(frame_system::RawOrigin::Root)
}

/// `proposer` submits `call` for a referendum dispatching it as `origin` and places the
/// track's decision deposit.
fn submit(proposer: Sr25519Keyring, origin: OriginCaller, call: RuntimeCall) -> ReferendumIndex {
	let index = pallet_referenda::ReferendumCount::<Runtime>::get();
	let proposal = <Preimage as StorePreimage>::bound(call).expect("the call is small");
	dispatch(
		proposer,
		RuntimeCall::Referenda(pallet_referenda::Call::submit {
			proposal_origin: Box::new(origin),
			proposal,
			enactment_moment: DispatchTime::After(0),
		}),
	);
	dispatch(
		proposer,
		RuntimeCall::Referenda(pallet_referenda::Call::place_decision_deposit { index }),
	);
	index
}

/// `voter` votes on referendum `index` with `balance`, locked for one conviction period.
fn vote(voter: Sr25519Keyring, index: ReferendumIndex, aye: bool, balance: u128) {
	dispatch(voter, vote_call(index, aye, balance));
}

fn vote_call(index: ReferendumIndex, aye: bool, balance: u128) -> RuntimeCall {
	RuntimeCall::ConvictionVoting(polkadot_sdk::pallet_conviction_voting::Call::vote {
		poll_index: index,
		vote: AccountVote::Standard {
			vote: Vote { aye, conviction: Conviction::Locked1x },
			balance,
		},
	})
}

fn is_ongoing(index: ReferendumIndex) -> bool {
	matches!(
		pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
		Some(ReferendumInfo::Ongoing(_))
	)
}

/// Jumps to block `number`, through every block before it with scheduled work.
fn advance_to(number: BlockNumber) {
	while let Some(next) = next_scheduled().filter(|next| *next < number) {
		jump_to(next);
	}
	jump_to(number);
}

/// The next block with scheduled work.
fn next_scheduled() -> Option<BlockNumber> {
	let now = System::block_number();
	pallet_scheduler::Agenda::<Runtime>::iter_keys().filter(|block| *block > now).min()
}

/// Jumps from one block with scheduled work (a referendum's alarm, an enactment) to the next
/// until `done`.
fn run_until(what: &str, done: impl Fn() -> bool) {
	while !done() {
		let next = next_scheduled()
			.unwrap_or_else(|| panic!("nothing is scheduled any more, and {what} did not happen"));
		jump_to(next);
	}
}

/// Runs referendum `index` to its end.
fn decide(index: ReferendumIndex) -> pallet_referenda::ReferendumInfoOf<Runtime, ()> {
	run_until("the referendum ending", || !is_ongoing(index));
	pallet_referenda::ReferendumInfoFor::<Runtime>::get(index).expect("ended referenda are kept")
}

/// How each ended referendum went, without its details.
fn outcome(info: &pallet_referenda::ReferendumInfoOf<Runtime, ()>) -> &'static str {
	match info {
		ReferendumInfo::Ongoing(_) => "ongoing",
		ReferendumInfo::Approved(..) => "approved",
		ReferendumInfo::Rejected(..) => "rejected",
		ReferendumInfo::Cancelled(..) => "cancelled",
		ReferendumInfo::TimedOut(..) => "timed out",
		ReferendumInfo::Killed(..) => "killed",
	}
}

fn council() -> Vec<AccountId> {
	pallet_collective::Members::<Runtime, CouncilCollective>::get()
}

fn sorted(mut accounts: Vec<AccountId>) -> Vec<AccountId> {
	accounts.sort();
	accounts
}

/// A council motion to dispatch `call` once `threshold` members approve; returns its hash
/// and index.
fn council_propose(proposer: Sr25519Keyring, threshold: u32, call: RuntimeCall) -> (Hash, u32) {
	let index = pallet_collective::ProposalCount::<Runtime, CouncilCollective>::get();
	let hash = <Runtime as frame_system::Config>::Hashing::hash_of(&call);
	dispatch(
		proposer,
		RuntimeCall::Council(pallet_collective::Call::propose {
			threshold,
			length_bound: call.encoded_size() as u32,
			proposal: Box::new(call),
		}),
	);
	(hash, index)
}

fn council_vote(member: Sr25519Keyring, (proposal, index): (Hash, u32)) {
	dispatch(
		member,
		RuntimeCall::Council(pallet_collective::Call::vote { proposal, index, approve: true }),
	);
}

/// Closes a council motion whose call is `call`.
fn council_close(
	who: Sr25519Keyring,
	(proposal_hash, index): (Hash, u32),
	call: &RuntimeCall,
) -> polkadot_sdk::sp_runtime::ApplyExtrinsicResult {
	apply_signed(
		who,
		RuntimeCall::Council(pallet_collective::Call::close {
			proposal_hash,
			index,
			proposal_weight_bound: call.get_dispatch_info().call_weight,
			length_bound: call.encoded_size() as u32,
		}),
	)
}

/// Whether the council's motions executed, in order, with these results.
fn council_executions() -> Vec<Result<(), DispatchError>> {
	events()
		.into_iter()
		.filter_map(|event| match event {
			RuntimeEvent::Council(pallet_collective::Event::Executed { result, .. }) => {
				Some(result)
			}
			_ => None,
		})
		.collect()
}

/// The hash of the code `system.authorize_upgrade` authorized (frame-system keeps the item
/// private).
fn authorized_upgrade() -> Option<Hash> {
	unhashed::get::<frame_system::CodeUpgradeAuthorization<Runtime>>(&storage_prefix(
		b"System",
		b"AuthorizedUpgrade",
	))
	.map(|authorization| *authorization.code_hash())
}

fn set_block_reward(amount: u128) -> RuntimeCall {
	RuntimeCall::Dpos(pallet_dpos::Call::set_block_reward { amount })
}

fn create_service(owner: Sr25519Keyring) -> RuntimeCall {
	RuntimeCall::ServiceRegistry(pallet_service_registry::Call::create_service {
		owner: account(owner),
		name: b"cold-chain".to_vec(),
		quorum: 1,
		epoch_length: 300,
	})
}

fn authorize_upgrade(code: &[u8]) -> RuntimeCall {
	RuntimeCall::System(frame_system::Call::authorize_upgrade {
		code_hash: <Runtime as frame_system::Config>::Hashing::hash(code),
	})
}

fn force_set_balance(who: Sr25519Keyring, new_free: u128) -> RuntimeCall {
	RuntimeCall::Balances(polkadot_sdk::pallet_balances::Call::force_set_balance {
		who: account(who).into(),
		new_free,
	})
}

#[test]
fn each_track_has_its_origin_and_each_privileged_call_takes_only_its_tracks() {
	genesis_ext(TESTNET_RUNTIME_PRESET).execute_with(|| {
		let origins = [
			(root(), id::ROOT),
			(track_origin(Origin::WhitelistedCaller), id::WHITELISTED_CALLER),
			(track_origin(Origin::NestAdmin), id::NEST_ADMIN),
			(track_origin(Origin::StakingAdmin), id::STAKING_ADMIN),
			(track_origin(Origin::ReferendumCanceller), id::REFERENDUM_CANCELLER),
			(track_origin(Origin::ReferendumKiller), id::REFERENDUM_KILLER),
		];
		for (origin, track) in &origins {
			assert_eq!(TracksInfo::track_for(origin), Ok(*track), "{origin:?}");
		}
		let signed = OriginCaller::system(frame_system::RawOrigin::Signed(account(Alice)));
		assert_eq!(TracksInfo::track_for(&signed), Err(()), "an account is no track");
		assert!(TracksInfo::check_integrity().is_ok());

		// The call, and the tracks whose origin may make it (docs/governance.md's table).
		let nest = [id::ROOT, id::NEST_ADMIN];
		let staking = [id::ROOT, id::STAKING_ADMIN];
		let cases: Vec<(RuntimeCall, &[u16])> = vec![
			(authorize_upgrade(b"code"), &[id::ROOT]),
			(force_set_balance(Eve, TIC), &[id::ROOT]),
			(set_block_reward(BLOCK_REWARD), &staking),
			(RuntimeCall::Dpos(pallet_dpos::Call::set_session_length { blocks: 600 }), &staking),
			(RuntimeCall::Dpos(pallet_dpos::Call::set_desired_delegates { count: 3 }), &staking),
			(
				RuntimeCall::BlockGraph(pallet_block_graph::Call::set_reference_share {
					share: polkadot_sdk::sp_runtime::Perbill::from_percent(10),
				}),
				&staking,
			),
			(create_service(Bob), &nest),
			(
				RuntimeCall::Identity(polkadot_sdk::pallet_identity::Call::add_registrar {
					account: account(Dave).into(),
				}),
				&nest,
			),
			(
				RuntimeCall::NestPeg(pallet_nest_peg::Call::set_periods {
					confirmation: 10,
					contest: 10,
				}),
				&nest,
			),
			(
				RuntimeCall::NestPeg(pallet_nest_peg::Call::set_finality_epochs {
					service: 0,
					epochs: 2,
				}),
				&nest,
			),
			(
				RuntimeCall::NestAnchor(pallet_nest_anchor::Call::expire_pending { service: 0 }),
				&nest,
			),
			(
				RuntimeCall::Referenda(pallet_referenda::Call::cancel { index: 0 }),
				&[id::ROOT, id::REFERENDUM_CANCELLER],
			),
			(
				RuntimeCall::Referenda(pallet_referenda::Call::kill { index: 0 }),
				&[id::ROOT, id::REFERENDUM_KILLER],
			),
			(
				RuntimeCall::Whitelist(
					pallet_whitelist::Call::dispatch_whitelisted_call_with_preimage {
						call: Box::new(set_block_reward(0)),
					},
				),
				&[id::ROOT, id::WHITELISTED_CALLER],
			),
		];
		for (call, allowed) in cases {
			for (origin, track) in origins.iter().chain([&(signed.clone(), u16::MAX)]) {
				let result =
					call.clone().dispatch_bypass_filter(RuntimeOrigin::from(origin.clone()));
				let refused = if *origin == signed {
					// An account is refused by the track origins' checks, or, where an account
					// has a role, by the role's (no owner of the service, nothing whitelisted).
					result.is_err()
				} else {
					matches!(&result, Err(e) if e.error == DispatchError::BadOrigin)
				};
				assert_eq!(refused, !allowed.contains(track), "{call:?} as {origin:?}: {result:?}");
			}
		}
	});
}

#[test]
fn the_council_is_the_elected_delegates_and_only_they_vote_in_it() {
	genesis_ext(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		assert_eq!(council(), sorted(pallet_session::Validators::<Runtime>::get()));
		assert_eq!(council().len(), 4);

		// A motion three members approve, Dave among them, while he is a delegate.
		let call_hash = Hash::repeat_byte(7);
		let call = RuntimeCall::Whitelist(pallet_whitelist::Call::whitelist_call { call_hash });
		let motion = council_propose(Alice, 3, call.clone());
		for member in [Alice, Bob, Dave] {
			council_vote(member, motion);
		}

		// Eve is elected in Dave's place.
		back_eve_against_dave();
		while thingschain_runtime::Session::current_index() < 1 {
			next_block();
		}

		// The council changed with the election, before the new set starts producing blocks.
		let elected = pallet_dpos::Elected::<Runtime>::get().into_inner();
		assert!(elected.contains(&account(Eve)) && !elected.contains(&account(Dave)));
		assert_eq!(council(), sorted(elected));
		// Dave's vote went with his seat: two approvals are left, too few to close.
		let too_early = pallet_collective::Error::<Runtime, CouncilCollective>::TooEarly;
		assert_eq!(council_close(Alice, motion, &call), Ok(Err(too_early.into())));
		// He can no longer vote; Eve can, and her approval is the third.
		let not_member = pallet_collective::Error::<Runtime, CouncilCollective>::NotMember;
		let dave_votes = RuntimeCall::Council(pallet_collective::Call::vote {
			proposal: motion.0,
			index: motion.1,
			approve: true,
		});
		assert_eq!(apply_signed(Dave, dave_votes), Ok(Err(not_member.into())));
		council_vote(Eve, motion);
		assert_eq!(council_close(Alice, motion, &call), Ok(Ok(())));
		assert!(pallet_whitelist::WhitelistedCall::<Runtime>::contains_key(call_hash));
	});
}

#[test]
fn a_chain_without_sudo_upgrades_and_administers_itself_by_referenda() {
	genesis_ext(TESTNET_RUNTIME_PRESET).execute_with(|| {
		assert_eq!(polkadot_sdk::pallet_sudo::Key::<Runtime>::get(), None);
		let code = thingschain_runtime::WASM_BINARY.expect("the WASM runtime").to_vec();

		let upgrade = submit(Ferdie, root(), authorize_upgrade(&code));
		let reward =
			submit(Alice, track_origin(Origin::StakingAdmin), set_block_reward(2 * BLOCK_REWARD));
		let service = submit(Bob, track_origin(Origin::NestAdmin), create_service(Charlie));
		// Everyone votes with 9,000 of their 10,000 TIC: their bonded stake votes too.
		for voter in [Alice, Bob, Charlie, Ferdie] {
			for index in [upgrade, reward, service] {
				vote(voter, index, true, 9_000 * TIC);
			}
		}
		for index in [upgrade, reward, service] {
			assert_eq!(outcome(&decide(index)), "approved", "referendum {index}");
		}
		run_until("the enactments", || {
			authorized_upgrade().is_some()
				&& pallet_dpos::BlockReward::<Runtime>::get() == 2 * BLOCK_REWARD
				&& pallet_service_registry::Services::<Runtime>::get(0).is_some()
		});
		assert_eq!(
			pallet_service_registry::Services::<Runtime>::get(0).map(|s| s.owner),
			Some(account(Charlie))
		);

		// Anyone may now submit the authorized code, and only that code.
		let other_code = RuntimeCall::System(frame_system::Call::apply_authorized_upgrade {
			code: b"not the authorized runtime".to_vec(),
		});
		assert_eq!(
			apply_signed(Ferdie, other_code),
			Ok(Err(frame_system::Error::<Runtime>::Unauthorized.into()))
		);
		assert_eq!(
			authorized_upgrade(),
			Some(<Runtime as frame_system::Config>::Hashing::hash(&code))
		);
	});
}

#[test]
fn a_referendum_without_enough_support_is_rejected_and_changes_nothing() {
	genesis_ext(TESTNET_RUNTIME_PRESET).execute_with(|| {
		let index = submit(Bob, track_origin(Origin::StakingAdmin), set_block_reward(0));
		// All ayes, but 100 TIC of 40,000 is below the track's 1 % support floor.
		vote(Bob, index, true, 100 * TIC);
		assert_eq!(outcome(&decide(index)), "rejected");
		run_until("the decision period's alarms", || {
			pallet_scheduler::Agenda::<Runtime>::iter_keys().next().is_none()
		});
		assert_eq!(pallet_dpos::BlockReward::<Runtime>::get(), BLOCK_REWARD);
	});
}

#[test]
fn two_thirds_of_the_council_cancel_a_referendum_and_fewer_cannot() {
	genesis_ext(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let code = thingschain_runtime::WASM_BINARY.expect("the WASM runtime").to_vec();
		let index = submit(Ferdie, root(), authorize_upgrade(&code));
		let cancel = RuntimeCall::Referenda(pallet_referenda::Call::cancel { index });

		// One member's motion executes at once, with one member's origin: refused.
		council_propose(Alice, 1, cancel.clone());
		assert_eq!(council_executions(), vec![Err(DispatchError::BadOrigin)]);
		assert!(is_ongoing(index));

		// Three of four: closed early only once the third approves.
		let motion = council_propose(Alice, 3, cancel.clone());
		council_vote(Alice, motion);
		council_vote(Bob, motion);
		let too_early = pallet_collective::Error::<Runtime, CouncilCollective>::TooEarly;
		assert_eq!(council_close(Alice, motion, &cancel), Ok(Err(too_early.into())));
		council_vote(Charlie, motion);
		assert_eq!(council_close(Alice, motion, &cancel), Ok(Ok(())));
		assert_eq!(council_executions().last(), Some(&Ok(())));
		let info = pallet_referenda::ReferendumInfoFor::<Runtime>::get(index).expect("kept");
		assert_eq!(outcome(&info), "cancelled");
		// A cancelled referendum's deposits go back.
		let ferdie = account(Ferdie);
		dispatch(
			Ferdie,
			RuntimeCall::Referenda(pallet_referenda::Call::refund_decision_deposit { index }),
		);
		dispatch(
			Ferdie,
			RuntimeCall::Referenda(pallet_referenda::Call::refund_submission_deposit { index }),
		);
		assert_eq!(Balances::reserved_balance(&ferdie), 0);
	});
}

#[test]
fn a_call_the_council_whitelisted_passes_on_the_whitelisted_track_as_root() {
	genesis_ext(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let call = force_set_balance(Eve, 42 * TIC);
		let call_hash = <Runtime as frame_system::Config>::Hashing::hash_of(&call);
		let dispatch_whitelisted = RuntimeCall::Whitelist(
			pallet_whitelist::Call::dispatch_whitelisted_call_with_preimage {
				call: Box::new(call.clone()),
			},
		);
		let whitelisted_caller = RuntimeOrigin::from(track_origin(Origin::WhitelistedCaller));
		// Not whitelisted yet: the track's origin alone only defers it, and no one can relay
		// it until the council whitelists it.
		assert!(dispatch_whitelisted.clone().dispatch_bypass_filter(whitelisted_caller).is_ok());
		assert!(pallet_whitelist::DeferredDispatch::<Runtime>::contains_key(call_hash));
		let not_whitelisted = pallet_whitelist::Error::<Runtime>::CallIsNotWhitelisted;
		assert_eq!(
			apply_signed(Eve, dispatch_whitelisted.clone()),
			Ok(Err(not_whitelisted.into()))
		);
		assert_ne!(Balances::free_balance(account(Eve)), 42 * TIC);

		let whitelist =
			RuntimeCall::Whitelist(pallet_whitelist::Call::whitelist_call { call_hash });
		let motion = council_propose(Alice, 3, whitelist.clone());
		for member in [Alice, Bob, Charlie] {
			council_vote(member, motion);
		}
		assert_eq!(council_close(Dave, motion, &whitelist), Ok(Ok(())));
		assert!(pallet_whitelist::WhitelistedCall::<Runtime>::contains_key(call_hash));

		// 900,000 TIC of 12 million: under a tenth, which the whitelisted track's support
		// curve reaches well before the decision period ends; `root` would need far more.
		let index = submit(Ferdie, track_origin(Origin::WhitelistedCaller), dispatch_whitelisted);
		vote(Ferdie, index, true, 900_000 * TIC);
		assert_eq!(outcome(&decide(index)), "approved");
		run_until("the whitelisted call", || Balances::free_balance(account(Eve)) == 42 * TIC);
		assert!(!pallet_whitelist::WhitelistedCall::<Runtime>::contains_key(call_hash));
	});
}

#[test]
fn bonded_stake_votes_and_the_vote_lock_outlasts_its_unbonding() {
	genesis_ext(TESTNET_RUNTIME_PRESET).execute_with(|| {
		let ferdie = account(Ferdie);
		let bonded = Balances::reserved_balance(&ferdie);
		assert!(bonded > 0, "Ferdie's genesis vote is bonded");
		let index = submit(Alice, track_origin(Origin::StakingAdmin), set_block_reward(0));

		// More than Ferdie's free balance, within what he owns with his stake.
		let total = Balances::total_balance(&ferdie);
		let insufficient =
			polkadot_sdk::pallet_conviction_voting::Error::<Runtime>::InsufficientFunds;
		assert_eq!(
			apply_signed(Ferdie, vote_call(index, false, total + 1)),
			Ok(Err(insufficient.into()))
		);
		let weight = Balances::free_balance(&ferdie) + bonded / 2;
		vote(Ferdie, index, false, weight);
		// The lock overlaps the hold: DPoS keeps its stake, nothing more is taken.
		assert_eq!(Balances::reserved_balance(&ferdie), bonded);

		// Unbonded and withdrawn, the stake is still locked by the vote.
		dispatch(Ferdie, dpos(pallet_dpos::Call::unvote {}));
		dispatch(Ferdie, dpos(pallet_dpos::Call::unbond { amount: bonded }));
		let unbonding: u32 = <Runtime as pallet_dpos::Config>::UnbondingPeriod::get();
		advance_to(System::block_number() + unbonding + 1);
		dispatch(Ferdie, dpos(pallet_dpos::Call::withdraw_unbonded {}));
		assert_eq!(Balances::reserved_balance(&ferdie), 0);
		let move_it_all = transfer(&account(Eve), weight - TIC);
		assert!(
			matches!(apply_signed(Ferdie, move_it_all.clone()), Ok(Err(_))),
			"the vote's lock holds the withdrawn stake"
		);

		// The referendum ends; a conviction period later the vote is removed and unlocked.
		assert_eq!(outcome(&decide(index)), "rejected");
		let lock: u32 =
			<Runtime as polkadot_sdk::pallet_conviction_voting::Config>::VoteLockingPeriod::get();
		advance_to(System::block_number() + lock + 1);
		dispatch(
			Ferdie,
			RuntimeCall::ConvictionVoting(
				polkadot_sdk::pallet_conviction_voting::Call::remove_vote {
					class: Some(id::STAKING_ADMIN),
					index,
				},
			),
		);
		dispatch(
			Ferdie,
			RuntimeCall::ConvictionVoting(polkadot_sdk::pallet_conviction_voting::Call::unlock {
				class: id::STAKING_ADMIN,
				target: ferdie.clone().into(),
			}),
		);
		dispatch(Ferdie, move_it_all);
	});
}
