//! Cache keys: what identifies a result, and which calls are never cached.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::jsonl::canonical_json;
use crate::spec::ActionSpec;

/// The part of a key shared by every item of a call: the server, model,
/// action and canonical params.
#[derive(Debug, Clone)]
pub(crate) struct KeyPrefix {
    /// `kind url` (for the stats), like `platform https://biolm.ai/api/v3`.
    pub server: String,
    pub model: String,
    pub action: String,
    /// SHA-256 state after the shared part.
    state: Sha256,
}

impl KeyPrefix {
    pub fn new(kind: &str, url: &str, model: &str, action: &str, params: &Value) -> KeyPrefix {
        let empty = match params {
            Value::Null => true,
            Value::Object(m) => m.is_empty(),
            _ => false,
        };
        let mut buf = Vec::new();
        canonical_json(
            &serde_json::json!({
                "server": {"kind": kind, "url": url},
                "model": model,
                "action": action,
                "params": if empty { &Value::Null } else { params },
            }),
            &mut buf,
        );
        let mut state = Sha256::new();
        state.update(b"biolm-cache-v1\0");
        state.update(&buf);
        state.update(b"\0");
        KeyPrefix {
            server: format!("{kind} {url}"),
            model: model.to_string(),
            action: action.to_string(),
            state,
        }
    }

    /// The key of one item: SHA-256 of the shared part and the item's canonical JSON.
    pub fn key(&self, item: &Value) -> [u8; 32] {
        let mut buf = Vec::with_capacity(256);
        canonical_json(item, &mut buf);
        let mut h = self.state.clone();
        h.update(&buf);
        h.finalize().into()
    }
}

/// The identity of a base URL in a key: scheme, host, port and path, without
/// credentials, query or fragment (they may hold secrets and do not change
/// which server answers).
pub(crate) fn url_identity(base: &str) -> String {
    let base = base.trim();
    let (scheme, rest) = base.split_once("://").unwrap_or(("", base));
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let rest = &rest[..end];
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!(
        "{}://{}{}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase(),
        path.trim_end_matches('/')
    )
}

/// Why a call's results are never cached, or `None` when they may be:
/// `generate` without a `seed` (each call samples anew), and any action whose
/// schema marks it `"x-biolm-deterministic": false` (it samples) called without a `seed`.
pub(crate) fn not_cacheable(spec: &ActionSpec, params: &Value) -> Option<&'static str> {
    if spec.action == "generate" && params.get("seed").is_none_or(Value::is_null) {
        return Some("generate without a seed samples anew each time");
    }
    let seeded = !params.get("seed").is_none_or(Value::is_null);
    (!spec.deterministic && !seeded)
        .then_some("the action samples (x-biolm-deterministic: false) and no seed is set")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_canonical_and_cover_every_part() {
        let p = |kind, url, model, action, params: Value| {
            KeyPrefix::new(kind, url, model, action, &params)
        };
        let base = p(
            "platform",
            "https://biolm.ai/api/v3",
            "m",
            "a",
            json!({"x": 1, "y": [1]}),
        );
        let item = json!({"sequence": "MK", "b": 1});
        let k = base.key(&item);
        assert_eq!(k, base.key(&json!({"b": 1, "sequence": "MK"})));
        assert_eq!(
            k,
            p(
                "platform",
                "https://biolm.ai/api/v3",
                "m",
                "a",
                json!({"y": [1], "x": 1})
            )
            .key(&item)
        );
        assert_ne!(k, base.key(&json!({"sequence": "MKT", "b": 1})));
        for other in [
            p(
                "sandbox",
                "https://biolm.ai/api/v3",
                "m",
                "a",
                json!({"x": 1, "y": [1]}),
            ),
            p(
                "platform",
                "http://127.0.0.1:9/api/v3",
                "m",
                "a",
                json!({"x": 1, "y": [1]}),
            ),
            p(
                "platform",
                "https://biolm.ai/api/v3",
                "m2",
                "a",
                json!({"x": 1, "y": [1]}),
            ),
            p(
                "platform",
                "https://biolm.ai/api/v3",
                "m",
                "b",
                json!({"x": 1, "y": [1]}),
            ),
            p(
                "platform",
                "https://biolm.ai/api/v3",
                "m",
                "a",
                json!({"x": 2, "y": [1]}),
            ),
        ] {
            assert_ne!(k, other.key(&item));
        }
        assert_eq!(
            p("g", "u", "m", "a", Value::Null).key(&item),
            p("g", "u", "m", "a", json!({})).key(&item)
        );
    }

    #[test]
    fn url_identity_drops_secrets() {
        assert_eq!(
            url_identity("HTTPS://user:pw@BioLM.ai/api/v3/?token=x#f"),
            "https://biolm.ai/api/v3"
        );
        assert_eq!(
            url_identity("http://127.0.0.1:8000"),
            "http://127.0.0.1:8000"
        );
    }

    #[test]
    fn unseeded_generate_and_marked_actions_are_not_cacheable() {
        let gen = ActionSpec::untyped("progen2-oas", "generate", 1);
        assert!(not_cacheable(&gen, &json!({"temperature": 0.7})).is_some());
        assert!(not_cacheable(&gen, &json!({"seed": null})).is_some());
        assert!(not_cacheable(&gen, &json!({"seed": 7})).is_none());
        let enc = ActionSpec::untyped("esm2-8m", "encode", 8);
        assert!(not_cacheable(&enc, &Value::Null).is_none());
        let mut marked = ActionSpec::untyped("x", "fold", 8);
        marked.deterministic = false;
        assert!(not_cacheable(&marked, &Value::Null).is_some());
        assert!(not_cacheable(&marked, &json!({"seed": 1})).is_none());
        let chai = crate::catalog::find("chai1")
            .and_then(|v| v.action("fold"))
            .map(|a| a.deterministic);
        assert_eq!(chai, Some(false), "the schemas mark a sampling fold");
    }
}
