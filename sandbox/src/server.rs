//! The HTTP side: accept loop, routing, model calls, faults and throttling.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};

use crate::config::{FaultKind, Latency, LatencyScope, SandboxConfig};
use crate::endpoint::Endpoints;
use crate::stats::Counters;
use crate::synth::{mix, Rng, Shape};
use crate::throttle::{self, Window};
use crate::wire::{self, Dialect};

type Body = BoxBody<Bytes, std::io::Error>;

/// Largest request body accepted (after gzip decoding), in bytes.
const MAX_BODY: usize = 256 * 1024 * 1024;

/// Shared state of a running sandbox.
pub(crate) struct State {
    pub(crate) endpoints: Endpoints,
    pub(crate) config: SandboxConfig,
    pub(crate) counters: Counters,
    fault_seq: AtomicU64,
    throttle: Option<Mutex<Window>>,
    openapi: OnceLock<Bytes>,
}

impl State {
    pub(crate) fn new(endpoints: Endpoints, config: SandboxConfig) -> State {
        let throttle = config
            .throttle
            .filter(|r| *r > 0.0)
            .map(|r| Mutex::new(Window::new(r)));
        State {
            endpoints,
            config,
            counters: Counters::new(),
            fault_seq: AtomicU64::new(0),
            throttle,
            openapi: OnceLock::new(),
        }
    }
}

/// Accepts connections until `shutdown` turns true.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    tokio::spawn(serve_connection(stream, state.clone(), shutdown.clone()));
                }
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
            }
        }
    }
}

