//! `biolm run SLUG ACTION`: read items lazily, validate them, send them through the
//! SDK's streaming call, and write one JSON line per item.

mod check;
mod connect;
mod execute;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use biolm::spec::ActionSpec;
use biolm::RawResult;
use biolm_catalog::validate::Validator;
use biolm_sandbox::{Sandbox, SandboxConfig, SchemaSource};
use futures_util::{FutureExt, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value};

use crate::embedded;
use crate::input::{self, InputError, InputFormat, Mapping, Record, Records, Source};
use crate::models;
use crate::output::Sink;
use crate::schema::RequestSchema;
use crate::structures::{StemIndex, StructureWriter};
use crate::CliError;

use check::{check_all, dry_run, location, CheckReport};
use connect::{client, env_nonempty};
use execute::execute;

/// Arguments of `biolm run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Model variant slug, like `esm2-8m` (`biolm models list` shows them all).
    pub slug: String,
    /// Action, like `encode`, `predict`, `generate`.
    pub action: String,
    /// A sequence to send (repeatable); fills the item's sequence field.
    #[arg(long = "sequence", short = 's', value_name = "SEQ")]
    pub sequences: Vec<String>,
    /// Input file (`-` for stdin): FASTA, CSV, TSV, JSON array or JSONL, optionally gzipped.
    #[arg(long, short = 'i', value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Input format, when the file name does not tell (stdin, odd extensions).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,
    /// The item field a FASTA or --sequence sequence goes into (default: the item's
    /// single required string field).
    #[arg(long, value_name = "NAME")]
    pub field: Option<String>,
    /// CSV column (or JSON key) holding each item's id (default: `id` when present).
    #[arg(long, value_name = "NAME")]
    pub id_column: Option<String>,
    /// Action parameters as a JSON object, like '{"include": ["mean"]}'.
    #[arg(long, value_name = "JSON", conflicts_with = "params_file")]
    pub params: Option<String>,
    /// Action parameters from a JSON file.
    #[arg(long, value_name = "FILE")]
    pub params_file: Option<PathBuf>,
    /// Write results to this JSONL file; running the same job again resumes it.
    /// Without it, results go to stdout as JSON lines.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output format, when the file name does not tell (`.parquet`, `.npz`, `.gz`, else JSONL).
    #[arg(long, value_enum, value_name = "FORMAT", requires = "output")]
    pub output_format: Option<crate::output::OutputFormat>,
    /// Most bytes of results in flight or waiting to be written, like `64MiB`
    /// (the default), `512MiB`, `1GiB`: requests wait while it is used up.
    #[arg(long, value_name = "BYTES", value_parser = crate::output::parse_bytes)]
    pub result_budget: Option<u64>,
    /// Requests in flight at once (default 16).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Client-side rate limit, like `10/second`, `600/minute`, `1000/hour`.
    #[arg(long, value_name = "RATE")]
    pub rate_limit: Option<String>,
    /// Items per request (at most the model's limit, which is the default).
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// Seconds to wait for each request's reply before retrying it (default 1200;
    /// fractions allowed, like `2.5`).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<String>,
    /// Attempts per request, the first included (default 4; 1 never retries).
    #[arg(long, value_name = "N")]
    pub max_attempts: Option<u32>,
    /// Read and validate every item against the action's schema; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write structures (PDB/mmCIF strings in the results) here, one file per item,
    /// named by item id.
    #[arg(long, value_name = "DIR")]
    pub structures_dir: Option<PathBuf>,
    /// Run against a local sandbox started in this process (synthetic results, no token).
    #[arg(long, conflicts_with = "base_url")]
    pub sandbox: bool,
    /// API base URL (default: BIOLM_BASE_API_URL, else `https://biolm.ai/api/v3`; a URL
    /// ending in /api/v1 is a catalog gateway).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// With `-o`: send again the items whose error lines an earlier run of the
    /// same job left in the file (their error lines are replaced by the new outcome).
    #[arg(long, requires = "output")]
    pub retry_failed: bool,
    /// Stop sending after the first failed item (the rest are reported as not attempted).
    #[arg(long)]
    pub stop_on_error: bool,
    /// Result cache file (SQLite; created when absent): items found there are not
    /// sent, identical items are sent once, new results are stored. Keep it on a
    /// node-local disk, not a network filesystem (see `biolm cache --help`).
    #[arg(long, value_name = "FILE", env = "BIOLM_CACHE")]
    pub cache: Option<PathBuf>,
    /// Run only shard I of N (numbered from 0): the input items whose index k
    /// has k % N == I. Each shard writes its own -o file; `biolm merge` joins them.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<biolm::shard::Shard>,
    /// No progress bar (the summary is still printed on stderr).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Where the items come from.
