//! Counters the tests read: requests, items, concurrency, statuses, faults.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::FaultKind;

/// A snapshot of what the sandbox has seen since start (or the last [`crate::Sandbox::reset_stats`]).
///
/// All counts are of model calls (`POST /api/v3/...`, `POST /api/v1/...`) unless named otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Model calls received (whatever became of them).
    pub requests: u64,
    /// Items in the model calls whose body was a JSON object with an `items` array.
    pub items: u64,
    /// Model calls being handled right now.
    pub in_flight: u64,
    /// The most model calls ever handled at the same time.
    pub max_in_flight: u64,
    /// Responses by HTTP status (connection resets are not responses: see `faults`).
    pub by_status: BTreeMap<u16, u64>,
    /// Injected faults by kind name (`reset`, `500`, `stall`, ...; see [`FaultKind::name`]).
    pub faults: BTreeMap<String, u64>,
    /// Calls refused with 429 by the throttle (not counting injected 429 faults).
    pub throttled: u64,
    /// Schema requests (`GET /api/v3/schema/...`).
    pub schema_requests: u64,
    /// Total time spent handling model calls (summed over calls, so it can exceed
    /// wall time when calls overlap): `busy / requests` is the mean time per call.
    pub busy: Duration,
}

impl Stats {
    /// Responses with this status.
    pub fn status(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }
}

const STATUS_SLOTS: usize = 600;
/// Arrival times kept (16 MB); later calls are counted but not timed.
const MAX_ARRIVALS: usize = 1_000_000;

pub(crate) struct Counters {
    requests: AtomicU64,
    items: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    by_status: Vec<AtomicU64>,
    faults: Vec<AtomicU64>,
    throttled: AtomicU64,
    schema_requests: AtomicU64,
    busy_nanos: AtomicU64,
    /// When each model call arrived, for rate checks.
    arrivals: Mutex<Vec<Instant>>,
}

/// When the model calls arrived, to check a client's rate limiting from the server's side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Arrivals {
    /// Arrival times relative to the first call, in order (the first million calls).
    pub offsets: Vec<Duration>,
}

impl Arrivals {
    /// The most calls that arrived within any window of length `window`
    /// (a call exactly `window` after another starts a new window).
    pub fn max_in_window(&self, window: Duration) -> usize {
        let mut best = 0;
        let mut start = 0;
        for (end, t) in self.offsets.iter().enumerate() {
            while self
                .offsets
                .get(start)
                .is_some_and(|s| t.saturating_sub(*s) >= window)
            {
                start += 1;
            }
            best = best.max(end + 1 - start);
        }
        best
    }
}

impl Counters {
    pub(crate) fn new() -> Self {
        Counters {
            requests: AtomicU64::new(0),
            items: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            by_status: (0..STATUS_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            faults: FaultKind::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
            throttled: AtomicU64::new(0),
            schema_requests: AtomicU64::new(0),
            busy_nanos: AtomicU64::new(0),
            arrivals: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn arrivals(&self) -> Arrivals {
        let times = self.arrivals.lock().map(|a| a.clone()).unwrap_or_default();
        let first = times.first().copied();
        let mut offsets: Vec<Duration> = times
            .iter()
            .map(|t| first.map_or(Duration::ZERO, |f| t.duration_since(f)))
            .collect();
        offsets.sort();
        Arrivals { offsets }
    }

    pub(crate) fn request(&self) -> InFlight<'_> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut a) = self.arrivals.lock() {
            if a.len() < MAX_ARRIVALS {
                a.push(Instant::now());
            }
        }
        let now = self.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        self.max_in_flight.fetch_max(now, Ordering::AcqRel);
        InFlight(self, Instant::now())
    }

    pub(crate) fn items(&self, n: u64) {
        self.items.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn status(&self, status: u16) {
        if let Some(slot) = self.by_status.get(usize::from(status)) {
            slot.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn fault(&self, kind: FaultKind) {
        if let Some(i) = FaultKind::ALL.iter().position(|k| *k == kind) {
            if let Some(slot) = self.faults.get(i) {
                slot.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn schema_request(&self) {
        self.schema_requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let by_status = self
            .by_status
            .iter()
            .enumerate()
            .filter_map(|(s, n)| {
                let n = n.load(Ordering::Relaxed);
                (n > 0).then_some((s as u16, n))
            })
            .collect();
        let faults = FaultKind::ALL
            .iter()
            .zip(&self.faults)
            .filter_map(|(k, n)| {
                let n = n.load(Ordering::Relaxed);
                (n > 0).then(|| (k.name().to_string(), n))
            })
            .collect();
        Stats {
            requests: self.requests.load(Ordering::Relaxed),
            items: self.items.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Acquire),
            max_in_flight: self.max_in_flight.load(Ordering::Acquire),
            by_status,
            faults,
            throttled: self.throttled.load(Ordering::Relaxed),
            schema_requests: self.schema_requests.load(Ordering::Relaxed),
            busy: Duration::from_nanos(self.busy_nanos.load(Ordering::Relaxed)),
        }
    }

    /// Zeroes every counter; `max_in_flight` restarts from the calls in flight now.
    pub(crate) fn reset(&self) {
        self.requests.store(0, Ordering::Relaxed);
        self.items.store(0, Ordering::Relaxed);
        self.max_in_flight
            .store(self.in_flight.load(Ordering::Acquire), Ordering::Release);
        for slot in self.by_status.iter().chain(&self.faults) {
            slot.store(0, Ordering::Relaxed);
        }
        self.throttled.store(0, Ordering::Relaxed);
        self.schema_requests.store(0, Ordering::Relaxed);
        self.busy_nanos.store(0, Ordering::Relaxed);
        if let Ok(mut a) = self.arrivals.lock() {
            a.clear();
        }
    }
}

/// Counts one call in flight until dropped (also when the connection is cut).
pub(crate) struct InFlight<'a>(&'a Counters, Instant);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let took = u64::try_from(self.1.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.0.busy_nanos.fetch_add(took, Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Stats {
    /// The counters as JSON (`GET /sandbox/stats`); `busy_seconds` is [`Stats::busy`].
    pub fn to_json(&self) -> serde_json::Value {
        let by_status: serde_json::Map<String, serde_json::Value> = self
            .by_status
            .iter()
            .map(|(k, v)| (k.to_string(), (*v).into()))
            .collect();
        serde_json::json!({
            "requests": self.requests,
            "items": self.items,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "by_status": by_status,
            "faults": self.faults,
            "throttled": self.throttled,
            "schema_requests": self.schema_requests,
            "busy_seconds": self.busy.as_secs_f64(),
        })
    }
}
