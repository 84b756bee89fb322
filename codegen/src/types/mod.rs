//! JSON Schema to the Rust type model.
//!
//! A [`ModuleTypes`] collects the types of one family module. Schema documents
//! (one request or response schema each) are walked through a [`Doc`]; every
//! `$defs` entry becomes one named type, deduplicated across the family's
//! documents by a fingerprint of the definition and everything it references,
//! so identical definitions shared by several actions are emitted once and
//! same-named definitions with different shapes get distinct, deterministic
//! names (`LayerEmbedding`, `LayerEmbeddingEncode`, ...).
//!
//! One concern per file: [`model`] (the type model), `document` (schema
//! documents and fingerprints), `convert` (schema -> model), `enums`,
//! `unions`, `allof`, `cycles` (recursion and boxing), [`docs`] (doc
//! lines and limits).

mod allof;
mod convert;
mod cycles;
pub mod docs;
mod document;
mod enums;
pub mod model;
mod unions;

use std::collections::{BTreeSet, HashMap};

pub use docs::{describe, limits};
pub use document::{fingerprint, Doc};
pub use model::{Def, Dir, Field, StrictDecoding, TaggedArm, Ty};

use crate::normalize::unique;

/// Largest enum the generator accepts (a guard against absurd schemas).
pub const MAX_ENUM_VALUES: usize = 4096;
/// Deepest schema nesting the generator follows.
pub const MAX_DEPTH: usize = 64;

/// The types of one family module.
#[derive(Debug, Default)]
pub struct ModuleTypes {
    /// Definitions in creation order.
    pub defs: Vec<Def>,
    /// Every name used in the module (types, handles).
    pub taken: BTreeSet<String>,
    /// The family's `PascalCase` name, the prefix definition names are aligned to.
    family: String,
    /// `(direction, fingerprint)` -> type name.
    by_fingerprint: HashMap<(Dir, String), String>,
}

impl ModuleTypes {
    /// An empty module with `reserved` names already taken.
    pub fn new(reserved: impl IntoIterator<Item = String>) -> ModuleTypes {
        ModuleTypes {
            taken: reserved.into_iter().collect(),
            ..ModuleTypes::default()
        }
    }

    /// An empty module of family `family` (its schema name, e.g. `esm-if1`)
    /// with `reserved` names already taken; definition names starting with the
    /// family name in another casing take the family's (`ESM2Foo` -> `Esm2Foo`).
    pub fn for_family(family: &str, reserved: impl IntoIterator<Item = String>) -> ModuleTypes {
        ModuleTypes {
            family: crate::normalize::pascal_ident(family),
            ..ModuleTypes::new(reserved)
        }
    }

    /// A name based on `base` that is free in the module: `base`, then
    /// `base<Action>`, then numbered.
    pub(super) fn fresh_name(&mut self, base: &str, action: &str) -> String {
        if self.taken.insert(base.to_string()) {
            return base.to_string();
        }
        let with_action = format!("{base}{action}");
        unique(&with_action, &mut self.taken)
    }
}
