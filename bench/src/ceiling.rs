//! What this machine can do at most, to read a run's numbers against: sr25519 signature
//! checks per second on one core (every transaction's signature is checked when it enters the
//! pool) and in batches on every core (how a service node checks device records), the largest block the node built (from its log), and the time to import (execute)
//! each of the run's blocks against its weight (`benchmark block`).

use std::{
	path::Path,
	process::Command,
	time::{Duration, Instant},
};

/// sr25519 verifications per second on one core, measured for `time`.
pub fn sr25519_verifications_per_second(time: Duration) -> f64 {
	use schnorrkel::{signing_context, Keypair};
	let keypair = Keypair::generate_with(rand_core::OsRng);
	let context = signing_context(b"substrate");
	let message = [7u8; 128];
	let signature = keypair.sign(context.bytes(&message));
	let start = Instant::now();
	let mut checked = 0u64;
	while start.elapsed() < time {
		for _ in 0..100 {
			assert!(keypair.public.verify(context.bytes(&message), &signature).is_ok());
		}
		checked += 100;
	}
	checked as f64 / start.elapsed().as_secs_f64()
}

/// sr25519 verifications per second in batches of [`BATCH`] (one multi-scalar multiplication
/// each, as a service node checks a call's records) on every core, measured for `time`.
pub fn sr25519_batch_verifications_per_second(time: Duration) -> f64 {
	use schnorrkel::{signing_context, Keypair};
	const BATCH: usize = 64;
	let context = signing_context(b"substrate");
	let keypairs: Vec<Keypair> =
		(0..BATCH).map(|_| Keypair::generate_with(rand_core::OsRng)).collect();
	let messages: Vec<[u8; 128]> = (0..BATCH).map(|i| [i as u8; 128]).collect();
	let signatures: Vec<_> =
		keypairs.iter().zip(&messages).map(|(k, m)| k.sign(context.bytes(m))).collect();
	let keys: Vec<_> = keypairs.iter().map(|k| k.public).collect();
	let start = Instant::now();
	let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
	let checked: usize = std::thread::scope(|scope| {
		let threads: Vec<_> = (0..cores)
			.map(|_| {
				scope.spawn(|| {
					let mut checked = 0;
					while start.elapsed() < time {
						let transcripts = messages.iter().map(|m| context.bytes(m));
						let verified =
							schnorrkel::verify_batch(transcripts, &signatures, &keys, false);
						assert!(verified.is_ok());
						checked += BATCH;
					}
					checked
				})
			})
			.collect();
		threads.into_iter().map(|t| t.join().expect("a verifier thread")).sum()
	});
	checked as f64 / start.elapsed().as_secs_f64()
}

/// A block the node built, from its "Prepared block for proposing" log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltBlock {
	pub number: u64,
	/// Extrinsics in it, inherents included.
	pub extrinsics: u64,
	/// Time taken to build it, milliseconds.
	pub millis: u64,
}

impl BuiltBlock {
	/// Extrinsics per second of building time.
	pub fn rate(&self) -> f64 {
		self.extrinsics as f64 * 1_000.0 / self.millis.max(1) as f64
	}
}

/// Every block built according to `log`.
pub fn built_blocks(log: &str) -> Vec<BuiltBlock> {
	log.lines()
		.filter_map(|line| {
			let rest = line.split_once("Prepared block for proposing at ")?.1;
			let (number, rest) = rest.split_once(" (")?;
			let (millis, rest) = rest.split_once(" ms)")?;
			let extrinsics = rest.split_once("extrinsics_count: ")?.1;
			let extrinsics = extrinsics.split(|c: char| !c.is_ascii_digit()).next()?;
			Some(BuiltBlock {
				number: number.trim().parse().ok()?,
				extrinsics: extrinsics.parse().ok()?,
				millis: millis.trim().parse().ok()?,
			})
		})
		.collect()
}

