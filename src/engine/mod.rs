//! The batch engine: validate, batch, send under the client's limits, map
//! replies back to items, re-send where the reply names no item.
//!
//! [`drive`] plans the batches of one call and keeps them in flight; each batch
//! runs in [`resend`] (re-sends item by item), whose attempts are in
//! [`attempt`]; outcomes leave through [`emit`]. Replies are read by
//! [`crate::reply`]. The engine sits below the call layer and above the
//! transport: it imports neither `call` nor `client`.

mod attempt;
mod emit;
mod launch;
mod observe;
mod resend;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{BoxStream, FuturesUnordered, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::OwnedSemaphorePermit;
use tracing::Instrument;

pub(crate) use emit::{Emitted, Emitter};
pub use launch::OutcomeStream;
pub(crate) use launch::{IdSource, Launch};

use crate::inner::ClientInner;
use crate::outcome::{ErrorPolicy, Outcome};
use crate::rate_limit::RateLimit;
use crate::spec::SpecRef;
use crate::transport::Prepared;
use crate::validation::{self, prepare_item, Entry};
use crate::Error;
use resend::run_batch;

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

type BatchFuture<R> = Pin<Box<dyn Future<Output = Vec<(usize, Outcome<R>)>> + Send>>;
type PermitFuture = Pin<Box<dyn Future<Output = Option<OwnedSemaphorePermit>> + Send>>;

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
                    // Wait for room in the result budget (src/budget.rs), then a request slot.
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
