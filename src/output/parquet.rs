//! Apache Parquet output (`-o out.parquet`): one row per item.
//!
//! Columns, in order:
//!
//! - `index` (uint64): the item's index in the whole input;
//! - `item_sha` (text): the item's hash, 16 hex digits as in JSONL;
//! - `id` (text, null when the item has none);
//! - the result's fields, one column each, typed from the action's response
//!   JSON Schema ([`Shape`]; lists of numbers are
//!   float32 lists); a field named like one of these columns is written as
//!   `result_<name>`. When the result is not an object with named fields, or
//!   no response schema was given, one column `result` holds it (typed, or as
//!   JSON text);
//! - `result_json` (text): the whole result as JSON text when it did not fit
//!   the typed columns (a field the schema does not name, a value of another
//!   type), which are then null for that row; null otherwise;
//! - `error` (text): the item's error as JSON (`{"index":..,"kind":..,"message":..}`),
//!   null for results.
//!
//! The JSONL header (fingerprint, model, action, items) is kept in the file's
//! key-value metadata as `biolm.header`, and the names of the columns written
//! as JSON text as `biolm.json_columns`.
//!
//! Codec: **snappy** (pure Rust, so no C toolchain; about 1 GB/s, which keeps
//! the CPU per GB of response low). Float columns are written with the
//! `BYTE_STREAM_SPLIT` encoding and without a dictionary: it groups the
//! floats' exponent bytes together, which snappy then compresses; the size
//! gain over the decimal text comes first from float32 itself (4 bytes
//! against about 7 characters for the sandbox's 4-decimal numbers). Float
//! columns carry no min/max statistics: embeddings are not filtered by
//! value ranges, and computing them costs CPU on every value.
//!
//! Rows are decoded straight from the response text into column buffers,
//! handed to the Arrow writer in batches of about 1 MiB, and a row group is
//! closed at 8 MiB of encoded data, so memory does not grow with the file.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Instant;

use arrow_array::{
    ArrayRef, BooleanArray, Float32Array, Float64Array, Int64Array, ListArray, RecordBatch,
    StringArray, StructArray, UInt64Array,
};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use parquet::arrow::{ArrowSchemaConverter, ArrowWriter};
use parquet::basic::{Compression, Encoding, Type as PhysicalType};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use super::columns::{Col, Shape, TextBuf};
use super::format::{Line, OutputFormat};
use crate::Error;

/// Buffered rows are handed to the Arrow writer past this many bytes.
const BATCH_BYTES: usize = 1 << 20;
/// A row group is closed past this many bytes of encoded data.
const ROW_GROUP_BYTES: usize = 8 << 20;

/// Names the fixed columns take; result fields of these names get a `result_` prefix.
const FIXED: [&str; 5] = ["index", "item_sha", "id", "result_json", "error"];

/// The Parquet format ([module docs](self)).
pub struct Parquet {
    out: Option<Box<dyn Write + Send>>,
    writer: Option<ArrowWriter<Box<dyn Write + Send>>>,
    schema: SchemaRef,
    /// The result's columns: names and shapes (one `result` column when the
    /// result is not an object).
    result_fields: Vec<(String, Shape)>,
    /// Whether the result's fields are spread into columns (an object result).
    spread: bool,
    index: Vec<u64>,
    sha: TextBuf,
    id: Col,
    result: Col,
    result_json: Col,
    error: Col,
    rows: usize,
    /// The writer's properties (kept for the footers of checkpoints).
    props: Option<WriterProperties>,
    /// Row-group checkpoints ([`super::checkpoint`]), when asked for.
    checkpoints: Option<Checkpoints>,
}

/// Where and when the checkpoints of a [`Parquet`] file are written.
struct Checkpoints {
    path: PathBuf,
    last: Instant,
    /// Rows covered by a checkpoint written since [`Parquet::take_checkpoint`].
    ready: Option<u64>,
}

