#!/usr/bin/env python3
"""Builds schemas/<family>.json from the reference corpus of BioLM model schemas.

Usage: python3 tools/import_reference.py [REFERENCE_DIR] [OUT_DIR]
(defaults: ../shared/reference/biolm-hub relative to the repository, and schemas/)

What it copies: the structure of every request and response schema (field
names, types, nesting, required, enums, limits, defaults, $defs, titles).
What it writes itself: every `description` (from tools/descriptions.py plus
facts read from the node: type, limits, default, alphabet), the family
descriptions, and the `x-biolm-*` extension keys (from index.json's
`hidden_validation`, and the embedding sizes listed in EMBEDDING_DIMS).
It fails if any description it writes equals the reference's text for the same
node. Run it again after the reference changes; its output is committed.
"""

import copy
import json
import os
import re
import sys
from collections import OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from descriptions import DEF_ROLES, FAMILIES, FIELDS  # noqa: E402

AA_UNAMBIGUOUS = "ACDEFGHIKLMNPQRSTVWY"
# Standard letters plus B (D/N), X (any), Z (E/Q), U (selenocysteine), O (pyrrolysine).
# J is not accepted by the server's extended set, so it is not here.
AA_EXTENDED = AA_UNAMBIGUOUS + "BXZUO"
DNA_UNAMBIGUOUS = "ACGT"
THREE_DI = "acdefghiklmnpqrstvwy"


def alphabet(name, letters, tokens=()):
    out = OrderedDict([("name", name), ("letters", letters)])
    if tokens:
        out["tokens"] = list(tokens)
    return out

# Embedding widths we are certain of (model architecture facts).
EMBEDDING_DIMS = {
    "esm2-8m": 320,
    "esm2-35m": 480,
    "esm2-150m": 640,
    "esm2-650m": 1280,
    "esm2-3b": 2560,
    "esm1b": 1280,
    "esm1v-n1": 1280,
    "esm1v-n2": 1280,
    "esm1v-n3": 1280,
    "esm1v-n4": 1280,
    "esm1v-n5": 1280,
    "esm1v-all": 1280,
    "esmc-300m": 960,
}

# The hosted platform's action name where it differs from the gateway's.
PLATFORM_ACTION_NAMES = {("esmfold", "fold"): "predict"}

# Rules the server applies that index.json's `hidden_validation` does not list, or lists
# only by a validator's name. Facts read from biolm-hub at c79c489 (models/*/schema.py);
# each entry is (class, field or None) -> extension keys. See schemas/README.md.
def rules(*rs):
    return {"x-biolm-rules": [OrderedDict(r) for r in rs]}


def exclusive(*groups, test=None):
    r = [("kind", "exclusive"), ("groups", [list(g) for g in groups])]
    if test:
        r.append(("test", test))
    return r


def any_group(*groups, test=None):
    r = [("kind", "any-group"), ("groups", [list(g) for g in groups])]
    if test:
        r.append(("test", test))
    return r


def requires(field, *needs):
    return [("kind", "requires"), ("field", field), ("needs", list(needs))]


# Optional[Annotated[str, BeforeValidator(...)]] fields (not in hidden_validation).
OPTIONAL_FIELD_VALIDATORS = {
    ("IgBertEncodeRequestItem", "heavy_chain"): "validate_aa_extended",
    ("IgBertEncodeRequestItem", "light_chain"): "validate_aa_extended",
    ("IgBertEncodeRequestItem", "sequence"): "validate_aa_extended",
    ("IgT5EncodeRequestItem", "heavy_chain"): "validate_aa_extended",
    ("IgT5EncodeRequestItem", "light_chain"): "validate_aa_extended",
    ("IgT5EncodeRequestItem", "sequence"): "validate_aa_extended",
    ("ImmuneBuilderFoldRequestItem", "heavy_chain"): "validate_aa_extended",
    ("ImmuneBuilderFoldRequestItem", "light_chain"): "validate_aa_extended",
    ("ImmuneBuilderFoldRequestItem", "tcr_alpha"): "validate_aa_extended",
    ("ImmuneBuilderFoldRequestItem", "tcr_beta"): "validate_aa_extended",
    ("ImmuneFoldPredictRequestItem", "heavy_chain"): "validate_aa_extended",
    ("ImmuneFoldPredictRequestItem", "light_chain"): "validate_aa_extended",
    ("ImmuneFoldPredictRequestItem", "tcr_alpha"): "validate_aa_extended",
    ("ImmuneFoldPredictRequestItem", "tcr_beta"): "validate_aa_extended",
    ("ImmuneFoldPredictRequestItem", "peptide"): "validate_aa_extended",
    ("ImmuneFoldPredictRequestItem", "mhc"): "validate_aa_extended",
    ("ImmuneFoldPredictRequestItem", "pdb"): "validate_pdb",
    ("BoltzGenFileEntity", "cif"): "validate_cif",
    ("BoltzGenFileEntity", "pdb"): "validate_pdb",
    ("ProDyEncodeRequestItem", "pdb"): "validate_pdb",
    ("ProDyEncodeRequestItem", "cif"): "validate_cif",
    ("ProDyPredictRequestItem", "pdb_a"): "validate_pdb",
    ("ProDyPredictRequestItem", "cif_a"): "validate_cif",
    ("ProDyPredictRequestItem", "pdb_b"): "validate_pdb",
    ("ProDyPredictRequestItem", "cif_b"): "validate_cif",
    ("SpursPredictRequestItem", "pdb"): "validate_pdb",
    ("SpursPredictRequestItem", "cif"): "validate_cif",
    ("SpursPredictRequestItem", "variant_sequence"): "validate_aa_unambiguous",
    # ZymCTRL's `validate_ec` field validator (mode=before) only checks the format.
    ("ZymCTRLGenerateRequestItem", "ec_number"): "validate_ec",
    ("ZymCTRLEncodeRequestItem", "ec_number"): "validate_ec",
    # SADIE's v1 `validate_sequence` and Chai-1's `validate_smiles_field`.
    ("SADIEPredictRequestItem", "sequence"): "validate_aa_extended",
    ("Chai1Molecule", "smiles"): "validate_smiles",
}

