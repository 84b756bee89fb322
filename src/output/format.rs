//! The formats an [`OutputWriter`](super::OutputWriter) writes, behind one
//! trait: JSONL now, gzip-compressed JSONL, and any later record format
//! (Parquet, ...) that can take the same lines.

use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use serde_json::value::RawValue;

use crate::outcome::ItemError;
use crate::Error;

/// One item's line of output: its input index, item hash, id and outcome.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// The item's index in the whole input.
    pub index: usize,
    /// The item's hash ([`crate::jsonl::item_sha`]).
    pub item_sha: u64,
    /// The caller's id of the item.
    pub id: Option<&'a str>,
    /// The server's result, as it wrote it: well-formed JSON text (formats
    /// write it as it is; [`OutputFormat::line_json`] takes text not checked).
    pub result: Option<&'a str>,
    /// Why the item failed.
    pub error: Option<&'a ItemError>,
}

/// A format of output files: how the header and the item lines are encoded
/// onto the byte stream of the destination.
///
/// Lines are buffered by the format and reach the destination on
/// [`OutputFormat::flush`]; [`OutputFormat::finish`] ends the stream (a gzip
/// trailer, a Parquet footer).
pub trait OutputFormat: Send {
    /// A short name for messages (`"JSONL"`, `"gzip JSONL"`).
    fn name(&self) -> &'static str;
    /// Whether an existing output of this format can be resumed (appended to
    /// after a scan of what it holds).
    fn resumable(&self) -> bool;
    /// Writes the header line of a new output (`header` ends with a newline).
    fn header(&mut self, header: &[u8]) -> std::io::Result<()>;
    /// Buffers one item line.
    fn line(&mut self, line: &Line<'_>) -> Result<(), Error>;
    /// Buffers one item line whose result is JSON text not checked yet
    /// (`line.result` is ignored). On an error nothing was buffered. Formats
    /// that decode the result check it as they decode it; by default it is
    /// checked first.
    fn line_json(&mut self, line: &Line<'_>, result_json: &str) -> Result<(), Error> {
        let raw: &RawValue =
            serde_json::from_str(result_json).map_err(|source| Error::Serialize {
                what: format!("the result of items[{}]", line.index),
                source,
            })?;
        self.line(&Line {
            result: Some(raw.get()),
            ..*line
        })
    }
    /// Bytes buffered and not yet written.
    fn pending(&self) -> usize;
    /// Writes what is buffered to the destination and flushes it.
    fn flush(&mut self) -> std::io::Result<()>;
    /// Drops what is buffered, unwritten.
    fn discard(&mut self);
    /// Flushes and ends the stream (after this, nothing more is written).
    fn finish(&mut self) -> std::io::Result<()>;
}

/// The format a path asks for: gzip-compressed JSONL for a name ending in
/// `.gz`, else JSONL (see [`Kind::from_path`] and [`build`] for the others).
pub fn for_path(path: &Path, out: Box<dyn Write + Send>) -> Box<dyn OutputFormat> {
    if Kind::from_path(path) == Kind::GzipJsonl {
        Box::new(GzipJsonl::new(out))
    } else {
        Box::new(Jsonl::new(out))
    }
}

/// The kinds of output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// JSON lines (resumable).
    Jsonl,
    /// Gzip-compressed JSON lines (`.gz`; written in one run).
    GzipJsonl,
    /// Apache Parquet (`.parquet`; the `parquet` cargo feature).
    Parquet,
    /// A directory of NumPy `.npy` arrays for embedding actions
    /// ([`npy`](super::npy); `--output-format npy`), written at the end of
    /// the run from its JSONL journal.
    NpyDir,
    /// NumPy's `.npz` (a zip of the same `.npy` arrays; [`npz`](super::npz)),
    /// written at the end of the run from its JSONL journal.
    Npz,
}

impl Kind {
    /// The kind a file name asks for: `.parquet`/`.pq` Parquet, `.npz`
    /// NumPy arrays, `.gz` gzip JSONL, anything else JSONL.
    pub fn from_path(path: &Path) -> Kind {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if name.ends_with(".parquet") || name.ends_with(".pq") {
            Kind::Parquet
        } else if name.ends_with(".npz") {
            Kind::Npz
        } else if name.ends_with(".gz") {
            Kind::GzipJsonl
        } else {
            Kind::Jsonl
        }
    }

    /// The kind called `name` (`jsonl`, `jsonl.gz`, `parquet`), as
    /// `--output-format` takes it.
    pub fn from_name(name: &str) -> Option<Kind> {
        match name.to_ascii_lowercase().as_str() {
            "jsonl" => Some(Kind::Jsonl),
            "jsonl.gz" | "gz" | "gzip" => Some(Kind::GzipJsonl),
            "parquet" => Some(Kind::Parquet),
            "npy" => Some(Kind::NpyDir),
            "npz" => Some(Kind::Npz),
            _ => None,
        }
    }

    /// Whether an existing output of this kind is resumed (else it must be
    /// empty).
    pub fn resumable(self) -> bool {
        self == Kind::Jsonl
    }
}

