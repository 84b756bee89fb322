//! The blocking client: works from plain code, refuses (never panics) inside a runtime.

mod support;

use biolm::blocking;
use biolm::Outcome;
use biolm_sandbox::Sandbox;
use support::*;

#[test]
fn blocking_client_works_from_plain_code() {
    let sb = Sandbox::start_blocking(config()).unwrap();
    let client = blocking::Client::from_builder(builder(&sb.base_url())).unwrap();
    let out = client.esm2_8m().encode(items(20)).send().unwrap();
    assert_eq!(out.len(), 20);
    assert!(out.iter().all(Outcome::is_success));
    assert_eq!(sb.stats().requests, 3);
    // from several threads at once, sharing one client
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let c = client.clone();
            std::thread::spawn(move || c.esm2_8m().encode(items(10)).send().unwrap().len())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 10);
    }
    let untyped = client
        .untyped("esm2-8m", "encode")
        .call(vec![serde_json::json!({"sequence": "MKT"})])
        .send()
        .unwrap();
    assert!(untyped[0].is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_client_inside_a_runtime_is_an_error_not_a_panic() {
    let sb = sandbox(config()).await;
    // building and dropping inside a runtime must not panic
    let client = blocking::Client::from_builder(builder(&sb.base_url())).unwrap();
    let err = client.esm2_8m().encode(items(2)).send().unwrap_err();
    assert!(matches!(err, biolm::Error::BlockingInAsyncContext), "{err}");
    assert!(err.to_string().contains("std::thread::spawn"), "{err}");
    assert_eq!(sb.stats().requests, 0);
    // the advice works: from a plain thread it runs
    let c2 = client.clone();
    let out = std::thread::spawn(move || c2.esm2_8m().encode(items(2)).send())
        .join()
        .unwrap()
        .unwrap();
    assert!(out.iter().all(Outcome::is_success));
    drop(client);
}

#[tokio::test(flavor = "current_thread")]
async fn blocking_client_dropped_inside_a_current_thread_runtime() {
    let client = blocking::Client::from_builder(builder("http://127.0.0.1:9/api/v3")).unwrap();
    let err = client.esm2_8m().encode(items(1)).send().unwrap_err();
    assert!(matches!(err, biolm::Error::BlockingInAsyncContext));
    drop(client);
}

#[test]
fn blocking_iter_streams_outcomes_and_stops_early() {
    let sb = Sandbox::start_blocking(config()).unwrap();
    let client = blocking::Client::from_builder(builder(&sb.base_url())).unwrap();
    let mut seen = [false; 50];
    for x in client.esm2_8m().encode(items(50)).iter() {
        let (i, o) = x.unwrap();
        assert!(o.is_success());
        assert!(!seen[i], "index {i} twice");
        seen[i] = true;
    }
    assert!(seen.iter().all(|s| *s));
    // taking a few and dropping the iterator is fine
    let first: Vec<_> = client.esm2_8m().encode(items(400)).iter().take(3).collect();
    assert_eq!(first.len(), 3);
    let mut it = items(3);
    it[1] = biolm::esm2::Esm2EncodeItem::new("");
    let out = client
        .esm2_8m()
        .encode(it)
        .batch_size(1)
        .stop_on_first_failure()
        .send()
        .unwrap();
    assert!(out[1].is_failed());
}

#[test]
fn the_blocking_api_mirrors_the_async_one() {
    let sb = Sandbox::start_blocking(config()).unwrap();
    let client = blocking::Client::builder()
        .base_url(sb.base_url())
        .retry(fast_retry(4))
        .concurrency(4)
        .build()
        .unwrap();
    // ordered(): input order, whatever the completion order.
    let indexes: Vec<usize> = client
        .esm2_8m()
        .encode(items(40))
        .batch_size(2)
        .reorder_window(6)
        .ordered()
        .map(|x| x.unwrap().0)
        .collect();
    assert_eq!(indexes, (0..40).collect::<Vec<_>>());
    // untyped: a handle, then a call, as on the async client.
    let u = client.untyped("esm2-8m", "encode");
    assert!(u.is_known());
    assert_eq!(u.spec().slug, "esm2-8m");
    let out = u
        .call(vec![serde_json::json!({"sequence": "MKT"})])
        .send()
        .unwrap();
    assert!(out[0].is_success());
    // An async builder converts.
    let c2 = blocking::ClientBuilder::from(builder(&sb.base_url()))
        .build()
        .unwrap();
    assert!(c2.esm2_8m().encode(items(2)).send().unwrap()[1].is_success());
}
