//! Converts a JSONL output (written by [`OutputWriter`](super::OutputWriter),
//! `write_jsonl` or `biolm run -o`) into another format: `biolm convert
//! in.jsonl out.parquet`, and the last step of a resumable Parquet run, whose
//! lines are journaled as JSONL until the end.
//!
//! The output is written to a temporary file beside it and renamed into place
//! when complete, so a killed conversion leaves no half file. A torn last
//! line (a run killed mid-write) is left out; a repeated index keeps its
//! first line.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::format::{self, Kind, Line};
use crate::outcome::ItemError;
use crate::Error;

/// What a conversion did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Converted {
    /// Item lines written.
    pub lines: usize,
    /// Of those, error lines.
    pub errors: usize,
    /// Lines left out: repeated indexes and a torn last line.
    pub skipped: usize,
    /// The header's model slug.
    pub model: String,
    /// The header's action.
    pub action: String,
}

#[derive(Deserialize)]
struct ItemLine<'a> {
    index: usize,
    item_sha: &'a str,
    #[serde(default)]
    id: Option<String>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<ItemError>,
    /// A Parquet run's journal line: the result is in the Parquet file.
    #[serde(default)]
    in_parquet: bool,
}

#[derive(Deserialize)]
struct HeaderLine {
    biolm_jsonl: u32,
    model: String,
    action: String,
}

fn bad(path: &Path, line: usize, message: impl std::fmt::Display) -> Error {
    Error::OutputRefused {
        path: path.to_owned(),
        message: format!(
            "line {line}: {message}; only files written by biolm (JSONL format 2) are converted"
        ),
    }
}

/// The model and action named by the header of the JSONL output `input`.
pub fn header_of(input: &Path) -> Result<(String, String), Error> {
    let mut first = String::new();
    open_lines(input)?
        .read_line(&mut first)
        .map_err(|source| Error::Io {
            path: input.to_owned(),
            source,
        })?;
    let h: HeaderLine = serde_json::from_str(first.trim_end())
        .map_err(|e| bad(input, 1, format!("not a biolm JSONL header ({e})")))?;
    if h.biolm_jsonl != 2 {
        return Err(bad(
            input,
            1,
            format!("JSONL format {} is not 2", h.biolm_jsonl),
        ));
    }
    Ok((h.model, h.action))
}

fn open_lines(input: &Path) -> Result<Box<dyn BufRead>, Error> {
    let f = File::open(input).map_err(|source| Error::Io {
        path: input.to_owned(),
        source,
    })?;
    let gz = input
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_lowercase().ends_with(".gz"));
    let r: Box<dyn Read> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(f))
    } else {
        Box::new(f)
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, r)))
}

/// An item line with a result, as this SDK writes it.
struct ResultLine<'a> {
    index: usize,
    sha: u64,
    id: Option<String>,
    result: &'a str,
}

/// Splits `{"index":i,"item_sha":"..",["id":..,]"result":<json>}\n` without
/// reading the result (checked later, as it is decoded); `None` for any other
/// line, which then takes the general path.
fn split_result_line(buf: &[u8]) -> Option<ResultLine<'_>> {
    let s = std::str::from_utf8(buf).ok()?.strip_suffix('\n')?;
    let rest = s.strip_prefix("{\"index\":")?;
    let comma = rest.find(',')?;
    let index = rest[..comma].parse().ok()?;
    let rest = rest[comma..].strip_prefix(",\"item_sha\":\"")?;
    let sha = u64::from_str_radix(rest.get(..16)?, 16).ok()?;
    let rest = rest.get(16..)?.strip_prefix('"')?;
    let (id, rest) = match rest.strip_prefix(",\"id\":") {
        Some(r) => {
            let mut it = serde_json::Deserializer::from_str(r).into_iter::<String>();
            let id = it.next()?.ok()?;
            (Some(id), r.get(it.byte_offset()..)?)
        }
        None => (None, rest),
    };
    let result = rest.strip_prefix(",\"result\":")?.strip_suffix('}')?;
    Some(ResultLine {
        index,
        sha,
        id,
        result,
    })
}

/// The temporary path a conversion writes before renaming it to `output`.
fn temp_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".converting-{}", std::process::id()));
    output.with_file_name(name)
}

/// Passes the item lines of the JSONL file `journal` (after its header line)
/// to `fmt`, which writes to `out`, but for the items in `copied` (whose rows
/// were recovered from the Parquet file): how a resumed Parquet run catches
/// up with the lines of its earlier runs that carry their result (or error).
#[cfg(feature = "parquet")]
pub(super) fn replay(
    journal: &Path,
    fmt: &mut dyn format::OutputFormat,
    out: &Path,
    copied: HashSet<usize>,
) -> Result<Converted, Error> {
    let mut lines = open_lines(journal)?;
    let mut header = Vec::new();
    lines
        .read_until(b'\n', &mut header)
        .map_err(|source| Error::Io {
            path: journal.to_owned(),
            source,
        })?;
    feed(journal, &mut lines, fmt, out, copied)
}

