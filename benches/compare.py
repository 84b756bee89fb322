#!/usr/bin/env python3
"""Side-by-side benchmark of this SDK against BioLM's Python clients (issue 6).

Run from the repository root:

    python3 benches/compare.py                 # the full comparison (20,000 items, 20 ms latency)
    python3 benches/compare.py --memory        # also the 100k / 1M FASTA -> JSONL memory runs
    python3 benches/compare.py --items 2000 --skip-python   # a quick look

It builds the release binaries, makes a virtualenv per Python client (pip install
biolm-sdk==1.7.0 / biolmai==0.4.0) under target/bench/, writes a generated FASTA, starts
the sandbox (esm2-8m encode, fixed latency) as a separate process, and runs each client
one after another with 16 requests in flight. For each it reports wall time, client CPU
(user+sys of the client process and its children), peak RSS, items/s, requests the
server saw (to prove batches of 8), and the ratio to the ideal wall time
((N / 8) / 16 x the sandbox's own measured mean time per request). Results go to stdout
and to target/bench/compare.json.
"""
import argparse
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "target", "bench")
AA = "ACDEFGHIKLMNPQRSTVWY"
PY_CLIENTS = [("biolm-sdk", "biolm-sdk==1.7.0"), ("biolmai", "biolmai==0.4.0")]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def write_fasta(path, n, seed=7):
    if os.path.exists(path) and os.path.getsize(path) > 0:
        with open(path) as fh:
            if sum(1 for line in fh if line.startswith(">")) == n:
                return
    rng = random.Random(seed)
    with open(path, "w") as fh:
        for i in range(n):
            length = rng.randint(50, 300)
            fh.write(f">seq{i}\n{''.join(rng.choice(AA) for _ in range(length))}\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"null")


def peak_rss_of(cmd, env=None):
    """Runs cmd: wall time, CPU (user+sys) and peak RSS of that process.

    Peak RSS comes from GNU time (/usr/bin/time) when present: the rusage of a child
    reaped by this Python process would start from this process's own RSS at fork
    (about 20 MiB), hiding smaller peaks. Without GNU time, os.wait4's rusage is used.
    """
    import tempfile
    gnu_time = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as tfile:
        full = [gnu_time, "-f", "%M %U %S", "-o", tfile.name] + cmd if gnu_time else cmd
        start = time.perf_counter()
        proc = subprocess.Popen(full, env=env, stdout=out, stderr=err)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        cpu = ru.ru_utime + ru.ru_stime
        rss_mib = ru.ru_maxrss / 1024.0
        if gnu_time:
            fields = open(tfile.name).read().split()
            # The last line is "%M %U %S" (a line before it may say the command failed).
            if len(fields) >= 3:
                rss_mib = int(fields[-3]) / 1024.0
                cpu = float(fields[-2]) + float(fields[-1])
        out.seek(0)
        err.seek(0)
        return {
            "wall_s": wall,
            "cpu_s": cpu,
            "peak_rss_mib": rss_mib,
            "exit": proc.returncode,
            "stdout": out.read().decode(errors="replace"),
            "stderr": err.read().decode(errors="replace"),
        }


def ensure_venv(name, requirement):
    venv = os.path.join(OUT, f"venv-{name}")
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        log(f"making virtualenv {venv} ({requirement})")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", requirement], check=True)
    return py


class Sandbox:
    def __init__(self, latency_ms, extra=()):
        self.port = free_port()
        exe = os.path.join(ROOT, "target", "release", "biolm-sandbox")
        cmd = [exe, "serve", "--schemas", os.path.join(ROOT, "schemas"), "--port", str(self.port), "--no-gzip"]
        if latency_ms:
            cmd += ["--latency-ms", str(latency_ms)]
        cmd += list(extra)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.root = f"http://127.0.0.1:{self.port}"
        self.base = f"{self.root}/api/v3"
        deadline = time.time() + 15
        while True:
            try:
                http_json(f"{self.root}/health")
                break
            except Exception:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("the sandbox did not start")
                time.sleep(0.05)

    def stats(self):
        return http_json(f"{self.root}/sandbox/stats")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def bench_clients(args):
    fasta = os.path.join(OUT, f"bench-{args.items}.fasta")
    write_fasta(fasta, args.items)
    release = os.path.join(ROOT, "target", "release")
    sandbox = Sandbox(args.latency_ms)
    rows = []
    try:
        clients = [
            ("biolm-rs async", [os.path.join(release, "examples", "bench_client"), "async", fasta, sandbox.base, str(args.concurrency)], None),
            ("biolm-rs async, current-thread runtime", [os.path.join(release, "examples", "bench_client"), "async-current-thread", fasta, sandbox.base, str(args.concurrency)], None),
            ("biolm-rs blocking", [os.path.join(release, "examples", "bench_client"), "blocking", fasta, sandbox.base, str(args.concurrency)], None),
            ("biolm CLI", [os.path.join(release, "biolm"), "run", "esm2-8m", "encode", "-i", fasta, "-o", os.path.join(OUT, "cli-out.jsonl"),
                            "--base-url", sandbox.base, "--concurrency", str(args.concurrency), "--quiet"], None),
        ]
        if not args.skip_python:
            for name, req in PY_CLIENTS:
                py = ensure_venv(name, req)
                env = dict(os.environ)
                env.update({
                    "BIOLM_TOKEN": "bench", "BIOLMAI_TOKEN": "bench",
                    "BIOLM_BASE_API_URL": sandbox.base, "BIOLMAI_BASE_API_URL": sandbox.base,
                    "BIOLM_THREADS": "8", "BIOLMAI_THREADS": "8",
                })
                clients.append((name, [py, os.path.join(ROOT, "benches", "py_client.py"), name, fasta, sandbox.base], env))
        cli_out = os.path.join(OUT, "cli-out.jsonl")
        for name, cmd, env in clients:
            env = env or dict(os.environ, BIOLM_TOKEN="bench")
            if os.path.exists(cli_out):
                os.remove(cli_out)  # a fresh job each run, not a resume
            before = sandbox.stats()
            log(f"running {name} ...")
            m = peak_rss_of(cmd, env=env)
            after = sandbox.stats()
            requests = after["requests"] - before["requests"]
            busy = after["busy_seconds"] - before["busy_seconds"]
            mean_req = busy / requests if requests else float("nan")
            ideal = (args.items / 8) / args.concurrency * mean_req
            row = {
                "client": name, "items": args.items, "wall_s": round(m["wall_s"], 3), "cpu_s": round(m["cpu_s"], 3),
                "peak_rss_mib": round(m["peak_rss_mib"], 1), "items_per_s": round(args.items / m["wall_s"], 1),
                "server_requests": requests, "server_max_in_flight": after["max_in_flight"],
                "mean_request_s": round(mean_req, 5), "ideal_wall_s": round(ideal, 3),
                "wall_over_ideal": round(m["wall_s"] / ideal, 3) if ideal == ideal and ideal > 0 else None,
                "exit": m["exit"],
            }
            if m["exit"] != 0:
                row["stderr_tail"] = m["stderr"][-2000:]
            rows.append(row)
            log(json.dumps(row))
    finally:
        sandbox.stop()
    return rows


def bench_memory(args):
    rows = []
    release = os.path.join(ROOT, "target", "release")
    sandbox = Sandbox(0)
    try:
        for n in (100_000, 1_000_000):
            fasta = os.path.join(OUT, f"mem-{n}.fasta")
            write_fasta(fasta, n, seed=11)
            out = os.path.join(OUT, f"mem-{n}.jsonl")
            if os.path.exists(out):
                os.remove(out)
            log(f"streaming {n} sequences FASTA -> JSONL ...")
            m = peak_rss_of([os.path.join(release, "biolm"), "run", "esm2-8m", "encode", "-i", fasta, "-o", out,
                             "--base-url", sandbox.base, "--quiet"], env=dict(os.environ, BIOLM_TOKEN="bench"))
            lines = sum(1 for _ in open(out)) if os.path.exists(out) else 0
            row = {"items": n, "wall_s": round(m["wall_s"], 2), "cpu_s": round(m["cpu_s"], 2),
                   "peak_rss_mib": round(m["peak_rss_mib"], 1), "output_lines": lines, "exit": m["exit"]}
            if m["exit"] != 0:
                row["stderr_tail"] = m["stderr"][-2000:]
            rows.append(row)
            log(json.dumps(row))
            os.remove(out)
    finally:
        sandbox.stop()
    return rows


def ratio(a, b):
    return round(a / b, 4) if b else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--skip-python", action="store_true")
    ap.add_argument("--memory", action="store_true", help="also run the 100k / 1M streaming memory runs")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if not args.no_build:
        log("building release binaries ...")
        subprocess.run(["cargo", "build", "--release", "-p", "biolm-sandbox", "-p", "biolm-cli"], cwd=ROOT, check=True)
        subprocess.run(["cargo", "build", "--release", "--example", "bench_client"], cwd=ROOT, check=True)
    report = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "items": args.items,
              "latency_ms": args.latency_ms, "concurrency": args.concurrency, "clients": bench_clients(args)}
    by = {r["client"]: r for r in report["clients"]}
    py = [by[n] for n, _ in PY_CLIENTS if n in by and by[n]["exit"] == 0]
    if py:
        best_cpu = min(r["cpu_s"] for r in py)
        best_rss = min(r["peak_rss_mib"] for r in py)
        report["ratios"] = {
            name: {"cpu_vs_best_python": ratio(by[name]["cpu_s"], best_cpu),
                   "rss_vs_best_python": ratio(by[name]["peak_rss_mib"], best_rss)}
            for name in ("biolm-rs async", "biolm-rs async, current-thread runtime", "biolm-rs blocking", "biolm CLI") if name in by
        }
    if args.memory:
        report["memory"] = bench_memory(args)
    with open(os.path.join(OUT, "compare.json"), "w") as fh:
        json.dump(report, fh, indent=2)
    print(json.dumps(report, indent=2))
    # Table for the README.
    print("\n| client | wall s | CPU s | peak RSS MiB | items/s | server requests | wall / ideal |")
    print("|---|---|---|---|---|---|---|")
    for r in report["clients"]:
        print(f"| {r['client']} | {r['wall_s']} | {r['cpu_s']} | {r['peak_rss_mib']} | {r['items_per_s']} | {r['server_requests']} | {r['wall_over_ideal']} |")


if __name__ == "__main__":
    main()
