//! The cache in a call: between the input and the engine, items found in the
//! cache are answered from it and never sent, an item identical to one in
//! flight waits for that one's result, and every other item goes to the
//! engine; results come back in the call's usual stream. Progress is counted
//! here, as outcomes leave the call, so that items answered from the cache or
//! by an identical item count as done too.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures_util::stream::{self, BoxStream, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::mpsc;

use super::OutcomeStream;
use crate::cache::key::{self, KeyPrefix};
use crate::engine::{Emitted, Launch};
use crate::progress::ProgressState;
use crate::reply::result;
use crate::{Outcome, RawResult};

type Key = [u8; 32];

/// Results stored per transaction.
const STORE_BATCH: usize = 256;

/// A launch given back uncached, with its indexed items.
pub(crate) type GiveBack<I> = Box<(Launch<I>, BoxStream<'static, (usize, I)>)>;

/// Items sent and not yet answered, by input index, and the identical items
/// waiting for them.
#[derive(Default)]
struct InFlight {
    leaders: HashMap<usize, Key>,
    followers: HashMap<Key, Vec<usize>>,
    /// Results received and not yet stored (at most `STORE_BATCH`): an
    /// identical item read meanwhile is answered from here.
    unstored: HashMap<Key, String>,
    /// Whether a failed lookup, and a failed store, were warned about: once
    /// each per call (a broken cache would otherwise warn for every item).
    lookup_warned: bool,
    store_warned: bool,
}

/// Whether this is the first warning of its kind in the call (`flag` is then set).
fn first_warning(state: &Mutex<InFlight>, flag: fn(&mut InFlight) -> &mut bool) -> bool {
    state
        .lock()
        .map(|mut s| !std::mem::replace(flag(&mut s), true))
        .unwrap_or(true)
}

/// Starts `launch` on its `indexed` items (a shard's already selected)
/// through its client's cache; gives both back when there is no cache or its
/// results may not be cached (the caller then runs it as usual).
pub(crate) fn start<I, T>(
    mut launch: Launch<I>,
    ordered: bool,
    indexed: BoxStream<'static, (usize, I)>,
) -> Result<OutcomeStream<T>, GiveBack<I>>
where
    I: Serialize + Send + Sync + 'static,
    T: DeserializeOwned + Send + 'static,
{
    let Some(cache) = launch.ctx.client.cache.clone() else {
        return Err(Box::new((launch, indexed)));
    };
    let params = launch.params().clone();
    let spec = launch.spec();
    if let Some(why) = key::not_cacheable(spec, &params) {
        tracing::debug!(slug = %spec.slug, action = %spec.action, why, "not cached");
        return Err(Box::new((launch, indexed)));
    }
    let transport = &launch.ctx.client.transport;
    let kind = cache.kind.unwrap_or(match transport.target {
        crate::Target::Gateway => "gateway",
        _ => "platform",
    });
    let url = if cache.kind == Some("sandbox") {
        "sandbox".to_string()
    } else {
        key::url_identity(&transport.base)
    };
    let prefix = Arc::new(KeyPrefix::new(
        kind,
        &url,
        &spec.slug,
        &spec.action,
        &params,
    ));

    // Positions in the shard are mapped back by the returned stream, not by
    // the engine's.
    let shard = launch.shard.take();
    let state = Arc::new(Mutex::new(InFlight::default()));
    let (hits_tx, mut hits_rx) = mpsc::channel::<(usize, String)>(256);
    let misses = {
        let (state, prefix, cache) = (state.clone(), prefix.clone(), cache.clone());
        stream::unfold((indexed, hits_tx), move |(mut indexed, hits_tx)| {
            let (state, prefix, cache) = (state.clone(), prefix.clone(), cache.clone());
            async move {
                loop {
                    let (index, item) = indexed.next().await?;
                    // An item that does not serialize fails in the engine, naming it.
                    let Ok(value) = serde_json::to_value(&item) else {
                        return Some(((index, item), (indexed, hits_tx)));
                    };
                    let key = prefix.key(&value);
                    let mut answered = None;
                    if let Ok(mut s) = state.lock() {
                        if let Some(waiting) = s.followers.get_mut(&key) {
                            waiting.push(index);
                            cache.shared.counts.duplicate();
                            continue;
                        }
                        answered = s.unstored.get(&key).cloned();
                    }
                    if let Some(text) = answered {
                        cache.shared.counts.duplicate();
                        if hits_tx.send((index, text)).await.is_err() {
                            return None;
                        }
                        continue;
                    }
                    match cache.shared.store.get(&key) {
                        Ok(Some(text)) => {
                            cache.shared.counts.hit();
                            if hits_tx.send((index, text)).await.is_err() {
                                return None;
                            }
                            continue;
                        }
                        Ok(None) => cache.shared.counts.miss(),
                        Err(e) => {
                            cache.shared.counts.miss();
                            if first_warning(&state, |s| &mut s.lookup_warned) {
                                tracing::warn!(error = %e, "cache lookup failed; sending the item (later failed lookups of this call are not shown)");
                            }
                        }
                    }
                    if let Ok(mut s) = state.lock() {
                        s.followers.insert(key, Vec::new());
                        s.leaders.insert(index, key);
                    }
                    return Some(((index, item), (indexed, hits_tx)));
                }
            }
        })
        .boxed()
    };
    // The engine sees only the misses, so the whole call's progress is counted here.
    let progress = ProgressState::new(
        launch.total,
        launch.progress.take(),
        std::mem::take(&mut launch.progress_bar),
    );
    let mut engine = launch.start::<RawResult>(false, misses);

    let (tx, rx) = mpsc::channel::<Emitted<T>>(64);
    let driver = async move {
        let mut out = Out {
            tx,
            reorder: ordered.then(|| (0usize, BTreeMap::new())),
            progress,
        };
        // Results to store, written in one transaction per `STORE_BATCH` (a
        // transaction per result would cost more than the lookups save).
        let mut to_store: Vec<(Key, RawResult)> = Vec::new();
        let flush = |rows: &mut Vec<(Key, RawResult)>| {
            let batch: Vec<_> = rows
                .iter()
                .map(|(k, raw)| {
                    (
                        k,
                        prefix.server.as_str(),
                        prefix.model.as_str(),
                        prefix.action.as_str(),
                        raw.get(),
                    )
                })
                .collect();
            match cache.shared.store.put(&batch) {
                Ok(()) => cache.shared.counts.stored(batch.len()),
                Err(e) => {
                    if first_warning(&state, |s| &mut s.store_warned) {
                        tracing::warn!(error = %e, "cannot store results in the cache (later failures of this call are not shown)");
                    }
                }
            }
            if let Ok(mut s) = state.lock() {
                for (k, _) in rows.iter() {
                    s.unstored.remove(k);
                }
            }
            rows.clear();
        };
        let (mut engine_done, mut hits_done) = (false, false);
        while !(engine_done && hits_done) {
            tokio::select! {
                x = engine.next(), if !engine_done => match x {
                    None => engine_done = true,
                    Some(Err(e)) => {
                        flush(&mut to_store);
                        let _ = out.tx.send(Err(e)).await;
                        return;
                    }
                    Some(Ok((index, outcome))) => {
                        let (key, followers) = match state.lock() {
                            Ok(mut s) => {
                                let key = s.leaders.remove(&index);
                                let f = key.and_then(|k| s.followers.remove(&k)).unwrap_or_default();
                                (key, f)
                            }
                            Err(_) => (None, Vec::new()),
                        };
                        let all = std::iter::once(index).chain(followers);
                        match outcome {
                            Outcome::Success(raw) => {
                                let text = raw.get().to_string();
                                if let Some(k) = key {
                                    if let Ok(mut s) = state.lock() {
                                        s.unstored.insert(k, text.clone());
                                    }
                                    to_store.push((k, raw));
                                    if to_store.len() >= STORE_BATCH {
                                        flush(&mut to_store);
                                    }
                                }
                                for i in all {
                                    if !out.emit(i, result::<T>(i, &text)).await {
                                        flush(&mut to_store);
                                        return;
                                    }
                                }
                            }
                            Outcome::Failed(e) => {
                                for i in all {
                                    let mut e = e.clone();
                                    e.index = i;
                                    if !out.emit(i, Outcome::Failed(e)).await {
                                        return;
                                    }
                                }
                            }
                            Outcome::NotAttempted => {
                                for i in all {
                                    if !out.emit(i, Outcome::NotAttempted).await {
                                        return;
                                    }
                                }
                            }
                        }
                    }
                },
                h = hits_rx.recv(), if !hits_done => match h {
                    None => hits_done = true,
                    Some((index, text)) => {
                        if !out.emit(index, result::<T>(index, &text)).await {
                            return;
                        }
                    }
                },
            }
        }
        flush(&mut to_store);
        if let Some(p) = out.progress.as_mut() {
            p.finish();
        }
    };
    Ok(OutcomeStream::from_driver(rx, Box::pin(driver), shard))
}

/// Where outcomes go: in completion order, or in input order; each counted
/// once in the call's progress.
struct Out<T> {
    tx: mpsc::Sender<Emitted<T>>,
    reorder: Option<(usize, BTreeMap<usize, Outcome<T>>)>,
    progress: Option<ProgressState>,
}

impl<T> Out<T> {
    /// `false` when the receiver is gone.
    async fn emit(&mut self, index: usize, outcome: Outcome<T>) -> bool {
        if let Some(p) = self.progress.as_mut() {
            p.record(&outcome);
        }
        let Some((next, buf)) = self.reorder.as_mut() else {
            return self.tx.send(Ok((index, outcome))).await.is_ok();
        };
        buf.insert(index, outcome);
        while let Some(o) = buf.remove(next) {
            if self.tx.send(Ok((*next, o))).await.is_err() {
                return false;
            }
            *next += 1;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_cache_failure_is_warned_about_once_per_call() {
        let state = Mutex::new(InFlight::default());
        assert!(first_warning(&state, |s| &mut s.lookup_warned));
        assert!(!first_warning(&state, |s| &mut s.lookup_warned));
        assert!(first_warning(&state, |s| &mut s.store_warned));
        assert!(!first_warning(&state, |s| &mut s.store_warned));
        // Another call has its own state.
        let other = Mutex::new(InFlight::default());
        assert!(first_warning(&other, |s| &mut s.lookup_warned));
    }
}
