#!/usr/bin/env bash
# Sets up this machine if needed, builds everything and runs every test:
# pallet unit and property tests, runtime tests, node end-to-end tests (real binary,
# JSON-RPC) including the chain-spec checks, the pallet benchmarks on their mocks, the
# try-runtime build, the device core's no_std build and the Polkadot.js client test.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/scripts/setup.sh"

step() { printf '\n=== %s\n' "$*"; }

step "the code is formatted (rustfmt.toml)"
cargo fmt --all --check

step "build and run the Rust tests (release: the node tests run the real binary)"
cargo test --release --locked --workspace

step "every pallet benchmark runs on its mock runtime"
cargo test --release --locked -p pallet-aura-equivocation -p pallet-devices -p pallet-dpos -p pallet-nest-anchor \
	-p pallet-nest-peg -p pallet-payloads -p pallet-service-registry --features runtime-benchmarks

step "the device core builds for a small device: no_std, no networking (wasm32v1-none)"
cargo check --release --locked -p thingschain-device-core --no-default-features --target wasm32v1-none

step "the runtime compiles with try-runtime"
SKIP_WASM_BUILD=1 cargo check --release --locked -p thingschain-runtime --features try-runtime

step "Polkadot.js client against a real node"
(cd tests/js && NODE_BIN="$NODE_BIN" npm test)

step "all tests passed"
