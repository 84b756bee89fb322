//! `biolm run --shard I/N` and `biolm merge` end to end (the binary, its
//! in-process sandbox): for N in {1, 3, 8} the shard files cover every item
//! exactly once and merge to the file a single run merges to; merge refuses a
//! foreign shard, a duplicate and a gap with exit code 2, naming them.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::*;

const N: usize = 40;

fn run(input: &Path, out: &Path, extra: &[&str]) {
    let o = bin()
        .args([
            "run",
            "esm2-8m",
            "encode",
            "--sandbox",
            "-q",
            "--batch-size",
            "1",
        ])
        .arg("-i")
        .arg(input)
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
}

fn merge(out: &Path, parts: &[PathBuf]) -> std::process::Output {
    bin().arg("merge").arg(out).args(parts).output().unwrap()
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn shards_cover_every_item_once_and_merge_to_a_single_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.fasta");
    proteins_fasta(&input, N);
    let single = dir.path().join("single.jsonl");
    run(&input, &single, &[]);
    let reference = dir.path().join("reference.jsonl");
    let o = merge(&reference, &[single]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let reference = std::fs::read(&reference).unwrap();

    for n in [1usize, 3, 8] {
        let parts: Vec<PathBuf> = (0..n)
            .rev()
            .map(|i| {
                let p = dir.path().join(format!("n{n}-{i}.jsonl"));
                run(&input, &p, &["--shard", &format!("{i}/{n}")]);
                p
            })
            .collect();
        let mut all = BTreeSet::new();
        for (k, p) in parts.iter().enumerate() {
            let i = n - 1 - k;
            let ls = lines(p);
            assert_eq!(ls[0]["shard"], serde_json::json!({"index": i, "count": n}));
            for l in &ls[1..] {
                let index = l["index"].as_u64().unwrap() as usize;
                assert_eq!(index % n, i);
                assert!(all.insert(index), "item {index} twice");
                assert_eq!(l["id"], format!("p{index}"));
            }
        }
        assert_eq!(all.len(), N, "n={n}");
        let merged = dir.path().join(format!("merged-{n}.jsonl"));
        let o = merge(&merged, &parts);
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(&format!("merged {n} shards")),
            "{}",
            text(&o.stderr)
        );
        assert!(
            std::fs::read(&merged).unwrap() == reference,
            "n={n}: merged shards differ from the single run"
        );
    }
}

#[test]
fn merge_refuses_a_foreign_shard_a_duplicate_and_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.fasta");
    proteins_fasta(&input, N);
    let p = |s: &str| dir.path().join(s);
    for i in 0..3 {
        run(
            &input,
            &p(&format!("{i}.jsonl")),
            &["--shard", &format!("{i}/3")],
        );
    }
    run(
        &input,
        &p("foreign.jsonl"),
        &["--shard", "2/3", "--params", r#"{"repr_layers": [-2]}"#],
    );
    let out = p("merged.jsonl");
    let refused = |parts: &[&str], want: &str| {
        let paths: Vec<PathBuf> = parts.iter().map(|s| p(s)).collect();
        let o = merge(&out, &paths);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(want), "want {want:?} in {err}");
        assert!(!out.exists());
    };
    refused(
        &["0.jsonl", "1.jsonl", "foreign.jsonl"],
        "foreign.jsonl belongs to another job",
    );
    refused(
        &["0.jsonl", "1.jsonl", "1.jsonl", "2.jsonl"],
        "shard 1/3 is given twice",
    );
    refused(&["0.jsonl", "2.jsonl"], "shard 1/3 not given");

    // A shard cut short (its last 3 lines gone) names the missing items; a
    // re-run of that shard resumes its own file, and the merge goes through.
    let text0 = std::fs::read_to_string(p("0.jsonl")).unwrap();
    let kept: Vec<&str> = text0.lines().collect();
    std::fs::write(p("0.jsonl"), kept[..kept.len() - 3].join("\n") + "\n").unwrap();
    refused(
        &["0.jsonl", "1.jsonl", "2.jsonl"],
        "0.jsonl (shard 0/3) has no line for 3 items",
    );
    run(&input, &p("0.jsonl"), &["--shard", "0/3"]);
    let o = merge(&out, &[p("0.jsonl"), p("1.jsonl"), p("2.jsonl")]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(lines(&out).len(), N + 1);

    // A bad shard spec is a usage error.
    let o = bin()
        .args([
            "run",
            "esm2-8m",
            "encode",
            "--sandbox",
            "-s",
            "MKT",
            "--shard",
            "3/3",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("0/3 to 2/3"),
        "{}",
        text(&o.stderr)
    );
}
