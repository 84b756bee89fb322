//! JSON Schema validation of request items and params, with BioLM's extension rules.
//!
//! [`Validator::for_request`] compiles a request schema (the `{"items": [...],
//! "params": {...}}` body schema of one action) once; [`Validator::check_item`] and
//! [`Validator::check_params`] then check values against it. The subset of JSON
//! Schema understood is the one the catalog uses: `type` (also as a list), `enum`,
//! `const`, `minLength`/`maxLength` (counted in characters), `minimum`/`maximum`/
//! `exclusiveMinimum`/`exclusiveMaximum`, `minItems`/`maxItems`, `required`,
//! `properties`, `additionalProperties` (boolean or schema), `patternProperties`,
//! `propertyNames`, `items`, `prefixItems`, `anyOf`/`allOf`/`oneOf` and `$ref` to
//! a JSON pointer in the same document (`#/$defs/...`). Annotations (`title`,
//! `description`, `default`, `examples`) are ignored. Any other keyword that
//! changes what is valid (`not`, `if`, `format`, ...) is refused when compiling,
//! so a schema is never half checked.
//!
//! The `x-biolm-*` rules (`x-biolm-alphabet`, `x-biolm-token-count`,
//! `x-biolm-max-residues`, `x-biolm-aliases`, `x-biolm-lenient`) are described in
//! `schemas/README.md`.
//!
//! Messages name the rule, the limit and the offending value (cut to 40
//! characters); character positions in them count from 1. Checking allocates
//! nothing for a value that passes (paths and messages are built only for
//! violations).

mod pattern;

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use serde_json::{Map, Value};

use pattern::Pattern;

/// A request schema that cannot be compiled.
///
/// `pointer` is the JSON pointer of the offending node in the schema document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schema error at {}: {message}", if pointer.is_empty() { "the root" } else { pointer.as_str() })]
pub struct SchemaError {
    /// JSON pointer of the offending node (`""` for the root).
    pub pointer: String,
    /// What is wrong with it.
    pub message: String,
}

impl SchemaError {
    fn new(pointer: &str, message: impl Into<String>) -> SchemaError {
        SchemaError {
            pointer: pointer.to_string(),
            message: message.into(),
        }
    }
}

/// One step of the path to a value inside an item or params object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSegment {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// One way in which a value breaks the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where, relative to the checked item (or params object); empty for the value itself.
    pub path: Vec<PathSegment>,
    /// What is wrong: the rule, the limit and the offending value.
    pub message: String,
}

impl Violation {
    /// The path as written in code: `chains[0].id` (empty for the value itself).
    pub fn dotted_path(&self) -> String {
        dotted(&self.path)
    }

    /// The path as the platform writes it in error keys: `chains__0__id`.
    pub fn wire_path(&self) -> String {
        wire(&self.path)
    }
}

/// Renders a path as the platform's error keys do: `chains__0__id`.
pub fn wire(path: &[PathSegment]) -> String {
    let mut out = String::new();
    for (i, seg) in path.iter().enumerate() {
        if i > 0 {
            out.push_str("__");
        }
        match seg {
            PathSegment::Key(k) => out.push_str(k),
            PathSegment::Index(n) => {
                let _ = write!(out, "{n}");
            }
        }
    }
    out
}

/// Renders a path as `chains[0].id`.
pub fn dotted(path: &[PathSegment]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSegment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathSegment::Index(n) => {
                let _ = write!(out, "[{n}]");
            }
        }
    }
    out
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.dotted_path(), self.message)
        }
    }
}

// ------------------------------------------------------------------ compiled form

type NodeId = usize;

/// Deepest nesting of a schema document, and longest chain of `$ref`/`anyOf` steps,
/// that compile (the corpus needs fewer than 10).
const MAX_DEPTH: usize = 64;

/// Most steps (`$ref` hops and descents into the value) a check may take in depth.
const MAX_WALK: usize = 512;

const T_NULL: u8 = 1;
const T_BOOL: u8 = 2;
const T_INT: u8 = 4;
const T_NUM: u8 = 8;
const T_STR: u8 = 16;
const T_ARR: u8 = 32;
const T_OBJ: u8 = 64;

#[derive(Debug, Clone, Default)]
enum Additional {
    #[default]
    Allow,
    Deny,
    Schema(NodeId),
}

#[derive(Debug, Clone)]
struct Alphabet {
    name: String,
    letters: String,
    /// ASCII letters as a bitmap; non-ASCII letters are looked up in `letters`.
    ascii: [bool; 128],
    tokens: Vec<String>,
    /// First characters of tokens (to try a token only where one could start).
    token_starts: Vec<char>,
}

impl Alphabet {
    fn allows(&self, c: char) -> bool {
        if c.is_ascii() {
            self.ascii[c as usize]
        } else {
            self.letters.contains(c)
        }
    }
}

#[derive(Debug, Clone)]
struct TokenCount {
    token: String,
    min: Option<usize>,
    max: Option<usize>,
    non_consecutive: bool,
}

