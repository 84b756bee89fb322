//! Definition naming inside a family module: identical `$defs` shared by
//! several actions are emitted once, same-named ones with different shapes are
//! renamed deterministically, and output is stable run to run.

mod common;

use std::path::Path;

use serde_json::{json, Value};

fn response(layer: Value) -> Value {
    json!({
        "$defs": { "LayerEmbedding": layer, "Result": { "type": "object", "required": ["layers"],
            "properties": { "layers": { "type": "array", "items": { "$ref": "#/$defs/LayerEmbedding" } } } } },
        "properties": { "results": { "type": "array", "items": { "$ref": "#/$defs/Result" } } },
        "required": ["results"], "type": "object"
    })
}

fn request() -> Value {
    json!({
        "$defs": { "Item": { "type": "object", "additionalProperties": false, "required": ["sequence"],
                             "properties": { "sequence": { "type": "string", "maxLength": 100 } } } },
        "additionalProperties": false,
        "properties": { "items": { "type": "array", "items": { "$ref": "#/$defs/Item" }, "maxItems": 4 } },
        "required": ["items"], "type": "object"
    })
}

fn write(dir: &Path) {
    let flat = json!({ "type": "object", "properties": { "layer": { "type": "integer" }, "embedding": { "type": "array", "items": { "type": "number" } } } });
    let matrix = json!({ "type": "object", "properties": { "layer": { "type": "integer" }, "embedding": { "type": "array", "items": { "type": "array", "items": { "type": "number" } } } } });
    let doc = json!({
        "family": "demo", "display_name": "Demo",
        "variants": [{ "slug": "demo-1", "display_name": "Demo 1" }],
        "actions": [
            { "name": "encode", "request": request(), "response": response(flat.clone()) },
            { "name": "predict", "request": request(), "response": response(matrix) },
            { "name": "log_prob", "request": request(), "response": response(flat) }
        ]
    });
    std::fs::write(dir.join("demo.json"), serde_json::to_string(&doc).unwrap()).unwrap();
}

#[test]
fn shared_defs_are_emitted_once_and_clashing_ones_renamed() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path());
    let set = biolm_catalog::load_dir(dir.path()).unwrap();
    let code = biolm_codegen::generate(&set).unwrap().code;
    assert_eq!(
        code.matches("pub struct LayerEmbedding ").count(),
        1,
        "{code}"
    );
    assert_eq!(
        code.matches("pub struct LayerEmbeddingPredict ").count(),
        1,
        "{code}"
    );
    assert!(
        code.contains("pub embedding: Option<Vec<Vec<f64>>>"),
        "{code}"
    );
    // The request item is identical in all three actions: one struct, two aliases.
    assert_eq!(code.matches("pub struct DemoEncodeItem ").count(), 1);
    assert!(
        code.contains("pub type DemoPredictItem = DemoEncodeItem;"),
        "{code}"
    );
    assert!(
        code.contains("pub type DemoLogProbItem = DemoEncodeItem;"),
        "{code}"
    );
    // Results: encode and log_prob share a shape, so log_prob aliases encode's.
    assert!(
        code.contains("pub type DemoLogProbResult = DemoEncodeResult;"),
        "{code}"
    );
    assert!(
        code.contains("pub const ENCODE_SEQUENCE_MAX_LENGTH: usize = 100;"),
        "{code}"
    );
    assert!(
        code.contains("pub const LOG_PROB_MAX_ITEMS: usize = 4;"),
        "{code}"
    );
}

#[test]
fn output_is_identical_run_to_run() {
    let dir = common::reference_dir();
    let set = biolm_catalog::load_dir(&dir).unwrap();
    let a = biolm_codegen::generate(&set).unwrap().code;
    let b = biolm_codegen::generate(&set).unwrap().code;
    assert!(a == b, "two runs over the same schemas differ");
}
