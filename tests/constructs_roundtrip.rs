//! Every construct of the pydantic corpus (`corpus/constructs/`) through the typed SDK, as
//! a user would meet it: the corpus is generated into a crate of its own
//! (`biolm-codegen generate --crate`), compiled, and a program written for it sends every
//! labelled request body through the generated types to the sandbox serving the same
//! schemas over loopback.
//!
//! For each body pydantic accepts (and the schema can express), the program checks that
//! the items and params decode into the generated types, serialize back to the same JSON,
//! pass the client-side validator, and come back from the sandbox as typed results. For
//! each body pydantic refuses, it checks that the SDK refuses it before sending: the typed
//! item cannot hold it, or the validator names the problem. Wrapper-level cases (batch
//! sizes, a missing `items` list) are about request bodies, not items, and are left to
//! the validator's own corpus test in `catalog/tests/constructs.rs`.
//!
//! The generated crate is written to `target/constructs-crate` and compiled in
//! `target/generated-crates` (kept between runs, shared with `tests/new_family.rs`).

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use biolm_codegen::emit::ty_tokens;
use biolm_codegen::methods::{accessor_names, plan_family};
use biolm_codegen::scaffold::{write_crate, CrateSpec, Source};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The corpus directory (`BIOLM_CONSTRUCTS_DIR` points elsewhere, e.g. at a subset).
fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("BIOLM_CONSTRUCTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("corpus/constructs"));
    if dir.join("labels.json").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "corpus/constructs/labels.json is missing (CI must have it)"
    );
    eprintln!("skipping: corpus/constructs is absent");
    None
}

/// The part of the program for one construct: a module with a `run` function.
fn construct_module(
    index: usize,
    slug: &str,
    module: &str,
    accessor: &str,
    plan: &biolm_codegen::methods::ActionPlan,
) -> String {
    let item = ty_tokens(&plan.item).to_string();
    let params_ty = plan
        .params
        .as_ref()
        .map(|p| ty_tokens(p).to_string())
        .unwrap_or_else(|| "biolm::NoParams".to_string());
    let call = if plan.params_required {
        "let params = match params { Some(p) => p, None => return Err(\"params are required and the body has none\".to_string()) };\n\
         client.ACCESSOR().predict(items, params)"
            .replace("ACCESSOR", accessor)
    } else {
        "let call = client.ACCESSOR().predict(items);\n\
         let call = match params { Some(p) => call.params(p), None => call };\n\
         call"
            .replace("ACCESSOR", accessor)
    };
    format!(
        r#"
#[allow(unused_imports, clippy::all)]
mod c{index} {{
    use my_models::{module}::*;
    use my_models::ClientExt;
    use serde_json::Value;

    pub const SLUG: &str = {slug:?};

    /// Decodes the body into the generated types and checks they serialize back to it.
    fn typed(body: &Value) -> Result<(Vec<{item}>, Option<{params_ty}>), String> {{
        let raw_items = body.get("items").cloned().unwrap_or(Value::Null);
        let items: Vec<{item}> = serde_json::from_value(raw_items.clone())
            .map_err(|e| format!("decode: items do not fit the generated type: {{e}}"))?;
        let back = serde_json::to_value(&items).map_err(|e| format!("serialize: {{e}}"))?;
        if !crate::same(&back, &raw_items) {{
            return Err(format!("round trip: items serialize as {{back}}, sent as {{raw_items}}"));
        }}
        let params = match body.get("params") {{
            None | Some(Value::Null) => None,
            Some(p) => {{
                let typed: {params_ty} = serde_json::from_value(p.clone())
                    .map_err(|e| format!("decode: params do not fit the generated type: {{e}}"))?;
                let back = serde_json::to_value(&typed).map_err(|e| format!("serialize: {{e}}"))?;
                if !crate::same(&back, p) {{
                    return Err(format!("round trip: params serialize as {{back}}, sent as {{p}}"));
                }}
                Some(typed)
            }}
        }};
        Ok((items, params))
    }}

    pub async fn run(client: &biolm::Client, body: &Value) -> crate::Verdict {{
        let (items, params) = match typed(body) {{
            Ok(t) => t,
            Err(e) => return crate::Verdict::NotTyped(e),
        }};
        let outcomes = match (async {{ {call}.await.map_err(|e| e.to_string()) }}).await {{
            Ok(o) => o,
            Err(e) => return crate::Verdict::CallRefused(e),
        }};
        crate::Verdict::from_outcomes(&outcomes)
    }}
}}
"#
    )
}

const PROGRAM_HEAD: &str = r#"
//! Written by tests/constructs_roundtrip.rs: every labelled corpus body through the typed API.
use serde_json::Value;

