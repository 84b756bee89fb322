//! Schema-to-Rust code generation for the BioLM SDK.