/// How long rows may wait for a checkpoint (when the row group is not full
/// yet): a second, plus a tenth of a second per row group already in the
/// file (every checkpoint writes the footer of all of them), at most a minute.
fn checkpoint_interval(groups: usize) -> Duration {
    (Duration::from_secs(1) + Duration::from_millis(100) * groups as u32)
        .min(Duration::from_secs(60))
}

fn data_type(shape: &Shape) -> DataType {
    match shape {
        Shape::Bool => DataType::Boolean,
        Shape::Int => DataType::Int64,
        Shape::Float64 => DataType::Float64,
        Shape::Float32 => DataType::Float32,
        Shape::Text | Shape::Json => DataType::Utf8,
        Shape::List(s) => DataType::List(Arc::new(Field::new("item", data_type(s), true))),
        Shape::Struct(fs) => DataType::Struct(struct_fields(fs)),
    }
}

fn struct_fields(fs: &[(String, Shape)]) -> Fields {
    fs.iter()
        .map(|(k, s)| Field::new(k, data_type(s), true))
        .collect()
}

/// Names of the JSON-text columns in `shape` (dotted paths under `name`).
fn json_paths(name: &str, shape: &Shape, out: &mut Vec<String>) {
    match shape {
        Shape::Json => out.push(name.to_string()),
        Shape::List(s) => json_paths(&format!("{name}[]"), s, out),
        Shape::Struct(fs) => {
            for (k, s) in fs {
                json_paths(&format!("{name}.{k}"), s, out);
            }
        }
        _ => {}
    }
}

fn arrow_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("Parquet output: {e}"))
}

fn offsets32(o: Vec<i64>) -> std::io::Result<OffsetBuffer<i32>> {
    let o: Vec<i32> = o
        .into_iter()
        .map(i32::try_from)
        .collect::<Result<_, _>>()
        .map_err(|_| arrow_err("more than 2 GiB of values in one batch"))?;
    Ok(OffsetBuffer::new(ScalarBuffer::from(o)))
}

fn nulls(v: Option<Vec<bool>>) -> Option<NullBuffer> {
    v.map(NullBuffer::from)
}

fn text_array(t: TextBuf, valid: Option<Vec<bool>>) -> std::io::Result<StringArray> {
    StringArray::try_new(offsets32(t.offsets)?, Buffer::from(t.data), nulls(valid))
        .map_err(arrow_err)
}

/// Moves a column's values into an Arrow array, leaving it empty.
fn take(col: &mut Col, shape: &Shape) -> std::io::Result<ArrayRef> {
    let empty = Col::new(shape);
    let col = std::mem::replace(col, empty);
    Ok(match col {
        Col::Bool(x, mut v) => Arc::new(BooleanArray::new(x.into(), nulls(v.take()))),
        Col::Int(x, mut v) => Arc::new(Int64Array::new(x.into(), nulls(v.take()))),
        Col::F64(x, mut v) => Arc::new(Float64Array::new(x.into(), nulls(v.take()))),
        Col::F32(x, mut v) => Arc::new(Float32Array::new(x.into(), nulls(v.take()))),
        Col::Text(t, mut v) | Col::Json(t, mut v) => Arc::new(text_array(t, v.take())?),
        Col::List(o, mut v, mut child) => {
            let Shape::List(inner) = shape else {
                return Err(arrow_err("column shape mismatch (a bug)"));
            };
            let values = take(&mut child, inner)?;
            let field = Arc::new(Field::new("item", data_type(inner), true));
            Arc::new(
                ListArray::try_new(field, offsets32(o)?, values, nulls(v.take()))
                    .map_err(arrow_err)?,
            )
        }
        Col::Struct(mut fs, mut v) => {
            let Shape::Struct(shapes) = shape else {
                return Err(arrow_err("column shape mismatch (a bug)"));
            };
            let arrays = fs
                .iter_mut()
                .zip(shapes)
                .map(|((_, c), (_, s))| take(c, s))
                .collect::<std::io::Result<Vec<_>>>()?;
            Arc::new(
                StructArray::try_new(struct_fields(shapes), arrays, nulls(v.take()))
                    .map_err(arrow_err)?,
            )
        }
    })
}

