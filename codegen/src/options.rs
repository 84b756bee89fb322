//! Where the generated code lives and which families it compiles.
//!
//! The same generated layer serves two homes:
//!
//! - **inside the `biolm` crate** ([`Home::Runtime`], what `build.rs` uses): the code
//!   names the runtime as `crate::`, defines `NoParams` and adds the per-variant
//!   accessors as inherent methods of `Client`;
//! - **in a user's own crate** ([`Home::External`], what `biolm-codegen generate
//!   --crate` sets up): the code re-exports the runtime items it names under the same
//!   `crate::` paths, and the accessors come as extension traits (`ClientExt`,
//!   `BlockingClientExt`), since a crate cannot add inherent methods to
//!   `biolm::Client`. A family `biolm` has never heard of thus gets typed methods
//!   without a fork.
//!
//! [`Gates`] says which family modules sit behind a cargo feature of the same name.

use std::collections::BTreeSet;

/// Options of one generation run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Which crate the generated code is compiled into.
    pub home: Home,
    /// Which family modules are behind a cargo feature.
    pub gates: Gates,
}

impl Options {
    /// The options `biolm`'s own `build.rs` uses: runtime crate, the families named in
    /// `features` behind their feature, every other family always compiled.
    pub fn runtime(features: BTreeSet<String>) -> Options {
        Options {
            home: Home::Runtime,
            gates: Gates::Named(features),
        }
    }

    /// The options for a user's crate that depends on the runtime crate `runtime`
    /// (normally `"biolm"`): no feature gates.
    pub fn external(runtime: impl Into<String>) -> Options {
        Options {
            home: Home::External {
                runtime: runtime.into(),
            },
            gates: Gates::None,
        }
    }

    /// Whether the module of `family` (its feature name) is behind a cargo feature.
    pub fn gated(&self, feature: &str) -> bool {
        match &self.gates {
            Gates::All => true,
            Gates::None => false,
            Gates::Named(names) => names.contains(feature),
        }
    }
}

/// Which crate the generated code is compiled into.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Home {
    /// The runtime crate itself (`biolm`): `crate::` is the runtime.
    #[default]
    Runtime,
    /// A crate that depends on the runtime under the name `runtime`.
    External {
        /// The runtime crate's name as the user's crate sees it (normally `biolm`).
        runtime: String,
    },
}

/// Which family modules are compiled only with a cargo feature of their name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Gates {
    /// Every family (the behaviour of `generate`).
    #[default]
    All,
    /// No family: everything generated is compiled.
    None,
    /// The families whose feature name is in the set; the others are always compiled,
    /// so a schema directory may hold families the crate has no feature for.
    Named(BTreeSet<String>),
}

/// The names of the `[features]` table of a `Cargo.toml` text (a small reader for
/// `build.rs`: one `name = [...]` entry per line, as `cargo` and `cargo add` write it).
pub fn cargo_features(manifest: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_features = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_features = line == "[features]";
            continue;
        }
        if !in_features || line.starts_with('#') {
            continue;
        }
        if let Some((name, _)) = line.split_once('=') {
            let name = name.trim().trim_matches('"');
            if !name.is_empty() {
                out.insert(name.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_feature_names_only_from_the_features_table() {
        let toml = "[package]\nname = \"x\"\n[features]\n# comment\ndefault = [\"a\"]\na = []\n\"b-c\" = [\"a\"]\n[dependencies]\nserde = \"1\"\n";
        let names: Vec<_> = cargo_features(toml).into_iter().collect();
        assert_eq!(names, ["a", "b-c", "default"]);
    }

    #[test]
    fn gates_follow_the_mode() {
        let named = Options::runtime(["esm2".to_string()].into());
        assert!(named.gated("esm2"));
        assert!(!named.gated("brand-new"));
        assert!(!Options::external("biolm").gated("esm2"));
        assert!(Options::default().gated("anything"));
    }
}
