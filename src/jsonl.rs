//! Resumable JSONL output of a call.
//!
//! The file starts with a header line naming the job:
//! `{"biolm_jsonl":1,"fingerprint":"<sha256>","model":"esm2-8m","action":"encode","items":N}`.
//! The fingerprint is the SHA-256 of the model, the action, the params, the
//! input items and their ids. Then one line per item, written as results
//! complete (in completion order):
//! `{"index":i,"id":"<caller id>","result":<the server's result>}` or
//! `{"index":i,"id":"<caller id>","error":{"kind":..,"field":..,"status":..,"request_id":..,"message":..}}`.
//! Items never attempted get no line.
//!
//! Running the same job on the same path resumes: items already in the file are
//! skipped and the rest are sent, so the file ends with exactly one line per
//! item (no duplicates, no gaps). A torn last line (a run killed mid-write) is
//! cut off first. A file of another job is refused
//! ([`crate::Error::ResumeMismatch`]).
//!
//! The input items are held in memory (serialized) while the job runs, so that
//! the fingerprint covers them before anything is written.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use futures_util::stream::{self, StreamExt};
use futures_util::FutureExt;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::{Call, Error, Outcome};

/// Format version in the header line.
const FORMAT: u32 = 1;

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
    items: usize,
}

#[derive(Deserialize)]
struct LineIndex {
    index: Option<usize>,
    #[serde(default)]
    biolm_jsonl: Option<IgnoredAny>,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// What an existing output file holds.
#[derive(Debug)]
pub(crate) struct Existing {
    pub fingerprint: Option<String>,
    pub done: HashSet<usize>,
    /// Byte length of the complete lines; anything after is a torn line.
    pub good_len: u64,
    pub file_len: u64,
}

/// Reads an output file: its header's fingerprint, the indexes it has, and where
/// its last complete line ends.
pub(crate) fn scan(path: &Path) -> Result<Option<Existing>, Error> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
    };
    let file_len = file.metadata().map_err(io_err(path))?.len();
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::new();
    let mut good_len = 0u64;
    let mut fingerprint = None;
    let mut done = HashSet::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            // A torn last line: ignored, cut off before appending.
            break;
        }
        number += 1;
        let bad = |message: String| Error::Jsonl {
            path: path.to_owned(),
            line: number,
            message,
        };
        if number == 1 {
            let h: Header = serde_json::from_slice(&line).map_err(|e| {
                bad(format!(
                    "not a biolm JSONL header ({e}); this file was not written by write_jsonl"
                ))
            })?;
            if h.biolm_jsonl != FORMAT {
                return Err(bad(format!(
                    "format version {} is not supported (this SDK writes {FORMAT})",
                    h.biolm_jsonl
                )));
            }
            fingerprint = Some(h.fingerprint);
        } else {
            let l: LineIndex =
                serde_json::from_slice(&line).map_err(|e| bad(format!("not a JSON line ({e})")))?;
            match (l.index, l.biolm_jsonl) {
                (Some(i), None) => {
                    done.insert(i);
                }
                _ => return Err(bad("a line without an \"index\"".into())),
            }
        }
        good_len += n as u64;
    }
    Ok(Some(Existing {
        fingerprint,
        done,
        good_len,
        file_len,
    }))
}