/// The format of `kind` onto `out`; `response_schema` (the action's response
/// JSON Schema) types the columns of the columnar formats.
pub fn build(
    kind: Kind,
    out: Box<dyn Write + Send>,
    response_schema: Option<&serde_json::Value>,
) -> Result<Box<dyn OutputFormat>, String> {
    match kind {
        Kind::Jsonl => Ok(Box::new(Jsonl::new(out))),
        Kind::GzipJsonl => Ok(Box::new(GzipJsonl::new(out))),
        #[cfg(feature = "parquet")]
        Kind::Parquet => {
            let shape = response_schema
                .map(super::columns::Shape::of_result)
                .unwrap_or(super::columns::Shape::Json);
            Ok(Box::new(super::parquet::Parquet::new(out, shape)))
        }
        Kind::NpyDir => Err("a directory of .npy arrays is written at the end of a run, from its JSONL journal; write it to a directory path, not a stream".into()),
        Kind::Npz => Err(".npz arrays are written at the end of a run, from its JSONL journal; write them to a regular file, not a stream".into()),
        #[cfg(not(feature = "parquet"))]
        Kind::Parquet => {
            let _ = response_schema;
            Err("this build of biolm cannot write Parquet: enable the `parquet` cargo feature (the `biolm` command line has it)".into())
        }
    }
}

/// Plain JSONL: the header line, then one line per item.
pub struct Jsonl {
    out: Box<dyn Write + Send>,
    buf: Vec<u8>,
}

impl Jsonl {
    /// JSONL onto `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Jsonl {
        Jsonl {
            out,
            buf: Vec::with_capacity(1 << 16),
        }
    }
}

impl OutputFormat for Jsonl {
    fn name(&self) -> &'static str {
        "JSONL"
    }
    fn resumable(&self) -> bool {
        true
    }
    fn header(&mut self, header: &[u8]) -> std::io::Result<()> {
        self.out.write_all(header)?;
        self.out.flush()
    }
    fn line(&mut self, l: &Line<'_>) -> Result<(), Error> {
        crate::jsonl::write_line_text(&mut self.buf, l.index, l.item_sha, l.id, l.result, l.error)
    }
    fn pending(&self) -> usize {
        self.buf.len()
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let r = self.out.write_all(&self.buf);
            self.buf.clear();
            r?;
        }
        self.out.flush()
    }
    fn discard(&mut self) {
        self.buf.clear();
    }
    fn finish(&mut self) -> std::io::Result<()> {
        self.flush()
    }
}

/// Gzip-compressed JSONL (`out.jsonl.gz`): readable with `zcat`; not resumed
/// (an existing non-empty file is refused, left as it was).
pub struct GzipJsonl {
    enc: Option<GzEncoder<Box<dyn Write + Send>>>,
    buf: Vec<u8>,
}

impl GzipJsonl {
    /// Gzip JSONL onto `out`.
    pub fn new(out: Box<dyn Write + Send>) -> GzipJsonl {
        GzipJsonl {
            enc: Some(GzEncoder::new(out, flate2::Compression::default())),
            buf: Vec::with_capacity(1 << 16),
        }
    }

    fn enc(&mut self) -> std::io::Result<&mut GzEncoder<Box<dyn Write + Send>>> {
        self.enc.as_mut().ok_or_else(|| {
            std::io::Error::other("the gzip stream was already finished; nothing more is written")
        })
    }
}

impl OutputFormat for GzipJsonl {
    fn name(&self) -> &'static str {
        "gzip JSONL"
    }
    fn resumable(&self) -> bool {
        false
    }
    fn header(&mut self, header: &[u8]) -> std::io::Result<()> {
        self.enc()?.write_all(header)
    }
    fn line(&mut self, l: &Line<'_>) -> Result<(), Error> {
        crate::jsonl::write_line_text(&mut self.buf, l.index, l.item_sha, l.id, l.result, l.error)
    }
    fn pending(&self) -> usize {
        self.buf.len()
    }
    fn flush(&mut self) -> std::io::Result<()> {
        let buf = std::mem::take(&mut self.buf);
        let enc = self.enc()?;
        let r = enc.write_all(&buf).and_then(|()| enc.flush());
        self.buf = buf;
        self.buf.clear();
        r
    }
    fn discard(&mut self) {
        self.buf.clear();
    }
    fn finish(&mut self) -> std::io::Result<()> {
        self.flush()?;
        match self.enc.take() {
            Some(enc) => enc.finish()?.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::tests::Shared;
    use std::io::Read;

    #[test]
    fn gzip_path_writes_gzip_that_decodes_to_the_jsonl_lines() {
        let line = Line {
            index: 3,
            item_sha: 0xab,
            id: Some("x"),
            result: Some("[1.50]"),
            error: None,
        };
        let (plain, gz) = (Shared::default(), Shared::default());
        let mut p = for_path(Path::new("o.jsonl"), Box::new(plain.clone()));
        let mut g = for_path(Path::new("o.JSONL.GZ"), Box::new(gz.clone()));
        assert!(p.resumable() && !g.resumable());
        for f in [&mut p, &mut g] {
            f.header(b"{\"h\":1}\n").unwrap();
            f.line(&line).unwrap();
            f.finish().unwrap();
        }
        let plain = plain.0.lock().unwrap().clone();
        let gz = gz.0.lock().unwrap().clone();
        assert_eq!(&gz[..2], &[0x1f, 0x8b]);
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut text)
            .unwrap();
        assert_eq!(text, plain);
        assert_eq!(
            String::from_utf8(plain).unwrap(),
            "{\"h\":1}\n{\"index\":3,\"item_sha\":\"00000000000000ab\",\"id\":\"x\",\"result\":[1.50]}\n"
        );
    }
}