enum Inputs {
    /// `--sequence` values.
    Sequences(Vec<String>),
    /// A file (re-readable), with its format; `name` overrides how messages name it.
    File {
        path: PathBuf,
        format: InputFormat,
        name: Option<Arc<str>>,
    },
    /// Standard input, or any input that is not a regular file (a pipe, a
    /// FIFO, `/dev/stdin`, a process substitution): readable once, taken by
    /// the first reader.
    Stdin {
        source: Option<Source>,
        format: InputFormat,
    },
}

/// Everything resolved before anything is read.
struct Plan {
    spec: &'static ActionSpec,
    inputs: Inputs,
    mapping: Mapping,
    params: Option<Value>,
    /// With `--structures-dir`: the structure file stems of the whole input.
    stems: Option<StemIndex>,
}

/// Runs `biolm run`.
pub fn run(args: RunArgs) -> Result<(), CliError> {
    crate::redact::init(redactor(&args));
    let mut plan = plan(&args)?;
    if args.dry_run {
        return dry_run(&mut plan);
    }
    if args.output.is_none() && !stdout_is_open() {
        return Err(CliError::Usage(
            "standard output is closed, so the results would go nowhere; give -o FILE, or run with stdout open".into(),
        ));
    }
    if let Some(n) = args.batch_size {
        if n > plan.spec.max_items {
            note!(
                "biolm: --batch-size {n} is over {}/{}'s limit of {} items per request; sending {} per request",
                plan.spec.slug,
                plan.spec.action,
                plan.spec.max_items,
                plan.spec.max_items
            );
        }
    }
    // With an output file, stdin is spooled to a temporary file first (on disk, not
    // in memory) so that it is checked and counted in full before anything is sent.
    let _spool = if args.output.is_some() {
        spool_stdin(&mut plan)?
    } else {
        None
    };
    // Re-readable inputs are read and checked in full before anything is sent: bad
    // data stops the run before the first request, and the count feeds the progress bar.
    let report = match &plan.inputs {
        Inputs::Stdin { .. } => None,
        _ => {
            // Resuming: the items already in the output file are compared with the
            // input here too, so that a changed input is refused before any request.
            let resume = args.output.as_deref().and_then(|path| {
                // Only a regular file is read back: a pipe or FIFO never is.
                if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
                    return None;
                }
                let fp = crate::output::fingerprint(
                    &plan.spec.slug,
                    &plan.spec.action,
                    plan.params.as_ref(),
                );
                // A file that cannot be read, or of another job, is reported when opened.
                let ex = biolm::jsonl::scan(path).ok().flatten()?;
                (ex.fingerprint == fp).then_some((path, ex.done))
            });
            let mut stems = args.structures_dir.as_ref().map(|_| StemIndex::default());
            let report = check_all(
                &mut plan,
                20,
                resume.as_ref().map(|(p, d)| (*p, d)),
                stems.as_mut(),
                false,
            )?;
            plan.stems = stems;
            if report.invalid > 0 {
                note!(
                    "{} of {} items are not valid for {}/{}: they are not sent, and each gets an error line",
                    report.invalid, report.total, plan.spec.slug, plan.spec.action
                );
            }
            Some(report)
        }
    };
    execute(&args, plan, report)
}

