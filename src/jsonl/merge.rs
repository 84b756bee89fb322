//! `merge`: the outputs of the shards of one job joined, in input order, into
//! the file an unsharded run writes.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::jsonl;
use crate::shard::Shard;
use crate::Error;

/// What [`merge`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeSummary {
    /// The merged file.
    pub path: PathBuf,
    /// The job's fingerprint.
    pub fingerprint: String,
    /// Shards joined.
    pub shards: usize,
    /// Item lines written (one per input item).
    pub items: usize,
    /// How many of them are error lines (kept as they were).
    pub failed: usize,
}

#[derive(Deserialize)]
struct Header {
    biolm_jsonl: u64,
    fingerprint: String,
    model: String,
    action: String,
    #[serde(default)]
    items: Option<usize>,
    #[serde(default)]
    shard: Option<Shard>,
}

/// One shard output, indexed: where each item's line is.
struct Part {
    path: PathBuf,
    header: Header,
    shard: Shard,
    file: File,
    /// (input index, byte offset, byte length) of each line, sorted by index.
    lines: Vec<(u64, u64, u32)>,
    failed: usize,
}

fn fail(message: String) -> Error {
    Error::Merge { message }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads a shard output's header and where each of its lines is; a torn last
/// line (a run killed mid-write) is left out, as a resumed run would cut it.
fn index(path: &Path) -> Result<Part, Error> {
    let file = File::open(path).map_err(io(path))?;
    let mut reader = BufReader::with_capacity(1 << 16, file.try_clone().map_err(io(path))?);
    let mut line = Vec::new();
    let n = reader.read_until(b'\n', &mut line).map_err(io(path))?;
    let bad = |line: usize, message: String| Error::Jsonl {
        path: path.to_owned(),
        line,
        message,
    };
    if n == 0 || line.last() != Some(&b'\n') {
        return Err(fail(format!(
            "{} has no complete header line: it is not the output of `biolm run -o` or write_jsonl (or its run was killed before writing anything); run that shard again",
            path.display()
        )));
    }
    let header: Header = serde_json::from_slice(&line)
        .map_err(|e| bad(1, format!("not a biolm JSONL header ({e})")))?;
    if header.biolm_jsonl != u64::from(jsonl::FORMAT) {
        return Err(bad(
            1,
            format!(
                "format version {} is not supported (this version of biolm merges {})",
                header.biolm_jsonl,
                jsonl::FORMAT
            ),
        ));
    }
    let shard = match header.shard {
        Some(s) => Shard::new(s.index(), s.count()).map_err(|e| bad(1, e.to_string()))?,
        None => Shard::WHOLE,
    };
    let mut offset = n as u64;
    let mut lines = Vec::new();
    let mut failed = 0usize;
    let mut number = 1usize;
    // (index, sha) of each line, to tell a repeated line from a conflicting one.
    let mut shas = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(io(path))?;
        if n == 0 || line.last() != Some(&b'\n') {
            break;
        }
        number += 1;
        let (k, sha, is_error) = jsonl::item_line(&line).map_err(|m| bad(number, m))?;
        if !shard.contains(k as usize) {
            return Err(bad(
                number,
                format!("a line for item {k}, which is not in shard {shard} (the file's header)"),
            ));
        }
        if let Some(total) = header.items {
            if k >= total as u64 {
                return Err(bad(
                    number,
                    format!("a line for item {k}, but the header says the job has {total} items"),
                ));
            }
        }
        let len = u32::try_from(n).map_err(|_| bad(number, "a line over 4 GiB".into()))?;
        lines.push((k, offset, len));
        shas.push((k, sha & !1, is_error));
        offset += n as u64;
    }
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|&i| lines[i].0);
    let mut kept: Vec<(u64, u64, u32)> = Vec::with_capacity(lines.len());
    let mut last: Option<(u64, u64)> = None;
    for i in order {
        let (k, sha, is_error) = shas[i];
        if let Some((lk, lsha)) = last {
            if lk == k {
                if lsha != sha {
                    return Err(bad(
                        jsonl::find_line(path, k).unwrap_or(0),
                        format!("two lines for item {k} with different item hashes"),
                    ));
                }
                // The same line twice (as `scan` reads it): kept once.
                continue;
            }
        }
        last = Some((k, sha));
        if is_error {
            failed += 1;
        }
        kept.push(lines[i]);
    }
    Ok(Part {
        path: path.to_owned(),
        header,
        shard,
        file,
        lines: kept,
        failed,
    })
}

