//! Error bodies: Django-style `{"error": {"items__1__sequence": [..]}}`,
//! pydantic-style `{"detail": [{"loc": [..], "msg": ..}]}` and plain text,
//! mapped to batch positions, params and general messages.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{Decision, Failure};
use crate::outcome::{ItemError, ItemErrorKind, Outcome};

/// The error content of a reply, mapped to batch positions.
#[derive(Debug, Default)]
pub(crate) struct ErrorReport {
    /// (batch position, field path, message)
    pub(crate) items: Vec<(usize, Option<String>, String)>,
    /// (field path under params, message)
    params: Vec<(String, String)>,
    /// Messages naming no item.
    pub(crate) general: Vec<String>,
}

#[derive(Deserialize)]
struct ErrorBody<'a> {
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
    #[serde(borrow, default)]
    detail: Option<&'a RawValue>,
    #[serde(borrow, default)]
    description: Option<&'a RawValue>,
    #[serde(borrow, default)]
    message: Option<&'a RawValue>,
}

fn messages(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| messages(x, out)),
        Value::Object(o) => {
            if let Some(m) = o.get("msg").or_else(|| o.get("message")) {
                messages(m, out);
            } else {
                out.push(Value::Object(o.clone()).to_string());
            }
        }
        Value::Null => {}
        other => out.push(other.to_string()),
    }
}

/// Renders path segments as `chains[0].id`.
fn render_path<'a>(segs: impl Iterator<Item = Seg<'a>>) -> Option<String> {
    let mut s = String::new();
    for seg in segs {
        match seg {
            Seg::Index(i) => {
                s.push('[');
                s.push_str(&i.to_string());
                s.push(']');
            }
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
        }
    }
    (!s.is_empty()).then_some(s)
}

enum Seg<'a> {
    Index(usize),
    Key(&'a str),
}

fn seg_of(s: &str) -> Seg<'_> {
    match s.parse::<usize>() {
        Ok(i) => Seg::Index(i),
        Err(_) => Seg::Key(s),
    }
}