/// The secrets of this run (the token, the base URL's password and query
/// values), for the one redaction step of everything written.
fn redactor(args: &RunArgs) -> biolm::secret::Redactor {
    let mut r = biolm::secret::Redactor::new();
    if let Some(t) = env_nonempty(&["BIOLM_TOKEN", "BIOLMAI_TOKEN"]) {
        r = r.with_token(&t);
    }
    for u in args.base_url.iter().cloned().chain(env_nonempty(&[
        "BIOLM_BASE_API_URL",
        "BIOLMAI_BASE_API_URL",
    ])) {
        r = r.with_url(&u);
    }
    r
}

/// Whether standard output is open. `biolm run ... >&-` closes it; the Rust
/// runtime then puts `/dev/null`, opened for reading and writing, on the
/// closed descriptor before `main` runs, so every result would vanish without
/// a word. That is told apart from a deliberate `>/dev/null` (opened
/// write-only by the shell) by the descriptor's access mode (Linux).
fn stdout_is_open() -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if std::io::stdout().as_fd().try_clone_to_owned().is_err() {
            return false;
        }
    }
    #[cfg(target_os = "linux")]
    {
        let null = std::fs::read_link("/proc/self/fd/1").is_ok_and(|p| p == Path::new("/dev/null"));
        if null {
            // `flags:` in octal; the low two bits are the access mode (2 = O_RDWR).
            let read_write = std::fs::read_to_string("/proc/self/fdinfo/1").is_ok_and(|info| {
                info.lines()
                    .find_map(|l| l.strip_prefix("flags:"))
                    .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
                    .is_some_and(|f| f & 3 == 2)
            });
            if read_write {
                return false;
            }
        }
    }
    true
}

/// Copies standard input into a temporary file and points the plan at it.
fn spool_stdin(plan: &mut Plan) -> Result<Option<tempfile::NamedTempFile>, CliError> {
    let Inputs::Stdin { source, format } = &mut plan.inputs else {
        return Ok(None);
    };
    let Some(mut src) = source.take() else {
        return Ok(None);
    };
    let format = *format;
    let io = |e: std::io::Error| {
        CliError::Usage(format!(
            "cannot copy standard input to a temporary file: {e}"
        ))
    };
    let mut tmp = tempfile::NamedTempFile::new().map_err(io)?;
    std::io::copy(&mut src.reader, tmp.as_file_mut()).map_err(io)?;
    plan.inputs = Inputs::File {
        path: tmp.path().to_path_buf(),
        format,
        name: Some(src.name.clone()),
    };
    Ok(Some(tmp))
}

fn plan(args: &RunArgs) -> Result<Plan, CliError> {
    let variant = models::find(&args.slug)?;
    let spec = models::find_action(variant, &args.action)?;
    let schema = models::request_schema(spec);
    let fields = schema
        .as_ref()
        .map(RequestSchema::item_fields)
        .unwrap_or_default();
    let inputs =
        match (&args.input, args.sequences.is_empty()) {
            (Some(_), false) => {
                return Err(CliError::Usage(
                    "give items with --sequence or with -i FILE, not both".into(),
                ))
            }
            (None, true) => return Err(CliError::Usage(
                "no items: give -i FILE (FASTA, CSV, JSON, JSONL; `-` for stdin) or --sequence SEQ"
                    .into(),
            )),
            (None, false) => Inputs::Sequences(args.sequences.clone()),
            (Some(path), true) if path.as_os_str() == "-" => {
                let mut source = Source::open(path)?;
                let format = match args.input_format {
                    Some(f) => f,
                    None => sniff_format(&mut source)?,
                };
                Inputs::Stdin {
                    source: Some(source),
                    format,
                }
            }
            // A pipe, FIFO, /dev/stdin or process substitution (told by the
            // file's metadata, not its name) can be read only once: it is read
            // as standard input is, never opened a second time.
            (Some(path), true) if readable_once(path) => {
                let mut source = Source::open(path)?;
                let format = match args.input_format.or_else(|| InputFormat::from_path(path)) {
                    Some(f) => f,
                    None => sniff_format(&mut source)?,
                };
                Inputs::Stdin {
                    source: Some(source),
                    format,
                }
            }
            (Some(path), true) => {
                let format = match args.input_format.or_else(|| InputFormat::from_path(path)) {
                    Some(f) => f,
                    None => sniff_format(&mut Source::open(path)?)?,
                };
                Inputs::File {
                    path: path.clone(),
                    format,
                    name: None,
                }
            }
        };
    let needs_sequence_field = matches!(
        inputs,
        Inputs::Sequences(_)
            | Inputs::File {
                format: InputFormat::Fasta,
                ..
            }
            | Inputs::Stdin {
                format: InputFormat::Fasta,
                ..
            }
    );
    let sequence_field = if needs_sequence_field {
        match &schema {
            Some(s) => Some(
                s.sequence_field(args.field.as_deref())
                    .map_err(CliError::Usage)?,
            ),
            None => Some(args.field.clone().unwrap_or_else(|| "sequence".to_string())),
        }
    } else {
        None
    };
    let params = load_params(args)?;
    if args.batch_size == Some(0) {
        return Err(CliError::Usage("--batch-size 0: give at least 1".into()));
    }
    Ok(Plan {
        spec,
        inputs,
        mapping: Mapping {
            fields,
            sequence_field,
            id_column: args.id_column.clone(),
        },
        params,
        stems: None,
    })
}

