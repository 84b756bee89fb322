//! Shared helpers of the `biolm` binary's integration tests.
//!
//! Every test file includes this module with `mod support;`, and each test
//! binary uses only a subset of it, so the rest would warn as dead code there.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The `biolm` binary with stdin closed and none of the shell's token,
/// base-URL or log variables: tests never reach the hosted platform, and see
/// the default stderr, whatever the developer's shell has.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_biolm"));
    for k in [
        "BIOLM_LOG",
        "BIOLM_TOKEN",
        "BIOLMAI_TOKEN",
        "BIOLM_BASE_API_URL",
        "BIOLMAI_BASE_API_URL",
    ] {
        c.env_remove(k);
    }
    c.stdin(Stdio::null());
    c
}

/// [`bin`] with `BIOLM_TOKEN` set to `token`.
pub fn bin_with_token(token: &str) -> Command {
    let mut c = bin();
    c.env("BIOLM_TOKEN", token);
    c
}

/// `biolm run esm2-8m encode -i in.fa -o OUT --base-url BASE -q` and `extra`,
/// in `dir`, with `token`.
pub fn encode_in(dir: &Path, token: &str, base: &str, out: &str, extra: &[&str]) -> Command {
    let mut c = bin_with_token(token);
    c.current_dir(dir)
        .args(["run", "esm2-8m", "encode", "-i", "in.fa", "-o", out])
        .args(["--base-url", base, "-q"])
        .args(extra);
    c
}

/// Process output as text (invalid UTF-8 replaced).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The project's schema directory.
pub fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

/// Writes a FASTA of `n` short proteins (`>p0` .. `>p{n-1}`, 10 to 22
/// residues), the same for the same `n`.
pub fn proteins_fasta(path: &Path, n: usize) {
    proteins_fasta_of_lengths(path, n, 13);
}

/// [`proteins_fasta`] with protein `i` of `10 + i % spread` residues.
pub fn proteins_fasta_of_lengths(path: &Path, n: usize, spread: usize) {
    let aa = b"ACDEFGHIKLMNPQRSTVWY";
    let text: String = (0..n)
        .map(|i| {
            let seq: String = (0..(10 + i % spread))
                .map(|j| aa[(i * 7 + j * 3) % aa.len()] as char)
                .collect();
            format!(">p{i}\n{seq}\n")
        })
        .collect();
    std::fs::write(path, text).unwrap();
}

/// The python of the pinned read-back venv (pyarrow and numpy of
/// tools/readback/requirements.txt; `BIOLM_ARROW_PYTHON`, which `.ci/run`
/// exports), or `None` with a loud message outside CI; under `CI=true` a
/// missing one fails the test.
pub fn readback_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BIOLM_ARROW_PYTHON").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "BIOLM_ARROW_PYTHON is not set under CI=true: .ci/run's readback stage must export it (bash tools/readback/venv.sh prints the path)"
    );
    eprintln!(
        "\n*** SKIPPING the pyarrow/numpy read-back: BIOLM_ARROW_PYTHON is not set. Run `export BIOLM_ARROW_PYTHON=$(bash tools/readback/venv.sh)` to check it. ***\n"
    );
    None
}

/// Five proteins for the embedding-output tests; item `b` is invalid (an
/// error line in every output).
pub const EMBEDDING_FASTA: &str =
    ">a\nMKTAYIAKQR\n>b\nMK1LV\n>c\nMKLV\n>d\nMSTNPKPQRKTKRNTNRRPQDVKFPGG\n>e\nACDEFGHIKLMNPQRSTVWY\n";

/// `biolm run esm2-8m encode` on `dir/in.fa` against the in-process sandbox,
/// with mean, per-residue and logits results, into `out` (relative to `dir`).
pub fn run_embeddings(dir: &Path, out: &str, extra: &[&str]) -> std::process::Output {
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

/// Waits for every child and fails the test, with its stderr, on the first
/// that did not succeed.
pub fn wait_all_succeed(children: Vec<std::process::Child>) {
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
}
