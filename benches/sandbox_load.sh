#!/usr/bin/env bash
# Load test of the BioLM sandbox: full esm2-8m encode batches (8 items, gzip off,
# no latency) over loopback, driven by wrk from another process.
#
#   benches/sandbox_load.sh [SECONDS] [CONNECTIONS] [THREADS]
#
# Builds biolm-sandbox in release mode, starts it on a free port on the project
# schemas (or the reference corpus when schemas/ is empty), checks one request
# by hand, runs wrk with a Lua POST body, prints the start-up time, requests/s
# and the server's own request count, and stops the server.
# Needs wrk (apt-get install -y wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNECTIONS=${2:-32}
THREADS=${3:-1}

command -v wrk >/dev/null || { echo "wrk is missing: apt-get update && apt-get install -y wrk" >&2; exit 2; }
if ls schemas/*.json >/dev/null 2>&1; then SCHEMAS=schemas; else SCHEMAS=../shared/reference/biolm-hub; fi

cargo build --release -p biolm-sandbox --quiet
TARGET=${CARGO_TARGET_DIR:-target}
BIN="$TARGET/release/biolm-sandbox"

WORK=$(mktemp -d)
LOG="$WORK/server.log"
"$BIN" serve --schemas "$SCHEMAS" --port 0 --no-gzip 2>"$LOG" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT

for _ in $(seq 1 100); do
  grep -q "platform API" "$LOG" && break
  sleep 0.05
done
BASE=$(sed -n 's/.*platform API: \(http[^ ]*\).*/\1/p' "$LOG")
[ -n "$BASE" ] || { echo "the sandbox did not start:" >&2; cat "$LOG" >&2; exit 1; }
head -1 "$LOG"

# Eight protein sequences of 60-130 residues.
BODY=$(python3 - <<'PY'
import json, random
random.seed(8)
aa = "ACDEFGHIKLMNPQRSTVWY"
items = [{"sequence": "".join(random.choice(aa) for _ in range(random.randint(60, 130)))} for _ in range(8)]
print(json.dumps({"items": items}))
PY
)
echo "$BODY" > "$WORK/body.json"
STATUS=$(curl -s -o "$WORK/resp.json" -w '%{http_code}' -X POST -H 'content-type: application/json' \
  --data-binary @"$WORK/body.json" "$BASE/esm2-8m/encode/")
[ "$STATUS" = 200 ] || { echo "esm2-8m/encode answered $STATUS:" >&2; cat "$WORK/resp.json" >&2; exit 1; }
python3 -c "
import json,sys
r=json.load(open('$WORK/resp.json'))['results']
print(f'check: {len(r)} results, embedding width {len(r[0][\"embeddings\"][0][\"embedding\"])}, response {len(open(\"$WORK/resp.json\").read())} bytes')"

cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[$BODY]]
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("non-2xx: %d, socket errors: connect %d read %d write %d timeout %d\n",
    non2xx, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
LUA

wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/post.lua" "$BASE/esm2-8m/encode/" | tee "$WORK/wrk.txt"
RPS=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$WORK/wrk.txt")
echo "RESULT: ${RPS} requests/s of 8-item esm2-8m encode batches (${CONNECTIONS} connections, ${THREADS} wrk thread(s), ${DURATION}s)"