#[derive(Debug, Clone, Default)]
struct Node {
    types: Option<u8>,
    enum_values: Option<Vec<Value>>,
    const_value: Option<Value>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    exclusive_minimum: Option<f64>,
    exclusive_maximum: Option<f64>,
    min_items: Option<usize>,
    max_items: Option<usize>,
    required: Vec<String>,
    properties: Vec<(String, NodeId)>,
    /// alias key -> index into `properties`.
    aliases: Vec<(String, usize)>,
    additional: Additional,
    pattern_properties: Vec<(Pattern, NodeId)>,
    property_names: Option<NodeId>,
    items: Option<NodeId>,
    prefix_items: Vec<NodeId>,
    any_of: Vec<NodeId>,
    all_of: Vec<NodeId>,
    one_of: Vec<NodeId>,
    reference: Option<NodeId>,
    alphabet: Option<Alphabet>,
    token_counts: Vec<TokenCount>,
    max_residues: Option<usize>,
    lenient: bool,
}

#[derive(Debug)]
struct Compiled {
    nodes: Vec<Node>,
    item: Option<NodeId>,
    params: Option<NodeId>,
    min_items: Option<usize>,
    max_items: Option<usize>,
}

/// A compiled request schema. `Send + Sync`; clones share the compiled form.
#[derive(Debug, Clone)]
pub struct Validator {
    inner: Arc<Compiled>,
}

impl Validator {
    /// Compiles the request schema of one action.
    ///
    /// Errors (with the JSON pointer of the node) for a `$ref` that does not resolve,
    /// a keyword with a value of the wrong shape, an unsupported keyword, or a cycle
    /// of `$ref`/`anyOf` that never reaches a value (cycles through properties or
    /// items are fine). Never panics, whatever the input.
    pub fn for_request(request_schema: &Value) -> Result<Validator, SchemaError> {
        let mut c = Compiler {
            root: request_schema,
            nodes: Vec::new(),
            by_pointer: HashMap::new(),
            pending: Vec::new(),
            depth: 0,
        };
        let root = request_schema
            .as_object()
            .ok_or_else(|| SchemaError::new("", "a request schema must be a JSON object"))?;
        let props = match root.get("properties") {
            None => None,
            Some(Value::Object(p)) => Some(p),
            Some(_) => {
                return Err(SchemaError::new(
                    "/properties",
                    "`properties` must be an object",
                ))
            }
        };
        let items = match props.and_then(|p| p.get("items")) {
            Some(items) => Some(c.compile(items, "/properties/items")?),
            None => None,
        };
        let params = match props.and_then(|p| p.get("params")) {
            Some(p) => Some(c.compile(p, "/properties/params")?),
            None => None,
        };
        c.finish()?;
        c.check_cycles()?;
        // Follow $ref / nullable wrappers to the array node to read its limits and item schema.
        let array = items
            .and_then(|id| c.resolve_array(id))
            .and_then(|id| c.nodes.get(id));
        let (item, min_items, max_items) = match array {
            Some(node) => (node.items, node.min_items, node.max_items),
            None => (None, None, None),
        };
        Ok(Validator {
            inner: Arc::new(Compiled {
                nodes: c.nodes,
                item,
                params,
                min_items,
                max_items,
            }),
        })
    }

    /// Checks one request item against the schema of `properties.items.items`.
    /// Paths in the violations are relative to the item.
    pub fn check_item(&self, item: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        if let Some(id) = self.inner.item {
            self.check(id, item, None, &mut out);
        }
        out
    }

    /// Checks a params object against `properties.params`. `null` means "no params"
    /// and always passes. Without a params schema, only `{}` passes.
    pub fn check_params(&self, params: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        if params.is_null() {
            return out;
        }
        match self.inner.params {
            Some(id) => self.check(id, params, None, &mut out),
            None => match params.as_object() {
                Some(map) => {
                    for key in map.keys() {
                        let path = Path {
                            parent: None,
                            seg: Seg::Key(key),
                        };
                        out.push(violation(
                            Some(&path),
                            "is not a known setting: this action takes no params".to_string(),
                        ));
                    }
                }
                None => out.push(violation(
                    None,
                    format!("params must be an object, got {}", describe(params)),
                )),
            },
        }
        out
    }

    /// The most items per request (`properties.items.maxItems`), if stated.
    pub fn max_items(&self) -> Option<usize> {
        self.inner.max_items
    }

    /// The fewest items per request (`properties.items.minItems`), if stated.
    pub fn min_items(&self) -> Option<usize> {
        self.inner.min_items
    }

    /// Whether `value` passes `id` (no messages built).
    fn passes(&self, id: NodeId, value: &Value) -> bool {
        let mut sink = Sink::Probe(false);
        self.walk(id, value, None, &mut sink, 0);
        matches!(sink, Sink::Probe(false))
    }

    fn check(&self, id: NodeId, value: &Value, path: Option<&Path<'_>>, out: &mut Vec<Violation>) {
        let mut sink = Sink::Collect(std::mem::take(out));
        self.walk(id, value, path, &mut sink, 0);
        if let Sink::Collect(v) = sink {
            *out = v;
        }
    }

