//! A byte budget for the results of one call that are in flight or waiting
//! to be taken by the caller ([`ClientBuilder::result_budget`](crate::ClientBuilder::result_budget)),
//! so that memory stays flat in the number of items and bounded whatever an
//! item's size.
//!
//! How it is counted:
//!
//! 1. Before a batch is sent, [`Budget::reserve`] waits until its estimate
//!    fits: the largest response per item seen so far times the batch's
//!    items, twice (while a response is decoded, its raw bytes and the
//!    decoded results are both held).
//! 2. Before any response has been seen, the size of a response is unknown,
//!    so the call starts slowly: one batch is sent alone (estimated at the
//!    budget's share of one request slot, budget / concurrency), and only
//!    when its response has been read do the others go out, admitted by the
//!    measured size. A batch that ends without a response body (an error)
//!    teaches nothing: the number of batches let out blind then doubles, up
//!    to the concurrency, so a failing server is not probed one batch at a
//!    time forever. What a call learned is kept by the client for its later
//!    calls of the same action, which start with it.
//! 3. When the response arrives, its real size replaces the estimate
//!    ([`Budget::note_body`], [`Budget::settle`]): each item is charged its
//!    share of the body (what its decoded result holds).
//! 4. An item's charge is released when the caller takes its outcome from the
//!    stream ([`Budget::release`]); writers then write it at once.
//!
//! A batch is always let through when nothing else holds the budget, so a
//! budget smaller than one response still makes progress, one batch at a
//! time; that is said once, as a warning.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

/// The default budget: 64 MiB.
pub const DEFAULT_BYTES: u64 = 64 << 20;

/// The byte budget of one call ([module docs](self)).
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    /// The estimate of a batch before any response was seen.
    first_guess: u64,
    /// The call's requests in flight at most.
    slots: usize,
    /// The largest response bytes per item seen by earlier calls of the same
    /// action on the same client (shared with them).
    learned: Arc<AtomicU64>,
    state: Mutex<State>,
    freed: Notify,
    warned: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    /// Bytes reserved or charged now.
    used: u64,
    /// The largest response bytes per item seen (0: none seen yet).
    per_item: u64,
    /// Reservations of batches in flight, by their first index.
    reserved: HashMap<usize, u64>,
    /// Response bytes of (sub-)batches, by their first index.
    bodies: HashMap<usize, u64>,
    /// Charges of items whose outcome the caller has not taken yet.
    charges: HashMap<usize, u64>,
    /// How many batches may be in flight before any response size is known
    /// (starts at 1, doubles each time a batch ends without a body).
    blind: usize,
    /// The most bytes reserved or charged at once ([`Budget::peak`]).
    peak: u64,
}

/// A reservation being made; released if dropped before [`Reservation::commit`].
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<Budget>,
    first: usize,
    bytes: u64,
    armed: bool,
}

impl Reservation {
    /// The batch was sent: the reservation stays until [`Budget::settle`].
    pub fn commit(mut self) {
        self.armed = false;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.armed {
            let mut s = self.budget.lock();
            s.reserved.remove(&self.first);
            s.used = s.used.saturating_sub(self.bytes);
            drop(s);
            self.budget.freed.notify_waiters();
        }
    }
}

impl Budget {
    /// A budget of `limit` bytes (at least 1) for a call with `slots`
    /// requests in flight at most.
    pub fn new(limit: u64, slots: usize) -> Arc<Budget> {
        Budget::learning(limit, slots, Arc::default())
    }

    /// [`Budget::new`] starting from, and adding to, what earlier calls
    /// learned of the responses' size per item (`learned`, 0 for nothing).
    pub fn learning(limit: u64, slots: usize, learned: Arc<AtomicU64>) -> Arc<Budget> {
        let limit = limit.max(1);
        let state = State {
            per_item: learned.load(Ordering::Relaxed),
            blind: 1,
            ..State::default()
        };
        Arc::new(Budget {
            limit,
            first_guess: (limit / slots.max(1) as u64).max(1),
            slots: slots.max(1),
            learned,
            state: Mutex::new(state),
            freed: Notify::new(),
            warned: AtomicBool::new(false),
        })
    }

    /// The budget in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes reserved or charged now.
    pub fn used(&self) -> u64 {
        self.lock().used
    }

