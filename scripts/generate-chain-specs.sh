#!/usr/bin/env bash
# Writes the committed chain specs (chain-specs/{local,testnet}{,-raw}.json) from the
# runtime's genesis presets, through the node's `export-chain-spec`. The node's test
# `committed_chain_specs_match_the_runtime` fails when a committed file, the runtime's WASM
# code included (by its version and metadata), no longer matches what this writes.
set -euo pipefail
source "$(dirname "$0")/env.sh"

[ -x "$NODE_BIN" ] || build_node
out_dir="$REPO_ROOT/chain-specs"
for chain in local testnet; do
	"$NODE_BIN" export-chain-spec --chain "$chain" > "$out_dir/$chain.json" 2>/dev/null
	"$NODE_BIN" export-chain-spec --chain "$chain" --raw > "$out_dir/$chain-raw.json" 2>/dev/null
done
echo "wrote chain-specs/local.json chain-specs/local-raw.json chain-specs/testnet.json chain-specs/testnet-raw.json"
