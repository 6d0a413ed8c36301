#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and test ThingsChain.
# Idempotent: every step checks first and says what it does; safe to run again.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"

say() { printf '[setup] %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# --- system packages -------------------------------------------------------
# nodejs and npm run the Polkadot.js client tests (tests/js); a machine that already has a
# Node.js of its own (with npm) keeps it. chromium is the headless browser the explorer
# page's test (tests/browser) drives. podman, runc and mmdebstrap make and run the node's
# container image (scripts/docker.sh). iproute2 and iptables give the service nodes' fault
# test its network namespaces and partitions (node/tests/e2e/nest_faults.rs, run as root).
APT_PKGS=(protobuf-compiler clang libclang-dev lld cmake pkg-config libssl-dev make git curl ca-certificates chromium podman runc mmdebstrap iproute2 iptables)
if ! command -v npm >/dev/null; then APT_PKGS+=(nodejs npm); fi
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  say "apt: all of ${APT_PKGS[*]} already installed"
fi

# --- Rust toolchain --------------------------------------------------------
# rust-toolchain.toml pins the version, targets and components; asking rustup
# for them here makes the install explicit (and works where rustup would not
# auto-install from the toolchain file).
TOOLCHAIN=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
if ! command -v rustup >/dev/null; then
  # The official installer (https://rustup.rs), with the pinned toolchain as the default.
  say "rustup: installing it with Rust $TOOLCHAIN"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
    sh -s -- -y --no-modify-path --profile minimal --default-toolchain "$TOOLCHAIN"
  say "rustup: installed in ~/.cargo/bin (scripts/env.sh puts it on PATH)"
fi
installed_toolchains=$(rustup toolchain list)
if ! grep -q "^$TOOLCHAIN" <<<"$installed_toolchains"; then
  say "rustup: installing Rust $TOOLCHAIN"
  rustup toolchain install --profile minimal "$TOOLCHAIN"
fi
installed_targets=$(rustup target list --installed --toolchain "$TOOLCHAIN" 2>/dev/null || true)
for t in wasm32v1-none wasm32-unknown-unknown; do
  if grep -qx "$t" <<<"$installed_targets"; then
    say "rustup: target $t already installed"
  else
    say "rustup: adding target $t"
    rustup target add --toolchain "$TOOLCHAIN" "$t"
  fi
done
installed_components=$(rustup component list --installed --toolchain "$TOOLCHAIN" 2>/dev/null || true)
for c in rust-src rustfmt; do
  if grep -q "^$c" <<<"$installed_components"; then
    say "rustup: $c already installed"
  else
    say "rustup: adding component $c"
    rustup component add --toolchain "$TOOLCHAIN" "$c"
  fi
done

# --- node packages: the JS tests, the explorer and its browser test, the zombienet CLI ---
if ! command -v npm >/dev/null; then
  echo "npm is missing though apt installed nodejs and npm: install Node.js 20 or newer" >&2
  exit 1
fi
for dir in tests/js explorer tests/browser zombienet; do
  if [ -d "$dir/node_modules" ] && [ "$dir/node_modules" -nt "$dir/package-lock.json" ]; then
    say "npm: $dir dependencies up to date"
  else
    say "npm: installing $dir dependencies (package-lock.json)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$dir/node_modules"
  fi
done

say "done"
