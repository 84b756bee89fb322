//! Client-side rate limiting: a sliding window per limit, the pause a 429's
//! `Retry-After` asks for, and an adaptive sending rate for throttling servers.
//!
//! How a 429 is answered (see `Adaptive`):
//! - Its `Retry-After` (or the backoff when it has none) pauses every send of
//!   the client until that instant, measured from when the 429 arrived. A
//!   pause is never extended beyond `max(the pause already running, this
//!   429's own wait)`: pauses do not add up.
//! - When 429s keep coming at the rate the client is sending, the server
//!   has a rate limit: the client lowers its own sending rate below the rate
//!   the server accepted over the last second (multiplicative decrease), then
//!   raises it again along a cubic curve (slow near the rate that drew the
//!   429, faster beyond it), as TCP CUBIC and smithy-rs's adaptive retry mode
//!   do; the cap is dropped once it is well above that rate.
//! - A 429 that comes while the client sends slower than a rate the server
//!   had accepted is no rate limit (a random refusal): the lowered rate is
//!   dropped at once, and no further cut is made until the 429s have stopped
//!   for a while (the client then only honours each `Retry-After`).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use crate::clock::{self, Instant};

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

/// A sliding window: the send times of the last `max` requests.
#[derive(Debug)]
pub(crate) struct Window {
    limit: RateLimit,
    sends: VecDeque<Instant>,
}

impl Window {
    pub(crate) fn new(limit: RateLimit) -> Window {
        Window {
            limit,
            sends: VecDeque::with_capacity(limit.max.min(4096) as usize),
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
        if self.sends.len() < self.limit.max as usize {
            None
        } else {
            self.sends.front().map(|&first| first + self.limit.per)
        }
    }

    /// Records a send at `now` (call only after `next_allowed(now)` gave `None`).
    pub(crate) fn record(&mut self, now: Instant) {
        self.sends.push_back(now);
    }
}

/// Multiplicative decrease: a cut sends at this share of the accepted rate.
const BETA: f64 = 0.95;
/// Seconds the cubic takes to climb back to the rate that drew the 429.
const CUBIC_K: f64 = 15.0;
/// The cap is dropped once it is this many times the rate that drew the 429.
const DROP_AT: f64 = 2.0;
/// A 429 while the cap is below this share of the rate the server had accepted
/// in a second is no per-second rate limit (the cubic gets there after 4 s).
const CONTRADICTION: f64 = 0.98;
/// How long the rate is measured over (and the client must have been sending
/// for) before a cut.
const MEASURE: Duration = Duration::from_secs(1);
/// The first hold after a random 429 (doubled at each further contradiction);
/// every 429 during a hold makes it last at least this long from then on.
const HOLD: Duration = Duration::from_secs(10);
/// The longest hold a contradiction sets.
const MAX_HOLD: Duration = Duration::from_secs(160);

/// A lowered sending rate after a cut.
#[derive(Debug, Clone, Copy)]
struct Cut {
    /// Requests per second the server accepted in the second before the 429.
    accepted: f64,
    /// When the cut was made.
    at: Instant,
}

impl Cut {
    /// The cap `now`: `accepted + c (t - K)^3`, `BETA * accepted` at the cut.
    fn cap(&self, now: Instant) -> f64 {
        let t = now.saturating_duration_since(self.at).as_secs_f64() - CUBIC_K;
        let c = self.accepted * (1.0 - BETA) / CUBIC_K.powi(3);
        (self.accepted + c * t.powi(3)).max(0.5)
    }
}

/// The client's adaptive sending rate: no cap until 429s show a rate limit.
#[derive(Debug)]
pub(crate) struct Adaptive {
    cut: Option<Cut>,
    /// The earliest next send under the cap.
    next_slot: Option<Instant>,
    /// Replies other than 429 in the last [`MEASURE`].
    accepted: VecDeque<Instant>,
    /// The first send: before a full [`MEASURE`] of sending, no cut.
    first_send: Option<Instant>,
    /// 429s arriving before this instant belong to the episode that set it.
    episode_until: Option<Instant>,
    /// No cut before this instant (429s were found to be random).
    hold_until: Option<Instant>,
    hold: Duration,
}

impl Default for Adaptive {
    fn default() -> Self {
        Adaptive {
            cut: None,
            next_slot: None,
            accepted: VecDeque::new(),
            first_send: None,
            episode_until: None,
            hold_until: None,
            hold: HOLD,
        }
    }
}

impl Adaptive {
    /// The cap in requests per second at `now`, if any.
    pub(crate) fn cap(&mut self, now: Instant) -> Option<f64> {
        let cut = self.cut?;
        let cap = cut.cap(now);
        if cap >= DROP_AT * cut.accepted {
            self.cut = None;
            self.next_slot = None;
            return None;
        }
        Some(cap)
    }

