//! The `structure-refs` rule of `x-biolm-rules` (on a request body): params that name
//! chains and residues of the structure each item carries must name ones that exist
//! in it. Chains and residues are read from the PDB text's ATOM/HETATM lines (chain
//! identifier in column 22, residue number in columns 23-26, insertion code in column
//! 27); a residue is named `<chain letters><number><optional insertion letter>`
//! (`A12`, `B52A`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::check::{Path, Seg, Sink};
use super::SchemaError;

/// The parsed rule.
#[derive(Debug, Clone, Default)]
pub(super) struct StructureRefs {
    /// The item field holding PDB text.
    items_field: String,
    /// Params naming chain identifiers (one, or a list).
    chains: Vec<String>,
    /// Params listing residues.
    residues: Vec<String>,
    /// Params that are maps keyed by residue.
    residue_keys: Vec<String>,
    /// Params that are lists of lists of residues.
    residue_groups: Vec<String>,
    /// Pairs of params (lists of lists) whose entries must have equal lengths, entry by entry.
    paired_lengths: Vec<(String, String)>,
}

fn names(map: &Map<String, Value>, key: &str, at: &str) -> Result<Vec<String>, SchemaError> {
    let Some(v) = map.get(key) else {
        return Ok(Vec::new());
    };
    let list = v
        .as_array()
        .ok_or_else(|| SchemaError::new(format!("{at}/{key}"), "must be a list of names"))?;
    list.iter()
        .map(|x| {
            x.as_str()
                .map(str::to_string)
                .ok_or_else(|| SchemaError::new(format!("{at}/{key}"), "must be a list of names"))
        })
        .collect()
}

pub(super) fn parse(map: &Map<String, Value>, at: &str) -> Result<StructureRefs, SchemaError> {
    let items_field = map
        .get("items_field")
        .and_then(Value::as_str)
        .ok_or_else(|| SchemaError::new(format!("{at}/items_field"), "must be a string"))?
        .to_string();
    let mut paired_lengths = Vec::new();
    if let Some(v) = map.get("paired_lengths") {
        let bad = || {
            SchemaError::new(
                format!("{at}/paired_lengths"),
                "must be a list of pairs of names",
            )
        };
        for pair in v.as_array().ok_or_else(bad)? {
            match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(a), Value::String(b)]) => {
                    paired_lengths.push((a.clone(), b.clone()))
                }
                _ => return Err(bad()),
            }
        }
    }
    Ok(StructureRefs {
        items_field,
        chains: names(map, "chains", at)?,
        residues: names(map, "residues", at)?,
        residue_keys: names(map, "residue_keys", at)?,
        residue_groups: names(map, "residue_groups", at)?,
        paired_lengths,
    })
}

/// Chains and their residues `(number, insertion code)` of a PDB text.
#[derive(Debug, Default)]
struct Structure {
    residues: BTreeMap<char, BTreeSet<(String, String)>>,
}

impl Structure {
    fn read(pdb: &str) -> Structure {
        let mut s = Structure::default();
        for line in pdb.lines() {
            if !(line.starts_with("ATOM") || line.starts_with("HETATM")) {
                continue;
            }
            let chars: Vec<char> = line.chars().collect();
            let Some(&chain) = chars.get(21) else {
                continue;
            };
            let number: String = chars
                .get(22..26.min(chars.len()))
                .unwrap_or(&[])
                .iter()
                .collect();
            let insertion: String = chars.get(26).map(|c| c.to_string()).unwrap_or_default();
            s.residues
                .entry(chain)
                .or_default()
                .insert((number.trim().to_string(), insertion.trim().to_string()));
        }
        s
    }

    fn has_chain(&self, name: &str) -> bool {
        let mut it = name.chars();
        match (it.next(), it.next()) {
            (Some(c), None) => self.residues.contains_key(&c),
            _ => false,
        }
    }

