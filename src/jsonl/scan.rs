//! Reading an existing output file: the indexes and item hashes it holds, a
//! torn last line, and removing error lines so a re-run re-sends those items.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use super::line::{fast_line, item_line, Header, LineFields, Version};
use super::FORMAT;
use crate::Error;

pub(super) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

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
    crate::file_lock::lock(&held, path)?;
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
        crate::file_lock::lock(&tmp, &tmp_path)?;
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
