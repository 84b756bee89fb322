//! Malformed and awkward schemas: the generator returns a `CodegenError` naming
//! the file and the JSON pointer, never panics, and turns awkward names into
//! identifiers that compile.

mod common;

use std::path::Path;

use serde_json::{json, Value};

fn family_file(dir: &Path, defs: Value) -> std::path::PathBuf {
    let request = json!({
        "$defs": defs,
        "additionalProperties": false,
        "properties": { "items": { "type": "array", "items": { "$ref": "#/$defs/Item" }, "maxItems": 4 } },
        "required": ["items"], "type": "object"
    });
    let response = json!({ "properties": { "results": { "type": "array", "items": { "type": "object", "properties": { "score": { "type": "number" } } } } } });
    let doc = json!({
        "family": "demo", "display_name": "Demo",
        "variants": [{ "slug": "demo-1", "display_name": "Demo 1" }],
        "actions": [{ "name": "encode", "request": request, "response": response }]
    });
    let path = dir.join("demo.json");
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    path
}

fn generate(
    defs: Value,
) -> (
    std::path::PathBuf,
    Result<biolm_codegen::Generated, biolm_codegen::CodegenError>,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = family_file(dir.path(), defs);
    let set = biolm_catalog::load_dir(dir.path()).unwrap();
    let out = biolm_codegen::generate(&set);
    (path, out)
}

fn expect_err(defs: Value, pointer: &str, words: &str) {
    let (path, out) = generate(defs);
    let err = out.unwrap_err();
    assert_eq!(err.file, path, "{err}");
    assert_eq!(err.pointer, pointer, "{err}");
    assert!(err.message.contains(words), "`{words}` not in: {err}");
    assert!(
        err.to_string()
            .starts_with(&format!("{}: at {pointer}", path.display())),
        "{err}"
    );
}

#[test]
fn unknown_ref_names_file_and_pointer() {
    expect_err(
        json!({ "Item": { "type": "object", "properties": { "x": { "$ref": "#/$defs/Nope" } } } }),
        "/actions/0/request/$defs/Item/properties/x/$ref",
        "not in `$defs`",
    );
}

#[test]
fn external_ref_is_refused() {
    expect_err(
        json!({ "Item": { "type": "object", "properties": { "x": { "$ref": "other.json#/A" } } } }),
        "/actions/0/request/$defs/Item/properties/x/$ref",
        "unsupported $ref",
    );
}

#[test]
fn alias_cycle_is_an_error() {
    expect_err(
        json!({ "Item": { "$ref": "#/$defs/B" }, "B": { "$ref": "#/$defs/Item" } }),
        "/actions/0/request/$defs/Item",
        "refers to itself",
    );
}

#[test]
fn invalid_type_is_an_error() {
    expect_err(
        json!({ "Item": { "type": "object", "properties": { "x": { "type": "strin" } } } }),
        "/actions/0/request/$defs/Item/properties/x/type",
        "unknown JSON Schema type `strin`",
    );
    expect_err(
        json!({ "Item": { "type": "object", "properties": { "x": { "type": 7 } } } }),
        "/actions/0/request/$defs/Item/properties/x/type",
        "must be a string",
    );
}

#[test]
fn huge_enums_and_enums_of_objects_are_errors() {
    let values: Vec<String> = (0..5000).map(|i| format!("v{i}")).collect();
    expect_err(
        json!({ "Item": { "type": "object", "properties": { "x": { "enum": values } } } }),
        "/actions/0/request/$defs/Item/properties/x/enum",
        "5000 values",
    );
    expect_err(
        json!({ "Item": { "type": "object", "properties": { "x": { "enum": ["a", {"b": 1}] } } } }),
        "/actions/0/request/$defs/Item/properties/x/enum/1",
        "a list or an object",
    );
    // Integers and mixed values are enums too (they used to be refused).
    let (_, out) = generate(json!({ "Item": { "type": "object", "properties": {
        "x": { "enum": ["a", 3, true, null] }, "y": { "enum": [1, 2] } } } }));
    let code = out.unwrap().code;
    assert!(code.contains("serializer.serialize_i64(3)"), "{code}");
}

#[test]
fn all_of_contradiction_is_an_error_naming_the_pointer() {
    expect_err(
        json!({ "Item": { "type": "object", "properties": { "x": { "allOf": [
            { "type": "string" }, { "type": "integer" } ] } } } }),
        "/actions/0/request/$defs/Item/properties/x/allOf/1",
        "contradiction",
    );
}

