//! Strings: model-aware ones by role (sequences, PDB text, tokens) within the length
//! limits, and, where the schema sets a `format` or a `pattern`, a pool of examples
//! built at start-up and checked against every constraint (formats in the form
//! pydantic accepts, patterns with `regress`).

use serde_json::Value;

use super::domain::{str_role, StrRole};
use super::pattern::{compile_regex, Generator};
use super::rng::Rng;

/// A generator of strings.
#[derive(Debug, Clone)]
pub(crate) enum StrSpec {
    /// A value made for its role, padded or cut to the length limits (in characters).
    Role {
        role: StrRole,
        min_len: usize,
        max_len: usize,
    },
    /// One of these JSON string texts (quoted and escaped).
    Pool(Vec<String>),
}

/// Most examples kept per pool.
const POOL: usize = 8;

/// The `i`-th example of a format, if the format is known.
fn format_example(format: &str, i: usize, rng: &mut Rng) -> Option<String> {
    let d = (i % 28) + 1;
    let h = i % 24;
    let m = (i * 7) % 60;
    let hex = |rng: &mut Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[rng.below(16) as usize]))
            .collect()
    };
    Some(match format {
        "date-time" => format!("2024-01-{d:02}T{h:02}:{m:02}:00Z"),
        "date" => format!("2024-01-{d:02}"),
        "time" => format!("{h:02}:{m:02}:00Z"),
        "duration" => format!("P{d}DT{h}H{m}M"),
        "uuid" => format!(
            "{}-{}-4{}-8{}-{}",
            hex(rng, 8),
            hex(rng, 4),
            hex(rng, 3),
            hex(rng, 3),
            hex(rng, 12)
        ),
        "uri" | "iri" | "url" | "uri-reference" | "iri-reference" => {
            format!("https://example.com/synthetic/{i}")
        }
        "uri-template" => format!("https://example.com/synthetic/{i}/{{id}}"),
        "email" | "idn-email" => format!("synthetic{i}@example.com"),
        "hostname" | "idn-hostname" => format!("synthetic{i}.example.com"),
        "ipv4" | "ipvanyaddress" => format!("192.0.2.{}", i % 250 + 1),
        "ipv6" => format!("2001:db8::{:x}", i + 1),
        "ipv4network" | "ipvanynetwork" => format!("192.0.{}.0/24", i % 250),
        "ipv6network" => format!("2001:db8:{:x}::/48", i + 1),
        "ipv4interface" | "ipvanyinterface" => format!("192.0.2.{}/24", i % 250 + 1),
        "ipv6interface" => format!("2001:db8::{:x}/64", i + 1),
        "name-email" => format!("Synthetic {i} <synthetic{i}@example.com>"),
        "base64" | "base64url" | "byte" => {
            const B64: [&str; 4] = ["c3ludGhldGlj", "c3ludGg=", "YWJjZA==", "AAECAw=="];
            B64[i % B64.len()].to_string()
        }
        "json-pointer" => format!("/synthetic/{i}"),
        "relative-json-pointer" => format!("{i}/synthetic"),
        "regex" => "^[a-z]+$".to_string(),
        "path" | "file-path" | "directory-path" => format!("/tmp/synthetic-{i}"),
        "password" | "binary" => format!("synthetic-{}", hex(rng, 8)),
        "color" => ["#ff0000", "#00ff00", "#0000ff", "red"][i % 4].to_string(),
        "phone" => format!("+1555555{:04}", i % 10_000),
        _ => return None,
    })
}

fn count(s: &Value, key: &str) -> Option<usize> {
    s.get(key).and_then(Value::as_u64).map(|n| n as usize)
}

/// Compiles a string schema held by the property `name` (lower case).
pub(crate) fn string(s: &Value, name: &str, in_array: bool, seed: u64) -> Result<StrSpec, String> {
    let min_len = count(s, "minLength").unwrap_or(0);
    let max_len = count(s, "maxLength").unwrap_or(usize::MAX);
    if max_len < min_len {
        return Err(format!(
            "`maxLength` {max_len} is below `minLength` {min_len}"
        ));
    }
    let mut patterns: Vec<&str> = Vec::new();
    if let Some(p) = s.get("pattern") {
        patterns.push(p.as_str().ok_or("`pattern` must be a string")?);
    }
    if let Some(Value::Array(more)) = s.get(biolm_catalog::allof::MORE_PATTERNS) {
        patterns.extend(more.iter().filter_map(Value::as_str));
    }
    // pydantic's `Json[T]`: the string holds JSON text.
    if s.get("contentMediaType").and_then(Value::as_str) == Some("application/json") {
        let pool: Vec<String> = ["{}", "[]", "null", "0", "\"synthetic\""]
            .iter()
            .filter(|c| {
                let n = c.chars().count();
                n >= min_len && n <= max_len
            })
            .filter(|c| {
                patterns
                    .iter()
                    .all(|p| compile_regex(p).is_ok_and(|r| r.find(c).is_some()))
            })
            .map(|c| serde_json::to_string(c).unwrap_or_default())
            .collect();
        if pool.is_empty() {
            return Err("no JSON text fits the string's limits".into());
        }
        return Ok(StrSpec::Pool(pool));
    }
    let format = s
        .get("format")
        .and_then(Value::as_str)
        .filter(|f| format_example(f, 0, &mut Rng::new(0)).is_some());
    if patterns.is_empty() && format.is_none() {
        return Ok(StrSpec::Role {
            role: str_role(name, in_array),
            min_len,
            max_len,
        });
    }
    let regexes = patterns
        .iter()
        .map(|p| compile_regex(p))
        .collect::<Result<Vec<_>, _>>()?;
    let fits = |c: &str| {
        let n = c.chars().count();
        n >= min_len && n <= max_len && regexes.iter().all(|r| r.find(c).is_some())
    };
    let mut rng = Rng::new(seed);
    let mut pool: Vec<String> = Vec::new();
    let keep = |c: String, pool: &mut Vec<String>| {
        if fits(&c) && pool.len() < POOL {
            let text = serde_json::to_string(&c).unwrap_or_default();
            if !pool.contains(&text) {
                pool.push(text);
            }
        }
    };
    if let Some(f) = format {
        for i in 0..64 {
            if let Some(c) = format_example(f, i, &mut rng) {
                keep(c, &mut pool);
            }
        }
    } else {
        let first = patterns.first().copied().unwrap_or("");
        let generator = Generator::new(first).map_err(|e| format!("pattern `{first}`: {e}"))?;
        // Aim the repetition counts at the length limits.
        let reach = min_len.clamp(4, 64);
        for attempt in 0..256 {
            if pool.len() >= POOL {
                break;
            }
            let extra = (attempt % 8) * reach / 4;
            if let Some(c) = generator.generate(&mut rng, extra) {
                keep(c, &mut pool);
            }
        }
    }
    if pool.is_empty() {
        return Err(match (format, patterns.as_slice()) {
            (Some(f), []) => format!(
                "no `{f}` string has {min_len}..={} characters",
                if max_len == usize::MAX {
                    "any".to_string()
                } else {
                    max_len.to_string()
                }
            ),
            (Some(f), p) => format!("no `{f}` example the synthesizer makes matches {p:?}"),
            (None, p) => {
                format!("the synthesizer found no string matching {p:?} within the length limits")
            }
        });
    }
    Ok(StrSpec::Pool(pool))
}

