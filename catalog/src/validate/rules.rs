//! `x-biolm-rules` (on an object schema): rules between the fields of one object, and
//! `x-biolm-key-alphabet` (on a map): the alphabet of its keys. The kinds are generic;
//! which fields they apply to is data in `schemas/` (see `schemas/README.md`).
//!
//! A field is *set* when it is present (under its name or an alias) and its value is
//! not empty in Python's sense: not `null`, `false`, `0`, `""`, `[]` or `{}`. The
//! server's model validators test fields that way (`if heavy and light: ...`).

use serde_json::{Map, Value};

use super::alphabet::{check_biolm_string, parse_alphabet, parse_token_counts};
use super::check::{Path, Seg, Sink};
use super::node::Node;
use super::refs::StructureRefs;
use super::SchemaError;

/// One rule of `x-biolm-rules`.
#[derive(Debug, Clone)]
pub(super) enum ObjectRule {
    /// At most one of the groups may have a given field.
    Exclusive {
        groups: Vec<Vec<String>>,
        test: Given,
    },
    /// At least one of the groups must have every one of its fields given.
    AnyGroup {
        groups: Vec<Vec<String>>,
        test: Given,
    },
    /// When `field` is set, every field of `needs` must be set.
    Requires { field: String, needs: Vec<String> },
    /// When `field` is set, `other` must hold `value` (`default` when absent or null).
    RequiresValue {
        field: String,
        other: String,
        value: Value,
        default: Option<Value>,
    },
    /// The given string or list fields of `fields` must all have the same length
    /// (characters of a string, entries of a list).
    EqualLength { fields: Vec<String> },
    /// `field` is a list of mutation strings `<wt><position><mt>` (1-based position).
    Mutations(Mutations),
    /// The fields of the first group whose fields are all set, joined, must pass the
    /// string rules in `node` (`alphabet`, `token-count`).
    Combined {
        groups: Vec<Vec<String>>,
        node: Box<Node>,
    },
    /// On a request body: params naming chains and residues of each item's structure.
    StructureRefs(StructureRefs),
}

/// When a field counts as given, for `exclusive` and `any-group` (`test`).
#[derive(Debug, Clone, Copy)]
pub(super) enum Given {
    /// Present and not empty in Python's sense (the default).
    Truthy,
    /// Present and not null (the server's `is None` tests).
    NotNull,
    /// Present, whatever the value (the server's `key in dict` tests).
    Present,
}

/// The `mutations` rule kind.
#[derive(Debug, Clone)]
pub(super) struct Mutations {
    field: String,
    /// Residue letters allowed for the wild type and the mutant.
    letters: String,
    /// The sequence field positions refer to: the position must exist and hold `wt`.
    sequence: Option<String>,
    /// Trim and uppercase each entry first (the server normalises them).
    normalize: bool,
    /// Several mutations in one entry, joined by this (at most `max_parts`).
    separator: Option<String>,
    max_parts: usize,
    /// The position must be written as digits only (else Python's `int()` rules).
    digits_only: bool,
    /// An empty list is refused.
    non_empty: bool,
}

fn strings(v: &Value, at: &str) -> Result<Vec<String>, SchemaError> {
    let list = v
        .as_array()
        .ok_or_else(|| SchemaError::new(at, "must be a list of field names"))?;
    list.iter()
        .enumerate()
        .map(|(i, s)| {
            s.as_str()
                .map(str::to_string)
                .ok_or_else(|| SchemaError::new(format!("{at}/{i}"), "must be a string"))
        })
        .collect()
}

fn groups(v: &Value, at: &str) -> Result<Vec<Vec<String>>, SchemaError> {
    let list = v
        .as_array()
        .ok_or_else(|| SchemaError::new(at, "must be a list of lists of field names"))?;
    list.iter()
        .enumerate()
        .map(|(i, g)| strings(g, &format!("{at}/{i}")))
        .collect()
}

fn text(map: &Map<String, Value>, key: &str, at: &str) -> Result<String, SchemaError> {
    map.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| SchemaError::new(format!("{at}/{key}"), "must be a string"))
}

