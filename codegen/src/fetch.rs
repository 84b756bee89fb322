//! Downloading schemas from a running server into a schema directory (in the
//! reference layout, which `biolm_catalog::load_dir` reads).
//!
//! - Gateway (`.../api/v1` or a bare host): `GET {host}/openapi.json`, split per
//!   `POST /api/v1/{slug}/{action}` path into self-contained request and
//!   response documents (`#/components/schemas/X` becomes `#/$defs/X`).
//! - Platform (`.../api/v3`): `GET {base}/schema/{slug}/{action}/` for each
//!   requested pair, without credentials. The platform publishes request
//!   schemas only, so the response schema written is the open one
//!   (`results` of any shape) and typed results need a schema from elsewhere.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

/// A failed fetch.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The HTTP request failed or the server answered with an error status.
    #[error("GET {url} failed: {message}")]
    Http {
        /// The URL requested.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The body was not the JSON expected.
    #[error("GET {url}: unexpected answer: {message}")]
    Body {
        /// The URL requested.
        url: String,
        /// What was wrong with it.
        message: String,
    },
    /// The output directory could not be written.
    #[error("cannot write {path}: {message}")]
    Write {
        /// The path.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
}

/// What a fetch wrote.
#[derive(Debug, Clone, Default)]
pub struct FetchReport {
    /// `(slug, action)` pairs written.
    pub pairs: Vec<(String, String)>,
}

fn get_json(url: &str) -> Result<Value, FetchError> {
    let resp = ureq::get(url)
        .timeout(std::time::Duration::from_secs(60))
        .call()
        .map_err(|e| FetchError::Http {
            url: url.to_string(),
            message: e.to_string(),
        })?;
    let text = resp.into_string().map_err(|e| FetchError::Http {
        url: url.to_string(),
        message: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| FetchError::Body {
        url: url.to_string(),
        message: format!("not JSON: {e}"),
    })
}

fn write_json(path: &Path, value: &Value) -> Result<(), FetchError> {
    let err = |e: std::io::Error| FetchError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(err)?;
    }
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    fs::write(path, text + "\n").map_err(err)
}

/// Whether `base` names a catalog gateway (`/api/v1`) rather than the platform.
pub fn is_gateway(base: &str) -> bool {
    let b = base.trim_end_matches('/');
    b.ends_with("/api/v1") || !b.contains("/api/")
}

/// Fetches every model of a gateway's `openapi.json` into `out`.
pub fn fetch_gateway(base: &str, out: &Path) -> Result<FetchReport, FetchError> {
    let root = base.trim_end_matches('/').trim_end_matches("/api/v1");
    let url = format!("{root}/openapi.json");
    let doc = get_json(&url)?;
    let body_err = |m: &str| FetchError::Body {
        url: url.clone(),
        message: m.to_string(),
    };
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| body_err("no `paths` object"))?;
    let components = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    // slug -> [(action, request, response)]
    let mut models: BTreeMap<String, Vec<(String, Value, Value)>> = BTreeMap::new();
    for (path, item) in paths {
        let Some(rest) = path.strip_prefix("/api/v1/") else {
            continue;
        };
        let Some((slug, action)) = rest.split_once('/') else {
            continue;
        };
        if slug.starts_with('{') || action.contains('/') || action.is_empty() {
            continue;
        }
        let Some(post) = item.get("post") else {
            continue;
        };
        let req = post.pointer("/requestBody/content/application~1json/schema");
        let resp = post.pointer("/responses/200/content/application~1json/schema");
        let (Some(req), Some(resp)) = (req, resp) else {
            continue;
        };
        let req = standalone(req, &components).map_err(|m| body_err(&format!("{path}: {m}")))?;
        let resp = standalone(resp, &components).map_err(|m| body_err(&format!("{path}: {m}")))?;
        models
            .entry(slug.to_string())
            .or_default()
            .push((action.to_string(), req, resp));
    }
    if models.is_empty() {
        return Err(body_err(
            "no `POST /api/v1/{slug}/{action}` paths with JSON request and response schemas",
        ));
    }
    write_reference(out, models)
}

