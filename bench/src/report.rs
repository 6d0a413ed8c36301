//! A run's numbers: throughput, latency percentiles, block fullness, the node's resources and
//! the machine's ceilings; as a Markdown table for `docs/performance.md` and an SVG plot.

use crate::{
	ceiling::{BuiltBlock, ImportedBlock},
	graph::GraphStats,
	observe::{Limits, Observations},
	submit::Submissions,
};
use std::{collections::BTreeMap, fmt::Write as _, time::Duration};

/// What a run was.
#[derive(Clone, Debug)]
pub struct RunSpec {
	pub workload: String,
	/// `dev` or `local` (4 delegates); `local+<ms>ms` when the delegates' traffic was
	/// delayed that long (`crate::latency`).
	pub network: String,
	/// Offered transactions per second.
	pub rate: f64,
	/// Seconds of submission.
	pub duration: u64,
}

/// A run's results.
#[derive(Clone, Debug)]
pub struct Summary {
	pub spec: RunSpec,
	pub transactions: usize,
	pub accepted: usize,
	pub refused: BTreeMap<String, usize>,
	pub included: usize,
	pub finalized: usize,
	/// Included transactions per second, from the first submission to the last inclusion.
	pub included_per_second: f64,
	/// Finalized transactions per second, from the first submission to the last finality.
	pub finalized_per_second: f64,
	/// Submission to first seen in a best block: p50, p95, p99.
	pub inclusion_latency: [Duration; 3],
	/// First seen in a best block to seen finalized: p50, p95, p99.
	pub finality_latency: [Duration; 3],
	/// Block time: mean interval between the run's blocks.
	pub block_time: Duration,
	/// Blocks seen in a best chain and then retracted: never finalized, at a height that was.
	pub forked: usize,
	/// The longest time the finalized head stood still, from the start to its last move.
	pub finality_stall: Duration,
	/// Blocks that carried the run's transactions.
	pub blocks: usize,
	/// Mean and largest share of the block weight used, of blocks with the run's transactions.
	pub weight_used: (f64, f64),
	/// Mean and largest share of the normal block length used.
	pub length_used: (f64, f64),
	/// Largest block of the run: transactions in it.
	pub largest_block: usize,
	/// The node's mean CPU use (cores) and largest resident memory (bytes) during the run.
	pub node_cpu: f64,
	pub node_rss: u64,
	/// This machine's ceilings: sr25519 verifications per second on one core; the largest
	/// block the node built.
	pub verifications_per_core: f64,
	pub built: Option<BuiltBlock>,
	/// The run's blocks re-executed (dev network): import time against weight.
	pub imported: Vec<ImportedBlock>,
	/// The block graph's side of the run: forks referenced and orphaned, its import cost.
	pub graph: GraphStats,
	/// The run in windows of [`WINDOW`] seconds.
	pub timeline: Vec<Window>,
}

/// Seconds of each [`Window`] of the timeline: several blocks, so rates do not jump between
/// a block and none.
pub const WINDOW: u64 = 10;

/// [`WINDOW`] seconds of a run.
#[derive(Clone, Debug)]
pub struct Window {
	/// Its first second since the start.
	pub start: u64,
	/// Transactions included per second in it (first seen in a best block).
	pub included_per_second: f64,
	/// Median submission→inclusion latency of those transactions.
	pub p50_inclusion: Duration,
}

/// The `p`-th percentile (0..=100) of `sorted`.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
	if sorted.is_empty() {
		return Duration::ZERO;
	}
	sorted[((sorted.len() - 1) * p).div_ceil(100)]
}

/// The 50th, 95th and 99th percentiles of `samples`.
pub fn percentiles(mut samples: Vec<Duration>) -> [Duration; 3] {
	samples.sort();
	[percentile(&samples, 50), percentile(&samples, 95), percentile(&samples, 99)]
}

fn mean_max(values: impl Iterator<Item = f64>) -> (f64, f64) {
	let (mut sum, mut max, mut n) = (0.0, 0.0f64, 0usize);
	for v in values {
		sum += v;
		max = max.max(v);
		n += 1;
	}
	(if n == 0 { 0.0 } else { sum / n as f64 }, max)
}

/// This machine's ceilings, measured around a run.
pub struct Ceilings {
	/// sr25519 verifications per second on one core.
	pub verifications_per_core: f64,
	/// The largest block the node built.
	pub built: Option<BuiltBlock>,
	/// The run's blocks re-executed.
	pub imported: Vec<ImportedBlock>,
}

