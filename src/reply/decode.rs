//! 2xx bodies: results mapped to batch positions, with the items the body
//! names as rejected, and multi-result lists regrouped item by item.

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashSet};

use bytes::Bytes;
use bytestring::ByteString;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Decision, ErrorReport, Failure};
use crate::json_check;
use crate::outcome::{ItemError, ItemErrorKind, Outcome};
use crate::RawResult;

#[derive(Deserialize)]
struct FastBody<R> {
    results: Vec<R>,
    #[serde(default)]
    error: Option<IgnoredAny>,
    #[serde(default)]
    detail: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct SlowBody<'a> {
    #[serde(borrow, default)]
    results: Option<Vec<&'a RawValue>>,
}

/// Maps a 2xx body to outcomes by batch position, as [`decode`] does; results
/// asked for as [`RawResult`] take the fast path ([`raw_results`]) when the
/// body is a plain `{"results": [...]}`.
pub(crate) fn decode_body<R: DeserializeOwned + 'static>(
    body: &Bytes,
    n: usize,
    multi: bool,
) -> Result<Decision<R>, String> {
    if !multi && TypeId::of::<R>() == TypeId::of::<RawResult>() {
        if let Some(d) = raw_results(body, n) {
            // `R` is `RawResult`: the downcast is the identity.
            let any: Box<dyn Any> = Box::new(d);
            if let Ok(d) = any.downcast::<Decision<R>>() {
                return Ok(*d);
            }
        }
    }
    decode(body, n, multi)
}

/// The results of a body that is exactly `{"results": [...]}` as slices of
/// it, each checked by [`json_check`] in one pass (no values built, no
/// copy); `None` for any other body, or text the check leaves to `serde_json`.
fn raw_results(body: &Bytes, n: usize) -> Option<Decision<RawResult>> {
    let spans = json_check::split_results(body)?;
    let text = ByteString::try_from(body.clone()).ok()?;
    if spans.len() != n {
        return Some(Decision::ResendEach(count_mismatch(spans.len(), n)));
    }
    Some(Decision::Done(
        spans
            .into_iter()
            .map(|(start, end)| {
                Outcome::Success(RawResult::checked(text.slice_ref(&text[start..end])))
            })
            .collect(),
    ))
}

/// Maps a 2xx body to outcomes by batch position. `Err` = the body is not
/// complete JSON (worth retrying).
pub(crate) fn decode<R: DeserializeOwned + 'static>(
    body: &[u8],
    n: usize,
    multi: bool,
) -> Result<Decision<R>, String> {
    if !multi {
        match serde_json::from_slice::<FastBody<R>>(body) {
            Ok(fast) if fast.error.is_none() && fast.detail.is_none() => {
                if fast.results.len() == n {
                    return Ok(Decision::Done(
                        fast.results.into_iter().map(Outcome::Success).collect(),
                    ));
                }
                return Ok(Decision::ResendEach(count_mismatch(fast.results.len(), n)));
            }
            Ok(_) => {}
            Err(e) if e.is_syntax() || e.is_eof() => return Err(e.to_string()),
            Err(_) => {}
        }
    }
    let slow: SlowBody<'_> = match serde_json::from_slice(body) {
        Ok(s) => s,
        Err(e) if e.is_syntax() || e.is_eof() => return Err(e.to_string()),
        Err(e) => {
            return Ok(Decision::FailAll(Failure {
                kind: ItemErrorKind::BadResponse,
                status: None,
                request_id: None,
                field: None,
                message: format!("the server's reply has an unexpected shape ({e})"),
            }))
        }
    };
    let report = ErrorReport::parse(body, n);
    let Some(raw) = slow.results else {
        if report.is_empty() {
            return Ok(Decision::FailAll(Failure {
                kind: ItemErrorKind::BadResponse,
                status: None,
                request_id: None,
                field: None,
                message: "the server's reply has no `results`".into(),
            }));
        }
        return Ok(report.decide(200, None, n));
    };
    let per_item: Vec<std::borrow::Cow<'_, str>> = if multi {
        match regroup(&raw, n) {
            Some(v) => v,
            None => return Ok(Decision::ResendEach(count_mismatch(raw.len(), n))),
        }
    } else {
        raw.iter()
            .map(|r| std::borrow::Cow::Borrowed(r.get()))
            .collect()
    };
    let named: HashSet<usize> = report.items.iter().map(|(p, _, _)| *p).collect();
    let general = (!report.general.is_empty()).then(|| report.general.join("; "));
    let mut item_errors: BTreeMap<usize, (Option<String>, String)> = BTreeMap::new();
    for (p, f, m) in &report.items {
        item_errors
            .entry(*p)
            .and_modify(|e| e.1 = format!("{}; {m}", e.1))
            .or_insert((f.clone(), m.clone()));
    }
    // Which positions the results belong to.
    let targets: Vec<usize> = if per_item.len() == n {
        (0..n).collect()
    } else if !named.is_empty() && per_item.len() == n - named.len() {
        (0..n).filter(|p| !named.contains(p)).collect()
    } else {
        return Ok(Decision::ResendEach(count_mismatch(per_item.len(), n)));
    };
    let mut outs: Vec<Option<Outcome<R>>> = (0..n).map(|_| None).collect();
    for (pos, (field, msg)) in item_errors {
        if let Some(slot) = outs.get_mut(pos) {
            *slot = Some(Outcome::Failed(ItemError {
                index: pos,
                kind: ItemErrorKind::Rejected,
                field,
                status: None,
                request_id: None,
                message: format!("the server rejected the item: {msg}; fix it and re-run"),
            }));
        }
    }
    for (pos, text) in targets.into_iter().zip(per_item.iter()) {
        let Some(slot) = outs.get_mut(pos) else {
            continue;
        };
        if slot.is_some() {
            continue;
        }
        let t = text.trim();
        *slot = Some(if t == "null" && general.is_some() {
            Outcome::Failed(ItemError {
                index: pos,
                kind: ItemErrorKind::Rejected,
                field: None,
                status: None,
                request_id: None,
                message: format!(
                    "the server gave no result for the item: {}",
                    general.as_deref().unwrap_or_default()
                ),
            })
        } else {
            result(pos, t)
        });
    }
    Ok(Decision::Done(
        outs.into_iter()
            .enumerate()
            .map(|(pos, o)| {
                o.unwrap_or_else(|| {
                    Outcome::Failed(ItemError {
                        index: pos,
                        kind: ItemErrorKind::BadResponse,
                        field: None,
                        status: None,
                        request_id: None,
                        message: "the server gave no result for the item".into(),
                    })
                })
            })
            .collect(),
    ))
}

