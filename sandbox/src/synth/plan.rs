//! Compiling a response JSON Schema into a [`Plan`] once, at start-up: a graph of
//! generator nodes (an arena, so recursive `$ref`s are cycles, not infinite trees)
//! that knows, for every value the response holds, how to make one that validates.
//!
//! Every construct pydantic emits is understood: `$ref` (recursion included),
//! `anyOf`/`oneOf` (with discriminators, `unions.rs`), `allOf` (merged, `merge.rs`),
//! `const`, enums, tuples, maps, and the limits of numbers, strings, arrays and
//! objects. What cannot be satisfied, or is not understood, is reported as a
//! [`PlanError`] with the JSON pointer of the schema node, never half generated.

use std::collections::HashMap;

use serde_json::Value;

use super::domain::{GateTable, Len};
use super::numbers::{self, IntSpec, NumSpec};
use super::objects::ObjectSpec;
use super::strings::{self, StrSpec};
use biolm_catalog::allof::{self, constrains, lookup_ref};

/// Index of a node in [`Plan::nodes`].
pub(crate) type NodeId = usize;

/// Deepest nesting of schema nodes compiled (beyond it the schema is refused).
const MAX_DEPTH: usize = 96;

/// A generator for one JSON value.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Null,
    /// A schema that allows anything: `null`.
    Any,
    Bool,
    Int(IntSpec),
    Num(NumSpec),
    Str(StrSpec),
    /// One of these JSON texts.
    Choice(Vec<String>),
    Array {
        item: NodeId,
        len: Len,
        min: usize,
        max: usize,
        unique: bool,
    },
    /// `prefixItems` (or draft-07 `items: [..]`), then `rest` for later positions.
    Tuple {
        prefix: Vec<NodeId>,
        rest: Option<NodeId>,
        min: usize,
        max: usize,
    },
    Object(ObjectSpec),
    /// One of the arms; `random` picks among the non-null arms per value, else the
    /// first non-null arm is taken.
    Union {
        arms: Vec<NodeId>,
        random: bool,
    },
    /// The target of a `$ref` (a node of its own so recursion has a place to count).
    Ref(NodeId),
    /// The `results` list: one `item` per request item (or per sample list).
    Results(NodeId),
    /// A string holding the JSON text of a value (pydantic's `Json[T]`:
    /// `contentMediaType: application/json` with a `contentSchema`).
    JsonText(NodeId),
}

/// Why a schema node cannot be synthesized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlanError {
    /// JSON pointer of the node in the schema document.
    pub(crate) pointer: String,
    pub(crate) message: String,
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.pointer.is_empty() {
            "the root"
        } else {
            &self.pointer
        };
        write!(f, "at {at}: {}", self.message)
    }
}

/// A compiled response schema.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) nodes: Vec<Node>,
    pub(crate) root: NodeId,
    /// Nodes on a `$ref` cycle: entering one counts one level of recursion.
    pub(crate) recursive: Vec<bool>,
    /// Fewest nesting levels a finite value of each node needs (`u32::MAX`: none).
    pub(crate) height: Vec<u32>,
}

/// Follows `$ref`, single-arm `anyOf`/`oneOf`/`allOf` and `type: [.., "null"]`, taking
/// the first non-null arm of a union (for reading sizes and params, not for values).
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

/// The (first non-null) type a schema states or implies.
pub(crate) fn schema_type(s: &Value) -> Option<&str> {
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

/// `"key":` with the key escaped.
pub(crate) fn key_text(key: &str) -> String {
    let mut out = serde_json::to_string(key).unwrap_or_else(|_| "\"\"".to_string());
    out.push(':');
    out
}

/// Whether `keyword` constrains values in a way the synthesizer does not
/// follow (the sandbox column of the catalog's keyword table says `No`): a
/// schema using one is refused rather than half satisfied. Annotations,
/// structure keywords and the `x-biolm-*` request rules are not refused (the
/// rules are checked on requests, not used to build results); keywords in no
/// row are annotations, as JSON Schema says, and are ignored.
fn unsupported(keyword: &str) -> bool {
    use biolm_catalog::keywords::{Kind, Support, KEYWORDS};
    !keyword.starts_with("x-")
        && KEYWORDS.iter().any(|k| {
            k.name == keyword
                && k.sandbox == Support::No
                && matches!(k.kind, Kind::Assertion | Kind::Applicator)
        })
}

type MemoKey = (String, String, Vec<Len>);

/// Compiles the schemas of one document (resolving `#/$defs/...` against `root`).
pub(crate) struct Compiler<'a> {
    pub(super) root: &'a Value,
    pub(super) gates: &'a GateTable,
    pub(super) nodes: Vec<Node>,
    pub(super) recursive: Vec<bool>,
    pub(super) errors: Vec<PlanError>,
    memo: HashMap<MemoKey, NodeId>,
    /// `$ref` nodes being compiled (a hit is a cycle).
    open: Vec<NodeId>,
    /// `oneOf` unions, checked for arms that exclude each other at the end.
    pub(super) one_of: Vec<(NodeId, String)>,
    depth: usize,
    pub(super) seed: u64,
}

