//! Shards of a call (`Call::shard`) against the sandbox: for N in {1, 3, 8}
//! the shards cover every item exactly once, whatever order they run in, and
//! `jsonl::merge` of their files is byte-equal to the merge of a single run's
//! file; merge refuses a foreign shard, a duplicate and a gap, naming them.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;

use biolm::esm2::Esm2EncodeParams;
use biolm::jsonl::merge;
use biolm::shard::Shard;
use biolm::Client;
use serde_json::Value;
use support::*;

const N: usize = 101;

fn ids() -> Vec<String> {
    (0..N).map(|i| format!("seq{i}")).collect()
}

async fn run(client: &Client, shard: Option<Shard>, params: Esm2EncodeParams, path: &Path) {
    let mut call = client
        .esm2_8m()
        .encode(items(N))
        .params(params)
        .ids(ids())
        // One item per request: esm2's `sequence_index` is the item's position
        // in its request, so only then is a result the same however the items
        // are batched (see `jsonl::merge` on what "the same" means).
        .batch_size(1);
    if let Some(s) = shard {
        call = call.shard(s);
    }
    let summary = call.write_jsonl(path).await.expect("run");
    assert_eq!(summary.failed, 0);
    assert_eq!(summary.total, shard.map_or(N, |s| s.len_of(N)));
}

