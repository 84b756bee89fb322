//! How the client answers 429s: it sends nothing inside a `Retry-After` window
//! it was given, one 429 pauses it for at most that 429's own `Retry-After`,
//! and its sending rate recovers as soon as the 429s stop.
//!
//! The client's side comes from its `biolm.attempt` spans (tests/send_log),
//! the server's from the sandbox's arrival log. The checks count requests;
//! the only duration they use is the 1 s that the sandbox's `Retry-After: 1`
//! asks for (its throttle rounds every wait up to whole seconds, its 429
//! faults always say 1).

mod send_log;
mod support;

use std::time::Duration;

use biolm::Outcome;
use biolm_sandbox::FaultKind;
use send_log::{max_in_window, SendLog};
use support::{bounded, builder, config, fast_retry, items, sandbox};
use tracing_subscriber::layer::SubscriberExt;

const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The [`SendLog`] of this test binary, emptied, and a turn to use it alone (every
/// test here takes one, since the spans of a test running beside would be logged too).
///
/// The subscriber is the process-wide default, installed once: a per-thread default
/// (`set_default`) loses spans when tests on other threads, with no subscriber, settle
/// tracing's per-callsite interest first. The tests that read the log take turns.
async fn logging() -> (SendLog, tokio::sync::MutexGuard<'static, ()>) {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    static LOG: std::sync::OnceLock<SendLog> = std::sync::OnceLock::new();
    let turn = TURN.lock().await;
    let log = LOG
        .get_or_init(|| {
            let log = SendLog::default();
            let sub = tracing_subscriber::registry().with(log.clone());
            tracing::subscriber::set_global_default(sub).expect("the only global subscriber");
            log
        })
        .clone();
    log.clear();
    (log, turn)
}

fn all_ok<R>(out: &[Outcome<R>]) -> Vec<String> {
    out.iter()
        .filter_map(Outcome::error)
        .map(ToString::to_string)
        .collect()
}

/// Random 429s (30% of requests, each `Retry-After: 1`) at concurrency 4:
/// every item succeeds, and the client sends no request between seeing a 429
/// and the end of the wait it asked for.
#[tokio::test]
async fn nothing_is_sent_inside_a_retry_after_window() {
    let (log, _turn) = logging().await;
    bounded(120, async {
        let sb = sandbox(config().faults(0.3, [FaultKind::Status429], 21)).await;
        let client = builder(&sb.base_url())
            .retry(fast_retry(10))
            .concurrency(4)
            .build()
            .unwrap();
        let out = client
            .esm2_8m()
            .encode(items(96))
            .batch_size(8)
            .await
            .unwrap();
        assert!(all_ok(&out).is_empty(), "{:?}", all_ok(&out));
        let sends = log.snapshot();
        let st = sb.stats();
        assert!(st.status(429) >= 2, "too few 429s to test: {st:?}");
        assert!(sends.throttled.len() >= 2, "the client saw too few 429s");
        assert_eq!(
            sends.inside_windows(RETRY_AFTER),
            0,
            "requests sent while a Retry-After was running: {}",
            sends.timeline()
        );
    })
    .await
}

/// One request at a time: the server sees, after each 429, a gap of at least
/// the 1 s it asked for before the next request (as many such gaps as 429s),
/// and never a gap of two `Retry-After`s (pauses do not add up).
#[tokio::test]
async fn each_429_pauses_for_its_own_retry_after_and_no_longer() {
    // Every test of this binary takes its turn: the log is process-wide.
    let (_log, _turn) = logging().await;
    bounded(120, async {
        let sb = sandbox(config().faults(0.25, [FaultKind::Status429], 5)).await;
        let client = builder(&sb.base_url())
            .retry(fast_retry(10))
            .concurrency(1)
            .build()
            .unwrap();
        let out = client
            .esm2_8m()
            .encode(items(64))
            .batch_size(4)
            .await
            .unwrap();
        assert!(all_ok(&out).is_empty(), "{:?}", all_ok(&out));
        let st = sb.stats();
        let throttled = st.status(429);
        assert!(throttled >= 2, "too few 429s to test: {st:?}");
        let arrivals = sb.arrivals().offsets;
        assert_eq!(arrivals.len() as u64, st.requests);
        let gaps: Vec<Duration> = arrivals.windows(2).map(|w| w[1] - w[0]).collect();
        // A 429 is answered at once; the next request may not arrive before 1 s.
        let long = gaps.iter().filter(|g| **g >= RETRY_AFTER).count() as u64;
        assert!(
            long >= throttled,
            "{throttled} 429s but only {long} gaps of 1 s: {gaps:?}"
        );
        // Pauses do not add up: no gap of two Retry-Afters (a rate lowered
        // after random 429s spaces requests by at most 1.1 s, see rate_limit.rs).
        assert!(
            gaps.iter().all(|g| *g < 2 * RETRY_AFTER),
            "a pause longer than two Retry-Afters: {gaps:?}"
        );
    })
    .await
}

/// Random 429s (20%, `Retry-After: 1`) at concurrency 4: the client may
/// first take them for a rate limit and lower its rate, but a 429 that comes
/// while it sends slower than the server had accepted shows they are not, and
/// the lowered rate is dropped: in the last third of the run the requests go
/// out together again between pauses, not spaced out (4 within 100 ms).
#[tokio::test]
async fn the_rate_recovers_when_the_429s_prove_random() {
    let (log, _turn) = logging().await;
    bounded(120, async {
        let sb = sandbox(config().faults(0.2, [FaultKind::Status429], 3)).await;
        let client = builder(&sb.base_url())
            .retry(fast_retry(10))
            .concurrency(4)
            .build()
            .unwrap();
        let out = client
            .esm2_8m()
            .encode(items(8 * 60))
            .batch_size(8)
            .await
            .unwrap();
        assert!(all_ok(&out).is_empty(), "{:?}", all_ok(&out));
        let st = sb.stats();
        assert!(st.status(429) >= 4, "too few 429s to test: {st:?}");
        let sends = log.snapshot();
        assert_eq!(sends.inside_windows(RETRY_AFTER), 0, "{}", sends.timeline());
        // The last third of the requests (random 429s still coming).
        let mut sent = sends.sent.clone();
        sent.sort();
        let late = &sent[sent.len() * 2 / 3..];
        let burst = max_in_window(late, Duration::from_millis(100));
        assert!(
            burst >= 4,
            "late requests were still spaced out ({burst} in 100 ms): {}",
            sends.timeline()
        );
    })
    .await
}

/// A server throttled at 20 requests/s: after the first seconds the client
/// sends at a rate the server accepts, so later requests are seldom refused.
#[tokio::test]
async fn the_client_settles_below_a_servers_rate_limit() {
    let (log, _turn) = logging().await;
    bounded(120, async {
        let sb = sandbox(config().throttle(20.0)).await;
        let client = builder(&sb.base_url())
            .retry(fast_retry(10))
            .concurrency(4)
            .build()
            .unwrap();
        let out = client
            .esm2_8m()
            .encode(items(8 * 160))
            .batch_size(8)
            .await
            .unwrap();
        assert!(all_ok(&out).is_empty(), "{:?}", all_ok(&out));
        let sends = log.snapshot();
        assert_eq!(sends.inside_windows(RETRY_AFTER), 0, "{}", sends.timeline());
        assert!(
            !sends.throttled.is_empty(),
            "the throttle never answered 429"
        );
        // The second half of the requests: under 5% refused.
        let mut sent = sends.sent.clone();
        sent.sort();
        let mid = sent[sent.len() / 2];
        let late_sent = sent.iter().filter(|t| **t >= mid).count();
        let late_429 = sends.throttled.iter().filter(|t| **t >= mid).count();
        assert!(
            late_429 * 20 < late_sent,
            "{late_429} of the last {late_sent} requests answered 429"
        );
    })
    .await
}