    fn walk(
        &self,
        id: NodeId,
        value: &Value,
        path: Option<&Path<'_>>,
        sink: &mut Sink,
        depth: usize,
    ) {
        let Some(node) = self.inner.nodes.get(id) else {
            return;
        };
        if depth > MAX_WALK {
            sink.push(path, || {
                format!("is nested too deeply to check (more than {MAX_WALK} levels)")
            });
            return;
        }
        if let Some(types) = node.types {
            if !type_matches(types, value) {
                sink.push(path, || {
                    format!("must be {}, got {}", type_names(types), describe(value))
                });
                return;
            }
        }
        if node.lenient {
            return;
        }
        if let Some(r) = node.reference {
            self.walk(r, value, path, sink, depth + 1);
            if sink.failed_probe() {
                return;
            }
        }
        if let Some(values) = &node.enum_values {
            if !values.iter().any(|v| json_eq(v, value)) {
                sink.push(path, || {
                    let mut allowed: Vec<String> = Vec::new();
                    for v in values {
                        let s = short(v);
                        if !allowed.contains(&s) {
                            allowed.push(s);
                        }
                    }
                    format!(
                        "{} is not one of the allowed values: {}",
                        short(value),
                        allowed.join(", ")
                    )
                });
            }
        }
        if let Some(c) = &node.const_value {
            if !json_eq(c, value) {
                sink.push(path, || {
                    format!("must be {}, got {}", short(c), short(value))
                });
            }
        }
        match value {
            Value::String(s) => self.check_string(node, s, path, sink),
            Value::Number(n) => check_number(node, n, path, sink),
            Value::Array(a) => self.check_array(node, a, path, sink, depth),
            Value::Object(m) => self.check_object(node, m, path, sink, depth),
            _ => {}
        }
        if !node.all_of.is_empty() {
            for &arm in &node.all_of {
                self.walk(arm, value, path, sink, depth + 1);
            }
        }
        if !node.any_of.is_empty() && !node.any_of.iter().any(|&arm| self.passes(arm, value)) {
            self.explain_union(&node.any_of, value, path, sink, depth);
        }
        if !node.one_of.is_empty() {
            let n = node
                .one_of
                .iter()
                .filter(|&&arm| self.passes(arm, value))
                .count();
            if n == 0 {
                self.explain_union(&node.one_of, value, path, sink, depth);
            } else if n > 1 {
                sink.push(path, || {
                    format!("matches {n} of the allowed forms, but exactly one is required")
                });
            }
        }
    }

    /// No arm of a union matched: report the arm of the value's own JSON type when
    /// there is exactly one (the usual "X or null"), else list the forms.
    fn explain_union(
        &self,
        arms: &[NodeId],
        value: &Value,
        path: Option<&Path<'_>>,
        sink: &mut Sink,
        depth: usize,
    ) {
        if let Sink::Probe(failed) = sink {
            *failed = true;
            return;
        }
        let same_type: Vec<NodeId> = arms
            .iter()
            .copied()
            .filter(|&a| self.arm_types(a).is_none_or(|t| type_matches(t, value)))
            .collect();
        if let [only] = same_type.as_slice() {
            self.walk(*only, value, path, sink, depth + 1);
            return;
        }
        let mut forms: Vec<String> = Vec::new();
        for &a in arms {
            let f = match self.arm_types(a) {
                Some(t) => type_names(t),
                None => "a value of another form".to_string(),
            };
            if !forms.contains(&f) {
                forms.push(f);
            }
        }
        sink.push(path, || {
            format!(
                "{} matches none of the allowed forms: {}",
                short(value),
                forms.join("; ")
            )
        });
    }

    /// The JSON types an arm accepts, following `$ref`s.
    fn arm_types(&self, mut id: NodeId) -> Option<u8> {
        for _ in 0..32 {
            let node = self.inner.nodes.get(id)?;
            if let Some(t) = node.types {
                return Some(t);
            }
            if let Some(values) = &node.enum_values {
                return Some(values.iter().fold(0, |acc, v| acc | value_type(v)));
            }
            id = node.reference?;
        }
        None
    }

    fn check_string(&self, node: &Node, s: &str, path: Option<&Path<'_>>, sink: &mut Sink) {
        if node.min_length.is_some() || node.max_length.is_some() {
            let len = s.chars().count();
            if let Some(min) = node.min_length {
                if len < min {
                    sink.push(path, || {
                        format!("is {len} characters, fewer than the {min} required")
                    });
                }
            }
            if let Some(max) = node.max_length {
                if len > max {
                    sink.push(path, || {
                        format!("is {len} characters, more than the {max} allowed")
                    });
                }
            }
        }
        if let Some(alpha) = &node.alphabet {
            check_alphabet(alpha, s, path, sink);
        }
        let mut separators = 0usize;
        for rule in &node.token_counts {
            if rule.token.is_empty() {
                continue;
            }
            let count = s.matches(rule.token.as_str()).count();
            separators += count * rule.token.chars().count();
            if let Some(min) = rule.min {
                if count < min {
                    sink.push(path, || {
                        format!(
                            "contains {:?} {count} time{}, at least {min} required",
                            rule.token,
                            plural(count)
                        )
                    });
                }
            }
            if let Some(max) = rule.max {
                if count > max {
                    sink.push(path, || {
                        format!(
                            "contains {:?} {count} times, at most {max} allowed",
                            rule.token
                        )
                    });
                }
            }
            if rule.non_consecutive {
                if let Some(pos) = find_doubled(s, &rule.token) {
                    sink.push(path, || {
                        format!(
                            "has {:?} twice in a row at position {}; it may not repeat",
                            rule.token,
                            pos + 1
                        )
                    });
                }
            }
        }
        if let Some(max) = node.max_residues {
            let residues = s.chars().count().saturating_sub(separators);
            if residues > max {
                sink.push(path, || {
                    let seps: Vec<String> = node
                        .token_counts
                        .iter()
                        .map(|t| format!("{:?}", t.token))
                        .collect();
                    if seps.is_empty() {
                        format!("has {residues} residues, more than the {max} allowed")
                    } else {
                        format!(
                            "has {residues} residues, more than the {max} allowed ({} not counted)",
                            seps.join(", ")
                        )
                    }
                });
            }
        }
    }

