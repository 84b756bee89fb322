//! The one table of JSON Schema keywords the project knows, and an audit of a whole
//! schema document against it.
//!
//! [`KEYWORDS`] says, for every keyword of JSON Schema 2020-12 (plus draft-07's
//! `additionalItems`/`definitions`/`dependencies` and OpenAPI's `discriminator`),
//! what it is ([`Kind`]) and whether each tool supports it ([`Support`]): the
//! validator of this crate, the code generator (`biolm-codegen`: does the keyword
//! shape the generated types or their docs?) and the sandbox (`biolm-sandbox`: does
//! its synthesis of results honour it? requests to the sandbox are checked by the
//! `jsonschema` crate, which knows every 2020-12 keyword, plus this crate's validator
//! for the `x-biolm-*` rules).
//!
//! Keywords starting with `x-` are extensions: the `x-biolm-*` ones are described in
//! `schemas/README.md`, other `x-*` keys are annotations. A keyword in no row and
//! without the `x-` prefix is unknown, and [`audit`] reports it.
//!
//! [`audit`] compiles a whole document the way the validator does, all `$defs`
//! included, and returns every problem at once, each with its JSON pointer.

use serde_json::Value;

use crate::validate::SchemaError;

/// What a keyword does (the JSON Schema 2020-12 categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Says whether a value is valid (`minLength`, `pattern`, `enum`).
    Assertion,
    /// Applies subschemas to the value or its parts (`properties`, `anyOf`, `$ref`).
    Applicator,
    /// Information only; never changes validity (`title`, `default`, `deprecated`).
    Annotation,
    /// Structure of the document itself (`$defs`, `$schema`, `$id`).
    Core,
}

/// How far a tool supports a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Fully supported.
    Yes,
    /// Supported with a limit described in the row's note.
    Partial,
    /// Not supported: the validator refuses a schema using it.
    No,
    /// Nothing to do (an annotation, or structure read elsewhere).
    Ignored,
}

/// One row of [`KEYWORDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyword {
    /// The keyword as written in a schema.
    pub name: &'static str,
    /// What it does.
    pub kind: Kind,
    /// Support in `biolm_catalog::validate` (checked by the tests of this crate).
    pub validator: Support,
    /// Support in the code generator (as found in `codegen/src/types/`).
    pub generator: Support,
    /// Support in the sandbox's result synthesis (as found in `sandbox/src/synth/`).
    pub sandbox: Support,
    /// Limits and remarks.
    pub note: &'static str,
}

const fn row(
    name: &'static str,
    kind: Kind,
    validator: Support,
    generator: Support,
    sandbox: Support,
    note: &'static str,
) -> Keyword {
    Keyword {
        name,
        kind,
        validator,
        generator,
        sandbox,
        note,
    }
}

use Kind::{Annotation, Applicator, Assertion, Core};
use Support::{Ignored, No, Partial, Yes};

