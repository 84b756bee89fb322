//! The SDK's `tracing` events on stderr: by default its warnings (a result
//! budget smaller than one response, params a model ignores, a cache that
//! cannot be read or written), written like the command's other status lines,
//! `biolm: warning: <message>`. `BIOLM_LOG` (`EnvFilter` syntax, like
//! `RUST_LOG`) shows more or less: `BIOLM_LOG=biolm=debug` adds the engine's
//! retries and re-sends, `BIOLM_LOG=off` shows nothing.
//!
//! Every line goes through the CLI's one redaction step
//! ([`crate::redact::terminal`]): no secret and no control character reaches
//! the terminal through a log line; a line break inside a message is written
//! as `\n`, so one event is one line. While a progress bar is shown, a line is
//! written above it ([`show_above`]).

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Mutex;

use indicatif::ProgressBar;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::EnvFilter;

/// The environment variable that sets what is shown.
pub const ENV: &str = "BIOLM_LOG";

/// What is shown without [`ENV`]: warnings and errors of the SDK and of this
/// command (both are the crate `biolm` to `tracing`), nothing of the
/// libraries below them (reqwest, hyper, rustls). A `tracing` target matches
/// a directive by its start, so `biolm=` covers `biolm_sandbox` too: its
/// schema warnings ("skipping ...") are left out, as `biolm sandbox serve`
/// prints the skipped actions as status lines of its own (and the schemas
/// built into this binary have none); its server's warnings (a failed
/// `accept`, as when out of file descriptors) are kept.
pub const DEFAULT_FILTER: &str = "biolm=warn,biolm_sandbox=error,biolm_sandbox::server=warn";

/// Installs the stderr subscriber, once, first thing in `main`. An invalid
/// [`ENV`] is said on stderr and the default is used.
pub fn init() {
    let (filter, invalid) = match std::env::var(ENV) {
        Ok(s) if !s.trim().is_empty() => match EnvFilter::try_new(&s) {
            Ok(f) => (f, None),
            Err(e) => (EnvFilter::new(DEFAULT_FILTER), Some((s, e))),
        },
        _ => (EnvFilter::new(DEFAULT_FILTER), None),
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .event_format(LineFormat)
        .with_writer(StderrLines);
    // Fails only when a subscriber is already set (never, in this binary).
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(layer)
        .try_init();
    if let Some((s, e)) = invalid {
        note!("biolm: warning: {ENV}={s:?} is not a filter ({e}); showing the default ({DEFAULT_FILTER}). Example: {ENV}=biolm=debug");
    }
}

/// The progress bar on stderr now, if any: log lines are written above it.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Writes log lines above `bar` (instead of through it) from now on.
pub fn show_above(bar: &ProgressBar) {
    if let Ok(mut b) = BAR.lock() {
        *b = Some(bar.clone());
    }
}

/// One event, as the command's other status lines:
/// `biolm: warning: <message> (<field>=<value>, ...)`. Fields whose value the
/// message already shows (as a whole word) are left out. Below WARN (`info`,
/// `debug`, `trace`, asked for with [`ENV`]) the line also names the event's
/// module and its spans with their fields, for diagnosis.
pub struct LineFormat;

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        let level = *meta.level();
        let mut fields = Fields::default();
        event.record(&mut fields);
        write!(writer, "biolm: {}: ", level_word(level))?;
        let verbose = level > Level::WARN;
        if verbose {
            let target = fields.log_target.as_deref().unwrap_or(meta.target());
            write!(writer, "{target}: ")?;
            if let Some(scope) = ctx.event_scope() {
                for span in scope.from_root() {
                    write!(writer, "{}", span.name())?;
                    let ext = span.extensions();
                    if let Some(f) = ext.get::<FormattedFields<N>>().filter(|f| !f.is_empty()) {
                        write!(writer, "{{{f}}}")?;
                    }
                    write!(writer, ": ")?;
                }
            }
        }
        write!(writer, "{}", fields.message)?;
        let shown: Vec<String> = fields
            .others
            .iter()
            .filter(|(_, v)| !mentions(&fields.message, v))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !shown.is_empty() {
            write!(writer, " ({})", shown.join(", "))?;
        }
        writeln!(writer)
    }
}

