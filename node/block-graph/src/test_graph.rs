//! Hand-built graphs for the tests: blocks named by small numbers.

use crate::{Graph, Vertex};
use std::collections::BTreeMap;

/// A graph built block by block; block `0` is its root.
#[derive(Default)]
pub struct TestGraph {
	vertices: BTreeMap<u64, Vertex<u64>>,
}

impl TestGraph {
	/// A graph of only the root, block 0 (number 0).
	pub fn new() -> Self {
		let mut graph = Self::default();
		graph
			.vertices
			.insert(0, Vertex { number: 0, parent: u64::MAX, references: vec![], counted: 0 });
		graph
	}

	/// Adds block `hash` on `parent`, referencing `references`, all of which count.
	pub fn add(&mut self, hash: u64, parent: u64, references: &[u64]) -> &mut Self {
		self.add_counting(hash, parent, references, references.len() as u32)
	}

	/// Adds block `hash` on `parent`, referencing `references`, `counted` of which count.
	pub fn add_counting(
		&mut self,
		hash: u64,
		parent: u64,
		references: &[u64],
		counted: u32,
	) -> &mut Self {
		let number = self.vertices[&parent].number + 1;
		let vertex = Vertex { number, parent, references: references.to_vec(), counted };
		assert!(self.vertices.insert(hash, vertex).is_none(), "block {hash} added twice");
		self
	}

	/// Adds a chain of blocks, each the parent of the next, the first on `parent`.
	pub fn chain(&mut self, parent: u64, hashes: &[u64]) -> &mut Self {
		let mut parent = parent;
		for &hash in hashes {
			self.add(hash, parent, &[]);
			parent = hash;
		}
		self
	}
}

impl Graph<u64> for TestGraph {
	fn vertex(&self, hash: &u64) -> Option<Vertex<u64>> {
		self.vertices.get(hash).cloned()
	}

	fn children(&self, hash: &u64) -> Vec<u64> {
		self.vertices.iter().filter(|(_, v)| v.parent == *hash).map(|(h, _)| *h).collect()
	}
}
