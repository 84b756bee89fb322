#!/usr/bin/env bash
# How long a 20,000-item `biolm run` takes to fail when nothing listens at the
# base URL (a stopped server, a wrong port), with the default retry policy.
# Usage: bash benches/unreachable.sh [BIOLM_BINARY ...]
#   With no argument it builds and times ./target/release/biolm. Give more binaries
#   (for example one built from an older commit) to time them side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
  cargo build -q --release -p biolm-cli
  set -- ./target/release/biolm
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/in.fasta" <<'PY'
import random, sys
random.seed(2)
with open(sys.argv[1], "w") as f:
    for i in range(20000):
        f.write(f">s{i}\n" + "".join(random.choice("ACDEFGHIKLMNPQRSTVWY") for _ in range(60)) + "\n")
PY
# A port that was free a moment ago, with nothing listening on it.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
for bin in "$@"; do
  rm -f "$work/out.jsonl"
  start=$(date +%s.%N)
  BIOLM_TOKEN=unused "$bin" run esm2-8m encode -i "$work/in.fasta" -q -o "$work/out.jsonl" \
    --base-url "http://127.0.0.1:$port/api/v3" 2>/dev/null && echo "unexpected success" && exit 1
  end=$(date +%s.%N)
  errors=$(grep -c '"error"' "$work/out.jsonl" || true)
  printf '%s: %d error lines in %.1f s\n' "$bin" "$errors" "$(echo "$end - $start" | bc)"
done
