//! The service node's JSON-RPC methods (`nestnode_*`): devices write records, and anyone reads
//! a record with the proof of its place in its epoch's root.
//!
//! | method | params | result |
//! |---|---|---|
//! | `nestnode_submit` | `records`: hex of the SCALE `Vec<SignedNestRecord>`, at most [`MAX_RECORDS_PER_CALL`] | one answer per record, in order, once stored: `{ status: "stored" \| "duplicate", leaf }` or `{ status: "refused", code, error }` |
//! | `nestnode_nextSequence` | `device` | the sequence the device's next record must have |
//! | `nestnode_status` | | `{ openEpoch, records, arrivals, webchainBlock, trustedPeers }`: the epoch the next cut closes (new records are in it or a later one), how many records the node holds, how many peg arrivals it read from WebChain, the last finalized WebChain block the node has read (its devices are those registered by then; `null` before the first), and how many of the service's nodes it trusts over libp2p (`null` on a super node) |
//! | `nestnode_cut` | `epoch` | once the epoch is closed: hex of the SCALE `CertifiedCut` it was closed with (its root and the agreement's certificate), else `null` |
//! | `nestnode_records` | `device`, `from`, `count` | hex of the SCALE `Vec<SignedNestRecord>`: the device's records from sequence `from` on, at most `count` (at most [`MAX_RECORDS_PER_CALL`]) and [`crate::ledger::MAX_READ_BYTES`] |
//! | `nestnode_proposals` | `digest`, `count` | hex of the SCALE `Vec<Proposal>`: the agreement's proposal `digest` names and its ancestors, newest first, at most `count` (at most [`MAX_PROPOSALS_PER_CALL`]) and [`crate::ledger::MAX_READ_BYTES`]: how a super node learns the ranges a certified epoch holds |
//! | `nestnode_equivocations` | `device`, `sequence`, `count` | the evidence of devices that signed two records for one sequence, from (`device`, `sequence`) on, at most `count` (at most [`MAX_EQUIVOCATIONS_PER_CALL`]): `[{ device, sequence, held, other }]` (`held`: the record this node held first, `other`: the other, each hex of SCALE `SignedNestRecord`) |
//! | `nestnode_proof` | `device`, `sequence` | once its epoch is closed: `{ epoch, root, record, signature, leafIndex, numberOfLeaves, siblings }` (`record`: the leaf bytes, `signature`: the device's SCALE `MultiSignature`, hex), else `null` |
//! | `nestnode_arrival` | `number` | once its epoch is closed: the service's peg arrival `number` (WebChain's `NestPeg.Arrivals`) as `{ epoch, root, record, leafIndex, numberOfLeaves, siblings }` (`record`: its leaf bytes, `PegArrival::leaf_bytes`), else `null` |

use crate::{
	agreement::{chain::State, ledger_log::Ordered},
	committer::Committer,
	error::{Rejection, StorageError},
	ledger::{Equivocation, Ledger, Proof, Stored, MAX_READ_BYTES},
	metrics::Metrics,
	p2p::Network,
	webchain::Finalized,
};
use codec::{Compact, Decode, DecodeAll, Encode};
use jsonrpsee::{
	core::{async_trait, RpcResult},
	proc_macros::rpc,
	types::ErrorObjectOwned,
};
use polkadot_sdk::sp_core::Bytes;
use serde::Serialize;
use std::sync::Arc;
use thingschain_primitives::{
	ids::{DeviceId, Epoch, Hash},
	nest::SignedNestRecord,
};
use tokio::sync::watch;

/// The most records one `nestnode_submit` takes: the device SDK's limit.
pub use thingschain_device::nest::MAX_RECORDS_PER_CALL;

/// The most pieces of evidence one `nestnode_equivocations` call answers with.
pub const MAX_EQUIVOCATIONS_PER_CALL: usize = 64;

/// Two records a device signed for one sequence, as `nestnode_equivocations` serves them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EquivocationEvidence {
	/// The device.
	pub device: DeviceId,
	/// The sequence it signed twice.
	pub sequence: u64,
	/// The record this node held first (SCALE `SignedNestRecord`).
	pub held: Bytes,
	/// The other (SCALE `SignedNestRecord`).
	pub other: Bytes,
}

/// The most proposals one `nestnode_proposals` call answers with: about a view's worth of
/// a busy service's proposals fits in [`MAX_READ_BYTES`].
pub const MAX_PROPOSALS_PER_CALL: usize = 64;

/// The answer to one submitted record, and how far a submission waits: the device SDK's
/// types, which it reads back.
pub use thingschain_device::nest::{Acknowledge, Answer};

