//! Writing one response: walks the [`Plan`] for each item and writes JSON bytes
//! straight into the output buffer (no `serde_json::Value` tree). Recursion is
//! unrolled a few levels, then cut short along the smallest-height choices.

use std::cell::Cell;
use std::collections::HashSet;

use serde_json::Value;

use super::domain::{residue_count, residues, IntRole, Len, StrRole, NUCLEIC, PROTEIN};
use super::numbers::NumSpec;
use super::plan::{key_text, Node, NodeId, Plan};
use super::recursion::NEVER;
use super::rng::{Hasher, Rng};
use super::strings::StrSpec;
use super::structure::{self, Residues};
use super::Shape;

/// Levels of a recursive definition written before recursion is cut short.
const MAX_RECURSION: u8 = 3;
/// Nesting levels written before every value is cut short.
const MAX_NESTING: u16 = 48;
/// Attempts at a value not yet in a `uniqueItems` array.
const UNIQUE_TRIES: usize = 16;

/// Request-wide inputs of one response.
pub(super) struct Env<'a> {
    pub(super) plan: &'a Plan,
    pub(super) items: &'a [Value],
    pub(super) params_seed: u64,
    pub(super) gates: &'a [bool],
    pub(super) samples: usize,
    pub(super) gen_len: Option<usize>,
    pub(super) layers: &'a [i64],
    pub(super) dim: usize,
    pub(super) shape: Shape,
    /// Set once the body passes `limit`; every array then stops early.
    pub(super) overflow: Cell<bool>,
    pub(super) limit: usize,
    /// Arrays and objects written so far, and how many may be written before every
    /// further value is cut short (deeply nested schemas multiply sizes).
    pub(super) containers: Cell<usize>,
    pub(super) container_budget: usize,
}

/// Per-item inputs.
pub(super) struct Item<'a> {
    index: usize,
    value: &'a Value,
    res: Residues,
    rng: Rng,
}

/// Where in the tree a value is written.
#[derive(Debug, Clone, Copy, Default)]
struct Ctx {
    recursion: u8,
    depth: u16,
    /// Take the smallest-height choice everywhere below.
    escape: bool,
}