# Model validators (`Class: model_validator name`) expressed as `x-biolm-rules`.
MODEL_RULES = {
    # Ig models: (heavy_chain + light_chain) or sequence, never both.
    "IgBertEncodeRequestItem": rules(
        exclusive(["heavy_chain", "light_chain"], ["sequence"]),
        any_group(["heavy_chain", "light_chain"], ["sequence"]),
    ),
    "IgBertGenerateRequestItem": rules(
        exclusive(["heavy_chain", "light_chain"], ["sequence"]),
        any_group(["heavy_chain", "light_chain"], ["sequence"]),
    ),
    "IgT5EncodeRequestItem": rules(
        exclusive(["heavy_chain", "light_chain"], ["sequence"]),
        any_group(["heavy_chain", "light_chain"], ["sequence"]),
    ),
    # ImmuneBuilder: antibody (heavy, optional light) or TCR (alpha + beta), never both.
    "ImmuneBuilderFoldRequestItem": rules(
        exclusive(["tcr_alpha", "tcr_beta"], ["heavy_chain", "light_chain"]),
        any_group(["heavy_chain"], ["tcr_alpha", "tcr_beta"]),
    ),
    # ImmuneFold: antibody (heavy, optional light, optional antigen pdb) or all four TCR inputs.
    "ImmuneFoldPredictRequestItem": rules(
        exclusive(["pdb"], ["tcr_alpha", "tcr_beta", "peptide", "mhc"]),
        requires("pdb", "heavy_chain"),
        requires("light_chain", "heavy_chain"),
        any_group(["heavy_chain"], ["tcr_alpha", "tcr_beta", "peptide", "mhc"]),
    ),
    # RF3: each component has a sequence, a SMILES or a CCD code (`is None` tests).
    "RF3Component": rules(any_group(["sequence"], ["smiles"], ["ccd_code"], test="not-null")),
    # ProDy: exactly one structure per slot (`is None` tests).
    "ProDyEncodeRequestItem": rules(
        exclusive(["pdb"], ["cif"], test="not-null"), any_group(["pdb"], ["cif"], test="not-null")
    ),
    "ProDyPredictRequestItem": rules(
        exclusive(["pdb_a"], ["cif_a"], test="not-null"),
        any_group(["pdb_a"], ["cif_a"], test="not-null"),
        exclusive(["pdb_b"], ["cif_b"], test="not-null"),
        any_group(["pdb_b"], ["cif_b"], test="not-null"),
    ),
    # Biotite RMSD: the two chain lists have the same length.
    "BiotiteRMSDRequestItem": rules([("kind", "equal-length"), ("fields", ["chain_a", "chain_b"])]),
    # SPURS: a structure; mutations that exist in the sequence; variant_sequence rules.
    "SpursPredictRequestItem": rules(
        any_group(["pdb"], ["cif"]),
        [
            ("kind", "mutations"),
            ("field", "mutations"),
            ("letters", "ACDEFGHIKLMNPQRSTVWY"),
            ("sequence", "sequence"),
            ("normalize", True),
            ("digits_only", True),
            ("non_empty", True),
        ],
        exclusive(["variant_sequence"], ["mutations"], test="not-null"),
        [("kind", "requires-value"), ("field", "variant_sequence"), ("other", "return_full_dms"),
         ("value", False), ("default", True)],
        [("kind", "equal-length"), ("fields", ["sequence", "variant_sequence"])],
    ),
    # BoltzGen: exactly one entity kind, exactly one constraint kind (`is not None`
    # counts), a ligand with a CCD code or SMILES, a file with exactly one of cif/pdb.
    "BoltzGenEntity": rules(
        exclusive(["protein"], ["ligand"], ["file"], ["dna"], ["rna"], test="not-null"),
        any_group(["protein"], ["ligand"], ["file"], ["dna"], ["rna"], test="not-null"),
    ),
    "BoltzGenConstraint": rules(
        exclusive(["bond"], ["contact"], ["pocket"], ["total_len"], test="not-null"),
        any_group(["bond"], ["contact"], ["pocket"], ["total_len"], test="not-null"),
    ),
    "BoltzGenLigandEntity": rules(any_group(["ccd"], ["smiles"], test="not-null")),
    "BoltzGenFileEntity": rules(exclusive(["cif"], ["pdb"]), any_group(["cif"], ["pdb"])),
    # ThermoMPNN: <wt><position><mt> with letters from the 20 plus X.
    "ThermoMPNNPredictRequestItem": rules(
        [("kind", "mutations"), ("field", "mutations"), ("letters", "ACDEFGHIKLMNPQRSTVWYX")]
    ),
    "ThermoMPNNDPredictRequestItem": rules(
        [("kind", "mutations"), ("field", "mutations"), ("letters", "ACDEFGHIKLMNPQRSTVWYX"),
         ("separator", ":"), ("max_parts", 2)]
    ),
}