/// What became of one body.
pub enum Verdict {
    /// It did not fit the generated types (or did not serialize back to itself).
    NotTyped(String),
    /// The call failed as a whole before sending (invalid params).
    CallRefused(String),
    /// Outcomes: how many succeeded, how many failed client-side validation, and the
    /// other failures (the server's) with their messages.
    Sent { ok: usize, invalid: Vec<String>, other: Vec<String> },
}

impl Verdict {
    fn from_outcomes<R>(outcomes: &[biolm::Outcome<R>]) -> Verdict {
        let (mut ok, mut invalid, mut other) = (0, Vec::new(), Vec::new());
        for o in outcomes {
            match o {
                biolm::Outcome::Success(_) => ok += 1,
                biolm::Outcome::Failed(e) if e.kind == biolm::ItemErrorKind::Invalid => invalid.push(e.to_string()),
                biolm::Outcome::Failed(e) => other.push(e.to_string()),
                biolm::Outcome::NotAttempted => other.push("not attempted".to_string()),
            }
        }
        Verdict::Sent { ok, invalid, other }
    }
}

/// Whether `back` (what the typed value serializes as) says the same as `sent` (the body
/// as written): numbers compared by value (`1` and `1.0`), a `null` the same as an absent
/// key, and keys of `sent` that the type does not declare may be missing from `back`
/// (pydantic ignores them too, unless the model forbids extras; a declared key holding a
/// value is always written back, so a missing non-null key can only be an undeclared one).
pub fn same(back: &Value, sent: &Value) -> bool {
    match (back, sent) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Object(x), Value::Object(y)) => x.iter().all(|(k, v)| match y.get(k) {
            Some(w) => same(v, w),
            None => v.is_null(),
        }),
        _ => back == sent,
    }
}
"#;

const PROGRAM_MAIN: &str = r#"
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = std::env::var("SANDBOX_URL").expect("SANDBOX_URL");
    let labels: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(std::env::var("LABELS").expect("LABELS")).expect("labels file"),
    )
    .expect("labels JSON");
    let client = biolm::Client::builder().base_url(url).build().expect("client");
    for label in &labels {
        let construct = label["construct"].as_str().unwrap_or_default();
        let case = label["case"].as_str().unwrap_or_default();
        if case.starts_with("wrapper-") || label["expressible"] != Value::Bool(true) {
            continue;
        }
        let valid = label["valid"] == Value::Bool(true);
        let body = &label["body"];
        let verdict = dispatch(&client, construct, body).await;
        let Some(verdict) = verdict else {
            println!("{construct}\t{case}\tPROBLEM\tno generated module for this construct");
            continue;
        };
        let line = match (valid, verdict) {
            (true, Verdict::Sent { ok, invalid, other }) if invalid.is_empty() && other.is_empty() && ok > 0 => "OK".to_string(),
            (true, Verdict::Sent { invalid, other, .. }) => format!("PROBLEM\tpydantic accepts it, the SDK: invalid {invalid:?}, failed {other:?}"),
            (true, Verdict::NotTyped(e)) => format!("PROBLEM\tpydantic accepts it: {e}"),
            (true, Verdict::CallRefused(e)) => format!("PROBLEM\tpydantic accepts it, the call was refused: {e}"),
            (false, Verdict::NotTyped(e)) => format!("OK\trefused by the types: {e}"),
            (false, Verdict::CallRefused(e)) => format!("OK\trefused before sending: {e}"),
            (false, Verdict::Sent { invalid, other, .. }) if !invalid.is_empty() && other.is_empty() => format!("OK\trefused by the validator: {}", invalid[0]),
            (false, Verdict::Sent { invalid, other, .. }) => format!("PROBLEM\tpydantic refuses it, the SDK sent it: invalid {invalid:?}, server {other:?}"),
        };
        println!("{construct}\t{case}\t{}", line.replace('\n', " "));
    }
}
"#;

