//! Deserialization helpers the generated layer uses for response fields.
//!
//! serde reads a JSON list into a `Vec` by growing it as elements arrive
//! (capacity 4, 8, 16, ... 512 for a 320-number embedding), which both copies
//! and over-allocates. Lists of numbers are instead read into a reused
//! per-thread buffer and copied once into a vector of exactly the right size.

// Only the generated code of families with number lists calls these, so a build
// with no such family enabled (`--no-default-features`) leaves them unused.
#![allow(dead_code)]

use std::cell::RefCell;
use std::fmt;

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

thread_local! {
    static SCRATCH: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// Scratch buffers larger than this many numbers are not kept between calls.
const KEEP_SCRATCH: usize = 1 << 16;

struct NumberList;

impl<'de> Visitor<'de> for NumberList {
    type Value = Vec<f64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of numbers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f64>, A::Error> {
        // Take the buffer out of the thread-local so no borrow is held while parsing.
        let mut buf = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
        buf.clear();
        while let Some(x) = seq.next_element::<f64>()? {
            buf.push(x);
        }
        let exact = buf.as_slice().to_vec();
        if buf.capacity() <= KEEP_SCRATCH {
            SCRATCH.with(|s| *s.borrow_mut() = buf);
        }
        Ok(exact)
    }
}

/// Reads a JSON list of numbers into an exactly sized `Vec<f64>`.
pub fn f64_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    d.deserialize_seq(NumberList)
}

/// Reads `null` or a JSON list of numbers (an optional field; a missing field
/// is handled by `#[serde(default)]` on the field).
pub fn opt_f64_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f64>>, D::Error> {
    struct Exact(Vec<f64>);
    impl<'de> Deserialize<'de> for Exact {
        fn deserialize<D2: Deserializer<'de>>(d: D2) -> Result<Self, D2::Error> {
            f64_vec(d).map(Exact)
        }
    }
    Ok(Option::<Exact>::deserialize(d)?.map(|e| e.0))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(deserialize_with = "super::f64_vec")]
        list: Vec<f64>,
        #[serde(default, deserialize_with = "super::opt_f64_vec")]
        maybe: Option<Vec<f64>>,
    }

    #[test]
    fn lists_are_read_exactly_sized() {
        let p: Probe =
            serde_json::from_str(r#"{"list": [1, 2.5, -3e2], "maybe": [0.25]}"#).unwrap();
        assert_eq!(p.list, vec![1.0, 2.5, -300.0]);
        assert_eq!(p.list.capacity(), 3);
        assert_eq!(p.maybe, Some(vec![0.25]));
        let big = format!("{{\"list\": [{}]}}", vec!["0.5"; 320].join(","));
        let p: Probe = serde_json::from_str(&big).unwrap();
        assert_eq!((p.list.len(), p.list.capacity()), (320, 320));
        assert_eq!(p.maybe, None);
    }

    #[test]
    fn null_and_bad_values_behave_like_serde() {
        let p: Probe = serde_json::from_str(r#"{"list": [], "maybe": null}"#).unwrap();
        assert!(p.list.is_empty() && p.maybe.is_none());
        let err = serde_json::from_str::<Probe>(r#"{"list": [1, "x"]}"#)
            .err()
            .unwrap();
        assert!(err.to_string().contains("invalid type: string"), "{err}");
        let err = serde_json::from_str::<Probe>(r#"{"list": 3}"#)
            .err()
            .unwrap();
        assert!(err.to_string().contains("a list of numbers"), "{err}");
    }
}
