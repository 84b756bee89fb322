//! The one resumable output writer, used by [`Call::write_jsonl`](crate::Call::write_jsonl)
//! and by the `biolm` command line (`biolm run -o FILE`).
//!
//! [`OutputWriter::open`] decides what may be done with the path, before anything is sent:
//!
//! - **A file this SDK did not write is never truncated or rewritten.** An
//!   existing file must start with a header line of this format
//!   ([`crate::jsonl`]); anything else (a notes file, a binary file, a file
//!   without a line end) is refused, untouched, naming the file. Only a torn
//!   *last* line of a file that starts with our header is cut (a run killed
//!   mid-write), and a file holding only the start of our header line (killed
//!   while writing it) is started over.
//! - **The input is not the output**: a path that is the same file as one of
//!   [`OpenOptions::not_the_input`] is refused.
//! - **One run at a time**: a regular file is held under an exclusive advisory
//!   lock (`flock`, through the `fs4` crate) for the whole run; a second run on
//!   the same file is refused with [`Error::OutputLocked`].
//! - **Pipes, FIFOs, terminals, `/dev/stdout`, `/dev/null`** (anything that is
//!   not a regular file, told by the file's metadata, not its name) are opened
//!   write-only and streamed to: never read, never resumed, never truncated.
//! - **Parquet paths** (`.parquet`, or [`OpenOptions::kind`]) are journaled:
//!   the Parquet file is written as the results come ([`direct_path`]), with
//!   a checkpoint of its rows at each row group (`checkpoint_path`), and
//!   `out.parquet.partial.jsonl`, which resumes like any JSONL output, gets
//!   light lines (no result text) of the rows checkpointed; a
//!   resumed run recovers the checkpointed rows the journal names, and
//!   [`OutputWriter::finish`] renames the file into place and removes the
//!   journal and the checkpoint.
//!   An existing non-empty Parquet file is refused, untouched. To a pipe,
//!   Parquet is streamed directly.
//! - **`.gz` paths** are written gzip-compressed ([`format::GzipJsonl`]); they
//!   are written in one run and not resumed: an existing non-empty `.gz` output
//!   is refused, untouched.
//!
//! Formats sit behind one trait, [`format::OutputFormat`].

mod array_tree;
#[cfg(feature = "parquet")]
mod checkpoint;
#[cfg(feature = "parquet")]
pub mod columns;
pub mod convert;
#[cfg(feature = "parquet")]
mod decimal;
#[cfg(feature = "parquet")]
mod direct;
pub mod format;
pub mod npy;
pub mod npz;
#[cfg(feature = "parquet")]
pub mod parquet;
#[cfg(feature = "parquet")]
mod reader;

use std::fs::{File, OpenOptions as FsOpenOptions};
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::jsonl::{self, DoneSet};
use crate::outcome::ItemError;
use crate::{Error, RawResult};

#[cfg(feature = "parquet")]
pub use checkpoint::checkpoint_path;
#[cfg(feature = "parquet")]
use direct::Direct;
pub use format::{Kind, Line, OutputFormat};

/// Without the `parquet` feature there is no Parquet file to write.
#[cfg(not(feature = "parquet"))]
struct Direct;

#[cfg(not(feature = "parquet"))]
impl Direct {
    fn start(_: &Path, target: &Path, _: &OpenOptions, _: &DoneSet) -> Result<Direct, Error> {
        Err(refused(
            target,
            "this build of biolm cannot write Parquet: enable the `parquet` cargo feature (the `biolm` command line has it)",
        ))
    }
    fn line(&mut self, _: &Line<'_>) -> Result<(), Error> {
        Ok(())
    }
    fn pending(&self) -> usize {
        0
    }
    fn flush(&mut self, _: &mut dyn std::io::Write, _: &Path) -> Result<(), Error> {
        Ok(())
    }
    fn checkpoint(&mut self, _: &mut dyn std::io::Write, _: &Path) -> Result<(), Error> {
        Ok(())
    }
    fn finish(self, _: &Path) -> Result<(), Error> {
        Ok(())
    }
    fn abandon(self) {}
}

/// The job an output belongs to (its header line).
#[derive(Debug, Clone)]
pub struct Job {
    /// The job's fingerprint ([`jsonl::job_fingerprint`]).
    pub fingerprint: String,
    /// Model slug.
    pub model: String,
    /// Action name.
    pub action: String,
    /// Input length, when known before the run.
    pub items: Option<usize>,
}

/// How to open an output.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    retry_failed: bool,
    inputs: Vec<PathBuf>,
    shard: Option<crate::shard::Shard>,
    kind: Option<Kind>,
    response_schema: Option<serde_json::Value>,
}

