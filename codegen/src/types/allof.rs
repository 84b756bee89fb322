//! `allOf`: merging schemas.
//!
//! `allOf: [A, B]` (and a `$ref` with sibling `properties`/`required`) is the
//! conjunction of its schemas; the generator merges them into one schema
//! before converting it: properties are united (a property in both becomes
//! the `allOf` of its two schemas), `required` lists are united, `type`s
//! intersected (`integer` within `number` is `integer`), bounds tightened
//! (the larger minimum, the smaller maximum), `enum`s intersected, `const`s
//! compared, `additionalProperties: false` wins. Doc keywords (`title`,
//! `description`, `default`) come from the first schema that has them, the
//! outer schema first. Only a real contradiction is an error: disjoint types,
//! two different constants, an empty `enum` intersection or a minimum above
//! a maximum.

use serde_json::{Map, Value};

use super::*;
use crate::error::CodegenError;

/// Keywords whose larger value wins (lower bounds).
const LOWER: &[&str] = &[
    "minimum",
    "exclusiveMinimum",
    "minLength",
    "minItems",
    "minProperties",
];
/// Keywords whose smaller value wins (upper bounds), with their lower bound.
const UPPER: &[(&str, &str)] = &[
    ("maximum", "minimum"),
    ("exclusiveMaximum", "exclusiveMinimum"),
    ("maxLength", "minLength"),
    ("maxItems", "minItems"),
    ("maxProperties", "minProperties"),
];

impl ModuleTypes {
    /// The merged schema when `schema` is an `allOf` of two or more schemas,
    /// or a `$ref` with sibling `properties`/`required`; `None` otherwise.
    pub(super) fn merged_all_of(
        &self,
        doc: &Doc<'_>,
        schema: &Value,
        ptr: &str,
        depth: usize,
    ) -> Result<Option<Value>, CodegenError> {
        let Some(obj) = schema.as_object() else {
            return Ok(None);
        };
        if depth > MAX_DEPTH {
            return Err(doc.err(ptr, format!("schema nested deeper than {MAX_DEPTH} levels")));
        }
        let mut parts: Vec<(String, Value)> = Vec::new();
        let mut outer = obj.clone();
        match obj.get("allOf") {
            Some(Value::Array(all)) => {
                let structural_siblings = obj.keys().any(|k| is_structural(k));
                if all.len() < 2 && !structural_siblings {
                    return Ok(None);
                }
                outer.remove("allOf");
                for (i, part) in all.iter().enumerate() {
                    parts.push((format!("{ptr}/allOf/{i}"), part.clone()));
                }
            }
            Some(_) => return Err(doc.err(&format!("{ptr}/allOf"), "`allOf` must be an array")),
            None => {
                let Some(r) = obj.get("$ref") else {
                    return Ok(None);
                };
                if !obj.keys().any(|k| is_structural(k)) {
                    return Ok(None);
                }
                outer.remove("$ref");
                parts.push((format!("{ptr}/$ref"), serde_json::json!({ "$ref": r })));
            }
        }
        let mut merged = Value::Object(outer);
        for (part_ptr, part) in parts {
            let part = self.resolved(doc, &part, &part_ptr, depth + 1)?;
            merged = merge(doc, merged, part, &part_ptr)?;
        }
        Ok(Some(merged))
    }

    /// `part` with a top-level `$ref` replaced by the referenced definition (and
    /// nested `allOf`s merged), so its keywords can be merged.
    fn resolved(
        &self,
        doc: &Doc<'_>,
        part: &Value,
        ptr: &str,
        depth: usize,
    ) -> Result<Value, CodegenError> {
        if depth > MAX_DEPTH {
            return Err(doc.err(ptr, format!("schema nested deeper than {MAX_DEPTH} levels")));
        }
        let mut part = part.clone();
        if let Some(r) = part.get("$ref").cloned() {
            let r = r
                .as_str()
                .ok_or_else(|| doc.err(ptr, "`$ref` must be a string"))?;
            let name = doc.ref_name(r, ptr)?;
            let def = doc
                .root
                .get("$defs")
                .and_then(|d| d.get(name))
                .cloned()
                .unwrap_or(Value::Null);
            let mut rest = part.as_object().cloned().unwrap_or_default();
            rest.remove("$ref");
            let def = self.resolved(doc, &def, &format!("/$defs/{name}"), depth + 1)?;
            part = merge(doc, Value::Object(rest), def, ptr)?;
        }
        if let Some(m) = self.merged_all_of(doc, &part, ptr, depth + 1)? {
            part = m;
        }
        Ok(part)
    }
}

