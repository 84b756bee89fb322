//! CSV and TSV with a header row, RFC 4180 quoting (`"a, b"`, `""` for a quote,
//! line breaks inside quotes).

use serde_json::{Map, Value};

use super::{InputError, LineReader, Mapping, Record};
use crate::schema::{cell_to_value, Field};

/// What each column becomes.
enum Column {
    /// The item's id.
    Id,
    /// An item field (with its schema types, empty when unknown).
    Field(String, Vec<String>),
}

/// Reads CSV rows as items: each column goes into the item field of the same name.
pub struct CsvReader {
    lines: LineReader,
    delimiter: u8,
    columns: Vec<Column>,
    /// The id column also feeds an item field of the same name.
    id_is_field: Option<usize>,
    done: bool,
}

impl CsvReader {
    /// Reads the header row and checks it against the item's fields.
    pub fn new(
        mut lines: LineReader,
        delimiter: u8,
        mapping: &Mapping,
    ) -> Result<CsvReader, InputError> {
        let header = loop {
            match read_row(&mut lines, delimiter)? {
                None => {
                    return Err(InputError::file(
                        lines.name(),
                        "the file is empty; expected a header row naming the item fields",
                    ))
                }
                Some((_, row)) if row.iter().all(|c| c.trim().is_empty()) => continue,
                Some((line, row)) => break (line, row),
            }
        };
        let (hline, names) = header;
        let names: Vec<String> = names.iter().map(|n| n.trim().to_string()).collect();
        let name = lines.name().clone();
        for (i, n) in names.iter().enumerate() {
            if n.is_empty() {
                return Err(InputError::at(
                    &name,
                    hline,
                    format!("column {} has no name in the header row", i + 1),
                ));
            }
            if names[..i].contains(n) {
                return Err(InputError::at(
                    &name,
                    hline,
                    format!("column '{n}' appears twice in the header row"),
                ));
            }
        }
        let id_name = match &mapping.id_column {
            Some(c) => {
                if !names.contains(c) {
                    return Err(InputError::at(
                        &name,
                        hline,
                        format!(
                            "--id-column {c}: no such column (columns: {})",
                            names.join(", ")
                        ),
                    ));
                }
                Some(c.clone())
            }
            None => names.iter().find(|n| n.as_str() == "id").cloned(),
        };
        let field_of = |n: &str| -> Option<&Field> { mapping.fields.iter().find(|f| f.name == n) };
        let mut columns = Vec::with_capacity(names.len());
        let mut id_is_field = None;
        for (i, n) in names.iter().enumerate() {
            if Some(n) == id_name.as_ref() {
                if field_of(n).is_some() {
                    id_is_field = Some(i);
                }
                columns.push(Column::Id);
                continue;
            }
            match field_of(n) {
                Some(f) => columns.push(Column::Field(n.clone(), f.types.clone())),
                None if mapping.fields.is_empty() => columns.push(Column::Field(n.clone(), Vec::new())),
                None => {
                    return Err(InputError::at(
                        &name,
                        hline,
                        format!(
                            "column '{n}' is not a field of the item (fields: {}); rename or remove it, or name it with --id-column",
                            mapping.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    ))
                }
            }
        }
        for f in mapping.fields.iter().filter(|f| f.required) {
            if !names.contains(&f.name) {
                return Err(InputError::at(
                    &name,
                    hline,
                    format!(
                        "no column for the required field '{}' (columns: {})",
                        f.name,
                        names.join(", ")
                    ),
                ));
            }
        }
        Ok(CsvReader {
            lines,
            delimiter,
            columns,
            id_is_field,
            done: false,
        })
    }

    fn next_record(&mut self) -> Result<Option<Record>, InputError> {
        let (line, row) = loop {
            match read_row(&mut self.lines, self.delimiter)? {
                None => return Ok(None),
                Some((_, row)) if row.len() == 1 && row[0].trim().is_empty() => continue,
                Some(r) => break r,
            }
        };
        if row.len() != self.columns.len() {
            let expected: Vec<&str> = self
                .columns
                .iter()
                .map(|c| match c {
                    Column::Id => "id",
                    Column::Field(n, _) => n.as_str(),
                })
                .collect();
            let detail = if row.len() < self.columns.len() {
                format!("missing {}", expected[row.len()..].join(", "))
            } else {
                "extra values at the end".to_string()
            };
            return Err(InputError::at(
                self.lines.name(),
                line,
                format!(
                    "row has {} values, the header has {} ({detail})",
                    row.len(),
                    self.columns.len()
                ),
            ));
        }
        let mut item = Map::with_capacity(row.len());
        let mut id = None;
        for (i, (cell, col)) in row.into_iter().zip(&self.columns).enumerate() {
            match col {
                Column::Id => {
                    if self.id_is_field == Some(i) && !cell.is_empty() {
                        item.insert("id".to_string(), Value::String(cell.clone()));
                    }
                    if !cell.is_empty() {
                        id = Some(cell);
                    }
                }
                Column::Field(name, types) => {
                    if cell.is_empty() {
                        continue;
                    }
                    let v = cell_to_value(&cell, types).map_err(|m| {
                        InputError::at(self.lines.name(), line, format!("column '{name}': {m}"))
                    })?;
                    item.insert(name.clone(), v);
                }
            }
        }
        Ok(Some(Record {
            line,
            id,
            item: Value::Object(item),
            seq_lines: Vec::new(),
        }))
    }
}

impl Iterator for CsvReader {
    type Item = Result<Record, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.next_record();
        super::fuse(&mut self.done, next)
    }
}

/// Reads one row (which may span lines inside quotes); returns its first line.
fn read_row(
    lines: &mut LineReader,
    delimiter: u8,
) -> Result<Option<(u64, Vec<String>)>, InputError> {
    let Some((start, text)) = lines.next_line()? else {
        return Ok(None);
    };
    let delim = delimiter as char;
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut text = text.to_string();
    let mut in_quotes = false;
    // Whether the current field was quoted (text after the closing quote is an error).
    let mut quoted = false;
    loop {
        let mut chars = text.chars().peekable();
        let mut col = 0usize;
        while let Some(c) = chars.next() {
            col += 1;
            if in_quotes {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        col += 1;
                        cur.push('"');
                    } else {
                        in_quotes = false;
                    }
                } else {
                    cur.push(c);
                }
            } else if c == delim {
                fields.push(finish(std::mem::take(&mut cur), quoted));
                quoted = false;
            } else if c == '"' && cur.trim().is_empty() && !quoted {
                cur.clear();
                in_quotes = true;
                quoted = true;
            } else if quoted {
                if !c.is_whitespace() {
                    return Err(InputError::at(
                        lines.name(),
                        lines.line(),
                        format!("column {col}: text after a closing quote; write a quote inside a quoted field as \"\""),
                    ));
                }
            } else {
                cur.push(c);
            }
        }
        if !in_quotes {
            break;
        }
        // A line break inside quotes belongs to the field.
        match lines.next_line()? {
            Some((_, next)) => {
                cur.push('\n');
                text = next.to_string();
            }
            None => {
                return Err(InputError::at(
                    lines.name(),
                    start,
                    "a quoted field opened on this line is never closed",
                ))
            }
        }
    }
    fields.push(finish(cur, quoted));
    Ok(Some((start, fields)))
}

/// Unquoted cells lose surrounding blanks; quoted ones are kept exactly.
fn finish(cell: String, quoted: bool) -> String {
    if quoted {
        cell
    } else {
        let t = cell.trim();
        if t.len() == cell.len() {
            cell
        } else {
            t.to_string()
        }
    }
}
