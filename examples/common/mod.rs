//! Shared by the examples: connect to the real API when `BIOLM_TOKEN` is set,
//! otherwise start the local sandbox (synthetic results) and say so.
#![allow(dead_code)] // each example uses part of this module

use biolm_sandbox::{Sandbox, SandboxConfig};

/// A client and, when no token is set, the sandbox it talks to (kept alive by the caller).
pub struct Connection {
    /// The async client.
    pub client: biolm::Client,
    /// The local sandbox, when one was started.
    pub sandbox: Option<Sandbox>,
}

/// The schema directory the sandbox serves.
pub fn schemas_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// Whether a (non-empty) BioLM token is set in the environment.
pub fn has_token() -> bool {
    ["BIOLM_TOKEN", "BIOLMAI_TOKEN"]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|t| !t.is_empty()))
}

/// Connects to BioLM with `BIOLM_TOKEN`, or to a local sandbox when there is none.
pub async fn connect() -> Result<Connection, Box<dyn std::error::Error>> {
    if has_token() {
        return Ok(Connection {
            client: biolm::Client::from_env()?,
            sandbox: None,
        });
    }
    let sandbox = Sandbox::start(SandboxConfig::new(schemas_dir())).await?;
    eprintln!(
        "BIOLM_TOKEN is not set: using the local sandbox at {} (synthetic results, no model runs)",
        sandbox.base_url()
    );
    let client = biolm::Client::builder()
        .base_url(sandbox.base_url())
        .build()?;
    Ok(Connection {
        client,
        sandbox: Some(sandbox),
    })
}

/// Reads the records of a small FASTA file as (header, sequence) pairs.
pub fn read_fasta(path: &std::path::Path) -> std::io::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)?;
    let mut records: Vec<(String, String)> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(header) = line.strip_prefix('>') {
            records.push((header.to_string(), String::new()));
        } else if let Some((_, seq)) = records.last_mut() {
            seq.push_str(line);
        }
    }
    Ok(records)
}
