//! Checking a value against compiled nodes.
//!
//! One walk serves two purposes through its [`Sink`]: collecting violations with
//! messages, or only noting that something failed (to try the arms of a union).
//! Nothing is allocated for a value that passes: paths live on the stack and
//! messages are built by closures called only for a violation.

use serde_json::{Map, Number, Value};

use super::alphabet::check_biolm_string;
use super::messages::{
    cut, describe, ies, is_integer, is_written_integer, json_eq, list_values, num, plural, short,
    type_matches, type_names, value_type,
};
use super::node::{Additional, Compiled, Discriminator, Node, NodeId, T_INT, T_NUM, T_OBJ};
use super::rules::{check_key_alphabet, check_rules};
use super::{PathSegment, Violation};

/// Most steps (`$ref` hops and descents into the value) a check may take in depth.
pub(super) const MAX_WALK: usize = 512;

/// Where violations go: collected with messages, or only noted (for union probes).
pub(super) enum Sink {
    Collect(Vec<Violation>),
    Probe(bool),
}

impl Sink {
    pub(super) fn push(&mut self, path: Option<&Path<'_>>, message: impl FnOnce() -> String) {
        match self {
            Sink::Collect(v) => v.push(violation(path, message())),
            Sink::Probe(failed) => *failed = true,
        }
    }

    /// Like [`Sink::push`], for a violation about the character at `position` (0-based).
    pub(super) fn push_at(
        &mut self,
        path: Option<&Path<'_>>,
        position: usize,
        message: impl FnOnce() -> String,
    ) {
        match self {
            Sink::Collect(v) => {
                let mut one = violation(path, message());
                one.position = Some(position);
                v.push(one);
            }
            Sink::Probe(failed) => *failed = true,
        }
    }

    fn failed_probe(&self) -> bool {
        matches!(self, Sink::Probe(true))
    }
}

/// A path kept on the stack while walking; turned into a `Vec` only for a violation.
pub(super) struct Path<'a> {
    pub(super) parent: Option<&'a Path<'a>>,
    pub(super) seg: Seg<'a>,
}

/// One step of a [`Path`].
pub(super) enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

pub(super) fn violation(path: Option<&Path<'_>>, message: String) -> Violation {
    let mut segs = Vec::new();
    let mut cur = path;
    while let Some(p) = cur {
        segs.push(match p.seg {
            Seg::Key(k) => PathSegment::Key(k.to_string()),
            Seg::Index(i) => PathSegment::Index(i),
        });
        cur = p.parent;
    }
    segs.reverse();
    Violation {
        path: segs,
        message,
        position: None,
    }
}

impl Compiled {
    /// Whether `value` passes `id` (no messages built).
    pub(super) fn passes(&self, id: NodeId, value: &Value, depth: usize) -> bool {
        let mut sink = Sink::Probe(false);
        self.walk(id, value, None, &mut sink, depth);
        matches!(sink, Sink::Probe(false))
    }

    /// Checks `value` against `id`, appending violations to `out`.
    pub(super) fn check(
        &self,
        id: NodeId,
        value: &Value,
        path: Option<&Path<'_>>,
        out: &mut Vec<Violation>,
    ) {
        let mut sink = Sink::Collect(std::mem::take(out));
        self.walk(id, value, path, &mut sink, 0);
        if let Sink::Collect(v) = sink {
            *out = v;
        }
    }

