//! Deterministic synthetic results that validate against a response schema.
//!
//! Each (variant, action) gets a [`ResponseSynth`] at start-up: the response
//! schema compiled into a generator tree plus the request params that shape the
//! results (`include`, `repr_layers`, `num_samples`, `max_length`, ...). At
//! request time it writes the JSON body straight into a byte buffer: no
//! `serde_json::Value` tree, floats written as at most 4 decimals. The numbers
//! of one item depend only on the slug, the action, the params and the item
//! itself, so the same request always gets the same bytes.

mod plan;
mod rng;
mod structure;

use std::cell::Cell;

use serde_json::Value;

use plan::{Compiler, GateTable, IntRole, Len, Node, StrRole};
pub(crate) use rng::{mix, Hasher, Rng};
use structure::Residues;

const PROTEIN: &[u8] = b"ACDEFGHIKLMNPQRSTVWY";
const NUCLEIC: &[u8] = b"ACGT";
/// Longest input considered for per-residue outputs.
const MAX_RESIDUES: usize = 100_000;
/// Most samples generated per item.
const MAX_SAMPLES: u64 = 1_000;

/// How a response deviates from a correct one (fault injection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// One result per item.
    Normal,
    /// The item at this index fails: `null` in `results` and an `error` entry naming it.
    Partial(usize),
    /// One result fewer than items (or one more for a single item).
    WrongCount,
}

/// Facts about the request params that size the results.
#[derive(Debug, Clone, Default)]
struct ParamFacts {
    /// Param giving the number of results per item, with its default.
    samples: Option<(String, u64)>,
    /// Param giving the length of generated sequences, with its default.
    length: Option<(String, u64)>,
    /// Param listing the layers to report (`repr_layers`), or naming one (`layer`).
    layers: Option<String>,
}

/// The response generator of one (variant, action).
#[derive(Debug, Clone)]
pub(crate) struct ResponseSynth {
    root: Node,
    gates: GateTable,
    facts: ParamFacts,
    dim: usize,
    seed: u64,
}

fn params_properties(request: &Value) -> Option<&serde_json::Map<String, Value>> {
    let params = request.pointer("/properties/params")?;
    plan::resolve(request, params)
        .get("properties")
        .and_then(Value::as_object)
}

