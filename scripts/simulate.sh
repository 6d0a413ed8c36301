#!/usr/bin/env bash
# The service nodes' deterministic simulation (nest/src/agreement/simulation.rs) over many
# seeds: `scripts/simulate.sh [FROM..TO]` (default 0..5000, about 25 minutes here).
# scripts/test.sh runs seeds 0..200. A failing seed prints the command that replays it exactly;
# add RUST_LOG=agreement=debug to that command to see what the nodes did.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"

THINGSCHAIN_SIM_SEEDS="${1:-0..5000}" cargo test --release --locked -p thingschain-nest \
	agreement::simulation::a_service_stays_safe_and_live_under_every_fault_plan
