//! Enums (`enum`) and constants (`const`).

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
}
