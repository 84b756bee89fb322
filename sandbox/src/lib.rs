//! A local BioLM-compatible HTTP server, driven by model JSON Schemas.
//!
//! The sandbox serves every (variant, action) of a schema set on the platform
//! routes (`POST /api/v3/{model}/{action}/`, `GET /api/v3/schema/{model}/{action}/`)
//! and the gateway routes (`POST /api/v1/{model}/{action}`, `GET /openapi.json`).
//! It validates each request against the action's request schema and answers
//! with **synthetic** results (marked by the `x-biolm-sandbox: synthetic`
//! header) that validate against the response schema: deterministic, sized
//! like the real thing (embedding widths, per-residue arrays, L x L maps, PDB
//! and mmCIF text), and never the output of a model.
//!
//! It can misbehave on purpose (latency, a throttle, a token check, and
//! injected faults such as resets, 5xx, stalls, truncated bodies, partial
//! success and wrong result counts), and counts what it sees ([`Stats`]), which
//! is what the SDK's tests are built on.
//!
//! ```no_run
//! # async fn demo() -> Result<(), biolm_sandbox::SandboxError> {
//! use biolm_sandbox::{Sandbox, SandboxConfig};
//! let sandbox = Sandbox::start(SandboxConfig::new("schemas")).await?;
//! println!("platform API at {}", sandbox.base_url());
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod args;
mod config;
mod endpoint;
mod error;
mod openapi;
mod server;
mod stats;
mod synth;
mod throttle;
mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use args::ServeArgs;
pub use config::{FaultKind, Faults, Latency, LatencyScope, SandboxConfig, SchemaSource};
pub use error::{ActionProblem, SandboxError, SchemaProblem, SchemaSide};
pub use stats::{Arrivals, Stats};

use endpoint::Endpoints;
use server::State;

/// A running sandbox server. Dropping it stops the server.
pub struct Sandbox {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .field("pairs", &self.state.endpoints.list.len())
            .finish()
    }
}

