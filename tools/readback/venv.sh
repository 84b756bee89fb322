#!/usr/bin/env bash
# Creates (or reuses) the pinned venv of tools/readback/requirements.txt in
# target/readback-venv and prints its python: tests read it from
# BIOLM_ARROW_PYTHON (.ci/run exports it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${READBACK_VENV:-$root/target/readback-venv}"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv" >&2
fi
stamp="$venv/.requirements.sha"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
    echo "$want" >"$stamp"
fi
"$venv/bin/python" -c 'import pyarrow, numpy; print("pyarrow", pyarrow.__version__, "numpy", numpy.__version__)' >&2
echo "$venv/bin/python"
