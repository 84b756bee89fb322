//! Where result lines go: stdout, or an output file written by the SDK's one
//! resumable writer ([`biolm::output::OutputWriter`]).
//!
//! The file format is the SDK's (`biolm::jsonl`, format 2), so each resumes
//! the other's files: a header line
//! `{"biolm_jsonl":2,"fingerprint":"<sha256 of model, action, params>","model":..,"action":..,"items":N}`,
//! then one line per item in completion order,
//! `{"index":i,"item_sha":"<16 hex>","id":..,"result":..}` or `..,"error":{..}}`.
//! What the writer refuses (a file it did not write, the input file, a file
//! another run holds), how it streams to pipes and terminals and writes
//! `.gz` files is said in [`biolm::output`].

use std::io::Write;
use std::path::Path;

use biolm::jsonl::DoneSet;
use biolm::output::{Job, Kind, OpenOptions, OutputWriter};
use biolm::RawResult;
use serde_json::Value;

use crate::CliError;

/// The job fingerprint of the header line (model, action, params).
pub fn fingerprint(model: &str, action: &str, params: Option<&Value>) -> String {
    biolm::jsonl::job_fingerprint(model, action, params.unwrap_or(&Value::Null))
}

/// Parses a byte count: `1000`, `64KiB`, `64MiB`, `2GiB` (also `K`, `M`, `G`,
/// `KB`, `MB`, `GB`, all powers of 1024).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a byte count; write it like 64MiB or 1000000"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("{text:?}: unknown unit; use KiB, MiB or GiB")),
    };
    n.checked_mul(1 << shift)
        .filter(|b| *b > 0)
        .ok_or_else(|| format!("{text:?}: give a size above 0 and below 16 EiB"))
}

/// `--output-format`: the kind of output file, when the name does not tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// JSON lines (resumable).
    Jsonl,
    /// Gzip-compressed JSON lines.
    #[value(name = "jsonl.gz")]
    JsonlGz,
    /// Apache Parquet, one row per item, columns typed from the response schema.
    Parquet,
    /// A directory of NumPy .npy arrays (embedding actions): the path is a directory.
    Npy,
    /// NumPy's .npz: a zip of the same .npy arrays (embedding actions).
    Npz,
}

/// How an output file is written: its kind and, for a columnar kind, the
/// action's response schema that types its columns.
#[derive(Debug, Clone)]
pub struct FileFormat {
    /// The kind of file.
    pub kind: Kind,
    /// The response JSON Schema (columnar kinds only).
    pub response_schema: Option<Value>,
}

impl FileFormat {
    /// The format for `path` (`--output-format`, else its extension) of
    /// `slug`'s `action`.
    pub fn resolve(
        path: &Path,
        flag: Option<OutputFormat>,
        slug: &str,
        action: &str,
    ) -> Result<FileFormat, CliError> {
        let kind = match flag {
            Some(OutputFormat::Jsonl) => Kind::Jsonl,
            Some(OutputFormat::JsonlGz) => Kind::GzipJsonl,
            Some(OutputFormat::Parquet) => Kind::Parquet,
            Some(OutputFormat::Npy) => Kind::NpyDir,
            Some(OutputFormat::Npz) => Kind::Npz,
            None => Kind::from_path(path),
        };
        let response_schema = if kind == Kind::Parquet {
            response_schema(slug, action)?
        } else {
            None
        };
        Ok(FileFormat {
            kind,
            response_schema,
        })
    }

    /// The writer's options for this format (its kind and column types).
    pub fn options(self) -> OpenOptions {
        let options = OpenOptions::new().kind(self.kind);
        match self.response_schema {
            Some(schema) => options.response_schema(schema),
            None => options,
        }
    }
}

/// The response JSON Schema of `slug`'s `action` from the embedded schema
/// files (`None` for a model they do not describe: one JSON-text column).
pub fn response_schema(slug: &str, action: &str) -> Result<Option<Value>, CliError> {
    let set = crate::embedded::schema_set().map_err(|e| CliError::Usage(e.to_string()))?;
    Ok(set
        .variant(slug)
        .and_then(|(family, _)| family.action(action))
        .map(|a| a.response.clone()))
}

