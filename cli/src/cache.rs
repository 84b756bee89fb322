//! `biolm cache stats|prune FILE`: what a result cache holds, and removing entries.
//!
//! The cache is one SQLite file (the SDK's `biolm::cache`). Several processes
//! on one machine share it safely (WAL mode, a busy timeout); on a network
//! filesystem (NFS) SQLite's locks are unreliable, so give each node its own
//! cache file on a local disk.

use std::path::PathBuf;
use std::time::Duration;

use crate::CliError;

/// `biolm cache` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CacheCommand {
    /// Entries by server, model and action, and the size on disk.
    Stats {
        /// The cache file.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Delete entries: those older than --older-than, those of --model, or --all.
    Prune {
        /// The cache file.
        file: PathBuf,
        /// Only entries stored more than this many days ago.
        #[arg(long, value_name = "DAYS")]
        older_than: Option<f64>,
        /// Only entries of this model slug.
        #[arg(long, value_name = "SLUG")]
        model: Option<String>,
        /// Every entry (required when neither --older-than nor --model is given).
        #[arg(long)]
        all: bool,
    },
}

/// Runs a `biolm cache` subcommand.
pub fn cache(cmd: CacheCommand, out: &mut impl std::io::Write) -> Result<(), CliError> {
    match cmd {
        CacheCommand::Stats { file, json } => {
            if !file.is_file() {
                return Err(CliError::Usage(format!(
                    "{}: no such cache file",
                    file.display()
                )));
            }
            let s = biolm::cache::Cache::open(&file)?.stats()?;
            if json {
                let entries: Vec<serde_json::Value> = s
                    .entries
                    .iter()
                    .map(|(server, model, action, n)| {
                        serde_json::json!({"server": server, "model": model, "action": action, "entries": n})
                    })
                    .collect();
                let v = serde_json::json!({
                    "file": file.display().to_string(),
                    "entries": s.total(),
                    "result_bytes": s.result_bytes,
                    "file_bytes": s.file_bytes,
                    "by_model": entries,
                });
                writeln!(out, "{v}")?;
            } else {
                writeln!(
                    out,
                    "{}: {} entries, {} bytes of results, {} bytes on disk",
                    file.display(),
                    s.total(),
                    s.result_bytes,
                    s.file_bytes
                )?;
                for (server, model, action, n) in &s.entries {
                    writeln!(out, "  {n:>10}  {model}/{action}  ({server})")?;
                }
            }
            Ok(())
        }
        CacheCommand::Prune {
            file,
            older_than,
            model,
            all,
        } => {
            if older_than.is_none() && model.is_none() && !all {
                return Err(CliError::Usage(
                    "say what to delete: --older-than DAYS, --model SLUG, or --all".into(),
                ));
            }
            let age = match older_than {
                Some(d) if d.is_finite() && d >= 0.0 => Some(Duration::from_secs_f64(d * 86_400.0)),
                Some(_) => {
                    return Err(CliError::Usage(
                        "--older-than: give a number of days >= 0".into(),
                    ))
                }
                None => None,
            };
            if !file.is_file() {
                return Err(CliError::Usage(format!(
                    "{}: no such cache file",
                    file.display()
                )));
            }
            let c = biolm::cache::Cache::open(&file)?;
            let n = c.prune(age, model.as_deref())?;
            let s = c.stats()?;
            note!(
                "biolm: deleted {n} entries from {}; {} left, {} bytes on disk",
                file.display(),
                s.total(),
                s.file_bytes
            );
            Ok(())
        }
    }
}
