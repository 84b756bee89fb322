#!/usr/bin/env python3
"""Writes corpus/server/bodies.jsonl: request bodies for every (variant, action) pair of
the BioLM catalog, aimed at the rules the server applies (see README.md here).

Deterministic: no network, no clock, one seeded random stream per pair (the seed is a
SHA-256 of `slug/action`), so two runs write byte-identical files.

Inputs: the reference index (`index.json` and the request schemas of
`../shared/reference/biolm-hub`, or `--reference DIR`, or `$BIOLM_REFERENCE_DIR`) for the
pairs, the batch limits, the string length limits and the `hidden_validation` checklist.

Each output line: {"id", "slug", "action", "category", "canonical", "rules", "body"}
plus "deliberate" (a reason) on bodies where the project disagrees with the server on
purpose. `rules` lists the `hidden_validation` entries the body exercises.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

CATEGORIES = [
    "baseline",
    "alias",
    "alphabet",
    "whitespace",
    "length",
    "mask",
    "strict-type",
    "params",
    "unknown-field",
    "null-missing",
    "batch-size",
    "cross-field",
    "structure-text",
    "chemistry-text",
    "mutation",
    "format",
    "foreign-params",
]

AA = "ACDEFGHIKLMNPQRSTVWY"
DNA = "ACGT"
THREE = {
    "A": "ALA", "C": "CYS", "D": "ASP", "E": "GLU", "F": "PHE", "G": "GLY", "H": "HIS",
    "I": "ILE", "K": "LYS", "L": "LEU", "M": "MET", "N": "ASN", "P": "PRO", "Q": "GLN",
    "R": "ARG", "S": "SER", "T": "THR", "V": "VAL", "W": "TRP", "Y": "TYR",
}
FOLD2AA_REASON = (
    "ProstT5 fold2AA: the gateway checks amino acids, the model container 3Di tokens, so no "
    "sequence can pass both; the project follows the model (3Di, no num_beams)"
)


def find_reference(arg: str | None) -> Path:
    cands = []
    if arg:
        cands.append(Path(arg))
    if os.environ.get("BIOLM_REFERENCE_DIR"):
        cands.append(Path(os.environ["BIOLM_REFERENCE_DIR"]))
    cands += [ROOT / "../shared/reference/biolm-hub", ROOT / "../../shared/reference/biolm-hub"]
    for c in cands:
        if (c / "index.json").is_file():
            return c.resolve()
    sys.exit("make_bodies.py: reference corpus not found (pass --reference or set BIOLM_REFERENCE_DIR)")


# ---------------------------------------------------------------- text builders


class Gen:
    """Deterministic building blocks for one pair."""

    def __init__(self, slug: str, action: str) -> None:
        seed = int.from_bytes(hashlib.sha256(f"{slug}/{action}".encode()).digest()[:8], "big")
        self.rng = random.Random(seed)

    def protein(self, n: int, alphabet: str = AA) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def dna(self, n: int) -> str:
        return "".join(self.rng.choice(DNA) for _ in range(n))


def pdb_text(chains: dict[str, str], hetatm: bool = False) -> str:
    """A small, well-formed PDB: backbone atoms (N, CA, C, O) on a straight line."""
    lines = ["HEADER    SYNTHETIC TEST STRUCTURE"]
    serial = 1
    for c_i, (chain, seq) in enumerate(chains.items()):
        for r_i, aa in enumerate(seq, start=1):
            for a_i, (name, elem) in enumerate((("N", "N"), ("CA", "C"), ("C", "C"), ("O", "O"))):
                x = 3.8 * r_i + 0.5 * a_i
                y = 10.0 * c_i + 0.3 * a_i
                z = 0.2 * a_i
                lines.append(
                    f"ATOM  {serial:5d}  {name:<3s} {THREE[aa]} {chain}{r_i:4d}    "
                    f"{x:8.3f}{y:8.3f}{z:8.3f}  1.00 20.00           {elem}"
                )
                serial += 1
        lines.append(f"TER   {serial:5d}      {THREE[seq[-1]]} {chain}{len(seq):4d}")
        serial += 1
    if hetatm:
        lines.append(
            f"HETATM{serial:5d}  C1  LIG X   1    {1.0:8.3f}{2.0:8.3f}{3.0:8.3f}  1.00 20.00           C"
        )
    lines.append("END")
    return "\n".join(lines) + "\n"


def cif_text(chains: dict[str, str]) -> str:
    """A small mmCIF with an `_atom_site` loop (CA atoms only)."""
    head = [
        "data_synthetic",
        "#",
        "loop_",
        "_atom_site.group_PDB",
        "_atom_site.id",
        "_atom_site.type_symbol",
        "_atom_site.label_atom_id",
        "_atom_site.label_comp_id",
        "_atom_site.label_asym_id",
        "_atom_site.label_seq_id",
        "_atom_site.Cartn_x",
        "_atom_site.Cartn_y",
        "_atom_site.Cartn_z",
        "_atom_site.auth_asym_id",
    ]
    rows = []
    n = 1
    for c_i, (chain, seq) in enumerate(chains.items()):
        for r_i, aa in enumerate(seq, start=1):
            rows.append(
                f"ATOM {n} C CA {THREE[aa]} {chain} {r_i} {3.8 * r_i:.3f} {10.0 * c_i:.3f} 0.000 {chain}"
            )
            n += 1
    return "\n".join(head + rows + ["#"]) + "\n"


def bad_pdbs(good: str) -> list[tuple[str, str]]:
    """(tag, text) structure texts the server's PDB check refuses (or might)."""
    lines = good.splitlines()
    atom = next(line for line in lines if line.startswith("ATOM"))
    return [
        ("empty", ""),
        ("blank", "   \n"),
        ("json", '{"pdb": "ATOM"}'),
        ("cif-as-pdb", cif_text({"A": "MKT"})),
        ("no-atoms", "HEADER    NOTHING\nREMARK   1 EMPTY\nEND\n"),
        ("short-atom", "ATOM      1  CA  ALA A   1       1.000\nEND\n"),
        ("bad-coords", atom[:30] + "    x.yz   2.000   3.000" + atom[54:] + "\nEND\n"),
        ("free-text", "this is not a structure"),
        ("lowercase-records", good.lower()),
        ("tabs", good.replace("    ", "\t")),
        ("leading-space-records", "\n".join(" " + line for line in lines) + "\n"),
        ("header-only-after-atoms", "HEADER    X\n" + atom[:20] + "\n"),
    ]


def bad_cifs(chains: dict[str, str]) -> list[tuple[str, str]]:
    """(tag, text) mmCIF texts the server's mmCIF check may refuse."""
    good = cif_text(chains)
    lines = good.splitlines()
    return [
        ("no-data-block", "\n".join(lines[1:]) + "\n"),
        ("no-coordinates", "\n".join(line for line in lines if "Cartn_" not in line) + "\n"),
        ("no-rows", "\n".join(line for line in lines if not line.startswith("ATOM")) + "\n"),
        ("pdb-as-cif", pdb_text(chains)),
        ("json", '{"cif": 1}'),
        ("empty", ""),
    ]


def ok_pdb_variants(good: str) -> list[tuple[str, str]]:
    """(tag, text) PDB texts that keep valid ATOM records but differ in layout."""
    atoms = [line for line in good.splitlines() if line.startswith("ATOM")]
    return [
        ("leading-blank-lines", "\n\n" + good),
        ("atoms-only", "\n".join(atoms) + "\n"),
        ("model-endmdl", "MODEL        1\n" + good.replace("END\n", "ENDMDL\nEND\n")),
        ("crlf", good.replace("\n", "\r\n")),
        ("no-header", "\n".join(line for line in good.splitlines() if not line.startswith("HEADER")) + "\n"),
        ("no-trailing-newline", good.rstrip("\n")),
    ]


# ---------------------------------------------------------------- schema helpers


def resolve(schema: dict, root: dict) -> dict:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        schema = root["$defs"][schema["$ref"].split("/")[-1]]
        seen += 1
    return schema


def non_null(schema: dict, root: dict) -> dict:
    schema = resolve(schema, root)
    if "anyOf" in schema:
        for alt in schema["anyOf"]:
            alt = resolve(alt, root)
            if alt.get("type") != "null":
                return alt
    return schema


def params_schema(root: dict) -> dict | None:
    p = root.get("properties", {}).get("params")
    if p is None:
        return None
    s = non_null(p, root)
    return s if s.get("properties") is not None else None


def item_schema(root: dict) -> dict:
    items = non_null(root["properties"]["items"], root)
    return resolve(items["items"], root)


# ---------------------------------------------------------------- the corpus


