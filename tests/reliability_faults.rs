//! Reliability under injected faults (issue 6, part 1): 20,000 esm2-8m encode
//! items against a sandbox failing 10% of requests with every fault kind it
//! has. Every item must end with exactly one outcome, every success must equal
//! the fault-free run's result for that item, and the client's retries and
//! re-sends must stay within the configured bounds.

mod support;

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use biolm::esm2::Esm2EncodeItem;
use biolm::{Client, ItemErrorKind, Outcome};
use biolm_sandbox::{FaultKind, Sandbox};
use futures_util::StreamExt;
use serde_json::value::RawValue;
use support::*;

const ATTEMPTS: u32 = 4;
const BATCH: usize = 8;

/// What one item ended with: a hash of its result, or its error.
#[derive(Debug, Clone, PartialEq)]
enum Got {
    Ok(u64),
    Failed(ItemErrorKind, String),
    NotAttempted,
}

/// A hash of a result with `sequence_index` removed: that field is the item's
/// position in the request, which changes when an item is re-sent alone.
fn result_hash(raw: &RawValue) -> u64 {
    let text = raw.get();
    let key = "\"sequence_index\":";
    let (head, tail) = match text.find(key) {
        Some(p) => {
            let rest = &text[p + key.len()..];
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            (&text[..p], &rest[digits..])
        }
        None => (text, ""),
    };
    let mut h = DefaultHasher::new();
    head.hash(&mut h);
    tail.hash(&mut h);
    h.finish()
}

fn client(base: &str, timeout: Duration) -> Client {
    Client::builder()
        .base_url(base)
        .token("reliability-token")
        .concurrency(32)
        // Plain bodies both ways: gzip in a debug build would dominate the run time.
        .compression(false)
        .request_timeout(timeout)
        .retry(capped_retry(ATTEMPTS))
        .build()
        .unwrap()
}

/// Runs `n` items through `client`, streaming, and records each item's
/// outcome; panics on a duplicate or missing outcome.
async fn run(client: &Client, n: usize) -> Vec<Got> {
    let items = (0..n).map(|i| Esm2EncodeItem::new(short_seq(i)));
    let mut stream = client
        .call::<_, (), Box<RawValue>, _>(spec("esm2-8m", "encode"), items)
        .stream();
    let mut got: Vec<Option<Got>> = vec![None; n];
    while let Some(x) = stream.next().await {
        let (i, o) = x.expect("no call-level error");
        let slot = got
            .get_mut(i)
            .unwrap_or_else(|| panic!("outcome for index {i}, beyond the {n} items"));
        assert!(slot.is_none(), "item {i} got a second outcome: {o:?}");
        *slot = Some(match o {
            Outcome::Success(r) => Got::Ok(result_hash(&r)),
            Outcome::Failed(e) => {
                assert_eq!(e.index, i, "the error names its item's index");
                assert!(!e.message.is_empty(), "item {i}: empty error message");
                Got::Failed(e.kind, e.message)
            }
            Outcome::NotAttempted => Got::NotAttempted,
        });
    }
    got.into_iter()
        .enumerate()
        .map(|(i, g)| g.unwrap_or_else(|| panic!("item {i} got no outcome")))
        .collect()
}

fn fault(sb: &Sandbox, kind: FaultKind) -> u64 {
    sb.stats().faults.get(kind.name()).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_items_through_every_fault_kind() {
    bounded(240, fault_suite(20_000, false, 0x5EED_0006)).await
}

/// The same on the gateway dialect (`/api/v1`, pydantic error bodies), smaller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_dialect_through_every_fault_kind() {
    bounded(240, fault_suite(4_000, true, 0x5EED_0106)).await
}