    pub(super) fn walk(
        &self,
        id: NodeId,
        value: &Value,
        path: Option<&Path<'_>>,
        sink: &mut Sink,
        depth: usize,
    ) {
        let Some(mut node) = self.nodes.get(id) else {
            return;
        };
        // A bare `$ref` (and the slot a `$ref` target is compiled into) is followed here,
        // without a stack frame: only steps that check something count towards MAX_WALK.
        // `$ref` cycles are refused when compiling, so this ends.
        for _ in 0..MAX_WALK {
            let Some(next) = node.skip_to else { break };
            match self.nodes.get(next) {
                Some(n) => node = n,
                None => return,
            }
        }
        if depth > MAX_WALK {
            too_deep(path, sink);
            return;
        }
        if node.never {
            sink.push(path, || {
                "is not allowed here (the schema accepts no value)".into()
            });
            return;
        }
        if let Some(types) = node.types {
            if !type_matches(types, value) {
                sink.push(path, || {
                    format!("must be {}, got {}", type_names(types), describe(value))
                });
                return;
            }
        }
        if self.strict {
            if let (Some(types), Value::Number(n)) = (node.types, value) {
                if types & T_INT != 0 && types & T_NUM == 0 && !is_written_integer(n) {
                    sink.push(path, || {
                        format!("must be an integer written without a fraction, got the number {n}")
                    });
                    return;
                }
            }
        }
        if node.lenient {
            return;
        }
        if let Some((lo, hi)) = node.length {
            check_length(lo, hi, value, path, sink);
        }
        if let (Some(key), Value::Object(m)) = (&node.lenient_if_key, value) {
            if m.contains_key(key) {
                return;
            }
        }
        if let Some(r) = node.reference {
            self.walk(r, value, path, sink, depth + 1);
            if sink.failed_probe() {
                return;
            }
        }
        if let Some(values) = &node.enum_values {
            if !values.iter().any(|v| json_eq(v, value)) {
                sink.push(path, || {
                    format!(
                        "{} is not one of the allowed values: {}",
                        short(value),
                        list_values(values)
                    )
                });
            }
        }
        if let Some(c) = &node.const_value {
            if !json_eq(c, value) {
                sink.push(path, || {
                    format!("must be {}, got {}", short(c), short(value))
                });
            }
        }
        match value {
            Value::String(s) => self.check_string(node, s, path, sink, depth),
            Value::Number(n) => check_number(node, n, path, sink),
            Value::Array(a) => self.check_array(node, a, path, sink, depth),
            Value::Object(m) => self.check_object(node, m, path, sink, depth),
            _ => {}
        }
        if sink.failed_probe() {
            return;
        }
        for &arm in &node.all_of {
            self.walk(arm, value, path, sink, depth + 1);
        }
        if let Some(d) = &node.discriminator {
            self.check_discriminated(d, value, path, sink, depth);
        } else {
            if !node.any_of.is_empty()
                && !node
                    .any_of
                    .iter()
                    .any(|&arm| self.passes(arm, value, depth + 1))
            {
                self.explain_union(&node.any_of, value, path, sink, depth);
            }
            if !node.one_of.is_empty() {
                let n = node
                    .one_of
                    .iter()
                    .filter(|&&arm| self.passes(arm, value, depth + 1))
                    .count();
                if n == 0 {
                    self.explain_union(&node.one_of, value, path, sink, depth);
                } else if n > 1 {
                    sink.push(path, || {
                        format!("matches {n} of the allowed forms, but exactly one is required")
                    });
                }
            }
        }
        if let Some(not) = node.not {
            if self.passes(not, value, depth + 1) {
                sink.push(path, || {
                    format!(
                        "{} matches a form that is excluded here (`not`)",
                        short(value)
                    )
                });
            }
        }
        if let Some((cond, then, otherwise)) = node.if_then_else {
            let branch = if self.passes(cond, value, depth + 1) {
                then
            } else {
                otherwise
            };
            if let Some(b) = branch {
                self.walk(b, value, path, sink, depth + 1);
            }
        }
    }

