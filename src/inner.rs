//! A client's shared state, below the call and engine layers (which read it)
//! and above the transport, rate limits and retry policy (which it holds).

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::hooks::Hooks;
use crate::rate_limit::Pacer;
use crate::reachability::Reachability;
use crate::retry::RetryPolicy;
use crate::transport::Transport;

/// Traffic counters, read out as [`crate::ClientStats`].
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub resends: AtomicU64,
}

/// The state a client's clones share: its transport, limits, retry policy and
/// counters. The engine reads it; the client layer builds it.
pub(crate) struct ClientInner {
    pub transport: Transport,
    pub semaphore: Arc<Semaphore>,
    pub concurrency: usize,
    pub pacer: Pacer,
    pub retry: RetryPolicy,
    pub request_timeout: Duration,
    pub model_timeouts: HashMap<String, Duration>,
    pub use_throttle_rates: bool,
    pub untyped_batch_size: usize,
    /// The default byte budget of a call's results ([`crate::budget`]).
    pub result_budget: u64,
    /// Response bytes per item learned by the result budgets, by `slug/action`.
    pub result_sizes: std::sync::Mutex<HashMap<String, Arc<AtomicU64>>>,
    pub stats: Stats,
    pub reachability: Reachability,
    pub hooks: Hooks,
    /// The result cache ([`crate::cache`]).
    #[cfg(feature = "cache")]
    pub cache: Option<crate::cache::Cache>,
}
