//! The token never leaks (issue 6, part 6): not in the Debug or Display of the
//! client, its builder, calls, streams, outcomes or errors, not in JSONL
//! output, and not in log output at any level — captured at TRACE, `log`
//! records of dependencies included — during real calls that fail, retry and
//! re-send.
//!
//! One test function: the log capture is process-wide.

mod support;

use biolm::{blocking, Client, ClientBuilder, Error, Outcome};
use biolm_sandbox::FaultKind;
use futures_util::StreamExt;
use serde_json::Value;
use support::*;

const SECRET: &str = "sk-live-7Hq2ZxR9pL4mN8vB3cT6";
const WRONG: &str = "sk-wrong-0Yd5KuE1wJ7sA2fG9hX4";

fn assert_clean(what: &str, text: &str) {
    for t in [SECRET, WRONG] {
        assert!(!text.contains(t), "the token leaked into {what}: {text}");
        // Not even a long piece of it.
        assert!(
            !text.contains(&t[3..18]),
            "part of the token leaked into {what}: {text}"
        );
    }
}

/// A client of `base` with `token` and three attempts per request.
fn client_for(base: String, token: &str) -> Client {
    Client::builder()
        .base_url(base)
        .token(token)
        .retry(capped_retry(3))
        .build()
        .unwrap()
}

#[test]
fn token_never_leaks_anywhere() {
    let capture = Capture::default();
    let writer = capture.clone();
    // `try_init` also routes `log` records (reqwest, rustls) into the subscriber.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_target(true)
        .with_writer(move || writer.clone())
        .try_init()
        .expect("the only subscriber of this test binary");

    let mut texts: Vec<(String, String)> = Vec::new();
    let mut keep = |what: &str, t: String| texts.push((what.to_string(), t));

    // Builders, from code and from the environment.
    let b = Client::builder()
        .token(SECRET)
        .base_url("http://127.0.0.1:9/api/v3");
    keep("builder Debug", format!("{b:?}"));
    std::env::set_var("BIOLM_TOKEN", SECRET);
    let env_builder = ClientBuilder::from_env();
    keep("from_env builder Debug", format!("{env_builder:?}"));
    std::env::remove_var("BIOLM_TOKEN");
    keep(
        "Token Display",
        format!(
            "{} {:?}",
            biolm::Token::new(SECRET),
            biolm::Token::new(SECRET)
        ),
    );
    // Configuration errors never quote the token.
    for bad in [
        format!("{SECRET}\n"),
        format!("{SECRET}\u{7f}x"),
        format!("a\r\n{SECRET}"),
    ] {
        let e = Client::builder()
            .token(bad.as_str())
            .base_url("http://127.0.0.1:9/api/v3")
            .build();
        match e {
            Err(e) => {
                keep("config error Display", e.to_string());
                keep("config error Debug", format!("{e:?}"));
            }
            Ok(c) => keep("client with odd token", format!("{c:?}")),
        }
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    rt.block_on(bounded(120, async {
        // Half the requests fail with resets and 503s (retried); then every
        // request fails with 500 (re-sent item by item, then failed).
        let sb = sandbox(config().token(SECRET).faults(
            0.5,
            [FaultKind::ConnectionReset, FaultKind::Status503],
            6,
        ))
        .await;
        let failing = sandbox(
            config()
                .token(SECRET)
                .faults(1.0, [FaultKind::Status500], 7),
        )
        .await;
        let client = client_for(sb.base_url(), SECRET);
        keep("client Debug", format!("{client:?}"));
        keep(
            "untyped Debug",
            format!("{:?}", client.untyped("esm2-8m", "encode")),
        );
        let call = client.esm2_8m().encode(short_items(80));
        keep("call Debug", format!("{call:?}"));
        let out = call.await.unwrap();
        keep("outcomes Debug", format!("{out:?}"));
        let st = client.stats();
        assert!(st.retries > 0, "the call retried: {st:?}");
        let client500 = client_for(failing.base_url(), SECRET);
        let out500 = client500.esm2_8m().encode(short_items(8)).await.unwrap();
        assert!(client500.stats().resends > 0, "the call re-sent items");
        for o in out.iter().chain(&out500) {
            if let Outcome::Failed(e) = o {
                keep("item error Display", e.to_string());
                keep("item error JSON", serde_json::to_string(e).unwrap());
            }
        }
        assert!(out500.iter().all(Outcome::is_failed));

        // The same through the streaming API and into a JSONL file.
        let mut stream = client.esm2_8m().encode(short_items(16)).stream();
        keep("stream Debug", format!("{stream:?}"));
        while let Some(x) = stream.next().await {
            keep("streamed outcome", format!("{x:?}"));
        }
        let path = dir.path().join("out.jsonl");
        let summary = client
            .esm2_8m()
            .encode(short_items(24))
            .write_jsonl(&path)
            .await
            .unwrap();
        keep("JSONL summary", format!("{summary:?}"));
        keep("JSONL file", std::fs::read_to_string(&path).unwrap());

        // A wrong token: every item fails with 401, saying what to do.
        let wrong = client_for(sb.base_url(), WRONG);
        let out = wrong.esm2_8m().encode(short_items(3)).await.unwrap();
        for o in &out {
            let e = o.error().expect("401 fails the item");
            assert_eq!(e.status, Some(401), "{e}");
            assert!(e.message.contains("BIOLM_TOKEN"), "says what to do: {e}");
            keep("401 error", e.to_string());
            keep("401 error Debug", format!("{e:?}"));
        }
        // The blocking client refuses to run inside a runtime; its error and Debug are clean.
        let bc =
            blocking::Client::from_builder(Client::builder().base_url(sb.base_url()).token(SECRET))
                .unwrap();
        keep("blocking client Debug", format!("{bc:?}"));
        let call = bc.call::<Value, Value, Value, _>(spec("esm2-8m", "encode"), vec![]);
        keep("blocking call Debug", format!("{call:?}"));
        match call.send() {
            Err(e @ Error::BlockingInAsyncContext) => keep("blocking error", e.to_string()),
            other => panic!("expected BlockingInAsyncContext, got {other:?}"),
        }
        tokio::task::spawn_blocking(move || drop(bc)).await.unwrap();
    }));
    drop(rt);

    for (what, t) in &texts {
        assert_clean(what, t);
    }
    let logs = capture.text();
    assert!(logs.contains("TRACE"), "trace level is captured");
    assert!(
        logs.contains("biolm.attempt") && logs.contains("retrying"),
        "retries are logged"
    );
    assert!(
        logs.contains("re-sending item by item"),
        "re-sends are logged"
    );
    assert!(
        logs.contains("reqwest") || logs.contains("hyper"),
        "dependencies' records are captured too"
    );
    assert_clean("log output", &logs);
}
