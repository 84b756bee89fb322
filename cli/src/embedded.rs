//! The project's schema files, compiled into the binary by `build.rs`.
//!
//! The SDK's compiled-in catalog (`biolm::catalog`) holds request schemas only;
//! the sandbox also needs response schemas to make synthetic results, so the CLI
//! carries the schema files themselves (about 0.6 MB) and loads them with
//! `biolm_catalog` when a sandbox is started.

use std::path::Path;

use biolm_catalog::SchemaSet;

mod files {
    include!(concat!(env!("OUT_DIR"), "/embedded_schemas.rs"));
}

/// Why the embedded schemas could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// The binary was built without schema files.
    #[error("this biolm binary was built without schema files; rebuild it from the repository (schemas/ must be present), or pass --schemas DIR")]
    Empty,
    /// Writing the temporary copy failed.
    #[error("cannot unpack the embedded schemas into {dir}: {source}")]
    Io {
        /// The temporary directory.
        dir: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The schemas do not load (a bug of the build).
    #[error("the embedded schemas do not load: {0}; report this as a bug")]
    Load(#[from] biolm_catalog::LoadError),
}

/// Loads the embedded schema files into a [`SchemaSet`] (through a temporary
/// directory, since the loader reads the project layout from disk).
pub fn schema_set() -> Result<SchemaSet, EmbeddedError> {
    if files::FILES.is_empty() {
        return Err(EmbeddedError::Empty);
    }
    let tmp = tempfile::tempdir().map_err(|source| EmbeddedError::Io {
        dir: std::env::temp_dir().display().to_string(),
        source,
    })?;
    write_all(tmp.path())?;
    Ok(biolm_catalog::load_dir(tmp.path())?)
}

fn write_all(dir: &Path) -> Result<(), EmbeddedError> {
    for (name, text) in files::FILES {
        std::fs::write(dir.join(name), text).map_err(|source| EmbeddedError::Io {
            dir: dir.display().to_string(),
            source,
        })?;
    }
    Ok(())
}