/// Every keyword the project knows, in the order of the JSON Schema 2020-12
/// vocabularies (core, applicator, validation, format, content, meta-data), then the
/// draft-07 and OpenAPI additions and two keys of BioLM's own response schemas.
pub const KEYWORDS: &[Keyword] = &[
    // core
    row("$schema", Core, Ignored, Ignored, Ignored, ""),
    row("$id", Core, Ignored, Ignored, Ignored, "not used to resolve `$ref`s"),
    row("$ref", Applicator, Yes, Yes, Yes, "JSON pointers inside the document only (`#/...`)"),
    row("$defs", Core, Ignored, Ignored, Ignored, "read through `$ref`; audited whole"),
    row("$comment", Annotation, Ignored, Ignored, Ignored, ""),
    row("$anchor", Core, No, No, No, "plain-name `$ref`s are not resolved"),
    row("$dynamicRef", Applicator, No, No, No, ""),
    row("$dynamicAnchor", Core, No, No, No, ""),
    row("$vocabulary", Core, No, No, No, ""),
    row("$recursiveRef", Applicator, No, No, No, "draft 2019-09"),
    // applicators
    row("allOf", Applicator, Yes, Yes, Yes, "generator and sandbox: the arms merged into one schema"),
    row("anyOf", Applicator, Yes, Yes, Yes, "generator: `X | null` as Option, other unions as enums"),
    row("oneOf", Applicator, Yes, Yes, Yes, "validator: exactly one arm must match; sandbox: a value matching exactly one arm"),
    row("not", Applicator, Yes, No, No, ""),
    row("if", Applicator, Yes, No, No, "with `then` / `else`"),
    row("then", Applicator, Yes, No, No, ""),
    row("else", Applicator, Yes, No, No, ""),
    row("dependentSchemas", Applicator, Yes, No, No, ""),
    row("prefixItems", Applicator, Yes, Yes, Yes, "generator: tuples"),
    row("items", Applicator, Yes, Yes, Yes, "also draft-07's list form (a tuple)"),
    row("contains", Applicator, Yes, No, No, "with `minContains` / `maxContains`"),
    row("properties", Applicator, Yes, Yes, Yes, ""),
    row("patternProperties", Applicator, Yes, Yes, Yes, "ECMA-262 patterns, search semantics; alone on an object (no `properties`, no `additionalProperties`, as pydantic writes `dict[constr(pattern=..), V]`) other keys are refused, as pydantic does"),
    row("additionalProperties", Applicator, Yes, Yes, Yes, ""),
    row("propertyNames", Applicator, Yes, Yes, Yes, ""),
    row("unevaluatedItems", Applicator, No, No, No, ""),
    row("unevaluatedProperties", Applicator, No, No, No, ""),
    // validation
    row("type", Assertion, Yes, Yes, Yes, "a JSON number with no fraction (5.0) counts as an integer"),
    row("enum", Assertion, Yes, Yes, Yes, "1 equals 1.0; true is not 1"),
    row("const", Assertion, Yes, Yes, Yes, "any JSON value"),
    row("multipleOf", Assertion, Yes, No, Yes, "pydantic's rules: exact for integer fields, remainder within 1e-9 for numbers"),
    row("maximum", Assertion, Yes, Partial, Yes, "generator: documented"),
    row("exclusiveMaximum", Assertion, Yes, Partial, Yes, "generator: documented; a number (not draft-04's boolean)"),
    row("minimum", Assertion, Yes, Partial, Yes, "generator: documented"),
    row("exclusiveMinimum", Assertion, Yes, Partial, Yes, "generator: documented; a number (not draft-04's boolean)"),
    row("maxLength", Assertion, Yes, Partial, Yes, "counted in characters; generator: documented"),
    row("minLength", Assertion, Yes, Partial, Yes, "counted in characters; generator: documented"),
    row("pattern", Assertion, Yes, No, Yes, "ECMA-262 (regress) with pydantic's Unicode `\\d`/`\\w`, POSIX classes and Python `re`'s `$` for look-around patterns; search semantics"),
    row("maxItems", Assertion, Yes, Partial, Yes, "generator: documented, and the batch limit of `items`"),
    row("minItems", Assertion, Yes, Partial, Yes, "generator: documented"),
    row("uniqueItems", Assertion, Yes, Partial, Partial, "generator: documented; sandbox: not on tuples"),
    row("maxContains", Assertion, Yes, No, No, ""),
    row("minContains", Assertion, Yes, No, No, ""),
    row("maxProperties", Assertion, Yes, No, Yes, ""),
    row("minProperties", Assertion, Yes, No, Yes, ""),
    row("required", Assertion, Yes, Yes, Yes, ""),
    row("dependentRequired", Assertion, Yes, No, No, ""),
    // format (assertions here, as pydantic validates them)
    row("format", Assertion, Yes, Partial, Yes, "date-time, date, time, duration, uuid, uri, uri-reference, email, name-email, ipv4, ipv6, ipvany*, ipv4/ipv6 network and interface, hostname, regex, base64, base64url, binary, as pydantic parses JSON; other formats are annotations; generator: documented"),
    // content
    row("contentEncoding", Annotation, Ignored, Ignored, Ignored, "pydantic uses `format: base64` instead"),
    row("contentMediaType", Assertion, Partial, No, Yes, "`application/json` (pydantic's `Json[T]`): the string must hold JSON; other types are annotations"),
    row("contentSchema", Applicator, Partial, No, Yes, "with `contentMediaType: application/json`: the JSON inside must match"),
    // meta-data
    row("title", Annotation, Ignored, Yes, Ignored, "generator: type names"),
    row("description", Annotation, Ignored, Yes, Ignored, "generator: doc comments"),
    row("default", Annotation, Ignored, Yes, Partial, "generator: documented"),
    row("deprecated", Annotation, Ignored, Partial, Ignored, "generator: documented"),
    row("readOnly", Annotation, Ignored, No, Ignored, ""),
    row("writeOnly", Annotation, Ignored, No, Ignored, ""),
    row("examples", Annotation, Ignored, Partial, Ignored, "generator: documented"),
    // draft-07
    row("definitions", Core, Ignored, Ignored, Ignored, "like `$defs`"),
    row("additionalItems", Applicator, Yes, No, Yes, "after a list-form `items`"),
    row("dependencies", Applicator, Yes, No, No, "lists as `dependentRequired`, schemas as `dependentSchemas`"),
    // OpenAPI
    row("discriminator", Applicator, Yes, Yes, Yes, "beside `oneOf`/`anyOf`: the tag picks the arm (from `mapping`, `$ref`s or inline schemas, else the arms' `const`); generator: an internally tagged enum"),
    row("nullable", Assertion, No, No, No, "OpenAPI 3.0; use `anyOf` with `{\"type\": \"null\"}`"),
    row("example", Annotation, Ignored, No, Ignored, "OpenAPI 3.0's singular `example`"),
    // BioLM
    row("exclude_none", Annotation, Ignored, Ignored, Ignored, "a serialization setting of BioLM's server models, found in the catalog's response schemas"),
    row("exclude_unset", Annotation, Ignored, Ignored, Ignored, "a serialization setting of BioLM's server models, found in the catalog's response schemas"),
    // x-biolm (schemas/README.md): the server's rules beyond JSON Schema
    row("x-biolm-strict", Assertion, Yes, Ignored, No, "at a request schema's root: integers must be written as integers (`5`, not `5.0`), as the server's strict models require"),
    row("x-biolm-refusal-note", Annotation, Yes, Ignored, No, "at a request schema's root: why the server refuses what this schema refuses, added to every message (ProStT5 fold2AA: the model container re-validates the request)"),
    row("x-biolm-ignored-params", Assertion, Yes, Ignored, No, "on a variant's params: other variants' params that this variant's model drops; accepted unchecked, with a warning"),
    row("x-biolm-length", Assertion, Yes, No, No, "`{min, max}`: lengths the server checks in a validator (characters of a non-empty string, entries of a list)"),
    row("x-biolm-alphabet", Assertion, Yes, Partial, No, "letters and multi-character tokens of a string; one final newline passes, as the server's regex lets it; generator: documented"),
    row("x-biolm-token-count", Assertion, Yes, Partial, No, "min/max occurrences of a token, optionally never twice in a row; generator: documented"),
    row("x-biolm-format", Assertion, Yes, No, No, "named text formats: `pdb`, `mmcif`, `smiles`, `ec-number` (the server's lightweight checks)"),
    row("x-biolm-key-alphabet", Assertion, Yes, No, No, "the alphabet of a map's keys (MPNN `bias_AA`)"),
    row("x-biolm-rules", Assertion, Yes, No, No, "rules between fields of one object: `exclusive`, `any-group`, `requires`, `requires-value`, `equal-length`, `mutations`, `combined`; on a request body `structure-refs` (params naming chains and residues of each item's PDB)"),
    row("x-biolm-aliases", Applicator, Yes, Yes, No, "other keys the server accepts for a property"),
    row("x-biolm-lenient", Assertion, Yes, No, No, "the server rewrites this node before validating: only its JSON type is checked (with `{\"if_key\": K}`, only for an object holding `K`)"),
];

