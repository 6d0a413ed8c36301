"""Helpers of make-chain-spec.sh.

  operator_patch.py patch PRESET.json OPERATOR.json DEV_KEYS.txt
      prints the genesis patch: the preset with the operator's validators (bonded delegate
      candidates), genesis votes, endowments and sudo key; fails when a key is a well-known
      dev key listed in DEV_KEYS.txt or a validator cannot pay its bond.
  operator_patch.py network OPERATOR.json SPEC.json...
      sets the operator's boot nodes and the ThingsChain protocol id in each spec.
"""
import json
import sys

TIC = 10**12
# The runtime's MinCandidateBond.
DEFAULT_BOND = 1_000 * TIC
DEFAULT_COMMISSION_PERCENT = 10
PERBILL_PER_PERCENT = 10_000_000


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def genesis_patch(preset_path, operator_path, dev_keys_path):
    with open(preset_path) as f:
        patch = json.load(f)
    with open(operator_path) as f:
        operator = json.load(f)
    with open(dev_keys_path) as f:
        dev_keys = {line.strip() for line in f if line.strip()}

    validators = operator.get("validators") or fail("operator file lists no validators")
    keys = []
    for i, v in enumerate(validators):
        missing = [k for k in ("account", "aura", "grandpa") if not v.get(k)]
        if missing:
            fail(f"validator {i} lacks {', '.join(missing)}")
        for role in ("account", "aura", "grandpa"):
            if v[role] in dev_keys:
                fail(f"validator {i} {role} key {v[role]} is a well-known dev key "
                     "(pass --allow-dev-keys for a throwaway network)")
        keys.append([v["account"], v["account"], {"aura": v["aura"], "grandpa": v["grandpa"]}])

    endowments = operator.get("endowments", [])
    for entry in endowments:
        if not (isinstance(entry, list) and len(entry) == 2 and int(entry[1]) > 0):
            fail(f"endowment {entry!r} is not [address, positive amount]")

    endowed = {}
    for address, amount in endowments:
        endowed[address] = endowed.get(address, 0) + int(amount)
    candidates = []
    for i, v in enumerate(validators):
        bond = int(v.get("bond", DEFAULT_BOND))
        if endowed.get(v["account"], 0) <= bond:
            fail(f"validator {i} ({v['account']}) is not endowed with more than its bond {bond}")
        commission = int(v.get("commissionPercent", DEFAULT_COMMISSION_PERCENT))
        if not 0 <= commission <= 100:
            fail(f"validator {i} commissionPercent {commission} is not 0..100")
        candidates.append([v["account"], bond, commission * PERBILL_PER_PERCENT])
    voters = []
    for entry in operator.get("votes", []):
        if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[2], list)):
            fail(f"vote {entry!r} is not [address, stake, [candidate addresses]]")
        voters.append([entry[0], int(entry[1]), entry[2]])

    patch.setdefault("session", {})["keys"] = keys
    patch.setdefault("balances", {})["balances"] = [[a, int(v)] for a, v in endowments]
    dpos = patch.setdefault("dpos", {})
    dpos["candidates"] = candidates
    dpos["voters"] = voters
    sudo = operator.get("sudo")
    if sudo in dev_keys:
        fail(f"sudo key {sudo} is a well-known dev key")
    patch.setdefault("sudo", {})["key"] = sudo
    json.dump(patch, sys.stdout, indent=2)


def set_network(operator_path, *spec_paths):
    with open(operator_path) as f:
        operator = json.load(f)
    for path in spec_paths:
        with open(path) as f:
            spec = json.load(f)
        spec["bootNodes"] = operator.get("bootNodes", [])
        spec["protocolId"] = "thingschain"
        with open(path, "w") as f:
            json.dump(spec, f, indent=2)


if __name__ == "__main__":
    command, *args = sys.argv[1:] or [""]
    if command == "patch" and len(args) == 3:
        genesis_patch(*args)
    elif command == "network" and len(args) >= 2:
        set_network(*args)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
