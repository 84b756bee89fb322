//! Agreement with the BioLM server on the server-labelled corpus (`corpus/server/`): every
//! body of `bodies.jsonl` is checked with `Validator::check_body` against the project's
//! schema for its (variant, action) and the verdict is compared with the server's label in
//! `labels.jsonl` (the gateway's validators, then the model container's second check where
//! there is one; see `corpus/server/README.md`).
//!
//! Asserted:
//! - agreement is at least `agreement_floor` of `corpus/server/expected.json`;
//! - the bodies where the verdicts differ are exactly those listed in
//!   `corpus/server/known_disagreements.txt` (no regressions, no stale entries;
//!   `UPDATE_KNOWN=1` rewrites the file, keeping the reasons of entries that remain);
//! - bodies the server accepts that use only canonical field names and that the validator
//!   refuses are either in a `# deliberate:` group of that file, or at most
//!   `canonical_refusals_max` of `expected.json` (a ceiling to lower to 0);
//! - every `hidden_validation` entry of the reference index has an accepted and a refused
//!   body (or is listed in `corpus/server/server_only.txt`), when the reference corpus is
//!   on this machine (`BIOLM_REFERENCE_DIR`, or `../shared/reference/biolm-hub`);
//! - every pair has at least 20 bodies and every category is documented;
//! - the library's item-by-item checks give `check_body`'s verdict.
//!
//! The per-category table is printed (`--nocapture`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use biolm_catalog::validate::Validator;
use biolm_catalog::{load_project_dir, SchemaSet};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn corpus_dir() -> PathBuf {
    root().join("corpus/server")
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1))
        })
        .collect()
}

fn str_field<'a>(v: &'a Value, key: &str, what: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no string `{key}`"))
}

/// One labelled body with both verdicts.
struct Case {
    id: String,
    slug: String,
    action: String,
    category: String,
    canonical: bool,
    deliberate: Option<String>,
    rules: Vec<String>,
    body: Value,
    /// The server's end-to-end verdict.
    server: bool,
    /// The gateway's verdict (differs from `server` where a model container refuses).
    gateway: bool,
    client: bool,
    first_problem: String,
}

/// The request validator of every (slug, gateway action) pair of the project's schemas.
fn validators(set: &SchemaSet) -> BTreeMap<(String, String), Validator> {
    let mut out = BTreeMap::new();
    for family in &set.families {
        for variant in &family.variants {
            for action in &family.actions {
                let schema = variant.effective_request(action);
                let v = Validator::for_request(&schema).unwrap_or_else(|e| {
                    panic!(
                        "{}/{}: schema does not compile: {e}",
                        variant.slug, action.name
                    )
                });
                out.insert((variant.slug.clone(), action.gateway_name.clone()), v);
            }
        }
    }
    out
}

