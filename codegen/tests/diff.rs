//! `diff` on schema pairs made for the purpose, through the library and the binary.

mod common;

use std::path::Path;
use std::process::Command;

use biolm_codegen::diff::{diff_sets, Severity};
use serde_json::{json, Value};

fn request(item: Value, params: Value, max_items: u64) -> Value {
    json!({
        "$defs": { "Item": item, "Params": params },
        "additionalProperties": false,
        "properties": {
            "items": { "type": "array", "items": { "$ref": "#/$defs/Item" }, "maxItems": max_items, "minItems": 1 },
            "params": { "$ref": "#/$defs/Params" }
        },
        "required": ["items"],
        "type": "object"
    })
}

fn response(result: Value) -> Value {
    json!({ "$defs": { "Result": result }, "properties": { "results": { "type": "array", "items": { "$ref": "#/$defs/Result" } } }, "required": ["results"], "type": "object" })
}

fn base_item() -> Value {
    json!({ "type": "object", "additionalProperties": false, "required": ["sequence"],
            "properties": { "sequence": { "type": "string", "minLength": 1, "maxLength": 1024 } } })
}

fn base_params() -> Value {
    json!({ "type": "object", "additionalProperties": false,
            "properties": { "include": { "type": "array", "items": { "enum": ["mean", "logits"], "type": "string" } },
                            "temperature": { "type": "number", "minimum": 0.0, "maximum": 2.0 } } })
}

fn base_result() -> Value {
    json!({ "type": "object", "required": ["score"], "properties": { "score": { "type": "number" }, "label": { "type": "string" } } })
}

fn write_family(dir: &Path, slugs: &[&str], actions: Vec<(&str, Value, Value)>) {
    let variants: Vec<Value> = slugs
        .iter()
        .map(|s| json!({ "slug": s, "display_name": s }))
        .collect();
    let actions: Vec<Value> = actions
        .into_iter()
        .map(|(n, rq, rs)| json!({ "name": n, "request": rq, "response": rs }))
        .collect();
    let doc = json!({ "family": "demo", "display_name": "Demo", "variants": variants, "actions": actions });
    std::fs::write(
        dir.join("demo.json"),
        serde_json::to_string_pretty(&doc).unwrap(),
    )
    .unwrap();
}

