//! Unit tests of a Parquet output's journal and checkpoints: results are
//! written once (into the Parquet file), the journal holds light lines of the
//! rows a checkpoint covers, and a resume keeps every item exactly once.

use super::checkpoint::{self, checkpoint_path, previous_path};
use super::tests::job;
use super::*;
use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, UInt64Type};
use arrow_array::Array;

fn opts() -> OpenOptions {
    let schema = serde_json::json!({"properties": {"results": {"items": {"type": "object",
        "properties": {"e": {"type": "array", "items": {"type": "number"}}}}}}});
    OpenOptions::new().response_schema(schema)
}

fn raw(i: usize) -> crate::RawResult {
    crate::RawResult::from_json(format!(r#"{{"e":[{i}.5,-1.25]}}"#)).unwrap()
}

fn down(index: usize) -> ItemError {
    ItemError {
        index,
        kind: crate::ItemErrorKind::Unavailable,
        field: None,
        status: Some(503),
        request_id: None,
        message: "down".into(),
    }
}

/// Writes a checkpoint of every row handed over; with `release`, the journal
/// lines of those rows are appended too (else: killed in between).
fn checkpoint(w: &mut OutputWriter, release: bool) {
    w.flush().unwrap();
    let d = w.direct().unwrap();
    d.format.checkpoint_now().unwrap();
    if release {
        w.flush().unwrap();
    }
}

/// `(index, first embedding value or NaN, error kind)` of each row of a Parquet file, sorted.
fn rows_of(path: &Path) -> Vec<(u64, f32, Option<String>)> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let b = batch.unwrap();
        let index = b
            .column_by_name("index")
            .unwrap()
            .as_primitive::<UInt64Type>()
            .clone();
        let e = b.column_by_name("e").unwrap().as_list::<i32>().clone();
        let err = b
            .column_by_name("error")
            .unwrap()
            .as_string::<i32>()
            .clone();
        for r in 0..b.num_rows() {
            let first = if e.is_null(r) {
                f32::NAN
            } else {
                e.value(r).as_primitive::<Float32Type>().value(0)
            };
            let kind = (!err.is_null(r)).then(|| {
                let v: serde_json::Value = serde_json::from_str(err.value(r)).unwrap();
                v["kind"].as_str().unwrap().to_string()
            });
            rows.push((index.value(r), first, kind));
        }
    }
    rows.sort_by_key(|r| r.0);
    rows
}

fn ok_rows(indexes: &[u64]) -> Vec<(u64, f32, Option<String>)> {
    indexes.iter().map(|&i| (i, i as f32 + 0.5, None)).collect()
}

#[test]
fn a_checkpoint_cut_and_footer_make_a_file_of_the_checkpointed_rows() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("o.parquet");
    {
        let mut o = OutputWriter::open(&p, &job(Some(6)), &opts()).unwrap();
        for i in 0..4 {
            o.writer
                .line(i, i as u64, None, Some(&raw(i)), None)
                .unwrap();
        }
        checkpoint(&mut o.writer, true);
        o.writer.line(4, 4, None, Some(&raw(4)), None).unwrap();
        o.writer.line(5, 5, None, None, Some(&down(5))).unwrap();
        // Rows past the checkpoint reach the file, unfinished.
        o.writer.direct().unwrap().format.flush_rows().unwrap();
    }
    let partial = direct_path(&p);
    let ck = checkpoint::read(&checkpoint_path(&p)).unwrap().unwrap();
    assert!(std::fs::metadata(&partial).unwrap().len() > ck.offset);
    assert_eq!(ck.rows, 4);
    checkpoint::recover(&partial, &ck).unwrap();
    let once = std::fs::read(&partial).unwrap();
    checkpoint::recover(&partial, &ck).unwrap();
    assert_eq!(
        std::fs::read(&partial).unwrap(),
        once,
        "recovering twice is once"
    );
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&partial).unwrap()).unwrap();
    let schema = builder.schema().clone();
    assert!(schema.metadata()["biolm.header"].contains("\"fp1\""));
    assert!(schema.metadata().contains_key("biolm.json_columns"));
    assert_eq!(rows_of(&partial), ok_rows(&[0, 1, 2, 3]));
    // The same schema as a finished file of the same job.
    let q = d.path().join("q.parquet");
    let mut o = OutputWriter::open(&q, &job(Some(1)), &opts()).unwrap();
    o.writer.line(0, 0, None, Some(&raw(0)), None).unwrap();
    o.writer.finish().unwrap();
    let finished = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&q).unwrap())
        .unwrap()
        .schema()
        .clone();
    assert_eq!(finished.fields(), schema.fields());
}