impl ResponseSynth {
    /// Compiles the generator for a response schema, given the request schema whose
    /// params shape the results, the variant's embedding width and a seed (slug + action).
    pub(crate) fn new(request: &Value, response: &Value, dim: usize, seed: u64) -> ResponseSynth {
        let mut gates = GateTable::default();
        let mut facts = ParamFacts::default();
        if let Some(props) = params_properties(request) {
            for (name, schema) in props {
                let s = plan::resolve(request, schema);
                let default = s.get("default");
                let ty = s.get("type").and_then(Value::as_str);
                match name.as_str() {
                    "include" | "pooling" => {
                        let values = s
                            .get("enum")
                            .or_else(|| {
                                s.get("items")
                                    .map(|i| plan::resolve(request, i))
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
                                _ if options.iter().any(|o| o == "mean") => {
                                    vec!["mean".to_string()]
                                }
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
                    "repr_layers" | "embedding_layers" | "layer" => {
                        facts.layers = Some(name.clone())
                    }
                    _ if ty == Some("boolean") => {
                        gates.flags.push((
                            name.clone(),
                            default.and_then(Value::as_bool).unwrap_or(false),
                        ));
                    }
                    _ => {}
                }
            }
        }
        let root = Compiler::new(response, &gates).compile_response();
        ResponseSynth {
            root,
            gates,
            facts,
            dim: dim.max(1),
            seed,
        }
    }

    /// Writes the response body for `items` and `params` into `out`; `Err(TooLarge)`
    /// (with `out` incomplete) when it would pass `limit` bytes.
    pub(crate) fn write(
        &self,
        items: &[Value],
        params: Option<&Value>,
        shape: Shape,
        limit: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), TooLarge> {
        let gates = self.gates.resolve(params);
        let mut h = Hasher::new();
        h.write_u64(self.seed);
        if let Some(p) = params {
            h.write_value(p);
        }
        let params_seed = h.finish();
        let samples = match &self.facts.samples {
            Some((name, d)) => params
                .and_then(|p| p.get(name))
                .and_then(Value::as_u64)
                .unwrap_or(*d),
            None => 1,
        }
        .clamp(1, MAX_SAMPLES) as usize;
        let gen_len = self.facts.length.as_ref().map(|(name, d)| {
            params
                .and_then(|p| p.get(name))
                .and_then(Value::as_u64)
                .unwrap_or(*d)
                .min(MAX_RESIDUES as u64) as usize
        });
        let layers: Vec<i64> = match self
            .facts
            .layers
            .as_ref()
            .and_then(|name| params.and_then(|p| p.get(name)))
        {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_i64).collect(),
            Some(Value::Number(n)) => n.as_i64().into_iter().collect(),
            _ => vec![-1],
        };
        let layers = if layers.is_empty() { vec![-1] } else { layers };
        let env = Env {
            items,
            params_seed,
            gates: &gates,
            samples,
            gen_len,
            layers: &layers,
            dim: self.dim,
            shape,
            overflow: Cell::new(false),
            limit,
        };
        env.root(&self.root, out);
        if env.overflow.get() {
            return Err(TooLarge);
        }
        Ok(())
    }
}

/// A synthetic response that would be larger than its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLarge;

/// Request-wide inputs of one response.
struct Env<'a> {
    items: &'a [Value],
    params_seed: u64,
    gates: &'a [bool],
    samples: usize,
    gen_len: Option<usize>,
    layers: &'a [i64],
    dim: usize,
    shape: Shape,
    /// Set once the body passes `limit`; every array then stops early.
    overflow: Cell<bool>,
    limit: usize,
}

/// Per-item inputs.
struct Item {
    index: usize,
    res: Residues,
    rng: Rng,
}

impl Env<'_> {
    fn item(&self, index: usize) -> Item {
        let value = self.items.get(index).unwrap_or(&Value::Null);
        let mut h = Hasher::new();
        h.write_u64(self.params_seed);
        h.write_value(value);
        let seed = h.finish();
        Item {
            index,
            res: residues(value, seed),
            rng: Rng::new(seed),
        }
    }

    fn root(&self, node: &Node, out: &mut Vec<u8>) {
        let Node::Object { fields, .. } = node else {
            // A response schema that is not an object: emit its value for item 0.
            let mut it = self.item(0);
            self.emit(node, &mut it, 0, out);
            return;
        };
        out.push(b'{');
        let mut first = true;
        for field in fields {
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(field.key.as_bytes());
            match &field.node {
                Node::Results(per_item) => self.results(per_item, out),
                other => {
                    let mut it = self.item(0);
                    self.emit(other, &mut it, 0, out);
                }
            }
        }
        if let Shape::Partial(bad) = self.shape {
            if !first {
                out.push(b',');
            }
            let field = self
                .items
                .get(bad)
                .and_then(Value::as_object)
                .and_then(|o| o.keys().next().cloned())
                .unwrap_or_else(|| "item".to_string());
            out.extend_from_slice(b"\"error\":{");
            out.extend_from_slice(plan::key_text(&format!("items__{bad}__{field}")).as_bytes());
            out.extend_from_slice(b"[\"synthetic fault: this item failed on the server (sandbox partial-success fault)\"]}");
        }
        out.push(b'}');
    }

    fn results(&self, per_item: &Node, out: &mut Vec<u8>) {
        let n = self.items.len();
        let count = match self.shape {
            Shape::WrongCount if n <= 1 => n + 1,
            Shape::WrongCount => n - 1,
            _ => n,
        };
        out.push(b'[');
        for i in 0..count {
            if i > 0 {
                out.push(b',');
            }
            if self.shape == Shape::Partial(i) {
                out.extend_from_slice(b"null");
                continue;
            }
            let mut it = self.item(i.min(n.saturating_sub(1)));
            it.index = i;
            self.emit(per_item, &mut it, i, out);
        }
        out.push(b']');
    }

