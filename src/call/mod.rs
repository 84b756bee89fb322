//! The call builder: one action over many items.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::stream::{BoxStream, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

#[cfg(feature = "cache")]
mod cache;
mod one;
mod write;

pub use one::One;

use crate::engine::{CallCtx, IdSource, Launch};
use crate::inner::ClientInner;
use crate::progress::{Progress, ProgressFn};
use crate::rate_limit::RateLimit;
use crate::spec::SpecRef;
use crate::{validation, Error, Outcome};

pub use crate::engine::OutcomeStream;
pub use crate::outcome::ErrorPolicy;

/// A call of one action over many items, built by [`Client::call`](crate::Client::call) or a
/// generated method. Configure it, then `.await` it (all outcomes, in input
/// order), or consume it with [`Call::stream`], [`Call::ordered`] or [`Call::write_jsonl`].
#[must_use = "a call does nothing until it is awaited or streamed"]
pub struct Call<I, P, R> {
    pub(crate) client: Arc<ClientInner>,
    pub(crate) spec: SpecRef,
    pub(crate) input: BoxStream<'static, I>,
    pub(crate) total: Option<usize>,
    pub(crate) params: Option<P>,
    pub(crate) batch_size: Option<usize>,
    pub(crate) policy: ErrorPolicy,
    pub(crate) progress: Option<ProgressFn>,
    pub(crate) progress_bar: bool,
    pub(crate) ids: Option<IdSource>,
    pub(crate) window: Option<usize>,
    /// Only this shard of the input ([`Call::shard`]).
    pub(crate) shard: Option<crate::shard::Shard>,
    pub(crate) result_budget: Option<u64>,
    pub(crate) _result: PhantomData<fn() -> R>,
}

impl<I, P, R> std::fmt::Debug for Call<I, P, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let spec = self.spec.get();
        f.debug_struct("Call")
            .field("slug", &spec.slug)
            .field("action", &spec.action)
            .field("total", &self.total)
            .field("batch_size", &self.batch_size)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<I, P, R> Call<I, P, R>
