//! Resumable JSONL output: a run killed with SIGKILL (a child process) is
//! completed by a re-run, with no duplicates and no gaps; a torn last line is
//! cut; another job on the same file is refused.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use biolm::esm2::{Esm2EncodeItem, Esm2EncodeParams, Esm2EncodeResult};
use biolm::{Client, JsonlSummary};
use biolm_sandbox::{Latency, LatencyScope};
use serde_json::Value;
use support::*;

const N: usize = 300;

fn job_items() -> Vec<Esm2EncodeItem> {
    items(N)
}

fn job_ids() -> Vec<String> {
    (0..N).map(|i| format!("seq{i}")).collect()
}

fn job_params() -> Esm2EncodeParams {
    Esm2EncodeParams::new().with_repr_layers(vec![-1])
}

/// Runs esm2-8m encode over `items` with `params` and `ids` into the JSONL file `path`.
async fn write_job(
    client: &Client,
    items: Vec<Esm2EncodeItem>,
    params: Esm2EncodeParams,
    ids: Vec<String>,
    path: &Path,
) -> Result<JsonlSummary, biolm::Error> {
    client
        .esm2_8m()
        .encode(items)
        .params(params)
        .ids(ids)
        .write_jsonl(path)
        .await
}

/// Reads the file: header + index -> line.
fn read_lines(path: &Path) -> (Value, BTreeMap<usize, Value>, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.ends_with('\n'), "the file ends with a complete line");
    let mut lines = text.lines();
    let header: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let mut map = BTreeMap::new();
    let mut count = 0;
    for l in lines {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}"));
        let i = v["index"].as_u64().unwrap() as usize;
        assert!(map.insert(i, v).is_none(), "duplicate line for index {i}");
        count += 1;
    }
    (header, map, count)
}

