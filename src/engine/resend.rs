//! One batch from send to outcomes: the attempts, then the re-sends a reply
//! calls for (the unnamed rest of a partly rejected batch, or every item alone).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures_util::future::join_all;
use serde::de::DeserializeOwned;
use tokio::sync::OwnedSemaphorePermit;
use tracing::Instrument;

use super::attempt::attempts;
use super::{BatchFuture, CallCtx};
use crate::outcome::{ItemError, ItemErrorKind, Outcome};
use crate::reply::{Decision, Failure};
use crate::transport::Prepared;
use crate::validation::Entry;

/// How deep in re-sends a batch is: 0 = first send, 1 = the unnamed rest of a
/// partly rejected batch, 2 = single items or a second rest (no more re-sends).
const MAX_LEVEL: u8 = 2;

pub(super) fn run_batch<R>(
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
