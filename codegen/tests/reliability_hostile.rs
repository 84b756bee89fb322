//! Hostile schema sets (issue 6, part 5), beyond `errors.rs`: names that are
//! keywords, collide after conversion, shadow std types or are not identifiers
//! at all, in every place a name comes from (family, variant slug, action,
//! `$defs`, properties, enum values), plus odd batch limits and shapes.
//!
//! Each case must either give a `CodegenError` (or a catalog load error)
//! naming the file, or generate code that parses as Rust with no duplicate
//! names in one scope and no item shadowing a std type. Never a panic.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use serde_json::{json, Value};

/// A family document with one variant per slug and one action per name, all
/// sharing `defs` (with `Item` as the request item).
fn doc(family: &str, slugs: &[&str], actions: &[&str], defs: Value, max_items: Value) -> Value {
    let request = json!({
        "$defs": defs,
        "additionalProperties": false,
        "properties": {
            "items": { "type": "array", "items": { "$ref": "#/$defs/Item" }, "maxItems": max_items, "minItems": 1 }
        },
        "required": ["items"], "type": "object"
    });
    let response = json!({ "properties": { "results": { "type": "array", "items": {
        "type": "object", "properties": { "score": { "type": "number" } } } } } });
    let variants: Vec<Value> = slugs
        .iter()
        .map(|s| json!({ "slug": s, "display_name": s }))
        .collect();
    let actions: Vec<Value> = actions
        .iter()
        .map(|a| json!({ "name": a, "request": request, "response": response }))
        .collect();
    json!({ "family": family, "display_name": family, "variants": variants, "actions": actions })
}

fn simple_item() -> Value {
    json!({ "Item": { "type": "object", "required": ["sequence"], "properties": { "sequence": { "type": "string" } } } })
}

/// [`doc`] over [`simple_item`].
fn simple_doc(family: &str, slugs: &[&str], actions: &[&str], max_items: Value) -> Value {
    doc(family, slugs, actions, simple_item(), max_items)
}

/// What came of one hostile set.
enum Verdict {
    /// Refused with an error naming the file.
    Refused(String),
    /// Generated code (checked separately).
    Code(String),
}

/// Loads `docs` (file name, document) from a temp dir and generates, catching panics.
fn run(docs: &[(&str, Value)]) -> Result<Verdict, String> {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = docs
        .iter()
        .map(|(name, d)| {
            let p = dir.path().join(name);
            std::fs::write(&p, serde_json::to_string_pretty(d).unwrap()).unwrap();
            p
        })
        .collect();
    let dir_path = dir.path().to_path_buf();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let set = match biolm_catalog::load_dir(&dir_path) {
            Ok(s) => s,
            Err(e) => return Verdict::Refused(e.to_string()),
        };
        match biolm_codegen::generate(&set) {
            Ok(g) => Verdict::Code(g.code),
            Err(e) => Verdict::Refused(e.to_string()),
        }
    }));
    match outcome {
        Ok(Verdict::Refused(msg)) => {
            let names_file = paths.iter().any(|p| msg.contains(&p.display().to_string()))
                || msg.contains(&dir_path.display().to_string());
            if !names_file {
                return Err(format!("the error does not name the file: {msg}"));
            }
            Ok(Verdict::Refused(msg))
        }
        Ok(code) => Ok(code),
        Err(p) => {
            let what = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("the generator panicked: {what}"))
        }
    }
}

/// Names that would shadow what generated code uses unqualified.
const STD_NAMES: &[&str] = &[
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "Vec",
    "String",
    "Box",
    "Default",
    "Clone",
    "Debug",
    "PartialEq",
    "Send",
    "Sync",
    "Sized",
    "Into",
    "From",
    "Iterator",
    "IntoIterator",
];

