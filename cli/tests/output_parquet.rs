//! `biolm run -o out.parquet`: the Parquet file holds the same values as the
//! JSONL output of the same job, read back with pyarrow (pinned in
//! tools/readback/requirements.txt; `BIOLM_ARROW_PYTHON` names its python,
//! which `.ci/run` exports).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{bin, text};

/// The python with pyarrow and numpy, or `None` (with a loud message) outside
/// CI; under `CI=true` a missing one fails the test.
fn arrow_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BIOLM_ARROW_PYTHON").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "BIOLM_ARROW_PYTHON is not set under CI=true: .ci/run's readback stage must export it (bash tools/readback/venv.sh prints the path)"
    );
    eprintln!(
        "\n*** SKIPPING the pyarrow read-back: BIOLM_ARROW_PYTHON is not set. Run `export BIOLM_ARROW_PYTHON=$(bash tools/readback/venv.sh)` to check it. ***\n"
    );
    None
}

fn checker() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/readback/check_parquet.py")
}

const FASTA: &str = ">a\nMKTAYIAKQR\n>b\nMK1LV\n>c\nMKLV\n>d\nMSTNPKPQRKTKRNTNRRPQDVKFPGG\n>e\nACDEFGHIKLMNPQRSTVWY\n";

fn run(dir: &Path, out: &str, extra: &[&str]) -> std::process::Output {
    let mut c = bin();
    c.current_dir(dir).args([
        "run",
        "esm2-8m",
        "encode",
        "-i",
        "in.fa",
        "--sandbox",
        "-q",
        "--params",
        r#"{"include":["mean","per_residue","logits"]}"#,
        "-o",
        out,
    ]);
    c.args(extra);
    c.output().unwrap()
}

#[test]
fn parquet_holds_the_values_of_the_jsonl_of_the_same_job() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("in.fa"), FASTA).unwrap();
    // Item b is invalid: an error line in both outputs (exit 1: one item failed).
    for out in ["out.jsonl", "out.parquet"] {
        let o = run(d.path(), out, &[]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("4 ok, 1 failed"),
            "{}",
            text(&o.stderr)
        );
    }
    // --output-format for a name that does not tell.
    let o = run(d.path(), "out.bin", &["--output-format", "parquet"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let pq = std::fs::read(d.path().join("out.parquet")).unwrap();
    assert_eq!(&pq[..4], b"PAR1");
    assert_eq!(&pq[pq.len() - 4..], b"PAR1");
    let Some(py) = arrow_python() else { return };
    for out in ["out.parquet", "out.bin"] {
        let o = Command::new(&py)
            .arg(checker())
            .arg(d.path().join(out))
            .arg(d.path().join("out.jsonl"))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{out}: {}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
        let said = text(&o.stdout);
        assert!(
            said.contains("5 rows equal") && said.contains("1 errors"),
            "{said}"
        );
    }
}

#[test]
fn an_existing_parquet_file_is_refused_and_left_as_it_was() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("in.fa"), FASTA).unwrap();
    std::fs::write(d.path().join("old.parquet"), b"not ours").unwrap();
    let o = run(d.path(), "old.parquet", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("Parquet outputs are written in one run"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(
        std::fs::read(d.path().join("old.parquet")).unwrap(),
        b"not ours"
    );
}
