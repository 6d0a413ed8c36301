//! Which blocks a block may reference.
//!
//! A block on parent `P` may reference block `R` only if
//! 1. `R` is known (the node has its header),
//! 2. `R` is not above `P` and at most `depth` blocks below it,
//! 3. `R` is not `P` or an ancestor of `P` (those the block builds on already), and
//! 4. no block of `P`'s branch references `R` already: a block's work counts once per branch.
//!
//! The count and order of the references are the digest format's
//! (`thingschain_primitives::block_graph::references`); these are the rules that need the graph.

use crate::{Graph, Vertex};
use std::{collections::BTreeMap, fmt};

/// The limits references are held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
	/// The most references a block may carry (`K`).
	pub max_references: u32,
	/// How far below the parent a referenced block may be (`D`).
	pub depth: u32,
}

/// Why a block's references break the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvalidReference<H> {
	/// The parent is not in the graph.
	UnknownParent(H),
	/// The referenced block is not known.
	Unknown(H),
	/// The referenced block is numbered above the parent.
	Ahead {
		/// The reference.
		reference: H,
		/// Its number.
		number: u32,
		/// The parent's number.
		parent_number: u32,
	},
	/// The referenced block is more than the depth below the parent.
	TooDeep {
		/// The reference.
		reference: H,
		/// Its number.
		number: u32,
		/// The lowest number a reference may have.
		lowest: u32,
	},
	/// The referenced block is the parent or one of its ancestors.
	Ancestor(H),
	/// A block of the parent's branch references it already.
	AlreadyReferenced {
		/// The reference.
		reference: H,
		/// The ancestor that references it.
		by: H,
	},
}

impl<H: fmt::Debug> fmt::Display for InvalidReference<H> {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Self::UnknownParent(parent) => write!(f, "parent {parent:?} is not in the block graph"),
			Self::Unknown(reference) => write!(f, "references unknown block {reference:?}"),
			Self::Ahead { reference, number, parent_number } => write!(
				f,
				"references block {reference:?} numbered {number}, above its parent's {parent_number}"
			),
			Self::TooDeep { reference, number, lowest } => write!(
				f,
				"references block {reference:?} numbered {number}, below the lowest allowed, {lowest}"
			),
			Self::Ancestor(reference) => {
				write!(f, "references block {reference:?}, which it already builds on")
			}
			Self::AlreadyReferenced { reference, by } => {
				write!(f, "references block {reference:?}, which its ancestor {by:?} references")
			}
		}
	}
}

impl<H: fmt::Debug> std::error::Error for InvalidReference<H> {}

/// A block's references are checked against its parent's branch: the ancestors a reference
/// may be at or below, and what they reference.
struct Branch<H> {
	parent_number: u32,
	lowest: u32,
	/// The parent and its ancestors numbered `lowest` or above.
	ancestors: Vec<H>,
	/// What those reference, and which of them does.
	referenced: BTreeMap<H, H>,
}

impl<H: Copy + Ord> Branch<H> {
	fn of<G: Graph<H>>(graph: &G, bounds: Bounds, parent: H) -> Result<Self, InvalidReference<H>> {
		let vertex = graph.vertex(&parent).ok_or(InvalidReference::UnknownParent(parent))?;
		let lowest = vertex.number.saturating_sub(bounds.depth);
		let mut branch = Self {
			parent_number: vertex.number,
			lowest,
			ancestors: Vec::new(),
			referenced: BTreeMap::new(),
		};
		let (mut hash, mut vertex) = (parent, Some(vertex));
		// Ancestors below `lowest` cannot be referenced, nor reference what may be; a block
		// the graph does not have (before a warp-synced gap) ends the branch too.
		while let Some(Vertex { number, parent, references, .. }) =
			vertex.filter(|v| v.number >= lowest)
		{
			branch.ancestors.push(hash);
			for reference in references {
				branch.referenced.entry(reference).or_insert(hash);
			}
			if number == 0 {
				break;
			}
			hash = parent;
			vertex = graph.vertex(&hash);
		}
		Ok(branch)
	}

	/// Whether a block on this branch's parent may reference `reference`; its vertex if so.
	fn admits<G: Graph<H>>(
		&self,
		graph: &G,
		reference: H,
	) -> Result<Vertex<H>, InvalidReference<H>> {
		let vertex = graph.vertex(&reference).ok_or(InvalidReference::Unknown(reference))?;
		if vertex.number > self.parent_number {
			return Err(InvalidReference::Ahead {
				reference,
				number: vertex.number,
				parent_number: self.parent_number,
			});
		}
		if vertex.number < self.lowest {
			return Err(InvalidReference::TooDeep {
				reference,
				number: vertex.number,
				lowest: self.lowest,
			});
		}
		if self.ancestors.contains(&reference) {
			return Err(InvalidReference::Ancestor(reference));
		}
		if let Some(&by) = self.referenced.get(&reference) {
			return Err(InvalidReference::AlreadyReferenced { reference, by });
		}
		Ok(vertex)
	}
}

/// Checks that a block on `parent` may reference each of `references` (as its digest item
/// decodes them: bounded and strictly ascending).
pub fn check<H: Copy + Ord, G: Graph<H>>(
	graph: &G,
	bounds: Bounds,
	parent: H,
	references: &[H],
) -> Result<(), InvalidReference<H>> {
	let branch = Branch::of(graph, bounds, parent)?;
	references.iter().try_for_each(|&reference| branch.admits(graph, reference).map(drop))
}

