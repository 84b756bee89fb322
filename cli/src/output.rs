//! Where result lines go: stdout, or a resumable JSONL file.
//!
//! The file format is the SDK's (`biolm::jsonl`): a header line
//! `{"biolm_jsonl":1,"fingerprint":"<sha256>","model":..,"action":..,"items":N}`,
//! then one line per item in completion order, `{"index":i,"id":..,"result":..}`
//! or `{"index":i,"id":..,"error":{..}}`. The CLI writes it itself so that the
//! input stays a stream: the fingerprint is computed in the validation pass over
//! the input file, and a re-run skips the indexes already in the file while
//! reading. Files written by the CLI and by `Call::write_jsonl` are the same job
//! when model, action, params, items and ids are the same.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::CliError;

/// Format version of the header line.
const FORMAT: u64 = 1;

/// SHA-256 over a job's identity, computed one item at a time (the SDK's
/// `biolm-jsonl-v1` fingerprint).
pub struct Fingerprint {
    hasher: Sha256,
}

impl Fingerprint {
    /// Starts a fingerprint of `model/action` with `params` (`None` hashes as `null`).
    pub fn new(model: &str, action: &str, params: Option<&Value>) -> Fingerprint {
        let mut h = Sha256::new();
        h.update(b"biolm-jsonl-v1\0");
        h.update(model.as_bytes());
        h.update(b"\0");
        h.update(action.as_bytes());
        h.update(b"\0");
        h.update(
            params
                .map(Value::to_string)
                .unwrap_or_else(|| "null".into())
                .as_bytes(),
        );
        h.update(b"\0");
        Fingerprint { hasher: h }
    }

    /// Adds the next item (and its id).
    pub fn add(&mut self, item: &Value, id: Option<&str>) {
        self.hasher.update(item.to_string().as_bytes());
        self.hasher.update(b"\0");
        if let Some(id) = id {
            self.hasher.update(id.as_bytes());
        }
        self.hasher.update(b"\n");
    }

    /// The hex digest.
    pub fn finish(self) -> String {
        self.hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// A set of item indexes, one bit each.
#[derive(Debug, Default, Clone)]
pub struct IndexSet {
    bits: Vec<u64>,
    len: usize,
}

impl IndexSet {
    /// Adds `i`; false when it was there already.
    pub fn insert(&mut self, i: usize) -> bool {
        let (w, b) = (i / 64, i % 64);
        if self.bits.len() <= w {
            self.bits.resize(w + 1, 0);
        }
        let was = self.bits[w] & (1 << b) != 0;
        self.bits[w] |= 1 << b;
        if !was {
            self.len += 1;
        }
        !was
    }

    /// Whether `i` is in the set.
    pub fn contains(&self, i: usize) -> bool {
        self.bits
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Number of indexes.
    pub fn len(&self) -> usize {
        self.len
    }
}

#[derive(Deserialize)]
struct Header {
    biolm_jsonl: u64,
    fingerprint: String,
}

#[derive(Deserialize)]
struct LineIndex {
    index: Option<usize>,
    #[serde(default)]
    error: Option<serde::de::IgnoredAny>,
}

/// The index of a line this program wrote (`{"index":123,...}`) and whether it is
/// an error line, read without parsing the rest of the line (results can be
/// megabytes); `None` for any other shape.
///
/// The line is `{"index":N[,"id":"..."],"result":...}` or `...,"error":{...}}`; the
/// id is a JSON string (its quotes escaped), so the first `"result":` or `"error":`
/// in the line is the top-level key.
fn fast_index(line: &[u8]) -> Option<(usize, bool)> {
    let rest = line.strip_prefix(b"{\"index\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 18 || !matches!(rest.get(digits), Some(b',') | Some(b'}')) {
        return None;
    }
    let index = std::str::from_utf8(rest.get(..digits)?)
        .ok()?
        .parse()
        .ok()?;
    let find = |pat: &[u8]| rest.windows(pat.len()).position(|w| w == pat);
    let is_error = match (find(b"\"error\":"), find(b"\"result\":")) {
        (Some(e), Some(r)) => e < r,
        (Some(_), None) => true,
        _ => false,
    };
    Some((index, is_error))
}

/// What an existing output file holds.
struct Existing {
    fingerprint: String,
    done: IndexSet,
    /// How many of `done` are error lines.
    failed: usize,
    good_len: u64,
}

fn jsonl_error(path: &Path, line: usize, message: String) -> CliError {
    CliError::Usage(format!(
        "{}:{line}: {message}; move the file away or pick another output path",
        path.display()
    ))
}

/// Reads an existing output file; `None` when it is absent, empty, or its header
/// line is torn (then it is started over).
fn scan(path: &Path) -> Result<Option<Existing>, CliError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CliError::Usage(format!(
                "{}: cannot read the output file: {e}",
                path.display()
            )))
        }
    };
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::new();
    let mut good_len = 0u64;
    let mut fingerprint = None;
    let mut done = IndexSet::default();
    let mut failed = 0usize;
    let mut number = 0usize;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(|e| {
            CliError::Usage(format!(
                "{}: cannot read the output file: {e}",
                path.display()
            ))
        })?;
        if n == 0 || line.last() != Some(&b'\n') {
            break; // end, or a torn last line (cut before appending)
        }
        number += 1;
        if number == 1 {
            let h: Header = serde_json::from_slice(&line).map_err(|e| {
                jsonl_error(
                    path,
                    1,
                    format!("not a biolm JSONL header ({e}); this file was not written by biolm"),
                )
            })?;
            if h.biolm_jsonl != FORMAT {
                return Err(jsonl_error(
                    path,
                    1,
                    format!("format version {} is not supported", h.biolm_jsonl),
                ));
            }
            fingerprint = Some(h.fingerprint);
        } else if let Some((i, is_error)) = fast_index(&line) {
            if done.insert(i) && is_error {
                failed += 1;
            }
        } else {
            let l: LineIndex = serde_json::from_slice(&line)
                .map_err(|e| jsonl_error(path, number, format!("not a JSON line ({e})")))?;
            match l.index {
                Some(i) => {
                    if done.insert(i) && l.error.is_some() {
                        failed += 1;
                    }
                }
                None => {
                    return Err(jsonl_error(
                        path,
                        number,
                        "a line without an \"index\"".into(),
                    ))
                }
            }
        }
        good_len += n as u64;
    }
    Ok(fingerprint.map(|fingerprint| Existing {
        fingerprint,
        done,
        failed,
        good_len,
    }))
}

