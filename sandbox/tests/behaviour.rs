//! Token, gzip, determinism, result sizes, faults, throttle, latency, counters,
//! schema and OpenAPI endpoints, blocking start and shutdown.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use biolm_sandbox::{FaultKind, Latency, LatencyScope, Sandbox, SandboxConfig};
use serde_json::{json, Value};

fn reference() -> SandboxConfig {
    SandboxConfig::new(common::reference_dir())
}

fn encode_body(n: usize) -> Value {
    let items: Vec<Value> = (0..n)
        .map(|i| json!({"sequence": &common::PROTEIN[i..i + 10 + i]}))
        .collect();
    json!({ "items": items })
}

async fn post_raw(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
) -> reqwest::Result<reqwest::Response> {
    client.post(url).json(body).send().await
}

/// The JSON body of a POST of `body` to `url`.
async fn post_json(client: &reqwest::Client, url: &str, body: &Value) -> Value {
    post_raw(client, url, body)
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The JSON body of a GET of `url`.
async fn get_json(client: &reqwest::Client, url: String) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn token_is_required_on_model_calls_only() {
    let s = Sandbox::start(reference().token("sekrit")).await.unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/esm2-8m/encode/", s.base_url());
    let body = encode_body(1);
    let none = post_raw(&client, &url, &body).await.unwrap();
    assert_eq!(none.status().as_u16(), 401);
    assert!(none.text().await.unwrap().contains("Authorization: Token"));
    // A wrong token, the right one in the wrong scheme, then the right one.
    for (authorization, status) in [
        ("Token nope", 401),
        ("Bearer sekrit", 401),
        ("Token sekrit", 200),
    ] {
        let r = client
            .post(&url)
            .header("authorization", authorization)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{authorization}");
    }
    let schema = client
        .get(format!("{}/schema/esm2-8m/encode/", s.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(schema.status().as_u16(), 200);
    assert_eq!(s.stats().status(401), 3);
}

#[tokio::test]
async fn schema_endpoint_serves_the_request_schema_with_throttle_rate() {
    let dir = common::reference_dir();
    let mut set = biolm_catalog::load_dir(&dir).unwrap();
    let esm2 = set.families.iter_mut().find(|f| f.name == "esm2").unwrap();
    esm2.actions
        .iter_mut()
        .find(|a| a.name == "encode")
        .unwrap()
        .throttle_rate = Some("20/second".into());
    let s = Sandbox::start(SandboxConfig::new(set).schema_rejects_token_for_test())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let v: Value = get_json(&client, format!("{}/schema/esm2-8m/encode/", s.base_url())).await;
    assert_eq!(v["throttle_rate"], "20/second");
    assert_eq!(v.pointer("/properties/items/maxItems"), Some(&json!(8)));
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("esm2-8m/encode.request.json")).unwrap(),
    )
    .unwrap();
    let mut without = v.clone();
    without.as_object_mut().unwrap().remove("throttle_rate");
    assert_eq!(without, file);
    let log_prob: Value = get_json(
        &client,
        format!("{}/schema/esm2-8m/log_prob/", s.base_url()),
    )
    .await;
    assert!(log_prob.get("throttle_rate").is_none());
    let with_token = client
        .get(format!("{}/schema/esm2-8m/encode/", s.base_url()))
        .header("authorization", "Token x")
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status().as_u16(), 401);
    let missing = client
        .get(format!("{}/schema/esm2-8m/fold/", s.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    assert_eq!(s.stats().schema_requests, 4);
    assert_eq!(s.stats().requests, 0);
}

trait ForTest {
    fn schema_rejects_token_for_test(self) -> Self;
}
impl ForTest for SandboxConfig {
    fn schema_rejects_token_for_test(mut self) -> Self {
        self.schema_rejects_token = true;
        self
    }
}

#[tokio::test]
async fn gzip_request_bodies_and_responses() {
    let s = Sandbox::start(reference()).await.unwrap();
    let client = reqwest::Client::builder().no_gzip().build().unwrap();
    let url = format!("{}/esm2-8m/encode/", s.base_url());
    let body = serde_json::to_vec(&encode_body(3)).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&body).unwrap();
    let gz = enc.finish().unwrap();
    let resp = client
        .post(&url)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .header("accept-encoding", "gzip")
        .body(gz)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    let zipped = resp.bytes().await.unwrap();
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&zipped[..])
        .read_to_end(&mut plain)
        .unwrap();
    let v: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(v["results"].as_array().unwrap().len(), 3);
    assert!(zipped.len() < plain.len());
    // Without Accept-Encoding, or with gzip responses off: plain JSON.
    let plain_resp = client
        .post(&url)
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert!(plain_resp.headers().get("content-encoding").is_none());
    let off = Sandbox::start(reference().gzip_responses(false))
        .await
        .unwrap();
    let resp = client
        .post(format!("{}/esm2-8m/encode/", off.base_url()))
        .header("accept-encoding", "gzip")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("content-encoding").is_none());
    assert_eq!(resp.bytes().await.unwrap(), plain);
}

