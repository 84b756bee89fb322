//! Request and response hooks: add headers to every attempt, and observe each
//! attempt's status, timing and request id (for metrics, tracing or logs).
//!
//! Hooks are set on the builder ([`ClientBuilder::on_request`],
//! [`ClientBuilder::on_response`]) and run on every HTTP attempt, retries
//! included. They never see a secret: the `Authorization` header shows
//! `Token ***`, and the URL and error messages have the token and the base
//! URL's secrets replaced by `***` (see [`crate::secret::Redactor`]).
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//! use biolm::hooks::{AttemptInfo, RequestInfo};
//! use reqwest::header::{HeaderName, HeaderValue};
//!
//! let attempts = Arc::new(AtomicUsize::new(0));
//! let seen = attempts.clone();
//! let client = biolm::Client::builder()
//!     .base_url("http://127.0.0.1:9/api/v1")
//!     .on_request(|r: &mut RequestInfo<'_>| {
//!         r.insert_header(
//!             HeaderName::from_static("x-trace-id"),
//!             HeaderValue::from_static("run-42"),
//!         );
//!     })
//!     .on_response(move |a: &AttemptInfo<'_>| {
//!         seen.fetch_add(1, Ordering::Relaxed);
//!         eprintln!("{} {:?} in {:?}", a.url, a.status, a.elapsed);
//!     })
//!     .build()?;
//! # let _ = client;
//! # Ok::<(), biolm::Error>(())
//! ```
//!
//! [`ClientBuilder::on_request`]: crate::ClientBuilder::on_request
//! [`ClientBuilder::on_response`]: crate::ClientBuilder::on_response

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// What a request hook sees of one attempt, and the headers it may add.
#[derive(Debug)]
pub struct RequestInfo<'a> {
    slug: &'a str,
    action: &'a str,
    attempt: u32,
    url: &'a str,
    headers: &'a HeaderMap,
    added: HeaderMap,
}

impl<'a> RequestInfo<'a> {
    pub(crate) fn new(
        slug: &'a str,
        action: &'a str,
        attempt: u32,
        url: &'a str,
        headers: &'a HeaderMap,
    ) -> Self {
        RequestInfo {
            slug,
            action,
            attempt,
            url,
            headers,
            added: HeaderMap::new(),
        }
    }

    /// The model variant's slug (`esm2-8m`).
    pub fn slug(&self) -> &str {
        self.slug
    }

    /// The action (`encode`).
    pub fn action(&self) -> &str {
        self.action
    }

    /// The attempt's number: 1 for the first send, 2 for the first retry, ...
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The URL posted to, its secrets replaced by `***`.
    pub fn url(&self) -> &str {
        self.url
    }

    /// The headers the client sends (`Authorization` shows `Token ***`),
    /// without those added by hooks.
    pub fn headers(&self) -> &HeaderMap {
        self.headers
    }

    /// Adds a header to this attempt (replacing one of the same name that an
    /// earlier hook added, or one the client sends).
    pub fn insert_header(&mut self, name: HeaderName, value: HeaderValue) {
        self.added.insert(name, value);
    }

    /// The headers the hooks added.
    pub(crate) fn into_added(self) -> HeaderMap {
        self.added
    }
}

/// What a response hook sees of one finished attempt.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AttemptInfo<'a> {
    /// The model variant's slug.
    pub slug: &'a str,
    /// The action.
    pub action: &'a str,
    /// The attempt's number (1 = the first send).
    pub attempt: u32,
    /// The URL posted to, its secrets replaced by `***`.
    pub url: &'a str,
    /// The reply's HTTP status; `None` when no reply came (connection
    /// failure, timeout, broken connection).
    pub status: Option<u16>,
    /// Time from sending the request to having read the whole reply (or the failure).
    pub elapsed: Duration,
    /// The server's request id (`x-request-id`), if any.
    pub request_id: Option<&'a str>,
    /// Why no complete reply came, secrets replaced by `***`.
    pub error: Option<&'a str>,
}

type RequestHook = Arc<dyn Fn(&mut RequestInfo<'_>) + Send + Sync>;
type ResponseHook = Arc<dyn Fn(&AttemptInfo<'_>) + Send + Sync>;

/// The hooks of a client, in the order they were added.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    request: Vec<RequestHook>,
    response: Vec<ResponseHook>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("request", &self.request.len())
            .field("response", &self.response.len())
            .finish()
    }
}

impl Hooks {
    pub(crate) fn add_request(&mut self, f: RequestHook) {
        self.request.push(f);
    }

    pub(crate) fn add_response(&mut self, f: ResponseHook) {
        self.response.push(f);
    }

    /// Whether any hook is set (the engine skips the bookkeeping otherwise).
    pub(crate) fn is_empty(&self) -> bool {
        self.request.is_empty() && self.response.is_empty()
    }

    /// Runs the request hooks; the headers they added.
    pub(crate) fn on_request(&self, mut info: RequestInfo<'_>) -> HeaderMap {
        for h in &self.request {
            h(&mut info);
        }
        info.into_added()
    }

    /// Runs the response hooks.
    pub(crate) fn on_response(&self, info: &AttemptInfo<'_>) {
        for h in &self.response {
            h(info);
        }
    }
}
