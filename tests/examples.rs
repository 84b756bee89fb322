//! Runs every example against the local sandbox over loopback, so none can rot.

// Each example file brings its own copy of examples/common, as it does when built alone.
#![allow(clippy::duplicate_mod)]

#[path = "../examples/common/mod.rs"]
mod common;

#[allow(dead_code)]
#[path = "../examples/quickstart.rs"]
mod quickstart;

#[allow(dead_code)]
#[path = "../examples/blocking_quickstart.rs"]
mod blocking_quickstart;

#[allow(dead_code)]
#[path = "../examples/pipeline.rs"]
mod pipeline;

#[allow(dead_code)]
#[path = "../examples/stream_fasta_to_jsonl.rs"]
mod stream_fasta_to_jsonl;

use std::path::{Path, PathBuf};

use biolm_sandbox::{Sandbox, SandboxConfig};

fn schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

fn proteins() -> Vec<(String, String)> {
    common::read_fasta(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/proteins.fasta"))
        .expect("examples/data/proteins.fasta is readable")
}

async fn sandbox_client() -> (Sandbox, biolm::Client) {
    let sandbox = Sandbox::start(SandboxConfig::new(schemas()))
        .await
        .expect("sandbox starts");
    let client = biolm::Client::builder()
        .base_url(sandbox.base_url())
        .build()
        .expect("client builds");
    (sandbox, client)
}

#[tokio::test]
async fn quickstart_folds_and_embeds_every_record() {
    let (sandbox, client) = sandbox_client().await;
    let records = proteins();
    let report = quickstart::run(&client, &records)
        .await
        .expect("quickstart runs");
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), records.len(), "{report}");
    for (line, (id, _)) in lines.iter().zip(&records) {
        assert!(line.starts_with(id.as_str()), "{line}");
        assert!(
            line.contains("pLDDT") && line.contains("embedding of 320 numbers"),
            "{line}"
        );
    }
    // esmfold takes 2 items per request, esm2 8: ceil(7/2) + ceil(7/8) requests.
    let n = records.len() as u64;
    assert_eq!(sandbox.stats().requests, n.div_ceil(2) + n.div_ceil(8));
}

#[test]
fn blocking_quickstart_generates_three_samples_per_prompt() {
    let sandbox = Sandbox::start_blocking(SandboxConfig::new(schemas())).expect("sandbox starts");
    let client = biolm::blocking::Client::from_builder(
        biolm::Client::builder().base_url(sandbox.base_url()),
    )
    .expect("client");
    let out = blocking_quickstart::run(&client).expect("blocking quickstart runs");
    assert_eq!(out.lines().count(), 6, "{out}");
    assert!(
        out.lines()
            .all(|l| l.contains(" -> ") && l.contains("mean log-likelihood")),
        "{out}"
    );
}

#[tokio::test]
async fn pipeline_embeds_each_folded_sequence() {
    let (sandbox, client) = sandbox_client().await;
    let records = proteins();
    let lines = pipeline::run(&client, records.clone())
        .await
        .expect("pipeline runs");
    assert_eq!(lines.len(), records.len());
    for (line, (id, _)) in lines.iter().zip(&records) {
        assert!(
            line.starts_with(id.as_str())
                && line.contains("folded")
                && line.contains("1 layer(s) embedded"),
            "{line}"
        );
    }
    assert_eq!(sandbox.stats().items, 2 * records.len() as u64);
}

#[tokio::test]
async fn streaming_example_writes_and_resumes_jsonl() {
    let (sandbox, client) = sandbox_client().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/proteins.fasta");
    let output = dir.path().join("out.jsonl");
    let first = stream_fasta_to_jsonl::run(&client, &input, &output)
        .await
        .expect("first run");
    let n = proteins().len();
    assert_eq!((first.succeeded, first.skipped), (n, 0), "{first:?}");
    let text = std::fs::read_to_string(&output).expect("output exists");
    assert_eq!(
        text.lines().count(),
        n + 1,
        "a header line and one line per record:\n{text}"
    );
    let requests = sandbox.stats().requests;
    let again = stream_fasta_to_jsonl::run(&client, &input, &output)
        .await
        .expect("second run");
    assert_eq!((again.succeeded, again.skipped), (0, n), "{again:?}");
    assert_eq!(
        sandbox.stats().requests,
        requests,
        "a finished job sends nothing when re-run"
    );
}
