//! Compiling a schema document into [`Node`]s.
//!
//! The compiler never stops at the first problem: every keyword with a value of the
//! wrong shape, every unknown or unsupported keyword, every bad `$ref` and bad pattern
//! is recorded with its JSON pointer, and compiling goes on with the rest of the
//! document, so one pass reports them all ([`crate::keywords::audit`]).

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::alphabet::{parse_alphabet, parse_token_counts};
use super::format::Format;
use super::node::{
    Additional, Discriminator, JsonContent, Node, NodeId, T_ARR, T_BOOL, T_INT, T_NULL, T_NUM,
    T_OBJ, T_STR,
};
use super::pattern::Pattern;
use super::rules::parse_rules;
use super::textformat::TextFormat;
use super::SchemaError;
use crate::keywords::{self, Support};

/// Deepest nesting of a schema document, and longest chain of `$ref`/`anyOf` steps,
/// that compile (the corpus needs fewer than 10).
pub(super) const MAX_DEPTH: usize = 64;

pub(super) struct Compiler<'a> {
    root: &'a Value,
    pub(super) nodes: Vec<Node>,
    /// `$ref` targets already compiled (or being compiled), by JSON pointer.
    by_pointer: HashMap<String, NodeId>,
    /// `$ref` targets reserved but not compiled yet: (schema, pointer, slot).
    pending: Vec<(&'a Value, String, NodeId)>,
    /// Current nesting of `compile` calls (bounded, so a hostile schema cannot overflow the stack).
    depth: usize,
    /// Every problem found, in document order (per compiled subtree).
    pub(super) errors: Vec<SchemaError>,
}

/// Escapes one JSON pointer segment.
pub(super) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

