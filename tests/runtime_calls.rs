//! Calls against the sandbox: batching, ordering, concurrency, rate limits, targets.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use biolm::esm2::{Esm2EncodeItem, Esm2EncodeParams, Esm2EncodeResult};
use biolm::{Outcome, RateLimit};
use biolm_sandbox::{Latency, LatencyScope};
use serde_json::Value;
use support::*;

fn embedding(r: &Esm2EncodeResult) -> Vec<f64> {
    r.embeddings
        .as_ref()
        .and_then(|e| e.first())
        .map(|e| e.embedding.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_call_batches_by_the_model_limit() {
    bounded(60, async {
        let sb = sandbox(config()).await;
        let client = builder(&sb.base_url()).build().unwrap();
        let out = client.esm2_8m().encode(items(100)).await.unwrap();
        assert_eq!(out.len(), 100);
        for (i, o) in out.iter().enumerate() {
            let r = o.ok().unwrap_or_else(|| panic!("item {i}: {o:?}"));
            assert_eq!(
                embedding(r).len(),
                320,
                "esm2-8m embeddings have 320 numbers"
            );
        }
        let stats = sb.stats();
        assert_eq!(stats.requests, 13, "100 items at 8 per request");
        assert_eq!(stats.items, 100);
        // a smaller batch size is honoured; a larger one is cut to the limit
        sb.reset_stats();
        client
            .esm2_8m()
            .encode(items(10))
            .batch_size(3)
            .await
            .unwrap();
        assert_eq!(sb.stats().requests, 4);
        sb.reset_stats();
        client
            .esm2_8m()
            .encode(items(10))
            .batch_size(1000)
            .await
            .unwrap();
        assert_eq!(sb.stats().requests, 2);
    })
    .await
}

/// Batches complete out of order (random server latency, 8 in flight) yet the
/// outcomes come back in input order, each with its own item's result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_keep_input_order_when_batches_complete_out_of_order() {
    bounded(60, async {
        let n = 240;
        let reference_sb = sandbox(config()).await;
        let reference = builder(&reference_sb.base_url())
            .concurrency(1)
            .build()
            .unwrap();
        let expected: Vec<Vec<f64>> = reference
            .esm2_8m()
            .encode(items(n))
            .batch_size(1)
            .await
            .unwrap()
            .iter()
            .map(|o| embedding(o.ok().unwrap()))
            .collect();

        let cfg = config().latency(
            Latency::Uniform {
                min: Duration::ZERO,
                max: Duration::from_millis(40),
            },
            LatencyScope::PerRequest,
        );
        let sb = sandbox(cfg).await;
        let client = builder(&sb.base_url()).concurrency(8).build().unwrap();
        // completion order differs from input order
        let mut completion = Vec::new();
        let mut s = client.esm2_8m().encode(items(n)).stream();
        use futures_util::StreamExt;
        while let Some(x) = s.next().await {
            let (i, o) = x.unwrap();
            assert_eq!(
                embedding(o.ok().unwrap()),
                expected[i],
                "item {i} got another item's result"
            );
            completion.push(i);
        }
        let mut sorted = completion.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            (0..n).collect::<Vec<_>>(),
            "each index exactly once"
        );
        assert_ne!(
            completion, sorted,
            "with random latency some batches finish out of order"
        );
        assert!(sb.stats().max_in_flight > 1);

        // awaited: input order
        let out = client.esm2_8m().encode(items(n)).await.unwrap();
        for (i, o) in out.iter().enumerate() {
            assert_eq!(embedding(o.ok().unwrap()), expected[i], "item {i}");
        }
        // ordered stream: input order, as a stream
        let mut s = client
            .esm2_8m()
            .encode(items(n))
            .reorder_window(32)
            .ordered();
        let mut next = 0;
        while let Some(x) = s.next().await {
            let (i, o) = x.unwrap();
            assert_eq!(i, next);
            assert_eq!(embedding(o.ok().unwrap()), expected[i]);
            next += 1;
        }
        assert_eq!(next, n);
    })
    .await
}

