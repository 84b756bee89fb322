//! Unions (`anyOf` / `oneOf`): untagged and discriminated.

use std::collections::BTreeSet;

use serde_json::Value;

use super::convert::is_struct;
use super::*;
use crate::error::CodegenError;
use crate::normalize::{family_type_name, pascal_ident, pointer_segment, strip_null, unique};

impl ModuleTypes {
    /// Builds the union `name` of `schema`'s non-null `arms` (pointers
    /// absolute): an internally tagged [`Def::Tagged`] when the arms are told
    /// apart by a tag property, else an untagged [`Def::Union`].
    #[allow(clippy::too_many_arguments)]
    pub(super) fn build_union(
        &mut self,
        doc: &mut Doc<'_>,
        schema: &Value,
        arms: &[(String, &Value)],
        name: &str,
        doc_lines: Vec<String>,
        depth: usize,
    ) -> Result<(), CodegenError> {
        if let Some(plan) = self.plan_tagged(doc, schema, arms, depth)? {
            return self.build_tagged(doc, &plan, name, doc_lines, &[], depth);
        }
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
            shapes: vec![Vec::new(); out.len()],
            arms: out,
        });
        Ok(())
    }

    /// How `arms` are told apart by a tag, if they are: the `discriminator`'s
    /// `propertyName` (pydantic's `Field(discriminator=..)`), or else the first
    /// property that every arm requires with a distinct constant (a union of
    /// models with `Literal` tags and no `discriminator` key). `None` when any
    /// arm has no tag value or two arms share one (then the union is untagged).
    fn plan_tagged(
        &self,
        doc: &Doc<'_>,
        schema: &Value,
        arms: &[(String, &Value)],
        depth: usize,
    ) -> Result<Option<TagPlan>, CodegenError> {
        if depth > MAX_DEPTH || arms.len() < 2 {
            return Ok(None);
        }
        let explicit = schema
            .pointer("/discriminator/propertyName")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mapping = schema
            .pointer("/discriminator/mapping")
            .and_then(Value::as_object);
        let resolved: Vec<(String, Value)> = arms
            .iter()
            .map(|(p, a)| self.resolve_arm(doc, a, p, depth))
            .collect::<Result<_, _>>()?;
        let tag = match explicit {
            Some(t) => t,
            None => match implicit_tag(&resolved) {
                Some(t) => t,
                None => return Ok(None),
            },
        };
        let mut out = Vec::with_capacity(arms.len());
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for ((_, arm), (res_ptr, res)) in arms.iter().zip(&resolved) {
            let mut tags: Vec<String> = Vec::new();
            if let Some(m) = mapping {
                for (k, target) in m {
                    let hit = match target {
                        Value::String(r) => arm.get("$ref").and_then(Value::as_str) == Some(r),
                        other => other == *arm,
                    };
                    if hit {
                        tags.push(k.clone());
                    }
                }
            }
            let shape = if is_struct(res) {
                if tags.is_empty() {
                    tags = const_values(res, &tag);
                }
                ArmShape::Struct {
                    schema: res.clone(),
                    ptr: res_ptr.clone(),
                    def: arm
                        .get("$ref")
                        .and_then(Value::as_str)
                        .and_then(|r| r.strip_prefix("#/$defs/"))
                        .map(str::to_string),
                }
            } else if let Some(inner_arms) = union_arms(res) {
                let inner_arms: Vec<(String, &Value)> = inner_arms
                    .into_iter()
                    .map(|(p, a)| (format!("{res_ptr}{p}"), a))
                    .collect();
                let nested = match self.plan_tagged(doc, res, &inner_arms, depth + 1)? {
                    Some(n) => n,
                    None => return Ok(None),
                };
                if tags.is_empty() {
                    tags = nested_tags(&nested, &tag);
                }
                ArmShape::Nested {
                    plan: Box::new(nested),
                    doc: describe(res),
                }
            } else {
                return Ok(None);
            };
            if tags.is_empty() || tags.iter().any(|t| !seen.insert(t.clone())) {
                return Ok(None);
            }
            out.push((tags, shape));
        }
        Ok(Some(TagPlan { tag, arms: out }))
    }

    /// An arm with a top-level `$ref` (or `allOf`) resolved, and its pointer.
    fn resolve_arm(
        &self,
        doc: &Doc<'_>,
        arm: &Value,
        ptr: &str,
        depth: usize,
    ) -> Result<(String, Value), CodegenError> {
        let mut cur = (ptr.to_string(), arm.clone());
        for _ in 0..MAX_DEPTH {
            if let Some(m) = self.merged_all_of(doc, &cur.1, &cur.0, depth + 1)? {
                cur.1 = m;
                continue;
            }
            match cur.1.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let name = doc.ref_name(r, &format!("{}/$ref", cur.0))?;
                    let def = doc
                        .root
                        .get("$defs")
                        .and_then(|d| d.get(name))
                        .cloned()
                        .unwrap_or(Value::Null);
                    cur = (format!("/$defs/{}", pointer_segment(name)), def);
                }
                None => return Ok(cur),
            }
        }
        Err(doc.err(ptr, "`$ref` chain too long"))
    }

    /// Pushes the [`Def::Tagged`] of `plan` named `name`; arm structs leave out
    /// `strip` (the tags of the enclosing unions) and this union's tag.
    fn build_tagged(
        &mut self,
        doc: &mut Doc<'_>,
        plan: &TagPlan,
        name: &str,
        doc_lines: Vec<String>,
        strip: &[String],
        depth: usize,
    ) -> Result<(), CodegenError> {
        let mut strip: Vec<String> = strip.to_vec();
        strip.push(plan.tag.clone());
        let mut taken = BTreeSet::new();
        taken.insert("Unknown".to_string());
        let mut arms = Vec::with_capacity(plan.arms.len());
        for (tags, shape) in &plan.arms {
            let first = tags.first().map(String::as_str).unwrap_or("");
            let ident = unique(&pascal_ident(first), &mut taken);
            let ty = match shape {
                ArmShape::Struct { schema, ptr, def } => {
                    let key = (
                        doc.dir,
                        format!("{strip:?}\u{3}{}", fingerprint(doc.root, schema)),
                    );
                    if let Some(known) = self.by_fingerprint.get(&key) {
                        Ty::Named(known.clone())
                    } else {
                        let base = match def {
                            Some(d) => family_type_name(d, &self.family),
                            None => format!("{name}{ident}"),
                        };
                        let n = self.fresh_name(&base, &doc.action.clone());
                        self.by_fingerprint.insert(key, n.clone());
                        self.build_struct_except(doc, schema, ptr, &n, depth + 1, &strip)?;
                        Ty::Named(n)
                    }
                }
                ArmShape::Nested { plan, doc: lines } => {
                    let n = self.fresh_name(&format!("{name}{ident}"), &doc.action.clone());
                    self.build_tagged(doc, plan, &n, lines.clone(), &strip, depth + 1)?;
                    Ty::Named(n)
                }
            };
            arms.push(TaggedArm {
                ident,
                tags: tags.clone(),
                ty,
            });
        }
        self.defs.push(Def::Tagged {
            name: name.to_string(),
            doc: doc_lines,
            dir: doc.dir,
            tag: plan.tag.clone(),
            arms,
        });
        Ok(())
    }
}

