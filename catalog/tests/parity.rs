//! schemas/ against the reference corpus: same structure everywhere (ignoring
//! `title`, `description` and `x-biolm-*` keys), same overrides, and none of our
//! descriptions equal to the reference's text for the same node.

use std::path::{Path, PathBuf};

use biolm_catalog::{load_project_dir, load_reference_dir, SchemaSet};
use serde_json::Value;

fn project_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("schemas")
}

/// The reference corpus, or `None` (with a printed skip) when it is not on this machine.
/// With `CI=true` a missing corpus is a failure, not a skip.
fn reference_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("BIOLM_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/biolm-hub")
        });
    if dir.join("index.json").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "reference corpus not found at {} (set BIOLM_REFERENCE_DIR); required when CI=true",
            dir.display()
        );
    }
    eprintln!(
        "SKIP: reference corpus not found at {} (set BIOLM_REFERENCE_DIR)",
        dir.display()
    );
    None
}

fn load_both() -> Option<(SchemaSet, SchemaSet)> {
    let reference = reference_dir()?;
    let ours = load_project_dir(&project_dir()).unwrap_or_else(|e| panic!("{e}"));
    let theirs = load_reference_dir(&reference).unwrap_or_else(|e| panic!("{e}"));
    Some((ours, theirs))
}

/// Where a key's children are: schema keywords, names (property or definition names),
/// or plain data (enum values, defaults), where no key is ignored.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Schema,
    Names,
    Data,
}

fn ignored(key: &str) -> bool {
    key == "title" || key == "description" || key.starts_with("x-biolm-")
}

fn child_ctx(key: &str) -> Ctx {
    match key {
        "properties" | "patternProperties" | "$defs" => Ctx::Names,
        "enum" | "default" | "const" | "examples" | "required" => Ctx::Data,
        _ => Ctx::Schema,
    }
}

fn diff(ours: &Value, theirs: &Value, ctx: Ctx, at: &str, out: &mut Vec<String>) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let keep = |k: &String| ctx != Ctx::Schema || !ignored(k);
            let ka: Vec<&String> = a.keys().filter(|k| keep(k)).collect();
            let kb: Vec<&String> = b.keys().filter(|k| keep(k)).collect();
            for k in &ka {
                if !b.contains_key(*k) {
                    out.push(format!("{at}/{k}: only in schemas/"));
                }
            }
            for k in &kb {
                if !a.contains_key(*k) {
                    out.push(format!("{at}/{k}: missing from schemas/"));
                }
            }
            for k in ka {
                if let Some(w) = b.get(k) {
                    let next = match ctx {
                        Ctx::Schema => child_ctx(k),
                        Ctx::Names => Ctx::Schema,
                        Ctx::Data => Ctx::Data,
                    };
                    diff(&a[k], w, next, &format!("{at}/{k}"), out);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                out.push(format!(
                    "{at}: {} entries in schemas/, {} in the reference",
                    a.len(),
                    b.len()
                ));
                return;
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(x, y, ctx, &format!("{at}/{i}"), out);
            }
        }
        (a, b) => {
            if a != b {
                out.push(format!("{at}: schemas/ has {a}, the reference has {b}"));
            }
        }
    }
}

/// Paths where both documents have the same `description` text on the same node.
fn copied_descriptions(ours: &Value, theirs: &Value, ctx: Ctx, at: &str, out: &mut Vec<String>) {
    if let (Value::Object(a), Value::Object(b)) = (ours, theirs) {
        if ctx == Ctx::Schema {
            if let (Some(Value::String(x)), Some(Value::String(y))) =
                (a.get("description"), b.get("description"))
            {
                if x == y {
                    out.push(format!("{at}/description: {x:?}"));
                }
            }
        }
        for (k, v) in a {
            if let Some(w) = b.get(k) {
                let next = match ctx {
                    Ctx::Schema => child_ctx(k),
                    Ctx::Names => Ctx::Schema,
                    Ctx::Data => Ctx::Data,
                };
                copied_descriptions(v, w, next, &format!("{at}/{k}"), out);
            }
        }
    } else if let (Value::Array(a), Value::Array(b)) = (ours, theirs) {
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            copied_descriptions(x, y, ctx, &format!("{at}/{i}"), out);
        }
    }
}