/// Summarises a run of `transactions` transactions.
pub fn summarise(
	spec: RunSpec,
	transactions: usize,
	submissions: &Submissions,
	observations: &Observations,
	limits: Limits,
	ceilings: Ceilings,
	graph: GraphStats,
) -> Summary {
	let blocks = &observations.blocks;
	let mut inclusion = Vec::new();
	let mut finality = Vec::new();
	let mut last_included = Duration::ZERO;
	let mut last_finalized = Duration::ZERO;
	let mut finalized = 0;
	let mut per_second: BTreeMap<u64, (usize, Vec<Duration>)> = BTreeMap::new();
	for (id, hash) in &observations.included_in {
		let (Some(block), Some(sent)) = (blocks.get(hash), submissions.sent_at(*id)) else {
			continue;
		};
		let latency = block.seen.saturating_sub(sent);
		inclusion.push(latency);
		last_included = last_included.max(block.seen);
		let second = per_second.entry(block.seen.as_secs() / WINDOW * WINDOW).or_default();
		second.0 += 1;
		second.1.push(latency);
		if let Some(at) = block.finalized {
			finality.push(at.saturating_sub(block.seen));
			last_finalized = last_finalized.max(at);
			finalized += 1;
		}
	}
	let ours: Vec<_> = blocks.values().filter(|b| b.ours > 0).collect();
	let mut numbers: Vec<(u64, Duration)> = blocks.values().map(|b| (b.number, b.seen)).collect();
	numbers.sort();
	let block_time = match (numbers.first(), numbers.last()) {
		(Some(first), Some(last)) if last.0 > first.0 => {
			(last.1 - first.1) / (last.0 - first.0) as u32
		}
		_ => Duration::ZERO,
	};
	let (forked, finality_stall) =
		forks_and_stall(&blocks.values().map(|b| (b.number, b.finalized)).collect::<Vec<_>>());
	let process = &observations.process;
	let included = observations.included_in.len();
	let rate = |count: usize, until: Duration| {
		if until.is_zero() {
			0.0
		} else {
			count as f64 / until.as_secs_f64()
		}
	};
	Summary {
		transactions,
		accepted: submissions.accepted.load(std::sync::atomic::Ordering::Relaxed),
		refused: submissions.refused.lock().expect("not poisoned").clone(),
		included,
		finalized,
		included_per_second: rate(included, last_included),
		finalized_per_second: rate(finalized, last_finalized),
		inclusion_latency: percentiles(inclusion),
		finality_latency: percentiles(finality),
		block_time,
		forked,
		finality_stall,
		blocks: ours.len(),
		weight_used: mean_max(
			ours.iter().map(|b| b.ref_time as f64 / limits.max_ref_time.max(1) as f64),
		),
		length_used: mean_max(
			ours.iter().map(|b| b.length as f64 / limits.max_normal_length.max(1) as f64),
		),
		largest_block: ours.iter().map(|b| b.ours).max().unwrap_or(0),
		node_cpu: mean_max(process.iter().skip(1).map(|s| s.cores)).0,
		node_rss: process.iter().map(|s| s.rss).max().unwrap_or(0),
		verifications_per_core: ceilings.verifications_per_core,
		built: ceilings.built,
		imported: ceilings.imported,
		graph,
		timeline: per_second
			.into_iter()
			.map(|(start, (count, mut latencies))| {
				latencies.sort();
				Window {
					start,
					included_per_second: count as f64 / WINDOW as f64,
					p50_inclusion: percentile(&latencies, 50),
				}
			})
			.collect(),
		spec,
	}
}

/// Of blocks seen as (number, when finalized): how many were retracted (never finalized, at a
/// height that was), and the longest time the finalized head stood still since the start.
fn forks_and_stall(blocks: &[(u64, Option<Duration>)]) -> (usize, Duration) {
	let highest_final = blocks.iter().filter(|(_, at)| at.is_some()).map(|(n, _)| *n).max();
	let forked = blocks
		.iter()
		.filter(|(n, at)| at.is_none() && highest_final.is_some_and(|h| *n <= h))
		.count();
	let mut moved: Vec<Duration> = blocks.iter().filter_map(|(_, at)| *at).collect();
	moved.push(Duration::ZERO);
	moved.sort();
	(forked, moved.windows(2).map(|w| w[1] - w[0]).max().unwrap_or_default())
}

fn ms(d: Duration) -> String {
	format!("{:.0}", d.as_secs_f64() * 1_000.0)
}

fn percent(share: f64) -> String {
	format!("{:.0}%", share * 100.0)
}

impl Summary {
	/// Transactions neither included nor refused.
	pub fn lost(&self) -> usize {
		let refused: usize = self.refused.values().sum();
		self.transactions.saturating_sub(self.included + refused)
	}