/// Indexes as ranges with a step: `9-21 (every 3rd), 30`.
fn ranges(missing: &[u64], step: u64, limit: usize) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < missing.len() && out.len() < limit {
        let start = missing[i];
        let mut end = start;
        while i + 1 < missing.len() && missing[i + 1] == end + step {
            i += 1;
            end = missing[i];
        }
        i += 1;
        out.push(if start == end {
            start.to_string()
        } else if step == 1 {
            format!("{start}-{end}")
        } else {
            format!("{start}-{end} (every {step})")
        });
    }
    if i < missing.len() {
        out.push("...".into());
    }
    out.join(", ")
}

/// Whether `a` and `b` name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Joins the outputs of the shards of one job into `out`, one line per input
/// item in input order, after checking that:
///
/// - every file is a biolm JSONL output of the **same job** (the header's
///   fingerprint: model, action, params) and the same shard count and item
///   count — a foreign file is refused, naming it;
/// - every shard `0/N` to `N-1/N` is given **exactly once**;
/// - every input item has its line (a shard whose run stopped half way has
///   gaps) — else the error names the missing shards and the missing items
///   as index ranges, and nothing is written.
///
/// Error lines are copied as they are (they stay error lines). An output
/// without any shard (a plain `biolm run -o` file) counts as shard `0/1`, so
/// `merge(out, [single])` writes a single run's file sorted by index.
///
/// **The same as a single run**: the merged file's header is the one an
/// unsharded run writes, and its item lines are the shards' lines, byte for
/// byte. A run writes lines in completion order, so two runs (sharded or not)
/// of a job differ only in line order: the merge of the shards is
/// byte-equal to the merge of an unsharded run's output when each result
/// depends on its item only. A result that depends on the batch differs: the
/// server's `sequence_index` (esm2 and others) is the item's position in its
/// request, so it changes with the batch size and with the way shards batch
/// their items; with batch size 1 (or an action without such a field) the
/// files are byte-equal.
///
/// `out` is written beside itself and renamed into place, so it is either the
/// old file or the complete new one; it must not be one of the shards, and an
/// existing `out` that is not a biolm JSONL file is refused, untouched.
pub fn merge(out: &Path, shards: &[PathBuf]) -> Result<MergeSummary, Error> {
    if shards.is_empty() {
        return Err(fail("no shard outputs given".into()));
    }
    if let Some(s) = shards.iter().find(|s| same_file(out, s)) {
        return Err(fail(format!(
            "the output {} is one of the shards ({}); write the merged file to another path",
            out.display(),
            s.display()
        )));
    }
    if let Ok(mut f) = File::open(out) {
        let mut start = [0u8; 15];
        let n = std::io::Read::read(&mut f, &mut start).map_err(io(out))?;
        if n > 0 && !start[..n].starts_with(b"{\"biolm_jsonl\":") {
            return Err(fail(format!(
                "{} exists and is not a biolm JSONL file; it is left untouched: pick another output path",
                out.display()
            )));
        }
    }
    let parts: Vec<Part> = shards.iter().map(|p| index(p)).collect::<Result<_, _>>()?;
    let first = &parts[0];
    let count = first.shard.count();
    for p in &parts[1..] {
        if p.header.fingerprint != first.header.fingerprint {
            return Err(fail(format!(
                "{} belongs to another job than {}: {}/{} fingerprint {} vs {}/{} fingerprint {} (the model, action or params differ)",
                p.path.display(),
                first.path.display(),
                p.header.model,
                p.header.action,
                p.header.fingerprint,
                first.header.model,
                first.header.action,
                first.header.fingerprint
            )));
        }
        if p.shard.count() != count {
            return Err(fail(format!(
                "{} is shard {} but {} is shard {}: all shards must come from one split (the same N)",
                p.path.display(),
                p.shard,
                first.path.display(),
                first.shard
            )));
        }
        if p.header.items != first.header.items {
            return Err(fail(format!(
                "{} is for {:?} input items but {} is for {:?}: the shards were run on different inputs",
                p.path.display(),
                p.header.items,
                first.path.display(),
                first.header.items
            )));
        }
    }
    let mut by_shard: Vec<Option<usize>> = vec![None; count];
    for (k, p) in parts.iter().enumerate() {
        if let Some(other) = by_shard[p.shard.index()] {
            return Err(fail(format!(
                "shard {} is given twice: {} and {}",
                p.shard,
                parts[other].path.display(),
                p.path.display()
            )));
        }
        by_shard[p.shard.index()] = Some(k);
    }
    let total = match first.header.items {
        Some(t) => t as u64,
        None => parts
            .iter()
            .filter_map(|p| p.lines.last().map(|l| l.0 + 1))
            .max()
            .unwrap_or(0),
    };
    // What is missing: whole shards, then the items each present shard lacks.
    let mut problems = Vec::new();
    let absent: Vec<String> = (0..count)
        .filter(|i| by_shard[*i].is_none())
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !absent.is_empty() {
        problems.push(format!("shard {} not given", absent.join(", ")));
    }
    for p in &parts {
        let mut missing = Vec::new();
        let mut have = p.lines.iter().map(|l| l.0).peekable();
        let mut k = p.shard.index() as u64;
        while k < total {
            if have.peek() == Some(&k) {
                have.next();
            } else {
                missing.push(k);
            }
            k += count as u64;
        }
        if !missing.is_empty() {
            problems.push(format!(
                "{} (shard {}) has no line for {} items: {} — run that shard again to complete it (it resumes its own file)",
                p.path.display(),
                p.shard,
                missing.len(),
                ranges(&missing, count as u64, 10)
            ));
        }
    }
    if !problems.is_empty() {
        return Err(fail(format!(
            "the job has {total} items but some are missing, nothing was written: {}",
            problems.join("; ")
        )));
    }

    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".merge.tmp");
    let tmp = out.with_file_name(name);
    let write = || -> Result<(), Error> {
        let f = File::create(&tmp).map_err(io(&tmp))?;
        let mut w = BufWriter::with_capacity(1 << 16, f);
        let h = &first.header;
        w.write_all(&jsonl::header_line(
            &h.fingerprint,
            &h.model,
            &h.action,
            h.items,
        ))
        .map_err(io(&tmp))?;
        let mut next = vec![0usize; count];
        let mut buf = Vec::new();
        for k in 0..total {
            let s = (k % count as u64) as usize;
            let Some(p) = by_shard[s].map(|i| &parts[i]) else {
                continue;
            };
            let Some(&(_, offset, len)) = p.lines.get(next[s]) else {
                continue;
            };
            next[s] += 1;
            buf.resize(len as usize, 0);
            read_at(&p.file, &mut buf, offset).map_err(io(&p.path))?;
            w.write_all(&buf).map_err(io(&tmp))?;
        }
        let f = w.into_inner().map_err(|e| io(&tmp)(e.into_error()))?;
        f.sync_all().map_err(io(&tmp))?;
        Ok(())
    };
    if let Err(e) = write().and_then(|()| std::fs::rename(&tmp, out).map_err(io(out))) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(MergeSummary {
        path: out.to_owned(),
        fingerprint: first.header.fingerprint.clone(),
        shards: count,
        items: parts.iter().map(|p| p.lines.len()).sum(),
        failed: parts.iter().map(|p| p.failed).sum(),
    })
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, offset)
}

#[cfg(not(unix))]
fn read_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = f;
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_collapse_runs_by_step() {
        assert_eq!(ranges(&[9, 12, 15, 21], 3, 10), "9-15 (every 3), 21");
        assert_eq!(ranges(&[1, 2, 3, 7], 1, 10), "1-3, 7");
        assert_eq!(ranges(&[1, 5, 9], 1, 2), "1, 5, ...");
    }
}
