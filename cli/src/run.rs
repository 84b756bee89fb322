//! `biolm run SLUG ACTION`: read items lazily, validate them, send them through the
//! SDK's streaming call, and write one JSON line per item.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use biolm::spec::ActionSpec;
use biolm_catalog::validate::Validator;
use biolm_sandbox::{Sandbox, SandboxConfig, SchemaSource};
use futures_util::{FutureExt, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::embedded;
use crate::input::{self, InputError, InputFormat, Mapping, Record, Records, Source};
use crate::models;
use crate::output::Sink;
use crate::schema::RequestSchema;
use crate::structures::{StemIndex, StructureWriter};
use crate::CliError;

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
    /// Output format, when the file name does not tell (`.parquet`, `.gz`, else JSONL).
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

/// Counts of a validation pass.
struct CheckReport {
    total: usize,
    invalid: usize,
}

/// The location of a record for messages: `file:line` (`--sequence` values are
/// numbered `--sequence #n`).
fn location(name: &str, line: u64) -> String {
    if name == "--sequence" {
        format!("--sequence #{line}")
    } else {
        format!("{name}:{line}")
    }
}

/// The action's compiled validator (none for actions without a request schema).
struct Checker {
    validator: Option<Validator>,
    /// The params the items are sent with (request-level rules check them together).
    params: Option<Value>,
}

impl Checker {
    fn new(spec: &ActionSpec) -> Result<Checker, CliError> {
        let Some(text) = spec.request_schema.as_deref() else {
            return Ok(Checker {
                validator: None,
                params: None,
            });
        };
        let schema: Value = serde_json::from_str(text).map_err(|e| {
            CliError::Usage(format!(
                "the compiled-in schema of {}/{} is not JSON ({e}); report this as a bug",
                spec.slug, spec.action
            ))
        })?;
        let validator = Validator::for_request(&schema).map_err(|e| {
            CliError::Usage(format!(
                "the compiled-in schema of {}/{} is not usable ({e}); report this as a bug",
                spec.slug, spec.action
            ))
        })?;
        Ok(Checker {
            validator: Some(validator),
            params: None,
        })
    }

    /// Checks the params; the message lists every violation.
    fn check_params(&self, params: Option<&Value>) -> Result<(), CliError> {
        let (Some(v), Some(p)) = (&self.validator, params) else {
            return Ok(());
        };
        let problems = v.check_params(p);
        let ignored = v.ignored_params(p);
        if !ignored.is_empty() {
            eprintln!("warning: this variant ignores params {} (another variant's; sent anyway, the server drops them)", ignored.join(", "));
        }
        if problems.is_empty() {
            return Ok(());
        }
        let text: Vec<String> = problems.iter().map(|x| format!("params.{x}")).collect();
        Err(CliError::Usage(format!(
            "invalid params: {}",
            text.join("; ")
        )))
    }

    /// Checks one record; each violation is one message naming the file and line
    /// (for a FASTA sequence, the line holding the offending character).
    fn check_record(
        &self,
        name: &str,
        index: usize,
        rec: &Record,
        sequence_field: Option<&str>,
    ) -> Vec<String> {
        let Some(v) = &self.validator else {
            return Vec::new();
        };
        let id = rec
            .id
            .as_deref()
            .map(|i| format!(" ({i})"))
            .unwrap_or_default();
        match &self.params {
            Some(p) => v.check_item_with_params(&rec.item, p),
            None => v.check_item(&rec.item),
        }
        .iter()
        .map(|violation| {
            let mut line = rec.line;
            let path = violation.dotted_path();
            if !path.is_empty() && Some(path.as_str()) == sequence_field {
                if let Some(pos) = violation.position {
                    line = rec.line_of_position(pos);
                }
            }
            format!("{}: item {index}{id}: {violation}", location(name, line))
        })
        .collect()
    }
}

/// Reads and validates every item; prints up to `show` invalid ones on stderr.
/// With `resume` (an output file and the items it has), an input item that
/// differs from its line in the file stops the check.
fn check_all(
    plan: &mut Plan,
    show: usize,
    resume: Option<(&Path, &biolm::jsonl::DoneSet)>,
    mut stems: Option<&mut StemIndex>,
) -> Result<CheckReport, CliError> {
    let mut checker = Checker::new(plan.spec)?;
    checker.check_params(plan.params.as_ref())?;
    checker.params = plan.params.clone();
    let (name, records) = open_records(plan)?;
    let mut shown = 0usize;
    let (mut total, mut invalid) = (0usize, 0usize);
    for (index, rec) in records.enumerate() {
        let rec = rec?;
        total += 1;
        if let Some(st) = stems.as_deref_mut() {
            st.add(index, rec.id.as_deref());
        }
        if let Some((path, done)) = resume {
            let sha = biolm::jsonl::item_sha(&rec.item, rec.id.as_deref());
            if done.matches(index as u64, sha) == Some(false) {
                return Err(CliError::Usage(
                    biolm::Error::ResumeItemMismatch {
                        path: path.to_path_buf(),
                        message: biolm::jsonl::item_mismatch_message(path, index as u64),
                    }
                    .to_string(),
                ));
            }
        }
        let problems =
            checker.check_record(&name, index, &rec, plan.mapping.sequence_field.as_deref());
        if !problems.is_empty() {
            invalid += 1;
            for msg in problems {
                shown += 1;
                if shown <= show {
                    note!("{msg}");
                }
            }
        }
    }
    if shown > show {
        note!("... and {} more problems", shown - show);
    }
    if total == 0 {
        return Err(CliError::Usage(format!(
            "{name}: the input holds no items (an empty file, or a header without rows); nothing to send"
        )));
    }
    Ok(CheckReport { total, invalid })
}

fn dry_run(plan: &mut Plan) -> Result<(), CliError> {
    let start = Instant::now();
    let report = check_all(plan, usize::MAX, None, None)?;
    note!(
        "dry run: {} items read, {} valid, {} invalid for {}/{} ({:.2} s); nothing was sent",
        report.total,
        report.total - report.invalid,
        report.invalid,
        plan.spec.slug,
        plan.spec.action,
        start.elapsed().as_secs_f64()
    );
    if report.invalid > 0 {
        return Err(CliError::ItemsFailed(String::new()));
    }
    Ok(())
}

/// Where an item came from, kept while it is in flight.
struct Origin {
    /// Index in the whole input.
    index: usize,
    id: Option<String>,
    line: u64,
    /// The item's hash in the output file's lines (`item_sha`).
    sha: u64,
}

/// Final counts of a run.
#[derive(Default)]
struct Counts {
    ok: usize,
    failed: usize,
    /// Failures that say nothing against the item (worth sending again later).
    transient: usize,
    not_attempted: usize,
}

fn execute(args: &RunArgs, plan: Plan, report: Option<CheckReport>) -> Result<(), CliError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Usage(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(execute_async(args, plan, report))
}

fn env_nonempty(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
}

/// Builds the client: against an in-process sandbox with `--sandbox`, else from the
/// environment and `--base-url`, refusing to go on without a token for the platform.
async fn client(args: &RunArgs) -> Result<(biolm::Client, Option<Sandbox>), CliError> {
    let (mut builder, sandbox) = if args.sandbox {
        let set = embedded::schema_set().map_err(|e| CliError::Usage(e.to_string()))?;
        let sandbox = Sandbox::start(SandboxConfig::new(SchemaSource::Set(Arc::new(set))))
            .await
            .map_err(|e| CliError::Usage(format!("cannot start the local sandbox: {e}")))?;
        note!(
            "biolm: synthetic results from the local sandbox at {} (no model is run; set BIOLM_TOKEN and drop --sandbox for real results)",
            sandbox.base_url()
        );
        (
            biolm::ClientBuilder::new().base_url(sandbox.base_url()),
            Some(sandbox),
        )
    } else {
        let mut b = biolm::ClientBuilder::from_env();
        let url = args
            .base_url
            .clone()
            .or_else(|| env_nonempty(&["BIOLM_BASE_API_URL", "BIOLMAI_BASE_API_URL"]))
            .unwrap_or_else(|| biolm::config::DEFAULT_BASE_URL.to_string());
        if let Some(u) = &args.base_url {
            b = b.base_url(u.clone());
        }
        if env_nonempty(&["BIOLM_TOKEN", "BIOLMAI_TOKEN"]).is_some() {
            if let Some(host) = plain_http_remote(&url) {
                note!(
                    "biolm: warning: the token goes over plain http to {host}, unencrypted: anyone on the way can read it; use https://"
                );
            }
        }
        if biolm::Target::detect(&url) == biolm::Target::Platform
            && env_nonempty(&["BIOLM_TOKEN", "BIOLMAI_TOKEN"]).is_none()
        {
            return Err(CliError::Usage(format!(
                "no API token: {url} needs one. Get a token at https://biolm.ai (account settings), then \
                 `export BIOLM_TOKEN=<your token>` and run again. To try the command without an account, add \
                 --sandbox: it runs against a local sandbox with synthetic results."
            )));
        }
        (b, None)
    };
    if let Some(b) = args.result_budget {
        builder = builder.result_budget(b);
    }
    if let Some(n) = args.concurrency {
        if n == 0 {
            return Err(CliError::Usage("--concurrency 0: give at least 1".into()));
        }
        builder = builder.concurrency(n);
    }
    if let Some(t) = &args.timeout {
        builder = builder.request_timeout(parse_seconds("--timeout", t)?);
    }
    if let Some(n) = args.max_attempts {
        if n == 0 {
            return Err(CliError::Usage(
                "--max-attempts 0: give at least 1 (1 sends each request once, never retrying)"
                    .into(),
            ));
        }
        builder = builder.retry(biolm::RetryPolicy {
            max_attempts: n,
            ..biolm::RetryPolicy::default()
        });
    }
    if let Some(path) = &args.cache {
        let cache = biolm::cache::Cache::open(path)?;
        builder = builder.cache(if args.sandbox { cache.sandbox() } else { cache });
    }
    if let Some(r) = &args.rate_limit {
        let limit: biolm::RateLimit = r
            .parse()
            .map_err(|e| CliError::Usage(format!("--rate-limit: {e}")))?;
        builder = builder.rate_limit(limit);
    }
    Ok((builder.build()?, sandbox))
}

/// The host of an `http://` URL that is not a loopback address (where a
/// token would travel unencrypted over a network).
fn plain_http_remote(url: &str) -> Option<String> {
    let rest = url.trim().strip_prefix("http://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = hostport.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        hostport.split(':').next()?
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (!loopback).then(|| host.to_string())
}

/// A positive, finite number of seconds (`90`, `2.5`) given to `flag`.
fn parse_seconds(flag: &str, text: &str) -> Result<Duration, CliError> {
    let bad = |why: &str| CliError::Usage(format!("{flag} {text:?}: {why}"));
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| bad("not a number of seconds (like 90 or 2.5)"))?;
    if !(secs.is_finite() && secs > 0.0) {
        return Err(bad("give a positive number of seconds"));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| bad("too long"))
}

fn progress_bar(quiet: bool, len: Option<usize>) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = match len {
        Some(n) => ProgressBar::new(n as u64),
        None => ProgressBar::new_spinner(),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(4));
    let template = if len.is_some() {
        "{elapsed_precise} [{bar:30}] {pos}/{len} items ({rate}, eta {eta})"
    } else {
        "{elapsed_precise} {spinner} {pos} items ({rate})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        let style = style.progress_chars("=> ").with_key(
            "rate",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} items/s", s.per_sec());
            },
        );
        bar.set_style(style);
    }
    bar
}

