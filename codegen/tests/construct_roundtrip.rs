//! Serde behaviour of generated types, checked by compiling and running them.
//!
//! The types of every construct of `corpus/constructs/schemas` (plus one
//! hand-written family with a closed discriminated union) are generated
//! without handles into a scratch crate that depends only on `serde` and
//! `serde_json` (the workspace's versions, `Cargo.lock` copied, `--offline`).
//! Its `main` (`tests/roundtrip/scratch_main.rs`) decodes and re-encodes values of
//! the key constructs, and decodes every request body of `labels.json` that
//! pydantic accepts into the generated item and params types.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use biolm_codegen::normalize::{pascal_ident, type_name};
use serde_json::{json, Value};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Types-only modules (no handles, no catalog) for every family of `set`.
fn types_only(set: &biolm_catalog::SchemaSet) -> proc_macro2::TokenStream {
    let mut tokens = proc_macro2::TokenStream::new();
    for family in &set.families {
        let (plan, _) = biolm_codegen::methods::plan_family(family).unwrap();
        let module = quote::format_ident!("{}", plan.module);
        let defs = plan.types.defs.iter().map(biolm_codegen::emit::def_tokens);
        tokens.extend(quote::quote! {
            pub mod #module {
                #[allow(unused_imports)]
                use serde::{Deserialize, Serialize};
                #(#defs)*
            }
        });
    }
    tokens
}

/// A family whose discriminated union has closed arms (`extra='forbid'`).
fn closed_tagged_family(dir: &Path) {
    let arm = |tag: &str, field: &str| {
        json!({ "type": "object", "additionalProperties": false, "required": ["kind", field],
                "properties": { "kind": { "const": tag, "type": "string" }, field: { "type": "integer" } } })
    };
    // `C` holds the union again by value: a recursive tagged union (boxed).
    let mut c = arm("c", "z");
    c["properties"]["next"] = json!({ "$ref": "#/$defs/U" });
    let request = json!({
        "$defs": {
            "A": arm("a", "x"), "B": arm("b", "y"), "C": c,
            "U": { "oneOf": [{ "$ref": "#/$defs/A" }, { "$ref": "#/$defs/C" }],
                   "discriminator": { "propertyName": "kind", "mapping": { "a": "#/$defs/A", "c": "#/$defs/C" } } },
            "Item": { "type": "object", "additionalProperties": false, "required": ["u"], "properties": {
                "rec": { "$ref": "#/$defs/U" },
                "n": { "enum": [-1, 2] }, "c": { "const": -3 }, "f": { "enum": [0.5, -1.5, "x"] },
                "u": { "oneOf": [{ "$ref": "#/$defs/A" }, { "$ref": "#/$defs/B" }],
                       "discriminator": { "propertyName": "kind", "mapping": { "a": "#/$defs/A", "b": "#/$defs/B" } } } } }
        },
        "type": "object", "additionalProperties": false, "required": ["items"],
        "properties": { "items": { "type": "array", "items": { "$ref": "#/$defs/Item" }, "maxItems": 4 } }
    });
    let response = json!({ "type": "object", "properties": { "results": { "type": "array", "items": { "type": "object", "properties": { "ok": { "type": "boolean" } } } } } });
    let doc = json!({ "family": "closed-tagged", "display_name": "Closed tagged",
        "variants": [{ "slug": "closed-tagged", "display_name": "Closed tagged" }],
        "actions": [{ "name": "predict", "request": request, "response": response }] });
    std::fs::write(dir.join("closed-tagged.json"), doc.to_string()).unwrap();
}

/// `labels.rs`: every valid, expressible label body decodes into the
/// construct's generated item (and params) types and re-decodes after encoding.
fn labels_module(gen: &str) -> String {
    let path = workspace().join("corpus/constructs/labels.json");
    let labels: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = String::from(
        "//! Generated from labels.json.\n#[allow(unused_mut)]\npub fn check() {\n    let mut checked = 0usize;\n    let mut refused: Vec<String> = Vec::new();\n",
    );
    for l in &labels {
        if l["valid"] != true || l["expressible"] != true {
            continue;
        }
        let slug = l["construct"].as_str().unwrap();
        let case = l["case"].as_str().unwrap();
        let module = slug.replace('-', "_");
        let handle = type_name(&pascal_ident(slug));
        let item = format!("crate::gen::{module}::{handle}PredictItem");
        let params_name = format!("{handle}PredictParams");
        let params = if gen.contains(&format!(" {params_name} ")) {
            format!("crate::gen::{module}::{params_name}")
        } else {
            "serde_json::Value".to_string()
        };
        let body = serde_json::to_string(&l["body"]).unwrap();
        write!(
            out,
            r####"    {{
        #[derive(serde::Deserialize, serde::Serialize)]
        #[serde(deny_unknown_fields)]
        struct Req {{ items: Vec<{item}>, #[serde(default, skip_serializing_if = "Option::is_none")] params: Option<{params}> }}
        match serde_json::from_str::<Req>(r###"{body}"###) {{
            Ok(r) => {{
                let back = serde_json::to_value(&r).unwrap();
                serde_json::from_value::<Req>(back).expect("{slug}/{case}: re-decode");
                checked += 1;
            }}
            Err(e) => refused.push(format!("{slug}/{case}: {{e}}")),
        }}
    }}
"####
        )
        .unwrap();
    }
    // Integers are i64: values beyond its range (Python ints are unbounded) are refused.
    out.push_str(
        r#"    refused.retain(|r| !(r.starts_with("int-constraints/big-") && r.contains("expected i64")));
    assert!(refused.is_empty(), "valid bodies the types refuse:\n{}", refused.join("\n"));
    println!("{checked} valid label bodies decode");
}
"#,
    );
    out
}

#[test]
fn generated_types_behave_as_pydantic_says() {
    let corpus = biolm_catalog::load_dir(&workspace().join("corpus/constructs/schemas")).unwrap();
    let extra = tempfile::tempdir().unwrap();
    closed_tagged_family(extra.path());
    let extra_set = biolm_catalog::load_dir(extra.path()).unwrap();
    let mut tokens = types_only(&corpus);
    tokens.extend(types_only(&extra_set));
    let gen = biolm_codegen::emit::format_file(tokens).unwrap();

    let krate = Path::new(env!("CARGO_TARGET_TMPDIR")).join("construct-roundtrip");
    let src = krate.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let manifest = r#"[package]
name = "construct-roundtrip"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
serde = { version = "1", features = ["derive"] }
serde_json = { version = "1", features = ["raw_value", "preserve_order"] }

[workspace]
"#;
    let write = |path: PathBuf, text: &str| {
        // Unchanged files keep their mtime, so reruns build incrementally.
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
            std::fs::write(&path, text).unwrap();
        }
    };
    write(krate.join("Cargo.toml"), manifest);
    if !krate.join("Cargo.lock").exists() {
        std::fs::copy(workspace().join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    }
    write(
        src.join("de.rs"),
        &std::fs::read_to_string(workspace().join("src/de.rs")).unwrap(),
    );
    write(src.join("gen.rs"), &format!("#![allow(dead_code)]\n{gen}"));
    write(src.join("labels.rs"), &labels_module(&gen));
    write(
        src.join("main.rs"),
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/roundtrip/scratch_main.rs"),
        )
        .unwrap(),
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["run", "--offline", "--quiet", "--manifest-path"])
        .arg(krate.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", krate.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "scratch crate failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all round trips ok"), "{stdout}");
    assert!(
        !stderr.contains("warning"),
        "generated code has warnings:\n{stderr}"
    );
}