fn load_cases() -> Vec<Case> {
    let dir = corpus_dir();
    let set = load_project_dir(&root().join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    let validators = validators(&set);
    let bodies = read_jsonl(&dir.join("bodies.jsonl"));
    let labels = read_jsonl(&dir.join("labels.jsonl"));
    assert_eq!(
        bodies.len(),
        labels.len(),
        "bodies.jsonl and labels.jsonl differ in length: run corpus/server/label.sh"
    );
    assert!(!bodies.is_empty(), "corpus/server/bodies.jsonl is empty");
    let mut seen = BTreeSet::new();
    let mut cases = Vec::with_capacity(bodies.len());
    for (b, l) in bodies.iter().zip(&labels) {
        let id = str_field(b, "id", "body").to_string();
        assert_eq!(
            l["id"].as_str(),
            Some(id.as_str()),
            "labels.jsonl is not in the order of bodies.jsonl: run corpus/server/label.sh"
        );
        assert!(seen.insert(id.clone()), "duplicate body id {id}");
        let slug = str_field(b, "slug", &id).to_string();
        let action = str_field(b, "action", &id).to_string();
        let validator = validators
            .get(&(slug.clone(), action.clone()))
            .unwrap_or_else(|| panic!("{id}: no schema for {slug}/{action} in schemas/"));
        let problems = validator.check_body(&b["body"]);
        let server = l["valid"]
            .as_bool()
            .unwrap_or_else(|| panic!("{id}: label has no boolean `valid`"));
        cases.push(Case {
            category: str_field(b, "category", &id).to_string(),
            canonical: b["canonical"].as_bool().unwrap_or(false),
            deliberate: b["deliberate"].as_str().map(str::to_string),
            rules: b["rules"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|r| r.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            body: b["body"].clone(),
            server,
            gateway: l["gateway_valid"].as_bool().unwrap_or(server),
            client: problems.is_empty(),
            first_problem: problems
                .first()
                .map(|p| format!("{}: {}", p.dotted_path(), p.message))
                .unwrap_or_default(),
            id,
            slug,
            action,
        });
    }
    cases
}

#[derive(Default)]
struct Row {
    bodies: usize,
    agree: usize,
    sent_refused: usize,
    refused_accepted: usize,
}

fn table(cases: &[Case]) -> (String, usize) {
    let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
    let mut total = Row::default();
    for c in cases {
        for row in [rows.entry(c.category.as_str()).or_default(), &mut total] {
            row.bodies += 1;
            match (c.client, c.server) {
                (a, b) if a == b => row.agree += 1,
                (true, false) => row.sent_refused += 1,
                _ => row.refused_accepted += 1,
            }
        }
    }
    let mut out = String::from(
        "| category | bodies | agree | sent, server refuses | refused, server accepts |\n|---|---:|---:|---:|---:|\n",
    );
    for (name, r) in rows.iter().chain(std::iter::once((&"**all**", &total))) {
        out.push_str(&format!(
            "| {name} | {} | {} ({:.1}%) | {} | {} |\n",
            r.bodies,
            r.agree,
            100.0 * r.agree as f64 / r.bodies.max(1) as f64,
            r.sent_refused,
            r.refused_accepted
        ));
    }
    (out, total.agree)
}

/// `known_disagreements.txt`: groups of ids under a `# <kind>: <reason>` line.
struct Known {
    /// id -> the group header it is listed under.
    ids: BTreeMap<String, String>,
}

fn read_known(path: &Path) -> Known {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut ids = BTreeMap::new();
    let mut header = String::from("# pending: (no reason given)");
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') {
            if line.starts_with("# deliberate:") || line.starts_with("# pending:") {
                header = line.to_string();
            }
            continue;
        }
        ids.insert(line.to_string(), header.clone());
    }
    Known { ids }
}

fn direction(c: &Case) -> &'static str {
    if c.client {
        "sent, server refuses"
    } else {
        "refused, server accepts"
    }
}

/// A first reason for a new group of the known list (edit it by hand; it is kept).
fn pending_reason(c: &Case) -> &'static str {
    if !c.client {
        return "the validator is stricter than the server here";
    }
    match c.category.as_str() {
        "alias" => "alias keys: values the server checks under the alias, or both keys at once",
        "alphabet" => "the server's residue alphabets, where the schemas state none or a wider one",
        "whitespace" => "whitespace the server's alphabet checks refuse",
        "length" => "length limits the server checks in validators",
        "mask" => "mask-token rules (count, token, every position masked)",
        "strict-type" => "the server's strict types (5.0 is not an integer, no coercion)",
        "params" => "params rules of the server's validators",
        "unknown-field" => "unknown fields that x-biolm-lenient lets through",
        "null-missing" => "missing or null fields the server's validators refuse",
        "batch-size" => "batch limits the server checks in a validator, not in maxItems",
        "cross-field" => "cross-field rules (exactly-one-of, requires, equal lengths, chains and positions in the structure)",
        "structure-text" => "PDB and mmCIF text checks",
        "chemistry-text" => "SMILES checks",
        "mutation" => "mutation strings (format, alphabet, position, wild type)",
        "format" => "named formats (EC numbers, ':' separators, res_index ranges, filters, enzymes, chains)",
        _ => "a server rule the schemas do not state",
    }
}

