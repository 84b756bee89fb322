//! [`Call::write_jsonl`](crate::Call::write_jsonl): the call's outcomes
//! written as resumable JSONL (the format is in [`crate::jsonl`]), skipping
//! the items the file already has.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::stream::{self, StreamExt};
use futures_util::FutureExt;
use serde::Serialize;

use crate::engine::Launch;
use crate::jsonl::{item_sha, job_fingerprint, past_end_message, JsonlSummary};
use crate::{Error, Outcome, RawResult};

/// State shared between the filtered input stream and the writer.
#[derive(Default)]
struct Feed {
    /// Item hashes and ids of the items sent and not yet written (bounded by
    /// the window).
    in_flight: Mutex<HashMap<usize, (u64, Option<String>)>>,
    skipped: AtomicUsize,
    seen: AtomicUsize,
    exhausted: AtomicBool,
    /// The first input index whose item differs from the file's line.
    mismatch: Mutex<Option<usize>>,
}

impl Feed {
    fn mismatch(&self) -> Option<usize> {
        self.mismatch.lock().ok().and_then(|m| *m)
    }
}

/// Runs a call (its context built) writing resumable JSONL output to `path`.
pub(super) async fn run<I>(mut launch: Launch<I>, path: &Path) -> Result<JsonlSummary, Error>
where
    I: Serialize + Send + Sync + 'static,
{
    let spec = launch.spec();
    let model = spec.slug.to_string();
    let action = spec.action.to_string();
    let fp = job_fingerprint(&model, &action, launch.params());
    let known_total = launch.total;

    let job = crate::output::Job {
        fingerprint: fp.clone(),
        model,
        action,
        items: known_total,
    };
    // Sharded (`Call::shard`): items keep their input index; the others are passed over below.
    let shard = launch.shard.take();
    let options = crate::output::OpenOptions::new().shard(shard);
    let opened = crate::output::OutputWriter::open(path, &job, &options)?;
    let mut writer = opened.writer;
    let done = opened.done;
    let done = Arc::new(done);
    let feed = Arc::new(Feed::default());
    let ids = launch.ids.take();
    let shard_len = move |t: usize| shard.map_or(t, |s| s.len_of(t));
    launch.total = known_total.map(|t| shard_len(t).saturating_sub(done.len()));
    let input = std::mem::replace(&mut launch.input, stream::empty().boxed());
    let filtered = {
        let (feed, done) = (feed.clone(), done.clone());
        stream::unfold(
            (input, 0usize, ids),
            move |(mut input, mut next, mut ids)| {
                let (feed, done) = (feed.clone(), done.clone());
                async move {
                    loop {
                        let Some(item) = input.next().await else {
                            feed.exhausted.store(true, Ordering::SeqCst);
                            return None;
                        };
                        let index = next;
                        next += 1;
                        feed.seen.store(next, Ordering::SeqCst);
                        let id = ids.as_mut().and_then(Iterator::next);
                        if shard.is_some_and(|s| !s.contains(index)) {
                            continue;
                        }
                        // An item that does not serialize fails in the engine, naming it.
                        let sha = serde_json::to_value(&item)
                            .map(|v| item_sha(&v, id.as_deref()))
                            .unwrap_or(0);
                        match done.matches(index as u64, sha) {
                            Some(true) => {
                                feed.skipped.fetch_add(1, Ordering::SeqCst);
                            }
                            Some(false) => {
                                if let Ok(mut m) = feed.mismatch.lock() {
                                    *m = Some(index);
                                }
                                return None;
                            }
                            None => {
                                if let Ok(mut f) = feed.in_flight.lock() {
                                    f.insert(index, (sha, id));
                                }
                                return Some(((index, item), (input, next, ids)));
                            }
                        }
                    }
                }
            },
        )
        .boxed()
    };
    // Through the result cache, like any call (the shard was taken above).
    let mut outcomes = super::run::<I, RawResult>(launch, false, move |_| filtered);

    let mut summary = JsonlSummary {
        path: path.to_owned(),
        fingerprint: fp,
        ..JsonlSummary::default()
    };
    loop {
        if let Some(index) = feed.mismatch() {
            drop(outcomes);
            return Err(writer.refuse_item(index));
        }
        let next = match outcomes.next().now_or_never() {
            Some(x) => x,
            None => {
                writer.flush()?;
                outcomes.next().await
            }
        };
        let Some(x) = next else { break };
        let (index, outcome) = x?;
        let (sha, id) = feed
            .in_flight
            .lock()
            .ok()
            .and_then(|mut f| f.remove(&index))
            .unwrap_or((0, None));
        let id = id.as_deref();
        match outcome {
            Outcome::Success(raw) => {
                summary.succeeded += 1;
                writer.line(index, sha, id, Some(&raw), None)?;
            }
            Outcome::Failed(e) => {
                summary.failed += 1;
                writer.line(index, sha, id, None, Some(&e))?;
            }
            Outcome::NotAttempted => summary.not_attempted += 1,
        }
        if writer.pending() > (1 << 20) {
            writer.flush()?;
        }
    }
    if let Some(index) = feed.mismatch() {
        return Err(writer.refuse_item(index));
    }
    let seen = feed.seen.load(Ordering::SeqCst);
    if feed.exhausted.load(Ordering::SeqCst) {
        if let Some(max) = done.max_index().filter(|m| *m >= seen as u64) {
            return Err(writer.refuse(past_end_message(path, max, seen)));
        }
    }
    writer.finish()?;
    summary.skipped = feed.skipped.load(Ordering::SeqCst);
    summary.total = shard_len(known_total.unwrap_or(seen).max(seen));
    Ok(summary)
}
