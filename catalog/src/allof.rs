//! `allOf` merged into one schema, for the tools that need a single shape
//! rather than a conjunction: the code generator (one Rust type) and the
//! sandbox (one synthesised value). The validator does not merge; it checks
//! every arm.
//!
//! [`merge_all_of`] follows `$ref`s and opens nested `allOf`s, then merges the
//! schemas they require, the outer schema first:
//! - `properties` are united (a property in two arms becomes the `allOf` of
//!   its two schemas), `required` lists united, `type`s intersected
//!   (`integer` within `number` is `integer`);
//! - bounds are tightened (the larger minimum, the smaller maximum),
//!   `uniqueItems` is kept if any arm has it, `multipleOf` becomes the least
//!   common multiple, `enum`s are intersected, `prefixItems` merged position
//!   by position;
//! - an arm with `additionalProperties: false` removes the other arms'
//!   properties it does not cover (an error when one of them is required),
//!   and one with a schema there constrains them;
//! - a second, different `pattern` is kept under [`MORE_PATTERNS`] (a string
//!   must match all of them);
//! - annotations (`title`, `description`, `default`, ...) come from the first
//!   schema that has them.
//!
//! Only a real contradiction is an error, naming the arm where it shows:
//! disjoint types, two different constants or formats, an empty `enum`
//! intersection, a minimum above a maximum, an arm that is `false`, and two
//! arms that both have `anyOf`/`oneOf` (not merged).

use serde_json::{Map, Value};

use crate::validate::pattern::Pattern;

/// Key of a merged string schema holding its patterns beyond `pattern`.
pub const MORE_PATTERNS: &str = "x-allof-more-patterns";

/// How deep `$ref`s and `allOf`s may nest inside one `allOf`.
const MAX_DEPTH: usize = 32;

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

/// Lower bounds (the larger wins) and upper bounds (the smaller wins), each
/// upper bound with the lower bound it must not fall below.
const BOUNDS: &[(&str, &str)] = &[
    ("maximum", "minimum"),
    ("exclusiveMaximum", "exclusiveMinimum"),
    ("maxLength", "minLength"),
    ("maxItems", "minItems"),
    ("maxProperties", "minProperties"),
];

/// Why an `allOf` cannot be merged, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub struct AllOfError {
    /// JSON pointer of the arm (or `$ref` target) where the problem shows.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

fn fail(pointer: &str, message: impl Into<String>) -> AllOfError {
    AllOfError {
        pointer: pointer.to_string(),
        message: message.into(),
    }
}

/// Whether `key` annotates rather than constrains values.
pub fn is_annotation(key: &str) -> bool {
    !CONSTRAINING.contains(&key)
}

/// Whether a schema object has keywords beyond `skip` that constrain values.
pub fn constrains(map: &Map<String, Value>, skip: &[&str]) -> bool {
    map.keys()
        .any(|k| !skip.contains(&k.as_str()) && !is_annotation(k))
}

