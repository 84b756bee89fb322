//! A blocking client mirroring the async one (reqwest-style).
//!
//! A [`blocking::Client`](Client) owns a small tokio runtime and drives the
//! async client on it. Calling it from inside an async runtime returns
//! [`Error::BlockingInAsyncContext`] instead of blocking (or panicking); in
//! async code use [`crate::Client`], or make the blocking call from a thread
//! started with `std::thread::spawn`.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

mod builder;
mod call;

pub use builder::ClientBuilder;
pub use call::{Call, One, Outcomes};

use crate::spec::ActionSpec;
use crate::{ClientStats, Error};

pub(crate) struct RuntimeHolder(pub(crate) Option<tokio::runtime::Runtime>);

impl Drop for RuntimeHolder {
    fn drop(&mut self) {
        // Never blocks, so dropping the last client inside an async runtime is safe.
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl RuntimeHolder {
    pub(crate) fn block_on<F: std::future::Future>(&self, f: F) -> Result<F::Output, Error> {
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
    /// A builder with defaults (see [`crate::ClientBuilder::new`]), whose
    /// `build()` gives a blocking client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from the environment (see [`crate::ClientBuilder::from_env`]).
    pub fn from_env() -> Result<Client, Error> {
        Client::from_builder(crate::ClientBuilder::from_env())
    }

    /// A blocking client with an async builder's configuration.
    pub fn from_builder(b: crate::ClientBuilder) -> Result<Client, Error> {
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

    /// An untyped handle on `slug/action` (JSON values in and out); see
    /// [`crate::Client::untyped`].
    pub fn untyped(&self, slug: &str, action: &str) -> Untyped {
        Untyped {
            inner: self.inner.untyped(slug, action),
            client: self.clone(),
        }
    }
}

/// An action called with JSON values (see [`Client::untyped`]).
#[derive(Debug, Clone)]
pub struct Untyped {
    inner: crate::Untyped,
    client: Client,
}

impl Untyped {
    /// The spec used (from the catalog, or built for an unknown pair).
    pub fn spec(&self) -> &ActionSpec {
        self.inner.spec()
    }

    /// Whether the pair is in the generated catalog.
    pub fn is_known(&self) -> bool {
        self.inner.is_known()
    }

    /// Calls the action on `items`.
    pub fn call<T>(&self, items: T) -> Call<Value, Value, Value>
    where
        T: IntoIterator<Item = Value>,
        T::IntoIter: Send + 'static,
    {
        self.client.block(self.inner.call(items))
    }
}