/// A discriminated union's plan: the tag property and, per arm, its tag values.
#[derive(Debug)]
pub(super) struct TagPlan {
    tag: String,
    arms: Vec<(Vec<String>, ArmShape)>,
}

#[derive(Debug)]
enum ArmShape {
    /// An object schema (resolved), with its `$defs` name when it had one.
    Struct {
        schema: Value,
        ptr: String,
        def: Option<String>,
    },
    /// A nested discriminated union.
    Nested {
        plan: Box<TagPlan>,
        doc: Vec<String>,
    },
}

/// The string constants a struct schema fixes `tag` to (`const`, or `enum`).
fn const_values(schema: &Value, tag: &str) -> Vec<String> {
    let Some(p) = schema.get("properties").and_then(|p| p.get(tag)) else {
        return Vec::new();
    };
    if let Some(c) = p.get("const").and_then(Value::as_str) {
        return vec![c.to_string()];
    }
    match p.get("enum").and_then(Value::as_array) {
        Some(e) if e.iter().all(Value::is_string) => e
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The tag values of a nested union for the outer tag `tag`: every arm's.
fn nested_tags(nested: &TagPlan, tag: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, shape) in &nested.arms {
        let vals = match shape {
            ArmShape::Struct { schema, .. } => const_values(schema, tag),
            ArmShape::Nested { plan, .. } => nested_tags(plan, tag),
        };
        for v in vals {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

/// The first property every (struct) arm requires with one distinct string
/// constant (`const` or a one-value `enum`).
fn implicit_tag(arms: &[(String, Value)]) -> Option<String> {
    let (_, first) = arms.first()?;
    let props = first.get("properties")?.as_object()?;
    'candidates: for p in props.keys() {
        let mut seen = BTreeSet::new();
        for (_, arm) in arms {
            if !is_struct(arm) {
                return None;
            }
            let required = arm
                .get("required")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|x| x.as_str() == Some(p)));
            let vals = const_values(arm, p);
            if !required || vals.len() != 1 || !vals.iter().all(|v| seen.insert(v.clone())) {
                continue 'candidates;
            }
        }
        return Some(p.clone());
    }
    None
}

/// The arms of an `anyOf`/`oneOf` without null arms, with their pointers.
pub(super) fn union_arms(schema: &Value) -> Option<Vec<(String, &Value)>> {
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

pub(super) fn arm_name(ty: &Ty) -> String {
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

/// Untagged unions try arms in schema order, except that an integer arm goes
/// right before the first number arm, so `3` stays an integer and `3.0` a
/// number whatever the order (`Union[float, int]` with `1` is an int for
/// pydantic's smart mode, `Union[int, float]` with `1.0` a float).
pub(super) fn order_arms(arms: &mut Vec<(String, Ty)>) {
    let num = arms
        .iter()
        .position(|(_, t)| matches!(t.strip_opt(), Ty::Num));
    let int = arms
        .iter()
        .position(|(_, t)| matches!(t.strip_opt(), Ty::Int));
    if let (Some(n), Some(i)) = (num, int) {
        if i > n {
            let arm = arms.remove(i);
            arms.insert(n, arm);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_go_before_numbers_and_the_rest_keeps_schema_order() {
        let mut arms = vec![
            ("Number".to_string(), Ty::Num),
            ("String".to_string(), Ty::Str),
            ("Integer".to_string(), Ty::Int),
        ];
        order_arms(&mut arms);
        let names: Vec<&str> = arms.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Integer", "Number", "String"]);
        let mut arms = vec![
            ("Number".to_string(), Ty::Num),
            ("String".to_string(), Ty::Str),
        ];
        order_arms(&mut arms);
        assert_eq!(arms[0].0, "Number");
    }
}
