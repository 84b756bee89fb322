//! Unions (`anyOf` / `oneOf`): untagged and discriminated.

use std::collections::BTreeSet;

use serde_json::Value;

use super::*;
use crate::error::CodegenError;
use crate::normalize::{strip_null, unique};

impl ModuleTypes {
    pub(super) fn build_union(
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

/// Untagged unions try arms in order: integers before numbers, so `3` stays an integer.
pub(super) fn order_arms(arms: &mut [(String, Ty)]) {
    arms.sort_by_key(|(_, t)| match t.strip_opt() {
        Ty::Int => 0,
        Ty::Num => 1,
        _ => 0,
    });
}