/// Whether `path` is not a regular file and so can be read only once (a pipe,
/// FIFO, character device, socket). A path that cannot be read is left to the
/// opening, which names the error.
fn readable_once(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Guesses the format of a file with an unknown extension (or stdin) from its first byte.
fn sniff_format(src: &mut Source) -> Result<InputFormat, CliError> {
    let first = src.peek_first_byte()?;
    first.and_then(InputFormat::sniff).ok_or_else(|| {
        CliError::Usage(format!(
            "{}: cannot tell the input format from the name or the content; pass --input-format fasta|csv|tsv|json|jsonl",
            src.name
        ))
    })
}

fn load_params(args: &RunArgs) -> Result<Option<Value>, CliError> {
    let (text, from) = match (&args.params, &args.params_file) {
        (Some(t), _) => (t.clone(), "--params".to_string()),
        (None, Some(p)) => (
            std::fs::read_to_string(p).map_err(|e| {
                CliError::Usage(format!("{}: cannot read the params file: {e}", p.display()))
            })?,
            p.display().to_string(),
        ),
        (None, None) => return Ok(None),
    };
    let v: Value = serde_json::from_str(&text).map_err(|e| {
        CliError::Usage(format!(
            "{from}: not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })?;
    match v {
        // `null` means no params, as in the library (`Validator::check_params`).
        Value::Null => Ok(None),
        Value::Object(m) if m.is_empty() => Ok(None),
        Value::Object(_) => Ok(Some(v)),
        _ => Err(CliError::Usage(format!(
            "{from}: params must be a JSON object, like '{{\"include\": [\"mean\"]}}'"
        ))),
    }
}

/// Opens the records of the plan's inputs (stdin only once).
fn open_records(plan: &mut Plan) -> Result<(Arc<str>, Records), CliError> {
    match &mut plan.inputs {
        Inputs::Sequences(seqs) => {
            let field = plan
                .mapping
                .sequence_field
                .clone()
                .unwrap_or_else(|| "sequence".into());
            let recs: Vec<Result<Record, InputError>> = seqs
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let mut item = Map::new();
                    item.insert(field.clone(), Value::String(s.trim().to_string()));
                    Ok(Record {
                        line: i as u64 + 1,
                        id: None,
                        item: Value::Object(item),
                        seq_lines: Vec::new(),
                    })
                })
                .collect();
            Ok((Arc::from("--sequence"), Box::new(recs.into_iter())))
        }
        Inputs::File { path, format, name } => {
            let mut src = Source::open(path)?;
            if let Some(n) = name {
                src.name = n.clone();
            }
            let name = src.name.clone();
            Ok((name, input::read(src, *format, &plan.mapping)?))
        }
        Inputs::Stdin { source, format } => {
            let src = source.take().ok_or_else(|| {
                CliError::Usage("standard input was already read; it can be read only once".into())
            })?;
            let name = src.name.clone();
            Ok((name, input::read(src, *format, &plan.mapping)?))
        }
    }
}
