//! Normalisation of schema names and values into Rust-safe identifiers.
//!
//! Everything here is pure string work: turning enum values such as
//! `protein-anything`, `DNA` or `allH`, field names such as `Chain` or `type`, and
//! definition names such as `_AbLang2LikelihoodRequest` into identifiers that
//! compile, plus the small schema shape helpers ("X or null", duplicate enum
//! values) that the type builder relies on.

use std::collections::BTreeSet;

use serde_json::Value;

/// Rust keywords (strict and reserved) that cannot be plain identifiers.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "gen", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Type names that would shadow prelude or generated-code names.
const RESERVED_TYPES: &[&str] = &[
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
    "BTreeMap",
    "Self",
    "Serialize",
    "Deserialize",
];

/// Whether `s` is a Rust keyword.
pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// Splits a name into lowercase words at `_`, `-`, `.`, spaces, other
/// non-alphanumerics, lower-to-upper case changes and an uppercase letter after
/// a digit (`allH` -> `all`, `h`; `MPNNParams` -> `mpnn`, `params`;
/// `ESM2Encode` -> `esm2`, `encode`).
pub fn words(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_ascii_uppercase() && !cur.is_empty() {
            let prev = chars.get(i.wrapping_sub(1)).copied().unwrap_or(' ');
            let next = chars.get(i + 1).copied().unwrap_or(' ');
            let boundary = prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next.is_ascii_lowercase());
            if boundary {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `snake_case` identifier for a field, method or module name; keywords get a
/// trailing underscore (`type` -> `type_`), names starting with a digit a
/// leading `n` (`3di` -> `n3di`), empty names become `field`.
pub fn snake_ident(s: &str) -> String {
    let mut out = words(s).join("_");
    if out.is_empty() {
        out.push_str("field");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'n');
    }
    if is_keyword(&out) {
        out.push('_');
    }
    out
}

/// `PascalCase` identifier for a type or enum variant (`per_residue` ->
/// `PerResidue`, `protein-anything` -> `ProteinAnything`, `DNA` -> `Dna`).
pub fn pascal_ident(s: &str) -> String {
    let mut out = String::new();
    for w in words(s) {
        let mut cs = w.chars();
        if let Some(first) = cs.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(cs);
        }
    }
    if out.is_empty() {
        out.push_str("Value");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    if is_keyword(&out) {
        out.push('_');
    }
    out
}

/// A type name from a schema definition name, always in the same `PascalCase`
/// as every other generated name (`ESM2EncodeRequestItem` ->
/// `Esm2EncodeRequestItem`, `_AbLang2LikelihoodRequest` ->
/// `AbLang2LikelihoodRequest`, `MPNNParams` -> `MpnnParams`), so a module
/// never mixes `ESM2...` and `Esm2...`. Prelude names get a `Type` suffix.
pub fn type_name(def: &str) -> String {
    let name = pascal_ident(def);
    if RESERVED_TYPES.contains(&name.as_str()) {
        format!("{name}Type")
    } else {
        name
    }
}

/// [`type_name`] for a definition of family `family` (its `PascalCase` module
/// prefix, e.g. `EsmIf1` for `esm-if1`): a definition name that starts with the
/// family name in other casing keeps the family's spelling, so the module's
/// types share one prefix with its handle (`ESMIF1GenerateResponseSample` ->
/// `EsmIf1GenerateResponseSample`, `MPNNSCGenerateResponseItem` ->
/// `MpnnScGenerateResponseItem`). Other names are plain [`type_name`]s.
pub fn family_type_name(def: &str, family: &str) -> String {
    let stripped = def.trim_start_matches('_');
    let n = family.len();
    if n > 0 && stripped.len() > n && stripped.is_char_boundary(n) {
        let (head, rest) = stripped.split_at(n);
        if head.eq_ignore_ascii_case(family)
            && rest.starts_with(|c: char| c.is_ascii_uppercase())
            && family.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return type_name(&format!("{family}{}", type_name(rest)));
        }
    }
    type_name(def)
}

/// `SCREAMING_SNAKE_CASE` for constants.
pub fn const_ident(s: &str) -> String {
    let mut out = words(s).join("_").to_ascii_uppercase();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'N');
    }
    out
}

