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
pub mod blocking;
#[cfg(feature = "cache")]
pub mod cache;
pub mod budget;
pub mod call;
pub mod catalog;
mod client;
mod clock;
pub mod config;
#[doc(hidden)]
pub mod de;
mod engine;
mod error;
mod generated;
pub mod jsonl;
pub mod outcome;
pub mod output;
pub mod progress;
pub mod rate_limit;
mod reachability;
pub mod retry;
pub mod secret;
pub mod shard;
pub mod spec;
mod transport;
mod validation;

pub use call::{Call, ErrorPolicy, OutcomeStream};
pub use client::{Client, ClientStats, Untyped};
pub use config::{ClientBuilder, Target};
pub use error::Error;
pub use generated::*;
pub use jsonl::JsonlSummary;
pub use outcome::{ItemError, ItemErrorKind, Outcome};
pub use progress::Progress;
pub use rate_limit::RateLimit;
pub use retry::RetryPolicy;
pub use secret::Token;

/// Checks one item against the action's request schema, as a call does
/// before sending. The error names the item's index and the field path.
pub fn validate_item<I: serde::Serialize>(
    spec: &spec::ActionSpec,
    index: usize,
    item: &I,
) -> Result<(), Error> {
    let checker = validation::checker(spec)?;
    match engine::prepare_item(checker, index, item, None) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::InvalidItem {
            index,
            field: e.field,
            message: e.message,
        }),
    }
}

/// Checks params against the action's request schema, as a call does before sending.
pub fn validate_params<P: serde::Serialize>(
    spec: &spec::ActionSpec,
    params: &P,
) -> Result<(), Error> {
    let Some(checker) = validation::checker(spec)? else {
        return Ok(());
    };
    let value = serde_json::to_value(params).map_err(|e| Error::Serialize {
        what: "params".into(),
        source: e,
    })?;
    let empty = matches!(&value, serde_json::Value::Object(m) if m.is_empty());
    let problems = checker.check_params(if empty {
        &serde_json::Value::Null
    } else {
        &value
    });
    validation::warn_ignored_params(spec, checker, &value);
    if problems.is_empty() {
        return Ok(());
    }
    let (_, message) = validation::join(&problems);
    Err(Error::InvalidParams {
        slug: spec.slug.to_string(),
        action: spec.action.to_string(),
        message,
    })
}

/// The README's Rust examples, compiled as doc tests so the README stays true to the code.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