/// The item indexes of a JSONL output's lines, in file order.
fn indexes(path: &Path) -> Vec<u64> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["index"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

fn header(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(text.lines().next().unwrap()).unwrap()
}

#[tokio::test]
async fn shards_cover_every_item_once_and_merge_to_a_single_run() {
    let sb = sandbox(config()).await;
    let client = builder(&sb.base_url()).concurrency(4).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let params = || Esm2EncodeParams::new().with_repr_layers(vec![-1]);
    let single = dir.path().join("single.jsonl");
    run(&client, None, params(), &single).await;
    let reference = dir.path().join("reference.jsonl");
    let s = merge(&reference, std::slice::from_ref(&single)).unwrap();
    assert_eq!((s.items, s.failed, s.shards), (N, 0, 1));
    let reference = std::fs::read(&reference).unwrap();
    assert_eq!(
        reference.len(),
        std::fs::metadata(&single).unwrap().len() as usize,
        "merging a single run only sorts its lines"
    );

    for n in [1usize, 3, 8] {
        let mut parts: Vec<PathBuf> = Vec::new();
        // Run the shards last to first, two at a time: the order does not matter.
        let order: Vec<usize> = (0..n).rev().collect();
        for pair in order.chunks(2) {
            let runs = pair.iter().map(|&i| {
                let path = dir.path().join(format!("n{n}-part{i}.jsonl"));
                let client = client.clone();
                async move {
                    run(&client, Some(Shard::new(i, n).unwrap()), params(), &path).await;
                    path
                }
            });
            parts.extend(futures_util::future::join_all(runs).await);
        }
        let mut all = BTreeSet::new();
        for p in &parts {
            let h = header(p);
            let s = Shard::new(
                h["shard"]["index"].as_u64().unwrap() as usize,
                h["shard"]["count"].as_u64().unwrap() as usize,
            )
            .unwrap();
            assert_eq!(s.count(), n, "{h}");
            assert_eq!(h["items"], N, "the header counts the whole input: {h}");
            let idx = indexes(p);
            assert_eq!(idx.len(), s.len_of(N), "{}", p.display());
            for k in idx {
                assert!(s.contains(k as usize), "item {k} in shard {s}");
                assert!(all.insert(k), "item {k} in two shards");
            }
        }
        assert_eq!(all, (0..N as u64).collect(), "n={n}: every item once");
        let merged = dir.path().join(format!("merged-{n}.jsonl"));
        // Given in any order.
        parts.reverse();
        let s = merge(&merged, &parts).unwrap();
        assert_eq!((s.items, s.shards), (N, n));
        assert!(
            std::fs::read(&merged).unwrap() == reference,
            "n={n}: the merged shards differ from the single run"
        );
        assert_eq!(indexes(&merged), (0..N as u64).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn a_sharded_stream_keeps_input_indexes_and_await_gives_the_shard_in_order() {
    let sb = sandbox(config()).await;
    let client = builder(&sb.base_url()).build().unwrap();
    let shard = Shard::new(1, 3).unwrap();
    let mut seen: Vec<usize> = client
        .esm2_8m()
        .encode(items(20))
        .batch_size(3)
        .shard(shard)
        .stream()
        .map(|x| x.unwrap().0)
        .collect()
        .await;
    seen.sort_unstable();
    assert_eq!(seen, vec![1, 4, 7, 10, 13, 16, 19]);
    let ordered: Vec<usize> = client
        .esm2_8m()
        .encode(items(20))
        .batch_size(2)
        .shard(shard)
        .ordered()
        .map(|x| x.unwrap().0)
        .collect()
        .await;
    assert_eq!(ordered, vec![1, 4, 7, 10, 13, 16, 19]);
    let all = client
        .esm2_8m()
        .encode(items(20))
        .batch_size(1)
        .await
        .unwrap();
    let part = client
        .esm2_8m()
        .encode(items(20))
        .batch_size(1)
        .shard(shard)
        .await
        .unwrap();
    assert_eq!(part.len(), 7);
    for (k, o) in part.iter().enumerate() {
        assert_eq!(
            serde_json::to_value(o.ok().expect("ok")).unwrap(),
            serde_json::to_value(all[shard.global(k)].ok().expect("ok")).unwrap()
        );
    }
}

#[tokio::test]
async fn merge_refuses_a_foreign_shard_a_duplicate_and_a_gap() {
    let sb = sandbox(config()).await;
    let client = builder(&sb.base_url()).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let params = || Esm2EncodeParams::new().with_repr_layers(vec![-1]);
    for i in 0..3 {
        run(
            &client,
            Some(Shard::new(i, 3).unwrap()),
            params(),
            &p(&format!("part{i}.jsonl")),
        )
        .await;
    }
    run(
        &client,
        Some(Shard::new(1, 3).unwrap()),
        Esm2EncodeParams::new().with_repr_layers(vec![-2]),
        &p("foreign1.jsonl"),
    )
    .await;
    let out = p("merged.jsonl");
    let err = |shards: &[&str]| {
        let paths: Vec<PathBuf> = shards.iter().map(|s| p(s)).collect();
        let e = merge(&out, &paths).unwrap_err().to_string();
        assert!(!out.exists(), "nothing written: {e}");
        e
    };

    let e = err(&["part0.jsonl", "foreign1.jsonl", "part2.jsonl"]);
    assert!(
        e.contains("foreign1.jsonl belongs to another job than")
            && e.contains("part0.jsonl")
            && e.contains("params differ"),
        "{e}"
    );
    let e = err(&["part0.jsonl", "part1.jsonl", "part1.jsonl", "part2.jsonl"]);
    assert!(e.contains("shard 1/3 is given twice"), "{e}");
    let e = err(&["part0.jsonl", "part2.jsonl"]);
    assert!(e.contains("shard 1/3 not given"), "{e}");

    // A shard that stopped half way: its missing items are named as ranges.
    let text = std::fs::read_to_string(p("part2.jsonl")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.retain(|l| {
        let v: Value = serde_json::from_str(l).unwrap();
        !matches!(v["index"].as_u64(), Some(k) if (20..=44).contains(&k) || k == 98)
    });
    std::fs::write(p("part2.jsonl"), lines.join("\n") + "\n").unwrap();
    let e = err(&["part0.jsonl", "part1.jsonl", "part2.jsonl"]);
    assert!(
        e.contains("part2.jsonl (shard 2/3) has no line for 10 items: 20-44 (every 3), 98")
            && e.contains("run that shard again"),
        "{e}"
    );
    // Running the shard again resumes its own file; then the merge goes through.
    run(
        &client,
        Some(Shard::new(2, 3).unwrap()),
        params(),
        &p("part2.jsonl"),
    )
    .await;
    let s = merge(
        &out,
        &[p("part0.jsonl"), p("part1.jsonl"), p("part2.jsonl")],
    )
    .unwrap();
    assert_eq!(s.items, N);

    // A shard's file is never resumed as another shard or as the whole input.
    let e = client
        .esm2_8m()
        .encode(items(N))
        .params(params())
        .ids(ids())
        .shard(Shard::new(0, 3).unwrap())
        .write_jsonl(p("part1.jsonl"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("holds shard 1/3 of this job, but this run is shard 0/3"),
        "{e}"
    );
    let e = client
        .esm2_8m()
        .encode(items(N))
        .params(params())
        .ids(ids())
        .write_jsonl(p("part1.jsonl"))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("this run is the whole input"), "{e}");
    // The output is never one of the shards, nor a file biolm did not write.
    let e = merge(&p("part0.jsonl"), &[p("part0.jsonl")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("is one of the shards"), "{e}");
    std::fs::write(p("notes.txt"), "my notes\n").unwrap();
    let e = merge(&p("notes.txt"), &[p("part0.jsonl")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a biolm JSONL file"), "{e}");
    assert_eq!(
        std::fs::read_to_string(p("notes.txt")).unwrap(),
        "my notes\n"
    );
}
