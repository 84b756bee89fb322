//! The BioLM model catalog as data.
//!
//! This crate is shared by the code generator (`biolm-codegen`), the runtime
//! (`biolm`) and the sandbox server (`biolm-sandbox`). It knows two on-disk
//! layouts of a schema set:
//!
//! - the **project layout** (`schemas/<family>.json`, one file per model family,
//!   described in `schemas/README.md`), which is what the SDK is generated from;
//! - the **reference layout** (`<slug>/<action>.request.json` plus `index.json`),
//!   which is how the public BioLM catalog publishes its schemas.
//!
//! Both load into the same [`SchemaSet`]. [`validate`] checks JSON values
//! against a request schema, including the `x-biolm-*` extension rules;
//! [`keywords`] is the one table of the JSON Schema keywords the project knows
//! (and which tools support each), with an audit of a whole schema document.

#![deny(missing_docs)]
pub mod allof;
mod error;
pub mod keywords;
mod load;
mod model;
pub mod validate;

pub use error::LoadError;
pub use load::{load_dir, load_project_dir, load_reference_dir, Layout};
pub use model::{Action, Family, SchemaSet, Variant, VariantOverride};