/// Parses `x-biolm-rules`.
pub(super) fn parse_rules(value: &Value, at: &str) -> Result<Vec<ObjectRule>, SchemaError> {
    let list = value
        .as_array()
        .ok_or_else(|| SchemaError::new(at, "must be a list of rules"))?;
    let mut out = Vec::with_capacity(list.len());
    for (i, rule) in list.iter().enumerate() {
        let rat = format!("{at}/{i}");
        let map = rule
            .as_object()
            .ok_or_else(|| SchemaError::new(&rat, "a rule must be an object with `kind`"))?;
        let kind = text(map, "kind", &rat)?;
        let allowed: &[&str] = match kind.as_str() {
            "exclusive" | "any-group" => &["kind", "groups", "test"],
            "requires" => &["kind", "field", "needs"],
            "requires-value" => &["kind", "field", "other", "value", "default"],
            "equal-length" => &["kind", "fields"],
            "combined" => &["kind", "groups", "alphabet", "token-count"],
            "structure-refs" => &[
                "kind",
                "items_field",
                "chains",
                "residues",
                "residue_keys",
                "residue_groups",
                "paired_lengths",
            ],
            "mutations" => &[
                "kind",
                "field",
                "letters",
                "sequence",
                "normalize",
                "separator",
                "max_parts",
                "digits_only",
                "non_empty",
            ],
            other => {
                return Err(SchemaError::new(
                    format!("{rat}/kind"),
                    format!("unknown rule kind `{other}` (see schemas/README.md)"),
                ))
            }
        };
        if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(SchemaError::new(
                format!("{rat}/{k}"),
                format!("unknown key `{k}` for a `{kind}` rule"),
            ));
        }
        let flag = |key: &str| -> Result<bool, SchemaError> {
            match map.get(key) {
                None => Ok(false),
                Some(v) => v.as_bool().ok_or_else(|| {
                    SchemaError::new(format!("{rat}/{key}"), "must be true or false")
                }),
            }
        };
        out.push(match kind.as_str() {
            "exclusive" | "any-group" => {
                let g = groups(
                    map.get("groups").unwrap_or(&Value::Null),
                    &format!("{rat}/groups"),
                )?;
                let test = match map.get("test").map(Value::as_str) {
                    None | Some(Some("truthy")) => Given::Truthy,
                    Some(Some("not-null")) => Given::NotNull,
                    Some(Some("present")) => Given::Present,
                    Some(_) => {
                        return Err(SchemaError::new(
                            format!("{rat}/test"),
                            "must be \"truthy\" (the default), \"not-null\" or \"present\"",
                        ))
                    }
                };
                if kind == "exclusive" {
                    ObjectRule::Exclusive { groups: g, test }
                } else {
                    ObjectRule::AnyGroup { groups: g, test }
                }
            }
            "requires" => ObjectRule::Requires {
                field: text(map, "field", &rat)?,
                needs: strings(
                    map.get("needs").unwrap_or(&Value::Null),
                    &format!("{rat}/needs"),
                )?,
            },
            "requires-value" => ObjectRule::RequiresValue {
                field: text(map, "field", &rat)?,
                other: text(map, "other", &rat)?,
                value: map
                    .get("value")
                    .cloned()
                    .ok_or_else(|| SchemaError::new(format!("{rat}/value"), "is required"))?,
                default: map.get("default").cloned(),
            },
            "structure-refs" => ObjectRule::StructureRefs(super::refs::parse(map, &rat)?),
            "combined" => {
                let mut node = Node::default();
                if let Some(a) = map.get("alphabet") {
                    node.alphabet = Some(parse_alphabet(a, &format!("{rat}/alphabet"))?);
                }
                if let Some(t) = map.get("token-count") {
                    node.token_counts = parse_token_counts(t, &format!("{rat}/token-count"))?;
                }
                ObjectRule::Combined {
                    groups: groups(
                        map.get("groups").unwrap_or(&Value::Null),
                        &format!("{rat}/groups"),
                    )?,
                    node: Box::new(node),
                }
            }
            "equal-length" => ObjectRule::EqualLength {
                fields: strings(
                    map.get("fields").unwrap_or(&Value::Null),
                    &format!("{rat}/fields"),
                )?,
            },
            _ => ObjectRule::Mutations(Mutations {
                field: text(map, "field", &rat)?,
                letters: text(map, "letters", &rat)?,
                sequence: map
                    .get("sequence")
                    .map(|_| text(map, "sequence", &rat))
                    .transpose()?,
                normalize: flag("normalize")?,
                separator: map
                    .get("separator")
                    .map(|_| text(map, "separator", &rat))
                    .transpose()?,
                max_parts: match map.get("max_parts") {
                    None => 1,
                    Some(v) => super::compile::count(v, &format!("{rat}/max_parts"))?,
                },
                digits_only: flag("digits_only")?,
                non_empty: flag("non_empty")?,
            }),
        });
    }
    Ok(out)
}

/// The value of `name` in `m`, under its own key or one of its aliases.
fn field<'v>(node: &Node, m: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    if let Some(v) = m.get(name) {
        return Some(v);
    }
    let idx = node.properties.iter().position(|(n, _)| n == name)?;
    node.aliases
        .iter()
        .filter(|(_, i)| *i == idx)
        .find_map(|(alias, _)| m.get(alias))
}

