//! The batch engine: validate, batch, send under the client's limits, map
//! replies back to items, re-send where the reply names no item.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use futures_util::stream::{BoxStream, FuturesUnordered, StreamExt};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use tracing::Instrument;

use crate::call::ErrorPolicy;
use crate::client::ClientInner;
use crate::outcome::{ItemError, ItemErrorKind, Outcome};
use crate::progress::ProgressState;
use crate::rate_limit::RateLimit;
use crate::retry::{parse_retry_after, retryable_status};
use crate::spec::ActionSpec;
use crate::transport::{Prepared, TransportError};
use crate::validation;
use crate::{clock, Error};

/// An [`ActionSpec`] from the generated catalog or built at run time.
#[derive(Debug, Clone)]
pub(crate) enum SpecRef {
    Static(&'static ActionSpec),
    Owned(Arc<ActionSpec>),
}

impl SpecRef {
    pub(crate) fn get(&self) -> &ActionSpec {
        match self {
            SpecRef::Static(s) => s,
            SpecRef::Owned(s) => s,
        }
    }
}

/// One validated, serialized input item.
#[derive(Debug)]
pub(crate) struct Entry {
    pub index: usize,
    pub json: String,
}

/// Everything a running call needs, shared by its batches.
pub(crate) struct CallCtx {
    pub client: Arc<ClientInner>,
    /// The call's byte budget for results (src/budget.rs).
    pub budget: Option<Arc<crate::budget::Budget>>,
    pub spec: SpecRef,
    pub url: String,
    pub params_json: Option<String>,
    pub batch_size: usize,
    pub policy: ErrorPolicy,
    pub timeout: Duration,
    pub may_retry: bool,
    pub throttle: Option<RateLimit>,
    pub rate_key: String,
}

/// What the engine sends out: outcomes by input index, or a call-level error.
pub(crate) type Emitted<R> = Result<(usize, Outcome<R>), Error>;

/// Where outcomes go: a channel, in completion order or reordered.
pub(crate) struct Emitter<R> {
    tx: mpsc::Sender<Emitted<R>>,
    reorder: Option<Reorder<R>>,
    progress: Option<ProgressState>,
    /// The client's token and base-URL secrets, scrubbed from every field of a
    /// failure (servers and proxies may echo them in messages, keys and headers).
    secret: crate::secret::Redactor,
    pub failures: usize,
}

struct Reorder<R> {
    next: usize,
    buf: BTreeMap<usize, Outcome<R>>,
    window: usize,
}

impl<R> Emitter<R> {
    pub(crate) fn new(
        tx: mpsc::Sender<Emitted<R>>,
        ordered_window: Option<usize>,
        progress: Option<ProgressState>,
        secret: crate::secret::Redactor,
    ) -> Self {
        Emitter {
            tx,
            reorder: ordered_window.map(|window| Reorder {
                next: 0,
                buf: BTreeMap::new(),
                window,
            }),
            progress,
            secret,
            failures: 0,
        }
    }

    /// Emits one outcome; `false` when the receiver is gone (the call was dropped).
    async fn emit(&mut self, index: usize, mut outcome: Outcome<R>) -> bool {
        if let Outcome::Failed(e) = &mut outcome {
            self.failures += 1;
            self.secret.redact_in_place(&mut e.message);
            if let Some(f) = e.field.as_mut() {
                self.secret.redact_in_place(f);
            }
            if let Some(r) = e.request_id.as_mut() {
                self.secret.redact_in_place(r);
            }
        }
        if let Some(p) = self.progress.as_mut() {
            p.record(&outcome);
        }
        match self.reorder.as_mut() {
            None => self.tx.send(Ok((index, outcome))).await.is_ok(),
            Some(r) => {
                if index != r.next {
                    r.buf.insert(index, outcome);
                    return true;
                }
                let mut current = Some(outcome);
                while let Some(o) = current.take() {
                    let i = r.next;
                    r.next += 1;
                    if self.tx.send(Ok((i, o))).await.is_err() {
                        return false;
                    }
                    current = r.buf.remove(&r.next);
                }
                true
            }
        }
    }

    /// Whether reading item `next_index` stays within the reorder window.
    fn window_allows(&self, next_index: usize) -> bool {
        match &self.reorder {
            None => true,
            Some(r) => next_index < r.next + r.window,
        }
    }

    pub(crate) async fn fail(&mut self, e: Error) {
        let _ = self.tx.send(Err(e)).await;
    }

