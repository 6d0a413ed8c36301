"""Compares committed chain specs with freshly generated ones, ignoring the runtime code.

Usage: compare_chain_specs.py COMMITTED_DIR FRESH_DIR FILE...
Exits 1 and names every differing field when a committed spec is stale.
"""
import json
import sys

CODE_KEY = "0x3a636f6465"  # hex of the well-known storage key ":code"


def without_code(spec):
    genesis = spec.get("genesis", {})
    genesis.get("runtimeGenesis", {}).pop("code", None)
    genesis.get("raw", {}).get("top", {}).pop(CODE_KEY, None)
    return spec


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
                committed = without_code(json.load(f))
        except FileNotFoundError:
            print(f"chain-specs/{name}: missing; run scripts/generate-chain-specs.sh")
            stale = True
            continue
        with open(f"{fresh_dir}/{name}") as f:
            fresh = without_code(json.load(f))
        diffs = list(differences(committed, fresh))
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