#[test]
fn the_journal_holds_light_lines_of_checkpointed_rows_only() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("o.parquet");
    let journal = journal_path(&p);
    let mut o = OutputWriter::open(&p, &job(Some(4)), &opts()).unwrap();
    o.writer.line(0, 0, Some("a"), Some(&raw(0)), None).unwrap();
    o.writer.line(1, 1, None, None, Some(&down(1))).unwrap();
    o.writer.flush().unwrap();
    let before = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(
        before.lines().count(),
        1,
        "no line before a checkpoint: {before}"
    );
    checkpoint(&mut o.writer, true);
    o.writer.line(2, 2, None, Some(&raw(2)), None).unwrap();
    o.writer.flush().unwrap();
    let text = std::fs::read_to_string(&journal).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(
        lines[1],
        r#"{"index":0,"item_sha":"0000000000000000","id":"a","in_parquet":true}"#
    );
    assert!(
        lines[2].contains("\"error\":") && !text.contains("\"result\""),
        "{text}"
    );
    o.writer.finish().unwrap();
    assert!(!journal.exists() && !checkpoint_path(&p).exists() && !direct_path(&p).exists());
}

/// Killed after a checkpoint but before its journal lines: the rows the
/// journal does not name are dropped and sent again, so every item is in the
/// final file once, with the values of a run in one go.
#[test]
fn a_kill_between_a_checkpoint_and_its_journal_lines_keeps_every_item_once() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("o.parquet");
    {
        let mut o = OutputWriter::open(&p, &job(Some(6)), &opts()).unwrap();
        for i in 0..2 {
            o.writer
                .line(i, i as u64, None, Some(&raw(i)), None)
                .unwrap();
        }
        checkpoint(&mut o.writer, true);
        for i in 2..4 {
            o.writer
                .line(i, i as u64, None, Some(&raw(i)), None)
                .unwrap();
        }
        checkpoint(&mut o.writer, false);
        o.writer.line(4, 4, None, Some(&raw(4)), None).unwrap();
        o.writer.direct().unwrap().format.flush_rows().unwrap();
        // Dropped: killed.
    }
    let mut o = OutputWriter::open(&p, &job(Some(6)), &opts()).unwrap();
    assert_eq!(
        o.done.len(),
        2,
        "the journal names the rows of the first checkpoint"
    );
    assert!(o.done.contains(0) && o.done.contains(1));
    assert!(!previous_path(&p).exists());
    for i in 2..6 {
        o.writer
            .line(i, i as u64, None, Some(&raw(i)), None)
            .unwrap();
    }
    o.writer.finish().unwrap();
    drop(o);
    assert_eq!(rows_of(&p), ok_rows(&[0, 1, 2, 3, 4, 5]));
    // Equal to a run in one go.
    let q = d.path().join("q.parquet");
    let mut o = OutputWriter::open(&q, &job(Some(6)), &opts()).unwrap();
    for i in 0..6 {
        o.writer
            .line(i, i as u64, None, Some(&raw(i)), None)
            .unwrap();
    }
    o.writer.finish().unwrap();
    assert_eq!(rows_of(&q), rows_of(&p));
}

