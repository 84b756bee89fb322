//! `allOf`: the arms merged into one schema whose values satisfy every arm (and
//! `$ref` with constraining siblings, which means the same). Refused, with a
//! reason, where the arms cannot both hold (no common type, disjoint enums, a
//! property one arm requires and another forbids).

use serde_json::{Map, Value};

use super::plan::lookup_ref;

/// Internal key holding the patterns beyond the first of a merged string schema.
pub(crate) const MORE_PATTERNS: &str = "x-synth-more-patterns";

/// Keywords that constrain values (every other keyword annotates).
const CONSTRAINING: &[&str] = &[
    "$ref",
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "items",
    "prefixItems",
    "additionalItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "anyOf",
    "oneOf",
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "minContains",
    "maxContains",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
    "unevaluatedProperties",
    "unevaluatedItems",
    "$dynamicRef",
    "$recursiveRef",
    "discriminator",
    MORE_PATTERNS,
];

fn is_annotation(k: &str) -> bool {
    !CONSTRAINING.contains(&k)
}

/// Whether a schema object has keywords beyond `skip` that constrain values.
pub(crate) fn constrains(map: &Map<String, Value>, skip: &[&str]) -> bool {
    map.keys()
        .any(|k| !skip.contains(&k.as_str()) && !is_annotation(k))
}

/// Flattens `s` into the plain schema objects it requires: `$ref`s followed,
/// `allOf`s opened.
fn flatten<'v>(
    root: &'v Value,
    s: &'v Value,
    depth: usize,
    out: &mut Vec<Map<String, Value>>,
) -> Result<(), String> {
    if depth > 32 {
        return Err("`allOf`/`$ref` refer to each other with no end".into());
    }
    match s {
        Value::Bool(true) => Ok(()),
        Value::Bool(false) => Err("an `allOf` arm is `false`: no value is valid".into()),
        Value::Object(map) => {
            let mut rest = map.clone();
            if let Some(r) = rest.remove("$ref") {
                let r = r.as_str().ok_or("`$ref` must be a string")?;
                let target = lookup_ref(root, r).ok_or(format!("`$ref` {r} does not resolve"))?;
                flatten(root, target, depth + 1, out)?;
            }
            if let Some(arms) = rest.remove("allOf") {
                let arms = arms.as_array().ok_or("`allOf` must be a list")?;
                for a in arms {
                    flatten(root, a, depth + 1, out)?;
                }
            }
            out.push(rest);
            Ok(())
        }
        _ => Err("a schema must be an object or a boolean".into()),
    }
}

fn types(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    }
}

fn both(a: Value, b: Value) -> Value {
    if a == b {
        return a;
    }
    serde_json::json!({ "allOf": [a, b] })
}

fn pick_num(a: &Value, b: &Value, larger: bool) -> Value {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if (x < y) == larger => b.clone(),
        _ => a.clone(),
    }
}

