//! The `biolm` command line: list the catalog's models, run them on FASTA, CSV,
//! JSON and JSONL files, serve a local sandbox, and manage schema sets.
//!
//! Data goes to stdout only; progress and status go to stderr. Exit codes: 0 when
//! everything succeeded, 1 when any item failed, 2 for usage, configuration and
//! input errors, 141 (as for a process killed by SIGPIPE) when stdout was closed
//! before all output was written (`biolm ... | head`).

/// Writes one status line to stderr. Unlike `eprintln!` it never panics: a
/// closed or broken stderr loses the message, not the run.
/// The line goes through the one redaction step ([`redact::terminal`]): no
/// secret, no terminal escape code.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let line = $crate::redact::terminal(&format!($($arg)*));
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }};
}

mod cache;
mod convert;
mod embedded;
mod input;
mod logging;
mod merge;
mod models;
mod output;
mod redact;
mod run;
mod schema;
mod serve;
mod structures;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Why a command stopped.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments or configuration (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Bad input data (exit 2).
    #[error(transparent)]
    Input(#[from] input::InputError),
    /// The SDK refused the call as a whole (exit 2 for configuration, else 1).
    #[error(transparent)]
    Sdk(#[from] biolm::Error),
    /// Writing output failed (exit 1).
    #[error("cannot write the output: {0}")]
    Io(#[from] std::io::Error),
    /// Some items failed (exit 1); the details were already printed.
    #[error("{0}")]
    ItemsFailed(String),
    /// Stopped by SIGINT (exit 130) or SIGTERM (exit 143); the summary and how
    /// to resume were already printed.
    #[error("")]
    Interrupted(u8),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Input(_) => 2,
            CliError::Sdk(e) => match e {
                biolm::Error::Config(_)
                | biolm::Error::CaBundle { .. }
                | biolm::Error::InvalidParams { .. }
                | biolm::Error::ResumeMismatch { .. }
                | biolm::Error::Jsonl { .. }
                | biolm::Error::Merge { .. }
                | biolm::Error::Cache { .. }
                | biolm::Error::InvalidShard(_) => 2,
                _ => 1,
            },
            CliError::Io(_) | CliError::ItemsFailed(_) => 1,
            CliError::Interrupted(code) => *code,
        }
    }
}

/// Run BioLM models from the command line.
#[derive(Debug, Parser)]
#[command(
    name = "biolm",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 success, 1 some items failed, 2 usage, configuration or input error.\n\
                  Token: BIOLM_TOKEN (get one at https://biolm.ai); base URL: BIOLM_BASE_API_URL.\n\
                  Warnings on stderr: BIOLM_LOG (EnvFilter syntax; default biolm=warn; BIOLM_LOG=biolm=debug\n\
                  adds retries and re-sends, BIOLM_LOG=off shows none).\n\
                  Examples:\n  \
                  biolm models show esm2-8m\n  \
                  biolm run esm2-8m encode -i proteins.fasta -o embeddings.jsonl\n  \
                  biolm run ablang2 encode -i antibodies.csv --sandbox\n  \
                  biolm run esmfold predict -i proteins.fasta --structures-dir pdb/ -o folds.jsonl"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the models this build knows, or show one model's actions and fields.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Run a model action on items from files, stdin or --sequence.
    Run(Box<run::RunArgs>),
    /// Inspect or prune a result cache file (`run --cache FILE`).
    #[command(subcommand)]
    Cache(cache::CacheCommand),
    /// Join the outputs of `run --shard I/N -o FILE` into one file, in input order.
    Merge(merge::MergeArgs),
    /// Rewrite an output file (JSONL) in another format, like Parquet.
    Convert(convert::ConvertArgs),
    /// A local BioLM-compatible server with synthetic results.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Generate, check, fetch and compare schema sets.
    #[command(subcommand)]
    Schemas(serve::SchemasCommand),
}

#[derive(Debug, Subcommand)]
enum SandboxCommand {
    /// Serve until Ctrl-C (default: the schemas built into this binary).
    Serve(Box<biolm_sandbox::ServeArgs>),
}

#[derive(Debug, Subcommand)]
enum ModelsCommand {
    /// Every model variant with its actions and batch limits.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Only the variants of this family.
        #[arg(long)]
        family: Option<String>,
    },
    /// One variant: its actions, batch limits, and every request field with type,
    /// limits and description.
    Show {
        /// The variant's slug, like `esm2-8m`.
        slug: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Exit status when stdout is closed early: 128 + SIGPIPE, as shells report it.
const BROKEN_PIPE_EXIT: u8 = 141;

/// A fixed mmap threshold for glibc's allocator. By default glibc moves the
/// threshold up to the largest block freed and, with it, how much free memory
/// it keeps at the top of its heaps; over a long run of big results (13 MB
/// responses, 2 MB results) that drift let peak memory grow 1.19-1.29x from
/// 200 to 2,000 proteins. A fixed threshold stops the drift. At 1 MiB
/// (blocks mapped afresh and zeroed by the kernel) peak memory stayed flat but
/// client CPU rose by a third; at 32 MiB (glibc's largest, so responses come
/// from the heaps) it stayed within 10% at the CPU of the default
/// (`benches/big_results.py`; README "Parquet output and the result budget").
/// glibc's own `MALLOC_MMAP_THRESHOLD_` in the environment wins (a user who
/// sets it has measured their own job).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn large_blocks_from_the_system() {
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some() {
        return;
    }
    // SAFETY: mallopt only sets a tuning parameter of glibc's allocator; it
    // is called first thing in main, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
    }
}

/// Other C libraries keep their own allocator's behaviour.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn large_blocks_from_the_system() {}

fn main() -> ExitCode {
    large_blocks_from_the_system();
    logging::init();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed stdout (`biolm ... | head`) ends the command quietly, with the
        // status a shell expects of a process stopped by SIGPIPE: the output is
        // incomplete, so it is not a success.
        Err(CliError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::from(BROKEN_PIPE_EXIT)
        }
        Err(e) => {
            let text = e.to_string();
            if !text.is_empty() {
                note!("error: {text}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

fn dispatch(cli: Cli) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let r = match cli.command {
        Command::Models(ModelsCommand::List { json, family }) => {
            models::list(&mut out, json, family.as_deref())
        }
        Command::Models(ModelsCommand::Show { slug, json }) => models::show(&mut out, &slug, json),
        Command::Run(args) => {
            drop(out);
            return run::run(*args);
        }
        Command::Cache(cmd) => cache::cache(cmd, &mut out),
        Command::Merge(args) => {
            drop(out);
            return merge::merge(args);
        }
        Command::Convert(args) => {
            drop(out);
            return convert::convert(args);
        }
        Command::Sandbox(SandboxCommand::Serve(args)) => {
            drop(out);
            return serve::sandbox_serve(*args);
        }
        Command::Schemas(cmd) => {
            drop(out);
            return serve::schemas(cmd);
        }
    };
    out.flush()?;
    r
}
