//! The schema-set commands (`generate`, `check`, `fetch`, `diff`), shared by the
//! `biolm-codegen` binary and the `biolm schemas` subcommand of the `biolm` CLI.
//!
//! Data (diff lines) goes to stdout, status to stderr.

use std::path::PathBuf;

/// Writes one status line to stderr, ignoring a closed stderr (where
/// `eprintln!` would panic).
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// A schema-set command: generate, check, fetch or diff.
#[derive(Debug, clap::Subcommand)]
pub enum SchemasCommand {
    /// Generate Rust from a schema directory: one file to read (`-o`), or a crate of
    /// your own for families `biolm` does not ship (`--crate DIR`).
    Generate {
        /// Schema directory (project or reference layout).
        #[arg(long, default_value = "schemas")]
        schemas: PathBuf,
        /// Output file (the code as the `biolm` crate compiles it).
        #[arg(
            short,
            long,
            required_unless_present = "crate_dir",
            conflicts_with = "crate_dir"
        )]
        out: Option<PathBuf>,
        /// Write a new crate here that depends on the `biolm` runtime and generates typed
        /// models from a copy of the schemas at build time.
        #[arg(long = "crate", value_name = "DIR")]
        crate_dir: Option<PathBuf>,
        /// The new crate's package name (default: the directory's name).
        #[arg(long, requires = "crate_dir")]
        name: Option<String>,
        /// Take `biolm` and `biolm-codegen` from this local biolm-rs checkout instead of git.
        #[arg(long, value_name = "DIR", requires = "crate_dir")]
        biolm_path: Option<PathBuf>,
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

/// Why a schema-set command did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Bad arguments or input that cannot be read: nothing was done (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// The command ran and found problems (schema errors, breaking changes): exit code 1.
    #[error("{0}")]
    Problems(String),
}

fn usage(e: impl std::fmt::Display) -> CommandError {
    CommandError::Usage(e.to_string())
}

fn write_crate(
    schemas: &std::path::Path,
    dir: &std::path::Path,
    name: Option<String>,
    biolm_path: Option<PathBuf>,
) -> Result<(), CommandError> {
    let name = match name {
        Some(n) => n,
        None => dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| usage(format!("{}: name the crate with --name", dir.display())))?,
    };
    let source = match biolm_path {
        Some(p) => crate::scaffold::Source::Path(
            std::fs::canonicalize(&p)
                .map_err(|e| usage(format!("--biolm-path {}: {e}", p.display())))?,
        ),
        None => crate::scaffold::Source::default(),
    };
    let spec = crate::scaffold::CrateSpec { name, source };
    let report = crate::scaffold::write_crate(schemas, dir, &spec).map_err(usage)?;
    note!(
        "wrote crate `{}` in {} ({} families, {} variant/action pairs); `use {}::ClientExt;` to call them",
        spec.name,
        report.dir.display(),
        report.families,
        report.pairs,
        spec.name.replace('-', "_")
    );
    Ok(())
}

/// Runs one schema-set command.
pub fn run(command: SchemasCommand) -> Result<(), CommandError> {
    match command {
        SchemasCommand::Generate {
            schemas,
            out,
            crate_dir,
            name,
            biolm_path,
        } => {
            let Some(out) = out else {
                let dir = crate_dir.ok_or_else(|| usage("give -o FILE or --crate DIR"))?;
                return write_crate(&schemas, &dir, name, biolm_path);
            };
            let g = crate::generate_dir(&schemas).map_err(usage)?;
            std::fs::write(&out, &g.code)
                .map_err(|e| CommandError::Usage(format!("cannot write {}: {e}", out.display())))?;
            note!(
                "wrote {} ({} families, {} variant/action pairs, {} bytes) in {:?}",
                out.display(),
                g.families,
                g.pairs,
                g.code.len(),
                g.elapsed
            );
            Ok(())
        }
        SchemasCommand::Check { schemas } => {
            let set = biolm_catalog::load_dir(&schemas).map_err(usage)?;
            // Every problem at once: each request schema's validator problems, each
            // response schema's keyword audit, and each family's generation.
            // Every problem at once, each with its file and JSON pointer.
            let problems = crate::schema_problems(&set);
            for e in &problems {
                note!("{e}");
            }
            let mut errors = problems.len();
            if errors == 0 {
                match crate::generate(&set) {
                    Ok(g) => note!(
                        "generated {} families / {} pairs in {:?}",
                        g.families,
                        g.pairs,
                        g.elapsed
                    ),
                    Err(e) => {
                        errors += 1;
                        note!("{e}");
                    }
                }
            }
            if errors > 0 {
                return Err(CommandError::Problems(format!(
                    "{errors} problem(s) in {}",
                    schemas.display()
                )));
            }
            note!(
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
            let report = if crate::fetch::is_gateway(&from) {
                crate::fetch::fetch_gateway(&from, &out)
            } else {
                let mut pairs = Vec::new();
                for m in &models {
                    let (slug, actions) = m.split_once(':').ok_or_else(|| {
                        CommandError::Usage(format!(
                            "--model `{m}`: expected `slug:action[,action...]`"
                        ))
                    })?;
                    pairs.extend(
                        actions
                            .split(',')
                            .map(|a| (slug.to_string(), a.to_string())),
                    );
                }
                if let Some(dir) = like {
                    let set = biolm_catalog::load_dir(&dir).map_err(usage)?;
                    for f in &set.families {
                        for v in &f.variants {
                            pairs
                                .extend(f.actions.iter().map(|a| (v.slug.clone(), a.name.clone())));
                        }
                    }
                }
                if pairs.is_empty() {
                    return Err(CommandError::Usage(
                        "fetching from the platform needs --model slug:action or --like DIR".into(),
                    ));
                }
                crate::fetch::fetch_platform(&from, &pairs, &out)
            }
            .map_err(usage)?;
            note!(
                "wrote {} schema pair(s) to {}",
                report.pairs.len(),
                out.display()
            );
            Ok(())
        }
        SchemasCommand::Diff { old, new } => {
            let old_set = biolm_catalog::load_dir(&old).map_err(usage)?;
            let new_set = biolm_catalog::load_dir(&new).map_err(usage)?;
            let changes = crate::diff::diff_sets(&old_set, &new_set);
            {
                use std::io::Write as _;
                let mut stdout = std::io::stdout().lock();
                for c in &changes {
                    // A closed stdout (`... | head`) ends the listing, not the command.
                    if writeln!(stdout, "{c}").is_err() {
                        break;
                    }
                }
            }
            let breaking = changes
                .iter()
                .filter(|c| c.severity == crate::diff::Severity::Breaking)
                .count();
            note!("{} change(s), {breaking} breaking", changes.len());
            if breaking > 0 {
                return Err(CommandError::Problems(format!(
                    "{breaking} breaking change(s)"
                )));
            }
            Ok(())
        }
    }
}
