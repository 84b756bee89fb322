//! The validator: one table of good and bad values per rule (exact messages), every
//! request schema of schemas/ compiles, hostile schemas give errors, and the x-biolm
//! rules on the real ESMFold, ESM-2 and ProGen2 schemas.

use std::path::Path;
use std::time::Instant;

use biolm_catalog::validate::{dotted, wire, PathSegment, SchemaError, Validator, Violation};
use biolm_catalog::{load_project_dir, SchemaSet};
use serde_json::{json, Value};

fn project() -> SchemaSet {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    load_project_dir(&dir).unwrap_or_else(|e| panic!("{e}"))
}

/// A request schema whose items are `item`, with `defs` as `$defs`.
fn request_with(item: Value, defs: Value) -> Value {
    json!({
        "$defs": defs,
        "type": "object",
        "properties": {"items": {"type": "array", "items": item, "minItems": 1, "maxItems": 4}},
        "required": ["items"],
        "additionalProperties": false
    })
}

fn messages(v: &[Violation]) -> Vec<String> {
    v.iter().map(ToString::to_string).collect()
}

fn check(item_schema: Value, value: Value) -> Vec<String> {
    let validator = Validator::for_request(&request_with(item_schema, json!({}))).unwrap();
    messages(&validator.check_item(&value))
}

