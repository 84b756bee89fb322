//! Schema -> type model: references, structs, arrays, maps and dispatch to
//! the enum, union and `allOf` builders.

use std::collections::BTreeSet;

use serde_json::Value;

use super::unions::{arm_name, order_arms, union_arms};
use super::*;
use crate::error::CodegenError;
use crate::normalize::{
    family_type_name, pascal_ident, pointer_segment, snake_ident, strip_null, unique,
};

impl ModuleTypes {
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
            .unwrap_or_else(|| family_type_name(name, &self.family));
        let rust = self.fresh_name(&base, &doc.action.clone());
        doc.refs.insert(name.to_string(), rust.clone());
        self.by_fingerprint.insert(key, rust.clone());
        self.named_def(doc, schema, &ptr, &rust, depth + 1)?;
        Ok(rust)
    }

    /// Converts `schema` into a definition called `name` (already reserved).
    pub(super) fn named_def(
        &mut self,
        doc: &mut Doc<'_>,
        schema: &Value,
        ptr: &str,
        name: &str,
        depth: usize,
    ) -> Result<(), CodegenError> {
        let merged = self.merged_all_of(doc, schema, ptr, depth)?;
        let schema = merged.as_ref().unwrap_or(schema);
        let doc_lines = describe(schema);
        if is_struct(schema) {
            return self.build_struct(doc, schema, ptr, name, depth);
        }
        if schema.get("enum").is_some() {
            return self.build_enum(doc, schema, ptr, name);
        }
        if let Some(arms) = union_arms(schema) {
            if arms.len() > 1 {
                let arms: Vec<(String, &Value)> = arms
                    .into_iter()
                    .map(|(p, a)| (format!("{ptr}{p}"), a))
                    .collect();
                return self.build_union(doc, schema, &arms, name, doc_lines, depth);
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
                    || schema.get("allOf").is_some()
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
            let doc_lines = vec![format!(" {role} (the same type as `{}`).", ty.rust())];
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
        if let Some(r) = obj.get("$ref").filter(|_| !obj.contains_key("properties")) {
            let r = r
                .as_str()
                .ok_or_else(|| doc.err(ptr, "`$ref` must be a string"))?;
            let name = doc.ref_name(r, &format!("{ptr}/$ref"))?;
            return Ok(Ty::Named(self.def_type(doc, name, None, depth)?));
        }
        if let Some(merged) = self.merged_all_of(doc, schema, ptr, depth)? {
            return self.convert(doc, &merged, ptr, ctx, depth + 1);
        }
        if let Some(all) = obj.get("allOf") {
            return match all.as_array().map(Vec::as_slice) {
                Some([one]) => self.convert(doc, one, &format!("{ptr}/allOf/0"), ctx, depth + 1),
                _ => Err(doc.err(&format!("{ptr}/allOf"), "`allOf` must list schemas")),
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
                    self.build_union(doc, schema, &arms, &name, describe(schema), depth)?;
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
            return Ok(self.build_const(doc, schema, c, ctx));
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
                    shapes: vec![Vec::new(); arms.len()],
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

    pub(super) fn convert_typed(
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
                // A tuple: `prefixItems` (2020-12), or draft-07's `items: [..]`.
                let tuple = match (schema.get("prefixItems"), schema.get("items")) {
                    (Some(p), _) => Some(("prefixItems", p, schema.get("items"))),
                    (None, Some(i @ Value::Array(_))) => {
                        Some(("items", i, schema.get("additionalItems")))
                    }
                    _ => None,
                };
                if let Some((key, prefix, rest)) = tuple {
                    let prefix = prefix.as_array().ok_or_else(|| {
                        doc.err(&format!("{ptr}/{key}"), format!("`{key}` must be an array"))
                    })?;
                    if prefix.is_empty() || prefix.len() > 12 {
                        return Err(doc.err(
                            &format!("{ptr}/{key}"),
                            format!("a tuple (`{key}`) must list 1 to 12 schemas"),
                        ));
                    }
                    let mut tys = Vec::with_capacity(prefix.len());
                    for (i, p) in prefix.iter().enumerate() {
                        tys.push(self.convert(
                            doc,
                            p,
                            &format!("{ptr}/{key}/{i}"),
                            &format!("{ctx}{i}"),
                            depth + 1,
                        )?);
                    }
                    let max = schema.get("maxItems").and_then(Value::as_u64);
                    let closed = matches!(rest, None | Some(Value::Bool(false)))
                        || max.is_some_and(|m| m <= prefix.len() as u64);
                    if closed {
                        Ty::Tuple(tys)
                    } else {
                        // Fixed leading items then any number of others
                        // (`tuple[int, *tuple[str, ...]]`): a list of values.
                        Ty::Vec(Box::new(Ty::Value))
                    }
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

    pub(super) fn build_struct(
        &mut self,
        doc: &mut Doc<'_>,
        schema: &Value,
        ptr: &str,
        name: &str,
        depth: usize,
    ) -> Result<(), CodegenError> {
        self.build_struct_except(doc, schema, ptr, name, depth, &[])
    }

    /// [`Self::build_struct`] leaving out the properties in `skip` (the tags of
    /// the discriminated unions the struct is an arm of).
    pub(super) fn build_struct_except(
        &mut self,
        doc: &mut Doc<'_>,
        schema: &Value,
        ptr: &str,
        name: &str,
        depth: usize,
        skip: &[String],
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
        idents.insert("extra".to_string());
        for (json, sub) in props {
            if skip.contains(json) {
                continue;
            }
            let sub_ptr = format!("{ptr}/properties/{}", pointer_segment(json));
            let ctx = format!("{name}{}", pascal_ident(json));
            let ty = self.convert(doc, sub, &sub_ptr, &ctx, depth + 1)?;
            let is_required = required.contains(json.as_str());
            let nullable = matches!(ty, Ty::Opt(_));
            let ty = match ty {
                Ty::Opt(_) => ty,
                other if !is_required => Ty::Opt(Box::new(other)),
                other => other,
            };
            let ident = unique(&snake_ident(json), &mut idents);
            let fixed = doc.dir == Dir::Request
                && sub.get("const").is_some()
                && {
                    matches!(ty.strip_opt(), Ty::Named(n) if self.defs.iter().any(|d| matches!(d, Def::Const { name, .. } if name == n)))
                };
            let deprecated = sub.get("deprecated").and_then(Value::as_bool) == Some(true);
            // The limits of an `allOf` field are those of the merged schema.
            let merged = self.merged_all_of(doc, sub, &sub_ptr, depth + 1)?;
            let mut lines = describe(merged.as_ref().unwrap_or(sub));
            if deprecated {
                if !lines.is_empty() {
                    lines.push(String::new());
                }
                lines.push(" Deprecated: the schema marks this field deprecated.".to_string());
            }
            fields.push(Field {
                ident,
                json: json.clone(),
                ty,
                required: is_required,
                doc: lines,
                fixed,
                deprecated,
                nullable,
            });
        }
        // Fields beyond the named ones (`extra='allow'`): a flattened map.
        let extra = match schema.get("additionalProperties") {
            Some(Value::Bool(true)) => Some(Ty::Value),
            Some(ap @ Value::Object(o)) if !o.is_empty() => {
                let sub_ptr = format!("{ptr}/additionalProperties");
                let t = self.convert(doc, ap, &sub_ptr, &format!("{name}Extra"), depth + 1)?;
                Some(t)
            }
            Some(Value::Object(_)) => Some(Ty::Value),
            _ => None,
        };
        self.defs.push(Def::Struct {
            name: name.to_string(),
            doc: describe(schema),
            dir: doc.dir,
            fields,
            extra,
            closed: schema.get("additionalProperties") == Some(&Value::Bool(false)),
        });
        Ok(())
    }
}

/// Whether a schema is an object with named properties (a struct).
pub(super) fn is_struct(schema: &Value) -> bool {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty())
        && schema.get("type").is_none_or(|t| t == "object")
}
