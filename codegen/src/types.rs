//! JSON Schema to the Rust type model.
//!
//! A [`ModuleTypes`] collects the types of one family module. Schema documents
//! (one request or response schema each) are walked through a [`Doc`]; every
//! `$defs` entry becomes one named type, deduplicated across the family's
//! documents by a fingerprint of the definition and everything it references,
//! so identical definitions shared by several actions are emitted once and
//! same-named definitions with different shapes get distinct, deterministic
//! names (`LayerEmbedding`, `LayerEmbeddingEncode`, ...).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use serde_json::Value;

use crate::error::CodegenError;
use crate::normalize::{
    dedupe_values, pascal_ident, pointer_segment, snake_ident, strip_null, type_name, unique,
};

/// Largest enum the generator accepts (a guard against absurd schemas).
pub const MAX_ENUM_VALUES: usize = 4096;
/// Deepest schema nesting the generator follows.
pub const MAX_DEPTH: usize = 64;

/// Whether a type is sent (request) or received (response).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dir {
    /// Part of a request body: closed enums, unknown fields refused.
    Request,
    /// Part of a response body: open enums, unknown fields tolerated.
    Response,
}

/// A Rust type expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// `String`.
    Str,
    /// `i64`.
    Int,
    /// `f64`.
    Num,
    /// `bool`.
    Bool,
    /// `serde_json::Value`: only for open dicts and unconstrained schemas.
    Value,
    /// `Vec<T>`.
    Vec(Box<Ty>),
    /// A tuple, from `prefixItems`.
    Tuple(Vec<Ty>),
    /// `BTreeMap<K, V>`, from `additionalProperties`, `propertyNames` or `patternProperties`.
    Map(Box<Ty>, Box<Ty>),
    /// `Option<T>`.
    Opt(Box<Ty>),
    /// `Box<T>`, for recursive types.
    Boxed(Box<Ty>),
    /// A type defined in the same module.
    Named(String),
}

impl Ty {
    /// How a doc comment names a value of this type: "a string", "a list of
    /// numbers", "a `MPNNGenerateResponseItem` object".
    pub fn phrase(&self) -> String {
        match self {
            Ty::Str => "a string".into(),
            Ty::Int => "an integer".into(),
            Ty::Num => "a number".into(),
            Ty::Bool => "a boolean".into(),
            Ty::Value => "any JSON value".into(),
            Ty::Vec(t) => format!("a list of {}", plural(&t.phrase())),
            Ty::Tuple(ts) => format!(
                "a list of exactly {} values ({})",
                ts.len(),
                ts.iter().map(Ty::phrase).collect::<Vec<_>>().join(", ")
            ),
            Ty::Map(_, v) => format!("a map to {}", plural(&v.phrase())),
            Ty::Opt(t) => format!("{} or null", t.phrase()),
            Ty::Boxed(t) => t.phrase(),
            Ty::Named(n) => format!("a `{n}`"),
        }
    }

    /// The type without an outer `Option`.
    pub fn strip_opt(&self) -> &Ty {
        match self {
            Ty::Opt(inner) => inner.strip_opt(),
            other => other,
        }
    }
}

/// "a string" -> "strings", "a list of numbers" -> "lists of numbers",
/// "an integer or null" -> "integers or nulls" (for "a list of ...").
fn plural(phrase: &str) -> String {
    let words = phrase
        .strip_prefix("a ")
        .or_else(|| phrase.strip_prefix("an "))
        .unwrap_or(phrase);
    match words.split_once(' ') {
        _ if words == "any JSON value" => "JSON values".into(),
        Some((head, rest)) if head.starts_with('`') => {
            format!("{head} values {rest}").trim_end().into()
        }
        Some((head, rest)) => format!("{head}s {rest}"),
        None if words.starts_with('`') => format!("{words} values"),
        None => format!("{words}s"),
    }
}

/// One struct field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Rust identifier.
    pub ident: String,
    /// JSON property name.
    pub json: String,
    /// Rust type (an `Option` when the field is optional or nullable).
    pub ty: Ty,
    /// Whether the schema lists the field in `required`.
    pub required: bool,
    /// Doc comment lines.
    pub doc: Vec<String>,
}

