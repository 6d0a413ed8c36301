//! What each device's stored records were checked against ([`Terms`]), by runs of sequences:
//! the records under a proposal are checked again at its WebChain block only when the
//! registry there differs from what they passed (rare: a device re-keyed, suspended or
//! removed, a reader revoked, a destination closed), so a signature is verified once on the
//! common path. Kept in memory: after a restart each record held is checked again, once.
//!
//! ```text
//!  device 7:  sequence 0 ───── 40 ────────── 95 ──── (next 120)
//!             unknown (before   terms A        terms B (re-keyed at some block)
//!             a restart)
//!  under(7, 40..95, A) = true   under(7, 90..100, B) = false   under(7, 0..10, _) = false
//! ```

use crate::devices::Terms;
use std::{
	collections::{BTreeMap, HashMap},
	ops::Range,
	sync::{Mutex, MutexGuard},
};
use thingschain_primitives::ids::DeviceId;

/// Runs of one device's sequences: each key starts a run that lasts to the next key (the
/// last to the device's end), under the terms it names, or unknown (`None`).
type Runs = BTreeMap<u64, Option<Terms>>;

/// The terms the run holding `sequence` was checked under, if known.
fn covering(runs: &Runs, sequence: u64) -> Option<&Terms> {
	runs.range(..=sequence).next_back().and_then(|(_, terms)| terms.as_ref())
}

/// What each device's stored records were checked against.
#[derive(Default)]
pub struct CheckedUnder {
	devices: Mutex<HashMap<DeviceId, Runs>>,
}

impl CheckedUnder {
	fn lock(&self) -> MutexGuard<'_, HashMap<DeviceId, Runs>> {
		self.devices.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// Records were appended, each its device's next, after passing under their terms (none:
	/// taken unchecked).
	pub fn appended<'a>(
		&self,
		records: impl IntoIterator<Item = (DeviceId, u64, Option<&'a Terms>)>,
	) {
		let mut devices = self.lock();
		for (device, sequence, terms) in records {
			let runs = devices.entry(device).or_default();
			if covering(runs, sequence) != terms {
				runs.insert(sequence, terms.cloned());
			}
		}
	}

	/// Whether every record of `device` in `sequences` passed under `terms`.
	pub fn all_under(&self, device: DeviceId, sequences: Range<u64>, terms: &Terms) -> bool {
		let devices = self.lock();
		let Some(runs) = devices.get(&device) else { return false };
		covering(runs, sequences.start) == Some(terms)
			&& runs.range(sequences).all(|(_, under)| under.as_ref() == Some(terms))
	}

	/// The records of `device` in `sequences` passed under `terms`, checked again.
	pub fn mark(&self, device: DeviceId, sequences: Range<u64>, terms: Terms) {
		let mut devices = self.lock();
		let runs = devices.entry(device).or_default();
		let after = covering(runs, sequences.end).cloned();
		let inside: Vec<u64> = runs.range(sequences.clone()).map(|(&key, _)| key).collect();
		for key in inside {
			runs.remove(&key);
		}
		runs.insert(sequences.start, Some(terms));
		runs.insert(sequences.end, after);
	}

	/// Forgets the runs below each device's end in `ends`: records the agreement ordered are
	/// never checked again.
	pub fn forget_below(&self, ends: &BTreeMap<DeviceId, u64>) {
		self.lock().retain(|device, runs| {
			let Some(&end) = ends.get(device) else { return true };
			// Nothing below the end (the common case): no run to split off.
			if runs.keys().next().is_some_and(|&first| first >= end) {
				return runs.values().any(Option::is_some);
			}
			let kept = covering(runs, end).cloned();
			*runs = runs.split_off(&end);
			runs.entry(end).or_insert(kept);
			runs.values().any(Option::is_some)
		});
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{devices::DeviceEntry, fixtures::member};
	use std::sync::Arc;

	fn terms(key: u8) -> Terms {
		let entry: DeviceEntry = member([key; 32], [9; 32]);
		Terms { entry: Arc::new(entry), destinations: Arc::new(vec![4]) }
	}

	#[test]
	fn runs_follow_appends_and_checks_again() {
		let (a, b) = (terms(1), terms(2));
		let checked = CheckedUnder::default();
		checked.appended((40..95).map(|sequence| (7, sequence, Some(&a))));
		checked.appended((95..120).map(|sequence| (7, sequence, Some(&b))));
		assert!(checked.all_under(7, 40..95, &a));
		assert!(checked.all_under(7, 95..120, &b));
		assert!(!checked.all_under(7, 90..100, &b));
		assert!(!checked.all_under(7, 0..10, &a), "before the first append: unknown");
		assert!(!checked.all_under(8, 40..41, &a), "another device");
		// Checked again under b: 40..60 now b, 60..95 still a.
		checked.mark(7, 40..60, b.clone());
		assert!(checked.all_under(7, 40..60, &b));
		assert!(checked.all_under(7, 60..95, &a));
		assert!(!checked.all_under(7, 50..70, &b));
		// An unknown stretch checked: known from then on, up to what follows it.
		checked.mark(7, 0..40, a.clone());
		assert!(checked.all_under(7, 0..40, &a));
		assert!(checked.all_under(7, 40..60, &b));
	}

	#[test]
	fn forgetting_keeps_the_run_an_end_falls_in() {
		let (a, b) = (terms(1), terms(2));
		let checked = CheckedUnder::default();
		checked.appended((0..50).map(|sequence| (7, sequence, Some(&a))));
		checked.appended((50..60).map(|sequence| (7, sequence, Some(&b))));
		checked.appended([(7, 60, None)]);
		assert!(!checked.all_under(7, 55..61, &b), "an unchecked record");
		checked.mark(8, 0..10, a.clone());
		checked.forget_below(&BTreeMap::from([(7, 45), (8, 10)]));
		assert!(checked.all_under(7, 45..50, &a));
		assert!(checked.all_under(7, 50..60, &b));
		assert!(!checked.all_under(7, 40..45, &a));
		assert!(!checked.lock().contains_key(&8), "all ordered, none known beyond: dropped");
	}
}
