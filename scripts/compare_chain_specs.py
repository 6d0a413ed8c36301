"""Compares committed chain specs with freshly generated ones, the runtime code included.

Usage: compare_chain_specs.py COMMITTED_DIR FRESH_DIR FILE...
Exits 1 and names every differing field when a committed spec is stale.
"""
import json
import sys

CODE_KEY = "0x3a636f6465"  # hex of the well-known storage key ":code"


def code_of(spec):
    genesis = spec.get("genesis", {})
    return genesis.get("runtimeGenesis", {}).get("code") or genesis.get("raw", {}).get(
        "top", {}
    ).get(CODE_KEY)


def differences(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            yield from differences(a.get(key), b.get(key), f"{path}.{key}")
    elif a != b:
        yield path or "."


def main(committed_dir, fresh_dir, *files):
    stale = False
    for name in files:
        try:
            with open(f"{committed_dir}/{name}") as f:
                committed = json.load(f)
        except FileNotFoundError:
            print(f"chain-specs/{name}: missing; run scripts/generate-chain-specs.sh")
            stale = True
            continue
        with open(f"{fresh_dir}/{name}") as f:
            fresh = json.load(f)
        diffs = list(differences(committed, fresh))
        if code_of(committed) != code_of(fresh):
            # One path for the whole blob, not a diff of a megabyte of hex.
            diffs = [d for d in diffs if not d.endswith((".code", CODE_KEY))]
            diffs.insert(0, "the runtime code (the WASM blob)")
        if diffs:
            stale = True
            print(f"chain-specs/{name} is stale; run scripts/generate-chain-specs.sh. Differs at:")
            for d in diffs[:20]:
                print(f"  {d}")
        else:
            print(f"chain-specs/{name}: up to date")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