/// A destination for result lines.
pub enum Sink {
    /// Lines to stdout, in input order, without the file's header and hashes.
    Stdout {
        /// Lines not yet written.
        buf: Vec<u8>,
    },
    /// The SDK's writer of an output file.
    File(Box<OutputWriter>),
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

fn sdk(e: biolm::Error) -> CliError {
    CliError::Usage(crate::redact::text(&e.to_string()))
}

impl Sink {
    /// Lines to stdout.
    pub fn stdout() -> Sink {
        Sink::Stdout {
            buf: Vec::with_capacity(1 << 16),
        }
    }

    /// Opens (or resumes) the output `path` for the job `fingerprint` of
    /// `items` items. With `retry_failed`, the error lines of an earlier run of
    /// the same job are removed first, so their items are sent again. `input`
    /// (the input file) is refused as the output. (The tests' shorthand for [`Sink::open`].)
    #[cfg(test)]
    #[allow(clippy::too_many_arguments)] // each is one fact of the job; a struct would only rename them
    pub fn file(
        path: &Path,
        fingerprint: &str,
        model: &str,
        action: &str,
        items: Option<usize>,
        retry_failed: bool,
        input: Option<&Path>,
        format: FileFormat,
    ) -> Result<Opened, CliError> {
        let job = Job {
            fingerprint: fingerprint.to_string(),
            model: model.to_string(),
            action: action.to_string(),
            items,
        };
        let mut options = format.options().retry_failed(retry_failed);
        if let Some(i) = input {
            options = options.not_the_input(i);
        }
        Sink::open(path, &job, &options)
    }

    /// Opens (or resumes) the output `path` for `job` with the writer's own
    /// options (a shard, retrying failed items, the input file refused).
    pub fn open(path: &Path, job: &Job, options: &OpenOptions) -> Result<Opened, CliError> {
        let opened = OutputWriter::open(path, job, options).map_err(sdk)?;
        Ok(Opened {
            sink: Sink::File(Box::new(opened.writer)),
            done: opened.done,
            failed_before: opened.failed_before,
            retrying: opened.retrying,
        })
    }

    /// The output file's writer, if the lines go to a file.
    pub fn writer(&self) -> Option<&OutputWriter> {
        match self {
            Sink::File(w) => Some(w),
            Sink::Stdout { .. } => None,
        }
    }

    /// Adds one line: `{"index":i,"item_sha":..,"id":..,"result":<raw>}` or `..,"error":{..}}`.
    pub fn line(
        &mut self,
        index: usize,
        item_sha: u64,
        id: Option<&str>,
        result: Option<&RawResult>,
        error: Option<&biolm::ItemError>,
    ) -> Result<(), CliError> {
        let buf = match self {
            Sink::File(w) => return w.line(index, item_sha, id, result, error).map_err(sdk),
            Sink::Stdout { buf } => buf,
        };
        buf.extend_from_slice(b"{\"index\":");
        buf.extend_from_slice(index.to_string().as_bytes());
        if let Some(id) = id {
            buf.extend_from_slice(b",\"id\":");
            buf.extend_from_slice(Value::String(id.to_string()).to_string().as_bytes());
        }
        if let Some(r) = result {
            buf.extend_from_slice(b",\"result\":");
            buf.extend_from_slice(r.get().as_bytes());
        }
        if let Some(e) = error {
            buf.extend_from_slice(b",\"error\":");
            let text = serde_json::to_string(e).unwrap_or_else(|_| "{}".into());
            buf.extend_from_slice(text.as_bytes());
        }
        buf.extend_from_slice(b"}\n");
        Ok(())
    }

    /// Refuses to resume because input item `index` differs from its line in
    /// the file: the SDK writer's refusal (the file is cut back to what it held
    /// before this run, and the error names the item and the file line).
    pub fn refuse_item(&mut self, index: usize) -> CliError {
        match self {
            Sink::File(w) => sdk(w.refuse_item(index)),
            Sink::Stdout { .. } => match self.abandon() {
                Ok(()) => CliError::Usage(format!("input item {index} differs from the output")),
                Err(e) => e,
            },
        }
    }

