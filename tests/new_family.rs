//! A model family `biolm` has never heard of, typed in a user's own crate without a
//! fork: `biolm-codegen generate --crate` writes the crate, cargo builds it (its
//! build.rs generates the models), and its typed call runs against the sandbox serving
//! the same schemas over loopback.
//!
//! The crate is compiled in `target/generated-crates` (kept between runs, so only the first
//! run pays for compiling the runtime's dependencies).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use biolm_codegen::scaffold::{write_crate, CrateSpec, Source};
use serde_json::{json, Value};

/// A family written for this test: a solubility predictor with a required-field item,
/// required params and a result object.
fn family() -> Value {
    json!({
        "family": "solubility-scout",
        "display_name": "Solubility Scout",
        "description": "Predicts whether a protein stays soluble (a family made up for this test).",
        "variants": [
            {"slug": "solubility-scout-v1", "display_name": "Solubility Scout v1"}
        ],
        "actions": [{
            "name": "predict",
            "request": {
                "type": "object",
                "additionalProperties": false,
                "required": ["items", "params"],
                "properties": {
                    "items": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 3,
                        "items": {"$ref": "#/$defs/ScoutItem"}
                    },
                    "params": {"$ref": "#/$defs/ScoutParams"}
                },
                "$defs": {
                    "ScoutItem": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["sequence"],
                        "properties": {
                            "sequence": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 50,
                                "description": "Protein sequence."
                            }
                        }
                    },
                    "ScoutParams": {
                        "type": "object",
                        "additionalProperties": false,
                        "properties": {
                            "temperature": {
                                "type": "number",
                                "minimum": 0,
                                "maximum": 100,
                                "description": "Temperature in Celsius."
                            }
                        }
                    }
                }
            },
            "response": {
                "type": "object",
                "required": ["results"],
                "properties": {
                    "results": {"type": "array", "items": {"$ref": "#/$defs/ScoutResult"}}
                },
                "$defs": {
                    "ScoutResult": {
                        "type": "object",
                        "required": ["soluble", "score"],
                        "properties": {
                            "soluble": {"type": "boolean"},
                            "score": {"type": "number", "minimum": 0, "maximum": 1}
                        }
                    }
                }
            }
        }]
    })
}

/// The user's program: a typed call through the generated extension trait.
const EXAMPLE: &str = r#"
use my_models::solubility_scout::{
    SolubilityScoutPredictItem as ScoutItem, SolubilityScoutPredictParams as ScoutParams,
};
use my_models::ClientExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), biolm::Error> {
    let url = std::env::var("SANDBOX_URL").expect("SANDBOX_URL");
    let client = biolm::Client::builder().base_url(url).build()?;
    let outcomes = client
        .solubility_scout_v1()
        // The schema requires params: the method takes them as its second argument.
        .predict(
            ["MKTAYIAKQR", "MDNELE", "MKV"].map(ScoutItem::new),
            ScoutParams::new().with_temperature(37.0),
        )
        .await?;
    for (i, outcome) in outcomes.iter().enumerate() {
        match outcome {
            biolm::Outcome::Success(r) => println!("{i} ok soluble={} score={}", r.soluble, r.score),
            other => println!("{i} not ok: {other:?}"),
        }
    }
    // Checked before sending: the schema's maxLength of 50.
    let long = client
        .solubility_scout_v1()
        .predict([ScoutItem::new("M".repeat(51))], ScoutParams::new())
        .await?;
    println!("long: {:?}", long[0]);
    Ok(())
}
"#;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("create dir");
    std::fs::write(path, text).expect("write");
}

#[test]
fn a_new_family_gets_typed_methods_in_a_crate_of_its_own() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let schemas = tmp.path().join("schemas");
    write(
        &schemas.join("solubility-scout.json"),
        &serde_json::to_string_pretty(&family()).expect("json"),
    );
    let dir = tmp.path().join("my-models");
    let spec = CrateSpec {
        name: "my-models".into(),
        source: Source::Path(workspace()),
    };
    let report = write_crate(&schemas, &dir, &spec).expect("crate written");
    assert_eq!((report.families, report.pairs), (1, 1));
    // Writing again into the same (now non-empty) directory is refused, untouched.
    let again = write_crate(&schemas, &dir, &spec).expect_err("non-empty dir refused");
    assert!(again.to_string().contains("not empty"), "{again}");

    // The user's program, with tokio as its own dependency.
    let manifest = dir.join("Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest).expect("manifest");
    text.push_str(
        "\n[dev-dependencies]\ntokio = { version = \"1\", features = [\"macros\", \"rt\"] }\n",
    );
    write(&manifest, &text);
    write(&dir.join("examples/call.rs"), EXAMPLE);

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sandbox = rt.block_on(support::sandbox(biolm_sandbox::SandboxConfig::new(
        schemas.clone(),
    )));
    // Shared with tests/constructs_roundtrip.rs (test binaries run one at a time).
    let target = workspace().join("target/generated-crates");
    let stdout = run(
        Command::new(env!("CARGO"))
            .args([
                "run",
                "--quiet",
                "--offline",
                "--example",
                "call",
                "--manifest-path",
            ])
            .arg(&manifest)
            .env("CARGO_TARGET_DIR", &target)
            .env("SANDBOX_URL", sandbox.base_url())
            .env_remove("BIOLM_TOKEN")
            .env_remove("BIOLMAI_TOKEN"),
        "cargo run --example call in the generated crate",
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    for (i, line) in lines[..3].iter().enumerate() {
        assert!(
            line.starts_with(&format!("{i} ok soluble=")),
            "item {i}: {line}\n{stdout}"
        );
    }
    assert!(
        lines[3].contains("Failed") && lines[3].contains("sequence"),
        "the 51-residue item must fail validation naming the field: {}",
        lines[3]
    );
    // The sandbox saw one request: the three valid items in one batch, nothing for the
    // invalid one.
    assert_eq!(sandbox.stats().requests, 1, "{:?}", sandbox.stats());
    sandbox.shutdown();
}
