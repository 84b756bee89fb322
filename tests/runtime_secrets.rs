//! The token never appears in Debug/Display output, errors or tracing output.

mod support;

use biolm::{ClientBuilder, Token};
use support::*;

const SECRET: &str = "tok-9f8e7d6c5b4a-SECRET";

#[test]
fn token_never_leaks() {
    let capture = Capture::default();
    let c2 = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || c2.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sb = sandbox(config().token("the-right-token")).await;
        let builder: ClientBuilder = builder(&sb.base_url()).token(SECRET);
        let dbg = format!("{builder:?}");
        assert!(!dbg.contains(SECRET) && dbg.contains("Token(***)"), "{dbg}");
        let client = builder.build().unwrap();
        let out = client.esm2_8m().encode(items(3)).await.unwrap();
        let mut texts = vec![format!("{client:?}"), format!("{out:?}")];
        for o in &out {
            let e = o.error().unwrap();
            texts.push(e.to_string());
            texts.push(serde_json::to_string(e).unwrap());
        }
        for t in &texts {
            assert!(!t.contains(SECRET), "token leaked: {t}");
        }
        let t = Token::new(SECRET);
        assert_eq!(format!("{t} {t:?}"), "Token(***) Token(***)");
    });
    drop(rt);
    let logs = capture.text();
    assert!(
        logs.contains("biolm.call") && logs.contains("biolm.attempt"),
        "spans are traced: {logs}"
    );
    assert!(!logs.contains(SECRET), "token in the tracing output");
}

/// A server or proxy that echoes the token and the base URL's secrets in the
/// `x-request-id` header, an error key and the message: no field of the
/// item's error holds them (issue 10, item 6), and the request path goes
/// before the base URL's query string.
#[test]
fn echoed_secrets_are_redacted_in_every_field() {
    const TOKEN: &str = "tok-echo-Zq81mN3xV7";
    const PASSWORD: &str = "pw-echo-Lk29sD8fH4";
    const QUERY: &str = "qv-echo-Rt56yU1oP0";
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let echo = format!("Token {TOKEN} http://u:{PASSWORD}@h/?key={QUERY}");
        let body = serde_json::json!({
            "error": {format!("items__0__{TOKEN}"): [format!("echo {echo}")]}
        })
        .to_string();
        let server = ScriptServer::start(Script::reply(
            "422 Unprocessable Entity",
            "application/json",
            &format!("x-request-id: {echo}\r\n"),
            body,
        ))
        .await;
        let base = server
            .base_url
            .replace("http://", &format!("http://u:{PASSWORD}@"))
            + &format!("?key={QUERY}");
        let client = builder(&base).token(TOKEN).build().unwrap();
        let out = client
            .untyped("esm2-8m", "encode")
            .call(vec![serde_json::json!({"sequence": "MKT"})])
            .await
            .unwrap();
        let e = out[0].error().expect("the item failed");
        assert!(e.message.contains("echo"), "{e:?}");
        let texts = [
            e.to_string(),
            serde_json::to_string(e).unwrap(),
            format!("{e:?}"),
        ];
        for t in &texts {
            for s in [TOKEN, PASSWORD, QUERY] {
                assert!(!t.contains(s), "{s} leaked: {t}");
            }
        }
        let heads = server.heads();
        assert!(
            heads[0].starts_with(&format!("POST /api/v3/esm2-8m/encode/?key={QUERY} ")),
            "{}",
            heads[0]
        );
    });
}