def combined(groups, token):
    """The joined chains must pass `AAUnambiguousPlusExtra([token])` and hold the token."""
    return [
        ("kind", "combined"),
        ("groups", [list(g) for g in groups]),
        ("alphabet", alphabet("aa_unambiguous", AA_UNAMBIGUOUS, [token])),
        ("token-count", [OrderedDict([("token", token), ("min", 1)])]),
    ]


# Request-level model validators: `x-biolm-rules` on the request body.
BODY_RULES = {
    # MPNN `validate_params`: chains and residues named in params exist in each item's PDB;
    # symmetry weights match their residues.
    "MPNNGenerateRequest": rules(
        [
            ("kind", "structure-refs"),
            ("items_field", "pdb"),
            ("chains", ["chains_to_design", "parse_these_chains_only"]),
            ("residues", ["fixed_residues", "redesigned_residues", "transmembrane_buried", "transmembrane_interface"]),
            ("residue_keys", ["bias_AA_per_residue", "omit_AA_per_residue"]),
            ("residue_groups", ["symmetry_residues"]),
            ("paired_lengths", [["symmetry_residues", "symmetry_weights"]]),
        ]
    ),
}

# Lengths the server checks in validators (`x-biolm-length`), by (class, field); with
# `entries`, on each entry of the list.
VALIDATOR_LENGTHS = {
    # E1 `_validate_context_list`: each context sequence has 1 to 2048 residues.
    ("E1EncodeRequestItem", "context_sequences", "entries"): {"max": 2048},
    ("E1PredictRequestItem", "context_sequences", "entries"): {"max": 2048},
    ("E1LogProbRequestItem", "context_sequences", "entries"): {"max": 2048},
    # MSA Transformer `ValidateMSA(max_seq_len=1024)`.
    ("MSATransformerEncodeRequestItem", "msa", "entries"): {"max": 1024},
    # ImmuneFold antibody chains (IMGT numbering needs them).
    ("ImmuneFoldPredictRequestItem", "heavy_chain", None): {"min": 90},
    ("ImmuneFoldPredictRequestItem", "light_chain", None): {"min": 85},
    # Chai-1: 1 to 5 molecules, SMILES up to 128 characters, `include` forced empty.
    ("Chai1FoldRequestInput", "molecules", None): {"min": 1, "max": 5},
    ("Chai1Molecule", "smiles", None): {"max": 128},
    ("Chai1FoldRequestParams", "include", None): {"max": 0},
}

# AntiFold `validate_params`: the chain ids (under any key the server accepts for them)
# name chains of each item's PDB.
ANTIFOLD_CHAIN_KEYS = [
    "heavy_chain_id", "heavy_chain", "nanobody_chain_id", "nanobody_chain",
    "light_chain_id", "light_chain", "antigen_chain_id", "antigen_chain",
]
for _cls in ("AntiFoldEncodeRequest", "AntiFoldGenerateRequest", "AntiFoldPredictRequest"):
    BODY_RULES[_cls] = rules(
        [("kind", "structure-refs"), ("items_field", "pdb"), ("chains", ANTIFOLD_CHAIN_KEYS)]
    )
# AntiFold `validate_and_infer_type`: a heavy chain id, or heavy and light; never light alone.
for _cls in ("AntiFoldEncodeRequestParams", "AntiFoldGenerateRequestParams", "AntiFoldPredictRequestParams"):
    MODEL_RULES[_cls] = rules(
        any_group(["heavy_chain_id"], ["light_chain_id"]), requires("light_chain_id", "heavy_chain_id")
    )

# Field validators on a map: rules on the property's own schema.
PROPERTY_RULES = {
    # BoltzGen `_check_insertion_keys`: the map has `id` and `res_index` keys.
    ("BoltzGenDesignInsertion", "insertion"): rules(
        any_group(["id"], test="present"), any_group(["res_index"], test="present")
    ),
}

# Model validators that check the joined chains (AbLang2 and IgBERT generate).
MODEL_RULES["AbLang2MissingSequenceItem"] = rules(combined([["heavy_chain", "light_chain"]], "*"))
MODEL_RULES["IgBertGenerateRequestItem"]["x-biolm-rules"].append(
    OrderedDict(combined([["heavy_chain", "light_chain"], ["sequence"]], "*"))
)

# Alphabets of list entries (`field_validator` / `BeforeValidator` over a list).
LIST_ENTRY_ALPHABETS = {
    # E1 `validate_context_sequences`: each context sequence is checked like the query.
    ("E1EncodeRequestItem", "context_sequences"): alphabet("aa_extended", AA_EXTENDED),
    ("E1PredictRequestItem", "context_sequences"): alphabet("aa_extended", AA_EXTENDED),
    ("E1LogProbRequestItem", "context_sequences"): alphabet("aa_unambiguous", AA_UNAMBIGUOUS),
    # MSA Transformer `ValidateMSA`: rows of the extended alphabet plus `-` and `.`.
    ("MSATransformerEncodeRequestItem", "msa"): alphabet("msa", AA_EXTENDED + "-."),
}
COVERED_RULES = {
    "validate_context_sequences",
    "ValidateMSA(max_seq_len=1024)",
    "_check_insertion_keys",
    "force_empty_include",
    "validate_molecules",
}

