//! Shared pieces of the sandbox tests: where the schemas are, and a builder of
//! minimal valid request values from a request schema.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::{json, Map, Value};

/// The reference corpus (`../shared/reference/biolm-hub` from the project root).
pub fn reference_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("../shared/reference/biolm-hub");
    assert!(
        dir.join("index.json").is_file(),
        "reference corpus not found at {}",
        dir.display()
    );
    dir
}

/// The project's own schemas (`schemas/`).
pub fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

pub const PROTEIN: &str = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVVHSLAKWKRQTLGQHDFSAGEGLYTHMKALRPDEDRLSPLHSVYVDQWDWERVMGDGERQFSTLKSTVEAIWAGIKATEAAVSEEFGLAPFLPDQIHFVHSQELLSRYPDLDAKGRERAIAKDLGAVFLVGIGGKLSDGHRHDVRAPDYDDWSTPSELGHAGLNGDILVWNPVLEDAFELSSMGIRVDADTLKHQLALTGDEDRLELEWHQALLRGEMPQTIGGGIGQSRLTMLLLQLPHIGQVQAGVWPAACRESVPALL";
pub const DNA: &str = "ATGGCGTACGATCGATCGTAGCTAGCTAGGCTAACGTTAGCATCGATCGGCTAGCTAGCTAGCATCGATCGACTG";

/// A small PDB text (a few CA atoms).
pub fn pdb_text() -> String {
    let mut s = String::new();
    for (i, res) in ["MET", "LYS", "THR", "ALA", "TYR", "ILE", "ALA", "LYS"]
        .iter()
        .enumerate()
    {
        s.push_str(&format!(
            "ATOM  {:>5}  CA  {} A{:>4}    {:>8.3}{:>8.3}{:>8.3}  1.00 80.00           C\n",
            i + 1,
            res,
            i + 1,
            i as f64 * 3.8,
            0.0,
            0.0
        ));
    }
    s.push_str("END\n");
    s
}

/// Whether a family's sequences are nucleotides.
pub fn is_dna_family(family: &str) -> bool {
    matches!(
        family,
        "evo" | "evo2" | "dnabert2" | "omni-dna" | "dna-chisel"
    )
}

/// Builds minimal valid values from a request schema (`root` resolves `$ref`s).
pub struct Example<'a> {
    pub root: &'a Value,
    pub dna: bool,
    /// Sequences get this mask token (masked-LM `predict` actions: `<mask>`, or `?` for E1).
    pub mask: Option<&'static str>,
    /// Fill optional fields too (params: every include option on, every flag true).
    pub full: bool,
}

fn resolve<'v>(root: &'v Value, mut s: &'v Value) -> &'v Value {
    for _ in 0..16 {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            s = root
                .pointer(r.trim_start_matches('#'))
                .expect("a resolvable $ref");
            continue;
        }
        if let Some(arms) = s.get("anyOf").and_then(Value::as_array) {
            s = arms
                .iter()
                .find(|a| a.get("type").and_then(Value::as_str) != Some("null"))
                .unwrap_or(&arms[0]);
            continue;
        }
        break;
    }
    s
}

