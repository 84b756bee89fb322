//! `--structures-dir`: write structure strings found in results (PDB or mmCIF text
//! under keys such as `pdb`, `cif`, `structure_cif`) to one file per item.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Writes the structures of results into one directory, naming files after item ids.
pub struct StructureWriter {
    dir: PathBuf,
    used: HashSet<String>,
    /// Files written so far.
    pub written: usize,
}

impl StructureWriter {
    /// Creates `dir` if needed.
    pub fn new(dir: &Path) -> std::io::Result<StructureWriter> {
        std::fs::create_dir_all(dir)?;
        Ok(StructureWriter {
            dir: dir.to_path_buf(),
            used: HashSet::new(),
            written: 0,
        })
    }

    /// Writes every structure in `result` (the raw JSON of one item's result) and
    /// returns the paths written.
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
        let stem = id
            .map(sanitize)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("item{index}"));
        let mut paths = Vec::new();
        let several = found.len() > 1;
        for (k, (path, text)) in found.iter().enumerate() {
            let ext = if text.trim_start().starts_with("data_") {
                "cif"
            } else {
                "pdb"
            };
            let mut name = if several {
                let tag = if path.is_empty() {
                    k.to_string()
                } else {
                    sanitize(path)
                };
                format!("{stem}.{tag}")
            } else {
                stem.clone()
            };
            if self.used.contains(&format!("{name}.{ext}")) {
                name = format!("{name}-{index}");
            }
            let file = format!("{name}.{ext}");
            self.used.insert(file.clone());
            let p = self.dir.join(&file);
            std::fs::write(&p, text)?;
            self.written += 1;
            paths.push(p);
        }
        Ok(paths)
    }
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
        let mut w = StructureWriter::new(d.path()).unwrap();
        let r = serde_json::json!({"pdb": PDB, "mean_plddt": 80.0}).to_string();
        let p = w.write(0, Some("sp|P1/x y"), &r).unwrap();
        assert_eq!(p, vec![d.path().join("sp_P1_x_y.pdb")]);
        assert_eq!(std::fs::read_to_string(&p[0]).unwrap(), PDB);
        // Same id again: the index keeps the names apart.
        let p = w.write(3, Some("sp|P1/x y"), &r).unwrap();
        assert_eq!(p, vec![d.path().join("sp_P1_x_y-3.pdb")]);
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
    }
}