impl OpenOptions {
    /// Default options: resume, keep error lines.
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    /// Removes the error lines of an earlier run of the same job first, so
    /// that their items are sent again.
    pub fn retry_failed(mut self, yes: bool) -> OpenOptions {
        self.retry_failed = yes;
        self
    }

    /// The output holds one shard of the job ([`crate::shard`]): recorded in
    /// the header of a new file, and an existing file of another shard (or of
    /// the whole input) is refused.
    pub fn shard(mut self, shard: Option<crate::shard::Shard>) -> OpenOptions {
        self.shard = shard;
        self
    }

    /// Writes this kind of file whatever the path's extension (by default the
    /// extension tells: [`Kind::from_path`]).
    pub fn kind(mut self, kind: Kind) -> OpenOptions {
        self.kind = Some(kind);
        self
    }

    /// The action's response JSON Schema, which types the columns of a
    /// columnar output (Parquet); without it the result is one JSON-text column.
    pub fn response_schema(mut self, schema: serde_json::Value) -> OpenOptions {
        self.response_schema = Some(schema);
        self
    }

    /// Refuses an output path that is this input file (the same file, by its
    /// device and inode, whatever the paths look like).
    pub fn not_the_input(mut self, input: impl Into<PathBuf>) -> OpenOptions {
        self.inputs.push(input.into());
        self
    }
}

/// What opening an output found.
pub struct Opened {
    /// The writer, positioned after the lines already in the file.
    pub writer: OutputWriter,
    /// Indexes already in the file with their item hashes (a resumed run skips them).
    pub done: DoneSet,
    /// How many of those are error lines (items that failed in an earlier run).
    pub failed_before: usize,
    /// Error lines removed so that their items are sent again (with
    /// [`OpenOptions::retry_failed`]).
    pub retrying: usize,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("writer", &self.writer)
            .field("done", &self.done.len())
            .field("failed_before", &self.failed_before)
            .field("retrying", &self.retrying)
            .finish()
    }
}

/// Writes item lines to an output opened by [`OutputWriter::open`].
pub struct OutputWriter {
    path: PathBuf,
    format: Box<dyn OutputFormat>,
    /// The locked regular file (the lock lives as long as this handle).
    file: Option<File>,
    /// Length of the file before this run wrote its first item line.
    start_len: u64,
    streaming: bool,
    /// A columnar output journaled as JSONL until [`OutputWriter::finish`].
    finalize: Option<Finalize>,
}

/// A columnar output whose lines go to a JSONL journal first: the journal
/// resumes like any JSONL output. A Parquet output is also written as the
/// lines come ([`Direct`]) and renamed into place at the end; the other kinds
/// are converted from the journal at the end.
struct Finalize {
    target: PathBuf,
    kind: Kind,
    response_schema: Option<serde_json::Value>,
    direct: Option<Direct>,
}

/// Where a journaled Parquet run writes its Parquet file until it is
/// complete: `out.parquet.partial.parquet`. A killed run leaves it without a
/// footer; the next run recovers the rows of its last checkpoint
/// (`checkpoint_path`) that the journal names, and writes a new one.
pub fn direct_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial.parquet");
    path.with_file_name(name)
}

/// The JSONL journal of a columnar output `path`: `out.parquet.partial.jsonl`.
pub fn journal_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial.jsonl");
    path.with_file_name(name)
}

impl std::fmt::Debug for OutputWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputWriter")
            .field("path", &self.path)
            .field("format", &self.format.name())
            .field("streaming", &self.streaming)
            .finish()
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

