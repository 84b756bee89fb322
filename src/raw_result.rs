//! [`RawResult`]: one item's result kept as the server's JSON text.

use bytestring::ByteString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// One item's result as the server's JSON text, exactly as it wrote it:
/// well-formed JSON (checked when the response was read), not decoded.
///
/// Ask for it as the result type of a call to pass results on untouched (to a
/// file, a queue, another service) without the cost of building values: the
/// engine checks each result in one fast pass and keeps it as a slice of the
/// response body, without a copy. The `biolm` command line and
/// [`Call::write_jsonl`](crate::Call::write_jsonl) work this way.
///
/// ```
/// # async fn run(client: biolm::Client) -> Result<(), biolm::Error> {
/// use biolm::RawResult;
///
/// let spec = biolm::catalog::find("esm2-8m")
///     .and_then(|model| model.action("encode"))
///     .expect("esm2-8m encode is in the catalog");
/// let items = vec![serde_json::json!({"sequence": "MKTAYIAK"})];
/// let outcomes = client
///     .call::<_, serde_json::Value, RawResult, _>(spec, items)
///     .await?;
/// for outcome in outcomes {
///     if let biolm::Outcome::Success(raw) = outcome {
///         println!("{}", raw.get());
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RawResult(ByteString);

impl RawResult {
    /// The JSON text.
    pub fn get(&self) -> &str {
        &self.0
    }

    /// `json` if it is one well-formed JSON value (whitespace around it
    /// allowed), else the parser's error (what is wrong, and where).
    pub fn from_json(json: String) -> Result<RawResult, serde_json::Error> {
        if !crate::json_check::is_one_value(json.as_bytes()) {
            // Unusual or invalid: serde_json decides, and says what is wrong.
            serde_json::from_str::<serde::de::IgnoredAny>(&json)?;
        }
        Ok(RawResult(ByteString::from(json)))
    }

    /// The text as a `serde_json` raw value (a copy).
    pub fn to_raw_value(&self) -> Box<RawValue> {
        // Checked when it was made, so it reads; should that ever fail, the
        // text is kept as a JSON string rather than lost.
        RawValue::from_string(self.get().to_owned()).unwrap_or_else(|_| {
            let quoted = serde_json::Value::String(self.get().to_owned()).to_string();
            RawValue::from_string(quoted).unwrap_or_default()
        })
    }

    /// Decodes the text as `T`.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.get())
    }

    /// A result already checked: a part of a response body whose spans
    /// [`crate::json_check`] accepted.
    pub(crate) fn checked(text: ByteString) -> RawResult {
        RawResult(text)
    }
}

impl std::fmt::Debug for RawResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RawResult").field(&self.get()).finish()
    }
}

impl std::fmt::Display for RawResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.get())
    }
}

impl From<Box<RawValue>> for RawResult {
    fn from(raw: Box<RawValue>) -> RawResult {
        RawResult(ByteString::from(String::from(Box::<str>::from(raw))))
    }
}

impl From<&RawValue> for RawResult {
    fn from(raw: &RawValue) -> RawResult {
        RawResult(ByteString::from(raw.get()))
    }
}

impl<'de> Deserialize<'de> for RawResult {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawResult, D::Error> {
        Box::<RawValue>::deserialize(d).map(RawResult::from)
    }
}

impl Serialize for RawResult {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue = serde_json::from_str(self.get()).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_json_checks_and_names_what_is_wrong() {
        let ok = RawResult::from_json(r#" {"a": [1, 2.5]} "#.into()).unwrap();
        assert_eq!(ok.get(), r#" {"a": [1, 2.5]} "#);
        let e = RawResult::from_json(r#"{"a": [1, 2.5,]}"#.into()).unwrap_err();
        assert!(e.to_string().contains("column"), "{e}");
    }

    #[test]
    fn serde_round_trips_the_text_untouched() {
        let r: RawResult = serde_json::from_str(r#"{"x":1.50,"y":[ ]}"#).unwrap();
        assert_eq!(r.get(), r#"{"x":1.50,"y":[ ]}"#);
        let wrapped = serde_json::to_string(&vec![r.clone()]).unwrap();
        assert_eq!(wrapped, r#"[{"x":1.50,"y":[ ]}]"#);
        assert_eq!(r.to_raw_value().get(), r.get());
        assert_eq!(r.decode::<serde_json::Value>().unwrap()["x"], 1.5);
    }
}