#[test]
fn rule_table() {
    // (schema, value, expected messages); an empty list means the value passes.
    let cases: Vec<(Value, Value, Vec<&str>)> = vec![
        // type
        (json!({"type": "string"}), json!("x"), vec![]),
        (json!({"type": "string"}), json!(5), vec!["must be a string, got the number 5"]),
        (json!({"type": "integer"}), json!(3), vec![]),
        (json!({"type": "integer"}), json!(3.0), vec![]),
        (json!({"type": "integer"}), json!(3.5), vec!["must be an integer, got the number 3.5"]),
        (json!({"type": "number"}), json!(3), vec![]),
        (json!({"type": "boolean"}), json!("true"), vec!["must be a boolean, got the string \"true\""]),
        (json!({"type": ["string", "null"]}), json!(null), vec![]),
        (json!({"type": ["string", "null"]}), json!([1]), vec!["must be a string or null, got a list of 1 entry"]),
        (json!({"type": "object"}), json!(null), vec!["must be an object, got null"]),
        // enum (with the duplicated legacy value) and const
        (json!({"enum": ["mean", "per_residue", "per_residue"]}), json!("per_residue"), vec![]),
        (
            json!({"enum": ["mean", "per_residue", "per_residue"]}),
            json!("bos"),
            vec!["\"bos\" is not one of the allowed values: \"mean\", \"per_residue\""],
        ),
        (json!({"const": 1}), json!(1.0), vec![]),
        (json!({"const": "a"}), json!("b"), vec!["must be \"a\", got \"b\""]),
        // string lengths, in characters
        (json!({"type": "string", "maxLength": 3}), json!("ééé"), vec![]),
        (json!({"type": "string", "maxLength": 3}), json!("abcd"), vec!["is 4 characters, more than the 3 allowed"]),
        (json!({"type": "string", "minLength": 1}), json!(""), vec!["is 0 characters, fewer than the 1 required"]),
        // numbers
        (json!({"type": "number", "minimum": 0, "maximum": 1}), json!(0), vec![]),
        (json!({"type": "number", "minimum": 0}), json!(-0.5), vec!["is -0.5, less than the minimum 0"]),
        (json!({"type": "integer", "maximum": 10}), json!(11), vec!["is 11, more than the maximum 10"]),
        (json!({"type": "number", "exclusiveMinimum": 0}), json!(0), vec!["is 0, but must be greater than 0"]),
        (json!({"type": "number", "exclusiveMaximum": 1.5}), json!(1.5), vec!["is 1.5, but must be less than 1.5"]),
        // arrays
        (json!({"type": "array", "minItems": 1}), json!([]), vec!["has 0 entries, fewer than the 1 required"]),
        (json!({"type": "array", "maxItems": 2}), json!([1, 2, 3]), vec!["has 3 entries, more than the 2 allowed"]),
        (
            json!({"type": "array", "items": {"type": "integer"}}),
            json!([1, "x"]),
            vec!["[1]: must be an integer, got the string \"x\""],
        ),
        (
            json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "maxItems": 2}),
            json!(["A", "B"]),
            vec!["[1]: must be an integer, got the string \"B\""],
        ),
        // objects
        (
            json!({"type": "object", "properties": {"sequence": {"type": "string"}}, "required": ["sequence"]}),
            json!({}),
            vec!["sequence: is required but missing"],
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false}),
            json!({"a": "x", "b": 1}),
            vec!["b: is not a known field (known: a)"],
        ),
        (
            json!({"type": "object", "additionalProperties": {"type": "number"}}),
            json!({"A": 1.5, "C": "x"}),
            vec!["C: must be a number, got the string \"x\""],
        ),
        (
            json!({"type": "object", "patternProperties": {"^esm1v-n[1-5]$": {"type": "integer"}}, "additionalProperties": false}),
            json!({"esm1v-n1": 1, "esm1v-n9": 2}),
            vec!["esm1v-n9: is not a known field (this object takes no fields)"],
        ),
        (
            json!({"type": "object", "propertyNames": {"enum": ["uniref90", "mgnify"]}}),
            json!({"uniref90": "a", "pdb70": "b"}),
            vec!["pdb70: is not an allowed key: \"pdb70\" is not one of the allowed values: \"uniref90\", \"mgnify\""],
        ),
        // nested paths
        (
            json!({"type": "object", "properties": {"chains": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}}}}),
            json!({"chains": [{"id": 7}]}),
            vec!["chains[0].id: must be a string, got the number 7"],
        ),
        // anyOf: nullable (the real arm's message), real unions (the forms)
        (json!({"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}), json!(null), vec![]),
        (
            json!({"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}),
            json!(0),
            vec!["is 0, less than the minimum 1"],
        ),
        (
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "array", "items": {"type": "string"}}]}),
            json!(true),
            vec!["true matches none of the allowed forms: a string; an integer; a list"],
        ),
        (
            json!({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
            json!(["A", 1]),
            vec!["[1]: must be a string, got the number 1"],
        ),
        // default is ignored
        (json!({"type": "integer", "default": "not an int"}), json!(2), vec![]),
        // x-biolm rules
        (
            json!({"type": "string", "x-biolm-alphabet": {"name": "aa_unambiguous", "letters": "ACDEFGHIKLMNPQRSTVWY"}}),
            json!("MKTAYIAKQRQISFVJ"),
            vec!["character 'J' at position 16 is not allowed (alphabet aa_unambiguous: ACDEFGHIKLMNPQRSTVWY)"],
        ),
        (
            json!({"type": "string", "x-biolm-alphabet": {"name": "dna_unambiguous", "letters": "ACGT"}}),
            json!("ACGTacgt"),
            vec!["character 'a' at position 5 is not allowed (alphabet dna_unambiguous: ACGT)"],
        ),
        (
            json!({"type": "string", "x-biolm-alphabet": {"name": "aa_extended", "letters": "ACDEFGHIKLMNPQRSTVWYBXZUO", "tokens": ["<mask>"]}}),
            json!("MK<mask>TX<mask>"),
            vec![],
        ),
        (
            json!({"type": "string", "x-biolm-alphabet": {"name": "aa_extended", "letters": "ACDEFGHIKLMNPQRSTVWYBXZUO", "tokens": ["<mask>"]}}),
            json!("MK<mas>"),
            vec!["character '<' at position 3 is not allowed (alphabet aa_extended: ACDEFGHIKLMNPQRSTVWYBXZUO, tokens <mask>)"],
        ),
        (
            json!({"type": "string", "x-biolm-token-count": [{"token": "<mask>", "min": 1, "max": 1}]}),
            json!("A<mask>C<mask>"),
            vec!["contains \"<mask>\" 2 times, at most 1 allowed"],
        ),
        (
            json!({"type": "string", "x-biolm-token-count": [{"token": "<mask>", "min": 1}]}),
            json!("ACD"),
            vec!["contains \"<mask>\" 0 times, at least 1 required"],
        ),
        (
            json!({"type": "string", "x-biolm-token-count": [{"token": ":", "max": 3, "non_consecutive": true}]}),
            json!("AC::D"),
            vec!["has \":\" twice in a row at position 3; it may not repeat"],
        ),
        // one final newline passes an alphabet (the server's Python regex lets it through)
        (json!({"type": "string", "x-biolm-alphabet": {"name": "dna", "letters": "ACGT"}}), json!("ACGT\n"), vec![]),
        (
            json!({"type": "string", "x-biolm-alphabet": {"name": "dna", "letters": "ACGT"}}),
            json!("AC\nGT"),
            vec!["character '\\n' at position 3 is not allowed (alphabet dna: ACGT)"],
        ),
        // a string of tokens only has no residue (the server removes tokens, then needs one)
        (
            json!({"type": "string", "x-biolm-alphabet": {"name": "aa", "letters": "AC", "tokens": ["<mask>"]}}),
            json!("<mask><mask>"),
            vec!["has no residue besides the tokens (<mask>); at least one is required"],
        ),
        // named formats
        (json!({"type": "string", "x-biolm-format": "ec-number"}), json!("3.5.5.1"), vec![]),
        (
            json!({"type": "string", "x-biolm-format": "ec-number"}),
            json!("3"),
            vec!["is not a valid EC number (expected 2 to 4 dot-separated numbers, such as 3.5.5.1)"],
        ),
        (
            json!({"type": "string", "x-biolm-format": "smiles"}),
            json!("CC(=O"),
            vec!["is not a valid SMILES string (its parentheses are unbalanced)"],
        ),
        // map keys
        (
            json!({"type": "object", "x-biolm-key-alphabet": {"name": "aa", "letters": "ACD"}}),
            json!({"A": 1, "x": 2}),
            vec!["x: key \"x\": character 'x' is not allowed (alphabet aa: ACD)"],
        ),
        // x-biolm-rules
        (
            json!({"type": "object", "x-biolm-rules": [{"kind": "exclusive", "groups": [["h", "l"], ["s"]]}]}),
            json!({"h": "A", "s": "C"}),
            vec!["gives both `h` + `l` and `s`: give only one of these"],
        ),
        (
            json!({"type": "object", "x-biolm-rules": [{"kind": "exclusive", "groups": [["h", "l"], ["s"]]}]}),
            json!({"h": "A", "s": ""}),
            vec![],
        ),
        (
            json!({"type": "object", "x-biolm-rules": [{"kind": "exclusive", "groups": [["p"], ["c"]], "test": "not-null"}]}),
            json!({"p": "A", "c": ""}),
            vec!["gives both `p` and `c`: give only one of these"],
        ),
        (
            json!({"type": "object", "x-biolm-rules": [{"kind": "any-group", "groups": [["h", "l"], ["s"]]}]}),
            json!({"h": "A"}),
            vec!["needs one of: `h` + `l`, or `s`"],
        ),
        (
            json!({"type": "object", "properties": {"l": {}, "h": {"x-biolm-aliases": ["H"]}}, "x-biolm-rules": [{"kind": "requires", "field": "l", "needs": ["h"]}]}),
            json!({"l": "A"}),
            vec!["h: is required when `l` is given"],
        ),
        (
            json!({"type": "object", "properties": {"l": {}, "h": {"x-biolm-aliases": ["H"]}}, "x-biolm-rules": [{"kind": "requires", "field": "l", "needs": ["h"]}]}),
            json!({"l": "A", "H": "C"}),
            vec![],
        ),
        (
            json!({"type": "object", "x-biolm-rules": [{"kind": "requires-value", "field": "v", "other": "full", "value": false, "default": true}]}),
            json!({"v": "A"}),
            vec!["full: must be false when `v` is given"],
        ),
        (
            json!({"type": "object", "x-biolm-rules": [{"kind": "equal-length", "fields": ["a", "b"]}]}),
            json!({"a": "AC", "b": "A"}),
            vec!["`a` has length 2 but `b` has length 1: they must be the same length"],
        ),
        (
            json!({"type": "object", "x-biolm-rules": [{"kind": "mutations", "field": "m", "letters": "ACK", "sequence": "s", "normalize": true, "digits_only": true}]}),
            json!({"s": "MKA", "m": [" k2a ", "A3C"]}),
            vec![],
        ),
        (
            json!({"type": "object", "x-biolm-rules": [{"kind": "mutations", "field": "m", "letters": "ACK", "sequence": "s"}]}),
            json!({"s": "MKA", "m": ["A2C", "A4C"]}),
            vec![
                "m[0]: mutation \"A2C\": the sequence has 'K' at position 2, not the wild type 'A'",
                "m[1]: mutation \"A4C\": position 4 is past the end of the 3-residue sequence",
            ],
        ),
        (
            json!({"type": "object", "x-biolm-rules": [{"kind": "mutations", "field": "m", "letters": "ACX", "separator": ":", "max_parts": 2}]}),
            json!({"m": ["A1C:C2X", "A1C:C2X:A3C", "AxC"]}),
            vec![
                "m[1]: \"A1C:C2X:A3C\" joins 3 mutations, at most 2 allowed",
                "m[2]: mutation \"AxC\": position \"x\" is not a whole number",
            ],
        ),
        // lengths the server checks in validators
        (json!({"type": "string", "x-biolm-length": {"min": 3}}), json!("AB"), vec!["has 2 characters, fewer than the 3 the server requires"]),
        (json!({"type": "string", "x-biolm-length": {"min": 3}}), json!(""), vec![]),
        (json!({"type": "array", "x-biolm-length": {"max": 0}}), json!(["pae"]), vec!["has 1 entry, more than the 0 the server allows"]),
        // lenient only when the legacy key is there
        (
            json!({"type": "object", "required": ["a"], "x-biolm-lenient": {"if_key": "old"}}),
            json!({"old": 1}),
            vec![],
        ),
        (
            json!({"type": "object", "required": ["a"], "x-biolm-lenient": {"if_key": "old"}}),
            json!({}),
            vec!["a: is required but missing"],
        ),
        // aliases: the server accepts `heavy` for `heavy_chain`
        (
            json!({"type": "object", "properties": {"heavy_chain": {"type": "string", "x-biolm-aliases": ["heavy"]}}, "required": ["heavy_chain"], "additionalProperties": false}),
            json!({"heavy": "EVQL"}),
            vec![],
        ),
        (
            json!({"type": "object", "properties": {"heavy_chain": {"type": "string", "x-biolm-aliases": ["heavy"]}}, "required": ["heavy_chain"], "additionalProperties": false}),
            json!({"heavy": 5}),
            vec!["heavy: must be a string, got the number 5"],
        ),
        // lenient: only the JSON type is checked
        (
            json!({"type": "object", "x-biolm-lenient": true, "properties": {"a": {"type": "string"}}, "additionalProperties": false}),
            json!({"chain_ids": {"a": ["A"]}}),
            vec![],
        ),
        (json!({"type": "object", "x-biolm-lenient": true}), json!("x"), vec!["must be an object, got the string \"x\""]),
    ];
    let mut failures = Vec::new();
    for (i, (schema, value, expected)) in cases.iter().enumerate() {
        let got = check(schema.clone(), value.clone());
        if got != *expected {
            failures.push(format!("case {i}: schema {schema}, value {value}\n  expected {expected:?}\n  got      {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The keywords pydantic emits beyond the catalog's own: one table, exact messages.
#[test]
fn pydantic_keyword_table() {
    let cases: Vec<(Value, Value, Vec<&str>)> = vec![
        // pattern: ECMA-262, search semantics
        (json!({"type": "string", "pattern": "^[A-Z]{2,3}(-\\d+)?$"}), json!("AB-12"), vec![]),
        (json!({"type": "string", "pattern": "^[A-Z]{2,3}(-\\d+)?$"}), json!("ab"), vec!["\"ab\" does not match the pattern ^[A-Z]{2,3}(-\\d+)?$"]),
        (json!({"type": "string", "pattern": "(?!x)a|b"}), json!("zzb"), vec![]),
        // format
        (json!({"type": "string", "format": "date-time"}), json!("2024-01-02T03:04:05Z"), vec![]),
        (json!({"type": "string", "format": "date-time"}), json!("2024-02-30"), vec!["\"2024-02-30\" is not a valid date-time (the day does not exist in that month)"]),
        (json!({"type": "string", "format": "uuid"}), json!("x"), vec!["\"x\" is not a valid UUID (expected 32 hex digits, optionally as 8-4-4-4-12)"]),
        (json!({"type": "string", "format": "email"}), json!("a@b"), vec!["\"a@b\" is not a valid email address (the domain needs a dot)"]),
        (json!({"type": "string", "format": "color"}), json!("anything"), vec![]),
        // multipleOf
        (json!({"type": "number", "multipleOf": 0.1}), json!(0.3), vec![]),
        (json!({"type": "number", "multipleOf": 0.1}), json!(0.35), vec!["is 0.35, not a multiple of 0.1"]),
        (json!({"type": "integer", "multipleOf": 3}), json!(10), vec!["is 10, not a multiple of 3"]),
        // discriminator
        (
            json!({"oneOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}], "discriminator": {"propertyName": "kind", "mapping": {"cat": "#/$defs/Cat", "dog": "#/$defs/Dog"}}}),
            json!({"kind": "cow"}),
            vec!["input tag 'cow' found using 'kind' does not match any of the expected tags: 'cat', 'dog'"],
        ),
        (
            json!({"oneOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}], "discriminator": {"propertyName": "kind", "mapping": {"cat": "#/$defs/Cat", "dog": "#/$defs/Dog"}}}),
            json!({"lives": 3}),
            vec!["unable to extract tag using discriminator 'kind': the field is missing (expected one of the tags: 'cat', 'dog')"],
        ),
        (
            json!({"oneOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}], "discriminator": {"propertyName": "kind"}}),
            json!({"kind": "cat", "lives": "nine"}),
            vec!["lives: must be an integer, got the string \"nine\""],
        ),
        // oneOf: exactly one
        (json!({"oneOf": [{"type": "integer"}, {"minimum": 0}]}), json!(-1), vec![]),
        (json!({"oneOf": [{"type": "integer"}, {"minimum": 0}]}), json!(1), vec!["matches 2 of the allowed forms, but exactly one is required"]),
        // arrays
        (json!({"type": "array", "uniqueItems": true}), json!([1, "a", 1.0]), vec!["entries [0] and [2] are both 1.0; the entries must be unique"]),
        (json!({"type": "array", "items": [{"type": "integer"}, {"type": "string"}], "additionalItems": false}), json!([1, "a", 2]), vec!["has 3 entries, more than the 2 allowed"]),
        (json!({"type": "array", "prefixItems": [{"type": "integer"}], "items": false}), json!([1, 2]), vec!["has 2 entries, more than the 1 allowed"]),
        (json!({"type": "array", "contains": {"type": "string"}, "minContains": 2}), json!(["a", 1]), vec!["has 1 entry of the required form, fewer than the 2 required"]),
        // objects
        (json!({"type": "object", "minProperties": 1}), json!({}), vec!["has 0 fields, fewer than the 1 required"]),
        (json!({"type": "object", "maxProperties": 1}), json!({"a": 1, "b": 2}), vec!["has 2 fields, more than the 1 allowed"]),
        (json!({"type": "object", "dependentRequired": {"a": ["b"]}}), json!({"a": 1}), vec!["b: is required when `a` is present"]),
        (json!({"type": "object", "patternProperties": {"^[a-z]+$": {"type": "integer"}}}), json!({"A": 1}), vec!["A: is not an allowed key: keys must match ^[a-z]+$"]),
        // const, enum of any JSON type
        (json!({"const": {"a": [1, 2]}}), json!({"a": [1.0, 2]}), vec![]),
        (json!({"enum": [1, "a", null]}), json!(true), vec!["true is not one of the allowed values: 1, \"a\", null"]),
        // not, if/then/else
        (json!({"not": {"type": "string"}}), json!("x"), vec!["\"x\" matches a form that is excluded here (`not`)"]),
        (json!({"if": {"type": "integer"}, "then": {"minimum": 10}, "else": {"type": "string"}}), json!(3), vec!["is 3, less than the minimum 10"]),
        (json!({"if": {"type": "integer"}, "then": {"minimum": 10}, "else": {"type": "string"}}), json!(true), vec!["must be a string, got the boolean true"]),
        // JSON inside a string (pydantic's Json[T])
        (json!({"type": "string", "contentMediaType": "application/json", "contentSchema": {"type": "array"}}), json!("[1]"), vec![]),
        (json!({"type": "string", "contentMediaType": "application/json", "contentSchema": {"type": "array"}}), json!("{}"), vec!["must be a list, got an object with 0 fields"]),
        // annotations
        (json!({"type": "integer", "deprecated": true, "readOnly": true, "examples": [1], "$comment": "c", "x-note": 1}), json!(2), vec![]),
    ];
    let defs = json!({
        "Cat": {"properties": {"kind": {"const": "cat", "type": "string"}, "lives": {"type": "integer"}}, "required": ["kind"], "type": "object"},
        "Dog": {"properties": {"kind": {"const": "dog", "type": "string"}}, "required": ["kind"], "type": "object"}
    });
    let mut failures = Vec::new();
    for (i, (schema, value, expected)) in cases.iter().enumerate() {
        let validator = Validator::for_request(&request_with(schema.clone(), defs.clone()))
            .unwrap_or_else(|e| panic!("case {i}: {e}"));
        let got = messages(&validator.check_item(value));
        if got != *expected {
            failures.push(format!("case {i}: schema {schema}, value {value}\n  expected {expected:?}\n  got      {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn recursion_through_optional_refs_is_bounded_by_the_value() {
    // pydantic's Optional["Node"] and a mutual recursion A -> B -> A.
    let defs = json!({
        "Node": {"properties": {"name": {"type": "string"}, "next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}], "default": null}}, "required": ["name"], "type": "object"},
        "A": {"properties": {"b": {"anyOf": [{"$ref": "#/$defs/B"}, {"type": "null"}]}}, "type": "object"},
        "B": {"properties": {"a": {"anyOf": [{"$ref": "#/$defs/A"}, {"type": "null"}]}, "y": {"type": "string"}}, "type": "object"}
    });
    let v = Validator::for_request(&request_with(json!({"$ref": "#/$defs/Node"}), defs.clone()))
        .unwrap();
    // Deeper than serde_json parses (128 levels) still passes: bare `$ref`s cost no depth.
    let mut value = json!({"name": "leaf"});
    for _ in 0..200 {
        let mut m = serde_json::Map::new();
        m.insert("name".into(), json!("n"));
        m.insert("next".into(), value);
        value = Value::Object(m);
    }
    assert!(v.check_item(&value).is_empty());
    let bad = json!({"name": "a", "next": {"name": "b", "next": {"name": 3}}});
    assert_eq!(
        messages(&v.check_item(&bad)),
        vec!["next.next.name: must be a string, got the number 3"]
    );
    // Deeper than serde_json parses, built in code: a clear violation, no stack overflow.
    let mut deep = json!({"name": "leaf"});
    for _ in 0..2000 {
        let mut m = serde_json::Map::new();
        m.insert("name".into(), json!("n"));
        m.insert("next".into(), deep);
        deep = Value::Object(m);
    }
    let got = v.check_item(&deep);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].message.starts_with("is nested too deeply to check"),
        "{}",
        got[0]
    );

    let m = Validator::for_request(&request_with(json!({"$ref": "#/$defs/A"}), defs)).unwrap();
    assert!(m
        .check_item(&json!({"b": {"a": {"b": {"y": "ok"}}}}))
        .is_empty());
    assert_eq!(
        messages(&m.check_item(&json!({"b": {"a": {"b": {"y": 1}}}}))),
        vec!["b.a.b.y: must be a string, got the number 1"]
    );
}

#[test]
fn every_problem_of_a_schema_at_once() {
    let schema = request_with(
        json!({"type": "object", "properties": {"a": {"type": "strin"}, "b": {"pattern": "("}, "c": {"$ref": "#/$defs/X"}}}),
        json!({}),
    );
    let problems = Validator::problems(&schema);
    let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        vec![
            "/properties/items/items/properties/a/type",
            "/properties/items/items/properties/b/pattern",
            "/properties/items/items/properties/c/$ref"
        ]
    );
    // for_request reports the first of them.
    assert_eq!(Validator::for_request(&schema).unwrap_err(), problems[0]);
}

#[test]
fn whole_bodies() {
    let schema = json!({
        "$defs": {"Item": {"type": "object", "properties": {"s": {"type": "string", "maxLength": 3}}, "required": ["s"], "additionalProperties": false},
                  "Params": {"type": "object", "properties": {"k": {"type": "integer", "minimum": 1}}, "additionalProperties": false}},
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/Item"}, "minItems": 1, "maxItems": 2},
                       "params": {"anyOf": [{"$ref": "#/$defs/Params"}, {"type": "null"}]}},
        "required": ["items"],
        "additionalProperties": false
    });
    let v = Validator::for_request(&schema).unwrap();
    assert!(v
        .check_body(&json!({"items": [{"s": "abc"}], "params": null}))
        .is_empty());
    assert_eq!(
        messages(&v.check_body(
            &json!({"items": [{"s": "abc"}, {"s": "abcd"}, {}], "params": {"k": 0}, "x": 1})
        )),
        vec![
            "items: has 3 entries, more than the 2 allowed",
            "items[1].s: is 4 characters, more than the 3 allowed",
            "items[2].s: is required but missing",
            "params.k: is 0, less than the minimum 1",
            "x: is not a known field (known: items, params)",
        ]
    );
}

#[test]
fn long_values_are_truncated_in_messages() {
    let long = "Q".repeat(100);
    let got = check(json!({"enum": ["A"]}), json!(long));
    assert_eq!(
        got,
        vec![format!(
            "\"{}… is not one of the allowed values: \"A\"",
            "Q".repeat(39)
        )]
    );
}

#[test]
fn paths_render_dotted_and_wire() {
    let v = Violation {
        path: vec![
            PathSegment::Key("chains".into()),
            PathSegment::Index(0),
            PathSegment::Key("id".into()),
        ],
        message: "m".into(),
        position: None,
    };
    assert_eq!(v.dotted_path(), "chains[0].id");
    assert_eq!(v.wire_path(), "chains__0__id");
    assert_eq!(v.to_string(), "chains[0].id: m");
    assert_eq!(dotted(&[PathSegment::Index(2)]), "[2]");
    assert_eq!(
        wire(&[PathSegment::Key("a".into()), PathSegment::Index(2)]),
        "a__2"
    );
}

#[test]
fn params_rules() {
    let schema = json!({
        "$defs": {"P": {"type": "object", "properties": {"temperature": {"type": "number", "exclusiveMinimum": 0}}, "additionalProperties": false}},
        "properties": {
            "items": {"type": "array", "items": {"type": "object"}, "maxItems": 2},
            "params": {"$ref": "#/$defs/P"}
        }
    });
    let v = Validator::for_request(&schema).unwrap();
    assert!(v.check_params(&json!(null)).is_empty());
    assert!(v.check_params(&json!({"temperature": 0.5})).is_empty());
    assert_eq!(
        messages(&v.check_params(&json!({"temperature": 0}))),
        vec!["temperature: is 0, but must be greater than 0"]
    );
    assert_eq!(
        messages(&v.check_params(&json!({"tmp": 1}))),
        vec!["tmp: is not a known field (known: temperature)"]
    );
    assert_eq!(v.max_items(), Some(2));
    assert_eq!(v.min_items(), None);
    // No params schema: only {} and null pass.
    let v =
        Validator::for_request(&json!({"properties": {"items": {"type": "array", "items": {}}}}))
            .unwrap();
    assert!(v.check_params(&json!({})).is_empty());
    assert!(v.check_params(&json!(null)).is_empty());
    assert_eq!(
        messages(&v.check_params(&json!({"x": 1}))),
        vec!["x: is not a known setting: this action takes no params"]
    );
}

#[test]
fn every_request_schema_compiles() {
    let set = project();
    let mut pairs = 0;
    for family in &set.families {
        for variant in &family.variants {
            for action in &family.actions {
                let schema = variant.effective_request(action);
                let v = Validator::for_request(&schema)
                    .unwrap_or_else(|e| panic!("{} {}: {e}", variant.slug, action.name));
                assert_eq!(
                    v.max_items() as Option<usize>,
                    action.max_items().map(|n| n as usize),
                    "{}",
                    variant.slug
                );
                pairs += 1;
            }
        }
    }
    assert_eq!(pairs, 120);
}

#[test]
fn every_project_schema_passes_the_keyword_audit() {
    let set = project();
    let mut problems = Vec::new();
    for family in &set.families {
        for variant in &family.variants {
            for action in &family.actions {
                let request = variant.effective_request(action);
                for (what, schema) in [("request", &request), ("response", &action.response)] {
                    for p in biolm_catalog::keywords::audit(schema) {
                        problems.push(format!("{} {} {what}: {p}", variant.slug, action.name));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn hostile_schemas_are_errors_not_panics() {
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!([1, 2]), "", "a request schema must be a JSON object"),
        (request_with(json!({"$ref": "#/$defs/Nope"}), json!({})), "/properties/items/items/$ref", "`$ref` \"#/$defs/Nope\" points to nothing in this document"),
        (request_with(json!({"$ref": "http://example.com/x.json"}), json!({})), "/properties/items/items/$ref", "`$ref` \"http://example.com/x.json\": only references inside the document (#/...) are supported"),
        (request_with(json!({"$ref": 7}), json!({})), "/properties/items/items/$ref", "`$ref` must be a string"),
        (
            request_with(json!({"$ref": "#/$defs/A"}), json!({"A": {"$ref": "#/$defs/B"}, "B": {"anyOf": [{"$ref": "#/$defs/A"}]}})),
            "/$defs/A",
            "this definition refers back to itself without describing any value (a `$ref`/`anyOf` cycle)",
        ),
        (request_with(json!({"type": 5}), json!({})), "/properties/items/items/type", "`type` must be a type name or a list of them"),
        (request_with(json!({"type": "text"}), json!({})), "/properties/items/items/type", "unknown type \"text\""),
        (request_with(json!({"type": "string", "minLength": "1"}), json!({})), "/properties/items/items/minLength", "must be a non-negative integer"),
        (request_with(json!({"type": "string", "maxLength": -1}), json!({})), "/properties/items/items/maxLength", "must be a non-negative integer"),
        (request_with(json!({"minimum": "0"}), json!({})), "/properties/items/items/minimum", "must be a number"),
        (request_with(json!({"required": "a"}), json!({})), "/properties/items/items/required", "`required` must be a list of names"),
        (request_with(json!({"required": [1]}), json!({})), "/properties/items/items/required/0", "a required name must be a string"),
        (request_with(json!({"properties": []}), json!({})), "/properties/items/items/properties", "`properties` must be an object"),
        (request_with(json!({"anyOf": {}}), json!({})), "/properties/items/items/anyOf", "`anyOf` must be a list"),
        (request_with(json!({"anyOf": []}), json!({})), "/properties/items/items/anyOf", "`anyOf` must not be empty"),
        (request_with(json!({"enum": "a"}), json!({})), "/properties/items/items/enum", "`enum` must be a list"),
        (request_with(json!({"additionalProperties": 3}), json!({})), "/properties/items/items/additionalProperties", "`additionalProperties` must be a boolean or a schema"),
        (request_with(json!({"patternProperties": {"(a|b": {}}}), json!({})), "/properties/items/items/patternProperties/(a|b", "pattern \"(a|b\": not a valid regular expression: Unbalanced parenthesis"),
        (request_with(json!({"type": "string", "pattern": "[z-a]"}), json!({})), "/properties/items/items/pattern", "pattern \"[z-a]\": not a valid regular expression: Range values reversed, start char code is greater than end char code."),
        (request_with(json!({"not": 5}), json!({})), "/properties/items/items/not", "a schema must be an object or a boolean"),
        (request_with(json!({"unevaluatedProperties": false}), json!({})), "/properties/items/items/unevaluatedProperties", "keyword `unevaluatedProperties` is not supported by the local validator"),
        (request_with(json!({"type": "string", "minLenght": 1}), json!({})), "/properties/items/items/minLenght", "unknown keyword `minLenght` (not a JSON Schema 2020-12, draft-07 or OpenAPI keyword; extensions start with `x-`)"),
        (request_with(json!({"type": "number", "multipleOf": 0}), json!({})), "/properties/items/items/multipleOf", "`multipleOf` must be greater than 0"),
        (request_with(json!({"type": "string", "format": 5}), json!({})), "/properties/items/items/format", "`format` must be a string"),
        (request_with(json!({"type": "string", "examples": "x"}), json!({})), "/properties/items/items/examples", "`examples` must be a list"),
        (request_with(json!({"type": "array", "uniqueItems": 1}), json!({})), "/properties/items/items/uniqueItems", "must be true or false"),
        (request_with(json!({"type": "number", "exclusiveMinimum": true}), json!({})), "/properties/items/items/exclusiveMinimum", "must be a number"),
        (request_with(json!({"oneOf": [{"type": "object"}], "discriminator": {"propertyName": "kind"}}), json!({})), "/properties/items/items/oneOf/0", "this arm has no tag: not in the discriminator's `mapping`, and no `const` on 'kind'"),
        (request_with(json!({"oneOf": [{"type": "object"}], "discriminator": {"mapping": {}}}), json!({})), "/properties/items/items/discriminator/propertyName", "must be a string (the tag field)"),
        (request_with(json!(5), json!({})), "/properties/items/items", "a schema must be an object or a boolean"),
        (request_with(json!({"x-biolm-alphabet": "ACGT"}), json!({})), "/properties/items/items/x-biolm-alphabet", "must be an object with `name` and `letters`"),
        (request_with(json!({"x-biolm-token-count": [{"token": ""}]}), json!({})), "/properties/items/items/x-biolm-token-count/0/token", "must be a non-empty string"),
        (request_with(json!({"x-biolm-colour": 1}), json!({})), "/properties/items/items/x-biolm-colour", "unknown extension key `x-biolm-colour` (see schemas/README.md)"),
    ];
    for (schema, pointer, message) in cases {
        let err = Validator::for_request(&schema).expect_err(&schema.to_string());
        assert_eq!(
            err,
            SchemaError {
                pointer: pointer.to_string(),
                message: message.to_string()
            },
            "{schema}"
        );
    }
}

#[test]
fn recursive_schemas_are_fine() {
    // A tree: cycles through properties/items terminate with the value.
    let defs = json!({"Node": {"type": "object", "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}, "additionalProperties": false}});
    let v = Validator::for_request(&request_with(json!({"$ref": "#/$defs/Node"}), defs)).unwrap();
    assert!(v
        .check_item(&json!({"name": "a", "children": [{"name": "b", "children": []}]}))
        .is_empty());
    assert_eq!(
        messages(&v.check_item(&json!({"children": [{"children": [{"name": 1}]}]}))),
        vec!["children[0].children[0].name: must be a string, got the number 1"]
    );
}

// ------------------------------------------------------------ real schemas (x-biolm)

fn real(slug: &str, action: &str) -> Validator {
    let set = project();
    let (family, variant) = set
        .variant(slug)
        .unwrap_or_else(|| panic!("no variant {slug}"));
    let action = family
        .action(action)
        .unwrap_or_else(|| panic!("{slug} has no action {action}"));
    Validator::for_request(&variant.effective_request(action)).unwrap()
}

#[test]
fn esmfold_rules() {
    let v = real("esmfold", "predict");
    assert_eq!(v.max_items(), Some(2));
    let ok = |s: &str| v.check_item(&json!({"sequence": s}));
    assert!(ok("MKTAYIAKQR").is_empty());
    assert!(ok("MKTAYIAKQR:GSHMK:AAA:CCC").is_empty());
    assert_eq!(
        messages(&ok("MK:TA:YI:AK:QR")),
        vec!["sequence: contains \":\" 4 times, at most 3 allowed"]
    );
    assert_eq!(
        messages(&ok("MKT::AYI")),
        vec!["sequence: has \":\" twice in a row at position 4; it may not repeat"]
    );
    assert_eq!(
        messages(&ok("MKTjAYI")),
        vec!["sequence: character 'j' at position 4 is not allowed (alphabet aa_extended: ACDEFGHIKLMNPQRSTVWYBXZUO, tokens :)"]
    );
    // The server counts characters (771, separators included), not residues: a single
    // chain of 771 residues passes, as it does on the server.
    assert!(ok(&"A".repeat(771)).is_empty());
    let too_many = format!("{}:{}", "A".repeat(400), "C".repeat(369));
    assert!(ok(&too_many).is_empty());
    assert_eq!(
        messages(&ok(&"A".repeat(772))),
        vec!["sequence: is 772 characters, more than the 771 allowed"]
    );
    assert_eq!(
        messages(&v.check_item(&json!({"seq": "MK"}))),
        vec![
            "sequence: is required but missing",
            "seq: is not a known field (known: sequence)"
        ]
    );
    assert_eq!(
        messages(&v.check_params(&json!({"x": 1}))),
        vec!["x: is not a known setting: this action takes no params"]
    );
}

#[test]
fn esm2_rules() {
    for slug in ["esm2-8m", "esm2-3b"] {
        let predict = real(slug, "predict");
        assert!(predict
            .check_item(&json!({"sequence": "MKT<mask>AYI"}))
            .is_empty());
        assert!(predict
            .check_item(&json!({"sequence": "<mask>K<mask>"}))
            .is_empty());
        assert_eq!(
            messages(&predict.check_item(&json!({"sequence": "MKTAYI"}))),
            vec!["sequence: contains \"<mask>\" 0 times, at least 1 required"]
        );
        assert_eq!(
            messages(&predict.check_item(&json!({"sequence": "MKT-<mask>"}))),
            vec!["sequence: character '-' at position 4 is not allowed (alphabet aa_extended: ACDEFGHIKLMNPQRSTVWYBXZUO, tokens <mask>)"]
        );
        let encode = real(slug, "encode");
        assert_eq!(encode.max_items(), Some(8));
        assert!(encode
            .check_item(&json!({"sequence": "MKT-AYI"}))
            .is_empty());
        assert_eq!(
            messages(&encode.check_item(&json!({"sequence": "MKT<mask>"}))),
            vec!["sequence: character '<' at position 4 is not allowed (alphabet aa_extended: ACDEFGHIKLMNPQRSTVWYBXZUO, tokens -)"]
        );
        assert_eq!(
            messages(&encode.check_item(&json!({"sequence": "A".repeat(2049)}))),
            vec!["sequence: is 2049 characters, more than the 2048 allowed"]
        );
        assert!(encode
            .check_params(&json!({"repr_layers": [-1], "include": ["mean", "per_residue"]}))
            .is_empty());
        assert_eq!(
            messages(&encode.check_params(&json!({"include": ["mean", "everything"]}))),
            vec!["include[1]: \"everything\" is not one of the allowed values: \"mean\", \"per_residue\", \"bos\", \"contacts\", \"logits\", \"attentions\""]
        );
    }
}

#[test]
fn progen2_rules() {
    let v = real("progen2-oas", "generate");
    assert_eq!(v.max_items(), Some(1));
    assert!(v.check_item(&json!({"context": "EVQLVESGGG"})).is_empty());
    assert_eq!(
        messages(&v.check_item(&json!({"context": "EVQLXESGGG"}))),
        vec!["context: character 'X' at position 5 is not allowed (alphabet aa_unambiguous: ACDEFGHIKLMNPQRSTVWY)"]
    );
    assert!(v
        .check_params(&json!({"temperature": 0.7, "num_samples": 2, "max_length": 64}))
        .is_empty());
    let bad = messages(&v.check_params(&json!({"temperature": 0, "top_p": 1.5})));
    assert_eq!(
        bad,
        vec![
            "temperature: is 0, but must be greater than 0",
            "top_p: is 1.5, more than the maximum 1"
        ]
    );
}

#[test]
fn prostt5_fold2aa_override_uses_3di() {
    let fold = real("prostt5-fold2aa-encode", "encode");
    assert!(fold.check_item(&json!({"sequence": "dvvlqd"})).is_empty());
    assert_eq!(
        messages(&fold.check_item(&json!({"sequence": "dvVlqd"}))),
        vec!["sequence: character 'V' at position 3 is not allowed (alphabet 3di: acdefghiklmnpqrstvwy) (checked as the prostt5-fold2aa-encode model does: it re-validates the whole request with its own schema after the gateway, so this cannot succeed even where the gateway accepts it)"]
    );
    let aa = real("prostt5-aa2fold-encode", "encode");
    assert!(aa.check_item(&json!({"sequence": "MKTAYI"})).is_empty());
}

#[test]
fn throughput_20k_items() {
    let v = real("esm2-650m", "encode");
    let items: Vec<Value> = (0..20_000)
        .map(|i| json!({"sequence": format!("MKTAYIAKQRQISFVKSHFSRQ{}", "ACDEFGHIKLMNPQRSTVWY".repeat(1 + i % 20))}))
        .collect();
    let start = Instant::now();
    let bad: usize = items.iter().map(|it| v.check_item(it).len()).sum();
    let elapsed = start.elapsed();
    assert_eq!(bad, 0);
    let chars: usize = items
        .iter()
        .map(|it| it["sequence"].as_str().map_or(0, str::len))
        .sum();
    println!(
        "validated 20000 items ({chars} residues) in {elapsed:?}: {:.0} items/s, {:.0} M residues/s",
        20_000.0 / elapsed.as_secs_f64(),
        chars as f64 / elapsed.as_secs_f64() / 1e6
    );
}

#[test]
fn deep_schemas_and_values_are_errors_not_stack_overflows() {
    // A chain of 5,000 definitions, each referring to the next.
    let mut defs = serde_json::Map::new();
    for i in 0..5000 {
        defs.insert(
            format!("D{i}"),
            json!({"$ref": format!("#/$defs/D{}", i + 1)}),
        );
    }
    defs.insert("D5000".into(), json!({"type": "string"}));
    let err = Validator::for_request(&request_with(
        json!({"$ref": "#/$defs/D0"}),
        Value::Object(defs),
    ))
    .unwrap_err();
    assert_eq!(
        err.message,
        "more than 64 `$ref`/`anyOf` steps without reaching a value"
    );

    // A schema document nested 1,000 levels deep (built in code, not parsed).
    let mut deep = json!({"type": "string"});
    for _ in 0..1000 {
        deep = json!({"type": "array", "items": deep});
    }
    let err = Validator::for_request(&request_with(deep, json!({}))).unwrap_err();
    assert!(
        err.message
            .starts_with("the schema nests more than 64 levels deep"),
        "{err}"
    );

    // A recursive schema and a value nested 1,000 levels deep.
    let defs = json!({"L": {"type": "array", "items": {"$ref": "#/$defs/L"}}});
    let v = Validator::for_request(&request_with(json!({"$ref": "#/$defs/L"}), defs)).unwrap();
    let mut value = json!([]);
    for _ in 0..1000 {
        value = Value::Array(vec![value]);
    }
    let got = v.check_item(&value);
    assert_eq!(got.len(), 1);
    assert!(
        got[0]
            .message
            .starts_with("is nested too deeply to check (more than 512 levels)"),
        "{:?}",
        got[0].message
    );
    // Nesting as deep as serde_json parses (128) passes.
    let mut value = json!([]);
    for _ in 0..127 {
        value = Value::Array(vec![value]);
    }
    assert!(v.check_item(&value).is_empty());
}

#[test]
fn items_given_by_reference() {
    let schema = json!({
        "$defs": {
            "Batch": {"type": "array", "items": {"$ref": "#/$defs/Item"}, "minItems": 1, "maxItems": 3},
            "Item": {"type": "object", "properties": {"s": {"type": "string"}}, "required": ["s"]}
        },
        "properties": {"items": {"$ref": "#/$defs/Batch"}}
    });
    let v = Validator::for_request(&schema).unwrap();
    assert_eq!((v.min_items(), v.max_items()), (Some(1), Some(3)));
    assert_eq!(
        messages(&v.check_item(&json!({}))),
        vec!["s: is required but missing"]
    );
}

#[test]
fn strict_schemas_refuse_integers_written_with_a_fraction() {
    let mut schema = request_with(
        json!({"type": "object", "properties": {"k": {"type": "integer"}, "f": {"type": "number"}, "o": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}}),
        json!({}),
    );
    let lax = Validator::for_request(&schema).unwrap();
    assert!(lax.check_item(&json!({"k": 5.0})).is_empty());
    schema["x-biolm-strict"] = json!(true);
    let strict = Validator::for_request(&schema).unwrap();
    assert!(strict
        .check_item(&json!({"k": 5, "f": 5.0, "o": null}))
        .is_empty());
    assert_eq!(
        messages(&strict.check_item(&json!({"k": 5.0}))),
        vec!["k: must be an integer written without a fraction, got the number 5.0"]
    );
    assert_eq!(strict.check_item(&json!({"o": 2.0})).len(), 1);
}

#[test]
fn project_schemas_are_strict() {
    let set = project();
    let (family, variant) = set.variant("progen2-oas").unwrap();
    let action = family.action("generate").unwrap();
    let v = Validator::for_request(&variant.effective_request(action)).unwrap();
    let body = json!({"items": [{"context": "MK"}], "params": {"max_length": 5.0}});
    assert_eq!(v.check_body(&body).len(), 1, "{:?}", v.check_body(&body));
}

#[test]
fn character_violations_carry_their_position() {
    let v = check_raw(
        json!({"type": "string", "x-biolm-alphabet": {"name": "aa", "letters": "AC"}}),
        json!("ACxA"),
    );
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].position, Some(2));
}

fn check_raw(item_schema: Value, value: Value) -> Vec<Violation> {
    Validator::for_request(&request_with(item_schema, json!({})))
        .unwrap()
        .check_item(&value)
}

#[test]
fn mpnn_variants_accept_other_variants_params_and_name_them() {
    let set = project();
    let (family, variant) = set.variant("protein-mpnn").unwrap();
    let action = family.action("generate").unwrap();
    let v = Validator::for_request(&variant.effective_request(action)).unwrap();
    let params = json!({"ligand_mpnn_use_atom_context": true, "temperature": 0.1});
    assert!(
        v.check_params(&params).is_empty(),
        "{:?}",
        v.check_params(&params)
    );
    assert_eq!(
        v.ignored_params(&params),
        vec!["ligand_mpnn_use_atom_context"]
    );
    // A key no variant has is still refused.
    assert_eq!(v.check_params(&json!({"no_such_param": 1})).len(), 1);
    // The variant that owns the param checks it and ignores nothing.
    let (_, ligand) = set.variant("ligand-mpnn").unwrap();
    let l = Validator::for_request(&ligand.effective_request(action)).unwrap();
    assert!(l.ignored_params(&params).is_empty());
    assert_eq!(
        l.check_params(&json!({"ligand_mpnn_use_atom_context": "yes"}))
            .len(),
        1
    );
    // bias_AA keys and omit_AA letters follow the server's alphabet.
    assert_eq!(v.check_params(&json!({"bias_AA": {"a": 1.0}})).len(), 1);
    assert_eq!(v.check_params(&json!({"omit_AA": "CX"})).len(), 1);
    assert!(v
        .check_params(&json!({"bias_AA": {"A": 1.0}, "omit_AA": "C"}))
        .is_empty());
}

#[test]
fn prostt5_fold2aa_refusals_say_why() {
    let set = project();
    let (family, variant) = set.variant("prostt5-fold2aa-generate").unwrap();
    let action = family.action("generate").unwrap();
    let v = Validator::for_request(&variant.effective_request(action)).unwrap();
    let problems = v.check_body(&json!({"items": [{"sequence": "MKT"}]}));
    assert!(!problems.is_empty());
    assert!(
        problems[0]
            .message
            .contains("re-validates the whole request with its own schema after the gateway"),
        "{}",
        problems[0]
    );
}

#[test]
fn cross_field_rules_of_the_project_schemas() {
    let set = project();
    let body_check = |slug: &str, action: &str, body: Value| {
        let (family, variant) = set.variant(slug).unwrap();
        let a = family.action(action).unwrap();
        let v = Validator::for_request(&variant.effective_request(a)).unwrap();
        messages(&v.check_body(&body))
    };
    assert_eq!(
        body_check(
            "igbert-paired",
            "encode",
            json!({"items": [{"heavy_chain": "EVQL", "sequence": "EVQ"}]})
        )
        .len(),
        1
    );
    assert!(body_check(
        "igbert-paired",
        "encode",
        json!({"items": [{"heavy": "EVQL", "light": "DIQ"}]})
    )
    .is_empty());
    assert_eq!(
        body_check(
            "igbert-paired",
            "encode",
            json!({"items": [{"heavy_chain": "evql", "light_chain": "DIQ"}]})
        )
        .len(),
        1
    );
    assert!(body_check(
        "immunebuilder-abodybuilder2",
        "fold",
        json!({"items": [{"heavy_chain": "EVQL"}]})
    )
    .is_empty());
    assert_eq!(
        body_check(
            "esm-if1",
            "generate",
            json!({"items": [{"pdb": "HEADER x"}]})
        )
        .len(),
        1
    );
    assert_eq!(
        body_check(
            "zymctrl",
            "generate",
            json!({"items": [{"ec_number": "3"}]})
        )
        .len(),
        1
    );
    assert!(body_check(
        "zymctrl",
        "generate",
        json!({"items": [{"ec_number": "3.5"}]})
    )
    .is_empty());
    assert_eq!(
        body_check(
            "esm2-8m",
            "predict",
            json!({"items": [{"sequence": "<mask><mask>"}]})
        )
        .len(),
        1
    );
    assert!(body_check(
        "esm2-8m",
        "encode",
        json!({"items": [{"sequence": "MK\n"}]})
    )
    .is_empty());
    let atom = "ATOM      1  N   MET A   1      11.104  13.207   2.100  1.00  0.00           N";
    assert_eq!(
        body_check("biotite", "predict", json!({"items": [{"pdb_a": atom, "pdb_b": atom, "chain_a": ["A"], "chain_b": ["A", "B"]}]})).len(),
        1
    );
    assert!(body_check(
        "biotite",
        "predict",
        json!({"items": [{"pdb_a": atom, "pdb_b": atom, "chain_ids": {"a": ["A"], "b": ["A"]}}]})
    )
    .is_empty());
    assert_eq!(
        body_check(
            "thermompnn",
            "predict",
            json!({"items": [{"pdb": atom, "mutations": ["A1Z"]}]})
        )
        .len(),
        1
    );
}
