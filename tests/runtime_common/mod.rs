//! Shared helpers of the runtime integration tests (sandbox over loopback).
#![allow(dead_code)]

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use biolm::esm2::Esm2EncodeItem;
use biolm::spec::ActionSpec;
use biolm::{Client, ClientBuilder, RetryPolicy};
use biolm_sandbox::{Sandbox, SandboxConfig};

/// The project's schema directory, or the reference corpus when it is empty.
pub fn schemas() -> PathBuf {
    let own = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas"));
    let has_json = std::fs::read_dir(&own)
        .map(|d| {
            d.filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "json"))
        })
        .unwrap_or(false);
    if has_json {
        own
    } else {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/reference/biolm-hub"
        ))
    }
}

/// A sandbox config over the schema set.
pub fn config() -> SandboxConfig {
    SandboxConfig::new(schemas())
}

/// Starts a sandbox on the current runtime.
pub async fn sandbox(cfg: SandboxConfig) -> Sandbox {
    Sandbox::start(cfg).await.expect("sandbox starts")
}

/// A retry policy with short waits, for tests.
pub fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(40),
        ..RetryPolicy::default()
    }
}

/// A client builder pointed at `url` with fast retries.
pub fn builder(url: &str) -> ClientBuilder {
    Client::builder().base_url(url).retry(fast_retry(4))
}

/// The catalog spec of `slug/action`.
pub fn spec(slug: &str, action: &str) -> &'static ActionSpec {
    biolm::catalog::find(slug)
        .and_then(|v| v.action(action))
        .unwrap_or_else(|| panic!("{slug}/{action} is in the catalog"))
}

/// A spec with no local schema (so invalid items reach the server).
pub fn unchecked(slug: &str, action: &str, max_items: usize) -> &'static ActionSpec {
    Box::leak(Box::new(ActionSpec::untyped(slug, action, max_items)))
}

const AA: &[u8] = b"ACDEFGHIKLMNPQRSTVWY";

/// A deterministic protein sequence, distinct for each `i`, of length 8 + i % 97.
pub fn seq(i: usize) -> String {
    let len = 8 + i % 97;
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            AA[(x % AA.len() as u64) as usize] as char
        })
        .collect()
}

/// `n` esm2 encode items.
pub fn items(n: usize) -> Vec<Esm2EncodeItem> {
    (0..n).map(|i| Esm2EncodeItem::new(seq(i))).collect()
}

/// Runs `f` with a time limit, failing the test when it is exceeded.
pub async fn bounded<F: Future>(secs: u64, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .unwrap_or_else(|_| panic!("test exceeded its {secs} s time limit"))
}
