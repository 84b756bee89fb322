//! Unions: `anyOf` (the first non-null arm), `oneOf` (an arm whose values match no
//! other arm: told apart by JSON type, `const`/enum tags, required keys, nested
//! unions), discriminators (the tag taken from the mapping).

use serde_json::{Map, Value};

use super::domain::Len;
use super::plan::{key_text, Compiler, Node, NodeId};
use biolm_catalog::allof::{self, constrains};

impl Compiler<'_> {
    pub(super) fn union(
        &mut self,
        map: &Map<String, Value>,
        name: &str,
        dims: Option<&[Len]>,
        ptr: &str,
    ) -> NodeId {
        let (key, one_of) = if map.contains_key("oneOf") {
            ("oneOf", true)
        } else {
            ("anyOf", false)
        };
        if map.contains_key("anyOf") && map.contains_key("oneOf") {
            return self.fail(
                ptr,
                "a schema with both `anyOf` and `oneOf` is not supported",
            );
        }
        let Some(arms) = map.get(key).and_then(Value::as_array) else {
            return self.fail(ptr, format!("`{key}` must be a list"));
        };
        if arms.is_empty() {
            return self.fail(ptr, format!("`{key}` is empty: no value is valid"));
        }
        // Keywords beside the union apply to every arm.
        let mut base = map.clone();
        base.remove(key);
        let discriminator = base.remove("discriminator");
        let shared = constrains(&base, &[]);
        let mut ids = Vec::with_capacity(arms.len());
        for (i, arm) in arms.iter().enumerate() {
            let aptr = format!("{ptr}/{key}/{i}");
            let id = if shared {
                let combined = serde_json::json!({ "allOf": [Value::Object(base.clone()), arm] });
                match allof::merge_all_of(self.root, &combined, &aptr) {
                    Ok(m) => self.compile(&m, name, dims, &aptr),
                    Err(e) => {
                        // An arm that cannot hold beside the shared keywords is dropped.
                        let _ = e;
                        continue;
                    }
                }
            } else {
                self.compile(arm, name, dims, &aptr)
            };
            let id = match (&discriminator, arm.get("$ref").and_then(Value::as_str)) {
                (Some(d), Some(r)) => self.tag_arm(id, d, r),
                _ => id,
            };
            ids.push(id);
        }
        if ids.is_empty() {
            return self.fail(
                ptr,
                format!("no arm of `{key}` can hold beside the keywords next to it"),
            );
        }
        if ids.len() == 1 {
            return ids[0];
        }
        let id = self.push(Node::Union {
            arms: ids,
            random: one_of,
        });
        if one_of {
            // Checked once every arm is compiled (an arm may be a definition still open).
            self.one_of.push((id, ptr.to_string()));
        }
        id
    }

    /// Sets a discriminated arm's tag property to its key in the mapping.
    pub(super) fn tag_arm(&mut self, id: NodeId, discriminator: &Value, r: &str) -> NodeId {
        let Some(prop) = discriminator.get("propertyName").and_then(Value::as_str) else {
            return id;
        };
        let tag = discriminator
            .get("mapping")
            .and_then(Value::as_object)
            .and_then(|m| m.iter().find(|(_, v)| v.as_str() == Some(r)))
            .map(|(k, _)| k.clone());
        let Some(tag) = tag else {
            return id;
        };
        let target = self.follow(id);
        let Some(Node::Object(spec)) = self.nodes.get(target).cloned() else {
            return id;
        };
        let text = Value::String(tag).to_string();
        // Keep the arm's own tag schema when it already pins a value.
        if let Some(f) = spec.fields.iter().find(|f| f.key == key_text(prop)) {
            if matches!(self.nodes.get(self.follow(f.node)), Some(Node::Choice(c)) if c.len() == 1)
            {
                return id;
            }
        }
        let choice = self.push(Node::Choice(vec![text]));
        let mut spec = spec;
        spec.set_field(&key_text(prop), choice);
        let new_id = self.push(Node::Object(spec));
        self.recursive[new_id] = self.recursive[target] || self.recursive[id];
        new_id
    }
}

const NULL: u8 = 1;
const BOOL: u8 = 2;
const INT: u8 = 4;
const FRAC: u8 = 8;
const STR: u8 = 16;
const ARR: u8 = 32;
const OBJ: u8 = 64;