#[test]
fn every_corpus_construct_round_trips_through_the_typed_sdk() {
    let Some(corpus) = corpus() else { return };
    let schemas = corpus.join("schemas");
    let set = biolm_catalog::load_dir(&schemas).expect("corpus loads");
    let accessors = accessor_names(&set);

    let mut program = String::from(PROGRAM_HEAD);
    let mut dispatch = String::from(
        "async fn dispatch(client: &biolm::Client, construct: &str, body: &Value) -> Option<Verdict> {\n    match construct {\n",
    );
    let mut planned = 0;
    for (i, family) in set.families.iter().enumerate() {
        let (plan, _) = plan_family(family).expect("corpus family plans");
        let variant = &family.variants[0];
        let Some(action) = plan.handles.first().and_then(|h| h.actions.first()) else {
            continue;
        };
        program.push_str(&construct_module(
            i,
            &variant.slug,
            &plan.module,
            &accessors[&variant.slug],
            action,
        ));
        let _ = writeln!(
            dispatch,
            "        c{i}::SLUG if construct == {:?} => Some(c{i}::run(client, body).await),",
            family.name
        );
        planned += 1;
    }
    dispatch.push_str("        _ => None,\n    }\n}\n");
    program.push_str(&dispatch);
    program.push_str(PROGRAM_MAIN);
    assert_eq!(planned, set.families.len());

    // The crate, at a fixed place so that cargo rebuilds incrementally.
    let root = workspace().join("target/constructs-crate");
    let dir = root.join("my-models");
    let _ = std::fs::remove_dir_all(&dir);
    let spec = CrateSpec {
        name: "my-models".into(),
        source: Source::Path(workspace()),
    };
    write_crate(&schemas, &dir, &spec).expect("crate written");
    let manifest = dir.join("Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest).expect("manifest");
    text.push_str(
        "\n[dev-dependencies]\ntokio = { version = \"1\", features = [\"macros\", \"rt\"] }\n",
    );
    write(&manifest, &text);
    write(&dir.join("examples/roundtrip.rs"), &program);

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sandbox = rt.block_on(support::sandbox(biolm_sandbox::SandboxConfig::new(
        schemas.clone(),
    )));
    let out = Command::new(env!("CARGO"))
        .args([
            "run",
            "--quiet",
            "--offline",
            "--example",
            "roundtrip",
            "--manifest-path",
        ])
        .arg(&manifest)
        .env(
            "CARGO_TARGET_DIR",
            workspace().join("target/generated-crates"),
        )
        .env("SANDBOX_URL", sandbox.base_url())
        .env("LABELS", corpus.join("labels.json"))
        .env_remove("BIOLM_TOKEN")
        .env_remove("BIOLMAI_TOKEN")
        .output()
        .expect("cargo runs");
    sandbox.shutdown();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the corpus crate or its program failed ({}):\n{}\n{stdout}",
        out.status,
        tail(&String::from_utf8_lossy(&out.stderr), 80)
    );

    // construct -> (cases, problems)
    let mut table: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
    for line in stdout.lines() {
        let mut parts = line.splitn(4, '\t');
        let (Some(construct), Some(case), Some(status)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let entry = table.entry(construct.to_string()).or_default();
        entry.0 += 1;
        if status != "OK" {
            entry
                .1
                .push(format!("{case}: {}", parts.next().unwrap_or_default()));
        }
    }
    let expected: usize = labels_in_scope(&corpus);
    let seen: usize = table.values().map(|(n, _)| n).sum();
    let problems: Vec<String> = table
        .iter()
        .flat_map(|(c, (_, p))| p.iter().map(move |x| format!("{c}/{x}")))
        .collect();
    eprintln!("{:<32} {:>5} {:>8}", "construct", "cases", "problems");
    for (c, (n, p)) in &table {
        eprintln!("{c:<32} {n:>5} {:>8}", p.len());
    }
    eprintln!(
        "{} constructs, {seen} cases, {} problems",
        table.len(),
        problems.len()
    );
    assert_eq!(seen, expected, "every case in scope must be reported");
    assert_eq!(table.len(), set.families.len(), "every construct has cases");
    // Known gaps, each with its reason, are listed in a file: a new problem fails the
    // test, and so does a listed one that no longer happens (take it off the list).
    let known = known_problems();
    let found: BTreeMap<String, String> = problems
        .iter()
        .map(|p| {
            let key = p.split(": ").next().unwrap_or_default().to_string();
            (key, p.clone())
        })
        .collect();
    let new: Vec<&String> = found
        .iter()
        .filter(|(k, _)| !known.contains_key(*k))
        .map(|(_, v)| v)
        .collect();
    let fixed: Vec<&String> = known.keys().filter(|k| !found.contains_key(*k)).collect();
    eprintln!(
        "{} known gaps (tests/data/constructs_roundtrip_known.txt)",
        known.len()
    );
    assert!(
        new.is_empty() && fixed.is_empty(),
        "new problem(s):\n{}\n\nlisted as known but no longer happening (remove them from the list):\n{}",
        new.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"),
        fixed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"),
    );
}

/// `construct/case` -> reason, from `tests/data/constructs_roundtrip_known.txt`
/// (`construct/case  # reason` per line).
fn known_problems() -> BTreeMap<String, String> {
    let path = workspace().join("tests/data/constructs_roundtrip_known.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (key, reason) = l.split_once('#').unwrap_or((l, ""));
            (key.trim().to_string(), reason.trim().to_string())
        })
        .collect()
}

/// Expressible, non-wrapper cases: what the program reports on.
fn labels_in_scope(corpus: &Path) -> usize {
    let labels: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(corpus.join("labels.json")).expect("labels"))
            .expect("labels JSON");
    labels
        .iter()
        .filter(|l| {
            l["expressible"] == serde_json::Value::Bool(true)
                && !l["case"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("wrapper-")
        })
        .count()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("create dir");
    std::fs::write(path, text).expect("write");
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
