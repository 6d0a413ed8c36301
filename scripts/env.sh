# Sourced by the other scripts: one place for paths every script agrees on.
# shellcheck shell=bash

# Where rustup installs cargo (scripts/setup.sh installs it there on a bare machine).
case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) export PATH="$HOME/.cargo/bin:$PATH" ;; esac
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The build lives outside the checkout so fresh clones (CI) reuse earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/thingschain/target}"
# Tests point NODE_BIN at the binary cargo built for them.
NODE_BIN="${NODE_BIN:-$CARGO_TARGET_DIR/release/thingschain}"
export REPO_ROOT NODE_BIN

build_node() {
	echo "[build] cargo build --release -p thingschain-node (target: $CARGO_TARGET_DIR)"
	(cd "$REPO_ROOT" && cargo build --release --locked -p thingschain-node)
}