/// One item's result text as `R`, or the item's `BadResponse` error. A
/// [`RawResult`] is checked by [`json_check`] (one pass, no values built).
pub(crate) fn result<R: DeserializeOwned + 'static>(index: usize, text: &str) -> Outcome<R> {
    if TypeId::of::<R>() == TypeId::of::<RawResult>() && json_check::is_one_value(text.as_bytes()) {
        // `R` is `RawResult`: the downcast is the identity.
        let any: Box<dyn Any> = Box::new(RawResult::checked(ByteString::from(text)));
        if let Ok(r) = any.downcast::<R>() {
            return Outcome::Success(*r);
        }
    }
    match serde_json::from_str::<R>(text) {
        Ok(r) => Outcome::Success(r),
        Err(e) => Outcome::Failed(ItemError {
            index,
            kind: ItemErrorKind::BadResponse,
            field: None,
            status: None,
            request_id: None,
            message: format!(
                "the server's result for the item does not have the expected shape ({e})"
            ),
        }),
    }
}

fn count_mismatch(got: usize, n: usize) -> Failure {
    Failure {
        kind: ItemErrorKind::BadResponse,
        status: None,
        request_id: None,
        field: None,
        message: format!(
            "the server returned {got} results for a batch of {n} items; results cannot be matched to items, \
             so none were kept — re-run these items"
        ),
    }
}