# MPNN params (`MPNNGenerateRequest.validate_params`): omit_AA letters, bias_AA keys.
MPNN_PARAM_RULES = {
    "omit_AA": {"x-biolm-alphabet": OrderedDict([("name", "aa_unambiguous"), ("letters", AA_UNAMBIGUOUS)])},
    "bias_AA": {"x-biolm-key-alphabet": OrderedDict([("name", "aa_unambiguous"), ("letters", AA_UNAMBIGUOUS)])},
}

# Before-validators that rewrite only part of the input: the node stays lenient only
# when the value has this key (biotite's legacy `chain_ids` dict is moved to
# `chain_a`/`chain_b`). Any other before-model-validator in the list below rewrites
# nothing JSON Schema does not already accept (prody's list -> tuple), so no leniency.
LENIENT_IF_KEY = {"_accept_legacy_chain_ids": "chain_ids"}
# Before-validators whose rewriting the rules above state (SPURS trims and uppercases
# mutations: the `mutations` rule's `normalize`), so the node needs no leniency.
NO_OP_BEFORE = {"convert_chain_pairs_to_tuples", "_normalize_mutation_list"}

SKIPPED = []  # hidden rules not checked locally, for the README


NAMED_FORMATS = {
    "validate_pdb": "pdb",
    "validate_cif": "mmcif",
    "validate_smiles": "smiles",
    "validate_ec": "ec-number",
}


def parse_rule(rule):
    """Maps one hidden_validation rule to extension keys, or None if not expressible."""
    m = re.match(r"BeforeValidator\((.*)\)$", rule)
    if not m:
        return None
    inner = m.group(1)
    if inner == "validate_aa_unambiguous":
        return {"x-biolm-alphabet": alphabet("aa_unambiguous", AA_UNAMBIGUOUS)}
    if inner == "validate_aa_extended":
        return {"x-biolm-alphabet": alphabet("aa_extended", AA_EXTENDED)}
    if inner == "validate_dna_unambiguous":
        return {"x-biolm-alphabet": alphabet("dna_unambiguous", DNA_UNAMBIGUOUS)}
    if inner in NAMED_FORMATS:
        return {"x-biolm-format": NAMED_FORMATS[inner]}
    m = re.match(r"AAExtendedPlusExtra\(extra=\[(.*)\]\)$", inner)
    if m:
        # The server removes every extra before checking the residues, so each extra
        # is a token (a string of extras alone has no residue and is refused).
        extra = [e.strip().strip("'\"") for e in m.group(1).split(",")]
        return {"x-biolm-alphabet": alphabet("aa_extended", AA_EXTENDED, extra)}
    if inner == "validate_dsm_sequence":
        # Empty, or tokens only, is allowed; what remains must be unambiguous residues.
        a = alphabet("aa_unambiguous", AA_UNAMBIGUOUS, ["<mask>", "<eos>"])
        a["residue_required"] = False
        return {"x-biolm-alphabet": a}
    m = re.match(r"SingleOrMoreOccurrencesOf\(token='(.*)'\)$", inner)
    if m:
        return {"x-biolm-token-count": [OrderedDict([("token", m.group(1)), ("min", 1)])]}
    m = re.match(r"SingleOccurrenceOf\(single_token='(.*)'\)$", inner)
    if m:
        return {"x-biolm-token-count": [OrderedDict([("token", m.group(1)), ("min", 1), ("max", 1)])]}
    m = re.match(r"UpToNNonConsecutiveOccurrencesOf\(token='(.*)', max_count=(\d+)\)$", inner)
    if m:
        return {
            "x-biolm-token-count": [
                OrderedDict(
                    [("token", m.group(1)), ("min", 0), ("max", int(m.group(2))), ("non_consecutive", True)]
                )
            ]
        }
    return None


# Before-validators that only check (never rewrite) their input: the schema still applies.
PURE_BEFORE_CHECKS = {"validate_ec", "validate_restriction_enzymes"}


def lenient_target(out, rule):
    """A before-validator may rewrite the raw input, so the schema below it is not the
    whole truth: mark that node `x-biolm-lenient` (only its JSON type is checked)."""
    m = re.match(r"(\w+): model_validator (\w+) mode=before$", rule)
    if m:
        if m.group(2) in NO_OP_BEFORE:
            return
        key = LENIENT_IF_KEY.get(m.group(2))
        value = OrderedDict([("if_key", key)]) if key else True
        out.setdefault((m.group(1), None), OrderedDict())["x-biolm-lenient"] = value
        return
    m = re.match(r"(\w+): field_validator (\w+)\('(\w+)',\) mode=before$", rule)
    if m and m.group(2) not in PURE_BEFORE_CHECKS and m.group(2) not in NO_OP_BEFORE:
        out.setdefault((m.group(1), m.group(3)), OrderedDict())["x-biolm-lenient"] = True


def merge_ext(target, ext):
    for k, v in ext.items():
        if k == "x-biolm-token-count":
            target.setdefault(k, []).extend(v)
        elif k == "x-biolm-alphabet" and k in target:
            raise SystemExit(f"two alphabets on one field: {target[k]} and {v}")
        else:
            target[k] = v