/// Loads and compiles everything `config` asks to serve.
fn prepare(config: &SandboxConfig) -> Result<Endpoints, SandboxError> {
    let started = Instant::now();
    let (set, origin) = match &config.schemas {
        SchemaSource::Dir(dir) => (Arc::new(biolm_catalog::load_dir(dir)?), dir.clone()),
        SchemaSource::Set(set) => (
            set.clone(),
            std::path::PathBuf::from("<in-memory schema set>"),
        ),
    };
    if !(0.0..=1.0).contains(&config.faults.rate) {
        return Err(SandboxError::Config(format!(
            "fault rate {} is outside 0..=1",
            config.faults.rate
        )));
    }
    if let Some(t) = config.throttle {
        if !(t.is_finite() && t > 0.0) {
            return Err(SandboxError::Config(format!(
                "throttle {t} must be a positive number of requests per second"
            )));
        }
    }
    let endpoints = Endpoints::build(&set, config.default_embedding_dim);
    if endpoints.list.is_empty() {
        if endpoints.unusable.is_empty() {
            return Err(SandboxError::Empty(origin));
        }
        return Err(SandboxError::NothingServable {
            dir: origin,
            problems: endpoints.problems(),
        });
    }
    for problem in endpoints.problems() {
        tracing::warn!("skipping {problem}");
    }
    tracing::info!(
        pairs = endpoints.list.len(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "sandbox schemas compiled"
    );
    Ok(endpoints)
}

impl Sandbox {
    /// Starts a sandbox on `127.0.0.1` on a free port, on the current tokio runtime.
    pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let listener =
            TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|source| SandboxError::Bind {
                    addr: "127.0.0.1:0".into(),
                    source,
                })?;
        Sandbox::start_on(config, listener).await
    }

    /// Starts a sandbox on a listener the caller bound, on the current tokio runtime.
    pub async fn start_on(
        config: SandboxConfig,
        listener: TcpListener,
    ) -> Result<Sandbox, SandboxError> {
        let addr = server::local_addr(&listener).map_err(|source| SandboxError::Bind {
            addr: "listener".into(),
            source,
        })?;
        let endpoints = prepare(&config)?;
        let state = Arc::new(State::new(endpoints, config));
        let (tx, rx) = watch::channel(false);
        tokio::spawn(server::accept_loop(listener, state.clone(), rx));
        Ok(Sandbox {
            addr,
            state,
            shutdown: tx,
            thread: None,
        })
    }

    /// Starts a sandbox on `127.0.0.1` on a free port, served by its own runtime in
    /// a background thread: for blocking code and tests without a runtime.
    pub fn start_blocking(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let std_listener =
            std::net::TcpListener::bind("127.0.0.1:0").map_err(|source| SandboxError::Bind {
                addr: "127.0.0.1:0".into(),
                source,
            })?;
        std_listener
            .set_nonblocking(true)
            .map_err(|source| SandboxError::Bind {
                addr: "127.0.0.1:0".into(),
                source,
            })?;
        let addr = std_listener
            .local_addr()
            .map_err(|source| SandboxError::Bind {
                addr: "127.0.0.1:0".into(),
                source,
            })?;
        let endpoints = prepare(&config)?;
        let state = Arc::new(State::new(endpoints, config));
        let (tx, rx) = watch::channel(false);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("biolm-sandbox")
            .enable_all()
            .build()
            .map_err(SandboxError::Runtime)?;
        let thread_state = state.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), std::io::Error>>();
        let thread = std::thread::Builder::new()
            .name("biolm-sandbox".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match TcpListener::from_std(std_listener) {
                        Ok(listener) => {
                            let _ = ready_tx.send(Ok(()));
                            server::accept_loop(listener, thread_state, rx).await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
                runtime.shutdown_background();
            })
            .map_err(SandboxError::Runtime)?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(source)) => {
                return Err(SandboxError::Bind {
                    addr: addr.to_string(),
                    source,
                })
            }
            Err(_) => {
                return Err(SandboxError::Runtime(std::io::Error::other(
                    "the sandbox thread stopped while starting",
                )))
            }
        }
        Ok(Sandbox {
            addr,
            state,
            shutdown: tx,
            thread: Some(thread),
        })
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The platform-style base URL, `http://127.0.0.1:PORT/api/v3`.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/v3", self.addr)
    }

    /// The gateway-style base URL, `http://127.0.0.1:PORT/api/v1`.
    pub fn gateway_url(&self) -> String {
        format!("http://{}/api/v1", self.addr)
    }

    /// The server root, `http://127.0.0.1:PORT`.
    pub fn root_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many (variant, action) pairs are served.
    pub fn pair_count(&self) -> usize {
        self.state.endpoints.list.len()
    }

    /// Why each skipped (variant, action) is not served (empty when all are).
    /// Calls to a skipped action get 501 with the reason.
    pub fn problems(&self) -> Vec<ActionProblem> {
        self.state.endpoints.problems()
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.state.counters.snapshot()
    }

    /// When the model calls arrived (since start or the last [`Sandbox::reset_stats`]).
    pub fn arrivals(&self) -> Arrivals {
        self.state.counters.arrivals()
    }

    /// Zeroes the counters.
    pub fn reset_stats(&self) {
        self.state.counters.reset();
    }

    /// Stops accepting connections and closes the open ones (as dropping does).
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Every problem that keeps the schemas of `schemas` from being served, without
/// starting a server: what `biolm-sandbox check` reports. Empty when every
/// (variant, action) can be served; `Err` only when the schemas cannot be loaded.
pub fn check_schemas(
    schemas: impl Into<SchemaSource>,
) -> Result<(usize, Vec<ActionProblem>), SandboxError> {
    let set = match schemas.into() {
        SchemaSource::Dir(dir) => Arc::new(biolm_catalog::load_dir(&dir)?),
        SchemaSource::Set(set) => set,
    };
    let endpoints = Endpoints::build(&set, 320);
    Ok((endpoints.list.len(), endpoints.problems()))
}

/// What the sandbox would answer to `body` (`{"items": [...], "params": {...}}`) for an
/// action with these request and response schemas: the synthetic response body as
/// JSON text. Errors list every node of the response schema that cannot be
/// synthesized (JSON pointer and reason). For tests of schemas and of the synthesizer.
pub fn synthesize(
    request_schema: &serde_json::Value,
    response_schema: &serde_json::Value,
    body: &serde_json::Value,
) -> Result<String, Vec<SchemaProblem>> {
    let items: &[serde_json::Value] = body
        .get("items")
        .and_then(serde_json::Value::as_array)
        .map_or(&[], Vec::as_slice);
    let bytes = synth::synthesize(request_schema, response_schema, items, body.get("params"))
        .map_err(|errors| {
            errors
                .into_iter()
                .map(|e| SchemaProblem {
                    pointer: e.pointer,
                    message: e.message,
                })
                .collect::<Vec<_>>()
        })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Serves `config` on `listener` until `shutdown` completes.
pub async fn serve_until(
    config: SandboxConfig,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), SandboxError> {
    let sandbox = Sandbox::start_on(config, listener).await?;
    shutdown.await;
    sandbox.shutdown();
    Ok(())
}

/// Serves `config` on `listener` until Ctrl-C.
pub async fn serve(config: SandboxConfig, listener: TcpListener) -> Result<(), SandboxError> {
    serve_until(config, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
