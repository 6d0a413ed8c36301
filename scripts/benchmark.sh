#!/usr/bin/env bash
# Measures on this machine everything the runtime's weights are made of, and writes it:
#
#   pallets/<name>/src/weights.rs       ThingsChain's pallets           benchmark pallet
#   runtime/src/weights/<pallet>.rs      the SDK pallets it configures   benchmark pallet
#   runtime/src/weights/block_weights.rs, extrinsic_weights.rs
#                                        an empty block, a transaction's
#                                        base cost                       benchmark overhead
#   runtime/src/weights/paritydb_weights.rs
#                                        a read and a write of the node's
#                                        database, on a loaded state     benchmark storage
#
# Builds the node with the `runtime-benchmarks` feature first; that binary replaces the
# normal one in the target dir until the next normal `cargo build` relinks it.
#
#   scripts/benchmark.sh [what ...]    default: everything; `what` is a folder under pallets/,
#                                      an SDK pallet below, `overhead` or `storage`
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"

# The SDK pallets whose calls users make here (their benchmarks are listed in
# runtime/src/benchmarks.rs). Not yet pallet_identity: its benchmarks take over half an hour
# on this machine, so the runtime still prices it with the SDK's reference weights.
sdk_pallets=(frame_system frame_system_extensions pallet_balances pallet_timestamp
	pallet_transaction_payment pallet_utility pallet_multisig pallet_proxy pallet_sudo
	pallet_preimage pallet_scheduler pallet_referenda pallet_conviction_voting pallet_collective
	pallet_whitelist)

what=("$@")
if [ ${#what[@]} -eq 0 ]; then
	for dir in pallets/*/; do what+=("$(basename "$dir")"); done
	what+=("${sdk_pallets[@]}" overhead storage)
fi

echo "[benchmark] building the node with runtime-benchmarks"
cargo build --release --locked -p thingschain-node --features runtime-benchmarks
bench_bin="$CARGO_TARGET_DIR/release/thingschain"
weights=runtime/src/weights

# `benchmark pallet` for `crate`, written through `template` to `output`.
pallet() {
	local crate=$1 template=$2 output=$3
	echo "[benchmark] $crate -> $output"
	"$bench_bin" benchmark pallet --chain dev --pallet "$crate" --extrinsic '*' \
		--steps 50 --repeat 20 --wasm-execution compiled --heap-pages 4096 \
		--template "$template" --output "$output"
}

# `benchmark overhead` has a fixed template: it names the SDK's crates, which the runtime
# reaches through the umbrella's `frame_support`, and adds unit tests of the values, which
# would never run (the runtime crate has no unit-test target; its tests are in runtime/tests/).
tidy_generated() {
	sed -i -E \
		-e 's/use sp_core::parameter_types;/use polkadot_sdk::frame_support::parameter_types;/' \
		-e 's/use sp_weights::/use polkadot_sdk::frame_support::weights::/' \
		-e '/^#\[cfg\(test\)\]$/,/^}$/d' \
		"$@"
	# The removed tests leave a blank line at the end.
	local file
	for file in "$@"; do printf '%s\n' "$(cat "$file")" >"$file"; done
}

# A dev chain's database after a minute of mixed load from the harness: thousands of funded
# accounts, devices and their records (~38,000 keys), so reads and writes walk a trie of
# realistic depth. Writes are timed in commits of 1,000 keys, about what a full block writes.
loaded_state() {
	local dir=$1
	echo "[benchmark] loading a dev chain's state with the harness"
	cargo build --release --locked -p thingschain-bench
	"$CARGO_TARGET_DIR/release/thingschain-bench" --node "$bench_bin" --network dev \
		--workload mix --rate 300 --duration 60 --signers 4096 --keep "$dir"
}

for item in "${what[@]}"; do
	case "$item" in
	overhead)
		echo "[benchmark] overhead -> $weights/{block,extrinsic}_weights.rs"
		"$bench_bin" benchmark overhead --chain dev --wasm-execution compiled \
			--header scripts/weights-header.txt --weight-path "$weights"
		tidy_generated "$weights/block_weights.rs" "$weights/extrinsic_weights.rs"
		;;
	storage)
		state=$(mktemp -d)
		trap 'rm -rf "$state"' EXIT
		loaded_state "$state"
		echo "[benchmark] storage -> $weights/paritydb_weights.rs"
		"$bench_bin" benchmark storage --dev --base-path "$state/dev" --database paritydb \
			--state-version 1 --batch-size 1000 --template-path scripts/db-weight-template.hbs \
			--weight-path "$weights/paritydb_weights.rs"
		;;
	frame_* | pallet_*)
		pallet "$item" scripts/sdk-weight-template.hbs "$weights/$item.rs"
		;;
	*)
		pallet "pallet_${item//-/_}" scripts/weight-template.hbs "pallets/$item/src/weights.rs"
		;;
	esac
done
