//! Columns for the columnar outputs: the shape of each result field, derived
//! from the action's response JSON Schema, and buffers that JSON results are
//! decoded into straight from their text (no intermediate `serde_json::Value`).
//!
//! Mapping ([`Shape::from_schema`]):
//!
//! | JSON Schema | column |
//! | --- | --- |
//! | `boolean` | boolean |
//! | `integer` | int64 |
//! | `number` (a field) | float64 |
//! | `number` (inside an array) | float32: embeddings, logits, contacts |
//! | `string`, string `enum` | text |
//! | `array` of X | list of X |
//! | `object` with `properties` | struct (every field nullable) |
//! | `anyOf`/`oneOf` of one shape and `null` | that shape, nullable |
//! | anything else (maps without `properties`, unions of different shapes, no `type`) | JSON text |
//!
//! A value that does not fit its column (a field the schema does not name, a
//! string where a number was promised) is never dropped: the whole result of
//! that item goes to the `result_json` text column instead and its typed
//! columns are null.

use serde_json::Value;

/// The shape of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// `true`/`false`.
    Bool,
    /// A whole number (int64).
    Int,
    /// A number field (float64).
    Float64,
    /// A number inside a list (float32).
    Float32,
    /// A string.
    Text,
    /// Any JSON value, kept as its JSON text (shapes that have no column type).
    Json,
    /// A list of values of one shape.
    List(Box<Shape>),
    /// An object with named fields.
    Struct(Vec<(String, Shape)>),
}

/// Deepest schema nesting followed (recursive `$ref`s become JSON text).
const MAX_DEPTH: usize = 24;

impl Shape {
    /// The shape of values of `schema` (with `$ref`s resolved in `root`);
    /// `in_list` is whether the value sits inside an array (numbers there are
    /// float32).
    pub fn from_schema(schema: &Value, root: &Value, in_list: bool) -> Shape {
        shape(schema, root, in_list, 0)
    }

    /// The shape of one item's result of a response schema
    /// (`properties.results.items`); JSON text when the schema does not say.
    pub fn of_result(response: &Value) -> Shape {
        let items = response
            .get("properties")
            .and_then(|p| p.get("results"))
            .map(|r| resolve(r, response, 0))
            .and_then(|r| r.get("items"));
        match items {
            Some(items) => shape(items, response, false, 0),
            None => Shape::Json,
        }
    }
}

fn resolve<'a>(schema: &'a Value, root: &'a Value, depth: usize) -> &'a Value {
    let Some(r) = schema.get("$ref").and_then(Value::as_str) else {
        return schema;
    };
    if depth > MAX_DEPTH {
        return schema;
    }
    let target = r.strip_prefix('#').and_then(|p| root.pointer(p));
    match target {
        Some(t) => resolve(t, root, depth + 1),
        None => schema,
    }
}

fn is_null_schema(s: &Value) -> bool {
    s.get("type").and_then(Value::as_str) == Some("null")
}

fn shape(schema: &Value, root: &Value, in_list: bool, depth: usize) -> Shape {
    if depth > MAX_DEPTH {
        return Shape::Json;
    }
    let schema = resolve(schema, root, depth);
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            let shapes: Vec<Shape> = alts
                .iter()
                .map(|a| resolve(a, root, depth))
                .filter(|a| !is_null_schema(a))
                .map(|a| shape(a, root, in_list, depth + 1))
                .collect();
            return match shapes.split_first() {
                Some((first, rest)) if rest.iter().all(|s| s == first) => first.clone(),
                _ => Shape::Json,
            };
        }
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(ts)) => {
            let ts: Vec<&str> = ts
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect();
            match ts.as_slice() {
                [one] => Some(*one),
                _ => return Shape::Json,
            }
        }
        _ => None,
    };
    match ty {
        Some("boolean") => Shape::Bool,
        Some("integer") => Shape::Int,
        Some("number") if in_list => Shape::Float32,
        Some("number") => Shape::Float64,
        Some("string") => Shape::Text,
        Some("array") => match schema.get("items") {
            Some(items) if items.is_object() => {
                Shape::List(Box::new(shape(items, root, true, depth + 1)))
            }
            _ => Shape::Json,
        },
        Some("object") => match schema.get("properties").and_then(Value::as_object) {
            Some(props) if !props.is_empty() => Shape::Struct(
                props
                    .iter()
                    .map(|(k, v)| (k.clone(), shape(v, root, false, depth + 1)))
                    .collect(),
            ),
            _ => Shape::Json,
        },
        Some(_) => Shape::Json,
        None => match schema.get("enum").and_then(Value::as_array) {
            Some(vals) if !vals.is_empty() && vals.iter().all(Value::is_string) => Shape::Text,
            _ => Shape::Json,
        },
    }
}