    /// When a send is allowed: `None` = now.
    pub(crate) fn next_allowed(&mut self, now: Instant) -> Option<Instant> {
        self.cap(now)?;
        self.next_slot.filter(|t| *t > now)
    }

    /// Records a send at `now`.
    pub(crate) fn record(&mut self, now: Instant) {
        self.first_send.get_or_insert(now);
        if let Some(cap) = self.cap(now) {
            let interval = Duration::from_secs_f64(1.0 / cap);
            // A send a little late (timers wake up to a millisecond late) keeps
            // its slot, so the rate stays the cap; after a longer idle it
            // restarts from now (no burst).
            let from = match self.next_slot {
                Some(t) if t + interval > now => t,
                _ => now,
            };
            self.next_slot = Some(from + interval);
        }
    }

    /// A reply other than 429 arrived at `now`.
    pub(crate) fn answered(&mut self, now: Instant) {
        self.accepted.push_back(now);
        self.trim(now);
    }

    fn trim(&mut self, now: Instant) {
        while self
            .accepted
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= MEASURE)
        {
            self.accepted.pop_front();
        }
        // A burst of replies is bounded by what was sent; keep memory bounded too.
        while self.accepted.len() > 1_000_000 {
            self.accepted.pop_front();
        }
    }

    /// A 429 arrived at `now`, pausing the client until `until`.
    pub(crate) fn throttled(&mut self, now: Instant, until: Instant) {
        self.trim(now);
        let new_episode = self.episode_until.is_none_or(|e| now >= e);
        self.episode_until = Some(self.episode_until.map_or(until, |e| e.max(until)));
        if !new_episode {
            // A request that was in flight when the episode's first 429 came.
            return;
        }
        let sending_long_enough = self
            .first_send
            .is_some_and(|f| now.saturating_duration_since(f) >= MEASURE);
        if !sending_long_enough {
            return;
        }
        if let Some(cut) = self.cut {
            if cut.cap(now) < CONTRADICTION * cut.accepted {
                // Refused while sending slower than a rate the server had
                // accepted: not a rate limit. Drop the cap, hold further cuts.
                self.cut = None;
                self.next_slot = None;
                self.hold_until = Some(now + self.hold);
                self.hold = (self.hold * 2).min(MAX_HOLD);
                return;
            }
            // The lowered rate held until the cap climbed back: a rate limit.
            self.hold = HOLD;
        }
        if let Some(h) = self.hold_until.filter(|h| now < *h) {
            // Random 429s are suspected until they stop for a whole hold.
            self.hold_until = Some(h.max(now + HOLD));
            return;
        }
        self.hold_until = None;
        let measured = (self.accepted.len() as f64 / MEASURE.as_secs_f64()).max(1.0);
        // Never above the cap that drew this 429.
        let accepted = self
            .cut
            .map_or(measured, |c| measured.min(c.cap(now).max(1.0)));
        self.cut = Some(Cut { accepted, at: now });
        self.next_slot = Some(until);
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
        let t1 = start + Duration::from_millis(300);
        assert!(w.next_allowed(t1).is_none());
        w.record(t1);
        assert_eq!(w.next_allowed(t1), Some(start + Duration::from_secs(1)));
        assert!(w.next_allowed(start + Duration::from_secs(1)).is_none());
    }

    #[test]
    fn pacer_pause_blocks_every_key_and_limits_combine() {
        let p = Pacer::new(Some(RateLimit {
            max: 3,
            per: Duration::from_secs(1),
        }));
        let t0 = Instant::now();
        let action = Some(RateLimit {
            max: 1,
            per: Duration::from_secs(1),
        });
        assert!(p.try_acquire("a", action, t0).is_none());
        // action limit of "a" is used up, "b" still has room in the global window
        assert_eq!(
            p.try_acquire("a", action, t0),
            Some(t0 + Duration::from_secs(1))
        );
        assert!(p.try_acquire("b", None, t0).is_none());
        assert!(p.try_acquire("b", None, t0).is_none());
        // global limit (3) reached
        assert_eq!(
            p.try_acquire("b", None, t0),
            Some(t0 + Duration::from_secs(1))
        );
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
        // 6 sends at 2 per 10 s: the 5th and 6th go at t0 + 20 s
        assert_eq!(clock::now() - t0, Duration::from_secs(20));
    }