/// How long a `replicated` submission waits for the agreement to order its records; those
/// not ordered by then are answered as they are (`stored`). Below the calls' time limit.
const REPLICATION_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// The answer to a record whose outcome is `outcome`.
fn answer(outcome: Result<Stored, Rejection>) -> Answer {
	match outcome {
		Ok(Stored { leaf, duplicate: false }) => Answer::Stored { leaf },
		Ok(Stored { leaf, duplicate: true }) => Answer::Duplicate { leaf },
		Err(rejection) => Answer::Refused { code: rejection.code(), error: rejection.to_string() },
	}
}

/// Whether the agreement has ordered device `place.0`'s record `place.1` by `state`.
fn is_ordered(state: &State, (device, sequence): &(DeviceId, u64)) -> bool {
	state.ends.get(device).is_some_and(|end| end > sequence)
}

/// A leaf's bytes with the proof of its place in its epoch's tree: what
/// `nest_verifyInclusion` checks on WebChain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvenLeaf {
	/// Its epoch.
	pub epoch: Epoch,
	/// The epoch's root: what WebChain anchors.
	pub root: Hash,
	/// The bytes in the tree (`NestRecord::leaf_bytes`, `PegArrival::leaf_bytes`).
	pub record: Bytes,
	/// Its position among the leaves.
	pub leaf_index: u32,
	/// How many leaves the tree has.
	pub number_of_leaves: u32,
	/// Sibling hashes from the leaf up to the root.
	pub siblings: Vec<Hash>,
}

impl ProvenLeaf {
	/// `proven`, whose leaf bytes are `record`.
	fn of<T>(proven: Proof<T>, record: Vec<u8>) -> ProvenLeaf {
		ProvenLeaf {
			epoch: proven.epoch,
			root: proven.sealed.root,
			record: record.into(),
			leaf_index: proven.proof.leaf_index,
			number_of_leaves: proven.proof.number_of_leaves,
			siblings: proven.proof.siblings.into_inner(),
		}
	}
}

/// A device's record with its proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvenRecord {
	/// The record's leaf and proof.
	#[serde(flatten)]
	pub leaf: ProvenLeaf,
	/// The device key's signature of the record (SCALE `MultiSignature`): a reader checks
	/// who wrote it without trusting the node.
	pub signature: Bytes,
}

/// Where a node is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
	/// The epoch its next cut closes: new records are in it or a later one.
	pub open_epoch: Epoch,
	/// How many records it holds, of every epoch: how far a node is behind another.
	pub records: u64,
	/// How many peg arrivals it read from WebChain.
	pub arrivals: u64,
	/// The last finalized WebChain block it read: its devices are those registered by then.
	pub webchain_block: Option<u64>,
	/// How many of the service's other nodes it is connected to and trusts (none on a super
	/// node, which reads nodes over JSON-RPC).
	pub trusted_peers: Option<usize>,
	/// How many of the service's nodes take part in its agreement: those whose on-chain
	/// identity names their node key ([`crate::node_key`]), at that block.
	pub agreement_participants: usize,
	/// How many proposals of the agreement are final here (`null` on a super node).
	pub agreement_height: Option<u64>,
	/// How many records the agreement has ordered: replicated on enough of the service's
	/// nodes that losing those it tolerates loses none (`null` on a super node).
	pub replicated_records: Option<u64>,
}

/// Service-node queries and writes.
#[rpc(server)]
pub trait NestNodeApi {
	/// Stores `records` (hex of SCALE `Vec<SignedNestRecord>`); one answer each, in order,
	/// once the stored ones are durable, or with `acknowledge: "replicated"` once the
	/// service's agreement ordered them (for at most [`REPLICATION_WAIT`]).
	#[method(name = "nestnode_submit")]
	async fn submit(
		&self,
		records: Bytes,
		acknowledge: Option<Acknowledge>,
	) -> RpcResult<Vec<Answer>>;

	/// The sequence device `device`'s next record must have.
	#[method(name = "nestnode_nextSequence")]
	async fn next_sequence(&self, device: DeviceId) -> RpcResult<u64>;

	/// Where the node is: its open epoch and the last finalized WebChain block it read.
	#[method(name = "nestnode_status")]
	async fn status(&self) -> RpcResult<Status>;

	/// The certified cut epoch `epoch` was closed with (hex of SCALE `CertifiedCut`), once
	/// closed.
	#[method(name = "nestnode_cut")]
	async fn cut(&self, epoch: Epoch) -> RpcResult<Option<Bytes>>;

