#!/usr/bin/env python3
"""Labels corpus/server/bodies.jsonl with the BioLM server's verdicts (writes labels.jsonl).

Two steps, both the server's own code, loaded at run time from a biolm-hub checkout
(`$HUB_SRC`) by the oracle in `$ORACLE_DIR` (default ../shared/oracle); nothing of
biolm-hub is copied here:

1. the gateway: every body goes through `validate.py` (FastAPI's body step of the
   registered `POST /api/v1/{slug}/{action}` route);
2. the model container, for the variants whose container validates the request again
   after the gateway (the index's `variant_constants` / `*.container.json` say which):
   - ProstT5 fold2AA: the container's `...RequestFold` model (3Di tokens, no `num_beams`);
   - MPNN: the container keeps only the params its variant's own model has (the others
     are dropped, not refused) and validates those with that model.

Each label: {"id", "valid", "label_source": "gateway"|"container", "errors": [{"loc",
"type", "msg"}]} and, for MPNN bodies that pass, "dropped_params" (what the container
ignored). `label_source` is "container" when the gateway accepted the body and the
container step ran, so `valid` is the end-to-end verdict.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
MSG_MAX = 160


def oracle_dir() -> Path:
    env = os.environ.get("ORACLE_DIR")
    if env:
        return Path(env)
    for c in (HERE / "../../../shared/oracle", HERE / "../../../../shared/oracle", Path("/work/shared/oracle")):
        if (c / "validate.py").is_file():
            return c.resolve()
    sys.exit("label.py: oracle not found (set ORACLE_DIR)")


def clean(errors: list[dict]) -> list[dict]:
    out = []
    for e in errors:
        msg = str(e.get("msg", ""))
        if "{'" in msg:  # a Python set in the message: its order changes from run to run
            msg = msg[: msg.index("{'")] + "{...}"
        if len(msg) > MSG_MAX:
            msg = msg[:MSG_MAX] + "..."
        out.append({"loc": e.get("loc", []), "type": e.get("type", ""), "msg": msg})
    return out


def gateway_verdicts(bodies: list[dict], odir: Path) -> list[dict]:
    lines = "".join(
        json.dumps({"slug": b["slug"], "action": b["action"], "kind": "request", "body": b["body"]}) + "\n"
        for b in bodies
    )
    proc = subprocess.run(
        [sys.executable, str(odir / "validate.py")],
        input=lines, capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"label.py: validate.py failed ({proc.returncode}): {proc.stderr[-2000:]}")
    out = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    out = [o for o in out if "summary" not in o]
    if len(out) != len(bodies):
        sys.exit(f"label.py: {len(bodies)} bodies but {len(out)} verdicts")
    return out


class Container:
    """The model containers' second validation (imported from biolm-hub at run time)."""

    def __init__(self, odir: Path, index: list[dict]) -> None:
        sys.path.insert(0, str(odir))
        import hub_oracle  # noqa: PLC0415 - the oracle sets up sys.path for biolm-hub

        hub_oracle._prepare_imports()
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            import importlib

            self.importlib = importlib
            from pydantic import ValidationError

            self.ValidationError = ValidationError
        self.mpnn_class: dict[str, str] = {}
        for rec in index:
            m = rec.get("variant_constants", {}).get("config.mpnn_schema_map")
            if m:
                self.mpnn_class[rec["slug"]] = m["pydantic_class"]

    def cls(self, dotted: str):
        mod, name = dotted.rsplit(".", 1)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            return getattr(self.importlib.import_module(mod), name)

    def applies(self, slug: str) -> bool:
        return slug.startswith("prostt5-fold2aa-") or slug in self.mpnn_class

    def check(self, slug: str, action: str, body: dict) -> tuple[bool, list[dict], list[str] | None]:
        if slug.startswith("prostt5-fold2aa-"):
            name = {"encode": "ProstT5EncodeRequestFold", "generate": "ProstT5GenerateRequestFold"}[action]
            model = self.cls(f"models.prostt5.schema.{name}")
            try:
                model.model_validate(body)
            except self.ValidationError as e:
                return False, self.errors(e, ["container"]), None
            return True, [], None
        # MPNN: the gateway's request model, then the variant's own params model on the
        # params the user set (others dropped), as the container's generate() does.
        request = self.cls("models.mpnn.schema.MPNNGenerateRequest")
        specific = self.cls(self.mpnn_class[slug])
        payload = request.model_validate(body)
        raw = payload.params.model_dump(exclude_unset=True, exclude_none=True)
        kept = {k: v for k, v in raw.items() if k in specific.model_fields}
        dropped = sorted(k for k in raw if k not in specific.model_fields)
        try:
            specific.model_validate(kept)
        except self.ValidationError as e:
            return False, self.errors(e, ["container", "params"]), dropped
        return True, [], dropped

    @staticmethod
    def errors(e, prefix: list) -> list[dict]:
        return clean([{"loc": prefix + [x if isinstance(x, (int, str)) else str(x) for x in err["loc"]],
                       "type": err["type"], "msg": err["msg"]} for err in e.errors()])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bodies", default=str(HERE / "bodies.jsonl"))
    ap.add_argument("--reference", required=True, help="reference corpus directory (index.json)")
    ap.add_argument("--out", default=str(HERE / "labels.jsonl"))
    args = ap.parse_args(argv)
    bodies = [json.loads(line) for line in open(args.bodies, encoding="utf-8") if line.strip()]
    index = json.loads((Path(args.reference) / "index.json").read_text())
    odir = oracle_dir()
    verdicts = gateway_verdicts(bodies, odir)
    container = Container(odir, index)
    n_container = 0
    with open(args.out, "w", encoding="utf-8") as fh:
        for b, v in zip(bodies, verdicts):
            if v.get("valid") is None:
                sys.exit(f"label.py: the oracle does not know {b['slug']}/{b['action']} ({b['id']})")
            label = {"id": b["id"], "valid": bool(v["valid"]), "label_source": "gateway",
                     "errors": clean(v.get("errors", []))}
            if label["valid"] and container.applies(b["slug"]):
                ok, errs, dropped = container.check(b["slug"], b["action"], b["body"])
                label.update(valid=ok, label_source="container", gateway_valid=True, errors=errs)
                if dropped is not None:
                    label["dropped_params"] = dropped
                n_container += 1
            fh.write(json.dumps(label, ensure_ascii=False) + "\n")
    n_valid = sum(1 for line in open(args.out) if '"valid": true' in line)
    print(f"{len(bodies)} labels ({n_valid} accepted; {n_container} re-checked by a model container) "
          f"-> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
