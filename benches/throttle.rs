//! How the client fares against a throttling server, run in another process.
//!
//! Run with `benches/throttle.sh` (starts the sandboxes, runs this). Settings
//! (environment): `BIOLM_BENCH_URL` (sandbox base URL, required),
//! `BIOLM_BENCH_ITEMS` (default 20000), `BIOLM_BENCH_RATE` (the sandbox's
//! `--throttle`, requests/s, for the "% of R" figure; 0 = none),
//! `BIOLM_BENCH_CONCURRENCY` (default 16), `BIOLM_BENCH_LABEL` (a name for
//! the result line).
//!
//! Reports wall time, the requests that succeeded per second (over the whole
//! run and over its second half, where the client has settled), the share of
//! requests answered 429, and how many requests the client sent inside a
//! `Retry-After` window it had been given (the sandbox always sends
//! `Retry-After: 1`), taken from the client's own `biolm.attempt` spans.

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use biolm::esm2::Esm2EncodeItem;
use tracing_subscriber::layer::SubscriberExt;

#[path = "../tests/send_log/mod.rs"]
mod send_log;
#[path = "../tests/support/mod.rs"]
mod support;

fn env_num(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let Ok(url) = std::env::var("BIOLM_BENCH_URL") else {
        eprintln!("throttle: set BIOLM_BENCH_URL (see benches/throttle.sh); skipping");
        return;
    };
    let n = env_num("BIOLM_BENCH_ITEMS", 20_000.0) as usize;
    let rate = env_num("BIOLM_BENCH_RATE", 0.0);
    let concurrency = env_num("BIOLM_BENCH_CONCURRENCY", 16.0) as usize;
    let label = std::env::var("BIOLM_BENCH_LABEL").unwrap_or_else(|_| "throttle".into());
    let log = send_log::SendLog::default();
    if tracing::subscriber::set_global_default(tracing_subscriber::registry().with(log.clone()))
        .is_err()
    {
        eprintln!("throttle: a tracing subscriber was already set");
        std::process::exit(1);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let client = biolm::Client::builder()
        .base_url(&url)
        .token("bench")
        .concurrency(concurrency)
        .build()
        .expect("client");
    let items: Vec<Esm2EncodeItem> = (0..n)
        .map(|i| Esm2EncodeItem::new(support::protein(i, 50 + i % 250)))
        .collect();
    let t0 = Instant::now();
    let out = rt
        .block_on(client.esm2_8m().encode(items).into_future())
        .expect("call");
    let wall = t0.elapsed();
    let ok = out.iter().filter(|o| o.is_success()).count();
    let s = log.snapshot();
    let sent = s.sent.len();
    let throttled = s.throttled.len();
    let inside = s.inside_windows(Duration::from_secs(1));
    // BIOLM_BENCH_TIMELINE=1: when each 429 came, in seconds from the start.
    if std::env::var("BIOLM_BENCH_TIMELINE").as_deref() == Ok("1") {
        let at: Vec<String> = s
            .throttled
            .iter()
            .map(|t| format!("{:.2}", t.duration_since(t0).as_secs_f64()))
            .collect();
        println!("{label}: 429s at {}", at.join(" "));
    }
    // Requests that were not answered 429, per second.
    let good = (sent - throttled) as f64;
    let half = t0 + wall / 2;
    let good_second_half = s.sent.iter().filter(|t| **t >= half).count() as f64
        - s.throttled.iter().filter(|t| **t >= half).count() as f64;
    let rps = good / wall.as_secs_f64();
    let rps_half = good_second_half / (wall.as_secs_f64() / 2.0);
    let vs = |x: f64| {
        if rate > 0.0 {
            format!(" ({:.1}% of R = {rate})", 100.0 * x / rate)
        } else {
            String::new()
        }
    };
    println!(
        "{label}: items {n} ok {ok} | wall {:.2} s | requests {sent}, answered 429: {throttled} ({:.2}%) | \
         accepted requests/s: {rps:.1}{} overall, {rps_half:.1}{} in the second half | \
         sent inside a Retry-After window: {inside}",
        wall.as_secs_f64(),
        100.0 * throttled as f64 / sent.max(1) as f64,
        vs(rps),
        vs(rps_half),
    );
}
