#!/usr/bin/env bash
# The result cache on a finished job (figures in README "Running on a cluster"):
#
#   benches/cluster_cache.sh [ITEMS]        # default 20000
#
# Builds the `biolm` CLI in release mode, starts its sandbox on a free port, and:
#  1. runs esm2-8m encode over ITEMS distinct sequences with --cache into a new file
#     (every item sent), then again into another new file (every item from the cache):
#     requests sent (the sandbox's own counter) and wall time of each, and of a run
#     without the cache for comparison;
#  2. the cache's size on disk per 1,000 esm2-8m results (`biolm cache stats`);
#  3. four processes at once re-running the finished job from one shared cache file:
#     items served from the cache per second, all four together (each item is one
#     lookup, plus reading the input and writing the output: a lower bound on lookups/s).
set -euo pipefail
cd "$(dirname "$0")/.."
ITEMS=${1:-20000}
if [ -z "${BIOLM_BIN:-}" ]; then
  cargo build --release -p biolm-cli --quiet
fi
BIN=${BIOLM_BIN:-${CARGO_TARGET_DIR:-target}/release/biolm}
WORK=$(mktemp -d)
LOG="$WORK/server.log"
"$BIN" sandbox serve --schemas schemas --port 0 2>"$LOG" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 200); do
  grep -q "platform API" "$LOG" && break
  sleep 0.05
done
BASE=$(sed -n 's/.*platform API: \(http[^ ]*\).*/\1/p' "$LOG")
[ -n "$BASE" ] || { echo "the sandbox did not start:" >&2; cat "$LOG" >&2; exit 1; }
ROOT=${BASE%/api/v3}

python3 - "$WORK/in.fasta" "$ITEMS" <<'PY'
import random, sys
random.seed(13)
aa = "ACDEFGHIKLMNPQRSTVWY"
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(f">p{i}\n{''.join(random.choice(aa) for _ in range(random.randint(40, 120)))}\n")
PY
requests() { curl -s "$ROOT/sandbox/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'; }
export BIOLM_TOKEN=bench-token
run() { # run OUTPUT [flags...]: prints wall seconds and requests sent
  local out=$1; shift
  local r0; r0=$(requests)
  local t0; t0=$(date +%s.%N)
  "$BIN" run esm2-8m encode -q -i "$WORK/in.fasta" -o "$WORK/$out" --base-url "$BASE" "$@" 2>>"$WORK/runs.log"
  local t1; t1=$(date +%s.%N)
  printf '%-34s %8.2f s  %6d requests\n' "$out $*" "$(echo "$t1 - $t0" | bc)" "$(( $(requests) - r0 ))"
}
echo "== $ITEMS esm2-8m encode items, sandbox at $BASE, $(nproc) cores"
run nocache.jsonl
run first.jsonl --cache "$WORK/cache.sqlite"
run second.jsonl --cache "$WORK/cache.sqlite"
tail -n 1 "$WORK/runs.log"
"$BIN" cache stats "$WORK/cache.sqlite" --json | python3 -c "
import json,sys
s=json.load(sys.stdin)
print(f\"cache: {s['entries']} entries, {s['file_bytes']} bytes on disk = {s['file_bytes']/s['entries']*1000/1e6:.2f} MB per 1,000 results ({s['result_bytes']/s['entries']:.0f} bytes of result JSON each)\")"

echo "== 4 processes re-running the job from one cache"
r0=$(requests)
t0=$(date +%s.%N)
PIDS=()
for k in 1 2 3 4; do
  "$BIN" run esm2-8m encode -q -i "$WORK/in.fasta" -o "$WORK/p$k.jsonl" --base-url "$BASE" \
    --cache "$WORK/cache.sqlite" 2>"$WORK/p$k.log" &
  PIDS+=($!)
done
wait "${PIDS[@]}"
t1=$(date +%s.%N)
grep -h "cache:" "$WORK"/p*.log
python3 -c "print(f'4 processes: {4*$ITEMS} items from the cache in {$t1-$t0:.2f} s = {4*$ITEMS/($t1-$t0):,.0f} items/s together; requests sent: $(( $(requests) - r0 ))')"
