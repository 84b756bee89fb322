//! Error bodies in the two dialects: the platform's (`/api/v3`, Django REST
//! style `{"error": {"items__0__sequence": ["..."]}}`) and a catalog gateway's
//! (`/api/v1`, FastAPI/pydantic style `{"detail": [{"type", "loc", "msg", "input"}]}`).

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::{json, Map, Value};

/// Which API flavour a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `/api/v3`: the hosted platform.
    Platform,
    /// `/api/v1`: a catalog gateway.
    Gateway,
}

/// One problem with a request, at a path inside the body.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    /// Path segments from the body root (`["items", "0", "sequence"]`).
    pub(crate) path: Vec<String>,
    /// pydantic error type (`missing`, `string_too_long`, ...).
    pub(crate) kind: &'static str,
    /// Human message.
    pub(crate) message: String,
    /// The offending value.
    pub(crate) input: Value,
}

fn split_pointer(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn type_name(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Single(t) => t.to_string(),
        TypeKind::Multiple(ts) => {
            let names: Vec<String> = ts.into_iter().map(|t| t.to_string()).collect();
            names.join(" or ")
        }
    }
}

/// Converts the JSON Schema errors of one request body into problems.
pub(crate) fn problems(validator: &jsonschema::Validator, body: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    // The common case, valid, without building error iterators.
    if validator.is_valid(body) {
        return out;
    }
    for err in validator.iter_errors(body).take(64) {
        let path = split_pointer(err.instance_path.as_str());
        let input = err.instance.clone().into_owned();
        match &err.kind {
            ValidationErrorKind::Required { property } => {
                let name = property
                    .as_str()
                    .map_or_else(|| property.to_string(), String::from);
                let mut p = path.clone();
                p.push(name.clone());
                out.push(Problem {
                    path: p,
                    kind: "missing",
                    message: "Field required".into(),
                    input,
                });
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for name in unexpected {
                    let mut p = path.clone();
                    p.push(name.clone());
                    let value = input.get(name).cloned().unwrap_or(Value::Null);
                    out.push(Problem {
                        path: p,
                        kind: "extra_forbidden",
                        message: format!("Extra inputs are not permitted (`{name}` is not a field of this schema)"),
                        input: value,
                    });
                }
            }
            kind => {
                let (kind_name, message): (&'static str, String) = match kind {
                    ValidationErrorKind::MaxLength { limit } => (
                        "string_too_long",
                        format!(
                            "String should have at most {limit} characters, not {}",
                            char_len(&input)
                        ),
                    ),
                    ValidationErrorKind::MinLength { limit } => (
                        "string_too_short",
                        format!("String should have at least {limit} characters"),
                    ),
                    ValidationErrorKind::MaxItems { limit } => (
                        "too_long",
                        format!(
                            "List should have at most {limit} items after validation, not {}",
                            arr_len(&input)
                        ),
                    ),
                    ValidationErrorKind::MinItems { limit } => (
                        "too_short",
                        format!(
                            "List should have at least {limit} items after validation, not {}",
                            arr_len(&input)
                        ),
                    ),
                    ValidationErrorKind::Type { kind } => {
                        let t = type_name(kind);
                        let k = match t.as_str() {
                            "string" => "string_type",
                            "integer" => "int_type",
                            "number" => "float_type",
                            "boolean" => "bool_type",
                            "array" => "list_type",
                            "object" => "dict_type",
                            _ => "type_error",
                        };
                        (k, format!("Input should be a valid {t}"))
                    }
                    ValidationErrorKind::Enum { options } => {
                        ("enum", format!("Input should be one of {options}"))
                    }
                    ValidationErrorKind::Minimum { limit } => (
                        "greater_than_equal",
                        format!("Input should be greater than or equal to {limit}"),
                    ),
                    ValidationErrorKind::Maximum { limit } => (
                        "less_than_equal",
                        format!("Input should be less than or equal to {limit}"),
                    ),
                    ValidationErrorKind::ExclusiveMinimum { limit } => (
                        "greater_than",
                        format!("Input should be greater than {limit}"),
                    ),
                    ValidationErrorKind::ExclusiveMaximum { limit } => {
                        ("less_than", format!("Input should be less than {limit}"))
                    }
                    _ => ("value_error", err.to_string()),
                };
                out.push(Problem {
                    path,
                    kind: kind_name,
                    message,
                    input,
                });
            }
        }
    }
    out
}