/// A generated type definition.
#[derive(Debug, Clone)]
pub enum Def {
    /// A struct from an object schema with `properties`.
    Struct {
        /// Type name.
        name: String,
        /// Doc lines.
        doc: Vec<String>,
        /// Request or response.
        dir: Dir,
        /// Fields in schema order.
        fields: Vec<Field>,
    },
    /// A string enum: `(variant ident, JSON value)`.
    Enum {
        /// Type name.
        name: String,
        /// Doc lines.
        doc: Vec<String>,
        /// Request (closed) or response (with an `Unknown(String)` fallback).
        dir: Dir,
        /// Variants.
        values: Vec<(String, String)>,
    },
    /// An untagged union of several shapes.
    Union {
        /// Type name.
        name: String,
        /// Doc lines.
        doc: Vec<String>,
        /// Request or response (responses get an `Other(Value)` fallback arm).
        dir: Dir,
        /// `(variant ident, type)` in try order.
        arms: Vec<(String, Ty)>,
    },
    /// `pub type name = ty;`.
    Alias {
        /// Alias name.
        name: String,
        /// Doc lines.
        doc: Vec<String>,
        /// Aliased type.
        ty: Ty,
    },
}

impl Def {
    /// The defined name.
    pub fn name(&self) -> &str {
        match self {
            Def::Struct { name, .. }
            | Def::Enum { name, .. }
            | Def::Union { name, .. }
            | Def::Alias { name, .. } => name,
        }
    }
}

/// One schema document being converted.
pub struct Doc<'a> {
    /// The document (root schema with `$defs`).
    pub root: &'a Value,
    /// File named in errors.
    pub file: PathBuf,
    /// Pointer of the document's root inside `file`.
    pub base: String,
    /// Request or response.
    pub dir: Dir,
    /// `PascalCase` action name, used to rename clashing definitions.
    pub action: String,
    /// `$defs` name -> Rust type name, for the definitions already converted.
    refs: HashMap<String, String>,
}

impl<'a> Doc<'a> {
    /// Starts converting `root`.
    pub fn new(root: &'a Value, file: PathBuf, base: String, dir: Dir, action: &str) -> Doc<'a> {
        Doc {
            root,
            file,
            base,
            dir,
            action: pascal_ident(action),
            refs: HashMap::new(),
        }
    }

    /// An error at `ptr` (relative to the document root).
    pub fn err(&self, ptr: &str, message: impl Into<String>) -> CodegenError {
        CodegenError::new(self.file.clone(), format!("{}{}", self.base, ptr), message)
    }

    /// The definition name a `$ref` points to.
    pub fn ref_name<'s>(&self, reference: &'s str, ptr: &str) -> Result<&'s str, CodegenError> {
        let name = reference.strip_prefix("#/$defs/").ok_or_else(|| {
            self.err(ptr, format!("unsupported $ref `{reference}`: only local `#/$defs/<Name>` references are understood"))
        })?;
        if self.root.get("$defs").and_then(|d| d.get(name)).is_none() {
            return Err(self.err(
                ptr,
                format!("$ref `{reference}` names a definition that is not in `$defs`"),
            ));
        }
        Ok(name)
    }
}

/// Fingerprint of `schema` and every definition it references (transitively).
///
/// Two schemas with equal fingerprints produce identical Rust types.
pub fn fingerprint(root: &Value, schema: &Value) -> String {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut stack: Vec<String> = Vec::new();
    collect_refs(schema, &mut stack);
    while let Some(name) = stack.pop() {
        if seen.insert(name.clone()) {
            if let Some(def) = root.get("$defs").and_then(|d| d.get(&name)) {
                collect_refs(def, &mut stack);
            }
        }
    }
    let mut out = schema.to_string();
    for name in seen {
        out.push('\u{1}');
        out.push_str(&name);
        out.push('=');
        if let Some(def) = root.get("$defs").and_then(|d| d.get(&name)) {
            out.push_str(&def.to_string());
        }
    }
    out
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    if let Some(name) = child.as_str().and_then(|r| r.strip_prefix("#/$defs/")) {
                        out.push(name.to_string());
                    }
                } else if k != "enum" && k != "default" && k != "examples" && k != "const" {
                    collect_refs(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|c| collect_refs(c, out)),
        _ => {}
    }
}

