//! Model-aware values: what a field means from its name (an `embedding` vector has
//! the variant's embedding width, `contacts` is L x L, a `pdb` string is a PDB file of
//! the input's residues), which request params switch optional fields on, and the
//! residues an input item describes.

use serde_json::Value;

use super::plan::{resolve, schema_type};
use super::rng::Rng;
use super::structure::{self, Residues};

pub(crate) const PROTEIN: &[u8] = b"ACDEFGHIKLMNPQRSTVWY";
pub(crate) const NUCLEIC: &[u8] = b"ACGT";
/// Longest input considered for per-residue outputs.
pub(crate) const MAX_RESIDUES: usize = 100_000;
/// Most samples generated per item.
pub(crate) const MAX_SAMPLES: u64 = 1_000;

/// How many elements an array gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Len {
    /// Exactly this many.
    Fixed(usize),
    /// One per residue of the item's input.
    Residues,
    /// The variant's embedding width.
    Dim,
    /// One per vocabulary token.
    Vocab,
    /// One per requested layer (`repr_layers`).
    Layers,
    /// One per requested sample (`num_samples` and the like).
    Samples,
}

/// What an integer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntRole {
    /// The item's index in the request (`sequence_index`).
    ItemIndex,
    /// The index in the enclosing array (`sample_idx`).
    Position,
    /// The requested layer at this position (`layer`).
    Layer,
    /// The input's residue count (`sequence_length`).
    Length,
    /// A 1-based residue number inside a per-residue array (`Numbering`): position + 1.
    ResidueIndex,
    /// One of the input's residue numbers, 1-based (`position`).
    ResidueNumber,
    /// Anything else: a value inside the limits.
    Generic,
}

/// What a string means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrRole {
    Pdb,
    Cif,
    /// A protein or nucleotide sequence (`generated`: of the requested length). `source`
    /// names the input field whose length it keeps (`heavy_chain`), when the item has it.
    Sequence {
        generated: bool,
        source: Option<&'static str>,
    },
    /// The vocabulary token at the enclosing array position.
    VocabToken,
    /// The input residue at the enclosing array position.
    InputToken,
    /// A chain identifier.
    Chain,
    /// One residue letter.
    Residue,
    /// A point mutation like `A12G`.
    Mutation,
    /// Anything else.
    Generic,
}

/// The role of an integer held by the property `name`.
pub(crate) fn int_role(name: &str, in_array: bool) -> IntRole {
    match name {
        "numbering" | "pdb_posins" | "residue_index" if in_array => IntRole::ResidueIndex,
        "position" | "position1" | "position2" | "residue_number" => IntRole::ResidueNumber,
        "sequence_index" => IntRole::ItemIndex,
        "sample_idx" | "sample_index" => IntRole::Position,
        "layer" => IntRole::Layer,
        "sequence_length" => IntRole::Length,
        _ => IntRole::Generic,
    }
}

/// The role of a string held by the property `name` (lower case).
pub(crate) fn str_role(name: &str, in_array: bool) -> StrRole {
    if in_array {
        if name.contains("vocab") || name.contains("amino_acid_axis") {
            StrRole::VocabToken
        } else if name.contains("token")
            || name == "pdb_res"
            || name == "top_res"
            || name.contains("residue_axis")
        {
            StrRole::InputToken
        } else if name.contains("chain") {
            StrRole::Chain
        } else if name.contains("mutation") {
            StrRole::Mutation
        } else {
            StrRole::Generic
        }
    } else if name.contains("cif") {
        StrRole::Cif
    } else if name.contains("pdb") {
        StrRole::Pdb
    } else if name == "generated" {
        StrRole::Sequence {
            generated: true,
            source: None,
        }
    } else if name.starts_with("sequence")
        || name.ends_with("_chain") && !name.starts_with("pdb")
        || name.ends_with("_aa_gaps")
        || name.ends_with("_aa_no_gaps")
    {
        StrRole::Sequence {
            generated: false,
            source: SEQUENCE_KEYS.iter().copied().find(|k| *k == name),
        }
    } else if name.starts_with("chain") {
        StrRole::Chain
    } else if name.starts_with("wildtype") || name.starts_with("mutation_aa") || name == "token_str"
    {
        StrRole::Residue
    } else if name.starts_with("mutation") {
        StrRole::Mutation
    } else {
        StrRole::Generic
    }
}