/// The references a block built on `parent` carries: of `candidates` (the blocks the node
/// knows near the tip), those the rules admit, the highest first (the freshest competing
/// work), ties to the lower hash, at most `max_references`, in ascending order.
pub fn choose<H: Copy + Ord, G: Graph<H>>(
	graph: &G,
	bounds: Bounds,
	parent: H,
	candidates: impl IntoIterator<Item = H>,
) -> Vec<H> {
	let Ok(branch) = Branch::of(graph, bounds, parent) else { return Vec::new() };
	let mut admitted: Vec<(u32, H)> = candidates
		.into_iter()
		.filter_map(|hash| branch.admits(graph, hash).ok().map(|vertex| (vertex.number, hash)))
		.collect();
	admitted.sort_by(|(n1, h1), (n2, h2)| n2.cmp(n1).then(h1.cmp(h2)));
	admitted.dedup();
	let mut chosen: Vec<H> =
		admitted.into_iter().take(bounds.max_references as usize).map(|(_, h)| h).collect();
	chosen.sort();
	chosen
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::test_graph::TestGraph;

	const BOUNDS: Bounds = Bounds { max_references: 2, depth: 3 };

	/// 0 ─ 1 ─ 2 ─ 3 ─ 4 ─ 5          the main chain
	///      └─ 12 ─ 13                a fork from 1
	///          └── 23                a fork from 12
	fn forked() -> TestGraph {
		let mut graph = TestGraph::new();
		graph.chain(0, &[1, 2, 3, 4, 5]).chain(1, &[12, 13]).add(23, 12, &[]);
		graph
	}

	#[test]
	fn competing_blocks_within_the_depth_may_be_referenced() {
		assert_eq!(check(&forked(), BOUNDS, 3, &[12, 13]), Ok(()));
		assert_eq!(check(&forked(), BOUNDS, 3, &[23]), Ok(()));
	}

	#[test]
	fn an_unknown_block_or_parent_is_refused() {
		assert_eq!(check(&forked(), BOUNDS, 3, &[99]), Err(InvalidReference::Unknown(99)));
		assert_eq!(check(&forked(), BOUNDS, 98, &[12]), Err(InvalidReference::UnknownParent(98)));
	}

	#[test]
	fn the_parent_and_its_ancestors_are_refused() {
		for ancestor in [3, 2, 1] {
			assert_eq!(
				check(&forked(), BOUNDS, 3, &[ancestor]),
				Err(InvalidReference::Ancestor(ancestor))
			);
		}
	}

	#[test]
	fn a_block_above_the_parent_is_refused() {
		assert_eq!(
			check(&forked(), BOUNDS, 2, &[13]),
			Err(InvalidReference::Ahead { reference: 13, number: 3, parent_number: 2 })
		);
	}

	#[test]
	fn a_block_deeper_than_the_depth_is_refused() {
		// Block 31 is numbered 1: block 5's children may reference numbers 2 ..= 5, block 4's
		// 1 ..= 4.
		let mut graph = forked();
		graph.add(31, 0, &[]);
		assert_eq!(
			check(&graph, BOUNDS, 5, &[31]),
			Err(InvalidReference::TooDeep { reference: 31, number: 1, lowest: 2 })
		);
		assert_eq!(check(&graph, BOUNDS, 5, &[12]), Ok(()));
		assert_eq!(check(&graph, BOUNDS, 4, &[31]), Ok(()));
	}

	#[test]
	fn a_block_referenced_on_the_branch_is_refused() {
		// 4 references 12; 5 and its children may not, but a child of 3 may.
		let mut graph = TestGraph::new();
		graph.chain(0, &[1, 2, 3]).chain(1, &[12, 13]).add(4, 3, &[12]).add(5, 4, &[]);
		assert_eq!(
			check(&graph, BOUNDS, 5, &[12]),
			Err(InvalidReference::AlreadyReferenced { reference: 12, by: 4 })
		);
		assert_eq!(
			check(&graph, BOUNDS, 4, &[13, 12]),
			Err(InvalidReference::AlreadyReferenced { reference: 12, by: 4 })
		);
		assert_eq!(check(&graph, BOUNDS, 3, &[12]), Ok(()));
		assert_eq!(check(&graph, BOUNDS, 5, &[13]), Ok(()));
	}

	#[test]
	fn the_node_chooses_the_freshest_admissible_blocks_in_ascending_order() {
		let mut graph = forked();
		graph.add(31, 0, &[]);
		// Candidates: every known block. Admitted on 5: 12 (n 2), 13 and 23 (n 3); the two
		// highest are 13 and 23.
		let all = [0, 1, 2, 3, 4, 5, 12, 13, 23, 31, 99];
		assert_eq!(choose(&graph, BOUNDS, 5, all), vec![13, 23]);
		let wide = Bounds { max_references: 8, depth: 3 };
		assert_eq!(choose(&graph, wide, 5, all), vec![12, 13, 23]);
		// On a branch that referenced 23 already, only 13 is left (12 is now too deep).
		graph.add(6, 5, &[23]);
		assert_eq!(choose(&graph, BOUNDS, 6, all), vec![13]);
		// What it chooses, it may carry.
		assert_eq!(check(&graph, BOUNDS, 6, &choose(&graph, BOUNDS, 6, all)), Ok(()));
		assert_eq!(choose(&graph, BOUNDS, 98, all), Vec::<u64>::new());
	}
}
