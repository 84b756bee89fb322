//! `biolm run -o out.parquet`: the Parquet file holds the same values as the
//! JSONL output of the same job, read back with pyarrow (pinned in
//! tools/readback/requirements.txt; `BIOLM_ARROW_PYTHON` names its python,
//! which `.ci/run` exports).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{
    bin, proteins_fasta_of_lengths, readback_python, run_embeddings, text, EMBEDDING_FASTA,
};

fn checker() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/readback/check_parquet.py")
}

#[test]
fn parquet_holds_the_values_of_the_jsonl_of_the_same_job() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("in.fa"), EMBEDDING_FASTA).unwrap();
    // Item b is invalid: an error line in both outputs (exit 1: one item failed).
    for out in ["out.jsonl", "out.parquet"] {
        let o = run_embeddings(d.path(), out, &[]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("4 ok, 1 failed"),
            "{}",
            text(&o.stderr)
        );
    }
    // --output-format for a name that does not tell.
    let o = run_embeddings(d.path(), "out.bin", &["--output-format", "parquet"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let pq = std::fs::read(d.path().join("out.parquet")).unwrap();
    assert_eq!(&pq[..4], b"PAR1");
    assert_eq!(&pq[pq.len() - 4..], b"PAR1");
    let Some(py) = readback_python() else { return };
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
    std::fs::write(d.path().join("in.fa"), EMBEDDING_FASTA).unwrap();
    // A file of its own: refused, untouched, and not called an output of ours.
    std::fs::write(d.path().join("old.parquet"), b"not ours").unwrap();
    let o = run_embeddings(d.path(), "old.parquet", &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "old.parquet already exists and is not a Parquet output of biolm (a file or directory of its own, left as it was): write to another path"
        ) && !err.contains("finished output"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(d.path().join("old.parquet")).unwrap(),
        b"not ours"
    );
    // A finished Parquet output of an earlier run: refused, untouched, as final.
    let o = run_embeddings(d.path(), "done.parquet", &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "item b fails: {}",
        text(&o.stderr)
    );
    let done = std::fs::read(d.path().join("done.parquet")).unwrap();
    let o = run_embeddings(d.path(), "done.parquet", &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("done.parquet already holds a finished output (Parquet, .npz and npy outputs are final once written)"),
        "{err}"
    );
    assert_eq!(std::fs::read(d.path().join("done.parquet")).unwrap(), done);
}

/// Resident lines of a JSONL file (complete item lines).
fn item_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|s| {
            s.lines()
                .filter(|l| l.starts_with("{\"index\"") && l.ends_with('}'))
                .count()
        })
        .unwrap_or(0)
}

/// A sandbox answering each request after 100-150 ms: runs of a few seconds,
/// long enough to stop one half way (journal lines are written once a
/// checkpoint of their rows is: a row group, or a second of waiting).
fn slow_sandbox() -> biolm_sandbox::Sandbox {
    use biolm_sandbox::{Latency, LatencyScope, Sandbox, SandboxConfig};
    use std::time::Duration;
    let cfg = SandboxConfig::new(support::schemas_dir()).latency(
        Latency::Uniform {
            min: Duration::from_millis(100),
            max: Duration::from_millis(150),
        },
        LatencyScope::PerRequest,
    );
    Sandbox::start_blocking(cfg).unwrap()
}

/// `out.parquet` in `dir` holds the values of `reference.jsonl`, all `n` rows
/// (pinned pyarrow; `sequence_index` is the item's place in its request).
fn rows_equal_the_reference(dir: &Path, n: usize) {
    let Some(py) = readback_python() else { return };
    let o = Command::new(&py)
        .arg(checker())
        .arg(dir.join("out.parquet"))
        .arg(dir.join("reference.jsonl"))
        .args(["--ignore", "sequence_index"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        text(&o.stdout).contains(&format!("{n} rows equal")),
        "{}",
        text(&o.stdout)
    );
}

/// A Parquet run killed half way (SIGKILL, a real process) and run again with
/// the same command sends only what is missing, and ends with the values of
/// an uninterrupted run.
#[test]
fn a_killed_parquet_run_resumes_from_its_journal() {
    use std::time::{Duration, Instant};
    const N: usize = 120;
    let d = tempfile::tempdir().unwrap();
    proteins_fasta_of_lengths(&d.path().join("in.fa"), N, 40);
    // Slow enough for a run of a few seconds: journal lines are written once
    // a checkpoint of their rows is (a row group, or a second of waiting).
    let sb = slow_sandbox();
    let base = sb.base_url();
    let cmd = |out: &str| {
        support::encode_in(
            d.path(),
            "parquet-resume-token",
            &base,
            out,
            &[
                "--concurrency",
                "2",
                "--batch-size",
                "4",
                "--params",
                r#"{"include":["mean","per_residue"]}"#,
            ],
        )
    };
    let o = cmd("reference.jsonl").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));

    let journal = d.path().join("out.parquet.partial.jsonl");
    let mut child = cmd("out.parquet")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let waited = Instant::now();
    while item_lines(&journal) < N / 3 && child.try_wait().unwrap().is_none() {
        assert!(waited.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended before the kill"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done = item_lines(&journal);
    assert!((N / 3..N).contains(&done), "{done} lines in the journal");
    assert!(
        !d.path().join("out.parquet").exists(),
        "no Parquet file before the end"
    );
    // The Parquet file being written as the lines came (no footer yet), with
    // a checkpoint of its rows; the journal names them without their results.
    let direct = d.path().join("out.parquet.partial.parquet");
    assert!(direct.exists(), "the Parquet file is written as lines come");
    assert!(d.path().join("out.parquet.partial.checkpoint").exists());
    let lines = std::fs::read_to_string(&journal).unwrap();
    assert!(
        !lines.contains("\"result\"") && lines.contains("\"in_parquet\":true"),
        "{lines}"
    );
    let (jlen, plen) = (
        std::fs::metadata(&journal).unwrap().len(),
        std::fs::metadata(&direct).unwrap().len(),
    );
    assert!(jlen * 20 < plen, "a journal of {jlen} bytes beside {plen}");

    sb.reset_stats();
    let o = cmd("out.parquet").output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("already done"), "{err}");
    // Only the missing items were sent (batches of 4; the last one may be short).
    let sent = sb.stats().requests as usize;
    assert!(
        sent <= (N - done).div_ceil(4) + 1,
        "{sent} requests for {} missing items",
        N - done
    );
    assert!(!journal.exists(), "the journal is removed once converted");
    assert!(
        !direct.exists(),
        "the partial Parquet file is renamed into place"
    );
    rows_equal_the_reference(d.path(), N);
}

