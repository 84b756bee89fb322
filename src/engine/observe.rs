//! Running the client's hooks around each attempt (only when hooks are set),
//! with the token and the base URL's secrets redacted from what they see.

use reqwest::header::HeaderMap;

use super::CallCtx;
use crate::clock::{self, Instant};
use crate::hooks::{AttemptInfo, RequestInfo};
use crate::secret::Redactor;
use crate::transport::{Prepared, Reply, TransportError};

/// The hooks' view of one batch's attempts.
pub(super) struct Observer<'a> {
    ctx: &'a CallCtx,
    redactor: Redactor,
    url: String,
}

impl<'a> Observer<'a> {
    /// An observer when the client has hooks, else `None`.
    pub(super) fn new(ctx: &'a CallCtx) -> Option<Observer<'a>> {
        if ctx.client.hooks.is_empty() {
            return None;
        }
        let redactor = ctx.client.transport.redactor();
        let url = redactor.redact(&ctx.url).into_owned();
        Some(Observer { ctx, redactor, url })
    }

    /// Runs the request hooks: the headers they add, and when the attempt starts.
    pub(super) fn before(&self, attempt: u32, body: &Prepared) -> (HeaderMap, Instant) {
        let spec = self.ctx.spec.get();
        let headers = self.ctx.client.transport.visible_headers(body);
        let info = RequestInfo::new(&spec.slug, &spec.action, attempt, &self.url, &headers);
        let added = self.ctx.client.hooks.on_request(info);
        (added, clock::now())
    }

    /// Runs the response hooks on the attempt's result.
    pub(super) fn after(
        &self,
        attempt: u32,
        started: Instant,
        result: &Result<Reply, TransportError>,
    ) {
        let spec = self.ctx.spec.get();
        let (status, request_id, error) = match result {
            Ok(r) => (Some(r.status), r.request_id.as_deref(), None),
            Err(TransportError::TooLarge {
                status,
                request_id,
                message,
            }) => (Some(*status), request_id.as_deref(), Some(message.as_str())),
            Err(e) => (None, None, Some(e.message())),
        };
        let error = error.map(|e| self.redactor.redact(e));
        let request_id = request_id.map(|r| self.redactor.redact(r));
        let info = AttemptInfo {
            slug: &spec.slug,
            action: &spec.action,
            attempt,
            url: &self.url,
            status,
            elapsed: clock::now().saturating_duration_since(started),
            request_id: request_id.as_deref(),
            error: error.as_deref(),
        };
        self.ctx.client.hooks.on_response(&info);
    }
}