/// The block with the most extrinsics in `blocks`.
pub fn largest(blocks: &[BuiltBlock]) -> Option<BuiltBlock> {
	blocks.iter().copied().max_by_key(|b| (b.extrinsics, std::cmp::Reverse(b.millis)))
}

/// A block re-executed by `benchmark block`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImportedBlock {
	pub number: u64,
	/// Extrinsics in it, inherents included.
	pub extrinsics: u64,
	/// Time to execute it, nanoseconds.
	pub took_ns: u64,
	/// Its weight, nanoseconds.
	pub weight_ns: u64,
}

impl ImportedBlock {
	/// Extrinsics per second of import time.
	pub fn rate(&self) -> f64 {
		self.extrinsics as f64 * 1e9 / self.took_ns.max(1) as f64
	}
}

/// Re-executes blocks `from..=to` of the stopped dev node's database at `base_path` with
/// `binary benchmark block`.
pub fn import_blocks(
	binary: &Path,
	base_path: &Path,
	from: u64,
	to: u64,
) -> Result<Vec<ImportedBlock>, String> {
	let output = Command::new(binary)
		.args(["benchmark", "block", "--dev", "--repeat", "2"])
		.arg("--base-path")
		.arg(base_path)
		.args(["--from", &from.to_string(), "--to", &to.to_string()])
		.output()
		.map_err(|e| format!("{} benchmark block: {e}", binary.display()))?;
	let log = String::from_utf8_lossy(&output.stderr);
	if !output.status.success() {
		return Err(format!("benchmark block failed: {log}"));
	}
	Ok(imported_blocks(&log))
}

/// The blocks `benchmark block` reports in `log`.
fn imported_blocks(log: &str) -> Vec<ImportedBlock> {
	let number = |text: &str| text.replace(',', "").trim().parse::<u64>().ok();
	log.lines()
		.filter_map(|line| {
			let rest = line.split_once("Block ")?.1;
			let (block, rest) = rest.split_once(" with ")?;
			let (extrinsics, rest) = rest.split_once(" tx used ")?;
			let (took, rest) = rest.split_once('(')?.1.split_once(" of ")?;
			let weight = rest.split_once(" ns")?.0;
			Some(ImportedBlock {
				number: number(block)?,
				extrinsics: number(extrinsics)?,
				took_ns: number(took)?,
				weight_ns: number(weight)?,
			})
		})
		.collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn reads_the_proposers_log_line() {
		let log = "2026-12-01 10:00:00 🎁 Prepared block for proposing at 12 (1330 ms) hash: \
		           0xab; parent_hash: 0xcd; end: NoMoreTransactions; extrinsics_count: 1582\n\
		           unrelated line\n\
		           2026-12-01 10:00:02 🎁 Prepared block for proposing at 13 (2 ms) hash: 0xef; \
		           parent_hash: 0xab; end: NoMoreTransactions; extrinsics_count: 1";
		let blocks = built_blocks(log);
		assert_eq!(
			blocks,
			vec![
				BuiltBlock { number: 12, extrinsics: 1582, millis: 1330 },
				BuiltBlock { number: 13, extrinsics: 1, millis: 2 },
			]
		);
		assert_eq!(largest(&blocks).map(|b| b.number), Some(12));
	}

	#[test]
	fn reads_benchmark_blocks_log_line() {
		let log = "2026-12-01 10:00:00 Block 12 with  1582 tx used  24.05% of its weight \
		           (   361,000,000 of  1,501,000,000 ns)\n\
		           2026-12-01 10:00:01 Block 13 with     1 tx used 104.00% of its weight \
		           (       104,000 of        100,000 ns) - OVER WEIGHT!";
		assert_eq!(
			imported_blocks(log),
			vec![
				ImportedBlock {
					number: 12,
					extrinsics: 1582,
					took_ns: 361_000_000,
					weight_ns: 1_501_000_000
				},
				ImportedBlock { number: 13, extrinsics: 1, took_ns: 104_000, weight_ns: 100_000 },
			]
		);
	}
}