fn value_mask(text: &str) -> u8 {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Null) => NULL,
        Ok(Value::Bool(_)) => BOOL,
        Ok(Value::Number(n)) => {
            if n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                INT
            } else {
                FRAC
            }
        }
        Ok(Value::String(_)) => STR,
        Ok(Value::Array(_)) => ARR,
        Ok(Value::Object(_)) => OBJ,
        Err(_) => 0x7f,
    }
}

/// The JSON types a node can produce.
fn mask(c: &Compiler<'_>, id: NodeId, depth: usize) -> u8 {
    if depth > 32 {
        return 0x7f;
    }
    match c.nodes.get(c.follow(id)) {
        Some(Node::Null) => NULL,
        Some(Node::Bool) => BOOL,
        Some(Node::Int(_)) => INT,
        Some(Node::Num(_)) => INT | FRAC,
        Some(Node::Str(_) | Node::JsonText(_)) => STR,
        Some(Node::Choice(v)) => v.iter().fold(0, |m, t| m | value_mask(t)),
        Some(Node::Array { .. } | Node::Tuple { .. } | Node::Results(_)) => ARR,
        Some(Node::Object(_)) => OBJ,
        Some(Node::Union { arms, .. }) => arms.iter().fold(0, |m, a| m | mask(c, *a, depth + 1)),
        _ => 0x7f,
    }
}

/// Required fields pinned to a few values (discriminator tags).
fn tags(c: &Compiler<'_>, id: NodeId) -> Vec<(String, Vec<String>)> {
    match c.nodes.get(c.follow(id)) {
        Some(Node::Object(spec)) => spec
            .fields
            .iter()
            .filter(|f| f.required)
            .filter_map(|f| match c.nodes.get(c.follow(f.node)) {
                Some(Node::Choice(v)) => Some((f.key.clone(), v.clone())),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn choices(c: &Compiler<'_>, id: NodeId) -> Option<Vec<String>> {
    match c.nodes.get(c.follow(id)) {
        Some(Node::Choice(v)) => Some(v.clone()),
        _ => None,
    }
}

/// Keys an object node may write (fields and map entries).
fn emitted_keys(c: &Compiler<'_>, id: NodeId) -> Option<Vec<String>> {
    match c.nodes.get(c.follow(id)) {
        Some(Node::Object(spec)) => Some(
            spec.fields
                .iter()
                .map(|f| f.key.clone())
                .chain(spec.entries.iter().map(|e| e.key.clone()))
                .collect(),
        ),
        _ => None,
    }
}

fn required_keys(c: &Compiler<'_>, id: NodeId) -> Vec<String> {
    match c.nodes.get(c.follow(id)) {
        Some(Node::Object(spec)) => spec
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.key.clone())
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether no value written for node `i` can match the schema of node `j`.
fn excludes(c: &Compiler<'_>, i: NodeId, j: NodeId, depth: usize) -> bool {
    if depth > 16 {
        return false;
    }
    let (fi, fj) = (c.follow(i), c.follow(j));
    if let Some(Node::Union { arms, .. }) = c.nodes.get(fi) {
        return arms.iter().all(|a| excludes(c, *a, j, depth + 1));
    }
    if let Some(Node::Union { arms, .. }) = c.nodes.get(fj) {
        return arms.iter().all(|b| excludes(c, i, *b, depth + 1));
    }
    let (mi, mj) = (mask(c, i, 0), mask(c, j, 0));
    if mi & mj == 0 {
        return true;
    }
    if let (Some(a), Some(b)) = (choices(c, i), choices(c, j)) {
        if a.iter().all(|x| !b.contains(x)) {
            return true;
        }
    }
    if mi == OBJ && mj == OBJ {
        let (ti, tj) = (tags(c, i), tags(c, j));
        let tag_conflict = ti.iter().any(|(k, vi)| {
            tj.iter()
                .any(|(k2, vj)| k == k2 && vi.iter().all(|x| !vj.contains(x)))
        });
        // `j` requires a key that `i` never writes.
        let lacks_required = emitted_keys(c, i)
            .is_some_and(|keys| required_keys(c, j).iter().any(|r| !keys.contains(r)));
        return tag_conflict || lacks_required;
    }
    false
}

/// The arms of a `oneOf` whose values can match no other arm.
pub(super) fn exclusive_arms(c: &Compiler<'_>, ids: &[NodeId]) -> Vec<NodeId> {
    (0..ids.len())
        .filter(|&i| (0..ids.len()).all(|j| j == i || excludes(c, ids[i], ids[j], 0)))
        .map(|i| ids[i])
        .collect()
}
