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

use std::collections::BTreeMap;
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
    let models = split_openapi(&doc).map_err(|message| FetchError::Body { url, message })?;
    write_reference(out, models)
}

/// Per slug, the `(action, request, response)` documents of a gateway's OpenAPI document.
pub type SplitModels = BTreeMap<String, Vec<(String, Value, Value)>>;

/// Splits an OpenAPI document into self-contained request and response schemas
/// per `POST /api/v1/{slug}/{action}` path.
pub fn split_openapi(doc: &Value) -> Result<SplitModels, String> {
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("no `paths` object")?;
    let components = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut models: SplitModels = BTreeMap::new();
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
        let req = standalone(req, &components).map_err(|m| format!("{path}: {m}"))?;
        let resp = standalone(resp, &components).map_err(|m| format!("{path}: {m}"))?;
        models
            .entry(slug.to_string())
            .or_default()
            .push((action.to_string(), req, resp));
    }
    if models.is_empty() {
        return Err(
            "no `POST /api/v1/{slug}/{action}` paths with JSON request and response schemas".into(),
        );
    }
    Ok(models)
}

/// Fetches the request schemas of `pairs` from the platform at `base` into `out`.
pub fn fetch_platform(
    base: &str,
    pairs: &[(String, String)],
    out: &Path,
) -> Result<FetchReport, FetchError> {
    let base = base.trim_end_matches('/');
    let mut models: SplitModels = BTreeMap::new();
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

/// A self-contained copy of `schema`.
///
/// Two gateway styles are understood: FastAPI's, where definitions are
/// components of their own (`#/components/schemas/X` becomes `#/$defs/X`, copied
/// in), and documents kept whole as one component with their `$defs` inside
/// (`#/components/schemas/Doc/$defs/X` becomes `#/$defs/X`).
fn standalone(schema: &Value, components: &Map<String, Value>) -> Result<Value, String> {
    const PREFIX: &str = "#/components/schemas/";
    let top = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix(PREFIX))
        .map(str::to_string);
    let mut doc = match &top {
        Some(name) => components
            .get(name)
            .cloned()
            .ok_or(format!("$ref `{PREFIX}{name}` is not in components"))?,
        None => schema.clone(),
    };
    let mut queue: Vec<String> = Vec::new();
    rewrite(&mut doc, top.as_deref(), &mut queue)?;
    let mut defs: Map<String, Value> = Map::new();
    while let Some(name) = queue.pop() {
        if defs.contains_key(&name) {
            continue;
        }
        let mut def = components
            .get(&name)
            .cloned()
            .ok_or(format!("$ref `{PREFIX}{name}` is not in components"))?;
        rewrite(&mut def, Some(&name), &mut queue)?;
        defs.insert(name, def);
    }
    if !defs.is_empty() {
        let obj = doc
            .as_object_mut()
            .ok_or("the schema is not a JSON object")?;
        let slot = obj
            .entry("$defs")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(existing) = slot.as_object_mut() {
            for (k, v) in defs {
                existing.entry(k).or_insert(v);
            }
        }
    }
    Ok(short_def_names(doc))
}

/// FastAPI qualifies clashing component names (`models__esm2__schema__LayerEmbedding`);
/// inside one document the plain name (`LayerEmbedding`) is unambiguous again.
fn short_def_names(doc: Value) -> Value {
    let Some(defs) = doc.get("$defs").and_then(Value::as_object) else {
        return doc;
    };
    let mut renames: Vec<(String, String)> = Vec::new();
    for key in defs.keys() {
        if let Some(short) = key
            .rsplit("__")
            .next()
            .filter(|s| key.contains("__") && !s.is_empty())
        {
            if !defs.contains_key(short) && !renames.iter().any(|(_, s)| s == short) {
                renames.push((key.clone(), short.to_string()));
            }
        }
    }
    if renames.is_empty() {
        return doc;
    }
    let mut text = doc.to_string();
    for (full, short) in &renames {
        text = text.replace(
            &format!("\"#/$defs/{full}\""),
            &format!("\"#/$defs/{short}\""),
        );
        text = text.replace(&format!("\"{full}\":"), &format!("\"{short}\":"));
    }
    serde_json::from_str(&text).unwrap_or(doc)
}

fn rewrite(v: &mut Value, top: Option<&str>, queue: &mut Vec<String>) -> Result<(), String> {
    const PREFIX: &str = "#/components/schemas/";
    match v {
        Value::Object(m) => {
            for (k, c) in m.iter_mut() {
                if k != "$ref" {
                    rewrite(c, top, queue)?;
                    continue;
                }
                let Some(r) = c.as_str() else {
                    return Err("`$ref` is not a string".into());
                };
                let Some(rest) = r.strip_prefix(PREFIX) else {
                    if r.starts_with("#/$defs/") {
                        continue;
                    }
                    return Err(format!("unsupported $ref `{r}`"));
                };
                let new = match rest.split_once('/') {
                    Some((name, inner)) if Some(name) == top => format!("#/{inner}"),
                    Some(_) => {
                        return Err(format!("unsupported $ref `{r}` (into another component)"))
                    }
                    None => {
                        queue.push(rest.to_string());
                        format!("#/$defs/{rest}")
                    }
                };
                *c = Value::String(new);
            }
        }
        Value::Array(a) => {
            for c in a {
                rewrite(c, top, queue)?;
            }
        }
        _ => {}
    }
    Ok(())
}
