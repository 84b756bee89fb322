//! What happened to each input item of a call.

use std::fmt;

use serde::Serialize;

/// What a call does after an item fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorPolicy {
    /// Send every item; each failure is reported in its own outcome (default).
    #[default]
    CollectAll,
    /// After the first failed item, send no new batch: requests in flight finish,
    /// every item not yet sent gets [`Outcome::NotAttempted`].
    StopOnFirstFailure,
}

/// The result of one input item: every input item of a call gets exactly one.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub enum Outcome<R> {
    /// The model returned this result for the item.
    Success(R),
    /// The item failed; the error says why and what to do.
    Failed(ItemError),
    /// The item was never sent, because the call stopped after an earlier failure
    /// ([`ErrorPolicy::StopOnFirstFailure`]).
    NotAttempted,
}

impl<R> Outcome<R> {
    /// Whether the item has a result.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success(_))
    }

    /// Whether the item failed.
    pub fn is_failed(&self) -> bool {
        matches!(self, Outcome::Failed(_))
    }

    /// The result, if any.
    pub fn ok(&self) -> Option<&R> {
        match self {
            Outcome::Success(r) => Some(r),
            _ => None,
        }
    }

    /// The error, if the item failed.
    pub fn error(&self) -> Option<&ItemError> {
        match self {
            Outcome::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// The result, or the error (`None` for an item never attempted).
    pub fn into_result(self) -> Option<Result<R, ItemError>> {
        match self {
            Outcome::Success(r) => Some(Ok(r)),
            Outcome::Failed(e) => Some(Err(e)),
            Outcome::NotAttempted => None,
        }
    }

    /// Maps the result.
    pub fn map<S>(self, f: impl FnOnce(R) -> S) -> Outcome<S> {
        match self {
            Outcome::Success(r) => Outcome::Success(f(r)),
            Outcome::Failed(e) => Outcome::Failed(e),
            Outcome::NotAttempted => Outcome::NotAttempted,
        }
    }
}

/// The broad reason an item failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ItemErrorKind {
    /// The item failed client-side validation and was never sent.
    Invalid,
    /// The server rejected the item (400/422 naming it, or naming no item when sent alone).
    Rejected,
    /// The server refused the credentials (401) or the access (403).
    Unauthorized,
    /// The model or action does not exist at this base URL (404).
    NotFound,
    /// The server kept failing (429/5xx) or could not be reached until the retry budget ran out.
    Unavailable,
    /// The server answered with a body this SDK cannot map to the item (wrong result
    /// count, malformed JSON, a result of the wrong shape).
    BadResponse,
}

impl ItemErrorKind {
    /// Whether the failure says nothing against the item itself, so the same
    /// item may pass when sent again later (the server was down or failed, or
    /// answered with something that could not be mapped to the item):
    /// `Unavailable` and `BadResponse`. The others need a change first: the
    /// item (`Invalid`, `Rejected`), the token (`Unauthorized`) or the model
    /// or base URL (`NotFound`).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ItemErrorKind::Unavailable | ItemErrorKind::BadResponse
        )
    }
}

/// Why one item failed.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ItemError {
    /// Position of the item in the call's input.
    pub index: usize,
    /// Broad reason.
    pub kind: ItemErrorKind,
    /// Field path inside the item (`sequence`, `chains[0].id`) or `params.x`, when known.
    pub field: Option<String>,
    /// HTTP status of the response that failed the item, if one came.
    pub status: Option<u16>,
    /// The server's request id (`x-request-id` / `x-amzn-requestid`), for support tickets.
    pub request_id: Option<String>,
    /// What went wrong and what to do about it.
    pub message: String,
}

impl fmt::Display for ItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "items[{}]", self.index)?;
        if let Some(field) = &self.field {
            if field.starts_with("params") {
                write!(f, " ({field})")?;
            } else {
                write!(f, ".{field}")?;
            }
        }
        write!(f, ": {}", self.message)?;
        match (self.status, &self.request_id) {
            (Some(s), Some(id)) => write!(f, " (HTTP {s}, request id {id})"),
            (Some(s), None) => write!(f, " (HTTP {s})"),
            (None, Some(id)) => write!(f, " (request id {id})"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for ItemError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_kinds_are_the_ones_worth_sending_again_unchanged() {
        assert!(ItemErrorKind::Unavailable.is_transient());
        assert!(ItemErrorKind::BadResponse.is_transient());
        for k in [
            ItemErrorKind::Invalid,
            ItemErrorKind::Rejected,
            ItemErrorKind::Unauthorized,
            ItemErrorKind::NotFound,
        ] {
            assert!(!k.is_transient(), "{k:?}");
        }
    }
}
