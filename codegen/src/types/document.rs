//! One schema document being converted, and definition fingerprints.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use serde_json::Value;

use super::Dir;
use crate::error::CodegenError;
use crate::normalize::pascal_ident;

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
    pub(super) refs: HashMap<String, String>,
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

pub(super) fn collect_refs(v: &Value, out: &mut Vec<String>) {
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
