//! Shared helpers of the runtime and reliability integration tests: the
//! sandbox over loopback, deterministic inputs, time limits, a log capture,
//! and a tiny scripted HTTP server for misbehaviour the sandbox does not offer.
//!
//! Every test file includes this module with `mod support;`, and each test
//! binary uses only a subset of it, so the rest would warn as dead code there.
#![allow(dead_code)]

use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use biolm::esm2::Esm2EncodeItem;
use biolm::spec::ActionSpec;
use biolm::{Client, ClientBuilder, RetryPolicy};
use biolm_sandbox::{Sandbox, SandboxConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The project's schema directory, or the reference corpus when it is empty.
pub fn schemas() -> PathBuf {
    let own = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas"));
    let has_json = std::fs::read_dir(&own)
        .map(|d| {
            d.filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "json"))
        })
        .unwrap_or(false);
    if has_json {
        own
    } else {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/reference/biolm-hub"
        ))
    }
}

/// A sandbox config over the schema set. Its gateway (`/api/v1`) is strict, as
/// PROTOCOL.md describes a catalog gateway (no trailing slash, gateway action names, no
/// gzip request bodies), so that a client mistake fails the tests instead of passing.
pub fn config() -> SandboxConfig {
    SandboxConfig::new(schemas()).strict_gateway(true)
}

/// Starts a sandbox on the current runtime.
pub async fn sandbox(cfg: SandboxConfig) -> Sandbox {
    Sandbox::start(cfg).await.expect("sandbox starts")
}

/// A retry policy with short waits (5 to 40 ms) that honours `Retry-After`.
pub fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(40),
        ..RetryPolicy::default()
    }
}

/// A retry policy with millisecond waits (2 to 20 ms) and `Retry-After` cut
/// to 20 ms: the reliability suite's, whose servers ask for long waits.
pub fn capped_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_millis(2),
        max_backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_millis(20),
        ..fast_retry(attempts)
    }
}

/// A client builder pointed at `url` with fast retries.
pub fn builder(url: &str) -> ClientBuilder {
    Client::builder().base_url(url).retry(fast_retry(4))
}

/// The catalog spec of `slug/action`.
pub fn spec(slug: &str, action: &str) -> &'static ActionSpec {
    biolm::catalog::find(slug)
        .and_then(|v| v.action(action))
        .unwrap_or_else(|| panic!("{slug}/{action} is in the catalog"))
}

/// A spec with no local schema (so invalid items reach the server).
pub fn unchecked(slug: &str, action: &str, max_items: usize) -> &'static ActionSpec {
    Box::leak(Box::new(ActionSpec::untyped(slug, action, max_items)))
}

const AA: &[u8] = b"ACDEFGHIKLMNPQRSTVWY";

/// A deterministic protein sequence of `len` residues, distinct for each `i`.
pub fn protein(i: usize, len: usize) -> String {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            AA[(x % AA.len() as u64) as usize] as char
        })
        .collect()
}

/// A deterministic protein sequence, distinct for each `i`, of length 8 + i % 97.
pub fn seq(i: usize) -> String {
    protein(i, 8 + i % 97)
}

/// Like [`seq`] but of length 8 + i % 61 (the same sequence for i < 61): the
/// reliability suite's, which sends tens of thousands of them.
pub fn short_seq(i: usize) -> String {
    protein(i, 8 + i % 61)
}

/// `n` esm2 encode items of [`seq`].
pub fn items(n: usize) -> Vec<Esm2EncodeItem> {
    (0..n).map(|i| Esm2EncodeItem::new(seq(i))).collect()
}

/// `n` esm2 encode items of [`short_seq`].
pub fn short_items(n: usize) -> Vec<Esm2EncodeItem> {
    (0..n).map(|i| Esm2EncodeItem::new(short_seq(i))).collect()
}

/// Runs `f` with a time limit, failing the test when it is exceeded.
pub async fn bounded<F: Future>(secs: u64, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .unwrap_or_else(|_| panic!("test exceeded its {secs} s time limit"))
}

/// A log sink: a writer that keeps every byte, shared by its clones.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What the scripted server does with each connection, after reading the
/// request head and body.
#[derive(Clone)]
pub enum Script {
    /// Write these bytes, then close the connection.
    Bytes(Vec<u8>),
    /// Write `head`, then `body` one chunk of `chunk` bytes every `every`, then close.
    Drip {
        /// Bytes written at once (status line and headers).
        head: Vec<u8>,
        /// Bytes written slowly.
        body: Vec<u8>,
        /// Bytes per write.
        chunk: usize,
        /// Pause between writes.
        every: Duration,
    },
    /// Read the request, then write nothing and keep the connection open.
    Hang,
    /// Close the connection at once, without reading or writing.
    Close,
}

impl Script {
    /// Write a whole [`http_response`], then close the connection.
    pub fn reply(status: &str, content_type: &str, extra: &str, body: impl AsRef<[u8]>) -> Script {
        Script::Bytes(http_response(status, content_type, extra, body.as_ref()))
    }
}

/// A tiny HTTP server that answers every request with its [`Script`] and
/// counts the requests it read.
pub struct ScriptServer {
    /// `http://127.0.0.1:PORT/api/v3`.
    pub base_url: String,
    requests: Arc<AtomicUsize>,
    heads: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptServer {
    /// Starts the server on a free loopback port, on the current runtime.
    pub async fn start(script: Script) -> ScriptServer {
        ScriptServer::start_with(|_| script).await
    }

    /// Starts the server with a script made from its own base URL
    /// (`http://127.0.0.1:PORT/api/v3`), e.g. a redirect to itself.
    pub async fn start_with(make: impl FnOnce(&str) -> Script) -> ScriptServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let script = make(&format!("http://{addr}/api/v3"));
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let heads: Arc<Mutex<Vec<String>>> = Arc::default();
        let heads_w = heads.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let script = script.clone();
                let counter = counter.clone();
                let heads = heads_w.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, script, counter, heads).await;
                });
            }
        });
        ScriptServer {
            base_url: format!("http://{addr}/api/v3"),
            requests,
            heads,
            task,
        }
    }

    /// The request heads (request line and headers) read so far.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// Requests read so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for ScriptServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request (head, then a `Content-Length` body), then follows the script.
async fn serve(
    mut stream: TcpStream,
    script: Script,
    counter: Arc<AtomicUsize>,
    heads: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    if matches!(script, Script::Close) {
        counter.fetch_add(1, Ordering::SeqCst);
        return Ok(());
    }
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut tmp).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let raw_head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let head = raw_head.to_ascii_lowercase();
    if let Ok(mut h) = heads.lock() {
        h.push(raw_head);
    }
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = stream.read(&mut tmp).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    counter.fetch_add(1, Ordering::SeqCst);
    match script {
        Script::Bytes(b) => {
            stream.write_all(&b).await?;
            stream.flush().await?;
        }
        Script::Drip {
            head,
            body,
            chunk,
            every,
        } => {
            stream.write_all(&head).await?;
            stream.flush().await?;
            for c in body.chunks(chunk.max(1)) {
                tokio::time::sleep(every).await;
                stream.write_all(c).await?;
                stream.flush().await?;
            }
        }
        Script::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Script::Close => {}
    }
    Ok(())
}

/// An HTTP/1.1 response with `Connection: close` and a correct `Content-Length`.
pub fn http_response(status: &str, content_type: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}
