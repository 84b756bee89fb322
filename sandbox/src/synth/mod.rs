//! Deterministic synthetic results that validate against a response schema.
//!
//! Each (variant, action) gets a [`ResponseSynth`] at start-up: the response
//! schema compiled into a [`plan::Plan`] (a generator graph; see `plan.rs`) plus
//! the request params that shape the results (`include`, `repr_layers`,
//! `num_samples`, `max_length`, ...). At request time it writes the JSON body
//! straight into a byte buffer (`emit.rs`): no `serde_json::Value` tree, no
//! schema work, floats written as short decimals. The numbers of one item depend
//! only on the slug, the action, the params and the item itself, so the same
//! request always gets the same bytes.
//!
//! Modules by concept: `plan` (schema to plan), `merge` (`allOf`), `objects`
//! (properties, maps, union arms), `numbers`, `strings` (formats, pools) and
//! `pattern` (strings from regular expressions), `recursion` (bounding depth),
//! `domain` (sequence- and model-aware values), `emit` (writing bytes),
//! `structure` (PDB/mmCIF text), `rng`.

mod domain;
mod emit;
mod merge;
mod numbers;
mod objects;
mod pattern;
mod plan;
mod recursion;
mod rng;
mod strings;
mod structure;

use std::cell::Cell;

use serde_json::Value;

use domain::{GateTable, ParamFacts, MAX_RESIDUES, MAX_SAMPLES};
pub(crate) use plan::PlanError;
use plan::{Compiler, Plan};
pub(crate) use rng::{mix, Hasher, Rng};

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

/// The response generator of one (variant, action).
#[derive(Debug, Clone)]
pub(crate) struct ResponseSynth {
    plan: Plan,
    gates: GateTable,
    facts: ParamFacts,
    dim: usize,
    seed: u64,
}

impl ResponseSynth {
    /// Compiles the generator for a response schema, given the request schema whose
    /// params shape the results, the variant's embedding width and a seed (slug +
    /// action). Errors name every schema node that cannot be synthesized.
    pub(crate) fn new(
        request: &Value,
        response: &Value,
        dim: usize,
        seed: u64,
    ) -> Result<ResponseSynth, Vec<PlanError>> {
        let (gates, facts) = domain::read_params(request);
        let plan = Compiler::new(response, &gates).compile_response()?;
        Ok(ResponseSynth {
            plan,
            gates,
            facts,
            dim: dim.max(1),
            seed,
        })
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
        let env = emit::Env {
            plan: &self.plan,
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
        env.root(out);
        if env.overflow.get() {
            return Err(TooLarge);
        }
        Ok(())
    }
}

/// A synthetic response that would be larger than its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLarge;

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

/// Compiles `response` (with `request`'s params) and writes one answer for `items`:
/// the whole synthesizer in one call, for tests and `biolm-sandbox check`.
pub(crate) fn synthesize(
    request: &Value,
    response: &Value,
    items: &[Value],
    params: Option<&Value>,
) -> Result<Vec<u8>, Vec<PlanError>> {
    let synth = ResponseSynth::new(request, response, 8, 1)?;
    let mut out = Vec::new();
    let _ = synth.write(items, params, Shape::Normal, usize::MAX, &mut out);
    Ok(out)
}