    fn chain_list(&self) -> String {
        self.residues
            .keys()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `Err(why)` when `spec` does not name a residue of the structure.
    fn check_residue(&self, spec: &str) -> Result<(), String> {
        let Some((chain, number, insertion)) = split_residue(spec) else {
            return Err(format!(
                "{spec:?} is not a residue: expected <chain><number><optional insertion code>, such as A12"
            ));
        };
        if !self.has_chain(&chain) {
            return Err(format!(
                "{spec:?}: the structure has no chain {chain:?} (chains: {})",
                self.chain_list()
            ));
        }
        let found = chain
            .chars()
            .next()
            .and_then(|c| self.residues.get(&c))
            .is_some_and(|set| set.contains(&(number.clone(), insertion.clone())));
        if found {
            Ok(())
        } else {
            Err(format!(
                "{spec:?}: chain {chain} has no residue {number}{insertion}"
            ))
        }
    }
}

/// `A12`, `B52A`, `Chain115B`: letters, digits, an optional letter (a prefix match,
/// as the server's `re.match`). The number is returned without leading zeros.
fn split_residue(spec: &str) -> Option<(String, String, String)> {
    let chain: String = spec.chars().take_while(char::is_ascii_alphabetic).collect();
    let rest = &spec[chain.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if chain.is_empty() || digits.is_empty() {
        return None;
    }
    let insertion: String = rest[digits.len()..]
        .chars()
        .next()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_string())
        .unwrap_or_default();
    let number = digits.trim_start_matches('0');
    let number = if number.is_empty() { "0" } else { number };
    Some((chain, number.to_string(), insertion))
}

pub(super) fn check(
    rule: &StructureRefs,
    body: &Map<String, Value>,
    path: Option<&Path<'_>>,
    sink: &mut Sink,
) {
    let (Some(Value::Array(items)), Some(Value::Object(params))) =
        (body.get("items"), body.get("params"))
    else {
        return;
    };
    let params_path = Path {
        parent: path,
        seg: Seg::Key("params"),
    };
    for (a, b) in &rule.paired_lengths {
        if let (Some(Value::Array(xs)), Some(Value::Array(ys))) = (params.get(a), params.get(b)) {
            if !xs.is_empty() && !ys.is_empty() {
                for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                    let (Some(x), Some(y)) = (x.as_array(), y.as_array()) else {
                        continue;
                    };
                    if x.len() != y.len() {
                        let p = Path {
                            parent: Some(&params_path),
                            seg: Seg::Key(b),
                        };
                        sink.push(Some(&p), || {
                            format!("entry {i} has {} values but `{a}` entry {i} has {} residues: they must match", y.len(), x.len())
                        });
                    }
                }
            }
        }
    }
    for item in items {
        let Some(pdb) = item.get(&rule.items_field).and_then(Value::as_str) else {
            continue;
        };
        let structure = Structure::read(pdb);
        let mut report = |field: &str, why: String| {
            let p = Path {
                parent: Some(&params_path),
                seg: Seg::Key(field),
            };
            sink.push(Some(&p), || why);
        };
        for field in &rule.chains {
            for chain in strings(params.get(field)) {
                if !structure.has_chain(chain) {
                    report(
                        field,
                        format!(
                            "the structure has no chain {chain:?} (chains: {})",
                            structure.chain_list()
                        ),
                    );
                }
            }
        }
        for field in &rule.residues {
            for spec in strings(params.get(field)) {
                if let Err(why) = structure.check_residue(spec) {
                    report(field, why);
                }
            }
        }
        for field in &rule.residue_keys {
            if let Some(Value::Object(map)) = params.get(field) {
                for spec in map.keys() {
                    if let Err(why) = structure.check_residue(spec) {
                        report(field, why);
                    }
                }
            }
        }
        for field in &rule.residue_groups {
            if let Some(Value::Array(groups)) = params.get(field) {
                for group in groups {
                    for spec in strings(Some(group)) {
                        if let Err(why) = structure.check_residue(spec) {
                            report(field, why);
                        }
                    }
                }
            }
        }
    }
}

/// The strings of a list, or a single string (a param naming one chain).
fn strings(v: Option<&Value>) -> Box<dyn Iterator<Item = &str> + '_> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => Box::new(std::iter::once(s.as_str())),
        Some(Value::Array(a)) => Box::new(a.iter().filter_map(Value::as_str)),
        _ => Box::new(std::iter::empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn residues_are_read_and_named_as_the_server_does() {
        let pdb = "ATOM      1  N   MET A  12      11.104  13.207   2.100  1.00  0.00           N\nATOM      2  N   GLY B  52A     11.104  13.207   2.100  1.00  0.00           N\n";
        let s = Structure::read(pdb);
        assert!(s.has_chain("A") && s.has_chain("B") && !s.has_chain("C") && !s.has_chain("AB"));
        assert!(s.check_residue("A12").is_ok());
        assert!(s.check_residue("A012").is_ok());
        assert!(s.check_residue("B52A").is_ok());
        assert!(s.check_residue("B52").is_err());
        assert!(s.check_residue("A13").is_err());
        assert!(s.check_residue("C1").is_err());
        assert!(s.check_residue("12").is_err());
    }
}
