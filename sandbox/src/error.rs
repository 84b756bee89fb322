//! Why a sandbox could not start or serve, and why it skips an action.

use std::path::PathBuf;

/// Which schema of an action a [`SchemaProblem`] is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaSide {
    /// The request schema (validated against incoming bodies).
    Request,
    /// The response schema (synthesized for answers).
    Response,
}

impl std::fmt::Display for SchemaSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SchemaSide::Request => "request",
            SchemaSide::Response => "response",
        })
    }
}

/// A schema node the sandbox cannot validate against or synthesize.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at {}: {message}", if pointer.is_empty() { "the root" } else { pointer.as_str() })]
pub struct SchemaProblem {
    /// JSON pointer of the node inside the schema document (`""` for the root).
    pub pointer: String,
    /// What is wrong with it.
    pub message: String,
}

/// Why one (variant, action) is not served: the sandbox skips it (answering 501
/// when it is called) and serves the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionProblem {
    /// Variant slug.
    pub slug: String,
    /// Action name (platform spelling).
    pub action: String,
    /// Request or response schema.
    pub side: SchemaSide,
    /// The file the schema was read from, when it came from a directory.
    pub file: Option<PathBuf>,
    /// Where the schema document sits inside `file` (`/actions/0/response` in a
    /// project family file; empty when the file is the schema itself).
    pub pointer_prefix: String,
    /// The problem, with its JSON pointer inside the schema document.
    pub problem: SchemaProblem,
}

impl std::fmt::Display for ActionProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let file = self.file.as_ref().map_or_else(
            || "<in-memory schema>".to_string(),
            |p| p.display().to_string(),
        );
        let at = self.file_pointer();
        let at = if at.is_empty() {
            "the root".to_string()
        } else {
            at
        };
        write!(
            f,
            "{}/{}: {} schema {file} at {at}: {}",
            self.slug, self.action, self.side, self.problem.message
        )
    }
}

impl std::error::Error for ActionProblem {}

impl ActionProblem {
    /// The problem's JSON pointer inside `file` (prefix and pointer joined).
    pub fn file_pointer(&self) -> String {
        format!("{}{}", self.pointer_prefix, self.problem.pointer)
    }
}

/// A sandbox that could not start or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The schema directory could not be loaded.
    #[error("cannot load the sandbox schemas: {0}")]
    Schemas(#[from] biolm_catalog::LoadError),
    /// Not one (variant, action) pair of the schema set can be served.
    #[error("no model action under {dir} can be served:\n{}", problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    NothingServable {
        /// The schema directory (or `<in-memory schema set>`).
        dir: PathBuf,
        /// Why each action was skipped.
        problems: Vec<ActionProblem>,
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