/// Merges the schemas `s` requires (a schema with `allOf`, or a `$ref` with
/// constraining siblings) into one schema object.
pub(crate) fn merge(root: &Value, s: &Value) -> Result<Value, String> {
    let mut parts = Vec::new();
    flatten(root, s, 0, &mut parts)?;
    let mut out: Map<String, Value> = Map::new();
    for part in &parts {
        for (k, v) in part {
            let Some(cur) = out.get(k).cloned() else {
                out.insert(k.clone(), v.clone());
                continue;
            };
            let merged = match k.as_str() {
                "type" => {
                    let (a, b) = (types(&cur), types(v));
                    let mut common: Vec<Value> = Vec::new();
                    for t in &a {
                        let hit = b
                            .iter()
                            .any(|u| u == t || (t == "integer" && u == "number"));
                        if hit {
                            common.push(Value::String(t.clone()));
                        } else if t == "number" && b.iter().any(|u| u == "integer") {
                            common.push(Value::String("integer".into()));
                        }
                    }
                    match common.len() {
                        0 => return Err(format!("`allOf` arms share no type ({a:?} and {b:?})")),
                        1 => common.remove(0),
                        _ => Value::Array(common),
                    }
                }
                "properties" | "patternProperties" => {
                    let mut m = cur.as_object().cloned().unwrap_or_default();
                    for (name, sub) in v.as_object().into_iter().flatten() {
                        let next = match m.remove(name) {
                            Some(old) => both(old, sub.clone()),
                            None => sub.clone(),
                        };
                        m.insert(name.clone(), next);
                    }
                    Value::Object(m)
                }
                "required" => {
                    let mut r = cur.as_array().cloned().unwrap_or_default();
                    for x in v.as_array().into_iter().flatten() {
                        if !r.contains(x) {
                            r.push(x.clone());
                        }
                    }
                    Value::Array(r)
                }
                "additionalProperties" => match (&cur, v) {
                    (Value::Bool(false), _) | (_, Value::Bool(false)) => Value::Bool(false),
                    (Value::Bool(true), x) | (x, Value::Bool(true)) => x.clone(),
                    (a, b) => both(a.clone(), b.clone()),
                },
                "items" | "propertyNames" | "additionalItems"
                    if cur.is_object() && v.is_object() =>
                {
                    both(cur, v.clone())
                }
                "prefixItems" => {
                    let a = cur.as_array().cloned().unwrap_or_default();
                    let b = v.as_array().cloned().unwrap_or_default();
                    let n = a.len().max(b.len());
                    Value::Array(
                        (0..n)
                            .map(|i| match (a.get(i), b.get(i)) {
                                (Some(x), Some(y)) => both(x.clone(), y.clone()),
                                (Some(x), None) | (None, Some(x)) => x.clone(),
                                (None, None) => Value::Bool(true),
                            })
                            .collect(),
                    )
                }
                "minLength" | "minItems" | "minProperties" | "minimum" | "exclusiveMinimum" => {
                    pick_num(&cur, v, true)
                }
                "maxLength" | "maxItems" | "maxProperties" | "maximum" | "exclusiveMaximum" => {
                    pick_num(&cur, v, false)
                }
                "uniqueItems" => {
                    Value::Bool(cur.as_bool() == Some(true) || v.as_bool() == Some(true))
                }
                "multipleOf" => {
                    let (Some(a), Some(b)) = (cur.as_f64(), v.as_f64()) else {
                        return Err("`multipleOf` must be a number".into());
                    };
                    if a == b || (a > b && (a / b).fract() == 0.0) {
                        cur
                    } else if (b / a).fract() == 0.0 {
                        v.clone()
                    } else if a.fract() == 0.0 && b.fract() == 0.0 && a * b < 1.0e15 {
                        let (x, y) = (a as u64, b as u64);
                        let g = gcd(x, y);
                        Value::from(x / g * y)
                    } else {
                        return Err(format!("`allOf` arms have `multipleOf` {a} and {b}"));
                    }
                }
                "enum" => {
                    let b = v.as_array().cloned().unwrap_or_default();
                    let common: Vec<Value> = cur
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|x| b.contains(x))
                        .cloned()
                        .collect();
                    if common.is_empty() {
                        return Err("`allOf` arms allow no common enum value".into());
                    }
                    Value::Array(common)
                }
                "const" | "format" | "discriminator" => {
                    if &cur != v {
                        return Err(format!("`allOf` arms disagree on `{k}`"));
                    }
                    cur
                }
                "pattern" => {
                    if &cur != v {
                        let more = out
                            .entry(MORE_PATTERNS.to_string())
                            .or_insert_with(|| Value::Array(Vec::new()));
                        if let Value::Array(a) = more {
                            a.push(v.clone());
                        }
                    }
                    cur
                }
                "anyOf" | "oneOf" => {
                    return Err(format!(
                        "`allOf` of two schemas that both have `{k}` is not supported"
                    ))
                }
                _ if is_annotation(k) => cur,
                _ => both(cur, v.clone()),
            };
            out.insert(k.clone(), merged);
        }
    }
    close_objects(&parts, &mut out)?;
    Ok(Value::Object(out))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}

/// An arm with `additionalProperties: false` forbids the other arms' extra
/// properties; one with a schema there constrains them.
fn close_objects(parts: &[Map<String, Value>], out: &mut Map<String, Value>) -> Result<(), String> {
    let required: Vec<String> = out
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let Some(Value::Object(props)) = out.get("properties").cloned() else {
        return Ok(());
    };
    let mut props = props;
    for part in parts {
        let own: Vec<&String> = part
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().collect())
            .unwrap_or_default();
        let patterns: Vec<regress::Regex> = part
            .get("patternProperties")
            .and_then(Value::as_object)
            .map(|p| {
                p.keys()
                    .filter_map(|k| super::pattern::compile_regex(k).ok())
                    .collect()
            })
            .unwrap_or_default();
        let covered = |name: &str| {
            own.iter().any(|o| o.as_str() == name)
                || patterns.iter().any(|r| r.find(name).is_some())
        };
        match part.get("additionalProperties") {
            Some(Value::Bool(false)) => {
                let names: Vec<String> = props.keys().cloned().collect();
                for name in names {
                    if covered(&name) {
                        continue;
                    }
                    if required.contains(&name) {
                        return Err(format!(
                            "`allOf`: property `{name}` is required, but an arm with `additionalProperties: false` forbids it"
                        ));
                    }
                    props.remove(&name);
                }
            }
            Some(extra @ Value::Object(_)) => {
                for (name, sub) in props.iter_mut() {
                    if !covered(name) {
                        *sub = both(sub.clone(), extra.clone());
                    }
                }
            }
            _ => {}
        }
    }
    out.insert("properties".into(), Value::Object(props));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_objects_and_limits() {
        let root = json!({"$defs": {"A": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}}});
        let s = json!({"allOf": [{"$ref": "#/$defs/A"}, {"properties": {"b": {"type": "string", "maxLength": 3}}, "required": ["b"], "minProperties": 2}]});
        let m = merge(&root, &s).unwrap();
        assert_eq!(m["required"], json!(["a", "b"]));
        assert!(m["properties"]["b"].is_object());
        let t = merge(&root, &json!({"allOf": [{"type": "number", "minimum": 1}, {"type": "integer", "minimum": 3}]})).unwrap();
        assert_eq!(t["type"], json!("integer"));
        assert_eq!(t["minimum"], json!(3));
        assert!(merge(
            &root,
            &json!({"allOf": [{"type": "string"}, {"type": "integer"}]})
        )
        .is_err());
        let closed = json!({"allOf": [{"properties": {"a": {}}, "additionalProperties": false}, {"properties": {"b": {}}, "required": ["b"]}]});
        assert!(merge(&root, &closed).is_err());
    }
}
