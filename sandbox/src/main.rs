//! `biolm-sandbox`: a local BioLM-compatible server with synthetic results.

use std::io::Write;

use clap::{Parser, Subcommand};

/// A local BioLM-compatible server answering with synthetic, schema-valid results.
#[derive(Debug, Parser)]
#[command(name = "biolm-sandbox", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the schemas of a directory until Ctrl-C.
    Serve(biolm_sandbox::ServeArgs),
    /// Load and compile a schema directory as `serve` would, report, and exit.
    Check {
        /// Schema directory: a project `schemas/` dir or a reference corpus with index.json.
        #[arg(long, value_name = "DIR", default_value = "schemas")]
        schemas: std::path::PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("biolm-sandbox: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => args.run().await.map(|()| true),
            Command::Check { schemas } => {
                let started = std::time::Instant::now();
                let (served, problems) = biolm_sandbox::check_schemas(schemas.clone())?;
                for p in &problems {
                    let _ = writeln!(std::io::stderr().lock(), "biolm-sandbox: {p}");
                }
                let _ = writeln!(
                    std::io::stdout().lock(),
                    "{}: {served} model actions compiled in {:.0} ms, {} problem{}",
                    schemas.display(),
                    started.elapsed().as_secs_f64() * 1000.0,
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                );
                Ok(problems.is_empty())
            }
        }
    });
    match result {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            let _ = writeln!(std::io::stderr().lock(), "biolm-sandbox: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
