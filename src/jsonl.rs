//! Resumable JSONL output of a call, streamed: memory stays bounded by the
//! requests in flight (plus 16 bytes per item already in a resumed file),
//! whatever the input length.
//!
//! The file starts with a header line naming the job:
//! `{"biolm_jsonl":2,"fingerprint":"<sha256>","model":"esm2-8m","action":"encode","items":N}`.
//! The fingerprint ([`job_fingerprint`]) is the SHA-256 of the model, the
//! action and the params (canonical JSON: object keys sorted; no params, `null`
//! and `{}` are the same); `items` is the input length when known up front,
//! else `null`. Then one line per item, written as results complete (in
//! completion order):
//! `{"index":i,"item_sha":"<16 hex>","id":"<caller id>","result":<the server's result>}` or
//! `{"index":i,"item_sha":"<16 hex>","id":"<caller id>","error":{"kind":..,"field":..,"status":..,"request_id":..,"message":..}}`.
//! `item_sha` ([`item_sha`]) is the first 64 bits of the SHA-256 of the item's
//! canonical JSON and its id. Items never attempted get no line.
//!
//! Running the same job on the same path resumes: as the input streams by, an
//! item whose index is already in the file is compared with the line's
//! `item_sha` and skipped (never sent), the rest are sent, so the file ends
//! with exactly one line per item (no duplicates, no gaps). An error line
//! counts as done; [`drop_error_lines`] removes them, so that the next run
//! sends just those items again. A torn last line
//! (a run killed mid-write) is cut off first. A file of another job is
//! refused: other model, action or params up front
//! ([`crate::Error::ResumeMismatch`]); an input item (or id) that differs
//! from the file's, or a file line for an index the input does not have, as
//! soon as the input reaches it ([`crate::Error::ResumeItemMismatch`], naming
//! the item and the file line). The file is then cut back to what it held
//! before the run, so a refused run leaves it as it was.
//!
//! The CLI (`biolm run -o out.jsonl`) writes and resumes the same format with
//! the public pieces of this module ([`scan`], [`job_fingerprint`],
//! [`item_sha`], [`write_line`]), so each resumes the other's files.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::stream::{self, StreamExt};
use futures_util::FutureExt;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{Call, Error, Outcome};

/// Format version in the header line (`"biolm_jsonl"`).
pub const FORMAT: u32 = 2;

/// What a [`Call::write_jsonl`] run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonlSummary {
    /// The output file.
    pub path: PathBuf,
    /// The job's fingerprint (in the header line).
    pub fingerprint: String,
    /// Items in the job.
    pub total: usize,
    /// Items skipped because the file already had their line.
    pub skipped: usize,
    /// Result lines written by this run.
    pub succeeded: usize,
    /// Error lines written by this run.
    pub failed: usize,
    /// Items left without a line (the run stopped after a failure); a re-run completes them.
    pub not_attempted: usize,
}

#[derive(Serialize, Deserialize)]
struct Header {
    biolm_jsonl: u32,
    fingerprint: String,
    model: String,
    action: String,
    #[serde(default)]
    items: Option<usize>,
    /// The shard this file holds (`biolm run --shard I/N`); none for the whole input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shard: Option<crate::shard::Shard>,
}

#[derive(Deserialize)]
struct Version {
    biolm_jsonl: u64,
}

#[derive(Deserialize)]
struct LineFields {
    index: Option<u64>,
    item_sha: Option<String>,
    #[serde(default)]
    error: Option<IgnoredAny>,
    #[serde(default)]
    biolm_jsonl: Option<IgnoredAny>,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `v` as canonical JSON: object keys sorted (recursively), no spaces.
pub fn canonical_json(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (n, (k, v)) in entries.into_iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                // Writing a string into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, k);
                out.push(b':');
                canonical_json(v, out);
            }
            out.push(b'}');
        }
        Value::Array(a) => {
            out.push(b'[');
            for (n, v) in a.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                canonical_json(v, out);
            }
            out.push(b']');
        }
        // Scalars cannot fail to serialize into a Vec.
        other => {
            let _ = serde_json::to_writer(&mut *out, other);
        }
    }
}