impl Parquet {
    /// Parquet onto `out`, with the result columns of `result_shape` (from
    /// [`Shape::of_result`]; [`Shape::Json`] for one JSON-text column).
    pub fn new(out: Box<dyn Write + Send>, result_shape: Shape) -> Parquet {
        let (result_fields, spread) = match &result_shape {
            Shape::Struct(fs) => (
                fs.iter()
                    .map(|(k, s)| {
                        let name = if FIXED.contains(&k.as_str()) {
                            format!("result_{k}")
                        } else {
                            k.clone()
                        };
                        (name, s.clone())
                    })
                    .collect(),
                true,
            ),
            s => (vec![("result".to_string(), s.clone())], false),
        };
        let mut fields = vec![
            Field::new("index", DataType::UInt64, false),
            Field::new("item_sha", DataType::Utf8, false),
            Field::new("id", DataType::Utf8, true),
        ];
        fields.extend(
            result_fields
                .iter()
                .map(|(k, s)| Field::new(k, data_type(s), true)),
        );
        fields.push(Field::new("result_json", DataType::Utf8, true));
        fields.push(Field::new("error", DataType::Utf8, true));
        Parquet {
            out: Some(out),
            writer: None,
            schema: Arc::new(Schema::new(fields)),
            result: Col::new(&result_shape),
            result_fields,
            spread,
            index: Vec::new(),
            sha: TextBuf::default(),
            id: Col::new(&Shape::Text),
            result_json: Col::new(&Shape::Json),
            error: Col::new(&Shape::Json),
            rows: 0,
            props: None,
            checkpoints: None,
        }
    }

    /// Writes a checkpoint to `path` each time a row group is flushed
    /// ([`super::checkpoint`]), and closes a row group for one when rows have
    /// waited long enough ([`OutputFormat::flush`]).
    pub(crate) fn with_checkpoints(mut self, path: PathBuf) -> Parquet {
        self.checkpoints = Some(Checkpoints {
            path,
            last: crate::clock::now(),
            ready: None,
        });
        self
    }

    /// The rows covered by a checkpoint written since the last call (all the
    /// rows of the file before its in-progress row group), if one was.
    pub(crate) fn take_checkpoint(&mut self) -> Option<u64> {
        self.checkpoints.as_mut().and_then(|c| c.ready.take())
    }

    /// Writes every row handed over so far into row groups, and a checkpoint of them.
    pub(crate) fn checkpoint_now(&mut self) -> std::io::Result<()> {
        self.write_batch()?;
        if let Some(w) = self.writer.as_mut() {
            w.flush().map_err(arrow_err)?;
        }
        self.write_checkpoint()
    }

    /// Flushes the file and writes a checkpoint of its flushed row groups.
    fn write_checkpoint(&mut self) -> std::io::Result<()> {
        let (Some(ck), Some(w), Some(props)) = (
            self.checkpoints.as_mut(),
            self.writer.as_mut(),
            self.props.as_ref(),
        ) else {
            return Ok(());
        };
        w.sync()?;
        let groups = w.flushed_row_groups();
        let footer = super::checkpoint::footer(&self.schema, props, groups).map_err(arrow_err)?;
        let rows = groups.iter().map(|g| g.num_rows() as u64).sum();
        let point = super::checkpoint::Checkpoint {
            offset: w.bytes_written() as u64,
            rows,
            footer,
        };
        super::checkpoint::write(&ck.path, &point)?;
        ck.ready = Some(rows);
        ck.last = crate::clock::now();
        Ok(())
    }

