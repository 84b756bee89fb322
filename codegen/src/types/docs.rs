//! Doc lines for schemas: descriptions, titles and limits in words.

use serde_json::Value;

use crate::normalize::strip_null;

/// Doc lines for a schema: its description (or title) and its limits.
pub fn describe(schema: &Value) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let text = match (
        schema.get("description").and_then(Value::as_str),
        schema.get("title").and_then(Value::as_str),
    ) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) if t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            format!("The schema's `{t}`.")
        }
        (None, Some(t)) => t.to_string(),
        (None, None) => String::new(),
    };
    for l in text.lines() {
        lines.push(format!(" {}", l.trim_end()));
    }
    let limits = limits(schema);
    if !limits.is_empty() {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(format!(" {limits}"));
    }
    lines
}

/// The limits of a schema (or of its non-null arm) in words.
pub fn limits(schema: &Value) -> String {
    let mut target = schema;
    if let Some(s) = strip_null(schema) {
        if let [(_, one)] = s.arms.as_slice() {
            target = one;
        }
    }
    let num = |k: &str| {
        target
            .get(k)
            .filter(|v| v.is_number())
            .map(Value::to_string)
    };
    let range = |lo: Option<String>, hi: Option<String>, unit: &str| match (lo, hi) {
        (Some(a), Some(b)) if a == b => Some(format!("Exactly {a} {unit}.")),
        (Some(a), Some(b)) => Some(format!("Between {a} and {b} {unit}.")),
        (Some(a), None) => Some(format!("At least {a} {unit}.")),
        (None, Some(b)) => Some(format!("At most {b} {unit}.")),
        (None, None) => None,
    };
    let mut parts: Vec<String> = Vec::new();
    parts.extend(range(num("minLength"), num("maxLength"), "characters"));
    parts.extend(range(num("minItems"), num("maxItems"), "items"));
    let mut bounds = Vec::new();
    if let Some(v) = num("exclusiveMinimum") {
        bounds.push(format!("> {v}"));
    }
    if let Some(v) = num("minimum") {
        bounds.push(format!(">= {v}"));
    }
    if let Some(v) = num("exclusiveMaximum") {
        bounds.push(format!("< {v}"));
    }
    if let Some(v) = num("maximum") {
        bounds.push(format!("<= {v}"));
    }
    if !bounds.is_empty() {
        parts.push(format!("Must be {}.", bounds.join(" and ")));
    }
    if let Some(a) = target.get("x-biolm-alphabet") {
        let name = a.get("name").and_then(Value::as_str).unwrap_or("custom");
        let letters = a.get("letters").and_then(Value::as_str).unwrap_or("");
        let tokens: Vec<String> = a
            .get("tokens")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .map(|t| format!("`{t}`"))
                    .collect()
            })
            .unwrap_or_default();
        let extra = if tokens.is_empty() {
            String::new()
        } else {
            format!(" and the tokens {}", tokens.join(", "))
        };
        parts.push(format!(
            "Alphabet `{name}`: the characters `{letters}`{extra}."
        ));
    }
    if let Some(n) = target.get("x-biolm-max-residues").and_then(Value::as_u64) {
        parts.push(format!("At most {n} residues (separators not counted)."));
    }
    if let Some(counts) = target.get("x-biolm-token-count").and_then(Value::as_array) {
        for c in counts {
            let token = c.get("token").and_then(Value::as_str).unwrap_or("?");
            let range = range(
                c.get("min").map(Value::to_string),
                c.get("max").map(Value::to_string),
                "times",
            );
            if let Some(r) = range {
                let nc = if c.get("non_consecutive").and_then(Value::as_bool) == Some(true) {
                    ", never twice in a row"
                } else {
                    ""
                };
                parts.push(format!(
                    "`{token}` appears: {}{nc}.",
                    r.trim_end_matches('.').to_lowercase()
                ));
            }
        }
    }
    if let Some(aliases) = target.get("x-biolm-aliases").and_then(Value::as_array) {
        let names: Vec<String> = aliases
            .iter()
            .filter_map(Value::as_str)
            .map(|a| format!("`{a}`"))
            .collect();
        if !names.is_empty() {
            parts.push(format!(
                "The server also accepts the key {}.",
                names.join(", ")
            ));
        }
    }
    if let Some(d) = schema.get("default").filter(|d| !d.is_null()) {
        parts.push(format!("Server default: `{d}`."));
    }
    parts.join(" ")
}
