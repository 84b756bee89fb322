//! What the CLI needs to know about an action's request schema: the fields of one
//! item and of `params`, with their types, limits and descriptions.
//!
//! Reads the request schema JSON text compiled into the SDK's catalog
//! (`ActionSpec::request_schema`), so nothing is read from disk at run time.

use serde_json::Value;

/// One field of a request item or of the params object.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The JSON key.
    pub name: String,
    /// JSON types the field accepts, `null` left out (`["string"]`, `["integer"]`, ...).
    pub types: Vec<String>,
    /// Whether the field must be present.
    pub required: bool,
    /// Allowed values, when the schema lists them.
    pub enum_values: Vec<Value>,
    /// Limits in words (`1..=2048 chars`, `>= 1`, `max 3 items`), possibly empty.
    pub limits: String,
    /// The default value, when the schema states one.
    pub default: Option<Value>,
    /// The schema's description of the field.
    pub description: Option<String>,
}

impl Field {
    /// The type as shown to users: `string`, `integer | null`, `array<number>`, an enum...
    pub fn type_label(&self) -> String {
        if !self.enum_values.is_empty() {
            let vals: Vec<String> = self.enum_values.iter().map(|v| v.to_string()).collect();
            return format!("one of {}", vals.join(", "));
        }
        if self.types.is_empty() {
            "any".to_string()
        } else {
            self.types.join(" | ")
        }
    }
}

/// A parsed request schema, with `$ref`s into `$defs` resolved on demand.
pub struct RequestSchema {
    root: Value,
}

impl RequestSchema {
    /// Parses the schema text; `None` when it is not JSON.
    pub fn parse(text: &str) -> Result<RequestSchema, serde_json::Error> {
        Ok(RequestSchema {
            root: serde_json::from_str(text)?,
        })
    }

    /// Follows a local `$ref` (`#/$defs/Name`, at most a few hops) and unwraps
    /// "X or null" `anyOf`s.
    fn resolve<'a>(&'a self, mut node: &'a Value) -> &'a Value {
        for _ in 0..16 {
            if let Some(r) = node.get("$ref").and_then(Value::as_str) {
                match r.strip_prefix('#').and_then(|p| self.root.pointer(p)) {
                    Some(target) => {
                        node = target;
                        continue;
                    }
                    None => return node,
                }
            }
            if let Some(arms) = node.get("anyOf").and_then(Value::as_array) {
                let non_null: Vec<&Value> = arms.iter().filter(|a| !is_null_type(a)).collect();
                if non_null.len() == 1 {
                    node = non_null[0];
                    continue;
                }
            }
            return node;
        }
        node
    }

    /// The schema of one item (`properties.items.items`), resolved.
    pub fn item_schema(&self) -> Option<&Value> {
        let items = self.root.pointer("/properties/items/items")?;
        Some(self.resolve(items))
    }

    /// The schema of `params`, resolved; `None` when the action takes none.
    pub fn params_schema(&self) -> Option<&Value> {
        let params = self.root.pointer("/properties/params")?;
        Some(self.resolve(params))
    }

    /// The item's `x-biolm-rules` (rules between its fields), one line of words each.
    pub fn item_rules(&self) -> Vec<String> {
        let Some(Value::Array(rules)) = self.item_schema().and_then(|s| s.get("x-biolm-rules"))
        else {
            return Vec::new();
        };
        rules.iter().map(rule_words).collect()
    }

    /// The fields of one item, in schema order.
    pub fn item_fields(&self) -> Vec<Field> {
        self.item_schema()
            .map(|s| self.fields_of(s))
            .unwrap_or_default()
    }

    /// The fields of `params`, in schema order.
    pub fn params_fields(&self) -> Vec<Field> {
        self.params_schema()
            .map(|s| self.fields_of(s))
            .unwrap_or_default()
    }

