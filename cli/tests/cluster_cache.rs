//! `biolm run --cache FILE` and `biolm cache stats|prune` end to end, against a
//! sandbox on loopback whose request counters tell what was sent: a finished
//! job run again into a new file sends nothing; four processes share one
//! cache file; a foreign file is refused.

mod support;

use std::path::Path;
use std::process::Output;

use biolm_sandbox::{Sandbox, SandboxConfig};
use support::*;

const N: usize = 40;

fn start_sandbox() -> (tokio::runtime::Runtime, Sandbox) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sb = rt
        .block_on(Sandbox::start(SandboxConfig::new(schemas_dir())))
        .unwrap();
    (rt, sb)
}

fn run(sb: &Sandbox, input: &Path, out: &Path, cache: &Path) -> std::process::Command {
    let mut c = bin_with_token("test-token");
    c.args(["run", "esm2-8m", "encode", "-q", "--batch-size", "4"])
        .arg("--base-url")
        .arg(sb.base_url())
        .arg("-i")
        .arg(input)
        .arg("-o")
        .arg(out)
        .arg("--cache")
        .arg(cache);
    c
}

fn ok(o: Output) -> String {
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    err
}

#[test]
fn a_finished_job_run_again_into_a_new_file_sends_nothing() {
    let (_rt, sb) = start_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let (input, cache) = (dir.path().join("in.fasta"), dir.path().join("c.sqlite"));
    proteins_fasta(&input, N);
    let err = ok(run(&sb, &input, &dir.path().join("one.jsonl"), &cache)
        .output()
        .unwrap());
    assert!(
        err.contains("cache: 0 hits, 40 misses, 0 duplicates"),
        "{err}"
    );
    let sent = sb.stats().requests;
    assert_eq!(sent, 10);
    // Again, into a new file, the cache named by BIOLM_CACHE.
    let mut again = bin_with_token("test-token");
    again
        .args(["run", "esm2-8m", "encode", "-q", "--batch-size", "4"])
        .arg("--base-url")
        .arg(sb.base_url())
        .arg("-i")
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("two.jsonl"))
        .env("BIOLM_CACHE", &cache);
    let err = ok(again.output().unwrap());
    assert!(
        err.contains("40 ok") && err.contains("cache: 40 hits, 0 misses"),
        "{err}"
    );
    assert_eq!(sb.stats().requests, sent, "the second run sent requests");
    let merged = |name: &str| {
        let m = dir.path().join(format!("m-{name}"));
        ok(bin()
            .arg("merge")
            .arg(&m)
            .arg(dir.path().join(name))
            .output()
            .unwrap());
        std::fs::read(m).unwrap()
    };
    assert!(merged("one.jsonl") == merged("two.jsonl"), "same lines");

    let o = bin().args(["cache", "stats"]).arg(&cache).output().unwrap();
    let out = text(&o.stdout);
    assert!(
        o.status.success() && out.contains(": 40 entries") && out.contains("esm2-8m/encode"),
        "{out}"
    );
    let o = bin().args(["cache", "prune"]).arg(&cache).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "prune says what to delete");
    ok(bin()
        .args(["cache", "prune", "--model", "esm2-8m"])
        .arg(&cache)
        .output()
        .unwrap());
    let o = bin()
        .args(["cache", "stats", "--json"])
        .arg(&cache)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["entries"], 0);
}

#[test]
fn four_processes_share_one_cache_file() {
    let (_rt, sb) = start_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let (input, cache) = (dir.path().join("in.fasta"), dir.path().join("c.sqlite"));
    proteins_fasta(&input, N);
    let children: Vec<_> = (0..4)
        .map(|k| {
            run(
                &sb,
                &input,
                &dir.path().join(format!("out{k}.jsonl")),
                &cache,
            )
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    wait_all_succeed(children);
    let sent = sb.stats().requests;
    assert!((10..=40).contains(&sent), "{sent}");
    let err = ok(run(&sb, &input, &dir.path().join("five.jsonl"), &cache)
        .output()
        .unwrap());
    assert!(err.contains("cache: 40 hits"), "{err}");
    assert_eq!(sb.stats().requests, sent);
}

#[test]
fn a_foreign_cache_file_is_refused_and_left_untouched() {
    let (_rt, sb) = start_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.fasta");
    proteins_fasta(&input, N);
    let notes = dir.path().join("notes.txt");
    let body = "my notes; this is not a database, and it is long enough to be read as one.......................................\n";
    std::fs::write(&notes, body).unwrap();
    let o = run(&sb, &input, &dir.path().join("o.jsonl"), &notes)
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("not a biolm result cache"), "{err}");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), body);
    assert_eq!(sb.stats().requests, 0);
}