/// Which entries of a column are null; stored only once a null is seen.
#[derive(Debug, Default)]
pub struct Validity {
    len: usize,
    valid: Option<Vec<bool>>,
}

impl Validity {
    /// Appends one entry (`false`: a null).
    #[inline]
    pub(super) fn push(&mut self, valid: bool) {
        match &mut self.valid {
            Some(v) => v.push(valid),
            None if valid => {}
            None => {
                let mut v = vec![true; self.len];
                v.push(false);
                self.valid = Some(v);
            }
        }
        self.len += 1;
    }
    /// Appends `n` entries that are values (not null).
    #[inline]
    pub(super) fn push_valid(&mut self, n: usize) {
        if let Some(v) = &mut self.valid {
            v.resize(v.len() + n, true);
        }
        self.len += n;
    }
    fn truncate(&mut self, n: usize) {
        if n < self.len {
            self.len = n;
            if let Some(v) = &mut self.valid {
                v.truncate(n);
            }
        }
    }
    /// Entries so far.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// One flag per entry (`true`: a value), or `None` when there is no null.
    pub fn take(&mut self) -> Option<Vec<bool>> {
        self.len = 0;
        self.valid.take()
    }
}

/// Text values: bytes and offsets.
#[derive(Debug)]
pub struct TextBuf {
    /// The concatenated UTF-8 bytes.
    pub data: Vec<u8>,
    /// Start of each value, and the end of the last (starts with 0).
    pub offsets: Vec<i64>,
}

impl Default for TextBuf {
    fn default() -> Self {
        TextBuf {
            data: Vec::new(),
            offsets: vec![0],
        }
    }
}

impl TextBuf {
    pub(crate) fn push(&mut self, s: &str) {
        self.data.extend_from_slice(s.as_bytes());
        self.offsets.push(self.data.len() as i64);
    }
    /// Removes every value.
    pub(super) fn clear(&mut self) {
        self.data.clear();
        self.offsets.truncate(1);
    }
    /// The last value (empty when there is none).
    pub(super) fn last(&self) -> &str {
        let n = self.offsets.len();
        let start = if n >= 2 {
            self.offsets[n - 2] as usize
        } else {
            0
        };
        std::str::from_utf8(&self.data[start..]).unwrap_or_default()
    }
    fn truncate(&mut self, n: usize) {
        if n + 1 < self.offsets.len() {
            self.offsets.truncate(n + 1);
            self.data.truncate(self.offsets[n] as usize);
        }
    }
}

/// A column being filled: values of one [`Shape`] for the rows so far.
#[derive(Debug)]
pub enum Col {
    /// Booleans.
    Bool(Vec<bool>, Validity),
    /// Whole numbers.
    Int(Vec<i64>, Validity),
    /// float64 numbers.
    F64(Vec<f64>, Validity),
    /// float32 numbers.
    F32(Vec<f32>, Validity),
    /// Strings.
    Text(TextBuf, Validity),
    /// JSON texts.
    Json(TextBuf, Validity),
    /// Lists: offsets into the child (starting with 0).
    List(Vec<i64>, Validity, Box<Col>),
    /// Structs: one child per field.
    Struct(Vec<(String, Col)>, Validity),
}

