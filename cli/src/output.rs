//! Where result lines go: stdout, or a resumable JSONL file.
//!
//! The file format is the SDK's (`biolm::jsonl`, format 2), written and read
//! with its public pieces so that each resumes the other's files: a header line
//! `{"biolm_jsonl":2,"fingerprint":"<sha256 of model, action, params>","model":..,"action":..,"items":N}`,
//! then one line per item in completion order,
//! `{"index":i,"item_sha":"<16 hex>","id":..,"result":..}` or `..,"error":{..}}`.
//! A re-run skips an index already in the file when the input item (and id)
//! hash to the line's `item_sha`, and refuses the file when they do not (the
//! file is cut back to what it held before the run). Per-item state is 16
//! bytes per line already in the file; the input stays a stream.

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use biolm::jsonl::DoneSet;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::CliError;

/// The job fingerprint of the header line (model, action, params).
pub fn fingerprint(model: &str, action: &str, params: Option<&Value>) -> String {
    biolm::jsonl::job_fingerprint(model, action, params.unwrap_or(&Value::Null))
}

/// A destination for result lines.
pub struct Sink {
    out: Box<dyn Write + Send>,
    buf: Vec<u8>,
    path: Option<PathBuf>,
    /// Length of the file before this run wrote its first item line.
    start_len: u64,
}

/// What opening an output found.
pub struct Opened {
    /// The sink to write lines to.
    pub sink: Sink,
    /// Indexes already in the file with their item hashes (a resumed run skips them).
    pub done: DoneSet,
    /// How many of those are error lines (items that failed in an earlier run).
    pub failed_before: usize,
    /// Error lines removed so that their items are sent again (`--retry-failed`).
    pub retrying: usize,
}

impl Sink {
    /// Lines to stdout.
    pub fn stdout() -> Sink {
        Sink {
            out: Box::new(std::io::stdout()),
            buf: Vec::with_capacity(1 << 16),
            path: None,
            start_len: 0,
        }
    }