fn refused(path: &Path, message: impl Into<String>) -> Error {
    Error::OutputRefused {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// Whether `path` holds a finished output of `kind`, told by its signature
/// (asked when there is no journal: the journal is removed only after the
/// output is written whole, so an output of ours is finished): a Parquet file starts
/// and ends with `PAR1`, a `.npz` file starts with a zip member
/// (`PK\x03\x04`), an npy directory holds the NumPy array `index.npy`
/// ([`npy`] writes it for every output). Anything else at the path is a
/// file or directory of its own.
fn holds_finished(path: &Path, kind: Kind) -> bool {
    use std::io::Read;
    /// The first `N` bytes of `path`, if it has that many.
    fn starts_with<const N: usize>(path: &Path, magic: &[u8; N]) -> bool {
        let mut head = [0u8; N];
        File::open(path).is_ok_and(|mut f| f.read_exact(&mut head).is_ok()) && &head == magic
    }
    match kind {
        Kind::Parquet => {
            let ends = File::open(path).is_ok_and(|mut f| {
                let mut tail = [0u8; 4];
                f.seek(SeekFrom::End(-4)).is_ok()
                    && f.read_exact(&mut tail).is_ok()
                    && &tail == b"PAR1"
            });
            starts_with(path, b"PAR1") && ends
        }
        Kind::Npz => starts_with(path, b"PK\x03\x04"),
        Kind::NpyDir => {
            let index = path.join("index.npy");
            path.is_dir() && index.is_file() && starts_with(&index, b"\x93NUMPY")
        }
        Kind::Jsonl | Kind::GzipJsonl => false,
    }
}

/// How a refusal names an output of `kind`: "not {phrase} of biolm".
fn kind_phrase(kind: Kind) -> &'static str {
    match kind {
        Kind::Parquet => "a Parquet output",
        Kind::Npz => "a NumPy .npz output",
        Kind::NpyDir => "an npy directory output",
        Kind::Jsonl => "a JSONL output",
        Kind::GzipJsonl => "a gzip JSONL output",
    }
}

/// Whether `a` and `b` name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        ma.dev() == mb.dev() && ma.ino() == mb.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (ma, mb);
        matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
    }
}

