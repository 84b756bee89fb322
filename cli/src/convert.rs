//! `biolm convert IN.jsonl OUT.parquet`: rewrites an output written before
//! (by `biolm run -o` or the SDK's `write_jsonl`) in another format, with the
//! SDK's writers ([`biolm::output::convert`]).

use std::path::PathBuf;

use biolm::output::Kind;

use crate::output::OutputFormat;
use crate::CliError;

/// Arguments of `biolm convert`.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// A JSONL output of `biolm run -o` or `write_jsonl` (plain or `.gz`).
    pub input: PathBuf,
    /// The file to write (its kind from the extension, or `--output-format`).
    pub output: PathBuf,
    /// Output format, when the file name does not tell.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub output_format: Option<OutputFormat>,
}

fn is_empty_dir(p: &std::path::Path) -> bool {
    std::fs::read_dir(p).is_ok_and(|mut d| d.next().is_none())
}

/// Runs `biolm convert`.
pub fn convert(args: ConvertArgs) -> Result<(), CliError> {
    let sdk = |e: biolm::Error| CliError::Usage(crate::redact::text(&e.to_string()));
    if args.output.exists() && !is_empty_dir(&args.output) {
        return Err(CliError::Usage(format!(
            "{} exists: biolm convert does not overwrite; delete it or pick another path",
            args.output.display()
        )));
    }
    let (model, action) = biolm::output::convert::header_of(&args.input).map_err(sdk)?;
    let format =
        crate::output::FileFormat::resolve(&args.output, args.output_format, &model, &action)?;
    if format.kind == Kind::Jsonl && args.output_format.is_none() {
        return Err(CliError::Usage(format!(
            "{}: cannot tell the output format from the name; use .parquet, .gz or --output-format",
            args.output.display()
        )));
    }
    if format.kind == Kind::NpyDir || format.kind == Kind::Npz {
        let w = if format.kind == Kind::Npz {
            biolm::output::npz::write_file(&args.input, &args.output)
        } else {
            biolm::output::npy::write_dir(&args.input, &args.output)
        }
        .map_err(sdk)?;
        eprintln!(
            "biolm: {} -> {}: {} rows, {} errors; {}",
            args.input.display(),
            args.output.display(),
            w.rows,
            w.errors,
            w.arrays.join(", ")
        );
        return Ok(());
    }
    let done = biolm::output::convert::convert(
        &args.input,
        &args.output,
        format.kind,
        format.response_schema.as_ref(),
    )
    .map_err(sdk)?;
    eprintln!(
        "biolm: {} -> {}: {} lines ({} errors) of {}/{}{}",
        args.input.display(),
        args.output.display(),
        done.lines,
        done.errors,
        done.model,
        done.action,
        if done.skipped > 0 {
            format!(", {} repeated or torn lines left out", done.skipped)
        } else {
            String::new()
        }
    );
    Ok(())
}