	/// Device `device`'s records from sequence `from` on, at most `count` (hex of SCALE
	/// `Vec<SignedNestRecord>`): how other nodes catch up.
	#[method(name = "nestnode_records")]
	async fn records(&self, device: DeviceId, from: u64, count: u32) -> RpcResult<Bytes>;

	/// The agreement's proposal `digest` names and its ancestors, newest first, at most
	/// `count` (hex of SCALE `Vec<Proposal>`).
	#[method(name = "nestnode_proposals")]
	async fn proposals(&self, digest: Hash, count: u32) -> RpcResult<Bytes>;

	/// The evidence of devices that signed two records for one sequence, from device
	/// `device`'s sequence `sequence` on, at most `count`.
	#[method(name = "nestnode_equivocations")]
	async fn equivocations(
		&self,
		device: DeviceId,
		sequence: u64,
		count: u32,
	) -> RpcResult<Vec<EquivocationEvidence>>;

	/// Device `device`'s record `sequence` with its inclusion proof, once its epoch is closed.
	#[method(name = "nestnode_proof")]
	async fn proof(&self, device: DeviceId, sequence: u64) -> RpcResult<Option<ProvenRecord>>;

	/// Peg arrival `number` (WebChain's `NestPeg.Arrivals` of the service) with its inclusion
	/// proof, once its epoch is closed.
	#[method(name = "nestnode_arrival")]
	async fn arrival(&self, number: u64) -> RpcResult<Option<ProvenLeaf>>;
}

/// Why a `nestnode_*` call failed as a whole. Codes are stable (docs/rpc.md).
#[derive(Debug)]
pub enum NestNodeRpcError {
	/// 9301: the records do not decode.
	Malformed(codec::Error),
	/// 9311: the ledger's storage failed; nothing of the call was stored.
	Storage(Arc<StorageError>),
	/// 9312: more records than one call takes.
	TooManyRecords { records: usize },
}

impl NestNodeRpcError {
	/// The error's JSON-RPC code.
	pub fn code(&self) -> i32 {
		match self {
			NestNodeRpcError::Malformed(_) => 9301,
			NestNodeRpcError::Storage(_) => 9311,
			NestNodeRpcError::TooManyRecords { .. } => 9312,
		}
	}
}

impl std::fmt::Display for NestNodeRpcError {
	fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
		match self {
			NestNodeRpcError::Malformed(e) => {
				write!(f, "the records are not a SCALE Vec<SignedNestRecord>: {e}")
			}
			NestNodeRpcError::Storage(e) => write!(f, "{e}"),
			NestNodeRpcError::TooManyRecords { records } => {
				write!(f, "{records} records, more than {MAX_RECORDS_PER_CALL} in one call")
			}
		}
	}
}

impl std::error::Error for NestNodeRpcError {
	fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
		match self {
			NestNodeRpcError::Malformed(e) => Some(e),
			NestNodeRpcError::Storage(e) => Some(&**e),
			NestNodeRpcError::TooManyRecords { .. } => None,
		}
	}
}

impl From<NestNodeRpcError> for ErrorObjectOwned {
	fn from(error: NestNodeRpcError) -> Self {
		ErrorObjectOwned::owned(error.code(), error.to_string(), None::<()>)
	}
}

impl From<StorageError> for NestNodeRpcError {
	fn from(error: StorageError) -> Self {
		NestNodeRpcError::Storage(Arc::new(error))
	}
}

/// The records of a `nestnode_submit`: the count is read first, so a call naming more than
/// [`MAX_RECORDS_PER_CALL`] decodes nothing, and nothing may follow the records.
fn decode_records(bytes: &[u8]) -> Result<Vec<SignedNestRecord>, NestNodeRpcError> {
	let count = Compact::<u32>::decode(&mut &bytes[..]).map_err(NestNodeRpcError::Malformed)?.0;
	if count as usize > MAX_RECORDS_PER_CALL {
		return Err(NestNodeRpcError::TooManyRecords { records: count as usize });
	}
	Vec::<SignedNestRecord>::decode_all(&mut &bytes[..]).map_err(NestNodeRpcError::Malformed)
}

/// How many `nestnode_submit` calls are checked and written at once.
const CALLS_AT_ONCE: usize = 64;

/// How many proofs run at once: many callers asking at once wait here, apart from the other
/// reads.
const PROOFS_AT_ONCE: usize = 4;

/// How many other reads of the ledger (records, cuts, sequences, a write's replication) run
/// at once: apart from the proofs, so that a flood of proof calls does not hold up a
/// device's write or a super node's catching up.
const READS_AT_ONCE: usize = 4;