/// BioLM's extension rules (alphabets, token counts, residue limits) on every item
/// and the params, for a body that already passed the JSON Schema.
pub(crate) fn rule_problems(
    rules: &biolm_catalog::validate::Validator,
    body: &Value,
) -> Vec<Problem> {
    use biolm_catalog::validate::PathSegment;
    let mut out = Vec::new();
    let mut push = |prefix: Vec<String>, v: biolm_catalog::validate::Violation, root: &Value| {
        let mut path = prefix;
        let mut input = root;
        for seg in &v.path {
            match seg {
                PathSegment::Key(k) => {
                    input = input.get(k).unwrap_or(&Value::Null);
                    path.push(k.clone());
                }
                PathSegment::Index(i) => {
                    input = input.get(*i).unwrap_or(&Value::Null);
                    path.push(i.to_string());
                }
            }
        }
        out.push(Problem {
            path,
            kind: "value_error",
            message: v.message,
            input: input.clone(),
        });
    };
    if let Some(items) = body.get("items").and_then(Value::as_array) {
        for (i, item) in items.iter().enumerate() {
            for v in rules.check_item(item) {
                push(vec!["items".to_string(), i.to_string()], v, item);
            }
        }
    }
    if let Some(params) = body.get("params") {
        for v in rules.check_params(params) {
            push(vec!["params".to_string()], v, params);
        }
    }
    out
}

fn char_len(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

fn arr_len(v: &Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}

/// `items__0__sequence` (the platform's key; `non_field_errors` for the body itself).
pub(crate) fn platform_key(path: &[String]) -> String {
    if path.is_empty() {
        "non_field_errors".to_string()
    } else {
        path.join("__")
    }
}

/// The error body for `problems` in `dialect`.
pub(crate) fn validation_body(dialect: Dialect, problems: &[Problem]) -> Value {
    match dialect {
        Dialect::Platform => {
            let mut map: Map<String, Value> = Map::new();
            for p in problems {
                let entry = map
                    .entry(platform_key(&p.path))
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(msgs) = entry {
                    msgs.push(Value::String(p.message.clone()));
                }
            }
            json!({ "error": map })
        }
        Dialect::Gateway => {
            let detail: Vec<Value> = problems
                .iter()
                .map(|p| {
                    let mut loc = vec![Value::String("body".into())];
                    for seg in &p.path {
                        loc.push(match seg.parse::<u64>() {
                            Ok(i) => Value::from(i),
                            Err(_) => Value::String(seg.clone()),
                        });
                    }
                    json!({ "type": p.kind, "loc": loc, "msg": p.message, "input": p.input })
                })
                .collect();
            json!({ "detail": detail })
        }
    }
}

/// A body-level error (bad JSON, bad encoding) as one problem at the body root.
pub(crate) fn body_problem(kind: &'static str, message: String) -> Problem {
    Problem {
        path: Vec::new(),
        kind,
        message,
        input: Value::Object(Map::new()),
    }
}

/// A plain error message body (`{"error": ...}` on the platform, `{"detail": ...}` on a gateway).
pub(crate) fn message_body(dialect: Dialect, message: &str) -> Value {
    match dialect {
        Dialect::Platform => json!({ "error": message }),
        Dialect::Gateway => json!({ "detail": message }),
    }
}

/// FastAPI's answer to a body that is not JSON (a gzip body included: a FastAPI
/// gateway does not decode `Content-Encoding: gzip`).
pub(crate) fn fastapi_json_invalid(error: &str) -> Value {
    json!({
        "detail": [{
            "type": "json_invalid",
            "loc": ["body", 0],
            "msg": "JSON decode error",
            "input": {},
            "ctx": { "error": error },
        }]
    })
}
