//! JSON Schema validation of request bodies, items and params, with BioLM's extension
//! rules.
//!
//! [`Validator::for_request`] compiles a request schema (the `{"items": [...],
//! "params": {...}}` body schema of one action) once; [`Validator::check_item`],
//! [`Validator::check_params`] and [`Validator::check_body`] then check values
//! against it, agreeing with pydantic 2 on the schemas pydantic emits.
//!
//! Every keyword the validator knows is in [`crate::keywords::KEYWORDS`] (what it
//! is, and whether the validator, the generator and the sandbox support it): the
//! assertions and applicators of JSON Schema 2020-12 that pydantic emits (types,
//! `enum`/`const`, lengths, `pattern` with ECMA-262 syntax, `format`, bounds and
//! `multipleOf`, array and object keywords, `anyOf`/`allOf`/`oneOf`/`not`,
//! `if`/`then`/`else`, `$ref` inside the document), draft-07's tuple `items` with
//! `additionalItems` and `dependencies`, and OpenAPI's `discriminator`. Annotations
//! (`title`, `description`, `default`, `examples`, `deprecated`, `readOnly`, ...) and
//! unknown `format`s are ignored. A keyword that changes what is valid but is not
//! supported (`unevaluatedProperties`, `$dynamicRef`, ...) or not known at all is
//! refused when compiling, so a schema is never half checked;
//! [`Validator::problems`] lists every such problem of a schema at once.
//!
//! The `x-biolm-*` rules (the server's validators as data: `x-biolm-strict`,
//! `x-biolm-alphabet`, `x-biolm-token-count`, `x-biolm-format`, `x-biolm-rules`,
//! `x-biolm-key-alphabet`, `x-biolm-aliases`, `x-biolm-lenient`,
//! `x-biolm-ignored-params`, `x-biolm-refusal-note`) are described in
//! `schemas/README.md`; the generic rule kinds live in `alphabet`, `textformat`,
//! `rules` and `refs`.
//!
//! Messages name the rule, the limit and the offending value (cut to 40
//! characters); character positions in them count from 1. Checking allocates
//! nothing for a value that passes (paths and messages are built only for
//! violations), except where a keyword needs it: `pattern` (the regex engine's match
//! record), `contentMediaType` (the parsed JSON) and `dependentSchemas`.

mod alphabet;
mod check;
mod compile;
mod format;
mod messages;
mod node;
pub(crate) mod pattern;
mod refs;
mod rules;
mod textformat;

use std::fmt::{self, Write as _};
use std::sync::Arc;

use serde_json::Value;