/// The job's fingerprint (header line): SHA-256 (hex) of the format, model,
/// action and canonical params; `null` and `{}` params are the same (both are
/// sent as no params).
pub fn job_fingerprint(model: &str, action: &str, params: &Value) -> String {
    let mut h = Sha256::new();
    h.update(b"biolm-jsonl-v2\0");
    h.update(model.as_bytes());
    h.update(b"\0");
    h.update(action.as_bytes());
    h.update(b"\0");
    let empty = match params {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    };
    if empty {
        h.update(b"null");
    } else {
        let mut buf = Vec::new();
        canonical_json(params, &mut buf);
        h.update(&buf);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// An item's hash (a line's `item_sha`, written as 16 hex digits): the first
/// 64 bits of the SHA-256 of the item's canonical JSON and its id.
pub fn item_sha(item: &Value, id: Option<&str>) -> u64 {
    let mut buf = Vec::with_capacity(256);
    canonical_json(item, &mut buf);
    let mut h = Sha256::new();
    h.update(&buf);
    if let Some(id) = id {
        h.update(b"\0");
        h.update(id.as_bytes());
    }
    let digest = h.finalize();
    let mut first = [0u8; 8];
    for (d, s) in first.iter_mut().zip(digest.iter()) {
        *d = *s;
    }
    u64::from_be_bytes(first)
}

/// The indexes an output file already has, with their item hashes: 16 bytes
/// per line, sorted by index.
#[derive(Debug, Default, Clone)]
pub struct DoneSet {
    /// (index, item hash with its lowest bit replaced by "is an error line").
    entries: Vec<(u64, u64)>,
    failed: usize,
}

impl DoneSet {
    /// The item hash recorded for `index` (lowest bit cleared), if the file has its line.
    pub fn sha(&self, index: u64) -> Option<u64> {
        self.entries
            .binary_search_by_key(&index, |e| e.0)
            .ok()
            .and_then(|k| self.entries.get(k))
            .map(|e| e.1 & !1)
    }

    /// Whether the file has a line for `index` whose item hash is `sha`:
    /// `None` when it has no line for it, `Some(false)` when the item differs.
    pub fn matches(&self, index: u64, sha: u64) -> Option<bool> {
        self.sha(index).map(|s| s == sha & !1)
    }

    /// Whether the file has a line for `index`.
    pub fn contains(&self, index: u64) -> bool {
        self.sha(index).is_some()
    }

    /// Number of items with a line.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no item has a line.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many of the lines are error lines.
    pub fn failed(&self) -> usize {
        self.failed
    }

    /// The highest index with a line.
    pub fn max_index(&self) -> Option<u64> {
        self.entries.last().map(|e| e.0)
    }
}

/// What an existing output file holds.
#[derive(Debug)]
pub struct Existing {
    /// The header's job fingerprint.
    pub fingerprint: String,
    /// The header's item count (`None` when the writer did not know it).
    pub items: Option<usize>,
    /// The shard the file holds ([`crate::shard`]); `None` for the whole input.
    pub shard: Option<crate::shard::Shard>,
    /// The items with a line.
    pub done: DoneSet,
    /// Byte length of the complete lines; anything after is a torn line.
    pub good_len: u64,
    /// Byte length of the file.
    pub file_len: u64,
}

/// `(index, item_sha, is_error)` of a line this module wrote
/// (`{"index":N,"item_sha":"<16 hex>",...}`), read without parsing the rest of
/// the line (results can be megabytes); `None` for any other shape.
///
/// The id is a JSON string (its quotes escaped), so the first `"result":` or
/// `"error":` in the line is the top-level key.
fn fast_line(line: &[u8]) -> Option<(u64, u64, bool)> {
    let rest = line.strip_prefix(b"{\"index\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 18 {
        return None;
    }
    let index = std::str::from_utf8(rest.get(..digits)?)
        .ok()?
        .parse()
        .ok()?;
    let rest = rest.get(digits..)?.strip_prefix(b",\"item_sha\":\"")?;
    let hex = std::str::from_utf8(rest.get(..16)?).ok()?;
    let sha = u64::from_str_radix(hex, 16).ok()?;
    let rest = rest.get(16..)?.strip_prefix(b"\"")?;
    if !matches!(rest.first(), Some(b',') | Some(b'}')) {
        return None;
    }
    let find = |pat: &[u8]| rest.windows(pat.len()).position(|w| w == pat);
    let is_error = match (find(b"\"error\":"), find(b"\"result\":")) {
        (Some(e), Some(r)) => e < r,
        (Some(_), None) => true,
        _ => false,
    };
    Some((index, sha, is_error))
}

/// `(index, item_sha, is_error)` of an item line: read fast when this module
/// wrote it, else parsed; the message says what is wrong with any other line.
pub(crate) fn item_line(line: &[u8]) -> Result<(u64, u64, bool), String> {
    if let Some(x) = fast_line(line) {
        return Ok(x);
    }
    let l: LineFields =
        serde_json::from_slice(line).map_err(|e| format!("not a JSON line ({e})"))?;
    let (Some(index), None) = (l.index, l.biolm_jsonl) else {
        return Err("a line without an \"index\"".into());
    };
    let sha = l
        .item_sha
        .as_deref()
        .and_then(|s| u64::from_str_radix(s, 16).ok().filter(|_| s.len() == 16))
        .ok_or_else(|| "a line without an \"item_sha\" of 16 hex digits".to_string())?;
    Ok((index, sha, l.error.is_some()))
}

/// Removes the error lines of an output file, so that the next run of the job
/// on it re-sends those items (and only those): the way to retry the items of
/// a run that failed, say while the server was down, without starting over.
///
/// Returns how many lines it removed. A missing file, or one without error
/// lines, is left untouched (`Ok(0)`); a torn last line is dropped. The file is
/// validated first (a file this SDK did not write is an [`Error::Jsonl`] naming
/// the line) and then replaced in one step (written beside it, then renamed),
/// so an interruption leaves either the old file or the new one. Memory stays
/// bounded by the longest line.
///
/// ```no_run
/// # async fn f(client: biolm::Client, items: Vec<biolm::esm2::Esm2EncodeItem>) -> Result<(), biolm::Error> {
/// let path = std::path::Path::new("embeddings.jsonl");
/// let removed = biolm::jsonl::drop_error_lines(path)?;
/// println!("retrying {removed} failed items");
/// let summary = client.esm2_8m().encode(items).write_jsonl(path).await?;
/// # Ok(()) }
/// ```
pub fn drop_error_lines(path: &Path) -> Result<usize, Error> {
    // Refused while another run writes the file.
    let held = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_err(path)(e)),
    };
    crate::output::lock(&held, path)?;
    match scan(path)? {
        Some(existing) => Ok(drop_errors_locked(path, existing)?.0),
        None => Ok(0),
    }
}