/// The client's in-flight limit holds at the server, shared by concurrent calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_cap_is_measured_at_the_server_and_shared_by_calls() {
    bounded(60, async {
        let cfg = config().latency(
            Latency::Fixed(Duration::from_millis(30)),
            LatencyScope::PerRequest,
        );
        let sb = sandbox(cfg).await;
        let client = builder(&sb.base_url()).concurrency(3).build().unwrap();
        let a = client.esm2_8m().encode(items(80)).batch_size(2);
        let b = client.clone().esm2_8m().encode(items(80)).batch_size(2);
        let (ra, rb) = tokio::join!(a.into_future(), b.into_future());
        assert!(ra.unwrap().iter().all(Outcome::is_success));
        assert!(rb.unwrap().iter().all(Outcome::is_success));
        let st = sb.stats();
        assert_eq!(st.requests, 80);
        assert_eq!(
            st.max_in_flight, 3,
            "never more than 3 in flight, and the cap is reached"
        );
    })
    .await
}

use std::future::IntoFuture;

/// A client-wide limit of 4 requests per second: 10 requests need at least 2 s
/// (sent 250 ms apart: the 10th at t>=2.25 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_spaces_requests() {
    bounded(60, async {
        let sb = sandbox(config()).await;
        let client = builder(&sb.base_url())
            .rate_limit(RateLimit::per_second(4))
            .build()
            .unwrap();
        let t0 = Instant::now();
        let out = client
            .esm2_8m()
            .encode(items(10))
            .batch_size(1)
            .await
            .unwrap();
        let elapsed = t0.elapsed();
        assert!(out.iter().all(Outcome::is_success));
        assert_eq!(sb.stats().requests, 10);
        assert!(
            elapsed >= Duration::from_millis(1950),
            "10 requests at 4/s took only {elapsed:?}"
        );
        assert!(
            elapsed < Duration::from_secs(6),
            "rate limit far too slow: {elapsed:?}"
        );
    })
    .await
}

/// A throttled server (429 + Retry-After) is slowed down for; every item succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_throttle_is_obeyed_with_retries() {
    bounded(60, async {
        let sb = sandbox(config().throttle(20.0)).await;
        let client = builder(&sb.base_url())
            .retry(fast_retry(8))
            .build()
            .unwrap();
        let out = client
            .esm2_8m()
            .encode(items(120))
            .batch_size(2)
            .await
            .unwrap();
        let failed: Vec<_> = out.iter().filter_map(Outcome::error).collect();
        assert!(failed.is_empty(), "{failed:?}");
        let st = sb.stats();
        assert!(
            st.status(429) > 0,
            "the server throttled at least once: {st:?}"
        );
        assert_eq!(st.status(200), 60);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn params_are_sent_and_validated() {
    bounded(60, async {
        let sb = sandbox(config()).await;
        let client = builder(&sb.base_url()).build().unwrap();
        let p = Esm2EncodeParams::new().with_repr_layers(vec![-1, -2]);
        let out = client.esm2_8m().encode(items(3)).params(p).await.unwrap();
        let layers: Vec<i64> = out[0]
            .ok()
            .unwrap()
            .embeddings
            .as_ref()
            .unwrap()
            .iter()
            .map(|e| e.layer)
            .collect();
        assert_eq!(layers.len(), 2, "{layers:?}");
        // invalid params: nothing sent, a call-level error naming the params
        sb.reset_stats();
        let spec = spec("esm2-8m", "encode");
        let err = client
            .call::<Esm2EncodeItem, Value, Value, _>(spec, items(3))
            .params(serde_json::json!({"no_such_param": 1}))
            .await
            .unwrap_err();
        assert!(matches!(err, biolm::Error::InvalidParams { .. }), "{err}");
        assert!(err.to_string().contains("no_such_param"), "{err}");
        assert_eq!(sb.stats().requests, 0);
    })
    .await
}

/// Invalid items are never sent and get their own outcome naming index and field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_items_fail_locally_and_are_never_sent() {
    bounded(60, async {
        let sb = sandbox(config()).await;
        let client = builder(&sb.base_url()).build().unwrap();
        let mut it = items(10);
        it[3] = Esm2EncodeItem::new("M".repeat(3000));
        it[7] = Esm2EncodeItem::new("");
        let out = client.esm2_8m().encode(it).await.unwrap();
        for (i, o) in out.iter().enumerate() {
            if i == 3 || i == 7 {
                let e = o.error().unwrap();
                assert_eq!(e.index, i);
                assert_eq!(e.kind, biolm::ItemErrorKind::Invalid);
                assert_eq!(e.field.as_deref(), Some("sequence"));
                assert!(
                    e.to_string().starts_with(&format!("items[{i}].sequence: ")),
                    "{e}"
                );
                assert_eq!(e.status, None);
            } else {
                assert!(o.is_success(), "{i}: {o:?}");
            }
        }
        assert_eq!(sb.stats().items, 8, "the two invalid items were not sent");
        let e = biolm::validate_item(
            spec("esm2-8m", "encode"),
            5,
            &Esm2EncodeItem::new("M".repeat(3000)),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("items[5].sequence: "), "{e}");
    })
    .await
}

/// Gateway style (`/api/v1`): no trailing slash, gateway action names, no gzip.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_target_works() {
    bounded(60, async {
        let sb = sandbox(config()).await;
        let client = builder(&sb.gateway_url()).build().unwrap();
        assert_eq!(client.target(), biolm::Target::Gateway);
        let out = client.esm2_8m().encode(items(9)).await.unwrap();
        assert!(out.iter().all(Outcome::is_success));
        // esmfold: `predict` on the platform is `fold` on a gateway
        let folded = client
            .untyped("esmfold", "predict")
            .call(vec![serde_json::json!({"sequence": "MKTAYIAKQR"})])
            .await
            .unwrap();
        assert!(folded[0].is_success(), "{:?}", folded[0]);
        // base URL without scheme -> http://
        let bare = sb.gateway_url().trim_start_matches("http://").to_string();
        let c2 = builder(&bare).build().unwrap();
        assert!(c2.base_url().starts_with("http://"));
        assert!(c2.esm2_8m().encode(items(1)).await.unwrap()[0].is_success());
    })
    .await
}

