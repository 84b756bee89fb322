//! Generates the typed model layer from the schema directory.
//!
//! `BIOLM_SCHEMA_DIR` (default `schemas/`) picks the schema set; either layout
//! works, so CI can build against the reference corpus:
//! `BIOLM_SCHEMA_DIR=../shared/reference/biolm-hub cargo check --features all-models`.

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-env-changed=BIOLM_SCHEMA_DIR");
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dir = env::var_os("BIOLM_SCHEMA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("schemas"));
    let dir = if dir.is_absolute() {
        dir
    } else {
        manifest.join(dir)
    };
    rerun_if_changed(&dir);
    // Families with a cargo feature of their name are compiled only with it; a family
    // the manifest has no feature for (a user's own schema directory) is always compiled.
    let manifest_path = manifest.join("Cargo.toml");
    println!("cargo:rerun-if-changed={}", manifest_path.display());
    let features = biolm_codegen::options::cargo_features(
        &fs::read_to_string(&manifest_path).unwrap_or_default(),
    );
    let options = biolm_codegen::Options::runtime(features);
    let generated = match biolm_codegen::generate_dir_with(&dir, &options) {
        Ok(g) => g,
        Err(e) => {
            eprintln!(
                "error: cannot generate the model layer from {}:\n  {e}",
                dir.display()
            );
            std::process::exit(1);
        }
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join("biolm_generated.rs");
    // Rewrite only on change, so dependants are not rebuilt for nothing.
    if fs::read_to_string(&out).ok().as_deref() != Some(generated.code.as_str()) {
        if let Err(e) = fs::write(&out, generated.code) {
            eprintln!("error: cannot write {}: {e}", out.display());
            std::process::exit(1);
        }
    }
}

/// Watches the directory and every file in it (recursively, for the reference layout).
fn rerun_if_changed(dir: &std::path::Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            rerun_if_changed(&p);
        } else {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
}
