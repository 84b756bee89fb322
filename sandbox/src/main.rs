//! `biolm-sandbox`: a local BioLM-compatible server with synthetic results.

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
            Command::Serve(args) => args.run().await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("biolm-sandbox: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