impl<'a> Compiler<'a> {
    pub(super) fn new(root: &'a Value) -> Compiler<'a> {
        Compiler {
            root,
            nodes: Vec::new(),
            by_pointer: HashMap::new(),
            pending: Vec::new(),
            depth: 0,
            errors: Vec::new(),
        }
    }

    fn error(&mut self, pointer: &str, message: impl Into<String>) {
        self.errors.push(SchemaError::new(pointer, message));
    }

    /// Compiles `schema` (found at `pointer`). Problems are recorded; the node returned
    /// is usable whatever they were.
    pub(super) fn compile(&mut self, schema: &'a Value, pointer: &str) -> NodeId {
        if self.depth >= MAX_DEPTH {
            self.error(
                pointer,
                format!(
                    "the schema nests more than {MAX_DEPTH} levels deep (subschemas and `$ref`s)"
                ),
            );
            self.nodes.push(Node::default());
            return self.nodes.len() - 1;
        }
        self.depth += 1;
        let id = self.nodes.len();
        self.nodes.push(Node::default());
        let node = match schema {
            Value::Bool(true) => Node::default(),
            Value::Bool(false) => Node {
                never: true,
                ..Node::default()
            },
            Value::Object(map) => self.compile_object(map, pointer),
            _ => {
                self.error(pointer, "a schema must be an object or a boolean");
                Node::default()
            }
        };
        self.nodes[id] = node;
        self.depth -= 1;
        id
    }

    fn compile_object(&mut self, map: &'a Map<String, Value>, pointer: &str) -> Node {
        let mut node = Node::default();
        for (key, value) in map {
            let at = format!("{pointer}/{}", escape(key));
            if let Err(e) = self.keyword(&mut node, map, key, value, &at) {
                self.errors.push(e);
            }
        }
        if map.contains_key("patternProperties")
            && !map.contains_key("properties")
            && !map.contains_key("additionalProperties")
        {
            node.additional = Additional::PatternsOnly;
        }
        // Draft-07 tuples: `items: [..]` with `additionalItems`.
        if let (Some(Value::Array(_)), Some(extra)) = (map.get("items"), map.get("additionalItems"))
        {
            let at = format!("{pointer}/additionalItems");
            node.items = Some(self.compile(extra, &at));
        }
        if let Some(cond) = map.get("if") {
            let cond = self.compile(cond, &format!("{pointer}/if"));
            let then = map
                .get("then")
                .map(|s| self.compile(s, &format!("{pointer}/then")));
            let otherwise = map
                .get("else")
                .map(|s| self.compile(s, &format!("{pointer}/else")));
            node.if_then_else = Some((cond, then, otherwise));
        }
        if let Some(media) = map.get("contentMediaType") {
            if media
                .as_str()
                .is_some_and(|m| m == "application/json" || m.starts_with("application/json;"))
            {
                let schema = map
                    .get("contentSchema")
                    .map(|s| self.compile(s, &format!("{pointer}/contentSchema")));
                node.content_json = Some(JsonContent { schema });
            }
        }
        if let Some(d) = map.get("discriminator") {
            let at = format!("{pointer}/discriminator");
            match self.discriminator(d, map, &at) {
                Ok(d) => node.discriminator = Some(d),
                Err(e) => self.errors.push(e),
            }
        }
        // Aliases need the property list, so they are read last.
        if let Some(Value::Object(props)) = map.get("properties") {
            for (name, sub) in props {
                let Some(aliases) = sub.get("x-biolm-aliases") else {
                    continue;
                };
                let at = format!("{pointer}/properties/{}/x-biolm-aliases", escape(name));
                let Some(list) = aliases.as_array() else {
                    self.error(&at, "must be a list of keys");
                    continue;
                };
                let idx = node
                    .properties
                    .iter()
                    .position(|(n, _)| n == name)
                    .unwrap_or(0);
                for (i, a) in list.iter().enumerate() {
                    match a.as_str() {
                        Some(a) => node.aliases.push((a.to_string(), idx)),
                        None => self.error(&format!("{at}/{i}"), "an alias must be a string"),
                    }
                }
            }
        }
        node
    }

    /// One keyword of a schema object.
    fn keyword(
        &mut self,
        node: &mut Node,
        map: &'a Map<String, Value>,
        key: &str,
        value: &'a Value,
        at: &str,
    ) -> Result<(), SchemaError> {
        match key {
            "type" => node.types = Some(parse_types(value, at)?),
            "enum" => {
                let values = value
                    .as_array()
                    .ok_or_else(|| SchemaError::new(at, "`enum` must be a list"))?;
                node.enum_values = Some(values.clone());
            }
            "const" => node.const_value = Some(value.clone()),
            "minLength" => node.min_length = Some(count(value, at)?),
            "maxLength" => node.max_length = Some(count(value, at)?),
            "pattern" => {
                let source = value
                    .as_str()
                    .ok_or_else(|| SchemaError::new(at, "`pattern` must be a string"))?;
                node.pattern = Some(
                    Pattern::new(source)
                        .map_err(|e| SchemaError::new(at, format!("pattern {source:?}: {e}")))?,
                );
            }
            "format" => {
                let name = value
                    .as_str()
                    .ok_or_else(|| SchemaError::new(at, "`format` must be a string"))?;
                // Formats the validator does not know are annotations.
                node.format = Format::parse(name);
            }
            "contentMediaType" | "contentEncoding" => {
                if !value.is_string() {
                    return Err(SchemaError::new(at, format!("`{key}` must be a string")));
                }
            }
            "contentSchema" => {
                if !map.contains_key("contentMediaType") {
                    self.compile(value, at);
                }
            }
            "minimum" => node.minimum = Some(number(value, at)?),
            "maximum" => node.maximum = Some(number(value, at)?),
            "exclusiveMinimum" => node.exclusive_minimum = Some(number(value, at)?),
            "exclusiveMaximum" => node.exclusive_maximum = Some(number(value, at)?),
            "multipleOf" => {
                let m = number(value, at)?;
                if m <= 0.0 {
                    return Err(SchemaError::new(at, "`multipleOf` must be greater than 0"));
                }
                node.multiple_of = Some(m);
            }
            "minItems" => node.min_items = Some(count(value, at)?),
            "maxItems" => node.max_items = Some(count(value, at)?),
            "uniqueItems" => node.unique_items = boolean(value, at)?,
            "items" => match value {
                Value::Array(list) => {
                    // Draft-07 tuple form.
                    for (i, sub) in list.iter().enumerate() {
                        let id = self.compile(sub, &format!("{at}/{i}"));
                        node.prefix_items.push(id);
                    }
                }
                _ => node.items = Some(self.compile(value, at)),
            },
            "additionalItems" => {
                if !map.get("items").is_some_and(Value::is_array) {
                    // Without a tuple `items`, `additionalItems` has no effect; its shape is still checked.
                    self.compile(value, at);
                }
            }
            "prefixItems" => {
                let list = value
                    .as_array()
                    .ok_or_else(|| SchemaError::new(at, "`prefixItems` must be a list"))?;
                for (i, sub) in list.iter().enumerate() {
                    let id = self.compile(sub, &format!("{at}/{i}"));
                    node.prefix_items.push(id);
                }
            }
            "contains" => node.contains = Some(self.compile(value, at)),
            "minContains" => node.min_contains = Some(count(value, at)?),
            "maxContains" => node.max_contains = Some(count(value, at)?),
            "required" => {
                let list = value
                    .as_array()
                    .ok_or_else(|| SchemaError::new(at, "`required` must be a list of names"))?;
                for (i, v) in list.iter().enumerate() {
                    match v.as_str() {
                        Some(name) => node.required.push(name.to_string()),
                        None => self.error(&format!("{at}/{i}"), "a required name must be a string"),
                    }
                }
            }
            "properties" => {
                let props = value
                    .as_object()
                    .ok_or_else(|| SchemaError::new(at, "`properties` must be an object"))?;
                for (name, sub) in props {
                    let id = self.compile(sub, &format!("{at}/{}", escape(name)));
                    node.properties.push((name.clone(), id));
                }
            }
            "additionalProperties" => {
                node.additional = match value {
                    Value::Bool(true) => Additional::Allow,
                    Value::Bool(false) => Additional::Deny,
                    Value::Object(_) => Additional::Schema(self.compile(value, at)),
                    _ => {
                        return Err(SchemaError::new(
                            at,
                            "`additionalProperties` must be a boolean or a schema",
                        ))
                    }
                }
            }
            "patternProperties" => {
                let pats = value.as_object().ok_or_else(|| {
                    SchemaError::new(at, "`patternProperties` must be an object")
                })?;
                for (pat, sub) in pats {
                    let sub_at = format!("{at}/{}", escape(pat));
                    let id = self.compile(sub, &sub_at);
                    match Pattern::new(pat) {
                        Ok(compiled) => node.pattern_properties.push((compiled, id)),
                        Err(e) => self.error(&sub_at, format!("pattern {pat:?}: {e}")),
                    }
                }
            }
            "propertyNames" => node.property_names = Some(self.compile(value, at)),
            "minProperties" => node.min_properties = Some(count(value, at)?),
            "maxProperties" => node.max_properties = Some(count(value, at)?),
            "dependentRequired" => {
                node.dependent_required = self.dependent_required(value, at)?;
            }
            "dependentSchemas" => {
                let deps = value
                    .as_object()
                    .ok_or_else(|| SchemaError::new(at, "`dependentSchemas` must be an object"))?;
                for (name, sub) in deps {
                    let id = self.compile(sub, &format!("{at}/{}", escape(name)));
                    node.dependent_schemas.push((name.clone(), id));
                }
            }
            "dependencies" => {
                // Draft-07: a list of names (dependentRequired) or a schema (dependentSchemas).
                let deps = value
                    .as_object()
                    .ok_or_else(|| SchemaError::new(at, "`dependencies` must be an object"))?;
                for (name, dep) in deps {
                    let dep_at = format!("{at}/{}", escape(name));
                    match dep {
                        Value::Array(_) => {
                            let one = Value::Object(Map::from_iter([(name.clone(), dep.clone())]));
                            let mut parsed = self.dependent_required(&one, at)?;
                            node.dependent_required.append(&mut parsed);
                        }
                        _ => {
                            let id = self.compile(dep, &dep_at);
                            node.dependent_schemas.push((name.clone(), id));
                        }
                    }
                }
            }
            "anyOf" | "allOf" | "oneOf" => {
                let list = value
                    .as_array()
                    .ok_or_else(|| SchemaError::new(at, format!("`{key}` must be a list")))?;
                if list.is_empty() {
                    return Err(SchemaError::new(at, format!("`{key}` must not be empty")));
                }
                let ids: Vec<NodeId> = list
                    .iter()
                    .enumerate()
                    .map(|(i, sub)| self.compile(sub, &format!("{at}/{i}")))
                    .collect();
                match key {
                    "anyOf" => node.any_of = ids,
                    "allOf" => node.all_of = ids,
                    _ => node.one_of = ids,
                }
            }
            "not" => node.not = Some(self.compile(value, at)),
            // Compiled together, after the loop.
            "if" | "discriminator" => {}
            "then" | "else" => {
                if !map.contains_key("if") {
                    // No effect without `if`; the shape is still checked.
                    self.compile(value, at);
                }
            }
            "$ref" => {
                let target = value
                    .as_str()
                    .ok_or_else(|| SchemaError::new(at, "`$ref` must be a string"))?;
                node.reference = Some(self.reference(target, at)?);
            }
            // Annotations: no effect on validity, but a value of the wrong shape is a
            // sign of a broken schema, so the audit reports it.
            "title" | "description" | "$comment" | "$schema" | "$id" => {
                if !value.is_string() {
                    return Err(SchemaError::new(at, format!("`{key}` must be a string")));
                }
            }
            "deprecated" | "readOnly" | "writeOnly" => {
                boolean(value, at)?;
            }
            "examples" => {
                if !value.is_array() {
                    return Err(SchemaError::new(at, "`examples` must be a list"));
                }
            }
            "$defs" | "definitions" => {
                if !value.is_object() {
                    return Err(SchemaError::new(at, format!("`{key}` must be an object")));
                }
            }
            "x-biolm-alphabet" => node.alphabet = Some(parse_alphabet(value, at)?),
            "x-biolm-token-count" => node.token_counts = parse_token_counts(value, at)?,
            "x-biolm-ignored-params" => {
                let map = value.as_object().ok_or_else(|| {
                    SchemaError::new(at, "must be an object of param name -> schema")
                })?;
                for (k, sub) in map {
                    let id = self.compile(sub, &format!("{at}/{}", escape(k)));
                    node.ignored_keys.push((k.clone(), id));
                }
            }
            "x-biolm-refusal-note" => {
                if !value.is_string() {
                    return Err(SchemaError::new(at, "must be a string"));
                }
            }
            "x-biolm-length" => {
                let map = value
                    .as_object()
                    .ok_or_else(|| SchemaError::new(at, "must be an object with `min` and/or `max`"))?;
                let mut lo = None;
                let mut hi = None;
                for (k, v) in map {
                    let kat = format!("{at}/{k}");
                    match k.as_str() {
                        "min" => lo = Some(count(v, &kat)?),
                        "max" => hi = Some(count(v, &kat)?),
                        other => {
                            return Err(SchemaError::new(kat, format!("unknown key `{other}`")))
                        }
                    }
                }
                node.length = Some((lo, hi));
            }
            "x-biolm-strict" => {
                boolean(value, at)?;
            }
            "x-biolm-format" => node.text_format = Some(TextFormat::parse(value, at)?),
            "x-biolm-rules" => node.rules = parse_rules(value, at)?,
            "x-biolm-key-alphabet" => node.key_alphabet = Some(parse_alphabet(value, at)?),
            "x-biolm-lenient" => match value {
                Value::Object(o) => match (o.get("if_key").and_then(Value::as_str), o.len()) {
                    (Some(k), 1) => node.lenient_if_key = Some(k.to_string()),
                    _ => {
                        return Err(SchemaError::new(
                            at,
                            "must be true, false or {\"if_key\": \"<field>\"}",
                        ))
                    }
                },
                _ => node.lenient = boolean(value, at)?,
            },
            "x-biolm-aliases" => {}
            k if k.starts_with("x-biolm-") => {
                return Err(SchemaError::new(
                    at,
                    format!("unknown extension key `{k}` (see schemas/README.md)"),
                ))
            }
            k if k.starts_with("x-") => {}
            k => match keywords::keyword(k) {
                Some(kw) if kw.validator == Support::Ignored => {}
                Some(_) => {
                    return Err(SchemaError::new(
                        at,
                        format!("keyword `{k}` is not supported by the local validator"),
                    ))
                }
                None => {
                    return Err(SchemaError::new(
                        at,
                        format!(
                            "unknown keyword `{k}` (not a JSON Schema 2020-12, draft-07 or OpenAPI keyword; extensions start with `x-`)"
                        ),
                    ))
                }
            },
        }
        Ok(())
    }

    fn dependent_required(
        &mut self,
        value: &Value,
        at: &str,
    ) -> Result<Vec<(String, Vec<String>)>, SchemaError> {
        let deps = value
            .as_object()
            .ok_or_else(|| SchemaError::new(at, "must be an object of lists of names"))?;
        let mut out = Vec::with_capacity(deps.len());
        for (name, list) in deps {
            let dep_at = format!("{at}/{}", escape(name));
            let list = list
                .as_array()
                .ok_or_else(|| SchemaError::new(&dep_at, "must be a list of names"))?;
            let mut names = Vec::with_capacity(list.len());
            for (i, n) in list.iter().enumerate() {
                match n.as_str() {
                    Some(n) => names.push(n.to_string()),
                    None => self.error(&format!("{dep_at}/{i}"), "a name must be a string"),
                }
            }
            out.push((name.clone(), names));
        }
        Ok(out)
    }

    /// `discriminator: {propertyName, mapping?}` next to `oneOf`/`anyOf`. Tags come from
    /// `mapping`, and for arms it does not name, from the arm's `const` (or one-value
    /// `enum`) on the tag property.
    fn discriminator(
        &mut self,
        d: &'a Value,
        map: &'a Map<String, Value>,
        at: &str,
    ) -> Result<Discriminator, SchemaError> {
        let obj = d.as_object().ok_or_else(|| {
            SchemaError::new(at, "`discriminator` must be an object with `propertyName`")
        })?;
        let property = obj
            .get("propertyName")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                SchemaError::new(
                    format!("{at}/propertyName"),
                    "must be a string (the tag field)",
                )
            })?
            .to_string();
        for k in obj.keys() {
            if !matches!(k.as_str(), "propertyName" | "mapping") && !k.starts_with("x-") {
                self.error(
                    &format!("{at}/{}", escape(k)),
                    format!("unknown discriminator key `{k}`"),
                );
            }
        }
        let parent = at.strip_suffix("/discriminator").unwrap_or(at);
        let (union_key, arms): (&str, &Vec<Value>) = match (map.get("oneOf"), map.get("anyOf")) {
            (Some(Value::Array(a)), _) => ("oneOf", a),
            (None, Some(Value::Array(a))) => ("anyOf", a),
            _ => {
                return Err(SchemaError::new(
                    at,
                    "`discriminator` needs a `oneOf` (or `anyOf`) list beside it",
                ))
            }
        };
        let mut tags: Vec<(String, NodeId)> = Vec::new();
        let mut mapped_targets: Vec<&str> = Vec::new();
        let mut inline_targets: Vec<&Value> = Vec::new();
        if let Some(mapping) = obj.get("mapping") {
            let m = mapping.as_object().ok_or_else(|| {
                SchemaError::new(
                    format!("{at}/mapping"),
                    "must be an object of tag -> `$ref`",
                )
            })?;
            for (tag, target) in m {
                let t_at = format!("{at}/mapping/{}", escape(tag));
                match target {
                    Value::String(r) => match self.reference(r, &t_at) {
                        Ok(id) => {
                            tags.push((tag.clone(), id));
                            mapped_targets.push(r);
                        }
                        Err(e) => self.errors.push(e),
                    },
                    // pydantic writes a nested tagged union inline (a schema, not a `$ref`).
                    Value::Object(_) => {
                        let id = self.compile(target, &t_at);
                        tags.push((tag.clone(), id));
                        inline_targets.push(target);
                    }
                    _ => self.error(&t_at, "must be a `$ref` string or a schema"),
                }
            }
        }
        for (i, arm) in arms.iter().enumerate() {
            if arm
                .get("$ref")
                .and_then(Value::as_str)
                .is_some_and(|r| mapped_targets.contains(&r))
                || inline_targets.contains(&arm)
            {
                continue;
            }
            let arm_at = format!("{parent}/{union_key}/{i}");
            let resolved = self.resolve_raw(arm);
            let tag = resolved
                .and_then(|s| s.get("properties"))
                .and_then(|p| p.get(&property))
                .and_then(|p| {
                    p.get("const").cloned().or_else(|| {
                        p.get("enum")
                            .and_then(Value::as_array)
                            .filter(|e| e.len() == 1)
                            .and_then(|e| e.first().cloned())
                    })
                });
            let tag = match tag {
                Some(Value::String(s)) => s,
                Some(other) => other.to_string(),
                None => {
                    self.error(
                        &arm_at,
                        format!("this arm has no tag: not in the discriminator's `mapping`, and no `const` on '{property}'"),
                    );
                    continue;
                }
            };
            let id = match arm.get("$ref").and_then(Value::as_str) {
                Some(r) => self.reference(r, &arm_at)?,
                None => self.compile(arm, &arm_at),
            };
            tags.push((tag, id));
        }
        Ok(Discriminator { property, tags })
    }

    /// The raw schema an arm stands for, following `$ref`s inside the document.
    fn resolve_raw(&self, mut schema: &'a Value) -> Option<&'a Value> {
        for _ in 0..MAX_DEPTH {
            match schema.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let pointer = percent_decode(r.strip_prefix('#')?);
                    schema = self.root.pointer(&pointer)?;
                }
                None => return Some(schema),
            }
        }
        None
    }

    pub(super) fn reference(&mut self, target: &str, at: &str) -> Result<NodeId, SchemaError> {
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
    pub(super) fn finish(&mut self) {
        while let Some((schema, pointer, id)) = self.pending.pop() {
            let inner = self.compile(schema, &pointer);
            if let Some(slot) = self.nodes.get_mut(id) {
                *slot = Node {
                    reference: Some(inner),
                    ..Node::default()
                };
            }
        }
    }

    /// The node holding `properties[name]` of `id`, looking through `$ref`s.
    pub(super) fn property(&self, mut id: NodeId, name: &str) -> Option<NodeId> {
        for _ in 0..32 {
            let node = self.nodes.get(id)?;
            if let Some((_, p)) = node.properties.iter().find(|(n, _)| n == name) {
                return Some(*p);
            }
            id = node.reference?;
        }
        None
    }

    /// The array node behind `properties.items`, looking through `$ref` and `anyOf` with null.
    pub(super) fn resolve_array(&self, mut id: NodeId) -> Option<NodeId> {
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
    /// (`$ref`, `anyOf`, `allOf`, `oneOf`, `not`, `if` edges), which would never terminate.
    pub(super) fn check_cycles(&mut self) {
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
                        self.error(
                            &name,
                            "this definition refers back to itself without describing any value (a `$ref`/`anyOf` cycle)",
                        );
                        return;
                    }
                    Some(0) => {
                        if stack.len() >= MAX_DEPTH {
                            self.error(
                                "",
                                format!("more than {MAX_DEPTH} `$ref`/`anyOf` steps without reaching a value"),
                            );
                            return;
                        }
                        state[to] = 1;
                        stack.push((to, 0));
                    }
                    _ => {}
                }
            }
        }
    }

    fn same_value_edges(&self, id: NodeId) -> Vec<NodeId> {
        let Some(n) = self.nodes.get(id) else {
            return Vec::new();
        };
        let mut out: Vec<NodeId> = n.reference.into_iter().collect();
        out.extend(&n.any_of);
        out.extend(&n.all_of);
        out.extend(&n.one_of);
        out.extend(n.not);
        if let Some((c, t, e)) = n.if_then_else {
            out.push(c);
            out.extend(t);
            out.extend(e);
        }
        if let Some(d) = &n.discriminator {
            out.extend(d.tags.iter().map(|(_, id)| *id));
        }
        out
    }
}

pub(super) fn percent_decode(s: &str) -> String {
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
                    SchemaError::new(format!("{at}/{i}"), "a type name must be a string")
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

pub(super) fn count(value: &Value, at: &str) -> Result<usize, SchemaError> {
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

fn boolean(value: &Value, at: &str) -> Result<bool, SchemaError> {
    value
        .as_bool()
        .ok_or_else(|| SchemaError::new(at, "must be true or false"))
}
