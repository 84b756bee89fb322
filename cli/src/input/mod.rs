//! Input readers: FASTA, CSV/TSV, JSON (an array of items) and JSONL, plain or
//! gzip-compressed, from a file or standard input.
//!
//! Every reader is lazy: it yields one [`Record`] at a time, so memory does not
//! grow with the input. Every error names the input and the line
//! (`proteins.fasta:12: ...`).

mod csv;
mod fasta;
mod json;
mod source;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

pub use source::{LineReader, Source};

use crate::schema::Field;

/// A problem with the input data, naming the input and, where known, the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InputError {
    /// The input's display name (a path, or `<stdin>`).
    pub file: Arc<str>,
    /// The 1-based line the problem is on, when it is on one line.
    pub line: Option<u64>,
    /// What is wrong and what to do.
    pub message: String,
}

impl InputError {
    /// An error at `line` of `file`.
    pub fn at(file: &Arc<str>, line: u64, message: impl Into<String>) -> InputError {
        InputError {
            file: file.clone(),
            line: Some(line),
            message: message.into(),
        }
    }

    /// An error about the whole of `file`.
    pub fn file(file: &Arc<str>, message: impl Into<String>) -> InputError {
        InputError {
            file: file.clone(),
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// The format of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// FASTA records; each sequence fills the action's sequence field.
    Fasta,
    /// Comma-separated values with a header row naming item fields.
    Csv,
    /// Tab-separated values with a header row naming item fields.
    Tsv,
    /// One JSON array of item objects.
    Json,
    /// One item object per line.
    Jsonl,
}

impl InputFormat {
    /// The format a file name implies (`.fa .fasta .faa .fna .fas`, `.csv`, `.tsv`,
    /// `.json`, `.jsonl .ndjson`, each optionally followed by `.gz`).
    pub fn from_path(path: &Path) -> Option<InputFormat> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let ext = name.rsplit_once('.')?.1;
        Some(match ext {
            "fa" | "fasta" | "faa" | "fna" | "fas" => InputFormat::Fasta,
            "csv" => InputFormat::Csv,
            "tsv" => InputFormat::Tsv,
            "json" => InputFormat::Json,
            "jsonl" | "ndjson" => InputFormat::Jsonl,
            _ => return None,
        })
    }

    /// The format the first non-blank byte suggests (`>` FASTA, `[` JSON, `{` JSONL).
    pub fn sniff(first: u8) -> Option<InputFormat> {
        match first {
            b'>' => Some(InputFormat::Fasta),
            b'[' => Some(InputFormat::Json),
            b'{' => Some(InputFormat::Jsonl),
            _ => None,
        }
    }
}

/// One input item with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The line the record starts on (FASTA header, CSV row, JSONL line, first line of
    /// a JSON array element).
    pub line: u64,
    /// The item's id: FASTA header (first word), CSV id column, or the JSON id key.
    pub id: Option<String>,
    /// The request item (a JSON object).
    pub item: Value,
    /// FASTA only: `(offset in the sequence, line)` for each sequence line, so a
    /// position in the sequence can be mapped back to its line.
    pub seq_lines: Vec<(usize, u64)>,
}

impl Record {
    /// The line holding character `position` (0-based) of a FASTA sequence, or the
    /// record's first line.
    pub fn line_of_position(&self, position: usize) -> u64 {
        self.seq_lines
            .iter()
            .take_while(|(offset, _)| *offset <= position)
            .last()
            .map(|(_, line)| *line)
            .unwrap_or(self.line)
    }
}

/// How the readers turn data into items.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The item fields of the action (for CSV column checks and typing).
    pub fields: Vec<Field>,
    /// FASTA: the field the sequence goes into.
    pub sequence_field: Option<String>,
    /// CSV: the id column; JSON/JSONL: the key holding the id. `None` means the
    /// default (`id`, when present and not an item field).
    pub id_column: Option<String>,
}

/// A lazy reader of records.
pub type Records = Box<dyn Iterator<Item = Result<Record, InputError>> + Send>;

/// One step of a record reader that stops for good at the end of its input or
/// at its first error (a malformed file is not read past the bad record).
fn fuse(
    done: &mut bool,
    next: Result<Option<Record>, InputError>,
) -> Option<Result<Record, InputError>> {
    match next {
        Ok(Some(r)) => Some(Ok(r)),
        Ok(None) => {
            *done = true;
            None
        }
        Err(e) => {
            *done = true;
            Some(Err(e))
        }
    }
}

/// Opens `source` as `format` and returns its records, one at a time.
pub fn read(source: Source, format: InputFormat, mapping: &Mapping) -> Result<Records, InputError> {
    Ok(match format {
        InputFormat::Fasta => {
            let field = mapping.sequence_field.clone().ok_or_else(|| {
                InputError::file(
                    &source.name,
                    "no item field to put FASTA sequences in; use --field NAME",
                )
            })?;
            Box::new(fasta::FastaReader::new(LineReader::new(source), field))
        }
        InputFormat::Csv => Box::new(csv::CsvReader::new(LineReader::new(source), b',', mapping)?),
        InputFormat::Tsv => Box::new(csv::CsvReader::new(
            LineReader::new(source),
            b'\t',
            mapping,
        )?),
        InputFormat::Jsonl => Box::new(json::JsonlReader::new(LineReader::new(source), mapping)),
        InputFormat::Json => Box::new(json::JsonArrayReader::new(source, mapping)),
    })
}

/// Takes the id out of a JSON item: the `id_key` (default `id`) when it is not an
/// item field; strings are kept, numbers are turned into text.
fn take_id(item: &mut Map<String, Value>, mapping: &Mapping) -> Option<String> {
    let key = mapping.id_column.as_deref().unwrap_or("id");
    if mapping.fields.iter().any(|f| f.name == key) {
        return item.get(key).and_then(id_text);
    }
    item.remove(key).as_ref().and_then(id_text)
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