impl<'a> Env<'a> {
    fn item(&self, index: usize) -> Item<'a> {
        let value = self.items.get(index).unwrap_or(&Value::Null);
        let mut h = Hasher::new();
        h.write_u64(self.params_seed);
        h.write_value(value);
        let seed = h.finish();
        Item {
            index,
            value,
            res: residues(value, seed),
            rng: Rng::new(seed),
        }
    }

    fn height(&self, id: NodeId) -> u32 {
        self.plan.height.get(id).copied().unwrap_or(NEVER)
    }

    /// Writes the whole body.
    pub(super) fn root(&self, out: &mut Vec<u8>) {
        let root = self.plan.root;
        let Some(Node::Object(spec)) = self.plan.nodes.get(root) else {
            // A response schema that is not an object: its value for item 0.
            let mut it = self.item(0);
            self.emit(root, &mut it, 0, Ctx::default(), out);
            return;
        };
        out.push(b'{');
        let mut first = true;
        for field in &spec.fields {
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(field.key.as_bytes());
            match self.plan.nodes.get(field.node) {
                Some(Node::Results(per_item)) => self.results(*per_item, out),
                _ => {
                    let mut it = self.item(0);
                    self.emit(field.node, &mut it, 0, Ctx::default(), out);
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
            out.extend_from_slice(key_text(&format!("items__{bad}__{field}")).as_bytes());
            out.extend_from_slice(b"[\"synthetic fault: this item failed on the server (sandbox partial-success fault)\"]}");
        }
        out.push(b'}');
    }

    fn results(&self, per_item: NodeId, out: &mut Vec<u8>) {
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
            self.emit(per_item, &mut it, i, Ctx::default(), out);
        }
        out.push(b']');
    }

    fn len(&self, len: Len, it: &Item<'_>) -> usize {
        match len {
            Len::Fixed(n) => n,
            Len::Residues => it.res.len().max(1),
            Len::Dim => self.dim,
            Len::Vocab => self.vocab(it).len(),
            Len::Layers => self.layers.len(),
            Len::Samples => self.samples,
        }
    }

    fn vocab(&self, it: &Item<'_>) -> &'static [u8] {
        if it.res.nucleic {
            NUCLEIC
        } else {
            PROTEIN
        }
    }

    fn emit(&self, id: NodeId, it: &mut Item<'_>, pos: usize, mut ctx: Ctx, out: &mut Vec<u8>) {
        let Some(node) = self.plan.nodes.get(id) else {
            out.extend_from_slice(b"null");
            return;
        };
        if self.plan.recursive.get(id).copied().unwrap_or(false) {
            ctx.recursion = ctx.recursion.saturating_add(1);
            if ctx.recursion > MAX_RECURSION {
                ctx.escape = true;
            }
        }
        ctx.depth = ctx.depth.saturating_add(1);
        if ctx.depth > MAX_NESTING {
            ctx.escape = true;
        }
        if matches!(
            node,
            Node::Array { .. } | Node::Tuple { .. } | Node::Object(_)
        ) {
            let n = self.containers.get() + 1;
            self.containers.set(n);
            if n > self.container_budget {
                ctx.escape = true;
            }
        }
        match node {
            Node::Null | Node::Any => out.extend_from_slice(b"null"),
            Node::Bool => out.extend_from_slice(if it.rng.next_u64() & 1 == 1 {
                b"true"
            } else {
                b"false"
            }),
            Node::Int(spec) => {
                let role_value = match spec.role {
                    IntRole::ItemIndex => Some(it.index as i64),
                    IntRole::Position => Some(pos as i64),
                    IntRole::Layer => Some(self.layers.get(pos).copied().unwrap_or(-1)),
                    IntRole::Length => Some(it.res.len() as i64),
                    IntRole::ResidueIndex => Some(pos as i64 + 1),
                    IntRole::ResidueNumber => Some(it.rng.range_i64(1, it.res.len().max(1) as i64)),
                    IntRole::Generic => None,
                };
                let v = spec.pick(role_value, &mut it.rng);
                out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
            }
            Node::Num(spec) => spec.write(&mut it.rng, out),
            Node::Str(StrSpec::Role {
                role,
                min_len,
                max_len,
            }) => self.string(*role, *min_len, *max_len, it, pos, out),
            Node::Str(StrSpec::Pool(pool)) => {
                out.extend_from_slice(StrSpec::pick(pool, &mut it.rng).as_bytes())
            }
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
                unique,
            } => {
                let n = if ctx.escape || self.height(*item) == NEVER {
                    *min
                } else {
                    self.len(*len, it).clamp(*min, (*max).max(*min))
                };
                if *unique {
                    self.unique_array(*item, n, *min, it, ctx, out);
                    return;
                }
                out.push(b'[');
                // The hot path (embeddings, per-residue scores): numbers written in place.
                if let Some(Node::Num(spec)) = self.plan.nodes.get(*item) {
                    for k in 0..n {
                        if k > 0 {
                            out.push(b',');
                        }
                        spec.write(&mut it.rng, out);
                    }
                    if out.len() > self.limit {
                        self.overflow.set(true);
                    }
                    out.push(b']');
                    return;
                }
                for k in 0..n {
                    if out.len() > self.limit {
                        self.overflow.set(true);
                        break;
                    }
                    if k > 0 {
                        out.push(b',');
                    }
                    self.emit(*item, it, k, ctx, out);
                }
                out.push(b']');
            }
            Node::Tuple {
                prefix,
                rest,
                min,
                max,
            } => {
                let rest_ok = rest.is_some_and(|r| self.height(r) != NEVER);
                let n = if ctx.escape {
                    *min
                } else {
                    let full = prefix.len().max(if rest_ok { *min } else { 0 });
                    full.clamp(*min, (*max).max(*min))
                };
                out.push(b'[');
                for k in 0..n {
                    if k > 0 {
                        out.push(b',');
                    }
                    match prefix.get(k).copied().or(*rest) {
                        Some(child) => self.emit(child, it, k, ctx, out),
                        None => out.extend_from_slice(b"null"),
                    }
                }
                out.push(b']');
            }
            Node::Object(spec) => {
                out.push(b'{');
                let n_required = spec.fields.iter().filter(|f| f.required).count();
                let mut room = spec.max_props.saturating_sub(n_required);
                let mut count = 0usize;
                for field in &spec.fields {
                    if !field.required {
                        let off = ctx.escape
                            || room == 0
                            || self.height(field.node) == NEVER
                            || field
                                .gate
                                .is_some_and(|g| !self.gates.get(g).copied().unwrap_or(false));
                        if off {
                            continue;
                        }
                        room -= 1;
                    }
                    if count > 0 {
                        out.push(b',');
                    }
                    count += 1;
                    out.extend_from_slice(field.key.as_bytes());
                    self.emit(field.node, it, pos, ctx, out);
                }
                let need = spec.min_props.saturating_sub(count);
                let cap = spec.max_props.saturating_sub(count);
                let mut order: Vec<usize> = (0..spec.entries.len())
                    .filter(|&i| self.height(spec.entries[i].node) != NEVER)
                    .collect();
                let n = if ctx.escape {
                    order.sort_by_key(|&i| self.height(spec.entries[i].node));
                    need
                } else {
                    spec.want_entries.max(need).min(cap)
                };
                for &i in order.iter().take(n) {
                    let entry = &spec.entries[i];
                    if count > 0 {
                        out.push(b',');
                    }
                    count += 1;
                    out.extend_from_slice(entry.key.as_bytes());
                    self.emit(entry.node, it, pos, ctx, out);
                }
                out.push(b'}');
            }
            Node::Union { arms, random } => {
                let arm = if ctx.escape {
                    arms.iter().copied().min_by_key(|a| self.height(*a))
                } else {
                    let live: Vec<NodeId> = arms
                        .iter()
                        .copied()
                        .filter(|a| {
                            self.height(*a) != NEVER
                                && !matches!(self.plan.nodes.get(*a), Some(Node::Null))
                        })
                        .collect();
                    match (live.is_empty(), random) {
                        (true, _) => arms.iter().copied().min_by_key(|a| self.height(*a)),
                        (false, true) => {
                            live.get(it.rng.below(live.len() as u64) as usize).copied()
                        }
                        (false, false) => live.first().copied(),
                    }
                };
                match arm {
                    Some(a) => self.emit(a, it, pos, ctx, out),
                    None => out.extend_from_slice(b"null"),
                }
            }
            Node::Ref(target) => self.emit(*target, it, pos, ctx, out),
            Node::Results(per_item) => self.emit(*per_item, it, pos, ctx, out),
            Node::JsonText(inner) => {
                let mut text = Vec::new();
                self.emit(*inner, it, pos, ctx, &mut text);
                super::write_str(out, &text);
            }
        }
    }

    /// An array of `n` distinct values (at least `min` of them).
    fn unique_array(
        &self,
        item: NodeId,
        n: usize,
        min: usize,
        it: &mut Item<'_>,
        ctx: Ctx,
        out: &mut Vec<u8>,
    ) {
        let mut target = self.plan.nodes.get(item);
        let mut hops = 0;
        while let (Some(Node::Ref(t)), true) = (target, hops < 64) {
            target = self.plan.nodes.get(*t);
            hops += 1;
        }
        out.push(b'[');
        // Values that can be listed are taken in turn from a random start.
        let listed: Option<Vec<String>> = match target {
            Some(Node::Choice(v)) => Some(v.clone()),
            Some(Node::Str(StrSpec::Pool(v))) | Some(Node::Num(NumSpec::Pool(v))) => {
                Some(v.clone())
            }
            Some(Node::Bool) => Some(vec!["false".into(), "true".into()]),
            Some(Node::Int(spec)) if spec.cardinality() <= 4096 => {
                let card = spec.cardinality();
                let start = it.rng.below(card);
                Some(
                    (0..(n as u64).min(card))
                        .map(|k| (spec.min + (((start + k) % card) as i64) * spec.step).to_string())
                        .collect(),
                )
            }
            _ => None,
        };
        if let Some(values) = listed {
            let start = it.rng.below(values.len() as u64) as usize;
            for k in 0..n.min(values.len()) {
                if k > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(values[(start + k) % values.len()].as_bytes());
            }
            out.push(b']');
            return;
        }
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut buf = Vec::new();
        let mut written = 0;
        while written < n {
            let mut fresh = false;
            for _ in 0..UNIQUE_TRIES {
                buf.clear();
                self.emit(item, it, written, ctx, &mut buf);
                if !seen.contains(&buf) {
                    fresh = true;
                    break;
                }
            }
            if !fresh && written >= min {
                break;
            }
            if written > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&buf);
            seen.insert(buf.clone());
            written += 1;
            if out.len() > self.limit {
                self.overflow.set(true);
                break;
            }
        }
        out.push(b']');
    }

    fn string(
        &self,
        role: StrRole,
        min_len: usize,
        max_len: usize,
        it: &mut Item<'_>,
        pos: usize,
        out: &mut Vec<u8>,
    ) {
        let mut s: Vec<u8> = match role {
            StrRole::Pdb => structure::pdb(&it.res, &mut it.rng).into_bytes(),
            StrRole::Cif => structure::cif(&it.res, &mut it.rng).into_bytes(),
            StrRole::Sequence { generated, source } => {
                let own = source
                    .and_then(|k| it.value.get(k))
                    .and_then(Value::as_str)
                    .map(residue_count)
                    .filter(|n| *n > 0);
                let n = match (generated, self.gen_len, own) {
                    (true, Some(g), _) if g > 0 => g,
                    (_, Some(g), None) if g > 0 => g,
                    (_, _, Some(own)) => own,
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
        super::write_str(out, &s);
    }
}