    /// Writes the rows handed over as a row group into the file, without a
    /// checkpoint (a run killed before its checkpoint).
    #[cfg(test)]
    pub(crate) fn flush_rows(&mut self) -> std::io::Result<()> {
        self.write_batch()?;
        match self.writer.as_mut() {
            Some(w) => {
                w.flush().map_err(arrow_err)?;
                w.sync()
            }
            None => Ok(()),
        }
    }

    /// Whether rows have waited for a checkpoint long enough.
    fn checkpoint_due(&self) -> bool {
        match (&self.checkpoints, &self.writer) {
            (Some(ck), Some(w)) => {
                (self.rows > 0 || w.in_progress_rows() > 0)
                    && ck.last.elapsed() >= checkpoint_interval(w.flushed_row_groups().len())
            }
            _ => false,
        }
    }

    /// Writes `batch` (rows of a file of this format, read back) after the
    /// rows buffered; its columns must be this file's.
    pub(crate) fn copy_rows(&mut self, batch: &RecordBatch) -> std::io::Result<()> {
        self.write_batch()?;
        let batch = RecordBatch::try_new(self.schema.clone(), batch.columns().to_vec())
            .map_err(arrow_err)?;
        let Some(writer) = self.writer.as_mut() else {
            return Err(arrow_err("rows before the header"));
        };
        writer.write(&batch).map_err(arrow_err)?;
        if writer.in_progress_size() >= ROW_GROUP_BYTES {
            writer.flush().map_err(arrow_err)?;
            self.write_checkpoint()?;
        }
        Ok(())
    }

    fn result_shape(&self) -> Shape {
        if self.spread {
            Shape::Struct(self.result_fields.clone())
        } else {
            self.result_fields[0].1.clone()
        }
    }

    /// Starts the Arrow writer: the schema with the header in its metadata.
    fn start(&mut self, header: &[u8]) -> std::io::Result<()> {
        let header = String::from_utf8_lossy(header).trim_end().to_string();
        let mut json_cols = Vec::new();
        for (k, s) in &self.result_fields {
            json_paths(k, s, &mut json_cols);
        }
        json_cols.extend(["result_json".to_string(), "error".to_string()]);
        let meta = [
            ("biolm.header".to_string(), header),
            (
                "biolm.json_columns".to_string(),
                serde_json::to_string(&json_cols).unwrap_or_default(),
            ),
        ];
        let schema = Arc::new(
            Schema::new(self.schema.fields().clone()).with_metadata(meta.into_iter().collect()),
        );
        self.schema = schema.clone();
        let mut props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(None);
        let descr = ArrowSchemaConverter::new()
            .convert(&schema)
            .map_err(arrow_err)?;
        for c in descr.columns() {
            if matches!(
                c.physical_type(),
                PhysicalType::FLOAT | PhysicalType::DOUBLE
            ) {
                props = props
                    .set_column_dictionary_enabled(c.path().clone(), false)
                    .set_column_encoding(c.path().clone(), Encoding::BYTE_STREAM_SPLIT)
                    .set_column_statistics_enabled(c.path().clone(), EnabledStatistics::None);
            }
        }
        let out = self
            .out
            .take()
            .ok_or_else(|| arrow_err("the header was already written"))?;
        let props = props.build();
        self.props = Some(props.clone());
        self.writer = Some(ArrowWriter::try_new(out, schema, Some(props)).map_err(arrow_err)?);
        Ok(())
    }