def field_extensions(family, action, hidden):
    """{(def_name, field): {ext}} for one action's request, from hidden_validation."""
    out = {}
    for rule in hidden.get("request", []):
        m = re.match(r"(\w+)\.(\w+): (.*)$", rule)
        if not m:
            m3 = re.match(r"(\w+): (model|field)_validator (\w+)", rule)
            covered = m3 and (
                m3.group(3) in COVERED_RULES or
                (m3.group(2) == "model" and (m3.group(1) in MODEL_RULES or m3.group(1) in BODY_RULES))
                or m3.group(3) in PURE_BEFORE_CHECKS and m3.group(3) in NAMED_FORMATS
                or m3.group(3) in NO_OP_BEFORE
            )
            if not covered:
                SKIPPED.append((family, action, rule))
            lenient_target(out, rule)
            continue
        cls, field, what = m.groups()
        m2 = re.match(r"accepts keys \[(.*)\]$", what)
        if m2:
            keys = [k.strip().strip("'\"") for k in m2.group(1).split(",")]
            aliases = [k for k in keys if k != field]
            if aliases:
                merge_ext(out.setdefault((cls, field), OrderedDict()), {"x-biolm-aliases": aliases})
            continue
        ext = parse_rule(what)
        if ext is None:
            if not any(c in what for c in COVERED_RULES):
                SKIPPED.append((family, action, rule))
            continue
        merge_ext(out.setdefault((cls, field), OrderedDict()), ext)
    return out


def extra_extensions(schema):
    """The rules of OPTIONAL_FIELD_VALIDATORS, MODEL_RULES and MPNN_PARAM_RULES that apply
    to the classes of this schema."""
    defs = schema.get("$defs", {})
    if schema.get("title") in BODY_RULES:
        schema.update(copy.deepcopy(BODY_RULES[schema["title"]]))
    for (cls, field), validator in OPTIONAL_FIELD_VALIDATORS.items():
        prop = defs.get(cls, {}).get("properties", {}).get(field)
        if prop is not None:
            ext = parse_rule(f"BeforeValidator({validator})")
            for k, v in ext.items():
                prop[k] = copy.deepcopy(v)
    for cls, ext in MODEL_RULES.items():
        if cls in defs:
            for k, v in ext.items():
                defs[cls][k] = copy.deepcopy(v)
    for name, d in defs.items():
        if name.endswith("MPNNGenerateParams"):
            mpnn_param_rules(d)
    for (cls, field, where), length in VALIDATOR_LENGTHS.items():
        prop = defs.get(cls, {}).get("properties", {}).get(field)
        if prop is None:
            continue
        if where == "entries":
            arms = [prop] + [a for a in prop.get("anyOf", []) if isinstance(a, dict)]
            for arm in arms:
                if arm.get("type") == "array" and isinstance(arm.get("items"), dict):
                    arm["items"]["x-biolm-length"] = OrderedDict(sorted(length.items(), reverse=True))
        else:
            prop["x-biolm-length"] = OrderedDict(sorted(length.items(), reverse=True))
    for (cls, field), ext in PROPERTY_RULES.items():
        prop = defs.get(cls, {}).get("properties", {}).get(field)
        if prop is not None:
            prop.update(copy.deepcopy(ext))
    for (cls, field), alpha in LIST_ENTRY_ALPHABETS.items():
        prop = defs.get(cls, {}).get("properties", {}).get(field)
        if prop is None:
            continue
        arms = [prop] + [a for a in prop.get("anyOf", []) if isinstance(a, dict)]
        for arm in arms:
            if arm.get("type") == "array" and isinstance(arm.get("items"), dict):
                arm["items"]["x-biolm-alphabet"] = copy.deepcopy(alpha)


def mpnn_param_rules(params):
    for field, ext in MPNN_PARAM_RULES.items():
        prop = params.get("properties", {}).get(field)
        if prop is not None:
            for k, v in ext.items():
                prop[k] = copy.deepcopy(v)
    aa = OrderedDict([("name", "aa_unambiguous"), ("letters", AA_UNAMBIGUOUS)])
    # Per residue: the amino acids of each bias map (keys) and of each omit text.
    per = params.get("properties", {}).get("bias_AA_per_residue", {}).get("additionalProperties")
    if isinstance(per, dict):
        per["x-biolm-key-alphabet"] = copy.deepcopy(aa)
    per = params.get("properties", {}).get("omit_AA_per_residue", {}).get("additionalProperties")
    if isinstance(per, dict):
        per["x-biolm-alphabet"] = copy.deepcopy(aa)


# ------------------------------------------------------------------ descriptions


def fmt_value(v):
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    return str(v)


def ref_name(ref):
    return ref.rsplit("/", 1)[-1]


def kind(node, depth=0):
    """A short noun phrase for the type of a schema node."""
    if not isinstance(node, dict) or depth > 4:
        return "value"
    if "$ref" in node:
        target = CURRENT_DEFS.get(ref_name(node["$ref"]), {})
        noun = "value" if isinstance(target, dict) and "enum" in target else "object"
        return f"`{ref_name(node['$ref'])}` {noun}"
    if "enum" in node:
        vals = list(OrderedDict.fromkeys(fmt_value(v) for v in node["enum"]))
        return "one of " + ", ".join(vals)
    if "const" in node:
        return f"the constant {fmt_value(node['const'])}"
    if "anyOf" in node:
        arms = [a for a in node["anyOf"] if not (isinstance(a, dict) and a.get("type") == "null")]
        nullable = len(arms) < len(node["anyOf"])
        text = " or ".join(kind(a, depth + 1) for a in arms) or "null"
        return text + (" (null allowed)" if nullable else "")
    t = node.get("type")
    if isinstance(t, list):
        return " or ".join(t)
    if t == "string":
        return "text"
    if t == "integer":
        return "whole number"
    if t == "number":
        return "number"
    if t == "boolean":
        return "true/false"
    if t == "null":
        return "null"
    if t == "array":
        if "prefixItems" in node:
            return "tuple of " + ", ".join(kind(p, depth + 1) for p in node["prefixItems"])
        return "list of " + plural(kind(node.get("items", {}), depth + 1))
    if t == "object":
        ap = node.get("additionalProperties")
        if isinstance(ap, dict):
            return "map from names to " + plural(kind(ap, depth + 1))
        return "object"
    return "value"


