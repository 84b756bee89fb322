//! The client's adaptive sending rate: no cap until 429s show a rate limit,
//! then a cut below the rate the server accepted and a cubic climb back.
//!
//! - The first 429 of an episode, once the client has sent for a whole
//!   [`MEASURE`], cuts the rate to [`BETA`] times the requests the server
//!   accepted over the last [`MEASURE`] and paces sends at the cap; the cap
//!   climbs back along a cubic (slow near that rate, faster beyond it) and
//!   is dropped once well above it, as TCP CUBIC and smithy-rs's adaptive
//!   retry mode do. (A 429 sooner cuts nothing: what the server took so far
//!   says little, and a cut to it after one random refusal of the first
//!   request would crawl at 1 request/s.)
//! - A 429 while the cap is still below the rate that drew the cut is a
//!   *doubt*: either other clients share the limit and took more of it, or
//!   the server refuses at random. The first doubt cuts again (right for a
//!   shared limit); a second one in a row is taken as random refusals: the
//!   cap is dropped and no further cut is made until the 429s stop for a
//!   hold. A 429 at or above the rate of the cut confirms a rate limit and
//!   clears the doubts. (Dropping at the first doubt, as before, made shards
//!   sharing one limit take each other's 429s for random ones, send
//!   uncapped and pass it on to the others: README, "429s".)

use std::collections::VecDeque;
use std::time::Duration;

use crate::clock::Instant;

/// Multiplicative decrease: a cut sends at this share of the accepted rate.
const BETA: f64 = 0.95;
/// Seconds the cubic takes to climb back to the rate that drew the 429.
const CUBIC_K: f64 = 15.0;
/// The cap is dropped once it is this many times the rate that drew the 429.
const DROP_AT: f64 = 2.0;
/// A 429 while the cap is below this share of the rate of the cut is a
/// doubt, not a confirmation (the cubic gets there after 4 s).
const CONTRADICTION: f64 = 0.98;
/// Doubts in a row that make the 429s random refusals.
const DOUBTS: u32 = 2;
/// How long the accepted rate is measured over.
const MEASURE: Duration = Duration::from_secs(1);
/// The first hold after random 429s (doubled at each further finding);
/// every 429 during a hold makes it last at least this long from then on.
const HOLD: Duration = Duration::from_secs(10);
/// The longest hold a finding of random 429s sets.
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

/// The client's adaptive sending rate (see the module's documentation).
#[derive(Debug)]
pub(crate) struct Adaptive {
    cut: Option<Cut>,
    /// The earliest next send under the cap.
    next_slot: Option<Instant>,
    /// Replies other than 429 in the last [`MEASURE`].
    accepted: VecDeque<Instant>,
    /// 429s arriving before this instant belong to the episode that set it.
    episode_until: Option<Instant>,
    /// The first send: before a full [`MEASURE`] of sending, no cut.
    first_send: Option<Instant>,
    /// 429s in a row that came while the cap was below the rate of its cut.
    doubts: u32,
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
            episode_until: None,
            first_send: None,
            doubts: 0,
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
            self.doubts = 0;
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
                self.doubts += 1;
                if self.doubts >= DOUBTS {
                    // Refused again while sending slower than a rate the
                    // server had accepted: random refusals, not a rate
                    // limit. Drop the cap, hold further cuts.
                    self.cut = None;
                    self.next_slot = None;
                    self.doubts = 0;
                    self.hold_until = Some(now + self.hold);
                    self.hold = (self.hold * 2).min(MAX_HOLD);
                    return;
                }
            } else {
                // The lowered rate held until the cap climbed back: a rate limit.
                self.doubts = 0;
                self.hold = HOLD;
            }
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

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests measure the paused clock directly
mod tests {
    use super::*;

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

    /// A 429 while sending slower than the rate of the cut is a doubt: the
    /// first cuts again (other clients may share the limit), the second in a
    /// row drops the cap (random refusals), and further 429s make no cut
    /// until they have stopped for a hold (10 s).
    #[test]
    fn two_429s_below_the_accepted_rate_drop_the_cap_and_hold_cuts() {
        let mut a = Adaptive::default();
        let t0 = Instant::now();
        let t = steady(&mut a, t0, 100.0, 200);
        a.throttled(t, t + secs(1.0));
        let first = a.cap(t).unwrap();
        let t = steady(&mut a, t + secs(1.0), 80.0, 40);
        a.throttled(t, t + secs(1.0));
        let second = a.cap(t).expect("one doubt cuts again");
        assert!(second < first * 0.9, "{second} after {first}");
        let t = steady(&mut a, t + secs(1.0), 60.0, 40);
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

    /// A doubt followed by a 429 at the rate of the cut (a confirmed rate
    /// limit) is forgotten: the next doubt cuts again instead of dropping.
    #[test]
    fn a_confirmed_rate_limit_clears_the_doubt() {
        let mut a = Adaptive::default();
        let t0 = Instant::now();
        let t = steady(&mut a, t0, 100.0, 200);
        a.throttled(t, t + secs(1.0));
        let t = steady(&mut a, t + secs(1.0), 80.0, 40);
        a.throttled(t, t + secs(1.0));
        assert_eq!(a.doubts, 1);
        // the cap climbs back to the cut's rate, and a 429 there confirms it
        let t = steady(&mut a, t + secs(CUBIC_K), 80.0, 200);
        a.throttled(t, t + secs(1.0));
        assert_eq!(a.doubts, 0);
        let t = steady(&mut a, t + secs(1.0), 60.0, 40);
        a.throttled(t, t + secs(1.0));
        assert!(a.cap(t).is_some(), "one doubt again: a cut, not a drop");
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