impl Example<'_> {
    /// A request body with `n` items (and params when required, or when `full`).
    pub fn body(&self, n: usize) -> Value {
        let s = resolve(self.root, self.root);
        let props = s["properties"].as_object().expect("request properties");
        let item_schema = &props["items"]["items"];
        let items: Vec<Value> = (0..n).map(|i| self.value(item_schema, "item", i)).collect();
        let mut body = Map::new();
        body.insert("items".into(), Value::Array(items));
        let required: Vec<&str> = s["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(p) = props.get("params") {
            if self.full || required.contains(&"params") {
                body.insert("params".into(), self.value(p, "params", 0));
            }
        }
        Value::Object(body)
    }

    fn string(&self, s: &Value, name: &str, variant: usize) -> Value {
        let min = s["minLength"].as_u64().unwrap_or(0) as usize;
        let max = s["maxLength"].as_u64().map_or(usize::MAX, |m| m as usize);
        let n = name.to_ascii_lowercase();
        let mut text = if n.contains("pdb") {
            pdb_text()
        } else if n.contains("cif") && !n.contains("path") {
            "data_x\n#\n".to_string()
        } else if n == "smiles" {
            "CCO".to_string()
        } else if n == "ec_number" {
            "1.1.1.1".to_string()
        } else if n.contains("sequence")
            || n.ends_with("_chain")
            || n.starts_with("tcr_")
            || n == "peptide"
            || n == "mhc"
            || n == "prompt"
            || n == "context"
            || n == "msa"
        {
            let base = if self.dna { DNA } else { PROTEIN };
            // Different items get different sequences (and lengths).
            let len = (12 + 5 * variant).min(base.len());
            let mut t = base[variant % 7..variant % 7 + len].to_string();
            if let (Some(token), false) = (self.mask, self.dna) {
                t.replace_range(3..4, token);
            }
            t
        } else {
            // Chain ids and anything else: one letter.
            "A".to_string()
        };
        if text.chars().count() > max {
            text = text.chars().take(max).collect();
            if text.contains('<') && !text.contains('>') {
                text = text.replace('<', "A");
            }
        }
        // `x-biolm-length`: a length the server checks in a validator.
        let min = min.max(
            s.pointer("/x-biolm-length/min")
                .and_then(Value::as_u64)
                .unwrap_or(0) as usize,
        );
        while text.chars().count() < min {
            text.push(if self.dna { 'A' } else { 'G' });
        }
        Value::String(text)
    }

    /// A valid value of schema `s` held by the property `name`.
    pub fn value(&self, s: &Value, name: &str, variant: usize) -> Value {
        // `x-biolm-length` may sit beside an `anyOf` that `resolve` steps into.
        let outer_min = s
            .pointer("/x-biolm-length/min")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        let mut v = self.value_of(s, name, variant);
        if let Value::String(t) = &mut v {
            while t.chars().count() < outer_min {
                t.push(if self.dna { 'A' } else { 'G' });
            }
        }
        v
    }

    fn value_of(&self, s: &Value, name: &str, variant: usize) -> Value {
        let s = resolve(self.root, s);
        if let Some(c) = s.get("const") {
            return c.clone();
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array) {
            return e[variant % e.len()].clone();
        }
        let ty = match s.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("null"),
            _ if s.get("properties").is_some() => "object",
            _ => "null",
        };
        match ty {
            "string" => self.string(s, name, variant),
            "integer" => {
                let lo = s["minimum"]
                    .as_i64()
                    .or(s["exclusiveMinimum"].as_f64().map(|x| x.floor() as i64 + 1));
                let hi = s["maximum"].as_i64();
                let v = lo.unwrap_or(1);
                json!(hi.map_or(v, |h| v.min(h)))
            }
            "number" => {
                let lo = s["minimum"]
                    .as_f64()
                    .or(s["exclusiveMinimum"].as_f64().map(|x| x + 0.25));
                let hi = s["maximum"]
                    .as_f64()
                    .or(s["exclusiveMaximum"].as_f64().map(|x| x - 0.25));
                let v = match (lo, hi) {
                    (Some(a), Some(b)) => (a + b) / 2.0,
                    (Some(a), None) => a + 0.5,
                    (None, Some(b)) => b - 0.5,
                    (None, None) => 0.5,
                };
                json!(v)
            }
            "boolean" => json!(self.full),
            "array" => {
                if let Some(prefix) = s.get("prefixItems").and_then(Value::as_array) {
                    return Value::Array(
                        prefix
                            .iter()
                            .enumerate()
                            .map(|(i, p)| self.value(p, name, i))
                            .collect(),
                    );
                }
                let min = s["minItems"].as_u64().unwrap_or(0) as usize;
                let max = s["maxItems"].as_u64().map_or(usize::MAX, |m| m as usize);
                let item = s.get("items").unwrap_or(&Value::Null);
                let item_r = resolve(self.root, item);
                // With `full`, an include list names every option (unless the server
                // forces it empty: `x-biolm-length: {"max": 0}`).
                let forced_empty =
                    s.pointer("/x-biolm-length/max").and_then(Value::as_u64) == Some(0);
                if self.full && name == "include" && !forced_empty {
                    if let Some(e) = item_r.get("enum").and_then(Value::as_array) {
                        let mut all: Vec<Value> = Vec::new();
                        for v in e {
                            if !all.contains(v) {
                                all.push(v.clone());
                            }
                        }
                        return Value::Array(all);
                    }
                }
                let max = max.min(
                    s.pointer("/x-biolm-length/max")
                        .and_then(Value::as_u64)
                        .map_or(usize::MAX, |m| m as usize),
                );
                let n = min.max(if self.full || min > 0 { 1 } else { 0 }).min(max);
                if name == "repr_layers" || name == "embedding_layers" {
                    return json!([-1]);
                }
                Value::Array(
                    (0..n)
                        .map(|i| self.value(item, name, variant + i))
                        .collect(),
                )
            }
            "object" => {
                let mut out = Map::new();
                let required: Vec<&str> = s["required"]
                    .as_array()
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if let Some(props) = s.get("properties").and_then(Value::as_object) {
                    for (k, sub) in props {
                        let fill_optional = self.full && name == "params" && {
                            let r = resolve(self.root, sub);
                            k == "include"
                                || r.get("type").and_then(Value::as_str) == Some("boolean")
                        };
                        if required.contains(&k.as_str()) || fill_optional {
                            out.insert(k.clone(), self.value(sub, k, variant));
                        }
                    }
                    self.satisfy_rules(s, props, &mut out, variant);
                }
                Value::Object(out)
            }
            _ => Value::Null,
        }
    }
}