/// A destination for result lines.
pub struct Sink {
    out: Box<dyn Write + Send>,
    buf: Vec<u8>,
    path: Option<PathBuf>,
}

/// What opening an output found.
pub struct Opened {
    /// The sink to write lines to.
    pub sink: Sink,
    /// Indexes already in the file (a resumed run skips them).
    pub done: IndexSet,
    /// How many of those are error lines (items that failed in an earlier run).
    pub failed_before: usize,
}

impl Sink {
    /// Lines to stdout.
    pub fn stdout() -> Sink {
        Sink {
            out: Box::new(std::io::stdout()),
            buf: Vec::with_capacity(1 << 16),
            path: None,
        }
    }

    /// Opens (or resumes) the JSONL file `path` for the job `fingerprint` of `items` items.
    pub fn file(
        path: &Path,
        fingerprint: &str,
        model: &str,
        action: &str,
        items: usize,
    ) -> Result<Opened, CliError> {
        let existing = scan(path)?;
        let io = |e: std::io::Error| {
            CliError::Usage(format!(
                "{}: cannot write the output file: {e}",
                path.display()
            ))
        };
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io)?;
        let mut done = IndexSet::default();
        let mut failed_before = 0;
        match existing {
            Some(ex) => {
                if ex.fingerprint != fingerprint {
                    return Err(CliError::Usage(format!(
                        "{} holds the results of another job (fingerprint {}, this job is {fingerprint}): the model, action, params or input items differ; refusing to resume: write to another path, or delete the file to start over",
                        path.display(),
                        ex.fingerprint
                    )));
                }
                file.set_len(ex.good_len).map_err(io)?;
                file.seek(SeekFrom::Start(ex.good_len)).map_err(io)?;
                done = ex.done;
                failed_before = ex.failed;
            }
            None => {
                file.set_len(0).map_err(io)?;
                let header = serde_json::json!({
                    "biolm_jsonl": FORMAT,
                    "fingerprint": fingerprint,
                    "model": model,
                    "action": action,
                    "items": items,
                });
                writeln!(file, "{header}").map_err(io)?;
            }
        }
        Ok(Opened {
            sink: Sink {
                out: Box::new(file),
                buf: Vec::with_capacity(1 << 16),
                path: Some(path.to_path_buf()),
            },
            done,
            failed_before,
        })
    }

    /// Adds one line: `{"index":i,"id":..,"result":<raw>}` or `..,"error":{..}}`.
    pub fn line(
        &mut self,
        index: usize,
        id: Option<&str>,
        result: Option<&RawValue>,
        error: Option<&biolm::ItemError>,
    ) {
        self.buf.extend_from_slice(b"{\"index\":");
        self.buf.extend_from_slice(index.to_string().as_bytes());
        if let Some(id) = id {
            self.buf.extend_from_slice(b",\"id\":");
            self.buf
                .extend_from_slice(Value::String(id.to_string()).to_string().as_bytes());
        }
        if let Some(r) = result {
            self.buf.extend_from_slice(b",\"result\":");
            self.buf.extend_from_slice(r.get().as_bytes());
        }
        if let Some(e) = error {
            self.buf.extend_from_slice(b",\"error\":");
            let text = serde_json::to_string(e).unwrap_or_else(|_| "{}".into());
            self.buf.extend_from_slice(text.as_bytes());
        }
        self.buf.extend_from_slice(b"}\n");
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Writes what is buffered.
    pub fn flush(&mut self) -> Result<(), CliError> {
        if !self.buf.is_empty() {
            let r = self
                .out
                .write_all(&self.buf)
                .and_then(|()| self.out.flush());
            self.buf.clear();
            r.map_err(|e| match &self.path {
                Some(p) => CliError::Usage(format!(
                    "{}: cannot write the output file: {e}",
                    p.display()
                )),
                None => CliError::Io(e),
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_index_reads_only_our_prefix() {
        assert_eq!(
            fast_index(b"{\"index\":42,\"result\":[1]}\n"),
            Some((42, false))
        );
        assert_eq!(fast_index(b"{\"index\":7}\n"), Some((7, false)));
        assert_eq!(
            fast_index(
                b"{\"index\":8,\"id\":\"a\\\"result\\\":\",\"error\":{\"message\":\"x\"}}\n"
            ),
            Some((8, true))
        );
        assert_eq!(
            fast_index(b"{\"index\":9,\"result\":{\"error\":1}}\n"),
            Some((9, false))
        );
        assert_eq!(fast_index(b"{\"index\":x}\n"), None);
        assert_eq!(fast_index(b"{ \"index\": 3}\n"), None);
        assert_eq!(fast_index(b"{\"index\":3a}\n"), None);
    }

    #[test]
    fn index_set_counts_once() {
        let mut s = IndexSet::default();
        assert!(s.insert(3));
        assert!(!s.insert(3));
        assert!(s.insert(700));
        assert!(s.contains(700) && s.contains(3) && !s.contains(4));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn file_resumes_cuts_torn_lines_and_refuses_other_jobs() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("o.jsonl");
        let mut o = Sink::file(&p, "fp1", "m", "a", 3).unwrap();
        assert_eq!(o.done.len(), 0);
        let raw = RawValue::from_string("[1.50,2e-7]".into()).unwrap();
        o.sink.line(2, Some("x\"y"), Some(&raw), None);
        o.sink.flush().unwrap();
        drop(o);
        // A torn line after a kill.
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"index\":0,\"res").unwrap();
        drop(f);
        let o = Sink::file(&p, "fp1", "m", "a", 3).unwrap();
        assert!(o.done.contains(2) && !o.done.contains(0));
        drop(o);
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        let h: Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(h["fingerprint"], "fp1");
        assert_eq!(h["items"], 3);
        assert_eq!(lines[1], r#"{"index":2,"id":"x\"y","result":[1.50,2e-7]}"#);
        let e = Sink::file(&p, "fp2", "m", "a", 3)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("holds the results of another job"), "{e}");
        std::fs::write(&p, "{\"sequence\": \"MK\"}\n").unwrap();
        let e = Sink::file(&p, "fp1", "m", "a", 3)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("o.jsonl:1: not a biolm JSONL header"), "{e}");
    }

    #[test]
    fn fingerprint_matches_item_by_item() {
        let items = [
            serde_json::json!({"sequence": "A"}),
            serde_json::json!({"sequence": "B"}),
        ];
        let mut a = Fingerprint::new("m", "a", None);
        let mut b = Fingerprint::new("m", "a", None);
        for it in &items {
            a.add(it, Some("x"));
            b.add(it, Some("x"));
        }
        let (a, b) = (a.finish(), b.finish());
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        let mut c = Fingerprint::new("m", "a", Some(&serde_json::json!({"k": 1})));
        for it in &items {
            c.add(it, Some("x"));
        }
        assert_ne!(a, c.finish());
    }
}
