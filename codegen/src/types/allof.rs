//! `allOf`: merging schemas, through the catalog's one merge
//! ([`biolm_catalog::allof`]: properties and `required` united, types
//! intersected, bounds tightened, contradictions refused with the arm's
//! pointer). This module decides *when* the generator merges: an `allOf` of
//! two or more schemas, or a `$ref` (or a one-arm `allOf`) with sibling
//! `properties`/`required`/`additionalProperties`; a bare `$ref` or a one-arm
//! `allOf` with only doc siblings stays a reference to the named type.

use serde_json::Value;

use super::*;
use crate::error::CodegenError;

impl ModuleTypes {
    /// The merged schema when `schema` is an `allOf` of two or more schemas,
    /// or a `$ref` with sibling `properties`/`required`; `None` otherwise.
    pub(super) fn merged_all_of(
        &self,
        doc: &Doc<'_>,
        schema: &Value,
        ptr: &str,
        depth: usize,
    ) -> Result<Option<Value>, CodegenError> {
        let Some(obj) = schema.as_object() else {
            return Ok(None);
        };
        if depth > MAX_DEPTH {
            return Err(doc.err(ptr, format!("schema nested deeper than {MAX_DEPTH} levels")));
        }
        let structural_siblings = obj.keys().any(|k| is_structural(k));
        match obj.get("allOf") {
            Some(Value::Array(all)) if all.len() < 2 && !structural_siblings => return Ok(None),
            Some(Value::Array(_)) => {}
            Some(_) => return Err(doc.err(&format!("{ptr}/allOf"), "`allOf` must be an array")),
            None if obj.contains_key("$ref") && structural_siblings => {}
            None => return Ok(None),
        }
        biolm_catalog::allof::merge_all_of(doc.root, schema, ptr)
            .map(Some)
            .map_err(|e| doc.err(&e.pointer, e.message))
    }
}

/// Whether a sibling of `$ref` changes the shape (so it must be merged).
fn is_structural(key: &str) -> bool {
    matches!(key, "properties" | "required" | "additionalProperties")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    fn doc(root: &Value) -> Doc<'_> {
        Doc::new(
            root,
            PathBuf::from("t.json"),
            String::new(),
            Dir::Request,
            "predict",
        )
    }

    #[test]
    fn contradictions_are_errors_naming_the_file_and_the_arm() {
        let root = json!({});
        let d = doc(&root);
        let s = json!({"allOf": [{"type": "string"}, {"type": "integer"}]});
        let e = ModuleTypes::default()
            .merged_all_of(&d, &s, "/x", 0)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("t.json") && e.contains("/x/allOf/1") && e.contains("contradiction"),
            "{e}"
        );
    }

    #[test]
    fn ref_with_siblings_and_two_refs_merge() {
        let root = json!({"$defs": {
            "A": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            "B": {"type": "object", "properties": {"b": {"type": "string"}}}
        }});
        let d = doc(&root);
        let t = ModuleTypes::default();
        let s =
            json!({"allOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}], "description": "both"});
        let m = t.merged_all_of(&d, &s, "", 0).unwrap().unwrap();
        assert_eq!(m["description"], "both");
        assert_eq!(m["required"], json!(["a"]));
        assert!(m["properties"]["b"].is_object());
        let single = json!({"allOf": [{"$ref": "#/$defs/A"}]});
        assert!(t.merged_all_of(&d, &single, "", 0).unwrap().is_none());
        let sibling = json!({"$ref": "#/$defs/A", "required": ["b"]});
        let m = t.merged_all_of(&d, &sibling, "", 0).unwrap().unwrap();
        assert_eq!(m["required"], json!(["b", "a"]), "the outer schema first");
        let doc_only = json!({"$ref": "#/$defs/A", "description": "an A"});
        assert!(t.merged_all_of(&d, &doc_only, "", 0).unwrap().is_none());
    }
}
