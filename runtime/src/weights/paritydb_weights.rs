//! What one read and one write of the node's `ParityDb` cost, measured on the ThingsChain
//! reference machine by `scripts/benchmark.sh` (`benchmark storage`, frame-benchmarking-cli
//! 64.0.0) on 2026-12-01 (Y/M/D): machine `vm`, CPU `Intel(R) Xeon(R) Processor`, runtime
//! `ThingsChain Development` at block Number(85), state version 1, no
//! trie cache (every read reaches the database). Do not edit by hand.

/// The database weights every pallet's weights are priced with.
pub mod constants {
	use polkadot_sdk::frame_support::{
		parameter_types,
		weights::{constants::WEIGHT_REF_TIME_PER_NANOS, RuntimeDbWeight},
	};

	parameter_types! {
		/// The node's default database (`--database paritydb`).
		pub const ParityDbWeight: RuntimeDbWeight = RuntimeDbWeight {
			// One storage item read: the *Average* over every key
			// of the state, × 1.0 + 0.
			// Min, max 1_184, 5_554_179 ns; median
			// 5_838 ns; p95 8_912 ns, p99 20_430 ns.
			read: 6_570 * WEIGHT_REF_TIME_PER_NANOS,
			// One storage item written, in commits of 1000 keys: the
			// *Average*, × 1.0 + 0.
			// Min, max 13_112, 37_016 ns; median
			// 22_191 ns; p95 27_135 ns, p99 37_016 ns.
			write: 22_304 * WEIGHT_REF_TIME_PER_NANOS,
		};
	}
}
