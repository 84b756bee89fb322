//! The generator's error type.

use std::fmt;
use std::path::PathBuf;

/// A schema the generator cannot turn into Rust.
///
/// Always names the file and the JSON pointer of the offending schema node, so the
/// message says exactly where to look.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CodegenError {
    /// The schema file the problem is in.
    pub file: PathBuf,
    /// JSON pointer of the offending node inside the file (`""` for the document).
    pub pointer: String,
    /// What is wrong, and what to change.
    pub message: String,
}

impl CodegenError {
    /// Builds an error for `file` at JSON pointer `pointer`.
    pub fn new(
        file: impl Into<PathBuf>,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        CodegenError {
            file: file.into(),
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for CodegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}: at {}: {}",
                self.file.display(),
                self.pointer,
                self.message
            )
        }
    }
}

impl From<biolm_catalog::LoadError> for CodegenError {
    fn from(e: biolm_catalog::LoadError) -> Self {
        CodegenError {
            file: e.file,
            pointer: e.pointer,
            message: e.message,
        }
    }
}
