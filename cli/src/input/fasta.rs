//! FASTA: `>header` lines followed by sequence lines.

use serde_json::{Map, Value};

use super::{InputError, LineReader, Record};

/// Reads FASTA records. The id is the header's first word; sequence lines are
/// joined with whitespace removed; `;` comment lines and blank lines are skipped.
pub struct FastaReader {
    lines: LineReader,
    field: String,
    /// The header of the record being read and its line.
    pending: Option<(String, u64)>,
    done: bool,
}

impl FastaReader {
    /// Reads `lines`, putting each sequence into item field `field`.
    pub fn new(lines: LineReader, field: String) -> FastaReader {
        FastaReader {
            lines,
            field,
            pending: None,
            done: false,
        }
    }

    fn next_record(&mut self) -> Result<Option<Record>, InputError> {
        // Find the first header.
        if self.pending.is_none() {
            loop {
                let Some((line, text)) = self.lines.next_line()? else {
                    return Ok(None);
                };
                let t = text.trim();
                if t.is_empty() || t.starts_with(';') {
                    continue;
                }
                if let Some(h) = t.strip_prefix('>') {
                    self.pending = Some((h.trim().to_string(), line));
                    break;
                }
                return Err(InputError::at(
                    self.lines.name(),
                    line,
                    "sequence data before the first '>' header; is this a FASTA file?",
                ));
            }
        }
        let Some((header, start)) = self.pending.take() else {
            return Ok(None);
        };
        let mut seq = String::new();
        let mut seq_lines = Vec::new();
        let mut chars = 0usize;
        while let Some((line, text)) = self.lines.next_line()? {
            let t = text.trim();
            if let Some(h) = t.strip_prefix('>') {
                self.pending = Some((h.trim().to_string(), line));
                break;
            }
            if t.is_empty() || t.starts_with(';') {
                continue;
            }
            seq_lines.push((chars, line));
            if t.bytes().all(|b| b.is_ascii_graphic()) {
                // The common case: one run of ASCII letters.
                seq.push_str(t);
                chars += t.len();
            } else {
                for c in t.chars().filter(|c| !c.is_whitespace()) {
                    seq.push(c);
                    chars += 1;
                }
            }
        }
        let id = header.split_whitespace().next().map(str::to_string);
        if id.is_none() {
            return Err(InputError::at(
                self.lines.name(),
                start,
                "empty FASTA header; write a name after '>'",
            ));
        }
        if seq.is_empty() {
            return Err(InputError::at(
                self.lines.name(),
                start,
                format!("FASTA record '{}' has no sequence", header),
            ));
        }
        let mut item = Map::with_capacity(1);
        item.insert(self.field.clone(), Value::String(seq));
        Ok(Some(Record {
            line: start,
            id,
            item: Value::Object(item),
            seq_lines,
        }))
    }
}

impl Iterator for FastaReader {
    type Item = Result<Record, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.next_record();
        super::fuse(&mut self.done, next)
    }
}
