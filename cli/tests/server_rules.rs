//! The server's rules as the CLI applies them before sending (`--dry-run`): strict
//! integers, `--params null`, params of another MPNN variant (accepted with a warning),
//! one trailing newline on a sequence, and a cross-field rule. Real processes, real files.

mod support;

use std::path::Path;
use std::process::Output;

use support::{bin, text};

const ATOM: &str = "ATOM      1  N   MET A   1      11.104  13.207   2.100  1.00  0.00           N";

fn dry_run(slug: &str, action: &str, input: &Path, params: Option<&str>) -> Output {
    let mut c = bin();
    c.args([
        "run",
        slug,
        action,
        "-i",
        input.to_str().unwrap(),
        "--dry-run",
    ]);
    if let Some(p) = params {
        c.args(["--params", p]);
    }
    c.output().expect("the biolm binary runs")
}

fn jsonl(dir: &Path, name: &str, lines: &[serde_json::Value]) -> std::path::PathBuf {
    let p = dir.join(name);
    let body: Vec<String> = lines.iter().map(ToString::to_string).collect();
    std::fs::write(&p, body.join("\n") + "\n").unwrap();
    p
}

#[test]
fn integers_written_with_a_fraction_are_refused_and_null_params_mean_none() {
    let d = tempfile::tempdir().unwrap();
    let input = jsonl(
        d.path(),
        "ctx.jsonl",
        &[serde_json::json!({"context": "MKT"})],
    );
    let o = dry_run(
        "progen2-oas",
        "generate",
        &input,
        Some(r#"{"max_length": 50.0}"#),
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "params.max_length: must be an integer written without a fraction, got the number 50.0"
        ),
        "{err}"
    );
    let o = dry_run(
        "progen2-oas",
        "generate",
        &input,
        Some(r#"{"max_length": 50}"#),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = dry_run("progen2-oas", "generate", &input, Some("null"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn another_mpnn_variants_params_pass_with_a_warning() {
    let d = tempfile::tempdir().unwrap();
    let input = jsonl(d.path(), "pdb.jsonl", &[serde_json::json!({"pdb": ATOM})]);
    let params = r#"{"ligand_mpnn_use_atom_context": true, "temperature": 0.1}"#;
    let o = dry_run("protein-mpnn", "generate", &input, Some(params));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning: this variant ignores params ligand_mpnn_use_atom_context"),
        "{err}"
    );
    let o = dry_run("ligand-mpnn", "generate", &input, Some(params));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("ignores params"), "{err}");
}

#[test]
fn one_trailing_newline_passes_and_cross_field_rules_refuse() {
    let d = tempfile::tempdir().unwrap();
    let input = jsonl(
        d.path(),
        "nl.jsonl",
        &[serde_json::json!({"sequence": "MKT\n"})],
    );
    let o = dry_run("esm2-8m", "encode", &input, None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let input = jsonl(
        d.path(),
        "nl2.jsonl",
        &[serde_json::json!({"sequence": "MKT\n\n"})],
    );
    let o = dry_run("esm2-8m", "encode", &input, None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));

    let input = jsonl(
        d.path(),
        "ig.jsonl",
        &[serde_json::json!({"heavy_chain": "EVQL", "sequence": "EVQ"})],
    );
    let o = dry_run("igbert-paired", "encode", &input, None);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("gives both `heavy_chain` + `light_chain` and `sequence`"),
        "{err}"
    );
}

#[test]
fn models_show_lists_the_item_rules() {
    let o = bin()
        .args(["models", "show", "immunefold-antibody"])
        .output()
        .expect("the biolm binary runs");
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(out.contains("item rules"), "{out}");
    assert!(out.contains("light_chain needs heavy_chain"), "{out}");
    let o = bin()
        .args(["models", "show", "immunefold-antibody", "--json"])
        .output()
        .expect("the biolm binary runs");
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rules = doc["actions"][0]["item_rules"].as_array().unwrap();
    assert!(
        rules.iter().any(|r| r == "pdb needs heavy_chain"),
        "{rules:?}"
    );
}