where
    I: Serialize + Send + Sync + 'static,
    P: Serialize + Send + Sync + 'static,
    R: DeserializeOwned + Send + 'static,
{
    pub(crate) fn new(
        client: Arc<ClientInner>,
        spec: SpecRef,
        input: BoxStream<'static, I>,
        total: Option<usize>,
    ) -> Self {
        Call {
            client,
            spec,
            input,
            total,
            params: None,
            batch_size: None,
            policy: ErrorPolicy::CollectAll,
            progress: None,
            progress_bar: false,
            ids: None,
            window: None,
            shard: None,
            result_budget: None,
            _result: PhantomData,
        }
    }

    /// The action's params (sent with every batch; left out when they serialize
    /// to an empty object or null).
    pub fn params(mut self, params: P) -> Self {
        self.params = Some(params);
        self
    }

    /// Items per request, at most the action's own limit (`max_items`); larger
    /// values are cut to the limit.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = Some(n.max(1));
        self
    }

    /// What to do after a failed item (default [`ErrorPolicy::CollectAll`]).
    pub fn error_policy(mut self, policy: ErrorPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Shorthand for `error_policy(ErrorPolicy::StopOnFirstFailure)`.
    pub fn stop_on_first_failure(self) -> Self {
        self.error_policy(ErrorPolicy::StopOnFirstFailure)
    }

    /// A callback run after each item's outcome, with running counts.
    pub fn progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// A progress bar on stderr (feature `progress`; without it this does nothing).
    pub fn progress_bar(mut self) -> Self {
        self.progress_bar = true;
        self
    }

    /// Caller ids for the items, in input order (e.g. FASTA headers), written
    /// to each line of [`Call::write_jsonl`] output (other ways of consuming
    /// the call ignore them).
    ///
    /// The ids are read lazily, one as each item is read, and kept only while
    /// the item is in flight, so ids streamed from a file cost no more memory
    /// than the items do. Items past the end of `ids` get no id.
    pub fn ids<T>(mut self, ids: T) -> Self
    where
        T: IntoIterator,
        T::Item: Into<String> + 'static,
        T::IntoIter: Send + 'static,
    {
        self.ids = Some(Box::new(ids.into_iter().map(Into::into)));
        self
    }

    /// This call's byte budget for results in flight or waiting to be taken
    /// (default: the client's, [`ClientBuilder::result_budget`](crate::ClientBuilder::result_budget)).
    pub fn result_budget(mut self, bytes: u64) -> Self {
        self.result_budget = Some(bytes.max(1));
        self
    }

    /// How far [`Call::ordered`] may read ahead of the oldest unfinished item
    /// (default: 4 × concurrency × batch size).
    pub fn reorder_window(mut self, items: usize) -> Self {
        self.window = Some(items.max(1));
        self
    }

    /// Runs only this shard of the input: the items whose input index `k`
    /// has `k % N == I` ([`crate::shard`]). Outcomes keep their index in the
    /// whole input (the stream's indexes and [`Call::write_jsonl`]'s lines);
    /// awaiting the call gives the shard's outcomes in input order. The
    /// [`Call::write_jsonl`] header records the shard, and
    /// [`crate::jsonl::merge`] joins the shards' files.
    ///
    /// ```no_run
    /// # async fn f(client: biolm::Client, items: Vec<biolm::esm2::Esm2EncodeItem>) -> Result<(), biolm::Error> {
    /// let shard: biolm::shard::Shard = "2/8".parse()?;
    /// client.esm2_8m().encode(items).shard(shard).write_jsonl("part-2.jsonl").await?;
    /// # Ok(()) }
    /// ```
    pub fn shard(mut self, shard: crate::shard::Shard) -> Self {
        self.shard = Some(shard);
        self
    }

    /// The call's outcomes as they complete: `(input index, outcome)` pairs.
    /// Memory stays bounded by the requests in flight, whatever the input
    /// length. Dropping the stream cancels the requests in flight.
    pub fn stream(self) -> OutcomeStream<R> {
        self.start::<R>(false, |i| i.enumerate().boxed())
    }

    /// The call's outcomes in input order, read ahead by at most the reorder
    /// window ([`Call::reorder_window`]).
    pub fn ordered(self) -> OutcomeStream<R> {
        self.start::<R>(true, |i| i.enumerate().boxed())
    }

    /// Writes one JSON line per item to `path` as results complete, and resumes
    /// an interrupted run of the same job (see [`crate::jsonl`]).
    pub async fn write_jsonl(
        self,
        path: impl AsRef<Path>,
    ) -> Result<crate::jsonl::JsonlSummary, Error> {
        write::run(self.launch()?, path.as_ref()).await
    }

    /// Validates the params, builds the shared call context once, and takes
    /// the call apart for starting: what [`crate::jsonl`] uses instead of the
    /// call's fields.
    pub(crate) fn launch(self) -> Result<Launch<I>, Error> {
        let (ctx, params) = self.context()?;
        Ok(Launch {
            ctx,
            params,
            input: self.input,
            ids: self.ids,
            total: self.total,
            concurrency: self.client.concurrency,
            window: self.window,
            progress: self.progress,
            progress_bar: self.progress_bar,
            shard: self.shard,
        })
    }

    /// Validates the params and builds the shared call context.
    fn context(&self) -> Result<(Arc<CallCtx>, Value), Error> {
        let spec = self.spec.get();
        let inner = &self.client;
        let params_value = match &self.params {
            None => Value::Null,
            Some(p) => serde_json::to_value(p).map_err(|e| Error::Serialize {
                what: "params".into(),
                source: e,
            })?,
        };
        let empty = validation::params_empty(&params_value);
        let params_required = validation::check_params(spec, &params_value, self.params.is_some())?;
        // Required params are sent even when empty (`{}`): the server needs the key.
        let params_json = (!empty || params_required).then(|| params_value.to_string());
        let unseeded_generate =
            spec.action == "generate" && params_value.get("seed").is_none_or(Value::is_null);
        let may_retry = inner.retry.retry_unseeded_generate || !unseeded_generate;
        let throttle = if inner.use_throttle_rates {
            spec.throttle_rate
                .as_deref()
                .and_then(|r| r.parse::<RateLimit>().ok())
        } else {
            None
        };
        let batch_size = self
            .batch_size
            .unwrap_or(spec.max_items)
            .min(spec.max_items)
            .max(1);
        let ctx = CallCtx {
            client: inner.clone(),
            spec: self.spec.clone(),
            budget: Some(crate::budget::Budget::learning(
                self.result_budget.unwrap_or(inner.result_budget),
                inner.concurrency,
                inner
                    .result_sizes
                    .lock()
                    .map(|mut m| {
                        m.entry(format!("{}/{}", spec.slug, spec.action))
                            .or_default()
                            .clone()
                    })
                    .unwrap_or_default(),
            )),
            url: inner
                .transport
                .url(&spec.slug, &spec.action, &spec.gateway_action),
            params_json,
            batch_size,
            policy: self.policy,
            timeout: inner
                .model_timeouts
                .get(spec.slug.as_ref())
                .copied()
                .unwrap_or(inner.request_timeout),
            may_retry,
            throttle,
            rate_key: format!("{}/{}", spec.slug, spec.action),
        };
        Ok((Arc::new(ctx), params_value))
    }

    /// Starts the call with results decoded as `T`: through the client's
    /// result cache when it has one (feature `cache`), else straight to the engine.
    pub(crate) fn start<T>(
        self,
        ordered: bool,
        input: impl FnOnce(BoxStream<'static, I>) -> BoxStream<'static, (usize, I)>,
    ) -> OutcomeStream<T>
    where
        T: DeserializeOwned + Send + 'static,
    {
        match self.launch() {
            Ok(launch) => run(launch, ordered, input),
            Err(e) => OutcomeStream::failed(e),
        }
    }
}

/// Runs a launched call: through the client's result cache when it has one
/// (feature `cache`), else straight to the engine. A shard's items run under
/// their positions in the shard (the engine sees 0, 1, 2, ...); the stream
/// maps them back to input indexes.
pub(crate) fn run<I, T>(
    mut launch: Launch<I>,
    ordered: bool,
    input: impl FnOnce(BoxStream<'static, I>) -> BoxStream<'static, (usize, I)>,
) -> OutcomeStream<T>
where
    I: Serialize + Send + Sync + 'static,
    T: DeserializeOwned + Send + 'static,
{
    let mut items = std::mem::replace(&mut launch.input, futures_util::stream::empty().boxed());
    if let Some(s) = launch.shard {
        launch.total = launch.total.map(|t| s.len_of(t));
        items = s.select(items);
    }
    let indexed = input(items);
    #[cfg(feature = "cache")]
    let (launch, indexed) = match cache::start::<I, T>(launch, ordered, indexed) {
        Ok(stream) => return stream,
        Err(back) => *back,
    };
    launch.start(ordered, indexed)
}

impl<I, P, R> IntoFuture for Call<I, P, R>
where
    I: Serialize + Send + Sync + 'static,
    P: Serialize + Send + Sync + 'static,
    R: DeserializeOwned + Send + 'static,
{
    type Output = Result<Vec<Outcome<R>>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        let shard = self.shard;
        let hint = self.total.unwrap_or(0);
        let mut stream = self.stream();
        Box::pin(async move {
            let mut out: Vec<Option<Outcome<R>>> = Vec::with_capacity(hint);
            while let Some(x) = stream.next().await {
                let (i, o) = x?;
                let i = shard.map_or(i, |s| s.local(i));
                if i >= out.len() {
                    out.resize_with(i + 1, || None);
                }
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some(o);
                }
            }
            out.into_iter()
                .enumerate()
                .map(|(i, o)| {
                    o.ok_or_else(|| Error::Interrupted(format!("item {i} got no outcome")))
                })
                .collect()
        })
    }
}
