//! The async client.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures_util::stream::{self, Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::config::{normalize_base_url, ClientBuilder, Target, DEFAULT_BASE_URL};
use crate::inner::{ClientInner, Stats};
use crate::rate_limit::Pacer;
use crate::reachability::Reachability;
use crate::spec::{ActionSpec, SpecRef};
use crate::{Call, Error, One};

/// Counters of one client's traffic, for monitoring and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent (every attempt counts).
    pub requests: u64,
    /// Of those, retries of an earlier attempt.
    pub retries: u64,
    /// Items re-sent after a reply that failed their batch without naming them.
    pub resends: u64,
}

/// The BioLM client. Cheap to clone: clones share the connection pool, the
/// in-flight limit and the rate limits.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.transport.base)
            .field("target", &self.inner.transport.target)
            .field("concurrency", &self.inner.concurrency)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Builds the client.
    ///
    /// Fails with [`Error::Config`] on an unusable base URL or token, and when
    /// [`ClientBuilder::http_client`] is combined with settings that live in
    /// the HTTP client.
    pub fn build(self) -> Result<Client, Error> {
        Client::from_builder(self)
    }
}

impl Client {
    /// A builder with defaults (see [`ClientBuilder::new`]).
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from the environment (see [`ClientBuilder::from_env`]).
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env().build()
    }

    pub(crate) fn from_builder(b: ClientBuilder) -> Result<Client, Error> {
        let base = normalize_base_url(b.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let transport = crate::build::transport(&b, base)?;
        let inner = ClientInner {
            transport,
            semaphore: Arc::new(Semaphore::new(b.concurrency)),
            concurrency: b.concurrency,
            pacer: Pacer::new(b.rate_limit),
            retry: b.retry.clone(),
            request_timeout: b.request_timeout,
            model_timeouts: b.model_timeouts.clone(),
            use_throttle_rates: b.use_throttle_rates,
            untyped_batch_size: b.untyped_batch_size,
            result_budget: b.result_budget,
            result_sizes: Default::default(),
            stats: Stats::default(),
            reachability: Reachability::default(),
            #[cfg(feature = "cache")]
            cache: b.cache.clone(),
            hooks: b.hooks.clone(),
        };
        Ok(Client {
            inner: Arc::new(inner),
        })
    }

    /// The result cache the client answers items from (feature `cache`).
    #[cfg(feature = "cache")]
    pub fn cache(&self) -> Option<&crate::cache::Cache> {
        self.inner.cache.as_ref()
    }

    /// The normalised base URL.
    pub fn base_url(&self) -> &str {
        &self.inner.transport.base
    }

    /// The API flavour the client speaks.
    pub fn target(&self) -> Target {
        self.inner.transport.target
    }

    /// Traffic counters since the client was built.
    pub fn stats(&self) -> ClientStats {
        let s = &self.inner.stats;
        ClientStats {
            requests: s.requests.load(Ordering::Relaxed),
            retries: s.retries.load(Ordering::Relaxed),
            resends: s.resends.load(Ordering::Relaxed),
        }
    }

    /// Calls one action on many items. Items are validated, batched, sent with
    /// the client's limits and retries; the call yields one [`crate::Outcome`] per item.
    pub fn call<I, P, R, T>(&self, spec: &'static ActionSpec, items: T) -> Call<I, P, R>
    where
        T: IntoIterator<Item = I>,
        T::IntoIter: Send + 'static,
        I: Serialize + Send + Sync + 'static,
        P: Serialize + Send + Sync + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        self.call_spec(SpecRef::Static(spec), items)
    }

    pub(crate) fn call_spec<I, P, R, T>(&self, spec: SpecRef, items: T) -> Call<I, P, R>
    where
        T: IntoIterator<Item = I>,
        T::IntoIter: Send + 'static,
        I: Serialize + Send + Sync + 'static,
        P: Serialize + Send + Sync + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        let iter = items.into_iter();
        let total = match iter.size_hint() {
            (lo, Some(hi)) if lo == hi => Some(lo),
            _ => None,
        };
        Call::new(self.inner.clone(), spec, stream::iter(iter).boxed(), total)
    }

    /// Calls one action on a single item: `.await` gives its result, or the
    /// item's error as [`Error::Item`] (see [`crate::One`]).
    pub fn call_one<I, P, R>(&self, spec: &'static ActionSpec, item: I) -> One<I, P, R>
    where
        I: Serialize + Send + Sync + 'static,
        P: Serialize + Send + Sync + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        One::new(self.call(spec, [item]))
    }

    /// Calls one action on a stream of items (memory stays bounded whatever
    /// the stream's length).
    pub fn call_stream<I, P, R, S>(&self, spec: &'static ActionSpec, items: S) -> Call<I, P, R>
    where
        S: Stream<Item = I> + Send + 'static,
        I: Serialize + Send + Sync + 'static,
        P: Serialize + Send + Sync + 'static,
        R: DeserializeOwned + Send + 'static,
    {
        Call::new(
            self.inner.clone(),
            SpecRef::Static(spec),
            items.boxed(),
            None,
        )
    }

    /// An untyped handle on `slug/action` (JSON values in and out). Uses the
    /// catalog's spec when the pair is known (batch limit, validation), else
    /// batches of [`ClientBuilder::untyped_batch_size`] with no local validation.
    pub fn untyped(&self, slug: &str, action: &str) -> Untyped {
        let spec = match crate::catalog::find(slug).and_then(|v| v.action(action)) {
            Some(s) => SpecRef::Static(s),
            None => SpecRef::Owned(Arc::new(ActionSpec::untyped(
                slug,
                action,
                self.inner.untyped_batch_size,
            ))),
        };
        Untyped {
            client: self.clone(),
            spec,
        }
    }
}

/// An action called with JSON values (see [`Client::untyped`]).
#[derive(Debug, Clone)]
pub struct Untyped {
    client: Client,
    spec: SpecRef,
}

impl Untyped {
    /// The spec used (from the catalog, or built for an unknown pair).
    pub fn spec(&self) -> &ActionSpec {
        self.spec.get()
    }

    /// Whether the pair is in the generated catalog.
    pub fn is_known(&self) -> bool {
        matches!(self.spec, SpecRef::Static(_))
    }

    /// Calls the action on `items`.
    pub fn call<T>(&self, items: T) -> Call<Value, Value, Value>
    where
        T: IntoIterator<Item = Value>,
        T::IntoIter: Send + 'static,
    {
        self.client.call_spec(self.spec.clone(), items)
    }

    /// Calls the action on a stream of items.
    pub fn call_stream<S>(&self, items: S) -> Call<Value, Value, Value>
    where
        S: Stream<Item = Value> + Send + 'static,
    {
        Call::new(
            self.client.inner.clone(),
            self.spec.clone(),
            items.boxed(),
            None,
        )
    }
}
