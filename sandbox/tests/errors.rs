//! Invalid requests get the platform's error shape on /api/v3 and pydantic's on /api/v1.

mod common;

use biolm_sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Value};

async fn post(client: &reqwest::Client, url: &str, body: &str) -> (u16, Value) {
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let value = resp.json::<Value>().await.unwrap();
    (status, value)
}

/// Checks one bad body on both routes: the v3 key and message, and the v1 type, loc and message.
async fn check(sandbox: &Sandbox, body: Value, key: &str, v3_msg: &str, v1_type: &str, loc: Value) {
    let client = reqwest::Client::new();
    let text = body.to_string();
    let (status, v3) = post(
        &client,
        &format!("{}/esm2-8m/encode/", sandbox.base_url()),
        &text,
    )
    .await;
    assert_eq!(status, 400, "{v3}");
    let msgs = v3["error"][key]
        .as_array()
        .unwrap_or_else(|| panic!("no key {key} in {v3}"));
    assert!(
        msgs.iter().any(|m| m.as_str().unwrap().contains(v3_msg)),
        "{key}: {msgs:?} lacks {v3_msg:?}"
    );
    let (status, v1) = post(
        &client,
        &format!("{}/esm2-8m/encode", sandbox.gateway_url()),
        &text,
    )
    .await;
    assert_eq!(status, 422, "{v1}");
    let detail = v1["detail"].as_array().unwrap();
    let entry = detail
        .iter()
        .find(|d| d["loc"] == loc)
        .unwrap_or_else(|| panic!("no detail at {loc} in {v1}"));
    assert_eq!(entry["type"], v1_type, "{entry}");
    assert!(entry["msg"].as_str().unwrap().contains(v3_msg), "{entry}");
    assert!(entry.get("input").is_some(), "{entry}");
}

async fn reference() -> Sandbox {
    Sandbox::start(SandboxConfig::new(common::reference_dir()))
        .await
        .unwrap()
}

#[tokio::test]
async fn missing_required_field() {
    let s = reference().await;
    check(
        &s,
        json!({"items": [{"sequence": "MKT"}, {}]}),
        "items__1__sequence",
        "Field required",
        "missing",
        json!(["body", "items", 1, "sequence"]),
    )
    .await;
    check(
        &s,
        json!({"params": {}}),
        "items",
        "Field required",
        "missing",
        json!(["body", "items"]),
    )
    .await;
}

#[tokio::test]
async fn over_long_string() {
    let s = reference().await;
    let long = "M".repeat(2049);
    check(
        &s,
        json!({"items": [{"sequence": long}]}),
        "items__0__sequence",
        "at most 2048 characters, not 2049",
        "string_too_long",
        json!(["body", "items", 0, "sequence"]),
    )
    .await;
}

#[tokio::test]
async fn batch_over_max_items_and_empty_batch() {
    let s = reference().await;
    let nine: Vec<Value> = (0..9).map(|_| json!({"sequence": "MKT"})).collect();
    check(
        &s,
        json!({ "items": nine }),
        "items",
        "at most 8 items",
        "too_long",
        json!(["body", "items"]),
    )
    .await;
    check(
        &s,
        json!({"items": []}),
        "items",
        "at least 1 items",
        "too_short",
        json!(["body", "items"]),
    )
    .await;
}

#[tokio::test]
async fn unknown_fields_in_items_params_and_body() {
    let s = reference().await;
    check(
        &s,
        json!({"items": [{"sequence": "MKT", "colour": "red"}]}),
        "items__0__colour",
        "Extra inputs are not permitted",
        "extra_forbidden",
        json!(["body", "items", 0, "colour"]),
    )
    .await;
    check(
        &s,
        json!({"items": [{"sequence": "MKT"}], "params": {"layers": [1]}}),
        "params__layers",
        "Extra inputs are not permitted",
        "extra_forbidden",
        json!(["body", "params", "layers"]),
    )
    .await;
    check(
        &s,
        json!({"items": [{"sequence": "MKT"}], "batch": 1}),
        "batch",
        "Extra inputs",
        "extra_forbidden",
        json!(["body", "batch"]),
    )
    .await;
}

#[tokio::test]
async fn wrong_types_and_enum_values() {
    let s = reference().await;
    check(
        &s,
        json!({"items": [{"sequence": 42}]}),
        "items__0__sequence",
        "valid string",
        "string_type",
        json!(["body", "items", 0, "sequence"]),
    )
    .await;
    check(
        &s,
        json!({"items": {"sequence": "MK"}}),
        "items",
        "valid array",
        "list_type",
        json!(["body", "items"]),
    )
    .await;
    check(
        &s,
        json!({"items": [{"sequence": "MKT"}], "params": {"include": ["everything"]}}),
        "params__include__0",
        "Input should be one of",
        "enum",
        json!(["body", "params", "include", 0]),
    )
    .await;
}