/// Fetches the request schemas of `pairs` from the platform at `base` into `out`.
pub fn fetch_platform(
    base: &str,
    pairs: &[(String, String)],
    out: &Path,
) -> Result<FetchReport, FetchError> {
    let base = base.trim_end_matches('/');
    let mut models: BTreeMap<String, Vec<(String, Value, Value)>> = BTreeMap::new();
    for (slug, action) in pairs {
        let url = format!("{base}/schema/{slug}/{action}/");
        let mut body = get_json(&url)?;
        if !body.is_object() {
            return Err(FetchError::Body {
                url,
                message: "the schema is not a JSON object".into(),
            });
        }
        let throttle = body.as_object_mut().and_then(|o| o.remove("throttle_rate"));
        let mut request = body;
        if let (Some(Value::String(t)), Some(o)) = (throttle, request.as_object_mut()) {
            o.insert("x-biolm-throttle-rate".into(), Value::String(t));
        }
        let response = json!({
            "type": "object",
            "description": "The platform does not publish response schemas: results of any shape.",
            "properties": { "results": { "type": "array", "items": true } },
            "required": ["results"]
        });
        models
            .entry(slug.clone())
            .or_default()
            .push((action.clone(), request, response));
    }
    write_reference(out, models)
}

fn write_reference(
    out: &Path,
    models: BTreeMap<String, Vec<(String, Value, Value)>>,
) -> Result<FetchReport, FetchError> {
    let mut index = Vec::new();
    let mut report = FetchReport::default();
    for (slug, actions) in models {
        let mut files = Map::new();
        let mut names = Vec::new();
        for (action, req, resp) in actions {
            let rq = format!("{slug}/{action}.request.json");
            let rs = format!("{slug}/{action}.response.json");
            write_json(&out.join(&rq), &req)?;
            write_json(&out.join(&rs), &resp)?;
            files.insert(action.clone(), json!({ "request": rq, "response": rs }));
            names.push(action.clone());
            report.pairs.push((slug.clone(), action));
        }
        index.push(json!({
            "slug": slug, "family": slug, "display_name": slug, "actions": names, "schema_files": files
        }));
    }
    write_json(&out.join("index.json"), &Value::Array(index))?;
    Ok(report)
}

/// A self-contained copy of `schema`: every `#/components/schemas/X` it reaches
/// is copied into `$defs` and the references rewritten.
fn standalone(schema: &Value, components: &Map<String, Value>) -> Result<Value, String> {
    let mut needed: BTreeSet<String> = BTreeSet::new();
    let mut stack: Vec<&Value> = vec![schema];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    if k == "$ref" {
                        let r = c.as_str().unwrap_or_default();
                        let name = r
                            .strip_prefix("#/components/schemas/")
                            .ok_or(format!("unsupported $ref `{r}`"))?;
                        if needed.insert(name.to_string()) {
                            stack.push(
                                components
                                    .get(name)
                                    .ok_or(format!("$ref `{r}` is not in components"))?,
                            );
                        }
                    } else {
                        stack.push(c);
                    }
                }
            }
            Value::Array(a) => stack.extend(a.iter()),
            _ => {}
        }
    }
    let rewrite = |v: &Value| -> Value {
        let text = v
            .to_string()
            .replace("\"#/components/schemas/", "\"#/$defs/");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    // A top-level $ref becomes the document itself, with the other definitions beside it.
    let (mut doc, top) = match schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        Some(name) => (
            rewrite(components.get(name).unwrap_or(&Value::Null)),
            Some(name.to_string()),
        ),
        None => (rewrite(schema), None),
    };
    let mut defs = Map::new();
    for name in &needed {
        if Some(name) == top.as_ref() && !references(&doc, name) {
            continue;
        }
        if let Some(c) = components.get(name) {
            defs.insert(name.clone(), rewrite(c));
        }
    }
    if let Some(o) = doc.as_object_mut() {
        if !defs.is_empty() {
            o.insert("$defs".into(), Value::Object(defs));
        }
    }
    Ok(doc)
}

fn references(doc: &Value, name: &str) -> bool {
    doc.to_string().contains(&format!("\"#/$defs/{name}\""))
}
