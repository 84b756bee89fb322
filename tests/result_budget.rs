//! The byte budget for results (src/budget.rs): a budget smaller than one
//! response still makes progress, one batch at a time, and says so once; the
//! first wave of requests of a client that has seen no response yet does not
//! overshoot the budget; and a small budget keeps peak memory low where a
//! large one does not.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use biolm::esm2::{Esm2EncodeIncludeOptions, Esm2EncodeItem, Esm2EncodeParams};
use biolm_sandbox::{Latency, LatencyScope};
use futures_util::StreamExt;
use support::*;

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);
impl Write for Log {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Resident peak of this process in KiB.
fn hwm_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

fn per_residue() -> Esm2EncodeParams {
    Esm2EncodeParams::new().with_include(vec![Esm2EncodeIncludeOptions::PerResidue])
}

/// Runs `n` per-residue items of 300 residues on esm2-650m (1,280 floats a
/// residue, about 3.5 MB of JSON an item) with `budget`, taking each outcome
/// slowly; returns how many succeeded.
async fn run(client: &biolm::Client, n: usize, budget: u64) -> usize {
    let items = (0..n).map(|i| Esm2EncodeItem::new(protein(i, 300)));
    let mut s = client
        .esm2_650m()
        .encode(items)
        .params(per_residue())
        .batch_size(1)
        .result_budget(budget)
        .stream();
    let mut ok = 0;
    while let Some(x) = s.next().await {
        let (_, o) = x.unwrap();
        if o.ok().is_some() {
            ok += 1;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    ok
}

/// One test: the warning goes through a process-wide subscriber, and peak
/// memory is the process's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_budget_makes_progress_and_a_small_one_bounds_memory() {
    let log = Log::default();
    let sink = log.clone();
    tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .try_init()
        .unwrap();
    bounded(600, async {
        let sb = sandbox(config()).await;
        let url = sb.base_url();
        // 1 byte: smaller than any response; every batch goes alone.
        let client = builder(&url).build().unwrap();
        let out = client
            .esm2_8m()
            .encode(short_items(40))
            .batch_size(4)
            .result_budget(1)
            .await
            .unwrap();
        assert_eq!(out.iter().filter(|o| o.ok().is_some()).count(), 40);
        let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text.matches("smaller than one batch's response").count(),
            1,
            "one warning, once: {text}"
        );

        // The first wave: a client that has seen no response of this action
        // yet, 16 requests allowed in flight, an 8 MiB budget and responses of
        // about 3.5 MB. The sandbox waits 50 ms before answering, so requests
        // sent together overlap there: before the slow start all 16 went out
        // at once. Now one goes alone, and the rest by the size it showed.
        let slow = sandbox(config().latency(
            Latency::Fixed(std::time::Duration::from_millis(50)),
            LatencyScope::PerRequest,
        ))
        .await;
        let client = builder(&slow.base_url()).concurrency(16).build().unwrap();
        let before = hwm_kib();
        assert_eq!(run(&client, 16, 8 << 20).await, 16);
        let first_wave = hwm_kib() - before;
        let stats = slow.stats();
        eprintln!(
            "first wave: peak growth {first_wave} KiB with an 8 MiB budget, at most {} requests in flight",
            stats.max_in_flight
        );
        // 8 MiB holds at most two 3.5 MB responses: never more in flight.
        assert!(
            stats.max_in_flight <= 2,
            "{} requests were in flight with an 8 MiB budget",
            stats.max_in_flight
        );
        // The budget plus one response, as raw JSON, decoded, and the
        // sandbox's own copy (it runs in this process): 8 MiB + 3 x 3.5 MB,
        // rounded up. All 16 at once would be about 170 MB.
        assert!(
            first_wave < 24 * 1024,
            "the first wave grew peak memory by {first_wave} KiB with an 8 MiB budget"
        );
        drop(client);
        slow.shutdown();

        // Warm up (the sandbox's and the allocator's first growth, and the
        // client learns the size of a response per item), then
        // 8 MiB against 1 GiB, one item a request, 24 items of about 3.5 MB each (about 85 MB in all).
        let client = builder(&url).concurrency(16).build().unwrap();
        assert_eq!(run(&client, 4, 1 << 30).await, 4);
        let before = hwm_kib();
        assert_eq!(run(&client, 24, 8 << 20).await, 24);
        let small = hwm_kib() - before;
        let mid = hwm_kib();
        assert_eq!(run(&client, 24, 1 << 30).await, 24);
        let large = hwm_kib() - mid + small;
        eprintln!("peak growth: {small} KiB with an 8 MiB budget, {large} KiB with 1 GiB");
        assert!(
            small < 48 * 1024,
            "an 8 MiB budget let peak memory grow by {small} KiB"
        );
        assert!(
            large > 2 * small,
            "the budget made no difference ({small} KiB against {large} KiB)"
        );
    })
    .await
}
