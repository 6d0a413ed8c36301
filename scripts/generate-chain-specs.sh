#!/usr/bin/env bash
# Writes the committed chain specs (chain-specs/{local,testnet}{,-raw}.json) from the
# runtime's genesis presets, through the node's `export-chain-spec`.
#
#   scripts/generate-chain-specs.sh           regenerate the files
#   scripts/generate-chain-specs.sh --check   fail if a committed file no longer matches
#
# The check compares everything but the runtime code itself: the WASM bytes embed the
# build's source paths, so two correct builds in different folders differ there.
set -euo pipefail
source "$(dirname "$0")/env.sh"

mode="${1:-write}"
[ -x "$NODE_BIN" ] || build_node
out_dir="$REPO_ROOT/chain-specs"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for chain in local testnet; do
	"$NODE_BIN" export-chain-spec --chain "$chain" > "$work/$chain.json" 2>/dev/null
	"$NODE_BIN" export-chain-spec --chain "$chain" --raw > "$work/$chain-raw.json" 2>/dev/null
done

if [ "$mode" = "--check" ]; then
	python3 "$REPO_ROOT/scripts/compare_chain_specs.py" "$out_dir" "$work" \
		local.json local-raw.json testnet.json testnet-raw.json
else
	cp "$work"/*.json "$out_dir/"
	echo "wrote $(cd "$work" && ls ./*.json | sed 's|^\./|chain-specs/|' | tr '\n' ' ')"
fi
