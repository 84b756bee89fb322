"""Drive one of BioLM's Python clients against a local sandbox, for benches/compare.py.

usage: py_client.py {biolm-sdk|biolmai} FASTA BASE_URL

Runs inside the client's own virtualenv. Prints one JSON line on stdout:
{"client": ..., "items": N, "results": N, "errors": N, "wall_s": ...}.
"""
import json
import os
import sys
import time


def read_fasta(path):
    seqs, cur = [], []
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if line.startswith(">"):
                if cur:
                    seqs.append("".join(cur))
                cur = []
            elif line:
                cur.append(line)
    if cur:
        seqs.append("".join(cur))
    return seqs


def main():
    which, fasta, base = sys.argv[1], sys.argv[2], sys.argv[3]
    if which == "biolm-sdk":
        # biolm-sdk 1.7.0 looks schemas up on the hosted platform whatever the base URL;
        # point that module variable at the sandbox so it learns the batch limit (8).
        import biolm.core.http as http

        http._PLATFORM_API_URL = base
    from biolmai import BioLMApi

    seqs = read_fasta(fasta)
    items = [{"sequence": s} for s in seqs]
    api = BioLMApi("esm2-8m")
    start = time.perf_counter()
    results = api.encode(items=items)
    wall = time.perf_counter() - start
    errors = sum(1 for r in results if isinstance(r, dict) and ("error" in r) and "embeddings" not in r)
    print(json.dumps({"client": which, "items": len(items), "results": len(results), "errors": errors, "wall_s": wall}))


if __name__ == "__main__":
    sys.exit(main())