/// Problems of generated code: not Rust, duplicate names in one scope, items
/// shadowing std names, public items without a doc comment (the library denies
/// `missing_docs`, so one would break the build of every user).
fn check_code(code: &str) -> Vec<String> {
    let file = match syn::parse_file(code) {
        Ok(f) => f,
        Err(e) => {
            // Show the offending token in context (spans carry no lines outside a proc macro).
            let probe = e.to_string();
            return vec![format!(
                "not valid Rust ({probe}); {} bytes of code",
                code.len()
            )];
        }
    };
    let mut problems = Vec::new();
    check_items(&file.items, "crate", &mut problems);
    problems
}

fn dup(seen: &mut BTreeSet<String>, name: String, scope: &str, problems: &mut Vec<String>) {
    if !seen.insert(name.clone()) {
        problems.push(format!("`{name}` defined twice in {scope}"));
    }
}

/// Records a problem when a public item (`public`) has no doc attribute.
fn needs_doc(attrs: &[syn::Attribute], public: bool, what: String, problems: &mut Vec<String>) {
    if public && !attrs.iter().any(|a| a.path().is_ident("doc")) {
        problems.push(format!("{what} has no doc comment"));
    }
}

fn is_pub(v: &syn::Visibility) -> bool {
    matches!(v, syn::Visibility::Public(_))
}