/// A TCP stream that closes with a reset (RST) instead of a FIN when asked to.
struct ResettableStream {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Acquire) {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Asks the connection task to drop the connection with a reset.
#[derive(Clone)]
struct ConnControl {
    reset: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl ConnControl {
    fn reset_now(&self) {
        self.reset.store(true, Ordering::Release);
        self.notify.notify_one();
    }
}

async fn serve_connection(
    stream: TcpStream,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let control = ConnControl {
        reset: Arc::new(AtomicBool::new(false)),
        notify: Arc::new(Notify::new()),
    };
    let io = TokioIo::new(ResettableStream {
        inner: stream,
        reset: control.reset.clone(),
    });
    let svc_control = control.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let state = state.clone();
        let control = svc_control.clone();
        async move { Ok::<_, Infallible>(handle(state, req, control).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::select! {
        _ = conn => {}
        _ = control.notify.notified() => {}
        _ = shutdown.changed() => {}
    }
}

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn with_retry_after(state: &State, mut resp: Response<Body>, secs: u64) -> Response<Body> {
    let secs = secs.max(1);
    let value = if state.config.retry_after_date {
        let when = std::time::SystemTime::now() + Duration::from_secs(secs);
        HeaderValue::from_str(&httpdate::fmt_http_date(when))
            .unwrap_or_else(|_| HeaderValue::from(secs))
    } else {
        HeaderValue::from(secs)
    };
    resp.headers_mut().insert(header::RETRY_AFTER, value);
    resp
}

/// 429 with `Retry-After` from a limiter's verdict.
fn throttled(state: &State, wait: Duration) -> Response<Body> {
    state.counters.throttled();
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    with_retry_after(
        state,
        json_response(
            StatusCode::TOO_MANY_REQUESTS,
            &serde_json::json!({
                "detail": format!("Request was throttled. Expected available in {secs} seconds.")
            }),
        ),
        secs,
    )
}

async fn handle(state: Arc<State>, req: Request<Incoming>, control: ConnControl) -> Response<Body> {
    let path = req.uri().path().to_string();
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let method = req.method().clone();
    match (method, segs.as_slice()) {
        (Method::GET, ["health"]) => json_response(
            StatusCode::OK,
            &serde_json::json!({
                "status": "ok",
                "synthetic": true,
                "pairs": state.endpoints.list.len(),
            }),
        ),
        (Method::GET, ["openapi.json"]) => {
            let body = state
                .openapi
                .get_or_init(|| crate::openapi::document(&state.endpoints))
                .clone();
            let mut resp = Response::new(full(body));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        (Method::GET, ["api", "v3", "schema", slug, action]) => schema(&state, &req, slug, action),
        (Method::GET, ["sandbox", "stats"]) => {
            json_response(StatusCode::OK, &state.counters.snapshot().to_json())
        }
        (Method::POST, ["sandbox", "reset"]) => {
            state.counters.reset();
            json_response(StatusCode::OK, &serde_json::json!({"reset": true}))
        }
        (Method::POST, ["api", "v3", slug, action]) => {
            let (slug, action) = (slug.to_string(), action.to_string());
            model_call(&state, req, &slug, &action, Dialect::Platform, control).await
        }
        (Method::POST, ["api", "v1", slug, action]) => {
            if state.config.strict_gateway && !strict_gateway_route(&state, &path, slug, action) {
                return json_response(
                    StatusCode::NOT_FOUND,
                    &serde_json::json!({"detail": "Not Found"}),
                );
            }
            let (slug, action) = (slug.to_string(), action.to_string());
            model_call(&state, req, &slug, &action, Dialect::Gateway, control).await
        }
        (_, ["api", "v1", _, _]) if state.config.strict_gateway => json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &serde_json::json!({"detail": "Method Not Allowed"}),
        ),
        (_, ["api", "v3" | "v1", _, _]) | (_, ["api", "v3", "schema", _, _]) => json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &serde_json::json!({"detail": format!("Method \"{}\" not allowed.", req.method())}),
        ),
        _ => json_response(
            StatusCode::NOT_FOUND,
            &serde_json::json!({"detail": "Not Found", "hint": "model calls are POST /api/v3/{model}/{action}/ or POST /api/v1/{model}/{action}"}),
        ),
    }
}

/// Whether a strict gateway has the route `path`: `/api/v1/{slug}/{action}` exactly
/// (no trailing or doubled slash), with the action's gateway name.
fn strict_gateway_route(state: &State, path: &str, slug: &str, action: &str) -> bool {
    if path != format!("/api/v1/{slug}/{action}") {
        return false;
    }
    let endpoints = &state.endpoints;
    endpoints
        .find(slug, action)
        .is_some_and(|ep| ep.gateway_action == action)
        || endpoints
            .find_unusable(slug, action)
            .is_some_and(|u| u.gateway_action == action)
}

fn schema(state: &State, req: &Request<Incoming>, slug: &str, action: &str) -> Response<Body> {
    state.counters.schema_request();
    if state.config.schema_rejects_token && req.headers().contains_key(header::AUTHORIZATION) {
        return json_response(
            StatusCode::UNAUTHORIZED,
            &serde_json::json!({"detail": "The schema endpoint takes no credentials: send no Authorization header."}),
        );
    }
    match state.endpoints.find(slug, action) {
        Some(ep) => {
            let mut resp = Response::new(full(ep.schema_body.clone()));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        None => json_response(
            StatusCode::NOT_FOUND,
            &serde_json::json!({"error": format!("no schema for model `{slug}` action `{action}` on this sandbox")}),
        ),
    }
}

fn token_ok(state: &State, req: &Request<Incoming>) -> bool {
    let Some(token) = state.config.token.as_deref() else {
        return true;
    };
    let Some(value) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    value
        .strip_prefix("Token ")
        .is_some_and(|t| t.trim() == token)
}

fn accepts_gzip(req: &Request<Incoming>) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',').any(|e| {
                e.split(';')
                    .next()
                    .is_some_and(|n| n.trim().eq_ignore_ascii_case("gzip"))
            })
        })
}

fn is_gzip_body(req: &Request<Incoming>) -> bool {
    req.headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"))
}

async fn model_call(
    state: &State,
    req: Request<Incoming>,
    slug: &str,
    action: &str,
    dialect: Dialect,
    control: ConnControl,
) -> Response<Body> {
    let counters = &state.counters;
    let _in_flight = counters.request();
    let resp = model_call_inner(state, req, slug, action, dialect, control).await;
    counters.status(resp.status().as_u16());
    resp
}

fn decode_body(raw: Bytes, gzip: bool) -> Result<Bytes, String> {
    if !gzip {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len() * 4);
    let decoder = flate2::read::GzDecoder::new(&raw[..]);
    decoder
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            format!("the body is marked Content-Encoding: gzip but is not valid gzip data ({e})")
        })?;
    if out.len() > MAX_BODY {
        return Err(format!(
            "the decompressed body is larger than {MAX_BODY} bytes"
        ));
    }
    Ok(Bytes::from(out))
}

