//! Client configuration: [`ClientBuilder`] and the API [`Target`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::hooks::{AttemptInfo, Hooks, RequestInfo};
use crate::rate_limit::RateLimit;
use crate::retry::RetryPolicy;
use crate::secret::Token;
use crate::Error;

/// The default base URL: the hosted platform.
pub const DEFAULT_BASE_URL: &str = "https://biolm.ai/api/v3";

/// The default largest response body read (after decompression): 512 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 512 * 1024 * 1024;

pub use crate::transport::Target;

/// Normalises a base URL: trims whitespace and trailing slashes, and assumes
/// `http://` when no scheme is given.
pub(crate) fn normalize_base_url(url: &str) -> Result<String, Error> {
    let url = url.trim().trim_end_matches('/');
    if url.is_empty() {
        return Err(Error::Config(
            "the base URL is empty; set BIOLM_BASE_API_URL or ClientBuilder::base_url, e.g. https://biolm.ai/api/v3".into(),
        ));
    }
    let full = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    match reqwest::Url::parse(&full) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(full),
        Ok(u) => Err(Error::Config(format!(
            "base URL {full:?} has scheme {:?}; use http:// or https://",
            u.scheme()
        ))),
        Err(e) => Err(Error::Config(format!(
            "base URL {full:?} is not a URL ({e})"
        ))),
    }
}