    /// Hands the buffered rows to the Arrow writer as one record batch.
    fn write_batch(&mut self) -> std::io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let Some(writer) = self.writer.as_mut() else {
            return Err(arrow_err("rows before the header"));
        };
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        columns.push(Arc::new(UInt64Array::from(std::mem::take(&mut self.index))));
        columns.push(Arc::new(text_array(std::mem::take(&mut self.sha), None)?));
        columns.push(take(&mut self.id, &Shape::Text)?);
        let shape = if self.spread {
            Shape::Struct(self.result_fields.clone())
        } else {
            self.result_fields[0].1.clone()
        };
        let result = take(&mut self.result, &shape)?;
        if self.spread {
            let s = result
                .as_any()
                .downcast_ref::<StructArray>()
                .ok_or_else(|| arrow_err("result columns are not a struct (a bug)"))?;
            // The struct's own nulls (a null result) are in every child already.
            columns.extend(s.columns().iter().cloned());
        } else {
            columns.push(result);
        }
        columns.push(take(&mut self.result_json, &Shape::Json)?);
        columns.push(take(&mut self.error, &Shape::Json)?);
        self.rows = 0;
        let batch = RecordBatch::try_new(self.schema.clone(), columns).map_err(arrow_err)?;
        writer.write(&batch).map_err(arrow_err)?;
        if writer.in_progress_size() >= ROW_GROUP_BYTES {
            writer.flush().map_err(arrow_err)?;
            self.write_checkpoint()?;
        }
        Ok(())
    }

    /// Bytes of rows buffered.
    fn buffered(&self) -> usize {
        self.index.len() * 8
            + self.sha.data.len()
            + self.id.bytes()
            + self.result.bytes()
            + self.result_json.bytes()
            + self.error.bytes()
    }
}

