//! BioLM's `x-biolm-*` string rules: alphabets (with multi-character tokens), token
//! counts and residue limits (see `schemas/README.md`).

use std::fmt::Write as _;

use serde_json::Value;

use super::check::{Path, Sink};
use super::compile::count;
use super::messages::plural;
use super::node::Node;
use super::SchemaError;

#[derive(Debug, Clone)]
pub(super) struct Alphabet {
    name: String,
    letters: String,
    /// ASCII letters as a bitmap; non-ASCII letters are looked up in `letters`.
    ascii: [bool; 128],
    tokens: Vec<String>,
    /// Whether a string with no residue (empty, or tokens only) is refused (the
    /// server's `^[...]+$` after removing the tokens). Default true.
    residue_required: bool,
    /// First characters of tokens (to try a token only where one could start).
    token_starts: Vec<char>,
}

impl Alphabet {
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    pub(super) fn letters(&self) -> &str {
        &self.letters
    }

    pub(super) fn allows(&self, c: char) -> bool {
        if c.is_ascii() {
            self.ascii[c as usize]
        } else {
            self.letters.contains(c)
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct TokenCount {
    token: String,
    min: Option<usize>,
    max: Option<usize>,
    non_consecutive: bool,
}

/// The `x-biolm-*` rules of `node` on the string `s`.
pub(super) fn check_biolm_string(node: &Node, s: &str, path: Option<&Path<'_>>, sink: &mut Sink) {
    if let Some(alpha) = &node.alphabet {
        // An empty string breaks `minLength` where there is one; one message is enough.
        if !(s.is_empty() && node.min_length.is_some_and(|m| m > 0)) {
            check_alphabet(alpha, s, path, sink);
        }
    }
    for rule in &node.token_counts {
        if rule.token.is_empty() {
            continue;
        }
        let count = s.matches(rule.token.as_str()).count();
        if let Some(min) = rule.min {
            if count < min {
                sink.push(path, || {
                    format!(
                        "contains {:?} {count} time{}, at least {min} required",
                        rule.token,
                        plural(count)
                    )
                });
            }
        }
        if let Some(max) = rule.max {
            if count > max {
                sink.push(path, || {
                    format!(
                        "contains {:?} {count} times, at most {max} allowed",
                        rule.token
                    )
                });
            }
        }
        if rule.non_consecutive {
            if let Some(pos) = find_doubled(s, &rule.token) {
                sink.push_at(path, pos, || {
                    format!(
                        "has {:?} twice in a row at position {}; it may not repeat",
                        rule.token,
                        pos + 1
                    )
                });
            }
        }
    }
}

pub(super) fn check_alphabet(alpha: &Alphabet, s: &str, path: Option<&Path<'_>>, sink: &mut Sink) {
    // Fast path: without tokens, an ASCII text whose every byte is in the table passes.
    // Anything else (a token, a non-ASCII or a refused character) takes the full scan,
    // which finds the position for the message.
    if alpha.tokens.is_empty()
        && !s.is_empty()
        && s.bytes()
            .all(|b| alpha.ascii.get(usize::from(b)).copied().unwrap_or(false))
    {
        return;
    }
    let mut rest = s;
    let mut pos = 0usize; // in characters
    let mut residues = 0usize; // characters that are not part of a token
    while let Some(c) = rest.chars().next() {
        if !alpha.token_starts.is_empty() && alpha.token_starts.contains(&c) {
            if let Some(tok) = alpha.tokens.iter().find(|t| rest.starts_with(t.as_str())) {
                pos += tok.chars().count();
                rest = &rest[tok.len()..];
                continue;
            }
        }
        // The server's `^[...]+$` (Python) lets one final newline through after a residue.
        if c == '\n' && rest.len() == 1 && residues > 0 {
            return;
        }
        if !alpha.allows(c) {
            sink.push_at(path, pos, || {
                let mut rule = format!("alphabet {}: {}", alpha.name, alpha.letters);
                if !alpha.tokens.is_empty() {
                    let _ = write!(rule, ", tokens {}", alpha.tokens.join(" "));
                }
                format!(
                    "character {c:?} at position {} is not allowed ({rule})",
                    pos + 1
                )
            });
            return;
        }
        pos += 1;
        residues += 1;
        rest = &rest[c.len_utf8()..];
    }
    if residues == 0 && alpha.residue_required {
        // The server removes the tokens and then needs at least one residue.
        sink.push(path, || {
            if s.is_empty() {
                "is empty; at least one residue is required".to_string()
            } else {
                format!(
                    "has no residue besides the tokens ({}); at least one is required",
                    alpha.tokens.join(" ")
                )
            }
        });
    }
}

/// Character position of the first `token token` in `s`.
fn find_doubled(s: &str, token: &str) -> Option<usize> {
    let mut i = 0;
    while let Some(off) = s[i..].find(token) {
        let at = i + off;
        if s[at + token.len()..].starts_with(token) {
            return Some(s[..at].chars().count());
        }
        i = at + token.len();
    }
    None
}

pub(super) fn parse_alphabet(value: &Value, at: &str) -> Result<Alphabet, SchemaError> {
    let map = value
        .as_object()
        .ok_or_else(|| SchemaError::new(at, "must be an object with `name` and `letters`"))?;
    let name = map
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| SchemaError::new(format!("{at}/name"), "must be a string"))?;
    let letters = map
        .get("letters")
        .and_then(Value::as_str)
        .ok_or_else(|| SchemaError::new(format!("{at}/letters"), "must be a string"))?;
    let mut tokens = Vec::new();
    if let Some(t) = map.get("tokens") {
        let list = t
            .as_array()
            .ok_or_else(|| SchemaError::new(format!("{at}/tokens"), "must be a list of strings"))?;
        for (i, v) in list.iter().enumerate() {
            match v.as_str() {
                Some(s) if !s.is_empty() => tokens.push(s.to_string()),
                _ => {
                    return Err(SchemaError::new(
                        format!("{at}/tokens/{i}"),
                        "a token must be a non-empty string",
                    ))
                }
            }
        }
    }
    let residue_required = match map.get("residue_required") {
        None => true,
        Some(v) => v.as_bool().ok_or_else(|| {
            SchemaError::new(format!("{at}/residue_required"), "must be true or false")
        })?,
    };
    for key in map.keys() {
        if !matches!(
            key.as_str(),
            "name" | "letters" | "tokens" | "residue_required"
        ) {
            return Err(SchemaError::new(
                format!("{at}/{key}"),
                format!("unknown alphabet key `{key}`"),
            ));
        }
    }
    let mut ascii = [false; 128];
    for c in letters.chars() {
        if c.is_ascii() {
            ascii[c as usize] = true;
        }
    }
    let mut token_starts: Vec<char> = tokens.iter().filter_map(|t| t.chars().next()).collect();
    token_starts.dedup();
    Ok(Alphabet {
        name: name.to_string(),
        letters: letters.to_string(),
        ascii,
        tokens,
        residue_required,
        token_starts,
    })
}

pub(super) fn parse_token_counts(value: &Value, at: &str) -> Result<Vec<TokenCount>, SchemaError> {
    let list = value
        .as_array()
        .ok_or_else(|| SchemaError::new(at, "must be a list of token rules"))?;
    let mut out = Vec::with_capacity(list.len());
    for (i, rule) in list.iter().enumerate() {
        let rat = format!("{at}/{i}");
        let map = rule
            .as_object()
            .ok_or_else(|| SchemaError::new(rat.clone(), "a token rule must be an object"))?;
        let token = match map.get("token").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => t.to_string(),
            _ => {
                return Err(SchemaError::new(
                    format!("{rat}/token"),
                    "must be a non-empty string",
                ))
            }
        };
        let mut tc = TokenCount {
            token,
            min: None,
            max: None,
            non_consecutive: false,
        };
        for (k, v) in map {
            let kat = format!("{rat}/{k}");
            match k.as_str() {
                "token" => {}
                "min" => tc.min = Some(count(v, &kat)?),
                "max" => tc.max = Some(count(v, &kat)?),
                "non_consecutive" => {
                    tc.non_consecutive = v
                        .as_bool()
                        .ok_or_else(|| SchemaError::new(kat.clone(), "must be true or false"))?
                }
                other => {
                    return Err(SchemaError::new(
                        &kat,
                        format!("unknown token rule key `{other}`"),
                    ))
                }
            }
        }
        out.push(tc);
    }
    Ok(out)
}