    fn fields_of(&self, object: &Value) -> Vec<Field> {
        let required: Vec<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let Some(props) = object.get("properties").and_then(Value::as_object) else {
            return Vec::new();
        };
        props
            .iter()
            .map(|(name, raw)| {
                let resolved = self.resolve(raw);
                Field {
                    name: name.clone(),
                    types: self.types_of(raw),
                    required: required.contains(&name.as_str()),
                    enum_values: resolved
                        .get("enum")
                        .and_then(Value::as_array)
                        .map(|v| dedup(v))
                        .unwrap_or_default(),
                    limits: limits_of(resolved),
                    default: raw
                        .get("default")
                        .or_else(|| resolved.get("default"))
                        .cloned(),
                    description: raw
                        .get("description")
                        .or_else(|| resolved.get("description"))
                        .and_then(Value::as_str)
                        .map(str::to_string),
                }
            })
            .collect()
    }

    /// JSON types a property accepts (without `null`).
    fn types_of(&self, raw: &Value) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_types(raw, &mut out, 0);
        out
    }

    fn collect_types(&self, node: &Value, out: &mut Vec<String>, depth: usize) {
        if depth > 8 {
            return;
        }
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            if let Some(target) = r.strip_prefix('#').and_then(|p| self.root.pointer(p)) {
                self.collect_types(target, out, depth + 1);
            }
            return;
        }
        if let Some(arms) = node
            .get("anyOf")
            .or_else(|| node.get("oneOf"))
            .and_then(Value::as_array)
        {
            for arm in arms {
                self.collect_types(arm, out, depth + 1);
            }
            return;
        }
        let push = |out: &mut Vec<String>, t: String| {
            if t != "null" && !out.contains(&t) {
                out.push(t);
            }
        };
        match node.get("type") {
            Some(Value::String(t)) if t == "array" => {
                let inner = node.get("items").map(|i| {
                    let mut v = Vec::new();
                    self.collect_types(i, &mut v, depth + 1);
                    v.join(" | ")
                });
                match inner {
                    Some(i) if !i.is_empty() => push(out, format!("array<{i}>")),
                    _ => push(out, "array".to_string()),
                }
            }
            Some(Value::String(t)) => push(out, t.clone()),
            Some(Value::Array(ts)) => {
                for t in ts.iter().filter_map(Value::as_str) {
                    push(out, t.to_string());
                }
            }
            _ => {
                if node.get("enum").is_some() {
                    push(out, "string".to_string());
                }
            }
        }
    }

    /// The name of the item field a bare sequence (FASTA) goes into: `preferred` when
    /// given (it must be a string field of the item), else the item's single required
    /// string field.
    pub fn sequence_field(&self, preferred: Option<&str>) -> Result<String, String> {
        let fields = self.item_fields();
        let is_string = |f: &Field| f.types.iter().any(|t| t == "string");
        if let Some(name) = preferred {
            return match fields.iter().find(|f| f.name == name) {
                Some(f) if is_string(f) => Ok(f.name.clone()),
                Some(f) => Err(format!(
                    "--field {name}: that field is {}, not a string; a FASTA sequence can only go into a string field",
                    f.type_label()
                )),
                None => Err(format!(
                    "--field {name}: the item has no such field (fields: {})",
                    names(&fields)
                )),
            };
        }
        let required: Vec<&Field> = fields
            .iter()
            .filter(|f| f.required && is_string(f))
            .collect();
        match required.as_slice() {
            [one] => Ok(one.name.clone()),
            [] => {
                let strings: Vec<&Field> = fields.iter().filter(|f| is_string(f)).collect();
                match strings.as_slice() {
                    [one] => Ok(one.name.clone()),
                    _ => Err(format!(
                        "cannot tell which item field a FASTA sequence goes into (fields: {}); choose one with --field NAME, or give the items as CSV or JSONL",
                        names(&fields)
                    )),
                }
            }
            many => Err(format!(
                "the item has several required string fields ({}); a FASTA record fills only one: choose it with --field NAME, or give the items as CSV or JSONL",
                many.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

fn names(fields: &[Field]) -> String {
    if fields.is_empty() {
        return "none".to_string();
    }
    fields
        .iter()
        .map(|f| f.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_null_type(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
}

fn dedup(values: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for v in values {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    out
}

/// One `x-biolm-rules` entry in words (`schemas/README.md` describes the kinds).
fn rule_words(rule: &Value) -> String {
    let list = |v: Option<&Value>| -> String {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|x| match x {
                        Value::Array(g) => g
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(" + "),
                        other => other.as_str().unwrap_or_default().to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let s = |k: &str| rule.get(k).and_then(Value::as_str).unwrap_or_default();
    match s("kind") {
        "exclusive" => format!("at most one of: {}", list(rule.get("groups"))),
        "any-group" => format!("at least one of: {}", list(rule.get("groups"))),
        "requires" => format!("{} needs {}", s("field"), list(rule.get("needs"))),
        "requires-value" => format!(
            "{} needs {} = {}",
            s("field"),
            s("other"),
            rule.get("value").cloned().unwrap_or_default()
        ),
        "equal-length" => format!("same length: {}", list(rule.get("fields"))),
        "mutations" => {
            let mut w = format!(
                "{}: mutations <wt><pos><mt> from {}",
                s("field"),
                s("letters")
            );
            if !s("sequence").is_empty() {
                w.push_str(&format!(", positions within {}", s("sequence")));
            }
            w
        }
        other => other.to_string(),
    }
}

/// The limits of a (resolved) property in short words.
fn limits_of(node: &Value) -> String {
    let mut parts = Vec::new();
    let num = |k: &str| node.get(k).filter(|v| v.is_number()).map(Value::to_string);
    match (num("minLength"), num("maxLength")) {
        (Some(a), Some(b)) => parts.push(format!("{a}..={b} chars")),
        (Some(a), None) => parts.push(format!(">= {a} chars")),
        (None, Some(b)) => parts.push(format!("<= {b} chars")),
        _ => {}
    }
    match (num("minimum"), num("maximum")) {
        (Some(a), Some(b)) => parts.push(format!("{a}..={b}")),
        (Some(a), None) => parts.push(format!(">= {a}")),
        (None, Some(b)) => parts.push(format!("<= {b}")),
        _ => {}
    }
    if let Some(v) = num("exclusiveMinimum") {
        parts.push(format!("> {v}"));
    }
    if let Some(v) = num("exclusiveMaximum") {
        parts.push(format!("< {v}"));
    }
    match (num("minItems"), num("maxItems")) {
        (Some(a), Some(b)) => parts.push(format!("{a}..={b} items")),
        (Some(a), None) => parts.push(format!(">= {a} items")),
        (None, Some(b)) => parts.push(format!("<= {b} items")),
        _ => {}
    }
    if let Some(Value::Object(alpha)) = node.get("x-biolm-alphabet") {
        if let Some(name) = alpha.get("name").and_then(Value::as_str) {
            parts.push(format!("alphabet {name}"));
        }
    }
    if let Some(Value::Array(counts)) = node.get("x-biolm-token-count") {
        for c in counts {
            let token = c.get("token").and_then(Value::as_str).unwrap_or_default();
            let (lo, hi) = (c.get("min"), c.get("max"));
            match (lo, hi) {
                (Some(a), Some(b)) if a == b => parts.push(format!("{a} x {token}")),
                (lo, Some(b)) => {
                    let lo = lo.cloned().unwrap_or(Value::from(0));
                    parts.push(format!("{lo}..={b} x {token}"))
                }
                (Some(a), None) => parts.push(format!(">= {a} x {token}")),
                (None, None) => {}
            }
        }
    }
    if let Some(f) = node.get("x-biolm-format").and_then(Value::as_str) {
        parts.push(format!("format {f}"));
    }
    if let Some(Value::Object(alpha)) = node.get("x-biolm-key-alphabet") {
        if let Some(name) = alpha.get("name").and_then(Value::as_str) {
            parts.push(format!("keys in alphabet {name}"));
        }
    }
    parts.join(", ")
}

/// Converts one CSV cell to the JSON value a field of these `types` expects:
/// numbers, integers and booleans are parsed, arrays and objects read as JSON,
/// anything else kept as a string.
pub fn cell_to_value(cell: &str, types: &[String]) -> Result<Value, String> {
    let has = |t: &str| types.iter().any(|x| x == t);
    let only_string = types.is_empty() || (has("string") && types.len() == 1);
    if only_string {
        return Ok(Value::String(cell.to_string()));
    }
    let trimmed = cell.trim();
    if has("integer") {
        if let Ok(i) = trimmed.parse::<i64>() {
            return Ok(Value::from(i));
        }
    }
    if has("number") {
        if let Ok(Value::Number(n)) = serde_json::from_str::<Value>(trimmed) {
            return Ok(Value::Number(n));
        }
    }
    if has("boolean") {
        match trimmed.to_ascii_lowercase().as_str() {
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            _ => {}
        }
    }
    if types
        .iter()
        .any(|t| t.starts_with("array") || t == "object")
    {
        if let Ok(v @ (Value::Array(_) | Value::Object(_))) = serde_json::from_str::<Value>(trimmed)
        {
            return Ok(v);
        }
    }
    if has("string") {
        return Ok(Value::String(cell.to_string()));
    }
    Err(format!("{cell:?} is not {}", types.join(" or ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESM2: &str = r##"{"$defs":{"Item":{"type":"object","additionalProperties":false,
      "properties":{"sequence":{"type":"string","minLength":1,"maxLength":2048,"description":"Protein."}},
      "required":["sequence"]},
      "P":{"type":"object","properties":{"repr_layers":{"anyOf":[{"type":"array","items":{"type":"integer"}},{"type":"null"}],"default":[-1]},
      "include":{"type":"array","items":{"enum":["mean","per_residue","per_residue"]}}}}},
      "properties":{"items":{"type":"array","maxItems":8,"items":{"$ref":"#/$defs/Item"}},"params":{"$ref":"#/$defs/P"}}}"##;

    #[test]
    fn item_and_params_fields() {
        let s = RequestSchema::parse(ESM2).unwrap();
        let f = s.item_fields();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].name, "sequence");
        assert!(f[0].required);
        assert_eq!(f[0].limits, "1..=2048 chars");
        assert_eq!(f[0].description.as_deref(), Some("Protein."));
        let p = s.params_fields();
        assert_eq!(p[0].types, vec!["array<integer>".to_string()]);
        assert_eq!(p[1].type_label(), "array<string>");
        assert_eq!(s.sequence_field(None).unwrap(), "sequence");
    }

    #[test]
    fn sequence_field_ambiguous_and_explicit() {
        let two = r#"{"properties":{"items":{"items":{"type":"object","required":["heavy_chain","light_chain"],
          "properties":{"heavy_chain":{"type":"string"},"light_chain":{"type":"string"},"n":{"type":"integer"}}}}}}"#;
        let s = RequestSchema::parse(two).unwrap();
        let e = s.sequence_field(None).unwrap_err();
        assert!(e.contains("heavy_chain, light_chain"), "{e}");
        assert!(e.contains("--field NAME"), "{e}");
        assert_eq!(
            s.sequence_field(Some("light_chain")).unwrap(),
            "light_chain"
        );
        assert!(s
            .sequence_field(Some("n"))
            .unwrap_err()
            .contains("not a string"));
        assert!(s
            .sequence_field(Some("x"))
            .unwrap_err()
            .contains("no such field"));
    }

    #[test]
    fn cells_convert_by_type() {
        let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            cell_to_value("12", &t(&["integer"])).unwrap(),
            Value::from(12)
        );
        assert_eq!(
            cell_to_value("0.10", &t(&["number"])).unwrap().to_string(),
            "0.1"
        );
        assert_eq!(
            cell_to_value("TRUE", &t(&["boolean"])).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            cell_to_value("[1,2]", &t(&["array<integer>"])).unwrap(),
            serde_json::json!([1, 2])
        );
        assert_eq!(
            cell_to_value("007", &t(&["string"])).unwrap(),
            Value::from("007")
        );
        assert_eq!(
            cell_to_value("abc", &t(&["integer"])).unwrap_err(),
            "\"abc\" is not integer"
        );
    }
}
