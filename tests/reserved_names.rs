//! The generator's hand-kept name lists match the runtime they protect: every module of
//! the `biolm` crate is a name no family module may take, and every public method of the
//! clients is a name no variant accessor may take (otherwise a new runtime module or
//! method would silently clash with a generated one).

use std::path::Path;

use biolm_codegen::methods::{CLIENT_METHODS, RESERVED_MODULES};

fn source(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `mod name;` / `pub mod name;` / `pub(crate) mod name;` declarations of a file.
fn modules(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line.split_once("mod ")?;
            let before = rest.0.trim();
            if !(before.is_empty() || before.starts_with("pub")) {
                return None;
            }
            let name = rest.1.strip_suffix(';')?.trim();
            Some(name.to_string())
        })
        .collect()
}

/// Names of the `pub fn`s inside `impl Client {` blocks of a file.
fn client_methods(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut in_client: Option<i32> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if in_client.is_none()
            && (trimmed == "impl Client {" || trimmed.starts_with("impl Client {"))
        {
            in_client = Some(depth);
        }
        if in_client.is_some() {
            if let Some(rest) = trimmed
                .strip_prefix("pub fn ")
                .or_else(|| trimmed.strip_prefix("pub async fn "))
            {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push(name);
            }
        }
        depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
        if in_client.is_some_and(|d| depth <= d) {
            in_client = None;
        }
    }
    out
}

#[test]
fn every_runtime_module_is_reserved() {
    let found = modules(&source("lib.rs"));
    assert!(
        found.len() > 10,
        "the scan found too few modules: {found:?}"
    );
    let missing: Vec<_> = found
        .iter()
        .filter(|m| !RESERVED_MODULES.contains(&m.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "add to codegen's RESERVED_MODULES: {missing:?}"
    );
}

#[test]
fn every_client_method_is_reserved() {
    let mut found = client_methods(&source("client.rs"));
    found.extend(client_methods(&source("blocking/mod.rs")));
    assert!(
        found.iter().any(|m| m == "untyped"),
        "the scan missed methods: {found:?}"
    );
    let missing: Vec<_> = found
        .iter()
        .filter(|m| !CLIENT_METHODS.contains(&m.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "add to codegen's CLIENT_METHODS: {missing:?}"
    );
}
