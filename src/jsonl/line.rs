//! The line format: the header line, item lines (written and read back fast),
//! canonical JSON, the job fingerprint and item hashes.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::FORMAT;
use crate::Error;

#[derive(Serialize, Deserialize)]
pub(super) struct Header {
    pub(super) biolm_jsonl: u32,
    pub(super) fingerprint: String,
    pub(super) model: String,
    pub(super) action: String,
    #[serde(default)]
    pub(super) items: Option<usize>,
    /// The shard this file holds (`biolm run --shard I/N`); none for the whole input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) shard: Option<crate::shard::Shard>,
}

#[derive(Deserialize)]
pub(super) struct Version {
    pub(super) biolm_jsonl: u64,
}

#[derive(Deserialize)]
pub(super) struct LineFields {
    pub(super) index: Option<u64>,
    pub(super) item_sha: Option<String>,
    #[serde(default)]
    pub(super) error: Option<IgnoredAny>,
    #[serde(default)]
    pub(super) biolm_jsonl: Option<IgnoredAny>,
}

/// Writes `v` as canonical JSON: object keys sorted (recursively), no spaces.
pub fn canonical_json(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (n, (k, v)) in entries.into_iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                // Writing a string into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, k);
                out.push(b':');
                canonical_json(v, out);
            }
            out.push(b'}');
        }
        Value::Array(a) => {
            out.push(b'[');
            for (n, v) in a.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                canonical_json(v, out);
            }
            out.push(b']');
        }
        // Scalars cannot fail to serialize into a Vec.
        other => {
            let _ = serde_json::to_writer(&mut *out, other);
        }
    }
}

