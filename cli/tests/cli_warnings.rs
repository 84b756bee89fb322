//! The SDK's `tracing` warnings reach the `biolm` binary's stderr (issue 14):
//! a result budget smaller than one response is said once, as a status line,
//! and the run still completes every item; `BIOLM_LOG` sets what is shown.

mod support;

use std::path::Path;
use std::process::Output;

use support::{bin, proteins_fasta, text};

/// The SDK's warning about a budget below one response.
const BUDGET_WARNING: &str =
    "biolm: warning: the result budget (1000 bytes) is smaller than one batch's response (about ";

/// `biolm run esm2-8m encode` with per-residue embeddings (tens of KB per
/// response) on 24 proteins in batches of 2, against the in-process sandbox,
/// into `dir/out.jsonl`, with `extra` arguments and `env`.
fn run_per_residue(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    proteins_fasta(&dir.join("in.fa"), 24);
    let _ = std::fs::remove_file(dir.join("out.jsonl"));
    let mut c = bin();
    c.current_dir(dir)
        .args([
            "run",
            "esm2-8m",
            "encode",
            "-i",
            "in.fa",
            "--sandbox",
            "-q",
            "--batch-size",
            "2",
            "--params",
            r#"{"include":["mean","per_residue"]}"#,
            "-o",
            "out.jsonl",
        ])
        .args(extra)
        .envs(env.iter().copied());
    c.output().unwrap()
}

/// The item lines of `dir/out.jsonl` that hold a result.
fn results_in(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("out.jsonl"))
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| l.contains("\"result\":"))
        .count()
}

#[test]
fn a_result_budget_below_one_response_is_warned_once_and_every_item_completes() {
    let d = tempfile::tempdir().unwrap();
    let o = run_per_residue(d.path(), &["--result-budget", "1000"], &[]);
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert_eq!(results_in(d.path()), 24, "{err}");
    // Once, though all 12 batches went one at a time; with `-q` (quiet is
    // for the progress bar; warnings stay, as the summary does).
    assert_eq!(err.matches(BUDGET_WARNING).count(), 1, "{err}");
    let line = err.lines().find(|l| l.starts_with(BUDGET_WARNING)).unwrap();
    assert!(
        line.ends_with(
            " bytes): batches go one at a time; raise it (ClientBuilder::result_budget, --result-budget) for more in flight"
        ),
        "a plain status line, without fields the message already shows: {line}"
    );
    assert!(
        err.contains("biolm: esm2-8m/encode: 24 ok, 0 failed"),
        "{err}"
    );
}

#[test]
fn the_default_budget_warns_nothing() {
    let d = tempfile::tempdir().unwrap();
    let o = run_per_residue(d.path(), &[], &[]);
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert_eq!(results_in(d.path()), 24, "{err}");
    assert!(!err.contains("warning"), "{err}");
    // Only the two status lines of a sandbox run: nothing of the sandbox's
    // own logging (it compiles its schemas at info level).
    assert_eq!(err.lines().count(), 2, "{err}");
}

#[test]
fn biolm_log_sets_what_is_shown() {
    let d = tempfile::tempdir().unwrap();
    // Off: not even the warning.
    let o = run_per_residue(
        d.path(),
        &["--result-budget", "1000"],
        &[("BIOLM_LOG", "off")],
    );
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("warning"), "{err}");

    // More: debug lines name their module and span.
    let o = run_per_residue(d.path(), &[], &[("BIOLM_LOG", "biolm=debug")]);
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("biolm: info: biolm_sandbox: sandbox schemas compiled")),
        "{err}"
    );

    // Not a filter: said, and the default is used.
    let o = run_per_residue(
        d.path(),
        &["--result-budget", "1000"],
        &[("BIOLM_LOG", "biolm=loud")],
    );
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("biolm: warning: BIOLM_LOG=\"biolm=loud\" is not a filter"),
        "{err}"
    );
    assert_eq!(err.matches(BUDGET_WARNING).count(), 1, "{err}");
}

#[test]
fn help_names_biolm_log() {
    let o = bin().arg("--help").output().unwrap();
    assert!(o.status.success());
    assert!(text(&o.stdout).contains("BIOLM_LOG"), "{}", text(&o.stdout));
}

/// Params of another MPNN variant: said once per run, whether the CLI's
/// check (a dry run) or the SDK (a run: its `tracing` warning) says it.
#[test]
fn params_another_variant_uses_are_warned_about_once() {
    let d = tempfile::tempdir().unwrap();
    let atom = "ATOM      1  N   MET A   1      11.104  13.207   2.100  1.00  0.00           N";
    let line = serde_json::json!({ "pdb": atom }).to_string() + "\n";
    std::fs::write(d.path().join("pdb.jsonl"), &line).unwrap();
    let params = r#"{"ligand_mpnn_use_atom_context": true, "temperature": 0.1}"#;
    for extra in [&["--dry-run"][..], &["--sandbox", "-q"][..]] {
        let o = bin()
            .current_dir(d.path())
            .args(["run", "protein-mpnn", "generate", "-i", "pdb.jsonl"])
            .args(["--params", params])
            .args(extra)
            .output()
            .unwrap();
        let err = text(&o.stderr);
        let said: Vec<&str> = err
            .lines()
            .filter(|l| l.contains("ignore") && l.contains("ligand_mpnn_use_atom_context"))
            .collect();
        assert_eq!(said.len(), 1, "{extra:?}: {err}");
        assert!(said[0].starts_with("biolm: warning: "), "{err}");
    }
}
