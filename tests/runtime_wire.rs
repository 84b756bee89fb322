//! What goes on the wire: URL shape per target, headers (User-Agent,
//! Authorization, Content-Encoding, Accept-Encoding), body shape, request ids.

mod support;

use std::io::Read;

use serde_json::{json, Value};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

struct Seen {
    head: String,
    body: Value,
}

/// Serves one request with `reply_body` (and an `x-request-id`), returns what it saw.
async fn one_shot(listener: TcpListener, status: &str, reply_body: String) -> Seen {
    let (mut sock, _) = listener.accept().await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head, body_start) = loop {
        let n = sock.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before the request head");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break (String::from_utf8_lossy(&buf[..p]).to_string(), p + 4);
        }
    };
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap();
    while buf.len() < body_start + len {
        let n = sock.read(&mut chunk).await.unwrap();
        buf.extend_from_slice(&chunk[..n]);
    }
    let raw = &buf[body_start..body_start + len];
    let body = if head.to_ascii_lowercase().contains("content-encoding: gzip") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw)
            .read_to_end(&mut out)
            .unwrap();
        serde_json::from_slice(&out).unwrap()
    } else {
        serde_json::from_slice(raw).unwrap()
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nx-request-id: req-42\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply_body}",
        reply_body.len()
    );
    sock.write_all(reply.as_bytes()).await.unwrap();
    Seen { head, body }
}

/// Listens on a free port and answers one request there ([`one_shot`]);
/// returns the base URL (`http://127.0.0.1:PORT/api/{version}`) and the
/// server's task, which yields what it received.
async fn serve_once(
    version: &str,
    status: &'static str,
    reply: Value,
) -> (String, tokio::task::JoinHandle<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/{version}", listener.local_addr().unwrap());
    (
        base,
        tokio::spawn(one_shot(listener, status, reply.to_string())),
    )
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_requests_have_the_documented_shape() {
    bounded(30, async {
        let (base, server) =
            serve_once("v3", "200 OK", json!({"results": [{"x": 1}, {"x": 2}]})).await;
        let client = builder(&base).token("tok-123").build().unwrap();
        let items: Vec<Value> = (0..2)
            .map(|i| json!({"sequence": format!("{}{}", "MKTAYIAKQR".repeat(20), seq(i))}))
            .collect();
        let out = client
            .untyped("esmfold", "predict")
            .call(items.clone())
            .params(json!({}))
            .await
            .unwrap();
        let seen = server.await.unwrap();
        assert!(
            seen.head
                .starts_with("POST /api/v3/esmfold/predict/ HTTP/1.1"),
            "{}",
            seen.head
        );
        assert_eq!(header(&seen.head, "authorization"), Some("Token tok-123"));
        assert!(header(&seen.head, "user-agent")
            .unwrap()
            .starts_with("biolm-rs/"));
        assert_eq!(header(&seen.head, "content-type"), Some("application/json"));
        assert_eq!(
            header(&seen.head, "content-encoding"),
            None,
            "a body under 4 KiB is sent as it is ({} bytes of items)",
            seen.body.to_string().len()
        );
        assert!(header(&seen.head, "accept-encoding").is_some_and(|v| v.contains("gzip")));
        // empty params are left out
        assert_eq!(seen.body, json!({"items": items}));
        assert_eq!(out[1].ok(), Some(&json!({"x": 2})));
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_platform_bodies_are_gzipped() {
    bounded(30, async {
        let (base, server) =
            serve_once("v3", "200 OK", json!({"results": [{"x": 1}, {"x": 2}]})).await;
        let client = builder(&base).token("t").build().unwrap();
        // Two 3,000-residue items: over 4 KiB of JSON in one request.
        let items: Vec<Value> = (0..2)
            .map(|i| json!({"sequence": "MKTAYIAKQR".repeat(300) + &seq(i)}))
            .collect();
        let out = client
            .call::<Value, Value, Value, _>(unchecked("esm2-8m", "encode", 2), items.clone())
            .await
            .unwrap();
        let seen = server.await.unwrap();
        assert_eq!(header(&seen.head, "content-encoding"), Some("gzip"));
        let sent: usize = header(&seen.head, "content-length")
            .unwrap()
            .parse()
            .unwrap();
        assert!(sent < 4096, "gzip made {sent} bytes of the body");
        assert_eq!(
            seen.body,
            json!({"items": items}),
            "the gzipped body decodes to the items"
        );
        assert!(out.iter().all(biolm::Outcome::is_success), "{out:?}");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_requests_have_the_documented_shape() {
    bounded(30, async {
        let (base, server) = serve_once("v1", "422 Unprocessable Entity", json!({"detail": [{"loc": ["body", "items", 0, "sequence"], "msg": "too long", "type": "x"}]})).await;
        let client = builder(&base).build().unwrap();
        // local validation would stop this item: use a spec without a schema
        let spec = unchecked("esmfold", "fold", 2);
        let out = client
            .call::<Value, Value, Value, _>(spec, vec![json!({"sequence": "M".repeat(400)})])
            .params(json!({"x": 1}))
            .await
            .unwrap();
        let seen = server.await.unwrap();
        assert!(seen.head.starts_with("POST /api/v1/esmfold/fold HTTP/1.1"), "{}", seen.head);
        assert_eq!(header(&seen.head, "authorization"), None, "no token configured, none sent");
        assert_eq!(header(&seen.head, "content-encoding"), None, "gateway bodies are not compressed");
        assert!(!header(&seen.head, "accept-encoding").unwrap_or("").contains("gzip"));
        assert_eq!(seen.body["params"], json!({"x": 1}));
        let e = out[0].error().unwrap();
        assert_eq!((e.field.as_deref(), e.status, e.request_id.as_deref()), (Some("sequence"), Some(422), Some("req-42")));
        assert!(e.message.contains("too long"), "{e}");
    })
    .await
}
