//! The Parquet file of a journaled Parquet run ([`super::direct_path`]),
//! written as the lines come, with row-group checkpoints
//! ([`super::checkpoint`]).
//!
//! A result is written once, into the Parquet file; its journal line is a
//! light line without the result text ([`crate::jsonl::write_light_line`];
//! error lines stay whole). The journal lines of rows are held back until a
//! checkpoint covers those rows, so every item the journal names is in the
//! rows a checkpoint can recover. A resumed run recovers the file of the last
//! checkpoint, copies the rows of the items the journal names (a row whose
//! journal line was not written yet is dropped, and its item sent again),
//! replays the journal lines that carry their result (or error), and
//! checkpoints the new file before it writes anything else.

use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::BooleanArray;
use arrow_schema::ArrowError;
use parquet::arrow::arrow_reader::{ArrowPredicateFn, ParquetRecordBatchReaderBuilder, RowFilter};
use parquet::arrow::ProjectionMask;

use super::checkpoint::{self, checkpoint_path, previous_path};
use super::columns::Shape;
use super::format::{Line, OutputFormat};
use super::parquet::Parquet;
use super::{convert, direct_path, io_err, refused, OpenOptions};
use crate::jsonl::DoneSet;
use crate::Error;

/// The Parquet file of a journaled run, and the journal lines waiting for a
/// checkpoint of their rows.
pub(super) struct Direct {
    pub(super) path: PathBuf,
    checkpoint: PathBuf,
    pub(super) format: Parquet,
    /// Journal lines of the rows after `held_from`, in row order.
    held: VecDeque<Vec<u8>>,
    /// The row (of the file) the first held line is for.
    held_from: u64,
}

fn remove(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(path)(e)),
        _ => Ok(()),
    }
}

impl Direct {
    /// Starts the Parquet file of the journaled output `target` (its journal
    /// opened and locked, holding the items `done`): the journal's header,
    /// the recovered rows of the earlier runs, then the journal lines that
    /// carry their result; checkpointed before anything else is written.
    pub(super) fn start(
        journal: &Path,
        target: &Path,
        options: &OpenOptions,
        done: &DoneSet,
    ) -> Result<Direct, Error> {
        let path = direct_path(target);
        let ck_path = checkpoint_path(target);
        let prev = previous_path(target);
        if done.is_empty() {
            // Nothing to recover (a new journal, or only error lines dropped
            // to be retried): left-overs of an earlier file go.
            remove(&prev)?;
        } else if !prev.exists() {
            if let Some(ck) = checkpoint::read(&ck_path)? {
                // The file of the checkpoint, complete; kept aside until the
                // rows it holds are checkpointed in the new file.
                checkpoint::recover(&path, &ck)?;
                std::fs::rename(&path, &prev).map_err(io_err(&prev))?;
            }
        }
        remove(&ck_path)?;
        // A checkpoint being written when a run was killed.
        remove(&checkpoint::temp_path(&ck_path))?;
        let file = File::create(&path).map_err(io_err(&path))?;
        let out = Box::new(std::io::BufWriter::with_capacity(1 << 16, file));
        let shape = options
            .response_schema
            .as_ref()
            .map(Shape::of_result)
            .unwrap_or(Shape::Json);
        let mut format = Parquet::new(out, shape).with_checkpoints(ck_path.clone());
        let mut header = Vec::new();
        {
            use std::io::BufRead;
            let f = File::open(journal).map_err(io_err(journal))?;
            std::io::BufReader::new(f)
                .read_until(b'\n', &mut header)
                .map_err(io_err(journal))?;
        }
        format.header(&header).map_err(io_err(&path))?;
        let copied = if prev.exists() {
            copy_rows(&prev, &mut format, done, target)?
        } else {
            HashSet::new()
        };
        convert::replay(journal, &mut format, &path, copied)?;
        format.checkpoint_now().map_err(io_err(&path))?;
        let held_from = format.take_checkpoint().unwrap_or(0);
        remove(&prev)?;
        Ok(Direct {
            path,
            checkpoint: ck_path,
            format,
            held: VecDeque::new(),
            held_from,
        })
    }

    /// Writes the row of `line`; its journal line (light for a result) is
    /// held until a checkpoint covers the row.
    pub(super) fn line(&mut self, line: &Line<'_>) -> Result<(), Error> {
        let mut text = Vec::new();
        if line.error.is_some() || line.result.is_none() {
            crate::jsonl::write_line_text(
                &mut text,
                line.index,
                line.item_sha,
                line.id,
                line.result,
                line.error,
            )?;
        } else {
            crate::jsonl::write_light_line(&mut text, line.index, line.item_sha, line.id)?;
        }
        self.format.line(line)?;
        self.held.push_back(text);
        Ok(())
    }

