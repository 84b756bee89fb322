//! Where a call's outcomes go: a channel, in completion order or reordered
//! within a window, with secrets scrubbed from failures and progress counted.

use std::collections::BTreeMap;

use tokio::sync::mpsc;

use crate::outcome::Outcome;
use crate::progress::ProgressState;
use crate::Error;

/// What the engine sends out: outcomes by input index, or a call-level error.
pub(crate) type Emitted<R> = Result<(usize, Outcome<R>), Error>;

/// Where outcomes go: a channel, in completion order or reordered.
pub(crate) struct Emitter<R> {
    tx: mpsc::Sender<Emitted<R>>,
    reorder: Option<Reorder<R>>,
    progress: Option<ProgressState>,
    /// The client's token and base-URL secrets, scrubbed from every field of a
    /// failure (servers and proxies may echo them in messages, keys and headers).
    secret: crate::secret::Redactor,
    pub failures: usize,
}

struct Reorder<R> {
    next: usize,
    buf: BTreeMap<usize, Outcome<R>>,
    window: usize,
}

impl<R> Emitter<R> {
    pub(crate) fn new(
        tx: mpsc::Sender<Emitted<R>>,
        ordered_window: Option<usize>,
        progress: Option<ProgressState>,
        secret: crate::secret::Redactor,
    ) -> Self {
        Emitter {
            tx,
            reorder: ordered_window.map(|window| Reorder {
                next: 0,
                buf: BTreeMap::new(),
                window,
            }),
            progress,
            secret,
            failures: 0,
        }
    }

    /// Emits one outcome; `false` when the receiver is gone (the call was dropped).
    pub(super) async fn emit(&mut self, index: usize, mut outcome: Outcome<R>) -> bool {
        if let Outcome::Failed(e) = &mut outcome {
            self.failures += 1;
            self.secret.redact_in_place(&mut e.message);
            if let Some(f) = e.field.as_mut() {
                self.secret.redact_in_place(f);
            }
            if let Some(r) = e.request_id.as_mut() {
                self.secret.redact_in_place(r);
            }
        }
        if let Some(p) = self.progress.as_mut() {
            p.record(&outcome);
        }
        match self.reorder.as_mut() {
            None => self.tx.send(Ok((index, outcome))).await.is_ok(),
            Some(r) => {
                if index != r.next {
                    r.buf.insert(index, outcome);
                    return true;
                }
                let mut current = Some(outcome);
                while let Some(o) = current.take() {
                    let i = r.next;
                    r.next += 1;
                    if self.tx.send(Ok((i, o))).await.is_err() {
                        return false;
                    }
                    current = r.buf.remove(&r.next);
                }
                true
            }
        }
    }

    /// Whether reading item `next_index` stays within the reorder window.
    pub(super) fn window_allows(&self, next_index: usize) -> bool {
        match &self.reorder {
            None => true,
            Some(r) => next_index < r.next + r.window,
        }
    }

    pub(crate) async fn fail(&mut self, e: Error) {
        let _ = self.tx.send(Err(e)).await;
    }

    pub(super) fn finish(&mut self) {
        if let Some(p) = self.progress.as_mut() {
            p.finish();
        }
    }
}
