#!/usr/bin/env bash
# Creates (or reuses) a venv holding exactly the pinned packages of a
# requirements file, and prints the path of its python:
#
#   py=$(bash tools/pinned-venv.sh VENV_DIR REQUIREMENTS_TXT)
#
# The packages are installed again only when the requirements file changes
# (its SHA-256 is kept in VENV_DIR/.requirements.sha). Progress goes to stderr.
set -euo pipefail
if [[ $# -ne 2 ]]; then
    echo "usage: $0 VENV_DIR REQUIREMENTS_TXT" >&2
    exit 2
fi
venv="$1"
requirements="$2"
if [[ ! -f "$requirements" ]]; then
    echo "$0: no requirements file at $requirements" >&2
    exit 2
fi
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv" >&2
fi
stamp="$venv/.requirements.sha"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
    echo "$want" >"$stamp"
fi
echo "$venv/bin/python"
