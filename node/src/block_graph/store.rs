//! The graph the node keeps: each block's vertex and the blocks that reference it, in the
//! auxiliary database beside the blocks, read through a cache of the unfinalized part.

use crate::service::{FullBackend, FullClient};
use codec::{Decode, Encode};
use pallet_block_graph::runtime_api::BlockGraphApi;
use polkadot_sdk::sp_consensus_aura::Slot;
use polkadot_sdk::{
	sc_client_api::{AuxStore, Backend as _, HeaderBackend},
	sp_api::{ApiExt, ApiRef, ProvideRuntimeApi},
	sp_blockchain::Backend as _,
	sp_runtime::traits::Header as _,
};
use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
};
use thingschain_block_graph::{Graph, Vertex};
use thingschain_primitives::{block_graph::references, ids::Hash};
use thingschain_runtime::{
	opaque::{Block, Header},
	AccountId,
};

const LOG_TARGET: &str = "block-graph";

/// The runtime API the client's runtime calls go through.
type RuntimeApiOf = <FullClient as ProvideRuntimeApi<Block>>::Api;

/// The auxiliary-database key of block `hash`'s vertex.
fn vertex_key(hash: &Hash) -> Vec<u8> {
	(b"tdag:vertex", hash).encode()
}

/// The auxiliary-database key of the list of blocks that reference block `hash`.
fn referenced_by_key(hash: &Hash) -> Vec<u8> {
	(b"tdag:referenced-by", hash).encode()
}

/// The block graph over the node's database. Blocks imported before the graph (genesis,
/// or a chain from before it) have no record; their vertex is read from their header.
pub struct BlockGraph {
	client: Arc<FullClient>,
	backend: Arc<FullBackend>,
	/// Vertices read or recorded, pruned as blocks are finalized.
	cache: Mutex<HashMap<Hash, Vertex<Hash>>>,
	/// Held while a block is checked and imported, so each is chosen against the graph with
	/// every earlier block in it: the import queue and this node's author import in parallel.
	pub(super) import_lock: tokio::sync::Mutex<()>,
}

impl BlockGraph {
	/// The graph of `client`'s blocks, kept in `backend`'s auxiliary database.
	pub fn new(client: Arc<FullClient>, backend: Arc<FullBackend>) -> Self {
		Self { client, backend, cache: Default::default(), import_lock: Default::default() }
	}

	/// The client the graph reads blocks from.
	pub fn client(&self) -> &Arc<FullClient> {
		&self.client
	}

	/// The database the graph's blocks are in.
	pub fn backend(&self) -> &Arc<FullBackend> {
		&self.backend
	}

	/// The blocks that reference block `hash`.
	pub fn referenced_by(&self, hash: &Hash) -> Vec<Hash> {
		self.aux(&referenced_by_key(hash)).unwrap_or_default()
	}

