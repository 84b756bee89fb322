//! The construct corpus (`corpus/constructs/`): every pydantic construct served by a
//! sandbox. Each valid labelled body gets a 200 whose answer validates against the
//! construct's response schema (with `jsonschema` and the catalog's validator); each
//! body pydantic refuses (where the schema can say so) gets a 400 on `/api/v3` and a
//! 422 on `/api/v1`, naming a field.

use std::path::PathBuf;

use biolm_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/constructs")
}

fn read(path: PathBuf) -> Value {
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Why an answer does not validate against `schema` (empty when it does).
fn answer_errors(schema: &Value, answer: &Value) -> Vec<String> {
    // Draft 2020-12, or draft 7 for a schema with draft-07 tuples (`items: [..]`).
    let build = |draft| {
        jsonschema::options()
            .with_draft(draft)
            .should_validate_formats(true)
            .build(schema)
            .map_err(|e| e.to_string())
    };
    let compiled =
        build(jsonschema::Draft::Draft202012).or_else(|_| build(jsonschema::Draft::Draft7));
    let mut out: Vec<String> = match compiled {
        Ok(v) => v
            .iter_errors(answer)
            .take(3)
            .map(|e| format!("jsonschema: {e} at {}", e.instance_path))
            .collect(),
        Err(e) => vec![format!(
            "jsonschema cannot compile the response schema: {e}"
        )],
    };
    match biolm_catalog::validate::Validator::for_request(schema) {
        Ok(v) => out.extend(
            v.check_body(answer)
                .iter()
                .take(3)
                .map(|x| format!("catalog: {x}")),
        ),
        Err(e) => out.push(format!(
            "the catalog validator refuses the response schema: {e}"
        )),
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_construct_answers_valid_bodies_and_refuses_invalid_ones() {
    let dir = corpus();
    let sandbox = Sandbox::start(SandboxConfig::new(dir.join("schemas")))
        .await
        .expect("the construct corpus starts a sandbox");
    assert!(
        sandbox.problems().is_empty(),
        "constructs the sandbox skips: {:?}",
        sandbox
            .problems()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    let labels = read(dir.join("labels.json"));
    let labels = labels.as_array().expect("labels.json is a list");
    let client = reqwest::Client::new();
    let mut failures = Vec::new();
    let (mut valid, mut invalid) = (0, 0);
    for label in labels {
        let (Some(slug), Some(case)) = (label["construct"].as_str(), label["case"].as_str()) else {
            failures.push(format!("a label without construct/case: {label}"));
            continue;
        };
        if label["expressible"] != Value::Bool(true) {
            continue;
        }
        let body = &label["body"];
        let response_schema = read(dir.join(format!("schemas/{slug}/predict.response.json")));
        if label["valid"] == Value::Bool(true) {
            valid += 1;
            let url = format!("{}/{slug}/predict/", sandbox.base_url());
            let resp = client.post(&url).json(body).send().await.expect("send");
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            if status != 200 {
                failures.push(format!(
                    "{slug}/{case}: valid body got {status}: {}",
                    &text[..text.len().min(300)]
                ));
                continue;
            }
            let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let errors = answer_errors(&response_schema, &answer);
            if !errors.is_empty() {
                failures.push(format!(
                    "{slug}/{case}: answer does not validate: {errors:?}\n  {}",
                    &text[..text.len().min(400)]
                ));
            }
            let n = body["items"].as_array().map_or(0, Vec::len);
            if answer["results"].as_array().map(Vec::len) != Some(n) {
                failures.push(format!(
                    "{slug}/{case}: {n} items but results {}",
                    answer["results"]
                ));
            }
        } else {
            invalid += 1;
            // Platform dialect: 400 with a key naming the field.
            let url = format!("{}/{slug}/predict/", sandbox.base_url());
            let resp = client.post(&url).json(body).send().await.expect("send");
            let status = resp.status().as_u16();
            let err: Value = resp.json().await.unwrap_or(Value::Null);
            let keys: Vec<&String> = err["error"]
                .as_object()
                .map(|o| o.keys().collect())
                .unwrap_or_default();
            if status != 400 || keys.is_empty() || keys.iter().all(|k| *k == "non_field_errors") {
                failures.push(format!("{slug}/{case}: invalid body got {status} {err}"));
            }
            // Gateway dialect: 422 with pydantic's `detail` and a `loc` below the body.
            let url = format!("{}/{slug}/predict", sandbox.gateway_url());
            let resp = client.post(&url).json(body).send().await.expect("send");
            let status = resp.status().as_u16();
            let err: Value = resp.json().await.unwrap_or(Value::Null);
            let named = err["detail"].as_array().is_some_and(|d| {
                d.iter()
                    .any(|p| p["loc"].as_array().is_some_and(|l| l.len() >= 2))
            });
            if status != 422 || !named {
                failures.push(format!(
                    "{slug}/{case}: invalid body on the gateway got {status} {err}"
                ));
            }
        }
    }
    assert!(
        valid > 300 && invalid > 600,
        "{valid} valid and {invalid} invalid labels seen"
    );
    assert!(
        failures.is_empty(),
        "{} of {} labelled bodies failed:\n{}",
        failures.len(),
        valid + invalid,
        failures
            .iter()
            .take(25)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
