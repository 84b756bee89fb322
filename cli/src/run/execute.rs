//! Running the call: the async runtime, signals, progress, and writing each
//! outcome to its sink as it completes.

use super::*;

pub(super) struct Origin {
    /// Index in the whole input.
    index: usize,
    id: Option<String>,
    line: u64,
    /// The item's hash in the output file's lines (`item_sha`).
    sha: u64,
}

/// Final counts of a run.
#[derive(Default)]
pub(super) struct Counts {
    ok: usize,
    failed: usize,
    /// Failures that say nothing against the item (worth sending again later).
    transient: usize,
    not_attempted: usize,
}

pub(super) fn execute(
    args: &RunArgs,
    plan: Plan,
    report: Option<CheckReport>,
) -> Result<(), CliError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Usage(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(execute_async(args, plan, report))
}

pub(super) fn progress_bar(quiet: bool, len: Option<usize>) -> ProgressBar {
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
    // The SDK's warnings are written above the bar, not through it.
    crate::logging::show_above(&bar);
    bar
}

/// How long requests in flight may take to finish after SIGINT/SIGTERM
/// before they are cancelled (a second signal cancels them at once).
pub(super) const GRACE: Duration = Duration::from_secs(10);

/// SIGINT and SIGTERM as exit codes (128 + signal number), as they arrive.
pub(super) fn signals() -> tokio::sync::mpsc::UnboundedReceiver<u8> {
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
pub(super) fn command_line() -> String {
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

pub(super) async fn execute_async(
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
    let mut call = client.call_stream::<Value, Value, RawResult, _>(spec, items);
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
    if interrupted.is_some() {
        // Resumed by the same command: a Parquet (.npz, npy) output stays unfinished.
        sink.suspend()?;
    } else {
        sink.finish()?;
    }
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
