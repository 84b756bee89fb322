//! A directory of NumPy `.npy` arrays for embedding actions
//! (`--output-format npy`, or [`write_dir`] from a JSONL output).
//!
//! Rows are the items that succeeded, in input order:
//!
//! - `index.npy` (int64, N): each row's input index; `ids.txt`: each row's id
//!   (one a line, empty when the item had none);
//! - a field holding one vector per layer (`embeddings: [{layer, embedding}]`,
//!   the mean embeddings) becomes one N x D float32 matrix, `embeddings.npy`
//!   (`embeddings_layer<L>.npy` when there are several layers);
//! - a field holding a matrix per item (`residue_embeddings: [{layer, embeddings}]`,
//!   `logits`, `contacts`) is **ragged**: all items' rows stacked into one
//!   (total rows) x D float32 array, `residue_embeddings.npy`, with
//!   `residue_embeddings_offsets.npy` (int64, N + 1): item `k`'s rows are
//!   `a[off[k]:off[k+1]]`. Ragged with offsets rather than one file per item:
//!   two files whatever N, one `np.load(.., mmap_mode="r")` reads any item
//!   without loading the rest, and it is how per-token arrays are usually
//!   stored (like Arrow's list offsets);
//! - a flat list of numbers per item becomes an N x D matrix.
//!
//! Items that failed go to `errors.jsonl` (their JSONL lines); other result
//! fields (strings, scalars) are not written (write Parquet for them). An
//! item missing an array field the others have gets a row of NaN (a matrix)
//! or no rows (ragged). Arrays are written as they fill and their headers
//! fixed at the end.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::array_tree::{ArrayLine, Node};

use crate::Error;

/// Bytes reserved for an `.npy` header (rewritten at the end).
const HEADER: usize = 128;

/// What [`write_dir`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NpyWritten {
    /// Rows (items that succeeded).
    pub rows: usize,
    /// Items that failed (in `errors.jsonl`).
    pub errors: usize,
    /// The arrays written (file names).
    pub arrays: Vec<String>,
}

