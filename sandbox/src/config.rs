//! What a sandbox serves and how it misbehaves: [`SandboxConfig`] and its parts.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use biolm_catalog::SchemaSet;

/// Where the sandbox takes its model schemas from.
#[derive(Debug, Clone)]
pub enum SchemaSource {
    /// A directory in the project layout (`schemas/<family>.json`) or the reference
    /// layout (`index.json` plus per-slug files), read with [`biolm_catalog::load_dir`].
    Dir(PathBuf),
    /// A schema set already in memory (for example one built from the SDK's compiled-in catalog).
    Set(Arc<SchemaSet>),
}

impl From<PathBuf> for SchemaSource {
    fn from(path: PathBuf) -> Self {
        SchemaSource::Dir(path)
    }
}

impl From<&std::path::Path> for SchemaSource {
    fn from(path: &std::path::Path) -> Self {
        SchemaSource::Dir(path.to_path_buf())
    }
}

impl From<&str> for SchemaSource {
    fn from(path: &str) -> Self {
        SchemaSource::Dir(PathBuf::from(path))
    }
}

impl From<SchemaSet> for SchemaSource {
    fn from(set: SchemaSet) -> Self {
        SchemaSource::Set(Arc::new(set))
    }
}

/// How long the sandbox waits before answering a model call.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Latency {
    /// Answer at once.
    #[default]
    None,
    /// Always wait this long.
    Fixed(Duration),
    /// Wait a duration drawn uniformly from `min..=max` (deterministic for a given seed).
    Uniform {
        /// Shortest wait.
        min: Duration,
        /// Longest wait.
        max: Duration,
    },
}

/// Whether [`Latency`] applies once per request or once per item of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LatencyScope {
    /// One wait per request, whatever its size.
    #[default]
    PerRequest,
    /// One wait per item, summed (a batch of 8 waits 8 times as long).
    PerItem,
}

/// One kind of injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// Drop the TCP connection with a reset, sending no response.
    ConnectionReset,
    /// HTTP 500 with a JSON error body that names no item.
    Status500,
    /// HTTP 502 (bad gateway).
    Status502,
    /// HTTP 503 (service unavailable), with `Retry-After: 1`.
    Status503,
    /// HTTP 429 with `Retry-After: 1`.
    Status429,
    /// Sleep for [`Faults::stall`] before answering (longer than a client's timeout).
    Stall,
    /// Send the headers and half the body, then close the connection.
    TruncatedBody,
    /// HTTP 200 with `results` and an `error` naming one item (`items__{i}__...`),
    /// whose slot in `results` is `null`.
    PartialSuccess,
    /// HTTP 200 with one result too few (or one too many for a single-item batch).
    WrongResultCount,
}

impl FaultKind {
    /// Every kind, in a fixed order.
    pub const ALL: [FaultKind; 9] = [
        FaultKind::ConnectionReset,
        FaultKind::Status500,
        FaultKind::Status502,
        FaultKind::Status503,
        FaultKind::Status429,
        FaultKind::Stall,
        FaultKind::TruncatedBody,
        FaultKind::PartialSuccess,
        FaultKind::WrongResultCount,
    ];

    /// The kind's name on the command line and in [`crate::Stats::faults`] (`reset`, `500`, `stall`, ...).
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::ConnectionReset => "reset",
            FaultKind::Status500 => "500",
            FaultKind::Status502 => "502",
            FaultKind::Status503 => "503",
            FaultKind::Status429 => "429",
            FaultKind::Stall => "stall",
            FaultKind::TruncatedBody => "truncated",
            FaultKind::PartialSuccess => "partial",
            FaultKind::WrongResultCount => "wrong-count",
        }
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for FaultKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = FaultKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown fault kind `{s}`; use one of: {}", names.join(", "))
            })
    }
}

/// Injected failures: each model call fails with probability `rate`, with a kind
/// drawn from `kinds`. The draws come from a generator seeded with `seed`, so a
/// run with the same requests in the same order sees the same faults.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Probability (0..=1) that a model call fails.
    pub rate: f64,
    /// The kinds to draw from (all kinds when empty).
    pub kinds: Vec<FaultKind>,
    /// Seed of the fault and latency generator.
    pub seed: u64,
    /// How long a [`FaultKind::Stall`] sleeps before answering.
    pub stall: Duration,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            rate: 0.0,
            kinds: Vec::new(),
            seed: 0,
            stall: Duration::from_secs(60),
        }
    }
}

