#!/usr/bin/env python3
"""Compares `biolm run SLUG ACTION -i ITEMS --params-file P --dry-run` with the
validator's `check_body` verdict on the bodies of corpus/server/ the CLI can express
(items and params only, not batch-size cases). Reports each body where they differ.

The `check_body` verdict is read from the committed data: the server's label, flipped
for the bodies listed in known_disagreements.txt (`catalog/tests/server_labels.rs`
asserts that list is exactly where the validator and the server differ).

    python3 corpus/server/cli_dry_run.py [--biolm target/debug/biolm] [--every N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--biolm", default=str(HERE.parent.parent / "target/debug/biolm"))
    ap.add_argument("--every", type=int, default=1, help="check every Nth body")
    args = ap.parse_args()
    bodies = [json.loads(line) for line in open(HERE / "bodies.jsonl", encoding="utf-8")]
    labels = {json.loads(line)["id"]: json.loads(line) for line in open(HERE / "labels.jsonl", encoding="utf-8")}
    known = {
        line.strip()
        for line in open(HERE / "known_disagreements.txt", encoding="utf-8")
        if line.strip() and not line.startswith("#")
    }
    work = Path(tempfile.mkdtemp(prefix="cli-dry-run-"))
    compared = 0
    differ: Counter = Counter()
    try:
        for i, b in enumerate(bodies):
            body = b["body"]
            if i % args.every or b["category"] == "batch-size" or not isinstance(body, dict):
                continue
            items = body.get("items")
            if set(body) - {"items", "params"} or not isinstance(items, list) or not items:
                continue
            if not all(isinstance(it, dict) for it in items):
                continue
            check_body = labels[b["id"]]["valid"] != (b["id"] in known)
            (work / "in.jsonl").write_text("".join(json.dumps(it) + "\n" for it in items))
            cmd = [args.biolm, "run", b["slug"], b["action"], "-i", str(work / "in.jsonl"), "--dry-run", "-q"]
            if "params" in body:
                (work / "p.json").write_text(json.dumps(body["params"]))
                cmd += ["--params-file", str(work / "p.json")]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            cli = proc.returncode == 0
            compared += 1
            if cli != check_body:
                tail = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
                print(f"{b['id']} [{b['category']}]: dry run {'passes' if cli else 'fails'}, "
                      f"check_body {'passes' if check_body else 'fails'}: {tail[:160]}")
                differ[(b["id"].split("/")[-1], cli)] += 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"compared {compared} bodies; dry run and check_body differ on {sum(differ.values())}: "
          + ", ".join(f"{tag} ({'dry run passes' if cli else 'dry run fails'}): {n}"
                      for (tag, cli), n in differ.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
