//! NumPy's `.npz` for embedding actions (`-o out.npz`, `--output-format npz`,
//! or [`write_file`] from a JSONL output): a zip of the very members of the
//! [`npy`] directory (`index.npy`, `ids.txt`, `errors.jsonl`, the
//! float32 matrices and the ragged arrays with their `_offsets.npy`), so
//! `np.load("out.npz")["embeddings"]` reads what `embeddings.npy` holds.
//!
//! Members are **stored** (not deflated): the arrays are float32, which
//! deflate shrinks little (about 10% on embeddings) at a large CPU cost, and
//! stored members are what `np.savez` writes and what `np.load(.., mmap_mode)`
//! users expect. The zip container is written here (local headers, central
//! directory, Zip64 records when a member or the archive passes 4 GiB) rather
//! than by a zip crate: it is about a hundred lines with nothing to configure,
//! and needs no new dependency.
//!
//! The arrays are first written as a directory beside the output
//! (`out.npz.partial.d`), then copied into `out.npz.partial` and renamed onto
//! `out.npz`: a killed run never leaves a half `.npz` under the final name.
//! A run writing `.npz` is journaled and resumed like Parquet (the lines go to
//! `out.npz.partial.jsonl` until the end).

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::npy::{self, NpyWritten};
use crate::Error;

