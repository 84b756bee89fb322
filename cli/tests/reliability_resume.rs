//! Resume after SIGKILL (issue 6, part 2): `biolm run -o FILE` against a
//! sandbox with latency is killed at seeded random points (several times in a
//! row on the same file, the first kill right after start), then run to the
//! end. The file must hold every input index exactly once, no torn line, and
//! equal an uninterrupted run's file index by index (line order aside).

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use biolm_sandbox::{Latency, LatencyScope, Sandbox, SandboxConfig};
use serde_json::Value;
use support::{schemas_dir, text};

const N: usize = 400;
const CONCURRENCY: u64 = 2;
const BATCH: u64 = 8;

fn bin() -> Command {
    support::bin_with_token("resume-test-token")
}

/// SplitMix64: the seeded source of kill points.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn write_fasta(path: &Path) {
    const AA: &[u8] = b"ACDEFGHIKLMNPQRSTVWY";
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut rng = Rng(42);
    for i in 0..N {
        let len = 10 + rng.below(50) as usize;
        let s: String = (0..len)
            .map(|_| AA[rng.below(AA.len() as u64) as usize] as char)
            .collect();
        writeln!(f, ">p{i} protein {i}\n{s}").unwrap();
    }
}

fn args<'a>(fasta: &'a str, out: &'a str, base: &'a str) -> Vec<&'a str> {
    vec![
        "run",
        "esm2-8m",
        "encode",
        "-i",
        fasta,
        "-o",
        out,
        "--base-url",
        base,
        "--concurrency",
        "2",
        "-q",
    ]
}

/// The file's lines by index, with `sequence_index` (the item's position in
/// its request, which differs when a resumed run batches the rest) removed.
/// Panics on a torn line, a duplicate index or a second header.
fn by_index(path: &Path) -> BTreeMap<u64, Value> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = BTreeMap::new();
    let mut headers = 0;
    for (n, line) in text.lines().enumerate() {
        let mut v: Value = serde_json::from_str(line).unwrap_or_else(|e| {
            panic!(
                "{}:{}: torn or bad line ({e}): {line}",
                path.display(),
                n + 1
            )
        });
        if v.get("biolm_jsonl").is_some() {
            headers += 1;
            assert_eq!(n, 0, "the header is the first line");
            continue;
        }
        let i = v["index"]
            .as_u64()
            .unwrap_or_else(|| panic!("no index: {line}"));
        if let Some(r) = v.get_mut("result").and_then(Value::as_object_mut) {
            r.shift_remove("sequence_index");
        }
        assert!(
            out.insert(i, v).is_none(),
            "index {i} twice in {}",
            path.display()
        );
    }
    assert_eq!(headers, 1, "one header line");
    out
}

/// Complete result lines in the file now.
fn lines_now(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|s| {
            s.lines()
                .filter(|l| l.starts_with("{\"index\""))
                .filter(|l| serde_json::from_str::<Value>(l).is_ok())
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn killed_runs_resume_to_the_uninterrupted_result() {
    let d = tempfile::tempdir().unwrap();
    let fasta = d.path().join("in.fasta");
    write_fasta(&fasta);
    let cfg = SandboxConfig::new(schemas_dir()).latency(
        Latency::Uniform {
            min: Duration::from_millis(10),
            max: Duration::from_millis(40),
        },
        LatencyScope::PerRequest,
    );
    let sb = Sandbox::start_blocking(cfg).unwrap();
    let base = sb.base_url();
    let fasta_s = fasta.to_str().unwrap();

    // The uninterrupted reference.
    let reference_path = d.path().join("reference.jsonl");
    let o = bin()
        .args(args(fasta_s, reference_path.to_str().unwrap(), &base))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let reference = by_index(&reference_path);
    assert_eq!(reference.len(), N);
    assert!(reference.values().all(|v| v.get("result").is_some()));

    let mut resumed_from = Vec::new();
    for seed in [1u64, 2, 3] {
        let mut rng = Rng(seed);
        let out = d.path().join(format!("killed-{seed}.jsonl"));
        let out_s = out.to_str().unwrap();
        sb.reset_stats();
        // Kill points: right after start for the first run, then random
        // points within the time a full run takes.
        let mut kills = 0u64;
        let mut seen_progress = Vec::new();
        for k in 0..3 {
            let before = lines_now(&out);
            let mut child = bin()
                .args(args(fasta_s, out_s, &base))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // The first kill comes right after start (before or while the
            // header is written); the others once a seeded number of new
            // results is on disk, at most half of what is left.
            let target = if k == 0 {
                std::thread::sleep(Duration::from_millis(rng.below(30)));
                before
            } else {
                let target = before + 1 + rng.below(((N - before) / 2) as u64) as usize;
                let waited = Instant::now();
                while lines_now(&out) < target && child.try_wait().unwrap().is_none() {
                    assert!(
                        waited.elapsed() < Duration::from_secs(60),
                        "seed {seed}: no progress"
                    );
                    std::thread::sleep(Duration::from_millis(2));
                }
                target
            };
            let finished = child.try_wait().unwrap().is_some();
            child.kill().ok(); // SIGKILL
            child.wait().unwrap();
            if !finished {
                kills += 1;
            }
            seen_progress.push((target, before, lines_now(&out)));
        }
        assert!(
            kills >= 2,
            "seed {seed}: the runs finished before the kills ({seen_progress:?})"
        );
        let partial = lines_now(&out);
        assert!(
            partial < N,
            "seed {seed}: nothing left to resume ({seen_progress:?})"
        );
        resumed_from.push(partial);
        // Run to the end.
        let o = bin().args(args(fasta_s, out_s, &base)).output().unwrap();
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "seed {seed}: {err}");
        let got = by_index(&out);
        assert_eq!(
            got.len(),
            N,
            "seed {seed}: every index once ({seen_progress:?})"
        );
        for (i, v) in &reference {
            assert_eq!(
                got.get(i),
                Some(v),
                "seed {seed}: index {i} differs from the uninterrupted run"
            );
        }
        // Resuming skipped the finished items: only what was in flight (or
        // completed but not yet on disk) at each kill was sent twice.
        let sent = sb.stats().items;
        assert!(
            sent <= N as u64 + kills * 2 * CONCURRENCY * BATCH,
            "seed {seed}: {sent} items sent for {N} with {kills} kills ({seen_progress:?})"
        );
        eprintln!("seed {seed}: kills {kills}, progress {seen_progress:?}, items sent {sent}");
    }
    assert!(
        resumed_from.iter().any(|&p| p > 0),
        "no run was killed after writing results: {resumed_from:?}"
    );
}