#[test]
fn schemas_match_the_reference_structurally() {
    let Some((ours, theirs)) = load_both() else {
        return;
    };
    let mut problems = Vec::new();
    let our_names: Vec<&str> = ours.families.iter().map(|f| f.name.as_str()).collect();
    let their_names: Vec<&str> = theirs.families.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(our_names, their_names, "family lists differ");
    assert_eq!(ours.families.len(), 37);
    assert_eq!(ours.pair_count(), 120);
    assert_eq!(theirs.pair_count(), 120);
    let mut compared = 0;
    for tf in &theirs.families {
        let Some(of) = ours.family(&tf.name) else {
            continue;
        };
        let mut os: Vec<&str> = of.variants.iter().map(|v| v.slug.as_str()).collect();
        let mut ts: Vec<&str> = tf.variants.iter().map(|v| v.slug.as_str()).collect();
        os.sort_unstable();
        ts.sort_unstable();
        if os != ts {
            problems.push(format!(
                "{}: variants {os:?} in schemas/, {ts:?} in the reference",
                tf.name
            ));
        }
        if of.actions.len() != tf.actions.len() {
            problems.push(format!(
                "{}: {} actions in schemas/, {} in the reference",
                tf.name,
                of.actions.len(),
                tf.actions.len()
            ));
        }
        for ta in &tf.actions {
            let Some(oa) = of
                .actions
                .iter()
                .find(|a| a.gateway_name == ta.gateway_name)
            else {
                problems.push(format!(
                    "{}: no action with gateway name `{}`",
                    tf.name, ta.gateway_name
                ));
                continue;
            };
            let here = format!("{}/{}", tf.name, ta.gateway_name);
            diff(
                &oa.request,
                &ta.request,
                Ctx::Schema,
                &format!("{here} request: "),
                &mut problems,
            );
            diff(
                &oa.response,
                &ta.response,
                Ctx::Schema,
                &format!("{here} response: "),
                &mut problems,
            );
            // Every (variant, action) pair's effective request matches too.
            for tv in &tf.variants {
                let Some(ov) = of.variants.iter().find(|v| v.slug == tv.slug) else {
                    continue;
                };
                compared += 1;
                let to = tv.overrides.get(&ta.gateway_name);
                let oo = ov.overrides.get(&oa.name);
                match (oo, to) {
                    (None, None) => {}
                    (Some(o), Some(t)) => {
                        let at = format!("{} {} override", tv.slug, ta.gateway_name);
                        match (&o.request, &t.request) {
                            (Some(x), Some(y)) => {
                                diff(x, y, Ctx::Schema, &format!("{at} request: "), &mut problems)
                            }
                            (None, None) => {}
                            _ => problems
                                .push(format!("{at}: request override present on one side only")),
                        }
                        match (&o.params, &t.params) {
                            (Some(x), Some(y)) => {
                                diff(x, y, Ctx::Schema, &format!("{at} params: "), &mut problems)
                            }
                            (None, None) => {}
                            _ => problems
                                .push(format!("{at}: params override present on one side only")),
                        }
                        if o.params_name != t.params_name {
                            problems.push(format!(
                                "{at}: params_name {:?} vs {:?}",
                                o.params_name, t.params_name
                            ));
                        }
                    }
                    (Some(_), None) => problems.push(format!(
                        "{} {}: override only in schemas/",
                        tv.slug, ta.gateway_name
                    )),
                    (None, Some(_)) => problems.push(format!(
                        "{} {}: override missing from schemas/",
                        tv.slug, ta.gateway_name
                    )),
                }
            }
        }
    }
    assert_eq!(compared, 120, "every (variant, action) pair is compared");
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn descriptions_are_our_own() {
    let Some((ours, theirs)) = load_both() else {
        return;
    };
    let mut copied = Vec::new();
    let mut described = 0usize;
    for tf in &theirs.families {
        let of = ours.family(&tf.name).expect("family present");
        assert!(
            of.description.as_deref().is_some_and(|d| !d.is_empty()),
            "{}: no family description",
            of.name
        );
        for ta in &tf.actions {
            let oa = of
                .actions
                .iter()
                .find(|a| a.gateway_name == ta.gateway_name)
                .expect("action present");
            let here = format!("{}/{}", tf.name, ta.gateway_name);
            copied_descriptions(
                &oa.request,
                &ta.request,
                Ctx::Schema,
                &format!("{here} request: "),
                &mut copied,
            );
            copied_descriptions(
                &oa.response,
                &ta.response,
                Ctx::Schema,
                &format!("{here} response: "),
                &mut copied,
            );
            described += oa.request.to_string().matches("\"description\"").count();
        }
        for tv in &tf.variants {
            let ov = of
                .variants
                .iter()
                .find(|v| v.slug == tv.slug)
                .expect("variant present");
            for (action, t) in &tv.overrides {
                let name = of
                    .action(action)
                    .map(|a| a.name.clone())
                    .unwrap_or_else(|| action.clone());
                let Some(o) = ov.overrides.get(&name) else {
                    continue;
                };
                if let (Some(x), Some(y)) = (&o.request, &t.request) {
                    copied_descriptions(
                        x,
                        y,
                        Ctx::Schema,
                        &format!("{} override request: ", tv.slug),
                        &mut copied,
                    );
                }
                if let (Some(x), Some(y)) = (&o.params, &t.params) {
                    copied_descriptions(
                        x,
                        y,
                        Ctx::Schema,
                        &format!("{} override params: ", tv.slug),
                        &mut copied,
                    );
                }
            }
        }
    }
    assert!(
        described > 500,
        "schemas/ should carry descriptions ({described} found)"
    );
    assert!(
        copied.is_empty(),
        "{} descriptions equal the reference's text:\n{}",
        copied.len(),
        copied.join("\n")
    );
}

#[test]
fn the_diff_reports_a_changed_limit_with_its_path() {
    // The comparison itself must be able to fail: a changed limit and an added key.
    let ours = serde_json::json!({"properties": {"title": {"type": "string", "maxLength": 10, "title": "T"}}});
    let theirs = serde_json::json!({"properties": {"title": {"type": "string", "maxLength": 12, "title": "X", "description": "d"}}});
    let mut out = Vec::new();
    diff(&ours, &theirs, Ctx::Schema, "", &mut out);
    assert_eq!(
        out,
        vec!["/properties/title/maxLength: schemas/ has 10, the reference has 12".to_string()]
    );
    // A field *named* `title` is not ignored.
    let ours = serde_json::json!({"properties": {}});
    let mut out = Vec::new();
    diff(&ours, &theirs, Ctx::Schema, "", &mut out);
    assert_eq!(
        out,
        vec!["/properties/title: missing from schemas/".to_string()]
    );
}

/// The committed schemas/ are exactly what tools/import_reference.py writes today
/// (so nobody hand-edits them and the importer is not stale). Needs python3; skips
/// without it or without the reference (fails without the reference when CI=true).
#[test]
fn importer_output_is_committed() {
    let Some(reference) = reference_dir() else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = tempfile::tempdir().unwrap();
    let run = std::process::Command::new("python3")
        .arg(root.join("tools/import_reference.py"))
        .arg(&reference)
        .arg(out.path())
        .output();
    let run = match run {
        Ok(r) => r,
        Err(e) => {
            eprintln!("SKIP: cannot run python3 ({e})");
            return;
        }
    };
    assert!(
        run.status.success(),
        "importer failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut stale = Vec::new();
    let mut count = 0;
    for entry in std::fs::read_dir(out.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_owned();
        let fresh = std::fs::read_to_string(&path).unwrap();
        let committed =
            std::fs::read_to_string(root.join("schemas").join(&name)).unwrap_or_default();
        count += 1;
        if fresh != committed {
            stale.push(name.to_string_lossy().into_owned());
        }
    }
    assert_eq!(count, 37);
    assert!(stale.is_empty(), "schemas/ differs from the importer's output for {stale:?}: run python3 tools/import_reference.py");
}