use check::{violation, Path, Seg};
use compile::Compiler;
use messages::describe;
use node::Compiled;

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
    pub(crate) fn new(pointer: impl Into<String>, message: impl Into<String>) -> SchemaError {
        SchemaError {
            pointer: pointer.into(),
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
    /// For a rule about one character of a string (an alphabet, a doubled token): its
    /// 0-based character index, so callers need not read it from the message.
    pub position: Option<usize>,
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

/// Compiles `schema` as a request schema: the root, with `properties.items` and
/// `properties.params` located; with `all_defs`, every `$defs` entry too (used or not).
fn compile_request(schema: &Value, all_defs: bool) -> (Compiled, Vec<SchemaError>) {
    let mut c = Compiler::new(schema);
    if !schema.is_object() {
        let err = SchemaError::new("", "a request schema must be a JSON object");
        let empty = Compiled {
            nodes: Vec::new(),
            root: None,
            item: None,
            params: None,
            min_items: None,
            max_items: None,
            strict: false,
            note: None,
        };
        return (empty, vec![err]);
    }
    let root = c.compile(schema, "");
    if all_defs {
        for key in ["$defs", "definitions"] {
            if let Some(Value::Object(defs)) = schema.get(key) {
                for name in defs.keys() {
                    let target = format!("#/{key}/{}", compile::escape(name));
                    if let Err(e) = c.reference(&target, "") {
                        c.errors.push(e);
                    }
                }
            }
        }
    }
    c.finish();
    c.check_cycles();
    node::link_bare_references(&mut c.nodes);
    let items = c.property(root, "items");
    let params = c.property(root, "params");
    // Follow $ref / nullable wrappers to the array node to read its limits and item schema.
    let array = items
        .and_then(|id| c.resolve_array(id))
        .and_then(|id| c.nodes.get(id));
    let (item, min_items, max_items) = match array {
        Some(node) => (node.items, node.min_items, node.max_items),
        None => (None, None, None),
    };
    let errors = std::mem::take(&mut c.errors);
    let compiled = Compiled {
        nodes: c.nodes,
        root: Some(root),
        item,
        params,
        min_items,
        max_items,
        strict: schema.get("x-biolm-strict").and_then(Value::as_bool) == Some(true),
        note: schema
            .get("x-biolm-refusal-note")
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    (compiled, errors)
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
    /// a keyword with a value of the wrong shape, an unsupported or unknown keyword, a
    /// pattern that does not compile, or a cycle of `$ref`/`anyOf` that never reaches
    /// a value (cycles through properties or items are fine). The error is the first
    /// problem in document order; [`Validator::problems`] lists all of them. Never
    /// panics, whatever the input.
    pub fn for_request(request_schema: &Value) -> Result<Validator, SchemaError> {
        let (compiled, errors) = compile_request(request_schema, false);
        match errors.into_iter().next() {
            Some(first) => Err(first),
            None => Ok(Validator {
                inner: Arc::new(compiled),
            }),
        }
    }

    /// Every problem that stops `request_schema` from compiling (empty when
    /// [`Validator::for_request`] succeeds), each with its JSON pointer. Unlike
    /// `for_request`, unused `$defs` entries are checked too.
    pub fn problems(request_schema: &Value) -> Vec<SchemaError> {
        compile_request(request_schema, true).1
    }

    /// Checks one request item against the schema of `properties.items.items`.
    /// Paths in the violations are relative to the item.
    pub fn check_item(&self, item: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        if let Some(id) = self.inner.item {
            self.inner.check(id, item, None, &mut out);
        }
        self.noted(out)
    }

    /// Checks one item together with the params it is sent with: [`Validator::check_item`]
    /// plus the request-level rules (`x-biolm-rules` on the body, such as MPNN's
    /// chains and residues named in params that must exist in the item's structure), as
    /// [`Validator::check_body`] applies them to a body holding this item. Paths are
    /// relative to the item, or start at `params` for a request-level rule.
    pub fn check_item_with_params(&self, item: &Value, params: &Value) -> Vec<Violation> {
        let mut out = self.check_item(item);
        let root = self
            .inner
            .root
            .and_then(|r| self.inner.nodes.get(r))
            .filter(|n| !n.rules.is_empty());
        if let (Some(node), Value::Object(_)) = (root, params) {
            let mut body = serde_json::Map::new();
            body.insert("items".into(), Value::Array(vec![item.clone()]));
            body.insert("params".into(), params.clone());
            let mut sink = check::Sink::Collect(Vec::new());
            rules::check_rules(node, &body, None, &mut sink);
            if let check::Sink::Collect(found) = sink {
                out.extend(self.noted(found));
            }
        }
        out
    }

    /// Checks a whole request body (`{"items": [...], "params": {...}}`) against the
    /// request schema: the batch limits, every item, the params and the body's own
    /// keys, as the server does. Paths start at the body (`items[3].sequence`).
    pub fn check_body(&self, body: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        if let Some(root) = self.inner.root {
            self.inner.check(root, body, None, &mut out);
        }
        self.noted(out)
    }

    /// Checks a params object against `properties.params`. `null` means "no params":
    /// it passes, except where the body must hold params ([`Validator::params_required`]),
    /// where "no params" is sent as `{}` and checked as such (the server's rules between
    /// params fields may refuse it). Without a params schema, only `{}` passes.
    pub fn check_params(&self, params: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        if params.is_null() {
            if self.params_required() {
                if let Some(id) = self.inner.params {
                    let empty = Value::Object(serde_json::Map::new());
                    self.inner.check(id, &empty, None, &mut out);
                }
            }
            return self.noted(out);
        }
        match self.inner.params {
            Some(id) => self.inner.check(id, params, None, &mut out),
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
        self.noted(out)
    }

    /// The keys of `params` that this variant's model drops without checking them
    /// (`x-biolm-ignored-params`: params of another variant of the family, which the
    /// gateway accepts). [`Validator::check_params`] accepts them; callers should warn.
    pub fn ignored_params(&self, params: &Value) -> Vec<String> {
        let (Some(id), Value::Object(map)) = (self.inner.params, params) else {
            return Vec::new();
        };
        let mut node = self.inner.nodes.get(id);
        for _ in 0..32 {
            match node {
                Some(n) if n.ignored_keys.is_empty() => {
                    node = n
                        .reference
                        .or(n.skip_to)
                        .and_then(|r| self.inner.nodes.get(r));
                }
                _ => break,
            }
        }
        let Some(node) = node else { return Vec::new() };
        map.keys()
            .filter(|k| node.ignored_keys.iter().any(|(i, _)| i == *k))
            .cloned()
            .collect()
    }

    /// Appends the schema's `x-biolm-refusal-note` (why the server refuses what this
    /// schema refuses) to every message.
    fn noted(&self, mut out: Vec<Violation>) -> Vec<Violation> {
        if let Some(note) = &self.inner.note {
            for v in &mut out {
                v.message.push_str(" (");
                v.message.push_str(note);
                v.message.push(')');
            }
        }
        out
    }

    /// Whether the request body must hold `params` (the root's `required` lists it).
    pub fn params_required(&self) -> bool {
        self.inner
            .root
            .and_then(|r| self.inner.nodes.get(r))
            .is_some_and(|n| n.required.iter().any(|k| k == "params"))
    }

    /// The most items per request (`properties.items.maxItems`), if stated.
    pub fn max_items(&self) -> Option<usize> {
        self.inner.max_items
    }

    /// The fewest items per request (`properties.items.minItems`), if stated.
    pub fn min_items(&self) -> Option<usize> {
        self.inner.min_items
    }
}

/// [`crate::keywords::audit`]: every problem of a whole schema document.
pub(crate) fn audit_document(schema: &Value) -> Vec<SchemaError> {
    match schema {
        Value::Bool(_) => Vec::new(),
        Value::Object(_) => compile_request(schema, true).1,
        _ => vec![SchemaError::new(
            "",
            "a schema must be an object or a boolean",
        )],
    }
}

/// The `format` values the validator checks (others are annotations).
pub(crate) fn checked_formats() -> &'static [&'static str] {
    format::Format::NAMES
}
