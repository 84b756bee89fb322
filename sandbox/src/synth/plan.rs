//! Compiling a response JSON Schema into a [`Node`] tree once, at start-up.
//!
//! The tree knows, for every value the response holds, how to make one: its
//! type and limits from the schema, and its size and meaning from the field
//! name (an `embedding` vector has the variant's embedding width, `contacts` is
//! L x L, a `pdb` string is a PDB file of the input's residues, ...).

use serde_json::{Map, Value};

/// How many elements an array gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Len {
    /// Exactly this many.
    Fixed(usize),
    /// One per residue of the item's input.
    Residues,
    /// The variant's embedding width.
    Dim,
    /// One per vocabulary token.
    Vocab,
    /// One per requested layer (`repr_layers`).
    Layers,
    /// One per requested sample (`num_samples` and the like).
    Samples,
}

/// What an integer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntRole {
    /// The item's index in the request (`sequence_index`).
    ItemIndex,
    /// The index in the enclosing array (`sample_idx`).
    Position,
    /// The requested layer at this position (`layer`).
    Layer,
    /// The input's residue count (`sequence_length`).
    Length,
    /// A 1-based residue number inside a per-residue array (`Numbering`): position + 1.
    ResidueIndex,
    /// One of the input's residue numbers, 1-based (`position`).
    ResidueNumber,
    /// Anything else: a value inside the limits.
    Generic,
}

/// What a string means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrRole {
    Pdb,
    Cif,
    /// A protein or nucleotide sequence (`generated`: of the requested length).
    Sequence {
        generated: bool,
    },
    /// The vocabulary token at the enclosing array position.
    VocabToken,
    /// The input residue at the enclosing array position.
    InputToken,
    /// A chain identifier.
    Chain,
    /// One residue letter.
    Residue,
    /// A point mutation like `A12G`.
    Mutation,
    /// Anything else.
    Generic,
}

/// A generator for one JSON value.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Null,
    Bool,
    /// `explicit`: the limits come from the schema (else they only bound generic values).
    Int {
        min: i64,
        max: i64,
        role: IntRole,
        explicit: bool,
    },
    /// A number in `lo..=hi` ten-thousandths.
    Num {
        lo: i64,
        hi: i64,
    },
    Str {
        role: StrRole,
        min_len: usize,
        max_len: usize,
    },
    /// One of these JSON texts.
    Choice(Vec<String>),
    Array {
        item: Box<Node>,
        len: Len,
        min: usize,
        max: usize,
    },
    Tuple(Vec<Node>),
    Object {
        fields: Vec<Field>,
        map: Option<MapSpec>,
    },
    /// The `results` list: one `item` per request item (or per sample list).
    Results(Box<Node>),
    /// A schema that allows anything.
    Any,
}

/// One property of an object.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    /// `"name":`, escaped.
    pub(crate) key: String,
    pub(crate) node: Node,
    /// Optional fields may be switched off by request params (index into the gate table).
    pub(crate) gate: Option<usize>,
}

/// Entries of a map-like object (`additionalProperties: {schema}`).
#[derive(Debug, Clone)]
pub(crate) struct MapSpec {
    /// `"key":` texts, escaped.
    pub(crate) keys: Vec<String>,
    pub(crate) value: Box<Node>,
}

/// Request params that switch optional response fields on and off.
#[derive(Debug, Clone, Default)]
pub(crate) struct GateTable {
    /// Name of the enum-valued selector param (`include`, `pooling`), if any.
    pub(crate) selector: Option<String>,
    /// The selector's options.
    pub(crate) options: Vec<String>,
    /// Options on when the request does not set the selector.
    pub(crate) default_options: Vec<String>,
    /// Boolean params (`include_pae`, `return_energy_matrix`) with their defaults.
    pub(crate) flags: Vec<(String, bool)>,
}