impl Example<'_> {
    /// Makes an object satisfy its `x-biolm-rules` (the server's cross-field rules):
    /// fills the first group of an `any-group` rule when no group is complete, and puts
    /// the required token of a `combined` rule into the first field of its group.
    fn satisfy_rules(
        &self,
        s: &Value,
        props: &Map<String, Value>,
        out: &mut Map<String, Value>,
        variant: usize,
    ) {
        let Some(rules) = s.get("x-biolm-rules").and_then(Value::as_array) else {
            return;
        };
        let group = |g: &Value| -> Vec<String> {
            g.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        for rule in rules {
            let groups: Vec<Vec<String>> = rule
                .get("groups")
                .and_then(Value::as_array)
                .map(|gs| gs.iter().map(group).collect())
                .unwrap_or_default();
            match rule.get("kind").and_then(Value::as_str) {
                Some("any-group") => {
                    let complete = groups
                        .iter()
                        .any(|g| g.iter().all(|f| out.get(f).is_some_and(|v| !v.is_null())));
                    if let (false, Some(first)) = (complete, groups.first()) {
                        for f in first {
                            if let Some(sub) = props.get(f) {
                                out.insert(f.clone(), self.value(sub, f, variant));
                            }
                        }
                    }
                }
                Some("combined") => {
                    let token = rule
                        .pointer("/token-count/0/token")
                        .and_then(Value::as_str)
                        .unwrap_or("*");
                    let Some(first) = groups.first() else {
                        continue;
                    };
                    if !first.iter().all(|f| out.contains_key(f)) {
                        for f in first {
                            if let Some(sub) = props.get(f) {
                                out.insert(f.clone(), self.value(sub, f, variant));
                            }
                        }
                    }
                    let has = first.iter().any(|f| {
                        out.get(f)
                            .and_then(Value::as_str)
                            .is_some_and(|t| t.contains(token))
                    });
                    if let (false, Some(f)) = (has, first.first()) {
                        if let Some(Value::String(t)) = out.get_mut(f) {
                            if t.len() > 4 {
                                t.replace_range(3..4, token);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// jsonschema errors of `value` against `schema`, rendered.
pub fn schema_errors(schema: &Value, value: &Value) -> Vec<String> {
    let v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(schema)
        .expect("schema compiles");
    v.iter_errors(value)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}