    fn check_array(
        &self,
        node: &Node,
        a: &[Value],
        path: Option<&Path<'_>>,
        sink: &mut Sink,
        depth: usize,
    ) {
        let n = a.len();
        if let Some(min) = node.min_items {
            if n < min {
                sink.push(path, || {
                    format!("has {n} entr{}, fewer than the {min} required", ies(n))
                });
            }
        }
        if let Some(max) = node.max_items {
            if n > max {
                sink.push(path, || {
                    format!("has {n} entr{}, more than the {max} allowed", ies(n))
                });
            }
        }
        for (i, v) in a.iter().enumerate() {
            let schema = match node.prefix_items.get(i) {
                Some(&p) => Some(p),
                None => node.items,
            };
            if let Some(s) = schema {
                let p = Path {
                    parent: path,
                    seg: Seg::Index(i),
                };
                self.walk(s, v, Some(&p), sink, depth + 1);
                if sink.failed_probe() {
                    return;
                }
            }
        }
    }

    fn check_object(
        &self,
        node: &Node,
        m: &Map<String, Value>,
        path: Option<&Path<'_>>,
        sink: &mut Sink,
        depth: usize,
    ) {
        for name in &node.required {
            if m.contains_key(name) {
                continue;
            }
            let via_alias = node.aliases.iter().any(|(alias, idx)| {
                node.properties.get(*idx).is_some_and(|(p, _)| p == name) && m.contains_key(alias)
            });
            if !via_alias {
                let p = Path {
                    parent: path,
                    seg: Seg::Key(name),
                };
                sink.push(Some(&p), || "is required but missing".to_string());
            }
        }
        for (key, v) in m {
            let p = Path {
                parent: path,
                seg: Seg::Key(key),
            };
            if let Some(names) = node.property_names {
                let key_value = Value::String(key.clone());
                if !self.passes(names, &key_value) {
                    sink.push(Some(&p), || {
                        let mut inner = Vec::new();
                        self.check(names, &key_value, None, &mut inner);
                        let why = inner.first().map(|v| v.message.clone()).unwrap_or_default();
                        format!("is not an allowed key: {why}")
                    });
                }
            }
            let mut matched = false;
            if let Some((_, id)) = node.properties.iter().find(|(name, _)| name == key) {
                matched = true;
                self.walk(*id, v, Some(&p), sink, depth + 1);
            } else if let Some((_, idx)) = node.aliases.iter().find(|(alias, _)| alias == key) {
                if let Some((_, id)) = node.properties.get(*idx) {
                    matched = true;
                    self.walk(*id, v, Some(&p), sink, depth + 1);
                }
            }
            for (pat, id) in &node.pattern_properties {
                if pat.is_match(key) {
                    matched = true;
                    self.walk(*id, v, Some(&p), sink, depth + 1);
                }
            }
            if !matched {
                match node.additional {
                    Additional::Allow => {}
                    Additional::Deny => sink.push(Some(&p), || {
                        let mut known: Vec<&str> =
                            node.properties.iter().map(|(n, _)| n.as_str()).collect();
                        known.extend(node.aliases.iter().map(|(a, _)| a.as_str()));
                        if known.is_empty() {
                            "is not a known field (this object takes no fields)".to_string()
                        } else {
                            format!("is not a known field (known: {})", known.join(", "))
                        }
                    }),
                    Additional::Schema(id) => self.walk(id, v, Some(&p), sink, depth + 1),
                }
            }
            if sink.failed_probe() {
                return;
            }
        }
    }
}

// ------------------------------------------------------------------ checking helpers

/// Where violations go: collected with messages, or only noted (for `anyOf` probes).
enum Sink {
    Collect(Vec<Violation>),
    Probe(bool),
}

impl Sink {
    fn push(&mut self, path: Option<&Path<'_>>, message: impl FnOnce() -> String) {
        match self {
            Sink::Collect(v) => v.push(violation(path, message())),
            Sink::Probe(failed) => *failed = true,
        }
    }

    fn failed_probe(&self) -> bool {
        matches!(self, Sink::Probe(true))
    }
}

/// A path kept on the stack while walking; turned into a `Vec` only for a violation.
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    seg: Seg<'a>,
}

enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn violation(path: Option<&Path<'_>>, message: String) -> Violation {
    let mut segs = Vec::new();
    let mut cur = path;
    while let Some(p) = cur {
        segs.push(match p.seg {
            Seg::Key(k) => PathSegment::Key(k.to_string()),
            Seg::Index(i) => PathSegment::Index(i),
        });
        cur = p.parent;
    }
    segs.reverse();
    Violation {
        path: segs,
        message,
    }
}

