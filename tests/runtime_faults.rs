//! Failure handling against the sandbox's fault injection: retries, statuses,
//! Retry-After, partial success, wrong result counts, re-sends, error policies,
//! cancellation.

mod support;

use std::time::{Duration, Instant};

use biolm::esm2::Esm2EncodeItem;
use biolm::{ErrorPolicy, ItemErrorKind, Outcome};
use biolm_sandbox::{FaultKind, Latency, LatencyScope};
use futures_util::StreamExt;
use serde_json::{json, Value};
use support::*;

fn kinds<R>(out: &[Outcome<R>]) -> Vec<Option<ItemErrorKind>> {
    out.iter().map(|o| o.error().map(|e| e.kind)).collect()
}

/// Each retryable failure (connection reset, truncated body, stall past the
/// timeout, 429, 502, 503) is retried until every item succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_failures_are_retried_until_success() {
    bounded(120, async {
        for kind in [
            FaultKind::ConnectionReset,
            FaultKind::TruncatedBody,
            FaultKind::Stall,
            FaultKind::Status429,
            FaultKind::Status502,
            FaultKind::Status503,
        ] {
            let cfg = config()
                .faults(0.3, [kind], 7)
                .stall(Duration::from_secs(3));
            let sb = sandbox(cfg).await;
            let client = builder(&sb.base_url())
                .retry(fast_retry(10))
                .request_timeout(Duration::from_millis(400))
                .build()
                .unwrap();
            let out = client
                .esm2_8m()
                .encode(items(80))
                .batch_size(4)
                .await
                .unwrap();
            let failed: Vec<_> = out
                .iter()
                .filter_map(Outcome::error)
                .map(ToString::to_string)
                .collect();
            assert!(failed.is_empty(), "{kind:?}: {failed:?}");
            let st = sb.stats();
            let injected: u64 = st.faults.values().sum();
            assert!(injected > 0, "{kind:?}: no fault was injected: {st:?}");
            let cs = client.stats();
            assert!(cs.retries >= injected.min(1), "{kind:?}: {cs:?}");
            assert_eq!(
                cs.resends, 0,
                "{kind:?}: retryable failures are not re-sends"
            );
        }
    })
    .await
}

/// A retryable failure that persists ends in an Unavailable outcome after
/// exactly `max_attempts` requests, honouring Retry-After (1 s) between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_and_attempts_are_bounded() {
    bounded(60, async {
        for kind in [FaultKind::Status429, FaultKind::Status503] {
            let sb = sandbox(config().faults(1.0, [kind], 1)).await;
            let client = builder(&sb.base_url())
                .retry(fast_retry(3))
                .build()
                .unwrap();
            let t0 = Instant::now();
            let out = client.esm2_8m().encode(items(1)).await.unwrap();
            let elapsed = t0.elapsed();
            let e = out[0].error().unwrap();
            assert_eq!(e.kind, ItemErrorKind::Unavailable, "{e}");
            assert!(e.message.contains("gave up after 3 attempts"), "{e}");
            assert_eq!(sb.stats().requests, 3);
            // two waits of Retry-After: 1 s (the policy's own backoff is at most 40 ms)
            assert!(
                elapsed >= Duration::from_millis(1900),
                "{kind:?}: Retry-After ignored, took {elapsed:?}"
            );
        }
    })
    .await
}

/// 500 naming no item: the batch is re-sent item by item (concurrently), never
/// retried as a whole; each item then fails on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_500_resends_item_by_item_and_is_not_retried() {
    bounded(60, async {
        let sb = sandbox(config().faults(1.0, [FaultKind::Status500], 1)).await;
        let client = builder(&sb.base_url()).build().unwrap();
        let out = client.esm2_8m().encode(items(8)).await.unwrap();
        for (i, o) in out.iter().enumerate() {
            let e = o.error().unwrap();
            assert_eq!((e.index, e.status), (i, Some(500)), "{e}");
        }
        let cs = client.stats();
        assert_eq!((cs.requests, cs.retries, cs.resends), (9, 0, 8), "{cs:?}");
        assert_eq!(sb.stats().requests, 9);

        // intermittent 500s: re-sent items mostly succeed; every item has exactly one outcome
        let sb = sandbox(config().faults(0.3, [FaultKind::Status500], 11)).await;
        let client = builder(&sb.base_url()).concurrency(1).build().unwrap();
        let out = client.esm2_8m().encode(items(160)).await.unwrap();
        assert_eq!(out.len(), 160);
        let cs = client.stats();
        assert!(cs.resends > 0, "{cs:?}");
        assert_eq!(cs.requests, sb.stats().requests);
        let ok = out.iter().filter(|o| o.is_success()).count();
        let failed = out.iter().filter(|o| o.is_failed()).count();
        assert_eq!(ok + failed, 160);
        assert!(ok > 100, "{ok} succeeded");
    })
    .await
}