CURRENT_DEFS = {}


def plural(k):
    if k.startswith("list of "):
        return "lists of " + k[len("list of "):]
    if k.startswith("map from "):
        return "maps from " + k[len("map from "):]
    if k.endswith("` value"):
        return k + "s"
    for a, b in (("whole number", "whole numbers"), ("number", "numbers"), ("text", "texts"), ("object", "objects")):
        if k == a or k.endswith(" " + a) and not k.startswith("one of"):
            return k[: len(k) - len(a)] + b
    return k


def limits(node):
    parts = []
    lo, hi = node.get("minLength"), node.get("maxLength")
    if lo is not None and hi is not None:
        parts.append(f"{lo} to {hi} characters")
    elif lo is not None:
        parts.append(f"at least {lo} characters")
    elif hi is not None:
        parts.append(f"at most {hi} characters")
    lo, hi = node.get("minItems"), node.get("maxItems")
    if lo is not None and hi is not None:
        parts.append(f"{lo} to {hi} entries" if lo != hi else f"exactly {lo} entries")
    elif lo is not None:
        parts.append(f"at least {lo} entries")
    elif hi is not None:
        parts.append(f"at most {hi} entries")
    bounds = []
    if "minimum" in node:
        bounds.append(f">= {fmt_value(node['minimum'])}")
    if "exclusiveMinimum" in node:
        bounds.append(f"> {fmt_value(node['exclusiveMinimum'])}")
    if "maximum" in node:
        bounds.append(f"<= {fmt_value(node['maximum'])}")
    if "exclusiveMaximum" in node:
        bounds.append(f"< {fmt_value(node['exclusiveMaximum'])}")
    if bounds:
        parts.append("value " + " and ".join(bounds))
    for arm in node.get("anyOf", []):
        if isinstance(arm, dict) and arm.get("type") != "null":
            parts.extend(limits(arm))
    return parts


def facts(node):
    """One sentence of facts about a node: type, limits, extension rules, default."""
    k = kind(node)
    lim = limits(node)
    if k == "object" and not lim and "default" not in node:
        return ""
    text = k[0].upper() + k[1:]
    if lim:
        text += ", " + ", ".join(lim)
    text += "."
    alpha = node.get("x-biolm-alphabet")
    if alpha:
        text += f" Letters from {alpha['name']}"
        extra = [c for c in alpha["letters"] if c not in AA_EXTENDED] if alpha["name"] == "aa_extended" else []
        tokens = list(alpha.get("tokens", [])) + extra
        if tokens:
            text += " plus " + ", ".join(f"`{t}`" for t in tokens)
        text += "."
    for rule in node.get("x-biolm-token-count", []):
        lo, hi = rule.get("min", 0), rule.get("max")
        if hi is None:
            text += f" Must contain `{rule['token']}` at least {lo} time{'s' if lo != 1 else ''}."
        elif lo == hi:
            text += f" Must contain `{rule['token']}` exactly {lo} time{'s' if lo != 1 else ''}."
        else:
            text += f" Up to {hi} `{rule['token']}`"
            if rule.get("non_consecutive"):
                text += ", never two in a row"
            text += "."
    if "x-biolm-format" in node:
        text += f" Checked as {node['x-biolm-format']}."
    if "default" in node:
        text += f" Default {fmt_value(node['default'])}."
    return text