/// Python truthiness of a JSON value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn is_set(node: &Node, m: &Map<String, Value>, name: &str) -> bool {
    field(node, m, name).is_some_and(truthy)
}

/// Whether `name` counts as given under `test`.
fn is_given(node: &Node, m: &Map<String, Value>, name: &str, test: Given) -> bool {
    match test {
        Given::Truthy => is_set(node, m, name),
        Given::NotNull => field(node, m, name).is_some_and(|v| !v.is_null()),
        Given::Present => field(node, m, name).is_some(),
    }
}

fn names(group: &[String]) -> String {
    group
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Applies the node's `x-biolm-rules` to the object `m`.
pub(super) fn check_rules(
    node: &Node,
    m: &Map<String, Value>,
    path: Option<&Path<'_>>,
    sink: &mut Sink,
) {
    for rule in &node.rules {
        match rule {
            ObjectRule::Exclusive { groups, test } => {
                let used: Vec<&Vec<String>> = groups
                    .iter()
                    .filter(|g| g.iter().any(|f| is_given(node, m, f, *test)))
                    .collect();
                if used.len() > 1 {
                    sink.push(path, || {
                        let shown: Vec<String> = used.iter().map(|g| names(g)).collect();
                        format!("gives both {}: give only one of these", shown.join(" and "))
                    });
                }
            }
            ObjectRule::AnyGroup { groups, test } => {
                if !groups
                    .iter()
                    .any(|g| g.iter().all(|f| is_given(node, m, f, *test)))
                {
                    sink.push(path, || {
                        let shown: Vec<String> = groups.iter().map(|g| names(g)).collect();
                        format!("needs one of: {}", shown.join(", or "))
                    });
                }
            }
            ObjectRule::Requires { field: f, needs } => {
                if is_set(node, m, f) {
                    for need in needs {
                        if !is_set(node, m, need) {
                            let p = Path {
                                parent: path,
                                seg: Seg::Key(need),
                            };
                            sink.push(Some(&p), || format!("is required when `{f}` is given"));
                        }
                    }
                }
            }
            ObjectRule::RequiresValue {
                field: f,
                other,
                value,
                default,
            } => {
                if is_set(node, m, f) {
                    let actual = field(node, m, other)
                        .filter(|v| !v.is_null())
                        .or(default.as_ref());
                    if actual != Some(value) {
                        let p = Path {
                            parent: path,
                            seg: Seg::Key(other),
                        };
                        sink.push(Some(&p), || format!("must be {value} when `{f}` is given"));
                    }
                }
            }
            ObjectRule::EqualLength { fields } => {
                let lens: Vec<(&String, usize)> = fields
                    .iter()
                    .filter_map(|f| match field(node, m, f)? {
                        Value::String(s) => Some((f, s.chars().count())),
                        Value::Array(a) => Some((f, a.len())),
                        _ => None,
                    })
                    .collect();
                if let Some(&(first, n)) = lens.first() {
                    if let Some(&(other, k)) = lens.iter().find(|(_, k)| *k != n) {
                        sink.push(path, || {
                            format!("`{first}` has length {n} but `{other}` has length {k}: they must be the same length")
                        });
                    }
                }
            }
            ObjectRule::Mutations(rule) => check_mutations(node, rule, m, path, sink),
            ObjectRule::StructureRefs(rule) => super::refs::check(rule, m, path, sink),
            ObjectRule::Combined {
                groups,
                node: rules,
            } => {
                let Some(group) = groups.iter().find(|g| g.iter().all(|f| is_set(node, m, f)))
                else {
                    continue;
                };
                let joined: String = group
                    .iter()
                    .filter_map(|f| field(node, m, f).and_then(Value::as_str))
                    .collect();
                let mut inner = Sink::Collect(Vec::new());
                check_biolm_string(rules, &joined, None, &mut inner);
                if let Sink::Collect(found) = inner {
                    for v in found {
                        sink.push(path, || format!("{} joined: {}", names(group), v.message));
                    }
                }
            }
        }
    }
}

/// Python's `int()` on a position text (sign, digits, single underscores, spaces).
fn parse_position(s: &str, digits_only: bool) -> Option<i64> {
    if digits_only {
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        return s.parse().ok();
    }
    let t = s.trim();
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    if body.is_empty()
        || body.starts_with('_')
        || body.ends_with('_')
        || body.contains("__")
        || !body.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    t.replace('_', "").parse().ok()
}

fn check_mutations(
    node: &Node,
    rule: &Mutations,
    m: &Map<String, Value>,
    path: Option<&Path<'_>>,
    sink: &mut Sink,
) {
    let Some(Value::Array(list)) = field(node, m, &rule.field) else {
        return;
    };
    if list.is_empty() && rule.non_empty {
        let p = Path {
            parent: path,
            seg: Seg::Key(&rule.field),
        };
        sink.push(Some(&p), || {
            "is an empty list; give mutations, or null (leave it out) for none".to_string()
        });
        return;
    }
    let sequence: Option<Vec<char>> = rule
        .sequence
        .as_ref()
        .and_then(|s| field(node, m, s))
        .and_then(Value::as_str)
        .map(|s| s.chars().collect());
    let fpath = Path {
        parent: path,
        seg: Seg::Key(&rule.field),
    };
    for (i, entry) in list.iter().enumerate() {
        let Some(raw) = entry.as_str() else { continue };
        let p = Path {
            parent: Some(&fpath),
            seg: Seg::Index(i),
        };
        let text = if rule.normalize {
            raw.trim().to_uppercase()
        } else {
            raw.to_string()
        };
        let parts: Vec<&str> = match &rule.separator {
            Some(sep) if text.contains(sep.as_str()) => text.split(sep.as_str()).collect(),
            _ => vec![text.as_str()],
        };
        if parts.len() > rule.max_parts {
            sink.push(Some(&p), || {
                format!(
                    "{raw:?} joins {} mutations, at most {} allowed",
                    parts.len(),
                    rule.max_parts
                )
            });
            continue;
        }
        for part in parts {
            if let Err(why) = check_one_mutation(rule, part, sequence.as_deref()) {
                sink.push(Some(&p), || format!("mutation {raw:?}: {why}"));
                break;
            }
        }
    }
}

fn check_one_mutation(
    rule: &Mutations,
    part: &str,
    sequence: Option<&[char]>,
) -> Result<(), String> {
    let chars: Vec<char> = part.chars().collect();
    let (Some(&wt), Some(&mt)) = (chars.first(), chars.last()) else {
        return Err("expected <wild type><position><mutant>, such as A23G".into());
    };
    if chars.len() < 3 {
        return Err("expected <wild type><position><mutant>, such as A23G".into());
    }
    let middle: String = chars
        .get(1..chars.len() - 1)
        .unwrap_or(&[])
        .iter()
        .collect();
    let Some(pos) = parse_position(&middle, rule.digits_only) else {
        return Err(format!("position {middle:?} is not a whole number"));
    };
    if !rule.letters.contains(wt) {
        return Err(format!("wild type {wt:?} is not one of {}", rule.letters));
    }
    if !rule.letters.contains(mt) {
        return Err(format!("mutant {mt:?} is not one of {}", rule.letters));
    }
    if rule.sequence.is_some() {
        if pos < 1 {
            return Err(format!("position {pos} is not a 1-based position"));
        }
        if let Some(seq) = sequence {
            let at = usize::try_from(pos - 1).ok().and_then(|i| seq.get(i));
            match at {
                None => {
                    return Err(format!(
                        "position {pos} is past the end of the {}-residue sequence",
                        seq.len()
                    ))
                }
                Some(&c) if c != wt => {
                    return Err(format!(
                        "the sequence has {c:?} at position {pos}, not the wild type {wt:?}"
                    ))
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// `x-biolm-key-alphabet`: every key of the map, joined, must pass the alphabet.
pub(super) fn check_key_alphabet(
    node: &Node,
    m: &Map<String, Value>,
    path: Option<&Path<'_>>,
    sink: &mut Sink,
) {
    let Some(alpha) = &node.key_alphabet else {
        return;
    };
    for key in m.keys() {
        if let Some(c) = key.chars().find(|&c| !alpha.allows(c)) {
            let p = Path {
                parent: path,
                seg: Seg::Key(key),
            };
            sink.push(Some(&p), || {
                format!(
                    "key {key:?}: character {c:?} is not allowed (alphabet {}: {})",
                    alpha.name(),
                    alpha.letters()
                )
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_follow_python_int() {
        assert_eq!(parse_position("23", false), Some(23));
        assert_eq!(parse_position("-5", false), Some(-5));
        assert_eq!(parse_position("1_0", false), Some(10));
        assert_eq!(parse_position("x", false), None);
        assert_eq!(parse_position("", false), None);
        assert_eq!(parse_position("+5", true), None);
    }

    #[test]
    fn truthiness() {
        assert!(!truthy(&Value::Null));
        assert!(!truthy(&serde_json::json!("")));
        assert!(!truthy(&serde_json::json!([])));
        assert!(truthy(&serde_json::json!("A")));
        assert!(!truthy(&serde_json::json!(0)));
    }
}
