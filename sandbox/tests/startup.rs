//! Start-up and command line, end to end on the `biolm-sandbox` binary: actions whose
//! schemas cannot be served are skipped with a warning (and answered 501), `check`
//! lists every problem with file and JSON pointer, and out-of-range flags are usage
//! errors, never panics.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use biolm_sandbox::{Sandbox, SandboxConfig, SchemaSide};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_biolm-sandbox");

/// A reference-layout schema directory: one good construct and two broken copies
/// of it (a response using `not`, a request with a `$ref` that does not resolve).
fn mixed_dir(name: &str) -> PathBuf {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/constructs/schemas");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let read =
        |p: &Path| -> Value { serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap() };
    let request = read(&src.join("optional-order/predict.request.json"));
    let response = read(&src.join("optional-order/predict.response.json"));
    let mut bad_response = response.clone();
    bad_response["properties"]["results"]["not"] = json!({"type": "null"});
    let mut bad_request = request.clone();
    bad_request["properties"]["items"]["items"] = json!({"$ref": "#/$defs/Missing"});
    let mut index = Vec::new();
    for (slug, req, resp) in [
        ("good", &request, &response),
        ("bad-response", &request, &bad_response),
        ("bad-request", &bad_request, &response),
    ] {
        std::fs::create_dir_all(dir.join(slug)).unwrap();
        std::fs::write(dir.join(slug).join("predict.request.json"), req.to_string()).unwrap();
        std::fs::write(
            dir.join(slug).join("predict.response.json"),
            resp.to_string(),
        )
        .unwrap();
        index.push(json!({
            "slug": slug, "family": slug, "display_name": slug, "actions": ["predict"],
            "schema_files": {"predict": {
                "request": format!("{slug}/predict.request.json"),
                "response": format!("{slug}/predict.response.json"),
            }},
        }));
    }
    std::fs::write(dir.join("index.json"), Value::Array(index).to_string()).unwrap();
    dir
}

#[tokio::test]
async fn unusable_actions_are_skipped_and_answered_501() {
    let dir = mixed_dir("mixed-lib");
    let sandbox = Sandbox::start(SandboxConfig::new(dir.clone()))
        .await
        .unwrap();
    assert_eq!(sandbox.pair_count(), 1);
    let problems = sandbox.problems();
    assert_eq!(problems.len(), 3, "{problems:?}");
    let response = problems.iter().find(|p| p.slug == "bad-response").unwrap();
    assert_eq!(response.side, SchemaSide::Response);
    assert_eq!(response.problem.pointer, "/properties/results/not");
    assert!(response
        .file
        .as_ref()
        .unwrap()
        .ends_with("bad-response/predict.response.json"));
    let request = problems.iter().find(|p| p.slug == "bad-request").unwrap();
    assert_eq!(request.side, SchemaSide::Request);
    assert!(request.to_string().contains("Missing"), "{request}");

    let client = reqwest::Client::new();
    let body = json!({"items": [{"a": 1, "b": 2, "c": "x", "d": 3}]});
    let ok = client
        .post(format!("{}/good/predict/", sandbox.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    for (url, key) in [
        (
            format!("{}/bad-response/predict/", sandbox.base_url()),
            "error",
        ),
        (
            format!("{}/bad-response/predict", sandbox.gateway_url()),
            "detail",
        ),
    ] {
        let resp = client.post(&url).json(&body).send().await.unwrap();
        assert_eq!(resp.status(), 501, "{url}");
        let err: Value = resp.json().await.unwrap();
        let msg = err[key].as_str().unwrap_or_default();
        assert!(
            msg.contains("bad-response/predict") && msg.contains("`not`"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn nothing_servable_is_an_error_listing_every_problem() {
    let dir = mixed_dir("mixed-none");
    std::fs::remove_dir_all(dir.join("good")).unwrap();
    let index: Vec<Value> = serde_json::from_str::<Vec<Value>>(
        &std::fs::read_to_string(dir.join("index.json")).unwrap(),
    )
    .unwrap()
    .into_iter()
    .filter(|r| r["slug"] != "good")
    .collect();
    std::fs::write(dir.join("index.json"), Value::Array(index).to_string()).unwrap();
    let err = Sandbox::start(SandboxConfig::new(dir))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bad-response/predict") && err.contains("bad-request/predict"),
        "{err}"
    );
}

#[test]
fn check_reports_every_problem_with_file_and_pointer() {
    let dir = mixed_dir("mixed-check");
    let out = Command::new(BIN)
        .args(["check", "--schemas"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    // bad-request: jsonschema and the catalog's validator both say why.
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        stderr.contains("bad-response/predict.response.json at /properties/results/not"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad-request/predict.request.json at "),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 model actions compiled"));

    let ok = Command::new(BIN)
        .args(["check", "--schemas"])
        .arg(common::project_dir())
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn serve_warns_once_per_skipped_action_and_starts() {
    let dir = mixed_dir("mixed-serve");
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--schemas"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let ready = line.contains("ready in");
            lines.push(line);
            if ready {
                break;
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let warnings: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("warning: skipping"))
        .collect();
    assert_eq!(warnings.len(), 2, "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("1 model actions")),
        "{lines:?}"
    );
}

#[test]
fn out_of_range_flags_are_usage_errors_not_panics() {
    let schemas = common::project_dir();
    for arg in [
        "--latency-ms=1e300",
        "--latency-ms=NaN",
        "--latency-ms=inf",
        "--latency-ms=-5",
        "--latency-ms=10-1e300",
        "--stall-secs=1e300",
        "--stall-secs=NaN",
        "--stall-secs=-1",
        "--stall-secs=inf",
        "--throttle=NaN",
        "--fault-rate=2",
    ] {
        let flag = arg.split('=').next().unwrap_or(arg);
        let args = [arg, flag];
        let out = Command::new(BIN)
            .args(["serve", "--port", "0", "--schemas"])
            .arg(&schemas)
            .arg(arg)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.contains(args[1]), "{args:?} must be named: {stderr}");
    }
}