class Pair:
    """Collects the bodies of one (variant, action) pair."""

    def __init__(self, rec: dict, action: str, root: dict) -> None:
        self.rec = rec
        self.slug = rec["slug"]
        self.family = rec["family"]
        self.action = action
        self.root = root
        self.max_items = rec["max_items"].get(action)
        self.hidden = list(rec.get("hidden_validation", {}).get(action, {}).get("request", []))
        self.g = Gen(self.slug, action)
        self.out: list[dict] = []
        self.base_params: dict | None = None  # params every body carries (antifold)
        self.own_params: set[str] | None = None  # MPNN: the params the variant's model keeps
        self.ref: Path | None = None

    def rules(self, *needles: str) -> list[str]:
        return [h for h in self.hidden if any(n in h for n in needles)]

    def body(self, items, params="__default__") -> dict:
        """`params`: "__default__" (the pair's base params, or none), "__omit__", None (JSON null)
        or an object."""
        b: dict = {}
        if isinstance(params, str) and params == "__default__":
            params = copy.deepcopy(self.base_params) if self.base_params is not None else "__omit__"
        if not (isinstance(params, str) and params == "__omit__"):
            b["params"] = params
        b["items"] = items
        return b

    def add(self, tag: str, category: str, body: dict, *, canonical: bool = True,
            rules: list[str] | None = None, deliberate: str | None = None) -> None:
        assert category in CATEGORIES, category
        rec = {
            "id": f"{self.slug}/{self.action}/{tag}",
            "slug": self.slug,
            "action": self.action,
            "category": category,
            "canonical": canonical,
            "rules": sorted(set(rules or [])),
            "body": body,
        }
        if deliberate is None and "fold2aa" in self.slug:
            deliberate = FOLD2AA_REASON
        if deliberate:
            rec["deliberate"] = deliberate
        self.out.append(rec)

    def item(self, tag: str, category: str, item, *, params="__default__", **kw) -> None:
        self.add(tag, category, self.body([item], params), **kw)

    # ------------------------------------------------------------ generic families of cases

    def string_field_cases(self, base_item: dict, field: str, kind: str, max_len: int | None,
                           make, rules: list[str], deliberate: str | None = None) -> None:
        """Alphabet, whitespace and length cases for one text field of the item.

        `make(n)` returns a valid text of n characters for this field."""
        good = base_item[field]

        def put(tag, cat, value, extra_rules=()):
            it = copy.deepcopy(base_item)
            it[field] = value
            self.item(f"{field}-{tag}", cat, it, rules=list(rules) + list(extra_rules), deliberate=deliberate)

        mid = len(good) // 2
        if kind in ("aa", "aa_ext", "aa_gap", "aa_mask", "aa_mask1", "e1_mask", "esmfold", "aa_star",
                    "dsm_gen", "3di"):
            put("lowercase", "alphabet", good.lower())
            put("J", "alphabet", good[:mid] + "J" + good[mid + 1:])
            put("X", "alphabet", good[:mid] + "X" + good[mid + 1:])
            put("BZUO", "alphabet", good[:mid] + "BZUO" + good[mid + 4:])
            put("gap", "alphabet", good[:mid] + "-" + good[mid + 1:])
            put("digit", "alphabet", good[:mid] + "1" + good[mid + 1:])
            put("star", "alphabet", good[:mid] + "*" + good[mid + 1:])
        elif kind == "dna":
            put("lowercase", "alphabet", good.lower())
            put("N", "alphabet", good[:mid] + "N" + good[mid + 1:])
            put("U", "alphabet", good[:mid] + "U" + good[mid + 1:])
            put("protein", "alphabet", "MKTAYIAKQR")
            put("gap", "alphabet", good[:mid] + "-" + good[mid + 1:])
        put("trailing-newline", "whitespace", good + "\n")
        put("trailing-crlf", "whitespace", good + "\r\n")
        put("trailing-space", "whitespace", good + " ")
        put("leading-space", "whitespace", " " + good)
        put("inner-space", "whitespace", good[:mid] + " " + good[mid:])
        put("empty", "length", "")
        if max_len and max_len <= 20000:
            put("at-max", "length", make(max_len))
            put("over-max", "length", make(max_len + 1))
        it = copy.deepcopy(base_item)
        it[field] = 12345
        self.item(f"{field}-number", "strict-type", it, rules=rules, deliberate=deliberate)

    def params_cases(self, items_fn) -> None:
        """Strictness and shape cases for the params object, from its schema."""
        ps = params_schema(self.root)
        base = copy.deepcopy(self.base_params) or {}
        if ps is None:
            self.add("params-unknown", "params", self.body(items_fn(), {"foo": 1}), canonical=False)
            self.add("params-empty", "params", self.body(items_fn(), {}))
            return
        self.add("params-empty", "params", self.body(items_fn(), base))
        self.add("params-null", "null-missing", self.body(items_fn(), None))
        self.add("params-omitted", "null-missing", self.body(items_fn(), "__omit__"))
        self.add("params-unknown", "unknown-field", self.body(items_fn(), {**base, "not_a_param": 1}),
                 canonical=False)
        self.add("params-list", "strict-type", self.body(items_fn(), [base]))
        done_int = done_num = done_bool = done_enum = 0
        for name, sub in ps["properties"].items():
            if self.own_params is not None and name not in self.own_params:
                continue  # MPNN params of other variants: foreign-params cases
            s = non_null(sub, self.root)
            t = s.get("type")
            default = s.get("default")
            if t == "integer" and done_int < 2:
                lo = s.get("minimum", 1)
                hi = s.get("maximum")
                v = default if isinstance(default, int) and not isinstance(default, bool) else lo
                v = int(v)
                self.add(f"params-{name}-int", "params", self.body(items_fn(), {**base, name: v}))
                self.add(f"params-{name}-float", "strict-type", self.body(items_fn(), {**base, name: float(v)}))
                self.add(f"params-{name}-string", "strict-type", self.body(items_fn(), {**base, name: str(v)}))
                if hi is not None:
                    self.add(f"params-{name}-at-max", "params", self.body(items_fn(), {**base, name: int(hi)}))
                    self.add(f"params-{name}-over-max", "params", self.body(items_fn(), {**base, name: int(hi) + 1}))
                done_int += 1
            elif t == "number" and done_num < 1:
                v = default if isinstance(default, (int, float)) else s.get("minimum", 0.5)
                self.add(f"params-{name}-num", "params", self.body(items_fn(), {**base, name: float(v)}))
                iv = int(s.get("maximum", 1)) if "maximum" in s else 1
                self.add(f"params-{name}-int-for-number", "strict-type", self.body(items_fn(), {**base, name: iv}))
                self.add(f"params-{name}-string", "strict-type", self.body(items_fn(), {**base, name: str(v)}))
                done_num += 1
            elif t == "boolean" and done_bool < 1:
                self.add(f"params-{name}-bool", "params", self.body(items_fn(), {**base, name: True}))
                self.add(f"params-{name}-int-for-bool", "strict-type", self.body(items_fn(), {**base, name: 1}))
                self.add(f"params-{name}-string-bool", "strict-type", self.body(items_fn(), {**base, name: "true"}))
                done_bool += 1
            elif t == "array" and done_enum < 1:
                it = resolve(s.get("items", {}), self.root)
                if "enum" in it:
                    self.add(f"params-{name}-enum", "params", self.body(items_fn(), {**base, name: [it["enum"][0]]}))
                    self.add(f"params-{name}-enum-upper", "params",
                             self.body(items_fn(), {**base, name: [str(it["enum"][0]).upper()]}))
                    self.add(f"params-{name}-enum-string-not-list", "strict-type",
                             self.body(items_fn(), {**base, name: it["enum"][0]}))
                    done_enum += 1
            elif "enum" in s and done_enum < 1:
                self.add(f"params-{name}-enum", "params", self.body(items_fn(), {**base, name: s["enum"][-1]}))
                self.add(f"params-{name}-enum-bad", "params", self.body(items_fn(), {**base, name: "nope"}))
                done_enum += 1

    def batch_cases(self, items_fn) -> None:
        self.add("batch-empty", "batch-size", self.body([]))
        self.add("items-not-list", "batch-size", self.body(items_fn()[0]))
        self.add("items-missing", "null-missing", {k: v for k, v in self.body(items_fn()).items() if k != "items"})
        if self.max_items:
            n = self.max_items
            self.add("batch-at-max", "batch-size", self.body([copy.deepcopy(items_fn()[0]) for _ in range(n)]))
            self.add("batch-over-max", "batch-size",
                     self.body([copy.deepcopy(items_fn()[0]) for _ in range(n + 1)]))
        else:
            for n in (8, 9):
                self.add(f"batch-{n}", "batch-size", self.body([copy.deepcopy(items_fn()[0]) for _ in range(n)]))
        body = self.body(items_fn())
        body["extra_top"] = 1
        self.add("top-unknown", "unknown-field", body, canonical=False)

    def item_shape_cases(self, base_item: dict, required: list[str]) -> None:
        it = copy.deepcopy(base_item)
        it["not_a_field"] = "x"
        self.item("item-unknown", "unknown-field", it, canonical=False)
        for f in required[:2]:
            it = copy.deepcopy(base_item)
            it.pop(f, None)
            self.item(f"item-missing-{f}", "null-missing", it)
            it = copy.deepcopy(base_item)
            it[f] = None
            self.item(f"item-null-{f}", "null-missing", it)

    def alias_cases(self, base_item: dict, aliases: dict[str, list[str]], where: str = "item",
                    prefix: str = "") -> None:
        for canon, alts in aliases.items():
            for alt in alts:
                if where == "item":
                    it = {(alt if k == canon else k): v for k, v in base_item.items()}
                    self.item(f"{prefix}alias-{alt}", "alias", it, canonical=False,
                              rules=self.rules(f".{canon}: accepts keys"))
                    both = copy.deepcopy(base_item)
                    both[alt] = base_item[canon]
                    self.item(f"{prefix}alias-{alt}-and-canonical", "alias", both, canonical=False,
                              rules=self.rules(f".{canon}: accepts keys"))
                    r = self.rules(f".{canon}: accepts keys")
                    self.add(f"{prefix}alias-{alt}-in-batch", "alias",
                             self.body([copy.deepcopy(base_item), it][: min(2, self.max_items or 2)]),
                             canonical=False, rules=r)
                    bad = dict(it)
                    if isinstance(bad[alt], str):
                        bad[alt] = bad[alt].lower() + "1"
                        self.item(f"{prefix}alias-{alt}-bad-value", "alias", bad, canonical=False, rules=r)
                    bad = dict(it)
                    bad[alt] = None
                    self.item(f"{prefix}alias-{alt}-null", "alias", bad, canonical=False, rules=r)
                    upper = {(alt.upper() if k == alt else k): v for k, v in it.items()}
                    if alt.upper() != alt:
                        self.item(f"{prefix}alias-{alt}-uppercase-key", "alias", upper, canonical=False, rules=r)
            mis = {(canon + "_x" if k == canon else k): v for k, v in base_item.items()} if where == "item" else None
            if mis is not None:
                self.item(f"{prefix}alias-misspelt-{canon}", "alias", mis, canonical=False,
                          rules=self.rules(f".{canon}: accepts keys"))


# ---------------------------------------------------------------- per family