/// Whether a sibling of `$ref` changes the shape (so it must be merged).
fn is_structural(key: &str) -> bool {
    matches!(key, "properties" | "required" | "additionalProperties")
}

/// Merges schema `b` into `a` (see the module doc); `ptr` names `b` in errors.
pub(super) fn merge(doc: &Doc<'_>, a: Value, b: Value, ptr: &str) -> Result<Value, CodegenError> {
    let mut out: Map<String, Value> = match a {
        Value::Object(m) => m,
        Value::Bool(true) => Map::new(),
        _ => return Err(doc.err(ptr, "`allOf` can only merge object schemas")),
    };
    let b = match b {
        Value::Object(m) => m,
        Value::Bool(true) => return Ok(Value::Object(out)),
        _ => return Err(doc.err(ptr, "`allOf` can only merge object schemas")),
    };
    for (k, bv) in b {
        let Some(av) = out.get(&k).cloned() else {
            out.insert(k, bv);
            continue;
        };
        if av == bv {
            continue;
        }
        let merged = match k.as_str() {
            "type" => merge_types(doc, &av, &bv, ptr)?,
            "properties" => {
                let (Some(ap), Some(bp)) = (av.as_object(), bv.as_object()) else {
                    return Err(doc.err(ptr, "`properties` must be an object"));
                };
                let mut props = ap.clone();
                for (name, bs) in bp {
                    let v = match props.get(name) {
                        Some(as_) if as_ != bs => {
                            serde_json::json!({ "allOf": [as_.clone(), bs.clone()] })
                        }
                        _ => bs.clone(),
                    };
                    props.insert(name.clone(), v);
                }
                Value::Object(props)
            }
            "required" => {
                let mut req: Vec<Value> = av.as_array().cloned().unwrap_or_default();
                for r in bv.as_array().cloned().unwrap_or_default() {
                    if !req.contains(&r) {
                        req.push(r);
                    }
                }
                Value::Array(req)
            }
            "enum" => {
                let bvals = bv.as_array().cloned().unwrap_or_default();
                let both: Vec<Value> = av
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|v| bvals.contains(v))
                    .collect();
                if both.is_empty() {
                    return Err(doc.err(
                        ptr,
                        format!("`allOf` contradiction: no value is in both `enum` lists ({av} and {bv})"),
                    ));
                }
                Value::Array(both)
            }
            "const" => {
                return Err(doc.err(
                    ptr,
                    format!("`allOf` contradiction: `const` is both {av} and {bv}"),
                ))
            }
            "additionalProperties" => match (&av, &bv) {
                (Value::Bool(false), _) | (_, Value::Bool(false)) => Value::Bool(false),
                (Value::Bool(true), other) | (other, Value::Bool(true)) => other.clone(),
                _ => serde_json::json!({ "allOf": [av, bv] }),
            },
            "items" if av.is_object() && bv.is_object() => {
                serde_json::json!({ "allOf": [av, bv] })
            }
            k if LOWER.contains(&k) => max_num(&av, &bv),
            k if UPPER.iter().any(|(u, _)| *u == k) => min_num(&av, &bv),
            // Doc keywords and anything else: the first schema's value.
            _ => av,
        };
        out.insert(k, merged);
    }
    for (upper, lower) in UPPER {
        if let (Some(hi), Some(lo)) = (
            out.get(*upper).and_then(Value::as_f64),
            out.get(*lower).and_then(Value::as_f64),
        ) {
            if lo > hi {
                return Err(doc.err(
                    ptr,
                    format!("`allOf` contradiction: `{lower}` {lo} is above `{upper}` {hi}"),
                ));
            }
        }
    }
    if let (Some(c), Some(Value::Array(e))) = (out.get("const"), out.get("enum")) {
        if !e.contains(c) {
            return Err(doc.err(
                ptr,
                format!("`allOf` contradiction: `const` {c} is not in `enum`"),
            ));
        }
    }
    Ok(Value::Object(out))
}