/// Builds a [`Client`](crate::Client).
///
/// ```no_run
/// # fn f() -> Result<(), biolm::Error> {
/// let client = biolm::Client::builder()
///     .base_url("http://127.0.0.1:8000/api/v1")
///     .concurrency(8)
///     .rate_limit("20/second".parse().unwrap())
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    pub(crate) base_url: Option<String>,
    pub(crate) token: Option<Token>,
    pub(crate) target: Option<Target>,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) model_timeouts: HashMap<String, Duration>,
    pub(crate) concurrency: usize,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) use_throttle_rates: bool,
    pub(crate) retry: RetryPolicy,
    pub(crate) compression: Option<bool>,
    pub(crate) accept_gzip: Option<bool>,
    pub(crate) ca_bundle: Option<PathBuf>,
    pub(crate) untyped_batch_size: usize,
    pub(crate) result_budget: u64,
    pub(crate) max_response_bytes: usize,
    #[cfg(feature = "cache")]
    pub(crate) cache: Option<crate::cache::Cache>,
    pub(crate) http_client: Option<reqwest::Client>,
    /// Setters called whose setting lives in the HTTP client (refused with
    /// [`ClientBuilder::http_client`]).
    pub(crate) http_settings: Vec<&'static str>,
    pub(crate) hooks: Hooks,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_url: None,
            token: None,
            target: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(1200),
            model_timeouts: HashMap::new(),
            concurrency: 16,
            rate_limit: None,
            use_throttle_rates: true,
            retry: RetryPolicy::default(),
            compression: None,
            accept_gzip: None,
            ca_bundle: None,
            untyped_batch_size: 8,
            result_budget: crate::budget::DEFAULT_BYTES,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            #[cfg(feature = "cache")]
            cache: None,
            http_client: None,
            http_settings: Vec::new(),
            hooks: Hooks::default(),
        }
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl ClientBuilder {
    /// A builder with the defaults: the hosted platform, no token, 16 requests
    /// in flight, 10 s connect / 1200 s request timeouts, [`RetryPolicy::default`].
    pub fn new() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A builder seeded from the environment: `BIOLM_TOKEN` (legacy
    /// `BIOLMAI_TOKEN`) and `BIOLM_BASE_API_URL` (legacy `BIOLMAI_BASE_API_URL`).
    pub fn from_env() -> ClientBuilder {
        let mut b = ClientBuilder::new();
        if let Some(t) = env_nonempty("BIOLM_TOKEN").or_else(|| env_nonempty("BIOLMAI_TOKEN")) {
            b.token = Some(Token::new(t));
        }
        if let Some(u) =
            env_nonempty("BIOLM_BASE_API_URL").or_else(|| env_nonempty("BIOLMAI_BASE_API_URL"))
        {
            b.base_url = Some(u);
        }
        b
    }

    /// The API base URL, like `https://biolm.ai/api/v3` or `http://host:8000/api/v1`
    /// (no scheme: `http://` assumed; a `/api/v1` suffix selects [`Target::Gateway`]).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The API token, sent as `Authorization: Token <token>`.
    pub fn token(mut self, token: impl Into<Token>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Forces the target instead of detecting it from the base URL.
    pub fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    /// Time allowed to open a connection (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self.http_settings.push("connect_timeout");
        self
    }

    /// Time allowed for one request, response body included (default 1200 s).
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }

    /// A request timeout for one model slug (structure models can need more).
    pub fn model_timeout(mut self, slug: impl Into<String>, d: Duration) -> Self {
        self.model_timeouts.insert(slug.into(), d);
        self
    }

    /// Most requests in flight at once, shared by every call of the client (default 16).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Most bytes of results in flight or waiting to be taken, per call
    /// (default 64 MiB): batches wait to be sent while it is used up, so
    /// memory stays bounded whatever an item's size. A budget smaller than
    /// one response still makes progress, one batch at a time (with a
    /// warning). Before any response size is known, a call sends one batch
    /// alone and admits the rest by the size its response shows (a slow
    /// start), so the first wave stays within it too. See [`crate::budget`].
    pub fn result_budget(mut self, bytes: u64) -> Self {
        self.result_budget = bytes.max(1);
        self
    }

    /// A client-wide rate limit (in addition to each action's `throttle_rate`):
    /// never more than `max` requests in any window of `per`, sent spaced
    /// evenly (`per / max` apart, at most [`rate_limit::MAX_SPACING`](crate::rate_limit::MAX_SPACING)).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Whether actions' own `throttle_rate`s are obeyed (default true).
    pub fn obey_throttle_rates(mut self, yes: bool) -> Self {
        self.use_throttle_rates = yes;
        self
    }

    /// The retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Whether request bodies over 4 KiB are gzip-compressed (default: on for
    /// the platform, off for gateways; smaller bodies are always sent as they
    /// are, since compressing them costs more CPU than it saves bandwidth).
    pub fn compression(mut self, on: bool) -> Self {
        self.compression = Some(on);
        self
    }

    /// Whether responses may come gzip-compressed (`Accept-Encoding: gzip`);
    /// default: on for the platform (less to download), off for gateways
    /// (usually local, where decompressing costs more than it saves).
    pub fn accept_compressed_responses(mut self, on: bool) -> Self {
        self.accept_gzip = Some(on);
        self.http_settings.push("accept_compressed_responses");
        self
    }

    /// Extra root certificates (PEM file), e.g. for a corporate proxy.
    /// `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` are honoured without this.
    pub fn ca_bundle(mut self, pem_file: impl Into<PathBuf>) -> Self {
        self.ca_bundle = Some(pem_file.into());
        self.http_settings.push("ca_bundle");
        self
    }

    /// Batch size of untyped calls to actions the catalog does not know (default 8).
    pub fn untyped_batch_size(mut self, n: usize) -> Self {
        self.untyped_batch_size = n.max(1);
        self
    }

    /// Largest response body read, in bytes after decompression (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`]). A larger reply fails its items with
    /// [`ItemErrorKind::BadResponse`](crate::ItemErrorKind::BadResponse) as soon
    /// as the limit is passed, and is not retried.
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n.max(1);
        self
    }

    /// Answers items from this result cache and stores new results in it
    /// (feature `cache`; see [`crate::cache`]).
    #[cfg(feature = "cache")]
    pub fn cache(mut self, cache: crate::cache::Cache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Sends the requests through this HTTP client: your proxies, TLS
    /// settings and connection pool (shared with the rest of an application).
    ///
    /// The client's own settings then apply, so the builder's settings that
    /// live in an HTTP client ([`ClientBuilder::ca_bundle`],
    /// [`ClientBuilder::connect_timeout`],
    /// [`ClientBuilder::accept_compressed_responses`]) are refused at
    /// [`ClientBuilder::build`]: set them on the `reqwest::Client` instead.
    /// Everything else (token, base URL, request timeouts, retries, rate
    /// limits, request body compression) still applies.
    ///
    /// ```
    /// let http = reqwest::Client::builder()
    ///     .pool_max_idle_per_host(4)
    ///     .build()
    ///     .expect("an HTTP client");
    /// let client = biolm::Client::builder()
    ///     .base_url("http://127.0.0.1:9/api/v1")
    ///     .http_client(http)
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), biolm::Error>(())
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Runs `hook` before every HTTP attempt (retries included): it sees the
    /// model, action, attempt number, URL and headers (secrets redacted) and
    /// may add headers. Hooks run in the order they were added. See [`crate::hooks`].
    pub fn on_request(
        mut self,
        hook: impl Fn(&mut RequestInfo<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.hooks.add_request(Arc::new(hook));
        self
    }

    /// Runs `hook` after every HTTP attempt with its status, timing and
    /// request id (or why no reply came), secrets redacted. See [`crate::hooks`].
    pub fn on_response(mut self, hook: impl Fn(&AttemptInfo<'_>) + Send + Sync + 'static) -> Self {
        self.hooks.add_response(Arc::new(hook));
        self
    }
}
