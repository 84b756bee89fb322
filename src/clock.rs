//! The time source of the runtime.
//!
//! Every wait of the runtime (backoff, rate-limit pauses, `Retry-After`) goes
//! through tokio's clock, so tests drive time deterministically with
//! `tokio::time::pause()` / `#[tokio::test(start_paused = true)]`. The pure
//! parts (rate-limit windows, backoff, `Retry-After` parsing) take the current
//! time as an argument and are tested without any clock at all.

// The one module that reads the clock and sleeps (see clippy.toml).
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, SystemTime};

pub(crate) use tokio::time::Instant;

/// The current instant of the runtime's clock.
pub(crate) fn now() -> Instant {
    Instant::now()
}

/// The current wall-clock time (for `Retry-After` HTTP dates).
pub(crate) fn wall_now() -> SystemTime {
    SystemTime::now()
}

/// Sleeps for `d` on the runtime's clock.
pub(crate) async fn sleep(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

/// Sleeps until `t` on the runtime's clock.
pub(crate) async fn sleep_until(t: Instant) {
    tokio::time::sleep_until(t).await;
}

/// A small, fast, non-cryptographic random source for backoff jitter
/// (SplitMix64 over a per-process seed and a counter).
pub(crate) fn jitter_u64() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static SEED: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x1234_5678)
            ^ u64::from(std::process::id())
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut z = seed.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
