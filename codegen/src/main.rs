//! `biolm-codegen`: generate, check, fetch and diff BioLM schema sets.

use std::process::ExitCode;

use biolm_codegen::command::{CommandError, SchemasCommand};
use clap::Parser;

/// Generates the typed BioLM SDK layer from model JSON Schemas, and checks,
/// fetches and compares schema sets.
#[derive(Parser)]
#[command(name = "biolm-codegen", version)]
struct Cli {
    #[command(subcommand)]
    command: SchemasCommand,
}

fn main() -> ExitCode {
    match biolm_codegen::command::run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CommandError::Problems(msg)) => {
            eprintln!("{msg}");
            ExitCode::from(1)
        }
        Err(CommandError::Usage(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}