impl GateTable {
    /// Gate index for a response field: options first, then flags.
    fn gate_for(&self, field: &str) -> Option<usize> {
        let f = field.to_ascii_lowercase();
        if let Some(i) = self.options.iter().position(|o| option_matches(o, &f)) {
            return Some(i);
        }
        self.flags
            .iter()
            .position(|(p, _)| flag_matches(p, &f))
            .map(|i| self.options.len() + i)
    }

    /// Which gates are on for `params` (options, then flags).
    pub(crate) fn resolve(&self, params: Option<&Value>) -> Vec<bool> {
        let mut on = vec![false; self.options.len() + self.flags.len()];
        let chosen: Vec<&str> = match (self.selector.as_deref(), params) {
            (Some(sel), Some(p)) if p.get(sel).is_some_and(|v| !v.is_null()) => match p.get(sel) {
                Some(Value::String(s)) => vec![s.as_str()],
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            },
            _ => self.default_options.iter().map(String::as_str).collect(),
        };
        for (i, o) in self.options.iter().enumerate() {
            on[i] = chosen.contains(&o.as_str());
        }
        for (i, (name, default)) in self.flags.iter().enumerate() {
            let v = params
                .and_then(|p| p.get(name))
                .and_then(Value::as_bool)
                .unwrap_or(*default);
            on[self.options.len() + i] = v;
        }
        on
    }
}

fn singular(s: &str) -> &str {
    s.strip_suffix('s').unwrap_or(s)
}

fn option_matches(option: &str, field: &str) -> bool {
    let synonyms: &[&str] = match option {
        "mean" => &["embeddings", "embedding", "mean", "mean_representation"],
        "seqcoding" => &["embeddings", "embedding"],
        "per_residue" | "rescoding" => &["residue_embeddings", "per_token_embeddings"],
        "bos" => &["bos_embeddings"],
        "cls" => &["cls_embeddings"],
        "logits" => &["logits", "vocab_tokens"],
        _ => &[],
    };
    synonyms.contains(&field)
        || singular(field) == singular(option)
        || field == format!("{option}_embeddings")
}

fn flag_matches(param: &str, field: &str) -> bool {
    let p = param.to_ascii_lowercase();
    let stem = p
        .strip_prefix("include_")
        .or_else(|| p.strip_prefix("return_"))
        .unwrap_or(&p);
    singular(stem) == singular(field)
}

/// Compiles schemas of one document (resolving `#/$defs/...` against `root`).
pub(crate) struct Compiler<'a> {
    root: &'a Value,
    gates: &'a GateTable,
    stack: Vec<String>,
}

/// Follows `$ref`, single-arm `anyOf`/`oneOf`/`allOf` and `type: [.., "null"]`.
pub(crate) fn resolve<'v>(root: &'v Value, mut s: &'v Value) -> &'v Value {
    for _ in 0..32 {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            match lookup_ref(root, r) {
                Some(t) => {
                    s = t;
                    continue;
                }
                None => return s,
            }
        }
        let arms = s
            .get("anyOf")
            .or_else(|| s.get("oneOf"))
            .and_then(Value::as_array);
        if let Some(arms) = arms {
            if let Some(first) = arms
                .iter()
                .find(|a| a.get("type").and_then(Value::as_str) != Some("null"))
            {
                s = first;
                continue;
            }
        }
        if let Some([one]) = s.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            s = one;
            continue;
        }
        return s;
    }
    s
}

/// `#/$defs/Name` (or any local JSON pointer) inside `root`.
pub(crate) fn lookup_ref<'v>(root: &'v Value, r: &str) -> Option<&'v Value> {
    let pointer = r.strip_prefix('#')?;
    root.pointer(pointer)
}

fn schema_type(s: &Value) -> Option<&str> {
    match s.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => {
            if s.get("properties").is_some() || s.get("additionalProperties").is_some() {
                Some("object")
            } else if s.get("items").is_some() || s.get("prefixItems").is_some() {
                Some("array")
            } else {
                None
            }
        }
    }
}

