//! The served (variant, action) pairs, compiled once at start-up.

use std::collections::HashMap;
use std::sync::Arc;

use std::path::PathBuf;

use biolm_catalog::{Action, Family, SchemaSet, Variant};
use bytes::Bytes;
use serde_json::Value;

use crate::error::{ActionProblem, SchemaProblem, SchemaSide};
use crate::synth::{Hasher, ResponseSynth};

/// One (variant, action) pair, ready to serve.
pub(crate) struct Endpoint {
    pub(crate) slug: String,
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

/// A (variant, action) pair that is not served, and why.
pub(crate) struct Unusable {
    pub(crate) gateway_action: String,
    pub(crate) problems: Vec<ActionProblem>,
}

#[derive(Clone, Copy)]
enum Slot {
    Ready(usize),
    Unusable(usize),
}

/// Every served pair, addressable by slug and either action name, and the pairs skipped.
pub(crate) struct Endpoints {
    pub(crate) list: Vec<Arc<Endpoint>>,
    pub(crate) unusable: Vec<Arc<Unusable>>,
    index: HashMap<String, HashMap<String, Slot>>,
}

impl Endpoints {
    pub(crate) fn find(&self, slug: &str, action: &str) -> Option<&Arc<Endpoint>> {
        match *self.index.get(slug)?.get(action)? {
            Slot::Ready(i) => self.list.get(i),
            Slot::Unusable(_) => None,
        }
    }

    /// The skipped pair called `slug`/`action`, if it is one.
    pub(crate) fn find_unusable(&self, slug: &str, action: &str) -> Option<&Arc<Unusable>> {
        match *self.index.get(slug)?.get(action)? {
            Slot::Unusable(i) => self.unusable.get(i),
            Slot::Ready(_) => None,
        }
    }

    pub(crate) fn has_slug(&self, slug: &str) -> bool {
        self.index.contains_key(slug)
    }

    /// Every problem of every skipped pair.
    pub(crate) fn problems(&self) -> Vec<ActionProblem> {
        self.unusable
            .iter()
            .flat_map(|u| u.problems.iter().cloned())
            .collect()
    }

    /// Compiles every (variant, action) of `set`, spread over the available cores.
    /// A pair whose schemas cannot be served is kept aside with its problems.
    pub(crate) fn build(set: &SchemaSet, default_dim: usize) -> Endpoints {
        let jobs: Vec<(&Family, &Variant, usize, &Action)> = set
            .families
            .iter()
            .flat_map(|f| {
                f.variants
                    .iter()
                    .flat_map(move |v| f.actions.iter().enumerate().map(move |(i, a)| (f, v, i, a)))
            })
            .collect();
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8);
        let chunk = jobs.len().div_ceil(threads).max(1);
        let compiled: Vec<Vec<Result<Endpoint, Unusable>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = jobs
                .chunks(chunk)
                .map(|part| {
                    (
                        part,
                        scope.spawn(move || {
                            part.iter()
                                .map(|(f, v, i, a)| compile(f, v, *i, a, default_dim))
                                .collect::<Vec<_>>()
                        }),
                    )
                })
                .collect();
            handles
                .into_iter()
                .map(|(part, h)| {
                    h.join().unwrap_or_else(|_| {
                        part.iter()
                            .map(|(f, v, i, a)| {
                                Err(unusable(
                                    f,
                                    v,
                                    *i,
                                    a,
                                    SchemaSide::Response,
                                    SchemaProblem {
                                        pointer: String::new(),
                                        message: "the schema compiler panicked on this action's schemas (a sandbox bug: please report it with the schema)".into(),
                                    },
                                ))
                            })
                            .collect()
                    })
                })
                .collect()
        });
        let mut list = Vec::with_capacity(jobs.len());
        let mut skipped = Vec::new();
        let mut index: HashMap<String, HashMap<String, Slot>> = HashMap::new();
        for ((_, v, _, a), result) in jobs.iter().zip(compiled.into_iter().flatten()) {
            let names = index.entry(v.slug.clone()).or_default();
            let slot = match result {
                Ok(ep) => {
                    list.push(Arc::new(ep));
                    Slot::Ready(list.len() - 1)
                }
                Err(u) => {
                    skipped.push(Arc::new(u));
                    Slot::Unusable(skipped.len() - 1)
                }
            };
            names.insert(a.name.clone(), slot);
            names.insert(a.gateway_name.clone(), slot);
        }
        Endpoints {
            list,
            unusable: skipped,
            index,
        }
    }
}