/// The job's fingerprint (header line): SHA-256 (hex) of the format, model,
/// action and canonical params; `null` and `{}` params are the same (both are
/// sent as no params).
pub fn job_fingerprint(model: &str, action: &str, params: &Value) -> String {
    let mut h = Sha256::new();
    h.update(b"biolm-jsonl-v2\0");
    h.update(model.as_bytes());
    h.update(b"\0");
    h.update(action.as_bytes());
    h.update(b"\0");
    let empty = match params {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    };
    if empty {
        h.update(b"null");
    } else {
        let mut buf = Vec::new();
        canonical_json(params, &mut buf);
        h.update(&buf);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// An item's hash (a line's `item_sha`, written as 16 hex digits): the first
/// 64 bits of the SHA-256 of the item's canonical JSON and its id.
pub fn item_sha(item: &Value, id: Option<&str>) -> u64 {
    let mut buf = Vec::with_capacity(256);
    canonical_json(item, &mut buf);
    let mut h = Sha256::new();
    h.update(&buf);
    if let Some(id) = id {
        h.update(b"\0");
        h.update(id.as_bytes());
    }
    let digest = h.finalize();
    let mut first = [0u8; 8];
    for (d, s) in first.iter_mut().zip(digest.iter()) {
        *d = *s;
    }
    u64::from_be_bytes(first)
}

/// `(index, item_sha, is_error)` of a line this module wrote
/// (`{"index":N,"item_sha":"<16 hex>",...}`), read without parsing the rest of
/// the line (results can be megabytes); `None` for any other shape.
///
/// The id is a JSON string (its quotes escaped), so the first `"result":` or
/// `"error":` in the line is the top-level key.
pub(super) fn fast_line(line: &[u8]) -> Option<(u64, u64, bool)> {
    let rest = line.strip_prefix(b"{\"index\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 18 {
        return None;
    }
    let index = std::str::from_utf8(rest.get(..digits)?)
        .ok()?
        .parse()
        .ok()?;
    let rest = rest.get(digits..)?.strip_prefix(b",\"item_sha\":\"")?;
    let hex = std::str::from_utf8(rest.get(..16)?).ok()?;
    let sha = u64::from_str_radix(hex, 16).ok()?;
    let rest = rest.get(16..)?.strip_prefix(b"\"")?;
    if !matches!(rest.first(), Some(b',') | Some(b'}')) {
        return None;
    }
    let find = |pat: &[u8]| rest.windows(pat.len()).position(|w| w == pat);
    let is_error = match (find(b"\"error\":"), find(b"\"result\":")) {
        (Some(e), Some(r)) => e < r,
        (Some(_), None) => true,
        _ => false,
    };
    Some((index, sha, is_error))
}

/// `(index, item_sha, is_error)` of an item line: read fast when this module
/// wrote it, else parsed; the message says what is wrong with any other line.
pub(crate) fn item_line(line: &[u8]) -> Result<(u64, u64, bool), String> {
    if let Some(x) = fast_line(line) {
        return Ok(x);
    }
    let l: LineFields =
        serde_json::from_slice(line).map_err(|e| format!("not a JSON line ({e})"))?;
    let (Some(index), None) = (l.index, l.biolm_jsonl) else {
        return Err("a line without an \"index\"".into());
    };
    let sha = l
        .item_sha
        .as_deref()
        .and_then(|s| u64::from_str_radix(s, 16).ok().filter(|_| s.len() == 16))
        .ok_or_else(|| "a line without an \"item_sha\" of 16 hex digits".to_string())?;
    Ok((index, sha, l.error.is_some()))
}

/// The header line (with its newline) of a new file.
pub fn header_line(fingerprint: &str, model: &str, action: &str, items: Option<usize>) -> Vec<u8> {
    header_line_of_shard(fingerprint, model, action, items, None)
}

/// The header line (with its newline) of a new file holding one shard of the
/// job (`"shard":{"index":I,"count":N}`, left out for the whole input).
pub fn header_line_of_shard(
    fingerprint: &str,
    model: &str,
    action: &str,
    items: Option<usize>,
    shard: Option<crate::shard::Shard>,
) -> Vec<u8> {
    let header = Header {
        biolm_jsonl: FORMAT,
        fingerprint: fingerprint.to_string(),
        model: model.to_string(),
        action: action.to_string(),
        items,
        shard,
    };
    // A struct of strings and numbers cannot fail to serialize.
    let mut line = serde_json::to_vec(&header).unwrap_or_default();
    line.push(b'\n');
    line
}

/// Appends one item line to `buf`:
/// `{"index":i,"item_sha":"..","id":..,"result":<raw>}` or `..,"error":{..}}`.
pub fn write_line(
    buf: &mut Vec<u8>,
    index: usize,
    item_sha: u64,
    id: Option<&str>,
    result: Option<&RawValue>,
    error: Option<&crate::outcome::ItemError>,
) -> Result<(), Error> {
    write_line_text(buf, index, item_sha, id, result.map(RawValue::get), error)
}

/// [`write_line`] with the result as JSON text, well-formed (written as it is).
pub(crate) fn write_line_text(
    buf: &mut Vec<u8>,
    index: usize,
    item_sha: u64,
    id: Option<&str>,
    result: Option<&str>,
    error: Option<&crate::outcome::ItemError>,
) -> Result<(), Error> {
    let ser = |e| Error::Serialize {
        what: format!("the line of items[{index}]"),
        source: e,
    };
    buf.extend_from_slice(b"{\"index\":");
    buf.extend_from_slice(index.to_string().as_bytes());
    buf.extend_from_slice(format!(",\"item_sha\":\"{item_sha:016x}\"").as_bytes());
    if let Some(id) = id {
        buf.extend_from_slice(b",\"id\":");
        serde_json::to_writer(&mut *buf, id).map_err(ser)?;
    }
    if let Some(r) = result {
        buf.extend_from_slice(b",\"result\":");
        buf.extend_from_slice(r.as_bytes());
    }
    if let Some(e) = error {
        buf.extend_from_slice(b",\"error\":");
        serde_json::to_writer(&mut *buf, e).map_err(ser)?;
    }
    buf.extend_from_slice(b"}\n");
    Ok(())
}

/// Appends the journal line of a Parquet run's result, which is in the
/// Parquet file and not repeated here:
/// `{"index":i,"item_sha":"..","id":..,"in_parquet":true}`. It reads as a
/// result line (not an error line) in [`super::scan`].
#[cfg(feature = "parquet")]
pub(crate) fn write_light_line(
    buf: &mut Vec<u8>,
    index: usize,
    item_sha: u64,
    id: Option<&str>,
) -> Result<(), Error> {
    buf.extend_from_slice(b"{\"index\":");
    buf.extend_from_slice(index.to_string().as_bytes());
    buf.extend_from_slice(format!(",\"item_sha\":\"{item_sha:016x}\"").as_bytes());
    if let Some(id) = id {
        buf.extend_from_slice(b",\"id\":");
        serde_json::to_writer(&mut *buf, id).map_err(|source| Error::Serialize {
            what: format!("the line of items[{index}]"),
            source,
        })?;
    }
    buf.extend_from_slice(b",\"in_parquet\":true}\n");
    Ok(())
}