fn check_items(items: &[syn::Item], scope: &str, problems: &mut Vec<String>) {
    let mut types = BTreeSet::new();
    let mut values = BTreeSet::new();
    let mut methods: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for item in items {
        match item {
            syn::Item::Struct(s) => {
                let name = s.ident.to_string();
                if STD_NAMES.contains(&name.as_str()) {
                    problems.push(format!("struct `{name}` in {scope} shadows a std name"));
                }
                dup(&mut types, name.clone(), scope, problems);
                needs_doc(
                    &s.attrs,
                    is_pub(&s.vis),
                    format!("struct {name} in {scope}"),
                    problems,
                );
                let mut fields = BTreeSet::new();
                let mut renames = BTreeSet::new();
                for f in &s.fields {
                    if let Some(id) = &f.ident {
                        needs_doc(
                            &f.attrs,
                            is_pub(&f.vis),
                            format!("field {name}.{id}"),
                            problems,
                        );
                        dup(
                            &mut fields,
                            id.to_string(),
                            &format!("struct {name}"),
                            problems,
                        );
                    }
                    for a in &f.attrs {
                        let t = quote::quote!(#a).to_string();
                        if let Some(r) = t.split("rename = ").nth(1) {
                            let r = r.split('"').nth(1).unwrap_or_default().to_string();
                            dup(
                                &mut renames,
                                r,
                                &format!("serde names of struct {name}"),
                                problems,
                            );
                        }
                    }
                }
            }
            syn::Item::Enum(e) => {
                let name = e.ident.to_string();
                if STD_NAMES.contains(&name.as_str()) {
                    problems.push(format!("enum `{name}` in {scope} shadows a std name"));
                }
                dup(&mut types, name.clone(), scope, problems);
                needs_doc(
                    &e.attrs,
                    is_pub(&e.vis),
                    format!("enum {name} in {scope}"),
                    problems,
                );
                let mut variants = BTreeSet::new();
                for v in &e.variants {
                    let public = is_pub(&e.vis);
                    needs_doc(
                        &v.attrs,
                        public,
                        format!("variant {name}::{}", v.ident),
                        problems,
                    );
                    dup(
                        &mut variants,
                        v.ident.to_string(),
                        &format!("enum {name}"),
                        problems,
                    );
                }
            }
            syn::Item::Type(t) => {
                let name = t.ident.to_string();
                if STD_NAMES.contains(&name.as_str()) {
                    problems.push(format!("type `{name}` in {scope} shadows a std name"));
                }
                needs_doc(
                    &t.attrs,
                    is_pub(&t.vis),
                    format!("type {name} in {scope}"),
                    problems,
                );
                dup(&mut types, name, scope, problems);
            }
            syn::Item::Mod(m) => {
                let name = m.ident.to_string();
                dup(&mut types, name.clone(), scope, problems);
                if let Some((_, inner)) = &m.content {
                    check_items(inner, &format!("mod {name}"), problems);
                }
            }
            syn::Item::Static(s) => dup(&mut values, s.ident.to_string(), scope, problems),
            syn::Item::Const(c) => dup(&mut values, c.ident.to_string(), scope, problems),
            syn::Item::Fn(f) => dup(&mut values, f.sig.ident.to_string(), scope, problems),
            syn::Item::Impl(i) => {
                let ty = {
                    let t = &i.self_ty;
                    quote::quote!(#t).to_string()
                };
                let set = methods.entry(ty.clone()).or_default();
                for it in &i.items {
                    if let syn::ImplItem::Fn(f) = it {
                        if i.trait_.is_none() {
                            needs_doc(
                                &f.attrs,
                                is_pub(&f.vis),
                                format!("fn {ty}::{} in {scope}", f.sig.ident),
                                problems,
                            );
                            // An accessor's feature-off twin (`#[cfg(not(feature = ..))]`)
                            // is compiled only when the accessor is not.
                            let off = f.attrs.iter().any(|a| {
                                quote::quote!(#a).to_string().contains("cfg (not (feature")
                            });
                            let name = f.sig.ident.to_string();
                            dup(
                                set,
                                if off {
                                    format!("{name} (feature off)")
                                } else {
                                    name
                                },
                                &format!("impl {ty} ({scope})"),
                                problems,
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Runs every case; collects all failures so one run shows them all.
#[test]
fn hostile_names_and_shapes_never_panic_or_emit_broken_code() {
    let cases: Vec<(&str, Vec<(&str, Value)>)> = vec![
        (
            "family named like a keyword",
            vec![(
                "type.json",
                simple_doc("type", &["type-1"], &["encode"], json!(4)),
            )],
        ),
        (
            "family named `crate`",
            vec![(
                "crate.json",
                simple_doc("crate", &["crate"], &["encode"], json!(4)),
            )],
        ),
        (
            "family starting with a digit",
            vec![(
                "3d.json",
                simple_doc("3d", &["3d-fold"], &["predict"], json!(2)),
            )],
        ),
        (
            "family of punctuation only",
            vec![("x.json", simple_doc("--", &["--"], &["encode"], json!(4)))],
        ),
        (
            "non-ASCII family and slug",
            vec![(
                "alpha.json",
                simple_doc("αfold", &["αfold-β"], &["predict"], json!(2)),
            )],
        ),
        (
            "slugs colliding after snake_case",
            vec![(
                "demo.json",
                simple_doc(
                    "demo",
                    &["demo-1", "demo_1", "Demo.1"],
                    &["encode"],
                    json!(4),
                ),
            )],
        ),
        (
            "slug `self`",
            vec![(
                "demo.json",
                simple_doc("demo", &["self", "super"], &["encode"], json!(4)),
            )],
        ),
        (
            "empty slug",
            vec![(
                "demo.json",
                simple_doc("demo", &[""], &["encode"], json!(4)),
            )],
        ),
        (
            "actions named like keywords",
            vec![(
                "demo.json",
                simple_doc("demo", &["demo-1"], &["fn", "match", "type"], json!(4)),
            )],
        ),
        (
            "actions colliding after conversion",
            vec![(
                "demo.json",
                simple_doc(
                    "demo",
                    &["demo-1"],
                    &["log-prob", "log_prob", "LogProb"],
                    json!(4),
                ),
            )],
        ),
        (
            "action starting with a digit",
            vec![(
                "demo.json",
                simple_doc("demo", &["demo-1"], &["3d"], json!(4)),
            )],
        ),
        (
            "families colliding after conversion",
            vec![
                (
                    "a.json",
                    simple_doc("my-model", &["my-model-a"], &["encode"], json!(4)),
                ),
                (
                    "b.json",
                    simple_doc("my_model", &["my-model-b"], &["encode"], json!(4)),
                ),
            ],
        ),
        (
            "same slug in two families",
            vec![
                (
                    "a.json",
                    simple_doc("alpha", &["shared"], &["encode"], json!(4)),
                ),
                (
                    "b.json",
                    simple_doc("beta", &["shared"], &["encode"], json!(4)),
                ),
            ],
        ),
        (
            "$defs named like std types",
            vec![(
                "demo.json",
                doc(
                    "demo",
                    &["demo-1"],
                    &["encode"],
                    json!({
                        "Item": { "type": "object", "properties": {
                            "a": { "$ref": "#/$defs/Option" }, "b": { "$ref": "#/$defs/Vec" },
                            "c": { "$ref": "#/$defs/String" }, "d": { "$ref": "#/$defs/Box" }, "e": { "$ref": "#/$defs/Result" },
                            "f": { "type": "array", "items": { "type": "string" } }, "g": { "type": "string" }
                        } },
                        "Option": { "type": "object", "properties": { "x": { "type": "integer" } } },
                        "Vec": { "type": "object", "properties": { "y": { "type": "string" } } },
                        "String": { "type": "object", "properties": { "z": { "type": "boolean" } } },
                        "Box": { "type": "string", "enum": ["a", "b"] },
                        "Result": { "type": "object", "properties": { "ok": { "type": "string" } } }
                    }),
                    json!(4),
                ),
            )],
        ),
        (
            "$defs colliding after conversion",
            vec![(
                "demo.json",
                doc(
                    "demo",
                    &["demo-1"],
                    &["encode"],
                    json!({
                        "Item": { "type": "object", "properties": {
                            "a": { "$ref": "#/$defs/my-type" }, "b": { "$ref": "#/$defs/My_Type" }, "c": { "$ref": "#/$defs/MyType" }
                        } },
                        "my-type": { "type": "object", "properties": { "x": { "type": "integer" } } },
                        "My_Type": { "type": "object", "properties": { "y": { "type": "string" } } },
                        "MyType": { "type": "string", "enum": ["p", "q"] }
                    }),
                    json!(4),
                ),
            )],
        ),
        (
            "property names that are not identifiers",
            vec![(
                "demo.json",
                doc(
                    "demo",
                    &["demo-1"],
                    &["encode"],
                    json!({
                        "Item": { "type": "object", "required": [""], "properties": {
                            "": { "type": "string" }, "$": { "type": "integer" }, "__": { "type": "integer" },
                            "α": { "type": "number" }, "r#type": { "type": "string" }, "a b": { "type": "string" },
                            "self": { "type": "string" }, "Self": { "type": "string" }, "crate": { "type": "string" },
                            "new": { "type": "string" }, "default": { "type": "string" }, "_": { "type": "string" }
                        } }
                    }),
                    json!(4),
                ),
            )],
        ),
        (
            "property names colliding after conversion",
            vec![(
                "demo.json",
                doc(
                    "demo",
                    &["demo-1"],
                    &["encode"],
                    json!({
                        "Item": { "type": "object", "properties": {
                            "fooBar": { "type": "string" }, "foo_bar": { "type": "integer" }, "FOO_BAR": { "type": "boolean" },
                            "foo-bar": { "type": "number" }, "foo bar": { "type": "string" }, "foo_bar2": { "type": "string" }
                        } }
                    }),
                    json!(4),
                ),
            )],
        ),
        (
            "a property name of 10,000 characters",
            vec![(
                "demo.json",
                doc(
                    "demo",
                    &["demo-1"],
                    &["encode"],
                    json!({
                        "Item": { "type": "object", "properties": { "x".repeat(10_000): { "type": "string" } } }
                    }),
                    json!(4),
                ),
            )],
        ),
        (
            "enum values colliding and odd",
            vec![(
                "demo.json",
                doc(
                    "demo",
                    &["demo-1"],
                    &["encode"],
                    json!({
                        "Item": { "type": "object", "properties": { "kind": { "enum": [
                            "a-b", "a_b", "A B", "aB", "AB", "", " ", "-", "_", "0", "00", "self", "Self", "None", "Some", "Ok", "ß", "SS"
                        ], "type": "string" } } }
                    }),
                    json!(4),
                ),
            )],
        ),
        (
            "duplicate enum values",
            vec![(
                "demo.json",
                doc(
                    "demo",
                    &["demo-1"],
                    &["encode"],
                    json!({
                        "Item": { "type": "object", "properties": { "kind": { "enum": ["x", "x", "y"], "type": "string" } } }
                    }),
                    json!(4),
                ),
            )],
        ),
        (
            "type given as a list",
            vec![(
                "demo.json",
                doc(
                    "demo",
                    &["demo-1"],
                    &["encode"],
                    json!({
                        "Item": { "type": "object", "properties": {
                            "a": { "type": ["string", "null"] }, "b": { "type": ["integer", "string"] }, "c": { "type": [] }
                        } }
                    }),
                    json!(4),
                ),
            )],
        ),
        (
            "empty combinators",
            vec![(
                "demo.json",
                doc(
                    "demo",
                    &["demo-1"],
                    &["encode"],
                    json!({
                        "Item": { "type": "object", "properties": {
                            "a": { "anyOf": [] }, "b": { "oneOf": [] }, "c": { "allOf": [] }, "d": { "not": {} }, "e": {}, "f": true, "g": false
                        } }
                    }),
                    json!(4),
                ),
            )],
        ),
        (
            "item schema is not an object schema",
            vec![(
                "demo.json",
                doc(
                    "demo",
                    &["demo-1"],
                    &["encode"],
                    json!({ "Item": { "type": "string" } }),
                    json!(4),
                ),
            )],
        ),
        (
            "item given as `true`",
            vec![(
                "demo.json",
                doc(
                    "demo",
                    &["demo-1"],
                    &["encode"],
                    json!({ "Item": true }),
                    json!(4),
                ),
            )],
        ),
        (
            "$ref into a property",
            vec![(
                "demo.json",
                doc(
                    "demo",
                    &["demo-1"],
                    &["encode"],
                    json!({
                        "Item": { "type": "object", "properties": { "a": { "$ref": "#/$defs/Other/properties/x" } } },
                        "Other": { "type": "object", "properties": { "x": { "type": "string" } } }
                    }),
                    json!(4),
                ),
            )],
        ),
        (
            "$ref that is not a string",
            vec![(
                "demo.json",
                doc(
                    "demo",
                    &["demo-1"],
                    &["encode"],
                    json!({
                        "Item": { "type": "object", "properties": { "a": { "$ref": 7 } } }
                    }),
                    json!(4),
                ),
            )],
        ),
        (
            "self-referencing $ref",
            vec![(
                "demo.json",
                doc(
                    "demo",
                    &["demo-1"],
                    &["encode"],
                    json!({
                        "Item": { "type": "object", "properties": { "a": { "$ref": "#/$defs/Loop" } } },
                        "Loop": { "$ref": "#/$defs/Loop" }
                    }),
                    json!(4),
                ),
            )],
        ),
        (
            "batch limit 0",
            vec![(
                "demo.json",
                simple_doc("demo", &["demo-1"], &["encode"], json!(0)),
            )],
        ),
        (
            "negative batch limit",
            vec![(
                "demo.json",
                simple_doc("demo", &["demo-1"], &["encode"], json!(-1)),
            )],
        ),
        (
            "huge batch limit",
            vec![(
                "demo.json",
                simple_doc("demo", &["demo-1"], &["encode"], json!(1e30)),
            )],
        ),
        (
            "batch limit as a string",
            vec![(
                "demo.json",
                simple_doc("demo", &["demo-1"], &["encode"], json!("8")),
            )],
        ),
        (
            "ten thousand properties",
            vec![(
                "demo.json",
                doc(
                    "demo",
                    &["demo-1"],
                    &["encode"],
                    json!({
                        "Item": { "type": "object", "properties": (0..10_000).map(|i| (format!("p{i}"), json!({"type": "integer"}))).collect::<serde_json::Map<String, Value>>() }
                    }),
                    json!(4),
                ),
            )],
        ),
    ];
    let mut failures = Vec::new();
    for (name, docs) in &cases {
        match run(docs) {
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok(Verdict::Refused(msg)) => eprintln!("{name}: refused: {msg}"),
            Ok(Verdict::Code(code)) => {
                let problems = check_code(&code);
                if problems.is_empty() {
                    eprintln!("{name}: generated valid code");
                } else {
                    for p in problems.iter().take(5) {
                        failures.push(format!("{name}: {p}"));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Names in a schema never reach the generated code unescaped: a description
/// or title holding Rust (or a doc-comment terminator) stays inside docs.
#[test]
fn descriptions_cannot_inject_code() {
    let item = json!({ "Item": { "type": "object", "description": "*/ } pub fn pwned() {} /* \n#[cfg(any())]\n\"quoted\" `tick` \\ backslash",
        "properties": { "x": { "type": "string", "title": "\"); panic!(\"", "description": "*/ ///\n//! inner\n}}}}" } } } });
    let d = doc("demo", &["demo-1"], &["encode"], item, json!(4));
    match run(&[("demo.json", d)]) {
        Ok(Verdict::Code(code)) => {
            let problems = check_code(&code);
            assert!(problems.is_empty(), "{problems:?}");
            let file = syn::parse_file(&code).unwrap();
            let mut fns = Vec::new();
            collect_fns(&file.items, &mut fns);
            assert!(
                !fns.iter().any(|f| f == "pwned"),
                "a description became code"
            );
        }
        Ok(Verdict::Refused(m)) => panic!("refused a harmless description: {m}"),
        Err(e) => panic!("{e}"),
    }
}

fn collect_fns(items: &[syn::Item], out: &mut Vec<String>) {
    for item in items {
        match item {
            syn::Item::Fn(f) => out.push(f.sig.ident.to_string()),
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    collect_fns(inner, out);
                }
            }
            syn::Item::Impl(i) => {
                for it in &i.items {
                    if let syn::ImplItem::Fn(f) = it {
                        out.push(f.sig.ident.to_string());
                    }
                }
            }
            _ => {}
        }
    }
}

/// Names that collide after conversion are refused with both names, or made
/// distinct: never two items of one name.
#[test]
fn colliding_names_are_refused_or_made_distinct() {
    let d = simple_doc("demo", &["demo-1"], &["log-prob", "log_prob"], json!(4));
    match run(&[("demo.json", d)]) {
        Ok(Verdict::Refused(m)) => {
            assert!(m.contains("/actions/1/name"), "{m}");
            assert!(m.contains("`log_prob`") && m.contains("`log-prob`"), "{m}");
        }
        other => panic!("not refused: {:?}", other.map(|_| ())),
    }
    let a = simple_doc("my-model", &["my-model-a"], &["encode"], json!(4));
    let b = simple_doc("my_model", &["my-model-b"], &["encode"], json!(4));
    match run(&[("a.json", a), ("b.json", b)]) {
        Ok(Verdict::Refused(m)) => {
            assert!(m.contains("`my-model`") && m.contains("`my_model`"), "{m}");
        }
        other => panic!("not refused: {:?}", other.map(|_| ())),
    }
    // Slugs that collide get distinct accessors.
    let d = simple_doc("demo", &["demo-1", "demo_1"], &["encode"], json!(4));
    match run(&[("demo.json", d)]) {
        Ok(Verdict::Code(code)) => {
            assert!(check_code(&code).is_empty());
            let file = syn::parse_file(&code).unwrap();
            let mut fns = Vec::new();
            collect_fns(&file.items, &mut fns);
            let accessors: Vec<&String> = fns.iter().filter(|f| f.starts_with("demo_1")).collect();
            assert!(
                accessors.len() >= 4,
                "two accessors on each client: {accessors:?}"
            );
        }
        Ok(Verdict::Refused(m)) => assert!(m.contains("demo_1"), "{m}"),
        Err(e) => panic!("{e}"),
    }
}
