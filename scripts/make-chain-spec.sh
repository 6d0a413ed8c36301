#!/usr/bin/env bash
# Turns a runtime genesis preset plus an operator's own validators and endowments into a
# plain and a raw chain spec, with the node's built-in chain-spec-builder.
#
#   scripts/make-chain-spec.sh OPERATOR.json OUT_DIR [--allow-dev-keys]
#
# OPERATOR.json (see chain-specs/operator.example.json):
#   { "name", "id", "preset", "bootNodes": [...],
#     "validators": [{"account", "aura", "grandpa",        SS58 addresses
#                     "bond"?, "commissionPercent"?}],     default 1000 TIC, 10%
#     "votes"?: [[voter, stake, [validator accounts]]],    genesis votes, stakes in plancks
#     "endowments": [[address, amount-in-plancks]], "sudo": address or null }
# Validators become bonded delegate candidates, so each must be endowed with more than its
# bond; the highest backed of them are the first delegates.
#
# Keys of the well-known dev accounts (Alice, Bob, ...) are refused unless
# --allow-dev-keys is given: anyone can sign with them. The spec is a `Live` chain, or with
# --allow-dev-keys a `Local` one: the node refuses to load a Live spec that holds such a key.
set -euo pipefail
source "$(dirname "$0")/env.sh"

usage() { echo "usage: $0 OPERATOR.json OUT_DIR [--allow-dev-keys]" >&2; exit 2; }
[ $# -ge 2 ] || usage
operator="$1"
out_dir="$2"
allow_dev_keys="${3:-}"
[ -f "$operator" ] || { echo "error: operator file $operator not found" >&2; exit 2; }
[ -x "$NODE_BIN" ] || build_node
mkdir -p "$out_dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$operator" "$1"; }
name=$(field name)
id=$(field id)
preset=$(field preset)
# Any built-in chain carries the runtime; its presets are what the operator file names.
preset_chain=dev

dev_keys="$work/dev-keys.txt"
chain_type=live
if [ "$allow_dev_keys" != "--allow-dev-keys" ]; then
	for who in Alice Bob Charlie Dave Eve Ferdie; do
		for scheme in sr25519 ed25519; do
			"$NODE_BIN" key inspect --scheme "$scheme" --output-type json "//$who" |
				python3 -c 'import json,sys; print(json.load(sys.stdin)["ss58PublicKey"])'
		done
	done > "$dev_keys"
else
	: > "$dev_keys"
	chain_type=local
fi

# The runtime this node was built with, taken from its own built-in spec.
runtime="$work/runtime.wasm"
"$NODE_BIN" export-chain-spec --chain "$preset_chain" 2>/dev/null |
	python3 -c 'import json,sys; sys.stdout.buffer.write(bytes.fromhex(json.load(sys.stdin)["genesis"]["runtimeGenesis"]["code"][2:]))' \
	> "$runtime"

cli=("$NODE_BIN" chain-spec-builder)
"${cli[@]}" display-preset --runtime "$runtime" --preset-name "$preset" > "$work/preset.json"
python3 "$REPO_ROOT/scripts/operator_patch.py" patch "$work/preset.json" "$operator" "$dev_keys" \
	> "$work/patch.json"

plain="$out_dir/$id.json"
raw="$out_dir/$id-raw.json"
"${cli[@]}" --chain-spec-path "$plain" create --chain-name "$name" --chain-id "$id" -t "$chain_type" \
	--properties tokenSymbol=TIC,tokenDecimals=12,ss58Format=42 \
	--runtime "$runtime" --verify patch "$work/patch.json"
"${cli[@]}" --chain-spec-path "$raw" convert-to-raw "$plain"
python3 "$REPO_ROOT/scripts/operator_patch.py" network "$operator" "$plain" "$raw"
echo "wrote $plain and $raw"
