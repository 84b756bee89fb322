//! `strict_gateway` (`--strict-gateway`): `/api/v1` exactly as a catalog gateway
//! (FastAPI) serves it, per `shared/spec/PROTOCOL.md`.

mod common;

use std::io::Write;

use biolm_sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Value};

fn fold_body() -> Value {
    json!({"items": [{"sequence": "MKTAYIAKQR"}]})
}

async fn post(url: &str, body: &Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn strict_gateway_serves_only_the_gateways_routes() {
    let sb = Sandbox::start(SandboxConfig::new(common::project_dir()).strict_gateway(true))
        .await
        .unwrap();
    let gw = sb.gateway_url();
    let (status, ok) = post(&format!("{gw}/esmfold/fold"), &fold_body()).await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["results"].as_array().map(Vec::len), Some(1));
    for path in [
        "esmfold/fold/",
        "esmfold/predict",
        "esmfold//fold",
        "nope/fold",
    ] {
        let (status, body) = post(&format!("{gw}/{path}"), &fold_body()).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body, json!({"detail": "Not Found"}), "{path}");
    }
    // The platform routes stay as they are.
    let (status, _) = post(&format!("{}/esmfold/predict/", sb.base_url()), &fold_body()).await;
    assert_eq!(status, 200);

    // Validation errors: pydantic's detail list with loc.
    let (status, err) = post(&format!("{gw}/esmfold/fold"), &json!({"items": [{}]})).await;
    assert_eq!(status, 422);
    assert_eq!(err["detail"][0]["type"], "missing", "{err}");
    assert_eq!(
        err["detail"][0]["loc"],
        json!(["body", "items", 0, "sequence"])
    );

    // Other methods: FastAPI's 405.
    let resp = reqwest::Client::new()
        .get(format!("{gw}/esmfold/fold"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"detail": "Method Not Allowed"})
    );
}

#[tokio::test]
async fn strict_gateway_refuses_gzip_bodies_as_fastapi_does() {
    let sb = Sandbox::start(SandboxConfig::new(common::project_dir()).strict_gateway(true))
        .await
        .unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(fold_body().to_string().as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    let client = reqwest::Client::new();
    let send = |url: String| {
        client
            .post(url)
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(gz.clone())
            .send()
    };
    let resp = send(format!("{}/esmfold/fold", sb.gateway_url()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["detail"][0]["type"], "json_invalid", "{err}");
    assert_eq!(err["detail"][0]["loc"], json!(["body", 0]));
    // The platform takes gzip bodies.
    let resp = send(format!("{}/esmfold/predict/", sb.base_url()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn lenient_gateway_by_default() {
    let sb = Sandbox::start(SandboxConfig::new(common::project_dir()))
        .await
        .unwrap();
    let gw = sb.gateway_url();
    for path in ["esmfold/fold", "esmfold/fold/", "esmfold/predict"] {
        let (status, body) = post(&format!("{gw}/{path}"), &fold_body()).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
}
