//! The served (variant, action) pairs, compiled once at start-up.

use std::collections::HashMap;
use std::sync::Arc;

use biolm_catalog::{Action, SchemaSet, Variant};
use bytes::Bytes;
use serde_json::Value;

use crate::error::SandboxError;
use crate::synth::{Hasher, ResponseSynth};

/// One (variant, action) pair, ready to serve.
pub(crate) struct Endpoint {
    pub(crate) slug: String,
    pub(crate) action: String,
    pub(crate) gateway_action: String,
    /// The effective request schema (variant overrides applied).
    pub(crate) request: Value,
    /// The response schema.
    pub(crate) response: Value,
    /// Body of `GET /api/v3/schema/{slug}/{action}/`.
    pub(crate) schema_body: Bytes,
    pub(crate) validator: jsonschema::Validator,
    /// BioLM's extension rules (`x-biolm-alphabet`, token counts, residue limits).
    pub(crate) rules: biolm_catalog::validate::Validator,
    pub(crate) synth: ResponseSynth,
    /// The schema's `throttle_rate` as a limiter (used when `schema_throttle` is on).
    pub(crate) window: Option<std::sync::Mutex<crate::throttle::Window>>,
}

/// Every served pair, addressable by slug and either action name.
pub(crate) struct Endpoints {
    pub(crate) list: Vec<Arc<Endpoint>>,
    index: HashMap<String, HashMap<String, usize>>,
}

impl Endpoints {
    pub(crate) fn find(&self, slug: &str, action: &str) -> Option<&Arc<Endpoint>> {
        let i = *self.index.get(slug)?.get(action)?;
        self.list.get(i)
    }

    pub(crate) fn has_slug(&self, slug: &str) -> bool {
        self.index.contains_key(slug)
    }

    /// Compiles every (variant, action) of `set`, spread over the available cores.
    pub(crate) fn build(set: &SchemaSet, default_dim: usize) -> Result<Endpoints, SandboxError> {
        let jobs: Vec<(&Variant, &Action)> = set
            .families
            .iter()
            .flat_map(|f| {
                f.variants
                    .iter()
                    .flat_map(move |v| f.actions.iter().map(move |a| (v, a)))
            })
            .collect();
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8);
        let chunk = jobs.len().div_ceil(threads).max(1);
        let compiled: Vec<Result<Vec<Endpoint>, SandboxError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = jobs
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|(v, a)| compile(v, a, default_dim))
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(SandboxError::Config(
                            "a schema compiler thread panicked".to_string(),
                        ))
                    })
                })
                .collect()
        });
        let mut list = Vec::with_capacity(jobs.len());
        let mut index: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for part in compiled {
            for ep in part? {
                let names = index.entry(ep.slug.clone()).or_default();
                names.insert(ep.action.clone(), list.len());
                names.insert(ep.gateway_action.clone(), list.len());
                list.push(Arc::new(ep));
            }
        }
        Ok(Endpoints { list, index })
    }
}

fn compile(
    variant: &Variant,
    action: &Action,
    default_dim: usize,
) -> Result<Endpoint, SandboxError> {
    let request = variant.effective_request(action);
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&request)
        .map_err(|e| SandboxError::Schema {
            slug: variant.slug.clone(),
            action: action.name.clone(),
            message: e.to_string(),
        })?;
    let rules = biolm_catalog::validate::Validator::for_request(&request).map_err(|e| {
        SandboxError::Schema {
            slug: variant.slug.clone(),
            action: action.name.clone(),
            message: e.to_string(),
        }
    })?;
    let mut schema_doc = request.clone();
    if let (Some(rate), Some(obj)) = (&action.throttle_rate, schema_doc.as_object_mut()) {
        obj.insert("throttle_rate".to_string(), Value::String(rate.clone()));
    }
    let schema_body = Bytes::from(serde_json::to_vec(&schema_doc).unwrap_or_default());
    let dim = variant.embedding_dim().map_or(default_dim, |d| d as usize);
    let mut h = Hasher::new();
    h.write(variant.slug.as_bytes());
    h.write(b"/");
    h.write(action.name.as_bytes());
    let synth = ResponseSynth::new(&request, &action.response, dim, h.finish());
    Ok(Endpoint {
        slug: variant.slug.clone(),
        action: action.name.clone(),
        gateway_action: action.gateway_name.clone(),
        request,
        response: action.response.clone(),
        schema_body,
        validator,
        rules,
        synth,
        window: action
            .throttle_rate
            .as_deref()
            .and_then(crate::throttle::parse_rate)
            .map(|(n, per)| std::sync::Mutex::new(crate::throttle::Window::with_limit(n, per))),
    })
}