	/// The run's results in a few lines, for the terminal.
	pub fn text(&self) -> String {
		let mut out = String::new();
		let s = &self.spec;
		let _ = writeln!(
			out,
			"{} on {}: {} transactions offered at {}/s for {} s",
			s.workload, s.network, self.transactions, s.rate, s.duration
		);
		let _ = writeln!(
			out,
			"  included {} ({:.0}/s), finalized {} ({:.0}/s), refused {}, lost {}",
			self.included,
			self.included_per_second,
			self.finalized,
			self.finalized_per_second,
			self.refused.values().sum::<usize>(),
			self.lost()
		);
		for (reason, count) in &self.refused {
			let _ = writeln!(out, "    refused {count}: {reason}");
		}
		let [i50, i95, i99] = self.inclusion_latency;
		let [f50, f95, f99] = self.finality_latency;
		let _ = writeln!(
			out,
			"  submission→inclusion p50/p95/p99 {}/{}/{} ms; inclusion→finality {}/{}/{} ms",
			ms(i50),
			ms(i95),
			ms(i99),
			ms(f50),
			ms(f95),
			ms(f99)
		);
		let _ = writeln!(
			out,
			"  {} blocks, block time {} ms, {} forked, finality stood still {} ms at most; largest {} transactions; weight used {} mean / {} max, length {} / {}",
			self.blocks,
			ms(self.block_time),
			self.forked,
			ms(self.finality_stall),
			self.largest_block,
			percent(self.weight_used.0),
			percent(self.weight_used.1),
			percent(self.length_used.0),
			percent(self.length_used.1)
		);
		let _ = writeln!(
			out,
			"  node: {:.2} cores mean, {} MiB RSS max",
			self.node_cpu,
			self.node_rss / (1 << 20)
		);
		let _ = writeln!(out, "  block graph: {}", self.graph.text());
		let _ = writeln!(out, "  ceilings: {}", self.ceilings());
		out
	}

	/// The ceilings and this run's share of them.
	pub fn ceilings(&self) -> String {
		let mut out = format!(
			"{:.0} sr25519 checks/s per core (included/s is {:.0}% of one core's)",
			self.verifications_per_core,
			100.0 * self.included_per_second / self.verifications_per_core.max(1.0)
		);
		if let Some(built) = self.built {
			let _ = write!(
				out,
				"; largest block built: {} extrinsics in {} ms = {:.0}/s (included/s is {:.0}% of that)",
				built.extrinsics,
				built.millis,
				built.rate(),
				100.0 * self.included_per_second / built.rate().max(1.0)
			);
		}
		if let Some(largest) = self.imported.iter().max_by_key(|b| b.extrinsics) {
			let (took, weight) = self
				.imported
				.iter()
				.fold((0u64, 0u64), |(t, w), b| (t + b.took_ns, w + b.weight_ns));
			let _ = write!(
				out,
				"; largest block imported: {} extrinsics in {:.0} ms = {:.0}/s; the run's blocks execute in {:.0}% of their weight",
				largest.extrinsics,
				largest.took_ns as f64 / 1e6,
				largest.rate(),
				100.0 * took as f64 / weight.max(1) as f64
			);
		}
		out
	}

	/// The header of [`Self::markdown_row`]'s table.
	pub fn markdown_header() -> &'static str {
		"| workload | network | offered/s × s | included | included/s | finalized/s | refused | lost | submission→inclusion p50/p95/p99 (ms) | inclusion→finality p50/p95/p99 (ms) | block time (ms), forked blocks, longest finality wait (ms) | blocks: largest, weight mean/max, length mean/max | node CPU (cores), RSS max (MiB) | ceilings | block graph |\n\
		 | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	}

	/// The run as one row of a Markdown table.
	pub fn markdown_row(&self) -> String {
		let [i50, i95, i99] = self.inclusion_latency;
		let [f50, f95, f99] = self.finality_latency;
		let refused = if self.refused.is_empty() {
			"0".to_string()
		} else {
			self.refused.iter().map(|(r, n)| format!("{n} ({r})")).collect::<Vec<_>>().join("; ")
		};
		format!(
			"| {} | {} | {} × {} | {} / {} | **{:.0}** | {:.0} | {} | {} | {}/{}/{} | {}/{}/{} | {}, {}, {} | {}, {}/{}, {}/{} | {:.2}, {} | {} | {} |",
			self.spec.workload,
			self.spec.network,
			self.spec.rate,
			self.spec.duration,
			self.included,
			self.transactions,
			self.included_per_second,
			self.finalized_per_second,
			refused,
			self.lost(),
			ms(i50),
			ms(i95),
			ms(i99),
			ms(f50),
			ms(f95),
			ms(f99),
			ms(self.block_time),
			self.forked,
			ms(self.finality_stall),
			self.largest_block,
			percent(self.weight_used.0),
			percent(self.weight_used.1),
			percent(self.length_used.0),
			percent(self.length_used.1),
			self.node_cpu,
			self.node_rss / (1 << 20),
			self.ceilings(),
			self.graph.text()
		)
	}

