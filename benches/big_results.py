#!/usr/bin/env python3
"""Big results side by side (issue 14): esm2-650m encode with per-residue
embeddings (1,280 floats a residue), proteins of 50-300 residues, the sandbox
as its own process, 16 requests in flight.

Run from the repository root after `cargo build --release -p biolm-cli`:

    python3 benches/big_results.py                  # 200 and 2,000 proteins, and Python biolm-sdk at 200
    python3 benches/big_results.py --skip-python    # the biolm runs only

Runs, one after another, each under GNU time (client CPU = user+sys, peak RSS):
`biolm run ... -o X.jsonl`, `-o X.parquet`, `--output-format npy` and `-o X.npz` at 200
and 2,000 proteins (`--sizes`, `--formats` to pick; each file is measured and
removed: at 2,000 proteins the JSONL is about 3 GB), and Python `biolm-sdk` 1.7.0 (pinned, in
target/bench/venv-biolm-sdk, `output="disk"`) at 200. Reports the sizes
of the files, client CPU per GB of response JSON (the JSONL's size stands for
it) written to Parquet, and the peak-memory ratio of the 2,000 run to the
200 run. Results go to stdout and target/bench/big_results.json.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import ROOT, OUT, ensure_venv, free_port, http_json, log, peak_rss_of, write_fasta  # noqa: E402

BIOLM = os.path.join(ROOT, "target", "release", "biolm")
PARAMS = '{"include": ["per_residue"]}'

PY_DRIVER = r'''
import json, sys, time
import biolm.core.http as http
http._PLATFORM_API_URL = sys.argv[3]
from biolmai import BioLMApi
seqs, cur = [], []
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith(">"):
        if cur: seqs.append("".join(cur))
        cur = []
    elif line:
        cur.append(line)
if cur: seqs.append("".join(cur))
api = BioLMApi("esm2-650m")
t = time.perf_counter()
api.encode(items=[{"sequence": s} for s in seqs], params={"include": ["per_residue"]}, output="disk", file_path=sys.argv[2])
print(json.dumps({"items": len(seqs), "wall_s": time.perf_counter() - t}))
'''


class Sandbox:
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen([BIOLM, "sandbox", "serve", "--port", str(self.port), "--no-gzip"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.root = f"http://127.0.0.1:{self.port}"
        self.base = f"{self.root}/api/v3"
        deadline = time.time() + 30
        while True:
            try:
                http_json(f"{self.root}/health")
                return
            except Exception:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("the sandbox did not start")
                time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def size(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
    return os.path.getsize(path) if os.path.exists(path) else 0


def rm(path):
    if os.path.isdir(path):
        for f in os.listdir(path):
            os.remove(os.path.join(path, f))
        os.rmdir(path)
    elif os.path.exists(path):
        os.remove(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="200,2000")
    ap.add_argument("--skip-python", action="store_true")
    ap.add_argument("--formats", default="jsonl,parquet,npy,npz")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    sandbox = Sandbox()
    rows = []
    try:
        for n in [int(x) for x in args.sizes.split(",")]:
            fasta = os.path.join(OUT, f"big-{n}.fasta")
            write_fasta(fasta, n, seed=14)
            for fmt, out, extra in [("jsonl", f"big-{n}.jsonl", []), ("parquet", f"big-{n}.parquet", []),
                                    ("npy", f"big-{n}-npy", ["--output-format", "npy"]), ("npz", f"big-{n}.npz", [])]:
                if fmt not in args.formats.split(","):
                    continue
                path = os.path.join(OUT, out)
                rm(path)
                cmd = [BIOLM, "run", "esm2-650m", "encode", "-i", fasta, "--params", PARAMS, "-o", path,
                       "--base-url", sandbox.base, "--concurrency", "16", "-q"] + extra
                log(f"biolm {fmt} {n} ...")
                m = peak_rss_of(cmd, env=dict(os.environ, BIOLM_TOKEN="bench"))
                m.update({"client": "biolm", "format": fmt, "proteins": n, "bytes": size(path)})
                rows.append(m)
                log(json.dumps(m))
                rm(path)  # gigabytes at 2,000 proteins: measured, then removed
            if not args.skip_python and n == 200:
                py = ensure_venv("biolm-sdk", "biolm-sdk==1.7.0")
                path = os.path.join(OUT, f"big-{n}-py.jsonl")
                rm(path)
                env = dict(os.environ, BIOLM_TOKEN="bench", BIOLMAI_TOKEN="bench", BIOLM_BASE_API_URL=sandbox.base,
                           BIOLMAI_BASE_API_URL=sandbox.base, BIOLM_THREADS="8", BIOLMAI_THREADS="8")
                log(f"biolm-sdk {n} ...")
                m = peak_rss_of([py, "-c", PY_DRIVER, fasta, path, sandbox.base], env=env)
                m.update({"client": "biolm-sdk 1.7.0", "format": "disk (jsonl)", "proteins": n, "bytes": size(path)})
                rows.append(m)
                log(json.dumps(m))
                rm(path)
    finally:
        sandbox.stop()
    print(f"{'client':<16} {'format':<13} {'proteins':>8} {'wall s':>7} {'CPU s':>7} {'peak MiB':>9} {'bytes':>13} exit")
    for r in rows:
        print(f"{r['client']:<16} {r['format']:<13} {r['proteins']:>8} {r['wall_s']:>7.2f} {r['cpu_s']:>7.2f} "
              f"{r['peak_rss_mib']:>9.1f} {r['bytes']:>13,} {r['exit']}")
    by = {(r["client"], r["format"], r["proteins"]): r for r in rows}
    for n in sorted({r["proteins"] for r in rows}):
        j, p = by.get(("biolm", "jsonl", n)), by.get(("biolm", "parquet", n))
        if j and p and j["bytes"]:
            print(f"{n} proteins: Parquet/JSONL size {p['bytes'] / j['bytes']:.3f}; "
                  f"Parquet client CPU per GB of response JSON {p['cpu_s'] / (j['bytes'] / 1e9):.2f} s "
                  f"(JSONL: {j['cpu_s'] / (j['bytes'] / 1e9):.2f} s)")
    for fmt in ("jsonl", "parquet", "npy", "npz"):
        a, b = by.get(("biolm", fmt, 200)), by.get(("biolm", fmt, 2000))
        if a and b:
            print(f"{fmt}: peak memory at 2,000 / at 200 = {b['peak_rss_mib'] / a['peak_rss_mib']:.3f}")
    py = by.get(("biolm-sdk 1.7.0", "disk (jsonl)", 200))
    for fmt in ("jsonl", "parquet", "npy", "npz"):
        r = by.get(("biolm", fmt, 200))
        if py and r:
            print(f"200 proteins, biolm {fmt} vs biolm-sdk: CPU 1/{py['cpu_s'] / r['cpu_s']:.1f}, "
                  f"peak memory 1/{py['peak_rss_mib'] / r['peak_rss_mib']:.1f}")
    with open(os.path.join(OUT, "big_results.json"), "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