#[tokio::test]
async fn results_are_deterministic_and_independent_of_batch_position() {
    let a = Sandbox::start(reference()).await.unwrap();
    let b = Sandbox::start(reference()).await.unwrap();
    let client = reqwest::Client::new();
    let body = json!({"items": [{"sequence": "MKTAYIAKQR"}, {"sequence": "GGSGGSLLV"}], "params": {"include": ["mean", "contacts"]}});
    let get = |s: &Sandbox, body: &Value| {
        let url = format!("{}/esm2-8m/encode/", s.base_url());
        let client = client.clone();
        let body = body.clone();
        async move {
            client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
        }
    };
    let first = get(&a, &body).await;
    assert_eq!(first, get(&a, &body).await);
    assert_eq!(first, get(&b, &body).await);
    // The second item alone gets the same numbers (only its index differs).
    let alone =
        json!({"items": [{"sequence": "GGSGGSLLV"}], "params": {"include": ["mean", "contacts"]}});
    let v1: Value = serde_json::from_slice(&first).unwrap();
    let v2: Value = serde_json::from_slice(&get(&a, &alone).await).unwrap();
    let (mut x, y) = (v1["results"][1].clone(), v2["results"][0].clone());
    assert_eq!(x["sequence_index"], 1);
    x["sequence_index"] = json!(0);
    assert_eq!(x, y);
    // Different params give different numbers.
    let other = json!({"items": [{"sequence": "GGSGGSLLV"}], "params": {"include": ["mean", "contacts"], "repr_layers": [-1]}});
    let v3: Value = serde_json::from_slice(&get(&a, &other).await).unwrap();
    assert_ne!(v3["results"][0]["embeddings"], y["embeddings"]);
}

