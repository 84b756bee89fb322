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

/// Whether an error reply that names no item makes the engine re-send the
/// batch's items one by one (to find the one at fault) rather than fail them all.
pub(crate) fn resend_each_status(status: u16) -> bool {
    matches!(status, 400 | 413 | 422 | 500)
}

/// What one attempt came to, as the retry policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tried {
    /// Could not connect.
    Connect,
    /// The request or the connection timed out.
    Timeout,
    /// The connection broke while sending or reading.
    Broken,
    /// The reply was larger than the client's limit.
    TooLarge,
    /// A complete reply with this status.
    Status(u16),
    /// A 2xx reply whose body is not complete JSON.
    Unreadable,
}

/// One attempt's result and where the batch stands.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempted {
    /// What the attempt came to.
    pub tried: Tried,
    /// This attempt's number (1 = the first send).
    pub attempt: u32,
    /// Attempts allowed for this batch (1 when the call may not be retried).
    pub max_attempts: u32,
    /// Whether the server looks down (a request used up its attempts on
    /// connection failures and no reply came since).
    pub server_unreachable: bool,
    /// The reply's `Retry-After`, parsed.
    pub retry_after: Option<Duration>,
}

/// Why the policy gives up on a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GiveUp {
    /// Not worth retrying (a reply over the size limit would be as large again).
    NotRetryable,
    /// Every attempt was used.
    Exhausted,
    /// Connection failures while the server looks down: failed at once.
    Unreachable,
    /// The first attempt failed and this call is not retried.
    NoRetries,
}

/// The policy's verdict on one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The reply is final: read it (results, or errors mapped to items).
    Read,
    /// Send again after this wait.
    Retry(Duration),
    /// Fail the batch; `mark_unreachable` when this batch shows the server is
    /// down (it used up several attempts on connection failures).
    GiveUp {
        /// Why.
        why: GiveUp,
        /// Whether to mark the server unreachable (fail-fast for the others).
        mark_unreachable: bool,
    },
}

impl RetryPolicy {
    /// The retry table: what to do after one attempt. `random` draws the
    /// backoff's jitter. This is the one place that decides retries and the
    /// fail-fast rule; the engine only carries the verdict out.
    pub(crate) fn classify(&self, a: &Attempted, random: u64) -> Verdict {
        let retryable = match a.tried {
            Tried::Status(s) => retryable_status(s),
            Tried::TooLarge => {
                return Verdict::GiveUp {
                    why: GiveUp::NotRetryable,
                    mark_unreachable: false,
                }
            }
            Tried::Connect | Tried::Timeout | Tried::Broken | Tried::Unreadable => true,
        };
        if !retryable {
            return Verdict::Read;
        }
        let connect = a.tried == Tried::Connect;
        let exhausted = a.attempt >= a.max_attempts;
        // Only a request that had retries, and used them all, tells that the
        // server is down (not one blip on a request that is never retried).
        let mark_unreachable = connect && exhausted && a.max_attempts > 1;
        if exhausted {
            let why = if a.attempt > 1 {
                GiveUp::Exhausted
            } else {
                GiveUp::NoRetries
            };
            return Verdict::GiveUp {
                why,
                mark_unreachable,
            };
        }
        if connect && self.fail_fast_when_unreachable && a.server_unreachable {
            return Verdict::GiveUp {
                why: GiveUp::Unreachable,
                mark_unreachable: false,
            };
        }
        let wait = a
            .retry_after
            .map(|d| d.min(self.max_retry_after))
            .unwrap_or_else(|| self.backoff(a.attempt, random));
        Verdict::Retry(wait)
    }
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

    type Row = (Tried, u32, u32, bool, Option<Duration>, Verdict);

    /// The retry table, row by row: (what the attempt came to, attempt number,
    /// attempts allowed, server looks down, Retry-After) -> verdict. Backoff
    /// is pinned to zero (`random = 0`) so waits read as Retry-After or 0.
    #[test]
    fn the_retry_table() {
        use GiveUp::*;
        use Tried::*;
        let p = RetryPolicy::default();
        let s = Duration::from_secs;
        let give_up = |why, mark_unreachable| Verdict::GiveUp {
            why,
            mark_unreachable,
        };
        #[rustfmt::skip]
        let table: &[Row] = &[
            // Final replies are read, whatever the attempt.
            (Status(200), 1, 4, false, None, Verdict::Read),
            (Status(400), 1, 4, false, None, Verdict::Read),
            (Status(401), 1, 4, false, None, Verdict::Read),
            (Status(404), 2, 4, false, None, Verdict::Read),
            (Status(422), 1, 4, false, None, Verdict::Read),
            (Status(500), 1, 4, false, None, Verdict::Read),
            // Transient failures wait and retry: Retry-After, capped, else backoff.
            (Status(429), 1, 4, false, Some(s(7)), Verdict::Retry(s(7))),
            (Status(503), 2, 4, false, Some(s(900)), Verdict::Retry(s(300))),
            (Status(502), 1, 4, false, None, Verdict::Retry(Duration::ZERO)),
            (Status(504), 3, 4, true, None, Verdict::Retry(Duration::ZERO)),
            (Timeout, 1, 4, true, None, Verdict::Retry(Duration::ZERO)),
            (Broken, 1, 4, false, None, Verdict::Retry(Duration::ZERO)),
            (Unreadable, 1, 4, false, None, Verdict::Retry(Duration::ZERO)),
            (Connect, 1, 4, false, None, Verdict::Retry(Duration::ZERO)),
            // Too large: never retried.
            (TooLarge, 1, 4, false, None, give_up(NotRetryable, false)),
            // Used up: give up; connection failures then mark the server down.
            (Status(503), 4, 4, false, None, give_up(Exhausted, false)),
            (Timeout, 4, 4, false, None, give_up(Exhausted, false)),
            (Connect, 4, 4, false, None, give_up(Exhausted, true)),
            // A call that is never retried says so, and one blip marks nothing.
            (Status(503), 1, 1, false, None, give_up(NoRetries, false)),
            (Connect, 1, 1, false, None, give_up(NoRetries, false)),
            // Fail fast: connection failures while the server looks down.
            (Connect, 1, 4, true, None, give_up(Unreachable, false)),
            (Connect, 4, 4, true, None, give_up(Exhausted, true)),
        ];
        for &(tried, attempt, max_attempts, server_unreachable, retry_after, want) in table {
            let a = Attempted {
                tried,
                attempt,
                max_attempts,
                server_unreachable,
                retry_after,
            };
            assert_eq!(p.classify(&a, 0), want, "{a:?}");
        }
        // Without fail-fast, connection failures are retried while attempts last.
        let patient = RetryPolicy {
            fail_fast_when_unreachable: false,
            ..RetryPolicy::default()
        };
        let a = Attempted {
            tried: Connect,
            attempt: 1,
            max_attempts: 4,
            server_unreachable: true,
            retry_after: None,
        };
        assert_eq!(patient.classify(&a, 0), Verdict::Retry(Duration::ZERO));
        for st in [400, 413, 422, 500] {
            assert!(resend_each_status(st), "{st}");
        }
        for st in [401, 403, 404, 405, 409, 501] {
            assert!(!resend_each_status(st), "{st}");
        }
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