/// Rewrites the known list: entries that remain keep their group; new ones are grouped by
/// the body's `deliberate` reason, or by direction and category.
fn write_known(path: &Path, known: &Known, disagreeing: &[&Case]) {
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for c in disagreeing {
        let header = known
            .ids
            .get(&c.id)
            .cloned()
            .unwrap_or_else(|| match &c.deliberate {
                Some(reason) => format!("# deliberate: {reason}"),
                None => format!(
                    "# pending: {} ({}): {}",
                    direction(c),
                    c.category,
                    pending_reason(c)
                ),
            });
        groups.entry(header).or_default().push(&c.id);
    }
    let mut out = String::from(
        "# Bodies of corpus/server/ where the validator's verdict differs from the server's.\n\
         # Groups: `# deliberate: <reason>` (the project differs on purpose) or\n\
         # `# pending: <reason>` (to fix). Rewrite with:\n\
         #   UPDATE_KNOWN=1 cargo test -p biolm-catalog --test server_labels\n",
    );
    for (header, ids) in groups {
        out.push('\n');
        out.push_str(&header);
        out.push('\n');
        for id in ids {
            out.push_str(id);
            out.push('\n');
        }
    }
    std::fs::write(path, out).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn expected() -> Value {
    let path = corpus_dir().join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn validator_agrees_with_the_server_labels() {
    let cases = load_cases();
    let (text, agree) = table(&cases);
    let share = agree as f64 / cases.len() as f64;
    println!(
        "server labels: {agree} of {} bodies agree ({:.1}%)\n\n{text}",
        cases.len(),
        100.0 * share
    );

    let known_path = corpus_dir().join("known_disagreements.txt");
    let known = read_known(&known_path);
    let disagreeing: Vec<&Case> = cases.iter().filter(|c| c.client != c.server).collect();
    if std::env::var("UPDATE_KNOWN").is_ok_and(|v| v == "1") {
        write_known(&known_path, &known, &disagreeing);
        println!("rewrote {}", known_path.display());
    }
    let known = read_known(&known_path);

    let expected = expected();
    let floor = expected["agreement_floor"]
        .as_f64()
        .expect("expected.json: number `agreement_floor`");
    assert!(
        share >= floor,
        "agreement {:.4} is below the floor {floor} of corpus/server/expected.json",
        share
    );

    let now: BTreeSet<&str> = disagreeing.iter().map(|c| c.id.as_str()).collect();
    let listed: BTreeSet<&str> = known.ids.keys().map(String::as_str).collect();
    let new: Vec<String> = disagreeing
        .iter()
        .filter(|c| !listed.contains(c.id.as_str()))
        .map(|c| {
            format!(
                "  {} [{}] {}{}",
                c.id,
                c.category,
                direction(c),
                if c.client {
                    String::new()
                } else {
                    format!(": {}", c.first_problem)
                }
            )
        })
        .collect();
    let stale: Vec<&str> = listed.difference(&now).copied().collect();
    assert!(
        new.is_empty() && stale.is_empty(),
        "the disagreements differ from corpus/server/known_disagreements.txt \
         (UPDATE_KNOWN=1 rewrites it):\n{} new:\n{}\n{} stale (now agree, or gone):\n  {}",
        new.len(),
        new.join("\n"),
        stale.len(),
        stale.join("\n  ")
    );

    let undeliberate: Vec<String> = cases
        .iter()
        .filter(|c| c.canonical && c.server && !c.client)
        .filter(|c| {
            !known
                .ids
                .get(&c.id)
                .is_some_and(|h| h.starts_with("# deliberate:"))
        })
        .map(|c| format!("  {} [{}]: {}", c.id, c.category, c.first_problem))
        .collect();
    let ceiling = expected["canonical_refusals_max"]
        .as_u64()
        .expect("expected.json: integer `canonical_refusals_max`") as usize;
    println!(
        "refusals of canonical bodies the server accepts (not deliberate): {}",
        undeliberate.len()
    );
    assert!(
        undeliberate.len() <= ceiling,
        "{} refusals of canonical bodies the server accepts, more than {ceiling} \
         (corpus/server/expected.json):\n{}",
        undeliberate.len(),
        undeliberate.join("\n")
    );
}

/// The library's untyped path checks items and params one by one (`check_item`,
/// `check_params` with `{}` and `null` meaning "no params") and splits batches: its
/// verdict must match `check_body` on every body it can express, except batch sizes.
#[test]
fn library_checks_agree_with_check_body() {
    let set = load_project_dir(&root().join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    let validators = validators(&set);
    let mut differ = Vec::new();
    let mut compared = 0;
    for c in load_cases() {
        let Some(obj) = c.body.as_object() else {
            continue;
        };
        let Some(items) = obj.get("items").and_then(Value::as_array) else {
            continue;
        };
        if obj.keys().any(|k| k != "items" && k != "params") || c.category == "batch-size" {
            continue;
        }
        let v = &validators[&(c.slug.clone(), c.action.clone())];
        let params = obj.get("params").cloned().unwrap_or(Value::Null);
        let empty = params.is_null() || params.as_object().is_some_and(|m| m.is_empty());
        if params.is_null() && obj.contains_key("params") {
            // `"params": null` is not something the library sends; skip it.
            continue;
        }
        let mut ok = !(v.params_required() && params.is_null());
        ok &= v
            .check_params(if empty { &Value::Null } else { &params })
            .is_empty();
        ok &= items.iter().all(|it| {
            if empty {
                v.check_item(it).is_empty()
            } else {
                v.check_item_with_params(it, &params).is_empty()
            }
        });
        let in_limits = v.min_items().is_none_or(|m| items.len() >= m)
            && v.max_items().is_none_or(|m| items.len() <= m);
        if !in_limits {
            continue;
        }
        // What the library puts on the wire: `{}` params are left out unless required.
        let mut sent = serde_json::Map::new();
        if !empty || (v.params_required() && !params.is_null()) {
            sent.insert("params".to_string(), params.clone());
        }
        sent.insert("items".to_string(), Value::Array(items.clone()));
        let body_ok = v.check_body(&Value::Object(sent)).is_empty();
        compared += 1;
        if ok != body_ok {
            differ.push(format!(
                "  {} [{}]: items/params {}, check_body {}",
                c.id,
                c.category,
                if ok { "pass" } else { "fail" },
                if body_ok { "passes" } else { "fails" }
            ));
        }
    }
    println!(
        "library path vs check_body: {compared} bodies compared, {} differ",
        differ.len()
    );
    assert!(
        differ.is_empty(),
        "the library's item/params checks and check_body differ on {} bodies:\n{}",
        differ.len(),
        differ.join("\n")
    );
}

/// The reference index, or `None` (with a printed skip) when it is not on this machine.
/// With `CI=true` a missing index is a failure.
fn reference_index() -> Option<Vec<Value>> {
    let dir = std::env::var_os("BIOLM_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/reference/biolm-hub"));
    let path = dir.join("index.json");
    if !path.is_file() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "reference index not found at {} (set BIOLM_REFERENCE_DIR); required when CI=true",
                path.display()
            );
        }
        eprintln!(
            "SKIP: hidden_validation coverage: reference index not found at {} (set BIOLM_REFERENCE_DIR)",
            path.display()
        );
        return None;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// `server_only.txt`: `slug action | entry` lines (comments with `#`).
fn server_only() -> BTreeSet<(String, String, String)> {
    let path = corpus_dir().join("server_only.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (pair, entry) = line
            .split_once(" | ")
            .unwrap_or_else(|| panic!("{}:{}: want `slug action | entry`", path.display(), i + 1));
        let (slug, action) = pair
            .split_once(' ')
            .unwrap_or_else(|| panic!("{}:{}: want `slug action | entry`", path.display(), i + 1));
        out.insert((
            slug.trim().to_string(),
            action.trim().to_string(),
            entry.trim().to_string(),
        ));
    }
    out
}

#[test]
fn every_hidden_rule_has_an_accepted_and_a_refused_body() {
    let Some(index) = reference_index() else {
        return;
    };
    let cases = load_cases();
    // (slug, action, entry) -> (accepted, refused), by the gateway (the rules are its).
    let mut seen: BTreeMap<(String, String, String), (usize, usize)> = BTreeMap::new();
    for c in &cases {
        for r in &c.rules {
            let e = seen
                .entry((c.slug.clone(), c.action.clone(), r.clone()))
                .or_default();
            if c.gateway {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
    }
    let exempt = server_only();
    let mut missing = Vec::new();
    let mut all = BTreeSet::new();
    let mut total = 0;
    for rec in &index {
        let slug = rec["slug"].as_str().unwrap_or_default();
        let Some(hv) = rec["hidden_validation"].as_object() else {
            continue;
        };
        for (action, kinds) in hv {
            for entry in kinds["request"].as_array().into_iter().flatten() {
                let entry = entry.as_str().unwrap_or_default().to_string();
                let key = (slug.to_string(), action.clone(), entry.clone());
                total += 1;
                all.insert(key.clone());
                if exempt.contains(&key) {
                    continue;
                }
                let (acc, rej) = seen.get(&key).copied().unwrap_or_default();
                if acc == 0 || rej == 0 {
                    missing.push(format!(
                        "  {slug} {action} | {entry}  ({acc} accepted, {rej} refused)"
                    ));
                }
            }
        }
    }
    let unknown: Vec<String> = exempt
        .difference(&all)
        .map(|(s, a, e)| format!("  {s} {a} | {e}"))
        .collect();
    println!(
        "hidden_validation: {total} request entries, {} server-only, {} without both verdicts",
        exempt.len(),
        missing.len()
    );
    assert!(
        unknown.is_empty(),
        "corpus/server/server_only.txt lists entries that are not in the index:\n{}",
        unknown.join("\n")
    );
    assert!(
        missing.is_empty(),
        "hidden_validation entries without an accepted and a refused body \
         (add bodies in corpus/server/make_bodies.py or list them in server_only.txt):\n{}",
        missing.join("\n")
    );
}

/// Every pair of the project's schemas has at least 20 bodies, and every body's category
/// is one `corpus/server/README.md` documents.
#[test]
fn every_pair_has_bodies_and_every_category_is_documented() {
    let set = load_project_dir(&root().join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    let readme_path = corpus_dir().join("README.md");
    let readme = std::fs::read_to_string(&readme_path)
        .unwrap_or_else(|e| panic!("{}: {e}", readme_path.display()));
    let documented: BTreeSet<&str> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once("` |").map(|(name, _)| name))
        .collect();
    let mut per_pair: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut undocumented = BTreeSet::new();
    for b in read_jsonl(&corpus_dir().join("bodies.jsonl")) {
        let id = str_field(&b, "id", "body");
        let category = str_field(&b, "category", id);
        if !documented.contains(category) {
            undocumented.insert(category.to_string());
        }
        *per_pair
            .entry((
                str_field(&b, "slug", id).to_string(),
                str_field(&b, "action", id).to_string(),
            ))
            .or_default() += 1;
    }
    assert!(
        undocumented.is_empty(),
        "categories missing from corpus/server/README.md: {undocumented:?}"
    );
    let mut thin = Vec::new();
    for family in &set.families {
        for variant in &family.variants {
            for action in &family.actions {
                let key = (variant.slug.clone(), action.gateway_name.clone());
                let n = per_pair.get(&key).copied().unwrap_or(0);
                if n < 20 {
                    thin.push(format!("{}/{}: {n}", key.0, key.1));
                }
            }
        }
    }
    assert_eq!(set.pair_count(), 120);
    assert!(
        thin.is_empty(),
        "pairs with fewer than 20 bodies: {}",
        thin.join(", ")
    );
}