fn u(s: &Value, key: &str) -> Option<u64> {
    s.get(key).and_then(Value::as_u64)
}

fn f(s: &Value, key: &str) -> Option<f64> {
    s.get(key).and_then(Value::as_f64)
}

/// `"key":` with the key escaped.
pub(crate) fn key_text(key: &str) -> String {
    let mut out = serde_json::to_string(key).unwrap_or_else(|_| "\"\"".to_string());
    out.push(':');
    out
}

impl<'a> Compiler<'a> {
    pub(crate) fn new(root: &'a Value, gates: &'a GateTable) -> Self {
        Compiler {
            root,
            gates,
            stack: Vec::new(),
        }
    }

    /// The root response schema: an object whose `results` array gets one entry per item.
    pub(crate) fn compile_response(&mut self) -> Node {
        let root = self.root;
        let s = resolve(root, root);
        let Some(props) = s.get("properties").and_then(Value::as_object) else {
            return self.compile(s, "", None);
        };
        let mut fields = Vec::new();
        for (name, sub) in props {
            let node = if name == "results" {
                let rs = resolve(root, sub);
                let item = rs
                    .get("items")
                    .map(|i| resolve(root, i))
                    .unwrap_or(&Value::Null);
                let mut per_item = self.compile(item, "results", None);
                if let Node::Array { len, .. } = &mut per_item {
                    *len = Len::Samples;
                }
                Node::Results(Box::new(per_item))
            } else {
                self.compile(sub, name, None)
            };
            fields.push(Field {
                key: key_text(name),
                node,
                gate: None,
            });
        }
        Node::Object { fields, map: None }
    }