fn check_alphabet(alpha: &Alphabet, s: &str, path: Option<&Path<'_>>, sink: &mut Sink) {
    let mut rest = s;
    let mut pos = 0usize; // in characters
    while let Some(c) = rest.chars().next() {
        if !alpha.token_starts.is_empty() && alpha.token_starts.contains(&c) {
            if let Some(tok) = alpha.tokens.iter().find(|t| rest.starts_with(t.as_str())) {
                pos += tok.chars().count();
                rest = &rest[tok.len()..];
                continue;
            }
        }
        if !alpha.allows(c) {
            sink.push(path, || {
                let mut rule = format!("alphabet {}: {}", alpha.name, alpha.letters);
                if !alpha.tokens.is_empty() {
                    let _ = write!(rule, ", tokens {}", alpha.tokens.join(" "));
                }
                format!(
                    "character {c:?} at position {} is not allowed ({rule})",
                    pos + 1
                )
            });
            return;
        }
        pos += 1;
        rest = &rest[c.len_utf8()..];
    }
}

/// Character position of the first `token token` in `s`.
fn find_doubled(s: &str, token: &str) -> Option<usize> {
    let mut i = 0;
    while let Some(off) = s[i..].find(token) {
        let at = i + off;
        if s[at + token.len()..].starts_with(token) {
            return Some(s[..at].chars().count());
        }
        i = at + token.len();
    }
    None
}

fn check_number(node: &Node, n: &serde_json::Number, path: Option<&Path<'_>>, sink: &mut Sink) {
    let Some(x) = n.as_f64() else { return };
    if let Some(min) = node.minimum {
        if x < min {
            sink.push(path, || {
                format!("is {n}, less than the minimum {}", num(min))
            });
        }
    }
    if let Some(max) = node.maximum {
        if x > max {
            sink.push(path, || {
                format!("is {n}, more than the maximum {}", num(max))
            });
        }
    }
    if let Some(min) = node.exclusive_minimum {
        if x <= min {
            sink.push(path, || {
                format!("is {n}, but must be greater than {}", num(min))
            });
        }
    }
    if let Some(max) = node.exclusive_maximum {
        if x >= max {
            sink.push(path, || {
                format!("is {n}, but must be less than {}", num(max))
            });
        }
    }
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn ies(n: usize) -> &'static str {
    if n == 1 {
        "y"
    } else {
        "ies"
    }
}

fn value_type(v: &Value) -> u8 {
    match v {
        Value::Null => T_NULL,
        Value::Bool(_) => T_BOOL,
        Value::Number(n) => {
            if is_integer(n) {
                T_INT | T_NUM
            } else {
                T_NUM
            }
        }
        Value::String(_) => T_STR,
        Value::Array(_) => T_ARR,
        Value::Object(_) => T_OBJ,
    }
}

