use std::fmt;
use std::path::PathBuf;

/// A schema file that could not be read or understood.
///
/// Always names the file and, where it can, the JSON pointer of the offending
/// node, so the message tells the reader exactly where to look.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The file (or directory) the problem is in.
    pub file: PathBuf,
    /// JSON pointer inside the file (`""` for the whole document).
    pub pointer: String,
    /// What is wrong, in words.
    pub message: String,
}

impl LoadError {
    /// Builds an error for `file` at JSON pointer `pointer`.
    pub fn new(
        file: impl Into<PathBuf>,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        LoadError {
            file: file.into(),
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for LoadError {
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