async fn model_call_inner(
    state: &State,
    req: Request<Incoming>,
    slug: &str,
    action: &str,
    dialect: Dialect,
    control: ConnControl,
) -> Response<Body> {
    let counters = &state.counters;
    if !token_ok(state, &req) {
        let msg = if req.headers().contains_key(header::AUTHORIZATION) {
            "Invalid token: send `Authorization: Token <your token>` with the sandbox's token."
        } else {
            "Authentication credentials were not provided: send `Authorization: Token <your token>`."
        };
        return json_response(
            StatusCode::UNAUTHORIZED,
            &serde_json::json!({ "detail": msg }),
        );
    }
    if let Some(Err(wait)) = state.throttle.as_ref().map(throttle::admit_now) {
        return throttled(state, wait);
    }
    let Some(ep) = state.endpoints.find(slug, action).cloned() else {
        if let Some(skipped) = state.endpoints.find_unusable(slug, action) {
            let why: Vec<String> = skipped.problems.iter().map(ToString::to_string).collect();
            return json_response(
                StatusCode::NOT_IMPLEMENTED,
                &wire::message_body(
                    dialect,
                    &format!(
                        "the sandbox cannot serve {slug}/{action}: {}",
                        why.join("; ")
                    ),
                ),
            );
        }
        let msg = if state.endpoints.has_slug(slug) {
            format!("model `{slug}` has no action `{action}` on this sandbox")
        } else {
            format!("no model `{slug}` on this sandbox")
        };
        return json_response(StatusCode::NOT_FOUND, &wire::message_body(dialect, &msg));
    };
    let action_window = ep.window.as_ref().filter(|_| state.config.schema_throttle);
    if let Some(Err(wait)) = action_window.map(throttle::admit_now) {
        return throttled(state, wait);
    }
    let strict = dialect == Dialect::Gateway && state.config.strict_gateway;
    let gzip_in = is_gzip_body(&req)
        && !(dialect == Dialect::Gateway && (state.config.gateway_rejects_gzip || strict));
    let gzip_out = state.config.gzip_responses && accepts_gzip(&req);
    let raw = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &wire::message_body(dialect, &format!("cannot read the request body: {e}")),
            )
        }
    };
    let bytes = match decode_body(raw, gzip_in) {
        Ok(b) => b,
        Err(msg) => return validation_error(dialect, vec![wire::body_problem("value_error", msg)]),
    };
    let body: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) if strict => {
            return json_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                &wire::fastapi_json_invalid(&e.to_string()),
            )
        }
        Err(e) => {
            return validation_error(
                dialect,
                vec![wire::body_problem(
                    "json_invalid",
                    format!("JSON parse error - {e}"),
                )],
            )
        }
    };
    let items: &[Value] = body
        .get("items")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    counters.items(items.len() as u64);
    let mut problems = wire::problems(&ep.validator, &body);
    if problems.is_empty()
        && body
            .get("items")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
    {
        // Even where the schema sets no minItems (sadie), an empty batch is refused.
        problems.push(wire::Problem {
            path: vec!["items".to_string()],
            kind: "too_short",
            message: "List should have at least 1 item after validation, not 0".to_string(),
            input: Value::Array(Vec::new()),
        });
    }
    if problems.is_empty() {
        problems = wire::rule_problems(&ep.rules, &body);
    }
    if !problems.is_empty() {
        return validation_error(dialect, problems);
    }

    // Fault and latency draws: one generator per call, in arrival order.
    let seq = state.fault_seq.fetch_add(1, Ordering::Relaxed);
    let mut rng = Rng::new(mix(state.config.faults.seed ^ mix(seq)));
    let fault = draw_fault(state, &mut rng);
    sleep_latency(state, &mut rng, items.len()).await;
    let mut shape = Shape::Normal;
    if let Some(kind) = fault {
        counters.fault(kind);
        match kind {
            FaultKind::ConnectionReset => {
                control.reset_now();
                // The connection task drops this future with the connection.
                std::future::pending::<()>().await;
            }
            FaultKind::Status500 => {
                return json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &wire::message_body(
                        dialect,
                        "synthetic fault: internal server error (sandbox 500 fault)",
                    ),
                )
            }
            FaultKind::Status502 => {
                return json_response(
                    StatusCode::BAD_GATEWAY,
                    &wire::message_body(
                        dialect,
                        "synthetic fault: bad gateway (sandbox 502 fault)",
                    ),
                )
            }
            FaultKind::Status503 => {
                return with_retry_after(
                    state,
                    json_response(
                        StatusCode::SERVICE_UNAVAILABLE,
                        &wire::message_body(
                            dialect,
                            "synthetic fault: service unavailable (sandbox 503 fault)",
                        ),
                    ),
                    1,
                )
            }
            FaultKind::Status429 => {
                return with_retry_after(
                    state,
                    json_response(
                        StatusCode::TOO_MANY_REQUESTS,
                        &serde_json::json!({"detail": "synthetic fault: request was throttled (sandbox 429 fault)"}),
                    ),
                    1,
                )
            }
            FaultKind::Stall => tokio::time::sleep(state.config.faults.stall).await,
            FaultKind::PartialSuccess => {
                shape = Shape::Partial(rng.below(items.len().max(1) as u64) as usize)
            }
            FaultKind::WrongResultCount => shape = Shape::WrongCount,
            FaultKind::TruncatedBody => {}
        }
    }
    let mut out = Vec::with_capacity(256 + items.len() * 4096);
    let limit = state.config.max_response_bytes;
    if ep
        .synth
        .write(items, body.get("params"), shape, limit, &mut out)
        .is_err()
    {
        return json_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            &wire::message_body(
                dialect,
                &format!(
                    "the synthetic result would be larger than {limit} bytes: send fewer or shorter items, or ask for fewer layers or samples"
                ),
            ),
        );
    }
    if fault == Some(FaultKind::TruncatedBody) {
        return truncated(out);
    }
    success(out, gzip_out)
}