#[test]
fn required_field_missing_from_properties_is_an_error() {
    expect_err(
        json!({ "Item": { "type": "object", "required": ["y"], "properties": { "x": { "type": "string" } } } }),
        "/actions/0/request/$defs/Item/required",
        "`y`",
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // Deeper than a JSON file can be (serde_json stops at 128 levels), so the
    // set is built in memory, as a caller of the library could.
    let dir = tempfile::tempdir().unwrap();
    family_file(
        dir.path(),
        json!({ "Item": { "type": "object", "properties": { "x": { "type": "string" } } } }),
    );
    let mut set = biolm_catalog::load_dir(dir.path()).unwrap();
    let mut s = json!({ "type": "string" });
    for _ in 0..200 {
        s = json!({ "type": "array", "items": s });
    }
    set.families[0].actions[0].request["$defs"]["Item"]["properties"]["x"] = s;
    let err = biolm_codegen::generate(&set).unwrap_err();
    assert!(err.message.contains("nested deeper"), "{err}");
    assert!(
        err.pointer
            .starts_with("/actions/0/request/$defs/Item/properties/x/items/items"),
        "{err}"
    );
}

#[test]
fn recursive_types_are_boxed() {
    let (_, out) = generate(json!({
        "Item": { "type": "object", "required": ["value"], "properties": {
            "value": { "type": "string" },
            "next": { "anyOf": [{ "$ref": "#/$defs/Item" }, { "type": "null" }] },
            "children": { "type": "array", "items": { "$ref": "#/$defs/Item" } }
        } }
    }));
    let code = out.unwrap().code;
    assert!(
        code.contains("pub next: Option<Box<DemoEncodeItem>>"),
        "{code}"
    );
    assert!(
        code.contains("pub children: Option<Vec<DemoEncodeItem>>"),
        "{code}"
    );
}

#[test]
fn awkward_names_become_identifiers() {
    let (_, out) = generate(json!({
        "Item": { "type": "object", "required": ["type"], "properties": {
            "type": { "enum": ["protein-anything", "DNA", "allH", "dna", "", "3di", "Self"], "type": "string" },
            "Chain": { "type": "string" },
            "fn": { "type": "integer" },
            "3d": { "type": "boolean" },
            "bias_AA": { "type": "object", "additionalProperties": { "type": "number" } },
            "bias_aa": { "type": "string" }
        } }
    }));
    let code = out.unwrap().code;
    for needle in [
        "pub type_: DemoEncodeItemType",
        "#[serde(rename = \"type\")]",
        "pub chain: Option<String>",
        "pub fn_: Option<i64>",
        "pub n3d: Option<bool>",
        "pub bias_aa: Option<std::collections::BTreeMap<String, f64>>",
        "pub bias_aa2: Option<String>",
        "ProteinAnything",
        "Dna,",
        "Dna2,",
        "AllH,",
        "V3di,",
        "Self_,",
        "pub fn with_fn(",
    ] {
        assert!(code.contains(needle), "missing `{needle}`:\n{code}");
    }
}

/// Small deterministic generator for the mutation test.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn mutate(v: &mut Value, rng: &mut Lcg) {
    match v {
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                match rng.next() % 23 {
                    0 => {
                        m.remove(&k);
                    }
                    1 => {
                        m.insert(k, json!(42));
                    }
                    2 => {
                        m.insert(k, json!("#/$defs/Missing"));
                    }
                    3 => {
                        m.insert(k, json!([]));
                    }
                    4 => {
                        m.insert(k, json!({ "type": ["string", "integer", "null"] }));
                    }
                    _ => {
                        if let Some(c) = m.get_mut(&k) {
                            mutate(c, rng);
                        }
                    }
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| mutate(c, rng)),
        _ => {}
    }
}

#[test]
fn mutated_reference_schemas_never_panic() {
    mutations_never_panic(&common::reference_dir(), 7);
}

#[test]
fn mutated_construct_schemas_never_panic() {
    // pydantic's constructs (tagged unions, allOf, tuples, consts, mixed enums) mutated.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/constructs/schemas");
    mutations_never_panic(&dir, 11);
}