#[tokio::test]
async fn non_json_and_bad_gzip_bodies() {
    let s = reference().await;
    let client = reqwest::Client::new();
    let (status, v3) = post(
        &client,
        &format!("{}/esm2-8m/encode/", s.base_url()),
        "{\"items\": [",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        v3["error"]["non_field_errors"][0]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error"),
        "{v3}"
    );
    let (status, v1) = post(
        &client,
        &format!("{}/esm2-8m/encode", s.gateway_url()),
        "not json",
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(v1["detail"][0]["type"], "json_invalid");
    assert_eq!(v1["detail"][0]["loc"], json!(["body"]));
    let resp = client
        .post(format!("{}/esm2-8m/encode/", s.base_url()))
        .header("content-encoding", "gzip")
        .body("plainly not gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let v: Value = resp.json().await.unwrap();
    assert!(
        v["error"]["non_field_errors"][0]
            .as_str()
            .unwrap()
            .contains("not valid gzip"),
        "{v}"
    );
}

#[tokio::test]
async fn unknown_model_action_and_method() {
    let s = reference().await;
    let client = reqwest::Client::new();
    let (status, v) = post(&client, &format!("{}/esm9-1t/encode/", s.base_url()), "{}").await;
    assert_eq!(status, 404);
    assert!(
        v["error"].as_str().unwrap().contains("no model `esm9-1t`"),
        "{v}"
    );
    let (status, v) = post(&client, &format!("{}/esm2-8m/fold", s.gateway_url()), "{}").await;
    assert_eq!(status, 404);
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("has no action `fold`"),
        "{v}"
    );
    let resp = client
        .get(format!("{}/esm2-8m/encode/", s.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(s.stats().status(404), 2);
}

#[tokio::test]
async fn extension_rules_of_project_schemas_are_enforced() {
    // The project's own schemas, which are always in the repository.
    let s = Sandbox::start(SandboxConfig::new(common::project_dir()))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let body = json!({"items": [{"sequence": "MKTAYIAK"}, {"sequence": "MKJAY"}]}).to_string();
    // ESMFold is `predict` on the platform and `fold` on a gateway; both resolve on both routes.
    let (status, v3) = post(
        &client,
        &format!("{}/esmfold/predict/", s.base_url()),
        &body,
    )
    .await;
    assert_eq!(status, 400, "{v3}");
    let msg = v3["error"]["items__1__sequence"][0].as_str().unwrap();
    assert!(
        msg.contains("character 'J' at position 3 is not allowed"),
        "{msg}"
    );
    assert_eq!(v3["error"].as_object().unwrap().len(), 1, "{v3}");
    let (status, v1) = post(&client, &format!("{}/esmfold/fold", s.gateway_url()), &body).await;
    assert_eq!(status, 422);
    assert_eq!(
        v1["detail"][0]["loc"],
        json!(["body", "items", 1, "sequence"])
    );
    assert_eq!(v1["detail"][0]["input"], "MKJAY");
    let ok = json!({"items": [{"sequence": "MKTAY:IAK"}]}).to_string();
    for url in [
        format!("{}/esmfold/fold/", s.base_url()),
        format!("{}/esmfold/predict", s.gateway_url()),
    ] {
        let (status, v) = post(&client, &url, &ok).await;
        assert_eq!(status, 200, "{url}: {v}");
    }
}

#[tokio::test]
async fn cross_field_rules_of_project_schemas_are_enforced() {
    // The project's own schemas, which are always in the repository.
    let s = Sandbox::start(SandboxConfig::new(common::project_dir()))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    // IgBERT: paired chains or one sequence, never both (the server's model validator).
    let body =
        json!({"items": [{"heavy_chain": "EVQL", "light_chain": "DIQM", "sequence": "EVQ"}]})
            .to_string();
    let (status, v1) = post(
        &client,
        &format!("{}/igbert-paired/encode", s.gateway_url()),
        &body,
    )
    .await;
    assert_eq!(status, 422, "{v1}");
    let entry = &v1["detail"][0];
    assert_eq!(entry["loc"], json!(["body", "items", 0]), "{v1}");
    assert_eq!(entry["type"], "value_error", "{v1}");
    assert!(
        entry["msg"]
            .as_str()
            .unwrap()
            .contains("gives both `heavy_chain` + `light_chain` and `sequence`"),
        "{v1}"
    );
    let (status, v3) = post(
        &client,
        &format!("{}/igbert-paired/encode/", s.base_url()),
        &body,
    )
    .await;
    assert_eq!(status, 400, "{v3}");
    assert!(v3["error"]["items__0"].is_array(), "{v3}");
    let ok = json!({"items": [{"heavy_chain": "EVQL", "light_chain": "DIQM"}]}).to_string();
    let (status, v) = post(
        &client,
        &format!("{}/igbert-paired/encode", s.gateway_url()),
        &ok,
    )
    .await;
    assert_eq!(status, 200, "{v}");
}