/// Picks `base`, or `base2`, `base3`, ... whichever is not in `taken`, and records it.
pub fn unique(base: &str, taken: &mut BTreeSet<String>) -> String {
    if taken.insert(base.to_string()) {
        return base.to_string();
    }
    let mut n = 2usize;
    loop {
        let candidate = format!("{base}{n}");
        if taken.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

/// Enum values with duplicates removed, first occurrence kept (pydantic renders
/// legacy aliases such as `per_residue` twice).
pub fn dedupe_values(values: &[Value]) -> Vec<&Value> {
    let mut out: Vec<&Value> = Vec::with_capacity(values.len());
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// If `schema` is "X or null" (`anyOf: [X, {type: null}]` or `type: [t, "null"]`),
/// the non-null part. Returns `None` for any other schema.
pub fn strip_null(schema: &Value) -> Option<NullStripped<'_>> {
    if let Some(arms) = schema.get("anyOf").and_then(Value::as_array) {
        let non_null: Vec<(usize, &Value)> = arms
            .iter()
            .enumerate()
            .filter(|(_, a)| !is_null_schema(a))
            .collect();
        if non_null.len() < arms.len() {
            return Some(NullStripped { arms: non_null });
        }
    }
    None
}

/// The non-null arms of a nullable `anyOf`, with their indexes in `anyOf`.
pub struct NullStripped<'a> {
    /// `(index in anyOf, arm)` of every arm that is not `{type: null}`.
    pub arms: Vec<(usize, &'a Value)>,
}

/// Whether `schema` is `{"type": "null"}`.
pub fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

/// Escapes one JSON pointer segment.
pub fn pointer_segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idents() {
        assert_eq!(pascal_ident("per_residue"), "PerResidue");
        assert_eq!(pascal_ident("protein-anything"), "ProteinAnything");
        assert_eq!(pascal_ident("DNA"), "Dna");
        assert_eq!(pascal_ident("allH"), "AllH");
        assert_eq!(pascal_ident("3di"), "V3di");
        assert_eq!(pascal_ident("Self"), "Self_");
        assert_eq!(snake_ident("Chain"), "chain");
        assert_eq!(snake_ident("type"), "type_");
        assert_eq!(snake_ident("bias_AA"), "bias_aa");
        assert_eq!(snake_ident("ddG_contributions"), "dd_g_contributions");
        assert_eq!(snake_ident("esm2-8m"), "esm2_8m");
        assert_eq!(snake_ident("evo-v1.5-8k"), "evo_v1_5_8k");
        assert_eq!(snake_ident(""), "field");
        assert_eq!(snake_ident("1st"), "n1st");
        assert_eq!(
            type_name("_AbLang2LikelihoodRequest"),
            "AbLang2LikelihoodRequest"
        );
        assert_eq!(type_name("ESM2EncodeRequestItem"), "Esm2EncodeRequestItem");
        assert_eq!(
            type_name("ESM2EncodeIncludeOptions"),
            type_name("Esm2EncodeIncludeOptions")
        );
        assert_eq!(type_name("MPNNParams"), "MpnnParams");
        assert_eq!(type_name("ProGen2Generate"), "ProGen2Generate");
        assert_eq!(pascal_ident("esm2"), "Esm2");
        assert_eq!(type_name("ESM1vParams"), "Esm1vParams");
        assert_eq!(type_name("Option"), "OptionType");
        assert_eq!(
            family_type_name("ESMIF1GenerateResponseSample", "EsmIf1"),
            "EsmIf1GenerateResponseSample"
        );
        assert_eq!(
            family_type_name("MPNNSCGenerateResponseItem", "Mpnn"),
            "MpnnScGenerateResponseItem"
        );
        assert_eq!(
            family_type_name("ThermoMPNNDMode", "ThermompnnD"),
            "ThermompnnDMode"
        );
        assert_eq!(family_type_name("RF3Component", "Rf3"), "Rf3Component");
        assert_eq!(family_type_name("Rf3", "Rf3"), "Rf3");
        assert_eq!(family_type_name("LayerEmbedding", "Esm2"), "LayerEmbedding");
        assert_eq!(type_name("my-def"), "MyDef");
        assert_eq!(const_ident("log_prob"), "LOG_PROB");
    }

    #[test]
    fn dedupe_keeps_first() {
        let v: Vec<Value> =
            serde_json::from_str(r#"["mean","per_residue","per_residue","bos"]"#).unwrap();
        let d: Vec<&str> = dedupe_values(&v)
            .into_iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(d, ["mean", "per_residue", "bos"]);
    }

    #[test]
    fn unique_suffixes() {
        let mut taken = BTreeSet::new();
        assert_eq!(unique("A", &mut taken), "A");
        assert_eq!(unique("A", &mut taken), "A2");
        assert_eq!(unique("A", &mut taken), "A3");
    }
}
