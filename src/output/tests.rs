//! Unit tests of the output writer.

use super::*;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// An in-memory writer whose clones share one buffer: the tests of the
/// formats write through one clone and read the bytes from another.
#[derive(Clone, Default)]
pub(crate) struct Shared(pub(crate) Arc<Mutex<Vec<u8>>>);
impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The job of the outputs of these tests (and of `tests_journal`).
pub(super) fn job(items: Option<usize>) -> Job {
    Job {
        fingerprint: "fp1".into(),
        model: "m".into(),
        action: "a".into(),
        items,
    }
}

#[test]
fn a_file_without_our_header_is_refused_untouched() {
    let d = tempfile::tempdir().unwrap();
    for (name, body) in [
        ("notes.txt", b"remember the milk".to_vec()),
        (
            "blob.bin",
            (0..=255u8).cycle().take(100_000).collect::<Vec<u8>>(),
        ),
        ("lines.jsonl", b"{\"sequence\":\"MK\"}\n".to_vec()),
        ("blank", b"\n".to_vec()),
    ] {
        let p = d.path().join(name);
        std::fs::write(&p, &body).unwrap();
        let e = OutputWriter::open(&p, &job(Some(2)), &OpenOptions::new())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(name) && e.contains("not a biolm JSONL header"),
            "{name}: {e}"
        );
        assert_eq!(std::fs::read(&p).unwrap(), body, "{name} was changed");
    }
}

#[test]
fn a_torn_header_of_ours_is_started_over() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("o.jsonl");
    std::fs::write(&p, b"{\"biolm_js").unwrap();
    let mut o = OutputWriter::open(&p, &job(Some(2)), &OpenOptions::new()).unwrap();
    o.writer.finish().unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(
        text.starts_with("{\"biolm_jsonl\":2,") && text.ends_with("\n"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1);
}

#[test]
fn the_input_file_is_not_the_output() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("items.json");
    std::fs::write(&p, b"[{\"sequence\":\"MK\"}]").unwrap();
    let other = d.path().join(".").join("items.json");
    let e = OutputWriter::open(&p, &job(Some(1)), &OpenOptions::new().not_the_input(&other))
        .unwrap_err()
        .to_string();
    assert!(e.contains("is the input file"), "{e}");
    assert_eq!(std::fs::read(&p).unwrap(), b"[{\"sequence\":\"MK\"}]");
}

#[test]
fn a_second_writer_is_refused_while_the_first_holds_the_file() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("o.jsonl");
    let first = OutputWriter::open(&p, &job(Some(2)), &OpenOptions::new()).unwrap();
    let e = OutputWriter::open(&p, &job(Some(2)), &OpenOptions::new()).unwrap_err();
    assert!(matches!(e, Error::OutputLocked { .. }), "{e}");
    assert!(e.to_string().contains("another run holds it"), "{e}");
    let e = jsonl::drop_error_lines(&p).unwrap_err();
    assert!(matches!(e, Error::OutputLocked { .. }), "{e}");
    drop(first);
    assert!(OutputWriter::open(&p, &job(Some(2)), &OpenOptions::new()).is_ok());
}

#[test]
fn retry_failed_keeps_the_lock_on_the_rewritten_file() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("o.jsonl");
    let mut o = OutputWriter::open(&p, &job(Some(2)), &OpenOptions::new()).unwrap();
    let err = ItemError {
        index: 1,
        kind: crate::ItemErrorKind::Unavailable,
        field: None,
        status: None,
        request_id: None,
        message: "down".into(),
    };
    o.writer.line(1, 0xa2, None, None, Some(&err)).unwrap();
    o.writer.finish().unwrap();
    drop(o);
    let o = OutputWriter::open(&p, &job(Some(2)), &OpenOptions::new().retry_failed(true)).unwrap();
    assert_eq!((o.retrying, o.done.len()), (1, 0));
    let e = OutputWriter::open(&p, &job(Some(2)), &OpenOptions::new()).unwrap_err();
    assert!(matches!(e, Error::OutputLocked { .. }), "{e}");
}

#[cfg(unix)]
#[test]
fn devices_are_streamed_to_without_reading_or_truncating() {
    let p = Path::new("/dev/null");
    let mut o = OutputWriter::open(p, &job(Some(2)), &OpenOptions::new()).unwrap();
    assert!(o.writer.is_streaming() && !o.writer.is_resumable());
    o.writer.line(0, 1, None, None, None).unwrap();
    o.writer.finish().unwrap();
    let e = OutputWriter::open(p, &job(Some(2)), &OpenOptions::new().retry_failed(true))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a regular file"), "{e}");
}

