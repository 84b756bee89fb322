//! `serde_json::Value` appears only where a schema is an open dict (or as the
//! fallback arm of a response union). The counts are stored in
//! `value_count.txt` and may only go down: a test fails if one grows.

mod common;

use std::path::Path;

fn count(dir: &Path) -> usize {
    let set = biolm_catalog::load_dir(dir).unwrap();
    biolm_codegen::generate(&set).unwrap().value_count
}

fn stored(key: &str) -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/value_count.txt");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().parse().unwrap())
        .unwrap()
}

#[test]
fn value_count_does_not_grow() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (key, dir) in [
        ("reference", common::reference_dir()),
        ("project", root.join("../schemas")),
    ] {
        let (now, limit) = (count(&dir), stored(key));
        eprintln!("{key}: {now} serde_json::Value (stored limit {limit})");
        assert!(
            now <= limit,
            "{key}: {now} serde_json::Value in generated code, more than the stored {limit}"
        );
    }
}
