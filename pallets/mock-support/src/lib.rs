//! What the pallets' mock runtimes share (a dev-dependency of each pallet).

use polkadot_sdk::{sp_io::TestExternalities, sp_runtime::TryRuntimeError};

/// A pallet's invariant check: its `do_try_state`, which its `try_state` hook also runs.
pub type Invariants = fn() -> Result<(), TryRuntimeError>;

/// Externalities of a test whose every [`CheckedExt::execute_with`] ends by checking the
/// pallet's invariants, so each test also shows the pallet keeps them.
pub struct CheckedExt {
	ext: TestExternalities,
	invariants: Invariants,
}

impl CheckedExt {
	/// `ext`, checked by `invariants` after each test run on it.
	pub fn new(ext: TestExternalities, invariants: Invariants) -> Self {
		Self { ext, invariants }
	}

	/// Runs `test`, then checks the invariants; panics with the one broken.
	pub fn execute_with<R>(&mut self, test: impl FnOnce() -> R) -> R {
		let invariants = self.invariants;
		self.ext.execute_with(|| {
			let result = test();
			if let Err(broken) = invariants() {
				panic!("the test leaves an invariant broken: {broken:?}");
			}
			result
		})
	}
}