    /// `n` sends at `per_second`, each answered (not 429) at once, from `t`;
    /// returns the instant after the last.
    fn steady(a: &mut Adaptive, t: Instant, per_second: f64, n: usize) -> Instant {
        let step = Duration::from_secs_f64(1.0 / per_second);
        let mut now = t;
        for _ in 0..n {
            a.record(now);
            a.answered(now);
            now += step;
        }
        now
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

    /// A 429 in the first second of sending (one random refusal) cuts nothing.
    #[test]
    fn an_early_429_cuts_nothing() {
        let mut a = Adaptive::default();
        let t0 = Instant::now();
        let t = steady(&mut a, t0, 1000.0, 500);
        a.throttled(t, t + secs(1.0));
        assert_eq!(a.cap(t), None);
    }

    /// A 429 after a second of sending cuts the rate to 90% of what the server
    /// accepted in the last second; the cap climbs back to that rate after
    /// 15 s (cubic) and is dropped once twice that rate.
    #[test]
    fn a_cut_climbs_back_and_is_dropped() {
        let mut a = Adaptive::default();
        let t0 = Instant::now();
        let t = steady(&mut a, t0, 100.0, 200);
        a.throttled(t, t + secs(1.0));
        let cap = a.cap(t).unwrap();
        assert!((93.0..=96.0).contains(&cap), "{cap}");
        // sends are spaced at the cap
        let after = t + secs(1.0);
        assert_eq!(a.next_allowed(t), Some(after));
        a.record(after);
        let next = a.next_allowed(after).unwrap();
        assert!(
            (next - after).as_secs_f64() > 1.0 / 97.0,
            "{:?}",
            next - after
        );
        let at_k = a.cap(t + secs(CUBIC_K)).unwrap();
        assert!((at_k - 100.0).abs() < 1.5, "{at_k}");
        assert!(a.cap(t + secs(20.0)).unwrap() < 102.0);
        assert_eq!(a.cap(t + secs(60.0)), None);
        assert_eq!(a.next_allowed(t + secs(60.0)), None);
    }

    /// A 429 while sending slower than the rate the server had accepted is
    /// no rate limit: the cap is dropped at once, and further 429s make no
    /// cut until they have stopped for a hold (10 s).
    #[test]
    fn a_429_below_the_accepted_rate_drops_the_cap_and_holds_cuts() {
        let mut a = Adaptive::default();
        let t0 = Instant::now();
        let t = steady(&mut a, t0, 100.0, 200);
        a.throttled(t, t + secs(1.0));
        assert!(a.cap(t).is_some());
        let t = steady(&mut a, t + secs(1.0), 80.0, 40);
        a.throttled(t, t + secs(1.0));
        assert_eq!(a.cap(t), None, "random 429s: no cap");
        // 429s every 3 s keep the hold going past its first 10 s
        let mut now = t;
        for _ in 0..6 {
            now = steady(&mut a, now + secs(1.0), 200.0, 400);
            a.throttled(now, now + secs(1.0));
            assert_eq!(a.cap(now), None);
        }
        // quiet for more than the hold: the next 429 cuts again
        let now = steady(&mut a, now + secs(1.0), 100.0, 1200);
        a.throttled(now, now + secs(1.0));
        assert!(a.cap(now).is_some());
    }

    /// Under a rate limit the cut is repeated when the cap climbs back to it:
    /// a 429 at or above the accepted rate is no contradiction.
    #[test]
    fn a_429_at_the_accepted_rate_cuts_again() {
        let mut a = Adaptive::default();
        let t0 = Instant::now();
        let t = steady(&mut a, t0, 100.0, 200);
        a.throttled(t, t + secs(1.0));
        let t2 = steady(&mut a, t + secs(1.0), 101.0, 2000);
        a.throttled(t2, t2 + secs(1.0));
        let cap = a.cap(t2).unwrap();
        assert!((90.0..=96.0).contains(&cap), "{cap}");
        assert!(a.hold_until.is_none());
    }
}
