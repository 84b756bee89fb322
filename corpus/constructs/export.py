"""Regenerates the construct corpus from constructs.py.

Writes, under OUT (default: this directory):

* ``schemas/index.json`` and ``schemas/<slug>/predict.{request,response}.json``
  (``model_json_schema(mode='validation')`` / ``mode='serialization'``);
* ``labels.json``: every case, labelled by pydantic (``Request.model_validate_json``);
* ``crosscheck.json``: every case where a standard Draft 2020-12 validator (python
  ``jsonschema`` with its FormatChecker) disagrees with pydantic;
* ``CONSTRUCTS.md``: the table of constructs and the explained disagreements.

Fails (exit 1) when an expressible case disagrees with the standard validator and
constructs.py has no explanation for it, or when an explanation has gone stale.

Usage: python export.py [--out DIR]
"""

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import jsonschema
import pydantic
from jsonschema import Draft7Validator, Draft202012Validator
from pydantic import ValidationError

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import constructs as C  # noqa: E402

# Keys whose value is a map of name -> schema.
SCHEMA_MAPS = {"properties", "$defs", "patternProperties", "dependentSchemas"}
# Keys whose value is data, not a schema.
DATA_KEYS = {"default", "examples", "const", "enum", "discriminator", "required"}
# Annotations left out of the keyword column.
QUIET = {"title", "description"}

# Wrapper-level cases added to every construct (built from its first valid case).
AUTO_PREFIX = "wrapper-"