/// The usual range of a number held by the property `name` (lower case).
pub(crate) fn number_range(name: &str) -> (f64, f64) {
    let has = |w: &str| name.contains(w);
    if has("embedding") || has("logit") || name == "mean" || name == "last" || name == "value" {
        (-1.0, 1.0)
    } else if has("log_prob") || has("logprob") || name.starts_with("ll_") || has("log_likelihood")
    {
        (-4.0, -0.01)
    } else if has("plddt") {
        (50.0, 95.0)
    } else if has("rmsd") || has("distance") {
        (0.5, 6.0)
    } else if has("ddg") || has("energy") {
        (-3.0, 3.0)
    } else {
        (0.0, 1.0)
    }
}

/// The sizes of each dimension of a (possibly nested) array held by `name`.
pub(crate) fn dims_for(root: &Value, s: &Value, name: &str) -> Vec<Len> {
    // Walk down the nesting to find its depth and the leaf type.
    let mut depth = 0;
    let mut cur = s;
    while schema_type(cur) == Some("array") && cur.get("prefixItems").is_none() && depth < 8 {
        depth += 1;
        cur = match cur.get("items") {
            Some(i) if i.is_object() => resolve(root, i),
            _ => break,
        };
    }
    let leaf = schema_type(cur).unwrap_or("");
    let has = |w: &str| name.contains(w);
    let vector = has("embedding") || name == "mean" || name == "last" || has("representation");
    match (leaf, depth) {
        ("number" | "integer", 1) => vec![if vector { Len::Dim } else { Len::Residues }],
        ("number" | "integer", 2) => {
            if has("embedding") {
                vec![Len::Residues, Len::Dim]
            } else if has("contact") || has("pae") || has("matrix") || has("distance") {
                vec![Len::Residues, Len::Residues]
            } else if has("attention") {
                vec![Len::Fixed(2), Len::Residues]
            } else if has("logit") || has("prob") || name == "values" {
                vec![Len::Residues, Len::Vocab]
            } else {
                vec![Len::Residues, Len::Fixed(3)]
            }
        }
        ("number" | "integer", 3) if has("attention") => {
            vec![Len::Fixed(2), Len::Residues, Len::Residues]
        }
        ("string", 1) => {
            if has("vocab") || has("amino_acid_axis") || has("alphabet") {
                vec![Len::Vocab]
            } else if has("token")
                || has("residue")
                || name == "pdb_chain"
                || name == "pdb_res"
                || name == "top_res"
                || name == "insertion"
                || name == "number_alignment"
            {
                vec![Len::Residues]
            } else {
                vec![Len::Fixed(2)]
            }
        }
        ("object", 1) => {
            let has_layer = cur
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| p.contains_key("layer"));
            let per_sample = matches!(name, "sequences" | "samples" | "designs" | "structures");
            vec![if has_layer {
                Len::Layers
            } else if per_sample {
                Len::Samples
            } else {
                Len::Fixed(2)
            }]
        }
        _ => {
            let mut d = vec![Len::Residues];
            d.resize(depth.max(1), Len::Fixed(2));
            d
        }
    }
}

/// Request params that switch optional response fields on and off.
#[derive(Debug, Clone, Default)]
pub(crate) struct GateTable {
    /// Name of the enum-valued selector param (`include`, `pooling`), if any.
    pub(crate) selector: Option<String>,
    /// The selector's options.
    pub(crate) options: Vec<String>,
    /// Options on when the request does not set the selector.
    pub(crate) default_options: Vec<String>,
    /// Boolean params (`include_pae`, `return_energy_matrix`) with their defaults.
    pub(crate) flags: Vec<(String, bool)>,
}