#[test]
fn gzip_outputs_are_written_once_and_not_resumed() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("o.jsonl.gz");
    let mut o = OutputWriter::open(&p, &job(Some(1)), &OpenOptions::new()).unwrap();
    assert!(!o.writer.is_resumable());
    let raw = crate::RawResult::from_json("[1]".into()).unwrap();
    o.writer.line(0, 5, None, Some(&raw), None).unwrap();
    o.writer.finish().unwrap();
    drop(o);
    let bytes = std::fs::read(&p).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
        .unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    let e = OutputWriter::open(&p, &job(Some(1)), &OpenOptions::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("not resumed"), "{e}");
    assert_eq!(std::fs::read(&p).unwrap(), bytes);
}

/// Writes a finished output of `kind` at `path` with one embedding row.
fn finished_output(path: &Path, kind: Kind, opts: OpenOptions) {
    let result =
        crate::RawResult::from_json(r#"{"embeddings":[{"layer":6,"embedding":[0.5,1.0]}]}"#.into())
            .unwrap();
    let mut o = OutputWriter::open(path, &job(Some(1)), &opts.kind(kind)).unwrap();
    o.writer.line(0, 1, None, Some(&result), None).unwrap();
    o.writer.finish().unwrap();
}

/// The refusal of `path` as an output of `kind`, which must leave `path` as it was.
fn refusal(path: &Path, kind: Kind) -> String {
    let before = snapshot(path);
    let e = OutputWriter::open(path, &job(Some(1)), &OpenOptions::new().kind(kind))
        .err()
        .unwrap_or_else(|| panic!("{} was not refused", path.display()))
        .to_string();
    assert_eq!(snapshot(path), before, "{} was changed", path.display());
    e
}

/// A file's bytes, or a directory's file names and bytes.
fn snapshot(path: &Path) -> Vec<(String, Vec<u8>)> {
    if path.is_dir() {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    } else {
        vec![(String::new(), std::fs::read(path).unwrap())]
    }
}

const FINISHED: &str = "already holds a finished output";

#[test]
fn a_foreign_file_at_an_npz_path_is_not_called_a_finished_output() {
    let d = tempfile::tempdir().unwrap();
    let notes = d.path().join("notes.npz");
    std::fs::write(&notes, b"remember the milk").unwrap();
    let e = refusal(&notes, Kind::Npz);
    assert!(
        e.contains("already exists and is not a NumPy .npz output of biolm")
            && !e.contains(FINISHED),
        "{e}"
    );
    let ours = d.path().join("out.npz");
    finished_output(&ours, Kind::Npz, OpenOptions::new());
    assert!(refusal(&ours, Kind::Npz).contains(FINISHED));
}

#[test]
fn a_foreign_directory_or_file_at_an_npy_path_is_not_called_a_finished_output() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("mine");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), b"remember the milk").unwrap();
    let file = d.path().join("file");
    std::fs::write(&file, b"remember the milk").unwrap();
    for p in [&dir, &file] {
        let e = refusal(p, Kind::NpyDir);
        assert!(
            e.contains("already exists and is not an npy directory output of biolm")
                && !e.contains(FINISHED),
            "{e}"
        );
    }
    let ours = d.path().join("out");
    finished_output(&ours, Kind::NpyDir, OpenOptions::new());
    assert!(ours.join("index.npy").is_file());
    assert!(refusal(&ours, Kind::NpyDir).contains(FINISHED));
}

#[test]
fn a_foreign_file_at_a_parquet_path_is_not_called_a_finished_output() {
    let d = tempfile::tempdir().unwrap();
    // Not Parquet, and a file that starts like one but was cut short.
    let notes = d.path().join("notes.parquet");
    std::fs::write(&notes, b"remember the milk").unwrap();
    let cut = d.path().join("cut.parquet");
    std::fs::write(&cut, b"PAR1\x15\x04\x15\x10").unwrap();
    for p in [&notes, &cut] {
        let e = refusal(p, Kind::Parquet);
        assert!(
            e.contains("already exists and is not a Parquet output of biolm")
                && !e.contains(FINISHED),
            "{e}"
        );
    }
    #[cfg(feature = "parquet")]
    {
        let schema = serde_json::json!({"properties": {"results": {"items": {"type": "object",
            "properties": {"embeddings": {"type": "array", "items": {"type": "object",
                "properties": {"layer": {"type": "integer"},
                    "embedding": {"type": "array", "items": {"type": "number"}}}}}}}}}});
        let ours = d.path().join("out.parquet");
        finished_output(
            &ours,
            Kind::Parquet,
            OpenOptions::new().response_schema(schema),
        );
        assert!(refusal(&ours, Kind::Parquet).contains(FINISHED));
    }
}