	/// Included transactions per second (bars) and p50 inclusion latency (line) over the run.
	pub fn svg(&self) -> String {
		const W: f64 = 720.0;
		const H: f64 = 300.0;
		const PAD: f64 = 48.0;
		let seconds = self.timeline.last().map_or(WINDOW, |w| w.start + WINDOW) as f64;
		let max_rate = self.timeline.iter().map(|w| w.included_per_second).fold(1.0f64, f64::max);
		let max_latency =
			self.timeline.iter().map(|w| w.p50_inclusion.as_secs_f64()).fold(0.1f64, f64::max);
		let x = |s: f64| PAD + s / seconds * (W - 2.0 * PAD);
		let y = |v: f64, max: f64| H - PAD - v / max * (H - 2.0 * PAD);
		let mut svg = format!(
			"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
			 <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
			 <text x=\"{PAD}\" y=\"20\">{} on {} at {}/s offered: included per second (bars, up to {max_rate:.0}/s),</text>\n\
			 <text x=\"{PAD}\" y=\"36\">p50 submission→inclusion (line, up to {max_latency:.1} s), per {WINDOW} s</text>\n",
			self.spec.workload, self.spec.network, self.spec.rate
		);
		let bar = (W - 2.0 * PAD) / seconds * WINDOW as f64;
		for window in &self.timeline {
			let top = y(window.included_per_second, max_rate);
			let _ = writeln!(
				svg,
				"<rect x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#4a90d9\"/>",
				x(window.start as f64),
				(bar - 2.0).max(1.0),
				H - PAD - top
			);
		}
		let points: Vec<String> = self
			.timeline
			.iter()
			.map(|w| {
				let middle = w.start as f64 + WINDOW as f64 / 2.0;
				format!("{:.1},{:.1}", x(middle), y(w.p50_inclusion.as_secs_f64(), max_latency))
			})
			.collect();
		let _ = writeln!(
			svg,
			"<polyline points=\"{}\" fill=\"none\" stroke=\"#d0021b\" stroke-width=\"2\"/>",
			points.join(" ")
		);
		let _ = writeln!(
			svg,
			"<line x1=\"{PAD}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"black\"/>\n\
			 <text x=\"{PAD}\" y=\"{2}\">0 s</text><text x=\"{3}\" y=\"{2}\" text-anchor=\"end\">{seconds:.0} s</text>",
			H - PAD,
			W - PAD,
			H - PAD + 16.0,
			W - PAD
		);
		svg.push_str("</svg>\n");
		svg
	}
}

/// A results table kept in a Markdown file between `<!-- {marker}:begin -->` and
/// `<!-- {marker}:end -->`: one row per kind of run, the last run of each kind.
pub struct Table<'a> {
	/// The section's marker.
	pub marker: &'a str,
	/// The table's header and separator lines.
	pub header: &'a str,
}

impl Table<'_> {
	/// Adds `row` to the table in the file at `path` (created if missing), in place of the
	/// rows that start as `same_kind` does, and notes the command, commit, SDK and machine.
	pub fn add(&self, path: &std::path::Path, row: &str, same_kind: &str) -> std::io::Result<()> {
		let doc = std::fs::read_to_string(path).unwrap_or_else(|_| "# Performance\n".to_string());
		let mut rows: Vec<String> =
			self.rows(&doc).into_iter().filter(|r| !r.starts_with(same_kind)).collect();
		rows.push(row.to_string());
		// The harness by name, not by its path on this machine.
		let mut args = std::env::args();
		let program = args.next().unwrap_or_default();
		let name = std::path::Path::new(&program).file_name().unwrap_or_default().to_string_lossy();
		let command = std::iter::once(name.into_owned()).chain(args).collect::<Vec<_>>().join(" ");
		let section = format!(
			"Last run: `{command}`, commit {}, polkadot-sdk {}, {}.\n\n{}\n{}\n",
			commit(),
			sdk_version(),
			machine(),
			self.header,
			rows.join("\n")
		);
		std::fs::write(path, self.replace_section(&doc, &section))
	}

	/// The result rows in `doc`'s section.
	fn rows(&self, doc: &str) -> Vec<String> {
		let Some(section) = doc.split(&self.begin()).nth(1) else { return Vec::new() };
		let section = section.split(&self.end()).next().unwrap_or_default();
		section
			.lines()
			.skip_while(|l| !l.starts_with("| ---"))
			.skip(1)
			.take_while(|l| l.starts_with('|'))
			.map(String::from)
			.collect()
	}

	/// `doc` with its section (appended if it has none) replaced by `section`.
	fn replace_section(&self, doc: &str, section: &str) -> String {
		let (begin, end) = (self.begin(), self.end());
		let block = format!("{begin}\n{section}{end}");
		match (doc.find(&begin), doc.find(&end)) {
			(Some(b), Some(e)) if e > b => format!("{}{block}{}", &doc[..b], &doc[e + end.len()..]),
			_ => format!("{doc}\n{block}\n"),
		}
	}

	fn begin(&self) -> String {
		format!("<!-- {}:begin -->", self.marker)
	}

	fn end(&self) -> String {
		format!("<!-- {}:end -->", self.marker)
	}
}