#[tokio::test]
async fn result_sizes_follow_inputs_params_and_embedding_width() {
    let s = Sandbox::start(reference()).await.unwrap();
    let client = reqwest::Client::new();
    let seq = "MKTAYIAKQRQISFV"; // 15 residues
    let body = json!({"items": [{"sequence": seq}], "params": {"include": ["mean", "per_residue", "contacts", "logits"], "repr_layers": [2, 5]}});
    let v: Value = post_json(&client, &format!("{}/esm2-8m/encode/", s.base_url()), &body).await;
    let r = &v["results"][0];
    assert_eq!(r["sequence_index"], 0);
    let emb = r["embeddings"].as_array().unwrap();
    assert_eq!(emb.len(), 2);
    assert_eq!(emb[0]["layer"], 2);
    assert_eq!(emb[1]["layer"], 5);
    assert_eq!(emb[0]["embedding"].as_array().unwrap().len(), 320);
    let per = r["residue_embeddings"][0]["embeddings"].as_array().unwrap();
    assert_eq!(per.len(), 15);
    assert_eq!(per[0].as_array().unwrap().len(), 320);
    let contacts = r["contacts"].as_array().unwrap();
    assert_eq!(contacts.len(), 15);
    assert!(contacts
        .iter()
        .all(|row| row.as_array().unwrap().len() == 15));
    assert_eq!(r["logits"].as_array().unwrap().len(), 15);
    assert_eq!(
        r["logits"][0].as_array().unwrap().len(),
        r["vocab_tokens"].as_array().unwrap().len()
    );
    assert!(
        r.get("bos_embeddings").is_none() && r.get("attentions").is_none(),
        "not requested: {r}"
    );
    // Floats are short.
    let text = serde_json::to_string(&r["embeddings"]).unwrap();
    assert!(text.split([',', '[']).all(|t| t
        .split('.')
        .nth(1)
        .is_none_or(|d| d.trim_end_matches([']', '}']).len() <= 4)));
    // Default include is the mean embedding only.
    let v: Value = post_json(
        &client,
        &format!("{}/esm2-8m/encode/", s.base_url()),
        &json!({"items": [{"sequence": seq}]}),
    )
    .await;
    let keys: Vec<&String> = v["results"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["sequence_index", "embeddings"]);
    // generate: num_samples results per item, each of max_length residues.
    let v: Value = post_json(
        &client,
        &format!("{}/progen2-oas/generate", s.gateway_url()),
        &json!({"items": [{"context": "MKT"}], "params": {"num_samples": 3, "max_length": 40}}),
    )
    .await;
    let samples = v["results"][0].as_array().unwrap();
    assert_eq!(samples.len(), 3);
    assert!(samples
        .iter()
        .all(|x| x["sequence"].as_str().unwrap().len() == 40));
    assert_ne!(samples[0]["sequence"], samples[1]["sequence"]);
    // Structures: one CA per residue, chains split at ':'.
    let v: Value = post_json(
        &client,
        &format!("{}/esmfold/fold", s.gateway_url()),
        &json!({"items": [{"sequence": "MKTAY:GGSL"}]}),
    )
    .await;
    let pdb = v["results"][0]["pdb"].as_str().unwrap();
    let atoms: Vec<&str> = pdb.lines().filter(|l| l.starts_with("ATOM")).collect();
    assert_eq!(atoms.len(), 9);
    assert!(atoms.iter().all(|l| &l[12..16] == " CA "));
    assert_eq!(atoms.iter().filter(|l| &l[21..22] == "B").count(), 4);
    assert_eq!(pdb.lines().last(), Some("END"));
}

