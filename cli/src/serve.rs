//! `biolm sandbox serve` and `biolm schemas ...`: thin front ends over the
//! `biolm-sandbox` and `biolm-codegen` libraries.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use biolm_sandbox::{Sandbox, SchemaSource, ServeArgs};

use crate::embedded;
use crate::CliError;

/// Serves a sandbox until Ctrl-C. Without `--schemas` (and with no `schemas/`
/// directory here) it serves the schemas built into this binary.
pub fn sandbox_serve(args: ServeArgs) -> Result<(), CliError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Usage(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async move {
        let started = Instant::now();
        let mut config = args.to_config().map_err(|e| CliError::Usage(e.to_string()))?;
        let from = if args.schemas == Path::new("schemas") && !args.schemas.is_dir() {
            let set = embedded::schema_set().map_err(|e| CliError::Usage(e.to_string()))?;
            config.schemas = SchemaSource::Set(Arc::new(set));
            "the schemas built into biolm".to_string()
        } else {
            args.schemas.display().to_string()
        };
        let addr = args.bind_addr();
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| CliError::Usage(format!("cannot listen on {addr}: {e}; pick another --port")))?;
        let sandbox = Sandbox::start_on(config, listener)
            .await
            .map_err(|e| CliError::Usage(format!("cannot start the sandbox: {e}")))?;
        eprintln!(
            "biolm sandbox: {} model actions from {from} ready in {:.0} ms (synthetic results; no model is run)",
            sandbox.pair_count(),
            started.elapsed().as_secs_f64() * 1000.0
        );
        eprintln!("  platform API: {}   (export BIOLM_BASE_API_URL=...)", sandbox.base_url());
        eprintln!("  gateway API:  {}", sandbox.gateway_url());
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("biolm sandbox: stopping");
        sandbox.shutdown();
        Ok(())
    })
}

/// `biolm schemas ...` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SchemasCommand {
    /// Generate the SDK's `biolm_generated.rs` from a schema directory.
    Generate {
        /// Schema directory (project or reference layout).
        #[arg(long, default_value = "schemas")]
        schemas: PathBuf,
        /// Output file.
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Load a schema directory, compile every request validator and generate code; report problems.
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
        /// Platform only: `slug:action[,action...]` to fetch (repeatable).
        #[arg(long = "model")]
        models: Vec<String>,
        /// Platform only: fetch every slug/action of this schema directory.
        #[arg(long)]
        like: Option<PathBuf>,
    },
    /// List the changes from OLD to NEW (breaking or compatible); exit 1 when any is breaking.
    Diff {
        /// The old schema directory.
        old: PathBuf,
        /// The new schema directory.
        new: PathBuf,
    },
}

fn load(dir: &Path) -> Result<biolm_catalog::SchemaSet, CliError> {
    biolm_catalog::load_dir(dir).map_err(|e| CliError::Usage(e.to_string()))
}

/// Runs a `biolm schemas` subcommand; data (diff lines) on stdout, status on stderr.
pub fn schemas(cmd: SchemasCommand) -> Result<(), CliError> {
    match cmd {
        SchemasCommand::Generate { schemas, out } => {
            let g = biolm_codegen::generate_dir(&schemas)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            std::fs::write(&out, &g.code)
                .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", out.display())))?;
            eprintln!(
                "wrote {} ({} families, {} variant/action pairs, {} bytes) in {:.2} s",
                out.display(),
                g.families,
                g.pairs,
                g.code.len(),
                g.elapsed.as_secs_f64()
            );
            Ok(())
        }
        SchemasCommand::Check { schemas } => {
            let set = load(&schemas)?;
            let mut problems = 0usize;
            for f in &set.families {
                for v in &f.variants {
                    for a in &f.actions {
                        if let Err(e) = biolm_catalog::validate::Validator::for_request(
                            &f.effective_request(v, a),
                        ) {
                            problems += 1;
                            eprintln!("{}: {}/{}: {e}", f.source.display(), v.slug, a.name);
                        }
                    }
                }
            }
            if let Err(e) = biolm_codegen::generate(&set) {
                problems += 1;
                eprintln!("{e}");
            }
            if problems > 0 {
                return Err(CliError::ItemsFailed(format!(
                    "{problems} problem(s) in {}",
                    schemas.display()
                )));
            }
            eprintln!(
                "ok: {} families, {} variant/action pairs",
                set.families.len(),
                set.pair_count()
            );
            Ok(())
        }
        SchemasCommand::Fetch {
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
                        CliError::Usage(format!("--model {m}: expected slug:action[,action...]"))
                    })?;
                    pairs.extend(
                        actions
                            .split(',')
                            .map(|a| (slug.to_string(), a.to_string())),
                    );
                }
                if let Some(dir) = like {
                    let set = load(&dir)?;
                    for f in &set.families {
                        for v in &f.variants {
                            pairs
                                .extend(f.actions.iter().map(|a| (v.slug.clone(), a.name.clone())));
                        }
                    }
                }
                if pairs.is_empty() {
                    return Err(CliError::Usage(
                        "fetching from the platform needs --model slug:action or --like DIR".into(),
                    ));
                }
                biolm_codegen::fetch::fetch_platform(&from, &pairs, &out)
            }
            .map_err(|e| CliError::Usage(e.to_string()))?;
            eprintln!(
                "wrote {} schema pair(s) to {}",
                report.pairs.len(),
                out.display()
            );
            Ok(())
        }
        SchemasCommand::Diff { old, new } => {
            let changes = biolm_codegen::diff::diff_sets(&load(&old)?, &load(&new)?);
            for c in &changes {
                println!("{c}");
            }
            let breaking = changes
                .iter()
                .filter(|c| c.severity == biolm_codegen::diff::Severity::Breaking)
                .count();
            eprintln!("{} change(s), {breaking} breaking", changes.len());
            if breaking > 0 {
                return Err(CliError::ItemsFailed(format!(
                    "{breaking} breaking change(s)"
                )));
            }
            Ok(())
        }
    }
}