impl Col {
    /// An empty column of `shape`.
    pub fn new(shape: &Shape) -> Col {
        match shape {
            Shape::Bool => Col::Bool(Vec::new(), Validity::default()),
            Shape::Int => Col::Int(Vec::new(), Validity::default()),
            Shape::Float64 => Col::F64(Vec::new(), Validity::default()),
            Shape::Float32 => Col::F32(Vec::new(), Validity::default()),
            Shape::Text => Col::Text(TextBuf::default(), Validity::default()),
            Shape::Json => Col::Json(TextBuf::default(), Validity::default()),
            Shape::List(s) => Col::List(vec![0], Validity::default(), Box::new(Col::new(s))),
            Shape::Struct(fs) => Col::Struct(
                fs.iter().map(|(k, s)| (k.clone(), Col::new(s))).collect(),
                Validity::default(),
            ),
        }
    }

    fn validity(&self) -> &Validity {
        match self {
            Col::Bool(_, v)
            | Col::Int(_, v)
            | Col::F64(_, v)
            | Col::F32(_, v)
            | Col::Text(_, v)
            | Col::Json(_, v)
            | Col::List(_, v, _)
            | Col::Struct(_, v) => v,
        }
    }

    /// Entries (rows at the top level, values inside lists).
    pub fn len(&self) -> usize {
        self.validity().len()
    }

    /// Whether the column has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held (about).
    pub fn bytes(&self) -> usize {
        match self {
            Col::Bool(v, _) => v.len(),
            Col::Int(v, _) => v.len() * 8,
            Col::F64(v, _) => v.len() * 8,
            Col::F32(v, _) => v.len() * 4,
            Col::Text(t, _) | Col::Json(t, _) => t.data.len() + t.offsets.len() * 8,
            Col::List(o, _, c) => o.len() * 8 + c.bytes(),
            Col::Struct(fs, _) => fs.iter().map(|(_, c)| c.bytes()).sum(),
        }
    }

    /// Appends a null entry.
    pub fn push_null(&mut self) {
        match self {
            Col::Bool(x, v) => {
                x.push(false);
                v.push(false)
            }
            Col::Int(x, v) => {
                x.push(0);
                v.push(false)
            }
            Col::F64(x, v) => {
                x.push(0.0);
                v.push(false)
            }
            Col::F32(x, v) => {
                x.push(0.0);
                v.push(false)
            }
            Col::Text(t, v) | Col::Json(t, v) => {
                t.push("");
                v.push(false)
            }
            Col::List(o, v, _) => {
                let last = o.last().copied().unwrap_or(0);
                o.push(last);
                v.push(false)
            }
            Col::Struct(fs, v) => {
                for (_, c) in fs.iter_mut() {
                    c.push_null();
                }
                v.push(false)
            }
        }
    }

    /// Appends a string entry (a text or JSON-text column).
    pub fn push_text(&mut self, s: &str) -> Result<(), String> {
        match self {
            Col::Text(t, v) | Col::Json(t, v) => {
                t.push(s);
                v.push(true);
                Ok(())
            }
            _ => Err("not a text column".into()),
        }
    }

    /// Cuts the column back to its first `n` entries (undoes a partly
    /// decoded value).
    pub fn truncate(&mut self, n: usize) {
        match self {
            Col::Bool(x, v) => {
                x.truncate(n);
                v.truncate(n)
            }
            Col::Int(x, v) => {
                x.truncate(n);
                v.truncate(n)
            }
            Col::F64(x, v) => {
                x.truncate(n);
                v.truncate(n)
            }
            Col::F32(x, v) => {
                x.truncate(n);
                v.truncate(n)
            }
            Col::Text(t, v) | Col::Json(t, v) => {
                t.truncate(n);
                v.truncate(n)
            }
            Col::List(o, v, c) => {
                if n + 1 < o.len() {
                    o.truncate(n + 1);
                }
                let end = o.last().copied().unwrap_or(0) as usize;
                c.truncate(end);
                v.truncate(n)
            }
            Col::Struct(fs, v) => {
                for (_, c) in fs.iter_mut() {
                    c.truncate(n);
                }
                v.truncate(n)
            }
        }
    }