def keywords(node, out):
    """Collects the JSON Schema keywords used anywhere in `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            out.add(key)
            if key in SCHEMA_MAPS and isinstance(value, dict):
                for sub in value.values():
                    keywords(sub, out)
            elif key in DATA_KEYS or key.startswith("x-"):
                continue
            else:
                keywords(value, out)
    elif isinstance(node, list):
        for sub in node:
            keywords(sub, out)


def bad_defaults(root, cls, where):
    """Every `default` in `root` must validate against the schema it sits in."""
    out = []
    defs = root.get("$defs", {})

    def walk(node, pointer):
        if isinstance(node, dict):
            if "default" in node:
                sub = {k: v for k, v in node.items() if k != "default"}
                sub["$defs"] = defs
                errs = list(cls(sub, format_checker=cls.FORMAT_CHECKER).iter_errors(node["default"]))
                if errs:
                    out.append(f"{where}{pointer}: default {node['default']!r} violates its schema: {errs[0].message}")
            for k, v in node.items():
                if k not in DATA_KEYS:
                    walk(v, f"{pointer}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{pointer}/{i}")

    walk(root, "")
    return out


def dump(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


MODE_FLIP = (
    "pydantic's lax mode accepts it and its strict mode refuses it: a coercion the schema "
    "cannot express. BioLM's server models are strict, so the SDK refuses it"
)


def pydantic_verdict(request_model, body, strict=None):
    try:
        request_model.model_validate_json(json.dumps(body), strict=strict)
        return True, None
    except ValidationError as e:
        errs = [
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
        ]
        return False, errs


def jsonschema_verdict(validator, body):
    errors = sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    return not errors, [
        f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors
    ]


def auto_cases(con):
    """Wrapper-level boundary cases: item count limits, unknown top-level key, params."""
    first = None
    for c in con.cases:
        valid, _ = pydantic_verdict(con.request, c.body)
        if valid:
            first = c
            break
    if first is None:
        raise SystemExit(f"{con.slug}: no valid case to build the wrapper cases from")
    item = first.body["items"][0]
    params = {k: v for k, v in first.body.items() if k == "params"}
    out = [
        C.Case(AUTO_PREFIX + "no-items", {"items": [], **params}),
        C.Case(AUTO_PREFIX + "four-items", {"items": [item] * 4, **params}),
        C.Case(AUTO_PREFIX + "five-items", {"items": [item] * 5, **params}),
        C.Case(AUTO_PREFIX + "items-missing", dict(params)),
        C.Case(AUTO_PREFIX + "items-not-list", {"items": item, **params}),
        C.Case(AUTO_PREFIX + "unknown-top-level-key", {"items": [item], **params, "extra": 1}),
    ]
    if con.params is not None and con.params_required:
        out.append(C.Case(AUTO_PREFIX + "params-missing", {"items": [item]}))
    elif con.params is None:
        out.append(C.Case(AUTO_PREFIX + "params-not-declared", {"items": [item], "params": {}}))
    return out


def export(out_dir: Path) -> int:
    schemas_dir = out_dir / "schemas"
    if schemas_dir.exists():
        shutil.rmtree(schemas_dir)
    schemas_dir.mkdir(parents=True)

    slugs = [c.slug for c in C.CONSTRUCTS]
    if len(set(slugs)) != len(slugs):
        raise SystemExit("duplicate construct slugs")

    index = []
    labels = []
    crosscheck = []
    rows = []
    problems = []
    for con in C.CONSTRUCTS:
        request_schema = con.request.model_json_schema(mode="validation")
        response_schema = con.response.model_json_schema(mode="serialization")
        slug_dir = schemas_dir / con.slug
        slug_dir.mkdir()
        (slug_dir / "predict.request.json").write_text(dump(request_schema), encoding="utf-8")
        (slug_dir / "predict.response.json").write_text(dump(response_schema), encoding="utf-8")
        index.append(
            {
                "slug": con.slug,
                "family": con.slug,
                "display_name": con.display_name,
                "actions": ["predict"],
                "schema_files": {
                    "predict": {
                        "request": f"{con.slug}/predict.request.json",
                        "response": f"{con.slug}/predict.response.json",
                    }
                },
            }
        )
        cls = {"2020-12": Draft202012Validator, "7": Draft7Validator}[con.draft]
        cls.check_schema(request_schema)
        cls.check_schema(response_schema)
        validator = cls(request_schema, format_checker=cls.FORMAT_CHECKER)
        problems += bad_defaults(request_schema, cls, f"{con.slug}/predict.request.json#")
        problems += bad_defaults(response_schema, cls, f"{con.slug}/predict.response.json#")
        names = set()
        counts = {"valid": 0, "invalid": 0, "nx": 0}
        nx_reasons = set()
        used_explanations = set()
        for c in con.cases + auto_cases(con):
            if c.name in names:
                raise SystemExit(f"{con.slug}: duplicate case name {c.name}")
            names.add(c.name)
            valid, perrs = pydantic_verdict(con.request, c.body)
            js_valid, jerrs = jsonschema_verdict(validator, c.body)
            reason = c.nx
            if reason is None and valid != pydantic_verdict(con.request, c.body, strict=True)[0]:
                # The verdict depends on pydantic's mode, which the schema does not carry.
                reason = MODE_FLIP
                used_explanations.add(c.name)
            expressible = reason is None
            labels.append(
                {
                    "construct": con.slug,
                    "case": c.name,
                    "body": c.body,
                    "valid": valid,
                    "expressible": expressible,
                    "reason": reason,
                }
            )
            counts["valid" if valid else "invalid"] += 1
            if not expressible:
                counts["nx"] += 1
                nx_reasons.add(reason)
            if valid != js_valid:
                explanation = con.explain.get(c.name)
                if expressible:
                    if explanation is None:
                        problems.append(
                            f"{con.slug}/{c.name}: pydantic says {'valid' if valid else 'invalid'}, "
                            f"jsonschema says {'valid' if js_valid else 'invalid'} "
                            f"(pydantic: {perrs}; jsonschema: {jerrs}) and there is no explanation"
                        )
                    else:
                        used_explanations.add(c.name)
                crosscheck.append(
                    {
                        "construct": con.slug,
                        "case": c.name,
                        "pydantic_valid": valid,
                        "jsonschema_valid": js_valid,
                        "expressible": expressible,
                        "explanation": explanation if expressible else reason,
                        "pydantic_errors": perrs or [],
                        "jsonschema_errors": jerrs,
                    }
                )
        stale = set(con.explain) - used_explanations
        for name in sorted(stale):
            problems.append(f"{con.slug}/{name}: explanation given but the validators agree (or the case is nx)")
        kws = set()
        keywords(request_schema, kws)
        keywords(response_schema, kws)
        rows.append((con, sorted(kws - QUIET), counts, sorted(nx_reasons)))

    (schemas_dir / "index.json").write_text(dump(index), encoding="utf-8")
    (out_dir / "labels.json").write_text(dump(labels), encoding="utf-8")
    (out_dir / "crosscheck.json").write_text(dump(crosscheck), encoding="utf-8")
    (out_dir / "CONSTRUCTS.md").write_text(markdown(rows, labels, crosscheck), encoding="utf-8")

    for p in problems:
        print("PROBLEM:", p, file=sys.stderr)
    print(
        f"{len(C.CONSTRUCTS)} constructs, {len(labels)} labelled cases "
        f"({sum(1 for l in labels if l['valid'])} valid, "
        f"{sum(1 for l in labels if not l['expressible'])} not expressible), "
        f"{len(crosscheck)} disagreements with jsonschema "
        f"({sum(1 for x in crosscheck if x['expressible'])} on expressible cases) -> {out_dir}"
    )
    return 1 if problems else 0


def md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(rows, labels, crosscheck) -> str:
    lines = [
        "# Construct corpus",
        "",
        "Generated by `export.py` from `constructs.py` (do not edit by hand; run `./regen.sh`).",
        f"pydantic {pydantic.VERSION}, jsonschema {jsonschema_version()}.",
        "",
        "Each construct is a family (`family == slug`) with one action `predict`: request "
        "`{items: list[Item] (1..=4), params?: Params}` (`extra='forbid'` on the wrapper), "
        "response `{results: list[Result]}`. `labels.json` holds every case with pydantic's "
        "verdict; cases marked not expressible depend on something the schema cannot say. "
        "Every construct also gets the `wrapper-*` cases (item count bounds, unknown top-level "
        "key, missing/undeclared params).",
        "",
        f"{len(rows)} constructs, {len(labels)} cases "
        f"({sum(1 for l in labels if l['valid'])} valid, "
        f"{sum(1 for l in labels if not l['valid'])} invalid, "
        f"{sum(1 for l in labels if not l['expressible'])} not expressible).",
        "",
        "| slug | pydantic feature | JSON Schema keywords | cases (valid/invalid) | not expressible | why not expressible |",
        "|---|---|---|---|---|---|",
    ]
    for con, kws, counts, reasons in rows:
        lines.append(
            f"| `{con.slug}` | {md_cell(con.feature)} | {', '.join(f'`{k}`' for k in kws)} | "
            f"{counts['valid'] + counts['invalid']} ({counts['valid']}/{counts['invalid']}) | "
            f"{counts['nx']} | {md_cell('; '.join(reasons))} |"
        )
    lines += [
        "",
        "## Where a standard JSON Schema validator disagrees with pydantic",
        "",
        "Python `jsonschema` (`Draft202012Validator` + `FormatChecker`) run on every case. On "
        "expressible cases the Rust validator must follow pydantic (the server); each such case "
        "is explained here. Disagreements on not-expressible cases are listed for completeness. "
        "Full error texts: `crosscheck.json`.",
        "",
        "| construct | case | pydantic | jsonschema | expressible | explanation |",
        "|---|---|---|---|---|---|",
    ]
    for x in crosscheck:
        lines.append(
            f"| `{x['construct']}` | `{x['case']}` | {'valid' if x['pydantic_valid'] else 'invalid'} | "
            f"{'valid' if x['jsonschema_valid'] else 'invalid'} | {'yes' if x['expressible'] else 'no'} | "
            f"{md_cell(x['explanation'] or '')} |"
        )
    lines += ["", NOTES]
    return "\n".join(lines) + "\n"


def jsonschema_version() -> str:
    from importlib.metadata import version

    return version("jsonschema")


NOTES = """## Notes on choices

