//! A blocking client mirroring the async one (reqwest-style).
//!
//! A [`blocking::Client`](Client) owns a small tokio runtime and drives the
//! async client on it. Calling it from inside an async runtime returns
//! [`Error::BlockingInAsyncContext`] instead of blocking (or panicking); in
//! async code use [`crate::Client`], or make the blocking call from a thread
//! started with `std::thread::spawn`.

use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::config::ClientBuilder;
use crate::jsonl::JsonlSummary;
use crate::progress::Progress;
use crate::spec::ActionSpec;
use crate::{ClientStats, Error, Outcome};

struct RuntimeHolder(Option<tokio::runtime::Runtime>);

impl Drop for RuntimeHolder {
    fn drop(&mut self) {
        // Never blocks, so dropping the last client inside an async runtime is safe.
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl RuntimeHolder {
    fn block_on<F: std::future::Future>(&self, f: F) -> Result<F::Output, Error> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::BlockingInAsyncContext);
        }
        match &self.0 {
            Some(rt) => Ok(rt.block_on(f)),
            None => Err(Error::Interrupted(
                "the blocking client's runtime is gone".into(),
            )),
        }
    }
}

/// The blocking BioLM client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: crate::Client,
    rt: Arc<RuntimeHolder>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::Client")
            .field("inner", &self.inner)
            .finish()
    }
}

impl Client {
    /// A client configured from the environment (see [`ClientBuilder::from_env`]).
    pub fn from_env() -> Result<Client, Error> {
        Client::from_builder(ClientBuilder::from_env())
    }

    /// A blocking client with the builder's configuration.
    pub fn from_builder(b: ClientBuilder) -> Result<Client, Error> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            // The calling thread drives the call in `block_on`; one worker
            // for the connections is enough, and a second only adds
            // cross-thread wake-ups (about 20% more CPU for the same wall time).
            .worker_threads(1)
            .thread_name("biolm-blocking")
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        let inner = b.build()?;
        Ok(Client {
            inner,
            rt: Arc::new(RuntimeHolder(Some(rt))),
        })
    }

    /// The async client behind this one (same pool, limits and counters).
    pub fn as_async(&self) -> &crate::Client {
        &self.inner
    }

    /// Traffic counters since the client was built.
    pub fn stats(&self) -> ClientStats {
        self.inner.stats()
    }

    /// Calls one action on many items; see [`crate::Client::call`].
    pub fn call<I, P, R, T>(&self, spec: &'static ActionSpec, items: T) -> Call<I, P, R>
    where
        T: IntoIterator<Item = I>,
        T::IntoIter: Send + 'static,
        I: Serialize + Send + Sync + 'static,
        P: Serialize + Send + Sync + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        Call {
            call: self.inner.call(spec, items),
            rt: self.rt.clone(),
        }
    }

    /// Calls one action on a single item; see [`crate::Client::call_one`].
    pub fn call_one<I, P, R>(&self, spec: &'static ActionSpec, item: I) -> One<I, P, R>
    where
        I: Serialize + Send + Sync + 'static,
        P: Serialize + Send + Sync + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        self.block_one(self.inner.call_one(spec, item))
    }

    /// The blocking form of an async call built on [`Client::as_async`]
    /// (how the generated blocking handles wrap the async ones).
    pub fn block<I, P, R>(&self, call: crate::Call<I, P, R>) -> Call<I, P, R> {
        Call {
            call,
            rt: self.rt.clone(),
        }
    }

    /// The blocking form of an async single-item call built on [`Client::as_async`].
    pub fn block_one<I, P, R>(&self, one: crate::One<I, P, R>) -> One<I, P, R> {
        One {
            one,
            rt: self.rt.clone(),
        }
    }

    /// Calls `slug/action` with JSON values; see [`crate::Client::untyped`].
    pub fn untyped<T>(&self, slug: &str, action: &str, items: T) -> Call<Value, Value, Value>
    where
        T: IntoIterator<Item = Value>,
        T::IntoIter: Send + 'static,
    {
        Call {
            call: self.inner.untyped(slug, action).call(items),
            rt: self.rt.clone(),
        }
    }
}

/// A blocking call; see [`crate::Call`].
#[must_use = "a call does nothing until it is sent"]
pub struct Call<I, P, R> {
    call: crate::Call<I, P, R>,
    rt: Arc<RuntimeHolder>,
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
    one: crate::One<I, P, R>,
    rt: Arc<RuntimeHolder>,
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
    stream: Option<crate::OutcomeStream<R>>,
    rt: Arc<RuntimeHolder>,
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
