//! Streaming a long input keeps memory flat.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use biolm::esm2::Esm2EncodeItem;
use futures_util::StreamExt;
use support::*;

/// Resident memory of this process in KiB (`VmRSS` or `VmHWM`).
fn status_kib(key: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// Items streamed: 200,000 in optimized builds (`cargo test --release`), 30,000
/// in debug builds (where 200,000 take minutes); `BIOLM_TEST_STREAM_ITEMS` overrides.
fn total_items() -> usize {
    std::env::var("BIOLM_TEST_STREAM_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) {
            30_000
        } else {
            200_000
        })
}

/// A long input from a lazy iterator through `stream()`: peak memory after the
/// first tenth of the items and at the end differ by little (every result is
/// 320 floats; keeping 200,000 of them would take > 500 MB).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_200k_items_keeps_memory_flat() {
    bounded(600, async {
        let total = total_items();
        let checkpoint = total / 10;
        let sb = sandbox(config()).await;
        let client = builder(&sb.base_url()).build().unwrap();
        let produced = Arc::new(AtomicUsize::new(0));
        let p2 = produced.clone();
        let input = (0..total).map(move |i| {
            p2.fetch_add(1, Ordering::Relaxed);
            Esm2EncodeItem::new(seq(i))
        });
        let mut s = client.esm2_8m().encode(input).stream();
        let mut seen = 0usize;
        let mut sum_len = 0usize;
        let mut hwm_at_checkpoint = 0;
        let mut max_read_ahead = 0usize;
        while let Some(x) = s.next().await {
            let (_, o) = x.unwrap();
            let r = o.ok().expect("success");
            sum_len += r.embeddings.as_ref().map_or(0, |e| e[0].embedding.len());
            seen += 1;
            max_read_ahead = max_read_ahead.max(produced.load(Ordering::Relaxed) - seen);
            if seen == checkpoint {
                hwm_at_checkpoint = status_kib("VmHWM:");
            }
        }
        assert_eq!(seen, total);
        assert_eq!(sum_len, total * 320);
        let hwm_end = status_kib("VmHWM:");
        let rss_end = status_kib("VmRSS:");
        eprintln!(
            "{total} items: VmHWM after {checkpoint}: {hwm_at_checkpoint} KiB, at end: {hwm_end} KiB \
             (VmRSS {rss_end} KiB); max read-ahead {max_read_ahead} items"
        );
        assert!(
            hwm_end < hwm_at_checkpoint + 32 * 1024,
            "peak memory grew by {} KiB",
            hwm_end - hwm_at_checkpoint
        );
        // read-ahead is bounded by the in-flight window: 16 batches of 8, the
        // channel (64), one batch being filled and one waiting for a slot
        assert!(max_read_ahead <= 16 * 8 + 64 + 16 + 16, "read ahead {max_read_ahead} items");
    })
    .await
}