/// One array file being written.
struct Array {
    name: String,
    out: BufWriter<File>,
    path: PathBuf,
    /// Row width (D).
    dim: Option<usize>,
    /// Rows written.
    rows: usize,
    /// Ragged: offsets per item.
    offsets: Option<Vec<i64>>,
    /// Items before this array first appeared (NaN rows owed).
    owed: usize,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

fn refused(path: &Path, message: impl Into<String>) -> Error {
    Error::OutputRefused {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// The `.npy` header (format 1.0) of `descr` and `shape`, padded to `HEADER` bytes.
fn header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let shape = match shape {
        [n] => format!("({n},)"),
        s => format!(
            "({})",
            s.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    let len = HEADER - 10;
    h.extend_from_slice(&(len as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    while h.len() < HEADER - 1 {
        h.push(b' ');
    }
    h.push(b'\n');
    h
}

impl Array {
    fn create(dir: &Path, name: &str, ragged: bool, owed: usize) -> Result<Array, Error> {
        let path = dir.join(format!("{name}.npy"));
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&path).map_err(io(&path))?);
        out.write_all(&[0u8; HEADER]).map_err(io(&path))?;
        Ok(Array {
            name: name.to_string(),
            out,
            path,
            dim: None,
            rows: 0,
            offsets: ragged.then(|| vec![0; owed + 1]),
            owed: if ragged { 0 } else { owed },
        })
    }

    fn row(&mut self, values: &[f32]) -> Result<(), Error> {
        match self.dim {
            None => self.dim = Some(values.len()),
            Some(d) if d != values.len() => {
                return Err(refused(
                    &self.path,
                    format!(
                        "rows of different widths ({d} and {}): write Parquet for this result",
                        values.len()
                    ),
                ))
            }
            Some(_) => {}
        }
        if self.owed > 0 {
            let d = self.dim.unwrap_or(0);
            let nan = f32::NAN.to_le_bytes();
            for _ in 0..self.owed * d {
                self.out.write_all(&nan).map_err(io(&self.path))?;
            }
            self.rows += self.owed;
            self.owed = 0;
        }
        let mut buf = Vec::with_capacity(values.len() * 4);
        for x in values {
            buf.extend_from_slice(&x.to_le_bytes());
        }
        self.out.write_all(&buf).map_err(io(&self.path))?;
        self.rows += 1;
        Ok(())
    }

    /// Ends one item: a ragged array records its offset; a matrix without a
    /// row for it gets NaN.
    fn end_item(&mut self, had: bool) -> Result<(), Error> {
        if let Some(o) = &mut self.offsets {
            o.push(self.rows as i64);
        } else if !had {
            match self.dim {
                Some(d) => {
                    let nan = f32::NAN.to_le_bytes();
                    for _ in 0..d {
                        self.out.write_all(&nan).map_err(io(&self.path))?;
                    }
                    self.rows += 1;
                }
                None => self.owed += 1,
            }
        }
        Ok(())
    }

    fn finish(mut self, dir: &Path, names: &mut Vec<String>) -> Result<(), Error> {
        let d = self.dim.unwrap_or(0);
        self.out.flush().map_err(io(&self.path))?;
        let mut f = self
            .out
            .into_inner()
            .map_err(|e| io(&self.path)(e.into_error()))?;
        f.seek(SeekFrom::Start(0)).map_err(io(&self.path))?;
        f.write_all(&header("<f4", &[self.rows, d]))
            .map_err(io(&self.path))?;
        names.push(format!("{}.npy", self.name));
        if let Some(o) = self.offsets {
            let name = format!("{}_offsets", self.name);
            write_i64(&dir.join(format!("{name}.npy")), &o)?;
            names.push(format!("{name}.npy"));
        }
        Ok(())
    }
}

fn write_i64(path: &Path, values: &[i64]) -> Result<(), Error> {
    let mut out = BufWriter::new(File::create(path).map_err(io(path))?);
    out.write_all(&header("<i8", &[values.len()]))
        .map_err(io(path))?;
    for v in values {
        out.write_all(&v.to_le_bytes()).map_err(io(path))?;
    }
    out.flush().map_err(io(path))
}

/// The rows of a list whose elements are all lists of numbers.
fn rows_of(list: &[Node]) -> Option<Vec<&[f32]>> {
    list.iter()
        .map(|r| match r {
            Node::Numbers(xs) => Some(xs.as_slice()),
            _ => None,
        })
        .collect()
}

/// The arrays of one result: (name, ragged, rows), fields in name order.
fn arrays_of(result: &Node) -> Vec<(String, bool, Vec<&[f32]>)> {
    let mut out = Vec::new();
    for (key, v) in result.fields() {
        let list = match v {
            Node::Numbers(xs) if !xs.is_empty() => {
                out.push((key.to_string(), false, vec![xs.as_slice()]));
                continue;
            }
            Node::List(list) => list,
            _ => continue,
        };
        if let Some(rows) = rows_of(list) {
            out.push((key.to_string(), true, rows));
            continue;
        }
        // Per-layer objects: {layer, embedding} or {layer, embeddings}.
        if !list.iter().all(|l| matches!(l, Node::Object(_))) {
            continue;
        }
        let several = list.len() > 1;
        for l in list {
            let name = match (several, l.get("layer")) {
                (true, Some(Node::Int(n))) => format!("{key}_layer{n}"),
                _ => key.to_string(),
            };
            match (l.get("embedding"), l.get("embeddings")) {
                (Some(Node::Numbers(e)), _) => out.push((name, false, vec![e.as_slice()])),
                (_, Some(Node::Numbers(m))) if m.is_empty() => out.push((name, true, vec![])),
                (_, Some(Node::List(m))) => {
                    if let Some(rows) = rows_of(m) {
                        out.push((name, true, rows));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Writes the directory of arrays `dir` from the JSONL output `input`
/// (created; it must not exist or be empty). Reads the file twice: once for
/// where each index's line is, once in input order.
pub fn write_dir(input: &Path, dir: &Path) -> Result<NpyWritten, Error> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(refused(
            dir,
            "exists and is not an empty directory: pick another path, or delete it",
        ));
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    // Pass 1: where each index's line is (the first, complete ones).
    let mut at: BTreeMap<u64, (u64, usize)> = BTreeMap::new();
    {
        let mut r = BufReader::with_capacity(1 << 20, File::open(input).map_err(io(input))?);
        let mut buf = Vec::new();
        let mut pos = r.read_until(b'\n', &mut buf).map_err(io(input))? as u64;
        loop {
            buf.clear();
            let n = r.read_until(b'\n', &mut buf).map_err(io(input))?;
            if n == 0 || buf.last() != Some(&b'\n') {
                break;
            }
            #[derive(serde::Deserialize)]
            struct Index {
                index: u64,
            }
            // Only the index: the line's first key.
            let end = buf.iter().position(|b| *b == b',').unwrap_or(buf.len());
            let mut head = buf[..end].to_vec();
            head.push(b'}');
            if let Ok(i) = serde_json::from_slice::<Index>(&head) {
                at.entry(i.index).or_insert((pos, n));
            }
            pos += n as u64;
        }
    }
    // Pass 2: in input order.
    let mut f = File::open(input).map_err(io(input))?;
    let mut arrays: Vec<Array> = Vec::new();
    let mut index = Vec::new();
    let mut ids = BufWriter::new(File::create(dir.join("ids.txt")).map_err(io(dir))?);
    let errors_path = dir.join("errors.jsonl");
    let mut errors = BufWriter::new(File::create(&errors_path).map_err(io(&errors_path))?);
    let mut written = NpyWritten::default();
    let mut line = Vec::new();
    for (i, (pos, len)) in &at {
        line.resize(*len, 0);
        f.seek(SeekFrom::Start(*pos)).map_err(io(input))?;
        f.read_exact(&mut line).map_err(io(input))?;
        let v: ArrayLine = serde_json::from_slice(&line)
            .map_err(|e| refused(input, format!("the line of index {i}: {e}")))?;
        let Some(result) = &v.result else {
            errors.write_all(&line).map_err(io(&errors_path))?;
            written.errors += 1;
            continue;
        };
        let found = arrays_of(result);
        let mut had = vec![false; arrays.len()];
        for (name, ragged, rows) in found {
            let k = match arrays.iter().position(|a| a.name == name) {
                Some(k) => k,
                None => {
                    arrays.push(Array::create(dir, &name, ragged, written.rows)?);
                    had.push(false);
                    arrays.len() - 1
                }
            };
            if had[k] {
                continue;
            }
            had[k] = true;
            for r in rows {
                arrays[k].row(r)?;
            }
        }
        for (a, h) in arrays.iter_mut().zip(had) {
            a.end_item(h)?;
        }
        index.push(*i as i64);
        let id = v.id.as_ref().and_then(|id| id.as_str()).unwrap_or("");
        writeln!(ids, "{}", id.replace(['\n', '\r'], " ")).map_err(io(dir))?;
        written.rows += 1;
    }
    ids.flush().map_err(io(dir))?;
    errors.flush().map_err(io(&errors_path))?;
    write_i64(&dir.join("index.npy"), &index)?;
    written.arrays.push("index.npy".into());
    for a in arrays {
        a.finish(dir, &mut written.arrays)?;
    }
    Ok(written)
}
