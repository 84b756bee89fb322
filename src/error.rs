//! The one error type of the SDK for failures of a whole call.
//!
//! Failures of single items are not errors of the call: they are reported in
//! the item's [`Outcome`](crate::Outcome) as an [`ItemError`](crate::outcome::ItemError).

use std::path::PathBuf;

/// Why a call (or building a client) failed as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client configuration is not usable.
    #[error("invalid client configuration: {0}")]
    Config(String),

    /// The CA bundle given to [`ClientBuilder::ca_bundle`](crate::ClientBuilder::ca_bundle) could not be used.
    #[error(
        "cannot use CA bundle {path}: {message}; give a PEM file with one or more certificates"
    )]
    CaBundle {
        /// The PEM file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),

    /// One input item is not valid for the action (from [`validate_item`](crate::validate_item)).
    #[error("items[{index}]{}: {message}", field.as_deref().map(|f| format!(".{f}")).unwrap_or_default())]
    InvalidItem {
        /// Position of the item in the input.
        index: usize,
        /// Field path inside the item, like `chains[0].id`, when one field is at fault.
        field: Option<String>,
        /// What is wrong and what is allowed.
        message: String,
    },

    /// The call's params are not valid for the action; nothing was sent.
    #[error("invalid params for {slug}/{action}: {message}")]
    InvalidParams {
        /// Model slug.
        slug: String,
        /// Action name.
        action: String,
        /// What is wrong and what is allowed.
        message: String,
    },

    /// An item or the params could not be serialized to JSON.
    #[error("cannot serialize {what} to JSON: {source}")]
    Serialize {
        /// `items[3]` or `params`.
        what: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },

    /// The action's request schema does not compile into a validator (a bug in the schema set).
    #[error("the request schema of {slug}/{action} is not usable: {message}; report this as a bug of the schema set")]
    Schema {
        /// Model slug.
        slug: String,
        /// Action name.
        action: String,
        /// Compiler message.
        message: String,
    },

    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// A JSONL output file has a line this SDK did not write.
    #[error("{path}:{line}: {message}; move the file away or pick another output path")]
    Jsonl {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        message: String,
    },

    /// A result cache file that cannot be used (feature `cache`): not a
    /// biolm cache, corrupt, another layout version, or locked too long.
    #[error("cache {path}: {message}")]
    Cache {
        /// The cache file.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },

    /// A shard spec that is not `I/N` with `0 <= I < N` ([`crate::shard::Shard`]).
    #[error("invalid shard {0}")]
    InvalidShard(String),

    /// Shard outputs that cannot be merged ([`crate::jsonl::merge`]): of
    /// another job, a shard given twice, missing items; nothing was written.
    #[error("cannot merge: {message}")]
    Merge {
        /// What is wrong, naming the files and the missing items.
        message: String,
    },

    /// A JSONL output file belongs to a different job, so it cannot be resumed.
    #[error(
        "{path} holds the results of another job (fingerprint {found}, this job is {expected}): \
         the model, action or params differ; refusing to resume — \
         write to another path or delete the file to start over"
    )]
    ResumeMismatch {
        /// The file.
        path: PathBuf,
        /// Fingerprint of the job being run.
        expected: String,
        /// Fingerprint recorded in the file.
        found: String,
    },

    /// A JSONL output file holds a line for an input item that differs from the
    /// item of the same index in this run (or for an index the input lacks).
    #[error(
        "{path} was written by a different job: {message}; refusing to resume (the file is \
         left as it was) — write to another path or delete the file to start over"
    )]
    ResumeItemMismatch {
        /// The file.
        path: PathBuf,
        /// Which item differs, and the file line holding it.
        message: String,
    },

    /// Another run holds the output file (its exclusive lock).
    #[error(
        "{path} is in use: another run holds it (the file is locked by that run); \
         wait for it to finish, or write to another path"
    )]
    OutputLocked {
        /// The output file.
        path: PathBuf,
    },

    /// The output path cannot be written by this run (a directory, the input
    /// file itself, an output that cannot be resumed); it is left untouched.
    #[error("{path} {message}")]
    OutputRefused {
        /// The output path.
        path: PathBuf,
        /// Why, and what to do.
        message: String,
    },

    /// A blocking method was called from inside an async runtime, where it would
    /// block the runtime's thread.
    #[error(
        "the blocking client was called from inside an async runtime (a tokio \
         worker or blocking-pool thread); use biolm::Client (async) there, or call \
         the blocking client from a thread started with std::thread::spawn"
    )]
    BlockingInAsyncContext,

    /// The blocking client could not start its runtime.
    #[error("cannot start the blocking client's runtime: {0}")]
    Runtime(#[source] std::io::Error),

    /// The item of a single-item call ([`crate::One`], the `*_one` methods)
    /// failed: the error says which field, why, and what to do.
    #[error("{0}")]
    Item(crate::outcome::ItemError),

    /// The call's background task stopped unexpectedly (it panicked or its runtime shut down).
    #[error("the call was interrupted: {0}")]
    Interrupted(String),
}