    /// Decodes one JSON value (text) into a new entry; on an error the
    /// column is as it was.
    pub fn push_json(&mut self, json: &str) -> Result<(), String> {
        let n = self.len();
        let r = super::reader::read_into(self, json);
        if r.is_err() {
            self.truncate(n);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn esm2_encode_response_maps_to_float32_lists_and_structs() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/esm2.json"))
                .unwrap();
        let family: Value = serde_json::from_str(&text).unwrap();
        let encode = family["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "encode")
            .unwrap();
        let Shape::Struct(fields) = Shape::of_result(&encode["response"]) else {
            panic!("not a struct");
        };
        let get = |n: &str| fields.iter().find(|(k, _)| k == n).unwrap().1.clone();
        assert_eq!(get("sequence_index"), Shape::Int);
        let layer = Shape::Struct(vec![
            ("layer".into(), Shape::Int),
            ("embedding".into(), Shape::List(Box::new(Shape::Float32))),
        ]);
        assert_eq!(get("embeddings"), Shape::List(Box::new(layer)));
        assert_eq!(
            get("contacts"),
            Shape::List(Box::new(Shape::List(Box::new(Shape::Float32))))
        );
        assert_eq!(get("vocab_tokens"), Shape::List(Box::new(Shape::Text)));
    }

    #[test]
    fn unions_and_maps_fall_back_to_json_text() {
        let root = json!({});
        let s = |v: Value| Shape::from_schema(&v, &root, false);
        assert_eq!(
            s(json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})),
            Shape::Json
        );
        assert_eq!(
            s(json!({"type": "object", "additionalProperties": {"type": "number"}})),
            Shape::Json
        );
        assert_eq!(s(json!({"type": ["number", "null"]})), Shape::Float64);
        assert_eq!(s(json!({"enum": ["a", "b"]})), Shape::Text);
        assert_eq!(s(json!({})), Shape::Json);
    }

    #[test]
    fn a_value_that_does_not_fit_leaves_the_column_as_it_was() {
        let shape = Shape::Struct(vec![
            ("a".into(), Shape::Int),
            (
                "e".into(),
                Shape::List(Box::new(Shape::List(Box::new(Shape::Float32)))),
            ),
        ]);
        let mut c = Col::new(&shape);
        c.push_json(r#"{"a": 1, "e": [[0.5, 1.25], [2]]}"#).unwrap();
        let before = c.bytes();
        let e = c
            .push_json(r#"{"e": [[0.5, 1.25], ["x"]], "a": 2}"#)
            .unwrap_err();
        assert!(e.contains("invalid type"), "{e}");
        let e = c.push_json(r#"{"a": 2, "zz": 1}"#).unwrap_err();
        assert!(e.contains("`zz` is not in the response schema"), "{e}");
        assert_eq!((c.len(), c.bytes()), (1, before));
        c.push_json(r#"{"a": null}"#).unwrap();
        let Col::Struct(fs, _) = &c else { panic!() };
        let Col::List(o, v, inner) = &fs[1].1 else {
            panic!()
        };
        assert_eq!(o, &vec![0, 2, 2]);
        assert_eq!(v.len(), 2);
        let Col::List(o2, _, f) = inner.as_ref() else {
            panic!()
        };
        assert_eq!(o2, &vec![0, 2, 3]);
        let Col::F32(x, _) = f.as_ref() else { panic!() };
        assert_eq!(x, &vec![0.5, 1.25, 2.0]);
    }
}