    fn len(&self, len: Len, it: &Item) -> usize {
        match len {
            Len::Fixed(n) => n,
            Len::Residues => it.res.len().max(1),
            Len::Dim => self.dim,
            Len::Vocab => self.vocab(it).len(),
            Len::Layers => self.layers.len(),
            Len::Samples => self.samples,
        }
    }

    fn vocab(&self, it: &Item) -> &'static [u8] {
        if it.res.nucleic {
            NUCLEIC
        } else {
            PROTEIN
        }
    }

    fn emit(&self, node: &Node, it: &mut Item, pos: usize, out: &mut Vec<u8>) {
        match node {
            Node::Null | Node::Any => out.extend_from_slice(b"null"),
            Node::Bool => out.extend_from_slice(if it.rng.next_u64() & 1 == 1 {
                b"true"
            } else {
                b"false"
            }),
            Node::Int {
                min,
                max,
                role,
                explicit,
            } => {
                let v = match role {
                    IntRole::ItemIndex => it.index as i64,
                    IntRole::Position => pos as i64,
                    IntRole::Layer => self.layers.get(pos).copied().unwrap_or(-1),
                    IntRole::Length => it.res.len() as i64,
                    IntRole::ResidueIndex => pos as i64 + 1,
                    IntRole::ResidueNumber => it.rng.range_i64(1, it.res.len().max(1) as i64),
                    IntRole::Generic => it.rng.range_i64(*min, *max),
                };
                let v = if *explicit && (v < *min || v > *max) {
                    it.rng.range_i64(*min, *max)
                } else {
                    v
                };
                out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
            }
            Node::Num { lo, hi } => write_ticks(out, it.rng.range_i64(*lo, *hi)),
            Node::Str {
                role,
                min_len,
                max_len,
            } => self.string(*role, *min_len, *max_len, it, pos, out),
            Node::Choice(options) => {
                let k = it.rng.below(options.len() as u64) as usize;
                if let Some(o) = options.get(k) {
                    out.extend_from_slice(o.as_bytes());
                }
            }
            Node::Array {
                item,
                len,
                min,
                max,
            } => {
                let n = self.len(*len, it).clamp(*min, (*max).max(*min));
                out.push(b'[');
                for k in 0..n {
                    if out.len() > self.limit {
                        self.overflow.set(true);
                        break;
                    }
                    if k > 0 {
                        out.push(b',');
                    }
                    self.emit(item, it, k, out);
                }
                out.push(b']');
            }
            Node::Tuple(items) => {
                out.push(b'[');
                for (k, item) in items.iter().enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    self.emit(item, it, k, out);
                }
                out.push(b']');
            }
            Node::Object { fields, map } => {
                out.push(b'{');
                let mut first = true;
                for field in fields {
                    if field
                        .gate
                        .is_some_and(|g| !self.gates.get(g).copied().unwrap_or(false))
                    {
                        continue;
                    }
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    out.extend_from_slice(field.key.as_bytes());
                    self.emit(&field.node, it, pos, out);
                }
                if let Some(map) = map {
                    for key in &map.keys {
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        out.extend_from_slice(key.as_bytes());
                        self.emit(&map.value, it, pos, out);
                    }
                }
                out.push(b'}');
            }
            Node::Results(per_item) => self.emit(per_item, it, pos, out),
        }
    }

    fn string(
        &self,
        role: StrRole,
        min_len: usize,
        max_len: usize,
        it: &mut Item,
        pos: usize,
        out: &mut Vec<u8>,
    ) {
        let mut s: Vec<u8> = match role {
            StrRole::Pdb => structure::pdb(&it.res, &mut it.rng).into_bytes(),
            StrRole::Cif => structure::cif(&it.res, &mut it.rng).into_bytes(),
            StrRole::Sequence { generated } => {
                let n = match (generated, self.gen_len) {
                    (true, Some(g)) if g > 0 => g,
                    (_, Some(g)) if g > 0 => g,
                    _ => it.res.len().max(1),
                };
                let alphabet = self.vocab(it);
                (0..n)
                    .map(|_| alphabet[it.rng.below(alphabet.len() as u64) as usize])
                    .collect()
            }
            StrRole::VocabToken => {
                let v = self.vocab(it);
                vec![v[pos % v.len()]]
            }
            StrRole::InputToken => match it.res.letters.get(pos) {
                Some(c) => vec![*c],
                None => b"X".to_vec(),
            },
            StrRole::Chain => vec![b'A' + (pos % 26) as u8],
            StrRole::Residue => vec![PROTEIN[it.rng.below(20) as usize]],
            StrRole::Mutation => {
                let at = it.rng.below(it.res.len().max(1) as u64) as usize;
                let wt = it
                    .res
                    .letters
                    .get(at)
                    .copied()
                    .unwrap_or(b'A')
                    .to_ascii_uppercase();
                let mt = PROTEIN[it.rng.below(20) as usize];
                format!("{}{}{}", wt as char, at + 1, mt as char).into_bytes()
            }
            StrRole::Generic => format!("synthetic-{:08x}", it.rng.next_u64() as u32).into_bytes(),
        };
        // Meet the length limits (counted in characters; everything here is ASCII).
        if s.len() > max_len {
            s.truncate(max_len);
        }
        while s.len() < min_len {
            s.push(b'A');
        }
        write_str(out, &s);
    }
}

