//! `--structures-dir`: write structure strings found in results (PDB or mmCIF text
//! under keys such as `pdb`, `cif`, `structure_cif`) to one file per item.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The file stems of a whole input (read in the validation pass), so that
/// every item's file name depends on the input alone: a resumed run names an
/// item's file as the first run did, and never gives it another item's name.
///
/// An id whose stem (sanitised, compared without case, as file systems may)
/// is unique in the input names its file (`a.pdb`); a stem shared by several
/// items gets the item's input index (`a.2.pdb`, `a.7.pdb`). 8 to 16 bytes per
/// item, only with `--structures-dir`.
#[derive(Debug, Default)]
pub struct StemIndex {
    all: HashSet<u64>,
    repeated: HashSet<u64>,
}

fn key(stem: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    stem.to_lowercase().hash(&mut h);
    h.finish()
}

/// The stem of an item's files: its sanitised id, `item<index>` without one.
fn stem_of(index: usize, id: Option<&str>) -> String {
    id.map(sanitize)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("item{index}"))
}

impl StemIndex {
    /// Records the item at `index` with its id.
    pub fn add(&mut self, index: usize, id: Option<&str>) {
        let k = key(&stem_of(index, id));
        if !self.all.insert(k) {
            self.repeated.insert(k);
        }
    }

    fn is_repeated(&self, stem: &str) -> bool {
        self.repeated.contains(&key(stem))
    }

    fn is_taken(&self, name: &str) -> bool {
        self.all.contains(&key(name))
    }
}

/// Writes the structures of results into one directory, naming files after item ids.
pub struct StructureWriter {
    dir: PathBuf,
    /// The stems of the whole input; `None` when the input was not read
    /// beforehand (read once, streamed): then every name carries the index
    /// when its stem was already used in this run.
    stems: Option<StemIndex>,
    used: HashSet<String>,
    /// Files written so far.
    pub written: usize,
}

impl StructureWriter {
    /// Creates `dir` if needed.
    pub fn new(dir: &Path, stems: Option<StemIndex>) -> std::io::Result<StructureWriter> {
        std::fs::create_dir_all(dir)?;
        Ok(StructureWriter {
            dir: dir.to_path_buf(),
            stems,
            used: HashSet::new(),
            written: 0,
        })
    }

    /// The base name of the files of item `index`.
    fn base(&mut self, index: usize, id: Option<&str>) -> String {
        let stem = stem_of(index, id);
        match &self.stems {
            Some(st) => {
                if !st.is_repeated(&stem) {
                    return stem;
                }
                let mut name = format!("{stem}.{index}");
                // An id of another item that reads like this name keeps it.
                while st.is_taken(&name) {
                    name.push('_');
                }
                name
            }
            None => {
                if self.used.insert(stem.to_lowercase()) {
                    stem
                } else {
                    format!("{stem}.{index}")
                }
            }
        }
    }

    /// Writes every structure in `result` (the raw JSON of one item's result) and
    /// returns the paths written. Each file is written beside its final name and
    /// renamed into place, so a file is always whole.
    pub fn write(
        &mut self,
        index: usize,
        id: Option<&str>,
        result: &str,
    ) -> std::io::Result<Vec<PathBuf>> {
        let Ok(value) = serde_json::from_str::<Value>(result) else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        collect(&value, "", false, &mut found);
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let base = self.base(index, id);
        let mut paths = Vec::new();
        let several = found.len() > 1;
        for (k, (path, text)) in found.iter().enumerate() {
            let ext = if text.trim_start().starts_with("data_") {
                "cif"
            } else {
                "pdb"
            };
            let name = if several {
                let tag = if path.is_empty() {
                    k.to_string()
                } else {
                    sanitize(path)
                };
                format!("{base}.{tag}")
            } else {
                base.clone()
            };
            let file = format!("{name}.{ext}");
            let p = self.dir.join(&file);
            write_atomically(&self.dir, &file, text.as_bytes())?;
            self.written += 1;
            paths.push(p);
        }
        Ok(paths)
    }
}

/// Writes `dir/name` through a temporary file in `dir` and a rename.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(dir.join(name)).map_err(|e| e.error)?;
    Ok(())
}

