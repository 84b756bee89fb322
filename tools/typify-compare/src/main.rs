//! Runs typify 0.7 over every schema of the construct corpus and reports, per construct,
//! whether typify generates types ("ok" / "error: msg" / "panic: msg") and whether the
//! generated code compiles.
//!
//! Every schema is tried twice:
//!
//! * `raw`: the pydantic file as-is, parsed into schemars 0.8's `RootSchema` (a draft-07
//!   model; its `definitions` field takes `$defs` through a serde alias, and typify only
//!   looks at the last segment of a `$ref`, so refs resolve; but `prefixItems` is unknown
//!   and ends in the extensions, so a tuple becomes `[serde_json::Value; N]`);
//! * `converted`: after [`to_draft07`]: `$defs` moved to `definitions`, `$ref`s rewritten
//!   from `#/$defs/X` to `#/definitions/X`, and draft 2020-12 tuples (`prefixItems` +
//!   optional rest `items`) turned into the draft-07 form (`items: [..]` +
//!   `additionalItems`). Nothing else is changed.
//!
//! The generated code of each (schema, mode) goes into one module of a scratch crate
//! (`target/typify/scratch`, deps: serde, serde_json, regress, chrono, uuid) that is
//! checked with `cargo check`; modules with errors are dropped and the rest re-checked
//! until the crate is clean, so every module gets its own verdict.
//!
//! Usage: `typify-compare [--schemas DIR] [--scratch DIR] [--out FILE] [--no-compile]`

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use serde_json::{json, Map, Value};
use typify::{TypeSpace, TypeSpaceSettings};

const MODES: [&str; 2] = ["raw", "converted"];
const SIDES: [&str; 2] = ["request", "response"];

/// What happened to one (construct, side, mode).
#[derive(Debug, Clone, Default)]
struct Outcome {
    /// "ok", "error: ..." or "panic: ...".
    generate: String,
    /// Number of types typify produced (when generation succeeded).
    types: usize,
    /// Generated code (when generation succeeded).
    code: Option<String>,
    /// "ok", "error: ...", or None when not compiled.
    compile: Option<String>,
}

struct Args {
    schemas: PathBuf,
    scratch: PathBuf,
    out: PathBuf,
    compile: bool,
}

fn parse_args() -> Result<Args, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut args = Args {
        schemas: root.join("../../corpus/constructs/schemas"),
        scratch: root.join("../../target/typify/scratch"),
        out: root.join("results.json"),
        compile: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--schemas" => args.schemas = PathBuf::from(value("--schemas")?),
            "--scratch" => args.scratch = PathBuf::from(value("--scratch")?),
            "--out" => args.out = PathBuf::from(value("--out")?),
            "--no-compile" => args.compile = false,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("typify-compare: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let index_path = args.schemas.join("index.json");
    let index: Value = read_json(&index_path)?;
    let records = index
        .as_array()
        .ok_or_else(|| format!("{}: not a JSON array", index_path.display()))?;

    // Silence the default panic printer: panics are caught and reported per schema.
    panic::set_hook(Box::new(|_| {}));

    // outcomes[slug][side][mode]
    let mut outcomes: BTreeMap<String, BTreeMap<&str, BTreeMap<&str, Outcome>>> = BTreeMap::new();
    let mut order = Vec::new();
    for (i, rec) in records.iter().enumerate() {
        let slug = rec
            .get("slug")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{}: /{i}/slug missing", index_path.display()))?
            .to_string();
        order.push(slug.clone());
        for side in SIDES {
            let file = rec
                .pointer(&format!("/schema_files/predict/{side}"))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    format!(
                        "{}: /{i}/schema_files/predict/{side} missing",
                        index_path.display()
                    )
                })?;
            let schema = read_json(&args.schemas.join(file))?;
            for mode in MODES {
                let input = if mode == "raw" {
                    schema.clone()
                } else {
                    to_draft07(schema.clone())
                };
                let outcome = generate(input);
                outcomes
                    .entry(slug.clone())
                    .or_default()
                    .entry(side)
                    .or_default()
                    .insert(mode, outcome);
            }
        }
    }

    if args.compile {
        compile_all(&args.scratch, &mut outcomes)?;
    }
    restore_panic_hook();

    let summary = summarize(&order, &outcomes, args.compile);
    let text = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())? + "\n";
    fs::write(&args.out, text).map_err(|e| format!("{}: {e}", args.out.display()))?;
    print!("{}", markdown(&order, &outcomes, args.compile));
    Ok(())
}

