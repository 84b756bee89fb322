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