def seq_family(p: Pair, field: str, kind: str, n: int = 40) -> None:
    """Families whose item is one text field (plus the generic cases)."""
    g = p.g
    item_s = item_schema(p.root)
    fs = non_null(item_s["properties"][field], p.root)
    max_len = fs.get("maxLength")
    field_rules = p.rules(f".{field}: BeforeValidator", "validate_sequence", "validate_ec")
    deliberate = FOLD2AA_REASON if "fold2aa" in p.slug else None

    def make(k: int) -> str:
        if kind == "dna":
            return g.dna(k)
        if kind == "3di":
            return g.protein(k, AA.lower())
        if kind in ("aa_mask", "aa_mask1"):
            s = g.protein(k - 6)
            return s[: len(s) // 2] + "<mask>" + s[len(s) // 2:]
        if kind == "e1_mask":
            s = g.protein(k - 1)
            return s[: len(s) // 2] + "?" + s[len(s) // 2:]
        if kind == "aa_star":
            s = g.protein(k - 1)
            return s[: len(s) // 2] + "*" + s[len(s) // 2:]
        return g.protein(k)

    base = {field: make(n)}

    def items() -> list:
        return [{field: make(n)}]

    p.item("baseline-1", "baseline", base, deliberate=deliberate, rules=field_rules)
    p.item("baseline-2", "baseline", {field: make(max(8, n // 3))}, deliberate=deliberate, rules=field_rules)
    two = [{field: make(n)}, {field: make(n + 7)}][: min(2, p.max_items or 2)]
    p.add("baseline-3", "baseline", p.body(two), deliberate=deliberate, rules=field_rules)
    if kind == "3di":
        # what the gateway accepts: uppercase amino acids
        p.item("aa-uppercase", "alphabet", {field: g.protein(n)}, rules=field_rules, deliberate=deliberate)
    p.string_field_cases(base, field, kind, max_len, make, field_rules, deliberate)
    p.item_shape_cases(base, [field])
    p.params_cases(items)
    p.batch_cases(items)
    mask_cases(p, field, kind, make, n)


def mask_cases(p: Pair, field: str, kind: str, make, n: int) -> None:
    g = p.g
    r = p.rules(f".{field}: BeforeValidator")
    if kind in ("aa_mask", "aa_mask1"):
        s = g.protein(n)
        p.item("mask-none", "mask", {field: s}, rules=r)
        p.item("mask-two", "mask", {field: s[:5] + "<mask>" + s[6:20] + "<mask>" + s[21:]}, rules=r)
        p.item("mask-every-position", "mask", {field: "<mask>" * 8}, rules=r)
        p.item("mask-misspelt", "mask", {field: s[:5] + "<MASK>" + s[6:]}, rules=r)
        p.item("mask-bare-angle", "mask", {field: s[:5] + "<mask" + s[6:]}, rules=r)
        p.item("mask-at-start", "mask", {field: "<mask>" + s[1:]}, rules=r)
        p.item("mask-with-X", "mask", {field: s[:3] + "X" + s[4:10] + "<mask>" + s[11:]}, rules=r)
        p.item("mask-question", "mask", {field: s[:5] + "?" + s[6:]}, rules=r)
    elif kind == "e1_mask":
        s = g.protein(n)
        p.item("mask-none", "mask", {field: s}, rules=r)
        p.item("mask-two", "mask", {field: s[:5] + "?" + s[6:20] + "?" + s[21:]}, rules=r)
        p.item("mask-every-position", "mask", {field: "?" * 10}, rules=r)
        p.item("mask-angle-token", "mask", {field: s[:5] + "<mask>" + s[6:]}, rules=r)
    elif kind == "aa_star":
        s = g.protein(n)
        p.item("mask-none", "mask", {field: s}, rules=r)
        p.item("mask-two", "mask", {field: s[:5] + "*" + s[6:20] + "*" + s[21:]}, rules=r)
        p.item("mask-every-position", "mask", {field: "*" * 10}, rules=r)
    elif kind == "dsm_gen":
        s = g.protein(n)
        p.item("mask-tokens", "mask", {field: s[:5] + "<mask><mask>" + s[7:] + "<eos>"}, rules=r)
        p.item("mask-only", "mask", {field: "<mask>" * 12}, rules=r)
        p.item("mask-empty-prompt", "mask", {field: ""}, rules=r)
        p.item("mask-misspelt", "mask", {field: s[:5] + "<msk>" + s[6:]}, rules=r)
        p.item("mask-X", "mask", {field: s[:5] + "X" + s[6:]}, rules=r)
        p.item("item-empty-object", "null-missing", {}, rules=r)


def family_esmfold(p: Pair) -> None:
    seq_family(p, "sequence", "esmfold", 60)
    g = p.g
    r = p.rules("sequence: BeforeValidator")
    for n in (768, 769, 771, 772):
        p.item(f"single-chain-{n}", "length", {"sequence": g.protein(n)}, rules=r)
    a, b = g.protein(300), g.protein(200)
    p.item("colon-one", "format", {"sequence": a + ":" + b}, rules=r)
    p.item("colon-three", "format", {"sequence": ":".join(g.protein(50) for _ in range(4))}, rules=r)
    p.item("colon-four", "format", {"sequence": ":".join(g.protein(40) for _ in range(5))}, rules=r)
    p.item("colon-double", "format", {"sequence": a[:50] + "::" + b[:50]}, rules=r)
    p.item("colon-leading", "format", {"sequence": ":" + a[:80]}, rules=r)
    p.item("colon-trailing", "format", {"sequence": a[:80] + ":"}, rules=r)
    p.item("multimer-771-with-separators", "length", {"sequence": g.protein(385) + ":" + g.protein(385)}, rules=r)
    p.item("multimer-772-with-separators", "length", {"sequence": g.protein(386) + ":" + g.protein(385)}, rules=r)


def paired_family(p: Pair, fields: list[str], aliases: dict, kind: str, n: int = 110) -> None:
    """ablang2, abodybuilder3, deepviscosity: heavy + light chains."""
    g = p.g
    item_s = item_schema(p.root)
    max_len = non_null(item_s["properties"][fields[0]], p.root).get("maxLength")
    min_len = non_null(item_s["properties"][fields[0]], p.root).get("minLength", 1)

    def make(k: int) -> str:
        if kind == "aa_star":
            s = g.protein(k - 1)
            return s[:10] + "*" + s[10:]
        return g.protein(k)

    def items() -> list:
        return [{f: make(n) if i == 0 else g.protein(n) for i, f in enumerate(fields)}]

    base = {f: make(n) if i == 0 else g.protein(n - 3) for i, f in enumerate(fields)}
    rb = p.rules(": BeforeValidator", "validate_combined_sequence")
    p.item("baseline-1", "baseline", base, rules=rb)
    p.item("baseline-2", "baseline", {f: make(max(min_len, 60)) for f in fields}, rules=rb)
    p.add("baseline-3", "baseline", p.body([{f: make(n) for f in fields} for _ in range(2)]), rules=rb)
    for f in fields:
        r = p.rules(f".{f}: BeforeValidator", "validate_combined_sequence")
        p.string_field_cases(base, f, "aa" if kind != "aa_star" else "aa_star", max_len,
                             (lambda k, f=f: make(k) if f == fields[0] else g.protein(k)), r)
    if min_len > 1:
        it = copy.deepcopy(base)
        it[fields[0]] = g.protein(min_len)
        p.item("at-min", "length", it)
        it = copy.deepcopy(base)
        it[fields[0]] = g.protein(min_len - 1)
        p.item("under-min", "length", it)
    if kind == "aa_star":
        r = p.rules("validate_combined_sequence")
        p.item("mask-none", "mask", {fields[0]: g.protein(n), fields[1]: g.protein(n)}, rules=r)
        p.item("mask-in-light", "mask", {fields[0]: g.protein(n), fields[1]: "**" + g.protein(n)}, rules=r)
        p.item("mask-every-position", "mask", {fields[0]: "*" * 20, fields[1]: "*" * 20}, rules=r)
        p.item("mask-with-X", "mask", {fields[0]: "X" + make(n), fields[1]: g.protein(n)}, rules=r)
        p.item("mask-with-B", "mask", {fields[0]: "B" + make(n), fields[1]: g.protein(n)}, rules=r)
    p.alias_cases(base, aliases)
    p.item_shape_cases(base, fields)
    p.params_cases(items)
    p.batch_cases(items)


def chains_family(p: Pair, slots: list[str], aliases: dict, combos: list[tuple[str, list[str]]],
                  max_len_field: int = 120) -> None:
    """igbert, igt5, immunebuilder, immunefold: items made of optional chains with combination rules."""
    g = p.g
    star = p.family == "igbert" and p.action == "generate"
    rr = p.rules("validate_and_infer_type")

    def chain(k: int) -> str:
        s = g.protein(k)
        return s[:10] + "*" + s[11:] if star else s

    def make_item(fields: list[str], k: int = 100) -> dict:
        return {f: chain(k) for f in fields}

    first = combos[0][1]

    def items() -> list:
        return [make_item(first)]

    for tag, fields in combos:
        p.item(f"combo-{tag}", "cross-field" if tag.startswith("bad") else "baseline",
               make_item(fields), rules=rr)
    base = make_item(first)
    item_s = item_schema(p.root)
    for f in first[:2]:
        fs = non_null(item_s["properties"][f], p.root)
        p.string_field_cases(base, f, "aa_star" if star else "aa", fs.get("maxLength"),
                             (lambda k: chain(k)), p.rules(f".{f}:") + rr)
    if star:
        p.item("mask-none", "mask", {f: g.protein(100) for f in first}, rules=rr)
        p.item("mask-every-position", "mask", {f: "*" * 20 for f in first}, rules=rr)
    p.alias_cases(base, {k: v for k, v in aliases.items() if k in base})
    for tag, fields in combos[1:]:
        if not tag.startswith("bad") and not set(fields) <= set(first):
            it = make_item(fields)
            p.alias_cases(it, {k: v for k, v in aliases.items() if k in it}, prefix=f"{tag}-")
    it = copy.deepcopy(base)
    it["not_a_field"] = "x"
    p.item("item-unknown", "unknown-field", it, canonical=False)
    p.item("item-empty", "cross-field", {}, rules=rr)
    p.item("item-all-null", "null-missing", {f: None for f in first}, rules=rr)
    p.params_cases(items)
    p.batch_cases(items)


def family_structure(p: Pair, field: str, chains: dict[str, str], extra_item: dict | None = None) -> dict:
    """Cases for an item's PDB text field; returns the base item."""
    good = pdb_text(chains)
    base = {field: good, **(extra_item or {})}
    r = p.rules(f".{field}: BeforeValidator(validate_pdb)")
    p.item("baseline-1", "baseline", base, rules=r)
    for tag, text in ok_pdb_variants(good):
        it = dict(base)
        it[field] = text
        p.item(f"pdb-{tag}", "structure-text", it, rules=r)
    it = dict(base)
    it[field] = pdb_text(chains, hetatm=True)
    p.item("pdb-hetatm", "structure-text", it, rules=r)
    for tag, text in bad_pdbs(good):
        it = dict(base)
        it[field] = text
        p.item(f"pdb-{tag}", "structure-text", it, rules=r)
    it = dict(base)
    it[field] = 42
    p.item("pdb-number", "strict-type", it, rules=r)
    it = dict(base)
    it["not_a_field"] = 1
    p.item("item-unknown", "unknown-field", it, canonical=False)
    it = dict(base)
    it.pop(field)
    p.item(f"item-missing-{field}", "null-missing", it)
    return base


def family_antifold(p: Pair) -> None:
    g = p.g
    chains = {"H": g.protein(12), "L": g.protein(10), "A": g.protein(6)}
    p.base_params = {"heavy_chain_id": "H", "light_chain_id": "L"}
    base = family_structure(p, "pdb", chains)
    rv = p.rules("validate_params", "validate_and_infer_type")

    def items():
        return [dict(base)]

    P = dict  # noqa: N806 - params objects, short to read
    p.add("chains-heavy-only", "cross-field", p.body(items(), P(heavy_chain_id="H")), rules=rv)
    p.add("chains-light-only", "cross-field", p.body(items(), P(light_chain_id="L")), rules=rv)
    p.add("chains-none", "cross-field", p.body(items(), {}), rules=rv)
    p.add("chains-with-antigen", "cross-field",
          p.body(items(), P(heavy_chain_id="H", light_chain_id="L", antigen_chain_id="A")), rules=rv)
    p.add("chain-not-in-pdb", "cross-field", p.body(items(), P(heavy_chain_id="Z", light_chain_id="L")), rules=rv)
    p.add("antigen-not-in-pdb", "cross-field",
          p.body(items(), P(heavy_chain_id="H", light_chain_id="L", antigen_chain_id="Q")), rules=rv)
    p.add("chain-lowercase", "cross-field", p.body(items(), P(heavy_chain_id="h", light_chain_id="l")), rules=rv)
    p.add("no-params", "null-missing", p.body(items(), "__omit__"), rules=rv)
    p.add("null-params", "null-missing", p.body(items(), None), rules=rv)
    for canon, alts in {"heavy_chain_id": ["heavy_chain", "nanobody_chain_id", "nanobody_chain"],
                        "light_chain_id": ["light_chain"], "antigen_chain_id": ["antigen_chain"]}.items():
        r = p.rules(f".{canon}: accepts keys")
        for alt in alts:
            prm = {"heavy_chain_id": "H", "light_chain_id": "L", "antigen_chain_id": "A"}
            prm = {(alt if k == canon else k): v for k, v in prm.items()}
            p.add(f"alias-{alt}", "alias", p.body(items(), prm), canonical=False, rules=r + rv)
        prm = {"heavy_chain_id": "H", "light_chain_id": "L", "antigen_chain_id": "A"}
        prm = {(canon + "s" if k == canon else k): v for k, v in prm.items()}
        p.add(f"alias-misspelt-{canon}", "alias", p.body(items(), prm), canonical=False, rules=r)
    ra = p.rules("accepts keys")
    p.add("alias-all-three", "alias",
          p.body(items(), {"heavy_chain": "H", "light_chain": "L", "antigen_chain": "A"}), canonical=False, rules=ra)
    p.add("alias-nanobody-only", "alias", p.body(items(), {"nanobody_chain": "H"}), canonical=False, rules=ra + rv)
    p.add("alias-and-canonical", "alias",
          p.body(items(), {"heavy_chain_id": "H", "heavy_chain": "H", "light_chain_id": "L"}), canonical=False,
          rules=ra)
    p.add("alias-wrong-chain", "alias", p.body(items(), {"heavy_chain": "Q", "light_chain": "L"}), canonical=False,
          rules=ra + rv)
    p.add("alias-light-wrong-chain", "alias", p.body(items(), {"heavy_chain_id": "H", "light_chain": "Q"}),
          canonical=False, rules=ra + rv)
    p.add("alias-antigen-wrong-chain", "alias",
          p.body(items(), {"heavy_chain_id": "H", "light_chain_id": "L", "antigen_chain": "Q"}), canonical=False,
          rules=ra + rv)
    p.add("chain-id-number", "strict-type", p.body(items(), {"heavy_chain_id": 1, "light_chain_id": "L"}))
    if p.action == "generate":
        base_p = {"heavy_chain_id": "H", "light_chain_id": "L"}
        p.add("regions-names", "cross-field", p.body(items(), {**base_p, "regions": ["CDRH3", "CDRL3"]}), rules=rv)
        p.add("regions-positions-in", "cross-field", p.body(items(), {**base_p, "regions": [1, 5, 10]}), rules=rv)
        p.add("regions-position-past-light", "cross-field",
              p.body(items(), {**base_p, "regions": [1, 11]}), rules=rv)
        p.add("regions-position-past-heavy", "cross-field",
              p.body(items(), {**base_p, "regions": [13]}), rules=rv)
        p.add("regions-position-zero", "cross-field", p.body(items(), {**base_p, "regions": [0]}), rules=rv)
        p.add("regions-mixed", "cross-field", p.body(items(), {**base_p, "regions": ["CDRH3", 4]}), rules=rv)
    p.params_cases(items)
    p.batch_cases(items)


def family_mpnn(p: Pair) -> None:
    g = p.g
    chains = {"A": g.protein(10), "B": g.protein(8)}
    base = family_structure(p, "pdb", chains)
    rv = p.rules("validate_params")

    def items():
        return [dict(base)]

    def add(tag, cat, prm, **kw):
        p.add(tag, cat, p.body(items(), prm), rules=kw.pop("rules", rv), **kw)

    add("fixed-in", "cross-field", {"fixed_residues": ["A1", "A5", "B3"]})
    add("fixed-chain-missing", "cross-field", {"fixed_residues": ["C1"]})
    add("fixed-position-past-end", "cross-field", {"fixed_residues": ["A11"]})
    add("fixed-bad-format", "cross-field", {"fixed_residues": ["1A"]})
    add("redesigned-in", "cross-field", {"redesigned_residues": ["B1", "B8"]})
    add("redesigned-past-end", "cross-field", {"redesigned_residues": ["B9"]})
    add("chains-to-design-in", "cross-field", {"chains_to_design": ["A"]})
    add("chains-to-design-missing", "cross-field", {"chains_to_design": ["Z"]})
    add("parse-only-in", "cross-field", {"parse_these_chains_only": ["A", "B"]})
    add("parse-only-missing", "cross-field", {"parse_these_chains_only": ["C"]})
    add("bias-aa-ok", "alphabet", {"bias_AA": {"A": -1.0, "W": 0.5}})
    add("bias-aa-lowercase-key", "alphabet", {"bias_AA": {"a": -1.0}})
    add("bias-aa-X-key", "alphabet", {"bias_AA": {"X": 1.0}})
    add("omit-aa-ok", "alphabet", {"omit_AA": "CW"})
    add("omit-aa-lowercase", "alphabet", {"omit_AA": "cw"})
    add("omit-aa-J", "alphabet", {"omit_AA": "J"})
    add("bias-per-residue-ok", "cross-field", {"bias_AA_per_residue": {"A3": {"G": 1.0}}})
    add("bias-per-residue-missing", "cross-field", {"bias_AA_per_residue": {"A30": {"G": 1.0}}})
    add("bias-per-residue-bad-aa", "alphabet", {"bias_AA_per_residue": {"A3": {"g": 1.0}}})
    add("omit-per-residue-ok", "cross-field", {"omit_AA_per_residue": {"B2": "CP"}})
    add("omit-per-residue-bad-aa", "alphabet", {"omit_AA_per_residue": {"B2": "cp"}})
    add("omit-per-residue-missing", "cross-field", {"omit_AA_per_residue": {"C2": "C"}})
    add("symmetry-ok", "cross-field",
        {"symmetry_residues": [["A1", "B1"]], "symmetry_weights": [[0.5, 0.5]]})
    add("symmetry-length-mismatch", "cross-field",
        {"symmetry_residues": [["A1", "B1"]], "symmetry_weights": [[1.0]]})
    add("symmetry-missing-residue", "cross-field", {"symmetry_residues": [["A1", "B99"]]})
    add("batch-size-float", "strict-type", {"batch_size": 2.0})
    add("temperature-int", "strict-type", {"temperature": 1})
    # params of another variant: the gateway takes the union, the container keeps its own
    foreign = {
        "ligand_mpnn_use_atom_context": True,
        "ligand_mpnn_cutoff_for_score": 8.0,
        "global_transmembrane_label": "membrane",
        "transmembrane_buried": ["A1"],
        "transmembrane_interface": ["B2"],
    }
    own = set()
    vc = p.rec.get("variant_constants", {}).get("config.mpnn_schema_map", {})
    schema_file = vc.get("schema_file")
    if schema_file:
        own = set(json.load(open(p.ref / schema_file)).get("properties", {}))
    p.own_params = own
    for k, v in foreign.items():
        tag = "own" if k in own else "foreign"
        add(f"{tag}-{k}", "foreign-params" if tag == "foreign" else "params", {k: v})
    add("foreign-bad-value", "foreign-params", {"ligand_mpnn_cutoff_for_score": "far"})
    add("transmembrane-missing-residue", "cross-field", {"transmembrane_buried": ["A99"]})
    p.params_cases(items)
    p.batch_cases(items)


def family_thermompnn(p: Pair) -> None:
    g = p.g
    seq = g.protein(12)
    base = family_structure(p, "pdb", {"A": seq})
    r = p.rules("validate_mutations")
    wt = seq[4]

    def m(muts, tag, cat="mutation"):
        it = dict(base)
        it["mutations"] = muts
        p.item(tag, cat, it, rules=r)

    m([f"{wt}5A"], "mutation-ok")
    m([f"{wt}5A", f"{seq[0]}1W"], "mutations-two")
    m(["A5"], "mutation-too-short")
    m(["AxxG"], "mutation-position-not-number")
    m(["B5A"], "mutation-bad-wildtype")
    m(["A5J"], "mutation-bad-target")
    m(["a5g"], "mutation-lowercase")
    m([""], "mutation-empty-string")
    m([], "mutations-empty-list")
    m(None, "mutations-null")
    m(["X5A"], "mutation-X-wildtype")
    m(["A999G"], "mutation-position-past-end")
    m(["A5G:B6C"], "mutation-multi-colon")
    if p.slug == "thermompnn-d":
        for mode in ("single", "additive", "epistatic"):
            p.add(f"mode-{mode}", "params", p.body([dict(base)], {"mode": mode}))
    p.add("chain-A", "params", p.body([dict(base)], {"chain": "A"}))
    p.add("chain-missing", "cross-field", p.body([dict(base)], {"chain": "Z"}))

    def items():
        return [dict(base)]

    p.params_cases(items)
    p.batch_cases(items)


def family_esm_if1(p: Pair) -> None:
    g = p.g
    base = family_structure(p, "pdb", {"A": g.protein(12), "B": g.protein(8)})

    def items():
        return [dict(base)]

    p.add("chain-B", "params", p.body(items(), {"chain": "B"}))
    p.add("chain-missing", "cross-field", p.body(items(), {"chain": "Z"}))
    p.add("chain-two-letters", "params", p.body(items(), {"chain": "AB"}))
    p.add("chain-empty", "params", p.body(items(), {"chain": ""}))
    p.params_cases(items)
    p.batch_cases(items)


def family_biotite(p: Pair) -> None:
    g = p.g
    chains = {"A": g.protein(10), "B": g.protein(8)}
    good = pdb_text(chains)
    if p.action == "generate":
        base = family_structure(p, "pdb", chains, {"chain_ids": ["A"]})

        def items():
            return [dict(base)]

        r = p.rules("pdb: accepts keys")
        p.item("alias-pdb_string", "alias", {"pdb_string": good, "chain_ids": ["A"]}, canonical=False, rules=r)
        p.item("alias-misspelt-pdb", "alias", {"pdb_text": good, "chain_ids": ["A"]}, canonical=False, rules=r)
        p.item("alias-pdb_string-crlf", "alias", {"pdb_string": good.replace("\n", "\r\n"), "chain_ids": ["B"]},
               canonical=False, rules=r)
        p.item("alias-pdb_string-empty", "alias", {"pdb_string": "", "chain_ids": ["A"]}, canonical=False, rules=r)
        p.item("alias-pdb_string-free-text", "alias", {"pdb_string": "hello", "chain_ids": ["A"]}, canonical=False,
               rules=r)
        p.item("alias-pdb_string-and-pdb", "alias", {"pdb_string": good, "pdb": good, "chain_ids": ["A"]},
               canonical=False, rules=r)
        p.item("chains-both", "cross-field", {"pdb": good, "chain_ids": ["A", "B"]})
        p.item("chain-missing-from-pdb", "cross-field", {"pdb": good, "chain_ids": ["Z"]})
        p.item("chains-empty", "cross-field", {"pdb": good, "chain_ids": []})
        p.item("chains-eleven", "cross-field", {"pdb": good, "chain_ids": list("ABCDEFGHIJK")})
        p.item("chain-ids-string", "strict-type", {"pdb": good, "chain_ids": "A"})
        p.item("chain-ids-missing", "null-missing", {"pdb": good})
        p.params_cases(items)
        p.batch_cases(items)
        return
    base = {"pdb_a": good, "pdb_b": pdb_text({"A": g.protein(10), "B": g.protein(8)}),
            "chain_a": ["A"], "chain_b": ["A"]}
    rl = p.rules("_validate_chain_lengths")
    rlegacy = p.rules("_accept_legacy_chain_ids")
    p.item("baseline-1", "baseline", base, rules=rl)
    p.item("chains-two-each", "cross-field", {**base, "chain_a": ["A", "B"], "chain_b": ["A", "B"]}, rules=rl)
    p.item("chains-unequal", "cross-field", {**base, "chain_a": ["A", "B"], "chain_b": ["A"]}, rules=rl)
    p.item("chains-empty", "cross-field", {**base, "chain_a": [], "chain_b": []}, rules=rl)
    p.item("chains-three-vs-two", "cross-field", {**base, "chain_a": ["A", "B", "A"], "chain_b": ["A", "B"]}, rules=rl)
    p.item("chains-swapped", "cross-field", {**base, "chain_a": ["B", "A"], "chain_b": ["A", "B"]}, rules=rl)
    p.item("legacy-chain-ids-only-a", "alias", {**legacy_base(base), "chain_ids": {"a": ["A"]}}, canonical=False,
           rules=rlegacy)
    legacy = {k: v for k, v in base.items() if k not in ("chain_a", "chain_b")}
    p.item("legacy-chain-ids", "alias", {**legacy, "chain_ids": {"a": ["A"], "b": ["B"]}}, canonical=False,
           rules=rlegacy)
    p.item("legacy-chain-ids-unequal", "alias", {**legacy, "chain_ids": {"a": ["A", "B"], "b": ["B"]}},
           canonical=False, rules=rlegacy + rl)
    p.item("legacy-chain-ids-list", "alias", {**legacy, "chain_ids": ["A", "B"]}, canonical=False, rules=rlegacy)
    p.item("legacy-and-canonical", "alias", {**base, "chain_ids": {"a": ["B"], "b": ["B"]}}, canonical=False,
           rules=rlegacy)
    p.item("chain-a-string", "strict-type", {**base, "chain_a": "A"})
    for f in ("pdb_a", "pdb_b"):
        r = p.rules(f".{f}: BeforeValidator")
        for tag, text in bad_pdbs(good)[:6]:
            p.item(f"{f}-{tag}", "structure-text", {**base, f: text}, rules=r)
        for tag, text in ok_pdb_variants(good):
            p.item(f"{f}-{tag}", "structure-text", {**base, f: text}, rules=r)
        p.item(f"{f}-hetatm", "structure-text", {**base, f: pdb_text(chains, hetatm=True)}, rules=r)
    p.item("item-unknown", "unknown-field", {**base, "extra": 1}, canonical=False)
    p.item("item-missing-pdb_b", "null-missing", {k: v for k, v in base.items() if k != "pdb_b"})
    p.item("item-missing-chain_b", "null-missing", {k: v for k, v in base.items() if k != "chain_b"})
    p.item("chain-a-number", "strict-type", {**base, "chain_a": [1]})

    def items():
        return [dict(base)]

    p.params_cases(items)
    p.batch_cases(items)


def legacy_base(base: dict) -> dict:
    return {k: v for k, v in base.items() if k not in ("chain_a", "chain_b")}


def family_prody(p: Pair) -> None:
    g = p.g
    chains = {"A": g.protein(10), "B": g.protein(8)}
    good = pdb_text(chains)
    cif = cif_text(chains)
    if p.action == "encode":
        rs = p.rules("validate_structure_provided")
        rp = p.rules("validate_chain_pairs", "convert_chain_pairs_to_tuples")
        rc = p.rules("validate_chain_selection")
        base = {"pdb": good}
        p.item("baseline-pdb", "baseline", base, rules=rs)
        p.item("baseline-cif", "baseline", {"cif": cif}, rules=rs)
        p.item("both-pdb-and-cif", "cross-field", {"pdb": good, "cif": cif}, rules=rs)
        p.item("neither", "cross-field", {}, rules=rs)
        p.item("neither-nulls", "cross-field", {"pdb": None, "cif": None}, rules=rs)
        p.item("chain-ids", "baseline", {"pdb": good, "chain_ids": ["A", "B"]})
        p.item("chain-pairs-ok", "cross-field", {"pdb": good, "chain_pairs": [["A", "B"]]}, rules=rp)
        p.item("chain-pairs-three", "cross-field", {"pdb": good, "chain_pairs": [["A", "B", "C"]]}, rules=rp)
        p.item("chain-pairs-number", "strict-type", {"pdb": good, "chain_pairs": [["A", 1]]}, rules=rp)
        p.item("chain-pairs-string", "strict-type", {"pdb": good, "chain_pairs": ["AB"]}, rules=rp)
        p.item("chain-pairs-in-ids", "cross-field",
               {"pdb": good, "chain_ids": ["A", "B"], "chain_pairs": [["A", "B"]]}, rules=rc)
        p.item("chain-pairs-not-in-ids", "cross-field",
               {"pdb": good, "chain_ids": ["A"], "chain_pairs": [["A", "B"]]}, rules=rc)
        p.item("pdb-empty", "structure-text", {"pdb": ""}, rules=rs)
        p.item("pdb-free-text", "structure-text", {"pdb": "not a pdb"}, rules=rs)
        p.item("cif-free-text", "structure-text", {"cif": "not a cif"}, rules=rs)
        p.item("chain-pairs-two", "cross-field", {"pdb": good, "chain_pairs": [["A", "B"], ["B", "A"]]}, rules=rp)
        p.item("chain-pairs-empty-pair", "cross-field", {"pdb": good, "chain_pairs": [[]]}, rules=rp)
        p.item("chain-pairs-one", "cross-field", {"pdb": good, "chain_pairs": [["A"]]}, rules=rp)
        p.item("chain-pairs-empty", "cross-field", {"pdb": good, "chain_pairs": []}, rules=rp)
        p.item("chain-pairs-same", "cross-field",
               {"pdb": good, "chain_ids": ["A"], "chain_pairs": [["A", "A"]]}, rules=rc)
        p.item("chain-pairs-ids-three", "cross-field",
               {"pdb": good, "chain_ids": ["A", "B", "C"], "chain_pairs": [["A", "C"]]}, rules=rc)
        p.item("chain-pairs-second-missing", "cross-field",
               {"pdb": good, "chain_ids": ["A", "B"], "chain_pairs": [["A", "B"], ["B", "C"]]}, rules=rc)
        for tag, text in bad_cifs(chains):
            p.item(f"cif-{tag}", "structure-text", {"cif": text}, rules=rs)
        p.item("pdb-number", "strict-type", {"pdb": 7})
        p.item("item-unknown", "unknown-field", {"pdb": good, "x": 1}, canonical=False)
        p.item("chain-ids-string", "strict-type", {"pdb": good, "chain_ids": "A"})

        def items():
            return [dict(base)]
    else:
        ra = p.rules("validate_structure_a_provided")
        rb = p.rules("validate_structure_b_provided")
        re_ = p.rules("validate_chains_exist")
        base = {"pdb_a": good, "chain_a": "A", "pdb_b": good, "chain_b": "B"}
        p.item("baseline-1", "baseline", base, rules=ra + rb + re_)
        p.item("baseline-cif", "baseline", {"cif_a": cif, "chain_a": ["A"], "cif_b": cif, "chain_b": ["B"]},
               rules=ra + rb)
        p.item("a-both", "cross-field", {**base, "cif_a": cif}, rules=ra)
        p.item("a-neither", "cross-field", {k: v for k, v in base.items() if k != "pdb_a"}, rules=ra)
        p.item("b-both", "cross-field", {**base, "cif_b": cif}, rules=rb)
        p.item("b-neither", "cross-field", {k: v for k, v in base.items() if k != "pdb_b"}, rules=rb)
        p.item("chain-missing-from-structure", "cross-field", {**base, "chain_a": "Z"}, rules=re_)
        p.item("chain-list", "baseline", {**base, "chain_a": ["A", "B"], "chain_b": ["A", "B"]})
        p.item("chain-number", "strict-type", {**base, "chain_a": 1})
        p.item("chain-a-missing", "null-missing", {k: v for k, v in base.items() if k != "chain_a"})
        p.item("a-cif-b-pdb", "cross-field", {"cif_a": cif, "chain_a": "A", "pdb_b": good, "chain_b": "B"},
               rules=ra + rb)
        p.item("a-nulls", "cross-field", {**base, "pdb_a": None, "cif_a": None}, rules=ra)
        p.item("b-nulls", "cross-field", {**base, "pdb_b": None, "cif_b": None}, rules=rb)
        for tag, text in bad_cifs(chains)[:3]:
            p.item(f"cif-a-{tag}", "structure-text", {**{k: v for k, v in base.items() if k != "pdb_a"},
                                                        "cif_a": text}, rules=ra)
        p.item("pdb-a-empty", "structure-text", {**base, "pdb_a": ""})
        p.item("pdb-a-free-text", "structure-text", {**base, "pdb_a": "not a pdb"})
        p.item("item-unknown", "unknown-field", {**base, "x": 1}, canonical=False)
        for mth in ("sequence", "structural"):
            p.add(f"method-{mth}", "params", p.body([dict(base)], {"alignment_method": mth}))

        def items():
            return [dict(base)]

    p.params_cases(items)
    p.batch_cases(items)


def family_spurs(p: Pair) -> None:
    g = p.g
    seq = g.protein(16)
    good = pdb_text({"A": seq})
    cif = cif_text({"A": seq})
    rs = p.rules("sequence: BeforeValidator")
    rm = p.rules("_normalize_mutation_list", "_validate_item")
    ri = p.rules("_validate_item")
    base = {"sequence": seq, "pdb": good, "chain_id": "A"}
    p.item("baseline-1", "baseline", base, rules=ri)
    p.item("baseline-cif", "baseline", {"sequence": seq, "cif": cif, "chain_id": "A"}, rules=ri)
    p.item("no-structure", "cross-field", {"sequence": seq}, rules=ri)
    p.item("chain-blank", "cross-field", {**base, "chain_id": " "}, rules=ri)
    p.item("mutations-ok", "mutation", {**base, "mutations": [f"{seq[1]}2A"]}, rules=rm)
    p.item("mutations-two", "mutation", {**base, "mutations": [f"{seq[1]}2A", f"{seq[9]}10W"]}, rules=rm)
    wrong = "A" if seq[1] != "A" else "C"
    p.item("mutation-wrong-wildtype", "mutation", {**base, "mutations": [f"{wrong}2G"]}, rules=rm)
    p.item("mutation-past-end", "mutation", {**base, "mutations": [f"{seq[1]}17A"]}, rules=rm)
    p.item("mutation-bad-target", "mutation", {**base, "mutations": [f"{seq[1]}2X"]}, rules=rm)
    p.item("mutation-lowercase", "mutation", {**base, "mutations": [f"{seq[1].lower()}2a"]}, rules=rm)
    p.item("mutations-empty-list", "mutation", {**base, "mutations": []}, rules=rm)
    p.item("mutations-string", "mutation", {**base, "mutations": f"{seq[1]}2A"}, rules=rm)
    p.item("mutation-garbage", "mutation", {**base, "mutations": ["hello"]}, rules=rm)
    var = seq[:3] + ("A" if seq[3] != "A" else "C") + seq[4:]
    p.item("variant-ok", "cross-field", {**base, "variant_sequence": var, "return_full_dms": False}, rules=ri)
    p.item("variant-needs-no-full-dms", "cross-field", {**base, "variant_sequence": var}, rules=ri)
    p.item("variant-and-mutations", "cross-field",
           {**base, "variant_sequence": var, "return_full_dms": False, "mutations": [f"{seq[1]}2A"]}, rules=ri)
    p.item("variant-length-mismatch", "cross-field",
           {**base, "variant_sequence": var + "A", "return_full_dms": False}, rules=ri)
    p.item("chain-two-letters", "length", {**base, "chain_id": "AB"})
    p.string_field_cases(base, "sequence", "aa", 1024, lambda k: g.protein(k), rs)
    p.item("pdb-free-text", "structure-text", {**base, "pdb": "not a pdb"}, rules=ri)
    p.item("pdb-and-cif", "cross-field", {**base, "cif": cif}, rules=ri)
    for tag, text in bad_cifs({"A": seq}):
        p.item(f"cif-{tag}", "structure-text", {"sequence": seq, "cif": text, "chain_id": "A"}, rules=ri)
    for tag, text in bad_pdbs(good)[:5]:
        p.item(f"pdb-{tag}", "structure-text", {**base, "pdb": text}, rules=ri)
    p.item("item-unknown", "unknown-field", {**base, "x": 1}, canonical=False)

    def items():
        return [dict(base)]

    p.params_cases(items)
    p.batch_cases(items)


def family_msa(p: Pair) -> None:
    g = p.g
    r = p.rules("msa: BeforeValidator")
    row = g.protein(30)

    def msa(k=4, n=30):
        first = g.protein(n)
        return [first] + [first[:5] + "-" + first[6:] for _ in range(k - 1)]

    base = {"msa": msa()}
    p.item("baseline-1", "baseline", base, rules=r)
    p.item("msa-with-dot", "alphabet", {"msa": [row, row[:3] + "." + row[4:]]}, rules=r)
    p.item("msa-unequal", "cross-field", {"msa": [row, row[:-1]]}, rules=r)
    p.item("msa-lowercase", "alphabet", {"msa": [row, row.lower()]}, rules=r)
    p.item("msa-J", "alphabet", {"msa": [row, row[:4] + "J" + row[5:]]}, rules=r)
    p.item("msa-one-row", "length", {"msa": [row]}, rules=r)
    p.item("msa-row-1024", "length", {"msa": [g.protein(1024)] * 2}, rules=r)
    p.item("msa-row-1025", "length", {"msa": [g.protein(1025)] * 2}, rules=r)
    p.item("msa-256-rows", "length", {"msa": [row] * 256}, rules=r)
    p.item("msa-257-rows", "length", {"msa": [row] * 257}, rules=r)
    p.item("msa-trailing-newline", "whitespace", {"msa": [row + "\n", row + "\n"]}, rules=r)
    p.item("msa-string", "strict-type", {"msa": row}, rules=r)
    p.item("msa-empty-rows", "length", {"msa": ["", ""]}, rules=r)
    p.item("msa-X-gap-only", "alphabet", {"msa": ["X" * 10, "-" * 10]}, rules=r)
    p.item("item-unknown", "unknown-field", {**base, "x": 1}, canonical=False)

    def items():
        return [{"msa": msa()}]

    p.params_cases(items)
    p.batch_cases(items)


def family_e1(p: Pair) -> None:
    kind = {"encode": "aa_ext", "predict": "e1_mask", "log_prob": "aa"}[p.action]
    seq_family(p, "sequence", kind, 50)
    g = p.g
    rc = p.rules("validate_context_sequences")

    def seq():
        s = g.protein(40)
        return s[:20] + "?" + s[21:] if kind == "e1_mask" else s

    p.item("context-ok", "cross-field", {"sequence": seq(), "context_sequences": [g.protein(30), g.protein(35)]},
           rules=rc)
    p.item("context-null", "null-missing", {"sequence": seq(), "context_sequences": None}, rules=rc)
    p.item("context-empty-list", "cross-field", {"sequence": seq(), "context_sequences": []}, rules=rc)
    p.item("context-empty-string", "cross-field", {"sequence": seq(), "context_sequences": [""]}, rules=rc)
    p.item("context-with-mask", "mask", {"sequence": seq(), "context_sequences": [g.protein(10) + "?"]}, rules=rc)
    p.item("context-lowercase", "alphabet", {"sequence": seq(), "context_sequences": [g.protein(20).lower()]},
           rules=rc)
    p.item("context-X", "alphabet", {"sequence": seq(), "context_sequences": ["X" + g.protein(20)]}, rules=rc)
    p.item("context-2048", "length", {"sequence": seq(), "context_sequences": [g.protein(2048)]}, rules=rc)
    p.item("context-2049", "length", {"sequence": seq(), "context_sequences": [g.protein(2049)]}, rules=rc)
    p.item("context-50", "length", {"sequence": seq(), "context_sequences": [g.protein(8)] * 50}, rules=rc)
    p.item("context-51", "length", {"sequence": seq(), "context_sequences": [g.protein(8)] * 51}, rules=rc)
    p.item("context-string", "strict-type", {"sequence": seq(), "context_sequences": g.protein(8)}, rules=rc)


def family_zymctrl(p: Pair) -> None:
    g = p.g
    rec = p.rules("validate_ec")
    if p.action == "encode":
        seq_family(p, "sequence", "aa", 60)
        s = g.protein(60)
        for tag, ec in (("ok", "3.5.5.1"), ("partial", "3.5"), ("one-part", "3"), ("five-parts", "1.2.3.4.5"),
                        ("letters", "EC 3.5.5.1"), ("dash", "3.5.-.-"), ("spaces", " 3.5.5.1 "),
                        ("empty", ""), ("null", None), ("trailing-dot", "3.5.")):
            p.item(f"ec-{tag}", "format", {"sequence": s, "ec_number": ec}, rules=rec)
        p.item("ec-number-type", "strict-type", {"sequence": s, "ec_number": 3.5})
        return
    base = {"ec_number": "3.5.5.1"}
    for tag, ec in (("ok", "3.5.5.1"), ("partial-2", "1.1"), ("partial-3", "2.7.11"), ("one-part", "3"),
                    ("five-parts", "1.2.3.4.5"), ("prefix", "EC3.5.5.1"), ("dash", "3.5.-.-"),
                    ("spaces", " 3.5.5.1 "), ("trailing-newline", "3.5.5.1\n"), ("empty", ""),
                    ("letters", "a.b.c.d"), ("double-dot", "3..5")):
        p.item(f"ec-{tag}", "format", {"ec_number": ec}, rules=rec)
    p.item("ec-number-type", "strict-type", {"ec_number": 3.5}, rules=rec)
    p.item("ec-null", "null-missing", {"ec_number": None}, rules=rec)
    p.item_shape_cases(base, ["ec_number"])

    def items():
        return [dict(base)]

    p.params_cases(items)
    p.batch_cases(items)


def family_chemberta(p: Pair) -> None:
    r = p.rules("smiles: BeforeValidator")
    base = {"smiles": "CCO"}
    for tag, s in (("ethanol", "CCO"), ("benzene", "c1ccccc1"), ("aspirin", "CC(=O)OC1=CC=CC=C1C(=O)O"),
                   ("charged", "[NH4+]"), ("stereo", "C[C@H](N)C(=O)O"), ("dot", "[Na+].[Cl-]")):
        p.item(f"smiles-{tag}", "baseline" if tag == "ethanol" else "chemistry-text", {"smiles": s}, rules=r)
    for tag, s in (("space", "C C O"), ("unbalanced-paren", "CC(=O"), ("unbalanced-bracket", "[NH4+"),
                   ("bad-char", "CC$O"), ("blank", "   "), ("empty", ""), ("trailing-newline", "CCO\n"),
                   ("leading-space", " CCO"), ("unicode", "CCÖ"), ("percent-ring", "C%10CCCCC%10")):
        p.item(f"smiles-{tag}", "chemistry-text", {"smiles": s}, rules=r)
    p.item("smiles-at-max", "length", {"smiles": "C" * 512}, rules=r)
    p.item("smiles-over-max", "length", {"smiles": "C" * 513}, rules=r)
    p.item("smiles-number", "strict-type", {"smiles": 7}, rules=r)
    p.item_shape_cases(base, ["smiles"])

    def items():
        return [{"smiles": "CCN"}]

    p.params_cases(items)
    p.batch_cases(items)


def family_dna_chisel(p: Pair) -> None:
    seq_family(p, "sequence", "dna", 60)
    g = p.g
    r = p.rules("validate_restriction_enzymes")
    s = g.dna(60)
    for tag, enz in (("ok", ["EcoRI", "BamHI"]), ("empty", []), ("null", None), ("unknown", ["NotAnEnzyme"]),
                     ("lowercase", ["ecori"]), ("mixed", ["EcoRI", "Nope"])):
        p.add(f"enzymes-{tag}", "format", p.body([{"sequence": s}], {"restriction_enzymes": enz}), rules=r)
    p.add("species-bad", "params", p.body([{"sequence": s}], {"species": "homo_sapiens"}))


def family_dsm(p: Pair) -> None:
    kind = {"generate": "dsm_gen", "encode": "aa_gap", "score": "aa"}[p.action]
    seq_family(p, "sequence", kind, 40)
    if p.action == "generate":
        p.add("max-length-at-min", "params", p.body([{"sequence": ""}], {"max_length": 10}))
        p.add("max-length-under-min", "params", p.body([{"sequence": ""}], {"max_length": 9}))


def family_sadie(p: Pair) -> None:
    seq_family(p, "sequence", "aa_ext", 110)
    g = p.g
    r = p.rules("_check_allowed_chain")
    s = g.protein(110)
    for tag, ch in (("H", ["H"]), ("HKL", ["H", "K", "L"]), ("lowercase", ["h"]), ("bad", ["Q"]),
                    ("empty", []), ("string", "H")):
        p.add(f"allowed-chain-{tag}", "format", p.body([{"sequence": s}], {"allowed_chain": ch}), rules=r)
    ri = p.rules("validate_items")
    for n in (1, 8, 9):
        p.add(f"items-{n}", "batch-size", p.body([{"sequence": s}] * n), rules=ri)
    p.add("items-0", "batch-size", p.body([]), rules=ri)


def family_chai1(p: Pair) -> None:
    g = p.g
    prot = {"name": "A", "type": "protein", "sequence": g.protein(50)}
    lig = {"name": "L", "type": "ligand", "smiles": "CCO"}
    rm = p.rules("validate_molecules")
    rs = p.rules("validate_sequence")
    rsm = p.rules("validate_smiles_field")
    ra = p.rules("validate_alignment")
    ri = p.rules("force_empty_include")

    def it(*mols):
        return {"molecules": list(mols)}

    def items():
        return [it(dict(prot))]

    p.item("baseline-protein", "baseline", it(prot), rules=rs + rm)
    p.item("baseline-protein-ligand", "baseline", it(prot, lig), rules=rsm)
    p.item("molecules-empty", "cross-field", it(), rules=rm)
    p.item("molecules-5", "cross-field", it(*[dict(prot, name=c) for c in "ABCDE"]), rules=rm)
    p.item("molecules-6", "cross-field", it(*[dict(prot, name=c) for c in "ABCDEF"]), rules=rm)
    p.item("protein-lowercase", "alphabet", it(dict(prot, sequence=prot["sequence"].lower())), rules=rs)
    p.item("protein-X", "alphabet", it(dict(prot, sequence="X" + prot["sequence"])), rules=rs)
    p.item("protein-1024", "length", it(dict(prot, sequence=g.protein(1024))), rules=rs)
    p.item("protein-1025", "length", it(dict(prot, sequence=g.protein(1025))), rules=rs)
    p.item("protein-trailing-newline", "whitespace", it(dict(prot, sequence=prot["sequence"] + "\n")), rules=rs)
    p.item("dna-ok", "baseline", it({"name": "D", "type": "DNA", "sequence": g.dna(40)}), rules=rs)
    p.item("dna-lowercase", "alphabet", it({"name": "D", "type": "DNA", "sequence": g.dna(40).lower()}), rules=rs)
    p.item("dna-U", "alphabet", it({"name": "D", "type": "DNA", "sequence": "ACGU"}), rules=rs)
    p.item("rna-ok", "baseline", it({"name": "R", "type": "RNA", "sequence": "ACGUACGU"}), rules=rs)
    p.item("rna-T", "alphabet", it({"name": "R", "type": "RNA", "sequence": "ACGT"}), rules=rs)
    p.item("ligand-sequence-smiles", "chemistry-text", it({"name": "L", "type": "ligand", "sequence": "CCO"}),
           rules=rs)
    p.item("ligand-sequence-bad", "chemistry-text", it({"name": "L", "type": "ligand", "sequence": "CC(O"}),
           rules=rs)
    p.item("ligand-sequence-129", "length", it({"name": "L", "type": "ligand", "sequence": "C" * 129}), rules=rs)
    p.item("smiles-bad", "chemistry-text", it(prot, dict(lig, smiles="C C")), rules=rsm)
    p.item("smiles-unbalanced", "chemistry-text", it(prot, dict(lig, smiles="C1CC[")), rules=rsm)
    p.item("smiles-128", "length", it(prot, dict(lig, smiles="C" * 128)), rules=rsm)
    p.item("smiles-129", "length", it(prot, dict(lig, smiles="C" * 129)), rules=rsm)
    p.item("alignment-protein", "cross-field", it(dict(prot, alignment={"uniref90": ">q\nMK\n"})), rules=ra)
    p.item("alignment-ligand", "cross-field", it(prot, dict(lig, alignment={"uniref90": ">q\nMK\n"})), rules=ra)
    p.item("alignment-bad-db", "cross-field", it(dict(prot, alignment={"pdb70": "x"})), rules=ra)
    p.item("molecule-missing-type", "null-missing", it({"name": "A", "sequence": "MK"}))
    p.item("molecule-unknown", "unknown-field", it(dict(prot, chain="A")), canonical=False)
    p.add("include-empty", "params", p.body(items(), {"include": []}), rules=ri)
    p.add("include-pae", "params", p.body(items(), {"include": ["pae"]}), rules=ri)
    p.add("include-plddt", "params", p.body(items(), {"include": ["plddt"]}), rules=ri)
    p.add("include-omitted", "params", p.body(items(), {"seed": 1}), rules=ri)
    p.add("include-both", "params", p.body(items(), {"include": ["pae", "plddt"]}), rules=ri)
    p.item("alignment-dna", "cross-field", it({"name": "D", "type": "DNA", "sequence": "ACGT",
                                               "alignment": {"uniref90": "x"}}), rules=ra)
    p.item("alignment-null", "cross-field", it(dict(prot, alignment=None)), rules=ra)
    p.item("alignment-two-dbs", "cross-field", it(dict(prot, alignment={"uniref90": "a", "mgnify": "b"})), rules=ra)
    p.item("molecules-two-proteins", "baseline", it(prot, dict(prot, name="B")), rules=rm)
    p.item("smiles-ok-ring", "chemistry-text", it(prot, dict(lig, smiles="c1ccccc1O")), rules=rsm)
    p.item("smiles-empty", "chemistry-text", it(prot, dict(lig, smiles="")), rules=rsm)
    p.params_cases(items)
    p.batch_cases(items)


def family_rf3(p: Pair) -> None:
    g = p.g
    prot = {"name": "A", "type": "protein", "sequence": g.protein(40)}
    r = p.rules("check_at_least_one_payload_field")

    def it(*comps, **kw):
        return {"name": "job", "components": list(comps), **kw}

    def items():
        return [it(dict(prot))]

    p.item("baseline-protein", "baseline", it(prot), rules=r)
    p.item("ligand-smiles", "baseline", it(prot, {"name": "L", "type": "ligand", "smiles": "CCO"}), rules=r)
    p.item("ligand-ccd", "baseline", it(prot, {"name": "L", "type": "ligand", "ccd_code": "ATP"}), rules=r)
    p.item("component-no-payload", "cross-field", it({"name": "A", "type": "protein"}), rules=r)
    p.item("component-only-chain", "cross-field", it({"name": "A", "type": "protein", "chain_id": "A"}), rules=r)
    p.item("component-nulls", "cross-field",
           it({"name": "A", "type": "protein", "sequence": None, "smiles": None, "ccd_code": None}), rules=r)
    p.item("component-cif-only", "cross-field",
           it({"name": "A", "type": "protein", "structure_cif": cif_text({"A": "MKT"})}), rules=r)
    p.item("components-empty", "cross-field", it())
    p.item("protein-lowercase", "alphabet", it(dict(prot, sequence=prot["sequence"].lower())))
    p.item("protein-J", "alphabet", it(dict(prot, sequence="J" + prot["sequence"])))
    p.item("smiles-bad", "chemistry-text", it(prot, {"name": "L", "type": "ligand", "smiles": "C C"}))
    p.item("bonds-ok", "cross-field", {**it(prot, {"name": "L", "type": "ligand", "ccd_code": "ATP"}),
                                       "bonds": [[["A", 1, "SG"], ["L", 1, "C1"]]]})
    p.item("type-bad", "params", it(dict(prot, type="peptide")))
    p.item("name-missing", "null-missing", {"components": [prot]})
    p.item("component-unknown", "unknown-field", it(dict(prot, extra=1)), canonical=False)
    p.params_cases(items)
    p.batch_cases(items)


def family_boltzgen(p: Pair) -> None:
    g = p.g
    r = {k: p.rules(k) for k in ("_check_res_index", "validate_at_least_one_constraint", "_check_insertion_keys",
                                 "_check_additional_filters", "validate_exactly_one_entity_type",
                                 "validate_file_provided", "validate_ligand_has_ccd_or_smiles")}
    prot = {"protein": {"id": "A", "sequence": "80..100"}}
    seqprot = {"protein": {"id": "B", "sequence": g.protein(30)}}
    lig = {"ligand": {"id": "L", "smiles": "CCO"}}
    pdb = pdb_text({"A": g.protein(20)})
    p.base_params = {"protocol": "protein-anything"}

    def it(*ents, **kw):
        return {"entities": list(ents), **kw}

    def items():
        return [it(prot)]

    ent = r["validate_exactly_one_entity_type"]
    p.item("baseline-protein", "baseline", it(prot), rules=ent)
    p.item("baseline-sequence", "baseline", it(seqprot, lig), rules=r["validate_ligand_has_ccd_or_smiles"])
    p.item("entity-two-kinds", "cross-field", it({**prot, **lig}), rules=ent)
    p.item("entity-none", "cross-field", it({}), rules=ent)
    p.item("ligand-ccd", "baseline", it(seqprot, {"ligand": {"id": "L", "ccd": "ATP"}}),
           rules=r["validate_ligand_has_ccd_or_smiles"])
    p.item("ligand-neither", "cross-field", it(seqprot, {"ligand": {"id": "L"}}),
           rules=r["validate_ligand_has_ccd_or_smiles"])
    fr = r["validate_file_provided"]
    p.item("file-pdb", "structure-text", it(prot, {"file": {"pdb": pdb}}), rules=fr)
    p.item("file-cif", "structure-text", it(prot, {"file": {"cif": cif_text({"A": "MKT"})}}), rules=fr)
    p.item("file-none", "cross-field", it(prot, {"file": {}}), rules=fr)
    p.item("file-both", "cross-field", it(prot, {"file": {"pdb": pdb, "cif": cif_text({"A": "MKT"})}}), rules=fr)
    p.item("file-pdb-free-text", "structure-text", it(prot, {"file": {"pdb": "not a pdb"}}), rules=fr)
    rr = r["_check_res_index"]
    for tag, ri in (("range", "1..5"), ("all", "all"), ("list", "1,3,5"), ("open", "..5"), ("int", 3),
                    ("zero", 0), ("bad", "one"), ("mixed-list", [1, "3..4"]), ("list-zero", [0])):
        p.item(f"design-res-index-{tag}", "format",
               it(prot, {"file": {"pdb": pdb, "design": [{"chain": "A", "res_index": ri}]}}), rules=rr)
    p.item("include-res-index-bad", "format",
           it(prot, {"file": {"pdb": pdb, "include": [{"id": "A", "res_index": "x..y"}]}}), rules=rr)
    ir = r["_check_insertion_keys"]
    p.item("insertion-ok", "cross-field",
           it(prot, {"file": {"pdb": pdb, "design_insertions": [{"insertion": {"id": "A", "res_index": 3,
                                                                              "num_residues": "2..4"}}]}}), rules=ir)
    p.item("insertion-no-id", "cross-field",
           it(prot, {"file": {"pdb": pdb, "design_insertions": [{"insertion": {"res_index": 3}}]}}), rules=ir)
    p.item("insertion-no-res-index", "cross-field",
           it(prot, {"file": {"pdb": pdb, "design_insertions": [{"insertion": {"id": "A"}}]}}), rules=ir)
    cr = r["validate_at_least_one_constraint"]
    p.item("constraint-total-len", "cross-field", it(prot, constraints=[{"total_len": {"min": 50, "max": 100}}]),
           rules=cr)
    p.item("constraint-none", "cross-field", it(prot, constraints=[{}]), rules=cr)
    p.item("constraint-two", "cross-field",
           it(prot, constraints=[{"total_len": {"min": 5}, "pocket": {"binder": "A", "contacts": [["B", 1]]}}]),
           rules=cr)
    fr2 = r["_check_additional_filters"]
    for tag, f in (("ok", ["plddt>70"]), ("ge", ["ptm>=0.5"]), ("neg", ["affinity>-5.0"]), ("spaces", ["plddt > 70"]),
                   ("bad-op", ["plddt=70"]), ("no-number", ["plddt>high"]), ("empty", [""])):
        p.add(f"filters-{tag}", "format", p.body(items(), {"protocol": "protein-anything", "additional_filters": f}),
              rules=fr2)
    p.add("protocol-bad", "params", p.body(items(), {"protocol": "anything"}))
    p.item("entity-dna", "cross-field", it(prot, {"dna": {"id": "D", "sequence": "ACGT"}}), rules=ent)
    p.item("entity-protein-and-file", "cross-field", it({**prot, "file": {"pdb": pdb}}), rules=ent)
    p.item("entity-all-null", "cross-field", it({"protein": None, "ligand": None}), rules=ent)
    p.item("constraint-bond", "cross-field",
           it(seqprot, lig, constraints=[{"bond": {"atom1": ["B", 1, "SG"], "atom2": ["L", 1, "C1"]}}]), rules=cr)
    p.item("constraint-contact-and-bond", "cross-field",
           it(seqprot, lig, constraints=[{"bond": {"atom1": ["B", 1, "SG"], "atom2": ["L", 1, "C1"]},
                                          "contact": {"token1": ["B", 1], "token2": ["L", 1], "max_distance": 5}}]),
           rules=cr)
    p.item("constraint-nulls", "cross-field", it(prot, constraints=[{"bond": None, "pocket": None}]), rules=cr)
    p.item("insertion-id-and-index-only", "cross-field",
           it(prot, {"file": {"pdb": pdb, "design_insertions": [{"insertion": {"id": "A", "res_index": 2}}]}}),
           rules=ir)
    p.item("insertion-empty", "cross-field",
           it(prot, {"file": {"pdb": pdb, "design_insertions": [{"insertion": {}}]}}), rules=ir)
    p.item("ligand-both", "cross-field", it(seqprot, {"ligand": {"id": "L", "ccd": "ATP", "smiles": "CCO"}}),
           rules=r["validate_ligand_has_ccd_or_smiles"])
    p.item("ligand-nulls", "cross-field", it(seqprot, {"ligand": {"id": "L", "ccd": None, "smiles": None}}),
           rules=r["validate_ligand_has_ccd_or_smiles"])
    p.item("file-nulls", "cross-field", it(prot, {"file": {"pdb": None, "cif": None}}), rules=fr)
    p.item("file-empty-pdb", "cross-field", it(prot, {"file": {"pdb": ""}}), rules=fr)
    p.item("entity-unknown", "unknown-field", it({"protein": {"id": "A", "sequence": "10", "x": 1}}), canonical=False)
    p.item("protein-sequence-int", "strict-type", it({"protein": {"id": "A", "sequence": 12}}))
    p.item("ligand-smiles-bad", "chemistry-text", it(seqprot, {"ligand": {"id": "L", "smiles": "C C("}}),
           rules=r["validate_ligand_has_ccd_or_smiles"])
    p.item("ligand-smiles-ring", "chemistry-text", it(seqprot, {"ligand": {"id": "L", "smiles": "c1ccncc1"}}),
           rules=r["validate_ligand_has_ccd_or_smiles"])
    p.params_cases(items)
    p.batch_cases(items)


# ---------------------------------------------------------------- dispatch

ALIASES_AB = {"heavy_chain": ["heavy"], "light_chain": ["light"]}
ALIASES_HL = {"heavy_chain": ["H"], "light_chain": ["L"], "tcr_alpha": ["A"], "tcr_beta": ["B"],
              "mhc": ["M"], "peptide": ["P"]}


def build_pair(p: Pair) -> None:
    f, a = p.family, p.action
    if f == "ablang2":
        paired_family(p, ["heavy_chain", "light_chain"], ALIASES_AB, "aa_star" if a == "generate" else "aa_ext")
    elif f == "abodybuilder3":
        paired_family(p, ["heavy_chain", "light_chain"], {"heavy_chain": ["H"], "light_chain": ["L"]}, "aa_ext")
    elif f == "deepviscosity":
        paired_family(p, ["heavy_chain", "light_chain"], {}, "aa")
    elif f == "antifold":
        family_antifold(p)
    elif f == "biotite":
        family_biotite(p)
    elif f == "boltzgen":
        family_boltzgen(p)
    elif f == "chai1":
        family_chai1(p)
    elif f == "chemberta":
        family_chemberta(p)
    elif f == "dna-chisel":
        family_dna_chisel(p)
    elif f in ("dnabert2", "omni-dna"):
        seq_family(p, "sequence", "dna", 60)
    elif f in ("evo", "evo2"):
        seq_family(p, "prompt" if a == "generate" else "sequence", "dna", 60)
    elif f == "dsm":
        family_dsm(p)
    elif f == "e1":
        family_e1(p)
    elif f == "esm-if1":
        family_esm_if1(p)
    elif f in ("esm1b", "esm2", "esmc", "esm1v"):
        if a == "predict":
            seq_family(p, "sequence", "aa_mask1" if f == "esm1v" else "aa_mask", 40)
        elif f == "esmc" and a == "log_prob":
            seq_family(p, "sequence", "aa", 40)
        else:
            seq_family(p, "sequence", "aa_gap", 40)
    elif f == "esmfold":
        family_esmfold(p)
    elif f == "igbert":
        chains_family(p, ["heavy_chain", "light_chain", "sequence"], ALIASES_AB,
                      [("paired", ["heavy_chain", "light_chain"]), ("unpaired", ["sequence"]),
                       ("bad-heavy-only", ["heavy_chain"]), ("bad-all-three", ["heavy_chain", "light_chain", "sequence"]),
                       ("bad-sequence-and-light", ["sequence", "light_chain"])])
    elif f == "igt5":
        chains_family(p, ["heavy_chain", "light_chain", "sequence"], ALIASES_AB,
                      [("paired", ["heavy_chain", "light_chain"]), ("unpaired", ["sequence"]),
                       ("bad-light-only", ["light_chain"]), ("bad-all-three", ["heavy_chain", "light_chain", "sequence"])])
    elif f == "immunebuilder":
        chains_family(p, [], ALIASES_HL,
                      [("antibody", ["heavy_chain", "light_chain"]), ("nanobody", ["heavy_chain"]),
                       ("tcr", ["tcr_alpha", "tcr_beta"]), ("bad-light-only", ["light_chain"]),
                       ("bad-alpha-only", ["tcr_alpha"]), ("bad-mixed", ["heavy_chain", "tcr_alpha"])])
    elif f == "immunefold":
        immunefold(p)
    elif f == "mpnn":
        family_mpnn(p)
    elif f == "msa-transformer":
        family_msa(p)
    elif f == "prody":
        family_prody(p)
    elif f == "progen2":
        seq_family(p, "context", "aa", 30)
    elif f == "prostt5":
        fold = "fold2aa" in p.slug
        seq_family(p, "sequence", "3di" if fold else "aa_ext", 40)
        if a == "generate":
            d = FOLD2AA_REASON if fold else None
            s = p.g.protein(40, AA.lower() if fold else AA)
            for nb in (1, 3):
                p.add(f"num-beams-{nb}", "params", p.body([{"sequence": s}], {"num_beams": nb}), deliberate=d)
            p.add("num-beams-and-seed", "params", p.body([{"sequence": s}], {"num_beams": 2, "seed": 1}),
                  deliberate=d)
            if fold:  # what the gateway accepts (amino acids) with the param the container forbids
                r = p.rules("sequence: BeforeValidator")
                p.add("num-beams-aa", "params", p.body([{"sequence": p.g.protein(40)}], {"num_beams": 1}),
                      deliberate=d, rules=r)
                p.add("no-num-beams-aa", "params", p.body([{"sequence": p.g.protein(40)}], {"top_k": 3}),
                      deliberate=d, rules=r)
    elif f == "rf3":
        family_rf3(p)
    elif f == "sadie":
        family_sadie(p)
    elif f == "spurs":
        family_spurs(p)
    elif f == "temberture":
        seq_family(p, "sequence", "aa_gap", 60)
    elif f in ("thermompnn", "thermompnn-d"):
        family_thermompnn(p)
    elif f == "zymctrl":
        family_zymctrl(p)
    else:
        raise SystemExit(f"make_bodies.py: no generator for family {f!r} ({p.slug}/{a})")


def immunefold(p: Pair) -> None:
    g = p.g
    rr = p.rules("validate_and_infer_type")
    H, L = g.protein(110), g.protein(100)
    A, B, M, P = g.protein(100), g.protein(100), g.protein(180), g.protein(9)
    pdb = pdb_text({"C": g.protein(30)})
    base = {"heavy_chain": H, "light_chain": L}
    cases = [
        ("antibody", "baseline", base),
        ("vhh", "baseline", {"heavy_chain": H}),
        ("tcr", "baseline", {"tcr_alpha": A, "tcr_beta": B, "mhc": M, "peptide": P}),
        ("antibody-antigen", "baseline", {**base, "pdb": pdb}),
        ("light-only", "cross-field", {"light_chain": L}),
        ("tcr-missing-mhc", "cross-field", {"tcr_alpha": A, "tcr_beta": B, "peptide": P}),
        ("pdb-with-tcr", "cross-field", {"tcr_alpha": A, "tcr_beta": B, "mhc": M, "peptide": P, "pdb": pdb}),
        ("pdb-alone", "cross-field", {"pdb": pdb}),
        ("heavy-89", "length", {"heavy_chain": g.protein(89), "light_chain": L}),
        ("heavy-90", "length", {"heavy_chain": g.protein(90), "light_chain": L}),
        ("light-84", "length", {"heavy_chain": H, "light_chain": g.protein(84)}),
        ("light-85", "length", {"heavy_chain": H, "light_chain": g.protein(85)}),
        ("heavy-256", "length", {"heavy_chain": g.protein(256), "light_chain": L}),
        ("heavy-257", "length", {"heavy_chain": g.protein(257), "light_chain": L}),
        ("empty", "cross-field", {}),
        ("heavy-lowercase", "alphabet", {"heavy_chain": H.lower(), "light_chain": L}),
        ("heavy-J", "alphabet", {"heavy_chain": "J" + H[1:], "light_chain": L}),
        ("heavy-trailing-newline", "whitespace", {"heavy_chain": H + "\n", "light_chain": L}),
        ("peptide-X", "alphabet", {"tcr_alpha": A, "tcr_beta": B, "mhc": M, "peptide": "X" + P[1:]}),
    ]
    for tag, cat, it in cases:
        p.item(tag, cat, it, rules=rr)
    p.alias_cases({"heavy_chain": H, "light_chain": L}, {"heavy_chain": ["H"], "light_chain": ["L"]})
    p.alias_cases({"tcr_alpha": A, "tcr_beta": B, "mhc": M, "peptide": P},
                  {"tcr_alpha": ["A"], "tcr_beta": ["B"], "mhc": ["M"], "peptide": ["P"]}, prefix="tcr-")
    p.item("item-unknown", "unknown-field", {**base, "x": 1}, canonical=False)

    def items():
        return [dict(base)]

    p.add("contact-idx", "params", p.body(items(), {"contact_idx": 3}))
    p.params_cases(items)
    p.batch_cases(items)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", help="reference corpus directory (with index.json)")
    ap.add_argument("--out", default=str(HERE / "bodies.jsonl"))
    args = ap.parse_args(argv)
    ref = find_reference(args.reference)
    index = json.loads((ref / "index.json").read_text())
    records = []
    for rec in index:
        for action in rec["actions"]:
            root = json.loads((ref / rec["schema_files"][action]["request"]).read_text())
            p = Pair(rec, action, root)
            p.ref = ref
            build_pair(p)
            ids = [r["id"] for r in p.out]
            dup = sorted({i for i in ids if ids.count(i) > 1})
            assert not dup, f"duplicate ids: {dup}"
            records += p.out
    with open(args.out, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n")
    per_pair: dict[tuple[str, str], int] = {}
    for r in records:
        per_pair[(r["slug"], r["action"])] = per_pair.get((r["slug"], r["action"]), 0) + 1
    print(f"{len(records)} bodies over {len(per_pair)} pairs "
          f"(fewest {min(per_pair.values())}, most {max(per_pair.values())}) -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
