#!/usr/bin/env bash
# The client against a throttling server: a release biolm-sandbox in its own
# process on loopback, the `throttle` bench (benches/throttle.rs) as the client.
#
#   benches/throttle.sh [R=100] [SECONDS=20] [RANDOM_ITEMS=20000]
#
# 1. `biolm-sandbox serve --throttle R`: esm2-8m encode items enough for about
#    SECONDS at R requests/s (8 items a request); reports the accepted
#    requests/s against R, the share answered 429, and the requests sent
#    inside a Retry-After window.
# 2. `biolm-sandbox serve --fault-rate 0.1 --fault-kinds 429`: 10% of requests
#    answered 429 (Retry-After: 1) at random, RANDOM_ITEMS items; wall time.
# Each run has a fixed count of items and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-100}
SECS=${2:-20}
RANDOM_ITEMS=${3:-20000}
PORT=${BIOLM_BENCH_PORT:-18775}
if ls schemas/*.json >/dev/null 2>&1; then SCHEMAS=schemas; else SCHEMAS=../shared/reference/biolm-hub; fi
cargo build --release -q -p biolm-sandbox
cargo bench --no-run -q -p biolm --bench throttle 2>/dev/null || true
TARGET=${CARGO_TARGET_DIR:-target}

SB=
trap '[ -n "$SB" ] && kill "$SB" 2>/dev/null || true' EXIT
start() {
  "$TARGET/release/biolm-sandbox" serve --schemas "$SCHEMAS" --port "$PORT" --no-gzip "$@" >/dev/null 2>&1 &
  SB=$!
  local up=0
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && { up=1; break; }; sleep 0.1; done
  [ "$up" = 1 ] || { echo "the sandbox did not start" >&2; exit 1; }
}
stop() { kill "$SB" 2>/dev/null || true; wait "$SB" 2>/dev/null || true; SB=; }

N=$(python3 -c "print(int($R * $SECS * 8))")
start --throttle "$R"
BIOLM_BENCH_URL="http://127.0.0.1:$PORT/api/v3" BIOLM_BENCH_ITEMS=$N BIOLM_BENCH_RATE=$R \
  BIOLM_BENCH_LABEL="--throttle $R" cargo bench -q -p biolm --bench throttle
stop

start --fault-rate 0.1 --fault-kinds 429 --seed 1
BIOLM_BENCH_URL="http://127.0.0.1:$PORT/api/v3" BIOLM_BENCH_ITEMS=$RANDOM_ITEMS \
  BIOLM_BENCH_LABEL="10% random 429" cargo bench -q -p biolm --bench throttle
stop
