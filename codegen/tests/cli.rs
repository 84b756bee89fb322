//! The `biolm-codegen` binary's `generate` and `check` commands on real files.

mod common;

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_biolm-codegen"))
}

fn reference() -> std::path::PathBuf {
    common::reference_dir()
}

#[test]
fn generate_writes_the_file() {
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("gen.rs");
    let run = bin()
        .arg("generate")
        .arg("--schemas")
        .arg(reference())
        .arg("-o")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let code = std::fs::read_to_string(&file).unwrap();
    assert!(code.contains("pub static CATALOG"));
    assert!(String::from_utf8_lossy(&run.stderr).contains("37 families, 120 variant/action pairs"));
}

#[test]
fn check_passes_on_the_corpus_and_fails_with_file_and_pointer() {
    let ok = bin()
        .arg("check")
        .arg("--schemas")
        .arg(reference())
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = serde_json::json!({
        "family": "demo", "display_name": "Demo",
        "variants": [{ "slug": "demo-1", "display_name": "Demo 1" }],
        "actions": [{ "name": "encode",
            "request": { "properties": { "items": { "type": "array", "maxItems": 2, "items": { "$ref": "#/$defs/Gone" } } } },
            "response": { "properties": { "results": { "type": "array", "items": { "type": "object" } } } } }]
    });
    std::fs::write(dir.path().join("demo.json"), bad.to_string()).unwrap();
    let run = bin()
        .arg("check")
        .arg("--schemas")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("demo.json: at /actions/0/request/properties/items/items"),
        "{err}"
    );
}
