//! Which block is best: GHOST over the graph's work.
//!
//! From the last finalized block, step into the child whose subtree holds the most work
//! (each block's own one plus one per block it references that counts: `Vertex::work`),
//! ties to the lower hash, until a
//! block without children: that is the best block. A branch that loses a slot to a
//! competing block but references it keeps the work, so the chain follows where most of the
//! delegates' blocks are recognised, not only the longest path.
//!
//! ```text
//!            ┌─ B1 ─ B2            subtree work of A1: 3 (A1, A2, and A2 references B1)
//!   F ─ ... ─┤                     subtree work of B1: 2 (B1, B2)
//!            └─ A1 ─ A2 ┄┄> B1     best: A2, although both branches are two blocks long
//! ```

use crate::Graph;
use std::collections::BTreeMap;

/// The work of every block's subtree under `root` (the root's included).
fn subtree_work<H: Copy + Ord, G: Graph<H>>(graph: &G, root: H) -> BTreeMap<H, u64> {
	// Depth first, without recursion: the unfinalized tree can be long.
	let mut order = Vec::new();
	let mut stack = vec![root];
	while let Some(hash) = stack.pop() {
		let children = graph.children(&hash);
		stack.extend(children.iter().copied());
		order.push((hash, children));
	}
	let mut work = BTreeMap::new();
	// Children come after their parents in `order`: summing backwards completes each
	// subtree before its parent's.
	for (hash, children) in order.into_iter().rev() {
		let Some(vertex) = graph.vertex(&hash) else { continue };
		let below: u64 = children.iter().filter_map(|child| work.get(child)).sum();
		work.insert(hash, vertex.work() + below);
	}
	work
}

/// The best block under `root` (the last finalized block).
pub fn best<H: Copy + Ord, G: Graph<H>>(graph: &G, root: H) -> H {
	let work = subtree_work(graph, root);
	let mut best = root;
	loop {
		let heaviest = graph
			.children(&best)
			.into_iter()
			.filter_map(|child| work.get(&child).map(|&w| (w, child)))
			// The most work; of equals, the lower hash (so `Reverse` on it).
			.max_by(|(w1, h1), (w2, h2)| w1.cmp(w2).then(h2.cmp(h1)));
		match heaviest {
			Some((_, child)) => best = child,
			None => return best,
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::test_graph::TestGraph;

	#[test]
	fn a_single_chain_is_best_at_its_tip() {
		let mut graph = TestGraph::new();
		graph.chain(0, &[1, 2, 3]);
		assert_eq!(best(&graph, 0), 3);
		assert_eq!(best(&graph, 2), 3);
		assert_eq!(best(&graph, 3), 3);
	}

	#[test]
	fn references_outweigh_length() {
		// 0 ─ 1 ─ 2 ─ 3         three blocks
		//  └─ 11 ─ 12           two blocks, 12 referencing 1: work 3 against 3; and with
		//                       11 referencing nothing, the tie goes to the lower hash, 1
		let mut graph = TestGraph::new();
		graph.chain(0, &[1, 2, 3]).add(11, 0, &[]).add(12, 11, &[1]);
		assert_eq!(best(&graph, 0), 3);
		// One more reference on the short branch tips it.
		graph.add(13, 12, &[2]);
		assert_eq!(best(&graph, 0), 13);
	}

	#[test]
	fn references_that_do_not_count_add_no_work() {
		// Four blocks against three with two references, one of which does not count (its
		// block was not sealed by its slot's author): 4 against 4, the lower hash wins.
		let mut graph = TestGraph::new();
		graph.chain(0, &[1, 2, 3, 4]).add(11, 0, &[]).add(12, 11, &[1]);
		graph.add_counting(13, 12, &[2], 0);
		assert_eq!(best(&graph, 0), 4);
		// Had it counted, the references would have won.
		graph.add(14, 12, &[2]);
		assert_eq!(best(&graph, 0), 14);
	}

	#[test]
	fn the_heaviest_subtree_wins_over_the_longest_path() {
		// 0 ─ 1 ─ 2 ─ 3 ─ 4     a path of four
		//  └─ 11 ┬ 12           a bushy subtree of five: 11, its three children, and 15
		//        ├ 13
		//        └ 14 ─ 15
		let mut graph = TestGraph::new();
		graph.chain(0, &[1, 2, 3, 4]).add(11, 0, &[]).chain(11, &[12]).chain(11, &[13]);
		graph.chain(11, &[14, 15]);
		assert_eq!(best(&graph, 0), 15);
	}

	#[test]
	fn ties_go_to_the_lower_hash_at_every_step() {
		let mut graph = TestGraph::new();
		graph.add(7, 0, &[]).add(5, 0, &[]).add(9, 5, &[]).add(8, 5, &[]);
		graph.add(6, 7, &[]).add(4, 7, &[]);
		// 5's and 7's subtrees both weigh 3: 5 is lower; under it 8 < 9.
		assert_eq!(best(&graph, 0), 8);
	}

	#[test]
	fn a_deep_fork_is_followed_to_its_end() {
		let mut graph = TestGraph::new();
		let long: Vec<u64> = (1..=500).collect();
		let short: Vec<u64> = (1001..=1499).collect();
		graph.chain(0, &long).chain(0, &short);
		assert_eq!(best(&graph, 0), 500);
		// The shorter branch, one block behind, wins with a reference.
		graph.add(1500, 1499, &[250]);
		assert_eq!(best(&graph, 0), 1500);
	}

	#[test]
	fn blocks_below_the_root_do_not_count() {
		let mut graph = TestGraph::new();
		graph.chain(0, &[1, 2, 3, 4]).chain(1, &[12]);
		// From 2 on, 12's branch is not in the tree.
		assert_eq!(best(&graph, 2), 4);
	}
}
