//! One HTTP attempt: build the request, send it, read the whole reply.

use std::time::Duration;

use bytes::Bytes;

use reqwest::header::{
    HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER,
};

/// Bodies longer than this are gzip-compressed when compression is on.
///
/// Below a few KiB compression saves next to nothing on the wire (a batch of
/// eight 175-residue proteins is about 1.6 kB, gzipped about 1 kB) but costs
/// CPU: in the 20,000-item esm2-8m benchmark, gzipping its 2,500 small bodies
/// took about a tenth of the client's CPU (0.63 s against 0.56 s over four
/// alternating runs each, 256-byte against 8 KiB threshold). Large bodies
/// (structures, long sequence lists) are still compressed.
pub(crate) const COMPRESS_OVER: usize = 4096;

/// The `User-Agent` of every request.
pub(crate) const USER_AGENT: &str = concat!("biolm-rs/", env!("CARGO_PKG_VERSION"));

/// Which flavour of the API a base URL speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The hosted platform (`/api/v3`): `POST {base}/{slug}/{action}/`, token
    /// required, gzip request bodies accepted.
    Platform,
    /// A catalog gateway (`/api/v1`): `POST {base}/{slug}/{gateway_action}`, no
    /// token needed, request bodies sent uncompressed by default.
    Gateway,
}

impl Target {
    /// The target a base URL implies: a URL ending in `/api/v1` is a gateway.
    pub fn detect(base_url: &str) -> Target {
        let path = base_url.split(['?', '#']).next().unwrap_or(base_url);
        if path.trim_end_matches('/').ends_with("/api/v1") {
            Target::Gateway
        } else {
            Target::Platform
        }
    }
}

/// A request body ready to send (and to re-send).
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    body: Bytes,
    gzip: bool,
}

/// A complete HTTP reply.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Bytes,
    pub request_id: Option<String>,
    /// The raw `Retry-After` header.
    pub retry_after: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
}

/// Why an attempt got no complete reply.
#[derive(Debug)]
pub(crate) enum TransportError {
    /// Could not connect.
    Connect(String),
    /// The request or the connection timed out.
    Timeout(String),
    /// The connection broke while sending or reading.
    Broken(String),
    /// The reply body is larger than the client's limit (not worth retrying).
    TooLarge {
        /// HTTP status of the reply.
        status: u16,
        /// The server's request id, if any.
        request_id: Option<String>,
        /// What was too large.
        message: String,
    },
}

impl TransportError {
    pub(crate) fn message(&self) -> &str {
        match self {
            TransportError::Connect(m) | TransportError::Timeout(m) | TransportError::Broken(m) => {
                m
            }
            TransportError::TooLarge { message, .. } => message,
        }
    }
}

/// The HTTP side of a client.
#[derive(Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    pub base: String,
    pub target: Target,
    auth: Option<HeaderValue>,
    compress: bool,
    max_body: usize,
}

impl Transport {
    /// The token text, for scrubbing it from server text that is quoted in
    /// errors (a server or proxy that echoes the request back). `None` without a
    /// token, or for tokens too short to replace without mangling messages.
    pub(crate) fn token_text(&self) -> Option<String> {
        let header = self.auth.as_ref()?.to_str().ok()?;
        let token = header.strip_prefix("Token ")?;
        (token.len() >= 4).then(|| token.to_owned())
    }

    /// A transport over a built HTTP client (see `build.rs`, which reads the
    /// builder's settings).
    pub(crate) fn from_parts(
        http: reqwest::Client,
        base: String,
        target: Target,
        auth: Option<HeaderValue>,
        compress: bool,
        max_body: usize,
    ) -> Transport {
        Transport {
            http,
            base,
            target,
            auth,
            compress,
            max_body,
        }
    }

    /// Whether long bodies are gzip-compressed.
    #[cfg(test)]
    pub(crate) fn compresses(&self) -> bool {
        self.compress
    }

    /// The URL of an action on this target.
    /// A query string in the base URL stays after the path (`?key=..`).
    pub(crate) fn url(&self, slug: &str, action: &str, gateway_action: &str) -> String {
        let (base, query) = match self.base.split_once('?') {
            Some((b, q)) => (b.trim_end_matches('/'), Some(q)),
            None => (self.base.as_str(), None),
        };
        let mut url = match self.target {
            Target::Platform => format!("{base}/{slug}/{action}/"),
            Target::Gateway => format!("{base}/{slug}/{gateway_action}"),
        };
        if let Some(q) = query {
            url.push('?');
            url.push_str(q);
        }
        url
    }

    /// What must never be printed: the token and the base URL's secrets.
    pub(crate) fn redactor(&self) -> crate::secret::Redactor {
        let r = crate::secret::Redactor::new().with_url(&self.base);
        match self.token_text() {
            Some(t) => r.with_token(&t),
            None => r,
        }
    }

