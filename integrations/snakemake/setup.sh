#!/usr/bin/env bash
# Creates (or updates) the pinned Snakemake venv the workflow's CI test uses, and prints
# the path of its `snakemake`:  integrations/snakemake/setup.sh  [VENV_DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${1:-$root/target/venv-snakemake}"
bash "$root/tools/pinned-venv.sh" "$venv" "$here/requirements.txt" >/dev/null
"$venv/bin/snakemake" --version >&2
echo "$venv/bin/snakemake"
