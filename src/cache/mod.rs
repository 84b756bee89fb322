//! A content-addressed result cache shared by runs and processes (feature `cache`).
//!
//! ```no_run
//! # async fn f(items: Vec<biolm::esm2::Esm2EncodeItem>) -> Result<(), biolm::Error> {
//! let cache = biolm::cache::Cache::open("biolm-cache.sqlite")?;
//! let client = biolm::ClientBuilder::from_env().cache(cache.clone()).build()?;
//! client.esm2_8m().encode(items).write_jsonl("out.jsonl").await?;
//! println!("{:?}", cache.counts()); // hits, misses, duplicates, stored
//! # Ok(()) }
//! ```
//!
//! **What is cached.** A result is stored exactly as the server returned it
//! (its JSON text), under a key: the SHA-256 of the canonical JSON (object
//! keys sorted) of the server (its kind, `platform`, `gateway` or `sandbox`,
//! and its base URL without credentials or query), the model slug, the
//! action, the params and the item. A sandbox's results are keyed as
//! `sandbox` ([`Cache::sandbox`]), so they never answer a call to a real
//! server, and a result of one server never answers another's. Only
//! successes are stored; failures are sent again next time.
//!
//! **What is never cached**: `generate` without a `seed` (each call samples
//! anew), and any action the schemas mark `"x-biolm-deterministic": false`
//! ([`crate::spec::ActionSpec::deterministic`]: it samples, e.g. a diffusion
//! fold) called without a `seed`. Such calls bypass the cache entirely: every
//! item is sent, identical items included.
//!
//! **In a call**, before batching: an item found in the cache is answered
//! from it and never sent; an item identical to one already sent in this call
//! waits for that one's result (sent once); every other item is sent, and its
//! result stored when it arrives. Outcomes keep their input indexes, and
//! [`crate::Call::write_jsonl`] writes cached results byte for byte as a
//! fresh answer would be written. The progress callback counts sent items
//! only.
//!
//! **The file** is one SQLite database (through `rusqlite`, SQLite compiled
//! in: nothing to install). SQLite because several processes on one machine
//! (the shards of a job) can open one file at once safely: the file is in
//! WAL mode, so readers never wait for the writer, and a writer waits up to
//! 60 s for another's lock (a busy timeout) instead of failing. A file that is
//! not a biolm cache of this layout (a foreign file, another SQLite database,
//! a corrupt file, another layout version) is refused with
//! [`crate::Error::Cache`], never used or changed: its `biolm_cache` table
//! records the format name and layout version.
//!
//! **Network filesystems**: SQLite's locks rely on the filesystem's byte-range
//! locks and WAL mode on shared memory between the processes of one host.
//! On NFS (and most network filesystems) those locks are unreliable and WAL
//! does not work across hosts: several cluster nodes writing one cache file
//! there can corrupt it. Use a cache file on each node's local disk (one
//! cache per node, e.g. under `$TMPDIR`), or one node-local file per job
//! step; copy a finished cache to shared storage only when no process has it open.

pub(crate) mod key;
mod store;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::Error;

/// An open result cache; cheap to clone (clones share the file and counts).
#[derive(Clone)]
pub struct Cache {
    pub(crate) shared: Arc<Shared>,
    /// `Some("sandbox")`: results are keyed as a sandbox's.
    pub(crate) kind: Option<&'static str>,
}

/// The store and counters a cache's clones share.
pub(crate) struct Shared {
    pub(crate) store: store::Store,
    pub(crate) counts: Counters,
}

/// Lookup outcomes, read out as [`CacheCounts`].
#[derive(Default)]
pub(crate) struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    duplicates: AtomicU64,
    stored: AtomicU64,
}

impl Counters {
    pub(crate) fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn duplicate(&self) {
        self.duplicates.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn stored(&self, n: usize) {
        self.stored.fetch_add(n as u64, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("path", &self.shared.store.path)
            .field("kind", &self.kind)
            .finish()
    }
}

/// What this process's calls did with the cache so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    /// Items answered from the cache (not sent).
    pub hits: u64,
    /// Items looked up and not found (sent).
    pub misses: u64,
    /// Items identical to one already sent in the same call (not sent; they
    /// got that one's outcome).
    pub duplicates: u64,
    /// Results stored.
    pub stored: u64,
}

/// What a cache file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Entries by server (`kind url`), model and action.
    pub entries: Vec<(String, String, String, u64)>,
    /// Bytes of the stored results (their JSON text).
    pub result_bytes: u64,
    /// Bytes on disk: the database file and its write-ahead log.
    pub file_bytes: u64,
}

impl CacheStats {
    /// Entries in all.
    pub fn total(&self) -> u64 {
        self.entries.iter().map(|e| e.3).sum()
    }
}