fn diff(
    old: Vec<(&str, Value, Value)>,
    new: Vec<(&str, Value, Value)>,
    new_slugs: &[&str],
) -> Vec<String> {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_family(a.path(), &["demo-s", "demo-m"], old);
    write_family(b.path(), new_slugs, new);
    let (sa, sb) = (
        biolm_catalog::load_dir(a.path()).unwrap(),
        biolm_catalog::load_dir(b.path()).unwrap(),
    );
    diff_sets(&sa, &sb)
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn base() -> Vec<(&'static str, Value, Value)> {
    vec![(
        "encode",
        request(base_item(), base_params(), 8),
        response(base_result()),
    )]
}

#[test]
fn identical_sets_have_no_changes() {
    assert!(diff(base(), base(), &["demo-s", "demo-m"]).is_empty());
}

#[test]
fn breaking_changes_are_breaking() {
    let mut item = base_item();
    item["properties"]["sequence"]["maxLength"] = json!(512); // narrowed
    item["properties"]["chain"] = json!({ "type": "string" });
    item["required"] = json!(["sequence", "chain"]); // new required field
    let mut params = base_params();
    params["properties"]["include"]["items"]["enum"] = json!(["mean"]); // removed enum value
    params["properties"]["temperature"]["type"] = json!("integer"); // changed type
    let mut result = base_result();
    result["properties"]
        .as_object_mut()
        .unwrap()
        .remove("label"); // removed response field
    let new = vec![("encode", request(item, params, 4), response(result))];
    let changes = diff(base(), new, &["demo-s"]); // variant demo-m removed
    let text = changes.join("\n");
    for expected in [
        "breaking: demo-m: variant removed",
        "breaking: demo-s/encode request /items/items/sequence: `maxLength` narrowed from 1024 to 512",
        "breaking: demo-s/encode request /items/items/chain: new required field",
        "enum value \"logits\" removed",
        "type changed from \"number\" to \"integer\"",
        "breaking: demo-s/encode response /results/items/label: field removed",
        "`maxItems` narrowed from 8 to 4",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert!(changes.iter().all(|c| c.starts_with("breaking")), "{text}");
}

#[test]
fn compatible_changes_are_compatible() {
    let mut item = base_item();
    item["properties"]["sequence"]["maxLength"] = json!(2048); // widened
    item["properties"]["note"] = json!({ "type": "string" }); // optional field
    let mut params = base_params();
    params["properties"]["include"]["items"]["enum"] = json!(["mean", "logits", "bos"]);
    let mut result = base_result();
    result["properties"]["extra"] = json!({ "type": "integer" });
    let mut actions = vec![("encode", request(item, params, 16), response(result))];
    actions.push((
        "predict",
        request(base_item(), base_params(), 8),
        response(base_result()),
    ));
    let changes = diff(base(), actions, &["demo-s", "demo-m", "demo-l"]);
    let text = changes.join("\n");
    assert!(!changes.is_empty());
    assert!(
        changes.iter().all(|c| c.starts_with("compatible")),
        "{text}"
    );
    for expected in [
        "demo-l: variant added",
        "demo-s/predict: action added",
        "enum value \"bos\" added",
        "optional field added",
        "`maxLength` widened from 1024 to 2048",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
}

#[test]
fn binary_exits_1_on_breaking_and_0_otherwise() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_family(a.path(), &["demo-s"], base());
    write_family(
        b.path(),
        &["demo-s"],
        vec![(
            "encode",
            request(base_item(), base_params(), 2),
            response(base_result()),
        )],
    );
    let bin = env!("CARGO_BIN_EXE_biolm-codegen");
    let out = Command::new(bin)
        .arg("diff")
        .arg(a.path())
        .arg(b.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("breaking: demo-s/encode request"));
    let same = Command::new(bin)
        .arg("diff")
        .arg(a.path())
        .arg(a.path())
        .output()
        .unwrap();
    assert_eq!(same.status.code(), Some(0));
}

#[test]
fn severity_orders_breaking_first() {
    assert!(Severity::Breaking < Severity::Compatible);
}

#[test]
fn project_schemas_match_the_reference_corpus() {
    // The project's schemas state the same types and limits as the public
    // catalog (platform action names differ: esmfold `predict` is `fold` there).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reference = biolm_catalog::load_dir(&common::reference_dir()).unwrap();
    let project = biolm_catalog::load_dir(&root.join("../schemas")).unwrap();
    let changes: Vec<String> = diff_sets(&reference, &project)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(changes.is_empty(), "{}", changes.join("\n"));
}

/// Copies the esm2 family of the reference catalog (its `index.json` records
/// and slug directories) into `dir`.
fn copy_esm2(dir: &Path) {
    let src = common::reference_dir();
    let index: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(src.join("index.json")).unwrap()).unwrap();
    let esm2: Vec<Value> = index
        .into_iter()
        .filter(|r| r["family"] == "esm2")
        .collect();
    assert!(esm2.len() > 1, "esm2 has several variants");
    for r in &esm2 {
        let slug = r["slug"].as_str().unwrap();
        std::fs::create_dir_all(dir.join(slug)).unwrap();
        for e in std::fs::read_dir(src.join(slug)).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, dir.join(slug).join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_string(&esm2).unwrap(),
    )
    .unwrap();
}

#[test]
fn an_edit_to_one_non_first_variant_is_reported() {
    let (old, new) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    copy_esm2(old.path());
    copy_esm2(new.path());
    let o = biolm_catalog::load_dir(old.path()).unwrap();
    let n = biolm_catalog::load_dir(new.path()).unwrap();
    assert!(diff_sets(&o, &n).is_empty());
    // esm2-650m is not the family's first variant: narrow its sequence length.
    let path = new.path().join("esm2-650m/encode.request.json");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"maxLength\": 2048"), "fixture changed");
    std::fs::write(
        &path,
        text.replace("\"maxLength\": 2048", "\"maxLength\": 1000"),
    )
    .unwrap();
    // A response edit to another variant is seen too.
    let rpath = new.path().join("esm2-3b/encode.response.json");
    let mut resp: Value = serde_json::from_str(&std::fs::read_to_string(&rpath).unwrap()).unwrap();
    resp["properties"]["extra_field_for_test"] = json!({ "type": "string" });
    std::fs::write(&rpath, resp.to_string()).unwrap();
    let n = biolm_catalog::load_dir(new.path()).unwrap();
    let changes = diff_sets(&o, &n);
    let lines: Vec<String> = changes.iter().map(|c| c.to_string()).collect();
    assert!(
        changes.iter().any(|c| c.severity == Severity::Breaking
            && c.location.starts_with("esm2-650m/encode request")
            && c.what.contains("maxLength")),
        "{lines:#?}"
    );
    assert!(
        changes
            .iter()
            .all(|c| c.location.starts_with("esm2-650m/") || c.location.starts_with("esm2-3b/")),
        "only the edited variants change: {lines:#?}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c.location.starts_with("esm2-3b/encode response")),
        "{lines:#?}"
    );
}

#[test]
fn a_variant_override_alone_is_compared() {
    let (old, new) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let write = |dir: &Path, max: f64| {
        let mut params = base_params();
        params["properties"]["temperature"]["maximum"] = json!(max);
        let doc = json!({ "family": "demo", "display_name": "Demo",
            "variants": [
                { "slug": "demo-a", "display_name": "A" },
                { "slug": "demo-b", "display_name": "B", "overrides": { "predict": { "params": params, "params_name": "BParams" } } }
            ],
            "actions": [{ "name": "predict", "request": request(base_item(), base_params(), 8), "response": response(base_result()) }] });
        std::fs::write(dir.join("demo.json"), doc.to_string()).unwrap();
    };
    write(old.path(), 1.5);
    write(new.path(), 1.0);
    let o = biolm_catalog::load_dir(old.path()).unwrap();
    let n = biolm_catalog::load_dir(new.path()).unwrap();
    let changes = diff_sets(&o, &n);
    let lines: Vec<String> = changes.iter().map(|c| c.to_string()).collect();
    assert_eq!(changes.len(), 1, "{lines:#?}");
    assert!(
        changes[0].location.starts_with("demo-b/predict request"),
        "{lines:#?}"
    );
    assert_eq!(changes[0].severity, Severity::Breaking, "{lines:#?}");
}