/// Passes the item lines of the JSONL `lines` (after its header; read from
/// `input`) to `fmt`, which writes to `out`: a repeated index keeps its first
/// line, a torn last line is left out, and so are the items in `seen`. A
/// line whose result is in a Parquet file (`"in_parquet":true`, the journal of
/// a Parquet run) is refused. The model and action are left empty.
pub(super) fn feed(
    input: &Path,
    lines: &mut dyn BufRead,
    fmt: &mut dyn format::OutputFormat,
    out: &Path,
    mut seen: HashSet<usize>,
) -> Result<Converted, Error> {
    let io_in = |source| Error::Io {
        path: input.to_owned(),
        source,
    };
    let io_out = |source| Error::Io {
        path: out.to_owned(),
        source,
    };
    let mut done = Converted::default();
    let mut buf = Vec::new();
    let mut number = 1;
    loop {
        buf.clear();
        if lines.read_until(b'\n', &mut buf).map_err(io_in)? == 0 {
            break;
        }
        number += 1;
        let complete = buf.last() == Some(&b'\n');
        // The lines this SDK writes, with a result: decoded in one pass.
        if let Some(fast) = split_result_line(&buf) {
            if seen.contains(&fast.index) {
                done.skipped += 1;
                continue;
            }
            let line = Line {
                index: fast.index,
                item_sha: fast.sha,
                id: fast.id.as_deref(),
                result: None,
                error: None,
            };
            if fmt.line_json(&line, fast.result).is_ok() {
                seen.insert(fast.index);
                done.lines += 1;
                if fmt.pending() >= 1 << 20 {
                    fmt.flush().map_err(io_out)?;
                }
                continue;
            }
        }
        let parsed: Result<ItemLine<'_>, _> = serde_json::from_slice(&buf);
        let l = match parsed {
            Ok(l) => l,
            // A torn last line: a run killed mid-write.
            Err(_) if !complete => {
                done.skipped += 1;
                break;
            }
            Err(e) => return Err(bad(input, number, e)),
        };
        if !seen.insert(l.index) {
            done.skipped += 1;
            continue;
        }
        if l.in_parquet {
            return Err(Error::OutputRefused {
                path: input.to_owned(),
                message: format!(
                    "line {number}: item {} is marked as written to the Parquet file of this journal, but the rows recovered from that file (out.parquet.partial.parquet and its .partial.checkpoint) do not hold it; \
                     its result is not in this journal either, so it cannot be recovered: delete the .partial files of this output to start the job over",
                    l.index
                ),
            });
        }
        let sha = u64::from_str_radix(l.item_sha, 16)
            .map_err(|_| bad(input, number, "item_sha is not 16 hex digits"))?;
        fmt.line(&Line {
            index: l.index,
            item_sha: sha,
            id: l.id.as_deref(),
            result: l.result.map(RawValue::get),
            error: l.error.as_ref(),
        })?;
        done.lines += 1;
        done.errors += usize::from(l.error.is_some());
        if fmt.pending() >= 1 << 20 {
            fmt.flush().map_err(io_out)?;
        }
    }
    Ok(done)
}

/// Converts the JSONL output `input` (plain or `.gz`) into `output` of
/// `kind`, with columns typed from `response_schema` (the action's response
/// JSON Schema; `None`: one JSON-text result column). An existing `output`
/// is replaced only when the conversion is complete.
pub fn convert(
    input: &Path,
    output: &Path,
    kind: Kind,
    response_schema: Option<&Value>,
) -> Result<Converted, Error> {
    let io_in = |source| Error::Io {
        path: input.to_owned(),
        source,
    };
    let tmp = temp_path(output);
    let io_out = |source| Error::Io {
        path: tmp.clone(),
        source,
    };
    let mut lines = open_lines(input)?;
    let mut header = Vec::new();
    lines.read_until(b'\n', &mut header).map_err(io_in)?;
    let h: HeaderLine = serde_json::from_slice(&header)
        .map_err(|e| bad(input, 1, format!("not a biolm JSONL header ({e})")))?;
    if h.biolm_jsonl != 2 {
        return Err(bad(
            input,
            1,
            format!("JSONL format {} is not 2", h.biolm_jsonl),
        ));
    }
    let file = File::create(&tmp).map_err(io_out)?;
    let out: Box<dyn Write + Send> = Box::new(BufWriter::with_capacity(1 << 16, file));
    let mut fmt = format::build(kind, out, response_schema).map_err(|message| {
        let _ = std::fs::remove_file(&tmp);
        Error::OutputRefused {
            path: output.to_owned(),
            message,
        }
    })?;
    let result = (|| {
        fmt.header(&header).map_err(io_out)?;
        let mut done = Converted {
            model: h.model.clone(),
            action: h.action.clone(),
            ..Converted::default()
        };
        let fed = feed(input, &mut lines, fmt.as_mut(), &tmp, HashSet::new())?;
        done.lines = fed.lines;
        done.errors = fed.errors;
        done.skipped = fed.skipped;
        fmt.finish().map_err(io_out)?;
        Ok(done)
    })();
    match result {
        Ok(done) => {
            std::fs::rename(&tmp, output).map_err(|source| Error::Io {
                path: output.to_owned(),
                source,
            })?;
            Ok(done)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_split_without_reading_the_result() {
        let l = split_result_line(
            b"{\"index\":7,\"item_sha\":\"00000000000000ab\",\"id\":\"a\\\",\\\"result\\\":1\",\"result\":{\"x\":[1.5]}}\n",
        )
        .unwrap();
        assert_eq!(
            (l.index, l.sha, l.id.as_deref()),
            (7, 0xab, Some("a\",\"result\":1"))
        );
        assert_eq!(l.result, "{\"x\":[1.5]}");
        let l =
            split_result_line(b"{\"index\":0,\"item_sha\":\"0000000000000001\",\"result\":[2]}\n")
                .unwrap();
        assert_eq!((l.id, l.result), (None, "[2]"));
        // Error lines, torn lines and other key orders take the general path.
        for other in [
            &b"{\"index\":1,\"item_sha\":\"0000000000000001\",\"error\":{}}\n"[..],
            b"{\"index\":1,\"item_sha\":\"0000000000000001\",\"result\":[2]",
            b"{\"item_sha\":\"0000000000000001\",\"index\":1,\"result\":[2]}\n",
        ] {
            assert!(split_result_line(other).is_none());
        }
    }
}
