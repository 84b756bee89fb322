//! A schema set with problems is refused at generation (so at `cargo build`), with every
//! problem listed, each naming its file and JSON pointer: nothing unusable reaches run
//! time, where every call of the action would fail.

use serde_json::{json, Value};

fn family(sequence: Value, response_extra: Value) -> Value {
    let mut response = json!({
        "type": "object", "required": ["results"],
        "properties": {"results": {"type": "array", "items": {"type": "object", "properties": {"score": {"type": "number"}}}}}
    });
    if let (Some(r), Some(extra)) = (response.as_object_mut(), response_extra.as_object()) {
        r.extend(extra.clone());
    }
    json!({
        "family": "probe", "display_name": "Probe",
        "variants": [{"slug": "probe-a", "display_name": "A"}, {"slug": "probe-b", "display_name": "B"}],
        "actions": [{
            "name": "predict",
            "request": {
                "type": "object", "additionalProperties": false, "required": ["items"],
                "properties": {"items": {"type": "array", "maxItems": 2, "items": {
                    "type": "object", "additionalProperties": false, "required": ["sequence"],
                    "properties": {"sequence": sequence}
                }}}
            },
            "response": response
        }]
    })
}

fn generate(doc: &Value) -> Result<biolm_codegen::Generated, biolm_codegen::CodegenError> {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("probe.json"), doc.to_string()).expect("write");
    let set = biolm_catalog::load_dir(dir.path()).expect("loads");
    assert!(biolm_codegen::schema_problems(&set).len() <= 3);
    biolm_codegen::generate(&set)
}

#[test]
fn every_problem_is_reported_once_with_its_pointer() {
    let doc = family(
        json!({"type": "string", "pattern": "(unclosed", "frobnicate": 1}),
        json!({"weird": 3}),
    );
    let err = generate(&doc).expect_err("refused");
    let text = err.to_string();
    assert!(text.contains("3 problems"), "{text}");
    for (pointer, what) in [
        (
            "/actions/0/request/properties/items/items/properties/sequence/pattern",
            "not a valid regular expression",
        ),
        (
            "/actions/0/request/properties/items/items/properties/sequence/frobnicate",
            "unknown keyword `frobnicate`",
        ),
        ("/actions/0/response/weird", "unknown keyword `weird`"),
    ] {
        let line = text
            .lines()
            .find(|l| l.contains(pointer))
            .unwrap_or_else(|| panic!("no problem at {pointer}:\n{text}"));
        assert!(line.contains(what) && line.contains("probe.json"), "{line}");
    }
    // Shared by both variants, each problem is listed once.
    assert_eq!(text.matches("frobnicate` (").count(), 1, "{text}");
    assert!(!text.contains("probe-b"), "{text}");
}

#[test]
fn a_clean_schema_generates() {
    let doc = family(json!({"type": "string", "pattern": "^[A-Z]+$"}), json!({}));
    generate(&doc).expect("generates");
}