    /// Compiles `s`, the schema of a value held by the property `name`. `dims`
    /// carries the remaining array dimensions when inside a nested array.
    fn compile(&mut self, s: &Value, name: &str, dims: Option<&[Len]>) -> Node {
        // Track $ref cycles: a recursive definition stops at its second visit.
        let mut pushed = false;
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            if self.stack.iter().any(|x| x == r) {
                return Node::Null;
            }
            self.stack.push(r.to_string());
            pushed = true;
        }
        let node = self.compile_resolved(resolve(self.root, s), name, dims);
        if pushed {
            self.stack.pop();
        }
        node
    }

    fn compile_resolved(&mut self, s: &Value, name: &str, dims: Option<&[Len]>) -> Node {
        if let Some(c) = s.get("const") {
            return Node::Choice(vec![c.to_string()]);
        }
        if let Some(values) = s.get("enum").and_then(Value::as_array) {
            let mut texts: Vec<String> = Vec::new();
            for v in values {
                let t = v.to_string();
                if !texts.contains(&t) {
                    texts.push(t);
                }
            }
            if !texts.is_empty() {
                return Node::Choice(texts);
            }
        }
        let lname = name.to_ascii_lowercase();
        match schema_type(s) {
            Some("null") => Node::Null,
            Some("boolean") => Node::Bool,
            Some("integer") => self.integer(s, &lname, dims.is_some()),
            Some("number") => number(s, &lname),
            Some("string") => string(s, &lname, dims.is_some()),
            Some("array") => self.array(s, name, &lname, dims),
            Some("object") => self.object(s, &lname),
            _ => Node::Any,
        }
    }

    fn integer(&self, s: &Value, name: &str, in_array: bool) -> Node {
        let role = match name {
            "numbering" | "pdb_posins" | "residue_index" if in_array => IntRole::ResidueIndex,
            "position" | "position1" | "position2" | "residue_number" => IntRole::ResidueNumber,
            "sequence_index" => IntRole::ItemIndex,
            "sample_idx" | "sample_index" => IntRole::Position,
            "layer" => IntRole::Layer,
            "sequence_length" => IntRole::Length,
            _ => IntRole::Generic,
        };
        let mut min = s.get("minimum").and_then(Value::as_i64);
        let mut max = s.get("maximum").and_then(Value::as_i64);
        if let Some(x) = f(s, "exclusiveMinimum") {
            min = Some(x.floor() as i64 + 1);
        }
        if let Some(x) = f(s, "exclusiveMaximum") {
            max = Some(x.ceil() as i64 - 1);
        }
        let explicit = min.is_some() || max.is_some();
        let (min, max) = match (min, max) {
            (Some(a), Some(b)) => (a, b.max(a)),
            (Some(a), None) => (a, a.saturating_add(100)),
            (None, Some(b)) => (b.saturating_sub(100).min(b.max(0)), b),
            (None, None) => (0, 99),
        };
        Node::Int {
            min,
            max,
            role,
            explicit,
        }
    }

    fn array(&mut self, s: &Value, name: &str, lname: &str, dims: Option<&[Len]>) -> Node {
        let min = u(s, "minItems").unwrap_or(0) as usize;
        let max = u(s, "maxItems").map_or(usize::MAX, |m| m as usize);
        if let Some(prefix) = s.get("prefixItems").and_then(Value::as_array) {
            let items = prefix
                .iter()
                .map(|p| self.compile(p, name, Some(&[])))
                .collect();
            return Node::Tuple(items);
        }
        let item_schema = s.get("items").unwrap_or(&Value::Null);
        let owned;
        let dims = match dims {
            Some(d) if !d.is_empty() => d,
            _ => {
                owned = self.dims_for(s, lname);
                &owned[..]
            }
        };
        let (len, rest) = match dims.split_first() {
            Some((first, rest)) => (*first, rest),
            None => (Len::Fixed(2), &[][..]),
        };
        let item = self.compile(item_schema, name, Some(rest));
        Node::Array {
            item: Box::new(item),
            len,
            min,
            max,
        }
    }

    /// The sizes of each dimension of a (possibly nested) array held by `name`.
    fn dims_for(&self, s: &Value, name: &str) -> Vec<Len> {
        // Walk down the nesting to find its depth and the leaf type.
        let mut depth = 0;
        let mut cur = s;
        while schema_type(cur) == Some("array") && cur.get("prefixItems").is_none() && depth < 8 {
            depth += 1;
            cur = match cur.get("items") {
                Some(i) => resolve(self.root, i),
                None => break,
            };
        }
        let leaf = schema_type(cur).unwrap_or("");
        let has = |w: &str| name.contains(w);
        let vector = has("embedding") || name == "mean" || name == "last" || has("representation");
        match (leaf, depth) {
            ("number" | "integer", 1) => vec![if vector { Len::Dim } else { Len::Residues }],
            ("number" | "integer", 2) => {
                if has("embedding") {
                    vec![Len::Residues, Len::Dim]
                } else if has("contact") || has("pae") || has("matrix") || has("distance") {
                    vec![Len::Residues, Len::Residues]
                } else if has("attention") {
                    vec![Len::Fixed(2), Len::Residues]
                } else if has("logit") || has("prob") || name == "values" {
                    vec![Len::Residues, Len::Vocab]
                } else {
                    vec![Len::Residues, Len::Fixed(3)]
                }
            }
            ("number" | "integer", 3) if has("attention") => {
                vec![Len::Fixed(2), Len::Residues, Len::Residues]
            }
            ("string", 1) => {
                if has("vocab") || has("amino_acid_axis") || has("alphabet") {
                    vec![Len::Vocab]
                } else if has("token")
                    || has("residue")
                    || name == "pdb_chain"
                    || name == "pdb_res"
                    || name == "top_res"
                    || name == "insertion"
                    || name == "number_alignment"
                {
                    vec![Len::Residues]
                } else {
                    vec![Len::Fixed(2)]
                }
            }
            ("object", 1) => {
                let has_layer = cur
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|p| p.contains_key("layer"));
                let per_sample = matches!(name, "sequences" | "samples" | "designs" | "structures");
                vec![if has_layer {
                    Len::Layers
                } else if per_sample {
                    Len::Samples
                } else {
                    Len::Fixed(2)
                }]
            }
            _ => {
                let mut d = vec![Len::Residues];
                d.resize(depth.max(1), Len::Fixed(2));
                d
            }
        }
    }

    fn object(&mut self, s: &Value, _name: &str) -> Node {
        let empty = Map::new();
        let props = s
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let required: Vec<&str> = s
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut fields = Vec::with_capacity(props.len());
        for (key, sub) in props {
            let node = self.compile(sub, key, None);
            let gate = if required.contains(&key.as_str()) {
                None
            } else {
                self.gates.gate_for(key)
            };
            fields.push(Field {
                key: key_text(key),
                node,
                gate,
            });
        }
        let mut map = None;
        if props.is_empty() {
            let keys = self.map_keys(s);
            let value_schema = s
                .get("additionalProperties")
                .filter(|v| v.is_object())
                .or_else(|| {
                    s.get("patternProperties")
                        .and_then(Value::as_object)
                        .and_then(|p| p.values().next())
                });
            if let (Some(value_schema), false) = (value_schema, keys.is_empty()) {
                let value = self.compile(value_schema, "value", None);
                map = Some(MapSpec {
                    keys: keys.iter().map(|k| key_text(k)).collect(),
                    value: Box::new(value),
                });
            }
        }
        Node::Object { fields, map }
    }

    /// Keys for a map-like object: from `propertyNames` enums, a `patternProperties`
    /// pattern, or two chain-like names.
    fn map_keys(&self, s: &Value) -> Vec<String> {
        let min = u(s, "minProperties").unwrap_or(0) as usize;
        let max = u(s, "maxProperties").map_or(usize::MAX, |m| m as usize);
        let want = 2usize.clamp(min, max.max(min));
        if let Some(names) = s.get("propertyNames") {
            let names = resolve(self.root, names);
            if let Some(values) = names.get("enum").and_then(Value::as_array) {
                let mut keys: Vec<String> = Vec::new();
                for v in values.iter().filter_map(Value::as_str) {
                    if !keys.iter().any(|k| k == v) {
                        keys.push(v.to_string());
                    }
                }
                keys.truncate(want.max(1));
                return keys;
            }
        }
        if let Some(patterns) = s.get("patternProperties").and_then(Value::as_object) {
            if s.get("additionalProperties").is_none_or(|a| !a.is_object()) {
                return patterns
                    .keys()
                    .filter_map(|p| example_for_pattern(p))
                    .take(want.max(1))
                    .collect();
            }
        }
        (0..want)
            .map(|i| char::from(b'A' + (i % 26) as u8).to_string())
            .collect()
    }
}

