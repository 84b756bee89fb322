#!/usr/bin/env bash
# Creates (or reuses) the pinned venv of tools/readback/requirements.txt in
# target/readback-venv and prints its python: tests read it from
# BIOLM_ARROW_PYTHON (.ci/run exports it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${READBACK_VENV:-$root/target/readback-venv}"
bash "$root/tools/pinned-venv.sh" "$venv" "$here/requirements.txt" >/dev/null
"$venv/bin/python" -c 'import pyarrow, numpy; print("pyarrow", pyarrow.__version__, "numpy", numpy.__version__)' >&2
echo "$venv/bin/python"
