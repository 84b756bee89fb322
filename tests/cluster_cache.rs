//! The result cache (feature `cache`) against the sandbox: a second run of a
//! finished job into a new file sends nothing; a job with 50% duplicate items
//! sends half the items; an unseeded generate is never served from the
//! cache; several clients (connections) share one file.

mod support;

use std::path::Path;

use biolm::cache::Cache;
use biolm::esm2::{Esm2EncodeItem, Esm2EncodeParams};
use biolm::jsonl::merge;
use serde_json::{json, Value};
use support::*;

fn job(n: usize) -> Vec<Esm2EncodeItem> {
    items(n)
}

async fn write(
    client: &biolm::Client,
    items: Vec<Esm2EncodeItem>,
    path: &Path,
) -> biolm::JsonlSummary {
    client
        .esm2_8m()
        .encode(items)
        .params(Esm2EncodeParams::new().with_repr_layers(vec![-1]))
        .batch_size(4)
        .write_jsonl(path)
        .await
        .expect("run")
}

#[tokio::test]
async fn a_finished_job_run_again_into_a_new_file_sends_nothing() {
    let sb = sandbox(config()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.sqlite");
    let first = builder(&sb.base_url())
        .cache(Cache::open(&db).unwrap())
        .build()
        .unwrap();
    let out1 = dir.path().join("one.jsonl");
    let s = write(&first, job(60), &out1).await;
    assert_eq!(s.succeeded, 60);
    let sent = sb.stats().requests;
    assert_eq!(sent, 15, "60 items in batches of 4");
    let c = first.cache().unwrap().counts();
    assert_eq!((c.hits, c.misses, c.stored), (0, 60, 60));

    // Another client, the cache opened anew: nothing is sent.
    let second = builder(&sb.base_url())
        .cache(Cache::open(&db).unwrap())
        .build()
        .unwrap();
    let out2 = dir.path().join("two.jsonl");
    let s = write(&second, job(60), &out2).await;
    assert_eq!(s.succeeded, 60);
    assert_eq!(sb.stats().requests, sent, "the second run sent requests");
    assert_eq!(second.cache().unwrap().counts().hits, 60);
    // The same file, line for line (sorted by index: lines come in completion order).
    let (m1, m2) = (dir.path().join("m1.jsonl"), dir.path().join("m2.jsonl"));
    merge(&m1, &[out1]).unwrap();
    merge(&m2, &[out2]).unwrap();
    assert!(std::fs::read(&m1).unwrap() == std::fs::read(&m2).unwrap());

    // Other params are another key: sent.
    let third = client_with(&sb.base_url(), &db);
    let out3 = dir.path().join("three.jsonl");
    third
        .esm2_8m()
        .encode(job(8))
        .params(Esm2EncodeParams::new().with_repr_layers(vec![-2]))
        .batch_size(4)
        .write_jsonl(&out3)
        .await
        .unwrap();
    assert_eq!(sb.stats().requests, sent + 2);

    // A sandbox's results are never served to another server (or another sandbox URL).
    let sb2 = sandbox(config()).await;
    let other = client_with(&sb2.base_url(), &db);
    write(&other, job(8), &dir.path().join("four.jsonl")).await;
    assert_eq!(sb2.stats().requests, 2);
}

fn client_with(url: &str, db: &Path) -> biolm::Client {
    builder(url)
        .cache(Cache::open(db).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn half_duplicate_items_send_half_the_items() {
    let sb = sandbox(config()).await;
    let dir = tempfile::tempdir().unwrap();
    let client = client_with(&sb.base_url(), &dir.path().join("c.sqlite"));
    // 100 items, each of 50 sequences twice, the copies spread through the input.
    let items: Vec<Esm2EncodeItem> = (0..100).map(|i| Esm2EncodeItem::new(seq(i % 50))).collect();
    let outcomes = client.esm2_8m().encode(items).batch_size(1).await.unwrap();
    assert_eq!(outcomes.len(), 100);
    assert!(outcomes.iter().all(|o| o.is_success()));
    assert_eq!(sb.stats().items, 50, "each distinct item sent once");
    assert_eq!(sb.stats().requests, 50);
    for i in 0..50 {
        assert_eq!(
            serde_json::to_value(outcomes[i].ok()).unwrap(),
            serde_json::to_value(outcomes[i + 50].ok()).unwrap()
        );
    }
    let c = client.cache().unwrap().counts();
    assert_eq!(c.hits + c.duplicates, 50, "{c:?}");
    assert_eq!(c.misses, 50, "{c:?}");

    // In input order too (`ordered`), with batches.
    let sb = sandbox(config()).await;
    let client = client_with(&sb.base_url(), &dir.path().join("c2.sqlite"));
    let items: Vec<Esm2EncodeItem> = (0..40).map(|i| Esm2EncodeItem::new(seq(i % 20))).collect();
    use futures_util::StreamExt;
    let idx: Vec<usize> = client
        .esm2_8m()
        .encode(items)
        .batch_size(3)
        .ordered()
        .map(|x| x.unwrap().0)
        .collect()
        .await;
    assert_eq!(idx, (0..40).collect::<Vec<_>>());
    assert_eq!(sb.stats().items, 20);
}

#[tokio::test]
async fn unseeded_generate_is_never_served_from_the_cache() {
    let sb = sandbox(config()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    let client = client_with(&sb.base_url(), &db);
    let gen = client.untyped("progen2-oas", "generate");
    let item = json!({"context": "MKTAYIAK"});
    for params in [
        json!({"temperature": 0.7}),
        json!({"temperature": 0.7, "seed": null}),
    ] {
        for _ in 0..2 {
            let before = sb.stats().items;
            let out = gen
                .call(vec![item.clone(), item.clone()])
                .params(params.clone())
                .await
                .unwrap();
            assert!(out.iter().all(|o| o.is_success()));
            assert_eq!(
                sb.stats().items - before,
                2,
                "both sent, every time ({params})"
            );
        }
    }
    assert_eq!(client.cache().unwrap().stats().unwrap().total(), 0);
    // With a seed it is deterministic: cached.
    let seeded = json!({"temperature": 0.7, "seed": 7});
    gen.call(vec![item.clone()])
        .params(seeded.clone())
        .await
        .unwrap();
    let before = sb.stats().items;
    let again: Vec<biolm::Outcome<Value>> =
        gen.call(vec![item.clone()]).params(seeded).await.unwrap();
    assert!(again[0].is_success());
    assert_eq!(
        sb.stats().items,
        before,
        "a seeded generate is served from the cache"
    );
}

#[tokio::test]
async fn several_clients_share_one_cache_file() {
    let sb = sandbox(config()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite");
    // Four clients, each its own connection, over overlapping halves of 80 items.
    let runs = (0..4).map(|k| {
        let client = client_with(&sb.base_url(), &db);
        let path = dir.path().join(format!("out{k}.jsonl"));
        async move {
            let items: Vec<Esm2EncodeItem> = (0..40)
                .map(|i| Esm2EncodeItem::new(seq(i + 20 * (k % 3))))
                .collect();
            write(&client, items, &path).await
        }
    });
    for s in futures_util::future::join_all(runs).await {
        assert_eq!(s.succeeded, 40);
    }
    let stats = Cache::open(&db).unwrap().stats().unwrap();
    assert_eq!(stats.total(), 80, "{stats:?}");
    let before = sb.stats().requests;
    let client = client_with(&sb.base_url(), &db);
    write(
        &client,
        (0..80).map(|i| Esm2EncodeItem::new(seq(i))).collect(),
        &dir.path().join("all.jsonl"),
    )
    .await;
    assert_eq!(sb.stats().requests, before);
}

#[tokio::test]
async fn progress_counts_items_answered_from_the_cache_and_by_duplicates() {
    let sb = sandbox(config()).await;
    let dir = tempfile::tempdir().unwrap();
    let client = client_with(&sb.base_url(), &dir.path().join("cache.sqlite"));
    let last = std::sync::Arc::new(std::sync::Mutex::new(biolm::Progress::default()));
    let run = |items: Vec<Esm2EncodeItem>| {
        let last = last.clone();
        client
            .esm2_8m()
            .encode(items)
            .batch_size(4)
            .progress(move |p| *last.lock().unwrap() = *p)
    };
    // 20 items, each twice: 20 sent, 20 answered by the identical item in flight.
    let twice: Vec<Esm2EncodeItem> = job(20).into_iter().flat_map(|i| [i.clone(), i]).collect();
    let out = run(twice).await.unwrap();
    assert!(out.iter().all(|o| o.is_success()));
    let p = *last.lock().unwrap();
    assert_eq!((p.total, p.done, p.succeeded), (Some(40), 40, 40), "{p:?}");
    // All 20 from the cache: nothing sent, every item counted.
    let sent = sb.stats().requests;
    let out = run(job(20)).await.unwrap();
    assert!(out.iter().all(|o| o.is_success()));
    assert_eq!(sb.stats().requests, sent);
    let p = *last.lock().unwrap();
    assert_eq!((p.total, p.done, p.succeeded), (Some(20), 20, 20), "{p:?}");
}