/// The types of one family module.
#[derive(Debug, Default)]
pub struct ModuleTypes {
    /// Definitions in creation order.
    pub defs: Vec<Def>,
    /// Every name used in the module (types, handles).
    pub taken: BTreeSet<String>,
    /// `(direction, fingerprint)` -> type name.
    by_fingerprint: HashMap<(Dir, String), String>,
}

impl ModuleTypes {
    /// An empty module with `reserved` names already taken.
    pub fn new(reserved: impl IntoIterator<Item = String>) -> ModuleTypes {
        ModuleTypes {
            taken: reserved.into_iter().collect(),
            ..ModuleTypes::default()
        }
    }

    /// A name based on `base` that is free in the module: `base`, then
    /// `base<Action>`, then numbered.
    fn fresh_name(&mut self, base: &str, action: &str) -> String {
        if self.taken.insert(base.to_string()) {
            return base.to_string();
        }
        let with_action = format!("{base}{action}");
        unique(&with_action, &mut self.taken)
    }

    /// Resolves the definition `name` of `doc` to a Rust type name, converting it
    /// on first use. `preferred` renames it (when it is not already known).
    pub fn def_type(
        &mut self,
        doc: &mut Doc<'_>,
        name: &str,
        preferred: Option<&str>,
        depth: usize,
    ) -> Result<String, CodegenError> {
        if let Some(known) = doc.refs.get(name) {
            return Ok(known.clone());
        }
        let ptr = format!("/$defs/{}", pointer_segment(name));
        let schema = doc
            .root
            .get("$defs")
            .and_then(|d| d.get(name))
            .ok_or_else(|| doc.err(&ptr, format!("definition `{name}` is missing")))?;
        let key = (doc.dir, fingerprint(doc.root, schema));
        if let Some(known) = self.by_fingerprint.get(&key) {
            doc.refs.insert(name.to_string(), known.clone());
            return Ok(known.clone());
        }
        let base = preferred
            .map(str::to_string)
            .unwrap_or_else(|| type_name(name));
        let rust = self.fresh_name(&base, &doc.action.clone());
        doc.refs.insert(name.to_string(), rust.clone());
        self.by_fingerprint.insert(key, rust.clone());
        self.named_def(doc, schema, &ptr, &rust, depth + 1)?;
        Ok(rust)
    }

    /// Converts `schema` into a definition called `name` (already reserved).
    fn named_def(
        &mut self,
        doc: &mut Doc<'_>,
        schema: &Value,
        ptr: &str,
        name: &str,
        depth: usize,
    ) -> Result<(), CodegenError> {
        let doc_lines = describe(schema);
        if is_struct(schema) {
            return self.build_struct(doc, schema, ptr, name, depth);
        }
        if schema.get("enum").is_some() {
            return self.build_enum(doc, schema, ptr, name);
        }
        if let Some(arms) = union_arms(schema) {
            if arms.len() > 1 {
                return self.build_union(doc, &arms, ptr, name, doc_lines, depth);
            }
        }
        let ty = self.convert(doc, schema, ptr, name, depth)?;
        if self.alias_cycle(name, &ty) {
            return Err(doc.err(
                ptr,
                format!("definition `{name}` refers to itself without any structure in between"),
            ));
        }
        self.defs.push(Def::Alias {
            name: name.to_string(),
            doc: doc_lines,
            ty,
        });
        Ok(())
    }