impl Cache {
    /// Opens the cache file `path`, creating it when absent (or empty). A file
    /// that is not a biolm result cache of this layout is refused
    /// ([`Error::Cache`]) and left untouched.
    pub fn open(path: impl AsRef<Path>) -> Result<Cache, Error> {
        Ok(Cache {
            shared: Arc::new(Shared {
                store: store::Store::open(path.as_ref())?,
                counts: Counters::default(),
            }),
            kind: None,
        })
    }

    /// This cache for a client whose server is a biolm sandbox (synthetic
    /// results): its results are keyed as `sandbox` whatever its URL (a
    /// sandbox listens on a new port each run), so they are found again by
    /// the next sandbox run and never answer a call to a real server.
    pub fn sandbox(mut self) -> Cache {
        self.kind = Some("sandbox");
        self
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.shared.store.path
    }

    /// What this process's calls did with the cache so far.
    pub fn counts(&self) -> CacheCounts {
        let c = &self.shared.counts;
        CacheCounts {
            hits: c.hits.load(Ordering::Relaxed),
            misses: c.misses.load(Ordering::Relaxed),
            duplicates: c.duplicates.load(Ordering::Relaxed),
            stored: c.stored.load(Ordering::Relaxed),
        }
    }

    /// What the file holds.
    pub fn stats(&self) -> Result<CacheStats, Error> {
        let (entries, result_bytes) = self.shared.store.stats()?;
        let path = self.path();
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        Ok(CacheStats {
            entries,
            result_bytes,
            file_bytes: size(path) + size(Path::new(&wal)),
        })
    }

    /// Deletes the entries older than `older_than` (all when `None`), only
    /// those of `model` when given, and gives the space back to the
    /// filesystem. Returns how many entries it deleted.
    pub fn prune(&self, older_than: Option<Duration>, model: Option<&str>) -> Result<u64, Error> {
        let before = older_than.map(|d| {
            let now = crate::clock::wall_now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|n| n.as_secs() as i64)
                .unwrap_or(0);
            now - d.as_secs() as i64
        });
        self.shared.store.prune(before, model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foreign_or_corrupt_file_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "my notes, not a database, long enough to be read as a header........................................................").unwrap();
        let e = Cache::open(&text).unwrap_err().to_string();
        assert!(e.contains("not a biolm result cache"), "{e}");
        assert!(std::fs::read_to_string(&text)
            .unwrap()
            .starts_with("my notes"));

        let other = dir.path().join("other.sqlite");
        let c = rusqlite::Connection::open(&other).unwrap();
        c.execute_batch("CREATE TABLE t (x INTEGER);").unwrap();
        drop(c);
        let e = Cache::open(&other).unwrap_err().to_string();
        assert!(
            e.contains("not a biolm result cache") && e.contains("tables t"),
            "{e}"
        );

        let good = dir.path().join("c.sqlite");
        Cache::open(&good).unwrap();
        let c = rusqlite::Connection::open(&good).unwrap();
        c.execute_batch("UPDATE biolm_cache SET value = '99' WHERE name = 'version';")
            .unwrap();
        drop(c);
        let e = Cache::open(&good).unwrap_err().to_string();
        assert!(e.contains("layout version 99"), "{e}");

        // A database whose pages were overwritten.
        let bad = dir.path().join("bad.sqlite");
        let c = Cache::open(&bad).unwrap();
        drop(c);
        let mut bytes = std::fs::read(&bad).unwrap();
        for b in bytes.iter_mut().skip(16).take(84) {
            *b = 0xAB;
        }
        std::fs::write(&bad, &bytes).unwrap();
        let e = Cache::open(&bad).unwrap_err().to_string();
        assert!(
            e.contains("not a biolm result cache") || e.contains("corrupt"),
            "{e}"
        );
    }

    #[test]
    fn stores_finds_counts_and_prunes() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::open(dir.path().join("c.sqlite")).unwrap();
        let k = [7u8; 32];
        assert_eq!(c.shared.store.get(&k).unwrap(), None);
        c.shared
            .store
            .put(&[(&k, "sandbox sandbox", "esm2-8m", "encode", "{\"a\":1}")])
            .unwrap();
        assert_eq!(
            c.shared.store.get(&k).unwrap().as_deref(),
            Some("{\"a\":1}")
        );
        let s = c.stats().unwrap();
        assert_eq!(s.total(), 1);
        assert_eq!(s.result_bytes, 7);
        assert_eq!(c.prune(Some(Duration::from_secs(3600)), None).unwrap(), 0);
        assert_eq!(c.prune(None, Some("other")).unwrap(), 0);
        assert_eq!(c.prune(None, None).unwrap(), 1);
        assert_eq!(c.stats().unwrap().total(), 0);
    }
}
