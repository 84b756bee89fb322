//! Blocking quickstart, for scripts without an async runtime: generate protein
//! sequences with ProGen2 and print them.
//!
//! ```text
//! cargo run --example blocking_quickstart
//! ```
//!
//! With `BIOLM_TOKEN` set this calls the hosted platform; without it, it starts
//! the local sandbox (synthetic results) on a background thread.

use biolm::progen2::{Progen2GenerateItem, Progen2GenerateParams};
use biolm::Outcome;
use biolm_sandbox::{Sandbox, SandboxConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut _sandbox = None;
    let client = if ["BIOLM_TOKEN", "BIOLMAI_TOKEN"]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|t| !t.is_empty()))
    {
        biolm::blocking::Client::from_env()?
    } else {
        let schemas = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
        let sandbox = Sandbox::start_blocking(SandboxConfig::new(schemas))?;
        eprintln!("BIOLM_TOKEN is not set: using the local sandbox (synthetic results)");
        let builder = biolm::Client::builder().base_url(sandbox.base_url());
        _sandbox = Some(sandbox);
        biolm::blocking::Client::from_builder(builder)?
    };
    print!("{}", run(&client)?);
    Ok(())
}

/// Generates three samples from each of two prompts; returns one line per sample.
pub fn run(client: &biolm::blocking::Client) -> Result<String, Box<dyn std::error::Error>> {
    let prompts = ["MKTAYIAKQR", "MSLLTEVETP"];
    let params = Progen2GenerateParams::new()
        .with_num_samples(3)
        .with_max_length(64)
        .with_seed(7);
    let outcomes = client
        .progen2_oas()
        .generate(prompts.map(Progen2GenerateItem::new))
        .params(params)
        .send()?;
    let mut out = String::new();
    for (prompt, outcome) in prompts.iter().zip(outcomes) {
        match outcome {
            Outcome::Success(samples) => {
                for s in samples {
                    out.push_str(&format!(
                        "{prompt} -> {} (mean log-likelihood {:.3})\n",
                        s.sequence, s.ll_mean
                    ));
                }
            }
            other => out.push_str(&format!("{prompt}: {other:?}\n")),
        }
    }
    Ok(out)
}
