//! The construct corpus (`corpus/constructs/schemas`: one family per pydantic
//! construct, exported by pydantic 2.12) generates without error, and the key
//! constructs have the Rust shape a user would write by hand.

use std::path::PathBuf;

fn constructs_dir() -> PathBuf {
    match std::env::var_os("BIOLM_CONSTRUCTS_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/constructs/schemas"),
    }
}

fn set() -> biolm_catalog::SchemaSet {
    biolm_catalog::load_dir(&constructs_dir()).expect("the construct corpus loads")
}

/// The generated module of construct `slug`.
fn module(slug: &str) -> String {
    let set = set();
    let fam = set
        .family(slug)
        .unwrap_or_else(|| panic!("no construct `{slug}`"));
    biolm_codegen::generate_family_module(fam).unwrap()
}

/// The text of the item (`pub struct`/`pub enum` + body) named `name` in `code`.
fn item<'a>(code: &'a str, kind: &str, name: &str) -> &'a str {
    let head = format!("pub {kind} {name} ");
    let start = code
        .find(&head)
        .unwrap_or_else(|| panic!("no `{head}` in:\n{code}"));
    // Back up over the attributes and docs right above the item.
    let attrs = code[..start]
        .rfind("\n    }\n")
        .or_else(|| code[..start].rfind("{\n"))
        .unwrap_or(0);
    let end = code[start..]
        .find("\n    }\n")
        .map_or(code.len(), |e| start + e + 6);
    &code[attrs..end]
}