fn type_set(v: &Value) -> Vec<String> {
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

fn merge_types(doc: &Doc<'_>, a: &Value, b: &Value, ptr: &str) -> Result<Value, CodegenError> {
    let (ta, tb) = (type_set(a), type_set(b));
    let mut both: Vec<String> = Vec::new();
    for t in &ta {
        let t2 = if tb.contains(t) {
            Some(t.clone())
        } else if (t == "number" && tb.iter().any(|x| x == "integer"))
            || (t == "integer" && tb.iter().any(|x| x == "number"))
        {
            Some("integer".to_string())
        } else {
            None
        };
        if let Some(t2) = t2 {
            if !both.contains(&t2) {
                both.push(t2);
            }
        }
    }
    match both.as_slice() {
        [] => Err(doc.err(
            ptr,
            format!("`allOf` contradiction: the types {a} and {b} have no value in common"),
        )),
        [one] => Ok(Value::String(one.clone())),
        _ => Ok(Value::Array(both.into_iter().map(Value::String).collect())),
    }
}

fn max_num(a: &Value, b: &Value) -> Value {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if y > x => b.clone(),
        (Some(_), _) => a.clone(),
        _ => b.clone(),
    }
}

fn min_num(a: &Value, b: &Value) -> Value {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if y < x => b.clone(),
        (Some(_), _) => a.clone(),
        _ => b.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    fn doc(root: &Value) -> Doc<'_> {
        Doc::new(
            root,
            PathBuf::from("t.json"),
            String::new(),
            Dir::Request,
            "predict",
        )
    }

    #[test]
    fn merges_bounds_types_properties_and_required() {
        let root = json!({});
        let d = doc(&root);
        let m = merge(
            &d,
            json!({"type": "number", "minimum": 0, "properties": {"a": {"type": "string"}}, "required": ["a"]}),
            json!({"type": "integer", "minimum": 2, "maximum": 100, "properties": {"b": {"type": "integer"}}, "required": ["b"]}),
            "/allOf/1",
        )
        .unwrap();
        assert_eq!(m["type"], "integer");
        assert_eq!(m["minimum"], 2);
        assert_eq!(m["maximum"], 100);
        assert_eq!(m["required"], json!(["a", "b"]));
        assert!(m["properties"]["a"].is_object() && m["properties"]["b"].is_object());
    }

    #[test]
    fn contradictions_are_errors_naming_the_pointer() {
        let root = json!({});
        let d = doc(&root);
        for (a, b) in [
            (json!({"type": "string"}), json!({"type": "integer"})),
            (json!({"const": 1}), json!({"const": 2})),
            (json!({"enum": [1, 2]}), json!({"enum": [3]})),
            (json!({"minimum": 5}), json!({"maximum": 2})),
        ] {
            let e = merge(&d, a, b, "/x/allOf/1").unwrap_err().to_string();
            assert!(
                e.contains("/x/allOf/1") && e.contains("contradiction"),
                "{e}"
            );
        }
    }

    #[test]
    fn ref_with_siblings_and_two_refs_merge() {
        let root = json!({"$defs": {
            "A": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            "B": {"type": "object", "properties": {"b": {"type": "string"}}}
        }});
        let d = doc(&root);
        let t = ModuleTypes::default();
        let s =
            json!({"allOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}], "description": "both"});
        let m = t.merged_all_of(&d, &s, "", 0).unwrap().unwrap();
        assert_eq!(m["description"], "both");
        assert_eq!(m["required"], json!(["a"]));
        assert!(m["properties"]["b"].is_object());
        let single = json!({"allOf": [{"$ref": "#/$defs/A"}]});
        assert!(t.merged_all_of(&d, &single, "", 0).unwrap().is_none());
    }
}
