//! Client-side rate limiting: a sliding window per limit with its sends
//! spaced evenly, the pause a 429's `Retry-After` asks for, and an adaptive
//! sending rate for throttling servers (`adaptive.rs`).
//!
//! How a 429 is answered:
//! - Its `Retry-After` (or the backoff when it has none) pauses every send of
//!   the client until that instant, measured from when the 429 arrived. A
//!   pause is never extended beyond `max(the pause already running, this
//!   429's own wait)`: pauses do not add up.
//! - The adaptive rate learns from it: a cut below the rate the server
//!   accepted, a cubic climb back, and random refusals told apart from a
//!   rate limit (see `rate_limit/adaptive.rs`).
//!
//! Why sends are spaced: a sliding window alone lets a whole window's
//! requests out at once. Several clients sharing one server limit (shards of
//! one job) would then each send a burst at the start and after every pause,
//! and every request in flight when the server's window fills is refused.
//! Spaced at `per / max` (at most [`MAX_SPACING`] apart), a client has about
//! one request in flight when that happens.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use crate::clock::{self, Instant};

pub(crate) mod adaptive;

use adaptive::Adaptive;

/// The longest spacing between two sends a limit sets: a limit per minute or
/// hour still lets its first requests go within seconds.
pub const MAX_SPACING: Duration = Duration::from_secs(1);

/// At most `max` requests in any window of length `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window (at least 1).
    pub max: u32,
    /// Window length.
    pub per: Duration,
}

impl RateLimit {
    /// `max` requests per second.
    pub fn per_second(max: u32) -> RateLimit {
        RateLimit {
            max: max.max(1),
            per: Duration::from_secs(1),
        }
    }
    /// `max` requests per minute.
    pub fn per_minute(max: u32) -> RateLimit {
        RateLimit {
            max: max.max(1),
            per: Duration::from_secs(60),
        }
    }
    /// `max` requests per hour.
    pub fn per_hour(max: u32) -> RateLimit {
        RateLimit {
            max: max.max(1),
            per: Duration::from_secs(3600),
        }
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.per.as_secs() {
            1 if self.per.subsec_nanos() == 0 => write!(f, "{}/second", self.max),
            60 if self.per.subsec_nanos() == 0 => write!(f, "{}/minute", self.max),
            3600 if self.per.subsec_nanos() == 0 => write!(f, "{}/hour", self.max),
            _ => write!(f, "{}/{}ms", self.max, self.per.as_millis()),
        }
    }
}

/// A rate string that is not `N/second`, `N/minute` or `N/hour`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid rate limit {0:?}: write N/second, N/minute or N/hour (N >= 1), like \"20/second\""
)]
pub struct ParseRateLimitError(String);

impl FromStr for RateLimit {
    type Err = ParseRateLimitError;

    fn from_str(s: &str) -> Result<RateLimit, ParseRateLimitError> {
        let err = || ParseRateLimitError(s.to_owned());
        let (n, unit) = s.trim().split_once('/').ok_or_else(err)?;
        let max: u32 = n.trim().parse().map_err(|_| err())?;
        if max == 0 {
            return Err(err());
        }
        let per = match unit.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "second" | "seconds" => Duration::from_secs(1),
            "m" | "min" | "minute" | "minutes" => Duration::from_secs(60),
            "h" | "hour" | "hours" => Duration::from_secs(3600),
            "d" | "day" | "days" => Duration::from_secs(86_400),
            _ => return Err(err()),
        };
        Ok(RateLimit { max, per })
    }
}

/// A sliding window: the send times of the last `max` requests, and sends
/// spaced at least `per / max` apart (at most [`MAX_SPACING`]).
#[derive(Debug)]
pub(crate) struct Window {
    limit: RateLimit,
    sends: VecDeque<Instant>,
    spacing: Duration,
    /// The earliest next send by the spacing.
    next_slot: Option<Instant>,
}

impl Window {
    pub(crate) fn new(limit: RateLimit) -> Window {
        Window {
            limit,
            sends: VecDeque::with_capacity(limit.max.min(4096) as usize),
            spacing: (limit.per / limit.max.max(1)).min(MAX_SPACING),
            next_slot: None,
        }
    }

    /// When a send is allowed: `None` = now, `Some(t)` = not before `t`.
    pub(crate) fn next_allowed(&mut self, now: Instant) -> Option<Instant> {
        while let Some(&first) = self.sends.front() {
            if first + self.limit.per <= now {
                self.sends.pop_front();
            } else {
                break;
            }
        }
        let spaced = self.next_slot.filter(|t| *t > now);
        let windowed = if self.sends.len() < self.limit.max as usize {
            None
        } else {
            self.sends.front().map(|&first| first + self.limit.per)
        };
        match (spaced, windowed) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Records a send at `now` (call only after `next_allowed(now)` gave `None`).
    pub(crate) fn record(&mut self, now: Instant) {
        self.sends.push_back(now);
        // A send a little late keeps its slot (timers wake up late), so the
        // rate stays the limit; after a longer idle the spacing restarts.
        let from = match self.next_slot {
            Some(t) if t + self.spacing > now => t,
            _ => now,
        };
        self.next_slot = Some(from + self.spacing);
    }
}

#[derive(Debug, Default)]
struct PacerState {
    global: Option<Window>,
    per_action: HashMap<String, Window>,
    paused_until: Option<Instant>,
    adaptive: Adaptive,
}

/// Every rate limit of one client: the client-wide limit, one window per action
/// with a `throttle_rate`, and the pause after a 429.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    state: Mutex<PacerState>,
}