/// Writes a number given in ten-thousandths, without trailing zeros (`-0.125`, `3.0`).
fn write_ticks(out: &mut Vec<u8>, t: i64) {
    let neg = t < 0;
    let a = t.unsigned_abs();
    let (int, mut frac) = (a / 10_000, a % 10_000);
    if neg {
        out.push(b'-');
    }
    out.extend_from_slice(itoa::Buffer::new().format(int).as_bytes());
    out.push(b'.');
    if frac == 0 {
        out.push(b'0');
        return;
    }
    let mut digits = 4;
    while frac % 10 == 0 {
        frac /= 10;
        digits -= 1;
    }
    let mut buf = [b'0'; 4];
    let mut k = digits;
    while k > 0 {
        k -= 1;
        buf[k] = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    out.extend_from_slice(&buf[..digits]);
}

/// Writes an ASCII-or-UTF-8 byte string as a JSON string.
fn write_str(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                out.extend_from_slice(format!("\\u{:04x}", b).as_bytes());
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// Keys whose string values are residues of the input.
const SEQUENCE_KEYS: [&str; 10] = [
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

/// The residues an item describes: its sequence fields (one chain each, `:` also
/// splitting chains), nested `sequence` fields, an MSA's first row, or the CA atoms
/// of a PDB/mmCIF text; a 16-residue synthetic chain when it has none of these.
fn residues(item: &Value, seed: u64) -> Residues {
    let mut res = Residues::default();
    let mut chain = b'A';
    let add = |res: &mut Residues, s: &str, chain: &mut u8| {
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
                b'?' => {
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
    };
    if let Some(obj) = item.as_object() {
        for key in SEQUENCE_KEYS {
            if let Some(Value::String(s)) = obj.get(key) {
                add(&mut res, s, &mut chain);
            }
        }
        if res.letters.is_empty() {
            if let Some(Value::Array(rows)) = obj.get("msa") {
                if let Some(Value::String(s)) = rows.first() {
                    add(&mut res, s, &mut chain);
                }
            }
        }
        if res.letters.is_empty() {
            nested_sequences(item, 0, &mut |s| add(&mut res, s, &mut chain));
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

    fn written(t: i64) -> String {
        let mut out = Vec::new();
        write_ticks(&mut out, t);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ticks_are_short_decimals() {
        assert_eq!(written(0), "0.0");
        assert_eq!(written(1_250), "0.125");
        assert_eq!(written(-30_000), "-3.0");
        assert_eq!(written(12_345), "1.2345");
        assert_eq!(written(-5), "-0.0005");
    }

    #[test]
    fn residues_split_chains_and_count_tokens() {
        let item = serde_json::json!({"sequence": "MK<mask>T:AY"});
        let r = residues(&item, 1);
        assert_eq!(r.letters, b"MKXTAY");
        assert_eq!(r.chains, b"AAAABB");
        let dna = residues(&serde_json::json!({"sequence": "ACGTAC"}), 1);
        assert!(dna.nucleic);
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
