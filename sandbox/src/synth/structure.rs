//! Syntactically valid, obviously synthetic structure files: PDB (ATOM records,
//! one CA atom per residue, TER, END) and mmCIF (one `_atom_site` loop).

use std::fmt::Write as _;

use super::rng::Rng;

/// The residues of an input: one-letter codes and the chain each belongs to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Residues {
    /// One-letter residue codes (upper or lower case as given).
    pub(crate) letters: Vec<u8>,
    /// Chain letter of each residue (same length as `letters`).
    pub(crate) chains: Vec<u8>,
    /// True when every letter is a nucleotide (A, C, G, T, U, N).
    pub(crate) nucleic: bool,
}

impl Residues {
    pub(crate) fn len(&self) -> usize {
        self.letters.len()
    }
}

fn three_letter(c: u8, nucleic: bool) -> &'static str {
    if nucleic {
        return match c.to_ascii_uppercase() {
            b'A' => " DA",
            b'C' => " DC",
            b'G' => " DG",
            b'T' => " DT",
            b'U' => "  U",
            _ => " DN",
        };
    }
    match c.to_ascii_uppercase() {
        b'A' => "ALA",
        b'R' => "ARG",
        b'N' => "ASN",
        b'D' => "ASP",
        b'C' => "CYS",
        b'Q' => "GLN",
        b'E' => "GLU",
        b'G' => "GLY",
        b'H' => "HIS",
        b'I' => "ILE",
        b'L' => "LEU",
        b'K' => "LYS",
        b'M' => "MET",
        b'F' => "PHE",
        b'P' => "PRO",
        b'S' => "SER",
        b'T' => "THR",
        b'W' => "TRP",
        b'Y' => "TYR",
        b'V' => "VAL",
        b'U' => "SEC",
        b'O' => "PYL",
        _ => "UNK",
    }
}

/// The one-letter code of a three-letter residue name (`X` when unknown).
pub(crate) fn one_letter(name: &str) -> u8 {
    const TABLE: [(&str, u8); 22] = [
        ("ALA", b'A'),
        ("ARG", b'R'),
        ("ASN", b'N'),
        ("ASP", b'D'),
        ("CYS", b'C'),
        ("GLN", b'Q'),
        ("GLU", b'E'),
        ("GLY", b'G'),
        ("HIS", b'H'),
        ("ILE", b'I'),
        ("LEU", b'L'),
        ("LYS", b'K'),
        ("MET", b'M'),
        ("PHE", b'F'),
        ("PRO", b'P'),
        ("SER", b'S'),
        ("THR", b'T'),
        ("TRP", b'W'),
        ("TYR", b'Y'),
        ("VAL", b'V'),
        ("SEC", b'U'),
        ("PYL", b'O'),
    ];
    TABLE
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(b'X', |(_, c)| *c)
}

/// CA coordinates along a gentle helix, 3.8 Å apart, with a little noise.
fn coords(i: usize, rng: &mut Rng) -> (f64, f64, f64) {
    let t = i as f64 * 1.745; // ~100 degrees per residue
    let x = 2.3 * t.cos() + (rng.unit() - 0.5) * 0.2;
    let y = 2.3 * t.sin() + (rng.unit() - 0.5) * 0.2;
    let z = 1.5 * i as f64;
    (x, y, z)
}

