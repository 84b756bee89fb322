//! Whether the server can be reached at all, shared by every call of a client.
//!
//! Retries serve a server that blinks: a restart, a dropped connection. They do
//! not serve a server that is down or a wrong URL, where each batch would wait
//! through its whole backoff before failing (minutes for a large call). So once
//! a request has used up every attempt on connection failures, with no reply
//! from the server meanwhile, the client counts the server as *unreachable*:
//! from then on a connection failure is not retried, and a large call fails in
//! the time its connection attempts take. Any reply from the server (whatever
//! its status) counts it as reachable again, so a server that comes back
//! mid-call is used at once; every batch still makes its one attempt.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The client's view of the server: reachable until shown otherwise.
#[derive(Debug, Default)]
pub(crate) struct Reachability {
    /// Set when a request used up its attempts on connection failures while
    /// the server sent no reply; cleared by the next reply.
    unreachable: AtomicBool,
    /// Replies received (any HTTP status), to tell whether the server answered
    /// anyone during a request's attempts.
    replies: AtomicU64,
}

/// A mark taken when a request starts, to compare against when it gives up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark(u64);

impl Reachability {
    /// Takes a mark before a request's first attempt.
    pub(crate) fn mark(&self) -> Mark {
        Mark(self.replies.load(Ordering::Acquire))
    }

    /// Records a reply from the server (any status): it is reachable.
    pub(crate) fn replied(&self) {
        self.replies.fetch_add(1, Ordering::AcqRel);
        self.unreachable.store(false, Ordering::Release);
    }

    /// Records that a request used up its attempts on connection failures.
    /// The server counts as unreachable only if it answered no request since
    /// `since` (the mark of the request's first attempt).
    pub(crate) fn gave_up_connecting(&self, since: Mark) {
        if self.replies.load(Ordering::Acquire) == since.0 {
            self.unreachable.store(true, Ordering::Release);
        }
    }

    /// Whether connection failures should be retried (not while the server is
    /// counted as unreachable).
    pub(crate) fn is_unreachable(&self) -> bool {
        self.unreachable.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn giving_up_without_any_reply_marks_the_server_unreachable() {
        let r = Reachability::default();
        assert!(!r.is_unreachable());
        let m = r.mark();
        r.gave_up_connecting(m);
        assert!(r.is_unreachable());
        r.replied();
        assert!(!r.is_unreachable(), "a reply makes it reachable again");
    }

    #[test]
    fn a_reply_to_another_request_meanwhile_keeps_it_reachable() {
        let r = Reachability::default();
        let m = r.mark();
        r.replied();
        r.gave_up_connecting(m);
        assert!(
            !r.is_unreachable(),
            "the server answered during the attempts: it blinked, it is not down"
        );
    }
}
