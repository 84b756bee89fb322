//! Progress reporting: every item is counted exactly once, whatever path it took
//! (first send, retry, re-send, validation failure, not attempted).

use std::sync::Arc;

use crate::Outcome;

/// A snapshot of a call's progress, given to the progress callback.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Items expected, when the input's length is known.
    pub total: Option<usize>,
    /// Items with an outcome so far (`succeeded + failed + not_attempted`).
    pub done: usize,
    /// Items with a result.
    pub succeeded: usize,
    /// Items that failed.
    pub failed: usize,
    /// Items never sent (the call stopped after a failure).
    pub not_attempted: usize,
}

/// A progress callback.
pub(crate) type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// The progress of one running call.
pub(crate) struct ProgressState {
    snapshot: Progress,
    callback: Option<ProgressFn>,
    #[cfg(feature = "progress")]
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressState {
    pub(crate) fn new(
        total: Option<usize>,
        callback: Option<ProgressFn>,
        bar: bool,
    ) -> Option<ProgressState> {
        #[cfg(feature = "progress")]
        let bar = bar.then(|| {
            let b = match total {
                Some(t) => indicatif::ProgressBar::new(t as u64),
                None => indicatif::ProgressBar::new_spinner(),
            };
            b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} items ({per_sec}, eta {eta}) {msg}",
            ) {
                b.set_style(style);
            }
            b
        });
        #[cfg(not(feature = "progress"))]
        let _ = bar;
        #[cfg(feature = "progress")]
        let has_bar = bar.is_some();
        #[cfg(not(feature = "progress"))]
        let has_bar = false;
        if callback.is_none() && !has_bar {
            return None;
        }
        Some(ProgressState {
            snapshot: Progress {
                total,
                ..Progress::default()
            },
            callback,
            #[cfg(feature = "progress")]
            bar,
        })
    }

    pub(crate) fn record<R>(&mut self, o: &Outcome<R>) {
        let s = &mut self.snapshot;
        s.done += 1;
        match o {
            Outcome::Success(_) => s.succeeded += 1,
            Outcome::Failed(_) => s.failed += 1,
            Outcome::NotAttempted => s.not_attempted += 1,
        }
        if let Some(cb) = &self.callback {
            cb(&self.snapshot);
        }
        #[cfg(feature = "progress")]
        if let Some(b) = &self.bar {
            b.set_position(self.snapshot.done as u64);
            if self.snapshot.failed > 0 {
                b.set_message(format!("{} failed", self.snapshot.failed));
            }
        }
    }

    pub(crate) fn finish(&mut self) {
        #[cfg(feature = "progress")]
        if let Some(b) = &self.bar {
            b.finish();
        }
    }
}
