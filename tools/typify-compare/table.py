#!/usr/bin/env python3
"""The construct-by-construct table of the README: typify 0.7 (from results.json, made by
run.sh) beside biolm-codegen (every construct generates and compiles, checked by
tests/constructs_roundtrip.rs, whose known gaps are listed in
tests/data/constructs_roundtrip_known.txt).

    python3 tools/typify-compare/table.py > /tmp/table.md
"""
import json
from pathlib import Path

root = Path(__file__).resolve().parents[2]
results = json.loads((root / "tools/typify-compare/results.json").read_text())
labels = json.loads((root / "corpus/constructs/labels.json").read_text())
known = {}
for line in (root / "tests/data/constructs_roundtrip_known.txt").read_text().splitlines():
    line = line.strip()
    if line and not line.startswith("#"):
        key = line.split("#", 1)[0].strip()
        construct, case = key.split("/", 1)
        known.setdefault(construct, []).append(case)
cases = {}
for l in labels:
    if l["expressible"] and not l["case"].startswith("wrapper-"):
        cases[l["construct"]] = cases.get(l["construct"], 0) + 1


def typify(side):
    conv = side["converted"]
    if conv["generate"] != "ok":
        return "panics" if conv["generate"].startswith("panic") else "error"
    return "yes" if conv.get("compile") == "ok" else "does not compile"


rows = []
ours_all = typify_all = 0
for c in sorted(results["constructs"], key=lambda c: c["construct"]):
    name = c["construct"]
    req, resp = typify(c["request"]), typify(c["response"])
    t_ok = req == "yes" and resp == "yes"
    typify_all += t_ok
    gaps = known.get(name, [])
    n = cases.get(name, 0)
    ours = f"yes, {n - len(gaps)}/{n} cases" + (f" ({', '.join(gaps)}: i64)" if gaps else "")
    ours_all += 1
    rows.append(f"| `{name}` | {req} | {resp} | {ours} |")
print(
    f"typify 0.7 turns both schemas of {typify_all} of {len(rows)} constructs into code that "
    f"compiles; biolm-codegen all {ours_all}.\n"
)
print("| construct | typify 0.7: request | typify 0.7: response | biolm-codegen: generates, compiles, round-trips (typed cases through the sandbox) |")
print("|---|---|---|---|")
print("\n".join(rows))
