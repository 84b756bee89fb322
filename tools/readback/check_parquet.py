"""Compares a Parquet output of `biolm run` with the JSONL output of the same
job, value by value, reading the Parquet file with pyarrow.

    python check_parquet.py OUT.parquet OUT.jsonl [--ignore FIELD]...

`--ignore FIELD` leaves a top-level result field out of the comparison (a
resumed run's `sequence_index`, the item's position in its request, differs).

Floats of float32 columns must equal the JSON number rounded to float32;
float64 and integer columns the number itself; JSON-text columns (named in
the file's `biolm.json_columns`) the parsed JSON. Exits 1 naming the first
difference.
"""
import json
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FIXED = {"index", "item_sha", "id", "result_json", "error"}


class Diff(Exception):
    pass


def compare(pv, jv, typ, path, json_cols, counts):
    if jv is None:
        if pv is not None:
            raise Diff(f"{path}: JSONL has null, Parquet has {pv!r}")
        return
    if path in json_cols:
        if pv is None or json.loads(pv) != jv:
            raise Diff(f"{path}: JSON text {pv!r} != {jv!r}")
        return
    if pv is None:
        raise Diff(f"{path}: Parquet has null, JSONL has {jv!r}")
    if pa.types.is_float32(typ):
        if not (np.float32(pv) == np.float32(jv) and pv == float(np.float32(jv))):
            raise Diff(f"{path}: float32 {pv!r} != {jv!r}")
        counts["floats"] += 1
    elif pa.types.is_floating(typ):
        if pv != float(jv):
            raise Diff(f"{path}: {pv!r} != {jv!r}")
    elif pa.types.is_integer(typ) or pa.types.is_boolean(typ) or pa.types.is_string(typ):
        if pv != jv or type(jv) is float:
            raise Diff(f"{path}: {pv!r} != {jv!r}")
    elif pa.types.is_list(typ):
        if not isinstance(jv, list) or len(pv) != len(jv):
            raise Diff(f"{path}: list of {len(pv)} != {jv!r:.80}")
        for p, j in zip(pv, jv):
            compare(p, j, typ.value_type, path + "[]", json_cols, counts)
    elif pa.types.is_struct(typ):
        names = {typ.field(i).name for i in range(typ.num_fields)}
        extra = set(jv) - names
        if extra:
            raise Diff(f"{path}: fields {sorted(extra)} missing from the Parquet struct")
        for i in range(typ.num_fields):
            f = typ.field(i)
            compare(pv.get(f.name), jv.get(f.name), f.type, f"{path}.{f.name}", json_cols, counts)
    else:
        raise Diff(f"{path}: unexpected column type {typ}")


def main(pq_path, jsonl_path, ignore=()):
    table = pq.read_table(pq_path)
    meta = table.schema.metadata or {}
    header_pq = json.loads(meta[b"biolm.header"])
    json_cols = set(json.loads(meta[b"biolm.json_columns"]))
    with open(jsonl_path) as f:
        lines = f.read().splitlines()
    header = json.loads(lines[0])
    for k in ("fingerprint", "model", "action", "items"):
        if header_pq.get(k) != header.get(k):
            raise Diff(f"header {k}: {header_pq.get(k)!r} != {header.get(k)!r}")
    rows = {r["index"]: r for r in table.to_pylist()}
    if len(rows) != table.num_rows or len(rows) != len(lines) - 1:
        raise Diff(f"{table.num_rows} rows ({len(rows)} indexes) against {len(lines) - 1} JSONL lines")
    result_cols = [f for f in table.schema if f.name not in FIXED]
    spread = [f.name for f in result_cols] != ["result"]
    counts = {"floats": 0, "errors": 0, "json": 0}
    for line in lines[1:]:
        j = json.loads(line)
        r = rows.get(j["index"])
        if r is None:
            raise Diff(f"index {j['index']} is not in the Parquet file")
        where = f"index {j['index']}"
        if r["item_sha"] != j["item_sha"] or r["id"] != j.get("id"):
            raise Diff(f"{where}: item_sha/id {r['item_sha']}/{r['id']} != {j['item_sha']}/{j.get('id')}")
        if "error" in j:
            counts["errors"] += 1
            if r["error"] is None or json.loads(r["error"]) != j["error"]:
                raise Diff(f"{where}: error {r['error']!r} != {j['error']!r}")
            if any(r[f.name] is not None for f in result_cols) or r["result_json"] is not None:
                raise Diff(f"{where}: an error row has result values")
            continue
        if r["error"] is not None:
            raise Diff(f"{where}: unexpected error {r['error']}")
        res = j["result"]
        if r["result_json"] is not None:
            counts["json"] += 1
            if json.loads(r["result_json"]) != res:
                raise Diff(f"{where}: result_json differs")
            continue
        if not spread:
            compare(r["result"], res, result_cols[0].type, "result", json_cols, counts)
            continue
        names = {}
        for f in result_cols:
            key = f.name[len("result_"):] if f.name.startswith("result_") and f.name[len("result_"):] in FIXED else f.name
            names[key] = f
        extra = set(res) - set(names)
        if extra:
            raise Diff(f"{where}: result fields {sorted(extra)} have no column")
        for key, f in names.items():
            if key in ignore:
                continue
            compare(r[f.name], res.get(key), f.type, f.name, json_cols, counts)
    print(f"{len(rows)} rows equal: {counts['floats']} float32 values, {counts['errors']} errors, {counts['json']} JSON-text results")


if __name__ == "__main__":
    try:
        args = sys.argv[1:]
        ignore = [args[i + 1] for i, a in enumerate(args) if a == "--ignore"]
        main(args[0], args[1], ignore)
    except Diff as e:
        print(f"DIFFERENT: {e}", file=sys.stderr)
        sys.exit(1)
