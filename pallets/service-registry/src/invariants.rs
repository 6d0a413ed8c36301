//! The pallet's invariants, checked by the `try_state` hook (try-runtime) and after every
//! unit test: a service's status follows its node count, its policy names only other existing
//! services as peg destinations, each super node's stake is held,
//! and the active set holds exactly the super nodes that have not left, in admission order.

use crate::*;
use polkadot_sdk::{
	frame_support::traits::fungible::InspectHold as _, sp_runtime::TryRuntimeError,
};

impl<T: Config> Pallet<T> {
	/// Checks every invariant; the error names the first one broken.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		for (id, service) in Services::<T>::iter() {
			ensure!(id < NextServiceId::<T>::get(), "a service id is not below NextServiceId");
			ensure!(
				service.status == service.status_for_nodes(),
				"a service's status does not follow its nodes"
			);
			let nodes = &service.nodes;
			ensure!(
				nodes.iter().enumerate().all(|(i, node)| !nodes[..i].contains(node)),
				"a service lists a node twice"
			);
		}
		for (id, policy) in Policies::<T>::iter() {
			ensure!(
				Services::<T>::contains_key(id),
				"a policy is kept for a service that does not exist"
			);
			ensure!(
				policy.lock_destinations.iter().all(|d| *d != id && Services::<T>::contains_key(d)),
				"a service's peg destination is itself or does not exist"
			);
		}
		let set = ActiveSet::<T>::get();
		ensure!(
			set.windows(2).all(|pair| pair[0].since <= pair[1].since),
			"the active set is not in admission order"
		);
		for (i, member) in set.iter().enumerate() {
			ensure!(
				!set[..i].iter().any(|m| m.who == member.who),
				"the active set lists a super node twice"
			);
			ensure!(
				SuperNodes::<T>::get(&member.who)
					.is_some_and(|node| node.unlocks_at.is_none() && node.stake == member.stake),
				"an active set member is not an active super node with its stake"
			);
		}
		for (who, node) in SuperNodes::<T>::iter() {
			let held = T::Currency::balance_on_hold(&HoldReason::SuperNodeStake.into(), &who);
			ensure!(held == node.stake, "a super node's held stake is not its stake");
			ensure!(
				node.unlocks_at.is_some() || set.iter().any(|member| member.who == who),
				"a super node that has not left is outside the active set"
			);
		}
		Ok(())
	}
}