/// Candidate keys for a map whose key schema is `names` (`propertyNames`): its
/// enum or const values, or examples of its pattern or format.
pub(crate) fn key_candidates(names: &Value, seed: u64) -> Result<Option<Vec<String>>, String> {
    if let Some(c) = names.get("const").and_then(Value::as_str) {
        return Ok(Some(vec![c.to_string()]));
    }
    if let Some(values) = names.get("enum").and_then(Value::as_array) {
        return Ok(Some(
            values
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect(),
        ));
    }
    match string(names, "key", false, seed)? {
        StrSpec::Pool(p) => Ok(Some(
            p.iter()
                .filter_map(|t| serde_json::from_str::<String>(t).ok())
                .collect(),
        )),
        StrSpec::Role { .. } => Ok(None),
    }
}

/// Examples of strings matching `pattern` (for `patternProperties` keys).
pub(crate) fn pattern_examples(pattern: &str, seed: u64) -> Result<Vec<String>, String> {
    let schema = serde_json::json!({ "pattern": pattern });
    match string(&schema, "key", false, seed)? {
        StrSpec::Pool(p) => Ok(p
            .iter()
            .filter_map(|t| serde_json::from_str::<String>(t).ok())
            .collect()),
        StrSpec::Role { .. } => Ok(Vec::new()),
    }
}

/// Whether `key` satisfies a `propertyNames` schema's string rules.
pub(crate) fn key_allowed(names: &Value, key: &str) -> bool {
    if let Some(c) = names.get("const") {
        return c.as_str() == Some(key);
    }
    if let Some(values) = names.get("enum").and_then(Value::as_array) {
        return values.iter().any(|v| v.as_str() == Some(key));
    }
    let n = key.chars().count();
    if count(names, "minLength").is_some_and(|m| n < m)
        || count(names, "maxLength").is_some_and(|m| n > m)
    {
        return false;
    }
    if let Some(p) = names.get("pattern").and_then(Value::as_str) {
        return compile_regex(p).is_ok_and(|r| r.find(key).is_some());
    }
    true
}

impl StrSpec {
    /// The pool's choice (only for [`StrSpec::Pool`]).
    pub(crate) fn pick<'a>(pool: &'a [String], rng: &mut Rng) -> &'a str {
        pool.get(rng.below(pool.len() as u64) as usize)
            .map_or("\"\"", String::as_str)
    }

    /// How many distinct values it can take (saturating).
    pub(crate) fn cardinality(&self) -> u64 {
        match self {
            StrSpec::Pool(p) => p.len() as u64,
            StrSpec::Role { max_len: 0, .. } => 1,
            StrSpec::Role { .. } => u64::MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pool(s: Value) -> Vec<String> {
        match string(&s, "x", false, 1).unwrap() {
            StrSpec::Pool(p) => p
                .iter()
                .map(|t| serde_json::from_str::<String>(t).unwrap())
                .collect(),
            StrSpec::Role { .. } => panic!("a pool"),
        }
    }

    #[test]
    fn formats_and_patterns() {
        assert!(pool(json!({"format": "date-time"}))[0].ends_with('Z'));
        assert_eq!(pool(json!({"format": "uuid"}))[0].len(), 36);
        for s in pool(json!({"pattern": "^[a-z]{3}$", "maxLength": 3})) {
            assert_eq!(s.len(), 3);
        }
        for s in pool(json!({"pattern": "^a+$", "minLength": 10})) {
            assert!(s.len() >= 10, "{s}");
        }
        assert!(string(&json!({"pattern": "^a$", "minLength": 2}), "x", false, 1).is_err());
        assert!(string(&json!({"pattern": "(a"}), "x", false, 1).is_err());
        for s in pool(json!({"contentMediaType": "application/json"})) {
            assert!(serde_json::from_str::<Value>(&s).is_ok(), "{s}");
        }
    }
}