/// A PDB file with one CA atom per residue, chains split as in `res`.
pub(crate) fn pdb(res: &Residues, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(82 * (res.len() + 4));
    out.push_str("REMARK   1 SYNTHETIC STRUCTURE FROM THE BIOLM SANDBOX (NO MODEL WAS RUN)\n");
    let mut serial = 0usize;
    let mut seq_no = 0usize;
    let mut prev_chain = None;
    for (i, (&c, &chain)) in res.letters.iter().zip(&res.chains).enumerate() {
        if prev_chain.is_some_and(|p| p != chain) {
            serial += 1;
            let _ = writeln!(out, "TER   {:>5}", serial % 100_000);
            seq_no = 0;
        }
        prev_chain = Some(chain);
        serial += 1;
        seq_no += 1;
        let (x, y, z) = coords(i, rng);
        let b = 50.0 + rng.unit() * 45.0;
        let _ = writeln!(
            out,
            "ATOM  {:>5}  CA  {} {}{:>4}    {:>8.3}{:>8.3}{:>8.3}{:>6.2}{:>6.2}           C",
            serial % 100_000,
            three_letter(c, res.nucleic),
            chain as char,
            seq_no % 10_000,
            x,
            y,
            z,
            1.0,
            b
        );
    }
    if prev_chain.is_some() {
        let _ = writeln!(out, "TER   {:>5}", (serial + 1) % 100_000);
    }
    out.push_str("END\n");
    out
}

/// An mmCIF file with one CA atom per residue.
pub(crate) fn cif(res: &Residues, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(64 * (res.len() + 20));
    out.push_str("data_synthetic\n#\n_entry.id synthetic\n");
    out.push_str(
        "_struct.title 'Synthetic structure from the BioLM sandbox (no model was run)'\n#\n",
    );
    out.push_str("loop_\n");
    for col in [
        "group_PDB",
        "id",
        "type_symbol",
        "label_atom_id",
        "label_comp_id",
        "label_asym_id",
        "label_seq_id",
        "Cartn_x",
        "Cartn_y",
        "Cartn_z",
        "occupancy",
        "B_iso_or_equiv",
    ] {
        out.push_str("_atom_site.");
        out.push_str(col);
        out.push('\n');
    }
    let mut seq_no = 0usize;
    let mut prev_chain = None;
    for (i, (&c, &chain)) in res.letters.iter().zip(&res.chains).enumerate() {
        if prev_chain != Some(chain) {
            seq_no = 0;
        }
        prev_chain = Some(chain);
        seq_no += 1;
        let (x, y, z) = coords(i, rng);
        let b = 50.0 + rng.unit() * 45.0;
        let _ = writeln!(
            out,
            "ATOM {} C CA {} {} {} {:.3} {:.3} {:.3} 1.00 {:.2}",
            i + 1,
            three_letter(c, res.nucleic).trim(),
            chain as char,
            seq_no,
            x,
            y,
            z,
            b
        );
    }
    out.push_str("#\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_chains() -> Residues {
        Residues {
            letters: b"MKTAYG".to_vec(),
            chains: b"AAABBB".to_vec(),
            nucleic: false,
        }
    }

    #[test]
    fn pdb_has_one_ca_per_residue_fixed_columns_and_end() {
        let text = pdb(&two_chains(), &mut Rng::new(1));
        let atoms: Vec<&str> = text.lines().filter(|l| l.starts_with("ATOM")).collect();
        assert_eq!(atoms.len(), 6);
        for line in &atoms {
            assert_eq!(line.len(), 78, "{line}");
            assert_eq!(&line[12..16], " CA ");
            assert!(line[30..38].trim().parse::<f64>().is_ok(), "{line}");
        }
        assert_eq!(&atoms[0][17..20], "MET");
        assert_eq!(&atoms[3][21..22], "B");
        assert_eq!(text.lines().filter(|l| l.starts_with("TER")).count(), 2);
        assert_eq!(text.lines().last(), Some("END"));
    }

    #[test]
    fn cif_has_atom_site_loop() {
        let text = cif(&two_chains(), &mut Rng::new(1));
        assert!(text.starts_with("data_"));
        assert!(text.contains("_atom_site.Cartn_x\n"));
        let atoms: Vec<&str> = text.lines().filter(|l| l.starts_with("ATOM ")).collect();
        assert_eq!(atoms.len(), 6);
        assert_eq!(atoms[0].split_whitespace().count(), 12);
    }
}
