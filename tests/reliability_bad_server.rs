//! A misbehaving server (issue 6, part 4): a tiny HTTP server in the test
//! writes crafted bytes. Each case must end with a clear error for the item,
//! and no case may run past the configured timeouts and retries.

mod support;

use std::time::{Duration, Instant};

use biolm::esm2::{Esm2EncodeItem, Esm2EncodeResult};
use biolm::{Client, ItemError, ItemErrorKind, Outcome};
use serde_json::Value;
use support::*;

/// Request timeout of every client here.
const TIMEOUT: Duration = Duration::from_millis(400);
/// Attempts per request.
const ATTEMPTS: u32 = 2;

fn client(base: &str) -> Client {
    client_with(base, |b| b)
}

fn client_with(base: &str, f: impl FnOnce(biolm::ClientBuilder) -> biolm::ClientBuilder) -> Client {
    f(Client::builder()
        .base_url(base)
        .token("t")
        .compression(false)
        .request_timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .retry(capped_retry(ATTEMPTS)))
    .build()
    .unwrap()
}

/// The two esm2-8m items every call here sends.
fn two_items() -> Vec<Esm2EncodeItem> {
    vec![
        Esm2EncodeItem::new("MKTAYIAKQR"),
        Esm2EncodeItem::new("GLIEV"),
    ]
}

/// Calls esm2-8m encode on two items (typed results) and returns the one
/// error both items share, with the elapsed time.
async fn call_fails(client: &Client) -> (ItemError, Duration) {
    let started = Instant::now();
    let out = client
        .esm2_8m()
        .encode(two_items())
        .await
        .expect("no call-level error: failures are per item");
    let elapsed = started.elapsed();
    assert_eq!(out.len(), 2);
    let errors: Vec<ItemError> = out
        .into_iter()
        .enumerate()
        .map(|(i, o)| match o {
            Outcome::Failed(e) => {
                assert_eq!(e.index, i);
                e
            }
            other => panic!("item {i}: expected a failure, got {other:?}"),
        })
        .collect();
    assert_eq!(
        errors[0].message, errors[1].message,
        "one reply, one reason"
    );
    eprintln!("{:?} after {elapsed:?}: {}", errors[0].kind, errors[0]);
    (errors[0].clone(), elapsed)
}

/// The longest a failing call may take: every attempt times out, plus backoff and slack.
fn bound() -> Duration {
    TIMEOUT * ATTEMPTS + Duration::from_millis(3000)
}