    fn finish(&mut self) {
        if let Some(p) = self.progress.as_mut() {
            p.finish();
        }
    }
}

type BatchFuture<R> = Pin<Box<dyn Future<Output = Vec<(usize, Outcome<R>)>> + Send>>;
type PermitFuture = Pin<Box<dyn Future<Output = Option<OwnedSemaphorePermit>> + Send>>;

/// Serializes and validates one item.
pub(crate) fn prepare_item<I: Serialize>(
    checker: Option<&biolm_catalog::validate::Validator>,
    index: usize,
    item: &I,
    params: Option<&serde_json::Value>,
) -> Result<Entry, ItemError> {
    let invalid = |field: Option<String>, message: String| ItemError {
        index,
        kind: ItemErrorKind::Invalid,
        field,
        status: None,
        request_id: None,
        message,
    };
    match checker {
        None => serde_json::to_string(item)
            .map(|json| Entry { index, json })
            .map_err(|e| invalid(None, format!("cannot be serialized to JSON: {e}"))),
        Some(c) => {
            let value = serde_json::to_value(item)
                .map_err(|e| invalid(None, format!("cannot be serialized to JSON: {e}")))?;
            // With params, request-level rules (params naming parts of the item) apply too.
            let problems = match params {
                Some(p) => c.check_item_with_params(&value, p),
                None => c.check_item(&value),
            };
            if !problems.is_empty() {
                let (field, message) = validation::join(&problems);
                // The error shows the field before the message (`items[3].sequence: ...`):
                // drop the message's own copy of it.
                let message = match &field {
                    Some(f) => message
                        .strip_prefix(&format!("{f}: "))
                        .map(str::to_owned)
                        .unwrap_or(message),
                    None => message,
                };
                return Err(invalid(
                    field,
                    format!("{message}; the item was not sent, fix it and re-run"),
                ));
            }
            serde_json::to_string(&value)
                .map(|json| Entry { index, json })
                .map_err(|e| invalid(None, format!("cannot be serialized to JSON: {e}")))
        }
    }
}

/// Runs a call: reads `input`, emits one outcome per item into `em`.
pub(crate) async fn drive<I, R>(
    ctx: Arc<CallCtx>,
    mut input: BoxStream<'static, (usize, I)>,
    mut em: Emitter<R>,
) where
    I: Serialize + Send + 'static,
    R: DeserializeOwned + Send + 'static,
{
    let spec = ctx.spec.get();
    let checker = match validation::checker(spec) {
        Ok(c) => c,
        Err(e) => return em.fail(e).await,
    };
    let params_value: Option<serde_json::Value> = ctx
        .params_json
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok());
    let span = tracing::info_span!("biolm.call", slug = %spec.slug, action = %spec.action, batch_size = ctx.batch_size);
    async {
        let b = ctx.batch_size.max(1);
        let semaphore = ctx.client.semaphore.clone();
        let mut next_index = 0usize;
        let mut pending: Vec<Entry> = Vec::with_capacity(b);
        // The next batch, its body already built (and compressed) while every
        // slot is busy, so a freed slot sends it at once.
        let mut ready: Option<(Vec<Entry>, Prepared)> = None;
        let prepare = |entries: Vec<Entry>| {
            let body = ctx
                .client
                .transport
                .prepare(build_body(&entries, ctx.params_json.as_deref()));
            (entries, body)
        };
        let mut acquiring: Option<PermitFuture> = None;
        let mut inflight: FuturesUnordered<BatchFuture<R>> = FuturesUnordered::new();
        let mut input_done = false;
        let mut stopped = false;
        loop {
            if stopped {
                // Items held back are never sent.
                acquiring = None;
                for e in ready.take().into_iter().flat_map(|(e, _)| e).chain(pending.drain(..)) {
                    if !em.emit(e.index, Outcome::NotAttempted).await {
                        return;
                    }
                }
            } else {
                if ready.is_none() && !pending.is_empty() && (input_done || !em.window_allows(next_index)) {
                    ready = Some(prepare(std::mem::replace(&mut pending, Vec::with_capacity(b))));
                }
                if ready.is_some() && acquiring.is_none() {
                    let sem = semaphore.clone();
                    // bigresults: wait for room in the result budget (src/budget.rs).
                    let batch = ready.as_ref().map(|(e, _)| (e.first().map_or(0, |e| e.index), e.len()));
                    let budget = ctx.budget.clone().zip(batch);
                    acquiring = Some(Box::pin(async move {
                        let room = match budget {
                            Some((b, (first, n))) => Some(b.reserve(first, n).await),
                            None => None,
                        };
                        let permit = sem.acquire_owned().await.ok();
                        if let Some(r) = room {
                            r.commit();
                        }
                        permit
                    }));
                }
            }
            let can_read = !input_done && ready.is_none() && (stopped || em.window_allows(next_index));
            if !can_read && ready.is_none() && inflight.is_empty() {
                if input_done {
                    break;
                }
                continue;
            }
            tokio::select! {
                biased;
                Some(done) = inflight.next(), if !inflight.is_empty() => {
                    if let Some(b) = &ctx.budget {
                        b.settle(done.iter().map(|(i, _)| *i));
                    }
                    for (i, o) in done {
                        if !em.emit(i, o).await {
                            return;
                        }
                    }
                    if ctx.policy == ErrorPolicy::StopOnFirstFailure && em.failures > 0 {
                        stopped = true;
                    }
                }
                permit = poll_permit(&mut acquiring), if acquiring.is_some() && !stopped => {
                    acquiring = None;
                    let Some(permit) = permit else {
                        // The semaphore is never closed while the client lives.
                        em.fail(Error::Interrupted("the client's request limiter was closed".into())).await;
                        return;
                    };
                    if let Some((batch, body)) = ready.take() {
                        inflight.push(run_batch::<R>(ctx.clone(), batch, Some(body), permit, 0));
                    }
                }
                item = input.next(), if can_read => {
                    match item {
                        None => input_done = true,
                        Some((index, item)) => {
                            next_index = index + 1;
                            if stopped {
                                if !em.emit(index, Outcome::NotAttempted).await {
                                    return;
                                }
                                continue;
                            }
                            match prepare_item(checker, index, &item, params_value.as_ref()) {
                                Ok(entry) => {
                                    pending.push(entry);
                                    if pending.len() >= b {
                                        ready = Some(prepare(std::mem::replace(&mut pending, Vec::with_capacity(b))));
                                    }
                                }
                                Err(err) => {
                                    tracing::debug!(index, error = %err, "item failed validation");
                                    if !em.emit(index, Outcome::Failed(err)).await {
                                        return;
                                    }
                                    if ctx.policy == ErrorPolicy::StopOnFirstFailure {
                                        stopped = true;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        em.finish();
    }
    .instrument(span)
    .await
}

/// Awaits the permit future if there is one (never completes otherwise).
async fn poll_permit(f: &mut Option<PermitFuture>) -> Option<OwnedSemaphorePermit> {
    match f {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

/// Writes `{"items":[...],"params":{...}}`.
fn build_body(entries: &[Entry], params_json: Option<&str>) -> Vec<u8> {
    let len: usize = entries.iter().map(|e| e.json.len() + 1).sum::<usize>()
        + params_json.map_or(0, str::len)
        + 24;
    let mut body = Vec::with_capacity(len);
    body.extend_from_slice(b"{\"items\":[");
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(e.json.as_bytes());
    }
    body.push(b']');
    if let Some(p) = params_json {
        body.extend_from_slice(b",\"params\":");
        body.extend_from_slice(p.as_bytes());
    }
    body.push(b'}');
    body
}

/// Why a whole batch (or what is left of it) failed.
#[derive(Debug, Clone)]
struct Failure {
    kind: ItemErrorKind,
    status: Option<u16>,
    request_id: Option<String>,
    field: Option<String>,
    message: String,
}

impl Failure {
    fn for_item(&self, index: usize) -> ItemError {
        ItemError {
            index,
            kind: self.kind,
            field: self.field.clone(),
            status: self.status,
            request_id: self.request_id.clone(),
            message: self.message.clone(),
        }
    }
}

/// What to do after the attempts on one batch.
enum Decision<R> {
    /// Every position has its outcome (by batch position).
    Done(Vec<Outcome<R>>),
    /// Some positions have outcomes; the rest (`None`) must be re-sent as a batch.
    Partial(Vec<Option<Outcome<R>>>),
    /// The error names no item: re-send every item alone (or fail them with this).
    ResendEach(Failure),
    /// Every item fails with this.
    FailAll(Failure),
}

/// How deep in re-sends a batch is: 0 = first send, 1 = the unnamed rest of a
/// partly rejected batch, 2 = single items or a second rest (no more re-sends).
const MAX_LEVEL: u8 = 2;

fn run_batch<R>(
    ctx: Arc<CallCtx>,
    entries: Vec<Entry>,
    body: Option<Prepared>,
    permit: OwnedSemaphorePermit,
    level: u8,
) -> BatchFuture<R>
where
    R: DeserializeOwned + Send + 'static,
{
    Box::pin(async move {
        let first = entries.first().map_or(0, |e| e.index);
        let span = tracing::debug_span!(
            "biolm.batch",
            items = entries.len(),
            first_index = first,
            level
        );
        let mut permit = Some(permit);
        let decision = attempts::<R>(&ctx, &entries, body, &mut permit)
            .instrument(span)
            .await;
        drop(permit);
        match decision {
            Decision::Done(outs) => entries
                .iter()
                .map(|e| e.index)
                .zip(outs)
                .map(|(i, o)| (i, reindex(o, i)))
                .collect(),
            Decision::FailAll(f) => fail_all(&entries, &f),
            Decision::ResendEach(f) => {
                if entries.len() == 1 || level >= MAX_LEVEL {
                    return fail_all(&entries, &f);
                }
                if tracing::enabled!(tracing::Level::DEBUG) {
                    let redactor = ctx.client.transport.redactor();
                    let reason = redactor.redact(&f.message);
                    tracing::debug!(items = entries.len(), reason = %reason, "re-sending item by item");
                }
                ctx.client
                    .stats
                    .resends
                    .fetch_add(entries.len() as u64, Ordering::Relaxed);
                let singles = entries.into_iter().map(|e| {
                    let ctx = ctx.clone();
                    async move {
                        match ctx.client.semaphore.clone().acquire_owned().await {
                            Ok(p) => run_batch::<R>(ctx, vec![e], None, p, MAX_LEVEL).await,
                            Err(_) => vec![(e.index, Outcome::Failed(f_closed(e.index)))],
                        }
                    }
                });
                join_all(singles).await.into_iter().flatten().collect()
            }
            Decision::Partial(outs) => {
                let mut done = Vec::with_capacity(entries.len());
                let mut rest = Vec::new();
                for (e, o) in entries.into_iter().zip(outs) {
                    match o {
                        Some(o) => done.push((e.index, reindex(o, e.index))),
                        None => rest.push(e),
                    }
                }
                if rest.is_empty() {
                    return done;
                }
                if level >= MAX_LEVEL {
                    let f = Failure {
                        kind: ItemErrorKind::Unavailable,
                        status: None,
                        request_id: None,
                        field: None,
                        message: "the server refused this item's batch because of other items, twice; the item itself was not rejected: send it again".into(),
                    };
                    done.extend(fail_all(&rest, &f));
                    return done;
                }
                ctx.client
                    .stats
                    .resends
                    .fetch_add(rest.len() as u64, Ordering::Relaxed);
                match ctx.client.semaphore.clone().acquire_owned().await {
                    Ok(p) => {
                        done.extend(run_batch::<R>(ctx.clone(), rest, None, p, level + 1).await)
                    }
                    Err(_) => done.extend(
                        rest.iter()
                            .map(|e| (e.index, Outcome::Failed(f_closed(e.index)))),
                    ),
                }
                done
            }
        }
    })
}

/// Sets the input index of an item error made with a batch position.
fn reindex<R>(o: Outcome<R>, index: usize) -> Outcome<R> {
    match o {
        Outcome::Failed(mut e) => {
            e.index = index;
            Outcome::Failed(e)
        }
        o => o,
    }
}

fn f_closed(index: usize) -> ItemError {
    ItemError {
        index,
        kind: ItemErrorKind::Unavailable,
        field: None,
        status: None,
        request_id: None,
        message: "the client was shut down before this item could be sent".into(),
    }
}

fn fail_all<R>(entries: &[Entry], f: &Failure) -> Vec<(usize, Outcome<R>)> {
    entries
        .iter()
        .map(|e| (e.index, Outcome::Failed(f.for_item(e.index))))
        .collect()
}

/// Sends one batch with retries and decides what its reply means.
///
/// `body` is the batch's request body when the driver built it ahead (it is
/// built here otherwise).
///
/// `permit` is the batch's slot under the client's concurrency limit: it is
/// released as soon as a 2xx body has been read (so the next batch goes out
/// while this one is decoded) and taken again before any further attempt.
async fn attempts<R: DeserializeOwned>(
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
        let result = client
            .transport
            .post(&ctx.url, &body, ctx.timeout)
            .instrument(span.clone())
            .await;
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
        let connect_failure = matches!(result, Err(TransportError::Connect(_)));
        let (why, retry_after) = match result {
            // A reply over the size limit would be as large again: not retried.
            Err(TransportError::TooLarge {
                status,
                request_id,
                message,
            }) => {
                return Decision::FailAll(Failure {
                    kind: ItemErrorKind::BadResponse,
                    status: Some(status),
                    request_id,
                    field: None,
                    message,
                });
            }
            Err(e) => {
                let what = match &e {
                    TransportError::Connect(_) => "could not connect",
                    TransportError::Timeout(_) => "timed out",
                    TransportError::Broken(_) | TransportError::TooLarge { .. } => {
                        "lost the connection"
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
                    None,
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
                    match decode::<R>(&reply.body, entries.len(), spec.multi_result) {
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
                            None,
                        ),
                    }
                } else if retryable_status(status) {
                    let ra = reply
                        .retry_after
                        .as_deref()
                        .and_then(|v| parse_retry_after(v, clock::wall_now()))
                        .map(|d| d.min(policy.max_retry_after));
                    if status == 429 {
                        let pause =
                            ra.unwrap_or_else(|| policy.backoff(attempt, clock::jitter_u64()));
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
                        ra,
                    )
                } else {
                    return decide_error(ctx, status, rid, &reply.body, entries.len());
                }
            }
        };
        let cut_short = connect_failure
            && policy.fail_fast_when_unreachable
            && attempt < max_attempts
            && reachability.is_unreachable();
        if attempt >= max_attempts || cut_short {
            let mut f = why;
            // Only a request that had retries, and used them all, tells that
            // the server is down (not one blip on a request that is never retried).
            if connect_failure && attempt >= max_attempts && max_attempts > 1 {
                reachability.gave_up_connecting(since);
            }
            if cut_short {
                f.message = format!(
                    "{} (not retried: the server has answered no request since one used up its {max_attempts} attempts on connection failures; check the URL and the network, then run again)",
                    f.message
                );
            } else if attempt > 1 {
                f.message = format!("{} (gave up after {attempt} attempts)", f.message);
            } else if !ctx.may_retry && policy.max_attempts > 1 {
                f.message = format!(
                    "{} (not retried: `generate` without a seed is excluded by the retry policy)",
                    f.message
                );
            }
            return Decision::FailAll(f);
        }
        let wait = retry_after.unwrap_or_else(|| policy.backoff(attempt, clock::jitter_u64()));
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

impl<R> Decision<R> {
    fn with_status(self, status: u16, rid: Option<String>) -> Decision<R> {
        let fix = |mut e: ItemError| {
            if e.status.is_none() {
                e.status = Some(status);
            }
            if e.request_id.is_none() {
                e.request_id = rid.clone();
            }
            e
        };
        let fix_o = |o: Outcome<R>| match o {
            Outcome::Failed(e) => Outcome::Failed(fix(e)),
            o => o,
        };
        match self {
            Decision::Done(v) => Decision::Done(v.into_iter().map(fix_o).collect()),
            Decision::Partial(v) => {
                Decision::Partial(v.into_iter().map(|o| o.map(fix_o)).collect())
            }
            Decision::ResendEach(mut f) => {
                f.status.get_or_insert(status);
                if f.request_id.is_none() {
                    f.request_id = rid;
                }
                Decision::ResendEach(f)
            }
            Decision::FailAll(mut f) => {
                f.status.get_or_insert(status);
                if f.request_id.is_none() {
                    f.request_id = rid;
                }
                Decision::FailAll(f)
            }
        }
    }
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

/// The error content of a reply, mapped to batch positions.
#[derive(Debug, Default)]
struct ErrorReport {
    /// (batch position, field path, message)
    items: Vec<(usize, Option<String>, String)>,
    /// (field path under params, message)
    params: Vec<(String, String)>,
    /// Messages naming no item.
    general: Vec<String>,
}

#[derive(Deserialize)]
struct ErrorBody<'a> {
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
    #[serde(borrow, default)]
    detail: Option<&'a RawValue>,
    #[serde(borrow, default)]
    description: Option<&'a RawValue>,
    #[serde(borrow, default)]
    message: Option<&'a RawValue>,
}

fn messages(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| messages(x, out)),
        Value::Object(o) => {
            if let Some(m) = o.get("msg").or_else(|| o.get("message")) {
                messages(m, out);
            } else {
                out.push(Value::Object(o.clone()).to_string());
            }
        }
        Value::Null => {}
        other => out.push(other.to_string()),
    }
}

/// Renders path segments as `chains[0].id`.
fn render_path<'a>(segs: impl Iterator<Item = Seg<'a>>) -> Option<String> {
    let mut s = String::new();
    for seg in segs {
        match seg {
            Seg::Index(i) => {
                s.push('[');
                s.push_str(&i.to_string());
                s.push(']');
            }
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
        }
    }
    (!s.is_empty()).then_some(s)
}

enum Seg<'a> {
    Index(usize),
    Key(&'a str),
}

fn seg_of(s: &str) -> Seg<'_> {
    match s.parse::<usize>() {
        Ok(i) => Seg::Index(i),
        Err(_) => Seg::Key(s),
    }
}

impl ErrorReport {
    fn parse(body: &[u8], n: usize) -> ErrorReport {
        let mut r = ErrorReport::default();
        let Ok(b) = serde_json::from_slice::<ErrorBody<'_>>(body) else {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)])
                .trim()
                .to_owned();
            if !text.is_empty() {
                r.general.push(text);
            }
            return r;
        };
        let parse =
            |raw: Option<&RawValue>| raw.and_then(|x| serde_json::from_str::<Value>(x.get()).ok());
        if let Some(e) = parse(b.error) {
            r.add_error_value(&e, n);
        }
        if let Some(d) = parse(b.detail) {
            r.add_detail(&d, n);
        }
        for v in [parse(b.description), parse(b.message)]
            .into_iter()
            .flatten()
        {
            messages(&v, &mut r.general);
        }
        r
    }

    /// `{"items__1__sequence": ["msg"], "params__x": [...], "non_field_errors": [...]}` or a string.
    fn add_error_value(&mut self, e: &Value, n: usize) {
        let Value::Object(map) = e else {
            messages(e, &mut self.general);
            return;
        };
        for (key, v) in map {
            let mut msgs = Vec::new();
            messages(v, &mut msgs);
            let msg = msgs.join("; ");
            let mut parts = key.split("__");
            match parts.next() {
                Some("items") => {
                    let pos = parts.next().and_then(|p| p.parse::<usize>().ok());
                    match pos {
                        Some(p) if p < n => {
                            self.items.push((p, render_path(parts.map(seg_of)), msg))
                        }
                        _ => self.general.push(format!("{key}: {msg}")),
                    }
                }
                Some("params") => {
                    let field =
                        render_path(std::iter::once(Seg::Key("params")).chain(parts.map(seg_of)));
                    self.params
                        .push((field.unwrap_or_else(|| "params".into()), msg));
                }
                _ => {
                    if key == "non_field_errors" || key == "__all__" {
                        self.general.push(msg);
                    } else {
                        self.general.push(format!("{key}: {msg}"));
                    }
                }
            }
        }
    }

    /// pydantic: `[{"loc": ["body", "items", 1, "sequence"], "msg": "..."}]` or a string.
    fn add_detail(&mut self, d: &Value, n: usize) {
        let Value::Array(list) = d else {
            messages(d, &mut self.general);
            return;
        };
        for entry in list {
            let msg = entry
                .get("msg")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| entry.to_string());
            let loc: Vec<&Value> = entry
                .get("loc")
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            let mut it = loc
                .iter()
                .copied()
                .skip_while(|v| v.as_str() == Some("body"))
                .peekable();
            let segs = |it: &mut dyn Iterator<Item = &Value>| -> Vec<String> {
                it.map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
            };
            match it.next().and_then(Value::as_str) {
                Some("items") => match it.next().and_then(Value::as_u64) {
                    Some(p) if (p as usize) < n => {
                        let rest = segs(&mut it);
                        self.items.push((
                            p as usize,
                            render_path(rest.iter().map(|s| seg_of(s))),
                            msg,
                        ));
                    }
                    _ => self.general.push(format!("items: {msg}")),
                },
                Some("params") => {
                    let rest = segs(&mut it);
                    let field = render_path(
                        std::iter::once(Seg::Key("params")).chain(rest.iter().map(|s| seg_of(s))),
                    );
                    self.params
                        .push((field.unwrap_or_else(|| "params".into()), msg));
                }
                _ => self.general.push(msg),
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty() && self.params.is_empty() && self.general.is_empty()
    }

    fn general_text(&self, status: u16) -> String {
        if self.general.is_empty() {
            format!("the server answered HTTP {status} without saying which item is at fault")
        } else {
            self.general.join("; ")
        }
    }

    /// The decision for an error reply (no results).
    fn decide<R>(self, status: u16, rid: Option<String>, n: usize) -> Decision<R> {
        let kind = if status >= 500 {
            ItemErrorKind::Unavailable
        } else {
            ItemErrorKind::Rejected
        };
        if let Some((field, _)) = self.params.first() {
            let msg = self
                .params
                .iter()
                .map(|(f, m)| format!("{f}: {m}"))
                .collect::<Vec<_>>()
                .join("; ");
            return Decision::FailAll(Failure {
                kind: ItemErrorKind::Rejected,
                status: Some(status),
                request_id: rid,
                field: Some(field.clone()),
                message: format!("the server rejected the params: {msg}; fix them and re-run"),
            });
        }
        if !self.items.is_empty() {
            // A server fault that names an item is no verdict on the item:
            // it may pass later, unchanged.
            let transient = status >= 500 || matches!(status, 408 | 429);
            let mut outs: Vec<Option<Outcome<R>>> = (0..n).map(|_| None).collect();
            for (pos, field, msg) in self.items {
                if let Some(slot) = outs.get_mut(pos) {
                    let (kind, text) = if transient {
                        (
                            ItemErrorKind::Unavailable,
                            format!(
                                "the server failed on the item (HTTP {status}): {msg}; this is likely transient: \
                                 send it again later (the item itself was not rejected)"
                            ),
                        )
                    } else {
                        (
                            ItemErrorKind::Rejected,
                            format!("the server rejected the item: {msg}; fix it and re-run"),
                        )
                    };
                    match slot {
                        Some(Outcome::Failed(e)) => {
                            e.message = format!("{}; {}", e.message, msg);
                        }
                        _ => {
                            *slot = Some(Outcome::Failed(ItemError {
                                index: pos,
                                kind,
                                field,
                                status: Some(status),
                                request_id: rid.clone(),
                                message: text,
                            }))
                        }
                    }
                }
            }
            return Decision::Partial(outs);
        }
        let message = if status >= 500 {
            format!(
                "server error (HTTP {status}): {}",
                self.general_text(status)
            )
        } else {
            format!(
                "the server rejected the request: {}",
                self.general_text(status)
            )
        };
        let f = Failure {
            kind,
            status: Some(status),
            request_id: rid,
            field: None,
            message,
        };
        if matches!(status, 400 | 413 | 422 | 500) {
            Decision::ResendEach(f)
        } else {
            Decision::FailAll(f)
        }
    }
}

#[derive(Deserialize)]
struct FastBody<R> {
    results: Vec<R>,
    #[serde(default)]
    error: Option<IgnoredAny>,
    #[serde(default)]
    detail: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct SlowBody<'a> {
    #[serde(borrow, default)]
    results: Option<Vec<&'a RawValue>>,
}

/// Maps a 2xx body to outcomes by batch position. `Err` = the body is not
/// complete JSON (worth retrying).
fn decode<R: DeserializeOwned>(body: &[u8], n: usize, multi: bool) -> Result<Decision<R>, String> {
    if !multi {
        match serde_json::from_slice::<FastBody<R>>(body) {
            Ok(fast) if fast.error.is_none() && fast.detail.is_none() => {
                if fast.results.len() == n {
                    return Ok(Decision::Done(
                        fast.results.into_iter().map(Outcome::Success).collect(),
                    ));
                }
                return Ok(Decision::ResendEach(count_mismatch(fast.results.len(), n)));
            }
            Ok(_) => {}
            Err(e) if e.is_syntax() || e.is_eof() => return Err(e.to_string()),
            Err(_) => {}
        }
    }
    let slow: SlowBody<'_> = match serde_json::from_slice(body) {
        Ok(s) => s,
        Err(e) if e.is_syntax() || e.is_eof() => return Err(e.to_string()),
        Err(e) => {
            return Ok(Decision::FailAll(Failure {
                kind: ItemErrorKind::BadResponse,
                status: None,
                request_id: None,
                field: None,
                message: format!("the server's reply has an unexpected shape ({e})"),
            }))
        }
    };
    let report = ErrorReport::parse(body, n);
    let Some(raw) = slow.results else {
        if report.is_empty() {
            return Ok(Decision::FailAll(Failure {
                kind: ItemErrorKind::BadResponse,
                status: None,
                request_id: None,
                field: None,
                message: "the server's reply has no `results`".into(),
            }));
        }
        return Ok(report.decide(200, None, n));
    };
    let per_item: Vec<std::borrow::Cow<'_, str>> = if multi {
        match regroup(&raw, n) {
            Some(v) => v,
            None => return Ok(Decision::ResendEach(count_mismatch(raw.len(), n))),
        }
    } else {
        raw.iter()
            .map(|r| std::borrow::Cow::Borrowed(r.get()))
            .collect()
    };
    let named: HashSet<usize> = report.items.iter().map(|(p, _, _)| *p).collect();
    let general = (!report.general.is_empty()).then(|| report.general.join("; "));
    let mut item_errors: BTreeMap<usize, (Option<String>, String)> = BTreeMap::new();
    for (p, f, m) in &report.items {
        item_errors
            .entry(*p)
            .and_modify(|e| e.1 = format!("{}; {m}", e.1))
            .or_insert((f.clone(), m.clone()));
    }
    // Which positions the results belong to.
    let targets: Vec<usize> = if per_item.len() == n {
        (0..n).collect()
    } else if !named.is_empty() && per_item.len() == n - named.len() {
        (0..n).filter(|p| !named.contains(p)).collect()
    } else {
        return Ok(Decision::ResendEach(count_mismatch(per_item.len(), n)));
    };
    let mut outs: Vec<Option<Outcome<R>>> = (0..n).map(|_| None).collect();
    for (pos, (field, msg)) in item_errors {
        if let Some(slot) = outs.get_mut(pos) {
            *slot = Some(Outcome::Failed(ItemError {
                index: pos,
                kind: ItemErrorKind::Rejected,
                field,
                status: None,
                request_id: None,
                message: format!("the server rejected the item: {msg}; fix it and re-run"),
            }));
        }
    }
    for (pos, text) in targets.into_iter().zip(per_item.iter()) {
        let Some(slot) = outs.get_mut(pos) else {
            continue;
        };
        if slot.is_some() {
            continue;
        }
        let t = text.trim();
        *slot = Some(if t == "null" && general.is_some() {
            Outcome::Failed(ItemError {
                index: pos,
                kind: ItemErrorKind::Rejected,
                field: None,
                status: None,
                request_id: None,
                message: format!(
                    "the server gave no result for the item: {}",
                    general.as_deref().unwrap_or_default()
                ),
            })
        } else {
            match serde_json::from_str::<R>(t) {
                Ok(r) => Outcome::Success(r),
                Err(e) => Outcome::Failed(ItemError {
                    index: pos,
                    kind: ItemErrorKind::BadResponse,
                    field: None,
                    status: None,
                    request_id: None,
                    message: format!(
                        "the server's result for the item does not have the expected shape ({e})"
                    ),
                }),
            }
        });
    }
    Ok(Decision::Done(
        outs.into_iter()
            .enumerate()
            .map(|(pos, o)| {
                o.unwrap_or_else(|| {
                    Outcome::Failed(ItemError {
                        index: pos,
                        kind: ItemErrorKind::BadResponse,
                        field: None,
                        status: None,
                        request_id: None,
                        message: "the server gave no result for the item".into(),
                    })
                })
            })
            .collect(),
    ))
}

fn count_mismatch(got: usize, n: usize) -> Failure {
    Failure {
        kind: ItemErrorKind::BadResponse,
        status: None,
        request_id: None,
        field: None,
        message: format!(
            "the server returned {got} results for a batch of {n} items; results cannot be matched to items, \
             so none were kept — re-run these items"
        ),
    }
}

/// Results of a multi-result action, one list per item: either already a list
/// per item, or a flat list of `k * n` results grouped item by item.
fn regroup<'a>(raw: &[&'a RawValue], n: usize) -> Option<Vec<std::borrow::Cow<'a, str>>> {
    if n == 0 || raw.is_empty() {
        return None;
    }
    if raw.len() == n && raw.iter().all(|r| r.get().trim_start().starts_with('[')) {
        return Some(
            raw.iter()
                .map(|r| std::borrow::Cow::Borrowed(r.get()))
                .collect(),
        );
    }
    if raw.len() % n != 0 {
        return None;
    }
    let k = raw.len() / n;
    Some(
        raw.chunks(k)
            .map(|chunk| {
                let mut s = String::with_capacity(
                    chunk.iter().map(|r| r.get().len() + 1).sum::<usize>() + 2,
                );
                s.push('[');
                for (i, r) in chunk.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push_str(r.get());
                }
                s.push(']');
                std::borrow::Cow::Owned(s)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done<R: std::fmt::Debug>(d: Decision<R>) -> Vec<Outcome<R>> {
        match d {
            Decision::Done(v) => v,
            Decision::Partial(_) => panic!("partial"),
            Decision::ResendEach(f) => panic!("resend each: {}", f.message),
            Decision::FailAll(f) => panic!("fail all: {}", f.message),
        }
    }

    #[test]
    fn body_has_items_and_optional_params() {
        let e = |i: usize, j: &str| Entry {
            index: i,
            json: j.into(),
        };
        let b = build_body(&[e(0, r#"{"s":"A"}"#), e(1, r#"{"s":"B"}"#)], None);
        assert_eq!(
            std::str::from_utf8(&b).unwrap(),
            r#"{"items":[{"s":"A"},{"s":"B"}]}"#
        );
        let b = build_body(&[e(0, r#"{"s":"A"}"#)], Some(r#"{"k":1}"#));
        assert_eq!(
            std::str::from_utf8(&b).unwrap(),
            r#"{"items":[{"s":"A"}],"params":{"k":1}}"#
        );
    }

    #[test]
    fn fast_path_and_count_check() {
        let out = done(decode::<i64>(br#"{"results":[1,2,3],"extra":{"x":1}}"#, 3, false).unwrap());
        assert_eq!(
            out,
            vec![
                Outcome::Success(1),
                Outcome::Success(2),
                Outcome::Success(3)
            ]
        );
        match decode::<i64>(br#"{"results":[1,2]}"#, 3, false).unwrap() {
            Decision::ResendEach(f) => assert!(
                f.message.contains("2 results for a batch of 3"),
                "{}",
                f.message
            ),
            _ => panic!("a short result list must re-send the batch item by item"),
        }
        // truncated JSON is an Err (retried)
        assert!(decode::<i64>(br#"{"results":[1,2"#, 2, false).is_err());
    }

    #[test]
    fn a_result_of_the_wrong_shape_fails_only_its_item() {
        let out = done(decode::<i64>(br#"{"results":[1,"two",3]}"#, 3, false).unwrap());
        assert_eq!(out[0], Outcome::Success(1));
        assert_eq!(out[1].error().unwrap().kind, ItemErrorKind::BadResponse);
        assert_eq!(out[2], Outcome::Success(3));
    }

    #[test]
    fn partial_success_with_null_slot_or_missing_slot() {
        let body = br#"{"results":[1,null,3],"error":{"items__1__sequence":["bad letter"]}}"#;
        let out = done(decode::<i64>(body, 3, false).unwrap());
        assert_eq!(out[0], Outcome::Success(1));
        let e = out[1].error().unwrap();
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ItemErrorKind::Rejected, Some("sequence"))
        );
        assert!(e.message.contains("bad letter"));
        assert_eq!(out[2], Outcome::Success(3));
        // results only for the items not named
        let body = br#"{"results":[1,3],"error":{"items__1__sequence":["bad"]}}"#;
        let out = done(decode::<i64>(body, 3, false).unwrap());
        assert_eq!((out[0].ok(), out[2].ok()), (Some(&1), Some(&3)));
        assert!(out[1].is_failed());
    }

    #[test]
    fn multi_results_nested_or_flat() {
        let out = done(decode::<Vec<i64>>(br#"{"results":[[1,2],[3,4]]}"#, 2, true).unwrap());
        assert_eq!(
            out,
            vec![Outcome::Success(vec![1, 2]), Outcome::Success(vec![3, 4])]
        );
        let out = done(decode::<Vec<i64>>(br#"{"results":[1,2,3,4,5,6]}"#, 2, true).unwrap());
        assert_eq!(
            out,
            vec![
                Outcome::Success(vec![1, 2, 3]),
                Outcome::Success(vec![4, 5, 6])
            ]
        );
        assert!(matches!(
            decode::<Vec<i64>>(br#"{"results":[1,2,3]}"#, 2, true).unwrap(),
            Decision::ResendEach(_)
        ));
    }

    #[test]
    fn error_keys_map_to_positions_fields_and_params() {
        let r = ErrorReport::parse(
            br#"{"error":{"items__2__chains__0__id":["too long"],"params__temperature":["must be > 0"],"non_field_errors":["x"]}}"#,
            4,
        );
        assert_eq!(
            r.items,
            vec![(2, Some("chains[0].id".to_string()), "too long".to_string())]
        );
        assert_eq!(
            r.params,
            vec![("params.temperature".to_string(), "must be > 0".to_string())]
        );
        assert_eq!(r.general, vec!["x".to_string()]);
        let r = ErrorReport::parse(
            br#"{"detail":[{"loc":["body","items",1,"sequence"],"msg":"String should have at most 2048 characters"},{"loc":["body","params","seed"],"msg":"bad"}]}"#,
            2,
        );
        assert_eq!(r.items[0].0, 1);
        assert_eq!(r.items[0].1.as_deref(), Some("sequence"));
        assert_eq!(r.params[0].0, "params.seed");
        // an index beyond the batch names no item
        let r = ErrorReport::parse(br#"{"error":{"items__9__sequence":["?"]}}"#, 2);
        assert!(r.items.is_empty() && !r.general.is_empty());
        // non-JSON body: its text becomes the message
        let r = ErrorReport::parse(b"Internal Server Error", 2);
        assert_eq!(r.general, vec!["Internal Server Error".to_string()]);
    }

    #[test]
    fn error_decisions() {
        let d = ErrorReport::parse(br#"{"error":"boom"}"#, 3).decide::<i64>(500, None, 3);
        assert!(matches!(d, Decision::ResendEach(_)));
        let d = ErrorReport::parse(br#"{"error":{"items__0__sequence":["bad"]}}"#, 3)
            .decide::<i64>(400, None, 3);
        match d {
            Decision::Partial(v) => {
                assert!(v[0].as_ref().is_some_and(Outcome::is_failed));
                assert!(v[1].is_none() && v[2].is_none());
            }
            _ => panic!("partial expected"),
        }
        let d = ErrorReport::parse(br#"{"error":{"params__x":["bad"]}}"#, 3)
            .decide::<i64>(422, None, 3);
        match d {
            Decision::FailAll(f) => assert_eq!(f.field.as_deref(), Some("params.x")),
            _ => panic!("params errors fail every item"),
        }
        let d = ErrorReport::parse(b"{}", 3).decide::<i64>(405, None, 3);
        assert!(matches!(d, Decision::FailAll(_)));
    }
}
