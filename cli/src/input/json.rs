//! JSON inputs: JSONL (one item object per line) and a JSON array of item objects,
//! read one element at a time.

use serde_json::Value;

use super::{take_id, InputError, LineReader, Mapping, Record};

fn to_record(
    lines: &LineReader,
    line: u64,
    text: &str,
    mapping: &Mapping,
    what: &str,
) -> Result<Record, InputError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let at = line + e.line().saturating_sub(1) as u64;
        InputError::at(lines.name(), at, format!("{what} is not valid JSON: {e}"))
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
            lines.name(),
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
            let r = to_record(&self.lines, line, &text, &self.mapping, "the line");
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
    /// Between elements (after `[` or `,`).
    Between,
    /// After an element, expecting `,` or `]`.
    After,
    /// After the closing `]`.
    End,
}

/// A JSON array of item objects, scanned element by element (the whole array is
/// never held in memory).
pub struct JsonArrayReader {
    lines: LineReader,
    mapping: Mapping,
    state: State,
    /// The current line; `rest[pos..]` is unread.
    rest: String,
    /// Read position in `rest`.
    pos: usize,
    /// The current line's number.
    line: u64,
    failed: bool,
}

impl JsonArrayReader {
    /// Reads a JSON array from `lines`.
    pub fn new(lines: LineReader, mapping: &Mapping) -> JsonArrayReader {
        JsonArrayReader {
            lines,
            mapping: mapping.clone(),
            state: State::Start,
            rest: String::new(),
            pos: 0,
            line: 0,
            failed: false,
        }
    }

    /// Makes sure `rest` holds unread text; false at the end of the input.
    fn fill(&mut self) -> Result<bool, InputError> {
        loop {
            let unread = &self.rest[self.pos..];
            let trimmed = unread.trim_start();
            self.pos += unread.len() - trimmed.len();
            if !trimmed.is_empty() {
                return Ok(true);
            }
            match self.lines.next_line()? {
                Some((line, text)) => {
                    self.line = line;
                    self.rest.clear();
                    self.rest.push_str(text);
                    self.pos = 0;
                }
                None => return Ok(false),
            }
        }
    }

    fn err(&self, message: impl Into<String>) -> InputError {
        InputError::at(self.lines.name(), self.line.max(1), message)
    }

    fn next_record(&mut self) -> Result<Option<Record>, InputError> {
        loop {
            if !self.fill()? {
                return match self.state {
                    State::End => Ok(None),
                    State::Start => Err(InputError::file(
                        self.lines.name(),
                        "the file is empty; expected a JSON array of items",
                    )),
                    _ => Err(self.err("the JSON array is not closed (missing ']')")),
                };
            }
            let first = self.rest[self.pos..].chars().next().unwrap_or(' ');
            match (self.state, first) {
                (State::Start, '[') => {
                    self.pos += 1;
                    self.state = State::Between;
                }
                (State::Start, _) => {
                    return Err(self.err("expected a JSON array of items ('[' first); for one item per line use JSONL (.jsonl)"))
                }
                (State::Between, ']') | (State::After, ']') => {
                    self.pos += 1;
                    self.state = State::End;
                }
                (State::After, ',') => {
                    self.pos += 1;
                    self.state = State::Between;
                }
                (State::After, c) => return Err(self.err(format!("expected ',' or ']' after an item, found '{c}'"))),
                (State::End, c) => return Err(self.err(format!("unexpected '{c}' after the end of the JSON array"))),
                (State::Between, _) => {
                    let (line, text) = self.take_element()?;
                    self.state = State::After;
                    return to_record(&self.lines, line, &text, &self.mapping, "the array element").map(Some);
                }
            }
        }
    }

    /// Takes the text of one element starting at `rest`, reading more lines as needed.
    fn take_element(&mut self) -> Result<(u64, String), InputError> {
        let start = self.line;
        let mut out = String::new();
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let mut end = None;
            for (i, c) in self.rest[self.pos..].char_indices() {
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        in_string = false;
                    }
                    continue;
                }
                match c {
                    '"' => in_string = true,
                    '{' | '[' => depth += 1,
                    '}' | ']' if depth > 0 => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    ',' | ']' if depth == 0 => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            match end {
                Some(i) => {
                    out.push_str(&self.rest[self.pos..self.pos + i]);
                    self.pos += i;
                    return Ok((start, out));
                }
                None => {
                    out.push_str(&self.rest[self.pos..]);
                    out.push('\n');
                    match self.lines.next_line()? {
                        Some((line, text)) => {
                            self.line = line;
                            self.rest.clear();
                            self.rest.push_str(text);
                            self.pos = 0;
                        }
                        None => {
                            return Err(InputError::at(
                                self.lines.name(),
                                start,
                                "the array element starting on this line is not closed before the end of the file",
                            ))
                        }
                    }
                }
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
