"""Compares a directory of .npy arrays written by `biolm run --output-format npy`
(or `biolm convert OUT.jsonl DIR --output-format npy`), or a `.npz` file
(`-o out.npz`, read with `np.load`), with the JSONL output of the same job,
value by value, reading the arrays with numpy.

    python check_npy.py DIR OUT.jsonl
    python check_npy.py OUT.npz OUT.jsonl

Every float must equal the JSON number rounded to float32. Exits 1 naming
the first difference.
"""
import json
import os
import sys

import numpy as np


def fail(msg):
    print(f"DIFFERENT: {msg}", file=sys.stderr)
    sys.exit(1)


class Directory:
    """The members of a directory of .npy arrays."""

    def __init__(self, d):
        self.d = d

    def names(self):
        return sorted(os.listdir(self.d))

    def array(self, name):
        return np.load(os.path.join(self.d, name), mmap_mode="r")

    def text(self, name):
        with open(os.path.join(self.d, name)) as f:
            return f.read()


class Npz:
    """The members of a .npz file, as np.load gives them."""

    def __init__(self, path):
        self.z = np.load(path)

    def names(self):
        # np.load lists .npy members without their suffix, others as named.
        return sorted(n if n.endswith((".txt", ".jsonl")) else n + ".npy" for n in self.z.files)

    def array(self, name):
        return self.z[name[:-4]]

    def text(self, name):
        return self.z[name].decode()


def main(d, jsonl_path):
    src = Npz(d) if d.endswith(".npz") else Directory(d)
    with open(jsonl_path) as f:
        lines = [json.loads(l) for l in f.read().splitlines()[1:]]
    ok = sorted((l for l in lines if "result" in l), key=lambda l: l["index"])
    errors = [l for l in lines if "error" in l]
    names = src.names()
    for must in ("index.npy", "ids.txt", "errors.jsonl"):
        if must not in names:
            fail(f"{must} is missing from {d}: {names}")
    index = src.array("index.npy")
    if list(index) != [l["index"] for l in ok]:
        fail(f"index.npy {list(index)[:10]} != the JSONL's {[l['index'] for l in ok][:10]}")
    ids = src.text("ids.txt").splitlines()
    if ids != [l.get("id") or "" for l in ok]:
        fail("ids.txt differs")
    if len(src.text("errors.jsonl").splitlines()) != len(errors):
        fail("errors.jsonl does not hold every error line")
    floats = 0
    for name in names:
        if not name.endswith(".npy") or name in ("index.npy",) or name.endswith("_offsets.npy"):
            continue
        a = src.array(name)
        if a.dtype != np.float32 or a.ndim != 2:
            fail(f"{name}: {a.dtype} {a.shape}, not a float32 matrix")
        field = name[:-4]
        layer = None
        if "_layer" in field:
            field, layer = field.rsplit("_layer", 1)
            layer = int(layer)
        offsets_name = f"{name[:-4]}_offsets.npy"
        offsets = src.array(offsets_name) if offsets_name in names else None
        for k, l in enumerate(ok):
            v = l["result"].get(field)
            if isinstance(v, list) and v and isinstance(v[0], dict):
                v = [x for x in v if layer is None or x.get("layer") == layer][0]
                v = v.get("embedding", v.get("embeddings"))
            want = np.array(v, dtype=np.float64).astype(np.float32)
            if offsets is None:
                got = a[k]
            else:
                got = a[offsets[k]:offsets[k + 1]]
            if got.shape != want.shape or not np.array_equal(got, want):
                fail(f"{name} row {k} (index {l['index']}) differs: {got.shape} vs {want.shape}")
            floats += want.size
    print(f"{len(ok)} rows equal: {floats} float32 values, {len(errors)} errors")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
