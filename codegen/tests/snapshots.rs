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
