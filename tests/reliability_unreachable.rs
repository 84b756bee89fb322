//! A server that cannot be reached at all (stopped, wrong port): once one
//! request has used up its attempts on connection failures, the client stops
//! retrying them, so a large call fails after about one backoff cycle instead
//! of one per batch; a server that answers again is used, and retried, again.

mod support;

use std::time::Duration;

use biolm::esm2::Esm2EncodeItem;
use biolm::{Client, ItemErrorKind, Outcome, RetryPolicy};
use biolm_sandbox::Sandbox;
use support::*;

/// A port with nothing listening on it (bound once, then released).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("its address").port()
}

fn client(port: u16, retry: RetryPolicy, concurrency: usize) -> Client {
    builder(&format!("http://127.0.0.1:{port}/api/v3"))
        .token("t")
        .connect_timeout(Duration::from_secs(5))
        .concurrency(concurrency)
        .retry(retry)
        .build()
        .expect("a valid client")
}

fn items(n: usize) -> Vec<Esm2EncodeItem> {
    (0..n).map(|i| Esm2EncodeItem::new(seq(i))).collect()
}

/// Runs esm2-8m encode on `n` items `batch` to a request; every item must fail
/// as unavailable. Returns the error messages.
async fn all_unavailable(client: &Client, n: usize, batch: usize) -> Vec<String> {
    let out = client
        .esm2_8m()
        .encode(items(n))
        .batch_size(batch)
        .await
        .expect("no call-level error: failures are per item");
    assert_eq!(out.len(), n);
    out.into_iter()
        .enumerate()
        .map(|(i, o)| match o {
            Outcome::Failed(e) => {
                assert_eq!(e.kind, ItemErrorKind::Unavailable, "item {i}: {e}");
                assert!(e.message.contains("could not connect"), "item {i}: {e}");
                e.message
            }
            other => panic!("item {i}: expected a failure, got {other:?}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_costs_one_backoff_cycle_not_one_per_batch() {
    bounded(60, async {
        let (attempts, concurrency, batches) = (4u32, 4usize, 100usize);
        let c = client(closed_port(), fast_retry(attempts), concurrency);
        let messages = all_unavailable(&c, batches * 2, 2).await;
        let sent = c.stats().requests;
        // The first requests in flight may each use all their attempts before
        // the first of them gives up; every later batch makes one attempt.
        let most = batches as u64 + concurrency as u64 * u64::from(attempts - 1);
        assert!(
            sent >= batches as u64 && sent <= most,
            "{sent} requests for {batches} batches (at most {most} expected)"
        );
        assert!(messages
            .iter()
            .any(|m| m.contains("gave up after 4 attempts")));
        assert!(
            messages
                .iter()
                .any(|m| m.contains("not retried: the server has answered no request")),
            "{:?}",
            &messages[messages.len() - 1]
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_can_keep_retrying_every_batch() {
    bounded(60, async {
        let (attempts, batches) = (3u32, 5usize);
        let retry = RetryPolicy {
            fail_fast_when_unreachable: false,
            ..fast_retry(attempts)
        };
        let c = client(closed_port(), retry, 2);
        let messages = all_unavailable(&c, batches * 2, 2).await;
        assert_eq!(c.stats().requests, batches as u64 * u64::from(attempts));
        assert!(messages
            .iter()
            .all(|m| m.contains("gave up after 3 attempts")));
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_comes_back_is_used_and_retried_again() {
    bounded(60, async {
        let port = closed_port();
        let c = client(port, fast_retry(3), 1);
        all_unavailable(&c, 2, 2).await;
        let before = c.stats().requests;
        all_unavailable(&c, 2, 2).await;
        assert_eq!(
            c.stats().requests - before,
            1,
            "while the server looks down, a batch makes one attempt"
        );

        // The server comes up on the same port: the next call is sent and served.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the port is still free");
        let sb = Sandbox::start_on(config(), listener)
            .await
            .expect("sandbox starts");
        let out = c
            .esm2_8m()
            .encode(items(4))
            .batch_size(2)
            .await
            .expect("no call-level error");
        assert!(out.iter().all(Outcome::is_success), "{out:?}");

        // It answered, so connection failures are retried again.
        sb.shutdown();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let before = c.stats().requests;
        let messages = all_unavailable(&c, 2, 2).await;
        assert_eq!(c.stats().requests - before, 3, "{messages:?}");
        assert!(
            messages[0].contains("gave up after 3 attempts"),
            "{messages:?}"
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_is_never_retried_does_not_mark_the_server_down() {
    bounded(60, async {
        // Unseeded `generate` is excluded from retries here: its one failed
        // attempt says nothing about whether the server is down.
        let retry = RetryPolicy {
            retry_unseeded_generate: false,
            ..fast_retry(3)
        };
        let c = client(closed_port(), retry, 1);
        let out = c
            .untyped("progen2-oas", "generate")
            .call(vec![serde_json::json!({"context": "MKT"})])
            .await
            .expect("no call-level error");
        assert!(out.iter().all(Outcome::is_failed), "{out:?}");
        assert_eq!(c.stats().requests, 1);
        // So the next request still gets all its attempts.
        let messages = all_unavailable(&c, 2, 2).await;
        assert_eq!(c.stats().requests, 1 + 3, "{messages:?}");
        assert!(
            messages[0].contains("gave up after 3 attempts"),
            "{messages:?}"
        );
    })
    .await
}
