#!/usr/bin/env bash
# Builds typify-compare (a standalone crate, not a member of the root workspace; target
# dir: target/typify) and runs it over corpus/constructs/schemas: writes results.json
# here and prints the markdown table. Extra arguments go to the binary (--no-compile,
# --schemas DIR, --out FILE, --scratch DIR).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
cargo build --release --quiet
exec "$here/../../target/typify/release/typify-compare" "$@"
