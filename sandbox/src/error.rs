//! Why a sandbox could not start or serve.

use std::path::PathBuf;

/// A sandbox that could not start or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The schema directory could not be loaded.
    #[error("cannot load the sandbox schemas: {0}")]
    Schemas(#[from] biolm_catalog::LoadError),
    /// A request schema could not be compiled into a validator.
    #[error("the request schema of {slug}/{action} is not a usable JSON Schema: {message}")]
    Schema {
        /// Variant slug.
        slug: String,
        /// Action name.
        action: String,
        /// What the JSON Schema compiler said.
        message: String,
    },
    /// The schema set has no (variant, action) pair to serve.
    #[error("no model actions found under {0}: point --schemas at a project `schemas/` directory or a reference corpus with index.json")]
    Empty(PathBuf),
    /// The listening socket could not be opened or used.
    #[error("cannot listen on {addr}: {source} (is the port taken? use another --port, or 0 for any free port)")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A configuration value is out of range.
    #[error("invalid sandbox setting: {0}")]
    Config(String),
    /// The background runtime of a blocking sandbox could not be started.
    #[error("cannot start the sandbox's runtime thread: {0}")]
    Runtime(std::io::Error),
}