/// Multi-result `generate`: one list per item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_results_are_grouped_per_item() {
    bounded(60, async {
        let sb = sandbox(config()).await;
        let client = builder(&sb.base_url()).build().unwrap();
        let ctx = ["MKT", "MAAL", "MEEKV"].map(|c| serde_json::json!({"context": c}));
        let out = client
            .untyped("progen2-oas", "generate")
            .call(ctx)
            .params(serde_json::json!({"num_samples": 3, "max_length": 16}))
            .await
            .unwrap();
        for o in &out {
            let list = o.ok().unwrap().as_array().unwrap();
            assert_eq!(list.len(), 3, "{list:?}");
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_counts_every_item_once() {
    bounded(60, async {
        let sb = sandbox(config()).await;
        let client = builder(&sb.base_url()).build().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let last = Arc::new(std::sync::Mutex::new(biolm::Progress::default()));
        let (c2, l2) = (calls.clone(), last.clone());
        let mut it = items(50);
        it[10] = Esm2EncodeItem::new("");
        let out = client
            .esm2_8m()
            .encode(it)
            .progress(move |p| {
                c2.fetch_add(1, Ordering::SeqCst);
                *l2.lock().unwrap() = *p;
            })
            .await
            .unwrap();
        assert_eq!(out.len(), 50);
        assert_eq!(calls.load(Ordering::SeqCst), 50);
        let p = *last.lock().unwrap();
        assert_eq!(
            (p.total, p.done, p.succeeded, p.failed, p.not_attempted),
            (Some(50), 50, 49, 1, 0)
        );
    })
    .await
}

/// An action whose schema requires `params` (antifold) refuses an untyped call without
/// them before sending anything (the typed method takes them as an argument).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_params_are_refused_before_sending_when_missing() {
    bounded(60, async {
        let sb = sandbox(config()).await;
        let client = builder(&sb.base_url()).build().unwrap();
        let err = client
            .untyped("antifold", "generate")
            .call(vec![serde_json::json!({"pdb": "ATOM"})])
            .await
            .expect_err("refused");
        let text = err.to_string();
        assert!(text.contains("requires params"), "{text}");
        assert!(text.contains("antifold"), "{text}");
        assert_eq!(sb.stats().requests, 0, "nothing may be sent");
    })
    .await
}