/// SHA-256 over the job's identity, hex.
pub(crate) fn fingerprint(
    model: &str,
    action: &str,
    params: &serde_json::Value,
    items: &[String],
    ids: Option<&[String]>,
) -> String {
    let mut h = Sha256::new();
    h.update(b"biolm-jsonl-v1\0");
    h.update(model.as_bytes());
    h.update(b"\0");
    h.update(action.as_bytes());
    h.update(b"\0");
    h.update(params.to_string().as_bytes());
    h.update(b"\0");
    for (i, it) in items.iter().enumerate() {
        h.update(it.as_bytes());
        h.update(b"\0");
        if let Some(id) = ids.and_then(|ids| ids.get(i)) {
            h.update(id.as_bytes());
        }
        h.update(b"\n");
    }
    let digest = h.finalize();
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
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
    let (ctx, params) = call.context()?;
    let spec = ctx.spec.get();
    let model = spec.slug.to_string();
    let action = spec.action.to_string();
    // Hold the items, serialized once for the fingerprint.
    let items: Vec<I> = std::mem::replace(&mut call.input, stream::empty().boxed())
        .collect()
        .await;
    let serialized = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            serde_json::to_string(it).map_err(|e| Error::Serialize {
                what: format!("items[{i}]"),
                source: e,
            })
        })
        .collect::<Result<Vec<String>, Error>>()?;
    let ids = call.ids.take();
    let fp = fingerprint(&model, &action, &params, &serialized, ids.as_deref());
    drop(serialized);

    let existing = scan(path)?;
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io_err(path))?;
    let mut done = HashSet::new();
    match existing {
        Some(ex) if ex.fingerprint.is_some() => {
            let found = ex.fingerprint.unwrap_or_default();
            if found != fp {
                return Err(Error::ResumeMismatch {
                    path: path.to_owned(),
                    expected: fp,
                    found,
                });
            }
            if ex.good_len < ex.file_len {
                tracing::info!(path = %path.display(), cut = ex.file_len - ex.good_len, "cutting a torn last line");
                file.set_len(ex.good_len).map_err(io_err(path))?;
            }
            file.seek(SeekFrom::Start(ex.good_len))
                .map_err(io_err(path))?;
            done = ex.done;
        }
        _ => {
            // New file, or one whose header line was torn: start over.
            file.set_len(0).map_err(io_err(path))?;
            let header = Header {
                biolm_jsonl: FORMAT,
                fingerprint: fp.clone(),
                model,
                action,
                items: items.len(),
            };
            let mut line = serde_json::to_vec(&header).map_err(|e| Error::Serialize {
                what: "header".into(),
                source: e,
            })?;
            line.push(b'\n');
            file.write_all(&line).map_err(io_err(path))?;
        }
    }
    let total = items.len();
    let skipped = (0..total).filter(|i| done.contains(i)).count();
    let todo: Vec<(usize, I)> = items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !done.contains(i))
        .collect();
    call.total = Some(todo.len());
    let mut outcomes = call.start::<Box<RawValue>>(false, move |_| stream::iter(todo).boxed());

    let mut summary = JsonlSummary {
        path: path.to_owned(),
        fingerprint: fp,
        total,
        skipped,
        ..JsonlSummary::default()
    };
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    loop {
        let next = match outcomes.next().now_or_never() {
            Some(x) => x,
            None => {
                flush(&mut file, &mut buf, path)?;
                outcomes.next().await
            }
        };
        let Some(x) = next else { break };
        let (index, outcome) = x?;
        let id = ids.as_ref().and_then(|ids| ids.get(index));
        match outcome {
            Outcome::Success(raw) => {
                summary.succeeded += 1;
                write_line(&mut buf, index, id, Some(&raw), None)?;
            }
            Outcome::Failed(e) => {
                summary.failed += 1;
                write_line(&mut buf, index, id, None, Some(&e))?;
            }
            Outcome::NotAttempted => summary.not_attempted += 1,
        }
        if buf.len() > (1 << 20) {
            flush(&mut file, &mut buf, path)?;
        }
    }
    flush(&mut file, &mut buf, path)?;
    Ok(summary)
}

fn write_line(
    buf: &mut Vec<u8>,
    index: usize,
    id: Option<&String>,
    result: Option<&RawValue>,
    error: Option<&crate::outcome::ItemError>,
) -> Result<(), Error> {
    let ser = |e| Error::Serialize {
        what: format!("the line of items[{index}]"),
        source: e,
    };
    buf.extend_from_slice(b"{\"index\":");
    buf.extend_from_slice(index.to_string().as_bytes());
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

fn flush(file: &mut File, buf: &mut Vec<u8>, path: &Path) -> Result<(), Error> {
    if !buf.is_empty() {
        file.write_all(buf).map_err(io_err(path))?;
        buf.clear();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_finds_indexes_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.jsonl");
        assert!(scan(&p).unwrap().is_none());
        let header = r#"{"biolm_jsonl":1,"fingerprint":"abc","model":"m","action":"a","items":3}"#;
        let body = format!("{header}\n{{\"index\":2,\"result\":[1]}}\n{{\"index\":0,\"error\":{{}}}}\n{{\"index\":1,\"res");
        std::fs::write(&p, &body).unwrap();
        let ex = scan(&p).unwrap().unwrap();
        assert_eq!(ex.fingerprint.as_deref(), Some("abc"));
        assert_eq!(ex.done, [0, 2].into_iter().collect());
        assert_eq!(ex.file_len as usize, body.len());
        assert_eq!(ex.good_len as usize, body.rfind('\n').unwrap() + 1);
    }

    #[test]
    fn scan_refuses_foreign_files_with_the_line_number() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jsonl");
        std::fs::write(&p, "{\"sequence\":\"MKT\"}\n").unwrap();
        let e = scan(&p).unwrap_err().to_string();
        assert!(
            e.contains("x.jsonl:1:") && e.contains("not a biolm JSONL header"),
            "{e}"
        );
        let header = r#"{"biolm_jsonl":1,"fingerprint":"abc","model":"m","action":"a","items":3}"#;
        std::fs::write(&p, format!("{header}\n{{\"index\":0}}\nnot json\n")).unwrap();
        let e = scan(&p).unwrap_err().to_string();
        assert!(e.contains("x.jsonl:3:"), "{e}");
    }

    #[test]
    fn fingerprint_covers_every_part() {
        let items = vec!["{\"s\":\"A\"}".to_string(), "{\"s\":\"B\"}".to_string()];
        let p = serde_json::json!({"k": 1});
        let base = fingerprint("m", "a", &p, &items, None);
        assert_eq!(base.len(), 64);
        assert_eq!(base, fingerprint("m", "a", &p, &items, None));
        assert_ne!(base, fingerprint("m2", "a", &p, &items, None));
        assert_ne!(base, fingerprint("m", "b", &p, &items, None));
        assert_ne!(
            base,
            fingerprint("m", "a", &serde_json::json!({"k": 2}), &items, None)
        );
        assert_ne!(base, fingerprint("m", "a", &p, &items[..1], None));
        let ids = vec!["x".to_string(), "y".to_string()];
        assert_ne!(base, fingerprint("m", "a", &p, &items, Some(&ids)));
    }
}