impl GateTable {
    /// Gate index for a response field: options first, then flags.
    pub(crate) fn gate_for(&self, field: &str) -> Option<usize> {
        let f = field.to_ascii_lowercase();
        if let Some(i) = self.options.iter().position(|o| option_matches(o, &f)) {
            return Some(i);
        }
        self.flags
            .iter()
            .position(|(p, _)| flag_matches(p, &f))
            .map(|i| self.options.len() + i)
    }

    /// Which gates are on for `params` (options, then flags).
    pub(crate) fn resolve(&self, params: Option<&Value>) -> Vec<bool> {
        let mut on = vec![false; self.options.len() + self.flags.len()];
        let chosen: Vec<&str> = match (self.selector.as_deref(), params) {
            (Some(sel), Some(p)) if p.get(sel).is_some_and(|v| !v.is_null()) => match p.get(sel) {
                Some(Value::String(s)) => vec![s.as_str()],
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            },
            _ => self.default_options.iter().map(String::as_str).collect(),
        };
        for (i, o) in self.options.iter().enumerate() {
            on[i] = chosen.contains(&o.as_str());
        }
        for (i, (name, default)) in self.flags.iter().enumerate() {
            let v = params
                .and_then(|p| p.get(name))
                .and_then(Value::as_bool)
                .unwrap_or(*default);
            on[self.options.len() + i] = v;
        }
        on
    }
}

fn singular(s: &str) -> &str {
    s.strip_suffix('s').unwrap_or(s)
}

fn option_matches(option: &str, field: &str) -> bool {
    let synonyms: &[&str] = match option {
        "mean" => &["embeddings", "embedding", "mean", "mean_representation"],
        "seqcoding" => &["embeddings", "embedding"],
        "per_residue" | "rescoding" => &["residue_embeddings", "per_token_embeddings"],
        "bos" => &["bos_embeddings"],
        "cls" => &["cls_embeddings"],
        "logits" => &["logits", "vocab_tokens"],
        _ => &[],
    };
    synonyms.contains(&field)
        || singular(field) == singular(option)
        || field == format!("{option}_embeddings")
}

fn flag_matches(param: &str, field: &str) -> bool {
    let p = param.to_ascii_lowercase();
    let stem = p
        .strip_prefix("include_")
        .or_else(|| p.strip_prefix("return_"))
        .unwrap_or(&p);
    singular(stem) == singular(field)
}

/// Facts about the request params that size the results.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParamFacts {
    /// Param giving the number of results per item, with its default.
    pub(crate) samples: Option<(String, u64)>,
    /// Param giving the length of generated sequences, with its default.
    pub(crate) length: Option<(String, u64)>,
    /// Param listing the layers to report (`repr_layers`), or naming one (`layer`).
    pub(crate) layers: Option<String>,
}