fn level_word(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warning",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

/// Whether `message` holds `value` as a whole word (not inside a longer
/// number or name): `1000` in `budget (1000 bytes)`, not in `10000`.
fn mentions(message: &str, value: &str) -> bool {
    if value.is_empty() {
        return true;
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    message.match_indices(value).any(|(at, _)| {
        !word(message[..at].chars().next_back())
            && !word(message[at + value.len()..].chars().next())
    })
}

/// An event's message and its other fields, as text.
#[derive(Default)]
struct Fields {
    message: String,
    others: Vec<(&'static str, String)>,
    /// The real target of a `log` record (reqwest's, say), which reaches
    /// `tracing` with the target `log` and its own in fields `log.*`.
    log_target: Option<String>,
}

impl Fields {
    fn add(&mut self, field: &Field, value: String) {
        match field.name() {
            "message" => self.message.push_str(&value),
            "log.target" => self.log_target = Some(value),
            // Where a `log` record was made: file, line, module.
            name if name.starts_with("log.") => {}
            name => self.others.push((name, value)),
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.add(field, value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.add(field, text);
    }
}

/// Makes one [`StderrLine`] per event.
pub struct StderrLines;

impl<'a> MakeWriter<'a> for StderrLines {
    type Writer = StderrLine;

    fn make_writer(&'a self) -> StderrLine {
        StderrLine(Vec::new())
    }
}

/// One formatted event, written to stderr when dropped: redacted, with
/// control characters escaped, as one line, above the progress bar.
pub struct StderrLine(Vec<u8>);

impl std::io::Write for StderrLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for StderrLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let line = terminal_line(&String::from_utf8_lossy(&self.0));
        let write = || {
            // A closed or broken stderr loses the line, not the run.
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        };
        let bar = BAR.lock().ok().and_then(|b| b.clone());
        match bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

/// `text` as one terminal line: without the run's secrets, control
/// characters escaped, and line breaks inside it written as `\n`.
pub fn terminal_line(text: &str) -> String {
    let text = text.strip_suffix('\n').unwrap_or(text);
    crate::redact::terminal(text).replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_the_message_shows_is_left_out() {
        assert!(mentions("the budget (1000 bytes) is small", "1000"));
        assert!(!mentions("the budget (10000 bytes) is small", "1000"));
        assert!(!mentions("the budget (1000x) is small", "1000"));
        assert!(mentions("esm2-8m ignores these params", "esm2-8m"));
        assert!(!mentions("cache lookup failed", "disk I/O error"));
    }

    #[test]
    fn a_secret_in_a_log_line_is_redacted() {
        // The run's redactor is process-wide; no other test of this binary
        // prints this token.
        crate::redact::init(biolm::secret::Redactor::new().with_token("sk-logline-7f3a9c2e51"));
        let line = terminal_line("biolm: warning: cannot store results in the cache (error=/tmp/sk-logline-7f3a9c2e51/c.sqlite: disk full)\n");
        assert!(!line.contains("sk-logline-7f3a9c2e51"), "{line}");
        assert!(line.contains("***"), "{line}");
    }

    #[test]
    fn a_line_is_one_line_without_control_characters() {
        assert_eq!(
            terminal_line("biolm: warning: a\nforged\u{1b}[2J line\n"),
            "biolm: warning: a\\nforged\\u{1b}[2J line"
        );
    }

    /// The events of a `tracing` dispatcher with this module's format and
    /// filter, as written (before the stderr step).
    fn formatted(filter: &str, emit: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Buf(std::sync::Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let out = buf.clone();
        let sub = tracing_subscriber::registry()
            .with(EnvFilter::new(filter))
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .event_format(LineFormat)
                    .with_writer(move || out.clone()),
            );
        tracing::subscriber::with_default(sub, emit);
        let bytes = buf.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn warnings_are_written_like_status_lines() {
        let text = formatted(DEFAULT_FILTER, || {
            tracing::warn!(budget = 1000u64, needed = 52000u64, "the result budget ({} bytes) is smaller than one batch's response (about {} bytes)", 1000, 52000);
            tracing::warn!(error = %"disk I/O error", "cache lookup failed; sending the item");
            tracing::info!("not shown by default");
            tracing::warn!(target: "biolm_sandbox", "skipping a/b: not shown by default");
            tracing::warn!(target: "biolm_sandbox::server", "accept failed: too many open files");
            tracing::warn!(target: "hyper_util::client", "another library: not shown by default");
        });
        assert_eq!(
            text,
            "biolm: warning: the result budget (1000 bytes) is smaller than one batch's response (about 52000 bytes)\n\
             biolm: warning: cache lookup failed; sending the item (error=disk I/O error)\n\
             biolm: warning: accept failed: too many open files\n"
        );
    }

    #[test]
    fn debug_lines_name_their_module_and_spans() {
        let text = formatted("biolm=debug", || {
            let span = tracing::info_span!("biolm.call", slug = "esm2-8m");
            let _g = span.enter();
            tracing::debug!(attempt = 2u32, "retrying");
        });
        assert_eq!(
            text,
            "biolm: debug: biolm::logging::tests: biolm.call{slug=\"esm2-8m\"}: retrying (attempt=2)\n"
        );
    }
}
