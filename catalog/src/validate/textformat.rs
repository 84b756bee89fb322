//! `x-biolm-format`: named text formats the server checks on a string field (structure
//! files, chemistry, EC numbers). Each check states the server's own lightweight rule
//! (see `schemas/README.md`); none of them is a full parser.

use serde_json::Value;

use super::SchemaError;

/// A named text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TextFormat {
    /// PDB text: at least one ATOM/HETATM line with three numeric coordinates.
    Pdb,
    /// mmCIF text: a `data_` block with `_atom_site` fields and at least one atom row.
    Mmcif,
    /// SMILES: only SMILES characters, balanced `[]` and `()` counts.
    Smiles,
    /// EC number: 2 to 4 dot-separated numbers (`3.5.5.1`, `3.5`).
    EcNumber,
}

impl TextFormat {
    /// Every name `x-biolm-format` accepts.
    pub(super) const NAMES: &'static [&'static str] = &["pdb", "mmcif", "smiles", "ec-number"];

    pub(super) fn parse(value: &Value, at: &str) -> Result<TextFormat, SchemaError> {
        match value.as_str() {
            Some("pdb") => Ok(TextFormat::Pdb),
            Some("mmcif") => Ok(TextFormat::Mmcif),
            Some("smiles") => Ok(TextFormat::Smiles),
            Some("ec-number") => Ok(TextFormat::EcNumber),
            _ => Err(SchemaError::new(
                at,
                format!("must be one of {}", TextFormat::NAMES.join(", ")),
            )),
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            TextFormat::Pdb => "PDB text",
            TextFormat::Mmcif => "mmCIF text",
            TextFormat::Smiles => "SMILES string",
            TextFormat::EcNumber => "EC number",
        }
    }

    /// `Err(why)` when `s` is not in this format.
    pub(super) fn check(self, s: &str) -> Result<(), String> {
        match self {
            TextFormat::Pdb => check_pdb(s),
            TextFormat::Mmcif => check_mmcif(s),
            TextFormat::Smiles => check_smiles(s),
            TextFormat::EcNumber => check_ec(s),
        }
    }
}

/// Python's `str.splitlines()` boundaries.
fn lines(s: &str) -> impl Iterator<Item = &str> {
    s.split_terminator(|c| {
        matches!(
            c,
            '\n' | '\r'
                | '\u{0b}'
                | '\u{0c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        )
    })
}

/// Python's `float()` on an already trimmed field: decimal, exponent, `inf`/`nan`.
fn is_float(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty() && !t.contains('_') && t.parse::<f64>().is_ok()
}

/// Characters as Python slices them (`line[30:38]`).
fn columns(line: &str, from: usize, to: usize) -> String {
    line.chars().skip(from).take(to - from).collect()
}

fn check_pdb(s: &str) -> Result<(), String> {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Err("it is empty".into());
    }
    if ["{", "[", "<", "data_"]
        .iter()
        .any(|p| trimmed.starts_with(p))
    {
        return Err("it looks like JSON, XML or mmCIF, not PDB".into());
    }
    let mut atoms = 0usize;
    for line in lines(s) {
        if line.chars().count() < 6 {
            continue;
        }
        let record = columns(line, 0, 6);
        let record = record.trim_end();
        if record == "ATOM" || record == "HETATM" {
            let len = line.chars().count();
            if len < 54 {
                return Err(format!(
                    "an ATOM/HETATM line has {len} characters, fewer than the 54 the coordinates need"
                ));
            }
            let (x, y, z) = (
                columns(line, 30, 38),
                columns(line, 38, 46),
                columns(line, 46, 54),
            );
            if x.trim().is_empty() || y.trim().is_empty() || z.trim().is_empty() {
                return Err("an ATOM/HETATM line has missing coordinates".into());
            }
            if !(is_float(&x) && is_float(&y) && is_float(&z)) {
                return Err("an ATOM/HETATM line has non-numeric coordinates".into());
            }
            atoms += 1;
        }
    }
    if atoms == 0 {
        return Err("it has no ATOM or HETATM line".into());
    }
    // An ATOM line is itself a known record type, so the server's other refusal ("no
    // known record type") cannot happen once an atom line was found.
    Ok(())
}