fn hash_str(s: &str) -> u64 {
    let mut h = super::rng::Hasher::new();
    h.write(s.as_bytes());
    h.finish()
}

impl<'a> Compiler<'a> {
    pub(crate) fn new(root: &'a Value, gates: &'a GateTable) -> Self {
        Compiler {
            root,
            gates,
            nodes: Vec::new(),
            recursive: Vec::new(),
            errors: Vec::new(),
            memo: HashMap::new(),
            open: Vec::new(),
            one_of: Vec::new(),
            depth: 0,
            seed: 0x5eed,
        }
    }

    pub(super) fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.recursive.push(false);
        self.nodes.len() - 1
    }

    pub(super) fn fail(&mut self, pointer: &str, message: impl Into<String>) -> NodeId {
        self.errors.push(PlanError {
            pointer: pointer.to_string(),
            message: message.into(),
        });
        self.push(Node::Null)
    }

    /// The root response schema: an object whose `results` array gets one entry per
    /// item. Errors list every node that cannot be synthesized.
    pub(crate) fn compile_response(mut self) -> Result<Plan, Vec<PlanError>> {
        let root = self.root;
        let s = resolve(root, root);
        let top = match s.get("properties").and_then(Value::as_object) {
            Some(props) if props.contains_key("results") => {
                let mut fields = Vec::new();
                let required: Vec<&str> = s
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                for (name, sub) in props {
                    let ptr = format!("/properties/{}", escape(name));
                    let node = if name == "results" {
                        let rs = resolve(root, sub);
                        for (schema, at) in [(sub, ptr.clone()), (rs, ptr.clone())] {
                            if let Some(k) = schema
                                .as_object()
                                .and_then(|m| m.keys().find(|k| unsupported(k)))
                            {
                                self.fail(
                                    &format!("{at}/{}", escape(k)),
                                    format!("keyword `{k}` is not supported by the sandbox's synthesizer"),
                                );
                            }
                        }
                        match rs.get("items") {
                            Some(item) if item.is_object() => {
                                let per_item =
                                    self.compile(item, "results", None, &format!("{ptr}/items"));
                                let per_item = self.follow(per_item);
                                if let Node::Array { len, .. } = &mut self.nodes[per_item] {
                                    *len = Len::Samples;
                                }
                                self.push(Node::Results(per_item))
                            }
                            _ => self.compile(sub, name, None, &ptr),
                        }
                    } else {
                        self.compile(sub, name, None, &ptr)
                    };
                    fields.push(super::objects::Field {
                        key: key_text(name),
                        node,
                        gate: None,
                        required: required.contains(&name.as_str()),
                    });
                }
                self.push(Node::Object(ObjectSpec::fixed(fields)))
            }
            _ => self.compile(root, "", None, ""),
        };
        for (id, ptr) in std::mem::take(&mut self.one_of) {
            let Some(Node::Union { arms, .. }) = self.nodes.get(id) else {
                continue;
            };
            let keep = super::unions::exclusive_arms(&self, &arms.clone());
            if keep.is_empty() {
                self.fail(
                    &ptr,
                    "the arms of `oneOf` overlap: the synthesizer cannot make a value that matches exactly one (give them distinct types or a discriminator tag)",
                );
            } else if let Some(Node::Union { arms, .. }) = self.nodes.get_mut(id) {
                *arms = keep;
            }
        }
        if !self.errors.is_empty() {
            let mut errors = self.errors;
            errors.dedup();
            return Err(errors);
        }
        let height = super::recursion::heights(&self.nodes);
        if height.get(top).copied().unwrap_or(u32::MAX) == u32::MAX {
            return Err(vec![PlanError {
                pointer: String::new(),
                message: "the schema has no finite value: a definition requires itself with no way to stop (no null arm, optional field or empty list on the cycle)".into(),
            }]);
        }
        Ok(Plan {
            nodes: self.nodes,
            root: top,
            recursive: self.recursive,
            height,
        })
    }

    /// Follows `Ref` nodes to the node they stand for.
    pub(super) fn follow(&self, mut id: NodeId) -> NodeId {
        for _ in 0..64 {
            match self.nodes.get(id) {
                Some(Node::Ref(t)) if *t != id => id = *t,
                _ => break,
            }
        }
        id
    }

    /// Compiles `s`, the schema of a value held by the property `name`. `dims`
    /// carries the remaining array dimensions when inside a nested array.
    pub(super) fn compile(
        &mut self,
        s: &Value,
        name: &str,
        dims: Option<&[Len]>,
        ptr: &str,
    ) -> NodeId {
        if self.depth >= MAX_DEPTH {
            return self.fail(
                ptr,
                format!("the schema nests more than {MAX_DEPTH} levels deep"),
            );
        }
        self.depth += 1;
        let id = self.compile_inner(s, name, dims, ptr);
        self.depth -= 1;
        id
    }

    fn compile_inner(&mut self, s: &Value, name: &str, dims: Option<&[Len]>, ptr: &str) -> NodeId {
        let map = match s {
            Value::Bool(true) => return self.push(Node::Any),
            Value::Bool(false) => {
                return self.fail(ptr, "the schema is `false`: no value is valid")
            }
            Value::Object(m) => m,
            _ => return self.fail(ptr, "a schema must be an object or a boolean"),
        };
        if let Some(k) = map.keys().find(|k| unsupported(k)) {
            return self.fail(
                &format!("{ptr}/{}", escape(k)),
                format!("keyword `{k}` is not supported by the sandbox's synthesizer"),
            );
        }
        if let Some(r) = map.get("$ref") {
            let Some(r) = r.as_str() else {
                return self.fail(ptr, "`$ref` must be a string");
            };
            if !constrains(map, &["$ref"]) {
                return self.reference(r, name, dims, ptr);
            }
        }
        if let Some(Value::Array(arms)) = map.get("allOf") {
            // pydantic's wrapper `{"allOf": [{"$ref": ..}], "description": ..}`: the reference.
            if let ([only], false) = (arms.as_slice(), constrains(map, &["allOf"])) {
                return self.compile(only, name, dims, ptr);
            }
        }
        if map.contains_key("allOf") || map.contains_key("$ref") {
            return self.merged(s, name, dims, ptr);
        }
        if map.contains_key("anyOf") || map.contains_key("oneOf") {
            return self.union(map, name, dims, ptr);
        }
        if let Some(c) = map.get("const") {
            return self.push(Node::Choice(vec![c.to_string()]));
        }
        if let Some(values) = map.get("enum") {
            let Some(values) = values.as_array() else {
                return self.fail(ptr, "`enum` must be a list");
            };
            let mut texts: Vec<String> = Vec::new();
            for v in values {
                let t = v.to_string();
                if !texts.contains(&t) {
                    texts.push(t);
                }
            }
            if texts.is_empty() {
                return self.fail(ptr, "`enum` is empty: no value is valid");
            }
            return self.push(Node::Choice(texts));
        }
        if let Some(Value::Array(ts)) = map.get("type") {
            let ts: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            if ts.is_empty() {
                return self.fail(ptr, "`type` lists no type");
            }
            if ts.len() > 1 {
                // One arm per type, non-null first.
                let mut order: Vec<&str> = ts.iter().copied().filter(|t| *t != "null").collect();
                if ts.contains(&"null") {
                    order.push("null");
                }
                let mut arms = Vec::new();
                for t in order {
                    let mut one = map.clone();
                    one.insert("type".into(), Value::String(t.into()));
                    arms.push(self.compile(&Value::Object(one), name, dims, ptr));
                }
                return self.push(Node::Union {
                    arms,
                    random: false,
                });
            }
        }
        let lname = name.to_ascii_lowercase();
        let in_array = dims.is_some();
        match schema_type(s) {
            Some("null") => self.push(Node::Null),
            Some("boolean") => self.push(Node::Bool),
            Some("integer") => match numbers::integer(s, &lname, in_array) {
                Ok(spec) => self.push(Node::Int(spec)),
                Err(e) => self.fail(ptr, e),
            },
            Some("number") => match numbers::number(s, &lname) {
                Ok(spec) => self.push(Node::Num(spec)),
                Err(e) => self.fail(ptr, e),
            },
            Some("string")
                if map.get("contentMediaType").and_then(Value::as_str)
                    == Some("application/json")
                    && map.contains_key("contentSchema") =>
            {
                if ["minLength", "maxLength", "pattern", "format"]
                    .iter()
                    .any(|k| map.contains_key(*k))
                {
                    return self.fail(
                        ptr,
                        "string limits beside `contentSchema` are not synthesized by the sandbox",
                    );
                }
                let inner = map.get("contentSchema").unwrap_or(&Value::Bool(true));
                let id = self.compile(inner, name, None, &format!("{ptr}/contentSchema"));
                self.push(Node::JsonText(id))
            }
            Some("string") => {
                self.seed = self.seed.wrapping_add(1);
                let seed = self.seed ^ hash_str(ptr);
                match strings::string(s, &lname, in_array, seed) {
                    Ok(spec) => self.push(Node::Str(spec)),
                    Err(e) => self.fail(ptr, e),
                }
            }
            Some("array") => self.array(s, name, &lname, dims, ptr),
            Some("object") => self.object(map, ptr),
            Some(t)
                if ![
                    "null", "boolean", "integer", "number", "string", "array", "object",
                ]
                .contains(&t) =>
            {
                self.fail(ptr, format!("unknown type `{t}`"))
            }
            _ => {
                if map.contains_key("minProperties")
                    || map.contains_key("patternProperties")
                    || map.contains_key("propertyNames")
                    || map.contains_key("required")
                {
                    self.object(map, ptr)
                } else {
                    self.push(Node::Any)
                }
            }
        }
    }

    /// A `$ref` with nothing beside it: compiled once per (target, name, sizes); a
    /// reference back into a target being compiled closes a cycle.
    fn reference(&mut self, r: &str, name: &str, dims: Option<&[Len]>, ptr: &str) -> NodeId {
        let Some(target) = lookup_ref(self.root, r) else {
            return self.fail(ptr, format!("`$ref` {r} does not resolve in this document"));
        };
        let key: MemoKey = (
            r.to_string(),
            name.to_ascii_lowercase(),
            dims.map(<[Len]>::to_vec).unwrap_or_default(),
        );
        if let Some(&id) = self.memo.get(&key) {
            if self.open.contains(&id) {
                self.recursive[id] = true;
            }
            return id;
        }
        let id = self.push(Node::Ref(usize::MAX));
        self.memo.insert(key, id);
        self.open.push(id);
        let target_ptr = r.trim_start_matches('#').to_string();
        let inner = self.compile(target, name, dims, &target_ptr);
        self.open.pop();
        self.nodes[id] = Node::Ref(inner);
        id
    }

    /// An `allOf` (or a `$ref` with constraining siblings), merged; compiled once per
    /// (schema, name, sizes) like a `$ref`, so recursion through it closes a cycle.
    fn merged(&mut self, s: &Value, name: &str, dims: Option<&[Len]>, ptr: &str) -> NodeId {
        let key: MemoKey = (
            format!("merge:{s}"),
            name.to_ascii_lowercase(),
            dims.map(<[Len]>::to_vec).unwrap_or_default(),
        );
        if let Some(&id) = self.memo.get(&key) {
            if self.open.contains(&id) {
                self.recursive[id] = true;
            }
            return id;
        }
        let merged = match allof::merge_all_of(self.root, s, ptr) {
            Ok(m) => m,
            Err(e) => return self.fail(&e.pointer, e.message),
        };
        let id = self.push(Node::Ref(usize::MAX));
        self.memo.insert(key, id);
        self.open.push(id);
        let inner = self.compile(&merged, name, dims, ptr);
        self.open.pop();
        self.nodes[id] = Node::Ref(inner);
        id
    }
}

/// Escapes a key for a JSON pointer.
pub(crate) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
