#!/usr/bin/env bash
# Measures the weights of ThingsChain's own pallets on this machine and writes each pallet's
# `weights.rs`. Builds the node with the `runtime-benchmarks` feature first; that binary
# replaces the normal one in the target dir until the next normal `cargo build` relinks it.
#
#   scripts/benchmark.sh [pallet ...]     default: every pallet under pallets/
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"

pallets=("$@")
if [ ${#pallets[@]} -eq 0 ]; then
	for dir in pallets/*/; do pallets+=("$(basename "$dir")"); done
fi

echo "[benchmark] building the node with runtime-benchmarks"
cargo build --release --locked -p thingschain-node --features runtime-benchmarks
bench_bin="$CARGO_TARGET_DIR/release/thingschain"

for pallet in "${pallets[@]}"; do
	crate="pallet_${pallet//-/_}"
	echo "[benchmark] $crate -> pallets/$pallet/src/weights.rs"
	"$bench_bin" benchmark pallet \
		--chain dev \
		--pallet "$crate" \
		--extrinsic '*' \
		--steps 50 \
		--repeat 20 \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--template scripts/weight-template.hbs \
		--output "pallets/$pallet/src/weights.rs"
done
