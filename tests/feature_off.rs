//! A model whose cargo feature is off: `client.esm1b()` fails to compile with a
//! message naming the feature. Runs cargo on a tiny crate that depends on this
//! one with its default features (esm1b is not among them) and reads the error.

use std::path::Path;
use std::process::Command;

#[test]
fn a_model_behind_a_disabled_feature_names_the_feature_in_the_compile_error() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        format!(
            "[package]\nname = \"feature-off-probe\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nbiolm = {{ path = {:?} }}\n\n[workspace]\n",
            root.display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        "fn main() { let c = biolm::Client::builder().build().unwrap(); let _ = c.esm1b(); }\n",
    )
    .unwrap();
    // The probe shares tests/new_family.rs's target directory (dependencies built once).
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let out = Command::new(env!("CARGO"))
        .args(["check", "--quiet", "--message-format=short", "--offline"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", target.join("generated-crates"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the probe compiled: {stderr}");
    assert!(
        stderr.contains("enable the `esm1b` cargo feature of `biolm`"),
        "{stderr}"
    );
}