/// The schema `#/...` reference `r` names in `root`, if any (JSON pointer,
/// percent-decoded).
pub fn lookup_ref<'v>(root: &'v Value, r: &str) -> Option<&'v Value> {
    let pointer = r.strip_prefix('#')?;
    root.pointer(&percent_decode(pointer))
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// The plain schema objects `s` requires, outer schema first, each with its
/// pointer: `$ref`s followed, `allOf`s opened.
fn flatten(
    root: &Value,
    s: &Value,
    pointer: &str,
    depth: usize,
    out: &mut Vec<(String, Map<String, Value>)>,
) -> Result<(), AllOfError> {
    if depth > MAX_DEPTH {
        return Err(fail(
            pointer,
            format!(
                "`allOf` and `$ref` nested deeper than {MAX_DEPTH} levels (do they refer to each other?)"
            ),
        ));
    }
    match s {
        Value::Bool(true) => Ok(()),
        Value::Bool(false) => Err(fail(
            pointer,
            "`allOf` contradiction: an arm is `false`, so no value is valid",
        )),
        Value::Object(map) => {
            let mut rest = map.clone();
            let r = rest.remove("$ref");
            let arms = rest.remove("allOf");
            out.push((pointer.to_string(), rest));
            if let Some(r) = r {
                let here = format!("{pointer}/$ref");
                let r = r
                    .as_str()
                    .ok_or_else(|| fail(&here, "`$ref` must be a string"))?;
                let target = lookup_ref(root, r)
                    .ok_or_else(|| fail(&here, format!("`$ref` {r} does not resolve")))?;
                flatten(root, target, r.trim_start_matches('#'), depth + 1, out)?;
            }
            if let Some(arms) = arms {
                let here = format!("{pointer}/allOf");
                let arms = arms
                    .as_array()
                    .ok_or_else(|| fail(&here, "`allOf` must be an array"))?;
                for (i, a) in arms.iter().enumerate() {
                    flatten(root, a, &format!("{here}/{i}"), depth + 1, out)?;
                }
            }
            Ok(())
        }
        _ => Err(fail(pointer, "a schema must be an object or a boolean")),
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

/// Both schemas, as one: `a` when they are equal, else their `allOf`.
fn both(a: Value, b: Value) -> Value {
    if a == b {
        return a;
    }
    serde_json::json!({ "allOf": [a, b] })
}

fn pick_num(a: &Value, b: &Value, larger: bool) -> Value {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if (x < y) == larger => b.clone(),
        (None, Some(_)) => b.clone(),
        _ => a.clone(),
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}

/// Merges the schemas `schema` requires (an `allOf`, or a `$ref` with
/// constraining siblings) into one schema object; `pointer` is where
/// `schema` is in `root`, for errors. See the [module](self) for the rules.
pub fn merge_all_of(root: &Value, schema: &Value, pointer: &str) -> Result<Value, AllOfError> {
    let mut parts = Vec::new();
    flatten(root, schema, pointer, 0, &mut parts)?;
    let mut out: Map<String, Value> = Map::new();
    for (at, part) in &parts {
        for (k, v) in part {
            let Some(cur) = out.get(k).cloned() else {
                out.insert(k.clone(), v.clone());
                continue;
            };
            let merged = merge_keyword(k, cur, v, at, &mut out)?;
            out.insert(k.clone(), merged);
        }
        check_bounds(&out, at)?;
    }
    close_objects(&parts, &mut out)?;
    Ok(Value::Object(out))
}

/// One keyword of two schemas merged: `cur` (merged so far) and `v` (of the
/// schema at `at`).
fn merge_keyword(
    k: &str,
    cur: Value,
    v: &Value,
    at: &str,
    out: &mut Map<String, Value>,
) -> Result<Value, AllOfError> {
    Ok(match k {
        "type" => {
            let (a, b) = (types(&cur), types(v));
            let mut common: Vec<Value> = Vec::new();
            for t in &a {
                let hit = if b.contains(t) || (t == "integer" && b.iter().any(|u| u == "number")) {
                    Some(t.as_str())
                } else if t == "number" && b.iter().any(|u| u == "integer") {
                    Some("integer")
                } else {
                    None
                };
                if let Some(t) = hit.map(Value::from) {
                    if !common.contains(&t) {
                        common.push(t);
                    }
                }
            }
            match common.len() {
                0 => {
                    return Err(fail(
                        at,
                        format!("`allOf` contradiction: the types {cur} and {v} have no value in common"),
                    ))
                }
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
        "items" | "propertyNames" | "additionalItems" if cur.is_object() && v.is_object() => {
            both(cur, v.clone())
        }
        "prefixItems" => {
            let a = cur.as_array().cloned().unwrap_or_default();
            let b = v.as_array().cloned().unwrap_or_default();
            Value::Array(
                (0..a.len().max(b.len()))
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
        "uniqueItems" => Value::Bool(cur.as_bool() == Some(true) || v.as_bool() == Some(true)),
        "multipleOf" => {
            let (Some(a), Some(b)) = (cur.as_f64(), v.as_f64()) else {
                return Err(fail(at, "`multipleOf` must be a number"));
            };
            if a == b || (a > b && (a / b).fract() == 0.0) {
                cur
            } else if (b / a).fract() == 0.0 {
                v.clone()
            } else if a.fract() == 0.0 && b.fract() == 0.0 && a * b < 1.0e15 {
                let (x, y) = (a as u64, b as u64);
                Value::from(x / gcd(x, y) * y)
            } else {
                return Err(fail(
                    at,
                    format!("`allOf` arms have `multipleOf` {a} and {b}, which have no common multiple that can be written"),
                ));
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
                return Err(fail(
                    at,
                    format!("`allOf` contradiction: no value is in both `enum` lists ({cur} and {v})"),
                ));
            }
            Value::Array(common)
        }
        "const" | "format" | "discriminator" => {
            if &cur != v {
                return Err(fail(
                    at,
                    format!("`allOf` contradiction: `{k}` is both {cur} and {v}"),
                ));
            }
            cur
        }
        "pattern" => {
            if &cur != v {
                let more = out
                    .entry(MORE_PATTERNS.to_string())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(a) = more {
                    if !a.contains(v) {
                        a.push(v.clone());
                    }
                }
            }
            cur
        }
        "anyOf" | "oneOf" => {
            return Err(fail(
                at,
                format!("an `allOf` of two schemas that both have `{k}` cannot be merged; write the combined `{k}` out"),
            ))
        }
        _ if is_annotation(k) => cur,
        _ => both(cur, v.clone()),
    })
}

/// A lower bound above its upper bound, or a `const` outside the `enum`.
fn check_bounds(out: &Map<String, Value>, at: &str) -> Result<(), AllOfError> {
    for (upper, lower) in BOUNDS {
        if let (Some(hi), Some(lo)) = (
            out.get(*upper).and_then(Value::as_f64),
            out.get(*lower).and_then(Value::as_f64),
        ) {
            if lo > hi {
                return Err(fail(
                    at,
                    format!("`allOf` contradiction: `{lower}` {lo} is above `{upper}` {hi}"),
                ));
            }
        }
    }
    if let (Some(c), Some(Value::Array(e))) = (out.get("const"), out.get("enum")) {
        if !e.contains(c) {
            return Err(fail(
                at,
                format!("`allOf` contradiction: `const` {c} is not in `enum`"),
            ));
        }
    }
    Ok(())
}

/// An arm with `additionalProperties: false` forbids the other arms' extra
/// properties; one with a schema there constrains them.
fn close_objects(
    parts: &[(String, Map<String, Value>)],
    out: &mut Map<String, Value>,
) -> Result<(), AllOfError> {
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
    let Some(Value::Object(mut props)) = out.get("properties").cloned() else {
        return Ok(());
    };
    for (at, part) in parts {
        let own: Vec<&String> = part
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().collect())
            .unwrap_or_default();
        let patterns: Vec<Pattern> = part
            .get("patternProperties")
            .and_then(Value::as_object)
            .map(|p| p.keys().filter_map(|k| Pattern::new(k).ok()).collect())
            .unwrap_or_default();
        let covered = |name: &str| {
            own.iter().any(|o| o.as_str() == name) || patterns.iter().any(|r| r.is_match(name))
        };
        match part.get("additionalProperties") {
            Some(Value::Bool(false)) => {
                let names: Vec<String> = props.keys().cloned().collect();
                for name in names.into_iter().filter(|n| !covered(n)) {
                    if required.contains(&name) {
                        return Err(fail(
                            at,
                            format!("`allOf` contradiction: property `{name}` is required, but this arm's `additionalProperties: false` forbids it"),
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

    fn merged(root: &Value, s: Value) -> Result<Value, AllOfError> {
        merge_all_of(root, &s, "/x")
    }

    #[test]
    fn merges_objects_bounds_and_types() {
        let root = json!({"$defs": {"A": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}}});
        let m = merged(
            &root,
            json!({"allOf": [{"$ref": "#/$defs/A"}, {"properties": {"b": {"type": "string", "maxLength": 3}}, "required": ["b"], "minProperties": 2}], "description": "both"}),
        )
        .unwrap();
        assert_eq!(m["required"], json!(["a", "b"]));
        assert!(m["properties"]["a"].is_object() && m["properties"]["b"].is_object());
        assert_eq!(m["description"], "both");
        let t = merged(
            &root,
            json!({"allOf": [{"type": "number", "minimum": 1, "maximum": 100}, {"type": "integer", "minimum": 3}]}),
        )
        .unwrap();
        assert_eq!(
            (&t["type"], &t["minimum"], &t["maximum"]),
            (&json!("integer"), &json!(3), &json!(100))
        );
        let n = merged(
            &root,
            json!({"allOf": [{"multipleOf": 4}, {"multipleOf": 6}, {"uniqueItems": true}]}),
        )
        .unwrap();
        assert_eq!(
            (&n["multipleOf"], &n["uniqueItems"]),
            (&json!(12), &json!(true))
        );
    }

    #[test]
    fn the_outer_schemas_annotations_come_first_and_patterns_are_all_kept() {
        let root =
            json!({"$defs": {"S": {"type": "string", "pattern": "^a", "description": "inner"}}});
        let m = merged(
            &root,
            json!({"$ref": "#/$defs/S", "pattern": "b$", "description": "outer"}),
        )
        .unwrap();
        assert_eq!(m["description"], "outer");
        assert_eq!(m["pattern"], "b$");
        assert_eq!(m[MORE_PATTERNS], json!(["^a"]));
    }

    #[test]
    fn contradictions_are_errors_naming_the_arm() {
        let root = json!({});
        for (s, at) in [
            (
                json!({"allOf": [{"type": "string"}, {"type": "integer"}]}),
                "/x/allOf/1",
            ),
            (json!({"allOf": [{"const": 1}, {"const": 2}]}), "/x/allOf/1"),
            (
                json!({"allOf": [{"enum": [1, 2]}, {"enum": [3]}]}),
                "/x/allOf/1",
            ),
            (
                json!({"allOf": [{"minimum": 5}, {"maximum": 2}]}),
                "/x/allOf/1",
            ),
            (json!({"allOf": [{"type": "string"}, false]}), "/x/allOf/1"),
            (
                json!({"allOf": [{"properties": {"a": {}}, "additionalProperties": false}, {"properties": {"b": {}}, "required": ["b"]}]}),
                "/x/allOf/0",
            ),
        ] {
            let e = merged(&root, s.clone()).unwrap_err();
            assert_eq!(e.pointer, at, "{s}: {e}");
            assert!(e.message.contains("contradiction"), "{e}");
        }
    }

    #[test]
    fn closed_arms_drop_the_other_arms_extra_properties() {
        let m = merged(
            &json!({}),
            json!({"allOf": [{"properties": {"a": {}}, "additionalProperties": false}, {"properties": {"b": {}}}]}),
        )
        .unwrap();
        assert_eq!(m["properties"], json!({"a": {}}));
    }

    #[test]
    fn refs_that_loop_or_dangle_are_errors_not_a_stack_overflow() {
        let root = json!({"$defs": {"L": {"allOf": [{"$ref": "#/$defs/L"}]}}});
        let e = merged(&root, json!({"$ref": "#/$defs/L", "required": ["a"]})).unwrap_err();
        assert!(e.message.contains("deeper than"), "{e}");
        let e = merged(&root, json!({"allOf": [{"$ref": "#/$defs/Nope"}, {}]})).unwrap_err();
        assert_eq!(e.pointer, "/x/allOf/0/$ref");
    }

    #[test]
    fn the_constraining_keywords_are_the_keyword_tables_assertions_and_applicators() {
        use crate::keywords::{Kind, KEYWORDS};
        // Standard keywords the table files as assertions or applicators whose
        // values are not schemas or bounds to conjoin: merged as annotations
        // (the first schema's value).
        let merged_as_annotations = ["contentMediaType", "contentSchema", "nullable"];
        for k in KEYWORDS.iter().filter(|k| !k.name.starts_with("x-")) {
            let constraining = matches!(k.kind, Kind::Assertion | Kind::Applicator)
                && !merged_as_annotations.contains(&k.name);
            assert_eq!(
                !is_annotation(k.name),
                constraining,
                "`{}` ({:?}): CONSTRAINING and the keyword table disagree",
                k.name,
                k.kind
            );
        }
        for name in CONSTRAINING.iter().filter(|n| **n != MORE_PATTERNS) {
            assert!(
                KEYWORDS.iter().any(|k| k.name == *name),
                "`{name}` is in no row of the keyword table"
            );
        }
    }

    #[test]
    fn percent_encoded_refs_resolve() {
        let root = json!({"$defs": {"a b": {"type": "string"}}});
        assert_eq!(
            lookup_ref(&root, "#/$defs/a%20b"),
            Some(&json!({"type": "string"}))
        );
        assert_eq!(lookup_ref(&root, "#/$defs/a%2"), None);
    }
}