/// Everything a [`crate::Sandbox`] needs to start.
///
/// Build it with [`SandboxConfig::new`] and the chained setters, or fill the public fields.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The schemas to serve.
    pub schemas: SchemaSource,
    /// Delay before each model call is answered.
    pub latency: Latency,
    /// Whether `latency` is per request or per item.
    pub latency_scope: LatencyScope,
    /// Most model calls per second; calls beyond it get 429 with `Retry-After`.
    pub throttle: Option<f64>,
    /// When set, model calls need `Authorization: Token <token>` (else 401).
    pub token: Option<String>,
    /// Injected failures.
    pub faults: Faults,
    /// Compress responses when the client sends `Accept-Encoding: gzip` (on by default).
    pub gzip_responses: bool,
    /// Answer 401 when a schema request carries an `Authorization` header, as the
    /// hosted platform does (off by default, since `biolmai` sends its token there).
    pub schema_rejects_token: bool,
    /// Embedding width for variants whose schemas state none (`x-biolm-embedding-dim`).
    pub default_embedding_dim: usize,
    /// Also enforce each action's own `throttle_rate` from its schema (`"20/second"`,
    /// `"600/minute"`), per (variant, action), as the hosted platform does. Off by default.
    pub schema_throttle: bool,
    /// Send `Retry-After` as an HTTP date instead of a number of seconds.
    pub retry_after_date: bool,
    /// Treat gzip request bodies on `/api/v1` as a FastAPI gateway does: not decoded,
    /// so they fail as invalid JSON (422). Off by default (gzip is accepted everywhere).
    pub gateway_rejects_gzip: bool,
    /// Largest synthetic response body, in bytes (default 512 MiB); larger ones get 413.
    pub max_response_bytes: usize,
    /// Serve `/api/v1` exactly as a catalog gateway (FastAPI) does: the route only
    /// without a trailing slash, only the gateway's action names (`esmfold/fold`, not
    /// `predict`), gzip request bodies not decoded (422 `json_invalid`), and every
    /// error in the gateway's shape. Off by default (the gateway routes are lenient).
    pub strict_gateway: bool,
}

impl SandboxConfig {
    /// A config serving `schemas` with no latency, throttle, token or faults.
    pub fn new(schemas: impl Into<SchemaSource>) -> Self {
        SandboxConfig {
            schemas: schemas.into(),
            latency: Latency::None,
            latency_scope: LatencyScope::PerRequest,
            throttle: None,
            token: None,
            faults: Faults::default(),
            gzip_responses: true,
            schema_rejects_token: false,
            default_embedding_dim: 320,
            schema_throttle: false,
            retry_after_date: false,
            gateway_rejects_gzip: false,
            max_response_bytes: 512 * 1024 * 1024,
            strict_gateway: false,
        }
    }

    /// Sets the latency and its scope.
    pub fn latency(mut self, latency: Latency, scope: LatencyScope) -> Self {
        self.latency = latency;
        self.latency_scope = scope;
        self
    }

    /// Limits model calls to `per_second`.
    pub fn throttle(mut self, per_second: f64) -> Self {
        self.throttle = Some(per_second);
        self
    }

    /// Requires `Authorization: Token <token>` on model calls.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Injects faults of `kinds` (all kinds when empty) into a `rate` share of model calls.
    pub fn faults(
        mut self,
        rate: f64,
        kinds: impl IntoIterator<Item = FaultKind>,
        seed: u64,
    ) -> Self {
        self.faults.rate = rate;
        self.faults.kinds = kinds.into_iter().collect();
        self.faults.seed = seed;
        self
    }

    /// Sets how long a stall fault sleeps.
    pub fn stall(mut self, stall: Duration) -> Self {
        self.faults.stall = stall;
        self
    }

    /// Turns the strict gateway mode on or off (see [`SandboxConfig::strict_gateway`]).
    pub fn strict_gateway(mut self, on: bool) -> Self {
        self.strict_gateway = on;
        self
    }

    /// Turns gzip responses on or off.
    pub fn gzip_responses(mut self, on: bool) -> Self {
        self.gzip_responses = on;
        self
    }
}
