//! The generated model layer: `CATALOG`, per-family modules and the client
//! accessors, written by `biolm-codegen` from the schema directory at build time
//! (see `build.rs`).
#![allow(
    clippy::too_many_arguments,
    clippy::large_enum_variant,
    clippy::enum_variant_names,
    clippy::upper_case_acronyms,
    clippy::type_complexity,
    clippy::new_without_default,
    clippy::doc_lazy_continuation,
    clippy::too_long_first_doc_paragraph,
    clippy::module_inception,
    rustdoc::broken_intra_doc_links,
    rustdoc::invalid_html_tags,
    rustdoc::bare_urls
)]

include!(concat!(env!("OUT_DIR"), "/biolm_generated.rs"));
