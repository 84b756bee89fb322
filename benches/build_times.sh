#!/usr/bin/env bash
# Cold release builds of the `biolm` crate with no model family (the baseline), the
# default set, and every family, each in a fresh target directory; prints wall times.
# Usage: bash benches/build_times.sh   (from the repository root; takes several minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo fetch -q
for config in "none:--no-default-features" "default:" "all:--features all-models"; do
  name=${config%%:*}
  flags=${config#*:}
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  CARGO_TARGET_DIR="$out/$name" cargo build -q --release -p biolm $flags
  end=$(date +%s.%N)
  printf '%-8s cold release build: %6.1f s\n' "$name" "$(echo "$end - $start" | bc)"
done
# A rebuild with no schema change must not rerun code generation.
start=$(date +%s.%N)
CARGO_TARGET_DIR="$out/all" cargo build -q --release -p biolm --features all-models
end=$(date +%s.%N)
printf 'no-change rebuild (all):   %6.1f s\n' "$(echo "$end - $start" | bc)"
