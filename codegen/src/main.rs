//! `biolm-codegen`: generate, check, fetch and diff BioLM schema sets.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Generates the typed BioLM SDK layer from model JSON Schemas, and checks,
/// fetches and compares schema sets.
#[derive(Parser)]
#[command(name = "biolm-codegen", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate `biolm_generated.rs` from a schema directory.
    Generate {
        /// Schema directory (project or reference layout).
        #[arg(long, default_value = "schemas")]
        schemas: PathBuf,
        /// Output file.
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Load a schema directory, compile every request validator and generate; report errors.
    Check {
        /// Schema directory (project or reference layout).
        #[arg(long, default_value = "schemas")]
        schemas: PathBuf,
    },
    /// Download schemas from a server into a directory (reference layout).
    Fetch {
        /// Base URL: `.../api/v1` (gateway, reads /openapi.json) or `.../api/v3` (platform).
        #[arg(long)]
        from: String,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Platform only: `slug:action[,action...]` pairs to fetch (repeatable).
        #[arg(long = "model")]
        models: Vec<String>,
        /// Platform only: fetch every slug/action of this schema directory.
        #[arg(long)]
        like: Option<PathBuf>,
    },
    /// List changes from OLD to NEW schema directory; exit code 1 when any is breaking.
    Diff {
        /// The old schema directory.
        old: PathBuf,
        /// The new schema directory.
        new: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Generate { schemas, out } => {
            let g = biolm_codegen::generate_dir(&schemas).map_err(|e| e.to_string())?;
            std::fs::write(&out, &g.code)
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            eprintln!(
                "wrote {} ({} families, {} variant/action pairs, {} bytes) in {:?}",
                out.display(),
                g.families,
                g.pairs,
                g.code.len(),
                g.elapsed
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { schemas } => {
            let set = biolm_catalog::load_dir(&schemas).map_err(|e| e.to_string())?;
            let mut errors = 0usize;
            for f in &set.families {
                for v in &f.variants {
                    for a in &f.actions {
                        let req = f.effective_request(v, a);
                        if let Err(e) = biolm_catalog::validate::Validator::for_request(&req) {
                            errors += 1;
                            let (file, base) =
                                biolm_codegen::methods::action_location(f, 0, a, "request");
                            eprintln!(
                                "{}: {}/{}: at {}{}: {}",
                                file.display(),
                                v.slug,
                                a.name,
                                base,
                                e.pointer,
                                e.message
                            );
                        }
                    }
                }
            }
            match biolm_codegen::generate(&set) {
                Ok(g) => eprintln!(
                    "generated {} families / {} pairs in {:?}",
                    g.families, g.pairs, g.elapsed
                ),
                Err(e) => {
                    errors += 1;
                    eprintln!("{e}");
                }
            }
            if errors > 0 {
                eprintln!("{errors} problem(s)");
                return Ok(ExitCode::from(1));
            }
            eprintln!(
                "ok: {} families, {} variant/action pairs",
                set.families.len(),
                set.pair_count()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Fetch {
            from,
            out,
            models,
            like,
        } => {
            let report = if biolm_codegen::fetch::is_gateway(&from) {
                biolm_codegen::fetch::fetch_gateway(&from, &out)
            } else {
                let mut pairs = Vec::new();
                for m in &models {
                    let (slug, actions) = m.split_once(':').ok_or_else(|| {
                        format!("--model `{m}`: expected `slug:action[,action...]`")
                    })?;
                    pairs.extend(
                        actions
                            .split(',')
                            .map(|a| (slug.to_string(), a.to_string())),
                    );
                }
                if let Some(dir) = like {
                    let set = biolm_catalog::load_dir(&dir).map_err(|e| e.to_string())?;
                    for f in &set.families {
                        for v in &f.variants {
                            pairs
                                .extend(f.actions.iter().map(|a| (v.slug.clone(), a.name.clone())));
                        }
                    }
                }
                if pairs.is_empty() {
                    return Err(
                        "fetching from the platform needs --model slug:action or --like DIR".into(),
                    );
                }
                biolm_codegen::fetch::fetch_platform(&from, &pairs, &out)
            }
            .map_err(|e| e.to_string())?;
            eprintln!(
                "wrote {} schema pair(s) to {}",
                report.pairs.len(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff { old, new } => {
            let old_set = biolm_catalog::load_dir(&old).map_err(|e| e.to_string())?;
            let new_set = biolm_catalog::load_dir(&new).map_err(|e| e.to_string())?;
            let changes = biolm_codegen::diff::diff_sets(&old_set, &new_set);
            for c in &changes {
                println!("{c}");
            }
            let breaking = changes
                .iter()
                .filter(|c| c.severity == biolm_codegen::diff::Severity::Breaking)
                .count();
            eprintln!("{} change(s), {breaking} breaking", changes.len());
            Ok(if breaking > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