/// Where an action's schema lives: the file, and the document's place inside it.
fn schema_file(
    family: &Family,
    index: usize,
    action: &Action,
    side: SchemaSide,
) -> (Option<PathBuf>, String) {
    let source = &family.source;
    if source.as_os_str().is_empty() {
        return (None, String::new());
    }
    if source.is_dir() {
        let file = source.join(format!("{}.{side}.json", action.name));
        if file.is_file() {
            return (Some(file), String::new());
        }
        let file = source.join(format!("{}.{side}.json", action.gateway_name));
        if file.is_file() {
            return (Some(file), String::new());
        }
        return (Some(source.clone()), String::new());
    }
    (Some(source.clone()), format!("/actions/{index}/{side}"))
}

fn unusable(
    family: &Family,
    variant: &Variant,
    index: usize,
    action: &Action,
    side: SchemaSide,
    problem: SchemaProblem,
) -> Unusable {
    let mut u = Unusable {
        gateway_action: action.gateway_name.clone(),
        problems: Vec::new(),
    };
    push_problem(&mut u, family, variant, index, action, side, problem);
    u
}

fn push_problem(
    u: &mut Unusable,
    family: &Family,
    variant: &Variant,
    index: usize,
    action: &Action,
    side: SchemaSide,
    problem: SchemaProblem,
) {
    let (file, pointer_prefix) = schema_file(family, index, action, side);
    u.problems.push(ActionProblem {
        slug: variant.slug.clone(),
        action: action.name.clone(),
        side,
        file,
        pointer_prefix,
        problem,
    });
}

fn compile(
    family: &Family,
    variant: &Variant,
    index: usize,
    action: &Action,
    default_dim: usize,
) -> Result<Endpoint, Unusable> {
    let request = variant.effective_request(action);
    let mut skipped = Unusable {
        gateway_action: action.gateway_name.clone(),
        problems: Vec::new(),
    };
    let mut problem = |side: SchemaSide, pointer: String, message: String| {
        push_problem(
            &mut skipped,
            family,
            variant,
            index,
            action,
            side,
            SchemaProblem { pointer, message },
        )
    };
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&request)
        .map_err(|e| {
            problem(
                SchemaSide::Request,
                e.schema_path.to_string(),
                format!("not a usable JSON Schema: {e}"),
            )
        })
        .ok();
    let rules = biolm_catalog::validate::Validator::for_request(&request)
        .map_err(|e| problem(SchemaSide::Request, e.pointer.clone(), e.message.clone()))
        .ok();
    let dim = variant.embedding_dim().map_or(default_dim, |d| d as usize);
    let mut h = Hasher::new();
    h.write(variant.slug.as_bytes());
    h.write(b"/");
    h.write(action.name.as_bytes());
    let synth = ResponseSynth::new(&request, &action.response, dim, h.finish())
        .map_err(|errors| {
            for e in errors {
                problem(SchemaSide::Response, e.pointer, e.message);
            }
        })
        .ok();
    let (Some(validator), Some(rules), Some(synth)) = (validator, rules, synth) else {
        return Err(skipped);
    };
    let mut schema_doc = request.clone();
    if let (Some(rate), Some(obj)) = (&action.throttle_rate, schema_doc.as_object_mut()) {
        obj.insert("throttle_rate".to_string(), Value::String(rate.clone()));
    }
    let schema_body = Bytes::from(serde_json::to_vec(&schema_doc).unwrap_or_default());
    Ok(Endpoint {
        slug: variant.slug.clone(),
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