/// 401: every item fails with advice about the token; no retry, no re-send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_is_neither_retried_nor_resent() {
    bounded(60, async {
        let sb = sandbox(config().token("right-token")).await;
        let client = builder(&sb.base_url())
            .token("wrong-token-value")
            .build()
            .unwrap();
        let out = client.esm2_8m().encode(items(16)).await.unwrap();
        for o in &out {
            let e = o.error().unwrap();
            assert_eq!((e.kind, e.status), (ItemErrorKind::Unauthorized, Some(401)));
            assert!(e.message.contains("BIOLM_TOKEN"), "{e}");
        }
        assert_eq!(sb.stats().requests, 2);
        assert_eq!(client.stats().resends, 0);
        // with the right token it works
        let good = builder(&sb.base_url())
            .token("right-token")
            .build()
            .unwrap();
        assert!(good
            .esm2_8m()
            .encode(items(3))
            .await
            .unwrap()
            .iter()
            .all(Outcome::is_success));
    })
    .await
}

/// 404 (unknown model): NotFound for every item, one request, no re-send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_is_neither_retried_nor_resent() {
    bounded(60, async {
        let sb = sandbox(config()).await;
        let client = builder(&sb.base_url()).build().unwrap();
        let items: Vec<Value> = (0..5).map(|i| json!({"sequence": seq(i)})).collect();
        let out = client
            .untyped("no-such-model", "encode")
            .call(items)
            .await
            .unwrap();
        for o in &out {
            let e = o.error().unwrap();
            assert_eq!(
                (e.kind, e.status),
                (ItemErrorKind::NotFound, Some(404)),
                "{e}"
            );
            assert!(e.message.contains("base URL"), "{e}");
        }
        assert_eq!(sb.stats().requests, 1);
    })
    .await
}

/// A 400/422 naming item 2 (v3 `items__2__sequence` keys, v1 pydantic `loc`):
/// item 2 fails with its field; the other items are re-sent and succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_item_errors_map_to_the_named_item() {
    bounded(60, async {
        let sb = sandbox(config()).await;
        for url in [sb.base_url(), sb.gateway_url()] {
            sb.reset_stats();
            let client = builder(&url).build().unwrap();
            let spec = unchecked("esm2-8m", "encode", 8);
            let mut it = items(8);
            it[2] = Esm2EncodeItem::new("M".repeat(3000));
            let out = client
                .call::<Esm2EncodeItem, Value, Value, _>(spec, it)
                .await
                .unwrap();
            for (i, o) in out.iter().enumerate() {
                if i == 2 {
                    let e = o.error().unwrap();
                    assert_eq!(e.kind, ItemErrorKind::Rejected, "{url}: {e}");
                    assert_eq!(e.index, 2);
                    assert_eq!(e.field.as_deref(), Some("sequence"), "{url}: {e}");
                    assert!(matches!(e.status, Some(400) | Some(422)), "{url}: {e}");
                } else {
                    assert!(o.is_success(), "{url}: item {i}: {o:?}");
                }
            }
            assert_eq!(
                sb.stats().requests,
                2,
                "{url}: one rejected batch, one re-send of the rest"
            );
            assert_eq!(client.stats().resends, 7);
        }
    })
    .await
}