/// The commit the harness runs from.
fn commit() -> String {
	std::process::Command::new("git")
		.args(["rev-parse", "--short", "HEAD"])
		.output()
		.ok()
		.and_then(|o| String::from_utf8(o.stdout).ok())
		.map_or("unknown".into(), |s| s.trim().to_string())
}

/// The Polkadot SDK release in the workspace's `Cargo.lock`.
fn sdk_version() -> String {
	let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
	lock.split("[[package]]")
		.find(|p| p.contains("name = \"polkadot-sdk\"\n"))
		.and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
		.map_or("unknown".into(), |v| v.trim_matches('"').to_string())
}

/// The machine: CPU model and count, memory.
fn machine() -> String {
	let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
	let model = cpuinfo
		.lines()
		.find_map(|l| l.strip_prefix("model name"))
		.map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
		.unwrap_or_else(|| "unknown CPU".into());
	let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
	let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
	let memory_gib = meminfo
		.lines()
		.find_map(|l| l.strip_prefix("MemTotal:"))
		.and_then(|l| l.trim().trim_end_matches(" kB").parse::<u64>().ok())
		.map_or(0, |kib| kib / (1 << 20));
	format!("{cores} × {model}, {memory_gib} GiB")
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn percentiles_pick_ranks() {
		let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
		assert_eq!(
			percentiles(samples),
			[Duration::from_millis(51), Duration::from_millis(96), Duration::from_millis(100)]
		);
		assert_eq!(percentiles(Vec::new()), [Duration::ZERO; 3]);
	}

	#[test]
	fn retracted_blocks_and_the_longest_wait_for_finality_are_found() {
		let s = Duration::from_secs;
		// Blocks 1..=4 finalized at 2, 3, 9 and 10 s; a fork's block 3 never; block 5 not yet.
		let blocks = [
			(1, Some(s(2))),
			(2, Some(s(3))),
			(3, Some(s(9))),
			(3, None),
			(4, Some(s(10))),
			(5, None),
		];
		assert_eq!(forks_and_stall(&blocks), (1, s(6)));
		assert_eq!(forks_and_stall(&[]), (0, Duration::ZERO));
	}

	#[test]
	fn the_section_is_replaced_and_the_rest_kept() {
		let table = Table { marker: "bench", header: "| a |\n| --- |" };
		let doc = "# Performance\nbefore\n<!-- bench:begin -->\nold\n<!-- bench:end -->\nafter\n";
		assert_eq!(
			table.replace_section(doc, "new\n"),
			"# Performance\nbefore\n<!-- bench:begin -->\nnew\n<!-- bench:end -->\nafter\n"
		);
		let appended = table.replace_section("# Performance\n", "new\n");
		assert!(appended.ends_with("new\n<!-- bench:end -->\n"));
		// Another table's section is not this one's.
		let other = Table { marker: "nest-bench", header: table.header };
		assert!(other.rows(doc).is_empty());
	}

	#[test]
	fn a_runs_row_replaces_the_last_of_its_kind_only() {
		let table = Table { marker: "t", header: "| kind | n |\n| --- | --- |" };
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("performance.md");
		table.add(&path, "| a | 1 |", "| a |").unwrap();
		table.add(&path, "| b | 2 |", "| b |").unwrap();
		table.add(&path, "| a | 3 |", "| a |").unwrap();
		let doc = std::fs::read_to_string(&path).unwrap();
		assert_eq!(table.rows(&doc), ["| b | 2 |", "| a | 3 |"]);
	}
}
