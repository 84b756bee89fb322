//! A caller's own HTTP client and the request/response hooks, over loopback:
//! against the sandbox, and against a scripted server that records what it read.

mod support;

use std::future::IntoFuture;
use std::sync::{Arc, Mutex};

use biolm::hooks::{AttemptInfo, RequestInfo};
use biolm::{Client, Error, ItemErrorKind};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use support::*;

const TOKEN: &str = "tok-very-secret-123";

/// (attempt, status, request id, error) of one response.
type Response = (u32, Option<u16>, Option<String>, Option<String>);

/// What the hooks saw: (attempt, url, authorization) per request, a
/// [`Response`] and the elapsed time per response.
#[derive(Default)]
struct Seen {
    requests: Vec<(u32, String, Option<String>)>,
    responses: Vec<Response>,
    elapsed: Vec<std::time::Duration>,
}

fn hooked(b: biolm::ClientBuilder, seen: &Arc<Mutex<Seen>>) -> biolm::ClientBuilder {
    let (rq, rs) = (seen.clone(), seen.clone());
    b.on_request(move |r: &mut RequestInfo<'_>| {
        let auth = r
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        rq.lock()
            .unwrap()
            .requests
            .push((r.attempt(), r.url().to_owned(), auth));
        r.insert_header(
            HeaderName::from_static("x-trace-id"),
            HeaderValue::from_static("trace-7"),
        );
    })
    .on_response(move |a: &AttemptInfo<'_>| {
        rs.lock().unwrap().elapsed.push(a.elapsed);
        rs.lock().unwrap().responses.push((
            a.attempt,
            a.status,
            a.request_id.map(str::to_owned),
            a.error.map(str::to_owned),
        ));
    })
}

/// One esm2-8m item sent without the catalog's checks, so that any server
/// answer comes back as the item's outcome; at most 30 s.
async fn one_untyped_item(client: &Client) -> Vec<biolm::Outcome<serde_json::Value>> {
    bounded(
        30,
        client
            .call::<_, serde_json::Value, serde_json::Value, _>(
                unchecked("esm2-8m", "encode", 8),
                vec![serde_json::json!({"sequence": "MKT"})],
            )
            .into_future(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn hooks_add_headers_and_observe_every_attempt_with_the_token_redacted() {
    let server = ScriptServer::start(Script::reply(
        "503 Service Unavailable",
        "application/json",
        "x-request-id: rid-42\r\n",
        br#"{"error":"busy"}"#,
    ))
    .await;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let client = hooked(
        builder(&server.base_url).token(TOKEN).retry(fast_retry(3)),
        &seen,
    )
    .build()
    .unwrap();
    let out = one_untyped_item(&client).await;
    assert_eq!(out[0].error().unwrap().kind, ItemErrorKind::Unavailable);
    let seen = seen.lock().unwrap();
    let attempts: Vec<u32> = seen.requests.iter().map(|r| r.0).collect();
    assert_eq!(attempts, vec![1, 2, 3]);
    for (_, url, auth) in &seen.requests {
        assert!(url.ends_with("/esm2-8m/encode/"), "{url}");
        assert_eq!(auth.as_deref(), Some("Token ***"));
    }
    assert_eq!(
        seen.responses,
        (1..=3)
            .map(|a| (a, Some(503), Some("rid-42".to_owned()), None))
            .collect::<Vec<_>>()
    );
    assert!(
        seen.elapsed.iter().all(|d| !d.is_zero()),
        "{:?}",
        seen.elapsed
    );
    // The header the hook added reached the server, with the real token.
    let heads = server.heads();
    assert_eq!(heads.len(), 3);
    for h in &heads {
        let h = h.to_ascii_lowercase();
        assert!(h.contains("x-trace-id: trace-7"), "{h}");
        assert!(h.contains(&format!("authorization: token {TOKEN}")), "{h}");
    }
}

#[tokio::test]
async fn a_failed_connection_is_observed_without_a_reply_and_without_secrets() {
    // Nothing listens on port 9; the URL carries a secret query value.
    let seen = Arc::new(Mutex::new(Seen::default()));
    let client = hooked(
        builder("http://127.0.0.1:9/api/v3?key=url-secret-456")
            .token(TOKEN)
            .retry(fast_retry(2)),
        &seen,
    )
    .build()
    .unwrap();
    let out = one_untyped_item(&client).await;
    assert!(out[0].is_failed());
    let seen = seen.lock().unwrap();
    assert_eq!(seen.responses.len(), 2);
    for (_, status, rid, error) in &seen.responses {
        assert_eq!((*status, rid.as_deref()), (None, None));
        assert!(error.is_some());
    }
    let all = format!("{:?} {:?}", seen.requests, seen.responses);
    assert!(
        !all.contains("url-secret-456") && !all.contains(TOKEN),
        "{all}"
    );
    assert!(all.contains("key=***"), "{all}");
}

#[tokio::test]
async fn a_callers_http_client_carries_the_calls() {
    let sandbox = sandbox(config()).await;
    let mut defaults = HeaderMap::new();
    defaults.insert("x-app", HeaderValue::from_static("my-app"));
    let http = reqwest::Client::builder()
        .default_headers(defaults)
        .build()
        .unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let client = hooked(
        builder(&sandbox.base_url()).http_client(http.clone()),
        &seen,
    )
    .build()
    .unwrap();
    let out = bounded(30, client.esm2_8m().encode(items(10)).into_future())
        .await
        .unwrap();
    assert!(out.iter().all(|o| o.is_success()), "{out:?}");
    {
        let seen = seen.lock().unwrap();
        assert!(!seen.responses.is_empty());
        assert!(seen.responses.iter().all(|r| r.1 == Some(200)));
    }

    // The caller's client is the one used: its default header reaches the server.
    let server = ScriptServer::start(Script::reply(
        "200 OK",
        "application/json",
        "",
        br#"{"results":[{}]}"#,
    ))
    .await;
    let client = builder(&server.base_url).http_client(http).build().unwrap();
    let _ = one_untyped_item(&client).await;
    assert!(
        server.heads()[0]
            .to_ascii_lowercase()
            .contains("x-app: my-app"),
        "{:?}",
        server.heads()
    );
}

#[test]
fn http_client_with_settings_of_the_http_client_is_refused_at_build() {
    let http = reqwest::Client::new();
    let e = Client::builder()
        .http_client(http.clone())
        .ca_bundle("/nonexistent/ca.pem")
        .connect_timeout(std::time::Duration::from_secs(3))
        .build()
        .unwrap_err();
    let Error::Config(msg) = &e else {
        panic!("a configuration error expected: {e:?}")
    };
    assert!(
        msg.contains("ClientBuilder::ca_bundle, ClientBuilder::connect_timeout"),
        "{msg}"
    );
    assert!(msg.contains("reqwest::Client"), "{msg}");
    let e = Client::builder()
        .accept_compressed_responses(false)
        .http_client(http.clone())
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("accept_compressed_responses"), "{e}");
    // Settings the SDK applies itself go with any HTTP client.
    Client::builder()
        .http_client(http)
        .request_timeout(std::time::Duration::from_secs(5))
        .compression(true)
        .build()
        .unwrap();
}
