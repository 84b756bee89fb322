//! Shared helpers of the codegen integration tests.

use std::path::{Path, PathBuf};

/// The reference catalog (`shared/reference/biolm-hub`): `BIOLM_REFERENCE_DIR`
/// when set, else the first `shared/reference/biolm-hub` found beside an
/// ancestor of the crate (a checkout at `/work/main` or a worktree at
/// `/work/wt/<name>` both see `/work/shared`).
#[allow(dead_code)]
pub fn reference_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("BIOLM_REFERENCE_DIR") {
        return PathBuf::from(d);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|a| a.join("shared/reference/biolm-hub"))
        .find(|p| p.join("index.json").is_file())
        .unwrap_or_else(|| manifest.join("../../shared/reference/biolm-hub"))
}
