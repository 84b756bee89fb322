//! The cache file: one SQLite database with a format table and a result table.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension};

use crate::Error;

/// The `format` value of a biolm result cache.
pub(crate) const MAGIC: &str = "biolm-result-cache";
/// The layout version this build reads and writes.
pub(crate) const VERSION: u32 = 1;
/// How long a writer waits for another process's lock before giving up.
const BUSY: Duration = Duration::from_secs(60);

/// Entries of one server, model and action: `(server, model, action, count)`.
pub(crate) type Entry = (String, String, String, u64);

/// An open cache file.
pub(crate) struct Store {
    pub path: PathBuf,
    conn: Mutex<Connection>,
}

fn refused(path: &Path, message: impl Into<String>) -> Error {
    Error::Cache {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// The message for an SQLite error on `path`: a file that is not a database,
/// or a corrupt one, is said so.
pub(crate) fn sql_err(path: &Path, e: rusqlite::Error) -> Error {
    let code = e.sqlite_error_code();
    let message = match code {
        Some(ErrorCode::NotADatabase) => {
            "is not a biolm result cache (not an SQLite database: a foreign or corrupt file); it is left untouched — give another --cache path".to_string()
        }
        Some(ErrorCode::DatabaseCorrupt) => {
            "is corrupt (SQLite reports a malformed database); it is not used — delete it (a cache holds nothing that cannot be fetched again) or give another path".to_string()
        }
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => format!(
            "stayed locked by another process for over {} s; on a network filesystem SQLite locks are unreliable: use a cache file on a node-local disk",
            BUSY.as_secs()
        ),
        _ => format!("SQLite error: {e}"),
    };
    refused(path, message)
}

impl Store {
    /// Opens (creating when absent or empty) the cache at `path`; refuses a
    /// file that is not a biolm result cache of this version.
    pub fn open(path: &Path) -> Result<Store, Error> {
        if path.is_dir() {
            return Err(refused(
                path,
                "is a directory; give a file path for the cache",
            ));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| sql_err(path, e))?;
        conn.busy_timeout(BUSY).map_err(|e| sql_err(path, e))?;
        let sql = |e| sql_err(path, e);
        // Reading the schema fails at once on a file that is not a database.
        let tables: Vec<String> = {
            let mut st = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
                .map_err(sql)?;
            let rows = st.query_map([], |r| r.get(0)).map_err(sql)?;
            rows.collect::<Result<_, _>>().map_err(sql)?
        };
        if tables.is_empty() {
            // New (or empty): lay out the tables. Several processes may race
            // here: the IMMEDIATE transaction serialises them, IF NOT EXISTS
            // and OR IGNORE make the losers' work a no-op.
            // 64 KiB pages: a result (a few KiB of JSON) takes a share of a page,
            // not a page of its own (4 KiB pages held one 2.4 KiB esm2 result each).
            conn.execute_batch(&format!(
                "PRAGMA page_size = 65536;
                 PRAGMA journal_mode = WAL;
                 BEGIN IMMEDIATE;
                 CREATE TABLE IF NOT EXISTS biolm_cache (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                 INSERT OR IGNORE INTO biolm_cache VALUES ('format', '{MAGIC}'), ('version', '{VERSION}');
                 CREATE TABLE IF NOT EXISTS results (
                     key BLOB NOT NULL UNIQUE,
                     server TEXT NOT NULL,
                     model TEXT NOT NULL,
                     action TEXT NOT NULL,
                     result TEXT NOT NULL,
                     stored INTEGER NOT NULL
                 );
                 COMMIT;"
            ))
            .map_err(sql)?;
        } else if !tables.iter().any(|t| t == "biolm_cache") {
            return Err(refused(
                path,
                format!(
                    "is an SQLite database but not a biolm result cache (it has the tables {}); it is left untouched — give another --cache path",
                    tables.join(", ")
                ),
            ));
        }
        let get = |name: &str| -> Result<Option<String>, Error> {
            conn.query_row(
                "SELECT value FROM biolm_cache WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)
        };
        if get("format")?.as_deref() != Some(MAGIC) {
            return Err(refused(
                path,
                "is not a biolm result cache (its format table does not say so); it is left untouched",
            ));
        }
        match get("version")?.and_then(|v| v.parse::<u32>().ok()) {
            Some(VERSION) => {}
            other => {
                return Err(refused(
                    path,
                    format!(
                        "is a biolm result cache of layout version {}, this build reads version {VERSION}; use another path (or delete it: a cache can be rebuilt)",
                        other.map_or("unknown".into(), |v| v.to_string())
                    ),
                ))
            }
        }
        // WAL: readers never block the one writer, and several processes
        // share the file; NORMAL sync is safe in WAL (a power cut may lose
        // the last results, never corrupt the file).
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .map_err(sql)?;
        Ok(Store {
            path: path.to_owned(),
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, Error> {
        self.conn
            .lock()
            .map_err(|_| refused(&self.path, "a thread panicked while using the cache"))
    }

    /// The stored result of `key`.
    pub fn get(&self, key: &[u8; 32]) -> Result<Option<String>, Error> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare_cached("SELECT result FROM results WHERE key = ?1")
            .map_err(|e| sql_err(&self.path, e))?;
        st.query_row([&key[..]], |r| r.get(0))
            .optional()
            .map_err(|e| sql_err(&self.path, e))
    }

    /// Stores results (one transaction); a key already there is kept.
    pub fn put(&self, rows: &[(&[u8; 32], &str, &str, &str, &str)]) -> Result<(), Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let now = crate::clock::wall_now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let mut conn = self.conn()?;
        let sql = |e| sql_err(&self.path, e);
        let tx = conn.transaction().map_err(sql)?;
        {
            let mut st = tx
                .prepare_cached("INSERT OR IGNORE INTO results (key, server, model, action, result, stored) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(sql)?;
            for (key, server, model, action, result) in rows {
                st.execute(params![&key[..], server, model, action, result, now])
                    .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)
    }

    /// Entry counts by server, model and action, and the total bytes of results.
    pub fn stats(&self) -> Result<(Vec<Entry>, u64), Error> {
        let conn = self.conn()?;
        let sql = |e| sql_err(&self.path, e);
        let mut st = conn
            .prepare(
                "SELECT server, model, action, COUNT(*) FROM results GROUP BY server, model, action ORDER BY server, model, action",
            )
            .map_err(sql)?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? as u64))
            })
            .map_err(sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql)?;
        let bytes: i64 = conn
            .query_row(
                "SELECT COALESCE(SUM(LENGTH(result)), 0) FROM results",
                [],
                |r| r.get(0),
            )
            .map_err(sql)?;
        Ok((rows, bytes as u64))
    }

    /// Deletes the entries stored before `before` (seconds since the epoch)
    /// and, when given, only those of `model`; then gives the space back.
    pub fn prune(&self, before: Option<i64>, model: Option<&str>) -> Result<u64, Error> {
        let conn = self.conn()?;
        let sql = |e| sql_err(&self.path, e);
        let n = conn
            .execute(
                "DELETE FROM results WHERE stored < ?1 AND (?2 IS NULL OR model = ?2)",
                params![before.unwrap_or(i64::MAX), model],
            )
            .map_err(sql)?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
            .map_err(sql)?;
        Ok(n as u64)
    }
}