/// [`drop_error_lines`] on a file already read with [`scan`] (no second pass
/// to validate it): returns how many lines it removed and what the file holds
/// now, so a caller that goes on to resume it need not read it again.
pub fn drop_scanned_error_lines(
    path: &Path,
    existing: Existing,
) -> Result<(usize, Existing), Error> {
    drop_errors_locked(path, existing).map(|(n, ex, _)| (n, ex))
}

/// [`drop_scanned_error_lines`] that also returns the new file, opened for
/// reading and writing and already holding the output lock (taken before it
/// replaces the old file, so no other run can slip in): `None` when nothing
/// was removed and the file was left as it was.
pub(crate) fn drop_errors_locked(
    path: &Path,
    existing: Existing,
) -> Result<(usize, Existing, Option<File>), Error> {
    if existing.done.failed() == 0 {
        return Ok((0, existing, None));
    }
    let io = io_err(path);
    let mut reader = BufReader::with_capacity(1 << 16, File::open(path).map_err(&io)?);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".retry-failed.tmp");
    let tmp_path = path.with_file_name(name);
    // Copies the header and the result lines; returns the lines removed, the
    // kept items and the bytes written.
    let mut write = || -> Result<(usize, DoneSet, u64, File), Error> {
        let tmp = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp_path)
            .map_err(io_err(&tmp_path))?;
        crate::output::lock(&tmp, &tmp_path)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 16, tmp);
        let mut line = Vec::new();
        let mut kept =
            Vec::with_capacity(existing.done.len().saturating_sub(existing.done.failed()));
        let (mut read, mut written, mut number, mut removed) = (0u64, 0u64, 0usize, 0usize);
        while read < existing.good_len {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(&io)?;
            if n == 0 {
                break;
            }
            read += n as u64;
            number += 1;
            if number > 1 {
                let (index, sha, is_error) = item_line(&line).map_err(|message| Error::Jsonl {
                    path: path.to_owned(),
                    line: number,
                    message,
                })?;
                if is_error {
                    removed += 1;
                    continue;
                }
                kept.push((index, sha & !1));
            }
            out.write_all(&line).map_err(io_err(&tmp_path))?;
            written += n as u64;
        }
        let tmp = out
            .into_inner()
            .map_err(|e| io_err(&tmp_path)(e.into_error()))?;
        tmp.sync_all().map_err(io_err(&tmp_path))?;
        // As in `scan`: sorted by index, a repeated line (same hash, checked there) once.
        kept.sort_unstable_by_key(|e| e.0);
        kept.dedup_by_key(|e| e.0);
        kept.shrink_to_fit();
        let done = DoneSet {
            entries: kept,
            failed: 0,
        };
        Ok((removed, done, written, tmp))
    };
    let (removed, done, written, tmp) = match write() {
        Ok(w) => w,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp_path);
            return Err(e);
        }
    };
    if let Err(e) = std::fs::rename(&tmp_path, path) {
        let _ = std::fs::remove_file(&tmp_path);
        return Err(io(e));
    }
    let now = Existing {
        fingerprint: existing.fingerprint,
        items: existing.items,
        shard: existing.shard,
        done,
        good_len: written,
        file_len: written,
    };
    Ok((removed, now, Some(tmp)))
}