    /// Prepares a JSON body for sending (compressed when compression is on
    /// and the body is long), once for all attempts.
    pub(crate) fn prepare(&self, json: Vec<u8>) -> Prepared {
        if self.compress && json.len() > COMPRESS_OVER {
            if let Some(z) = gzip(&json) {
                return Prepared {
                    body: Bytes::from(z),
                    gzip: true,
                };
            }
        }
        Prepared {
            body: Bytes::from(json),
            gzip: false,
        }
    }

    /// The headers [`Transport::post`] sends with `body`, as hooks see them:
    /// the token replaced by `***`.
    pub(crate) fn visible_headers(&self, body: &Prepared) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(3);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if body.gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        if self.auth.is_some() {
            headers.insert(AUTHORIZATION, HeaderValue::from_static("Token ***"));
        }
        headers
    }

    /// Sends one POST with a prepared body (and the headers hooks added) and
    /// reads the whole reply.
    pub(crate) async fn post(
        &self,
        url: &str,
        body: &Prepared,
        timeout: Duration,
        extra: Option<HeaderMap>,
    ) -> Result<Reply, TransportError> {
        let mut headers = HeaderMap::with_capacity(3);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if body.gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        if let Some(a) = &self.auth {
            headers.insert(AUTHORIZATION, a.clone());
        }
        if let Some(extra) = extra {
            headers.extend(extra);
        }
        let resp = self
            .http
            .post(url)
            .headers(headers)
            .timeout(timeout)
            .body(body.body.clone())
            .send()
            .await
            .map_err(classify)?;
        let status = resp.status().as_u16();
        let h = resp.headers();
        let request_id = h
            .get("x-request-id")
            .or_else(|| h.get("x-amzn-requestid"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = h
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let content_type = h
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let too_large = |what: String| TransportError::TooLarge {
            status,
            request_id: request_id.clone(),
            message: format!(
                "the server's reply {what} is larger than the client's limit of {} bytes; \
                 raise it with ClientBuilder::max_response_bytes if such replies are expected",
                self.max_body
            ),
        };
        // Refuse a declared length over the limit before reading anything, and
        // stop reading (decompressed) bytes as soon as the limit is passed.
        if let Some(len) = resp.content_length() {
            if len > self.max_body as u64 {
                return Err(too_large(format!("({len} bytes declared)")));
            }
        }
        let mut resp = resp;
        let hint = resp.content_length().unwrap_or(0).min(16 << 20) as usize;
        let mut buf: Vec<u8> = Vec::with_capacity(hint);
        while let Some(chunk) = resp.chunk().await.map_err(classify)? {
            if buf.len() + chunk.len() > self.max_body {
                return Err(too_large("body".into()));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            body: Bytes::from(buf),
            request_id,
            retry_after,
            content_type,
        })
    }
}

thread_local! {
    /// One deflate state per thread, reset between bodies: a fresh state
    /// allocates and zeroes a few hundred KiB, which dominated the client's CPU.
    static DEFLATE: std::cell::RefCell<Option<flate2::Compress>> = const { std::cell::RefCell::new(None) };
}

/// Gzip (RFC 1952) of `body` at the fast level; `None` if compression failed.
fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut out = Vec::with_capacity(body.len() / 2 + 64);
    out.extend_from_slice(&HEADER);
    DEFLATE.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        let c =
            slot.get_or_insert_with(|| flate2::Compress::new(flate2::Compression::fast(), false));
        c.reset();
        loop {
            let consumed = usize::try_from(c.total_in()).ok()?;
            if out.capacity() - out.len() < 1024 {
                out.reserve(body.len() / 2 + 1024);
            }
            let input = body.get(consumed..)?;
            match c.compress_vec(input, &mut out, flate2::FlushCompress::Finish) {
                Ok(flate2::Status::StreamEnd) => return Some(()),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    })?;
    let mut crc = flate2::Crc::new();
    crc.update(body);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    Some(out)
}

fn classify(e: reqwest::Error) -> TransportError {
    let msg = error_chain(&e);
    if e.is_timeout() {
        TransportError::Timeout(msg)
    } else if e.is_connect() {
        TransportError::Connect(msg)
    } else {
        TransportError::Broken(msg)
    }
}

/// The error and its sources, joined (reqwest's top-level text alone is vague).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn gzip_round_trips() {
        let body = br#"{"items":[{"sequence":"MKTAYIAKQR"}]}"#.repeat(20);
        // twice on one thread: the reused deflate state is reset in between
        for body in [body.clone(), b"{\"items\":[]}".repeat(40), body] {
            let z = gzip(&body).unwrap();
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&z[..])
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, body);
            assert!(z.len() < body.len());
        }
    }
}
