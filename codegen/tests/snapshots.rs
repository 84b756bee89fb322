//! Snapshot tests: the exact Rust generated for representative families of the
//! reference corpus. A change in generated code shows up as a reviewed diff
//! (`cargo insta review`).

mod common;

fn module(family: &str) -> String {
    let dir = common::reference_dir();
    let set = biolm_catalog::load_dir(&dir).unwrap();
    let fam = set.family(family).unwrap();
    biolm_codegen::generate_family_module(fam).unwrap()
}

macro_rules! snap {
    ($name:ident, $family:literal) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), module($family));
        }
    };
}

snap!(esm2, "esm2");
snap!(esmfold, "esmfold");
snap!(progen2, "progen2");
snap!(mpnn, "mpnn");
snap!(chai1, "chai1");
snap!(rf3, "rf3");
snap!(prody, "prody");
snap!(esm1v, "esm1v");

/// A construct of the pydantic construct corpus (`corpus/constructs/schemas`).
fn construct(slug: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/constructs/schemas");
    let set = biolm_catalog::load_dir(&dir).unwrap();
    let fam = set.family(slug).unwrap();
    biolm_codegen::generate_family_module(fam).unwrap()
}

macro_rules! snap_construct {
    ($name:ident, $slug:literal) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), construct($slug));
        }
    };
}

snap_construct!(construct_discriminated_union, "discriminated-union");
snap_construct!(
    construct_nested_discriminated_union,
    "nested-discriminated-union"
);
snap_construct!(construct_callable_discriminator, "callable-discriminator");
snap_construct!(construct_union_models, "union-models");
snap_construct!(construct_union_smart, "union-smart");
snap_construct!(construct_enum_int, "enum-int");
snap_construct!(construct_literal_mixed, "literal-mixed");
snap_construct!(construct_const_literal, "const-literal");
snap_construct!(construct_all_of, "all-of");
snap_construct!(construct_tuple_items_array, "tuple-items-array");
snap_construct!(construct_extra_allow, "extra-allow");
snap_construct!(construct_markdown_docs, "markdown-docs");
snap_construct!(construct_recursion_mutual, "recursion-mutual");
snap_construct!(construct_decimal, "decimal");