/// An interrupted Parquet run (SIGINT, a real process) leaves its output
/// unfinished, every result received checkpointed and named by its journal,
/// and the same command finishes the job, as the interruption message says.
#[test]
fn an_interrupted_parquet_run_is_finished_by_the_same_command() {
    use std::time::{Duration, Instant};
    const N: usize = 60;
    let d = tempfile::tempdir().unwrap();
    proteins_fasta_of_lengths(&d.path().join("in.fa"), N, 40);
    let sb = slow_sandbox();
    let base = sb.base_url();
    let cmd = |out: &str| {
        support::encode_in(
            d.path(),
            "parquet-interrupt-token",
            &base,
            out,
            &["--concurrency", "1", "--batch-size", "2"],
        )
    };
    let o = cmd("reference.jsonl").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let mut child = cmd("out.parquet")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let direct = d.path().join("out.parquet.partial.parquet");
    let waited = Instant::now();
    while !direct.exists() && child.try_wait().unwrap().is_none() {
        assert!(waited.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(500));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let o = child.wait_with_output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("run the same command again"), "{err}");
    assert!(!d.path().join("out.parquet").exists(), "left unfinished");
    let journal = d.path().join("out.parquet.partial.jsonl");
    let done = item_lines(&journal);
    assert!((1..N).contains(&done), "{done} lines in the journal: {err}");

    let o = cmd("out.parquet").output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains(&format!("{done} already done")), "{err}");
    assert!(!journal.exists() && !direct.exists());
    rows_equal_the_reference(d.path(), N);
}

/// `biolm convert` writes the Parquet file of a JSONL output written before.
#[test]
fn convert_writes_the_parquet_of_an_earlier_jsonl() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("in.fa"), EMBEDDING_FASTA).unwrap();
    let o = run_embeddings(d.path(), "out.jsonl", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let o = bin()
        .current_dir(d.path())
        .args(["convert", "out.jsonl", "conv.parquet"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("5 lines (1 errors) of esm2-8m/encode"),
        "{}",
        text(&o.stderr)
    );
    // It does not overwrite.
    let again = bin()
        .current_dir(d.path())
        .args(["convert", "out.jsonl", "conv.parquet"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
    let Some(py) = readback_python() else { return };
    let o = Command::new(&py)
        .arg(checker())
        .arg(d.path().join("conv.parquet"))
        .arg(d.path().join("out.jsonl"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
}

/// `--output-format npy`: a directory of float32 arrays (mean embeddings as an
/// N x D matrix, per-residue ragged with offsets) holding the values of the
/// JSONL of the same job, read back with numpy.
#[test]
fn npy_arrays_hold_the_values_of_the_jsonl_of_the_same_job() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("in.fa"), EMBEDDING_FASTA).unwrap();
    let o = run_embeddings(d.path(), "out.jsonl", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let o = run_embeddings(d.path(), "arrays", &["--output-format", "npy"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    for f in [
        "index.npy",
        "ids.txt",
        "errors.jsonl",
        "embeddings.npy",
        "residue_embeddings.npy",
        "residue_embeddings_offsets.npy",
    ] {
        assert!(d.path().join("arrays").join(f).exists(), "{f} is missing");
    }
    assert!(!d.path().join("arrays.partial.jsonl").exists());
    let Some(py) = readback_python() else { return };
    let o = Command::new(&py)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/readback/check_npy.py"))
        .arg(d.path().join("arrays"))
        .arg(d.path().join("out.jsonl"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        text(&o.stdout).contains("4 rows equal"),
        "{}",
        text(&o.stdout)
    );
}
