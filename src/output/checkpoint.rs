//! Row-group checkpoints of a Parquet file being written
//! ([`super::direct_path`]): where the row groups flushed so far end, and the
//! footer of a file holding exactly those row groups. Cutting the partial file
//! at the offset and appending the footer makes a complete Parquet file of
//! the rows checkpointed ([`recover`]), which is how a killed run's rows are
//! kept without a second copy of their text in the journal.
//!
//! The checkpoint file (`out.parquet.partial.checkpoint`) is replaced in one
//! step (written beside it, then renamed): `BIOLMCK1`, the offset and the row
//! count (little-endian u64 each), then the footer bytes.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::Schema;
use parquet::arrow::ArrowSchemaConverter;
use parquet::file::metadata::{
    FileMetaData, ParquetMetaData, ParquetMetaDataWriter, RowGroupMetaData,
};
use parquet::file::properties::WriterProperties;

use crate::Error;

const MAGIC: &[u8; 8] = b"BIOLMCK1";

/// A checkpoint: the row groups flushed to the file end at `offset`, hold
/// `rows` rows, and `footer` ends a file of exactly them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    /// Where the flushed row groups end in the partial file.
    pub(crate) offset: u64,
    /// Rows in the flushed row groups.
    pub(crate) rows: u64,
    /// The footer (metadata, its length and `PAR1`) of a file of those row groups.
    pub(crate) footer: Vec<u8>,
}

/// The checkpoint file of the Parquet output `target`: `out.parquet.partial.checkpoint`.
pub fn checkpoint_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".partial.checkpoint");
    target.with_file_name(name)
}

/// Where a resumed run keeps the recovered rows of the earlier runs while it
/// copies them into its new partial file: `out.parquet.partial.previous.parquet`
/// (a complete Parquet file; removed once the copy is checkpointed).
pub fn previous_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".partial.previous.parquet");
    target.with_file_name(name)
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// The footer of a file holding `row_groups` (flushed by an Arrow writer of
/// `schema` with `props`), with the key-value metadata the Arrow writer
/// writes (the encoded Arrow schema), so the file reads back with `schema`.
pub(crate) fn footer(
    schema: &Schema,
    props: &WriterProperties,
    row_groups: &[RowGroupMetaData],
) -> parquet::errors::Result<Vec<u8>> {
    let mut props = props.clone();
    parquet::arrow::add_encoded_arrow_schema_to_metadata(schema, &mut props);
    let descr = ArrowSchemaConverter::new()
        .with_coerce_types(props.coerce_types())
        .convert(schema)?;
    let rows = row_groups.iter().map(|g| g.num_rows()).sum();
    let file = FileMetaData::new(
        props.writer_version().as_num(),
        rows,
        Some(props.created_by().to_string()),
        props.key_value_metadata().cloned(),
        Arc::new(descr),
        None,
    );
    let meta = ParquetMetaData::new(file, row_groups.to_vec());
    let mut out = Vec::new();
    ParquetMetaDataWriter::new(&mut out, &meta).finish()?;
    Ok(out)
}

/// The temporary file a checkpoint is written to before it is renamed to `path`.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes `ck` to `path` in one step (a temporary file beside it, renamed).
pub(crate) fn write(path: &Path, ck: &Checkpoint) -> std::io::Result<()> {
    let tmp = temp_path(path);
    let mut bytes = Vec::with_capacity(24 + ck.footer.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&ck.offset.to_le_bytes());
    bytes.extend_from_slice(&ck.rows.to_le_bytes());
    bytes.extend_from_slice(&ck.footer);
    std::fs::write(&tmp, &bytes)?;
    std::fs::rename(&tmp, path)
}

/// The checkpoint at `path`; `None` when there is none.
pub(crate) fn read(path: &Path) -> Result<Option<Checkpoint>, Error> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
    };
    let u64_at = |at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
    };
    match (bytes.starts_with(MAGIC), u64_at(8), u64_at(16)) {
        (true, Some(offset), Some(rows)) if bytes.len() > 24 => Ok(Some(Checkpoint {
            offset,
            rows,
            footer: bytes[24..].to_vec(),
        })),
        _ => Err(Error::OutputRefused {
            path: path.to_owned(),
            message: "is not a checkpoint written by biolm (it is written in one step, so this is not a killed run's): delete it and the .partial files beside it to start the job over".into(),
        }),
    }
}

/// Makes `partial` the complete Parquet file of the rows `ck` covers: cut at
/// the checkpoint's offset, the footer appended. Done again on a file already
/// recovered, it gives the same file.
pub(crate) fn recover(partial: &Path, ck: &Checkpoint) -> Result<(), Error> {
    let io = io_err(partial);
    let mut f = match OpenOptions::new().read(true).write(true).open(partial) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::OutputRefused {
                path: partial.to_owned(),
                message: "is missing, but its .partial.checkpoint says it holds the rows of the earlier runs: they cannot be recovered; delete the .partial.jsonl journal and the .partial.checkpoint beside it to start the job over".into(),
            });
        }
        Err(e) => return Err(io(e)),
    };
    let len = f.metadata().map_err(&io)?.len();
    let mut head = [0u8; 4];
    if len < 4 || len < ck.offset || f.read_exact(&mut head).is_err() || &head != b"PAR1" {
        return Err(Error::OutputRefused {
            path: partial.to_owned(),
            message: format!(
                "holds {len} bytes, but its checkpoint says its rows end at byte {}: the rows of the earlier runs cannot be recovered; delete it, its .partial.jsonl journal and its .partial.checkpoint to start the job over",
                ck.offset
            ),
        });
    }
    f.set_len(ck.offset).map_err(&io)?;
    f.seek(SeekFrom::Start(ck.offset)).map_err(&io)?;
    f.write_all(&ck.footer).map_err(&io)?;
    f.flush().map_err(&io)?;
    drop(f);
    Ok(())
}

/// Opens a recovered file for reading.
pub(crate) fn open(path: &Path) -> Result<File, Error> {
    File::open(path).map_err(io_err(path))
}