    /// Bytes of rows buffered.
    pub(super) fn pending(&self) -> usize {
        self.format.pending()
    }

    /// Writes what is buffered (a checkpoint when it is due) and appends the
    /// journal lines of the rows checkpointed to `journal`.
    pub(super) fn flush(&mut self, journal: &mut dyn Write, jpath: &Path) -> Result<(), Error> {
        self.format.flush().map_err(io_err(&self.path))?;
        if let Some(rows) = self.format.take_checkpoint() {
            let n = rows.saturating_sub(self.held_from) as usize;
            let mut bytes = Vec::new();
            for l in self.held.drain(..n.min(self.held.len())) {
                bytes.extend_from_slice(&l);
            }
            self.held_from = rows;
            journal.write_all(&bytes).map_err(io_err(jpath))?;
            journal.flush().map_err(io_err(jpath))?;
        }
        Ok(())
    }

    /// Checkpoints every row written and appends their journal lines (a run
    /// that stops without finishing).
    pub(super) fn checkpoint(
        &mut self,
        journal: &mut dyn Write,
        jpath: &Path,
    ) -> Result<(), Error> {
        self.format.checkpoint_now().map_err(io_err(&self.path))?;
        self.flush(journal, jpath)
    }

    /// Ends the file, renames it to `target` and removes its checkpoint.
    pub(super) fn finish(mut self, target: &Path) -> Result<(), Error> {
        self.format.finish().map_err(io_err(&self.path))?;
        drop(self.format);
        std::fs::rename(&self.path, target).map_err(io_err(target))?;
        remove(&self.checkpoint)
    }

    /// Drops the rows and journal lines not checkpointed yet: the file and
    /// its checkpoint stay as they are (the rows a checkpoint covers whose
    /// journal lines are not in the journal are dropped by the next run).
    pub(super) fn abandon(mut self) {
        self.format.discard();
        self.held.clear();
    }
}

/// Copies the rows of the recovered file `prev` whose items `done` names
/// (with the same item hash; once each) into `format`; returns their indexes.
fn copy_rows(
    prev: &Path,
    format: &mut Parquet,
    done: &DoneSet,
    target: &Path,
) -> Result<HashSet<usize>, Error> {
    let unreadable = |e: &dyn std::fmt::Display| {
        refused(
            prev,
            format!(
                "holds the rows of the earlier runs of {} but cannot be read ({e}); delete it and the .partial files beside it to start the job over",
                target.display()
            ),
        )
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(checkpoint::open(prev)?)
        .map_err(|e| unreadable(&e))?;
    // Batches of about 8 MiB of decoded rows: per-residue rows are large.
    let (rows, bytes) = builder
        .metadata()
        .row_groups()
        .iter()
        .fold((0i64, 0i64), |(r, b), g| {
            (r + g.num_rows(), b + g.total_byte_size())
        });
    let per_row = (bytes / rows.max(1)).max(1) as usize;
    let batch_rows = ((8 << 20) / per_row).clamp(1, 8192);
    let mask = ProjectionMask::roots(builder.parquet_schema(), [0, 1]);
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let (keep, wanted) = (seen.clone(), done.clone());
    let predicate = ArrowPredicateFn::new(mask, move |batch| {
        let (Some(index), Some(sha)) = (
            batch.column(0).as_primitive_opt::<UInt64Type>(),
            batch.column(1).as_string_opt::<i32>(),
        ) else {
            return Err(ArrowError::SchemaError(
                "its first columns are not index (uint64) and item_sha (text)".into(),
            ));
        };
        let mut seen = keep.lock().unwrap_or_else(|p| p.into_inner());
        let take: Vec<bool> = (0..batch.num_rows())
            .map(|r| {
                let i = index.value(r);
                let ok = u64::from_str_radix(sha.value(r), 16)
                    .is_ok_and(|s| wanted.matches(i, s) == Some(true));
                ok && seen.insert(i as usize)
            })
            .collect();
        Ok(BooleanArray::from(take))
    });
    let reader = builder
        .with_batch_size(batch_rows)
        .with_row_filter(RowFilter::new(vec![Box::new(predicate)]))
        .build()
        .map_err(|e| unreadable(&e))?;
    for batch in reader {
        let batch = batch.map_err(|e| unreadable(&e))?;
        if batch.num_rows() > 0 {
            format.copy_rows(&batch).map_err(|e| unreadable(&e))?;
        }
    }
    let copied = std::mem::take(&mut *seen.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(copied)
}
