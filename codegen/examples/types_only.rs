//! Prints the type definitions (no handles, no catalog) of every family of a
//! schema directory, as one Rust file that needs only `serde` and
//! `serde_json`: `cargo run -p biolm-codegen --example types_only -- DIR`.
//! Used to compile and exercise generated types outside the SDK crate.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: types_only SCHEMA_DIR")?;
    let set = biolm_catalog::load_dir(std::path::Path::new(&dir))?;
    let mut tokens = proc_macro2::TokenStream::new();
    for family in &set.families {
        let (plan, _) = biolm_codegen::methods::plan_family(family)?;
        let module = quote::format_ident!("{}", plan.module);
        let defs = plan.types.defs.iter().map(biolm_codegen::emit::def_tokens);
        tokens.extend(quote::quote! {
            #[allow(dead_code)]
            pub mod #module {
                #[allow(unused_imports)]
                use serde::{Deserialize, Serialize};
                #(#defs)*
            }
        });
    }
    print!("{}", biolm_codegen::emit::format_file(tokens)?);
    Ok(())
}
