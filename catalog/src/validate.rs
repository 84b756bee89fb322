//! JSON Schema validation of request items and params, with BioLM's extension rules.
//!
//! (Being written: see schemas/README.md for the extension keys.)
