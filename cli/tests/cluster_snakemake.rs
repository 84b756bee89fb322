//! The Snakemake workflow (integrations/snakemake/Snakefile) with real
//! Snakemake (pinned in integrations/snakemake/requirements.txt; `.ci/run`
//! installs it with integrations/snakemake/setup.sh and sets BIOLM_SNAKEMAKE)
//! against a sandbox on loopback: the merged output equals a single run's;
//! deleting one shard's output re-runs just that shard; a workflow killed
//! half way through a shard resumes that shard from its own partial file.
//!
//! Without BIOLM_SNAKEMAKE the tests skip with a message, except under
//! CI=true, where they fail.

mod support;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use biolm_sandbox::{Latency, LatencyScope, Sandbox, SandboxConfig};
use support::*;

const N: usize = 30;
const SHARDS: usize = 3;

fn snakemake() -> Option<PathBuf> {
    match std::env::var_os("BIOLM_SNAKEMAKE") {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "BIOLM_SNAKEMAKE is not set under CI=true: .ci/run must install Snakemake with integrations/snakemake/setup.sh"
        ),
        None => {
            // Written to the process's stderr itself, past the test harness's capture.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: the Snakemake workflow tests need BIOLM_SNAKEMAKE=<path of snakemake>; \
                 run `export BIOLM_SNAKEMAKE=$(integrations/snakemake/setup.sh)` first"
            );
            None
        }
    }
}

fn snakefile() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../integrations/snakemake/Snakefile")
}

struct Setup {
    _rt: tokio::runtime::Runtime,
    sb: Sandbox,
    dir: tempfile::TempDir,
    snakemake: PathBuf,
}

impl Setup {
    fn new(latency: Latency) -> Option<Setup> {
        let snakemake = snakemake()?;
        let rt = tokio::runtime::Runtime::new().unwrap();
        let sb = rt
            .block_on(Sandbox::start(
                SandboxConfig::new(schemas_dir()).latency(latency, LatencyScope::PerRequest),
            ))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        proteins_fasta(&dir.path().join("in.fasta"), N);
        Some(Setup {
            _rt: rt,
            sb,
            dir,
            snakemake,
        })
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// `snakemake` in the work directory, with the workflow's config.
    fn workflow(&self, extra: &[&str]) -> Command {
        let mut c = Command::new(&self.snakemake);
        c.arg("-s")
            .arg(snakefile())
            .arg("-d")
            .arg(self.dir.path())
            .args(["--cores", "4", "--resources", "biolm_api=2", "--config"])
            .arg("input=in.fasta")
            .arg(format!("shards={SHARDS}"))
            .arg(format!("biolm={}", env!("CARGO_BIN_EXE_biolm")))
            .arg(format!("base_url={}", self.sb.base_url()))
            .arg("api_jobs=2")
            .arg("extra=--batch-size 1 --concurrency 1")
            .args(extra)
            .env("BIOLM_TOKEN", "test-token")
            .env_remove("BIOLM_BASE_API_URL")
            .stdin(Stdio::null());
        c
    }

    /// The single-process run's output, merged (sorted by index).
    fn single_run(&self) -> Vec<u8> {
        let single = self.path("single.jsonl");
        let o = bin_with_token("test-token")
            .args([
                "run",
                "esm2-8m",
                "encode",
                "-q",
                "--batch-size",
                "1",
                "--base-url",
            ])
            .arg(self.sb.base_url())
            .arg("-i")
            .arg(self.path("in.fasta"))
            .arg("-o")
            .arg(&single)
            .output()
            .unwrap();
        ok(o);
        let sorted = self.path("single-sorted.jsonl");
        ok(bin()
            .arg("merge")
            .arg(&sorted)
            .arg(&single)
            .output()
            .unwrap());
        std::fs::read(sorted).unwrap()
    }
}

fn ok(o: Output) -> String {
    let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "{all}");
    all
}

fn lines(p: &Path) -> usize {
    std::fs::read_to_string(p)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn the_workflow_merges_to_a_single_run_and_reruns_only_a_deleted_shard() {
    let Some(s) = Setup::new(Latency::None) else {
        return;
    };
    ok(s.workflow(&[]).output().unwrap());
    let merged = std::fs::read(s.path("results.jsonl")).unwrap();
    let sent = s.sb.stats().requests;
    assert_eq!(sent, N as u64, "one request per item");
    assert!(
        merged == s.single_run(),
        "merged output differs from the single run's"
    );
    let single_requests = s.sb.stats().requests - sent;

    // Delete one shard's output: just that shard runs again (its 10 items), then the merge.
    let before = s.sb.stats().requests;
    std::fs::remove_file(s.path(&format!("shards/1-of-{SHARDS}.jsonl"))).unwrap();
    let log = ok(s.workflow(&[]).output().unwrap());
    assert_eq!(s.sb.stats().requests - before, (N / SHARDS) as u64, "{log}");
    assert!(
        log.contains("biolm_shard") && log.contains("wildcards: i=1"),
        "{log}"
    );
    assert!(
        !log.contains("wildcards: i=0") && !log.contains("wildcards: i=2"),
        "{log}"
    );
    assert!(std::fs::read(s.path("results.jsonl")).unwrap() == merged);
    assert_eq!(single_requests, N as u64);
}

#[test]
fn a_workflow_killed_half_way_resumes_the_shard_from_its_partial_file() {
    // 100 ms a request, one at a time: a shard of 10 items takes about a second.
    let Some(s) = Setup::new(Latency::Fixed(Duration::from_millis(100))) else {
        return;
    };
    let mut child = s
        .workflow(&["--cores", "1"])
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until some shard's partial file holds a few results, then kill the
    // whole workflow (Snakemake and its jobs) with SIGKILL.
    let t0 = Instant::now();
    let partial = loop {
        let found = (0..SHARDS)
            .map(|i| s.path(&format!("shards/{i}-of-{SHARDS}.jsonl.partial")))
            .find(|p| lines(p) >= 4);
        if let Some(p) = found {
            break p;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "no shard started");
        std::thread::sleep(Duration::from_millis(20));
    };
    // kill(1) on the process group: Snakemake and the shard job it started.
    let pgid = format!("-{}", child.id());
    let killed = Command::new("kill")
        .args(["-KILL", "--", &pgid])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = child.wait();
    let done_before = lines(&partial) - 1;
    assert!((3..N / SHARDS).contains(&done_before), "{done_before}");
    let before = s.sb.stats().requests;

    // Snakemake needs its lock released after a kill; then the incomplete job re-runs.
    ok(s.workflow(&["--unlock"]).output().unwrap());
    let log = ok(s.workflow(&["--rerun-incomplete"]).output().unwrap());
    assert!(!partial.exists(), "the partial file was renamed into place");
    let merged = std::fs::read(s.path("results.jsonl")).unwrap();
    // Every item once: the killed shard's finished items were not sent again
    // (at most the one request in flight at the kill is sent twice).
    let resent = s.sb.stats().requests - before;
    assert!(
        resent as usize <= N - done_before,
        "sent {resent} after the kill, {done_before} were already done: {log}"
    );
    let shard_log = std::fs::read_to_string(s.path(&format!(
            "shards/{}.log",
            partial
                .file_name()
                .unwrap()
                .to_string_lossy()
                .trim_end_matches(".jsonl.partial")
        )))
    .unwrap_or_default();
    assert!(shard_log.contains("already done"), "{shard_log}");
    assert!(
        merged == s.single_run(),
        "merged output differs from the single run's"
    );
}