/// The service node's state the methods use.
pub struct NestNode {
	ledger: Arc<Ledger>,
	committer: Committer,
	/// WebChain as the node last read it.
	finalized: watch::Receiver<Option<Finalized>>,
	/// Where records devices write are spread to the service's other nodes (none on a super
	/// node).
	network: Option<Network>,
	/// Permits for the submissions in progress ([`CALLS_AT_ONCE`]).
	working: tokio::sync::Semaphore,
	/// Permits for the proofs in progress ([`PROOFS_AT_ONCE`]).
	proving: tokio::sync::Semaphore,
	/// Permits for the other reads in progress ([`READS_AT_ONCE`]).
	reading: tokio::sync::Semaphore,
	/// What it counts.
	metrics: Metrics,
	/// What the agreement has ordered (none on a super node).
	ordered: Option<Ordered>,
}

impl NestNode {
	/// Serves `ledger`, taking records through `committer`, with WebChain as `finalized` has
	/// it; spreads new records on `network`; counts in `metrics`; tells what the agreement
	/// `ordered`.
	pub fn new(
		ledger: Arc<Ledger>,
		committer: Committer,
		finalized: watch::Receiver<Option<Finalized>>,
		network: Option<Network>,
		metrics: Metrics,
		ordered: Option<Ordered>,
	) -> NestNode {
		let working = tokio::sync::Semaphore::new(CALLS_AT_ONCE);
		let proving = tokio::sync::Semaphore::new(PROOFS_AT_ONCE);
		let reading = tokio::sync::Semaphore::new(READS_AT_ONCE);
		NestNode {
			ledger,
			committer,
			finalized,
			network,
			working,
			proving,
			reading,
			metrics,
			ordered,
		}
	}

	/// Makes the `answers` of records the agreement has ordered `Replicated` (or refused,
	/// where it ordered the device's other record for that sequence), waiting up to
	/// [`REPLICATION_WAIT`] for all of them; the others stay as they are. `places` are the
	/// records' devices and sequences.
	async fn await_replication(
		&self,
		places: Vec<(DeviceId, u64)>,
		answers: &mut [Answer],
	) -> Result<(), NestNodeRpcError> {
		let Some(mut ordered) = self.ordered.clone() else { return Ok(()) };
		let acknowledged = |answer: &Answer| match answer {
			Answer::Stored { leaf } | Answer::Duplicate { leaf } => Some(*leaf),
			_ => None,
		};
		let waiting: Vec<(DeviceId, u64)> = places
			.iter()
			.zip(answers.iter())
			.filter(|(_, answer)| acknowledged(answer).is_some())
			.map(|(place, _)| *place)
			.collect();
		let all_ordered = |state: &Option<Arc<State>>| {
			state.as_ref().is_some_and(|state| waiting.iter().all(|place| is_ordered(state, place)))
		};
		let deadline = tokio::time::sleep(REPLICATION_WAIT);
		tokio::pin!(deadline);
		while !all_ordered(&ordered.borrow_and_update()) {
			tokio::select! {
				changed = ordered.changed() => if changed.is_err() { break },
				() = &mut deadline => break,
			}
		}
		let Some(state) = ordered.borrow().clone() else { return Ok(()) };
		let held = places.clone();
		let leaves = self.read(move |ledger| ledger.leaves_at(&held)).await?;
		for ((place, answer), held) in places.iter().zip(answers.iter_mut()).zip(leaves) {
			let Some(leaf) = acknowledged(answer).filter(|_| is_ordered(&state, place)) else {
				continue;
			};
			*answer = match held {
				Some(held) if held == leaf => Answer::Replicated { leaf },
				_ => Answer::Refused {
					code: Rejection::SequenceReused { sequence: place.1 }.code(),
					error: format!(
						"the service ordered another record of device {} for sequence {}",
						place.0, place.1
					),
				},
			};
		}
		Ok(())
	}

	/// Runs `read` on the ledger off the async threads, once `permits` has one.
	async fn read_with<T: Send + 'static>(
		&self,
		permits: &tokio::sync::Semaphore,
		read: impl FnOnce(&Ledger) -> Result<T, StorageError> + Send + 'static,
	) -> Result<T, NestNodeRpcError> {
		let _reading = permits.acquire().await.expect("the semaphore is never closed");
		let ledger = self.ledger.clone();
		Ok(crate::blocking(move || read(&ledger)).await?)
	}

	/// A read of the ledger ([`READS_AT_ONCE`]).
	async fn read<T: Send + 'static>(
		&self,
		read: impl FnOnce(&Ledger) -> Result<T, StorageError> + Send + 'static,
	) -> Result<T, NestNodeRpcError> {
		self.read_with(&self.reading, read).await
	}

	/// A proof ([`PROOFS_AT_ONCE`]).
	async fn prove<T: Send + 'static>(
		&self,
		prove: impl FnOnce(&Ledger) -> Result<T, StorageError> + Send + 'static,
	) -> Result<T, NestNodeRpcError> {
		self.read_with(&self.proving, prove).await
	}
}

