//! The token never appears in the `biolm` binary's output (issue 6, part 6):
//! not on stdout (data, error lines, JSONL file) nor stderr (progress, summary,
//! errors), whether the server accepts it while failing and retrying, or
//! refuses it (401).

mod support;

use std::process::Command;

use biolm_sandbox::{FaultKind, Sandbox, SandboxConfig};
use support::{schemas_dir, text};

const SECRET: &str = "sk-cli-Qm4Tz8Wb2Nc6Vx1Lp9Rk";

fn bin(token: &str) -> Command {
    let mut c = support::bin_with_token(token);
    // Every log line of every crate on stderr, to be checked too.
    c.env("BIOLM_LOG", "trace");
    c
}

fn assert_clean(what: &str, bytes: &[u8]) {
    let text = text(bytes);
    assert!(
        !text.contains(SECRET),
        "the token leaked into {what}: {text}"
    );
    assert!(
        !text.contains(&SECRET[7..20]),
        "part of the token leaked into {what}: {text}"
    );
}

#[test]
fn token_never_in_cli_output() {
    let d = tempfile::tempdir().unwrap();
    let fasta = d.path().join("in.fasta");
    let mut s = String::new();
    for i in 0..40 {
        s.push_str(&format!(">p{i}\nMKTAYIAKQR{}\n", "G".repeat(i % 7)));
    }
    s.push_str(">bad\nMK1T\n");
    std::fs::write(&fasta, s).unwrap();
    let fasta = fasta.display().to_string();

    // Accepted token; requests fail and are retried; one item is invalid.
    let ok = Sandbox::start_blocking(SandboxConfig::new(schemas_dir()).token(SECRET).faults(
        0.4,
        [
            FaultKind::Status503,
            FaultKind::ConnectionReset,
            FaultKind::Status500,
        ],
        11,
    ))
    .unwrap();
    let out = d.path().join("out.jsonl");
    // The FASTA file through the accepting sandbox, with these extra arguments.
    let run_ok = |extra: &[&str]| {
        bin(SECRET)
            .args(["run", "esm2-8m", "encode", "-i", &fasta])
            .args(extra)
            .args(["--base-url", &ok.base_url()])
            .output()
            .unwrap()
    };
    let o = run_ok(&[]);
    assert!(ok.stats().requests > 0);
    assert_clean("stdout", &o.stdout);
    assert_clean("stderr", &o.stderr);
    let o = run_ok(&["-o", out.to_str().unwrap()]);
    assert_clean("stdout with -o", &o.stdout);
    assert_clean("stderr with -o", &o.stderr);
    assert_clean("the JSONL file", &std::fs::read(&out).unwrap());

    // Refused token: every item fails with 401 and the message says what to do.
    let refusing =
        Sandbox::start_blocking(SandboxConfig::new(schemas_dir()).token("another")).unwrap();
    // One sequence, with `token`, sent to the refusing sandbox.
    let run_one = |token: &str, sequence: &str| {
        bin(token)
            .args(["run", "esm2-8m", "encode", "-s", sequence])
            .args(["--base-url", &refusing.base_url()])
            .output()
            .unwrap()
    };
    let o = run_one(SECRET, "MKTAYIAKQR");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let all = [o.stdout.clone(), o.stderr.clone()].concat();
    let said = text(&all);
    assert!(
        said.contains("401") && said.contains("BIOLM_TOKEN"),
        "{said}"
    );
    assert_clean("401 output", &all);

    // A token with a character not allowed in a header: refused, not quoted.
    let o = run_one(&format!("{SECRET}\u{7f}"), "MKT");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert_clean("bad-token error", &[o.stdout, o.stderr].concat());
}
