//! `GET /openapi.json`: an OpenAPI 3.1 document of the gateway routes.

use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::endpoint::Endpoints;

/// Rewrites `#/$defs/X` references so they resolve inside `components.schemas.<name>`.
fn rebase_refs(v: &mut Value, name: &str) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if k == "$ref" {
                    if let Value::String(r) = x {
                        if let Some(rest) = r.strip_prefix("#/") {
                            *r = format!("#/components/schemas/{name}/{rest}");
                        }
                    }
                } else {
                    rebase_refs(x, name);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rebase_refs(x, name)),
        _ => {}
    }
}

/// The whole document, serialised.
pub(crate) fn document(endpoints: &Endpoints) -> Bytes {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for ep in &endpoints.list {
        let base = format!("{}__{}", ep.slug, ep.gateway_action)
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_");
        let req_name = format!("{base}__request");
        let resp_name = format!("{base}__response");
        let mut req = ep.request.clone();
        rebase_refs(&mut req, &req_name);
        let mut resp = ep.response.clone();
        rebase_refs(&mut resp, &resp_name);
        schemas.insert(req_name.clone(), req);
        schemas.insert(resp_name.clone(), resp);
        paths.insert(
            format!("/api/v1/{}/{}", ep.slug, ep.gateway_action),
            json!({
                "post": {
                    "operationId": format!("{base}"),
                    "summary": format!("{} {} (synthetic results from the BioLM sandbox)", ep.slug, ep.gateway_action),
                    "requestBody": {
                        "required": true,
                        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{req_name}")}}}
                    },
                    "responses": {
                        "200": {
                            "description": "One result per input item, in order.",
                            "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{resp_name}")}}}
                        },
                        "422": {"description": "The request does not match the schema (pydantic-style `detail` list)."}
                    }
                }
            }),
        );
    }
    let doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "BioLM sandbox",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A local BioLM-compatible server. Results are synthetic: no model is run."
        },
        "paths": paths,
        "components": {"schemas": schemas}
    });
    Bytes::from(serde_json::to_vec(&doc).unwrap_or_default())
}