- **Lax and strict.** Every case is validated twice, in pydantic's default (lax) mode, which
  gives the label, and with `strict=True`. Where the two verdicts differ (`5.0` or `"5"` for
  an `int`, `"true"` for a `bool`), the verdict depends on a coercion the exported schema
  cannot say, so the case is not expressible. BioLM's server models are strict, and so is
  the SDK's validator: it refuses `5.0` for an integer. A strict model
  (`ConfigDict(strict=True)`) gives the same verdict both ways, so its cases stay
  expressible and `5.0` is labelled invalid there.
- **Optional order.** pydantic 2.12 emits `Optional[int]` and `Union[None, int]` both as
  `anyOf: [{type: integer}, {type: null}]`; the `null`-first order only appears through
  `WithJsonSchema` (field `d` of `optional-order`).
- **const.** `Literal['x']` gives `{"const": "x", "type": "string"}`. A
  `Field(json_schema_extra={"const": ...})` is only an annotation for pydantic (it does not
  validate it), so it is not part of the corpus.
- **allOf.** pydantic 2.12 no longer wraps a `$ref` with siblings in `allOf` (it emits the
  siblings next to `$ref`, valid in 2020-12). The `all-of` construct gets a real two-branch
  `allOf` through `WithJsonSchema` over a pydantic type with the same bounds.
- **Regex engines.** pydantic's default engine is Rust `regex` (Unicode `\\d`/`\\w`, no
  look-around, unanchored search). Look-around needs `regex_engine='python-re'`
  (`pattern-python-re`), whose `pattern` is also an unanchored search.
- **bytes.** `val_json_bytes='base64'` accepts both the standard and URL-safe alphabets,
  with or without padding; the schema says `format: base64url`.
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sys.exit(export(args.out))


if __name__ == "__main__":
    main()
