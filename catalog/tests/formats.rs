//! `format` agrees with pydantic 2.12 on 6,209 strings near valid values of every
//! format pydantic emits for `datetime`, `date`, `time`, `timedelta`, `UUID`, `AnyUrl`,
//! `EmailStr`, `IPv4Address` and `IPv6Address` (`tests/data/format_cases.json`, written
//! by `tests/data/format_cases.py` from pydantic's own verdicts), and `pattern` on 32
//! patterns by 39 strings (`tests/data/pattern_cases.json`).

use std::collections::BTreeMap;
use std::path::Path;

use biolm_catalog::validate::Validator;
use serde_json::{json, Value};

#[test]
fn formats_agree_with_pydantic() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/format_cases.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cases: Vec<(String, String, bool)> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut validators: BTreeMap<String, Validator> = BTreeMap::new();
    let mut tally: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (format, value, want) in &cases {
        let v = validators.entry(format.clone()).or_insert_with(|| {
            let schema = json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "string", "format": format}}}});
            Validator::for_request(&schema).unwrap_or_else(|e| panic!("{format}: {e}"))
        });
        let problems = v.check_item(&Value::String(value.clone()));
        let t = tally.entry(format.clone()).or_default();
        t.1 += 1;
        if problems.is_empty() == *want {
            t.0 += 1;
        } else {
            wrong.push(format!(
                "{format} {value:?}: pydantic says {}, we say {:?}",
                if *want { "valid" } else { "invalid" },
                problems.iter().map(ToString::to_string).collect::<Vec<_>>()
            ));
        }
    }
    for (format, (agree, total)) in &tally {
        println!("{format:<10} {agree}/{total}");
    }
    assert!(cases.len() > 6000, "only {} cases", cases.len());
    assert!(
        wrong.is_empty(),
        "{} disagreement(s):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn patterns_agree_with_pydantic() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pattern_cases.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cases: Vec<(String, String, bool)> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut validators: BTreeMap<String, Validator> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (pattern, value, want) in &cases {
        let v = validators.entry(pattern.clone()).or_insert_with(|| {
            let schema = json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "string", "pattern": pattern}}}});
            Validator::for_request(&schema).unwrap_or_else(|e| panic!("{pattern}: {e}"))
        });
        let ok = v.check_item(&Value::String(value.clone())).is_empty();
        if ok != *want {
            wrong.push(format!("{pattern:?} on {value:?}: pydantic says {want}"));
        }
    }
    assert!(cases.len() > 1000, "only {} cases", cases.len());
    assert!(
        wrong.is_empty(),
        "{} disagreement(s):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