impl Pacer {
    pub(crate) fn new(global: Option<RateLimit>) -> Pacer {
        Pacer {
            state: Mutex::new(PacerState {
                global: global.map(Window::new),
                ..PacerState::default()
            }),
        }
    }

    /// Waits until one more request to `key` is allowed, and records it.
    pub(crate) async fn acquire(&self, key: &str, action_limit: Option<RateLimit>) {
        loop {
            let wait = self.try_acquire(key, action_limit, clock::now());
            match wait {
                None => return,
                Some(t) => clock::sleep_until(t).await,
            }
        }
    }

    /// Records a send if allowed at `now`; otherwise says when to try again.
    pub(crate) fn try_acquire(
        &self,
        key: &str,
        action_limit: Option<RateLimit>,
        now: Instant,
    ) -> Option<Instant> {
        let mut st = match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(p) = st.paused_until {
            if p > now {
                return Some(p);
            }
            st.paused_until = None;
        }
        let mut wait: Option<Instant> = st.adaptive.next_allowed(now);
        if let Some(t) = st.global.as_mut().and_then(|g| g.next_allowed(now)) {
            wait = Some(wait.map_or(t, |x| x.max(t)));
        }
        if let Some(limit) = action_limit {
            let w = st
                .per_action
                .entry(key.to_owned())
                .or_insert_with(|| Window::new(limit));
            if let Some(t) = w.next_allowed(now) {
                wait = Some(wait.map_or(t, |x| x.max(t)));
            }
        }
        if wait.is_some() {
            return wait;
        }
        if let Some(g) = st.global.as_mut() {
            g.record(now);
        }
        st.adaptive.record(now);
        if action_limit.is_some() {
            if let Some(w) = st.per_action.get_mut(key) {
                w.record(now);
            }
        }
        None
    }

    /// Pauses every send of the client until `until` (never shortening a
    /// pause already running, never extending it beyond `until`).
    #[cfg(test)]
    pub(crate) fn pause_until(&self, until: Instant) {
        let mut st = self.lock();
        st.paused_until = Some(st.paused_until.map_or(until, |p| p.max(until)));
    }

    /// A 429 arrived at `now` asking for `wait`: pauses every send until
    /// `now + wait` and lets the adaptive rate learn from it.
    pub(crate) fn throttled(&self, now: Instant, wait: Duration) {
        let until = now + wait;
        let mut st = self.lock();
        st.paused_until = Some(st.paused_until.map_or(until, |p| p.max(until)));
        st.adaptive.throttled(now, until);
    }

