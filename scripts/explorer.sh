#!/usr/bin/env bash
# Serves the ThingsChain explorer page (explorer/) on 127.0.0.1, building it first if needed:
#   scripts/explorer.sh [--rpc ws://HOST:PORT] [--port N]
# The page watches the node at --rpc (default ws://127.0.0.1:9944, the dev node scripts/dev.sh
# runs); it is served on --port (default 8080, 0 for a free one). Ctrl-C stops it.
set -euo pipefail
source "$(dirname "$0")/env.sh"

usage() {
	sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
serve_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--rpc | --port)
		[ $# -ge 2 ] || usage
		serve_args+=("$1" "$2")
		shift 2
		;;
	*) usage ;;
	esac
done

cd "$REPO_ROOT/explorer"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
	echo "[explorer] installing the pinned dependencies (explorer/package-lock.json)"
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules
fi
# Rebuilt when the bundle is missing or older than a source or the lock file.
if [ ! -f dist/explorer.js ] || [ -n "$(find src package-lock.json -newer dist/explorer.js)" ]; then
	echo "[explorer] building dist/explorer.js"
	npm run --silent build
fi
exec node serve.mjs "${serve_args[@]}"