	/// The auxiliary-database writes that record block `hash` as `vertex`: to go in the
	/// block's import, so they are stored with it or not at all.
	pub fn records(&self, hash: &Hash, vertex: &Vertex<Hash>) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
		let mut writes = vec![(vertex_key(hash), Some(vertex.encode()))];
		for reference in &vertex.references {
			let mut by = self.referenced_by(reference);
			by.push(*hash);
			writes.push((referenced_by_key(reference), Some(by.encode())));
		}
		writes
	}

	/// Block `hash` was imported as `vertex`; drops cached vertices the rules can no longer
	/// reach (more than the depth below the last finalized block).
	pub fn imported(&self, hash: Hash, vertex: Vertex<Hash>, depth: u32) {
		let finalized = self.client.info().finalized_number;
		let mut cache = self.cache.lock().expect("no holder of the cache panics");
		cache.insert(hash, vertex);
		cache.retain(|_, v| v.number + depth + 1 >= finalized);
	}

	/// The graph with block `hash`, being imported, in it as `vertex`, and the blocks it
	/// references in it as `carried` gives them (the headers in its body).
	pub fn with_pending<'a>(
		&'a self,
		hash: Hash,
		vertex: &'a Vertex<Hash>,
		carried: &'a [Header],
	) -> Pending<'a> {
		Pending { graph: self, hash, vertex, carried }
	}

	/// Block `hash`'s header (sealed), if the node has it.
	pub fn header(&self, hash: Hash) -> Option<Header> {
		self.client.header(hash).ok().flatten()
	}

	/// The blocks a new block may reference, and more: every block cached (the unfinalized
	/// ones and the last depth of finalized ones) and every leaf.
	pub fn candidates(&self) -> Vec<Hash> {
		let mut candidates: Vec<Hash> =
			self.cache.lock().expect("no holder of the cache panics").keys().copied().collect();
		candidates.extend(self.backend.blockchain().leaves().unwrap_or_default());
		candidates
	}

	/// The runtime at `parent`, if it has the block graph (a chain from before it does not,
	/// and its blocks carry no references); a failed lookup is logged and reads as none.
	fn block_graph_api(&self, parent: Hash) -> Option<ApiRef<'_, RuntimeApiOf>> {
		let api = self.client.runtime_api();
		match api.has_api::<dyn BlockGraphApi<Block, AccountId>>(parent) {
			Ok(has) => has.then_some(api),
			Err(e) => {
				log::warn!(target: LOG_TARGET, "the runtime at {parent:?} is unreadable: {e}");
				None
			}
		}
	}

	/// Who sealed `header`, if its slot's author did, as the runtime at `parent` records the
	/// sessions: the block's author, as the node names it.
	pub fn sealer(&self, parent: Hash, header: &Header) -> Option<AccountId> {
		self.block_graph_api(parent)?.sealer(parent, header.clone()).ok().flatten()
	}

	/// How many of `headers`, referenced by a child of `parent` in `slot`, count as its work:
	/// those the runtime at `parent` would pay for (sealed by their slot's author, each slot
	/// once, recent, on a known parent). None where that runtime has no block graph.
	pub fn payable(&self, parent: Hash, headers: &[Header], slot: Slot) -> u32 {
		let Some(api) = self.block_graph_api(parent) else { return 0 };
		api.payable(parent, headers.to_vec(), slot).unwrap_or_else(|e| {
			log::warn!(target: LOG_TARGET, "not counting references at {parent:?}: {e}");
			0
		})
	}

	/// A decoded auxiliary-database item; a database or decoding error is logged, and reads
	/// as missing.
	fn aux<T: Decode>(&self, key: &[u8]) -> Option<T> {
		match self.client.get_aux(key) {
			Ok(Some(bytes)) => T::decode(&mut &bytes[..])
				.inspect_err(|e| log::warn!(target: LOG_TARGET, "undecodable graph record: {e}"))
				.ok(),
			Ok(None) => None,
			Err(e) => {
				log::warn!(target: LOG_TARGET, "reading the block graph failed: {e}");
				None
			}
		}
	}

	/// Block `hash`'s vertex as its header gives it (a block without a record).
	fn from_header(&self, hash: &Hash) -> Option<Vertex<Hash>> {
		self.header(*hash).as_ref().map(vertex_of)
	}
}

impl Graph<Hash> for BlockGraph {
	fn vertex(&self, hash: &Hash) -> Option<Vertex<Hash>> {
		if let Some(vertex) = self.cache.lock().expect("no holder of the cache panics").get(hash) {
			return Some(vertex.clone());
		}
		let vertex = self.aux(&vertex_key(hash)).or_else(|| self.from_header(hash))?;
		self.cache.lock().expect("no holder of the cache panics").insert(*hash, vertex.clone());
		Some(vertex)
	}

	fn children(&self, hash: &Hash) -> Vec<Hash> {
		self.backend.blockchain().children(*hash).unwrap_or_else(|e| {
			log::warn!(target: LOG_TARGET, "reading the children of {hash:?} failed: {e}");
			Vec::new()
		})
	}
}

/// The vertex a header gives, for a block without a record: its references as its digest
/// lists them, none counted (what they count is known only where a block is imported).
fn vertex_of(header: &Header) -> Vertex<Hash> {
	Vertex {
		number: *header.number(),
		parent: *header.parent_hash(),
		references: references(header.digest()).unwrap_or_default(),
		counted: 0,
	}
}

/// The graph with one more block, the one being imported, and the headers it carries of the
/// blocks it references (which this node may not have: they lost fork choice elsewhere).
pub struct Pending<'a> {
	graph: &'a BlockGraph,
	hash: Hash,
	vertex: &'a Vertex<Hash>,
	carried: &'a [Header],
}

impl Graph<Hash> for Pending<'_> {
	fn vertex(&self, hash: &Hash) -> Option<Vertex<Hash>> {
		if *hash == self.hash {
			return Some(self.vertex.clone());
		}
		self.graph
			.vertex(hash)
			.or_else(|| self.carried.iter().find(|header| header.hash() == *hash).map(vertex_of))
	}

	fn children(&self, hash: &Hash) -> Vec<Hash> {
		let mut children = self.graph.children(hash);
		if *hash == self.vertex.parent && !children.contains(&self.hash) {
			children.push(self.hash);
		}
		children
	}
}
