//! JSON inputs: JSONL (one item object per line) and a JSON array of item objects,
//! read one element at a time.

use std::io::BufRead;
use std::sync::Arc;

use serde_json::Value;

use super::{take_id, InputError, LineReader, Mapping, Record, Source};

fn to_record(
    name: &Arc<str>,
    line: u64,
    text: &str,
    mapping: &Mapping,
    what: &str,
) -> Result<Record, InputError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let at = line + e.line().saturating_sub(1) as u64;
        InputError::at(name, at, format!("{what} is not valid JSON: {e}"))
    })?;
    match value {
        Value::Object(mut map) => {
            let id = take_id(&mut map, mapping);
            Ok(Record {
                line,
                id,
                item: Value::Object(map),
                seq_lines: Vec::new(),
            })
        }
        other => Err(InputError::at(
            name,
            line,
            format!(
                "{what} is {}, expected an object with the item's fields",
                kind(&other)
            ),
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One item object per line; blank lines are skipped.
pub struct JsonlReader {
    lines: LineReader,
    mapping: Mapping,
    done: bool,
}

impl JsonlReader {
    /// Reads JSONL from `lines`.
    pub fn new(lines: LineReader, mapping: &Mapping) -> JsonlReader {
        JsonlReader {
            lines,
            mapping: mapping.clone(),
            done: false,
        }
    }
}

impl Iterator for JsonlReader {
    type Item = Result<Record, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            let (line, text) = match self.lines.next_line() {
                Ok(Some((line, text))) => (line, text.to_string()),
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            if text.trim().is_empty() {
                continue;
            }
            let r = to_record(self.lines.name(), line, &text, &self.mapping, "the line");
            if r.is_err() {
                self.done = true;
            }
            return Some(r);
        }
    }
}

/// Where the array scanner is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the opening `[`.
    Start,
    /// After `[`, expecting an element or `]`.
    Between,
    /// After `,`, expecting an element (JSON allows no trailing comma).
    AfterComma,
    /// After an element, expecting `,` or `]`.
    After,
    /// After the closing `]`.
    End,
}

/// A JSON array of item objects, scanned byte by byte and parsed one element at
/// a time: neither the array nor a line is ever held whole, so a minified
/// one-line array of a million items streams like JSONL.
pub struct JsonArrayReader {
    name: Arc<str>,
    reader: Box<dyn BufRead + Send>,
    mapping: Mapping,
    state: State,
    /// The current line (1-based).
    line: u64,
    /// The line of the last token seen (errors at the end of the file name it).
    token_line: u64,
    /// Whether a leading byte order mark may still be skipped.
    at_start: bool,
    failed: bool,
}

impl JsonArrayReader {
    /// Reads a JSON array from `source`.
    pub fn new(source: Source, mapping: &Mapping) -> JsonArrayReader {
        JsonArrayReader {
            name: source.name,
            reader: source.reader,
            mapping: mapping.clone(),
            state: State::Start,
            line: 1,
            token_line: 1,
            at_start: true,
            failed: false,
        }
    }

    fn err(&self, message: impl Into<String>) -> InputError {
        InputError::at(&self.name, self.line, message)
    }

    fn io(&self, e: std::io::Error) -> InputError {
        self.err(format!("cannot read the input: {e}"))
    }

    /// The next byte that is not whitespace, left unconsumed; `None` at the end.
    fn peek_token(&mut self) -> Result<Option<u8>, InputError> {
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) => return Err(self.io(e)),
            };
            if buf.is_empty() {
                return Ok(None);
            }
            let mut skip = 0;
            if self.at_start {
                self.at_start = false;
                if buf.starts_with(&[0xef, 0xbb, 0xbf]) {
                    skip = 3;
                }
            }
            let mut newlines = 0;
            let mut found = None;
            for (i, &b) in buf.iter().enumerate().skip(skip) {
                if b == b'\n' {
                    newlines += 1;
                } else if !b.is_ascii_whitespace() {
                    found = Some((i, b));
                    break;
                }
            }
            self.line += newlines;
            match found {
                Some((i, b)) => {
                    self.reader.consume(i);
                    self.token_line = self.line;
                    return Ok(Some(b));
                }
                None => {
                    let n = buf.len();
                    self.reader.consume(n);
                }
            }
        }
    }

    fn next_record(&mut self) -> Result<Option<Record>, InputError> {
        loop {
            let Some(b) = self.peek_token()? else {
                return match self.state {
                    State::End => Ok(None),
                    State::Start => Err(InputError::file(
                        &self.name,
                        "the file is empty; expected a JSON array of items",
                    )),
                    _ => Err(InputError::at(
                        &self.name,
                        self.token_line,
                        "the JSON array is not closed (missing ']')",
                    )),
                };
            };
            match (self.state, b) {
                (State::Start, b'[') => {
                    self.reader.consume(1);
                    self.state = State::Between;
                }
                (State::Start, _) => {
                    return Err(self.err(
                        "expected a JSON array of items ('[' first); for one item per line use JSONL (.jsonl)",
                    ))
                }
                (State::Between, b']') | (State::After, b']') => {
                    self.reader.consume(1);
                    self.state = State::End;
                }
                (State::After, b',') => {
                    self.reader.consume(1);
                    self.state = State::AfterComma;
                }
                (State::AfterComma, b']') => {
                    return Err(self.err(
                        "a ',' before the closing ']' (JSON allows no trailing comma); remove it",
                    ))
                }
                (State::After, c) => {
                    return Err(self.err(format!(
                        "expected ',' or ']' after an item, found '{}'",
                        char::from(c)
                    )))
                }
                (State::End, c) => {
                    return Err(self.err(format!(
                        "unexpected '{}' after the end of the JSON array",
                        char::from(c)
                    )))
                }
                (State::Between | State::AfterComma, _) => {
                    let line = self.line;
                    let bytes = self.take_element()?;
                    self.state = State::After;
                    let text = std::str::from_utf8(&bytes).map_err(|e| {
                        let before = bytes.get(..e.valid_up_to()).unwrap_or_default();
                        let nl = before.iter().filter(|&&b| b == b'\n').count() as u64;
                        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
                        let column = std::str::from_utf8(before.get(line_start..).unwrap_or_default())
                            .map(|s| s.chars().count() + 1)
                            .unwrap_or(1);
                        let byte = bytes.get(e.valid_up_to()).copied().unwrap_or_default();
                        InputError::at(
                            &self.name,
                            line + nl,
                            format!("not valid UTF-8 (byte 0x{byte:02x} at column {column}); save the file as UTF-8"),
                        )
                    })?;
                    return to_record(&self.name, line, text, &self.mapping, "the array element").map(Some);
                }
            }
        }
    }

    /// Takes the bytes of one element (the reader is at its first byte).
    fn take_element(&mut self) -> Result<Vec<u8>, InputError> {
        let start = self.line;
        let mut out = Vec::new();
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) => return Err(self.io(e)),
            };
            if buf.is_empty() {
                return Err(InputError::at(
                    &self.name,
                    start,
                    "the array element starting on this line is not closed before the end of the file",
                ));
            }
            let mut end = None;
            let mut newlines = 0;
            for (i, &b) in buf.iter().enumerate() {
                if b == b'\n' {
                    newlines += 1;
                }
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' if depth > 0 => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    b',' | b']' if depth == 0 => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let n = end.unwrap_or(buf.len());
            out.extend_from_slice(buf.get(..n).unwrap_or_default());
            self.reader.consume(n);
            self.line += newlines;
            if end.is_some() {
                return Ok(out);
            }
        }
    }
}

impl Iterator for JsonArrayReader {
    type Item = Result<Record, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.next_record() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => {
                self.failed = true;
                None
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}