/// The gates and sizing facts a request schema's params give.
pub(crate) fn read_params(request: &Value) -> (GateTable, ParamFacts) {
    let mut gates = GateTable::default();
    let mut facts = ParamFacts::default();
    let Some(props) = request
        .pointer("/properties/params")
        .map(|p| resolve(request, p))
        .and_then(|p| p.get("properties"))
        .and_then(Value::as_object)
    else {
        return (gates, facts);
    };
    for (name, schema) in props {
        let s = resolve(request, schema);
        let default = s.get("default");
        let ty = s.get("type").and_then(Value::as_str);
        match name.as_str() {
            "include" | "pooling" => {
                let values = s
                    .get("enum")
                    .or_else(|| {
                        s.get("items")
                            .map(|i| resolve(request, i))
                            .and_then(|i| i.get("enum"))
                    })
                    .and_then(Value::as_array);
                if let Some(values) = values {
                    let mut options: Vec<String> = Vec::new();
                    for v in values.iter().filter_map(Value::as_str) {
                        if !options.iter().any(|o| o == v) {
                            options.push(v.to_string());
                        }
                    }
                    let defaults: Vec<String> = match default {
                        Some(Value::String(d)) => vec![d.clone()],
                        Some(Value::Array(a)) => a
                            .iter()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect(),
                        _ if options.iter().any(|o| o == "mean") => vec!["mean".to_string()],
                        _ => options.first().cloned().into_iter().collect(),
                    };
                    gates.selector = Some(name.clone());
                    gates.options = options;
                    gates.default_options = defaults;
                }
            }
            "num_samples"
            | "num_seq_per_target"
            | "num_diffn_samples"
            | "diffusion_batch_size"
            | "num_return_sequences"
            | "num_sequences"
                if facts.samples.is_none() =>
            {
                let d = default.and_then(Value::as_u64).unwrap_or(1);
                facts.samples = Some((name.clone(), d));
            }
            "max_length" | "max_new_tokens" => {
                let d = default.and_then(Value::as_u64).unwrap_or(0);
                facts.length = Some((name.clone(), d));
            }
            "repr_layers" | "embedding_layers" | "layer" => facts.layers = Some(name.clone()),
            _ if ty == Some("boolean") => {
                gates.flags.push((
                    name.clone(),
                    default.and_then(Value::as_bool).unwrap_or(false),
                ));
            }
            _ => {}
        }
    }
    (gates, facts)
}

/// Keys whose string values are residues of the input.
pub(crate) const SEQUENCE_KEYS: [&str; 10] = [
    "sequence",
    "heavy_chain",
    "light_chain",
    "tcr_alpha",
    "tcr_beta",
    "peptide",
    "mhc",
    "prompt",
    "context",
    "variant_sequence",
];

/// Adds the residues of one sequence text (`:`/`/` split chains, `<mask>` and `?`
/// count as one residue each) to `res`, starting at chain `chain`.
fn add_sequence(res: &mut Residues, s: &str, chain: &mut u8) {
    let mut in_token = false;
    for c in s.bytes() {
        if res.letters.len() >= MAX_RESIDUES {
            return;
        }
        match c {
            b'<' => in_token = true,
            b'>' if in_token => {
                in_token = false;
                res.letters.push(b'X');
                res.chains.push(*chain);
            }
            _ if in_token => {}
            b':' | b'/' => *chain = chain.saturating_add(1).min(b'Z'),
            b'?' | b'*' => {
                res.letters.push(b'X');
                res.chains.push(*chain);
            }
            c if c.is_ascii_alphabetic() => {
                res.letters.push(c);
                res.chains.push(*chain);
            }
            _ => {}
        }
    }
    *chain = chain.saturating_add(1).min(b'Z');
}

/// The number of residues in one sequence text (as [`residues`] counts them).
pub(crate) fn residue_count(s: &str) -> usize {
    let mut res = Residues::default();
    add_sequence(&mut res, s, &mut b'A');
    res.len()
}

/// The residues an item describes: its sequence fields (one chain each, `:` also
/// splitting chains), nested `sequence` fields, an MSA's first row, or the CA atoms
/// of a PDB/mmCIF text; a 16-residue synthetic chain when it has none of these.
pub(crate) fn residues(item: &Value, seed: u64) -> Residues {
    let mut res = Residues::default();
    let mut chain = b'A';
    if let Some(obj) = item.as_object() {
        for key in SEQUENCE_KEYS {
            if let Some(Value::String(s)) = obj.get(key) {
                add_sequence(&mut res, s, &mut chain);
            }
        }
        if res.letters.is_empty() {
            if let Some(Value::Array(rows)) = obj.get("msa") {
                if let Some(Value::String(s)) = rows.first() {
                    add_sequence(&mut res, s, &mut chain);
                }
            }
        }
        if res.letters.is_empty() {
            nested_sequences(item, 0, &mut |s| add_sequence(&mut res, s, &mut chain));
        }
        res.nucleic = !res.letters.is_empty()
            && res.letters.iter().all(|c| {
                matches!(
                    c.to_ascii_uppercase(),
                    b'A' | b'C' | b'G' | b'T' | b'U' | b'N'
                )
            });
        if res.letters.is_empty() {
            for (key, v) in obj {
                if let (true, Value::String(text)) = (key.contains("pdb") || key.contains("cif"), v)
                {
                    structure_residues(text, &mut res);
                    if !res.letters.is_empty() {
                        break;
                    }
                }
            }
        }
    }
    if res.letters.is_empty() {
        let mut rng = Rng::new(seed);
        for _ in 0..16 {
            res.letters.push(PROTEIN[rng.below(20) as usize]);
            res.chains.push(b'A');
        }
    }
    res
}