fn number(s: &Value, name: &str) -> Node {
    let has = |w: &str| name.contains(w);
    let (dlo, dhi) = if has("embedding")
        || has("logit")
        || name == "mean"
        || name == "last"
        || name == "value"
    {
        (-1.0, 1.0)
    } else if has("log_prob") || has("logprob") || name.starts_with("ll_") || has("log_likelihood")
    {
        (-4.0, -0.01)
    } else if has("plddt") {
        (50.0, 95.0)
    } else if has("rmsd") || has("distance") {
        (0.5, 6.0)
    } else if has("ddg") || has("energy") {
        (-3.0, 3.0)
    } else {
        (0.0, 1.0)
    };
    let tick = |x: f64| (x * 10_000.0).clamp(-9.0e15, 9.0e15);
    let upper = f(s, "maximum")
        .map(|m| tick(m).floor() as i64)
        .or(f(s, "exclusiveMaximum").map(|m| tick(m).ceil() as i64 - 1));
    let lower = f(s, "minimum")
        .map(|m| tick(m).ceil() as i64)
        .or(f(s, "exclusiveMinimum").map(|m| tick(m).floor() as i64 + 1));
    let (dlo, dhi) = (tick(dlo) as i64, tick(dhi) as i64);
    let (lo, hi) = match (lower, upper) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, if a >= dhi { a + 10_000 } else { dhi }),
        (None, Some(b)) => (if b <= dlo { b - 10_000 } else { dlo }, b),
        (None, None) => (dlo, dhi),
    };
    Node::Num { lo, hi: hi.max(lo) }
}

