//! Sliding-window rate limits: the server-wide `--throttle` and, when asked,
//! each action's `throttle_rate` from its schema.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A sliding-window limiter: at most `limit` calls in any `window`.
pub(crate) struct Window {
    limit: usize,
    window: Duration,
    accepted: VecDeque<Instant>,
}

impl Window {
    pub(crate) fn new(per_second: f64) -> Window {
        let limit = per_second.floor().max(1.0) as usize;
        let window = Duration::from_secs_f64(limit as f64 / per_second.max(1e-6));
        Window {
            limit,
            window,
            accepted: VecDeque::with_capacity(limit.min(4096)),
        }
    }

    /// `Ok` when a call may go now, else how long until one may.
    pub(crate) fn admit(&mut self, now: Instant) -> Result<(), Duration> {
        while self
            .accepted
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            self.accepted.pop_front();
        }
        if self.accepted.len() < self.limit {
            self.accepted.push_back(now);
            return Ok(());
        }
        let oldest = self.accepted.front().copied().unwrap_or(now);
        Err(self.window.saturating_sub(now.duration_since(oldest)))
    }

    /// At most `limit` calls per `window`.
    pub(crate) fn with_limit(limit: usize, window: Duration) -> Window {
        Window {
            limit: limit.max(1),
            window,
            accepted: VecDeque::with_capacity(limit.clamp(1, 4096)),
        }
    }
}

/// [`Window::admit`] now, on a window shared between connections (a poisoned
/// lock admits the call rather than failing it).
pub(crate) fn admit_now(window: &Mutex<Window>) -> Result<(), Duration> {
    window
        .lock()
        .map(|mut w| w.admit(Instant::now()))
        .unwrap_or(Ok(()))
}

/// Parses a schema's `throttle_rate` (`"20/second"`, `"600/minute"`, `"1000/hour"`, `"5000/day"`).
pub(crate) fn parse_rate(rate: &str) -> Option<(usize, Duration)> {
    let (n, unit) = rate.trim().split_once('/')?;
    let n: usize = n.trim().parse().ok().filter(|n| *n > 0)?;
    let secs = match unit.trim() {
        "s" | "sec" | "second" => 1,
        "m" | "min" | "minute" => 60,
        "h" | "hour" => 3600,
        "d" | "day" => 86_400,
        _ => return None,
    };
    Some((n, Duration::from_secs(secs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        assert_eq!(parse_rate("20/second"), Some((20, Duration::from_secs(1))));
        assert_eq!(
            parse_rate("600/minute"),
            Some((600, Duration::from_secs(60)))
        );
        assert_eq!(parse_rate("10/hour"), Some((10, Duration::from_secs(3600))));
        assert_eq!(parse_rate("0/second"), None);
        assert_eq!(parse_rate("fast"), None);
    }

    #[test]
    fn window_admits_limit_then_says_when() {
        let mut w = Window::with_limit(2, Duration::from_secs(1));
        let t0 = Instant::now();
        assert!(w.admit(t0).is_ok());
        assert!(w.admit(t0 + Duration::from_millis(100)).is_ok());
        assert_eq!(
            w.admit(t0 + Duration::from_millis(400)),
            Err(Duration::from_millis(600))
        );
        assert!(w.admit(t0 + Duration::from_millis(1000)).is_ok());
    }
}
