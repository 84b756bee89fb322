//! Opening an input (file or stdin, plain or gzip) and reading it line by line
//! with line numbers and UTF-8 checks.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use super::InputError;

/// Capacity of the read buffers (bytes).
const BUF: usize = 256 * 1024;

/// An opened input: a display name (the path, or `<stdin>`) and a buffered reader
/// that already undoes gzip compression when the data starts with the gzip magic.
pub struct Source {
    /// How errors name this input: the path as given, or `<stdin>`.
    pub name: Arc<str>,
    /// The decompressed byte stream.
    pub reader: Box<dyn BufRead + Send>,
}

impl Source {
    /// Opens `path` (`-` means standard input). Gzip is detected from the first
    /// two bytes (`1f 8b`), whatever the file is called.
    pub fn open(path: &Path) -> Result<Source, InputError> {
        if path.as_os_str() == "-" {
            let name: Arc<str> = Arc::from("<stdin>");
            let reader = BufReader::with_capacity(BUF, io::stdin());
            return Source::from_reader(name, reader);
        }
        let name: Arc<str> = Arc::from(path.display().to_string());
        let file = File::open(path)
            .map_err(|e| InputError::file(&name, format!("cannot open the input file: {e}")))?;
        Source::from_reader(name, BufReader::with_capacity(BUF, file))
    }

    /// Wraps an already open reader, detecting gzip.
    pub fn from_reader<R: BufRead + Send + 'static>(
        name: Arc<str>,
        mut reader: R,
    ) -> Result<Source, InputError> {
        let head = reader
            .fill_buf()
            .map_err(|e| InputError::file(&name, format!("cannot read the input: {e}")))?;
        let gz = head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b;
        let reader: Box<dyn BufRead + Send> = if gz {
            Box::new(BufReader::with_capacity(BUF, MultiGzDecoder::new(reader)))
        } else {
            Box::new(reader)
        };
        Ok(Source { name, reader })
    }

    /// The first non-whitespace byte of the (decompressed) data, without consuming
    /// anything; `None` for empty input.
    pub fn peek_first_byte(&mut self) -> Result<Option<u8>, InputError> {
        loop {
            let buf = self
                .reader
                .fill_buf()
                .map_err(|e| InputError::file(&self.name, format!("cannot read the input: {e}")))?;
            if buf.is_empty() {
                return Ok(None);
            }
            // Skip a UTF-8 byte order mark and leading whitespace.
            let mut skip = 0;
            if buf.starts_with(&[0xef, 0xbb, 0xbf]) {
                skip = 3;
            }
            match buf[skip..].iter().position(|b| !b.is_ascii_whitespace()) {
                Some(p) => return Ok(Some(buf[skip + p])),
                None => {
                    // Whitespace only in this buffer: it is safe to drop it.
                    let n = buf.len();
                    self.reader.consume(n);
                }
            }
        }
    }
}

/// Reads a [`Source`] one line at a time, counting lines from 1, stripping the line
/// end (`\n` or `\r\n`) and a leading byte order mark, and refusing bytes that are
/// not UTF-8 with the line and column.
pub struct LineReader {
    name: Arc<str>,
    reader: Box<dyn BufRead + Send>,
    buf: Vec<u8>,
    line: u64,
}

impl LineReader {
    /// Starts reading `source` at line 1.
    pub fn new(source: Source) -> LineReader {
        LineReader {
            name: source.name,
            reader: source.reader,
            buf: Vec::with_capacity(256),
            line: 0,
        }
    }

    /// The input's display name.
    pub fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// The number of the line last returned (0 before the first).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The next line and its number, or `None` at the end of the input.
    pub fn next_line(&mut self) -> Result<Option<(u64, &str)>, InputError> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| self.io_error(e))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        }
        let mut start = 0;
        if self.line == 1 && self.buf.starts_with(&[0xef, 0xbb, 0xbf]) {
            start = 3;
        }
        match std::str::from_utf8(&self.buf[start..]) {
            Ok(s) => Ok(Some((self.line, s))),
            Err(e) => {
                let at = e.valid_up_to();
                let byte = self.buf.get(start + at).copied().unwrap_or_default();
                let column = std::str::from_utf8(&self.buf[start..start + at])
                    .map(|s| s.chars().count() + 1)
                    .unwrap_or(at + 1);
                Err(InputError::at(
                    &self.name,
                    self.line,
                    format!(
                        "not valid UTF-8 (byte 0x{byte:02x} at column {column}); save the file as UTF-8"
                    ),
                ))
            }
        }
    }

    fn io_error(&self, e: io::Error) -> InputError {
        let what = if matches!(
            e.kind(),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
        ) {
            "the gzip data is corrupt or truncated"
        } else {
            "cannot read the input"
        };
        InputError::at(&self.name, self.line + 1, format!("{what}: {e}"))
    }
}
