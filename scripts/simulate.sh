#!/usr/bin/env bash
# The service nodes' deterministic simulation (nest/src/agreement/simulation.rs) over many
# seeds: `scripts/simulate.sh [FROM..TO [TESTS]]` (default 0..5000, about 25 minutes here; TESTS
# filters the tests by name, by default the fault plans' test alone).
# scripts/test.sh runs seeds 0..200. A failing seed prints the command that replays it exactly;
# add RUST_LOG=agreement=debug to that command to see what the nodes did.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"

# The service node's unit tests as the workspace's test build makes them (the lib's artifact
# with an executable): `cargo test -p thingschain-nest` would resolve the shared crates'
# features for that crate alone and compile it once more (about 3 minutes).
tests=$(cargo test --release --locked --workspace --no-run --message-format=json-render-diagnostics |
	grep '"reason":"compiler-artifact"' | grep '"name":"thingschain_nest"' | grep '"kind":\["lib"\]' |
	sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | head -n 1 || true)
[ -n "$tests" ] || { echo "simulate.sh: the workspace build made no unit tests of thingschain-nest" >&2; exit 1; }
THINGSCHAIN_SIM_SEEDS="${1:-0..5000}" "$tests" \
	"${2:-agreement::simulation::a_service_stays_safe_and_live_under_every_fault_plan}"
