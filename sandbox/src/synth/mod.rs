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
//! Modules by concept: `plan` (schema to plan: `$ref`, types, dispatch), `merge`
//! (`allOf`), `unions` (`anyOf`/`oneOf`, discriminators), `objects` (properties,
//! maps), `arrays` (lists, tuples, `uniqueItems`), `numbers`, `strings` (formats, pools) and
//! `pattern` (strings from regular expressions), `recursion` (bounding depth),
//! `domain` (sequence- and model-aware values), `emit` (writing bytes),
//! `structure` (PDB/mmCIF text), `rng`.

mod arrays;
mod domain;
mod emit;
mod numbers;
mod objects;
mod pattern;
mod plan;
mod recursion;
mod rng;
mod strings;
mod structure;
mod unions;

use std::cell::Cell;

use serde_json::Value;

use domain::{GateTable, ParamFacts, MAX_RESIDUES, MAX_SAMPLES};
pub(crate) use plan::PlanError;
use plan::{Compiler, Plan};
pub(crate) use rng::{mix, Hasher, Rng};

/// Arrays and objects one response may hold before values are cut short: far above
/// any model's output (a 100,000-residue contact map is 100,000 arrays), far below
/// what nested generic schemas would multiply to.
const CONTAINER_BUDGET: usize = 2_000_000;
/// The same budget for [`synthesize`] (tests of schemas: small answers).
const TEST_CONTAINER_BUDGET: usize = 2_000;

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
        self.write_within(items, params, shape, limit, CONTAINER_BUDGET, out)
    }

    /// [`ResponseSynth::write`] with a budget of arrays and objects: past it, every
    /// value takes its smallest valid form.
    pub(crate) fn write_within(
        &self,
        items: &[Value],
        params: Option<&Value>,
        shape: Shape,
        limit: usize,
        container_budget: usize,
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
            containers: Cell::new(0),
            container_budget,
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
    let _ = synth.write_within(
        items,
        params,
        Shape::Normal,
        usize::MAX,
        TEST_CONTAINER_BUDGET,
        &mut out,
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(response: &Value, n: usize) -> Value {
        let items: Vec<Value> = (0..n)
            .map(|i| json!({ "sequence": "MKTAYIAKQR"[..4 + i].to_string() }))
            .collect();
        let bytes = synthesize(&json!({}), response, &items, None).expect("synthesizable");
        serde_json::from_slice(&bytes).expect("JSON")
    }

    fn results_of(item: Value, defs: Value) -> Value {
        json!({"$defs": defs, "type": "object", "required": ["results"],
               "properties": {"results": {"type": "array", "items": item}}})
    }

    /// Depth of `next` links in a linked-list value.
    fn chain_len(mut v: &Value, key: &str) -> usize {
        let mut n = 0;
        while let Some(next) = v.get(key).filter(|x| !x.is_null()) {
            n += 1;
            v = next;
        }
        n
    }

    #[test]
    fn optional_recursion_ends_in_null_within_the_budget() {
        let schema = results_of(
            json!({"$ref": "#/$defs/Node"}),
            json!({"Node": {"type": "object", "required": ["next"], "properties": {
                "next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}}}}),
        );
        let a = answer(&schema, 2);
        let depth = chain_len(&a["results"][0], "next");
        assert!((1..=6).contains(&depth), "{a}");
        assert_eq!(a, answer(&schema, 2), "deterministic");
    }

    #[test]
    fn recursive_list_items_are_never_null() {
        let schema = results_of(
            json!({"$ref": "#/$defs/Node"}),
            json!({"Node": {"type": "object", "required": ["children"], "properties": {
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}}),
        );
        let text = answer(&schema, 1).to_string();
        assert!(!text.contains("null"), "{text}");
        assert!(text.contains("\"children\":[]"), "{text}");
    }

    #[test]
    fn discriminated_arms_carry_their_tag() {
        let schema = results_of(
            json!({"oneOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}],
                   "discriminator": {"propertyName": "t", "mapping": {"a": "#/$defs/A", "b": "#/$defs/B"}}}),
            json!({"A": {"type": "object", "required": ["t"], "properties": {"t": {"type": "string"}, "x": {"type": "integer"}}},
                   "B": {"type": "object", "required": ["t"], "properties": {"t": {"type": "string"}}}}),
        );
        let a = answer(&schema, 4);
        for r in a["results"].as_array().unwrap() {
            let t = r["t"].as_str().unwrap();
            assert!(t == "a" || t == "b", "{a}");
            assert_eq!(r.get("x").is_some(), t == "a", "{a}");
        }
    }

    #[test]
    fn a_definition_that_requires_itself_is_refused() {
        let schema = results_of(
            json!({"$ref": "#/$defs/Node"}),
            json!({"Node": {"type": "object", "required": ["next"], "properties": {
                "next": {"$ref": "#/$defs/Node"}}}}),
        );
        let err = synthesize(&json!({}), &schema, &[json!({})], None).unwrap_err();
        assert!(err[0].message.contains("no finite value"), "{err:?}");
    }
}