#[test]
fn every_construct_generates() {
    let set = set();
    assert!(
        set.families.len() >= 65,
        "{} constructs",
        set.families.len()
    );
    let mut failures = Vec::new();
    for fam in &set.families {
        if let Err(e) = biolm_codegen::generate_family_module(fam) {
            failures.push(format!("{}: {e}", fam.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} constructs fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    biolm_codegen::generate(&set).expect("the whole corpus generates as one file");
}

#[test]
fn discriminated_union_is_internally_tagged_and_arms_have_no_tag() {
    let code = module("discriminated-union");
    let pet = item(&code, "enum", "DiscriminatedUnionPredictItemPet");
    assert!(pet.contains("#[serde(tag = \"kind\")]"), "{pet}");
    assert!(!pet.contains("untagged"), "{pet}");
    for (tag, arm) in [
        ("cat", "CatPredict"),
        ("dog", "DogPredict"),
        ("fish", "FishPredict"),
    ] {
        assert!(
            pet.contains(&format!("#[serde(rename = \"{tag}\")]")),
            "{pet}"
        );
        let s = item(&code, "struct", arm);
        assert!(
            !s.contains("pub kind"),
            "the tag is the variant, not a field: {s}"
        );
    }
    // Responses: unknown tags decode to `Unknown`.
    let result = item(&code, "enum", "DiscriminatedUnionPredictResultPet");
    assert!(result.contains("#[serde(tag = \"kind\")]"), "{result}");
    assert!(result.contains("Unknown(serde_json::Value)"), "{result}");
    assert!(code.contains("_ => Ok(DiscriminatedUnionPredictResultPet::Unknown(value))"));
}

#[test]
fn nested_discriminated_union_strips_both_tags() {
    let code = module("nested-discriminated-union");
    let outer = item(&code, "enum", "NestedDiscriminatedUnionPredictItemPet");
    assert!(outer.contains("#[serde(tag = \"pet_type\")]"), "{outer}");
    assert!(
        outer.contains("Cat(NestedDiscriminatedUnionPredictItemPetCat)"),
        "{outer}"
    );
    let inner = item(&code, "enum", "NestedDiscriminatedUnionPredictItemPetCat");
    assert!(inner.contains("#[serde(tag = \"color\")]"), "{inner}");
    let black = item(&code, "struct", "BlackCatPredict");
    assert!(
        !black.contains("pub pet_type") && !black.contains("pub color"),
        "{black}"
    );
    assert!(black.contains("pub black_name: String"), "{black}");
}

#[test]
fn callable_discriminator_without_tags_is_untagged_by_shape() {
    let code = module("callable-discriminator");
    let shape = item(&code, "enum", "CallableDiscriminatorPredictItemShape");
    assert!(shape.contains("#[serde(untagged)]"), "{shape}");
}

#[test]
fn integer_and_mixed_enums_keep_their_json_values() {
    let code = module("enum-int");
    assert!(code.contains("serializer.serialize_i64(5)"), "{code}");
    let code = module("literal-mixed");
    for want in [
        "serializer.serialize_str(\"auto\")",
        "serializer.serialize_i64(0)",
        "serializer.serialize_bool(true)",
        "serializer.serialize_unit()",
    ] {
        assert!(code.contains(want), "`{want}` in:\n{code}");
    }
}

#[test]
fn const_fields_are_not_constructor_arguments() {
    let code = module("const-literal");
    let s = item(&code, "struct", "ConstLiteralPredictItem");
    assert!(s.contains("pub kind: ConstLiteralPredictItemKind"), "{s}");
    assert!(code.contains("pub fn new() -> Self"), "{code}");
    assert!(code.contains("kind: Default::default()"), "{code}");
    assert!(
        code.contains("pub struct ConstLiteralPredictItemKind;"),
        "{code}"
    );
}

#[test]
fn all_of_is_merged() {
    let code = module("all-of");
    let s = item(&code, "struct", "AllOfPredictItem");
    assert!(s.contains("pub score: i64"), "{s}");
    assert!(
        s.contains("Must be >= 0 and <= 100."),
        "bounds of both schemas: {s}"
    );
    assert!(s.contains("Between 2 and 8 characters."), "{s}");
}

#[test]
fn tuples_from_prefix_items_and_draft_07_items() {
    for slug in ["tuple-fixed", "tuple-items-array"] {
        let code = module(slug);
        assert!(code.contains("(i64, String)"), "{slug}:\n{code}");
    }
    assert!(module("tuple-variadic").contains("Vec<i64>"));
}

#[test]
fn extra_allow_is_a_flattened_map_and_extra_forbid_denies() {
    let code = module("extra-allow");
    let s = item(&code, "struct", "ExtraAllowPredictItem");
    assert!(s.contains("#[serde(flatten)]"), "{s}");
    assert!(!s.contains("deny_unknown_fields"), "{s}");
    assert!(code.contains("pub fn with_extra("), "{code}");
    let code = module("extra-forbid");
    assert!(code.contains("#[serde(deny_unknown_fields)]"), "{code}");
    let code = module("extra-ignore");
    assert!(!code.contains("deny_unknown_fields"), "{code}");
}

#[test]
fn deprecated_fields_have_deprecated_setters() {
    let code = module("deprecated-fields");
    assert!(code.contains("#[deprecated("), "{code}");
    assert!(code.contains("Deprecated: the schema marks this field deprecated."));
}

#[test]
fn markdown_never_becomes_a_doctest_or_a_broken_link() {
    let code = module("markdown-docs");
    let mut open = false;
    let mut fences = 0;
    for line in code.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("/// ```") {
            if !open {
                assert!(
                    !rest.trim().is_empty(),
                    "a bare opening fence is a doctest:\n{code}"
                );
                fences += 1;
            }
            open = !open;
        }
    }
    assert!(fences > 0 && !open, "{code}");
    assert!(!code.contains("<html>"), "{code}");
}

#[test]
fn union_of_models_decodes_by_shape() {
    let code = module("union-models");
    assert!(
        code.contains("impl<'de> Deserialize<'de> for UnionModelsPredictResultTarget"),
        "{code}"
    );
}

#[test]
fn recursion_is_boxed_only_where_needed() {
    let code = module("recursion-optional");
    assert!(code.contains("Option<Box<"), "{code}");
    let code = module("recursion-self");
    assert!(
        !code.contains("Box<"),
        "a Vec already breaks the cycle:\n{code}"
    );
}
