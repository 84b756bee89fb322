#!/usr/bin/env bash
# Regenerates the construct corpus (schemas/, labels.json, crosscheck.json, CONSTRUCTS.md)
# from constructs.py with the pinned pydantic in target/corpus-venv.
#
#   corpus/constructs/regen.sh           # rewrite the committed files
#   corpus/constructs/regen.sh --check   # regenerate into a temp dir; exit 1 if they differ
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${CORPUS_VENV:-$root/target/corpus-venv}"
bash "$root/tools/pinned-venv.sh" "$venv" "$here/requirements.txt" >/dev/null
py="$venv/bin/python"
export PYTHONHASHSEED=0
case "${1:-}" in
    "")
        "$py" "$here/export.py" --out "$here"
        ;;
    --check)
        tmp="$(mktemp -d)"
        trap 'rm -rf "$tmp"' EXIT
        "$py" "$here/export.py" --out "$tmp" >/dev/null
        status=0
        for f in schemas labels.json crosscheck.json CONSTRUCTS.md; do
            if ! diff -r -q "$here/$f" "$tmp/$f" >"$tmp/diff.txt" 2>&1; then
                sed 's/^/stale: /' "$tmp/diff.txt" >&2
                status=1
            fi
        done
        if [[ $status -ne 0 ]]; then
            echo "corpus/constructs is out of date: run corpus/constructs/regen.sh and commit" >&2
        else
            echo "corpus/constructs is up to date"
        fi
        exit $status
        ;;
    *)
        echo "usage: $0 [--check]" >&2
        exit 2
        ;;
esac