fn mutations_never_panic(dir: &Path, seed: u64) {
    let set = biolm_catalog::load_dir(dir).unwrap();
    let mut rng = Lcg(seed);
    let (mut ok, mut err, mut types_ok) = (0, 0, 0);
    for round in 0..12 {
        for family in &set.families {
            let mut f = family.clone();
            for a in &mut f.actions {
                mutate(&mut a.request, &mut rng);
                mutate(&mut a.response, &mut rng);
            }
            // The type layer alone (no schema audit) must not panic either.
            if biolm_codegen::generate_family_module(&f).is_ok() {
                types_ok += 1;
            }
            let one = biolm_catalog::SchemaSet { families: vec![f] };
            match biolm_codegen::generate(&one) {
                Ok(_) => ok += 1,
                Err(e) => {
                    assert!(
                        !e.file.as_os_str().is_empty(),
                        "round {round}: error without a file: {e}"
                    );
                    assert!(!e.message.contains("internal error"), "round {round}: {e}");
                    err += 1;
                }
            }
        }
    }
    eprintln!(
        "mutations: {ok} generated, {err} refused with an error; type layer alone: {types_ok} generated"
    );
    // Most mutations make a schema the validator refuses, and generation refuses it too
    // (problems fail the build, not the first call); the type layer alone still turns
    // many of them into code.
    assert!(err > 0 && types_ok > 0);
}

#[test]
fn family_modules_never_shadow_crates_or_runtime_modules() {
    let dir = tempfile::tempdir().unwrap();
    family_file(
        dir.path(),
        json!({ "Item": { "type": "object", "properties": { "x": { "type": "string" } } } }),
    );
    let mut set = biolm_catalog::load_dir(dir.path()).unwrap();
    set.families[0].name = "serde".into();
    let code = biolm_codegen::generate(&set).unwrap().code;
    assert!(code.contains("pub mod serde_model {"), "{code}");
    assert!(code.contains("#[cfg(feature = \"serde\")]"), "{code}");
    set.families[0].name = "serialize".into();
    let code = biolm_codegen::generate(&set).unwrap().code;
    assert!(code.contains("pub struct SerializeType {"), "{code}");
    set.families[0].name = "catalog".into();
    let code = biolm_codegen::generate(&set).unwrap().code;
    assert!(code.contains("pub mod catalog_model {"), "{code}");
}

#[test]
fn self_referencing_all_of_is_an_error_not_a_stack_overflow() {
    let (_, out) = generate(json!({
        "A": { "allOf": [{ "$ref": "#/$defs/A" }, { "type": "object", "properties": { "x": { "type": "string" } } }] },
        "Item": { "type": "object", "properties": { "a": { "$ref": "#/$defs/A" } } }
    }));
    let err = out.unwrap_err();
    assert!(err.message.contains("deeper than"), "{err}");
}

#[test]
fn discriminators_that_do_not_fit_fall_back_to_untagged_unions() {
    // A mapping to a missing definition (and no consts), an arm without the
    // tag, two arms with one tag: no tag tells the arms apart.
    let arm = |tag: Value| json!({ "type": "object", "required": ["kind"], "properties": { "kind": tag, "v": { "type": "integer" } } });
    for (a, b, mapping) in [
        (
            arm(json!({ "type": "string" })),
            arm(json!({ "type": "string" })),
            json!({ "a": "#/$defs/Nope" }),
        ),
        (
            arm(json!({ "const": "a" })),
            arm(json!({ "type": "string" })),
            json!({}),
        ),
        (
            arm(json!({ "const": "a" })),
            arm(json!({ "const": "a" })),
            json!({}),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        family_file(
            dir.path(),
            json!({
                "A": a, "B": b,
                "Item": { "type": "object", "properties": { "u": {
                    "oneOf": [{ "$ref": "#/$defs/A" }, { "$ref": "#/$defs/B" }],
                    "discriminator": { "propertyName": "kind", "mapping": mapping } } } }
            }),
        );
        let set = biolm_catalog::load_dir(dir.path()).unwrap();
        // Where the validator cannot use such a discriminator, generation refuses the
        // set (at build time, naming the union) ...
        if let Err(err) = biolm_codegen::generate(&set) {
            assert!(err.to_string().contains("/u/"), "{err}");
        }
        // ... while the type layer alone falls back to an untagged union.
        let code = biolm_codegen::generate_family_module(&set.families[0]).unwrap();
        assert!(code.contains("#[serde(untagged)]"), "{code}");
        assert!(!code.contains("#[serde(tag ="), "{code}");
    }
}
