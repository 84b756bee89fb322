#!/usr/bin/env bash
# Runtime benchmark: a release sandbox in its own process (fixed latency), and the
# runtime_throughput bench as the client. Prints wall time, % of ideal
# throughput and client CPU for 20,000 esm2-8m encode items (320-float embeddings).
# Usage: benches/runtime_throughput.sh [latency_ms=50] [items=20000]  (BIOLM_BENCH_GZIP=1: gzip responses)
set -euo pipefail
cd "$(dirname "$0")/.."
LAT=${1:-50}
N=${2:-20000}
PORT=${BIOLM_BENCH_PORT:-18765}
cargo build --release -q -p biolm-sandbox
cargo bench --no-run -q -p biolm --bench runtime_throughput 2>/dev/null || true
TARGET=${CARGO_TARGET_DIR:-target}
GZ_FLAG=--no-gzip; [ "${BIOLM_BENCH_GZIP:-0}" = 1 ] && GZ_FLAG=
"$TARGET/release/biolm-sandbox" serve --schemas schemas --port "$PORT" --latency-ms "$LAT" $GZ_FLAG >/dev/null 2>&1 &
SB=$!
trap 'kill $SB' EXIT
up=0; for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && { up=1; break; }; sleep 0.1; done
[ "$up" = 1 ] || { echo "the sandbox did not start" >&2; exit 1; }
BIOLM_BENCH_URL="http://127.0.0.1:$PORT/api/v3" BIOLM_BENCH_ITEMS=$N BIOLM_BENCH_LATENCY_MS=$LAT \
  cargo bench -q -p biolm --bench runtime_throughput