fn check_mmcif(s: &str) -> Result<(), String> {
    let text = s.trim();
    if text.is_empty() {
        return Err("it is empty".into());
    }
    if ["{", "[", "<"].iter().any(|p| text.starts_with(p)) {
        return Err("it looks like JSON or XML, not mmCIF".into());
    }
    if ["ATOM", "HETATM", "REMARK", "HEADER"]
        .iter()
        .any(|p| text.starts_with(p))
    {
        return Err("it looks like PDB, not mmCIF".into());
    }
    let all: Vec<&str> = lines(text).collect();
    let mut data_block = false;
    let mut fields: Vec<String> = Vec::new();
    let mut rows = 0usize;
    let mut in_loop = false;
    let mut i = 0;
    while let Some(raw) = all.get(i) {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            i += 1;
            continue;
        }
        if line.starts_with("data_") {
            data_block = true;
            in_loop = false;
            i += 1;
            continue;
        }
        if line == "loop_" {
            in_loop = true;
            let mut j = i + 1;
            let mut loop_fields = Vec::new();
            while let Some(l) = all.get(j) {
                let l = l.trim();
                if !l.starts_with('_') {
                    break;
                }
                if let Some(f) = l.split_whitespace().next() {
                    if f.contains("_atom_site.") {
                        loop_fields.push(f.to_string());
                    }
                }
                j += 1;
            }
            if !loop_fields.is_empty() {
                let mut n = 0;
                let mut k = j;
                while let Some(l) = all.get(k) {
                    let l = l.trim();
                    if l.is_empty() || l.starts_with('#') {
                        k += 1;
                        continue;
                    }
                    if l.starts_with('_') || l == "loop_" || l.starts_with("data_") {
                        break;
                    }
                    n += 1;
                    k += 1;
                }
                fields.extend(loop_fields);
                rows += n;
                // The server resumes at the field list's end plus the row count.
                i = j + n;
                continue;
            }
            i = j.max(i + 1);
            continue;
        }
        if line.contains("_atom_site.") && !in_loop {
            let mut parts = line.split_whitespace();
            if let Some(f) = parts.next() {
                fields.push(f.to_string());
                if parts.next().is_some() {
                    rows += 1;
                }
            }
        } else if in_loop && !line.starts_with('_') {
            in_loop = false;
        }
        i += 1;
    }
    if !data_block {
        return Err("it has no data_ block".into());
    }
    if fields.is_empty() {
        return Err("it has no _atom_site fields".into());
    }
    if rows == 0 {
        return Err("it has _atom_site fields but no atom rows".into());
    }
    let has = |f: &str| fields.iter().any(|x| x == f);
    let missing: Vec<&str> = [
        "_atom_site.Cartn_x",
        "_atom_site.Cartn_y",
        "_atom_site.Cartn_z",
        "_atom_site.label_atom_id",
        "_atom_site.label_comp_id",
    ]
    .into_iter()
    .filter(|f| !has(f))
    .collect();
    if !missing.is_empty() {
        return Err(format!("it lacks {}", missing.join(", ")));
    }
    if ![
        "_atom_site.group_PDB",
        "_atom_site.type_symbol",
        "_atom_site.label_asym_id",
    ]
    .into_iter()
    .any(has)
    {
        return Err(
            "it has none of _atom_site.group_PDB, _atom_site.type_symbol, _atom_site.label_asym_id"
                .into(),
        );
    }
    Ok(())
}

fn check_smiles(s: &str) -> Result<(), String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("it is empty".into());
    }
    if let Some(c) = t
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "@+-[]()=#%/\\.:*".contains(*c)))
    {
        return Err(format!("{c:?} is not a SMILES character"));
    }
    if t.matches('[').count() != t.matches(']').count() {
        return Err("its square brackets are unbalanced".into());
    }
    if t.matches('(').count() != t.matches(')').count() {
        return Err("its parentheses are unbalanced".into());
    }
    Ok(())
}

fn check_ec(s: &str) -> Result<(), String> {
    let t = s.trim();
    let parts: Vec<&str> = t.split('.').collect();
    let ok = (2..=4).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err("expected 2 to 4 dot-separated numbers, such as 3.5.5.1".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATOM: &str =
        "ATOM      1  N   MET A   1      11.104  13.207   2.100  1.00  0.00           N";

    #[test]
    fn pdb() {
        assert!(check_pdb(ATOM).is_ok());
        assert!(check_pdb(&format!("HEADER x\n{ATOM}\nEND\n")).is_ok());
        assert!(check_pdb("").is_err());
        assert!(check_pdb("HEADER only\n").is_err());
        assert!(check_pdb("ATOM      1  N   MET A   1").is_err());
        assert!(check_pdb(&ATOM.replace("11.104", "  x.yz")).is_err());
        assert!(check_pdb(&format!("data_x\n{ATOM}")).is_err());
    }

    #[test]
    fn mmcif() {
        let ok = "data_x\nloop_\n_atom_site.group_PDB\n_atom_site.label_atom_id\n_atom_site.label_comp_id\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\nATOM N MET 1.0 2.0 3.0\n";
        assert!(check_mmcif(ok).is_ok());
        assert!(check_mmcif(&ok.replace("data_x\n", "")).is_err());
        assert!(check_mmcif(&ok.replace("_atom_site.Cartn_z\n", "")).is_err());
        assert!(check_mmcif(&ok.replace("ATOM N MET 1.0 2.0 3.0\n", "")).is_err());
        assert!(check_mmcif(ATOM).is_err());
    }

    #[test]
    fn smiles_and_ec() {
        assert!(check_smiles("CC(=O)O").is_ok());
        assert!(check_smiles(" c1ccccc1 ").is_ok());
        assert!(check_smiles("CC(=O").is_err());
        assert!(check_smiles("C C").is_err());
        assert!(check_smiles("").is_err());
        assert!(check_ec("3.5.5.1").is_ok());
        assert!(check_ec("3.5").is_ok());
        assert!(check_ec("3").is_err());
        assert!(check_ec("3.5.5.1.2").is_err());
        assert!(check_ec("3.x").is_err());
    }
}