/// Whether `bytes` (a first line without its line end) can be the start of a
/// header line this module wrote, cut short by a killed run.
fn is_torn_header(bytes: &[u8]) -> bool {
    const START: &[u8] = b"{\"biolm_jsonl\":";
    if bytes.len() <= START.len() {
        START.starts_with(bytes)
    } else {
        bytes.starts_with(START)
    }
}

/// Reads an output file: its header, the indexes it has with their item
/// hashes, and where its last complete line ends. `None` when the file is
/// absent, empty or holds only the start of a header line this module
/// writes (a run killed while writing it: then it is started over). Any other
/// content without a header line, a line end included, is an
/// [`Error::Jsonl`]: a file this SDK did not write is never taken for its own.
pub fn scan(path: &Path) -> Result<Option<Existing>, Error> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
    };
    let file_len = file.metadata().map_err(io_err(path))?.len();
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::new();
    let mut good_len = 0u64;
    let mut header: Option<Header> = None;
    let mut entries: Vec<(u64, u64)> = Vec::new();
    let mut failed = 0usize;
    let mut number = 0usize;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            if number == 0 && !is_torn_header(&line) {
                // Not ours: a file without a line end is never taken for a torn header.
                return Err(Error::Jsonl {
                    path: path.to_owned(),
                    line: 1,
                    message: "not a biolm JSONL header (the file has no line end); this file was not written by write_jsonl or `biolm run -o`, and it is left untouched".into(),
                });
            }
            // A torn last line (or header): ignored, cut off before appending.
            break;
        }
        number += 1;
        let bad = |message: String| Error::Jsonl {
            path: path.to_owned(),
            line: number,
            message,
        };
        if number == 1 {
            let v: Version = serde_json::from_slice(&line).map_err(|e| {
                bad(format!(
                    "not a biolm JSONL header ({e}); this file was not written by write_jsonl or `biolm run -o`"
                ))
            })?;
            if v.biolm_jsonl != u64::from(FORMAT) {
                return Err(bad(format!(
                    "format version {} is not supported (this version of biolm writes and resumes {FORMAT})",
                    v.biolm_jsonl
                )));
            }
            let h: Header = serde_json::from_slice(&line)
                .map_err(|e| bad(format!("not a biolm JSONL header ({e})")))?;
            header = Some(h);
        } else {
            let (index, sha, is_error) = item_line(&line).map_err(bad)?;
            if let Some(n) = header.as_ref().and_then(|h| h.items) {
                if index >= n as u64 {
                    return Err(bad(format!(
                        "a line for item {index}, but the header says the job has {n} items"
                    )));
                }
            }
            if is_error {
                failed += 1;
            }
            entries.push((index, (sha & !1) | u64::from(is_error)));
        }
        good_len += n as u64;
    }
    let Some(header) = header else {
        return Ok(None);
    };
    // Lines come in completion order, nearly sorted already. Duplicates (none
    // in a file this module wrote) are dropped in place: no second copy.
    entries.sort_unstable_by_key(|e| e.0);
    let mut conflict = None;
    entries.dedup_by(|later, kept| {
        if later.0 != kept.0 {
            return false;
        }
        if later.1 & !1 != kept.1 & !1 {
            conflict.get_or_insert(later.0);
        } else if later.1 & 1 == 1 {
            failed = failed.saturating_sub(1);
        }
        true
    });
    if let Some(index) = conflict {
        return Err(Error::Jsonl {
            path: path.to_owned(),
            line: find_line(path, index).unwrap_or(0),
            message: format!("two lines for item {index} with different item hashes"),
        });
    }
    entries.shrink_to_fit();
    Ok(Some(Existing {
        fingerprint: header.fingerprint,
        items: header.items,
        shard: header.shard,
        done: DoneSet { entries, failed },
        good_len,
        file_len,
    }))
}

