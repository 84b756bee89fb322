//! `biolm sandbox serve` and `biolm schemas ...`: thin front ends over the
//! `biolm-sandbox` and `biolm-codegen` libraries.

use std::path::Path;
use std::sync::Arc;

use biolm_sandbox::{SchemaSource, ServeArgs};

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
        let mut config = args
            .to_config()
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let from = if args.schemas == Path::new("schemas") && !args.schemas.is_dir() {
            let set = embedded::schema_set().map_err(|e| CliError::Usage(e.to_string()))?;
            config.schemas = SchemaSource::Set(Arc::new(set));
            "the schemas built into biolm".to_string()
        } else {
            args.schemas.display().to_string()
        };
        args.serve(config, &from)
            .await
            .map_err(|e| CliError::Usage(format!("cannot start the sandbox: {e}")))
    })
}

/// `biolm schemas ...` subcommands (the same as the `biolm-codegen` binary's).
pub use biolm_codegen::command::SchemasCommand;

/// Runs a `biolm schemas` subcommand; data (diff lines) on stdout, status on stderr.
pub fn schemas(cmd: SchemasCommand) -> Result<(), CliError> {
    use biolm_codegen::command::CommandError;
    biolm_codegen::command::run(cmd).map_err(|e| match e {
        CommandError::Usage(m) => CliError::Usage(m),
        CommandError::Problems(m) => CliError::ItemsFailed(m),
    })
}
