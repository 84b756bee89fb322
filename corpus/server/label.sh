#!/usr/bin/env bash
# Regenerates the server-labelled corpus: bodies.jsonl (make_bodies.py) and labels.jsonl
# (label.py: the BioLM gateway's own validators, then the model containers' second check).
#
#   corpus/server/label.sh           # rewrite bodies.jsonl and labels.jsonl
#   corpus/server/label.sh --check   # regenerate into a temp dir; exit 1 if they differ
#
# Needs a biolm-hub checkout at c79c4894417685cb087da6d1267f497784b1958c and the oracle's
# venv (see ../shared/oracle/README.md). Overrides:
#   HUB_SRC            biolm-hub checkout        (default /work/scratch/biolm-hub)
#   ORACLE_VENV        venv with pydantic/fastapi (default /work/scratch/oracle-venv)
#   ORACLE_DIR         the oracle scripts          (default ../shared/oracle)
#   BIOLM_REFERENCE_DIR the reference corpus       (default ../shared/reference/biolm-hub)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export HUB_SRC="${HUB_SRC:-/work/scratch/biolm-hub}"
venv="${ORACLE_VENV:-/work/scratch/oracle-venv}"
ref="${BIOLM_REFERENCE_DIR:-}"
if [[ -z "$ref" ]]; then
    for c in "$root/../shared/reference/biolm-hub" "$root/../../shared/reference/biolm-hub" /work/shared/reference/biolm-hub; do
        if [[ -f "$c/index.json" ]]; then ref="$c"; break; fi
    done
fi
if [[ -z "$ref" || ! -f "$ref/index.json" ]]; then
    echo "label.sh: reference corpus not found (set BIOLM_REFERENCE_DIR)" >&2
    exit 2
fi
if [[ ! -x "$venv/bin/python" ]]; then
    echo "label.sh: no oracle venv at $venv (set ORACLE_VENV; see ../shared/oracle/README.md)" >&2
    exit 2
fi
if [[ -z "${ORACLE_DIR:-}" ]]; then
    for c in "$root/../shared/oracle" "$root/../../shared/oracle" /work/shared/oracle; do
        if [[ -f "$c/validate.py" ]]; then export ORACLE_DIR="$c"; break; fi
    done
fi
head="$(git -C "$HUB_SRC" rev-parse HEAD 2>/dev/null || echo unknown)"
if [[ "$head" != c79c4894417685cb087da6d1267f497784b1958c ]]; then
    echo "label.sh: $HUB_SRC is at $head, not c79c4894417685cb087da6d1267f497784b1958c" >&2
    exit 2
fi
export PYTHONHASHSEED=0
run() {
    local out="$1"
    python3 "$here/make_bodies.py" --reference "$ref" --out "$out/bodies.jsonl"
    "$venv/bin/python" "$here/label.py" --reference "$ref" --bodies "$out/bodies.jsonl" --out "$out/labels.jsonl"
}
case "${1:-}" in
    "")
        run "$here"
        ;;
    --check)
        tmp="$(mktemp -d)"
        trap 'rm -rf "$tmp"' EXIT
        run "$tmp" 2>/dev/null
        status=0
        for f in bodies.jsonl labels.jsonl; do
            if ! cmp -s "$here/$f" "$tmp/$f"; then
                echo "stale: corpus/server/$f differs from a fresh run" >&2
                status=1
            fi
        done
        if [[ $status -ne 0 ]]; then
            echo "corpus/server is out of date: run corpus/server/label.sh and commit" >&2
        else
            echo "corpus/server is up to date"
        fi
        exit $status
        ;;
    *)
        echo "usage: $0 [--check]" >&2
        exit 2
        ;;
esac