/// The `format` values the validator checks, as pydantic does; any other format is
/// an annotation.
pub fn checked_formats() -> &'static [&'static str] {
    crate::validate::checked_formats()
}

/// [`KEYWORDS`] as a Markdown table (keyword, kind, validator, generator, sandbox,
/// note), for documentation.
pub fn markdown_table() -> String {
    fn kind(k: Kind) -> &'static str {
        match k {
            Kind::Assertion => "assertion",
            Kind::Applicator => "applicator",
            Kind::Annotation => "annotation",
            Kind::Core => "core",
        }
    }
    fn support(s: Support) -> &'static str {
        match s {
            Support::Yes => "yes",
            Support::Partial => "partial",
            Support::No => "**no**",
            Support::Ignored => "n/a",
        }
    }
    let mut out = String::from(
        "| keyword | kind | validator | generator | sandbox | note |\n|---|---|---|---|---|---|\n",
    );
    for k in KEYWORDS {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            k.name,
            kind(k.kind),
            support(k.validator),
            support(k.generator),
            support(k.sandbox),
            k.note.replace('|', "\\|")
        ));
    }
    out
}

/// The row of `name`, if the project knows the keyword.
pub fn keyword(name: &str) -> Option<&'static Keyword> {
    KEYWORDS.iter().find(|k| k.name == name)
}