/// The 1-based line number of the (first) line for item `index` in `path`
/// (for error messages).
pub fn find_line(path: &Path, index: u64) -> Option<usize> {
    let file = File::open(path).ok()?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).ok()?;
        if n == 0 {
            return None;
        }
        number += 1;
        if number == 1 {
            continue;
        }
        let found = match fast_line(&line) {
            Some((i, _, _)) => i,
            None => serde_json::from_slice::<LineFields>(&line)
                .ok()
                .and_then(|l| l.index)?,
        };
        if found == index {
            return Some(number);
        }
    }
}

/// The message of [`Error::ResumeItemMismatch`] for input item `index`.
pub fn item_mismatch_message(path: &Path, index: u64) -> String {
    match find_line(path, index) {
        Some(line) => format!("input item {index} (or its id) differs (file line {line})"),
        None => format!("input item {index} (or its id) differs"),
    }
}

/// The message of [`Error::ResumeItemMismatch`] for a file line past the input's end.
pub fn past_end_message(path: &Path, index: u64, items: usize) -> String {
    let line = find_line(path, index)
        .map(|l| format!(" (file line {l})"))
        .unwrap_or_default();
    format!("it has a line for item {index}{line}, but the input has {items} items")
}

/// The header line (with its newline) of a new file.
pub fn header_line(fingerprint: &str, model: &str, action: &str, items: Option<usize>) -> Vec<u8> {
    header_line_of_shard(fingerprint, model, action, items, None)
}

