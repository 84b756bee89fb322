//! `biolm merge OUT SHARD...`: joins the outputs of `biolm run --shard I/N -o FILE`
//! into one file in input order (the SDK's [`biolm::jsonl::merge`]).

use std::path::PathBuf;

use crate::CliError;

/// Arguments of `biolm merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The merged output file (written beside itself, then renamed into place).
    pub output: PathBuf,
    /// The shard outputs (`biolm run --shard I/N -o FILE`), in any order.
    #[arg(required = true, value_name = "SHARD")]
    pub shards: Vec<PathBuf>,
}

/// Runs `biolm merge`: refuses shards of another job, a shard given twice,
/// and missing items (naming them), and writes nothing then.
pub fn merge(args: MergeArgs) -> Result<(), CliError> {
    let s = biolm::jsonl::merge(&args.output, &args.shards)?;
    note!(
        "biolm: merged {} shards into {}: {} items ({} of them error lines)",
        s.shards,
        s.path.display(),
        s.items,
        s.failed
    );
    if s.failed > 0 {
        return Err(CliError::ItemsFailed(format!(
            "{} items failed in the shards' runs (their error lines are kept in {}); \
             re-run a shard with --retry-failed, then merge again",
            s.failed,
            s.path.display()
        )));
    }
    Ok(())
}
