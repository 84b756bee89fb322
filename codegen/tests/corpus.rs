//! Codegen over the whole reference corpus (the public catalog's 120 schema pairs).

mod common;

use std::path::{Path, PathBuf};

fn reference_dir() -> PathBuf {
    common::reference_dir()
}

#[test]
fn whole_reference_corpus_generates_fast() {
    let set = biolm_catalog::load_dir(&reference_dir()).unwrap();
    let out = biolm_codegen::generate(&set).unwrap();
    eprintln!(
        "codegen over {} families / {} pairs: {:?}, {} bytes, {} serde_json::Value",
        out.families,
        out.pairs,
        out.elapsed,
        out.code.len(),
        out.value_count
    );
    assert_eq!(out.families, 37);
    assert_eq!(out.pairs, 120);
    assert!(
        out.elapsed.as_secs_f64() < 5.0,
        "codegen took {:?}",
        out.elapsed
    );
    if let Ok(path) = std::env::var("BIOLM_CODEGEN_DUMP") {
        std::fs::write(path, &out.code).unwrap();
    }
}

#[test]
fn project_schemas_generate() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    let set = biolm_catalog::load_dir(&dir).unwrap();
    let out = biolm_codegen::generate(&set).unwrap();
    eprintln!(
        "project schemas: {} families / {} pairs in {:?}",
        out.families, out.pairs, out.elapsed
    );
    assert!(out.code.contains("pub static CATALOG"));
    if let Ok(path) = std::env::var("BIOLM_CODEGEN_DUMP_PROJECT") {
        std::fs::write(path, &out.code).unwrap();
    }
}