/// 200 with `results` and an `error` naming one item: that item fails, the rest succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_success_gives_each_item_its_own_outcome() {
    bounded(60, async {
        let sb = sandbox(config().faults(1.0, [FaultKind::PartialSuccess], 3)).await;
        let client = builder(&sb.base_url()).build().unwrap();
        let out = client.esm2_8m().encode(items(24)).await.unwrap();
        assert_eq!(sb.stats().requests, 3);
        for chunk in out.chunks(8) {
            let failed: Vec<_> = chunk.iter().filter_map(Outcome::error).collect();
            assert_eq!(failed.len(), 1, "one failed item per batch: {chunk:?}");
            assert_eq!(failed[0].kind, ItemErrorKind::Rejected);
            assert_eq!(chunk.iter().filter(|o| o.is_success()).count(), 7);
        }
        assert_eq!(client.stats().retries, 0);
    })
    .await
}

/// A reply with the wrong number of results is handled like the other batch
/// failures that name no item: no result is ever shifted onto another item,
/// and the batch is re-sent item by item, once (2 batches, then 12 singles).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_result_count_is_resent_item_by_item_then_fails() {
    bounded(60, async {
        let sb = sandbox(config().faults(1.0, [FaultKind::WrongResultCount], 3)).await;
        let client = builder(&sb.base_url()).build().unwrap();
        let out = client.esm2_8m().encode(items(12)).await.unwrap();
        assert_eq!(kinds(&out), vec![Some(ItemErrorKind::BadResponse); 12]);
        let e = out[0].error().unwrap();
        assert!(e.message.contains("results for a batch of 1 items"), "{e}");
        assert_eq!(sb.stats().requests, 2 + 12);
    })
    .await
}

/// A batch answered with the wrong result count once is not lost: its items,
/// re-sent one by one, succeed (issue 10, item 7).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_result_count_is_recovered_by_resending_item_by_item() {
    bounded(60, async {
        // Always one result: wrong for a batch of 3, right for each item alone.
        let server = ScriptServer::start(Script::reply(
            "200 OK",
            "application/json",
            "",
            br#"{"results":[{"embeddings":[{"layer":6,"embedding":[0.5]}]}]}"#,
        ))
        .await;
        let client = builder(&server.base_url).build().unwrap();
        let out = client
            .untyped("esm2-8m", "encode")
            .call(vec![
                serde_json::json!({"sequence": "MKT"}),
                serde_json::json!({"sequence": "MKA"}),
                serde_json::json!({"sequence": "MKC"}),
            ])
            .await
            .unwrap();
        assert!(
            out.iter().all(|o| matches!(o, Outcome::Success(_))),
            "{out:?}"
        );
        assert_eq!(server.requests(), 1 + 3);
    })
    .await
}

/// A server fault that names an item is no verdict on the item: it is
/// reported as transient (Unavailable), not as a rejection to fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_fault_naming_an_item_is_transient_not_a_rejection() {
    bounded(60, async {
        let server = ScriptServer::start(Script::reply(
            "500 Internal Server Error",
            "application/json",
            "",
            br#"{"error":{"items__0__sequence":["worker crashed"]}}"#,
        ))
        .await;
        let client = builder(&server.base_url)
            .retry(fast_retry(1))
            .build()
            .unwrap();
        let out = client
            .untyped("esm2-8m", "encode")
            .call(vec![serde_json::json!({"sequence": "MKT"})])
            .await
            .unwrap();
        let e = out[0].error().expect("the item failed");
        assert_eq!(e.kind, ItemErrorKind::Unavailable, "{e}");
        assert!(!e.message.contains("fix it"), "{e}");
    })
    .await
}

