//! How queued readings become transactions ([`plan`]).
//!
//! Readings go to the chain in `Payloads.store_batch`es of up to a batch size: one signature,
//! nonce and fee for all of them. A batch sent before keeps its nonce and its readings: at
//! most one transaction per nonce can ever be included, so sending the same readings again
//! with the same nonce never stores one twice, where regrouping them could. New readings
//! follow in order, in full batches, with the nonces after every pending one.
//!
//! ```text
//!  queue   r0      r1 r2    r3 r4 r5 r6        r0 sent with nonce 4, r1 r2 with nonce 7
//!  chain   nonces 0..=6 used
//!  plan    r0 stored (4 was used) · nonce 7: r1 r2 again · nonce 8: r3 r4 r5 · nonce 9: r6
//!                                                                    (batches of 3)
//! ```

use crate::queue::Reading;
use std::collections::BTreeMap;
use subxt::utils::H256;

/// The envelope sequence of the `index`-th reading of the batch sent with `nonce`: above every
/// reading of earlier nonces (the key's nonces only grow, and are kept when a key is bound
/// again), the same when a batch is sent again with its nonce, as the chain requires.
pub fn sequence(nonce: u64, index: u64) -> u64 {
	(nonce << 16) | index
}

/// One transaction to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
	/// Its nonce.
	pub nonce: u64,
	/// The readings it stores, oldest first.
	pub readings: Vec<Reading>,
	/// The hashes it was sent under before, if it was (it may still be in a node's pool).
	pub sent_as: Vec<H256>,
}

/// What a flush does with the queue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
	/// Readings whose transaction is in a block (the chain used its nonce): to forget.
	pub stored: Vec<u64>,
	/// Transactions to send, in nonce order.
	pub batches: Vec<Batch>,
}

/// Plans `readings` (the queue, oldest first) for a device whose nonces below `used` are in
/// blocks and whose next nonce, counting its pooled transactions, is `next`; at most `size`
/// new readings a batch.
pub fn plan(readings: Vec<Reading>, used: u64, next: u64, size: usize) -> Plan {
	let mut plan = Plan::default();
	let mut again: BTreeMap<u64, Batch> = BTreeMap::new();
	let mut new = Vec::new();
	for reading in readings {
		match reading.sent {
			Some(sent) if sent.nonce < used => plan.stored.push(reading.seq),
			Some(sent) => {
				let batch = again.entry(sent.nonce).or_insert_with(|| Batch {
					nonce: sent.nonce,
					readings: Vec::new(),
					sent_as: Vec::new(),
				});
				if !batch.sent_as.contains(&H256(sent.hash)) {
					batch.sent_as.push(H256(sent.hash));
				}
				batch.readings.push(reading);
			}
			None => new.push(reading),
		}
	}
	let first_new = again.keys().next_back().map_or(next, |last| next.max(last + 1));
	plan.batches = again.into_values().collect();
	plan.batches.extend(new.chunks(size.max(1)).zip(first_new..).map(|(readings, nonce)| Batch {
		nonce,
		readings: readings.to_vec(),
		sent_as: Vec::new(),
	}));
	plan
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::queue::Sent;
	use proptest::prelude::*;

	fn reading(seq: u64, sent: Option<u64>) -> Reading {
		let sent = sent.map(|nonce| Sent { nonce, hash: [nonce as u8; 32] });
		Reading { seq, public: true, data: vec![seq as u8], sent, for_service: None }
	}

	fn seqs(batch: &Batch) -> Vec<u64> {
		batch.readings.iter().map(|r| r.seq).collect()
	}

	#[test]
	fn the_example_of_the_module_documentation() {
		let queue = vec![
			reading(0, Some(4)),
			reading(1, Some(7)),
			reading(2, Some(7)),
			reading(3, None),
			reading(4, None),
			reading(5, None),
			reading(6, None),
		];
		let plan = plan(queue, 7, 7, 3);
		assert_eq!(plan.stored, vec![0]);
		let batches: Vec<_> = plan.batches.iter().map(|b| (b.nonce, seqs(b))).collect();
		assert_eq!(batches, vec![(7, vec![1, 2]), (8, vec![3, 4, 5]), (9, vec![6])]);
		assert_eq!(plan.batches[0].sent_as, vec![H256([7; 32])]);
		assert!(plan.batches[1].sent_as.is_empty());
	}

	/// A queue as flushes leave it: readings in order, some sent (with nonces from `used` on,
	/// in runs, or below `used` when their transaction is in a block), the rest not.
	fn queue() -> impl Strategy<Value = (Vec<Reading>, u64, u64, usize)> {
		(0u64..5, 0u64..4, 1usize..6, prop::collection::vec((0u8..3, 0u64..3), 0..30)).prop_map(
			|(used, pooled, size, kinds)| {
				let readings = kinds
					.iter()
					.enumerate()
					.map(|(seq, (kind, offset))| {
						let sent = match kind {
							0 => None,
							1 => used.checked_sub(offset + 1),
							_ => Some(used + offset),
						};
						reading(seq as u64, sent)
					})
					.collect();
				(readings, used, used + pooled, size)
			},
		)
	}

	proptest! {
		#[test]
		fn every_reading_is_planned_once_and_no_two_transactions_share_a_nonce(
			(readings, used, next, size) in queue()
		) {
			let plan = plan(readings.clone(), used, next, size);
			let mut planned: Vec<u64> = plan.stored.clone();
			planned.extend(plan.batches.iter().flat_map(seqs));
			planned.sort();
			prop_assert_eq!(planned, readings.iter().map(|r| r.seq).collect::<Vec<_>>());
			let nonces: Vec<u64> = plan.batches.iter().map(|b| b.nonce).collect();
			prop_assert!(nonces.windows(2).all(|w| w[0] < w[1]), "nonces {:?}", nonces);
			for batch in &plan.batches {
				prop_assert!(batch.nonce >= used);
				prop_assert!(batch.readings.windows(2).all(|w| w[0].seq < w[1].seq));
				match batch.sent_as.is_empty() {
					// New readings: a full batch at most, after every pending nonce.
					true => {
						prop_assert!(batch.readings.len() <= size);
						prop_assert!(batch.nonce >= next);
						prop_assert!(batch.readings.iter().all(|r| r.sent.is_none()));
					}
					// Sent before: the same readings with the same nonce, nothing added.
					false => {
						let sent_with: Vec<_> = readings
							.iter()
							.filter(|r| r.sent.map(|s| s.nonce) == Some(batch.nonce))
							.cloned()
							.collect();
						prop_assert_eq!(&batch.readings, &sent_with);
					}
				}
			}
			for seq in &plan.stored {
				let sent = readings[*seq as usize].sent;
				prop_assert!(sent.is_some_and(|s| s.nonce < used));
			}
		}
	}
}
