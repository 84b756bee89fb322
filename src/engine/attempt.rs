//! The attempts on one batch: send, read the reply, retry what is worth
//! retrying, and decide what the reply means for the batch's items.

use std::sync::atomic::Ordering;

use serde::de::DeserializeOwned;
use tokio::sync::OwnedSemaphorePermit;
use tracing::Instrument;

use super::observe::Observer;
use super::{build_body, CallCtx};
use crate::clock;
use crate::outcome::ItemErrorKind;
use crate::reply::{decode_body, Decision, ErrorReport, Failure};
use crate::retry::{parse_retry_after, Attempted, GiveUp, Tried, Verdict};
use crate::transport::{Prepared, TransportError};
use crate::validation::Entry;

/// Sends one batch with retries and decides what its reply means.
///
/// `body` is the batch's request body when the driver built it ahead (it is
/// built here otherwise).
///
/// `permit` is the batch's slot under the client's concurrency limit: it is
/// released as soon as a 2xx body has been read (so the next batch goes out
/// while this one is decoded) and taken again before any further attempt.
pub(super) async fn attempts<R: DeserializeOwned + 'static>(
    ctx: &CallCtx,
    entries: &[Entry],
    body: Option<Prepared>,
    permit: &mut Option<OwnedSemaphorePermit>,
) -> Decision<R> {
    let client = &ctx.client;
    let spec = ctx.spec.get();
    let policy = &client.retry;
    let body: Prepared = body.unwrap_or_else(|| {
        client
            .transport
            .prepare(build_body(entries, ctx.params_json.as_deref()))
    });
    let max_attempts = if ctx.may_retry {
        policy.max_attempts.max(1)
    } else {
        1
    };
    let reachability = &client.reachability;
    let since = reachability.mark();
    let observer = Observer::new(ctx);
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        if permit.is_none() {
            match client.semaphore.clone().acquire_owned().await {
                Ok(p) => *permit = Some(p),
                Err(_) => {
                    return Decision::FailAll(Failure {
                        kind: ItemErrorKind::Unavailable,
                        status: None,
                        request_id: None,
                        field: None,
                        message: "the client was shut down before this batch could be re-sent"
                            .into(),
                    })
                }
            }
        }
        client.pacer.acquire(&ctx.rate_key, ctx.throttle).await;
        client.stats.requests.fetch_add(1, Ordering::Relaxed);
        if attempt > 1 {
            client.stats.retries.fetch_add(1, Ordering::Relaxed);
        }
        let span = tracing::debug_span!("biolm.attempt", attempt, status = tracing::field::Empty);
        let hooked = observer.as_ref().map(|o| o.before(attempt, &body));
        let (extra, started) = match hooked {
            Some((headers, t0)) => (Some(headers), Some(t0)),
            None => (None, None),
        };
        let result = client
            .transport
            .post(&ctx.url, &body, ctx.timeout, extra)
            .instrument(span.clone())
            .await;
        if let (Some(o), Some(t0)) = (&observer, started) {
            o.after(attempt, t0, &result);
        }
        // Any HTTP status, even on a reply too large to read, shows the server is there.
        let status = match &result {
            Ok(reply) => Some(reply.status),
            Err(TransportError::TooLarge { status, .. }) => Some(*status),
            Err(_) => None,
        };
        if let Some(status) = status {
            span.record("status", status);
            reachability.replied();
            if status != 429 {
                client.pacer.answered(clock::now());
            }
        }
        let verdict = |tried, retry_after| {
            policy.classify(
                &Attempted {
                    tried,
                    attempt,
                    max_attempts,
                    server_unreachable: reachability.is_unreachable(),
                    retry_after,
                },
                clock::jitter_u64(),
            )
        };
        let (why, verdict) = match result {
            Err(TransportError::TooLarge {
                status,
                request_id,
                message,
            }) => (
                Failure {
                    kind: ItemErrorKind::BadResponse,
                    status: Some(status),
                    request_id,
                    field: None,
                    message,
                },
                verdict(Tried::TooLarge, None),
            ),
            Err(e) => {
                let (what, tried) = match &e {
                    TransportError::Connect(_) => ("could not connect", Tried::Connect),
                    TransportError::Timeout(_) => ("timed out", Tried::Timeout),
                    TransportError::Broken(_) | TransportError::TooLarge { .. } => {
                        ("lost the connection", Tried::Broken)
                    }
                };
                let why = format!("{what} to {} ({})", ctx.url, e.message());
                (
                    Failure {
                        kind: ItemErrorKind::Unavailable,
                        status: None,
                        request_id: None,
                        field: None,
                        message: why,
                    },
                    verdict(tried, None),
                )
            }
            Ok(reply) => {
                let status = reply.status;
                let rid = reply.request_id;
                if (200..300).contains(&status) {
                    // The body is read: free the slot, and let the call's
                    // driver send the next batch before this one is decoded
                    // (batches run on the driver's task).
                    *permit = None;
                    if let (Some(b), Some(e)) = (&ctx.budget, entries.first()) {
                        b.note_body(e.index, reply.body.len());
                    }
                    tokio::task::yield_now().await;
                    match decode_body::<R>(&reply.body, entries.len(), spec.multi_result) {
                        Ok(d) => return d.with_status(status, rid),
                        Err(syntax) => (
                            Failure {
                                kind: ItemErrorKind::BadResponse,
                                status: Some(status),
                                request_id: rid,
                                field: None,
                                message: not_json_message(
                                    reply.content_type.as_deref(),
                                    &reply.body,
                                    &syntax,
                                ),
                            },
                            verdict(Tried::Unreadable, None),
                        ),
                    }
                } else {
                    let ra = reply
                        .retry_after
                        .as_deref()
                        .and_then(|v| parse_retry_after(v, clock::wall_now()));
                    let v = verdict(Tried::Status(status), ra);
                    if v == Verdict::Read {
                        return decide_error(ctx, status, rid, &reply.body, entries.len());
                    }
                    if status == 429 {
                        let pause = ra
                            .map(|d| d.min(policy.max_retry_after))
                            .unwrap_or_else(|| policy.backoff(attempt, clock::jitter_u64()));
                        client.pacer.throttled(clock::now(), pause);
                    }
                    let message = match status {
                        429 => "the server kept rate-limiting the requests (429); lower the concurrency or set a rate limit".to_owned(),
                        _ => format!("the server was unavailable (HTTP {status}); try again later"),
                    };
                    (
                        Failure {
                            kind: ItemErrorKind::Unavailable,
                            status: Some(status),
                            request_id: rid,
                            field: None,
                            message,
                        },
                        v,
                    )
                }
            }
        };
        let wait = match verdict {
            Verdict::Retry(wait) => wait,
            // Replies to read returned above.
            Verdict::Read => return Decision::FailAll(why),
            Verdict::GiveUp {
                why: reason,
                mark_unreachable,
            } => {
                let mut f = why;
                if mark_unreachable {
                    reachability.gave_up_connecting(since);
                }
                match reason {
                    GiveUp::NotRetryable => {}
                    GiveUp::Unreachable => {
                        f.message = format!(
                            "{} (not retried: the server has answered no request since one used up its {max_attempts} attempts on connection failures; check the URL and the network, then run again)",
                            f.message
                        );
                    }
                    GiveUp::Exhausted => {
                        f.message = format!("{} (gave up after {attempt} attempts)", f.message);
                    }
                    GiveUp::NoRetries => {
                        if !ctx.may_retry && policy.max_attempts > 1 {
                            f.message = format!(
                                "{} (not retried: `generate` without a seed is excluded by the retry policy)",
                                f.message
                            );
                        }
                    }
                }
                return Decision::FailAll(f);
            }
        };
        if tracing::enabled!(tracing::Level::DEBUG) {
            // Log lines leave the process too: no token or URL secret in them.
            let reason = ctx.client.transport.redactor();
            let reason = reason.redact(&why.message);
            tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, reason = %reason, "retrying");
        }
        clock::sleep(wait).await;
    }
}