fn is_integer(n: &serde_json::Number) -> bool {
    n.is_i64()
        || n.is_u64()
        || n.as_f64()
            .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

fn type_matches(types: u8, v: &Value) -> bool {
    value_type(v) & types != 0
}

fn type_names(types: u8) -> String {
    let mut names = Vec::new();
    for (bit, name) in [
        (T_STR, "a string"),
        (T_INT, "an integer"),
        (T_NUM, "a number"),
        (T_BOOL, "a boolean"),
        (T_ARR, "a list"),
        (T_OBJ, "an object"),
        (T_NULL, "null"),
    ] {
        if types & bit != 0 && !(bit == T_INT && types & T_NUM != 0) {
            names.push(name);
        }
    }
    match names.as_slice() {
        [] => "nothing".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// `a string "abc"`, `a number 3.5`, `a list of 3 entries`, ...
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => format!("the string {}", short(v)),
        Value::Array(a) => format!("a list of {} entr{}", a.len(), ies(a.len())),
        Value::Object(m) => format!("an object with {} field{}", m.len(), plural(m.len())),
    }
}

/// A value as JSON, cut to 40 characters.
fn short(v: &Value) -> String {
    let text = match v {
        Value::Array(_) | Value::Object(_) => describe(v),
        _ => v.to_string(),
    };
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// JSON equality where 1 and 1.0 are equal (JSON Schema's rule).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

// ------------------------------------------------------------------ compiling

struct Compiler<'a> {
    root: &'a Value,
    nodes: Vec<Node>,
    /// `$ref` targets already compiled (or being compiled), by JSON pointer.
    by_pointer: HashMap<String, NodeId>,
    /// `$ref` targets reserved but not compiled yet: (schema, pointer, slot).
    pending: Vec<(&'a Value, String, NodeId)>,
    /// Current nesting of `compile` calls (bounded, so a hostile schema cannot overflow the stack).
    depth: usize,
}

const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "default",
    "examples",
    "$defs",
    "definitions",
    "$schema",
    "$id",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
];

impl<'a> Compiler<'a> {
    fn compile(&mut self, schema: &'a Value, pointer: &str) -> Result<NodeId, SchemaError> {
        if self.depth >= MAX_DEPTH {
            return Err(SchemaError::new(
                pointer,
                format!(
                    "the schema nests more than {MAX_DEPTH} levels deep (subschemas and `$ref`s)"
                ),
            ));
        }
        self.depth += 1;
        let result = self.compile_inner(schema, pointer);
        self.depth -= 1;
        result
    }

    fn compile_inner(&mut self, schema: &'a Value, pointer: &str) -> Result<NodeId, SchemaError> {
        let id = self.nodes.len();
        self.nodes.push(Node::default());
        let node = match schema {
            Value::Bool(true) => Node::default(),
            Value::Bool(false) => Node {
                types: Some(0),
                ..Node::default()
            },
            Value::Object(map) => self.compile_object(map, pointer)?,
            _ => {
                return Err(SchemaError::new(
                    pointer,
                    "a schema must be an object or a boolean",
                ))
            }
        };
        self.nodes[id] = node;
        Ok(id)
    }

    fn compile_object(
        &mut self,
        map: &'a Map<String, Value>,
        pointer: &str,
    ) -> Result<Node, SchemaError> {
        let mut node = Node::default();
        for (key, value) in map {
            let at = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
            match key.as_str() {
                "type" => node.types = Some(parse_types(value, &at)?),
                "enum" => {
                    let values = value
                        .as_array()
                        .ok_or_else(|| SchemaError::new(&at, "`enum` must be a list"))?;
                    node.enum_values = Some(values.clone());
                }
                "const" => node.const_value = Some(value.clone()),
                "minLength" => node.min_length = Some(count(value, &at)?),
                "maxLength" => node.max_length = Some(count(value, &at)?),
                "minItems" => node.min_items = Some(count(value, &at)?),
                "maxItems" => node.max_items = Some(count(value, &at)?),
                "minimum" => node.minimum = Some(number(value, &at)?),
                "maximum" => node.maximum = Some(number(value, &at)?),
                "exclusiveMinimum" => node.exclusive_minimum = Some(number(value, &at)?),
                "exclusiveMaximum" => node.exclusive_maximum = Some(number(value, &at)?),
                "required" => {
                    let list = value.as_array().ok_or_else(|| {
                        SchemaError::new(&at, "`required` must be a list of names")
                    })?;
                    for (i, v) in list.iter().enumerate() {
                        let name = v.as_str().ok_or_else(|| {
                            SchemaError::new(
                                &format!("{at}/{i}"),
                                "a required name must be a string",
                            )
                        })?;
                        node.required.push(name.to_string());
                    }
                }
                "properties" => {
                    let props = value
                        .as_object()
                        .ok_or_else(|| SchemaError::new(&at, "`properties` must be an object"))?;
                    for (name, sub) in props {
                        let sub_at = format!("{at}/{}", name.replace('~', "~0").replace('/', "~1"));
                        let id = self.compile(sub, &sub_at)?;
                        node.properties.push((name.clone(), id));
                    }
                }
                "additionalProperties" => {
                    node.additional = match value {
                        Value::Bool(true) => Additional::Allow,
                        Value::Bool(false) => Additional::Deny,
                        Value::Object(_) => Additional::Schema(self.compile(value, &at)?),
                        _ => {
                            return Err(SchemaError::new(
                                &at,
                                "`additionalProperties` must be a boolean or a schema",
                            ))
                        }
                    }
                }
                "patternProperties" => {
                    let pats = value.as_object().ok_or_else(|| {
                        SchemaError::new(&at, "`patternProperties` must be an object")
                    })?;
                    for (pat, sub) in pats {
                        let sub_at = format!("{at}/{}", pat.replace('~', "~0").replace('/', "~1"));
                        let compiled = Pattern::new(pat).map_err(|e| {
                            SchemaError::new(&sub_at, format!("pattern {pat:?}: {e}"))
                        })?;
                        let id = self.compile(sub, &sub_at)?;
                        node.pattern_properties.push((compiled, id));
                    }
                }
                "propertyNames" => node.property_names = Some(self.compile(value, &at)?),
                "items" => node.items = Some(self.compile(value, &at)?),
                "prefixItems" => {
                    let list = value
                        .as_array()
                        .ok_or_else(|| SchemaError::new(&at, "`prefixItems` must be a list"))?;
                    for (i, sub) in list.iter().enumerate() {
                        let id = self.compile(sub, &format!("{at}/{i}"))?;
                        node.prefix_items.push(id);
                    }
                }
                "anyOf" | "allOf" | "oneOf" => {
                    let list = value
                        .as_array()
                        .ok_or_else(|| SchemaError::new(&at, format!("`{key}` must be a list")))?;
                    if list.is_empty() {
                        return Err(SchemaError::new(&at, format!("`{key}` must not be empty")));
                    }
                    let mut ids = Vec::with_capacity(list.len());
                    for (i, sub) in list.iter().enumerate() {
                        ids.push(self.compile(sub, &format!("{at}/{i}"))?);
                    }
                    match key.as_str() {
                        "anyOf" => node.any_of = ids,
                        "allOf" => node.all_of = ids,
                        _ => node.one_of = ids,
                    }
                }
                "$ref" => {
                    let target = value
                        .as_str()
                        .ok_or_else(|| SchemaError::new(&at, "`$ref` must be a string"))?;
                    node.reference = Some(self.reference(target, &at)?);
                }
                "x-biolm-alphabet" => node.alphabet = Some(parse_alphabet(value, &at)?),
                "x-biolm-token-count" => node.token_counts = parse_token_counts(value, &at)?,
                "x-biolm-max-residues" => node.max_residues = Some(count(value, &at)?),
                "x-biolm-lenient" => {
                    node.lenient = value
                        .as_bool()
                        .ok_or_else(|| SchemaError::new(&at, "must be true or false"))?
                }
                "x-biolm-aliases" => {}
                k if ANNOTATIONS.contains(&k) => {}
                k if k.starts_with("x-biolm-") => {
                    return Err(SchemaError::new(
                        &at,
                        format!("unknown extension key `{k}` (see schemas/README.md)"),
                    ))
                }
                k if k.starts_with("x-") => {}
                k => {
                    return Err(SchemaError::new(
                        &at,
                        format!("keyword `{k}` is not supported by the local validator"),
                    ))
                }
            }
        }
        // Aliases need the property list, so they are read last.
        if let Some(Value::Object(props)) = map.get("properties") {
            for (name, sub) in props {
                let Some(aliases) = sub.get("x-biolm-aliases") else {
                    continue;
                };
                let at = format!("{pointer}/properties/{name}/x-biolm-aliases");
                let list = aliases
                    .as_array()
                    .ok_or_else(|| SchemaError::new(&at, "must be a list of keys"))?;
                let idx = node
                    .properties
                    .iter()
                    .position(|(n, _)| n == name)
                    .unwrap_or(0);
                for (i, a) in list.iter().enumerate() {
                    let a = a.as_str().ok_or_else(|| {
                        SchemaError::new(&format!("{at}/{i}"), "an alias must be a string")
                    })?;
                    node.aliases.push((a.to_string(), idx));
                }
            }
        }
        Ok(node)
    }

    fn reference(&mut self, target: &str, at: &str) -> Result<NodeId, SchemaError> {
        let pointer = target.strip_prefix('#').ok_or_else(|| {
            SchemaError::new(
                at,
                format!(
                    "`$ref` {target:?}: only references inside the document (#/...) are supported"
                ),
            )
        })?;
        if let Some(&id) = self.by_pointer.get(pointer) {
            return Ok(id);
        }
        let decoded = percent_decode(pointer);
        let schema = self.root.pointer(&decoded).ok_or_else(|| {
            SchemaError::new(
                at,
                format!("`$ref` {target:?} points to nothing in this document"),
            )
        })?;
        // Reserve the slot now (recursive references find it) and compile the target
        // later, from `finish`, so that chains of `$ref`s never deepen the recursion.
        let id = self.nodes.len();
        self.nodes.push(Node::default());
        self.by_pointer.insert(pointer.to_string(), id);
        self.pending.push((schema, decoded, id));
        Ok(id)
    }

    /// Compiles the `$ref` targets met so far (and those they refer to).
    fn finish(&mut self) -> Result<(), SchemaError> {
        while let Some((schema, pointer, id)) = self.pending.pop() {
            let inner = self.compile(schema, &pointer)?;
            if let Some(slot) = self.nodes.get_mut(id) {
                *slot = Node {
                    reference: Some(inner),
                    ..Node::default()
                };
            }
        }
        Ok(())
    }

    /// The array node behind `properties.items`, looking through `$ref` and `anyOf` with null.
    fn resolve_array(&self, mut id: NodeId) -> Option<NodeId> {
        for _ in 0..32 {
            let node = self.nodes.get(id)?;
            if node.items.is_some() || node.types.is_some_and(|t| t & T_ARR != 0) {
                return Some(id);
            }
            id = match (node.reference, node.any_of.as_slice()) {
                (Some(r), _) => r,
                (None, arms) => *arms
                    .iter()
                    .find(|&&a| self.nodes.get(a).is_some_and(|n| n.types != Some(T_NULL)))?,
            };
        }
        None
    }

    /// Refuses cycles that revisit a node without moving into the value
    /// (`$ref`, `anyOf`, `allOf`, `oneOf` edges), which would never terminate.
    fn check_cycles(&self) -> Result<(), SchemaError> {
        // 0 = unvisited, 1 = on the stack, 2 = done
        let mut state = vec![0u8; self.nodes.len()];
        for start in 0..self.nodes.len() {
            if state[start] != 0 {
                continue;
            }
            let mut stack: Vec<(NodeId, usize)> = vec![(start, 0)];
            state[start] = 1;
            while let Some(top) = stack.last_mut() {
                let (id, next) = *top;
                let edges = self.same_value_edges(id);
                let Some(&to) = edges.get(next) else {
                    state[id] = 2;
                    stack.pop();
                    continue;
                };
                top.1 += 1;
                match state.get(to) {
                    Some(1) => {
                        let name = self
                            .by_pointer
                            .iter()
                            .find(|(_, &v)| v == to)
                            .map(|(k, _)| k.clone())
                            .unwrap_or_default();
                        return Err(SchemaError::new(
                            &name,
                            "this definition refers back to itself without describing any value (a `$ref`/`anyOf` cycle)",
                        ));
                    }
                    Some(0) => {
                        if stack.len() >= MAX_DEPTH {
                            return Err(SchemaError::new(
                                "",
                                format!("more than {MAX_DEPTH} `$ref`/`anyOf` steps without reaching a value"),
                            ));
                        }
                        state[to] = 1;
                        stack.push((to, 0));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn same_value_edges(&self, id: NodeId) -> Vec<NodeId> {
        let Some(n) = self.nodes.get(id) else {
            return Vec::new();
        };
        let mut out: Vec<NodeId> = n.reference.into_iter().collect();
        out.extend(&n.any_of);
        out.extend(&n.all_of);
        out.extend(&n.one_of);
        out
    }
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            if let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_types(value: &Value, at: &str) -> Result<u8, SchemaError> {
    fn one(name: &str, at: &str) -> Result<u8, SchemaError> {
        Ok(match name {
            "null" => T_NULL,
            "boolean" => T_BOOL,
            "integer" => T_INT,
            "number" => T_NUM | T_INT,
            "string" => T_STR,
            "array" => T_ARR,
            "object" => T_OBJ,
            other => return Err(SchemaError::new(at, format!("unknown type {other:?}"))),
        })
    }
    match value {
        Value::String(s) => one(s, at),
        Value::Array(list) => {
            let mut t = 0;
            for (i, v) in list.iter().enumerate() {
                let s = v.as_str().ok_or_else(|| {
                    SchemaError::new(&format!("{at}/{i}"), "a type name must be a string")
                })?;
                t |= one(s, &format!("{at}/{i}"))?;
            }
            Ok(t)
        }
        _ => Err(SchemaError::new(
            at,
            "`type` must be a type name or a list of them",
        )),
    }
}

fn count(value: &Value, at: &str) -> Result<usize, SchemaError> {
    value
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| SchemaError::new(at, "must be a non-negative integer"))
}

fn number(value: &Value, at: &str) -> Result<f64, SchemaError> {
    value
        .as_f64()
        .ok_or_else(|| SchemaError::new(at, "must be a number"))
}

fn parse_alphabet(value: &Value, at: &str) -> Result<Alphabet, SchemaError> {
    let map = value
        .as_object()
        .ok_or_else(|| SchemaError::new(at, "must be an object with `name` and `letters`"))?;
    let name = map
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| SchemaError::new(&format!("{at}/name"), "must be a string"))?;
    let letters = map
        .get("letters")
        .and_then(Value::as_str)
        .ok_or_else(|| SchemaError::new(&format!("{at}/letters"), "must be a string"))?;
    let mut tokens = Vec::new();
    if let Some(t) = map.get("tokens") {
        let list = t.as_array().ok_or_else(|| {
            SchemaError::new(&format!("{at}/tokens"), "must be a list of strings")
        })?;
        for (i, v) in list.iter().enumerate() {
            match v.as_str() {
                Some(s) if !s.is_empty() => tokens.push(s.to_string()),
                _ => {
                    return Err(SchemaError::new(
                        &format!("{at}/tokens/{i}"),
                        "a token must be a non-empty string",
                    ))
                }
            }
        }
    }
    for key in map.keys() {
        if !matches!(key.as_str(), "name" | "letters" | "tokens") {
            return Err(SchemaError::new(
                &format!("{at}/{key}"),
                format!("unknown alphabet key `{key}`"),
            ));
        }
    }
    let mut ascii = [false; 128];
    for c in letters.chars() {
        if c.is_ascii() {
            ascii[c as usize] = true;
        }
    }
    let mut token_starts: Vec<char> = tokens.iter().filter_map(|t| t.chars().next()).collect();
    token_starts.dedup();
    Ok(Alphabet {
        name: name.to_string(),
        letters: letters.to_string(),
        ascii,
        tokens,
        token_starts,
    })
}

fn parse_token_counts(value: &Value, at: &str) -> Result<Vec<TokenCount>, SchemaError> {
    let list = value
        .as_array()
        .ok_or_else(|| SchemaError::new(at, "must be a list of token rules"))?;
    let mut out = Vec::with_capacity(list.len());
    for (i, rule) in list.iter().enumerate() {
        let rat = format!("{at}/{i}");
        let map = rule
            .as_object()
            .ok_or_else(|| SchemaError::new(&rat, "a token rule must be an object"))?;
        let token = match map.get("token").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => t.to_string(),
            _ => {
                return Err(SchemaError::new(
                    &format!("{rat}/token"),
                    "must be a non-empty string",
                ))
            }
        };
        let mut tc = TokenCount {
            token,
            min: None,
            max: None,
            non_consecutive: false,
        };
        for (k, v) in map {
            let kat = format!("{rat}/{k}");
            match k.as_str() {
                "token" => {}
                "min" => tc.min = Some(count(v, &kat)?),
                "max" => tc.max = Some(count(v, &kat)?),
                "non_consecutive" => {
                    tc.non_consecutive = v
                        .as_bool()
                        .ok_or_else(|| SchemaError::new(&kat, "must be true or false"))?
                }
                other => {
                    return Err(SchemaError::new(
                        &kat,
                        format!("unknown token rule key `{other}`"),
                    ))
                }
            }
        }
        out.push(tc);
    }
    Ok(out)
}
