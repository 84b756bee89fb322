//! Runtime throughput and client CPU against a sandbox in another process.
//!
//! Run with `benches/runtime_throughput.sh` (starts the sandbox, runs this).
//! Settings (environment): `BIOLM_BENCH_URL` (sandbox base URL, required),
//! `BIOLM_BENCH_ITEMS` (default 20000), `BIOLM_BENCH_LATENCY_MS` (the
//! sandbox's fixed per-request latency, for the ideal-throughput figure),
//! `BIOLM_BENCH_CONCURRENCY` (default 16).
//!
//! Reports wall time, items/s, the ideal time (batches / concurrency x latency)
//! and this process's CPU time (user + system, from /proc/self/stat).

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use biolm::esm2::Esm2EncodeItem;

// The same deterministic sequences as the integration tests.
#[path = "../tests/support/mod.rs"]
mod support;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// User + system CPU seconds of this process.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // fields after the command name (which is in parentheses)
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime is field 14, stime 15 (1-based over the whole line); here offsets 11 and 12
    let ticks: u64 = f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    ticks as f64 / 100.0
}

fn main() {
    let Ok(url) = std::env::var("BIOLM_BENCH_URL") else {
        eprintln!(
            "runtime_throughput: set BIOLM_BENCH_URL (see benches/runtime_throughput.sh); skipping"
        );
        return;
    };
    let n = env_num("BIOLM_BENCH_ITEMS", 20_000) as usize;
    let latency_ms = env_num("BIOLM_BENCH_LATENCY_MS", 0);
    let concurrency = env_num("BIOLM_BENCH_CONCURRENCY", 16) as usize;
    // BIOLM_BENCH_RUNTIME=current: a current-thread runtime instead of 2 workers
    let rt = if std::env::var("BIOLM_BENCH_RUNTIME").as_deref() == Ok("current") {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    }
    .expect("runtime");
    let mut builder = biolm::Client::builder()
        .base_url(&url)
        .token("bench")
        .concurrency(concurrency);
    // BIOLM_BENCH_COMPRESSION=0: request bodies sent uncompressed
    if std::env::var("BIOLM_BENCH_COMPRESSION").as_deref() == Ok("0") {
        builder = builder.compression(false);
    }
    let client = builder.build().expect("client");
    let items: Vec<Esm2EncodeItem> = (0..n)
        .map(|i| Esm2EncodeItem::new(support::protein(i, 50 + i % 250)))
        .collect();
    // warm-up: connections, validator compilation
    let warm = rt
        .block_on(client.esm2_8m().encode(items[..64].to_vec()).into_future())
        .expect("warm-up");
    if let Some(e) = warm.iter().find_map(|o| o.error()) {
        eprintln!("runtime_throughput: the warm-up failed: {e}");
        std::process::exit(1);
    }
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let out = rt
        .block_on(client.esm2_8m().encode(items).into_future())
        .expect("call");
    let wall = t0.elapsed();
    let cpu = cpu_seconds() - cpu0;
    let ok = out.iter().filter(|o| o.is_success()).count();
    let floats: usize = out
        .iter()
        .filter_map(|o| o.ok())
        .map(|r| {
            r.embeddings
                .as_ref()
                .map_or(0, |e| e.iter().map(|l| l.embedding.len()).sum())
        })
        .sum();
    let batches = n.div_ceil(8);
    let ideal = Duration::from_millis(latency_ms) * batches.div_ceil(concurrency) as u32;
    println!(
        "items {n} ok {ok} floats {floats} | wall {:.3} s, {:.0} items/s | client CPU {:.2} s ({:.1} us/item)",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        cpu,
        cpu * 1e6 / n as f64
    );
    if latency_ms > 0 {
        println!(
            "ideal {:.3} s ({batches} batches / {concurrency} in flight x {latency_ms} ms): {:.1}% of ideal throughput",
            ideal.as_secs_f64(),
            100.0 * ideal.as_secs_f64() / wall.as_secs_f64()
        );
    }
    println!("client stats: {:?}", client.stats());
}