/// The header line (with its newline) of a new file holding one shard of the
/// job (`"shard":{"index":I,"count":N}`, left out for the whole input).
pub fn header_line_of_shard(
    fingerprint: &str,
    model: &str,
    action: &str,
    items: Option<usize>,
    shard: Option<crate::shard::Shard>,
) -> Vec<u8> {
    let header = Header {
        biolm_jsonl: FORMAT,
        fingerprint: fingerprint.to_string(),
        model: model.to_string(),
        action: action.to_string(),
        items,
        shard,
    };
    // A struct of strings and numbers cannot fail to serialize.
    let mut line = serde_json::to_vec(&header).unwrap_or_default();
    line.push(b'\n');
    line
}

/// Appends one item line to `buf`:
/// `{"index":i,"item_sha":"..","id":..,"result":<raw>}` or `..,"error":{..}}`.
pub fn write_line(
    buf: &mut Vec<u8>,
    index: usize,
    item_sha: u64,
    id: Option<&str>,
    result: Option<&RawValue>,
    error: Option<&crate::outcome::ItemError>,
) -> Result<(), Error> {
    let ser = |e| Error::Serialize {
        what: format!("the line of items[{index}]"),
        source: e,
    };
    buf.extend_from_slice(b"{\"index\":");
    buf.extend_from_slice(index.to_string().as_bytes());
    buf.extend_from_slice(format!(",\"item_sha\":\"{item_sha:016x}\"").as_bytes());
    if let Some(id) = id {
        buf.extend_from_slice(b",\"id\":");
        serde_json::to_writer(&mut *buf, id).map_err(ser)?;
    }
    if let Some(r) = result {
        buf.extend_from_slice(b",\"result\":");
        buf.extend_from_slice(r.get().as_bytes());
    }
    if let Some(e) = error {
        buf.extend_from_slice(b",\"error\":");
        serde_json::to_writer(&mut *buf, e).map_err(ser)?;
    }
    buf.extend_from_slice(b"}\n");
    Ok(())
}

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

