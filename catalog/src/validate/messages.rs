//! How values, types and counts are written in violation messages, and the JSON
//! type tests the messages and checks share.

use serde_json::Value;

use super::node::{T_ARR, T_BOOL, T_INT, T_NULL, T_NUM, T_OBJ, T_STR};

pub(super) fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub(super) fn ies(n: usize) -> &'static str {
    if n == 1 {
        "y"
    } else {
        "ies"
    }
}

pub(super) fn value_type(v: &Value) -> u8 {
    match v {
        Value::Null => T_NULL,
        Value::Bool(_) => T_BOOL,
        Value::Number(n) => {
            if is_integer(n) {
                T_INT | T_NUM
            } else {
                T_NUM
            }
        }
        Value::String(_) => T_STR,
        Value::Array(_) => T_ARR,
        Value::Object(_) => T_OBJ,
    }
}

/// Whether a JSON number is an integer as JSON Schema says: no fraction (`5.0` counts).
/// Schemas marked `x-biolm-strict` also refuse `5.0` (see [`is_written_integer`]).
pub(super) fn is_integer(n: &serde_json::Number) -> bool {
    is_written_integer(n)
        || n.as_f64()
            .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

/// Whether a JSON number was written as an integer (`5`, not `5.0`): pydantic's strict
/// integers accept only these. Numbers are kept as written, so `5.0` is a float here.
pub(super) fn is_written_integer(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64()
}

pub(super) fn type_matches(types: u8, v: &Value) -> bool {
    value_type(v) & types != 0
}

pub(super) fn type_names(types: u8) -> String {
    let mut names = Vec::new();
    for (bit, name) in [
        (T_STR, "a string"),
        (T_INT, "an integer"),
        (T_NUM, "a number"),
        (T_BOOL, "a boolean"),
        (T_ARR, "a list"),
        (T_OBJ, "an object"),
        (T_NULL, "null"),
    ] {
        if types & bit != 0 && !(bit == T_INT && types & T_NUM != 0) {
            names.push(name);
        }
    }
    match names.as_slice() {
        [] => "nothing".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// `a string "abc"`, `a number 3.5`, `a list of 3 entries`, ...
pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => format!("the string {}", short(v)),
        Value::Array(a) => format!("a list of {} entr{}", a.len(), ies(a.len())),
        Value::Object(m) => format!("an object with {} field{}", m.len(), plural(m.len())),
    }
}

/// A value as JSON, cut to 40 characters.
pub(super) fn short(v: &Value) -> String {
    let text = match v {
        Value::Array(_) | Value::Object(_) => describe(v),
        _ => v.to_string(),
    };
    cut(&text)
}

/// `text` cut to 40 characters (with `…` when cut).
pub(super) fn cut(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// JSON equality where 1 and 1.0 are equal (JSON Schema's rule) and `true` is not 1.
pub(super) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                return x == y;
            }
            if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                return x == y;
            }
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x == y,
                _ => x == y,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// A list of allowed values for a message: `"a", "b"` (duplicates dropped).
pub(super) fn list_values<'a>(values: impl IntoIterator<Item = &'a Value>) -> String {
    let mut allowed: Vec<String> = Vec::new();
    for v in values {
        let s = short(v);
        if !allowed.contains(&s) {
            allowed.push(s);
        }
    }
    allowed.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equality_follows_json_schema() {
        assert!(json_eq(&json!(1), &json!(1.0)));
        assert!(!json_eq(&json!(true), &json!(1)));
        assert!(!json_eq(
            &json!(9007199254740993u64),
            &json!(9007199254740992u64)
        ));
        assert!(json_eq(&json!({"a": [1, 2.0]}), &json!({"a": [1.0, 2]})));
        assert!(!json_eq(&json!("1"), &json!(1)));
    }

    #[test]
    fn texts() {
        assert_eq!(type_names(T_INT | T_NUM | T_NULL), "a number or null");
        assert_eq!(num(3.0), "3");
        assert_eq!(num(0.1), "0.1");
        assert_eq!(cut(&"x".repeat(41)), format!("{}…", "x".repeat(40)));
        assert_eq!(list_values(&[json!("a"), json!("a"), json!(1)]), "\"a\", 1");
    }
}