    /// Opens (or resumes) the JSONL file `path` for the job `fingerprint` of `items` items.
    /// With `retry_failed`, the error lines of an earlier run of the same job are
    /// removed first, so their items are sent again.
    pub fn file(
        path: &Path,
        fingerprint: &str,
        model: &str,
        action: &str,
        items: Option<usize>,
        retry_failed: bool,
    ) -> Result<Opened, CliError> {
        let usage = |e: biolm::Error| CliError::Usage(e.to_string());
        let mut existing = biolm::jsonl::scan(path).map_err(usage)?;
        let io = |e: std::io::Error| {
            CliError::Usage(format!(
                "{}: cannot write the output file: {e}",
                path.display()
            ))
        };
        if let Some(ex) = &existing {
            if ex.fingerprint != fingerprint {
                return Err(CliError::Usage(format!(
                    "{} holds the results of another job (fingerprint {}, this job is {fingerprint}): the model, action or params differ; refusing to resume: write to another path, or delete the file to start over",
                    path.display(),
                    ex.fingerprint
                )));
            }
            if let (Some(n), Some(t)) = (ex.items, items) {
                if n != t {
                    return Err(CliError::Usage(
                        biolm::Error::ResumeItemMismatch {
                            path: path.to_path_buf(),
                            message: format!("it is for {n} input items, this input has {t}"),
                        }
                        .to_string(),
                    ));
                }
            }
            if let (Some(max), Some(t)) = (ex.done.max_index(), items) {
                if max >= t as u64 {
                    return Err(CliError::Usage(
                        biolm::Error::ResumeItemMismatch {
                            path: path.to_path_buf(),
                            message: biolm::jsonl::past_end_message(path, max, t),
                        }
                        .to_string(),
                    ));
                }
            }
        }
        // Only a file of this very job, with nothing to refuse, loses its error
        // lines: a refused run leaves the file as it was.
        let mut retrying = 0;
        if retry_failed {
            if let Some(ex) = existing.take() {
                let (removed, now) =
                    biolm::jsonl::drop_scanned_error_lines(path, ex).map_err(usage)?;
                retrying = removed;
                existing = Some(now);
            }
        }
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io)?;
        let (done, start_len) = match existing {
            Some(ex) => {
                file.set_len(ex.good_len).map_err(io)?;
                file.seek(SeekFrom::Start(ex.good_len)).map_err(io)?;
                (ex.done, ex.good_len)
            }
            None => {
                file.set_len(0).map_err(io)?;
                let header = biolm::jsonl::header_line(fingerprint, model, action, items);
                file.write_all(&header).map_err(io)?;
                (DoneSet::default(), header.len() as u64)
            }
        };
        let failed_before = done.failed();
        Ok(Opened {
            sink: Sink {
                out: Box::new(file),
                buf: Vec::with_capacity(1 << 16),
                path: Some(path.to_path_buf()),
                start_len,
            },
            done,
            failed_before,
            retrying,
        })
    }

    /// Adds one line: `{"index":i,"item_sha":..,"id":..,"result":<raw>}` or `..,"error":{..}}`.
    pub fn line(
        &mut self,
        index: usize,
        item_sha: u64,
        id: Option<&str>,
        result: Option<&RawValue>,
        error: Option<&biolm::ItemError>,
    ) {
        if self.path.is_some() {
            // Serializing a string and an ItemError into memory cannot fail.
            let _ = biolm::jsonl::write_line(&mut self.buf, index, item_sha, id, result, error);
            return;
        }
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

    /// Drops what is buffered and cuts the file back to what it held before
    /// this run (a refused resume leaves the file as it was).
    pub fn abandon(&mut self) -> Result<(), CliError> {
        self.buf.clear();
        if let Some(path) = &self.path {
            let _ = self.out.flush();
            let f = OpenOptions::new().write(true).open(path);
            f.and_then(|f| f.set_len(self.start_len)).map_err(|e| {
                CliError::Usage(format!(
                    "{}: cannot write the output file: {e}",
                    path.display()
                ))
            })?;
        }
        Ok(())
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
    fn file_resumes_cuts_torn_lines_and_refuses_other_jobs() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("o.jsonl");
        let mut o = Sink::file(&p, "fp1", "m", "a", Some(3), false).unwrap();
        assert_eq!(o.done.len(), 0);
        let raw = RawValue::from_string("[1.50,2e-7]".into()).unwrap();
        o.sink.line(2, 0xabc, Some("x\"y"), Some(&raw), None);
        o.sink.flush().unwrap();
        drop(o);
        // A torn line after a kill.
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"index\":0,\"res").unwrap();
        drop(f);
        let o = Sink::file(&p, "fp1", "m", "a", Some(3), false).unwrap();
        assert_eq!(o.done.matches(2, 0xabc), Some(true));
        assert_eq!(o.done.matches(2, 0xabe), Some(false));
        assert!(!o.done.contains(0));
        drop(o);
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        let h: Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(h["fingerprint"], "fp1");
        assert_eq!(h["items"], 3);
        assert_eq!(
            lines[1],
            r#"{"index":2,"item_sha":"0000000000000abc","id":"x\"y","result":[1.50,2e-7]}"#
        );
        let e = Sink::file(&p, "fp2", "m", "a", Some(3), false)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("holds the results of another job"), "{e}");
        let e = Sink::file(&p, "fp1", "m", "a", Some(4), false)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("different job") && e.contains("4"), "{e}");
        // A refused run's lines are cut back.
        let mut o = Sink::file(&p, "fp1", "m", "a", Some(3), false).unwrap();
        o.sink.line(1, 0x1, None, Some(&raw), None);
        o.sink.flush().unwrap();
        o.sink.abandon().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
        std::fs::write(&p, "{\"sequence\": \"MK\"}\n").unwrap();
        let e = Sink::file(&p, "fp1", "m", "a", Some(3), false)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("o.jsonl:1: not a biolm JSONL header"), "{e}");
    }

    #[test]
    fn retry_failed_drops_error_lines_of_this_job_only() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("o.jsonl");
        let mut o = Sink::file(&p, "fp1", "m", "a", Some(3), false).unwrap();
        let raw = RawValue::from_string("[1]".into()).unwrap();
        let err = biolm::ItemError {
            index: 1,
            kind: biolm::ItemErrorKind::Unavailable,
            field: None,
            status: None,
            request_id: None,
            message: "down".into(),
        };
        o.sink.line(0, 0xa0, None, Some(&raw), None);
        o.sink.line(1, 0xa2, None, None, Some(&err));
        o.sink.flush().unwrap();
        drop(o);
        let before = std::fs::read_to_string(&p).unwrap();
        // Another job's run must not touch the file, --retry-failed or not.
        assert!(Sink::file(&p, "fp2", "m", "a", Some(3), true).is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), before);
        let o = Sink::file(&p, "fp1", "m", "a", Some(3), false).unwrap();
        assert_eq!((o.done.len(), o.failed_before, o.retrying), (2, 1, 0));
        drop(o);
        let o = Sink::file(&p, "fp1", "m", "a", Some(3), true).unwrap();
        assert_eq!((o.done.len(), o.failed_before, o.retrying), (1, 0, 1));
        assert!(o.done.contains(0) && !o.done.contains(1));
    }

    #[test]
    fn fingerprint_is_the_sdks() {
        let p = serde_json::json!({"k": 1});
        assert_eq!(
            fingerprint("m", "a", Some(&p)),
            biolm::jsonl::job_fingerprint("m", "a", &p)
        );
        assert_eq!(
            fingerprint("m", "a", None),
            fingerprint("m", "a", Some(&serde_json::json!({})))
        );
        assert_ne!(fingerprint("m", "a", None), fingerprint("m", "a", Some(&p)));
    }
}