#[async_trait]
impl NestNodeApiServer for NestNode {
	async fn submit(
		&self,
		records: Bytes,
		acknowledge: Option<Acknowledge>,
	) -> RpcResult<Vec<Answer>> {
		let records = decode_records(&records)?;
		let places: Vec<(DeviceId, u64)> =
			records.iter().map(|r| (r.record.device, r.record.sequence())).collect();
		let started = std::time::Instant::now();
		// Calls beyond this many wait here: the work in progress, and its memory, is bounded.
		// A call waiting for its records' replication holds no permit: it holds nothing but
		// its answers, and the agreement orders many calls' records at once.
		let working = self.working.acquire().await.expect("the semaphore is never closed");
		let spread = self.network.as_ref().map(|network| (network, records.clone()));
		let outcomes = self.committer.submit(records).await.map_err(NestNodeRpcError::Storage)?;
		drop(working);
		// The records stored now (not retries) go to the other nodes.
		if let Some((network, records)) = spread {
			let fresh: Vec<SignedNestRecord> = records
				.into_iter()
				.zip(&outcomes)
				.filter(|(_, outcome)| matches!(outcome, Ok(Stored { duplicate: false, .. })))
				.map(|(record, _)| record)
				.collect();
			if !fresh.is_empty() {
				network.publish(fresh);
			}
		}
		let mut answers: Vec<Answer> = outcomes.iter().cloned().map(answer).collect();
		if acknowledge == Some(Acknowledge::Replicated) {
			self.await_replication(places, &mut answers).await?;
		}
		self.metrics.submitted(&outcomes, &answers, started.elapsed());
		Ok(answers)
	}

	async fn next_sequence(&self, device: DeviceId) -> RpcResult<u64> {
		Ok(self.read(move |ledger| ledger.next_sequence(device)).await?)
	}

	async fn status(&self) -> RpcResult<Status> {
		let (webchain_block, agreement_participants) = match self.finalized.borrow().as_ref() {
			Some(at) => (Some(at.number), at.service.keys.iter().flatten().count()),
			None => (None, 0),
		};
		let (open_epoch, records, arrivals) = self
			.read(|ledger| {
				Ok((ledger.open_epoch()?, ledger.record_count()?, ledger.arrival_count()?))
			})
			.await?;
		let trusted_peers = match &self.network {
			Some(network) => Some(network.trusted_peers().await),
			None => None,
		};
		let agreed = self.ordered.as_ref().map(|ordered| ordered.borrow().clone());
		let agreement_height = agreed.as_ref().map(|a| a.as_ref().map_or(0, |state| state.height));
		let replicated_records =
			agreed.map(|a| a.map_or(0, |state| state.ends.values().sum::<u64>()));
		Ok(Status {
			open_epoch,
			records,
			arrivals,
			webchain_block,
			trusted_peers,
			agreement_participants,
			agreement_height,
			replicated_records,
		})
	}

	async fn cut(&self, epoch: Epoch) -> RpcResult<Option<Bytes>> {
		let cut = self.read(move |ledger| ledger.cut(epoch)).await?;
		Ok(cut.map(|cut| cut.encode().into()))
	}

	async fn records(&self, device: DeviceId, from: u64, count: u32) -> RpcResult<Bytes> {
		let count = (count as usize).min(MAX_RECORDS_PER_CALL);
		let records = self.read(move |ledger| ledger.records(device, from, count)).await?;
		Ok(records.encode().into())
	}

	async fn proposals(&self, digest: Hash, count: u32) -> RpcResult<Bytes> {
		let count = (count as usize).min(MAX_PROPOSALS_PER_CALL);
		let chain = self
			.read(move |ledger| ledger.proposal_chain(&digest.0, count, MAX_READ_BYTES))
			.await?;
		Ok(chain.encode().into())
	}

	async fn equivocations(
		&self,
		device: DeviceId,
		sequence: u64,
		count: u32,
	) -> RpcResult<Vec<EquivocationEvidence>> {
		let count = (count as usize).min(MAX_EQUIVOCATIONS_PER_CALL);
		let found = self.read(move |ledger| ledger.equivocations(device, sequence, count)).await?;
		Ok(found
			.into_iter()
			.map(|Equivocation { held, other }| EquivocationEvidence {
				device: held.record.device,
				sequence: held.record.sequence(),
				held: held.encode().into(),
				other: other.encode().into(),
			})
			.collect())
	}