def humanize(name):
    """`ProstT5EncodeRequestItemFold` -> "Prost T5 encode request item fold", `res_index` -> "Res index"."""
    words = []
    for part in name.replace("-", "_").split("_"):
        words.extend(re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+\d*|\d+", part) or [part])
    words = [w for w in words if w]
    if not words:
        return name
    out = " ".join(w if (w.isupper() and len(w) > 1) or any(ch.isdigit() for ch in w) else w.lower() for w in words)
    return out[0].upper() + out[1:]


def region_phrase(name):
    m = re.match(r"(cdr|fwr)(\d)_aa_(gaps|no_gaps)$", name)
    if not m:
        return None
    region = ("CDR" if m.group(1) == "cdr" else "Framework ") + m.group(2)
    how = "with alignment gaps" if m.group(3) == "gaps" else "without gaps"
    return f"{region} amino acids, {how}"


def sequence_phrase(node):
    alpha = node.get("x-biolm-alphabet")
    if not alpha:
        return None
    name = alpha["name"]
    if name.startswith("aa"):
        return "Protein sequence, one letter per residue"
    if name.startswith("dna"):
        return "DNA sequence"
    if name == "3di":
        return "Structure-token (3Di) sequence, one lowercase letter per residue"
    return None


def field_phrase(family, side, name, node):
    for key in (f"{family}:{name}", f"*{side}:{name}", name):
        if key in FIELDS:
            phrase = FIELDS[key]
            break
    else:
        phrase = region_phrase(name) or humanize(name)
    if name in ("sequence", "context", "prompt", "heavy_chain", "light_chain"):
        seq = sequence_phrase(node)
        if seq and name == "sequence":
            phrase = seq
        elif seq and name != "sequence":
            phrase = phrase + (" (DNA)" if seq.startswith("DNA") else "")
    return phrase


def def_phrase(name, node, family=""):
    key = family.replace("-", "").lower()
    short = name[len(key):] if key and name.lower().startswith(key) and len(name) > len(key) else name
    short = short.lstrip("_")
    if "enum" in node:
        return "Allowed values"
    for marker, role in DEF_ROLES:
        if name.endswith(marker):
            return role.rstrip(".")
    for marker, role in DEF_ROLES:
        if marker in name:
            return f"{role.rstrip('.')} ({humanize(short).lower()})"
    return f"Part of the payload: {humanize(short).lower()}"


class Describer:
    def __init__(self, family, side, ref_root):
        self.family = family
        self.side = side
        self.ref_root = ref_root
        self.clashes = []

    def check(self, pointer, text):
        ref = resolve(self.ref_root, pointer)
        if isinstance(ref, dict) and ref.get("description") == text:
            self.clashes.append(pointer)

    def node(self, node, pointer, phrase):
        """Rewrites node (a dict) in place: our description, then recurse."""
        f = facts(node)
        text = f"{phrase}. {f}".strip() if phrase else (f or "A value of the payload.")
        self.check(pointer, text)
        set_description(node, text)

    def walk(self, node, pointer, phrase=None):
        if isinstance(node, list):
            for i, x in enumerate(node):
                self.walk(x, f"{pointer}/{i}")
            return
        if not isinstance(node, dict):
            return
        if phrase is not None or "description" in node:
            self.node(node, pointer, phrase)
        for key, value in list(node.items()):
            if key in ("enum", "default", "const", "examples", "required") or key.startswith("x-biolm-"):
                continue
            p = f"{pointer}/{esc(key)}"
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    if isinstance(sub, dict):
                        self.walk(sub, f"{p}/{esc(name)}", field_phrase(self.family, self.side, name, sub))
            elif key == "$defs" and isinstance(value, dict):
                for name, sub in value.items():
                    if isinstance(sub, dict):
                        self.walk(sub, f"{p}/{esc(name)}", def_phrase(name, sub, self.family))
            elif key == "patternProperties" and isinstance(value, dict):
                for name, sub in value.items():
                    self.walk(sub, f"{p}/{esc(name)}")
            else:
                self.walk(value, p)


def esc(key):
    return key.replace("~", "~0").replace("/", "~1")


def resolve(root, pointer):
    node = root
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def set_description(node, text):
    """Puts `description` where the reference had it, else right after `title` (or last)."""
    if "description" in node:
        node["description"] = text
        return
    items = list(node.items())
    node.clear()
    placed = False
    for k, v in items:
        node[k] = v
        if k == "title":
            node["description"] = text
            placed = True
    if not placed:
        node["description"] = text


def describe_root(schema, family, side, ref_root, slug, action):
    if side == "request":
        # The server's request models are strict pydantic models (`5.0` is not an integer).
        schema["x-biolm-strict"] = True
    CURRENT_DEFS.clear()
    CURRENT_DEFS.update(schema.get("$defs", {}))
    d = Describer(family, side, ref_root)
    d.walk(schema, "")
    what = "Request" if side == "request" else "Response"
    body = "a batch of items and optional settings" if side == "request" else "one result per input item"
    text = f"{what} body of the `{action}` action: {body}."
    d.check("", text)
    set_description(schema, text)
    if d.clashes:
        raise SystemExit(f"{slug}/{action} {side}: our description equals the reference at {d.clashes}")
    return schema


# ----------------------------------------------------------------- extensions


def apply_field_extensions(schema, exts, where):
    defs = schema.get("$defs", {})
    for (cls, field), ext in exts.items():
        target = None
        if cls in defs and field is None:
            target = defs[cls]
        elif cls in defs:
            target = defs[cls].get("properties", {}).get(field)
        if target is None:
            raise SystemExit(f"{where}: hidden rule for {cls}.{field}, which the schema does not have")
        for k, v in ext.items():
            target[k] = copy.deepcopy(v)


def three_di_extensions(container):
    """The fold2AA containers re-validate `sequence` against the lowercase 3Di alphabet."""
    for name, d in container.get("$defs", {}).items():
        if name.endswith("ItemFold") and "sequence" in d.get("properties", {}):
            d["properties"]["sequence"]["x-biolm-alphabet"] = alphabet("3di", THREE_DI)


# ----------------------------------------------------------------------- main


def load(path):
    with open(path) as f:
        return json.load(f, object_pairs_hook=OrderedDict)


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ref_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "shared", "reference", "biolm-hub")
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "schemas")
    index = load(os.path.join(ref_dir, "index.json"))
    families = OrderedDict()
    for rec in index:
        families.setdefault(rec["family"], []).append(rec)
    os.makedirs(out_dir, exist_ok=True)
    pairs = 0
    for family, recs in sorted(families.items()):
        first = recs[0]
        actions = []
        for action in first["actions"]:
            files = first["schema_files"][action]
            exts = field_extensions(family, action, first.get("hidden_validation", {}).get(action, {}))
            req_ref = load(os.path.join(ref_dir, files["request"]))
            resp_ref = load(os.path.join(ref_dir, files["response"]))
            req = copy.deepcopy(req_ref)
            apply_field_extensions(req, exts, f"{first['slug']}/{action}")
            extra_extensions(req)
            platform = PLATFORM_ACTION_NAMES.get((family, action), action)
            describe_root(req, family, "request", req_ref, first["slug"], platform)
            resp = describe_root(copy.deepcopy(resp_ref), family, "response", resp_ref, first["slug"], platform)
            entry = OrderedDict()
            entry["name"] = platform
            if platform != action:
                entry["gateway_name"] = action
            entry["request"] = req
            entry["response"] = resp
            if samples(req):
                entry["x-biolm-deterministic"] = False
            actions.append(entry)
        variants = []
        for rec in recs:
            # Every variant of a family must share the family's schemas.
            if rec["schema_sha256"] != first["schema_sha256"]:
                raise SystemExit(f"{rec['slug']}: schemas differ from {first['slug']}")
            pairs += len(rec["actions"])
            v = OrderedDict([("slug", rec["slug"]), ("display_name", rec["display_name"])])
            if rec["slug"] in EMBEDDING_DIMS:
                v["x-biolm-embedding-dim"] = EMBEDDING_DIMS[rec["slug"]]
            overrides = variant_overrides(ref_dir, rec, family)
            if overrides:
                v["overrides"] = overrides
            variants.append(v)
        doc = OrderedDict(
            [
                ("family", family),
                ("display_name", first.get("family_display_name") or first["display_name"]),
                ("description", FAMILIES[family]),
                ("variants", variants),
                ("actions", actions),
            ]
        )
        with open(os.path.join(out_dir, f"{family}.json"), "w") as f:
            json.dump(doc, f, indent=2, ensure_ascii=False)
            f.write("\n")
    print(f"{len(families)} families, {len(index)} variants, {pairs} (variant, action) pairs", file=sys.stderr)
    for fam, act, rule in sorted(set(SKIPPED)):
        print(f"not checked locally: {fam}/{act}: {rule}", file=sys.stderr)