/// Above this, a size or offset needs Zip64 records.
const ZIP32_MAX: u64 = 0xFFFF_FFFF;

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Writes the `.npz` file `out` from the JSONL output `input` (`out` must not
/// exist, or be empty). Returns what the arrays hold.
pub fn write_file(input: &Path, out: &Path) -> Result<NpyWritten, Error> {
    if std::fs::metadata(out).is_ok_and(|m| m.is_dir() || m.len() > 0) {
        return Err(Error::OutputRefused {
            path: out.to_owned(),
            message: "exists and is not empty: .npz files are final once written; pick another path, or delete it".into(),
        });
    }
    let staging = with_suffix(out, ".partial.d");
    if staging.exists() {
        // Left by a run killed while finishing: ours to redo.
        std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    let written = npy::write_dir(input, &staging)?;
    let mut members: Vec<String> = written.arrays.clone();
    members.extend(["ids.txt".to_string(), "errors.jsonl".to_string()]);
    let partial = with_suffix(out, ".partial");
    let files: Vec<(String, PathBuf)> = members
        .into_iter()
        .map(|m| {
            let p = staging.join(&m);
            (m, p)
        })
        .collect();
    zip_stored(&partial, &files, ZIP32_MAX)?;
    std::fs::rename(&partial, out).map_err(io(out))?;
    std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    Ok(written)
}

/// One member written: where its local header is, its size and CRC-32.
struct Member {
    name: String,
    offset: u64,
    size: u64,
    crc: u32,
}

/// Whether `x` needs a Zip64 field (over `limit`, which is [`ZIP32_MAX`]
/// except in tests).
fn big(x: u64, limit: u64) -> bool {
    x >= limit
}

/// DOS date 1980-01-01, time 00:00: a fixed stamp, so the same arrays make
/// the same file.
const DOS_DATE: u16 = (1 << 5) | 1;

/// Writes `files` (member name, file on disk) as a zip of stored members to
/// `path`; sizes and offsets from `limit` on use Zip64 records.
fn zip_stored(path: &Path, files: &[(String, PathBuf)], limit: u64) -> Result<(), Error> {
    let err = io(path);
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).map_err(&err)?);
    let mut members = Vec::with_capacity(files.len());
    let mut pos = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    for (name, file) in files {
        let src_err = io(file);
        let mut src = File::open(file).map_err(&src_err)?;
        let size = src.metadata().map_err(&src_err)?.len();
        let zip64 = big(size, limit);
        let extra: Vec<u8> = if zip64 {
            let mut e = Vec::with_capacity(20);
            e.extend_from_slice(&1u16.to_le_bytes());
            e.extend_from_slice(&16u16.to_le_bytes());
            e.extend_from_slice(&size.to_le_bytes());
            e.extend_from_slice(&size.to_le_bytes());
            e
        } else {
            Vec::new()
        };
        let size32 = if zip64 { u32::MAX } else { size as u32 };
        let mut h = Vec::with_capacity(30 + name.len() + extra.len());
        h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        h.extend_from_slice(&(if zip64 { 45u16 } else { 20 }).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes()); // flags
        h.extend_from_slice(&0u16.to_le_bytes()); // stored
        h.extend_from_slice(&0u16.to_le_bytes()); // time
        h.extend_from_slice(&DOS_DATE.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes()); // CRC-32, set below
        h.extend_from_slice(&size32.to_le_bytes());
        h.extend_from_slice(&size32.to_le_bytes());
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        h.extend_from_slice(&(extra.len() as u16).to_le_bytes());
        h.extend_from_slice(name.as_bytes());
        h.extend_from_slice(&extra);
        out.write_all(&h).map_err(&err)?;
        let mut crc = flate2::Crc::new();
        let mut copied = 0u64;
        loop {
            let n = src.read(&mut buf).map_err(&src_err)?;
            if n == 0 {
                break;
            }
            crc.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(&err)?;
            copied += n as u64;
        }
        if copied != size {
            return Err(Error::OutputRefused {
                path: file.clone(),
                message: format!("changed while being zipped ({size} bytes, then {copied})"),
            });
        }
        members.push(Member {
            name: name.clone(),
            offset: pos,
            size,
            crc: crc.sum(),
        });
        pos += h.len() as u64 + size;
    }
    let mut f = out.into_inner().map_err(|e| err(e.into_error()))?;
    for m in &members {
        f.seek(SeekFrom::Start(m.offset + 14)).map_err(&err)?;
        f.write_all(&m.crc.to_le_bytes()).map_err(&err)?;
    }
    f.seek(SeekFrom::Start(pos)).map_err(&err)?;
    let mut out = BufWriter::new(f);
    let cd_start = pos;
    let mut cd = Vec::new();
    for m in &members {
        let (size_big, off_big) = (big(m.size, limit), big(m.offset, limit));
        let mut extra = Vec::new();
        if size_big {
            extra.extend_from_slice(&m.size.to_le_bytes());
            extra.extend_from_slice(&m.size.to_le_bytes());
        }
        if off_big {
            extra.extend_from_slice(&m.offset.to_le_bytes());
        }
        if !extra.is_empty() {
            let mut e = Vec::with_capacity(4 + extra.len());
            e.extend_from_slice(&1u16.to_le_bytes());
            e.extend_from_slice(&(extra.len() as u16).to_le_bytes());
            e.extend_from_slice(&extra);
            extra = e;
        }
        let size32 = if size_big { u32::MAX } else { m.size as u32 };
        let off32 = if off_big { u32::MAX } else { m.offset as u32 };
        let version: u16 = if extra.is_empty() { 20 } else { 45 };
        cd.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        cd.extend_from_slice(&45u16.to_le_bytes()); // made by
        cd.extend_from_slice(&version.to_le_bytes());
        cd.extend_from_slice(&0u16.to_le_bytes()); // flags
        cd.extend_from_slice(&0u16.to_le_bytes()); // stored
        cd.extend_from_slice(&0u16.to_le_bytes()); // time
        cd.extend_from_slice(&DOS_DATE.to_le_bytes());
        cd.extend_from_slice(&m.crc.to_le_bytes());
        cd.extend_from_slice(&size32.to_le_bytes());
        cd.extend_from_slice(&size32.to_le_bytes());
        cd.extend_from_slice(&(m.name.len() as u16).to_le_bytes());
        cd.extend_from_slice(&(extra.len() as u16).to_le_bytes());
        cd.extend_from_slice(&0u16.to_le_bytes()); // comment
        cd.extend_from_slice(&0u16.to_le_bytes()); // disk
        cd.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        cd.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        cd.extend_from_slice(&off32.to_le_bytes());
        cd.extend_from_slice(m.name.as_bytes());
        cd.extend_from_slice(&extra);
    }
    let cd_len = cd.len() as u64;
    let count = members.len() as u64;
    let end64 = big(cd_start, limit) || big(cd_len, limit) || count >= 0xFFFF;
    if end64 {
        let at = cd_start + cd_len;
        cd.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
        cd.extend_from_slice(&44u64.to_le_bytes());
        cd.extend_from_slice(&45u16.to_le_bytes());
        cd.extend_from_slice(&45u16.to_le_bytes());
        cd.extend_from_slice(&0u32.to_le_bytes());
        cd.extend_from_slice(&0u32.to_le_bytes());
        cd.extend_from_slice(&count.to_le_bytes());
        cd.extend_from_slice(&count.to_le_bytes());
        cd.extend_from_slice(&cd_len.to_le_bytes());
        cd.extend_from_slice(&cd_start.to_le_bytes());
        cd.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
        cd.extend_from_slice(&0u32.to_le_bytes());
        cd.extend_from_slice(&at.to_le_bytes());
        cd.extend_from_slice(&1u32.to_le_bytes());
    }
    let count16 = if end64 { u16::MAX } else { count as u16 };
    cd.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    cd.extend_from_slice(&0u16.to_le_bytes());
    cd.extend_from_slice(&0u16.to_le_bytes());
    cd.extend_from_slice(&count16.to_le_bytes());
    cd.extend_from_slice(&count16.to_le_bytes());
    cd.extend_from_slice(&(if end64 { u32::MAX } else { cd_len as u32 }).to_le_bytes());
    cd.extend_from_slice(&(if end64 { u32::MAX } else { cd_start as u32 }).to_le_bytes());
    cd.extend_from_slice(&0u16.to_le_bytes());
    out.write_all(&cd).map_err(&err)?;
    out.flush().map_err(&err)?;
    out.get_ref().sync_all().map_err(&err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }
    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    /// The members a zip's central directory lists: (name, local header
    /// offset, size, crc), read from a plain (not Zip64) archive.
    fn central(b: &[u8]) -> Vec<(String, usize, usize, u32)> {
        let eocd = b.len() - 22;
        assert_eq!(u32_at(b, eocd), 0x0605_4b50);
        let n = u16_at(b, eocd + 10) as usize;
        let mut at = u32_at(b, eocd + 16) as usize;
        let mut out = Vec::new();
        for _ in 0..n {
            assert_eq!(u32_at(b, at), 0x0201_4b50);
            let name_len = u16_at(b, at + 28) as usize;
            let extra_len = u16_at(b, at + 30) as usize;
            let name = String::from_utf8(b[at + 46..at + 46 + name_len].to_vec()).unwrap();
            out.push((
                name,
                u32_at(b, at + 42) as usize,
                u32_at(b, at + 24) as usize,
                u32_at(b, at + 16),
            ));
            at += 46 + name_len + extra_len;
        }
        out
    }

    #[test]
    fn stored_members_are_listed_with_their_offsets_sizes_and_crcs() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.npy");
        let b = d.path().join("b.txt");
        std::fs::write(&a, b"\x93NUMPY array bytes").unwrap();
        std::fs::write(&b, b"").unwrap();
        let z = d.path().join("x.npz");
        zip_stored(
            &z,
            &[("a.npy".into(), a.clone()), ("b.txt".into(), b.clone())],
            ZIP32_MAX,
        )
        .unwrap();
        let bytes = std::fs::read(&z).unwrap();
        let members = central(&bytes);
        assert_eq!(members.len(), 2);
        for ((name, off, size, crc), file) in members.iter().zip([&a, &b]) {
            let want = std::fs::read(file).unwrap();
            let mut c = flate2::Crc::new();
            c.update(&want);
            assert_eq!((*size, *crc), (want.len(), c.sum()), "{name}");
            // The local header says the same, and the data follows it.
            assert_eq!(u32_at(&bytes, *off), 0x0403_4b50);
            assert_eq!(u32_at(&bytes, off + 14), *crc);
            let name_len = u16_at(&bytes, off + 26) as usize;
            let data = off + 30 + name_len + u16_at(&bytes, off + 28) as usize;
            assert_eq!(&bytes[off + 30..off + 30 + name_len], name.as_bytes());
            assert_eq!(&bytes[data..data + size], &want[..]);
        }
    }

    /// Zip64 records (forced with a small limit) read back by Python's
    /// zipfile, which numpy's `np.load` uses.
    #[test]
    fn zip64_records_are_read_by_pythons_zipfile() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.npy");
        std::fs::write(&a, vec![7u8; 300]).unwrap();
        let b = d.path().join("b.npy");
        std::fs::write(&b, vec![9u8; 40]).unwrap();
        let z = d.path().join("x.npz");
        zip_stored(&z, &[("a.npy".into(), a), ("b.npy".into(), b)], 100).unwrap();
        let py = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(sorted((i.filename, i.file_size) for i in z.infolist()), set(z.read('a.npy')), set(z.read('b.npy')))";
        let out = match std::process::Command::new("python3")
            .args(["-c", py])
            .arg(&z)
            .output()
        {
            Ok(o) => o,
            Err(e) => {
                assert_ne!(
                    std::env::var("CI").as_deref(),
                    Ok("true"),
                    "python3 is needed under CI=true: {e}"
                );
                eprintln!("\n*** SKIPPING the Zip64 read-back: no python3 ({e}) ***\n");
                return;
            }
        };
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert_eq!(
            text.trim(),
            "[('a.npy', 300), ('b.npy', 40)] {7} {9}",
            "{text}"
        );
    }

    #[test]
    fn an_existing_output_is_refused_untouched() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("x.npz");
        std::fs::write(&out, b"keep").unwrap();
        let e = write_file(&d.path().join("none.jsonl"), &out).unwrap_err();
        assert!(e.to_string().contains("final once written"), "{e}");
        assert_eq!(std::fs::read(&out).unwrap(), b"keep");
    }
}