fn validation_error(dialect: Dialect, problems: Vec<wire::Problem>) -> Response<Body> {
    let status = match dialect {
        Dialect::Platform => StatusCode::BAD_REQUEST,
        Dialect::Gateway => StatusCode::UNPROCESSABLE_ENTITY,
    };
    json_response(status, &wire::validation_body(dialect, &problems))
}

fn draw_fault(state: &State, rng: &mut Rng) -> Option<FaultKind> {
    let faults = &state.config.faults;
    if faults.rate <= 0.0 || rng.unit() >= faults.rate {
        return None;
    }
    let kinds: &[FaultKind] = if faults.kinds.is_empty() {
        &FaultKind::ALL
    } else {
        &faults.kinds
    };
    kinds.get(rng.below(kinds.len() as u64) as usize).copied()
}

async fn sleep_latency(state: &State, rng: &mut Rng, items: usize) {
    let one = match state.config.latency {
        Latency::None => return,
        Latency::Fixed(d) => d,
        Latency::Uniform { min, max } => {
            let span = max.saturating_sub(min);
            min + span.mul_f64(rng.unit())
        }
    };
    let total = match state.config.latency_scope {
        LatencyScope::PerRequest => one,
        LatencyScope::PerItem => one.saturating_mul(items.max(1) as u32),
    };
    if !total.is_zero() {
        tokio::time::sleep(total).await;
    }
}

fn success(body: Vec<u8>, gzip: bool) -> Response<Body> {
    let (body, encoded) = if gzip {
        let mut enc = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 3),
            flate2::Compression::fast(),
        );
        match enc.write_all(&body).and_then(|_| enc.finish()) {
            Ok(z) => (z, true),
            Err(_) => (body, false),
        }
    } else {
        (body, false)
    };
    let mut resp = Response::new(full(body));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert("x-biolm-sandbox", HeaderValue::from_static("synthetic"));
    if encoded {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    resp
}

/// Headers announcing the whole body, then half of it, then the connection closes.
fn truncated(body: Vec<u8>) -> Response<Body> {
    let full_len = body.len();
    let half = Bytes::from(body).slice(..full_len / 2);
    // The error comes a moment later, so the head and the first half are on the wire first.
    let first = futures_util::stream::iter([Ok::<_, std::io::Error>(Frame::data(half))]);
    let cut = futures_util::stream::once(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox truncated-body fault",
        ))
    });
    let stream = futures_util::StreamExt::chain(first, cut);
    let mut resp = Response::new(BodyExt::boxed(StreamBody::new(stream)));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(full_len));
    h.insert("x-biolm-sandbox", HeaderValue::from_static("synthetic"));
    resp
}

/// The address a listener is bound to, for messages.
pub(crate) fn local_addr(listener: &TcpListener) -> std::io::Result<SocketAddr> {
    listener.local_addr()
}
