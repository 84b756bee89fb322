//! Arrays: lists sized by their meaning (see `domain.rs`) within `minItems`/`maxItems`,
//! tuples (`prefixItems`, draft-07 `items: [..]`), and `uniqueItems` (refused up
//! front when the items cannot take enough distinct values).

use serde_json::Value;

use super::domain::{dims_for, Len};
use super::plan::{Compiler, Node, NodeId};

impl Compiler<'_> {
    pub(super) fn array(
        &mut self,
        s: &Value,
        name: &str,
        lname: &str,
        dims: Option<&[Len]>,
        ptr: &str,
    ) -> NodeId {
        let count = |key: &str| s.get(key).and_then(Value::as_u64).map(|n| n as usize);
        let min = count("minItems").unwrap_or(0);
        let max = count("maxItems").unwrap_or(usize::MAX);
        if max < min {
            return self.fail(ptr, format!("`maxItems` {max} is below `minItems` {min}"));
        }
        let unique = s.get("uniqueItems").and_then(Value::as_bool) == Some(true);
        let (prefix_schemas, rest_schema, rest_key) = match (s.get("prefixItems"), s.get("items")) {
            (Some(Value::Array(p)), items) => (Some(p), items, "items"),
            (_, Some(Value::Array(p))) => (Some(p), s.get("additionalItems"), "additionalItems"),
            (_, items) => (None, items, "items"),
        };
        if let Some(prefix) = prefix_schemas {
            let prefix_key = if s.get("prefixItems").is_some() {
                "prefixItems"
            } else {
                "items"
            };
            let ids: Vec<NodeId> = prefix
                .iter()
                .enumerate()
                .map(|(i, p)| self.compile(p, name, Some(&[]), &format!("{ptr}/{prefix_key}/{i}")))
                .collect();
            let rest = match rest_schema {
                Some(Value::Bool(false)) => None,
                Some(r) => Some(self.compile(r, name, Some(&[]), &format!("{ptr}/{rest_key}"))),
                None => Some(self.push(Node::Any)),
            };
            if rest.is_none() && min > ids.len() {
                return self.fail(
                    ptr,
                    format!(
                        "`minItems` {min} asks for more items than the tuple's {} positions",
                        ids.len()
                    ),
                );
            }
            if unique {
                return self.fail(
                    ptr,
                    "`uniqueItems` on a tuple is not supported by the synthesizer",
                );
            }
            return self.push(Node::Tuple {
                prefix: ids,
                rest,
                min,
                max,
            });
        }
        let item_schema = match rest_schema {
            Some(Value::Bool(false)) => {
                if min > 0 {
                    return self.fail(
                        ptr,
                        "`items: false` with `minItems` above 0: no value is valid",
                    );
                }
                Value::Bool(true)
            }
            Some(v) => v.clone(),
            None => Value::Bool(true),
        };
        let owned;
        let dims = match dims {
            Some(d) if !d.is_empty() => d,
            _ => {
                owned = dims_for(self.root, s, lname);
                &owned[..]
            }
        };
        let (len, rest) = match dims.split_first() {
            Some((first, rest)) => (*first, rest),
            None => (Len::Fixed(2), &[][..]),
        };
        let item = self.compile(&item_schema, name, Some(rest), &format!("{ptr}/items"));
        if unique {
            let card = super::arrays::cardinality(self, item, 0);
            if card < min as u64 {
                return self.fail(ptr, format!("`uniqueItems` with `minItems` {min}, but the items can take only {card} distinct values"));
            }
        }
        self.push(Node::Array {
            item,
            len,
            min,
            max,
            unique,
        })
    }
}

/// How many distinct values a node can take (saturating; `u64::MAX` for "many").
pub(super) fn cardinality(c: &Compiler<'_>, id: NodeId, depth: usize) -> u64 {
    if depth > 16 {
        return u64::MAX;
    }
    match c.nodes.get(c.follow(id)) {
        Some(Node::Null | Node::Any) => 1,
        Some(Node::Bool) => 2,
        Some(Node::Int(spec)) => spec.cardinality(),
        Some(Node::Num(spec)) => spec.cardinality(),
        Some(Node::Str(spec)) => spec.cardinality(),
        Some(Node::Choice(v)) => v.len() as u64,
        Some(Node::Tuple { prefix, .. }) => prefix.iter().fold(1u64, |acc, p| {
            acc.saturating_mul(cardinality(c, *p, depth + 1))
        }),
        Some(Node::Object(spec)) => spec
            .fields
            .iter()
            .filter(|f| f.required)
            .fold(1u64, |acc, f| {
                acc.saturating_mul(cardinality(c, f.node, depth + 1))
            }),
        Some(Node::Union { arms, random: true }) => arms.iter().fold(0u64, |acc, a| {
            acc.saturating_add(cardinality(c, *a, depth + 1))
        }),
        Some(Node::Union {
            arms,
            random: false,
        }) => arms
            .iter()
            .find(|a| !matches!(c.nodes.get(c.follow(**a)), Some(Node::Null)))
            .or(arms.first())
            .map_or(1, |a| cardinality(c, *a, depth + 1)),
        _ => u64::MAX,
    }
}