impl ErrorReport {
    pub(crate) fn parse(body: &[u8], n: usize) -> ErrorReport {
        let mut r = ErrorReport::default();
        let Ok(b) = serde_json::from_slice::<ErrorBody<'_>>(body) else {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)])
                .trim()
                .to_owned();
            if !text.is_empty() {
                r.general.push(text);
            }
            return r;
        };
        let parse =
            |raw: Option<&RawValue>| raw.and_then(|x| serde_json::from_str::<Value>(x.get()).ok());
        if let Some(e) = parse(b.error) {
            r.add_error_value(&e, n);
        }
        if let Some(d) = parse(b.detail) {
            r.add_detail(&d, n);
        }
        for v in [parse(b.description), parse(b.message)]
            .into_iter()
            .flatten()
        {
            messages(&v, &mut r.general);
        }
        r
    }

    /// `{"items__1__sequence": ["msg"], "params__x": [...], "non_field_errors": [...]}` or a string.
    fn add_error_value(&mut self, e: &Value, n: usize) {
        let Value::Object(map) = e else {
            messages(e, &mut self.general);
            return;
        };
        for (key, v) in map {
            let mut msgs = Vec::new();
            messages(v, &mut msgs);
            let msg = msgs.join("; ");
            let mut parts = key.split("__");
            match parts.next() {
                Some("items") => {
                    let pos = parts.next().and_then(|p| p.parse::<usize>().ok());
                    match pos {
                        Some(p) if p < n => {
                            self.items.push((p, render_path(parts.map(seg_of)), msg))
                        }
                        _ => self.general.push(format!("{key}: {msg}")),
                    }
                }
                Some("params") => {
                    let field =
                        render_path(std::iter::once(Seg::Key("params")).chain(parts.map(seg_of)));
                    self.params
                        .push((field.unwrap_or_else(|| "params".into()), msg));
                }
                _ => {
                    if key == "non_field_errors" || key == "__all__" {
                        self.general.push(msg);
                    } else {
                        self.general.push(format!("{key}: {msg}"));
                    }
                }
            }
        }
    }

    /// pydantic: `[{"loc": ["body", "items", 1, "sequence"], "msg": "..."}]` or a string.
    fn add_detail(&mut self, d: &Value, n: usize) {
        let Value::Array(list) = d else {
            messages(d, &mut self.general);
            return;
        };
        for entry in list {
            let msg = entry
                .get("msg")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| entry.to_string());
            let loc: Vec<&Value> = entry
                .get("loc")
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            let mut it = loc
                .iter()
                .copied()
                .skip_while(|v| v.as_str() == Some("body"))
                .peekable();
            let segs = |it: &mut dyn Iterator<Item = &Value>| -> Vec<String> {
                it.map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
            };
            match it.next().and_then(Value::as_str) {
                Some("items") => match it.next().and_then(Value::as_u64) {
                    Some(p) if (p as usize) < n => {
                        let rest = segs(&mut it);
                        self.items.push((
                            p as usize,
                            render_path(rest.iter().map(|s| seg_of(s))),
                            msg,
                        ));
                    }
                    _ => self.general.push(format!("items: {msg}")),
                },
                Some("params") => {
                    let rest = segs(&mut it);
                    let field = render_path(
                        std::iter::once(Seg::Key("params")).chain(rest.iter().map(|s| seg_of(s))),
                    );
                    self.params
                        .push((field.unwrap_or_else(|| "params".into()), msg));
                }
                _ => self.general.push(msg),
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty() && self.params.is_empty() && self.general.is_empty()
    }

    fn general_text(&self, status: u16) -> String {
        if self.general.is_empty() {
            format!("the server answered HTTP {status} without saying which item is at fault")
        } else {
            self.general.join("; ")
        }
    }

    /// The decision for an error reply (no results).
    pub(crate) fn decide<R>(self, status: u16, rid: Option<String>, n: usize) -> Decision<R> {
        let kind = if status >= 500 {
            ItemErrorKind::Unavailable
        } else {
            ItemErrorKind::Rejected
        };
        if let Some((field, _)) = self.params.first() {
            let msg = self
                .params
                .iter()
                .map(|(f, m)| format!("{f}: {m}"))
                .collect::<Vec<_>>()
                .join("; ");
            return Decision::FailAll(Failure {
                kind: ItemErrorKind::Rejected,
                status: Some(status),
                request_id: rid,
                field: Some(field.clone()),
                message: format!("the server rejected the params: {msg}; fix them and re-run"),
            });
        }
        if !self.items.is_empty() {
            // A server fault that names an item is no verdict on the item:
            // it may pass later, unchanged.
            let transient = status >= 500 || matches!(status, 408 | 429);
            let mut outs: Vec<Option<Outcome<R>>> = (0..n).map(|_| None).collect();
            for (pos, field, msg) in self.items {
                if let Some(slot) = outs.get_mut(pos) {
                    let (kind, text) = if transient {
                        (
                            ItemErrorKind::Unavailable,
                            format!(
                                "the server failed on the item (HTTP {status}): {msg}; this is likely transient: \
                                 send it again later (the item itself was not rejected)"
                            ),
                        )
                    } else {
                        (
                            ItemErrorKind::Rejected,
                            format!("the server rejected the item: {msg}; fix it and re-run"),
                        )
                    };
                    match slot {
                        Some(Outcome::Failed(e)) => {
                            e.message = format!("{}; {}", e.message, msg);
                        }
                        _ => {
                            *slot = Some(Outcome::Failed(ItemError {
                                index: pos,
                                kind,
                                field,
                                status: Some(status),
                                request_id: rid.clone(),
                                message: text,
                            }))
                        }
                    }
                }
            }
            return Decision::Partial(outs);
        }
        let message = if status >= 500 {
            format!(
                "server error (HTTP {status}): {}",
                self.general_text(status)
            )
        } else {
            format!(
                "the server rejected the request: {}",
                self.general_text(status)
            )
        };
        let f = Failure {
            kind,
            status: Some(status),
            request_id: rid,
            field: None,
            message,
        };
        if crate::retry::resend_each_status(status) {
            Decision::ResendEach(f)
        } else {
            Decision::FailAll(f)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_keys_map_to_positions_fields_and_params() {
        let r = ErrorReport::parse(
            br#"{"error":{"items__2__chains__0__id":["too long"],"params__temperature":["must be > 0"],"non_field_errors":["x"]}}"#,
            4,
        );
        assert_eq!(
            r.items,
            vec![(2, Some("chains[0].id".to_string()), "too long".to_string())]
        );
        assert_eq!(
            r.params,
            vec![("params.temperature".to_string(), "must be > 0".to_string())]
        );
        assert_eq!(r.general, vec!["x".to_string()]);
        let r = ErrorReport::parse(
            br#"{"detail":[{"loc":["body","items",1,"sequence"],"msg":"String should have at most 2048 characters"},{"loc":["body","params","seed"],"msg":"bad"}]}"#,
            2,
        );
        assert_eq!(r.items[0].0, 1);
        assert_eq!(r.items[0].1.as_deref(), Some("sequence"));
        assert_eq!(r.params[0].0, "params.seed");
        // an index beyond the batch names no item
        let r = ErrorReport::parse(br#"{"error":{"items__9__sequence":["?"]}}"#, 2);
        assert!(r.items.is_empty() && !r.general.is_empty());
        // non-JSON body: its text becomes the message
        let r = ErrorReport::parse(b"Internal Server Error", 2);
        assert_eq!(r.general, vec!["Internal Server Error".to_string()]);
    }

    #[test]
    fn error_decisions() {
        let d = ErrorReport::parse(br#"{"error":"boom"}"#, 3).decide::<i64>(500, None, 3);
        assert!(matches!(d, Decision::ResendEach(_)));
        let d = ErrorReport::parse(br#"{"error":{"items__0__sequence":["bad"]}}"#, 3)
            .decide::<i64>(400, None, 3);
        match d {
            Decision::Partial(v) => {
                assert!(v[0].as_ref().is_some_and(Outcome::is_failed));
                assert!(v[1].is_none() && v[2].is_none());
            }
            _ => panic!("partial expected"),
        }
        let d = ErrorReport::parse(br#"{"error":{"params__x":["bad"]}}"#, 3)
            .decide::<i64>(422, None, 3);
        match d {
            Decision::FailAll(f) => assert_eq!(f.field.as_deref(), Some("params.x")),
            _ => panic!("params errors fail every item"),
        }
        let d = ErrorReport::parse(b"{}", 3).decide::<i64>(405, None, 3);
        assert!(matches!(d, Decision::FailAll(_)));
    }
}
