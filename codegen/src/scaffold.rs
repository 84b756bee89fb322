//! A crate of your own for model families `biolm` does not ship
//! (`biolm-codegen generate --crate DIR`).
//!
//! The crate written holds a copy of the schema directory, a `build.rs` that runs this
//! generator on it with [`Options::external`] (so `cargo build` regenerates whenever a
//! schema file changes, and only then), and a `src/lib.rs` that includes the result.
//! It depends on the `biolm` runtime for the client, batching, retries and outcomes:
//!
//! ```text
//! my-models/
//!   Cargo.toml      biolm (runtime, no default families), serde, serde_json; build: biolm-codegen
//!   build.rs        biolm_codegen::generate_dir_with("schemas", &Options::external("biolm"))
//!   schemas/        the schema directory (either layout), copied
//!   src/lib.rs      include!(...generated...)
//! ```
//!
//! A user then writes `use my_models::ClientExt;` and calls
//! `client.new_model().predict(items).await`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::CodegenError;
use crate::options::Options;

/// Where the generated crate takes `biolm` and `biolm-codegen` from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A local checkout of the biolm-rs workspace (path dependencies).
    Path(PathBuf),
    /// A git repository (the default: the project's repository).
    Git(String),
}

impl Default for Source {
    fn default() -> Self {
        Source::Git("https://github.com/biolm-rs/biolm-rs".to_string())
    }
}

/// What to write.
#[derive(Debug, Clone)]
pub struct CrateSpec {
    /// The crate's package name (`my-models`); its library is `my_models`.
    pub name: String,
    /// Where the runtime and the generator come from.
    pub source: Source,
}

/// What [`write_crate`] did.
#[derive(Debug, Clone)]
pub struct CrateReport {
    /// The crate directory.
    pub dir: PathBuf,
    /// Families and (variant, action) pairs the crate will generate.
    pub families: usize,
    /// (variant, action) pairs.
    pub pairs: usize,
}

/// Writes a crate into `dir` (which must not exist yet, or be empty) generating typed
/// models from `schemas`. The schemas are generated once first, so a directory the
/// generator cannot handle is refused before anything is written.
pub fn write_crate(
    schemas: &Path,
    dir: &Path,
    spec: &CrateSpec,
) -> Result<CrateReport, CodegenError> {
    check_name(&spec.name)?;
    let set = biolm_catalog::load_dir(schemas)?;
    let generated = crate::generate_with(&set, &Options::external("biolm"))?;
    if dir.exists() {
        let mut entries = fs::read_dir(dir)
            .map_err(|e| CodegenError::new(dir, "", format!("cannot read the directory: {e}")))?;
        if entries.next().is_some() {
            return Err(CodegenError::new(
                dir,
                "",
                "the directory exists and is not empty: choose a new directory (nothing was written)",
            ));
        }
    }
    let write = |path: PathBuf, text: String| {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| {
                CodegenError::new(parent, "", format!("cannot create the directory: {e}"))
            })?;
        }
        fs::write(&path, text)
            .map_err(|e| CodegenError::new(&path, "", format!("cannot write the file: {e}")))
    };
    write(dir.join("Cargo.toml"), manifest(spec))?;
    write(dir.join("build.rs"), BUILD_RS.to_string())?;
    write(dir.join("src/lib.rs"), lib_rs(&spec.name))?;
    copy_dir(schemas, &dir.join("schemas"))?;
    Ok(CrateReport {
        dir: dir.to_path_buf(),
        families: generated.families,
        pairs: generated.pairs,
    })
}

fn check_name(name: &str) -> Result<(), CodegenError> {
    let ok = !name.is_empty()
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok && name != "biolm" && name != "biolm-codegen" {
        Ok(())
    } else {
        Err(CodegenError::new(
            "<--name>",
            "",
            format!("`{name}` is not a usable crate name: use letters, digits, `-` and `_`, starting with a letter, and not `biolm`"),
        ))
    }
}

fn dependency(source: &Source, package: &str, extra: &str) -> String {
    match source {
        Source::Path(root) => {
            let sub = if package == "biolm" { "" } else { "codegen" };
            let path = root.join(sub);
            let path = path.to_string_lossy().replace('\\', "/");
            let path = path.trim_end_matches('/');
            format!("{package} = {{ path = {path:?}{extra} }}")
        }
        Source::Git(url) => format!("{package} = {{ git = {url:?}{extra} }}"),
    }
}