	async fn proof(&self, device: DeviceId, sequence: u64) -> RpcResult<Option<ProvenRecord>> {
		let proven = self.prove(move |ledger| ledger.proof(device, sequence)).await?;
		Ok(proven.map(|proven| {
			let (record, signature) =
				(proven.stored.record.leaf_bytes(), proven.stored.signature.encode());
			ProvenRecord { leaf: ProvenLeaf::of(proven, record), signature: signature.into() }
		}))
	}

	async fn arrival(&self, number: u64) -> RpcResult<Option<ProvenLeaf>> {
		let proven = self.prove(move |ledger| ledger.arrival_proof(number)).await?;

		Ok(proven.map(|proven| {
			let record = proven.stored.leaf_bytes();
			ProvenLeaf::of(proven, record)
		}))
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{agreement::chain::Proposal, fixtures::Fleet};
	use jsonrpsee::RpcModule;
	use serde_json::{json, Value};
	use thingschain_primitives::merkle::InclusionProof;

	fn node(fleet: &Fleet) -> (tempfile::TempDir, Arc<Ledger>, RpcModule<NestNode>) {
		node_ordered_by(fleet, None)
	}

	/// A node that has read no WebChain block yet, told by `ordered` what the agreement
	/// ordered (a super node if none).
	fn node_ordered_by(
		fleet: &Fleet,
		ordered: Option<Ordered>,
	) -> (tempfile::TempDir, Arc<Ledger>, RpcModule<NestNode>) {
		let dir = tempfile::tempdir().unwrap();
		let ledger = Arc::new(Ledger::open(&dir.path().join("ledger.redb")).unwrap());
		let rules = Arc::new(fleet.rules.clone());
		let committer = Committer::start(ledger.clone(), rules, fleet.devices.clone()).unwrap();
		let (_, finalized) = watch::channel(None);
		let metrics = Metrics::register(&Default::default()).unwrap();
		let node = NestNode::new(ledger.clone(), committer, finalized, None, metrics, ordered);
		(dir, ledger, node.into_rpc())
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn a_replicated_write_is_answered_once_the_agreement_orders_it() {
		let fleet = Fleet::new(1);
		let (ordered, watched) = watch::channel(None);
		let (_dir, ledger, rpc) = node_ordered_by(&fleet, Some(watched));
		let device = fleet.device_id(0);
		let records: Vec<_> = (0..3).map(|s| fleet.record(0, s)).collect();
		let order = move |end: u64| {
			let ends = Arc::new(std::collections::BTreeMap::from([(device, end)]));
			Some(Arc::new(State { height: end, ends, ..State::default() }))
		};

		// The agreement orders records 0 and 1 while the call waits; then, as if the device
		// had signed another record 2 that the service ordered instead, record 2's place in
		// the ledger holds another leaf.
		let ordering = tokio::spawn(async move {
			tokio::time::sleep(std::time::Duration::from_millis(200)).await;
			ordered.send_replace(order(1));
			tokio::time::sleep(std::time::Duration::from_millis(200)).await;
			ordered.send_replace(order(3));
			ordered
		});
		let answers: Vec<Answer> =
			rpc.call("nestnode_submit", (hex(&records[..2]), "replicated")).await.unwrap();
		assert!(answers.iter().all(|a| matches!(a, Answer::Replicated { .. })), "{answers:?}");
		let ordered = ordering.await.unwrap();

		// A stored answer is what a write asking for no more gets, ordered or not.
		let stored: Vec<Answer> = rpc.call("nestnode_submit", [hex(&records[2..])]).await.unwrap();
		assert!(matches!(stored[..], [Answer::Stored { .. }]), "{stored:?}");
		let other = fleet.record(0, 2);
		let other_leaf = thingschain_primitives::merkle::leaf_hash(&other.record.leaf_bytes());
		let range = crate::agreement::chain::Range {
			device,
			from: 2,
			to: 3,
			leaves: crate::agreement::chain::leaves_hash(&[other_leaf]),
		};
		ledger.keep_variant(&range, &[other]).unwrap();
		let proposal = crate::agreement::chain::Proposal {
			parent: [0; 32],
			height: 3,
			block: 1,
			ranges: vec![range],
			close: None,
		};
		let state = order(3).unwrap();
		ledger.finalize_agreed(&[3; 32], &proposal, &state).unwrap();
		ordered.send_replace(Some(state));
		let superseded: Vec<Answer> =
			rpc.call("nestnode_submit", (hex(&records[2..]), "replicated")).await.unwrap();
		assert!(
			matches!(superseded[..], [Answer::Refused { code: 9310, .. }]),
			"the device's other record was ordered: {superseded:?}"
		);
	}

	fn hex(records: &[SignedNestRecord]) -> String {
		format!("0x{}", ::hex::encode(records.to_vec().encode()))
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn a_device_writes_and_reads_back_its_record_with_a_proof() {
		let fleet = Fleet::new(2);
		let (_dir, ledger, rpc) = node(&fleet);
		let mut forged = fleet.record(1, 0);
		crate::fixtures::envelope_mut(&mut forged).nonce[0] ^= 1;
		let records = [fleet.record(0, 0), forged, fleet.record(0, 1), fleet.record(0, 1)];
		let answers: Value = rpc.call("nestnode_submit", [hex(&records)]).await.unwrap();
		let answers = answers.as_array().unwrap();
		assert_eq!(answers[0]["status"], "stored");
		assert_eq!(
			answers[1],
			json!({"status": "refused", "code": 9307, "error": "the signature is not the device key's over this record"})
		);
		assert_eq!(answers[2]["status"], "stored");
		// The same sequence again, sealed afresh: another record.
		assert_eq!(answers[3]["code"], 9310);
		let next: u64 = rpc.call("nestnode_nextSequence", [fleet.device_id(0)]).await.unwrap();
		assert_eq!(next, 2);

		let device = fleet.device_id(0);
		let none: Option<Value> = rpc.call("nestnode_proof", (device, 1)).await.unwrap();
		assert_eq!(none, None, "epoch 0 is open");
		let sealed = ledger.close_held().unwrap();
		let proven: Value = rpc.call("nestnode_proof", (device, 1)).await.unwrap();
		assert_eq!(proven["epoch"], 0);
		assert_eq!(proven["root"], json!(sealed.root));
		assert_eq!(proven["record"], json!(Bytes(records[2].record.leaf_bytes())));
		assert_eq!(proven["signature"], json!(Bytes(records[2].signature.encode())));
		let proof = InclusionProof {
			leaf_index: proven["leafIndex"].as_u64().unwrap() as u32,
			number_of_leaves: proven["numberOfLeaves"].as_u64().unwrap() as u32,
			siblings: serde_json::from_value::<Vec<Hash>>(proven["siblings"].clone())
				.unwrap()
				.try_into()
				.unwrap(),
		};
		assert!(proof.verify(&sealed.root, &records[2].record.leaf_bytes()));
		let status: Value = rpc.call("nestnode_status", [(); 0]).await.unwrap();
		// Records 0 and 1 are held; the forged one and the repeat are not counted.
		let expected = json!({
			"openEpoch": 1,
			"records": 2,
			"arrivals": 0,
			"webchainBlock": null,
			"trustedPeers": null,
			"agreementParticipants": 0,
			"agreementHeight": null,
			"replicatedRecords": null,
		});
		assert_eq!(status, expected);

		// What a super node catches up with: the certified cut and the records below it.
		let cut: Bytes = rpc.call("nestnode_cut", [0]).await.unwrap();
		assert_eq!(cut.0, ledger.cut(0).unwrap().unwrap().encode());
		let none: Option<Bytes> = rpc.call("nestnode_cut", [1]).await.unwrap();
		assert_eq!(none, None);
		let served: Bytes = rpc.call("nestnode_records", (device, 1, 5)).await.unwrap();
		let served = Vec::<SignedNestRecord>::decode(&mut &served[..]).unwrap();
		assert_eq!(served, vec![records[2].clone()]);

		// The device signed two records for sequence 1: anyone reads the evidence.
		let evidence: Vec<EquivocationEvidence> =
			rpc.call("nestnode_equivocations", (device, 0, 10)).await.unwrap();
		let expected = EquivocationEvidence {
			device,
			sequence: 1,
			held: records[2].encode().into(),
			other: records[3].encode().into(),
		};
		assert_eq!(evidence, vec![expected]);

		// The agreement's proposals, newest first, back to the first the node keeps.
		let first = Proposal { parent: [0; 32], height: 1, block: 1, ranges: vec![], close: None };
		let second = Proposal { parent: first.digest().0, height: 2, ..first.clone() };
		for proposal in [&first, &second] {
			ledger.save_proposal(&proposal.digest().0, proposal).unwrap();
		}
		let chain: Bytes =
			rpc.call("nestnode_proposals", (Hash::from(second.digest().0), 10)).await.unwrap();
		assert_eq!(Vec::<Proposal>::decode(&mut &chain[..]).unwrap(), vec![second, first]);
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn malformed_and_oversized_calls_fail_whole_with_their_codes() {
		let fleet = Fleet::new(1);
		let (_dir, _ledger, rpc) = node(&fleet);
		let error = rpc.call::<_, Value>("nestnode_submit", ["0x0102"]).await.unwrap_err();
		assert!(error.to_string().contains("9301"), "{error}");
		// A good record with a byte after it.
		let trailing = format!("{}00", hex(&[fleet.record(0, 0)]));
		let error = rpc.call::<_, Value>("nestnode_submit", [trailing]).await.unwrap_err();
		assert!(error.to_string().contains("9301"), "{error}");
		let many = vec![fleet.record(0, 0); MAX_RECORDS_PER_CALL + 1];
		let error = rpc.call::<_, Value>("nestnode_submit", [hex(&many)]).await.unwrap_err();
		assert!(error.to_string().contains("9312"), "{error}");
	}

	/// The attack: 200 clients hold connections open and say nothing, and 1,000 proof calls
	/// arrive at once, each building a tree of 4,000 records. A device's write and a super
	/// node's read of a cut still answer within a second: proofs queue apart.
	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn idle_clients_and_a_flood_of_proofs_leave_writes_and_cut_reads_answering() {
		use std::{
			sync::atomic::{AtomicUsize, Ordering},
			time::{Duration, Instant},
		};
		use subxt::rpcs::{rpc_params, RpcClient};
		let fleet = Fleet::new(2);
		let (_dir, ledger, rpc) = node(&fleet);
		for chunk in 0..4 {
			let records: Vec<_> = (chunk * 1_000..(chunk + 1) * 1_000)
				.map(|sequence| fleet.record(0, sequence))
				.collect();
			let _: Value = rpc.call("nestnode_submit", [hex(&records)]).await.unwrap();
		}
		assert_eq!(ledger.close_held().unwrap().leaves, 4_000);
		let limits = crate::server::Limits {
			connections: 2_000,
			connections_per_ip: 500,
			request_bytes: 1 << 20,
			response_bytes: 1 << 20,
			call_timeout: Duration::from_secs(60),
			first_request: Duration::from_secs(60),
		};
		let address = "127.0.0.1:0".parse().unwrap();
		let server = crate::server::bind(address, rpc, limits).await.unwrap();
		tokio::spawn(server.accepting);
		let url = format!("ws://{}", server.address);
		let connect = || RpcClient::from_insecure_url(&url);

		let mut idle = Vec::new();
		for _ in 0..200 {
			idle.push(connect().await.unwrap());
		}
		let proven = Arc::new(AtomicUsize::new(0));
		let mut flood = Vec::new();
		for client in 0..10u64 {
			let (prover, proven) = (connect().await.unwrap(), proven.clone());
			let device = fleet.device_id(0);
			flood.push(tokio::spawn(async move {
				let calls = (0..100).map(|call| {
					let (prover, proven) = (&prover, &proven);
					async move {
						let params = rpc_params![device, client * 100 + call];
						let proof: Value = prover.request("nestnode_proof", params).await.unwrap();
						assert!(!proof.is_null());
						proven.fetch_add(1, Ordering::SeqCst);
					}
				});
				futures::future::join_all(calls).await;
			}));
		}
		// Once the proofs are answering, a write and a cut read go through the same server.
		while proven.load(Ordering::SeqCst) == 0 {
			tokio::task::yield_now().await;
		}
		let (device, super_node) = (connect().await.unwrap(), connect().await.unwrap());
		let write = Instant::now();
		let params = rpc_params![hex(&[fleet.record(1, 0)])];
		let answers: Value = device.request("nestnode_submit", params).await.unwrap();
		let written = write.elapsed();
		assert_eq!(answers[0]["status"], "stored");
		let read = Instant::now();
		let cut: Option<Bytes> = super_node.request("nestnode_cut", rpc_params![0]).await.unwrap();
		let cut_read = read.elapsed();
		assert_eq!(cut.map(|cut| cut.0), Some(ledger.cut(0).unwrap().unwrap().encode()));
		let during = proven.load(Ordering::SeqCst);
		assert!(during < 1_000, "the proofs were over ({during}) before the write and the read");
		assert!(written < Duration::from_secs(1), "the write took {written:?}");
		assert!(cut_read < Duration::from_secs(1), "the cut read took {cut_read:?}");
		for prover in flood {
			prover.await.unwrap();
		}
		assert_eq!(proven.load(Ordering::SeqCst), 1_000);
		drop(idle);
	}
}