    /// A tagged union: the tag property picks the one arm the value is checked against.
    fn check_discriminated(
        &self,
        d: &Discriminator,
        value: &Value,
        path: Option<&Path<'_>>,
        sink: &mut Sink,
        depth: usize,
    ) {
        let tags = || {
            d.tags
                .iter()
                .map(|(t, _)| format!("'{t}'"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Value::Object(m) = value else {
            // A union that also allows non-objects (rare): those are left to the other keywords.
            if self.union_accepts_non_objects(d) {
                return;
            }
            sink.push(path, || {
                format!(
                    "must be an object with a '{}' tag ({}), got {}",
                    d.property,
                    tags(),
                    describe(value)
                )
            });
            return;
        };
        let Some(tag) = m.get(&d.property) else {
            sink.push(path, || {
                format!(
                    "unable to extract tag using discriminator '{}': the field is missing (expected one of the tags: {})",
                    d.property,
                    tags()
                )
            });
            return;
        };
        let arm = d.tags.iter().find(|(t, _)| match tag {
            Value::String(s) => s == t,
            Value::Number(n) => t.parse::<f64>().ok() == n.as_f64(),
            Value::Bool(b) => t == if *b { "true" } else { "false" },
            _ => false,
        });
        match arm {
            Some(&(_, id)) => self.walk(id, value, path, sink, depth + 1),
            None => sink.push(path, || {
                let shown = match tag {
                    Value::String(s) => cut(s),
                    other => short(other),
                };
                format!(
                    "input tag '{shown}' found using '{}' does not match any of the expected tags: {}",
                    d.property,
                    tags()
                )
            }),
        }
    }

    fn union_accepts_non_objects(&self, d: &Discriminator) -> bool {
        d.tags
            .iter()
            .any(|&(_, id)| self.arm_types(id).is_some_and(|t| t & !T_OBJ != 0))
    }

    /// No arm of a union matched: report the arm of the value's own JSON type when
    /// there is exactly one (the usual "X or null"), else list the forms.
    fn explain_union(
        &self,
        arms: &[NodeId],
        value: &Value,
        path: Option<&Path<'_>>,
        sink: &mut Sink,
        depth: usize,
    ) {
        if let Sink::Probe(failed) = sink {
            *failed = true;
            return;
        }
        let same_type: Vec<NodeId> = arms
            .iter()
            .copied()
            .filter(|&a| self.arm_types(a).is_none_or(|t| type_matches(t, value)))
            .collect();
        if let [only] = same_type.as_slice() {
            self.walk(*only, value, path, sink, depth + 1);
            return;
        }
        let mut forms: Vec<String> = Vec::new();
        for &a in arms {
            let f = match self.arm_types(a) {
                Some(t) => type_names(t),
                None => "a value of another form".to_string(),
            };
            if !forms.contains(&f) {
                forms.push(f);
            }
        }
        sink.push(path, || {
            format!(
                "{} matches none of the allowed forms: {}",
                short(value),
                forms.join("; ")
            )
        });
    }

    /// The JSON types an arm accepts, following `$ref`s.
    fn arm_types(&self, mut id: NodeId) -> Option<u8> {
        for _ in 0..32 {
            let node = self.nodes.get(id)?;
            if let Some(t) = node.types {
                return Some(t);
            }
            if let Some(values) = &node.enum_values {
                return Some(values.iter().fold(0, |acc, v| acc | value_type(v)));
            }
            if let Some(c) = &node.const_value {
                return Some(value_type(c));
            }
            id = node.reference?;
        }
        None
    }

    fn check_string(
        &self,
        node: &Node,
        s: &str,
        path: Option<&Path<'_>>,
        sink: &mut Sink,
        depth: usize,
    ) {
        if node.min_length.is_some() || node.max_length.is_some() {
            let len = s.chars().count();
            if let Some(min) = node.min_length {
                if len < min {
                    sink.push(path, || {
                        format!("is {len} characters, fewer than the {min} required")
                    });
                }
            }
            if let Some(max) = node.max_length {
                if len > max {
                    sink.push(path, || {
                        format!("is {len} characters, more than the {max} allowed")
                    });
                }
            }
        }
        if let Some(p) = &node.pattern {
            if !p.is_match(s) {
                sink.push(path, || {
                    format!(
                        "{} does not match the pattern {}",
                        short(&Value::String(s.to_string())),
                        p.source()
                    )
                });
            }
        }
        if let Some(f) = &node.format {
            if let Err(why) = f.check(s) {
                sink.push(path, || {
                    format!(
                        "{} is not a valid {} ({why})",
                        short(&Value::String(s.to_string())),
                        f.name()
                    )
                });
            }
        }
        if let Some(content) = &node.content_json {
            match serde_json::from_str::<Value>(s) {
                Err(e) => sink.push(path, || format!("must hold JSON text, but does not: {e}")),
                Ok(inner) => {
                    if let Some(schema) = content.schema {
                        self.walk(schema, &inner, path, sink, depth + 1);
                    }
                }
            }
        }
        if let Some(f) = node.text_format {
            if let Err(why) = f.check(s) {
                sink.push(path, || format!("is not a valid {} ({why})", f.name()));
            }
        }
        check_biolm_string(node, s, path, sink);
    }

    fn check_array(
        &self,
        node: &Node,
        a: &[Value],
        path: Option<&Path<'_>>,
        sink: &mut Sink,
        depth: usize,
    ) {
        let n = a.len();
        if let Some(min) = node.min_items {
            if n < min {
                sink.push(path, || {
                    format!("has {n} entr{}, fewer than the {min} required", ies(n))
                });
            }
        }
        if let Some(max) = node.max_items {
            if n > max {
                sink.push(path, || {
                    format!("has {n} entr{}, more than the {max} allowed", ies(n))
                });
            }
        }
        // `items: false` after a tuple: one message for the extra entries.
        let closed_tuple = node
            .items
            .and_then(|id| self.nodes.get(id))
            .is_some_and(|n| n.never);
        if closed_tuple && n > node.prefix_items.len() {
            let allowed = node.prefix_items.len();
            if node.max_items.is_none_or(|m| m > allowed) {
                sink.push(path, || {
                    format!("has {n} entr{}, more than the {allowed} allowed", ies(n))
                });
            }
        }
        if depth >= MAX_WALK && !a.is_empty() {
            too_deep(path, sink);
            return;
        }
        for (i, v) in a.iter().enumerate() {
            let schema = match node.prefix_items.get(i) {
                Some(&p) => Some(p),
                None if closed_tuple => None,
                None => node.items,
            };
            if let Some(s) = schema {
                let p = Path {
                    parent: path,
                    seg: Seg::Index(i),
                };
                self.walk(s, v, Some(&p), sink, depth + 1);
                if sink.failed_probe() {
                    return;
                }
            }
        }
        if node.unique_items {
            'outer: for i in 1..n {
                for j in 0..i {
                    if json_eq(&a[j], &a[i]) {
                        sink.push(path, || {
                            format!(
                                "entries [{j}] and [{i}] are both {}; the entries must be unique",
                                short(&a[i])
                            )
                        });
                        break 'outer;
                    }
                }
            }
        }
        if let Some(c) = node.contains {
            let found = a.iter().filter(|v| self.passes(c, v, depth + 1)).count();
            let min = node.min_contains.unwrap_or(1);
            if found < min {
                sink.push(path, || {
                    if min == 1 {
                        "has no entry of the required form (`contains`)".to_string()
                    } else {
                        format!(
                            "has {found} entr{} of the required form, fewer than the {min} required",
                            ies(found)
                        )
                    }
                });
            }
            if let Some(max) = node.max_contains {
                if found > max {
                    sink.push(path, || {
                        format!(
                            "has {found} entr{} of the counted form, more than the {max} allowed",
                            ies(found)
                        )
                    });
                }
            }
        }
    }

    fn check_object(
        &self,
        node: &Node,
        m: &Map<String, Value>,
        path: Option<&Path<'_>>,
        sink: &mut Sink,
        depth: usize,
    ) {
        for name in &node.required {
            if m.contains_key(name) {
                continue;
            }
            let via_alias = node.aliases.iter().any(|(alias, idx)| {
                node.properties.get(*idx).is_some_and(|(p, _)| p == name) && m.contains_key(alias)
            });
            if !via_alias {
                let p = Path {
                    parent: path,
                    seg: Seg::Key(name),
                };
                sink.push(Some(&p), || "is required but missing".to_string());
            }
        }
        if matches!(node.additional, Additional::Deny) {
            check_alias_twice(node, m, path, sink);
        }
        let n = m.len();
        if let Some(min) = node.min_properties {
            if n < min {
                sink.push(path, || {
                    format!("has {n} field{}, fewer than the {min} required", plural(n))
                });
            }
        }
        if let Some(max) = node.max_properties {
            if n > max {
                sink.push(path, || {
                    format!("has {n} field{}, more than the {max} allowed", plural(n))
                });
            }
        }
        for (key, deps) in &node.dependent_required {
            if !m.contains_key(key) {
                continue;
            }
            for dep in deps {
                if !m.contains_key(dep) {
                    let p = Path {
                        parent: path,
                        seg: Seg::Key(dep),
                    };
                    sink.push(Some(&p), || format!("is required when `{key}` is present"));
                }
            }
        }
        check_rules(node, m, path, sink);
        check_key_alphabet(node, m, path, sink);
        for (key, id) in &node.dependent_schemas {
            if m.contains_key(key) {
                self.check_object_value(*id, m, path, sink, depth);
            }
        }
        if depth >= MAX_WALK && !m.is_empty() {
            too_deep(path, sink);
            return;
        }
        for (key, v) in m {
            let p = Path {
                parent: path,
                seg: Seg::Key(key),
            };
            if let Some(names) = node.property_names {
                let key_value = Value::String(key.clone());
                if !self.passes(names, &key_value, depth + 1) {
                    sink.push(Some(&p), || {
                        let mut inner = Vec::new();
                        self.check(names, &key_value, None, &mut inner);
                        let why = inner.first().map(|v| v.message.clone()).unwrap_or_default();
                        format!("is not an allowed key: {why}")
                    });
                }
            }
            let mut matched = false;
            if let Some((_, id)) = node.properties.iter().find(|(name, _)| name == key) {
                matched = true;
                self.walk(*id, v, Some(&p), sink, depth + 1);
            } else if let Some((_, idx)) = node.aliases.iter().find(|(alias, _)| alias == key) {
                if let Some((_, id)) = node.properties.get(*idx) {
                    matched = true;
                    self.walk(*id, v, Some(&p), sink, depth + 1);
                }
            }
            for (pat, id) in &node.pattern_properties {
                if pat.is_match(key) {
                    matched = true;
                    self.walk(*id, v, Some(&p), sink, depth + 1);
                }
            }
            if !matched {
                // Another variant's param: checked as the gateway does, then dropped by
                // the model (see `Validator::ignored_params`).
                if let Some((_, id)) = node.ignored_keys.iter().find(|(k, _)| k == key) {
                    matched = true;
                    self.walk(*id, v, Some(&p), sink, depth + 1);
                }
            }
            if !matched {
                match node.additional {
                    Additional::Allow => {}
                    Additional::Deny => sink.push(Some(&p), || {
                        let mut known: Vec<&str> =
                            node.properties.iter().map(|(n, _)| n.as_str()).collect();
                        known.extend(node.aliases.iter().map(|(a, _)| a.as_str()));
                        if known.is_empty() {
                            "is not a known field (this object takes no fields)".to_string()
                        } else {
                            format!("is not a known field (known: {})", known.join(", "))
                        }
                    }),
                    Additional::PatternsOnly => sink.push(Some(&p), || {
                        let pats: Vec<&str> = node
                            .pattern_properties
                            .iter()
                            .map(|(p, _)| p.source())
                            .collect();
                        format!(
                            "is not an allowed key: keys must match {}",
                            pats.join(" or ")
                        )
                    }),
                    Additional::Schema(id) => self.walk(id, v, Some(&p), sink, depth + 1),
                }
            }
            if sink.failed_probe() {
                return;
            }
        }
    }

    /// `dependentSchemas`: the whole object against another schema. The map is
    /// borrowed, so it is wrapped into a value only when that schema is met.
    fn check_object_value(
        &self,
        id: NodeId,
        m: &Map<String, Value>,
        path: Option<&Path<'_>>,
        sink: &mut Sink,
        depth: usize,
    ) {
        let whole = Value::Object(m.clone());
        self.walk(id, &whole, path, sink, depth + 1);
    }
}

/// A property given under two of its keys (its name and an alias, or two aliases):
/// the server reads one and refuses the other as an unknown field.
fn check_alias_twice(
    node: &Node,
    m: &Map<String, Value>,
    path: Option<&Path<'_>>,
    sink: &mut Sink,
) {
    for (alias, idx) in &node.aliases {
        if !m.contains_key(alias) {
            continue;
        }
        let Some((name, _)) = node.properties.get(*idx) else {
            continue;
        };
        let other = if m.contains_key(name) {
            Some(name.as_str())
        } else {
            node.aliases
                .iter()
                .take_while(|(a, _)| a != alias)
                .find(|(a, i)| i == idx && m.contains_key(a))
                .map(|(a, _)| a.as_str())
        };
        if let Some(other) = other {
            let p = Path {
                parent: path,
                seg: Seg::Key(alias),
            };
            sink.push(Some(&p), || {
                format!(
                    "gives `{name}` a second time (`{other}` is given too): give it under one key"
                )
            });
        }
    }
}

/// `x-biolm-length`: lengths the server checks in a validator (characters of a
/// non-empty string, entries of a list).
fn check_length(
    lo: Option<usize>,
    hi: Option<usize>,
    value: &Value,
    path: Option<&Path<'_>>,
    sink: &mut Sink,
) {
    let (n, unit) = match value {
        Value::String(s) if !s.is_empty() => (s.chars().count(), "character"),
        Value::Array(a) => (a.len(), "entr"),
        _ => return,
    };
    let unit = match (unit, n) {
        ("entr", 1) => "entry".to_string(),
        ("entr", _) => "entries".to_string(),
        (u, n) => format!("{u}{}", plural(n)),
    };
    if let Some(min) = lo {
        if n < min {
            sink.push(path, || {
                format!("has {n} {unit}, fewer than the {min} the server requires")
            });
        }
    }
    if let Some(max) = hi {
        if n > max {
            sink.push(path, || {
                format!("has {n} {unit}, more than the {max} the server allows")
            });
        }
    }
}

/// The one violation of a value nested deeper than [`MAX_WALK`] steps.
fn too_deep(path: Option<&Path<'_>>, sink: &mut Sink) {
    sink.push(path, || {
        format!("is nested too deeply to check (more than {MAX_WALK} levels)")
    });
}

fn check_number(node: &Node, n: &Number, path: Option<&Path<'_>>, sink: &mut Sink) {
    let Some(x) = n.as_f64() else { return };
    if let Some(min) = node.minimum {
        if x < min {
            sink.push(path, || {
                format!("is {n}, less than the minimum {}", num(min))
            });
        }
    }
    if let Some(max) = node.maximum {
        if x > max {
            sink.push(path, || {
                format!("is {n}, more than the maximum {}", num(max))
            });
        }
    }
    if let Some(min) = node.exclusive_minimum {
        if x <= min {
            sink.push(path, || {
                format!("is {n}, but must be greater than {}", num(min))
            });
        }
    }
    if let Some(max) = node.exclusive_maximum {
        if x >= max {
            sink.push(path, || {
                format!("is {n}, but must be less than {}", num(max))
            });
        }
    }
    if let Some(m) = node.multiple_of {
        let int_only = node.types.is_some_and(|t| t & T_INT != 0 && t & T_NUM == 0);
        if !is_multiple(n, m, int_only && is_integer(n)) {
            sink.push(path, || format!("is {n}, not a multiple of {}", num(m)));
        }
    }
}

/// pydantic's rules: for an `int` field, Python's exact `%` (`value % m == 0`); for a
/// `float` field, pydantic-core's tolerant check on the quotient's remainder:
/// `q = value / m` must be finite and `|value - round(q) * m| <= 1e-9`.
pub(super) fn is_multiple(n: &Number, m: f64, integer_field: bool) -> bool {
    if integer_field {
        let exact = |x: i128| {
            if m.fract() == 0.0 && m.abs() < 1.7e38 {
                let mi = m as i128;
                mi == 0 || x % mi == 0
            } else {
                (x as f64) % m == 0.0
            }
        };
        if let Some(i) = n.as_i64() {
            return exact(i128::from(i));
        }
        if let Some(u) = n.as_u64() {
            return exact(i128::from(u));
        }
        if let Some(f) = n.as_f64() {
            if f.fract() == 0.0 && f.abs() < 1.7e38 {
                return exact(f as i128);
            }
        }
    }
    let Some(x) = n.as_f64() else { return true };
    let q = x / m;
    if !q.is_finite() {
        return false;
    }
    (x - q.round() * m).abs() <= 1e-9
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(v: serde_json::Value) -> Number {
        match v {
            Value::Number(n) => n,
            other => panic!("not a number: {other}"),
        }
    }

    /// Verdicts measured with pydantic 2.12.5 (pydantic-core 2.41.5).
    #[test]
    fn multiple_of_matches_pydantic() {
        use serde_json::json;
        let float_cases = [
            (0.1, json!(0.3), true),
            (0.1, json!(-0.3), true),
            (0.1, json!(0.30000001), false),
            (0.1, json!(0.35), false),
            (0.1, json!(1e-12), true),
            (0.1, json!(1e20), true),
            (0.5, json!(1.25), false),
            (0.5, json!(1e308), false),
            (2.0, json!(1e308), true),
            (3.0, json!(9.0000000001), true),
            (3.0, json!(9.00001), false),
            (1.0, json!(1e-9), true),
            (1.0, json!(1e-8), false),
            (1.0, json!(0.999999999), true),
            (1.0, json!(1.000000001), false),
            (0.001, json!(12.345), true),
            (0.001, json!(12.3456), false),
            (100.0, json!(1e-7), false),
            (0.0001, json!(1e-10), true),
            (1e-20, json!(1), true),
        ];
        for (m, v, want) in float_cases {
            assert_eq!(is_multiple(&number(v.clone()), m, false), want, "{v} % {m}");
        }
        let int_cases = [
            (3.0, json!(9), true),
            (3.0, json!(-9), true),
            (3.0, json!(10), false),
            (3.0, json!(300000000000000000u64), true),
            (3.0, json!(300000000000000001u64), false),
        ];
        for (m, v, want) in int_cases {
            assert_eq!(is_multiple(&number(v.clone()), m, true), want, "{v} % {m}");
        }
    }
}