fn manifest(spec: &CrateSpec) -> String {
    let biolm = dependency(&spec.source, "biolm", ", default-features = false");
    let codegen = dependency(&spec.source, "biolm-codegen", ", default-features = false");
    format!(
        r#"# Written by `biolm-codegen generate --crate`: typed BioLM models from ./schemas.
# Edit or replace the files in ./schemas and run `cargo build`: the models are regenerated.
[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false
build = "build.rs"

# Not part of any enclosing workspace.
[workspace]

[dependencies]
# The runtime (client, batching, retries, outcomes), without its own model families so
# that its accessors cannot shadow this crate's.
{biolm}
serde = {{ version = "1", features = ["derive"] }}
serde_json = "1"

[build-dependencies]
{codegen}
"#,
        name = spec.name,
    )
}

const BUILD_RS: &str = r#"//! Generates this crate's typed models from ./schemas (written by biolm-codegen).

use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let schemas = manifest.join("schemas");
    watch(&schemas);
    let options = biolm_codegen::Options::external("biolm");
    let generated = match biolm_codegen::generate_dir_with(&schemas, &options) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: cannot generate models from {}:\n  {e}", schemas.display());
            std::process::exit(1);
        }
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join("models.rs");
    if fs::read_to_string(&out).ok().as_deref() != Some(generated.code.as_str()) {
        if let Err(e) = fs::write(&out, generated.code) {
            eprintln!("error: cannot write {}: {e}", out.display());
            std::process::exit(1);
        }
    }
}

fn watch(dir: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            watch(&path);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
"#;

/// The lints allowed in generated code, which follows the schemas' names and
/// shapes rather than clippy's taste (many-field constructors, acronyms,
/// large enum variants) and carries the schemas' descriptions as doc text.
/// The one list: the scaffolded crate's `lib.rs` is written from it, and the
/// `biolm` crate's own `src/generated.rs` (where Rust needs the attribute
/// written out) is checked against it by a test.
pub const GENERATED_CODE_LINTS: &[&str] = &[
    "clippy::too_many_arguments",
    "clippy::large_enum_variant",
    "clippy::enum_variant_names",
    "clippy::upper_case_acronyms",
    "clippy::type_complexity",
    "clippy::new_without_default",
    "clippy::doc_lazy_continuation",
    "clippy::too_long_first_doc_paragraph",
    "clippy::module_inception",
    "rustdoc::broken_intra_doc_links",
    "rustdoc::invalid_html_tags",
    "rustdoc::bare_urls",
];

/// `#![allow(...)]` of [`GENERATED_CODE_LINTS`], formatted as rustfmt writes it.
pub fn allow_attribute() -> String {
    let mut out = String::from("#![allow(\n");
    for (i, lint) in GENERATED_CODE_LINTS.iter().enumerate() {
        let comma = if i + 1 < GENERATED_CODE_LINTS.len() {
            ","
        } else {
            ""
        };
        out.push_str(&format!("    {lint}{comma}\n"));
    }
    out.push_str(")]");
    out
}

fn lib_rs(name: &str) -> String {
    format!(
        r#"//! Typed BioLM models of `{name}`, generated from ./schemas at build time.
//!
//! `use {lib}::ClientExt;` (or `BlockingClientExt`) adds one method per model variant
//! to `biolm::Client`; each returns a handle with one method per action.
{allow}

include!(concat!(env!("OUT_DIR"), "/models.rs"));
"#,
        lib = name.replace('-', "_"),
        allow = allow_attribute(),
    )
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), CodegenError> {
    fs::create_dir_all(to)
        .map_err(|e| CodegenError::new(to, "", format!("cannot create the directory: {e}")))?;
    let entries = fs::read_dir(from)
        .map_err(|e| CodegenError::new(from, "", format!("cannot read the directory: {e}")))?;
    for entry in entries {
        let entry = entry
            .map_err(|e| CodegenError::new(from, "", format!("cannot read the directory: {e}")))?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            fs::copy(&path, &target).map_err(|e| {
                CodegenError::new(
                    &path,
                    "",
                    format!("cannot copy to {}: {e}", target.display()),
                )
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("my-models").is_ok());
        for bad in ["", "1x", "biolm", "a b", "é"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn path_dependencies_point_at_the_workspace_and_the_codegen_crate() {
        let spec = CrateSpec {
            name: "m".into(),
            source: Source::Path(PathBuf::from("/src/biolm-rs")),
        };
        let text = manifest(&spec);
        assert!(
            text.contains(r#"biolm = { path = "/src/biolm-rs", default-features = false }"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"biolm-codegen = { path = "/src/biolm-rs/codegen", default-features = false }"#
            ),
            "{text}"
        );
    }
}