    fn alias_cycle(&self, name: &str, ty: &Ty) -> bool {
        let mut cur = ty.strip_opt().clone();
        for _ in 0..=self.defs.len() {
            match cur {
                Ty::Named(ref n) if n == name => return true,
                Ty::Named(ref n) => match self.defs.iter().find(|d| d.name() == n) {
                    Some(Def::Alias { ty, .. }) => cur = ty.strip_opt().clone(),
                    _ => return false,
                },
                _ => return false,
            }
        }
        true
    }

    /// Converts a schema in the role of a request item, params or per-item
    /// result: a `$ref` takes the `canonical` name when it is new, an inline
    /// schema is named `canonical`. Returns the type to use in signatures; adds
    /// `pub type <canonical> = ...` when the type already had another name.
    pub fn role(
        &mut self,
        doc: &mut Doc<'_>,
        schema: &Value,
        ptr: &str,
        canonical: &str,
        role: &str,
    ) -> Result<Ty, CodegenError> {
        let ty = match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let def = doc.ref_name(r, ptr)?;
                Ty::Named(self.def_type(doc, def, Some(canonical), 0)?)
            }
            None => {
                if is_struct(schema)
                    || schema.get("enum").is_some()
                    || union_arms(schema).is_some_and(|a| a.len() > 1)
                {
                    if self.taken.insert(canonical.to_string()) {
                        self.named_def(doc, schema, ptr, canonical, 0)?;
                        return Ok(Ty::Named(canonical.to_string()));
                    }
                    let fresh = self.fresh_name(canonical, &doc.action.clone());
                    self.named_def(doc, schema, ptr, &fresh, 0)?;
                    Ty::Named(fresh)
                } else {
                    self.convert(doc, schema, ptr, canonical, 0)?
                }
            }
        };
        if ty == Ty::Named(canonical.to_string()) {
            return Ok(ty);
        }
        if self.taken.insert(canonical.to_string()) {
            let doc_lines = vec![format!(
                " {role} (the same type as `{}`).",
                crate::emit::ty_tokens(&ty).to_string().replace(' ', "")
            )];
            self.defs.push(Def::Alias {
                name: canonical.to_string(),
                doc: doc_lines,
                ty,
            });
            return Ok(Ty::Named(canonical.to_string()));
        }
        Ok(ty)
    }

    /// Converts a schema to a type expression; inline objects, enums and unions
    /// become definitions named after `ctx`.
    pub fn convert(
        &mut self,
        doc: &mut Doc<'_>,
        schema: &Value,
        ptr: &str,
        ctx: &str,
        depth: usize,
    ) -> Result<Ty, CodegenError> {
        if depth > MAX_DEPTH {
            return Err(doc.err(ptr, format!("schema nested deeper than {MAX_DEPTH} levels")));
        }
        let obj = match schema {
            Value::Bool(_) => return Ok(Ty::Value),
            Value::Object(obj) => obj,
            _ => return Err(doc.err(ptr, "a schema must be a JSON object or a boolean")),
        };
        if let Some(r) = obj.get("$ref") {
            let r = r
                .as_str()
                .ok_or_else(|| doc.err(ptr, "`$ref` must be a string"))?;
            let name = doc.ref_name(r, &format!("{ptr}/$ref"))?;
            return Ok(Ty::Named(self.def_type(doc, name, None, depth)?));
        }
        if let Some(all) = obj.get("allOf") {
            return match all.as_array().map(Vec::as_slice) {
                Some([one]) => self.convert(doc, one, &format!("{ptr}/allOf/0"), ctx, depth + 1),
                _ => Err(doc.err(
                    &format!("{ptr}/allOf"),
                    "`allOf` with more than one schema is not supported; merge the schemas",
                )),
            };
        }
        let key = if obj.contains_key("anyOf") {
            "anyOf"
        } else {
            "oneOf"
        };
        if let Some(arms) = obj.get(key) {
            let arms = arms.as_array().ok_or_else(|| {
                doc.err(&format!("{ptr}/{key}"), format!("`{key}` must be an array"))
            })?;
            if arms.is_empty() {
                return Err(doc.err(&format!("{ptr}/{key}"), format!("`{key}` has no schemas")));
            }
            let nullable = strip_null(schema);
            let non_null: Vec<(usize, &Value)> = match &nullable {
                Some(s) => s.arms.clone(),
                None => arms.iter().enumerate().collect(),
            };
            let inner = match non_null.as_slice() {
                [] => Ty::Value,
                [(i, one)] => {
                    self.convert(doc, one, &format!("{ptr}/{key}/{i}"), ctx, depth + 1)?
                }
                many => {
                    let name = self.fresh_name(ctx, &doc.action.clone());
                    let arms: Vec<(String, &Value)> = many
                        .iter()
                        .map(|(i, a)| (format!("{ptr}/{key}/{i}"), *a))
                        .collect();
                    self.build_union(doc, &arms, ptr, &name, describe(schema), depth)?;
                    Ty::Named(name)
                }
            };
            return Ok(if nullable.is_some() {
                Ty::Opt(Box::new(inner))
            } else {
                inner
            });
        }
        if obj.contains_key("enum") {
            let name = self.fresh_name(ctx, &doc.action.clone());
            self.build_enum(doc, schema, ptr, &name)?;
            return Ok(Ty::Named(name));
        }
        if let Some(c) = obj.get("const") {
            return Ok(match c {
                Value::String(_) => Ty::Str,
                Value::Bool(_) => Ty::Bool,
                Value::Number(n) if n.is_i64() || n.is_u64() => Ty::Int,
                Value::Number(_) => Ty::Num,
                _ => Ty::Value,
            });
        }
        let types: Vec<&str> = match obj.get("type") {
            None => {
                if obj.contains_key("properties") || obj.contains_key("additionalProperties") {
                    vec!["object"]
                } else if obj.contains_key("items") || obj.contains_key("prefixItems") {
                    vec!["array"]
                } else {
                    return Ok(Ty::Value);
                }
            }
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => {
                let mut out = Vec::with_capacity(ts.len());
                for t in ts {
                    out.push(t.as_str().ok_or_else(|| {
                        doc.err(&format!("{ptr}/type"), "`type` entries must be strings")
                    })?);
                }
                out
            }
            Some(_) => {
                return Err(doc.err(
                    &format!("{ptr}/type"),
                    "`type` must be a string or an array of strings",
                ))
            }
        };
        let nullable = types.contains(&"null");
        let non_null: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
        let inner = match non_null.as_slice() {
            [] => Ty::Value,
            [one] => self.convert_typed(doc, schema, ptr, ctx, one, depth)?,
            many => {
                let name = self.fresh_name(ctx, &doc.action.clone());
                let mut arms: Vec<(String, Ty)> = Vec::new();
                let mut taken = BTreeSet::new();
                for t in many {
                    let ty = self.convert_typed(
                        doc,
                        schema,
                        ptr,
                        &format!("{name}{}", pascal_ident(t)),
                        t,
                        depth,
                    )?;
                    arms.push((unique(&arm_name(&ty), &mut taken), ty));
                }
                order_arms(&mut arms);
                self.defs.push(Def::Union {
                    name: name.clone(),
                    doc: describe(schema),
                    dir: doc.dir,
                    arms,
                });
                Ty::Named(name)
            }
        };
        Ok(if nullable {
            Ty::Opt(Box::new(inner))
        } else {
            inner
        })
    }

    fn convert_typed(
        &mut self,
        doc: &mut Doc<'_>,
        schema: &Value,
        ptr: &str,
        ctx: &str,
        t: &str,
        depth: usize,
    ) -> Result<Ty, CodegenError> {
        Ok(match t {
            "string" => Ty::Str,
            "integer" => Ty::Int,
            "number" => Ty::Num,
            "boolean" => Ty::Bool,
            "array" => {
                if let Some(prefix) = schema.get("prefixItems") {
                    let prefix = prefix.as_array().ok_or_else(|| {
                        doc.err(
                            &format!("{ptr}/prefixItems"),
                            "`prefixItems` must be an array",
                        )
                    })?;
                    if prefix.is_empty() || prefix.len() > 12 {
                        return Err(doc.err(
                            &format!("{ptr}/prefixItems"),
                            "`prefixItems` must list 1 to 12 schemas",
                        ));
                    }
                    let mut tys = Vec::with_capacity(prefix.len());
                    for (i, p) in prefix.iter().enumerate() {
                        tys.push(self.convert(
                            doc,
                            p,
                            &format!("{ptr}/prefixItems/{i}"),
                            &format!("{ctx}{i}"),
                            depth + 1,
                        )?);
                    }
                    Ty::Tuple(tys)
                } else if let Some(items) = schema.get("items") {
                    let item_ctx = format!("{ctx}Item");
                    Ty::Vec(Box::new(self.convert(
                        doc,
                        items,
                        &format!("{ptr}/items"),
                        &item_ctx,
                        depth + 1,
                    )?))
                } else {
                    Ty::Vec(Box::new(Ty::Value))
                }
            }
            "object" => {
                if is_struct(schema) {
                    let name = self.fresh_name(ctx, &doc.action.clone());
                    self.build_struct(doc, schema, ptr, &name, depth)?;
                    Ty::Named(name)
                } else if let Some(pp) = schema.get("patternProperties").and_then(Value::as_object)
                {
                    let mut value_ty: Option<Ty> = None;
                    for (pattern, sub) in pp {
                        let sub_ptr =
                            format!("{ptr}/patternProperties/{}", pointer_segment(pattern));
                        let ty =
                            self.convert(doc, sub, &sub_ptr, &format!("{ctx}Value"), depth + 1)?;
                        value_ty = match value_ty {
                            None => Some(ty),
                            Some(prev) if prev == ty => Some(prev),
                            Some(_) => Some(Ty::Value),
                        };
                    }
                    Ty::Map(Box::new(Ty::Str), Box::new(value_ty.unwrap_or(Ty::Value)))
                } else {
                    match schema.get("additionalProperties") {
                        Some(ap @ Value::Object(_)) => {
                            let key = match schema.get("propertyNames") {
                                Some(pn) => {
                                    let k = self.convert(
                                        doc,
                                        pn,
                                        &format!("{ptr}/propertyNames"),
                                        &format!("{ctx}Key"),
                                        depth + 1,
                                    )?;
                                    match k {
                                        Ty::Named(_) | Ty::Str => k,
                                        _ => Ty::Str,
                                    }
                                }
                                None => Ty::Str,
                            };
                            let value = self.convert(
                                doc,
                                ap,
                                &format!("{ptr}/additionalProperties"),
                                &format!("{ctx}Value"),
                                depth + 1,
                            )?;
                            Ty::Map(Box::new(key), Box::new(value))
                        }
                        _ => Ty::Value,
                    }
                }
            }
            "null" => Ty::Value,
            other => {
                return Err(doc.err(
                    &format!("{ptr}/type"),
                    format!("unknown JSON Schema type `{other}`"),
                ))
            }
        })
    }

    fn build_struct(
        &mut self,
        doc: &mut Doc<'_>,
        schema: &Value,
        ptr: &str,
        name: &str,
        depth: usize,
    ) -> Result<(), CodegenError> {
        if depth > MAX_DEPTH {
            return Err(doc.err(ptr, format!("schema nested deeper than {MAX_DEPTH} levels")));
        }
        let props = schema
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                doc.err(
                    &format!("{ptr}/properties"),
                    "`properties` must be an object",
                )
            })?;
        let required: BTreeSet<&str> = match schema.get("required") {
            None => BTreeSet::new(),
            Some(Value::Array(r)) => r.iter().filter_map(Value::as_str).collect(),
            Some(_) => {
                return Err(doc.err(
                    &format!("{ptr}/required"),
                    "`required` must be an array of names",
                ))
            }
        };
        for r in &required {
            if !props.contains_key(*r) {
                return Err(doc.err(
                    &format!("{ptr}/required"),
                    format!("required property `{r}` is not in `properties`"),
                ));
            }
        }
        let mut idents: BTreeSet<String> = BTreeSet::new();
        let mut fields = Vec::with_capacity(props.len());
        for (json, sub) in props {
            let sub_ptr = format!("{ptr}/properties/{}", pointer_segment(json));
            let ctx = format!("{name}{}", pascal_ident(json));
            let ty = self.convert(doc, sub, &sub_ptr, &ctx, depth + 1)?;
            let is_required = required.contains(json.as_str());
            let ty = match ty {
                Ty::Opt(_) => ty,
                other if !is_required => Ty::Opt(Box::new(other)),
                other => other,
            };
            let ident = unique(&snake_ident(json), &mut idents);
            fields.push(Field {
                ident,
                json: json.clone(),
                ty,
                required: is_required,
                doc: describe(sub),
            });
        }
        self.defs.push(Def::Struct {
            name: name.to_string(),
            doc: describe(schema),
            dir: doc.dir,
            fields,
        });
        Ok(())
    }

    fn build_enum(
        &mut self,
        doc: &mut Doc<'_>,
        schema: &Value,
        ptr: &str,
        name: &str,
    ) -> Result<(), CodegenError> {
        let values = schema
            .get("enum")
            .and_then(Value::as_array)
            .ok_or_else(|| doc.err(&format!("{ptr}/enum"), "`enum` must be an array"))?;
        if values.is_empty() {
            return Err(doc.err(&format!("{ptr}/enum"), "`enum` lists no values"));
        }
        if values.len() > MAX_ENUM_VALUES {
            return Err(doc.err(
                &format!("{ptr}/enum"),
                format!("`enum` lists {} values; more than {MAX_ENUM_VALUES} is not supported (use a string)", values.len()),
            ));
        }
        let mut idents = BTreeSet::new();
        idents.insert("Unknown".to_string());
        let mut out = Vec::with_capacity(values.len());
        for (i, v) in dedupe_values(values).into_iter().enumerate() {
            let s = v.as_str().ok_or_else(|| {
                doc.err(
                    &format!("{ptr}/enum/{i}"),
                    format!("enum value {v} is not a string; only string enums are supported"),
                )
            })?;
            out.push((unique(&pascal_ident(s), &mut idents), s.to_string()));
        }
        self.defs.push(Def::Enum {
            name: name.to_string(),
            doc: describe(schema),
            dir: doc.dir,
            values: out,
        });
        Ok(())
    }

    fn build_union(
        &mut self,
        doc: &mut Doc<'_>,
        arms: &[(String, &Value)],
        ptr: &str,
        name: &str,
        doc_lines: Vec<String>,
        depth: usize,
    ) -> Result<(), CodegenError> {
        let _ = ptr;
        let mut out: Vec<(String, Ty)> = Vec::with_capacity(arms.len());
        let mut taken = BTreeSet::new();
        taken.insert("Other".to_string());
        for (i, (arm_ptr, arm)) in arms.iter().enumerate() {
            let ty = self.convert(doc, arm, arm_ptr, &format!("{name}{}", i + 1), depth + 1)?;
            let ty = match ty {
                // "X or null" inside a union: null is covered by the outer Option.
                Ty::Opt(inner) => *inner,
                other => other,
            };
            if out.iter().any(|(_, t)| *t == ty) {
                continue;
            }
            out.push((unique(&arm_name(&ty), &mut taken), ty));
        }
        order_arms(&mut out);
        self.defs.push(Def::Union {
            name: name.to_string(),
            doc: doc_lines,
            dir: doc.dir,
            arms: out,
        });
        Ok(())
    }

    /// Wraps fields that make a type contain itself (without a `Vec` or map in
    /// between) in `Box`, so recursive schemas compile.
    pub fn box_cycles(&mut self) {
        let edges: BTreeMap<String, BTreeSet<String>> = self
            .defs
            .iter()
            .map(|d| (d.name().to_string(), direct_refs_of(d)))
            .collect();
        let reaches = |from: &str, to: &str| -> bool {
            let mut seen = BTreeSet::new();
            let mut stack = vec![from.to_string()];
            while let Some(n) = stack.pop() {
                if n == to {
                    return true;
                }
                if seen.insert(n.clone()) {
                    if let Some(next) = edges.get(&n) {
                        stack.extend(next.iter().cloned());
                    }
                }
            }
            false
        };
        let mut boxes: Vec<(usize, usize)> = Vec::new();
        for (di, d) in self.defs.iter().enumerate() {
            let (name, tys): (&str, Vec<&Ty>) = match d {
                Def::Struct { name, fields, .. } => (name, fields.iter().map(|f| &f.ty).collect()),
                Def::Union { name, arms, .. } => (name, arms.iter().map(|a| &a.1).collect()),
                _ => continue,
            };
            for (fi, ty) in tys.into_iter().enumerate() {
                let mut refs = BTreeSet::new();
                direct_refs(ty, &mut refs);
                if refs.iter().any(|r| reaches(r, name)) {
                    boxes.push((di, fi));
                }
            }
        }
        for (di, fi) in boxes {
            match self.defs.get_mut(di) {
                Some(Def::Struct { fields, .. }) => {
                    if let Some(f) = fields.get_mut(fi) {
                        f.ty = boxed(f.ty.clone());
                    }
                }
                Some(Def::Union { arms, .. }) => {
                    if let Some(a) = arms.get_mut(fi) {
                        a.1 = boxed(a.1.clone());
                    }
                }
                _ => {}
            }
        }
    }
}