/// How long requests in flight may take to finish after SIGINT/SIGTERM
/// before they are cancelled (a second signal cancels them at once).
const GRACE: Duration = Duration::from_secs(10);

/// SIGINT and SIGTERM as exit codes (128 + signal number), as they arrive.
fn signals() -> tokio::sync::mpsc::UnboundedReceiver<u8> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let int = signal(SignalKind::interrupt());
        let term = signal(SignalKind::terminate());
        if let (Ok(mut int), Ok(mut term)) = (int, term) {
            tokio::spawn(async move {
                loop {
                    let code = tokio::select! {
                        Some(()) = int.recv() => 130,
                        Some(()) = term.recv() => 143,
                        else => break,
                    };
                    if tx.send(code).is_err() {
                        break;
                    }
                }
            });
        }
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if tx.send(130).is_err() {
                break;
            }
        }
    });
    rx
}

/// This command line, quoted for a POSIX shell, without secrets.
fn command_line() -> String {
    let quote = |a: String| {
        if !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
        {
            a
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    };
    let mut args = std::env::args_os().map(|a| quote(a.to_string_lossy().into_owned()));
    let first = args.next().unwrap_or_else(|| "biolm".into());
    let rest: Vec<String> = args.collect();
    crate::redact::text(&format!("{first} {}", rest.join(" ")))
}

async fn execute_async(
    args: &RunArgs,
    mut plan: Plan,
    report: Option<CheckReport>,
) -> Result<(), CliError> {
    let started = Instant::now();
    let (client, _sandbox) = client(args).await?;
    let spec = plan.spec;
    let input_path = match &plan.inputs {
        Inputs::File {
            path, name: None, ..
        } => Some(path.clone()),
        _ => None,
    };
    let (mut sink, done, failed_before) = match &args.output {
        Some(path) => {
            let fingerprint =
                crate::output::fingerprint(&spec.slug, &spec.action, plan.params.as_ref());
            let total = report.as_ref().map(|r| r.total);
            let job = biolm::output::Job {
                fingerprint,
                model: spec.slug.to_string(),
                action: spec.action.to_string(),
                items: total,
            };
            // The file's kind (JSONL, Parquet, npy) and, for columns, the response schema.
            let format = crate::output::FileFormat::resolve(
                path,
                args.output_format,
                &spec.slug,
                &spec.action,
            )?;
            let mut options = format
                .options()
                .retry_failed(args.retry_failed)
                .shard(args.shard);
            if let Some(i) = input_path.as_deref() {
                options = options.not_the_input(i);
            }
            let opened = Sink::open(path, &job, &options)?;
            if opened.retrying > 0 {
                note!(
                    "biolm: retrying {} items that failed in an earlier run",
                    opened.retrying
                );
            }
            if let Some(w) = opened.sink.writer() {
                if w.is_streaming() {
                    note!(
                        "biolm: {} is not a regular file (a pipe, FIFO, terminal or device): results are streamed to it as they complete; it is never read back, so this run cannot be resumed from it",
                        path.display()
                    );
                } else if !w.is_resumable() {
                    note!(
                        "biolm: {} is written as {}; it is not resumed: an interrupted run starts over in a new file (write plain .jsonl to resume)",
                        path.display(),
                        w.format_name()
                    );
                }
            }
            (opened.sink, opened.done, opened.failed_before)
        }
        None => (Sink::stdout(), biolm::jsonl::DoneSet::default(), 0),
    };
    let resumable = sink.writer().is_some_and(|w| w.is_resumable());
    let skipped = done.len();
    if skipped > 0 {
        if let Some(p) = &args.output {
            note!(
                "biolm: resuming {}: {skipped} items already done",
                p.display()
            );
        }
    }

    // Read records on a plain thread (file and stdin reads block) into a bounded channel.
    let (name, records) = open_records(&mut plan)?;
    let input_error: Arc<Mutex<Option<InputError>>> = Arc::new(Mutex::new(None));
    // The first input index whose item differs from its line in the output file.
    let mismatch: Arc<Mutex<Option<usize>>> = Arc::new(Mutex::new(None));
    // Records read from the input (the check when there was no validation pass).
    let read = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = tokio::sync::mpsc::channel::<(Origin, Value)>(1024);
    {
        let input_error = input_error.clone();
        let mismatch = mismatch.clone();
        let read = read.clone();
        let to_file = args.output.is_some();
        let shard = args.shard;
        std::thread::spawn(move || {
            for (index, rec) in records.enumerate() {
                match rec {
                    Ok(rec) => {
                        read.fetch_add(1, Ordering::SeqCst);
                        // `--shard I/N`: the other shards' items are passed over.
                        if shard.is_some_and(|s| !s.contains(index)) {
                            continue;
                        }
                        let sha = if to_file {
                            biolm::jsonl::item_sha(&rec.item, rec.id.as_deref())
                        } else {
                            0
                        };
                        match done.matches(index as u64, sha) {
                            Some(true) => continue,
                            Some(false) => {
                                if let Ok(mut m) = mismatch.lock() {
                                    *m = Some(index);
                                }
                                break;
                            }
                            None => {}
                        }
                        let origin = Origin {
                            index,
                            id: rec.id,
                            line: rec.line,
                            sha,
                        };
                        if tx.blocking_send((origin, rec.item)).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        if let Ok(mut slot) = input_error.lock() {
                            *slot = Some(e);
                        }
                        break;
                    }
                }
            }
        });
    }
    // After SIGINT/SIGTERM no item is taken from the input any more.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Items in flight, by the call's own index (which counts only the items sent).
    let origins: Arc<Mutex<HashMap<usize, Origin>>> = Arc::new(Mutex::new(HashMap::new()));
    let items = {
        let origins = origins.clone();
        futures_util::stream::unfold((rx, stop_rx, 0usize), move |(mut rx, mut stop, n)| {
            let origins = origins.clone();
            async move {
                if *stop.borrow() {
                    return None;
                }
                let (origin, item) = tokio::select! {
                    biased;
                    _ = stop.changed() => return None,
                    next = rx.recv() => next?,
                };
                if let Ok(mut o) = origins.lock() {
                    o.insert(n, origin);
                }
                Some((item, (rx, stop, n + 1)))
            }
        })
    };
    let mut call = client.call_stream::<Value, Value, Box<RawValue>, _>(spec, items);
    if let Some(p) = plan.params.clone() {
        call = call.params(p);
    }
    if let Some(n) = args.batch_size {
        call = call.batch_size(n);
    }
    if args.stop_on_error {
        call = call.stop_on_first_failure();
    }
    // Stdout gets lines in input order; a file gets them as they complete.
    let mut outcomes = if args.output.is_some() {
        call.stream()
    } else {
        call.ordered()
    };

    // The items this run is for: the whole input, or its shard.
    let expected = |total: usize| args.shard.map_or(total, |s| s.len_of(total));
    let bar = progress_bar(
        args.quiet,
        report
            .as_ref()
            .map(|r| expected(r.total).saturating_sub(skipped)),
    );
    let mut structures = match &args.structures_dir {
        Some(dir) => Some(StructureWriter::new(dir, plan.stems.take()).map_err(|e| {
            CliError::Usage(format!(
                "{}: cannot create the structures directory: {e}",
                dir.display()
            ))
        })?),
        None => None,
    };
    let print_invalid = report.is_none();
    let mut counts = Counts::default();
    let mut printed = 0usize;
    let mut signals = signals();
    // Set by the first signal: its exit code and when the requests in flight are cancelled.
    let mut interrupted: Option<(u8, tokio::time::Instant)> = None;
    let mut cancelled = false;
    loop {
        if let Some(index) = mismatch.lock().ok().and_then(|m| *m) {
            drop(outcomes);
            bar.finish_and_clear();
            return Err(sink.refuse_item(index));
        }
        let next = match outcomes.next().now_or_never() {
            Some(x) => x,
            None => {
                sink.flush()?;
                let deadline = interrupted.map(|(_, d)| d);
                tokio::select! {
                    x = outcomes.next() => x,
                    Some(code) = signals.recv() => {
                        if interrupted.is_some() {
                            // A second signal: cancel the requests in flight now.
                            cancelled = true;
                            break;
                        }
                        let _ = stop_tx.send(true);
                        interrupted = Some((code, tokio::time::Instant::now() + GRACE));
                        bar.suspend(|| note!(
                            "biolm: interrupted: sending no more items; waiting up to {} s for the requests in flight (interrupt again to stop now)",
                            GRACE.as_secs()
                        ));
                        continue;
                    }
                    () = async {
                        match deadline {
                            Some(d) => tokio::time::sleep_until(d).await,
                            None => std::future::pending().await,
                        }
                    } => {
                        cancelled = true;
                        break;
                    }
                }
            }
        };
        let Some(next) = next else { break };
        let (call_index, outcome) = match next {
            Ok(x) => x,
            Err(e) => {
                sink.flush()?;
                bar.finish_and_clear();
                return Err(CliError::Sdk(e));
            }
        };
        let origin = origins
            .lock()
            .ok()
            .and_then(|mut o| o.remove(&call_index))
            .unwrap_or(Origin {
                index: call_index,
                id: None,
                line: 0,
                sha: 0,
            });
        let id = origin.id.as_deref();
        match outcome {
            biolm::Outcome::Success(raw) => {
                counts.ok += 1;
                let raw = crate::redact::raw(&raw);
                if let Some(w) = structures.as_mut() {
                    w.write(origin.index, id, raw.get()).map_err(|e| {
                        CliError::Usage(format!(
                            "cannot write a structure file for item {}: {e}",
                            origin.index
                        ))
                    })?;
                }
                sink.line(origin.index, origin.sha, id, Some(&raw), None)?;
            }
            biolm::Outcome::Failed(mut e) => {
                counts.failed += 1;
                if e.kind.is_transient() {
                    counts.transient += 1;
                }
                e.index = origin.index;
                crate::redact::item_error(&mut e);
                let already_shown = !print_invalid && e.kind == biolm::ItemErrorKind::Invalid;
                if !already_shown {
                    printed += 1;
                    if printed <= 20 {
                        let idtext = id.map(|i| format!(" ({i})")).unwrap_or_default();
                        let field = e
                            .field
                            .as_deref()
                            .map(|f| format!("{f}: "))
                            .unwrap_or_default();
                        let status = e.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
                        let message = e.message.strip_prefix(&field).unwrap_or(&e.message);
                        let msg = format!(
                            "{}: item {}{idtext}: {field}{message}{status}",
                            location(&name, origin.line),
                            origin.index,
                        );
                        bar.suspend(|| note!("{msg}"));
                    }
                }
                sink.line(origin.index, origin.sha, id, None, Some(&e))?;
            }
            biolm::Outcome::NotAttempted => counts.not_attempted += 1,
        }
        bar.inc(1);
        if sink.pending() > (1 << 20) {
            sink.flush()?;
        }
    }
    // Cancels whatever is still in flight (after a second signal or the grace time).
    drop(outcomes);
    if let Some(index) = mismatch.lock().ok().and_then(|m| *m) {
        bar.finish_and_clear();
        return Err(sink.refuse_item(index));
    }
    sink.finish()?;
    bar.finish_and_clear();
    if printed > 20 {
        note!("... and {} more failed items", printed - 20);
    }
    let input_error = input_error.lock().ok().and_then(|mut e| e.take());
    let mut summary = format!(
        "{} ok, {} failed, {} not attempted",
        counts.ok, counts.failed, counts.not_attempted
    );
    if skipped > 0 {
        summary.push_str(&format!(", {skipped} already done"));
        if failed_before > 0 {
            summary.push_str(&format!(" ({failed_before} of them failed)"));
        }
    }
    if let Some(w) = &structures {
        summary.push_str(&format!(", {} structure files", w.written));
    }
    if let Some(c) = client.cache() {
        let n = c.counts();
        summary.push_str(&format!(
            "; cache: {} hits, {} misses, {} duplicates",
            n.hits, n.misses, n.duplicates
        ));
    }
    let secs = started.elapsed().as_secs_f64();
    if let Some((code, _)) = interrupted {
        let how = if cancelled {
            "the requests still in flight were cancelled"
        } else {
            "the requests in flight finished"
        };
        note!(
            "biolm: {}/{}: interrupted ({how}): {summary} in {secs:.1} s",
            spec.slug,
            spec.action
        );
        let hint = match &args.output {
            Some(p) if resumable => format!(
                "{} holds every result received; to finish the job, run the same command again:\n  {}",
                p.display(),
                command_line()
            ),
            Some(p) => format!(
                "{} cannot be resumed (see above): run the command again with another output path",
                p.display()
            ),
            None => "the results so far went to stdout; give -o FILE to make a run resumable".into(),
        };
        note!("biolm: {hint}");
        return Err(CliError::Interrupted(code));
    }
    note!(
        "biolm: {}/{}: {summary} in {secs:.1} s",
        spec.slug,
        spec.action
    );
    if let Some(e) = input_error {
        return Err(CliError::Input(e));
    }
    // Every item of the input gets exactly one outcome: a run that processed
    // fewer (or more) than the input holds is never a success.
    let processed = counts.ok + counts.failed + counts.not_attempted + skipped;
    match &report {
        Some(r) if processed != expected(r.total) => {
            return Err(CliError::ItemsFailed(format!(
                "{name}: the input holds {} items (for this run), but {processed} were processed; the output is incomplete: run the same command again",
                expected(r.total)
            )));
        }
        None if read.load(Ordering::SeqCst) == 0 => {
            return Err(CliError::Usage(format!(
                "{name}: the input holds no items (an empty file, or a header without rows); nothing to send"
            )));
        }
        _ => {}
    }
    if counts.failed > 0 || counts.not_attempted > 0 {
        let mut hint = String::new();
        if counts.not_attempted > 0 && resumable {
            hint.push_str("; run the same command again to send the items not attempted");
        }
        if counts.transient > 0 {
            hint.push_str(&format!(
                "; {} of the failures were transient (the server was unavailable or its answer unusable), not a verdict on the items: {}",
                counts.transient,
                if resumable {
                    "send them again later with the same command and --retry-failed"
                } else {
                    "send them again later"
                }
            ));
        }
        let mut what = format!(
            "{} of {} items failed",
            counts.failed,
            counts.ok + counts.failed + counts.not_attempted
        );
        if counts.not_attempted > 0 {
            what.push_str(&format!(", {} not attempted", counts.not_attempted));
        }
        return Err(CliError::ItemsFailed(format!("{what}{hint}")));
    }
    if failed_before > 0 {
        let path = args
            .output
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        return Err(CliError::ItemsFailed(format!(
            "{failed_before} items in {path} failed in an earlier run (their error lines are kept); \
             to send them again, run the same command with --retry-failed"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_to_a_remote_host_is_told_apart_from_loopback_and_https() {
        assert_eq!(
            plain_http_remote("http://user:pw@api.example.org:8000/api/v3?key=x"),
            Some("api.example.org".into())
        );
        assert_eq!(
            plain_http_remote("http://10.0.0.5/api/v3"),
            Some("10.0.0.5".into())
        );
        for quiet in [
            "https://biolm.ai/api/v3",
            "http://127.0.0.1:9/api/v3",
            "http://localhost:8000/api/v1",
            "http://[::1]:8000/api/v3",
        ] {
            assert_eq!(plain_http_remote(quiet), None, "{quiet}");
        }
    }
}