/// Why a 2xx body could not be read: a body that is not JSON at all (an HTML
/// page from a proxy, say) is named by its content type and its first words.
fn not_json_message(content_type: Option<&str>, body: &[u8], syntax: &str) -> String {
    let json_type = content_type.is_none_or(|t| {
        let t = t.to_ascii_lowercase();
        t.contains("json") || t.starts_with("text/plain")
    });
    if json_type {
        return format!("the server's reply is not complete JSON ({syntax})");
    }
    let start: String = String::from_utf8_lossy(&body[..body.len().min(200)])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "the server answered with Content-Type {} instead of JSON (a proxy or login page?); \
         the body starts: {start:?}",
        content_type.unwrap_or_default()
    )
}

/// A non-retryable error status.
fn decide_error<R>(
    ctx: &CallCtx,
    status: u16,
    rid: Option<String>,
    body: &[u8],
    n: usize,
) -> Decision<R> {
    let spec = ctx.spec.get();
    let fail = |kind, message: String| Failure {
        kind,
        status: Some(status),
        request_id: rid.clone(),
        field: None,
        message,
    };
    match status {
        401 => Decision::FailAll(fail(
            ItemErrorKind::Unauthorized,
            "the server refused the credentials (401): set BIOLM_TOKEN (or ClientBuilder::token) to a valid API token".into(),
        )),
        403 => Decision::FailAll(fail(
            ItemErrorKind::Unauthorized,
            format!(
                "the token is not allowed to use {}/{} (403): check the account's access to this model",
                spec.slug, spec.action
            ),
        )),
        404 => Decision::FailAll(fail(
            ItemErrorKind::NotFound,
            format!(
                "{} does not exist (404): check the base URL ({}) and that the model and action exist there",
                ctx.url, ctx.client.transport.base
            ),
        )),
        _ => {
            let report = ErrorReport::parse(body, n);
            report.decide(status, rid, n)
        }
    }
}