def strip_descriptions(node):
    if isinstance(node, dict):
        node.pop("description", None)
        for v in node.values():
            strip_descriptions(v)
    elif isinstance(node, list):
        for v in node:
            strip_descriptions(v)
    return node


def family_params(ref_dir, rec, action):
    """The params (name -> schema) the family's (gateway's) request schema accepts."""
    req = load(os.path.join(ref_dir, rec["schema_files"][action]["request"]))
    node = req.get("properties", {}).get("params", {})
    for _ in range(8):
        if "$ref" in node:
            node = req.get("$defs", {}).get(ref_name(node["$ref"]), {})
        elif "anyOf" in node:
            arms = [a for a in node["anyOf"] if a.get("type") != "null"]
            node = arms[0] if arms else {}
        else:
            break
    return node.get("properties", {})


def samples(request):
    """Whether an action samples (its params take a `seed`): its results vary between
    calls unless a seed is set, so a result cache must not reuse them (x-biolm-deterministic)."""
    return any(
        name.endswith("Params") and "seed" in d.get("properties", {})
        for name, d in request.get("$defs", {}).items()
    )


def variant_overrides(ref_dir, rec, family):
    out = OrderedDict()
    slug_dir = os.path.join(ref_dir, rec["slug"])
    for action in rec["actions"]:
        path = os.path.join(slug_dir, f"{action}.request.container.json")
        if os.path.isfile(path):
            ref = load(path)
            container = copy.deepcopy(ref)
            three_di_extensions(container)
            extra_extensions(container)
            container["x-biolm-refusal-note"] = (
                f"checked as the {rec['slug']} model does: it re-validates the whole request "
                "with its own schema after the gateway, so this cannot succeed even where the "
                "gateway accepts it"
            )
            describe_root(container, family, "request", ref, rec["slug"], action)
            name = PLATFORM_ACTION_NAMES.get((family, action), action)
            out.setdefault(name, OrderedDict())["request"] = container
    for fname in sorted(os.listdir(slug_dir)):
        if fname.startswith("variant.") and fname.endswith(".json"):
            def_name = fname[: -len(".json")].rsplit(".", 1)[-1]
            if len(rec["actions"]) != 1:
                raise SystemExit(f"{fname}: params map in a family with several actions")
            action = rec["actions"][0]
            ref = load(os.path.join(slug_dir, fname))
            params = copy.deepcopy(ref)
            mpnn_param_rules(params)
            family_props = family_params(ref_dir, rec, action)
            ignored = sorted(set(family_props) - set(params.get("properties", {})))
            if ignored:
                # The gateway validates the family's params; the variant's container drops
                # every param its own model lacks: these are checked as the gateway does,
                # then ignored.
                params["x-biolm-ignored-params"] = OrderedDict(
                    (k, strip_descriptions(copy.deepcopy(family_props[k]))) for k in ignored
                )
            CURRENT_DEFS.clear()
            d = Describer(family, "request", ref)
            d.walk(params, "", def_phrase(def_name, params, family))
            if d.clashes:
                raise SystemExit(f"{fname}: our description equals the reference at {d.clashes}")
            name = PLATFORM_ACTION_NAMES.get((family, action), action)
            o = out.setdefault(name, OrderedDict())
            o["params"] = params
            o["params_name"] = def_name
    return out


if __name__ == "__main__":
    main()
