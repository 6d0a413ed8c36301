#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and test ThingsChain.
# Idempotent: every step checks first and says what it does; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# --- system packages -------------------------------------------------------
APT_PKGS=(protobuf-compiler clang libclang-dev lld cmake pkg-config libssl-dev make git curl)
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
if ! command -v rustup >/dev/null; then
  echo "rustup is required (https://rustup.rs); install it and run this script again" >&2
  exit 1
fi
TOOLCHAIN=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
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

# --- node packages for the JS end-to-end tests ------------------------------
if [ -f tests/js/package.json ]; then
  if command -v npm >/dev/null; then
    if [ -d tests/js/node_modules ] && [ tests/js/node_modules -nt tests/js/package-lock.json ]; then
      say "npm: tests/js dependencies up to date"
    else
      say "npm: installing tests/js dependencies"
      (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
      touch tests/js/node_modules
    fi
  else
    say "npm not found: the JS client tests will be skipped"
  fi
fi

say "done"
