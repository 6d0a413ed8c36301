//! Block authoring that leaves the next author time to import.
//!
//! The next author must import a block before its own slot begins, or it builds on the
//! parent and forks the chain; on a loaded machine importing takes about as long as building.
//! The SDK's proposer (`sc_basic_authorship`) pushes transactions for 90 % of the time Aura
//! gives it and keeps 10 % to finish the block (`on_finalize`, the state root); if it is not
//! done when that time is up, Aura throws the block away. So the time is not cut at Aura
//! (a third of a slot would leave 65 ms to finish a full block, which then was thrown away):
//! Aura keeps its two thirds, and the SDK's proposer gets [`PUSH_SHARE`] of them to push in.
//!
//! ```text
//!  slot (2 s)   |-------------------------------------------------------------|
//!  Aura         |<-- proposing, 2/3 (never longer) -->|
//!  SDK alone    |<-- pushing, 90 % ------------->|fin|  next author: 0.7 s to import
//!  this         |<- pushing ->|fin|                     next author: 1.4 s to import
//!                    0.59 s    (a finish that runs long still fits the 2/3)
//! ```

use futures::future::{BoxFuture, FutureExt};
use polkadot_sdk::sp_runtime::traits::Block as BlockT;
use sp_consensus::{Environment, ProposeArgs, Proposer};

/// The share of Aura's proposing time in which the SDK's proposer builds (it pushes
/// transactions for 90 % of that). With Aura's two thirds of a 2-second slot, 0.59 s of
/// pushing: what fills a block's weight limit on an idle machine.
pub const PUSH_SHARE: f32 = 0.5;

/// An [`Environment`] whose proposers build for [`PUSH_SHARE`] of the time they are given.
pub struct LeaveTimeToImport<E>(pub E);

impl<B: BlockT, E: Environment<B>> Environment<B> for LeaveTimeToImport<E>
where
	E::CreateProposer: Send,
{
	type Proposer = ShortProposer<E::Proposer>;
	type CreateProposer = BoxFuture<'static, Result<Self::Proposer, Self::Error>>;
	type Error = E::Error;

	fn init(&mut self, parent_header: &B::Header) -> Self::CreateProposer {
		self.0.init(parent_header).map(|proposer| proposer.map(ShortProposer)).boxed()
	}
}

/// A proposer of [`LeaveTimeToImport`].
pub struct ShortProposer<P>(P);

impl<B: BlockT, P: Proposer<B>> Proposer<B> for ShortProposer<P> {
	type Error = P::Error;
	type Proposal = P::Proposal;

	fn propose(self, args: ProposeArgs<B>) -> Self::Proposal {
		let max_duration = args.max_duration.mul_f32(PUSH_SHARE);
		self.0.propose(ProposeArgs { max_duration, ..args })
	}
}