#[test]
fn retry_failed_replaces_the_error_rows_with_the_new_results() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("o.parquet");
    {
        let mut o = OutputWriter::open(&p, &job(Some(3)), &opts()).unwrap();
        o.writer.line(0, 0, None, Some(&raw(0)), None).unwrap();
        o.writer.line(1, 1, None, None, Some(&down(1))).unwrap();
        o.writer.line(2, 2, None, Some(&raw(2)), None).unwrap();
        checkpoint(&mut o.writer, true);
    }
    let mut o = OutputWriter::open(&p, &job(Some(3)), &opts().retry_failed(true)).unwrap();
    assert_eq!((o.retrying, o.done.len()), (1, 2));
    o.writer.line(1, 1, None, Some(&raw(1)), None).unwrap();
    o.writer.finish().unwrap();
    drop(o);
    assert_eq!(rows_of(&p), ok_rows(&[0, 1, 2]));
}

/// A refused resume leaves the checkpointed rows and the journal consistent:
/// the next run resumes them.
#[test]
fn a_refused_resume_keeps_the_checkpointed_rows() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("o.parquet");
    {
        let mut o = OutputWriter::open(&p, &job(Some(4)), &opts()).unwrap();
        for i in 0..2 {
            o.writer
                .line(i, i as u64, None, Some(&raw(i)), None)
                .unwrap();
        }
        checkpoint(&mut o.writer, true);
    }
    let journal = std::fs::read(journal_path(&p)).unwrap();
    {
        let mut o = OutputWriter::open(&p, &job(Some(4)), &opts()).unwrap();
        o.writer.line(2, 2, None, Some(&raw(2)), None).unwrap();
        checkpoint(&mut o.writer, true);
        let _ = o.writer.refuse_item(0);
    }
    assert_eq!(std::fs::read(journal_path(&p)).unwrap(), journal);
    assert!(direct_path(&p).exists() && checkpoint_path(&p).exists());
    let mut o = OutputWriter::open(&p, &job(Some(4)), &opts()).unwrap();
    assert_eq!(o.done.len(), 2);
    for i in 2..4 {
        o.writer
            .line(i, i as u64, None, Some(&raw(i)), None)
            .unwrap();
    }
    o.writer.finish().unwrap();
    drop(o);
    assert_eq!(rows_of(&p), ok_rows(&[0, 1, 2, 3]));
}

/// A journal naming an item whose row cannot be recovered is refused, never
/// silently resumed without it.
#[test]
fn a_light_line_whose_row_is_lost_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("o.parquet");
    {
        let mut o = OutputWriter::open(&p, &job(Some(2)), &opts()).unwrap();
        o.writer.line(0, 0, None, Some(&raw(0)), None).unwrap();
        checkpoint(&mut o.writer, true);
    }
    std::fs::remove_file(checkpoint_path(&p)).unwrap();
    let e = OutputWriter::open(&p, &job(Some(2)), &opts())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("o.parquet.partial.jsonl")
            && e.contains("item 0")
            && e.contains("start the job over"),
        "{e}"
    );
}

/// A journal of an earlier version of biolm (lines with their results) is
/// replayed into the Parquet file.
#[test]
fn a_journal_with_result_text_is_replayed() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("o.parquet");
    let mut text = crate::jsonl::header_line("fp1", "m", "a", Some(2));
    crate::jsonl::write_line_text(&mut text, 0, 0, None, Some(raw(0).get()), None).unwrap();
    std::fs::write(journal_path(&p), &text).unwrap();
    let mut o = OutputWriter::open(&p, &job(Some(2)), &opts()).unwrap();
    assert_eq!(o.done.len(), 1);
    o.writer.line(1, 1, None, Some(&raw(1)), None).unwrap();
    o.writer.finish().unwrap();
    drop(o);
    assert_eq!(rows_of(&p), ok_rows(&[0, 1]));
}
