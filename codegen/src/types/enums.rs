//! Enums (`enum`) and constants (`const`).
//!
//! String enums derive serde. Enums of integers (pydantic's `IntEnum`,
//! `Literal[1, 2]`), booleans, null or a mix (`Literal['auto', 0, True, None]`)
//! keep each variant's own JSON value through hand-written impls (see
//! `emit`). A `const` becomes a unit-like [`Def::Const`] in requests, so the
//! caller never writes it, and the plain value type in responses.

use std::collections::BTreeSet;

use serde_json::Value;

use super::*;
use crate::error::CodegenError;
use crate::normalize::{dedupe_values, pascal_ident, unique};

impl ModuleTypes {
    pub(super) fn build_enum(
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
            if v.is_array() || v.is_object() {
                return Err(doc.err(
                    &format!("{ptr}/enum/{i}"),
                    format!("enum value {v} is a list or an object; only strings, numbers, booleans and null are supported"),
                ));
            }
            out.push((unique(&value_ident(v), &mut idents), v.clone()));
        }
        self.defs.push(Def::Enum {
            name: name.to_string(),
            doc: describe(schema),
            dir: doc.dir,
            values: out,
        });
        Ok(())
    }

    /// A `const` schema: a [`Def::Const`] named after `ctx` in requests, the
    /// value's plain type in responses (a newer server may send another value).
    pub(super) fn build_const(
        &mut self,
        doc: &mut Doc<'_>,
        schema: &Value,
        value: &Value,
        ctx: &str,
    ) -> Ty {
        if doc.dir == Dir::Response || value.is_array() || value.is_object() {
            return plain_type(value);
        }
        let name = self.fresh_name(ctx, &doc.action.clone());
        self.defs.push(Def::Const {
            name: name.clone(),
            doc: describe(schema),
            value: value.clone(),
        });
        Ty::Named(name)
    }
}

/// The plain Rust type of a JSON value.
pub(super) fn plain_type(value: &Value) -> Ty {
    match value {
        Value::String(_) => Ty::Str,
        Value::Bool(_) => Ty::Bool,
        Value::Number(n) if n.is_i64() || n.is_u64() => Ty::Int,
        Value::Number(_) => Ty::Num,
        _ => Ty::Value,
    }
}

/// A variant identifier for an enum value: `per_residue` -> `PerResidue`,
/// `4` -> `V4`, `-1` -> `Minus1`, `0.5` -> `V0p5`, `true` -> `True`, null -> `Null`.
pub fn value_ident(v: &Value) -> String {
    match v {
        Value::String(s) => pascal_ident(s),
        Value::Number(n) => {
            let text = n.to_string();
            let (sign, digits) = match text.strip_prefix('-') {
                Some(rest) => ("Minus", rest.to_string()),
                None => ("V", text),
            };
            let digits: String = digits
                .chars()
                .map(|c| match c {
                    '.' => 'p',
                    '+' => 'p',
                    '-' => 'm',
                    c if c.is_ascii_alphanumeric() => c,
                    _ => '_',
                })
                .collect();
            format!("{sign}{digits}")
        }
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "Null".into(),
        _ => "Value".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn value_idents() {
        assert_eq!(value_ident(&json!("per_residue")), "PerResidue");
        assert_eq!(value_ident(&json!(4)), "V4");
        assert_eq!(value_ident(&json!(-1)), "Minus1");
        assert_eq!(value_ident(&json!(0.5)), "V0p5");
        assert_eq!(value_ident(&json!(true)), "True");
        assert_eq!(value_ident(&json!(null)), "Null");
    }
}