/// `n` items (a multiple of 8) through a fault-free sandbox, then through one
/// failing 10% of requests with every fault kind; see the module docs.
async fn fault_suite(n: usize, gateway: bool, seed: u64) {
    // One suite at a time: run side by side they would slow each other's
    // replies towards the client timeout.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    let url = |sb: &Sandbox| {
        if gateway {
            sb.gateway_url()
        } else {
            sb.base_url()
        }
    };
    {
        // The fault-free reference.
        let clean = sandbox(config().gzip_responses(false)).await;
        let started = Instant::now();
        let reference = run(&client(&url(&clean), Duration::from_secs(30)), n).await;
        let reference_time = started.elapsed();
        for (i, g) in reference.iter().enumerate() {
            assert!(matches!(g, Got::Ok(_)), "fault-free run, item {i}: {g:?}");
        }
        assert_eq!(clean.stats().requests, (n / BATCH) as u64);
        drop(clean);

        // 10% of requests fail, drawn from every kind; a stall (5 s) outlasts
        // the client's 2 s timeout.
        let cfg = config()
            .gzip_responses(false)
            .faults(0.10, FaultKind::ALL, seed)
            .stall(Duration::from_secs(5));
        let faulty = sandbox(cfg).await;
        let c = client(&url(&faulty), Duration::from_secs(2));
        let started = Instant::now();
        let got = run(&c, n).await;
        let fault_time = started.elapsed();
        let server = faulty.stats();
        let stats = c.stats();
        eprintln!(
            "reference {reference_time:?}, with faults {fault_time:?}; client {stats:?}; sandbox requests {} faults {:?} statuses {:?}",
            server.requests, server.faults, server.by_status
        );

        // Every fault kind was exercised.
        for kind in FaultKind::ALL {
            assert!(
                fault(&faulty, kind) > 0,
                "no {kind} fault was injected: {:?}",
                server.faults
            );
        }

        // Every success equals the fault-free result; tally the failures.
        let mut failed: BTreeMap<String, usize> = BTreeMap::new();
        let mut ok = 0usize;
        for (i, (g, r)) in got.iter().zip(&reference).enumerate() {
            match g {
                Got::Ok(_) => {
                    assert_eq!(g, r, "item {i}: the result differs from the fault-free run");
                    ok += 1;
                }
                Got::Failed(kind, msg) => {
                    *failed.entry(format!("{kind:?}")).or_default() += 1;
                    match kind {
                        ItemErrorKind::Unavailable => assert!(
                            msg.contains("gave up after")
                                || msg.contains("server error (HTTP 500)"),
                            "item {i}: {msg}"
                        ),
                        ItemErrorKind::BadResponse => {
                            assert!(msg.contains("results for a batch of"), "item {i}: {msg}")
                        }
                        ItemErrorKind::Rejected => {
                            assert!(msg.contains("rejected the item"), "item {i}: {msg}")
                        }
                        other => panic!("item {i}: unexpected failure kind {other:?}: {msg}"),
                    }
                }
                Got::NotAttempted => panic!("item {i} not attempted under CollectAll"),
            }
        }
        eprintln!("{ok} succeeded, failed by kind {failed:?}");
        let count = |k: &str| failed.get(k).copied().unwrap_or(0) as u64;

        // Each partial-success fault fails exactly the one item it names.
        assert_eq!(count("Rejected"), fault(&faulty, FaultKind::PartialSuccess));
        // A wrong result count never shifts results: its batch is re-sent item by
        // item, and only an item that got a wrong count alone fails, so there are
        // at most as many bad-response items as wrong-count faults.
        let wc = fault(&faulty, FaultKind::WrongResultCount);
        assert!(
            count("BadResponse") <= wc,
            "{} bad-response items for {wc} wrong-count faults",
            count("BadResponse")
        );
        // Most items succeed.
        assert!(ok >= n * 9 / 10, "only {ok} of {n} succeeded");

        // Bounds on traffic. Every request the client counted reached the server.
        assert_eq!(
            stats.requests, server.requests,
            "client and sandbox disagree on requests"
        );
        let first_sends = stats.requests - stats.retries;
        assert!(first_sends >= (n / BATCH) as u64);
        assert!(
            stats.retries <= first_sends * u64::from(ATTEMPTS - 1),
            "more retries than {ATTEMPTS} attempts per batch allow"
        );
        // Only retryable faults cause retries (a slow normal reply could add a
        // timeout, but 2 s is far above a loopback reply), and every one of them
        // is retried except the last attempt of a batch that gave up.
        let retryable: u64 = [
            FaultKind::ConnectionReset,
            FaultKind::Status502,
            FaultKind::Status503,
            FaultKind::Status429,
            FaultKind::Stall,
            FaultKind::TruncatedBody,
        ]
        .into_iter()
        .map(|k| fault(&faulty, k))
        .sum();
        assert!(
            stats.retries <= retryable,
            "{} retries for {retryable} retryable faults",
            stats.retries
        );
        let gave_up = got
            .iter()
            .filter(|g| matches!(g, Got::Failed(_, m) if m.contains("gave up after")))
            .count() as u64;
        assert!(
            retryable - stats.retries <= gave_up,
            "{retryable} retryable faults, {} retries, {gave_up} items gave up",
            stats.retries
        );
        // Re-sends: only a 500 naming no item or a wrong result count re-sends, at
        // most a batch's items each time, and each re-sent item is one more first send.
        let f500 = fault(&faulty, FaultKind::Status500);
        let wrong_count = fault(&faulty, FaultKind::WrongResultCount);
        assert!(stats.resends > 0, "no 500 fault hit a multi-item batch");
        assert!(
            stats.resends <= (f500 + wrong_count) * BATCH as u64,
            "{} re-sends for {f500} 500 faults and {wrong_count} wrong result counts",
            stats.resends
        );
        assert_eq!(
            first_sends,
            (n / BATCH) as u64 + stats.resends,
            "each re-sent item is sent alone once"
        );
        assert!(
            fault_time < Duration::from_secs(120),
            "the faulty run took {fault_time:?}"
        );
    }
}
