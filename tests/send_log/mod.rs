//! The client's own record of when it sent each request and when a 429
//! reached it, taken from its `biolm.attempt` tracing spans: a span opens when
//! an attempt goes out (after the rate limiter let it) and records the reply's
//! `status` once the reply is in.
//!
//! Shared by `tests/runtime_throttle.rs` and `benches/throttle.rs`.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::Subscriber;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// What the log holds: send instants and 429 arrival instants, in order.
#[derive(Debug, Default, Clone)]
pub struct Sends {
    /// When each attempt was sent.
    pub sent: Vec<Instant>,
    /// When each 429 reply was seen by the client.
    pub throttled: Vec<Instant>,
    /// Replies with any other status.
    pub other: u64,
}

impl Sends {
    /// Attempts sent at a moment inside `(t, t + retry_after)` for a 429 seen
    /// at `t`: requests the client sent while a server had asked it to wait.
    pub fn inside_windows(&self, retry_after: Duration) -> usize {
        self.sent
            .iter()
            .filter(|s| {
                self.throttled
                    .iter()
                    .any(|t| **s > *t && **s < *t + retry_after)
            })
            .count()
    }

    /// A timeline for failure messages: `s` sends and `T` 429s, in ms from the first send.
    pub fn timeline(&self) -> String {
        let Some(first) = self.sent.iter().min().copied() else {
            return String::new();
        };
        let mut ev: Vec<(Instant, char)> = self.sent.iter().map(|t| (*t, 's')).collect();
        ev.extend(self.throttled.iter().map(|t| (*t, 'T')));
        ev.sort();
        ev.iter()
            .map(|(t, c)| format!("{c}{}", t.duration_since(first).as_millis()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Send instants after the last 429 (all of them when there was none).
    pub fn after_last_429(&self) -> Vec<Instant> {
        let last = self.throttled.iter().max().copied();
        self.sent
            .iter()
            .filter(|s| last.is_none_or(|l| **s > l))
            .copied()
            .collect()
    }
}

/// Most instants of `times` inside any window of length `window`.
pub fn max_in_window(times: &[Instant], window: Duration) -> usize {
    let mut t: Vec<Instant> = times.to_vec();
    t.sort();
    let mut best = 0;
    let mut start = 0;
    for end in 0..t.len() {
        while t[end].duration_since(t[start]) >= window {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    best
}

/// A tracing layer filling a shared [`Sends`].
#[derive(Clone, Default)]
pub struct SendLog(Arc<Mutex<Sends>>);

impl SendLog {
    /// A copy of what has been logged so far.
    pub fn snapshot(&self) -> Sends {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Forgets everything logged so far.
    pub fn clear(&self) {
        if let Ok(mut s) = self.0.lock() {
            *s = Sends::default();
        }
    }
}

struct Status(Option<u64>);

impl Visit for Status {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "status" {
            self.0 = Some(value);
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "status" {
            self.0 = u64::try_from(value).ok();
        }
    }
    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for SendLog {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        if attrs.metadata().name() == "biolm.attempt" {
            if let Ok(mut s) = self.0.lock() {
                s.sent.push(Instant::now());
            }
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let now = Instant::now();
        let is_attempt = ctx
            .span(id)
            .is_some_and(|s| s.metadata().name() == "biolm.attempt");
        if !is_attempt {
            return;
        }
        let mut status = Status(None);
        values.record(&mut status);
        if let (Some(code), Ok(mut s)) = (status.0, self.0.lock()) {
            if code == 429 {
                s.throttled.push(now);
            } else {
                s.other += 1;
            }
        }
    }
}
