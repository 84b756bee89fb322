//! Agreement with pydantic 2.12 on schemas exactly as pydantic emits them:
//! `tests/data/pydantic_cases.json` holds request schemas and bodies with pydantic's
//! verdict (written by `tests/data/pydantic_cases.py`); every body must get the same
//! verdict from `Validator::check_body`, and the schemas must pass the keyword audit.

use std::path::Path;

use biolm_catalog::keywords::audit;
use biolm_catalog::validate::Validator;
use serde_json::Value;

#[test]
fn validator_agrees_with_pydantic() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pydantic_cases.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let constructs: Vec<Value> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let mut disagreements = Vec::new();
    let mut total = 0;
    for c in &constructs {
        let name = c["construct"].as_str().unwrap_or("?");
        let schema = &c["schema"];
        assert_eq!(audit(schema), vec![], "{name}: the audit finds problems");
        let v = Validator::for_request(schema).unwrap_or_else(|e| panic!("{name}: {e}"));
        let cases = c["cases"].as_array().map(Vec::as_slice).unwrap_or_default();
        let mut agree = 0;
        for case in cases {
            total += 1;
            let problems = v.check_body(&case["body"]);
            let want = case["valid"].as_bool() == Some(true);
            if problems.is_empty() == want {
                agree += 1;
            } else {
                let ours: Vec<String> = problems.iter().map(ToString::to_string).collect();
                disagreements.push(format!(
                    "{name}: {} -> pydantic says {}, we say {:?}",
                    case["body"],
                    if want { "valid" } else { "invalid" },
                    ours
                ));
            }
        }
        println!("{name:<32} {agree}/{}", cases.len());
    }
    assert!(total > 100, "only {total} cases");
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s):\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
