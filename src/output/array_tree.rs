//! A result read for its arrays (the `.npy` and `.npz` outputs): lists of
//! numbers become float32 rows as they are read, so a result of thousands of
//! numbers is a few vectors of `f32`, not a `serde_json::Value` per number.
//!
//! Numbers are as `serde_json` reads them (the float64 nearest the decimal),
//! then cast to float32, as before; `null` in a list of numbers is NaN.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value with what the arrays need kept.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    /// A list of numbers (and nulls, as NaN); empty for `[]`.
    Numbers(Vec<f32>),
    /// A list holding anything else.
    List(Vec<Node>),
    /// An object's fields, in the order written.
    Object(Vec<(String, Node)>),
    /// A whole number outside a list (a layer's number).
    Int(i64),
    /// Anything else (text, a boolean, a fraction or `null` outside a list).
    Other,
}

impl Node {
    /// The fields of an object, by name (the last of a repeated name, as
    /// `serde_json` keeps it), in name order; empty for anything else.
    pub(super) fn fields(&self) -> BTreeMap<&str, &Node> {
        match self {
            Node::Object(fs) => fs.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            _ => BTreeMap::new(),
        }
    }

    /// The field `name` of an object.
    pub(super) fn get(&self, name: &str) -> Option<&Node> {
        match self {
            Node::Object(fs) => fs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// One element of a list: a number (or null) kept as float32, or any other value.
enum Element {
    Number(f32),
    Value(Node),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Other)
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or(Node::Other, Node::Int))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Other)
    }
    fn visit_str<E>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Other)
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Other)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut numbers: Vec<f32> = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(e) = seq.next_element_seed(ElementSeed)? {
            match e {
                Element::Number(x) => numbers.push(x),
                Element::Value(first) => {
                    // Not a list of numbers: the numbers so far become values.
                    let mut list: Vec<Node> = numbers.drain(..).map(number_node).collect();
                    list.push(first);
                    while let Some(e) = seq.next_element_seed(ElementSeed)? {
                        list.push(match e {
                            Element::Number(x) => number_node(x),
                            Element::Value(v) => v,
                        });
                    }
                    return Ok(Node::List(list));
                }
            }
        }
        Ok(Node::Numbers(numbers))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut fields = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Node>()? {
            fields.push((k, v));
        }
        Ok(Node::Object(fields))
    }
}

/// A number of a list that turned out to hold other values too.
fn number_node(_: f32) -> Node {
    Node::Other
}

struct ElementSeed;

impl<'de> DeserializeSeed<'de> for ElementSeed {
    type Value = Element;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Element, D::Error> {
        d.deserialize_any(ElementVisitor)
    }
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Element, E> {
        Ok(Element::Value(Node::Other))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Element, E> {
        Ok(Element::Number(v as f64 as f32))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Element, E> {
        Ok(Element::Number(v as f64 as f32))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Element, E> {
        Ok(Element::Number(v as f32))
    }
    fn visit_str<E>(self, _: &str) -> Result<Element, E> {
        Ok(Element::Value(Node::Other))
    }
    fn visit_unit<E>(self) -> Result<Element, E> {
        Ok(Element::Number(f32::NAN))
    }
    fn visit_none<E>(self) -> Result<Element, E> {
        Ok(Element::Number(f32::NAN))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Element, A::Error> {
        NodeVisitor.visit_seq(seq).map(Element::Value)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Element, A::Error> {
        NodeVisitor.visit_map(map).map(Element::Value)
    }
}

/// A line of a JSONL output as the arrays need it: its id and result.
#[derive(serde::Deserialize)]
pub(super) struct ArrayLine {
    /// The item's id (any JSON; text is used).
    #[serde(default)]
    pub id: Option<serde_json::Value>,
    /// The result; `None` for an error line (a `null` result is `Some`).
    #[serde(default, deserialize_with = "present")]
    pub result: Option<Node>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Node>, D::Error> {
    Node::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(s: &str) -> Node {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn lists_of_numbers_are_float32_rows_as_serde_json_reads_them() {
        let text = r#"{"e":[0.1234,-1e-3,3,null,18446744073709551615],"n":[],"l":[[1,2],[3]]}"#;
        let n = node(text);
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let want: Vec<f32> = v["e"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().map_or(f32::NAN, |f| f as f32))
            .collect();
        let Some(Node::Numbers(got)) = n.get("e") else {
            panic!("not numbers: {n:?}")
        };
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!(
                g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                "{g} {w}"
            );
        }
        assert_eq!(n.get("n"), Some(&Node::Numbers(vec![])));
        assert_eq!(
            n.get("l"),
            Some(&Node::List(vec![
                Node::Numbers(vec![1.0, 2.0]),
                Node::Numbers(vec![3.0])
            ]))
        );
    }

    #[test]
    fn other_values_are_kept_as_their_shape() {
        let n = node(r#"{"a":[1,"x",{"layer":6}],"b":"t","c":1.5,"d":null,"layer":-1,"a":[2]}"#);
        // A repeated field: the last wins, as in serde_json.
        assert_eq!(n.get("a"), Some(&Node::Numbers(vec![2.0])));
        assert_eq!(
            n.fields().keys().copied().collect::<Vec<_>>(),
            ["a", "b", "c", "d", "layer"]
        );
        assert_eq!(n.get("layer"), Some(&Node::Int(-1)));
        assert_eq!(n.get("c"), Some(&Node::Other));
        let mixed = node(r#"[1,"x",{"layer":6}]"#);
        assert_eq!(
            mixed,
            Node::List(vec![
                Node::Other,
                Node::Other,
                Node::Object(vec![("layer".into(), Node::Int(6))])
            ])
        );
    }

    #[test]
    fn an_error_line_has_no_result_and_a_null_result_is_one() {
        let e: ArrayLine = serde_json::from_str(r#"{"index":1,"error":{"kind":"x"}}"#).unwrap();
        assert!(e.result.is_none());
        let n: ArrayLine = serde_json::from_str(r#"{"index":1,"id":"a","result":null}"#).unwrap();
        assert_eq!(n.result, Some(Node::Other));
        assert_eq!(n.id.as_ref().and_then(|v| v.as_str()), Some("a"));
    }
}