fn nested_sequences(v: &Value, depth: usize, f: &mut dyn FnMut(&str)) {
    if depth > 8 {
        return;
    }
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                match x {
                    Value::String(s) if k == "sequence" => f(s),
                    _ => nested_sequences(x, depth + 1, f),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| nested_sequences(x, depth + 1, f)),
        _ => {}
    }
}

/// CA atoms of a PDB (fixed columns) or mmCIF (`ATOM` rows of an `_atom_site` loop) text.
fn structure_residues(text: &str, res: &mut Residues) {
    for line in text.lines() {
        if res.letters.len() >= MAX_RESIDUES {
            return;
        }
        if !(line.starts_with("ATOM") || line.starts_with("HETATM")) {
            continue;
        }
        if line.len() >= 22 && line.get(12..16).is_some_and(|a| a.trim() == "CA") {
            let name = line.get(17..20).unwrap_or("UNK").trim();
            res.letters.push(structure::one_letter(name));
            res.chains.push(
                line.as_bytes()
                    .get(21)
                    .copied()
                    .filter(u8::is_ascii_alphanumeric)
                    .unwrap_or(b'A'),
            );
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() >= 7 && cols.get(3) == Some(&"CA") {
            res.letters
                .push(structure::one_letter(cols.get(4).copied().unwrap_or("UNK")));
            res.chains
                .push(cols.get(5).and_then(|c| c.bytes().next()).unwrap_or(b'A'));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_gates_follow_params_and_defaults() {
        let gates = GateTable {
            selector: Some("include".into()),
            options: vec!["mean".into(), "per_residue".into(), "contacts".into()],
            default_options: vec!["mean".into()],
            flags: vec![("include_pae".into(), false)],
        };
        assert_eq!(gates.gate_for("embeddings"), Some(0));
        assert_eq!(gates.gate_for("residue_embeddings"), Some(1));
        assert_eq!(gates.gate_for("contacts"), Some(2));
        assert_eq!(gates.gate_for("pae"), Some(3));
        assert_eq!(gates.gate_for("sequence_index"), None);
        assert_eq!(gates.resolve(None), vec![true, false, false, false]);
        let p: Value = serde_json::json!({"include": ["contacts"], "include_pae": true});
        assert_eq!(gates.resolve(Some(&p)), vec![false, false, true, true]);
    }

    #[test]
    fn residues_split_chains_and_count_tokens() {
        let item = serde_json::json!({"sequence": "MK<mask>T:AY"});
        let r = residues(&item, 1);
        assert_eq!(r.letters, b"MKXTAY");
        assert_eq!(r.chains, b"AAAABB");
        let dna = residues(&serde_json::json!({"sequence": "ACGTAC"}), 1);
        assert!(dna.nucleic);
        assert_eq!(residue_count("MK<mask>T:AY"), 6);
    }

    #[test]
    fn residues_from_pdb_atoms() {
        let mut rng = Rng::new(3);
        let src = Residues {
            letters: b"MKV".to_vec(),
            chains: b"AAB".to_vec(),
            nucleic: false,
        };
        let text = structure::pdb(&src, &mut rng);
        let r = residues(&serde_json::json!({ "pdb": text }), 1);
        assert_eq!(r.letters, b"MKV");
        assert_eq!(r.chains, b"AAB");
    }
}