fn string(s: &Value, name: &str, in_array: bool) -> Node {
    let min_len = u(s, "minLength").unwrap_or(0) as usize;
    let max_len = u(s, "maxLength").map_or(usize::MAX, |m| m as usize);
    let role = if in_array {
        if name.contains("vocab") || name.contains("amino_acid_axis") {
            StrRole::VocabToken
        } else if name.contains("token")
            || name == "pdb_res"
            || name == "top_res"
            || name.contains("residue_axis")
        {
            StrRole::InputToken
        } else if name.contains("chain") {
            StrRole::Chain
        } else if name.contains("mutation") {
            StrRole::Mutation
        } else {
            StrRole::Generic
        }
    } else if name.contains("cif") {
        StrRole::Cif
    } else if name.contains("pdb") {
        StrRole::Pdb
    } else if name == "generated" {
        StrRole::Sequence { generated: true }
    } else if name.starts_with("sequence")
        || name.ends_with("_chain") && !name.starts_with("pdb")
        || name.ends_with("_aa_gaps")
        || name.ends_with("_aa_no_gaps")
    {
        StrRole::Sequence { generated: false }
    } else if name.starts_with("chain") {
        StrRole::Chain
    } else if name.starts_with("wildtype") || name.starts_with("mutation_aa") || name == "token_str"
    {
        StrRole::Residue
    } else if name.starts_with("mutation") {
        StrRole::Mutation
    } else {
        StrRole::Generic
    };
    Node::Str {
        role,
        min_len,
        max_len: max_len.max(min_len),
    }
}

/// A string matching a simple anchored pattern such as `^esm1v-n[1-5]$`
/// (literals, `[...]` classes, `\d`); `None` for anything richer.
pub(crate) fn example_for_pattern(pattern: &str) -> Option<String> {
    let p = pattern.strip_prefix('^').unwrap_or(pattern);
    let p = p.strip_suffix('$').unwrap_or(p);
    let mut out = String::new();
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                let first = chars.next()?;
                let first = if first == '^' { return None } else { first };
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                }
                out.push(first);
            }
            '\\' => match chars.next()? {
                'd' => out.push('1'),
                'w' => out.push('a'),
                c @ ('.' | '-' | '_' | '/' | '\\') => out.push(c),
                _ => return None,
            },
            '.' | '*' | '+' | '?' | '(' | ')' | '|' | '{' | '}' | '^' | '$' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_examples() {
        assert_eq!(
            example_for_pattern("^esm1v-n[1-5]$").as_deref(),
            Some("esm1v-n1")
        );
        assert_eq!(example_for_pattern(r"^A\d$").as_deref(), Some("A1"));
        assert_eq!(example_for_pattern("^(a|b)$"), None);
    }

    #[test]
    fn include_gates_follow_params_and_defaults() {
        let gates = GateTable {
            selector: Some("include".into()),
            options: vec!["mean".into(), "per_residue".into(), "contacts".into()],
            default_options: vec!["mean".into()],
            flags: vec![("include_pae".into(), false)],
        };
        assert_eq!(gates.gate_for("embeddings"), Some(0));
        assert_eq!(gates.gate_for("residue_embeddings"), Some(1));
        assert_eq!(gates.gate_for("contacts"), Some(2));
        assert_eq!(gates.gate_for("pae"), Some(3));
        assert_eq!(gates.gate_for("sequence_index"), None);
        assert_eq!(gates.resolve(None), vec![true, false, false, false]);
        let p: Value = serde_json::json!({"include": ["contacts"], "include_pae": true});
        assert_eq!(gates.resolve(Some(&p)), vec![false, false, true, true]);
    }
}