/// The child process: runs the job with the blocking client until killed.
#[test]
#[ignore = "helper: run by jsonl_run_killed_with_sigkill_is_resumed as a child process"]
fn jsonl_child_process() {
    let (Ok(url), Ok(path)) = (
        std::env::var("BIOLM_TEST_CHILD_URL"),
        std::env::var("BIOLM_TEST_CHILD_PATH"),
    ) else {
        return;
    };
    let client = biolm::blocking::Client::from_builder(builder(&url).concurrency(2)).unwrap();
    let spec = spec("esm2-8m", "encode");
    client
        .call::<Esm2EncodeItem, Esm2EncodeParams, Esm2EncodeResult, _>(spec, job_items())
        .params(job_params())
        .ids(job_ids())
        .batch_size(2)
        .write_jsonl(path)
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonl_run_killed_with_sigkill_is_resumed() {
    bounded(120, async {
        let cfg = config().latency(
            Latency::Fixed(Duration::from_millis(40)),
            LatencyScope::PerRequest,
        );
        let sb = sandbox(cfg).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");

        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "jsonl_child_process", "--ignored", "--nocapture"])
            .env("BIOLM_TEST_CHILD_URL", sb.base_url())
            .env("BIOLM_TEST_CHILD_PATH", &path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // wait for some results, then SIGKILL mid-run
        let t0 = Instant::now();
        loop {
            let lines = std::fs::read_to_string(&path)
                .map(|t| t.lines().count())
                .unwrap_or(0);
            if lines > 40 {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "the child wrote nothing"
            );
            assert!(child.try_wait().unwrap().is_none(), "the child ended early");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let (_, before, _) = read_lines(&path);
        assert!(before.len() < N, "killed before the end");
        // simulate a write torn by the kill
        {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            f.write_all(b"{\"index\":299,\"id\":\"seq29").unwrap();
        }

        // another job on the same file is refused, and the file is untouched
        let len_before = std::fs::metadata(&path).unwrap().len();
        let client = builder(&sb.base_url()).concurrency(8).build().unwrap();
        let other_params = Esm2EncodeParams::new().with_repr_layers(vec![-2]);
        let other = write_job(&client, job_items(), other_params, job_ids(), &path)
            .await
            .unwrap_err();
        assert!(
            matches!(other, biolm::Error::ResumeMismatch { .. }),
            "{other}"
        );
        assert!(other.to_string().contains("refusing to resume"), "{other}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len_before);

        // Same model and params, but one input item that is already in the file
        // differs: refused when the input reaches it, naming the item and its
        // file line, nothing sent for it, and the file is cut back as it was.
        let done_index = *before.keys().nth(before.len() / 2).unwrap();
        let file_line = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .position(|l| l.starts_with(&format!("{{\"index\":{done_index},")))
            .unwrap()
            + 1;
        let mut changed = job_items();
        changed[done_index] = Esm2EncodeItem::new("MKTAYIAKQRQ");
        let other = write_job(&client, changed, job_params(), job_ids(), &path)
            .await
            .unwrap_err();
        assert!(
            matches!(other, biolm::Error::ResumeItemMismatch { .. }),
            "{other}"
        );
        let msg = other.to_string();
        assert!(
            msg.contains("out.jsonl was written by a different job")
                && msg.contains(&format!(
                    "input item {done_index} (or its id) differs (file line {file_line})"
                )),
            "{msg}"
        );
        let (_, after, _) = read_lines(&path);
        assert_eq!(after.len(), before.len(), "the file is cut back as it was");
        // A different id counts as a different item too.
        let mut ids = job_ids();
        ids[done_index] = "renamed".into();
        let other = write_job(&client, job_items(), job_params(), ids, &path)
            .await
            .unwrap_err();
        assert!(
            matches!(other, biolm::Error::ResumeItemMismatch { .. }),
            "{other}"
        );
        // Fewer input items than the file has lines for: refused up front.
        let other = client
            .esm2_8m()
            .encode(items(N - 1))
            .params(job_params())
            .write_jsonl(&path)
            .await
            .unwrap_err();
        assert!(other.to_string().contains("different job"), "{other}");
        let (_, after, _) = read_lines(&path);
        assert_eq!(after.len(), before.len());

        // the same job resumes
        sb.reset_stats();
        let summary = write_job(&client, job_items(), job_params(), job_ids(), &path)
            .await
            .unwrap();
        assert_eq!(summary.total, N);
        assert_eq!(summary.skipped, before.len());
        assert_eq!(summary.succeeded, N - before.len());
        assert_eq!(
            sb.stats().items as usize,
            N - before.len(),
            "only the missing items were sent"
        );
        let (header, lines, count) = read_lines(&path);
        assert_eq!(
            header["fingerprint"].as_str(),
            Some(summary.fingerprint.as_str())
        );
        assert_eq!(header["model"], "esm2-8m");
        assert_eq!(header["biolm_jsonl"], 2);
        assert_eq!(count, N, "no duplicates");
        assert_eq!(
            lines.keys().copied().collect::<Vec<_>>(),
            (0..N).collect::<Vec<_>>(),
            "no gaps"
        );
        for (i, l) in &lines {
            assert_eq!(l["id"], format!("seq{i}"));
            let item = serde_json::to_value(&job_items()[*i]).unwrap();
            let sha = biolm::jsonl::item_sha(&item, Some(&format!("seq{i}")));
            assert_eq!(l["item_sha"], format!("{sha:016x}"));
            let r: Esm2EncodeResult = serde_json::from_value(l["result"].clone()).unwrap();
            assert_eq!(r.embeddings.unwrap()[0].embedding.len(), 320);
        }

        // a third run has nothing left to do
        sb.reset_stats();
        let again = write_job(&client, job_items(), job_params(), job_ids(), &path)
            .await
            .unwrap();
        assert_eq!((again.skipped, again.succeeded), (N, 0));
        assert_eq!(sb.stats().requests, 0);
    })
    .await
}

/// Failed items get error lines; not-attempted items get none and are done by a re-run.
/// Ids are read one per item, as the items are: an endless id iterator works
/// (collecting it first would never end), and the ids land on the right lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonl_ids_are_read_lazily_one_per_item() {
    bounded(60, async {
        let sb = sandbox(config()).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let client = builder(&sb.base_url()).build().unwrap();
        let s = client
            .esm2_8m()
            .encode(items(50))
            .ids((0u64..).map(|i| format!("endless-{i}")))
            .write_jsonl(&path)
            .await
            .unwrap();
        assert_eq!((s.succeeded, s.total), (50, 50));
        let (_, lines, count) = read_lines(&path);
        assert_eq!(count, 50);
        for (i, line) in &lines {
            assert_eq!(line["id"], format!("endless-{i}"), "{line}");
        }
        // Fewer ids than items: the rest get no id, nothing else changes.
        let path = dir.path().join("short.jsonl");
        client
            .esm2_8m()
            .encode(items(5))
            .ids(["a", "b"])
            .write_jsonl(&path)
            .await
            .unwrap();
        let (_, lines, _) = read_lines(&path);
        let ids: Vec<&Value> = lines.values().map(|l| &l["id"]).collect();
        assert_eq!(ids[..2], [&Value::from("a"), &Value::from("b")]);
        assert!(ids[2..].iter().all(|v| v.is_null()), "{ids:?}");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonl_error_lines_and_stop_policy() {
    bounded(60, async {
        let sb = sandbox(config()).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let client = builder(&sb.base_url()).concurrency(1).build().unwrap();
        let mut it = items(40);
        it[5] = Esm2EncodeItem::new("");
        let s = client
            .esm2_8m()
            .encode(it.clone())
            .stop_on_first_failure()
            .write_jsonl(&path)
            .await
            .unwrap();
        assert_eq!(s.failed, 1);
        assert!(s.not_attempted > 0);
        let (_, lines, _) = read_lines(&path);
        let err = &lines[&5]["error"];
        assert_eq!(err["kind"], "invalid");
        assert_eq!(err["field"], "sequence");
        assert_eq!(lines.len(), s.succeeded + s.failed);
        let s2 = client
            .esm2_8m()
            .encode(it.clone())
            .write_jsonl(&path)
            .await
            .unwrap();
        assert_eq!(s2.skipped, lines.len());
        assert_eq!(s2.succeeded, s.not_attempted);
        let (_, lines, count) = read_lines(&path);
        assert_eq!((lines.len(), count), (40, 40));
        // A streamed input (length unknown up front) that ends before the file's
        // last index is refused when it ends; the file is left as it was.
        let before = std::fs::read(&path).unwrap();
        let short = futures_util::stream::iter(it[..30].to_vec());
        let e = client
            .call_stream::<Esm2EncodeItem, Esm2EncodeParams, Esm2EncodeResult, _>(
                spec("esm2-8m", "encode"),
                short,
            )
            .write_jsonl(&path)
            .await
            .unwrap_err();
        assert!(
            matches!(e, biolm::Error::ResumeItemMismatch { .. })
                && e.to_string().contains("it has a line for item 39")
                && e.to_string().contains("but the input has 30 items"),
            "{e}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
        // a file that is not ours is refused with its line number
        let foreign = dir.path().join("foreign.jsonl");
        std::fs::write(&foreign, "{\"sequence\": \"MKT\"}\n").unwrap();
        let e = client
            .esm2_8m()
            .encode(items(2))
            .write_jsonl(&foreign)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("foreign.jsonl:1:"), "{e}");
    })
    .await
}

/// Peak RSS of this process (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Streams `n` generated items (never all in memory) through write_jsonl, then
/// resumes the complete file (every item compared with its line, none sent).
/// Returns the peak RSS after the write and after the resume.
async fn stream_job(url: &str, path: &Path, n: usize) -> (u64, u64) {
    let client = builder(url).concurrency(4).build().unwrap();
    let spec = spec("temberture-regression", "predict");
    let gen =
        move || futures_util::stream::iter(0..n).map(|i| serde_json::json!({ "sequence": seq(i) }));
    let s = client
        .call_stream::<Value, Value, Value, _>(spec, gen())
        .write_jsonl(path)
        .await
        .unwrap();
    assert_eq!((s.total, s.succeeded, s.skipped), (n, n, 0));
    let after_write = peak_rss_kib();
    let again = client
        .call_stream::<Value, Value, Value, _>(spec, gen())
        .write_jsonl(path)
        .await
        .unwrap();
    assert_eq!((again.total, again.succeeded, again.skipped), (n, 0, n));
    (after_write, peak_rss_kib())
}

/// Memory of a streamed write_jsonl does not grow with the input length
/// (holding the items, as the first version did, costs ~300 bytes an item):
/// writing 2N items after N raises the peak RSS by less than 4 MiB; resuming
/// keeps 16 bytes per line already in the file (32 while the file is read, as
/// its vector grows by doubling), and nothing else per item.
/// BIOLM_TEST_JSONL_ITEMS sets N (default 200,000 in release, 40,000 in debug).
///
/// VmHWM is per process, so the measure runs in a child process of its own
/// (the other tests of this binary would otherwise set the peak).
#[test]
fn jsonl_memory_is_bounded_whatever_the_input_length() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "jsonl_memory_child", "--ignored", "--nocapture"])
        .env("BIOLM_TEST_MEMORY_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "the child ran the measure: {stdout}"
    );
    eprintln!(
        "{}",
        stderr
            .lines()
            .filter(|l| l.contains("peak RSS"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The measure of [`jsonl_memory_is_bounded_whatever_the_input_length`], in a child process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "helper: run by jsonl_memory_is_bounded_whatever_the_input_length as a child process"]
async fn jsonl_memory_child() {
    if std::env::var("BIOLM_TEST_MEMORY_CHILD").is_err() {
        return;
    }
    let n: usize = std::env::var("BIOLM_TEST_JSONL_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) {
            40_000
        } else {
            200_000
        });
    bounded(900, async {
        let sb = sandbox(config()).await;
        let dir = tempfile::tempdir().unwrap();
        // A small warm-up run, so that one-time allocations (client, schema
        // validators, runtime) are in the baseline.
        stream_job(&sb.base_url(), &dir.path().join("warm.jsonl"), 2_000).await;
        let (write_n, resume_n) = stream_job(&sb.base_url(), &dir.path().join("n.jsonl"), n).await;
        let (write_2n, resume_2n) =
            stream_job(&sb.base_url(), &dir.path().join("2n.jsonl"), 2 * n).await;
        let lines = std::fs::read_to_string(dir.path().join("2n.jsonl"))
            .unwrap()
            .lines()
            .count();
        assert_eq!(lines, 2 * n + 1);
        eprintln!(
            "peak RSS (KiB): write {n}: {write_n}, resume {n}: {resume_n}, write {}: {write_2n}, resume {}: {resume_2n}",
            2 * n,
            2 * n
        );
        assert!(
            write_2n.saturating_sub(resume_n.max(write_n)) < 4 * 1024,
            "writing {} items raised the peak RSS from {} KiB to {write_2n} KiB",
            2 * n,
            resume_n.max(write_n)
        );
        let allowed = 4 * 1024 + (32 * n as u64) / 1024;
        assert!(
            resume_2n.saturating_sub(resume_n) < allowed,
            "peak RSS grew from {resume_n} KiB to {resume_2n} KiB going from {n} to {} items (allowed {allowed} KiB)",
            2 * n
        );
    })
    .await
}

/// `Call::write_jsonl` goes through the one output writer (issue 10): a file
/// it did not write (no line end, as a notes file) is refused untouched, and
/// a second call on a file that another call is writing is refused with
/// `Error::OutputLocked`, while the first completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_jsonl_never_truncates_a_foreign_file_and_holds_a_lock() {
    bounded(120, async {
        let sb = sandbox(config().latency(
            Latency::Fixed(Duration::from_millis(30)),
            LatencyScope::PerRequest,
        ))
        .await;
        let client = builder(&sb.base_url()).concurrency(1).build().unwrap();
        let dir = tempfile::tempdir().unwrap();

        let notes = dir.path().join("notes.txt");
        std::fs::write(&notes, b"do not lose this").unwrap();
        let e = client
            .esm2_8m()
            .encode(items(3))
            .write_jsonl(&notes)
            .await
            .unwrap_err();
        assert!(
            matches!(e, biolm::Error::Jsonl { .. }) && e.to_string().contains("notes.txt"),
            "{e}"
        );
        assert_eq!(std::fs::read(&notes).unwrap(), b"do not lose this");

        let out = dir.path().join("out.jsonl");
        let first = {
            let client = client.clone();
            let out = out.clone();
            tokio::spawn(async move { client.esm2_8m().encode(items(40)).write_jsonl(&out).await })
        };
        let start = Instant::now();
        while !std::fs::read_to_string(&out).is_ok_and(|s| s.lines().count() > 1) {
            assert!(start.elapsed() < Duration::from_secs(30), "no progress");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let e = client
            .esm2_8m()
            .encode(items(40))
            .write_jsonl(&out)
            .await
            .unwrap_err();
        assert!(matches!(e, biolm::Error::OutputLocked { .. }), "{e}");
        let summary = first.await.unwrap().unwrap();
        assert_eq!(summary.succeeded + summary.skipped, 40);
        let (_, lines, _) = read_lines(&out);
        assert_eq!(lines.len(), 40);
    })
    .await
}