    /// Drops what is buffered and cuts the file back to what it held before
    /// this run (a refused resume leaves the file as it was).
    pub fn abandon(&mut self) -> Result<(), CliError> {
        match self {
            Sink::File(w) => w.abandon().map_err(sdk),
            Sink::Stdout { buf } => {
                buf.clear();
                Ok(())
            }
        }
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> usize {
        match self {
            Sink::File(w) => w.pending(),
            Sink::Stdout { buf } => buf.len(),
        }
    }

    /// Writes what is buffered.
    pub fn flush(&mut self) -> Result<(), CliError> {
        match self {
            Sink::File(w) => w.flush().map_err(sdk),
            Sink::Stdout { buf } => {
                if buf.is_empty() {
                    return Ok(());
                }
                let mut out = std::io::stdout().lock();
                let r = out.write_all(buf).and_then(|()| out.flush());
                buf.clear();
                r.map_err(CliError::Io)
            }
        }
    }

    /// Writes what is buffered and leaves the output to be resumed (an
    /// interrupted run): a Parquet, `.npz` or npy output is not finished.
    pub fn suspend(&mut self) -> Result<(), CliError> {
        match self {
            Sink::File(w) => w.suspend().map_err(sdk),
            Sink::Stdout { .. } => self.flush(),
        }
    }

    /// Writes what is buffered and ends the output (a gzip file's trailer).
    pub fn finish(&mut self) -> Result<(), CliError> {
        match self {
            Sink::File(w) => w.finish().map_err(sdk),
            Sink::Stdout { .. } => self.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;

    fn jsonl() -> FileFormat {
        FileFormat {
            kind: Kind::Jsonl,
            response_schema: None,
        }
    }

    #[test]
    fn file_resumes_cuts_torn_lines_and_refuses_other_jobs() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("o.jsonl");
        let mut o = Sink::file(&p, "fp1", "m", "a", Some(3), false, None, jsonl()).unwrap();
        assert_eq!(o.done.len(), 0);
        let raw = RawResult::from_json("[1.50,2e-7]".into()).unwrap();
        o.sink
            .line(2, 0xabc, Some("x\"y"), Some(&raw), None)
            .unwrap();
        o.sink.flush().unwrap();
        drop(o);
        // A torn line after a kill.
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"index\":0,\"res").unwrap();
        drop(f);
        let o = Sink::file(&p, "fp1", "m", "a", Some(3), false, None, jsonl()).unwrap();
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
        let e = Sink::file(&p, "fp2", "m", "a", Some(3), false, None, jsonl())
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("holds the results of another job"), "{e}");
        let e = Sink::file(&p, "fp1", "m", "a", Some(4), false, None, jsonl())
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("different job") && e.contains("4"), "{e}");
        // A refused run's lines are cut back.
        let mut o = Sink::file(&p, "fp1", "m", "a", Some(3), false, None, jsonl()).unwrap();
        o.sink.line(1, 0x1, None, Some(&raw), None).unwrap();
        o.sink.flush().unwrap();
        o.sink.abandon().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
        drop(o);
        std::fs::write(&p, "{\"sequence\": \"MK\"}\n").unwrap();
        let e = Sink::file(&p, "fp1", "m", "a", Some(3), false, None, jsonl())
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("o.jsonl:1: not a biolm JSONL header"), "{e}");
    }

    #[test]
    fn retry_failed_drops_error_lines_of_this_job_only() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("o.jsonl");
        let mut o = Sink::file(&p, "fp1", "m", "a", Some(3), false, None, jsonl()).unwrap();
        let raw = RawResult::from_json("[1]".into()).unwrap();
        let err = biolm::ItemError {
            index: 1,
            kind: biolm::ItemErrorKind::Unavailable,
            field: None,
            status: None,
            request_id: None,
            message: "down".into(),
        };
        o.sink.line(0, 0xa0, None, Some(&raw), None).unwrap();
        o.sink.line(1, 0xa2, None, None, Some(&err)).unwrap();
        o.sink.flush().unwrap();
        drop(o);
        let before = std::fs::read_to_string(&p).unwrap();
        // Another job's run must not touch the file, --retry-failed or not.
        assert!(Sink::file(&p, "fp2", "m", "a", Some(3), true, None, jsonl()).is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), before);
        let o = Sink::file(&p, "fp1", "m", "a", Some(3), false, None, jsonl()).unwrap();
        assert_eq!((o.done.len(), o.failed_before, o.retrying), (2, 1, 0));
        drop(o);
        let o = Sink::file(&p, "fp1", "m", "a", Some(3), true, None, jsonl()).unwrap();
        assert_eq!((o.done.len(), o.failed_before, o.retrying), (1, 0, 1));
        assert!(o.done.contains(0) && !o.done.contains(1));
    }

    #[test]
    fn byte_counts_parse_with_binary_units() {
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes("1000"), Ok(1000));
        assert_eq!(parse_bytes("2g"), Ok(2 << 30));
        assert!(parse_bytes("0").is_err() && parse_bytes("12 parsecs").is_err());
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
