#!/usr/bin/env bash
# Reproduces the results table of docs/performance.md: builds the node and the load harness
# (`bench/`), runs each workload against real nodes on 127.0.0.1 and writes its row and plot.
#
#   scripts/bench.sh                  every headline run (about 70 minutes)
#   scripts/bench.sh nest ARGS...     one service-node run: thingschain-bench-nest ARGS
#   scripts/bench.sh ARGS...          one run: thingschain-bench ARGS (see --help)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"

build_node
echo "[build] cargo build --release -p thingschain-bench -p thingschain-nest"
cargo build --release --locked -p thingschain-bench -p thingschain-nest
bench=("$CARGO_TARGET_DIR/release/thingschain-bench" --node "$NODE_BIN" --report docs/performance.md)
nest=("$CARGO_TARGET_DIR/release/thingschain-bench-nest" --node "$NODE_BIN"
	--nest "$CARGO_TARGET_DIR/release/thingschain-nest" --report docs/performance.md)

if [ "${1:-}" = nest ]; then
	shift
	exec "${nest[@]}" "$@"
fi
if [ $# -gt 0 ]; then
	exec "${bench[@]}" "$@"
fi

# A service NestChain: one node alone at 20,000 records/s, then three replicating (all on
# this machine's cores, so each does the others' checking too).
"${nest[@]}" --nodes 1 --rate 20000 --duration 120
"${nest[@]}" --nodes 3 --rate 8000 --duration 60
"${nest[@]}" --nodes 3 --rate 20000 --duration 30

# The pool holds a 60-second burst at the offered rate.
pool=(--node-arg=--pool-limit=200000 --node-arg=--pool-kbytes=262144)
"${bench[@]}" "${pool[@]}" --network dev --workload transfer --rate 1000 --duration 60
"${bench[@]}" "${pool[@]}" --network dev --workload transfer --batch 50 --rate 70 --duration 60
"${bench[@]}" "${pool[@]}" --network dev --workload record --rate 500 --duration 30
"${bench[@]}" "${pool[@]}" --network dev --workload record --batch 64 --rate 50 --duration 30
# NestChain anchoring: every other node of 16-node services attests, a super node approves.
"${bench[@]}" "${pool[@]}" --network dev --workload attest --rate 500 --duration 60 --signers 16
"${bench[@]}" "${pool[@]}" --network dev --workload mix --rate 600 --duration 60
"${bench[@]}" "${pool[@]}" --network local --workload transfer --rate 300 --duration 60
# 1,000 transfers a second for five minutes on the four-delegate network, in batches of 50.
"${bench[@]}" "${pool[@]}" --network local --workload transfer --batch 50 --rate 20 --duration 300
# The block graph at short block times: the delegates' traffic delayed 0 to 700 ms each way.
for delay in 0 250 400 500 700; do
	"${bench[@]}" --network local --delay "$delay" --workload transfer --rate 100 --duration 60
done
# Overload with the pool's default limits: what does not fit is refused, nothing is lost.
"${bench[@]}" --network dev --workload transfer --rate 3000 --duration 60
