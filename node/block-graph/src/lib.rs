//! The radiating block graph's rules, apart from any database or network so they can be
//! tested on hand-built graphs: which blocks a block may reference ([`rules`]), and which
//! branch is best ([`fork_choice`]). The node's block import (`node/src/block_graph/`) applies
//! them to the blocks it imports; the digest item the references travel in is
//! `thingschain_primitives::block_graph`.
//!
//! ```text
//!      n-3      n-2      n-1       n
//!   ── A ────── B ────── C ─────── E      E's parent is C; E references D, a block
//!               └─────── D ┄┄┄┄┄┄┄┄┘      its branch did not build on (a competing tip)
//! ```
//!
//! A block's **work** is one plus the blocks it references (that were sealed by their
//! slots' authors), so a branch that recognises
//! parallel work weighs more; the best block is found GHOST-style, from the last finalized
//! block down, always into the child whose subtree has the most work.

pub mod fork_choice;
pub mod rules;
pub mod view;

/// What the graph records of one block.
#[derive(Clone, Debug, PartialEq, Eq, codec::Encode, codec::Decode)]
pub struct Vertex<H> {
	/// Its number.
	pub number: u32,
	/// Its parent's hash.
	pub parent: H,
	/// The blocks it references, strictly ascending.
	pub references: Vec<H>,
	/// How many of those count as work: the ones the runtime at this block's parent would
	/// pay for (sealed by their slot's author, recent, each slot once), so a delegate adds
	/// weight only with blocks of its own slots, as it could have made them in parallel.
	pub counted: u32,
}

impl<H> Vertex<H> {
	/// The work this block adds to every subtree it is in: itself and the blocks it
	/// references that count.
	pub fn work(&self) -> u64 {
		1 + u64::from(self.counted)
	}
}

/// Read access to the blocks the graph knows.
pub trait Graph<H> {
	/// The block `hash`, if known.
	fn vertex(&self, hash: &H) -> Option<Vertex<H>>;
	/// The known children of block `hash`.
	fn children(&self, hash: &H) -> Vec<H>;
}

#[cfg(test)]
pub(crate) mod test_graph;