fn restore_panic_hook() {
    let _ = panic::take_hook();
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Converts a pydantic (draft 2020-12) schema into the draft-07 shape schemars 0.8 and
/// typify 0.7 understand. See the crate docs for the exact list.
fn to_draft07(mut schema: Value) -> Value {
    if let Value::Object(root) = &mut schema {
        if let Some(defs) = root.remove("$defs") {
            root.insert("definitions".into(), defs);
        }
    }
    rewrite(&mut schema);
    schema
}

fn rewrite(node: &mut Value) {
    match node {
        Value::Object(map) => {
            rewrite_object(map);
            for (key, child) in map.iter_mut() {
                // Data, not schemas.
                if matches!(key.as_str(), "default" | "examples" | "const" | "enum") {
                    continue;
                }
                rewrite(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite),
        _ => {}
    }
}

fn rewrite_object(map: &mut Map<String, Value>) {
    if let Some(Value::String(r)) = map.get_mut("$ref") {
        if let Some(name) = r.strip_prefix("#/$defs/") {
            *r = format!("#/definitions/{name}");
        }
    }
    if let Some(prefix) = map.remove("prefixItems") {
        if let Some(rest) = map.remove("items") {
            map.insert("additionalItems".into(), rest);
        }
        map.insert("items".into(), prefix);
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 300 {
        flat.chars().take(300).collect::<String>() + "..."
    } else {
        flat
    }
}

fn generate(schema: Value) -> Outcome {
    let root: schemars::schema::RootSchema = match serde_json::from_value(schema) {
        Ok(r) => r,
        Err(e) => {
            return Outcome {
                generate: format!("error: not a schemars RootSchema: {e}"),
                ..Outcome::default()
            }
        }
    };
    let mut settings = TypeSpaceSettings::default();
    settings.with_struct_builder(false);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut space = TypeSpace::new(&settings);
        space.add_root_schema(root).map_err(|e| e.to_string())?;
        let types = space.iter_types().count();
        let tokens = space.to_stream();
        let file: syn::File =
            syn::parse2(tokens).map_err(|e| format!("typify output does not parse: {e}"))?;
        Ok::<_, String>((types, prettyplease::unparse(&file)))
    }));
    match result {
        Ok(Ok((types, code))) => Outcome {
            generate: "ok".into(),
            types,
            code: Some(code),
            compile: None,
        },
        Ok(Err(e)) => Outcome {
            generate: format!("error: {}", one_line(&e)),
            ..Outcome::default()
        },
        Err(payload) => Outcome {
            generate: format!("panic: {}", one_line(&panic_message(payload))),
            ..Outcome::default()
        },
    }
}

fn module_name(slug: &str, side: &str, mode: &str) -> String {
    format!("{}_{}_{}", mode, slug.replace('-', "_"), side)
}

const SCRATCH_MANIFEST: &str = r#"[package]
name = "typify-scratch"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[lib]
path = "src/lib.rs"

[dependencies]
serde = { version = "1", features = ["derive"] }
serde_json = "1"
regress = "0.11"
chrono = { version = "0.4", default-features = false, features = ["serde", "std"] }
uuid = { version = "1", features = ["serde"] }
"#;

/// Writes every generated module into the scratch crate and `cargo check`s it until the
/// remaining modules compile; records each module's verdict in `outcomes`.
fn compile_all(
    scratch: &Path,
    outcomes: &mut BTreeMap<String, BTreeMap<&str, BTreeMap<&str, Outcome>>>,
) -> Result<(), String> {
    let src = scratch.join("src");
    if src.exists() {
        fs::remove_dir_all(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    }
    fs::create_dir_all(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    fs::write(scratch.join("Cargo.toml"), SCRATCH_MANIFEST)
        .map_err(|e| format!("{}: {e}", scratch.display()))?;

    let mut pending: BTreeMap<String, (String, &'static str, &'static str)> = BTreeMap::new();
    for (slug, sides) in outcomes.iter() {
        for (side, modes) in sides {
            for (mode, outcome) in modes {
                if let Some(code) = &outcome.code {
                    let module = module_name(slug, side, mode);
                    let path = src.join(format!("{module}.rs"));
                    fs::write(&path, code).map_err(|e| format!("{}: {e}", path.display()))?;
                    let side: &'static str = if *side == "request" {
                        "request"
                    } else {
                        "response"
                    };
                    let mode: &'static str = if *mode == "raw" { "raw" } else { "converted" };
                    pending.insert(module, (slug.clone(), side, mode));
                }
            }
        }
    }
    let target_dir = scratch
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| scratch.join("target"));
    let mut failed: BTreeMap<String, String> = BTreeMap::new();
    for round in 1..=8 {
        let live: Vec<&String> = pending
            .keys()
            .filter(|m| !failed.contains_key(*m))
            .collect();
        let mut lib = String::from("#![allow(warnings, clippy::all)]\n");
        for m in &live {
            let _ = writeln!(lib, "pub mod {m};");
        }
        fs::write(src.join("lib.rs"), lib).map_err(|e| format!("{}: {e}", src.display()))?;
        eprintln!(
            "typify-compare: cargo check round {round}: {} modules",
            live.len()
        );
        let output = Command::new("cargo")
            .args(["check", "--quiet", "--message-format=json"])
            .current_dir(scratch)
            .env("CARGO_TARGET_DIR", &target_dir)
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        let errors = compiler_errors(&String::from_utf8_lossy(&output.stdout));
        if output.status.success() {
            break;
        }
        let mut new_failures = 0;
        let mut unattributed = Vec::new();
        for (file, message) in errors {
            let module = Path::new(&file)
                .file_stem()
                .and_then(|s| s.to_str())
                .map(str::to_string);
            match module {
                Some(m) if pending.contains_key(&m) => {
                    failed.entry(m).or_insert_with(|| {
                        new_failures += 1;
                        message
                    });
                }
                _ => unattributed.push(format!("{file}: {message}")),
            }
        }
        if new_failures == 0 {
            return Err(format!(
                "cargo check of {} failed without a per-module error: {}\n{}",
                scratch.display(),
                unattributed.join("; "),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    for (module, (slug, side, mode)) in pending {
        if let Some(o) = outcomes
            .get_mut(&slug)
            .and_then(|s| s.get_mut(side))
            .and_then(|m| m.get_mut(mode))
        {
            o.compile = Some(match failed.get(&module) {
                Some(msg) => format!("error: {msg}"),
                None => "ok".into(),
            });
        }
    }
    Ok(())
}

/// (file, "first line of the message") of every error rustc reported.
fn compiler_errors(stdout: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in stdout.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if v.get("reason").and_then(Value::as_str) != Some("compiler-message") {
            continue;
        }
        let Some(msg) = v.get("message") else {
            continue;
        };
        if msg.get("level").and_then(Value::as_str) != Some("error") {
            continue;
        }
        let text = msg
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let spans = msg.get("spans").and_then(Value::as_array);
        let primary = spans.and_then(|s| {
            s.iter()
                .find(|sp| sp.get("is_primary").and_then(Value::as_bool) == Some(true))
        });
        let file = primary
            .and_then(|sp| sp.get("file_name"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let line_no = primary
            .and_then(|sp| sp.get("line_start"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if file.is_empty() {
            continue; // "aborting due to N previous errors" and the like
        }
        out.push((
            file.to_string(),
            format!("{} (line {line_no})", one_line(text)),
        ));
    }
    out
}

fn summarize(
    order: &[String],
    outcomes: &BTreeMap<String, BTreeMap<&str, BTreeMap<&str, Outcome>>>,
    compiled: bool,
) -> Value {
    let mut constructs = Vec::new();
    let mut totals: BTreeMap<String, usize> = BTreeMap::new();
    for slug in order {
        let mut entry = Map::new();
        entry.insert("construct".into(), json!(slug));
        for side in SIDES {
            let mut side_obj = Map::new();
            for mode in MODES {
                let Some(o) = outcomes
                    .get(slug)
                    .and_then(|s| s.get(side))
                    .and_then(|m| m.get(mode))
                else {
                    continue;
                };
                let kind = o.generate.split(':').next().unwrap_or_default().to_string();
                *totals
                    .entry(format!("{side}.{mode}.generate.{kind}"))
                    .or_default() += 1;
                if let Some(c) = &o.compile {
                    let ck = c.split(':').next().unwrap_or_default().to_string();
                    *totals
                        .entry(format!("{side}.{mode}.compile.{ck}"))
                        .or_default() += 1;
                }
                side_obj.insert(
                    mode.into(),
                    json!({
                        "generate": o.generate,
                        "types": o.types,
                        "compile": o.compile,
                    }),
                );
            }
            entry.insert(side.into(), Value::Object(side_obj));
        }
        constructs.push(Value::Object(entry));
    }
    json!({
        "typify": "0.7.0",
        "compiled": compiled,
        "conversion": "converted = $defs -> definitions, #/$defs/X -> #/definitions/X, prefixItems (+ rest items) -> items array (+ additionalItems)",
        "totals": totals,
        "constructs": constructs,
    })
}

fn short(s: &str) -> String {
    let s = one_line(s).replace('|', "\\|");
    if s.chars().count() > 90 {
        s.chars().take(90).collect::<String>() + "..."
    } else {
        s
    }
}

fn markdown(
    order: &[String],
    outcomes: &BTreeMap<String, BTreeMap<&str, BTreeMap<&str, Outcome>>>,
    compiled: bool,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| construct | request raw | request converted | request compiles | response converted | response compiles |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    let cell = |slug: &str, side: &str, mode: &str, what: &str| -> String {
        let Some(o) = outcomes
            .get(slug)
            .and_then(|s| s.get(side))
            .and_then(|m| m.get(mode))
        else {
            return String::new();
        };
        match what {
            "generate" => short(&o.generate),
            _ if !compiled => "not run".into(),
            _ => o
                .compile
                .as_deref()
                .map(short)
                .unwrap_or_else(|| "-".into()),
        }
    };
    for slug in order {
        let _ = writeln!(
            out,
            "| `{slug}` | {} | {} | {} | {} | {} |",
            cell(slug, "request", "raw", "generate"),
            cell(slug, "request", "converted", "generate"),
            cell(slug, "request", "converted", "compile"),
            cell(slug, "response", "converted", "generate"),
            cell(slug, "response", "converted", "compile"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_defs_refs_and_tuples() {
        let v = json!({
            "$defs": {"A": {"type": "object", "properties": {
                "t": {"type": "array", "prefixItems": [{"type": "integer"}], "items": {"type": "string"}},
                "r": {"$ref": "#/$defs/A", "default": {"$ref": "#/$defs/keep"}}
            }}},
            "$ref": "#/$defs/A"
        });
        let c = to_draft07(v);
        assert!(c.get("$defs").is_none());
        assert_eq!(c["$ref"], "#/definitions/A");
        let t = &c["definitions"]["A"]["properties"]["t"];
        assert_eq!(t["items"], json!([{"type": "integer"}]));
        assert_eq!(t["additionalItems"], json!({"type": "string"}));
        let r = &c["definitions"]["A"]["properties"]["r"];
        assert_eq!(r["$ref"], "#/definitions/A");
        assert_eq!(r["default"]["$ref"], "#/$defs/keep", "data is left alone");
    }

    #[test]
    fn generate_reports_errors_and_successes() {
        let ok = generate(
            json!({"title": "T", "type": "object", "properties": {"a": {"type": "integer"}}}),
        );
        assert_eq!(ok.generate, "ok");
        assert!(ok
            .code
            .as_deref()
            .is_some_and(|c| c.contains("pub struct T")));
        let bad = generate(json!({"title": "T", "type": 5}));
        assert!(bad.generate.starts_with("error: "), "{}", bad.generate);
    }
}
