//! Starting the engine on a call whose context is built, and the stream its
//! outcomes come out of.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::stream::{BoxStream, Stream};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

use super::{CallCtx, Emitted, Emitter};
use crate::outcome::Outcome;
use crate::progress::{ProgressFn, ProgressState};
use crate::Error;

/// Where a call's item ids come from: read one per item, in input order.
pub(crate) type IdSource = Box<dyn Iterator<Item = String> + Send>;

/// A call with its context built, taken apart for a consumer in the crate
/// (the JSONL writer filters the input and the ids before starting it).
pub(crate) struct Launch<I> {
    pub(crate) ctx: Arc<CallCtx>,
    pub(crate) params: Value,
    /// The call's items.
    pub(crate) input: BoxStream<'static, I>,
    /// The caller's ids for the items, if set.
    pub(crate) ids: Option<IdSource>,
    /// The number of items, when known up front (the progress total).
    pub(crate) total: Option<usize>,
    pub(crate) concurrency: usize,
    pub(crate) window: Option<usize>,
    pub(crate) progress: Option<ProgressFn>,
    pub(crate) progress_bar: bool,
    /// Only this shard of the input ([`crate::Call::shard`]): whoever starts
    /// the launch selects its items; the stream maps positions back.
    pub(crate) shard: Option<crate::shard::Shard>,
}

impl<I: Serialize + Send + 'static> Launch<I> {
    /// The action's spec.
    pub(crate) fn spec(&self) -> &crate::spec::ActionSpec {
        self.ctx.spec.get()
    }

    /// The params as JSON (`Null` when none were set).
    pub(crate) fn params(&self) -> &Value {
        &self.params
    }

    /// Starts the engine on `input` (indexed items) with results decoded as `T`.
    pub(crate) fn start<T>(
        self,
        ordered: bool,
        input: BoxStream<'static, (usize, I)>,
    ) -> OutcomeStream<T>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let capacity = 64;
        let (tx, rx) = mpsc::channel::<Emitted<T>>(capacity);
        let ctx = self.ctx;
        let window = if ordered {
            let default = 4 * self.concurrency * ctx.batch_size;
            Some(self.window.unwrap_or(default).max(ctx.batch_size))
        } else {
            None
        };
        let progress = ProgressState::new(self.total, self.progress, self.progress_bar);
        let secret = ctx.client.transport.redactor();
        let em = Emitter::new(tx, window, progress, secret);
        let budget = ctx.budget.clone();
        let driver = super::drive::<I, T>(ctx, input, em);
        OutcomeStream {
            rx,
            driver: Some(Box::pin(driver)),
            shard: self.shard,
            budget,
        }
    }
}

/// The outcomes of a call as a stream of `Result<(index, Outcome<R>), Error>`.
/// An `Err` (a call-level failure, e.g. invalid params) ends the stream.
/// Dropping the stream cancels the requests in flight.
#[must_use = "streams do nothing unless polled"]
pub struct OutcomeStream<R> {
    rx: mpsc::Receiver<Emitted<R>>,
    driver: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    /// Maps the engine's positions in the shard back to input indexes.
    shard: Option<crate::shard::Shard>,
    /// The call's result budget: an item's bytes are given back when it is taken.
    budget: Option<Arc<crate::budget::Budget>>,
}

impl<R> OutcomeStream<R> {
    /// A stream that yields `e` and ends (a call refused before it started).
    pub(crate) fn failed(e: Error) -> Self {
        let (tx, rx) = mpsc::channel::<Emitted<R>>(1);
        // The channel is empty, so this cannot fail.
        let _ = tx.try_send(Err(e));
        OutcomeStream {
            rx,
            driver: None,
            shard: None,
            budget: None,
        }
    }

    /// A stream fed by `driver` through `rx` (positions in `shard` mapped back
    /// to input indexes).
    #[cfg(feature = "cache")]
    pub(crate) fn from_driver(
        rx: mpsc::Receiver<Emitted<R>>,
        driver: Pin<Box<dyn Future<Output = ()> + Send>>,
        shard: Option<crate::shard::Shard>,
    ) -> Self {
        OutcomeStream {
            rx,
            driver: Some(driver),
            shard,
            budget: None,
        }
    }

    /// Gives an item's bytes back to the budget as the caller takes it.
    fn taken(&self, x: Option<Emitted<R>>) -> Option<Emitted<R>> {
        if let (Some(b), Some(Ok((i, _)))) = (&self.budget, &x) {
            b.release(*i);
        }
        x
    }
}

impl<R> std::fmt::Debug for OutcomeStream<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutcomeStream")
            .field("running", &self.driver.is_some())
            .finish()
    }
}

impl<R> Stream for OutcomeStream<R> {
    type Item = Result<(usize, Outcome<R>), Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let shard = this.shard;
        let global = move |x: Option<Self::Item>| match (shard, x) {
            (Some(s), Some(Ok((i, o)))) => Some(Ok((s.global(i), o))),
            (_, x) => x,
        };
        loop {
            if let Poll::Ready(x) = this.rx.poll_recv(cx) {
                return Poll::Ready(global(this.taken(x)));
            }
            match this.driver.as_mut() {
                None => return Poll::Pending,
                Some(d) => match d.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        // The driver dropped its sender: the channel ends once drained.
                        this.driver = None;
                        continue;
                    }
                    Poll::Pending => {
                        return this.rx.poll_recv(cx).map(|x| global(this.taken(x)));
                    }
                },
            }
        }
    }
}