/// Results of a multi-result action, one list per item: either already a list
/// per item, or a flat list of `k * n` results grouped item by item.
fn regroup<'a>(raw: &[&'a RawValue], n: usize) -> Option<Vec<std::borrow::Cow<'a, str>>> {
    if n == 0 || raw.is_empty() {
        return None;
    }
    if raw.len() == n && raw.iter().all(|r| r.get().trim_start().starts_with('[')) {
        return Some(
            raw.iter()
                .map(|r| std::borrow::Cow::Borrowed(r.get()))
                .collect(),
        );
    }
    if raw.len() % n != 0 {
        return None;
    }
    let k = raw.len() / n;
    Some(
        raw.chunks(k)
            .map(|chunk| {
                let mut s = String::with_capacity(
                    chunk.iter().map(|r| r.get().len() + 1).sum::<usize>() + 2,
                );
                s.push('[');
                for (i, r) in chunk.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push_str(r.get());
                }
                s.push(']');
                std::borrow::Cow::Owned(s)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done<R: std::fmt::Debug>(d: Decision<R>) -> Vec<Outcome<R>> {
        match d {
            Decision::Done(v) => v,
            Decision::Partial(_) => panic!("partial"),
            Decision::ResendEach(f) => panic!("resend each: {}", f.message),
            Decision::FailAll(f) => panic!("fail all: {}", f.message),
        }
    }

    fn raw(body: &'static [u8], n: usize) -> Result<Decision<RawResult>, String> {
        decode_body::<RawResult>(&Bytes::from_static(body), n, false)
    }

    fn texts(d: Decision<RawResult>) -> Vec<String> {
        done(d)
            .into_iter()
            .map(|o| match o {
                Outcome::Success(r) => r.get().to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn raw_results_are_the_bodys_text_of_each_result() {
        let body = br#"{"results": [{"e": [0.5, -1e-3]}, [1,2] ,"x,]"]}"#;
        let out = texts(raw(body, 3).unwrap());
        assert_eq!(out, [r#"{"e": [0.5, -1e-3]}"#, "[1,2]", r#""x,]""#]);
        match raw(br#"{"results":[1,2]}"#, 3).unwrap() {
            Decision::ResendEach(f) => assert!(f.message.contains("2 results for a batch of 3")),
            _ => panic!("a short result list must re-send the batch item by item"),
        }
    }

    #[test]
    fn raw_results_of_other_bodies_are_read_as_before() {
        // Other keys beside `results`: the general path (the same outcomes).
        let out = texts(raw(br#"{"results":[1, {"a":2}],"extra":{"x":1}}"#, 2).unwrap());
        assert_eq!(out, ["1", r#"{"a":2}"#]);
        // An item the body names as rejected.
        let body = br#"{"results":[1,null],"error":{"items__1__sequence":["bad letter"]}}"#;
        let out = done(raw(body, 2).unwrap());
        assert!(matches!(&out[1], Outcome::Failed(e) if e.kind == ItemErrorKind::Rejected));
        // Text that is not JSON is still refused, naming where.
        let Err(e) = raw(br#"{"results":[[1,2,]]}"#, 1) else {
            panic!("a trailing comma was accepted")
        };
        assert!(e.contains("column"), "{e}");
        let Err(e) = raw(b"{\"results\":[\"a\xff\"]}", 1) else {
            panic!("text that is not UTF-8 was accepted")
        };
        assert!(e.contains("unicode"), "{e}");
    }

    #[test]
    fn fast_path_and_count_check() {
        let out = done(decode::<i64>(br#"{"results":[1,2,3],"extra":{"x":1}}"#, 3, false).unwrap());
        assert_eq!(
            out,
            vec![
                Outcome::Success(1),
                Outcome::Success(2),
                Outcome::Success(3)
            ]
        );
        match decode::<i64>(br#"{"results":[1,2]}"#, 3, false).unwrap() {
            Decision::ResendEach(f) => assert!(
                f.message.contains("2 results for a batch of 3"),
                "{}",
                f.message
            ),
            _ => panic!("a short result list must re-send the batch item by item"),
        }
        // truncated JSON is an Err (retried)
        assert!(decode::<i64>(br#"{"results":[1,2"#, 2, false).is_err());
    }

    #[test]
    fn a_result_of_the_wrong_shape_fails_only_its_item() {
        let out = done(decode::<i64>(br#"{"results":[1,"two",3]}"#, 3, false).unwrap());
        assert_eq!(out[0], Outcome::Success(1));
        assert_eq!(out[1].error().unwrap().kind, ItemErrorKind::BadResponse);
        assert_eq!(out[2], Outcome::Success(3));
    }

    #[test]
    fn partial_success_with_null_slot_or_missing_slot() {
        let body = br#"{"results":[1,null,3],"error":{"items__1__sequence":["bad letter"]}}"#;
        let out = done(decode::<i64>(body, 3, false).unwrap());
        assert_eq!(out[0], Outcome::Success(1));
        let e = out[1].error().unwrap();
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ItemErrorKind::Rejected, Some("sequence"))
        );
        assert!(e.message.contains("bad letter"));
        assert_eq!(out[2], Outcome::Success(3));
        // results only for the items not named
        let body = br#"{"results":[1,3],"error":{"items__1__sequence":["bad"]}}"#;
        let out = done(decode::<i64>(body, 3, false).unwrap());
        assert_eq!((out[0].ok(), out[2].ok()), (Some(&1), Some(&3)));
        assert!(out[1].is_failed());
    }

    #[test]
    fn multi_results_nested_or_flat() {
        let out = done(decode::<Vec<i64>>(br#"{"results":[[1,2],[3,4]]}"#, 2, true).unwrap());
        assert_eq!(
            out,
            vec![Outcome::Success(vec![1, 2]), Outcome::Success(vec![3, 4])]
        );
        let out = done(decode::<Vec<i64>>(br#"{"results":[1,2,3,4,5,6]}"#, 2, true).unwrap());
        assert_eq!(
            out,
            vec![
                Outcome::Success(vec![1, 2, 3]),
                Outcome::Success(vec![4, 5, 6])
            ]
        );
        assert!(matches!(
            decode::<Vec<i64>>(br#"{"results":[1,2,3]}"#, 2, true).unwrap(),
            Decision::ResendEach(_)
        ));
    }
}
