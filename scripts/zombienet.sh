#!/usr/bin/env bash
# Runs a ThingsChain network or test with zombienet's native provider and the pinned CLI
# (zombienet/package.json, installed on first use):
#   scripts/zombienet.sh spawn [NETWORK.toml]   # default zombienet/local.toml; Ctrl-C stops it
#   scripts/zombienet.sh test  [TEST.zndsl]     # default zombienet/local.zndsl
# The node binary is $THINGSCHAIN_BIN, by default the release build (built here if missing).
# Every process zombienet starts listens on 127.0.0.1 and stops with it.
set -euo pipefail
source "$(dirname "$0")/env.sh"

usage() {
	sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
command=${1:-}
case "$command" in
spawn) file=${2:-$REPO_ROOT/zombienet/local.toml} ;;
test) file=${2:-$REPO_ROOT/zombienet/local.zndsl} ;;
*) usage ;;
esac
file=$(realpath "$file")

zombienet_dir="$REPO_ROOT/zombienet"
if [ ! -d "$zombienet_dir/node_modules" ] || [ "$zombienet_dir/package-lock.json" -nt "$zombienet_dir/node_modules" ]; then
	echo "[zombienet] installing the pinned CLI (zombienet/package-lock.json)"
	(cd "$zombienet_dir" && npm ci --no-audit --no-fund --loglevel=error)
	touch "$zombienet_dir/node_modules"
fi

export THINGSCHAIN_BIN="${THINGSCHAIN_BIN:-$NODE_BIN}"
if [ ! -x "$THINGSCHAIN_BIN" ]; then build_node; fi

# zombienet keeps the network's specs, keys, databases and node logs here: a spawned network's
# stay to look at, a test's are removed when it passes and kept (the path is printed) when it
# fails.
work=$(mktemp -d "${TMPDIR:-/tmp}/thingschain-zombienet.XXXXXX")
echo "[zombienet] $command $file (node: $THINGSCHAIN_BIN, files: $work)"
cd "$zombienet_dir"
zombienet=(node_modules/.bin/zombienet --provider native --logType "${ZOMBIENET_LOG:-table}" --dir "$work" --force)
if [ "$command" = spawn ]; then exec "${zombienet[@]}" spawn "$file"; fi
if "${zombienet[@]}" test "$file"; then
	rm -rf "$work"
else
	status=$?
	echo "[zombienet] the test failed; the nodes' logs are in $work/logs" >&2
	exit "$status"
fi