/// Whether a key names a structure (`pdb`, `cif`, `mmcif`, `structure_cif`, `*_pdb`...).
fn structure_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "pdb"
        || k == "cif"
        || k == "mmcif"
        || k.ends_with("_pdb")
        || k.ends_with("_cif")
        || k.starts_with("pdb_packed")
        || k.contains("pdb_string")
}

/// Text that looks like PDB or mmCIF.
fn looks_like_structure(s: &str) -> bool {
    let t = s.trim_start();
    t.starts_with("data_")
        || s.contains("ATOM  ")
        || s.contains("HETATM")
        || t.starts_with("HEADER")
        || t.starts_with("MODEL")
}

fn collect(v: &Value, path: &str, under_key: bool, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) if under_key && looks_like_structure(s) => {
            out.push((path.to_string(), s.clone()))
        }
        Value::Object(map) => {
            for (k, child) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                collect(child, &p, under_key || structure_key(k), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let p = if path.is_empty() {
                    i.to_string()
                } else {
                    format!("{path}.{i}")
                };
                collect(child, &p, under_key, out);
            }
        }
        _ => {}
    }
}

/// Keeps letters, digits, `-`, `_` and `.`; anything else becomes `_`; no leading dot;
/// at most 100 characters.
pub fn sanitize(id: &str) -> String {
    let mut s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    while s.starts_with('.') {
        s.replace_range(..1, "_");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDB: &str =
        "ATOM      1  CA  MET A   1      11.104  13.207   2.100  1.00 80.00           C\nEND\n";

    #[test]
    fn names_files_by_sanitised_id() {
        let d = tempfile::tempdir().unwrap();
        let mut w = StructureWriter::new(d.path(), None).unwrap();
        let r = serde_json::json!({"pdb": PDB, "mean_plddt": 80.0}).to_string();
        let p = w.write(0, Some("sp|P1/x y"), &r).unwrap();
        assert_eq!(p, vec![d.path().join("sp_P1_x_y.pdb")]);
        assert_eq!(std::fs::read_to_string(&p[0]).unwrap(), PDB);
        // Same id again: the index keeps the names apart.
        let p = w.write(3, Some("sp|P1/x y"), &r).unwrap();
        assert_eq!(p, vec![d.path().join("sp_P1_x_y.3.pdb")]);
        // No id: the index names the file; CIF detected from content.
        let r = serde_json::json!({"cif": "data_x\n_atom_site.id 1\n"}).to_string();
        assert_eq!(
            w.write(7, None, &r).unwrap(),
            vec![d.path().join("item7.cif")]
        );
        // Strings that are not structures, or not under a structure key, are left alone.
        let r = serde_json::json!({"pdb_res": ["A"], "note": PDB}).to_string();
        assert!(w.write(8, Some("z"), &r).unwrap().is_empty());
        assert_eq!(sanitize("..a"), "_.a");
        // Only the structure files: no temporary file is left.
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 3);
    }

    #[test]
    fn names_depend_on_the_whole_input_so_a_resume_never_takes_another_items_name() {
        let ids = [Some("a"), Some("b"), Some("A"), Some("a.2"), None];
        let index = || {
            let mut st = StemIndex::default();
            for (i, id) in ids.iter().enumerate() {
                st.add(i, *id);
            }
            st
        };
        let r = serde_json::json!({"pdb": PDB}).to_string();
        let d = tempfile::tempdir().unwrap();
        let name = |w: &mut StructureWriter, i: usize| {
            let p = w.write(i, ids[i], &r).unwrap();
            p[0].file_name().unwrap().to_string_lossy().into_owned()
        };
        // A first run that wrote items 2 and 4, a resumed run that writes the rest,
        // in another order: every item keeps one name of its own.
        let mut first = StructureWriter::new(d.path(), Some(index())).unwrap();
        let mut names = vec![name(&mut first, 2), name(&mut first, 4)];
        let mut resumed = StructureWriter::new(d.path(), Some(index())).unwrap();
        for i in [3, 1, 0] {
            names.push(name(&mut resumed, i));
        }
        assert_eq!(
            names,
            ["A.2_.pdb", "item4.pdb", "a.2.pdb", "b.pdb", "a.0.pdb"]
        );
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 5);
    }
}