    /// The most bytes reserved or charged at once so far.
    pub fn peak(&self) -> u64 {
        self.lock().peak
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain numbers: keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn warn_once(&self, needed: u64) {
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                budget = self.limit,
                needed,
                "the result budget ({} bytes) is smaller than one batch's response (about {} bytes): batches go one at a time; raise it (ClientBuilder::result_budget, --result-budget) for more in flight",
                self.limit,
                needed
            );
        }
    }

    /// Waits until a batch of `items` items starting at input index `first`
    /// fits, and reserves its estimate.
    pub async fn reserve(self: &Arc<Self>, first: usize, items: usize) -> Reservation {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut s = self.lock();
                if s.per_item == 0 {
                    // Another call of the action on this client may have learned it meanwhile.
                    s.per_item = self.learned.load(Ordering::Relaxed);
                }
                let want = if s.per_item == 0 {
                    self.first_guess
                } else {
                    // The raw response and its decoded results, both held while it is decoded.
                    s.per_item
                        .saturating_mul(items.max(1) as u64)
                        .saturating_mul(2)
                };
                // Before any size is known, only `blind` batches go out (a slow start).
                let blind_ok = s.per_item > 0 || s.reserved.len() < s.blind;
                if s.used == 0 || (blind_ok && s.used.saturating_add(want) <= self.limit) {
                    if want > self.limit && s.per_item > 0 {
                        self.warn_once(want);
                    }
                    s.used = s.used.saturating_add(want);
                    s.peak = s.peak.max(s.used);
                    s.reserved.insert(first, want);
                    return Reservation {
                        budget: self.clone(),
                        first,
                        bytes: want,
                        armed: true,
                    };
                }
            }
            freed.await;
        }
    }

    /// Records the size of the response of the (sub-)batch starting at `first`.
    pub fn note_body(&self, first: usize, bytes: usize) {
        self.lock().bodies.insert(first, bytes as u64);
    }

    /// A batch is done: its reservation becomes a charge per item of its
    /// share of the responses noted for it.
    pub fn settle(&self, indexes: impl IntoIterator<Item = usize>) {
        let indexes: Vec<usize> = indexes.into_iter().collect();
        let Some(&first) = indexes.iter().min() else {
            return;
        };
        let mut s = self.lock();
        let reserved = s.reserved.remove(&first).unwrap_or(0);
        let body: u64 = indexes.iter().filter_map(|i| s.bodies.remove(i)).sum();
        let n = indexes.len() as u64;
        let share = body / n;
        if body > 0 {
            s.per_item = s.per_item.max(body.div_ceil(n));
            self.learned.fetch_max(s.per_item, Ordering::Relaxed);
            if body > self.limit {
                self.warn_once(body);
            }
        } else if s.per_item == 0 {
            s.blind = s.blind.saturating_mul(2).min(self.slots);
        }
        s.used = s.used.saturating_sub(reserved).saturating_add(body);
        s.peak = s.peak.max(s.used);
        if body > 0 {
            for (k, i) in indexes.iter().enumerate() {
                let c = if k == 0 {
                    body - share * (n - 1)
                } else {
                    share
                };
                s.charges.insert(*i, c);
            }
        }
        drop(s);
        self.freed.notify_waiters();
    }

    /// The caller took item `index`'s outcome: its charge is released.
    pub fn release(&self, index: usize) {
        let mut s = self.lock();
        if let Some(c) = s.charges.remove(&index) {
            s.used = s.used.saturating_sub(c);
            drop(s);
            self.freed.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_batch_goes_alone_until_a_response_shows_the_size() {
        let b = Budget::new(1000, 2);
        // Nothing seen yet: the first batch (guessed at 1000 / 2 slots) goes alone.
        b.reserve(0, 2).await.commit();
        let waiting = tokio::time::timeout(Duration::from_millis(50), b.reserve(2, 2)).await;
        assert!(
            waiting.is_err(),
            "a second batch must wait for the first response"
        );
        b.note_body(0, 200);
        b.settle([0, 1]);
        assert_eq!(b.used(), 200);
        // 100 bytes per item, twice while decoding: batches of 2 reserve 400.
        b.reserve(2, 2).await.commit();
        b.reserve(4, 2).await.commit();
        assert_eq!(b.used(), 1000);
        let r = tokio::time::timeout(Duration::from_millis(50), b.reserve(6, 2)).await;
        assert!(r.is_err(), "a fourth batch must wait");
        b.release(0);
        b.release(1);
        assert_eq!(b.used(), 800);
        // The batch at 2 came back: its reservation becomes its body.
        b.note_body(2, 200);
        b.settle([2, 3]);
        assert_eq!(b.used(), 600);
        b.reserve(6, 2).await.commit();
        assert_eq!(b.used(), 1000);
        assert_eq!(b.peak(), 1000);
    }

    #[tokio::test]
    async fn batches_that_teach_nothing_double_the_blind_window() {
        let b = Budget::new(1000, 4);
        b.reserve(0, 1).await.commit();
        // Ended without a body (an error): two may go blind now, then four.
        b.settle([0]);
        assert_eq!(b.used(), 0);
        b.reserve(1, 1).await.commit();
        b.reserve(2, 1).await.commit();
        let r = tokio::time::timeout(Duration::from_millis(50), b.reserve(3, 1)).await;
        assert!(r.is_err(), "a third blind batch must wait");
        b.settle([1]);
        b.reserve(3, 1).await.commit();
        b.reserve(4, 1).await.commit();
        b.reserve(5, 1).await.commit();
        assert_eq!(b.used(), 1000);
    }

    #[tokio::test]
    async fn a_budget_smaller_than_one_response_goes_one_batch_at_a_time() {
        let b = Budget::new(10, 16);
        b.reserve(0, 4).await.commit();
        b.note_body(0, 4000);
        b.settle(0..4);
        assert_eq!(b.used(), 4000);
        let next = {
            let b = b.clone();
            tokio::spawn(async move { b.reserve(4, 4).await.commit() })
        };
        crate::clock::sleep(Duration::from_millis(20)).await;
        assert!(!next.is_finished());
        for i in 0..4 {
            b.release(i);
        }
        next.await.unwrap();
        // Alone again: the raw response and its decoded results.
        assert_eq!(b.used(), 8000);
    }

    #[tokio::test]
    async fn a_dropped_reservation_is_given_back() {
        let b = Budget::new(100, 4);
        drop(b.reserve(0, 1).await);
        assert_eq!(b.used(), 0);
    }
}