/// Every problem of a whole schema document for the validator: unknown and
/// unsupported keywords, keywords with a value of the wrong shape, `$ref`s that do not
/// resolve, patterns that do not compile, and `$ref` cycles that never reach a value.
/// Every `$defs` (and `definitions`) entry is audited, used or not. Each problem has
/// the JSON pointer of its node. An empty list means the validator accepts the document.
pub fn audit(schema: &Value) -> Vec<SchemaError> {
    crate::validate::audit_document(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_has_each_keyword_once() {
        for (i, k) in KEYWORDS.iter().enumerate() {
            assert!(
                KEYWORDS[i + 1..].iter().all(|o| o.name != k.name),
                "{} twice",
                k.name
            );
            if k.kind == Kind::Annotation {
                assert_ne!(k.validator, Support::No, "{}", k.name);
            }
        }
        assert_eq!(
            keyword("multipleOf").map(|k| k.validator),
            Some(Support::Yes)
        );
        assert!(keyword("minLenght").is_none());
    }

    #[test]
    fn markdown_has_a_line_per_keyword() {
        let table = markdown_table();
        assert_eq!(table.lines().count(), KEYWORDS.len() + 2);
        assert!(
            table.contains("| `multipleOf` | assertion | yes | **no** | yes |"),
            "{table}"
        );
    }

    #[test]
    fn audit_reports_every_problem() {
        let schema = json!({
            "$defs": {
                "Unused": {"type": "strin"},
                "Item": {
                    "type": "object",
                    "properties": {
                        "a": {"type": "string", "minLenght": 1},
                        "b": {"type": "string", "pattern": "(unclosed"},
                        "c": {"$ref": "#/$defs/Nowhere"},
                        "d": {"unevaluatedProperties": false},
                        "e": {"type": "integer", "multipleOf": 0}
                    }
                }
            },
            "type": "object",
            "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/Item"}, "maxItems": "8"}}
        });
        let mut got: Vec<(String, String)> = audit(&schema)
            .into_iter()
            .map(|e| (e.pointer, e.message))
            .collect();
        got.sort();
        let pointers: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            pointers,
            vec![
                "/$defs/Item/properties/a/minLenght",
                "/$defs/Item/properties/b/pattern",
                "/$defs/Item/properties/c/$ref",
                "/$defs/Item/properties/d/unevaluatedProperties",
                "/$defs/Item/properties/e/multipleOf",
                "/$defs/Unused/type",
                "/properties/items/maxItems",
            ],
            "{got:#?}"
        );
        assert!(
            got[0].1.starts_with("unknown keyword `minLenght`"),
            "{}",
            got[0].1
        );
        assert!(
            got[1]
                .1
                .starts_with("pattern \"(unclosed\": not a valid regular expression"),
            "{}",
            got[1].1
        );
        assert_eq!(
            got[3].1,
            "keyword `unevaluatedProperties` is not supported by the local validator"
        );
    }

    #[test]
    fn audit_accepts_pydantic_output() {
        let schema = json!({
            "$defs": {
                "Cat": {"properties": {"kind": {"const": "cat", "type": "string"}}, "required": ["kind"], "type": "object"},
                "Dog": {"properties": {"kind": {"const": "dog", "type": "string"}}, "required": ["kind"], "type": "object"}
            },
            "properties": {
                "pet": {
                    "discriminator": {"mapping": {"cat": "#/$defs/Cat", "dog": "#/$defs/Dog"}, "propertyName": "kind"},
                    "oneOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}]
                },
                "when": {"format": "date-time", "type": "string"},
                "colour": {"format": "color", "type": "string"},
                "step": {"multipleOf": 0.5, "type": "number", "deprecated": true, "examples": [1.5]},
                "blob": {"contentMediaType": "application/json", "contentSchema": {"type": "integer"}, "type": "string"}
            },
            "title": "Request",
            "type": "object"
        });
        assert_eq!(audit(&schema), vec![]);
        assert_eq!(audit(&json!(true)), vec![]);
        assert_eq!(audit(&json!(3)).len(), 1);
    }
}
