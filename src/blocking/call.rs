//! Blocking calls: each wraps an async call and drives it on the client's runtime.

use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::RuntimeHolder;
use crate::jsonl::JsonlSummary;
use crate::progress::Progress;
use crate::{Error, Outcome};

/// A blocking call; see [`crate::Call`].
#[must_use = "a call does nothing until it is sent"]
pub struct Call<I, P, R> {
    pub(super) call: crate::Call<I, P, R>,
    pub(super) rt: Arc<RuntimeHolder>,
}

impl<I, P, R> std::fmt::Debug for Call<I, P, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::Call")
            .field("call", &self.call)
            .finish()
    }
}

impl<I, P, R> Call<I, P, R>
where
    I: Serialize + Send + Sync + 'static,
    P: Serialize + Send + Sync + 'static,
    R: DeserializeOwned + Send + 'static,
{
    /// The action's params.
    pub fn params(self, params: P) -> Self {
        Call {
            call: self.call.params(params),
            rt: self.rt,
        }
    }

    /// Items per request (at most the action's limit).
    pub fn batch_size(self, n: usize) -> Self {
        Call {
            call: self.call.batch_size(n),
            rt: self.rt,
        }
    }

    /// What to do after a failed item.
    pub fn error_policy(self, policy: crate::call::ErrorPolicy) -> Self {
        Call {
            call: self.call.error_policy(policy),
            rt: self.rt,
        }
    }

    /// A callback run after each item's outcome.
    pub fn progress(self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        Call {
            call: self.call.progress(f),
            rt: self.rt,
        }
    }

    /// Caller ids for the items (written to JSONL output), read lazily as the
    /// items are; see [`crate::Call::ids`].
    pub fn ids<T>(self, ids: T) -> Self
    where
        T: IntoIterator,
        T::Item: Into<String> + 'static,
        T::IntoIter: Send + 'static,
    {
        Call {
            call: self.call.ids(ids),
            rt: self.rt,
        }
    }

    /// Shorthand for `error_policy(ErrorPolicy::StopOnFirstFailure)`.
    pub fn stop_on_first_failure(self) -> Self {
        Call {
            call: self.call.stop_on_first_failure(),
            rt: self.rt,
        }
    }

    /// A progress bar on stderr (feature `progress`).
    pub fn progress_bar(self) -> Self {
        Call {
            call: self.call.progress_bar(),
            rt: self.rt,
        }
    }

    /// How far [`Call::ordered`] may read ahead of the oldest unfinished item;
    /// see [`crate::Call::reorder_window`].
    pub fn reorder_window(self, items: usize) -> Self {
        Call {
            call: self.call.reorder_window(items),
            rt: self.rt,
        }
    }

    /// The outcomes in input order, read ahead by at most the reorder window;
    /// see [`crate::Call::ordered`]. Dropping the iterator cancels the requests in flight.
    pub fn ordered(self) -> Outcomes<R> {
        Outcomes {
            stream: Some(self.call.ordered()),
            rt: self.rt,
        }
    }

    /// The outcomes as they complete, `(input index, outcome)`, with memory
    /// bounded by the requests in flight; see [`crate::Call::stream`].
    /// Dropping the iterator cancels the requests in flight.
    pub fn iter(self) -> Outcomes<R> {
        Outcomes {
            stream: Some(self.call.stream()),
            rt: self.rt,
        }
    }

    /// Runs the call: one outcome per input item, in input order.
    pub fn send(self) -> Result<Vec<Outcome<R>>, Error> {
        let rt = self.rt;
        rt.block_on(std::future::IntoFuture::into_future(self.call))?
    }

    /// Runs the call writing resumable JSONL output; see [`crate::Call::write_jsonl`].
    pub fn write_jsonl(self, path: impl AsRef<Path>) -> Result<JsonlSummary, Error> {
        let rt = self.rt;
        rt.block_on(self.call.write_jsonl(path))?
    }
}

/// A blocking single-item call; see [`crate::One`].
#[must_use = "a call does nothing until it is sent"]
pub struct One<I, P, R> {
    pub(super) one: crate::One<I, P, R>,
    pub(super) rt: Arc<RuntimeHolder>,
}

impl<I, P, R> std::fmt::Debug for One<I, P, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::One")
            .field("one", &self.one)
            .finish()
    }
}

impl<I, P, R> One<I, P, R>
where
    I: Serialize + Send + Sync + 'static,
    P: Serialize + Send + Sync + 'static,
    R: DeserializeOwned + Send + 'static,
{
    /// The action's params.
    pub fn params(self, params: P) -> Self {
        One {
            one: self.one.params(params),
            rt: self.rt,
        }
    }

    /// Runs the call: the item's result, or its error as [`Error::Item`].
    pub fn send(self) -> Result<R, Error> {
        let rt = self.rt;
        rt.block_on(std::future::IntoFuture::into_future(self.one))?
    }
}

/// Blocking iterator over a call's outcomes as they complete (see [`Call::iter`]).
pub struct Outcomes<R> {
    pub(super) stream: Option<crate::OutcomeStream<R>>,
    pub(super) rt: Arc<RuntimeHolder>,
}

impl<R> std::fmt::Debug for Outcomes<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::Outcomes").finish_non_exhaustive()
    }
}

impl<R> Iterator for Outcomes<R> {
    type Item = Result<(usize, Outcome<R>), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        use futures_util::StreamExt;
        let stream = self.stream.as_mut()?;
        match self.rt.block_on(stream.next()) {
            Ok(Some(x)) => Some(x),
            Ok(None) => {
                self.stream = None;
                None
            }
            Err(e) => {
                self.stream = None;
                Some(Err(e))
            }
        }
    }
}

impl<R> Drop for Outcomes<R> {
    fn drop(&mut self) {
        // Dropping the stream cancels its requests; the connections are closed
        // on the client's runtime, inside its context.
        if let (Some(stream), Some(rt)) = (self.stream.take(), self.rt.0.as_ref()) {
            let _guard = rt.enter();
            drop(stream);
        }
    }
}