pub(crate) async fn run<I, P, R>(
    mut call: Call<I, P, R>,
    path: &Path,
) -> Result<JsonlSummary, Error>
where
    I: Serialize + Send + Sync + 'static,
    P: Serialize + Send + Sync + 'static,
    R: DeserializeOwned + Send + 'static,
{
    let (_, params) = call.context()?;
    let spec = call.spec.get();
    let model = spec.slug.to_string();
    let action = spec.action.to_string();
    let fp = job_fingerprint(&model, &action, &params);
    let known_total = call.total;

    let job = crate::output::Job {
        fingerprint: fp.clone(),
        model,
        action,
        items: known_total,
    };
    // Sharded (`Call::shard`): items keep their input index; the others are passed over below.
    let shard = call.shard.take();
    let options = crate::output::OpenOptions::new().shard(shard);
    let opened = crate::output::OutputWriter::open(path, &job, &options)?;
    let mut writer = opened.writer;
    let done = opened.done;
    let done = Arc::new(done);
    let feed = Arc::new(Feed::default());
    let ids = call.ids.take();
    let shard_len = move |t: usize| shard.map_or(t, |s| s.len_of(t));
    call.total = known_total.map(|t| shard_len(t).saturating_sub(done.len()));
    let input = std::mem::replace(&mut call.input, stream::empty().boxed());
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
    let mut outcomes = call.start::<Box<RawValue>>(false, move |_| filtered);

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

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        r#"{"biolm_jsonl":2,"fingerprint":"abc","model":"m","action":"a","items":3}"#;

    #[test]
    fn drop_error_lines_keeps_results_and_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.jsonl");
        assert_eq!(drop_error_lines(&p).unwrap(), 0, "no file: nothing to do");
        let ok = r#"{"index":2,"item_sha":"00000000000000f2","result":{"error":"a result field"}}"#;
        let body = format!(
            "{HEADER}\n{ok}\n\
             {{\"index\":0, \"item_sha\":\"00000000000000a0\",\"error\":{{}}}}\n\
             {{\"index\":1,\"item_sha\":\"00000000000000a1\",\"error\":{{\"message\":\"down\"}}}}\n{{\"index\":1,\"res"
        );
        std::fs::write(&p, &body).unwrap();
        assert_eq!(drop_error_lines(&p).unwrap(), 2);
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            format!("{HEADER}\n{ok}\n"),
            "error lines and the torn tail are gone; the result whose value holds an \"error\" key stays"
        );
        let ex = scan(&p).unwrap().unwrap();
        assert_eq!((ex.done.len(), ex.done.failed()), (1, 0));
        let unchanged = std::fs::metadata(&p).unwrap().modified().unwrap();
        assert_eq!(drop_error_lines(&p).unwrap(), 0);
        assert_eq!(
            std::fs::metadata(&p).unwrap().modified().unwrap(),
            unchanged
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );

        // On a file already scanned, what it returns is what a new scan reads.
        std::fs::write(&p, &body).unwrap();
        let (removed, now) = drop_scanned_error_lines(&p, scan(&p).unwrap().unwrap()).unwrap();
        let again = scan(&p).unwrap().unwrap();
        assert_eq!(removed, 2);
        assert_eq!(
            (now.fingerprint, now.items),
            (again.fingerprint, again.items)
        );
        assert_eq!(
            (now.good_len, now.file_len),
            (again.good_len, again.file_len)
        );
        assert_eq!((now.done.len(), now.done.failed()), (1, 0));
        assert_eq!(now.done.sha(2), again.done.sha(2));
    }

    #[test]
    fn drop_error_lines_refuses_a_foreign_file_and_leaves_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.jsonl");
        let body = format!("{HEADER}\n{{\"index\":0,\"item_sha\":\"00000000000000a0\",\"error\":{{}}}}\nnot json\n");
        std::fs::write(&p, &body).unwrap();
        let e = drop_error_lines(&p).unwrap_err().to_string();
        assert!(e.contains("out.jsonl:3"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), body);
    }

    #[test]
    fn scan_finds_indexes_hashes_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.jsonl");
        assert!(scan(&p).unwrap().is_none());
        let body = format!(
            "{HEADER}\n{{\"index\":2,\"item_sha\":\"00000000000000f2\",\"result\":[1]}}\n\
             {{\"index\":0, \"item_sha\":\"00000000000000a0\",\"error\":{{}}}}\n{{\"index\":1,\"res"
        );
        std::fs::write(&p, &body).unwrap();
        let ex = scan(&p).unwrap().unwrap();
        assert_eq!(ex.fingerprint, "abc");
        assert_eq!(ex.items, Some(3));
        assert_eq!(ex.done.len(), 2);
        assert_eq!(ex.done.failed(), 1);
        assert_eq!(ex.done.matches(2, 0xf2), Some(true));
        assert_eq!(ex.done.matches(2, 0xf4), Some(false));
        assert_eq!(ex.done.matches(0, 0xa0), Some(true));
        assert_eq!(ex.done.matches(1, 0xa0), None);
        assert_eq!(ex.file_len as usize, body.len());
        assert_eq!(ex.good_len as usize, body.rfind('\n').unwrap() + 1);
        assert_eq!(find_line(&p, 0), Some(3));
    }

    #[test]
    fn scan_refuses_foreign_and_old_files_with_the_line_number() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jsonl");
        std::fs::write(&p, "{\"sequence\":\"MKT\"}\n").unwrap();
        let e = scan(&p).unwrap_err().to_string();
        assert!(
            e.contains("x.jsonl:1:") && e.contains("not a biolm JSONL header"),
            "{e}"
        );
        std::fs::write(&p, format!("{HEADER}\n{{\"index\":0}}\nnot json\n")).unwrap();
        let e = scan(&p).unwrap_err().to_string();
        assert!(e.contains("x.jsonl:2:") && e.contains("item_sha"), "{e}");
        std::fs::write(
            &p,
            format!("{HEADER}\n{{\"index\":0,\"item_sha\":\"0000000000000001\"}}\nnot json\n"),
        )
        .unwrap();
        let e = scan(&p).unwrap_err().to_string();
        assert!(e.contains("x.jsonl:3:"), "{e}");
        std::fs::write(
            &p,
            format!("{HEADER}\n{{\"index\":7,\"item_sha\":\"0000000000000001\"}}\n"),
        )
        .unwrap();
        let e = scan(&p).unwrap_err().to_string();
        assert!(e.contains("x.jsonl:2:") && e.contains("has 3 items"), "{e}");
        std::fs::write(
            &p,
            "{\"biolm_jsonl\":1,\"fingerprint\":\"f\",\"model\":\"m\",\"action\":\"a\",\"items\":1}\n",
        )
        .unwrap();
        let e = scan(&p).unwrap_err().to_string();
        assert!(e.contains("format version 1 is not supported"), "{e}");
    }

    #[test]
    fn scan_counts_a_repeated_line_once_and_refuses_conflicting_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.jsonl");
        let line = |i: u32, sha: &str| {
            format!("{{\"index\":{i},\"item_sha\":\"{sha}\",\"error\":{{}}}}\n")
        };
        let same = format!(
            "{HEADER}\n{}{}{}",
            line(1, "00000000000000b0"),
            line(0, "00000000000000a0"),
            line(1, "00000000000000b0")
        );
        std::fs::write(&p, same).unwrap();
        let ex = scan(&p).unwrap().unwrap();
        assert_eq!((ex.done.len(), ex.done.failed()), (2, 2));
        assert_eq!(ex.done.max_index(), Some(1));
        let conflicting = format!(
            "{HEADER}\n{}{}",
            line(1, "00000000000000b0"),
            line(1, "00000000000000c0")
        );
        std::fs::write(&p, conflicting).unwrap();
        let e = scan(&p).unwrap_err().to_string();
        assert!(
            e.contains("d.jsonl:2:") && e.contains("two lines for item 1"),
            "{e}"
        );
    }

    #[test]
    fn fingerprint_covers_model_action_params_canonically() {
        let p = serde_json::json!({"k": 1, "j": [1, {"b": 2, "a": 1}]});
        let same = serde_json::json!({"j": [1, {"a": 1, "b": 2}], "k": 1});
        let base = job_fingerprint("m", "a", &p);
        assert_eq!(base.len(), 64);
        assert_eq!(base, job_fingerprint("m", "a", &same));
        assert_ne!(base, job_fingerprint("m2", "a", &p));
        assert_ne!(base, job_fingerprint("m", "b", &p));
        assert_ne!(
            base,
            job_fingerprint("m", "a", &serde_json::json!({"k": 2}))
        );
        assert_eq!(
            job_fingerprint("m", "a", &Value::Null),
            job_fingerprint("m", "a", &serde_json::json!({}))
        );
    }

    #[test]
    fn item_sha_covers_the_item_and_its_id() {
        let a = serde_json::json!({"sequence": "A", "x": 1});
        let a2 = serde_json::json!({"x": 1, "sequence": "A"});
        let b = serde_json::json!({"sequence": "B", "x": 1});
        assert_eq!(item_sha(&a, None), item_sha(&a2, None));
        assert_ne!(item_sha(&a, None), item_sha(&b, None));
        assert_ne!(item_sha(&a, None), item_sha(&a, Some("id")));
        assert_ne!(item_sha(&a, Some("x")), item_sha(&a, Some("y")));
        let mut buf = Vec::new();
        write_line(
            &mut buf,
            4,
            item_sha(&a, Some("i\"d")),
            Some("i\"d"),
            None,
            None,
        )
        .unwrap();
        let (i, s, e) = fast_line(&buf).unwrap();
        assert_eq!((i, s, e), (4, item_sha(&a, Some("i\"d")), false));
    }
}