    /// A reply other than 429 arrived at `now`.
    pub(crate) fn answered(&self, now: Instant) {
        self.lock().adaptive.answered(now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PacerState> {
        match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests measure the paused clock directly
mod tests {
    use super::*;

    #[test]
    fn parses_rates() {
        assert_eq!(
            "20/second".parse::<RateLimit>().unwrap(),
            RateLimit::per_second(20)
        );
        assert_eq!(
            "600/minute".parse::<RateLimit>().unwrap(),
            RateLimit::per_minute(600)
        );
        assert_eq!(
            " 5 / hour ".parse::<RateLimit>().unwrap(),
            RateLimit::per_hour(5)
        );
        assert_eq!(
            "3/s".parse::<RateLimit>().unwrap(),
            RateLimit::per_second(3)
        );
        for bad in [
            "",
            "20",
            "0/second",
            "x/second",
            "20/fortnight",
            "-1/second",
        ] {
            let e = bad.parse::<RateLimit>().unwrap_err();
            assert!(e.to_string().contains("N/second"), "{e}");
        }
        assert_eq!(RateLimit::per_minute(600).to_string(), "600/minute");
    }

    /// Never more than N sends in any window of the limit's length, checked over
    /// a simulated second-by-millisecond timeline with greedy senders.
    #[test]
    fn sliding_window_never_exceeds_n_in_any_window() {
        let start = Instant::now();
        let limit = RateLimit {
            max: 5,
            per: Duration::from_millis(100),
        };
        let mut w = Window::new(limit);
        let mut sends = Vec::new();
        for ms in 0..1000u64 {
            let now = start + Duration::from_millis(ms);
            // up to 3 attempts per millisecond
            for _ in 0..3 {
                if w.next_allowed(now).is_none() {
                    w.record(now);
                    sends.push(ms);
                }
            }
        }
        for (i, &t) in sends.iter().enumerate() {
            let in_window = sends[i..].iter().take_while(|&&u| u < t + 100).count();
            assert!(in_window <= 5, "{in_window} sends in [{t}, {}) ms", t + 100);
        }
        // and it is not too conservative: 10 windows of 100 ms allow 50 sends
        assert_eq!(sends.len(), 50);
    }

    #[test]
    fn next_allowed_says_when() {
        let start = Instant::now();
        let mut w = Window::new(RateLimit {
            max: 2,
            per: Duration::from_secs(1),
        });
        assert!(w.next_allowed(start).is_none());
        w.record(start);
        // sends are spaced at per / max
        let t1 = start + Duration::from_millis(300);
        assert_eq!(w.next_allowed(t1), Some(start + Duration::from_millis(500)));
        let t1 = start + Duration::from_millis(500);
        assert!(w.next_allowed(t1).is_none());
        w.record(t1);
        assert_eq!(w.next_allowed(t1), Some(start + Duration::from_secs(1)));
        assert!(w.next_allowed(start + Duration::from_secs(1)).is_none());
    }

    /// A limit per hour spaces its sends [`MAX_SPACING`] apart, not an
    /// hour / max: its first requests still go within seconds.
    #[test]
    fn long_windows_space_sends_at_most_a_second_apart() {
        let start = Instant::now();
        let mut w = Window::new(RateLimit::per_hour(10));
        let mut now = start;
        for _ in 0..10 {
            while let Some(t) = w.next_allowed(now) {
                now = t;
            }
            w.record(now);
        }
        assert_eq!(now - start, Duration::from_secs(9));
        // the eleventh waits for the window
        assert_eq!(w.next_allowed(now), Some(start + Duration::from_secs(3600)));
    }

    /// Evenly spaced sends stay evenly spaced when each comes a little late
    /// (timers wake up late): the rate stays the limit.
    #[test]
    fn late_sends_keep_their_slots() {
        let start = Instant::now();
        let mut w = Window::new(RateLimit::per_second(20));
        let mut now = start;
        let mut sends = 0;
        while now < start + Duration::from_secs(10) {
            if let Some(t) = w.next_allowed(now) {
                now = t + Duration::from_millis(3);
                continue;
            }
            w.record(now);
            sends += 1;
        }
        assert!(
            (199..=201).contains(&sends),
            "{sends} sends in 10 s at 20/s"
        );
    }

    #[test]
    fn pacer_pause_blocks_every_key_and_limits_combine() {
        let p = Pacer::new(Some(RateLimit {
            max: 3,
            per: Duration::from_secs(1),
        }));
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let action = Some(RateLimit {
            max: 1,
            per: Duration::from_secs(1),
        });
        assert!(p.try_acquire("a", action, t0).is_none());
        // action limit of "a" is used up; "b" waits for the global spacing
        assert_eq!(p.try_acquire("a", action, t0), Some(ms(1000)));
        let third = Duration::from_secs(1) / 3;
        assert_eq!(p.try_acquire("b", None, t0), Some(t0 + third));
        assert!(p.try_acquire("b", None, t0 + third).is_none());
        assert!(p.try_acquire("b", None, t0 + 2 * third).is_none());
        // global limit (3) reached
        assert_eq!(p.try_acquire("b", None, ms(700)), Some(ms(1000)));
        let t2 = t0 + Duration::from_secs(2);
        p.pause_until(t2 + Duration::from_secs(5));
        assert_eq!(
            p.try_acquire("c", None, t2),
            Some(t2 + Duration::from_secs(5))
        );
        assert!(p
            .try_acquire("c", None, t2 + Duration::from_secs(5))
            .is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_waits_on_the_clock() {
        let p = Pacer::new(Some(RateLimit {
            max: 2,
            per: Duration::from_secs(10),
        }));
        let t0 = clock::now();
        for _ in 0..6 {
            p.acquire("x", None).await;
        }
        // 6 sends at 2 per 10 s, spaced 1 s (MAX_SPACING): at 0, 1, 10,
        // 11, 20 and 21 s
        assert_eq!(clock::now() - t0, Duration::from_secs(21));
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// Each 429 pauses every send until its own Retry-After from when it
    /// arrived: a later, shorter one does not shorten the pause, a later one
    /// ending later extends it to its own end, never beyond.
    #[test]
    fn a_429_pauses_until_its_own_retry_after_and_pauses_do_not_add_up() {
        let p = Pacer::new(None);
        let t0 = Instant::now();
        p.throttled(t0, secs(1.0));
        assert_eq!(p.try_acquire("a", None, t0), Some(t0 + secs(1.0)));
        p.throttled(t0 + secs(0.2), secs(0.1));
        assert_eq!(
            p.try_acquire("b", None, t0 + secs(0.5)),
            Some(t0 + secs(1.0))
        );
        p.throttled(t0 + secs(0.3), secs(1.0));
        assert_eq!(
            p.try_acquire("a", None, t0 + secs(0.5)),
            Some(t0 + secs(1.3))
        );
        assert!(p.try_acquire("a", None, t0 + secs(1.3)).is_none());
    }
}