impl OutputWriter {
    /// Opens (or resumes) the output `path` for `job`; see the [module](self)
    /// for what is refused. Nothing in an existing file is changed when it is
    /// refused.
    pub fn open(path: &Path, job: &Job, options: &OpenOptions) -> Result<Opened, Error> {
        let io = io_err(path);
        let meta = match std::fs::metadata(path) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(e)),
        };
        let kind = options.kind.unwrap_or_else(|| Kind::from_path(path));
        if kind != Kind::NpyDir && meta.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(refused(
                path,
                "is a directory; give a file path for the output",
            ));
        }
        if let Some(input) = options.inputs.iter().find(|i| same_file(path, i)) {
            return Err(refused(
                path,
                format!(
                    "is the input file ({}): writing results there would destroy the input; pick another output path",
                    input.display()
                ),
            ));
        }
        let header = jsonl::header_line_of_shard(
            &job.fingerprint,
            &job.model,
            &job.action,
            job.items,
            options.shard,
        );
        if kind == Kind::NpyDir {
            let used = meta.as_ref().is_some_and(|m| !m.is_dir())
                || std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_some());
            return OutputWriter::open_journaled(path, job, options, kind, used);
        }
        let make = |out: Box<dyn std::io::Write + Send>| {
            format::build(kind, out, options.response_schema.as_ref()).map_err(|m| refused(path, m))
        };
        if meta.as_ref().is_some_and(|m| !m.is_file()) {
            // A pipe, FIFO, terminal or device: write-only, streamed, never resumed.
            if options.retry_failed {
                return Err(refused(
                    path,
                    "is not a regular file (a pipe, FIFO, terminal or device): there is no earlier run to retry; write to a file to use --retry-failed",
                ));
            }
            let f = FsOpenOptions::new().write(true).open(path).map_err(&io)?;
            let mut format = make(Box::new(f))?;
            format.header(&header).map_err(&io)?;
            return Ok(Opened {
                writer: OutputWriter {
                    path: path.to_owned(),
                    format,
                    file: None,
                    start_len: 0,
                    streaming: true,
                    finalize: None,
                },
                done: DoneSet::default(),
                failed_before: 0,
                retrying: 0,
            });
        }
        if kind == Kind::Parquet || kind == Kind::Npz {
            return OutputWriter::open_journaled(
                path,
                job,
                options,
                kind,
                meta.is_some_and(|m| m.len() > 0),
            );
        }
        let mut file = FsOpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(&io)?;
        crate::file_lock::lock(&file, path)?;
        let file_len = file.metadata().map_err(&io)?.len();
        if !kind.resumable() {
            if file_len > 0 {
                return Err(refused(
                    path,
                    "is not empty: gzip outputs (.gz) are written in one run and not resumed, so the file is left as it was; \
                     write to another path, delete it to start over, or write plain JSONL (resumable) and compress it afterwards",
                ));
            }
            let handle = file.try_clone().map_err(&io)?;
            let mut format = make(Box::new(std::io::BufWriter::with_capacity(1 << 16, handle)))?;
            format.header(&header).map_err(&io)?;
            return Ok(Opened {
                writer: OutputWriter {
                    path: path.to_owned(),
                    format,
                    file: Some(file),
                    start_len: 0,
                    streaming: false,
                    finalize: None,
                },
                done: DoneSet::default(),
                failed_before: 0,
                retrying: 0,
            });
        }
        let mut existing = jsonl::scan(path)?;
        if let Some(ex) = &existing {
            if ex.fingerprint != job.fingerprint {
                return Err(Error::ResumeMismatch {
                    path: path.to_owned(),
                    expected: job.fingerprint.clone(),
                    found: ex.fingerprint.clone(),
                });
            }
            if ex.shard != options.shard {
                return Err(refused(
                    path,
                    crate::shard::resume_mismatch(ex.shard, options.shard),
                ));
            }
            if let (Some(n), Some(t)) = (ex.items, job.items) {
                if n != t {
                    return Err(Error::ResumeItemMismatch {
                        path: path.to_owned(),
                        message: format!("it is for {n} input items, this input has {t}"),
                    });
                }
            }
            if let (Some(max), Some(t)) = (ex.done.max_index(), job.items) {
                if max >= t as u64 {
                    return Err(Error::ResumeItemMismatch {
                        path: path.to_owned(),
                        message: jsonl::past_end_message(path, max, t),
                    });
                }
            }
        }
        // Only a file of this very job, with nothing to refuse, loses its
        // error lines: a refused run leaves the file as it was.
        let mut retrying = 0;
        if options.retry_failed {
            if let Some(ex) = existing.take() {
                let (removed, now, rewritten) = jsonl::drop_errors_locked(path, ex)?;
                retrying = removed;
                existing = Some(now);
                if let Some(f) = rewritten {
                    // The new file (already locked) replaced the old one.
                    file = f;
                }
            }
        }
        let (done, start_len, new) = match existing {
            Some(ex) => {
                if ex.good_len < ex.file_len {
                    tracing::info!(path = %path.display(), cut = ex.file_len - ex.good_len, "cutting a torn last line");
                }
                file.set_len(ex.good_len).map_err(&io)?;
                file.seek(SeekFrom::Start(ex.good_len)).map_err(&io)?;
                (ex.done, ex.good_len, false)
            }
            None => {
                // Empty, new, or holding only the start of our header line.
                file.set_len(0).map_err(&io)?;
                file.seek(SeekFrom::Start(0)).map_err(&io)?;
                (DoneSet::default(), header.len() as u64, true)
            }
        };
        let handle = file.try_clone().map_err(&io)?;
        let mut format = make(Box::new(handle))?;
        if new {
            format.header(&header).map_err(&io)?;
        }
        let failed_before = done.failed();
        Ok(Opened {
            writer: OutputWriter {
                path: path.to_owned(),
                format,
                file: Some(file),
                start_len,
                streaming: false,
                finalize: None,
            },
            done,
            failed_before,
            retrying,
        })
    }

    /// A columnar output of a regular file: its lines are journaled as JSONL
    /// beside it ([`journal_path`]) and converted at the end, so a killed run
    /// resumes from the journal.
    fn open_journaled(
        path: &Path,
        job: &Job,
        options: &OpenOptions,
        kind: Kind,
        exists: bool,
    ) -> Result<Opened, Error> {
        let journal = journal_path(path);
        if exists {
            let message = if journal.exists() {
                format!(
                    "is not empty, and {} holds a run to resume: delete one of them (the output if the journal is the run to finish)",
                    journal.display()
                )
            } else if holds_finished(path, kind) {
                "already holds a finished output (Parquet, .npz and npy outputs are final once written): write to another path, or delete it to run again".to_string()
            } else {
                format!(
                    "already exists and is not {} of biolm (a file or directory of its own, left as it was): write to another path",
                    kind_phrase(kind)
                )
            };
            return Err(refused(path, message));
        }
        let mut jopts = options.clone();
        jopts.kind = Some(Kind::Jsonl);
        let mut opened = OutputWriter::open(&journal, job, &jopts)?;
        let direct = if kind == Kind::Parquet {
            Some(Direct::start(&journal, path, options, &opened.done)?)
        } else {
            None
        };
        opened.writer.finalize = Some(Finalize {
            target: path.to_owned(),
            kind,
            response_schema: options.response_schema.clone(),
            direct,
        });
        Ok(opened)
    }

    /// The path being written: the output, or for a Parquet output its JSONL
    /// journal ([`journal_path`]) until [`OutputWriter::finish`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the output is not a regular file (a pipe, FIFO, terminal or
    /// device): it is streamed to and cannot be resumed.
    pub fn is_streaming(&self) -> bool {
        self.streaming
    }

    /// Whether a later run of the same job can resume this output.
    pub fn is_resumable(&self) -> bool {
        !self.streaming && self.format.resumable()
    }

    /// The format's name (`"JSONL"`, `"gzip JSONL"`).
    pub fn format_name(&self) -> &'static str {
        match &self.finalize {
            Some(f) if f.kind == Kind::NpyDir => "NumPy arrays",
            Some(f) if f.kind == Kind::Npz => "NumPy .npz",
            Some(_) => "Parquet",
            None => self.format.name(),
        }
    }

    /// Buffers one item line (written by [`OutputWriter::flush`]).
    pub fn line(
        &mut self,
        index: usize,
        item_sha: u64,
        id: Option<&str>,
        result: Option<&RawResult>,
        error: Option<&ItemError>,
    ) -> Result<(), Error> {
        let line = Line {
            index,
            item_sha,
            id,
            result: result.map(RawResult::get),
            error,
        };
        match self.direct() {
            Some(d) => d.line(&line),
            None => self.format.line(&line),
        }
    }

    fn direct(&mut self) -> Option<&mut Direct> {
        self.finalize.as_mut().and_then(|f| f.direct.as_mut())
    }

    /// Bytes buffered and not yet written.
    pub fn pending(&self) -> usize {
        let direct = self.finalize.as_ref().and_then(|f| f.direct.as_ref());
        self.format.pending() + direct.map_or(0, Direct::pending)
    }

    /// Writes what is buffered.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.format.flush().map_err(io_err(&self.path))?;
        let journal = self.file.as_ref();
        let direct = self.finalize.as_mut().and_then(|f| f.direct.as_mut());
        if let (Some(d), Some(mut journal)) = (direct, journal) {
            // The journal lines of the rows checkpointed (after what the
            // journal's own format wrote: the two handles share the offset).
            d.flush(&mut journal, &self.path)?;
        }
        Ok(())
    }

    /// Flushes and ends the output (a gzip trailer); the lock is released when
    /// the writer is dropped.
    pub fn finish(&mut self) -> Result<(), Error> {
        self.format.finish().map_err(io_err(&self.path))?;
        if let Some(f) = self.finalize.take() {
            if let Some(d) = f.direct {
                d.finish(&f.target)?;
            } else if f.kind == Kind::NpyDir {
                npy::write_dir(&self.path, &f.target)?;
            } else if f.kind == Kind::Npz {
                npz::write_file(&self.path, &f.target)?;
            } else {
                convert::convert(&self.path, &f.target, f.kind, f.response_schema.as_ref())?;
            }
            std::fs::remove_file(&self.path).map_err(io_err(&self.path))?;
        }
        Ok(())
    }

    /// Writes what is buffered and leaves the output to be resumed by a later
    /// run of the same job (an interrupted run): a journaled output (Parquet,
    /// `.npz`, npy) is not finished, and a Parquet file's rows are all
    /// checkpointed with their journal lines. Any other output is finished
    /// ([`OutputWriter::finish`]): a JSONL file resumes as it is, a gzip
    /// stream needs its trailer.
    pub fn suspend(&mut self) -> Result<(), Error> {
        if self.finalize.is_none() {
            return self.finish();
        }
        self.flush()?;
        let journal = self.file.as_ref();
        let direct = self.finalize.as_mut().and_then(|f| f.direct.as_mut());
        if let (Some(d), Some(mut journal)) = (direct, journal) {
            d.checkpoint(&mut journal, &self.path)?;
        }
        Ok(())
    }

    /// Refuses to resume because input item `index` (or its id) differs from
    /// its line in the file: abandons this run's lines ([`OutputWriter::abandon`])
    /// and returns the error naming the item and the file line.
    pub fn refuse_item(&mut self, index: usize) -> Error {
        self.refuse(jsonl::item_mismatch_message(&self.path, index as u64))
    }

    /// Refuses to resume for `message` (which item or line is at odds):
    /// abandons this run's lines and returns [`Error::ResumeItemMismatch`].
    pub fn refuse(&mut self, message: String) -> Error {
        if let Err(e) = self.abandon() {
            return e;
        }
        Error::ResumeItemMismatch {
            path: self.path.clone(),
            message,
        }
    }

    /// Drops what is buffered and cuts a resumable file back to what it held
    /// before this run (a refused resume leaves the file as it was).
    pub fn abandon(&mut self) -> Result<(), Error> {
        self.format.discard();
        if let Some(d) = self.finalize.as_mut().and_then(|f| f.direct.take()) {
            // Its checkpointed rows stay: the next run keeps those the
            // journal (cut back below) names.
            d.abandon();
        }
        if let Some(f) = &self.file {
            if self.format.resumable() {
                f.set_len(self.start_len).map_err(io_err(&self.path))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
#[cfg(all(test, feature = "parquet"))]
mod tests_journal;