/// Stop after the first failure: nothing is sent after it; unsent items are NotAttempted.
/// Collect-all (the default) sends everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_policies() {
    bounded(60, async {
        let cfg = config().latency(
            Latency::Fixed(Duration::from_millis(20)),
            LatencyScope::PerRequest,
        );
        let sb = sandbox(cfg).await;
        let client = builder(&sb.base_url()).concurrency(1).build().unwrap();
        let mut it = items(60);
        it[20] = Esm2EncodeItem::new("");
        let out = client
            .esm2_8m()
            .encode(it.clone())
            .error_policy(ErrorPolicy::StopOnFirstFailure)
            .await
            .unwrap();
        assert_eq!(out.len(), 60);
        assert_eq!(out[20].error().unwrap().kind, ItemErrorKind::Invalid);
        for (i, o) in out.iter().enumerate() {
            if i < 20 {
                assert!(
                    o.is_success() || matches!(o, Outcome::NotAttempted),
                    "{i}: {o:?}"
                );
            } else if i > 20 {
                assert!(matches!(o, Outcome::NotAttempted), "{i}: {o:?}");
            }
        }
        let sent = sb.stats().items as usize;
        let succeeded = out.iter().filter(|o| o.is_success()).count();
        assert_eq!(
            sent, succeeded,
            "every sent item succeeded, nothing else was sent"
        );
        assert!(sent <= 24, "{sent} items sent");

        sb.reset_stats();
        let out = client.esm2_8m().encode(it).await.unwrap();
        assert_eq!(out.iter().filter(|o| o.is_success()).count(), 59);
        assert_eq!(sb.stats().items, 59);

        // a server-side failure stops the call too
        let sb = sandbox(config().token("t")).await;
        let client = builder(&sb.base_url())
            .concurrency(1)
            .token("bad")
            .build()
            .unwrap();
        let out = client
            .esm2_8m()
            .encode(items(40))
            .stop_on_first_failure()
            .await
            .unwrap();
        assert!(out[0].is_failed());
        assert!(out.iter().any(|o| matches!(o, Outcome::NotAttempted)));
        assert!(sb.stats().requests < 5, "{:?}", sb.stats());
    })
    .await
}

/// Dropping a running stream cancels it: no further requests are sent and the
/// client's in-flight slots are free for the next call at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_call_cancels_it() {
    bounded(60, async {
        let cfg = config().latency(
            Latency::Fixed(Duration::from_millis(400)),
            LatencyScope::PerRequest,
        );
        let sb = sandbox(cfg).await;
        let client = builder(&sb.base_url()).concurrency(4).build().unwrap();
        // A first call teaches the client the size of a response, so the
        // result budget lets the next call's first wave out at once.
        client.esm2_8m().encode(items(8)).await.unwrap();
        sb.reset_stats();
        let mut s = client.esm2_8m().encode(items(800)).stream();
        // let the first requests go out, then drop the stream mid-flight
        let first = tokio::time::timeout(Duration::from_millis(150), s.next()).await;
        assert!(first.is_err(), "nothing can be done within 150 ms");
        drop(s);
        let sent = sb.stats().requests;
        assert_eq!(sent, 4, "4 requests in flight when dropped");
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(sb.stats().requests, sent, "no request sent after the drop");
        // the 4 in-flight slots were released: 4 more batches go at once (the
        // server sees all 4 at the same time; a leaked slot would leave 3 or fewer)
        sb.reset_stats();
        let out = client.esm2_8m().encode(items(32)).await.unwrap();
        assert!(out.iter().all(Outcome::is_success));
        let stats = sb.stats();
        assert_eq!(stats.requests, 4);
        assert_eq!(stats.max_in_flight, 4, "slots not released: {stats:?}");
        // the same with the awaited future, cancelled by a timeout
        let r = tokio::time::timeout(
            Duration::from_millis(100),
            client.esm2_8m().encode(items(800)).into_future(),
        )
        .await;
        assert!(r.is_err());
        let before = sb.stats().requests;
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(sb.stats().requests, before);
    })
    .await
}

use std::future::IntoFuture;

/// A 2xx body that is not JSON at all (truncated) is retried, then reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_bodies_fail_after_the_retry_budget() {
    bounded(60, async {
        let sb = sandbox(config().faults(1.0, [FaultKind::TruncatedBody], 5)).await;
        let client = builder(&sb.base_url())
            .retry(fast_retry(2))
            .build()
            .unwrap();
        let out = client.esm2_8m().encode(items(3)).await.unwrap();
        let e = out[0].error().unwrap();
        assert!(
            matches!(
                e.kind,
                ItemErrorKind::Unavailable | ItemErrorKind::BadResponse
            ),
            "{e}"
        );
        assert_eq!(sb.stats().requests, 2);
    })
    .await
}
