#!/usr/bin/env bash
# Sets up this machine if needed, builds the node and starts a single-node development
# chain with RPC on ws://127.0.0.1:9944. Extra arguments go to the node.
set -euo pipefail
source "$(dirname "$0")/env.sh"

"$REPO_ROOT/scripts/setup.sh"
build_node

cat <<MSG

ThingsChain dev chain: RPC on ws://127.0.0.1:9944
Open Polkadot.js Apps: https://polkadot.js.org/apps/?rpc=ws://127.0.0.1:9944
State is temporary (--dev implies --tmp); stop with Ctrl-C.

MSG
exec "$NODE_BIN" --dev --rpc-port 9944 "$@"
