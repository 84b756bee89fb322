//! Configuration: environment, per-model timeouts, spec throttle rates, the
//! unseeded-generate retry rule, CA bundles.

mod support;

use std::borrow::Cow;
use std::time::{Duration, Instant};

use biolm::spec::{ActionSpec, SpecCache};
use biolm::{Client, ItemErrorKind, Outcome, RetryPolicy, Target};
use biolm_sandbox::{FaultKind, Latency, LatencyScope};
use serde_json::{json, Value};
use support::*;

/// The only test that touches the process environment (one test in this binary does).
#[test]
fn from_env_reads_current_and_legacy_variables() {
    const VARS: [&str; 4] = [
        "BIOLM_TOKEN",
        "BIOLMAI_TOKEN",
        "BIOLM_BASE_API_URL",
        "BIOLMAI_BASE_API_URL",
    ];
    for k in VARS {
        std::env::remove_var(k);
    }
    let c = Client::from_env().unwrap();
    assert_eq!(c.base_url(), "https://biolm.ai/api/v3");
    assert_eq!(c.target(), Target::Platform);
    std::env::set_var("BIOLMAI_BASE_API_URL", "127.0.0.1:8000/api/v1/");
    std::env::set_var("BIOLMAI_TOKEN", "legacy-secret");
    let c = Client::from_env().unwrap();
    assert_eq!(c.base_url(), "http://127.0.0.1:8000/api/v1");
    assert_eq!(c.target(), Target::Gateway);
    std::env::set_var("BIOLM_BASE_API_URL", "https://example.org/api/v3");
    let c = Client::from_env().unwrap();
    assert_eq!(
        c.base_url(),
        "https://example.org/api/v3",
        "BIOLM_* wins over BIOLMAI_*"
    );
    assert!(!format!("{c:?}").contains("legacy-secret"));
    std::env::set_var("BIOLM_BASE_API_URL", "ftp://example.org");
    let e = Client::from_env().unwrap_err();
    assert!(e.to_string().contains("use http:// or https://"), "{e}");
    for k in VARS {
        std::env::remove_var(k);
    }
}

#[test]
fn a_bad_ca_bundle_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("ca.pem");
    std::fs::write(&pem, "not a certificate\n").unwrap();
    let e = Client::builder().ca_bundle(&pem).build().unwrap_err();
    assert!(matches!(e, biolm::Error::CaBundle { .. }), "{e}");
    assert!(e.to_string().contains("ca.pem"), "{e}");
    let e = Client::builder()
        .ca_bundle(dir.path().join("missing.pem"))
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("missing.pem"), "{e}");
}

/// A per-model timeout applies to that model only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_model_timeout_overrides_the_request_timeout() {
    bounded(60, async {
        let cfg = config().latency(
            Latency::Fixed(Duration::from_millis(600)),
            LatencyScope::PerRequest,
        );
        let sb = sandbox(cfg).await;
        let client = builder(&sb.base_url())
            .retry(RetryPolicy::never())
            .model_timeout("esm2-8m", Duration::from_millis(150))
            .build()
            .unwrap();
        let out = client.esm2_8m().encode(items(1)).await.unwrap();
        let e = out[0].error().unwrap();
        assert_eq!(e.kind, ItemErrorKind::Unavailable);
        assert!(e.message.contains("timed out"), "{e}");
        let other = client.esm2_35m().encode(items(1)).await.unwrap();
        assert!(other[0].is_success(), "{:?}", other[0]);
    })
    .await
}

/// An action's own `throttle_rate` paces requests like a client rate limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_throttle_rate_is_obeyed() {
    bounded(60, async {
        let sb = sandbox(config()).await;
        let client = builder(&sb.base_url()).build().unwrap();
        let catalog = spec("esm2-8m", "encode");
        let throttled: &'static ActionSpec = Box::leak(Box::new(ActionSpec {
            slug: Cow::Borrowed("esm2-8m"),
            family: Cow::Borrowed("esm2"),
            action: Cow::Borrowed("encode"),
            gateway_action: Cow::Borrowed("encode"),
            max_items: 1,
            min_items: 1,
            multi_result: false,
            throttle_rate: Some(Cow::Borrowed("5/second")),
            deterministic: true,
            request_schema: catalog.request_schema.clone(),
            cache: SpecCache::new(),
        }));
        let t0 = Instant::now();
        let out = client
            .call::<_, Value, Value, _>(throttled, items(11))
            .await
            .unwrap();
        assert!(out.iter().all(Outcome::is_success));
        let elapsed = t0.elapsed();
        assert!(
            elapsed >= Duration::from_millis(1950),
            "11 requests at 5/s took {elapsed:?}"
        );
        // ignoring throttle rates is a setting
        let free = builder(&sb.base_url())
            .obey_throttle_rates(false)
            .build()
            .unwrap();
        let t0 = Instant::now();
        free.call::<_, Value, Value, _>(throttled, items(11))
            .await
            .unwrap();
        assert!(t0.elapsed() < Duration::from_millis(1500));
    })
    .await
}

/// `generate` without a seed is not retried when the policy says so; with a seed it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unseeded_generate_can_be_excluded_from_retries() {
    bounded(60, async {
        let sb = sandbox(config().faults(1.0, [FaultKind::Status502], 2)).await;
        let policy = RetryPolicy {
            retry_unseeded_generate: false,
            ..fast_retry(3)
        };
        let client = builder(&sb.base_url()).retry(policy).build().unwrap();
        let gen = client.untyped("progen2-oas", "generate");
        let out = gen
            .call(vec![json!({"context": "MKT"})])
            .params(json!({"num_samples": 1, "max_length": 12}))
            .await
            .unwrap();
        let e = out[0].error().unwrap();
        assert!(e.message.contains("without a seed"), "{e}");
        assert_eq!(sb.stats().requests, 1);
        sb.reset_stats();
        let out = gen
            .call(vec![json!({"context": "MKT"})])
            .params(json!({"num_samples": 1, "max_length": 12, "seed": 7}))
            .await
            .unwrap();
        assert!(out[0].is_failed());
        assert_eq!(sb.stats().requests, 3, "seeded generate is retried");
    })
    .await
}
