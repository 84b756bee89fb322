//! Agreement with pydantic on the construct corpus (`corpus/constructs/`): every
//! label's body is checked against its construct's request schema with
//! `Validator::check_body` (the batch limits, every item, the params and the body's
//! own keys: what the server checks), and our verdict must equal pydantic's on every
//! label marked `expressible`. Labels whose verdict depends on what a JSON Schema
//! cannot say (lax coercions, custom validators) are counted and printed, not asserted.
//!
//! Without the corpus the test skips with a message, except under `CI=true`, where a
//! missing corpus is a failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use biolm_catalog::keywords::audit;
use biolm_catalog::load_dir;
use biolm_catalog::validate::Validator;
use serde_json::Value;

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/constructs");
    if dir.join("labels.json").is_file() && dir.join("schemas").is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "construct corpus not found at {} (labels.json and schemas/); required when CI=true",
            dir.display()
        );
    }
    eprintln!(
        "SKIP: construct corpus not found at {} (labels.json and schemas/)",
        dir.display()
    );
    None
}

#[derive(Default)]
struct Tally {
    agree: usize,
    expressible: usize,
    lax: usize,
    lax_agree: usize,
}

fn cut(text: &str, n: usize) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(n).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

#[test]
fn validator_agrees_with_pydantic_on_the_construct_corpus() {
    let Some(dir) = corpus_dir() else { return };
    let set = load_dir(&dir.join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    let labels_path = dir.join("labels.json");
    let text = std::fs::read_to_string(&labels_path)
        .unwrap_or_else(|e| panic!("{}: {e}", labels_path.display()));
    let labels: Vec<Value> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", labels_path.display()));
    assert!(
        !labels.is_empty(),
        "{} holds no labels",
        labels_path.display()
    );

    let mut validators: BTreeMap<String, Result<Validator, String>> = BTreeMap::new();
    let mut tally: BTreeMap<String, Tally> = BTreeMap::new();
    let mut disagreements = Vec::new();
    let mut lax_disagreements = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let construct = label["construct"]
            .as_str()
            .unwrap_or_else(|| panic!("label {i}: no `construct`"));
        let case = label["case"].as_str().unwrap_or("?");
        let want = label["valid"]
            .as_bool()
            .unwrap_or_else(|| panic!("label {i} ({construct}/{case}): `valid` is not a boolean"));
        let expressible = label["expressible"].as_bool().unwrap_or(true);
        let validator = validators.entry(construct.to_string()).or_insert_with(|| {
            let (family, variant) = set
                .variant(construct)
                .ok_or_else(|| format!("no model `{construct}` in the corpus schemas"))?;
            let action = family
                .action("predict")
                .ok_or_else(|| format!("`{construct}` has no `predict` action"))?;
            Validator::for_request(&variant.effective_request(action))
                .map_err(|e| format!("the request schema does not compile: {e}"))
        });
        let (ours, problems) = match validator {
            Ok(v) => {
                let p = v.check_body(&label["body"]);
                (p.is_empty(), p.iter().map(ToString::to_string).collect())
            }
            Err(e) => (false, vec![e.clone()]),
        };
        let t = tally.entry(construct.to_string()).or_default();
        let line = || {
            format!(
                "{construct} / {case}: body {}\n    pydantic: {}; ours: {}{}",
                cut(&label["body"].to_string(), 300),
                if want { "valid" } else { "invalid" },
                if ours { "valid" } else { "invalid" },
                if problems.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", cut(&problems.join("; "), 400))
                }
            )
        };
        if expressible {
            t.expressible += 1;
            if ours == want {
                t.agree += 1;
            } else {
                disagreements.push(line());
            }
        } else {
            t.lax += 1;
            if ours == want {
                t.lax_agree += 1;
            } else {
                let reason = label["reason"].as_str().unwrap_or("no reason given");
                lax_disagreements.push(format!("{} [{reason}]", line()));
            }
        }
    }

    println!(
        "{:<36} {:>12} {:>22}",
        "construct", "expressible", "not expressible (agree)"
    );
    let (mut agree, mut total, mut lax, mut lax_agree) = (0, 0, 0, 0);
    for (name, t) in &tally {
        println!(
            "{name:<36} {:>12} {:>22}",
            format!("{}/{}", t.agree, t.expressible),
            format!("{} ({})", t.lax, t.lax_agree)
        );
        agree += t.agree;
        total += t.expressible;
        lax += t.lax;
        lax_agree += t.lax_agree;
    }
    println!(
        "{:<36} {:>12} {:>22}",
        "total",
        format!("{agree}/{total}"),
        format!("{lax} ({lax_agree})")
    );
    if !lax_disagreements.is_empty() {
        println!(
            "\nnot expressible, verdicts differ ({}), not asserted:",
            lax_disagreements.len()
        );
        for d in &lax_disagreements {
            println!("  {d}");
        }
    }
    // Every schema of the corpus (requests and responses) passes the keyword audit.
    let mut audit_problems = Vec::new();
    for family in &set.families {
        for action in &family.actions {
            for (what, schema) in [("request", &action.request), ("response", &action.response)] {
                for p in audit(schema) {
                    audit_problems.push(format!("{} {what}: {p}", family.name));
                }
            }
        }
    }
    if !disagreements.is_empty() {
        println!(
            "\nDISAGREEMENTS on expressible labels ({}):",
            disagreements.len()
        );
        for d in &disagreements {
            println!("  {d}");
        }
    }
    assert!(
        audit_problems.is_empty(),
        "the keyword audit finds problems in the corpus:\n{}",
        audit_problems.join("\n")
    );
    assert!(
        disagreements.is_empty(),
        "{} of {total} expressible labels disagree with pydantic:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