fn boxed(ty: Ty) -> Ty {
    match ty {
        Ty::Opt(inner) => Ty::Opt(Box::new(boxed(*inner))),
        other => Ty::Boxed(Box::new(other)),
    }
}

fn direct_refs_of(d: &Def) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match d {
        Def::Struct { fields, .. } => fields.iter().for_each(|f| direct_refs(&f.ty, &mut out)),
        Def::Union { arms, .. } => arms.iter().for_each(|a| direct_refs(&a.1, &mut out)),
        Def::Alias { ty, .. } => direct_refs(ty, &mut out),
        Def::Enum { .. } => {}
    }
    out
}

/// Named types a type contains by value (not behind `Vec`, map or `Box`).
fn direct_refs(ty: &Ty, out: &mut BTreeSet<String>) {
    match ty {
        Ty::Named(n) => {
            out.insert(n.clone());
        }
        Ty::Opt(inner) => direct_refs(inner, out),
        Ty::Tuple(items) => items.iter().for_each(|t| direct_refs(t, out)),
        _ => {}
    }
}

/// Whether a schema is an object with named properties (a struct).
fn is_struct(schema: &Value) -> bool {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty())
        && schema.get("type").is_none_or(|t| t == "object")
}

/// The arms of an `anyOf`/`oneOf` without null arms, with their pointers.
fn union_arms(schema: &Value) -> Option<Vec<(String, &Value)>> {
    for key in ["anyOf", "oneOf"] {
        if let Some(arms) = schema.get(key).and_then(Value::as_array) {
            if strip_null(schema).is_some() {
                return None;
            }
            return Some(
                arms.iter()
                    .enumerate()
                    .map(|(i, a)| (format!("/{key}/{i}"), a))
                    .collect(),
            );
        }
    }
    None
}

fn arm_name(ty: &Ty) -> String {
    match ty {
        Ty::Str => "String".into(),
        Ty::Int => "Integer".into(),
        Ty::Num => "Number".into(),
        Ty::Bool => "Boolean".into(),
        Ty::Value => "Any".into(),
        Ty::Vec(_) => "List".into(),
        Ty::Tuple(_) => "Tuple".into(),
        Ty::Map(_, _) => "Map".into(),
        Ty::Opt(inner) | Ty::Boxed(inner) => arm_name(inner),
        Ty::Named(n) => n.clone(),
    }
}

/// Untagged unions try arms in order: integers before numbers, so `3` stays an integer.
fn order_arms(arms: &mut [(String, Ty)]) {
    arms.sort_by_key(|(_, t)| match t.strip_opt() {
        Ty::Int => 0,
        Ty::Num => 1,
        _ => 0,
    });
}

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
