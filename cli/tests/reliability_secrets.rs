//! The token never appears in the `biolm` binary's output (issue 6, part 6):
//! not on stdout (data, error lines, JSONL file) nor stderr (progress, summary,
//! errors), whether the server accepts it while failing and retrying, or
//! refuses it (401).

use std::path::Path;
use std::process::{Command, Stdio};

use biolm_sandbox::{FaultKind, Sandbox, SandboxConfig};

const SECRET: &str = "sk-cli-Qm4Tz8Wb2Nc6Vx1Lp9Rk";

fn bin(token: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_biolm"));
    for k in [
        "BIOLM_TOKEN",
        "BIOLMAI_TOKEN",
        "BIOLM_BASE_API_URL",
        "BIOLMAI_BASE_API_URL",
    ] {
        c.env_remove(k);
    }
    c.env("BIOLM_TOKEN", token);
    c.env("RUST_LOG", "trace");
    c.stdin(Stdio::null());
    c
}

fn schemas() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
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
    let ok = Sandbox::start_blocking(SandboxConfig::new(schemas()).token(SECRET).faults(
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
    let o = bin(SECRET)
        .args([
            "run",
            "esm2-8m",
            "encode",
            "-i",
            &fasta,
            "--base-url",
            &ok.base_url(),
        ])
        .output()
        .unwrap();
    assert!(ok.stats().requests > 0);
    assert_clean("stdout", &o.stdout);
    assert_clean("stderr", &o.stderr);
    let o = bin(SECRET)
        .args([
            "run",
            "esm2-8m",
            "encode",
            "-i",
            &fasta,
            "-o",
            out.to_str().unwrap(),
            "--base-url",
            &ok.base_url(),
        ])
        .output()
        .unwrap();
    assert_clean("stdout with -o", &o.stdout);
    assert_clean("stderr with -o", &o.stderr);
    assert_clean("the JSONL file", &std::fs::read(&out).unwrap());

    // Refused token: every item fails with 401 and the message says what to do.
    let refusing = Sandbox::start_blocking(SandboxConfig::new(schemas()).token("another")).unwrap();
    let o = bin(SECRET)
        .args([
            "run",
            "esm2-8m",
            "encode",
            "-s",
            "MKTAYIAKQR",
            "--base-url",
            &refusing.base_url(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let all = [o.stdout.clone(), o.stderr.clone()].concat();
    let text = String::from_utf8_lossy(&all);
    assert!(
        text.contains("401") && text.contains("BIOLM_TOKEN"),
        "{text}"
    );
    assert_clean("401 output", &all);

    // A token with a character not allowed in a header: refused, not quoted.
    let o = bin(&format!("{SECRET}\u{7f}"))
        .args([
            "run",
            "esm2-8m",
            "encode",
            "-s",
            "MKT",
            "--base-url",
            &refusing.base_url(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_clean("bad-token error", &[o.stdout, o.stderr].concat());
}
