//! Typed, batched, retrying client for the BioLM model API.
//!
//! ```no_run
//! # async fn f() -> Result<(), biolm::Error> {
//! let client = biolm::Client::from_env()?;
//! let spec = biolm::catalog::find("esm2-8m").and_then(|v| v.action("encode")).unwrap();
//! let items = vec![serde_json::json!({"sequence": "MKTAYIAKQR"})];
//! let outcomes = client
//!     .call::<_, serde_json::Value, serde_json::Value, _>(spec, items)
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Every call validates items against the action's schema before sending,
//! batches them up to the model's limit, keeps at most `concurrency` requests
//! in flight across the client, obeys rate limits, retries what is worth
//! retrying, and yields exactly one [`Outcome`] per input item.

#![deny(missing_docs)]
// Time only through `clock` (clippy.toml lists the functions).
#![deny(clippy::disallowed_methods)]
pub mod blocking;
pub mod budget;
mod build;
#[cfg(feature = "cache")]
pub mod cache;
pub mod call;
pub mod catalog;
mod client;
mod clock;
pub mod config;
#[doc(hidden)]
pub mod de;
mod engine;
mod error;
mod file_lock;
mod generated;
pub mod hooks;
mod inner;
mod json_check;
pub mod jsonl;
pub mod outcome;
pub mod output;
pub mod progress;
pub mod rate_limit;
mod raw_result;
mod reachability;
mod reply;
pub mod retry;
pub mod secret;
pub mod shard;
pub mod spec;
mod transport;
mod validation;

pub use call::{Call, ErrorPolicy, One, OutcomeStream};
pub use client::{Client, ClientStats, Untyped};
pub use config::{ClientBuilder, Target};
pub use error::Error;
pub use generated::*;
pub use jsonl::JsonlSummary;
pub use outcome::{ItemError, ItemErrorKind, Outcome};
pub use progress::Progress;
pub use rate_limit::RateLimit;
pub use raw_result::RawResult;
pub use retry::RetryPolicy;
pub use secret::Token;
pub use validation::{validate_item, validate_params};

/// The README's Rust examples, compiled as doc tests so the README stays true to the code.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
