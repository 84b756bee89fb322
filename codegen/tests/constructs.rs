//! The construct corpus (`corpus/constructs/schemas`: one family per pydantic
//! construct, exported by pydantic 2.12) generates without error, and the key
//! constructs have the Rust shape a user would write by hand.

use std::path::PathBuf;

fn constructs_dir() -> PathBuf {
    match std::env::var_os("BIOLM_CONSTRUCTS_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/constructs/schemas"),
    }
}

fn set() -> biolm_catalog::SchemaSet {
    biolm_catalog::load_dir(&constructs_dir()).expect("the construct corpus loads")
}

#[test]
fn every_construct_generates() {
    let set = set();
    let mut failures = Vec::new();
    for fam in &set.families {
        if let Err(e) = biolm_codegen::generate_family_module(fam) {
            failures.push(format!("{}: {e}", fam.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} constructs fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    biolm_codegen::generate(&set).expect("the whole corpus generates as one file");
}
