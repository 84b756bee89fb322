//! Retry policy: which failures are retried, how long to wait, how often.

use std::time::{Duration, SystemTime};

/// How failed requests are retried.
///
/// Retried: connection and read errors, timeouts, HTTP 429, 502, 503 and 504
/// (and a 2xx whose body ends early). Never retried: 400, 401, 403, 404, 422
/// or any other status. Waits grow exponentially from `initial_backoff`,
/// capped at `max_backoff`, with full jitter; a `Retry-After` header (seconds
/// or an HTTP date) is honoured up to `max_retry_after`.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per request, the first one included (1 = never retry).
    pub max_attempts: u32,
    /// Upper bound of the first wait.
    pub initial_backoff: Duration,
    /// Upper bound of any wait computed by backoff.
    pub max_backoff: Duration,
    /// Longest `Retry-After` honoured; longer ones are cut to this.
    pub max_retry_after: Duration,
    /// Whether `generate` calls without a `seed` param are retried (a retry may
    /// produce different samples than a lost first attempt would have).
    pub retry_unseeded_generate: bool,
    /// Whether to stop retrying connection failures once the server looks
    /// down: after one request has used up all its attempts on connection
    /// failures while the server answered nothing, further connection failures
    /// fail their batch at once (until the server answers again), so a large
    /// call against a stopped server or a wrong URL fails in seconds, not
    /// after every batch's full backoff. Timeouts are not connection failures
    /// and are always retried.
    pub fail_fast_when_unreachable: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            retry_unseeded_generate: true,
            fail_fast_when_unreachable: true,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The backoff bound before retry number `retry` (1 = first retry):
    /// `min(max_backoff, initial_backoff * 2^(retry-1))`.
    pub fn backoff_cap(&self, retry: u32) -> Duration {
        let shift = retry.saturating_sub(1).min(30);
        self.initial_backoff
            .checked_mul(1u32 << shift)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }

    /// The wait before retry number `retry`: a uniformly random duration in
    /// `[0, backoff_cap(retry)]` drawn from `random` (full jitter).
    pub fn backoff(&self, retry: u32, random: u64) -> Duration {
        let cap = self.backoff_cap(retry).as_nanos() as u64;
        if cap == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(random % (cap + 1))
    }
}

/// Whether an HTTP status is retried.
pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// Parses a `Retry-After` value: delay seconds (`"120"`, `"1.5"`) or an HTTP date,
/// relative to `now`. Dates in the past give zero. Garbage gives `None`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(86_400.0)));
        }
        return None;
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_and_is_capped() {
        let p = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        assert_eq!(p.backoff_cap(1), Duration::from_millis(100));
        assert_eq!(p.backoff_cap(2), Duration::from_millis(200));
        assert_eq!(p.backoff_cap(4), Duration::from_millis(800));
        assert_eq!(p.backoff_cap(5), Duration::from_millis(1000));
        assert_eq!(p.backoff_cap(60), Duration::from_millis(1000));
    }

    #[test]
    fn backoff_has_full_jitter_within_the_cap() {
        let p = RetryPolicy::default();
        let cap = p.backoff_cap(3);
        let mut seen_low = false;
        let mut seen_high = false;
        for i in 0..2000u64 {
            let d = p.backoff(3, crate::clock::jitter_u64().wrapping_add(i));
            assert!(d <= cap, "{d:?} > {cap:?}");
            seen_low |= d < cap / 4;
            seen_high |= d > cap * 3 / 4;
        }
        assert!(
            seen_low && seen_high,
            "jitter does not spread over [0, cap]"
        );
        assert_eq!(p.backoff(3, 0), Duration::ZERO);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        let later = now + Duration::from_secs(30);
        let date = httpdate::fmt_http_date(later);
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn retryable_statuses() {
        for s in [429, 502, 503, 504] {
            assert!(retryable_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 422, 500, 501] {
            assert!(!retryable_status(s), "{s}");
        }
    }
}