impl OutputFormat for Parquet {
    fn name(&self) -> &'static str {
        "Parquet"
    }
    fn resumable(&self) -> bool {
        false
    }
    fn header(&mut self, header: &[u8]) -> std::io::Result<()> {
        self.start(header)
    }
    fn line(&mut self, l: &Line<'_>) -> Result<(), Error> {
        self.index.push(l.index as u64);
        self.sha.push(&format!("{:016x}", l.item_sha));
        match l.id {
            // A text column: pushing text cannot fail.
            Some(id) => drop(self.id.push_text(id)),
            None => self.id.push_null(),
        }
        match l.result {
            Some(raw) => match self.result.push_json(raw) {
                Ok(()) => self.result_json.push_null(),
                Err(_) => {
                    self.result.push_null();
                    let _ = self.result_json.push_text(raw);
                }
            },
            None => {
                self.result.push_null();
                self.result_json.push_null();
            }
        }
        match l.error {
            Some(e) => {
                let text = serde_json::to_string(e).map_err(|source| Error::Serialize {
                    what: format!("the error of items[{}]", l.index),
                    source,
                })?;
                let _ = self.error.push_text(&text);
            }
            None => self.error.push_null(),
        }
        self.rows += 1;
        Ok(())
    }
    fn line_json(&mut self, l: &Line<'_>, json: &str) -> Result<(), Error> {
        // Decoding into the columns checks the JSON: one pass, not two.
        if self.result.push_json(json).is_ok() {
            self.result_json.push_null();
        } else {
            serde_json::from_str::<serde::de::IgnoredAny>(json).map_err(|source| {
                Error::Serialize {
                    what: format!("the result of items[{}]", l.index),
                    source,
                }
            })?;
            self.result.push_null();
            let _ = self.result_json.push_text(json);
        }
        self.index.push(l.index as u64);
        self.sha.push(&format!("{:016x}", l.item_sha));
        match l.id {
            Some(id) => drop(self.id.push_text(id)),
            None => self.id.push_null(),
        }
        self.error.push_null();
        self.rows += 1;
        Ok(())
    }
    fn pending(&self) -> usize {
        self.buffered()
    }
    fn flush(&mut self) -> std::io::Result<()> {
        // Small batches stay buffered: a record batch per line would cost
        // more than it saves; nothing of a Parquet file is readable before
        // its footer anyway (or its checkpoint, written when rows have
        // waited long enough).
        if self.checkpoint_due() {
            self.checkpoint_now()?;
        } else if self.buffered() >= BATCH_BYTES {
            self.write_batch()?;
        }
        Ok(())
    }
    fn discard(&mut self) {
        self.index.clear();
        self.sha = TextBuf::default();
        let shape = self.result_shape();
        self.id = Col::new(&Shape::Text);
        self.result = Col::new(&shape);
        self.result_json = Col::new(&Shape::Json);
        self.error = Col::new(&Shape::Json);
        self.rows = 0;
    }
    fn finish(&mut self) -> std::io::Result<()> {
        self.write_batch()?;
        match self.writer.take() {
            Some(w) => {
                let mut out = w.into_inner().map_err(arrow_err)?;
                out.flush()
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{ItemError, ItemErrorKind};
    use crate::output::tests::Shared;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float32Type, Float64Type, Int64Type};
    use arrow_array::Array;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use serde_json::json;
    use serde_json::value::RawValue;

    #[test]
    fn rows_round_trip_typed_with_fallbacks_and_errors() {
        let response = json!({
            "properties": {"results": {"items": {"$ref": "#/$defs/R"}}},
            "$defs": {"R": {"type": "object", "properties": {
                "score": {"type": "number"},
                "index": {"type": "integer"},
                "emb": {"type": "array", "items": {"type": "number"}}
            }}}
        });
        let out = Shared::default();
        let mut f = Parquet::new(Box::new(out.clone()), Shape::of_result(&response));
        f.header(b"{\"biolm_jsonl\":2}\n").unwrap();
        let raw = |s: &str| RawValue::from_string(s.to_string()).unwrap();
        let (a, b) = (
            raw(r#"{"score": 0.1, "index": 7, "emb": [0.1234, -1e-3, 3]}"#),
            raw(r#"{"score": "high"}"#),
        );
        let err = ItemError {
            index: 2,
            kind: ItemErrorKind::Unavailable,
            field: None,
            status: Some(503),
            request_id: None,
            message: "down".into(),
        };
        let lines = [
            Line {
                index: 0,
                item_sha: 0xab,
                id: Some("x"),
                result: Some(a.get()),
                error: None,
            },
            Line {
                index: 1,
                item_sha: 1,
                id: None,
                result: Some(b.get()),
                error: None,
            },
            Line {
                index: 2,
                item_sha: 2,
                id: None,
                result: None,
                error: Some(&err),
            },
        ];
        for l in &lines {
            f.line(l).unwrap();
        }
        f.finish().unwrap();
        let bytes = bytes::Bytes::from(out.0.lock().unwrap().clone());
        let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap();
        let meta = builder.schema().metadata().clone();
        assert_eq!(meta["biolm.header"], "{\"biolm_jsonl\":2}");
        let batch = builder.build().unwrap().next().unwrap().unwrap();
        let col = |n: &str| batch.column_by_name(n).unwrap().clone();
        assert_eq!(batch.num_rows(), 3);
        assert_eq!(
            col("item_sha").as_string::<i32>().value(0),
            "00000000000000ab"
        );
        assert!(col("id").is_null(1));
        assert_eq!(col("score").as_primitive::<Float64Type>().value(0), 0.1);
        assert_eq!(col("result_index").as_primitive::<Int64Type>().value(0), 7);
        let emb = col("emb");
        let emb = emb.as_list::<i32>().value(0);
        let emb = emb.as_primitive::<Float32Type>().values().to_vec();
        assert_eq!(emb, vec![0.1234f32, -1e-3, 3.0]);
        // Row 1 does not fit ("high" is not a number): kept whole as JSON text.
        assert!(col("score").is_null(1));
        assert_eq!(
            col("result_json").as_string::<i32>().value(1),
            r#"{"score": "high"}"#
        );
        assert!(col("result_json").is_null(0));
        let e: serde_json::Value =
            serde_json::from_str(col("error").as_string::<i32>().value(2)).unwrap();
        assert_eq!(
            (e["kind"].as_str(), e["status"].as_u64()),
            (Some("unavailable"), Some(503))
        );
        assert!(col("emb").is_null(2) && col("error").is_null(0));
    }
}