#[tokio::test]
async fn project_embedding_width_comes_from_the_schema() {
    let dir = common::project_dir();
    let Ok(set) = biolm_catalog::load_dir(&dir) else {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"));
        return;
    };
    let Some((_, v)) = set.variant("esm2-650m") else {
        return;
    };
    let Some(dim) = v.embedding_dim() else { return };
    let s = Sandbox::start(SandboxConfig::new(dir)).await.unwrap();
    let v: Value = reqwest::Client::new()
        .post(format!("{}/esm2-650m/encode/", s.base_url()))
        .json(&json!({"items": [{"sequence": "MKTAYIAK"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["results"][0]["embeddings"][0]["embedding"]
            .as_array()
            .unwrap()
            .len() as u64,
        dim
    );
}

async fn one_fault(kind: FaultKind, items: usize) -> (Sandbox, reqwest::Result<reqwest::Response>) {
    let s = Sandbox::start(
        reference()
            .faults(1.0, [kind], 7)
            .stall(Duration::from_secs(3)),
    )
    .await
    .unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(1500))
        .build()
        .unwrap();
    let resp = post_raw(
        &client,
        &format!("{}/esm2-8m/encode/", s.base_url()),
        &encode_body(items),
    )
    .await;
    (s, resp)
}

#[tokio::test]
async fn fault_statuses() {
    for (kind, status, retry_after) in [
        (FaultKind::Status500, 500, false),
        (FaultKind::Status502, 502, false),
        (FaultKind::Status503, 503, true),
        (FaultKind::Status429, 429, true),
    ] {
        let (s, resp) = one_fault(kind, 2).await;
        let resp = resp.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{kind}");
        assert_eq!(
            resp.headers().contains_key("retry-after"),
            retry_after,
            "{kind}"
        );
        let v: Value = resp.json().await.unwrap();
        assert!(v.get("results").is_none(), "{kind}: {v}");
        let stats = s.stats();
        assert_eq!(stats.faults.get(kind.name()), Some(&1), "{kind}: {stats:?}");
        assert_eq!(stats.status(status), 1);
    }
}

#[tokio::test]
async fn fault_connection_reset() {
    let (s, resp) = one_fault(FaultKind::ConnectionReset, 2).await;
    let err = resp.expect_err("a reset connection gives no response");
    assert!(!err.is_timeout(), "{err}");
    assert_eq!(s.stats().faults.get("reset"), Some(&1));
    assert!(s.stats().by_status.is_empty());
}

#[tokio::test]
async fn fault_stall_outlasts_the_client_timeout() {
    let (s, resp) = one_fault(FaultKind::Stall, 2).await;
    // The client's own timer fired (at 1.5 s), before the 3 s stall ended.
    let err = resp.expect_err("the stall outlasts the 1.5 s timeout");
    assert!(err.is_timeout(), "{err}");
    assert_eq!(s.stats().faults.get("stall"), Some(&1));
}

#[tokio::test]
async fn fault_truncated_body() {
    let (s, resp) = one_fault(FaultKind::TruncatedBody, 2).await;
    let resp = resp.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let announced: usize = resp.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        resp.bytes().await.is_err(),
        "the body stops halfway (announced {announced} bytes)"
    );
    assert_eq!(s.stats().faults.get("truncated"), Some(&1));
}

#[tokio::test]
async fn fault_partial_success_names_one_item() {
    let (_s, resp) = one_fault(FaultKind::PartialSuccess, 4).await;
    let v: Value = resp.unwrap().json().await.unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    let errors = v["error"].as_object().unwrap();
    assert_eq!(errors.len(), 1);
    let key = errors.keys().next().unwrap();
    let i: usize = key
        .strip_prefix("items__")
        .unwrap()
        .split("__")
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(key, &format!("items__{i}__sequence"));
    for (k, r) in results.iter().enumerate() {
        assert_eq!(r.is_null(), k == i, "{v}");
    }
}

#[tokio::test]
async fn fault_wrong_result_count() {
    let (_s, resp) = one_fault(FaultKind::WrongResultCount, 3).await;
    let v: Value = resp.unwrap().json().await.unwrap();
    assert_eq!(v["results"].as_array().unwrap().len(), 2);
    let (_s, resp) = one_fault(FaultKind::WrongResultCount, 1).await;
    let v: Value = resp.unwrap().json().await.unwrap();
    assert_eq!(v["results"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn fault_draws_follow_the_seed() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let s = Sandbox::start(reference().faults(
            0.5,
            [FaultKind::Status500, FaultKind::Status503],
            seed,
        ))
        .await
        .unwrap();
        let client = reqwest::Client::new();
        let mut out = Vec::new();
        for _ in 0..40 {
            out.push(
                post_raw(
                    &client,
                    &format!("{}/esm2-8m/encode/", s.base_url()),
                    &encode_body(1),
                )
                .await
                .unwrap()
                .status()
                .as_u16(),
            );
        }
        out
    }
    let a = statuses(11).await;
    assert_eq!(a, statuses(11).await);
    assert_ne!(a, statuses(12).await);
    let ok = a.iter().filter(|s| **s == 200).count();
    assert!((8..=32).contains(&ok), "{a:?}");
    assert!(a.contains(&500) && a.contains(&503), "{a:?}");
}

#[tokio::test]
async fn throttle_answers_429_with_retry_after() {
    let s = Sandbox::start(reference().throttle(5.0)).await.unwrap();
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..8 {
        let resp = post_raw(
            &client,
            &format!("{}/esm2-8m/encode/", s.base_url()),
            &encode_body(1),
        )
        .await
        .unwrap();
        if resp.status().as_u16() == 429 {
            retry_after = resp
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
        }
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert_eq!(s.stats().throttled, 3);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let resp = post_raw(
        &client,
        &format!("{}/esm2-8m/encode/", s.base_url()),
        &encode_body(1),
    )
    .await
    .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_and_concurrency_counters() {
    let s = Sandbox::start(reference().latency(
        Latency::Fixed(Duration::from_millis(300)),
        LatencyScope::PerRequest,
    ))
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/esm2-8m/encode/", s.base_url());
    let started = Instant::now();
    let calls = (0..6).map(|i| {
        let client = client.clone();
        let url = url.clone();
        async move {
            post_raw(&client, &url, &encode_body(1 + i % 3))
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(calls).await;
    let elapsed = started.elapsed();
    assert!(statuses.iter().all(|s| *s == 200));
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );
    let stats = s.stats();
    assert_eq!(stats.requests, 6);
    assert_eq!(stats.items, 2 * (1 + 2 + 3));
    assert_eq!(stats.max_in_flight, 6);
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.status(200), 6);
    assert!(
        stats.busy >= Duration::from_millis(6 * 300),
        "{:?}",
        stats.busy
    );
    // The same counters over HTTP, for load tools in other processes.
    let over_http: Value = get_json(&client, format!("{}/sandbox/stats", s.root_url())).await;
    assert_eq!(over_http["requests"], 6);
    assert_eq!(over_http["max_in_flight"], 6);
    assert_eq!(over_http["by_status"]["200"], 6);
    assert!(over_http["busy_seconds"].as_f64().unwrap() >= 1.8);
    let reset = client
        .post(format!("{}/sandbox/reset", s.root_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 200);
    assert_eq!(s.stats().requests, 0);
    s.reset_stats();
    assert_eq!(s.stats(), biolm_sandbox::Stats::default());

    let per_item = Sandbox::start(reference().latency(
        Latency::Fixed(Duration::from_millis(100)),
        LatencyScope::PerItem,
    ))
    .await
    .unwrap();
    let started = Instant::now();
    post_raw(
        &client,
        &format!("{}/esm2-8m/encode/", per_item.base_url()),
        &encode_body(4),
    )
    .await
    .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn openapi_and_health() {
    let s = Sandbox::start(reference()).await.unwrap();
    let client = reqwest::Client::new();
    let doc: Value = get_json(&client, format!("{}/openapi.json", s.root_url())).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 120);
    let op = &paths["/api/v1/esmfold/fold"]["post"];
    let req_ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap();
    let req = doc.pointer(req_ref.trim_start_matches('#')).unwrap();
    let item_ref = req
        .pointer("/properties/items/items/$ref")
        .unwrap()
        .as_str()
        .unwrap();
    assert!(
        doc.pointer(item_ref.trim_start_matches('#')).is_some(),
        "{item_ref} must resolve in the document"
    );
    let health: Value = get_json(&client, format!("{}/health", s.root_url())).await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["pairs"], 120);
}

/// One HTTP/1.1 exchange over a plain socket (no runtime involved).
fn raw_post(addr: std::net::SocketAddr, path: &str, body: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn blocking_start_serves_plain_code_and_drop_stops_it() {
    let s = Sandbox::start_blocking(reference()).unwrap();
    let addr = s.addr();
    let answer = raw_post(
        addr,
        "/api/v3/esm2-8m/encode/",
        r#"{"items":[{"sequence":"MKTAYIAK"}]}"#,
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer
        .to_ascii_lowercase()
        .contains("x-biolm-sandbox: synthetic"));
    assert_eq!(s.stats().requests, 1);
    drop(s);
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the port is closed after drop"
    );
}

#[tokio::test]
async fn bad_schema_dir_is_a_clear_error() {
    let err = Sandbox::start(SandboxConfig::new("/nonexistent/schemas"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/schemas"), "{err}");
    let err = Sandbox::start(reference().faults(1.5, [], 0))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("fault rate 1.5"), "{err}");
}

#[tokio::test]
async fn schema_throttle_rates_apply_per_action_and_retry_after_can_be_a_date() {
    let mut set = biolm_catalog::load_dir(&common::reference_dir()).unwrap();
    let esm2 = set.families.iter_mut().find(|f| f.name == "esm2").unwrap();
    esm2.actions
        .iter_mut()
        .find(|a| a.name == "encode")
        .unwrap()
        .throttle_rate = Some("3/second".into());
    let mut config = SandboxConfig::new(set);
    config.schema_throttle = true;
    config.retry_after_date = true;
    let s = Sandbox::start(config).await.unwrap();
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    let mut retry_after = String::new();
    for _ in 0..5 {
        let resp = post_raw(
            &client,
            &format!("{}/esm2-8m/encode/", s.base_url()),
            &encode_body(1),
        )
        .await
        .unwrap();
        if let Some(v) = resp.headers().get("retry-after") {
            retry_after = v.to_str().unwrap().to_string();
        }
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    let when = httpdate::parse_http_date(&retry_after).expect("an HTTP date");
    assert!(when > std::time::SystemTime::now() - Duration::from_secs(2));
    // Each (variant, action) has its own window: another variant gets its own 3,
    // and an action without a rate is not limited.
    for (path, n) in [("esm2-35m/encode/", 3), ("esm2-8m/log_prob/", 6)] {
        for _ in 0..n {
            let resp = post_raw(
                &client,
                &format!("{}/{path}", s.base_url()),
                &encode_body(1),
            )
            .await
            .unwrap();
            assert_eq!(resp.status().as_u16(), 200, "{path}");
        }
    }
    assert_eq!(s.stats().throttled, 2);
}

#[tokio::test]
async fn arrivals_show_the_rate_clients_keep() {
    let s = Sandbox::start(reference()).await.unwrap();
    let client = reqwest::Client::new();
    for i in 0..6 {
        if i == 3 {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        post_raw(
            &client,
            &format!("{}/esm2-8m/encode/", s.base_url()),
            &encode_body(1),
        )
        .await
        .unwrap();
    }
    let arrivals = s.arrivals();
    assert_eq!(arrivals.offsets.len(), 6);
    assert_eq!(arrivals.max_in_window(Duration::from_millis(250)), 3);
    assert_eq!(arrivals.max_in_window(Duration::from_secs(10)), 6);
    s.reset_stats();
    assert!(s.arrivals().offsets.is_empty());
}

#[tokio::test]
async fn gateway_can_refuse_gzip_bodies_like_fastapi() {
    let mut config = reference();
    config.gateway_rejects_gzip = true;
    let s = Sandbox::start(config).await.unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(encode_body(2).to_string().as_bytes())
        .unwrap();
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
    let v1 = send(format!("{}/esm2-8m/encode", s.gateway_url()))
        .await
        .unwrap();
    assert_eq!(v1.status().as_u16(), 422);
    let body: Value = v1.json().await.unwrap();
    assert_eq!(body["detail"][0]["type"], "json_invalid");
    let v3 = send(format!("{}/esm2-8m/encode/", s.base_url()))
        .await
        .unwrap();
    assert_eq!(v3.status().as_u16(), 200);
}

#[tokio::test]
async fn oversized_synthetic_results_are_refused() {
    let mut config = reference();
    config.max_response_bytes = 20_000;
    let s = Sandbox::start(config).await.unwrap();
    let client = reqwest::Client::new();
    let small = post_raw(
        &client,
        &format!("{}/esm2-8m/encode/", s.base_url()),
        &encode_body(1),
    )
    .await
    .unwrap();
    assert_eq!(small.status().as_u16(), 200);
    let long = json!({"items": [{"sequence": &common::PROTEIN[..200]}], "params": {"include": ["contacts"]}});
    let big = post_raw(&client, &format!("{}/esm2-8m/encode/", s.base_url()), &long)
        .await
        .unwrap();
    assert_eq!(big.status().as_u16(), 413);
    let v: Value = big.json().await.unwrap();
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("larger than 20000 bytes"),
        "{v}"
    );
}
