//! How unions are generated from schemas written by hand the way pydantic
//! 2.12 writes them.

use serde_json::{json, Value};

/// The generated code of a one-action family whose item has the field `u`.
fn generate(defs: Value, u: Value) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut defs = defs;
    defs["Item"] = json!({ "type": "object", "additionalProperties": false, "required": ["u"], "properties": { "u": u } });
    let request = json!({ "$defs": defs, "type": "object", "additionalProperties": false, "required": ["items"],
        "properties": { "items": { "type": "array", "items": { "$ref": "#/$defs/Item" }, "maxItems": 2 } } });
    let response = json!({ "type": "object", "properties": { "results": { "type": "array", "items": { "type": "object", "properties": { "ok": { "type": "boolean" } } } } } });
    let doc = json!({ "family": "demo", "display_name": "Demo", "variants": [{ "slug": "demo", "display_name": "Demo" }],
        "actions": [{ "name": "predict", "request": request, "response": response }] });
    std::fs::write(dir.path().join("demo.json"), doc.to_string()).unwrap();
    let set = biolm_catalog::load_dir(dir.path()).unwrap();
    biolm_codegen::generate(&set).unwrap().code
}

fn model(tag: &str, field: &str) -> Value {
    // `class X(BaseModel): kind: Literal["x"]; field: int`
    json!({ "properties": { "kind": { "const": tag, "title": "Kind", "type": "string" },
                            field: { "title": field, "type": "integer" } },
            "required": ["kind", field], "title": tag, "type": "object" })
}

#[test]
fn a_union_of_literal_tagged_models_without_a_discriminator_key_is_tagged() {
    // `Union[Cat, Dog]` without `Field(discriminator=...)`: pydantic writes `anyOf`.
    let code = generate(
        json!({ "Cat": model("cat", "lives"), "Dog": model("dog", "barks") }),
        json!({ "anyOf": [{ "$ref": "#/$defs/Cat" }, { "$ref": "#/$defs/Dog" }], "title": "U" }),
    );
    assert!(code.contains("#[serde(tag = \"kind\")]"), "{code}");
    assert!(code.contains("#[serde(rename = \"cat\")]"), "{code}");
    assert!(!code.contains("pub kind:"), "{code}");
}

#[test]
fn a_one_value_enum_tags_like_a_const_and_mapping_keys_win() {
    let mut cat = model("cat", "lives");
    cat["properties"]["kind"] = json!({ "enum": ["cat"], "type": "string" });
    let code = generate(
        json!({ "Cat": cat, "Dog": model("dog", "barks") }),
        json!({ "oneOf": [{ "$ref": "#/$defs/Cat" }, { "$ref": "#/$defs/Dog" }],
                "discriminator": { "propertyName": "kind", "mapping": { "feline": "#/$defs/Cat", "dog": "#/$defs/Dog" } } }),
    );
    assert!(code.contains("#[serde(rename = \"feline\")]"), "{code}");
    assert!(code.contains("Feline(Cat)"), "{code}");
}

#[test]
fn shared_tag_values_are_not_a_discriminator() {
    let code = generate(
        json!({ "Cat": model("cat", "lives"), "Lion": model("cat", "roars") }),
        json!({ "anyOf": [{ "$ref": "#/$defs/Cat" }, { "$ref": "#/$defs/Lion" }] }),
    );
    assert!(code.contains("#[serde(untagged)]"), "{code}");
}