fn json_200(body: &str) -> Script {
    Script::reply("200 OK", "application/json", "", body.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_json_is_retried_then_reported() {
    bounded(20, async {
        let s = ScriptServer::start(json_200(r#"{"results": [{"sequence_index": 0, "embeddings": [{"layer": 6, "embedding": [0.1, 0.2"#)).await;
        let (e, elapsed) = call_fails(&client(&s.base_url)).await;
        assert_eq!(e.kind, ItemErrorKind::BadResponse);
        assert!(e.message.contains("not complete JSON"), "{e}");
        assert!(e.message.contains("gave up after 2 attempts"), "{e}");
        assert_eq!(e.status, Some(200));
        assert_eq!(s.requests(), ATTEMPTS as usize, "retried up to the attempt limit, no more");
        assert!(elapsed < bound(), "{elapsed:?}");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_page_with_200_is_named_as_such() {
    bounded(20, async {
        let page = "<!doctype html><html><head><title>Sign in to the guest network</title></head><body>Please log in</body></html>";
        let s = ScriptServer::start(Script::reply(
            "200 OK",
            "text/html; charset=utf-8",
            "",
            page.as_bytes(),
        ))
        .await;
        let (e, elapsed) = call_fails(&client(&s.base_url)).await;
        assert_eq!(e.kind, ItemErrorKind::BadResponse);
        assert!(e.message.contains("text/html"), "names the content type: {e}");
        assert!(e.message.contains("Sign in to the guest network"), "quotes the start of the body: {e}");
        assert_eq!(e.status, Some(200));
        assert!(s.requests() <= ATTEMPTS as usize);
        assert!(elapsed < bound(), "{elapsed:?}");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ok_status_with_an_error_body_fails_the_items() {
    bounded(20, async {
        let s = ScriptServer::start(json_200(
            r#"{"error": "model esm2-8m is warming up, try again in a minute"}"#,
        ))
        .await;
        let (e, elapsed) = call_fails(&client(&s.base_url)).await;
        assert!(
            e.message.contains("warming up"),
            "carries the server's words: {e}"
        );
        assert_eq!(e.status, Some(200));
        assert!(elapsed < bound(), "{elapsed:?}");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_of_the_wrong_shape_are_reported() {
    bounded(20, async {
        let s = ScriptServer::start(json_200(r#"{"results": {"0": "not a list"}}"#)).await;
        let (e, _) = call_fails(&client(&s.base_url)).await;
        assert_eq!(e.kind, ItemErrorKind::BadResponse);
        assert!(e.message.contains("unexpected shape"), "{e}");
        assert_eq!(
            s.requests(),
            1,
            "a well-formed reply of the wrong shape is not retried"
        );

        let s = ScriptServer::start(json_200(
            r#"{"results": [{"embeddings": "nope"}, {"embeddings": "nope"}]}"#,
        ))
        .await;
        let (e, _) = call_fails(&client(&s.base_url)).await;
        assert_eq!(e.kind, ItemErrorKind::BadResponse);
        assert!(e.message.contains("expected shape"), "{e}");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_over_the_size_limit_is_refused_early() {
    bounded(20, async {
        // A declared length over the limit: refused from the headers.
        let big = format!(r#"{{"results": [{{"x": "{}"}}, {{"x": 1}}]}}"#, "A".repeat(300_000));
        let s = ScriptServer::start(json_200(&big)).await;
        let c = client_with(&s.base_url, |b| b.max_response_bytes(100_000));
        let (e, elapsed) = call_fails(&c).await;
        assert_eq!(e.kind, ItemErrorKind::BadResponse);
        assert!(e.message.contains("100000 bytes"), "names the limit: {e}");
        assert!(e.message.contains("max_response_bytes"), "says how to raise it: {e}");
        assert_eq!(s.requests(), 1, "a reply too large is not retried");
        assert!(elapsed < bound(), "{elapsed:?}");

        // No declared length and an endless body: cut off at the limit, well
        // before the request timeout.
        let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{\"results\": [\"".to_vec();
        let s = ScriptServer::start(Script::Drip {
            head,
            body: vec![b'A'; 50_000_000],
            chunk: 64 * 1024,
            every: Duration::from_millis(1),
        })
        .await;
        let c = client_with(&s.base_url, |b| {
            b.max_response_bytes(1_000_000).request_timeout(Duration::from_secs(30))
        });
        let (e, elapsed) = call_fails(&c).await;
        assert_eq!(e.kind, ItemErrorKind::BadResponse);
        assert!(e.message.contains("1000000 bytes"), "{e}");
        assert!(elapsed < Duration::from_secs(10), "cut off at the limit, not at the timeout: {elapsed:?}");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_drip_body_times_out() {
    bounded(20, async {
        let body = br#"{"results": [{"sequence_index": 0}, {"sequence_index": 1}]}"#;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        // One byte every 100 ms: the whole body would take 6 s.
        let s = ScriptServer::start(Script::Drip {
            head,
            body: body.to_vec(),
            chunk: 1,
            every: Duration::from_millis(100),
        })
        .await;
        let (e, elapsed) = call_fails(&client(&s.base_url)).await;
        assert_eq!(e.kind, ItemErrorKind::Unavailable);
        assert!(e.message.contains("timed out"), "{e}");
        assert!(e.message.contains("gave up after 2 attempts"), "{e}");
        assert!(
            elapsed >= TIMEOUT * ATTEMPTS,
            "each attempt waits its timeout: {elapsed:?}"
        );
        assert!(elapsed < bound(), "no hang past the timeouts: {elapsed:?}");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_drip_headers_and_silence_time_out() {
    bounded(20, async {
        // The status line and headers themselves trickle in.
        let s = ScriptServer::start(Script::Drip {
            head: Vec::new(),
            body: http_response("200 OK", "application/json", "", br#"{"results": [1, 2]}"#),
            chunk: 1,
            every: Duration::from_millis(50),
        })
        .await;
        let (e, elapsed) = call_fails(&client(&s.base_url)).await;
        assert!(e.message.contains("timed out"), "{e}");
        assert!(elapsed < bound(), "{elapsed:?}");

        // The request is read, nothing is ever written.
        let s = ScriptServer::start(Script::Hang).await;
        let (e, elapsed) = call_fails(&client(&s.base_url)).await;
        assert_eq!(e.kind, ItemErrorKind::Unavailable);
        assert!(e.message.contains("timed out"), "{e}");
        assert_eq!(s.requests(), ATTEMPTS as usize);
        assert!(elapsed < bound(), "{elapsed:?}");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_connections_and_garbage_are_reported() {
    bounded(20, async {
        let s = ScriptServer::start(Script::Close).await;
        let (e, elapsed) = call_fails(&client(&s.base_url)).await;
        assert_eq!(e.kind, ItemErrorKind::Unavailable);
        assert!(e.message.contains(&s.base_url), "names the URL: {e}");
        assert!(e.message.contains("gave up after 2 attempts"), "{e}");
        assert!(elapsed < bound(), "{elapsed:?}");

        let s = ScriptServer::start(Script::Bytes(b"SSH-2.0-OpenSSH_9.6\r\n".to_vec())).await;
        let (e, elapsed) = call_fails(&client(&s.base_url)).await;
        assert_eq!(e.kind, ItemErrorKind::Unavailable);
        assert!(e.message.contains("gave up after 2 attempts"), "{e}");
        assert!(elapsed < bound(), "{elapsed:?}");

        // A body announced as gzip that is not.
        let s = ScriptServer::start(Script::reply(
            "200 OK",
            "application/json",
            "content-encoding: gzip\r\n",
            br#"{"results": [1, 2]}"#,
        ))
        .await;
        let (e, elapsed) = call_fails(&client(&s.base_url)).await;
        assert!(e.message.contains("gave up after 2 attempts"), "{e}");
        assert!(elapsed < bound(), "{elapsed:?}");

        // A chunked body with a chunk size that is not hex.
        let s = ScriptServer::start(Script::Bytes(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n".to_vec(),
        ))
        .await;
        let (e, elapsed) = call_fails(&client(&s.base_url)).await;
        assert!(e.message.contains("gave up after 2 attempts"), "{e}");
        assert!(elapsed < bound(), "{elapsed:?}");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_retry_after_is_capped_by_the_policy() {
    bounded(20, async {
        let s = ScriptServer::start(Script::reply(
            "429 Too Many Requests",
            "application/json",
            "retry-after: 86400\r\n",
            br#"{"detail": "Request was throttled. Expected available in 86400 seconds."}"#,
        ))
        .await;
        let (e, elapsed) = call_fails(&client(&s.base_url)).await;
        assert_eq!(e.kind, ItemErrorKind::Unavailable);
        assert_eq!(e.status, Some(429));
        assert!(e.message.contains("rate-limiting"), "{e}");
        assert_eq!(s.requests(), ATTEMPTS as usize);
        assert!(
            elapsed < bound(),
            "a day-long Retry-After is cut to max_retry_after: {elapsed:?}"
        );
    })
    .await
}

/// The reply of a well-behaved script server decodes (the harness itself works).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_reply_from_the_script_server_succeeds() {
    bounded(20, async {
        let s = ScriptServer::start(json_200(
            r#"{"results": [{"sequence_index": 0, "embeddings": [{"layer": 6, "embedding": [0.5]}]}, {"sequence_index": 1}]}"#,
        ))
        .await;
        let out = client(&s.base_url)
            .esm2_8m()
            .encode(two_items())
            .await
            .unwrap();
        let r: &Esm2EncodeResult = out[0].ok().expect("success");
        let v: Value = serde_json::to_value(r).unwrap();
        assert_eq!(v["embeddings"][0]["embedding"][0], 0.5);
        assert!(out[1].is_success());
    })
    .await
}

/// A small gzip body that inflates past the limit (a "zip bomb") is cut off
/// while inflating: the limit counts decompressed bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bomb_is_cut_off_at_the_decompressed_limit() {
    bounded(30, async {
        use std::io::Write;
        let mut body = br#"{"results": [{"x": ""#.to_vec();
        body.extend(std::iter::repeat_n(b'A', 40_000_000));
        body.extend_from_slice(br#""}, {"x": 1}]}"#);
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&body).unwrap();
        let z = z.finish().unwrap();
        assert!(z.len() < 200_000, "{} compressed bytes", z.len());
        let s = ScriptServer::start(Script::reply(
            "200 OK",
            "application/json",
            "content-encoding: gzip\r\n",
            &z,
        ))
        .await;
        let c = client_with(&s.base_url, |b| b.max_response_bytes(1_000_000));
        let (e, elapsed) = call_fails(&c).await;
        assert_eq!(e.kind, ItemErrorKind::BadResponse);
        assert!(e.message.contains("1000000 bytes"), "{e}");
        assert_eq!(s.requests(), 1, "not retried");
        assert!(elapsed < bound(), "{elapsed:?}");
    })
    .await
}

/// Nothing listens: every attempt fails at once with "could not connect", naming the URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_port_fails_fast() {
    bounded(20, async {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let base = format!("http://127.0.0.1:{port}/api/v3");
        let (e, elapsed) = call_fails(&client(&base)).await;
        assert_eq!(e.kind, ItemErrorKind::Unavailable);
        assert!(e.message.contains("could not connect"), "{e}");
        assert!(e.message.contains(&base), "{e}");
        assert!(e.message.contains("gave up after 2 attempts"), "{e}");
        assert!(elapsed < bound(), "{elapsed:?}");
    })
    .await
}

/// JSON nested far deeper than any result: an error, never a stack overflow,
/// in a 200 body and in an error body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_json_is_an_error_not_a_crash() {
    bounded(20, async {
        let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
        let s = ScriptServer::start(json_200(&format!(r#"{{"results": [{deep}, {deep}]}}"#))).await;
        let (e, elapsed) = call_fails(&client(&s.base_url)).await;
        assert_eq!(e.kind, ItemErrorKind::BadResponse);
        assert!(elapsed < bound(), "{elapsed:?}");

        let s = ScriptServer::start(Script::reply(
            "400 Bad Request",
            "application/json",
            "",
            format!(r#"{{"error": {deep}}}"#).as_bytes(),
        ))
        .await;
        let (e, elapsed) = call_fails(&client(&s.base_url)).await;
        assert_eq!(e.status, Some(400), "{e}");
        assert!(elapsed < bound(), "{elapsed:?}");
    })
    .await
}

/// A response head larger than any real one is refused by the HTTP layer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_response_head_is_refused() {
    bounded(20, async {
        let huge = format!("x-filler: {}\r\n", "a".repeat(2_000_000));
        let s = ScriptServer::start(Script::reply(
            "200 OK",
            "application/json",
            &huge,
            br#"{"results": [1, 2]}"#,
        ))
        .await;
        let (e, elapsed) = call_fails(&client(&s.base_url)).await;
        assert_eq!(e.kind, ItemErrorKind::Unavailable);
        assert!(elapsed < bound(), "{elapsed:?}");
    })
    .await
}

/// A redirect to another origin never carries the token there, and a
/// redirect loop ends with an error within the time bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_never_carry_the_token_elsewhere() {
    bounded(20, async {
        let other = ScriptServer::start(json_200(r#"{"results": [1, 2]}"#)).await;
        let target = other.base_url.replace("/api/v3", "/api/v3/esm2-8m/encode/");
        let s = ScriptServer::start(Script::reply(
            "307 Temporary Redirect",
            "text/plain",
            &format!("location: {target}\r\n"),
            b"moved",
        ))
        .await;
        let c = client_with(&s.base_url, |b| b.token("redirect-secret-token"));
        let _ = c.esm2_8m().encode(two_items()).await.unwrap();
        assert!(
            s.heads()
                .iter()
                .all(|h| h.contains("redirect-secret-token")),
            "the API host gets the token"
        );
        assert!(!other.heads().is_empty(), "the redirect was followed");
        for h in other.heads() {
            assert!(
                !h.contains("redirect-secret-token"),
                "the token followed a redirect: {h}"
            );
        }

        // A redirect to itself, forever.
        let s2 = ScriptServer::start_with(|base| {
            Script::reply(
                "307 Temporary Redirect",
                "text/plain",
                &format!("location: {base}/esm2-8m/encode/\r\n"),
                b"moved",
            )
        })
        .await;
        let (e, elapsed) = call_fails(&client(&s2.base_url)).await;
        assert!(elapsed < bound(), "{elapsed:?}");
        assert!(e.message.contains("redirect"), "{e}");
        assert!(
            s2.requests() <= 2 * 11,
            "redirects are bounded: {}",
            s2.requests()
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_echoing_the_token_never_puts_it_in_errors() {
    bounded(20, async {
        let token = "tok-echo-5ecret-0042";
        let s = ScriptServer::start(Script::reply(
            "400 Bad Request",
            "application/json",
            "",
            format!(r#"{{"error": "bad request with header Authorization: Token {token}"}}"#)
                .as_bytes(),
        ))
        .await;
        let client = client_with(&s.base_url, |b| b.token(token));
        let (e, _) = call_fails(&client).await;
        assert!(
            e.message.contains("Authorization: Token ***"),
            "the server's words stay, scrubbed: {e}"
        );
        assert!(
            !e.message.contains(token) && !e.to_string().contains(token),
            "{e}"
        );
        assert!(!format!("{e:?}").contains(token), "{e:?}");
    })
    .await
}
