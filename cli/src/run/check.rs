//! Checking records against the action's request schema before sending
//! (`--dry-run`, and the pass before a real run).

use super::*;

/// Counts of a validation pass.
pub(super) struct CheckReport {
    pub(super) total: usize,
    pub(super) invalid: usize,
}

/// The location of a record for messages: `file:line` (`--sequence` values are
/// numbered `--sequence #n`).
pub(super) fn location(name: &str, line: u64) -> String {
    if name == "--sequence" {
        format!("--sequence #{line}")
    } else {
        format!("{name}:{line}")
    }
}

/// The action's compiled validator (none for actions without a request schema).
pub(super) struct Checker {
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

    /// Checks the params; the message lists every violation. With
    /// `say_ignored`, params of another variant (which the model drops) are
    /// warned about here: a dry run sends nothing, so the SDK, which warns
    /// about them when a call starts, never sees them.
    fn check_params(&self, params: Option<&Value>, say_ignored: bool) -> Result<(), CliError> {
        let Some(v) = &self.validator else {
            return Ok(());
        };
        // No params is checked as such: an action that requires them refuses it.
        let p = params.unwrap_or(&Value::Null);
        let problems = v.check_params(p);
        let ignored = v.ignored_params(p);
        if say_ignored && !ignored.is_empty() {
            note!("biolm: warning: this variant ignores params {} (another variant's; sent anyway, the server drops them)", ignored.join(", "));
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
/// differs from its line in the file stops the check. `dry_run`: nothing will
/// be sent (the SDK's warnings about the params are said here).
pub(super) fn check_all(
    plan: &mut Plan,
    show: usize,
    resume: Option<(&Path, &biolm::jsonl::DoneSet)>,
    mut stems: Option<&mut StemIndex>,
    dry_run: bool,
) -> Result<CheckReport, CliError> {
    let mut checker = Checker::new(plan.spec)?;
    checker.check_params(plan.params.as_ref(), dry_run)?;
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

pub(super) fn dry_run(plan: &mut Plan) -> Result<(), CliError> {
    let start = Instant::now();
    let report = check_all(plan, usize::MAX, None, None, true)?;
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
