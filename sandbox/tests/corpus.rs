//! Every (variant, action) pair of the reference corpus (and of the project's
//! `schemas/`): a valid request gets a 200 whose body validates against that
//! pair's own response schema, with one result per item.

mod common;

use std::time::Duration;

use biolm_sandbox::{Sandbox, SandboxConfig};
use common::{schema_errors, Example};
use serde_json::{json, Value};

fn read(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The mask token a masked-LM `predict` action needs in its sequences.
fn mask_token(family: &str, action: &str) -> Option<&'static str> {
    match (family, action) {
        ("e1", "predict") => Some("?"),
        ("esm2" | "esm1b" | "esm1v" | "esmc", "predict") => Some("<mask>"),
        _ => None,
    }
}

/// Sends `body` and checks the answer against `response_schema`; returns the failure, if any.
async fn check_pair(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
    response_schema: &Value,
    n_items: usize,
    multi: bool,
) -> Result<(), String> {
    let resp = client
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| format!("send: {e}"))?;
    let status = resp.status().as_u16();
    let marker = resp
        .headers()
        .get("x-biolm-sandbox")
        .map(|v| v.to_str().unwrap_or("").to_string());
    let text = resp.text().await.map_err(|e| format!("body: {e}"))?;
    if status != 200 {
        return Err(format!("status {status}: {}", &text[..text.len().min(400)]));
    }
    if marker.as_deref() != Some("synthetic") {
        return Err("no `x-biolm-sandbox: synthetic` header".into());
    }
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let errors = schema_errors(response_schema, &value);
    if !errors.is_empty() {
        return Err(format!("response does not validate: {errors:?}"));
    }
    let results = value["results"].as_array().ok_or("no results array")?;
    if results.len() != n_items {
        return Err(format!("{} results for {n_items} items", results.len()));
    }
    if multi && !results.iter().all(Value::is_array) {
        return Err("a list-per-item action answered with a non-list".into());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reference_pair_answers_schema_valid_results() {
    let dir = common::reference_dir();
    let sandbox = Sandbox::start(SandboxConfig::new(dir.clone()))
        .await
        .unwrap();
    assert_eq!(sandbox.pair_count(), 120);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let index = read(&dir.join("index.json"));
    let set = biolm_catalog::load_dir(&dir).unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for rec in index.as_array().unwrap() {
        let slug = rec["slug"].as_str().unwrap();
        let family = rec["family"].as_str().unwrap();
        for action in rec["actions"].as_array().unwrap() {
            let action = action.as_str().unwrap();
            let files = &rec["schema_files"][action];
            // The variant's effective request schema: the pair's file, with the
            // variant's stricter container schema or params map applied.
            let (_, variant) = set.variant(slug).unwrap();
            let fam_action = set.variant(slug).unwrap().0.action(action).unwrap();
            assert_eq!(
                fam_action.request,
                read(&dir.join(files["request"].as_str().unwrap())),
                "{slug}/{action}"
            );
            let request = variant.effective_request(fam_action);
            let response = read(&dir.join(files["response"].as_str().unwrap()));
            let max = rec["max_items"][action].as_u64().unwrap_or(4).min(2) as usize;
            let multi = response
                .pointer("/properties/results/items")
                .is_some_and(|i| i.get("type").and_then(Value::as_str) == Some("array"));
            for full in [false, true] {
                let ex = Example {
                    root: &request,
                    dna: common::is_dna_family(family),
                    mask: mask_token(family, action),
                    full,
                };
                let mut body = ex.body(max);
                if slug.starts_with("prostt5-fold2aa") {
                    // The fold2aa variants take 3Di tokens (lowercase letters).
                    for item in body["items"].as_array_mut().unwrap() {
                        item["sequence"] = Value::String("dvvlvvcvvpv".into());
                    }
                }
                // Both dialects: the reference names are the gateway's, which the platform route accepts too.
                for url in [
                    format!("{}/{slug}/{action}", sandbox.gateway_url()),
                    format!("{}/{slug}/{action}/", sandbox.base_url()),
                ] {
                    checked += 1;
                    if let Err(e) = check_pair(&client, &url, &body, &response, max, multi).await {
                        failures.push(format!(
                            "{slug}/{action} (full params: {full}) via {url}: {e}\n  request: {}",
                            {
                                let t = body.to_string();
                                t[..t.len().min(300)].to_string()
                            }
                        ));
                    }
                }
            }
        }
    }
    assert_eq!(checked, 120 * 4);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let stats = sandbox.stats();
    assert_eq!(stats.requests, 480);
    assert_eq!(stats.status(200), 480);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_project_pair_answers_schema_valid_results() {
    let dir = common::project_dir();
    let set = match biolm_catalog::load_dir(&dir) {
        Ok(set) if set.pair_count() > 0 => set,
        Ok(_) | Err(_) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipped: no project schemas at {}", dir.display());
            return;
        }
        Err(e) => panic!("cannot load {}: {e}", dir.display()),
        Ok(_) => panic!("no schemas in {}", dir.display()),
    };
    let sandbox = Sandbox::start(SandboxConfig::new(dir.clone()))
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut failures = Vec::new();
    for family in &set.families {
        for variant in &family.variants {
            for action in &family.actions {
                let request = variant.effective_request(action);
                let max = action.max_items().unwrap_or(2).min(2) as usize;
                let multi = action
                    .response
                    .pointer("/properties/results/items")
                    .is_some_and(|i| i.get("type").and_then(Value::as_str) == Some("array"));
                let ex = Example {
                    root: &request,
                    dna: common::is_dna_family(&family.name),
                    mask: mask_token(&family.name, &action.name),
                    full: true,
                };
                let mut body = ex.body(max);
                if variant.slug.starts_with("prostt5-fold2aa") {
                    for item in body["items"].as_array_mut().unwrap() {
                        item["sequence"] = Value::String("dvvlvvcvvpv".into());
                    }
                }
                let urls = [
                    format!("{}/{}/{}/", sandbox.base_url(), variant.slug, action.name),
                    format!(
                        "{}/{}/{}",
                        sandbox.gateway_url(),
                        variant.slug,
                        action.gateway_name
                    ),
                ];
                for url in urls {
                    if let Err(e) =
                        check_pair(&client, &url, &body, &action.response, max, multi).await
                    {
                        failures.push(format!("{}/{} via {url}: {e}", variant.slug, action.name));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The first required property of the item schema and its schema.
fn first_required<'a>(root: &'a Value, item: &'a Value) -> Option<(&'a str, &'a Value)> {
    let item = match item.get("$ref").and_then(Value::as_str) {
        Some(r) => root.pointer(r.trim_start_matches('#'))?,
        None => item,
    };
    let name = item.get("required")?.as_array()?.first()?.as_str()?;
    Some((name, item.pointer(&format!("/properties/{name}"))?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reference_pair_rejects_bad_requests_in_both_dialects() {
    let dir = common::reference_dir();
    let set = biolm_catalog::load_dir(&dir).unwrap();
    let sandbox = Sandbox::start(SandboxConfig::new(dir)).await.unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut failures = Vec::new();
    let mut cases = 0;
    for family in &set.families {
        for variant in &family.variants {
            for action in &family.actions {
                let request = variant.effective_request(action);
                let ex = Example {
                    root: &request,
                    dna: common::is_dna_family(&family.name),
                    mask: None,
                    full: false,
                };
                let good = ex.body(1);
                let item0 = good["items"][0].clone();
                // (body, v3 key, v1 loc, v1 type)
                let mut bad: Vec<(Value, String, Value, &str)> = Vec::new();
                let mut unknown = item0.clone();
                unknown["not_a_field"] = json!(1);
                bad.push((
                    json!({"items": [unknown]}),
                    "items__0__not_a_field".into(),
                    json!(["body", "items", 0, "not_a_field"]),
                    "extra_forbidden",
                ));
                bad.push((
                    json!({"items": []}),
                    "items".into(),
                    json!(["body", "items"]),
                    "too_short",
                ));
                if let Some(max) = action.max_items() {
                    let many: Vec<Value> = (0..=max).map(|_| item0.clone()).collect();
                    bad.push((
                        json!({ "items": many }),
                        "items".into(),
                        json!(["body", "items"]),
                        "too_long",
                    ));
                }
                let item_schema = request.pointer("/properties/items/items").unwrap();
                if let Some((name, schema)) = first_required(&request, item_schema) {
                    let mut missing = item0.clone();
                    missing.as_object_mut().unwrap().remove(name);
                    bad.push((
                        json!({"items": [missing]}),
                        format!("items__0__{name}"),
                        json!(["body", "items", 0, name]),
                        "missing",
                    ));
                    if schema.get("type").and_then(Value::as_str) == Some("string") {
                        let mut wrong = item0.clone();
                        wrong[name] = json!(12345);
                        bad.push((
                            json!({"items": [wrong]}),
                            format!("items__0__{name}"),
                            json!(["body", "items", 0, name]),
                            "string_type",
                        ));
                        if let Some(max_len) = schema.get("maxLength").and_then(Value::as_u64) {
                            let mut long = item0.clone();
                            long[name] = Value::String("A".repeat(max_len as usize + 1));
                            bad.push((
                                json!({"items": [long]}),
                                format!("items__0__{name}"),
                                json!(["body", "items", 0, name]),
                                "string_too_long",
                            ));
                        }
                    }
                }
                for (body, key, loc, kind) in bad {
                    cases += 1;
                    let mut body = body;
                    if let Some(p) = good.get("params") {
                        body["params"] = p.clone();
                    }
                    let v3 = client
                        .post(format!(
                            "{}/{}/{}/",
                            sandbox.base_url(),
                            variant.slug,
                            action.name
                        ))
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    let status = v3.status().as_u16();
                    let v3: Value = v3.json().await.unwrap();
                    if status != 400 || v3.pointer("/error").and_then(|e| e.get(&key)).is_none() {
                        failures.push(format!(
                            "{}/{} v3 {kind}: status {status}, body {v3}",
                            variant.slug, action.name
                        ));
                    }
                    let v1 = client
                        .post(format!(
                            "{}/{}/{}",
                            sandbox.gateway_url(),
                            variant.slug,
                            action.gateway_name
                        ))
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    let status = v1.status().as_u16();
                    let v1: Value = v1.json().await.unwrap();
                    let found = v1["detail"]
                        .as_array()
                        .is_some_and(|d| d.iter().any(|e| e["loc"] == loc && e["type"] == kind));
                    if status != 422 || !found {
                        failures.push(format!(
                            "{}/{} v1 {kind}: status {status}, body {v1}",
                            variant.slug, action.name
                        ));
                    }
                }
            }
        }
    }
    assert!(cases >= 120 * 3, "{cases}");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(sandbox.stats().status(200), 0);
}
