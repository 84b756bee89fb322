//! Client-side validation of items and params against an action's request
//! schema, with the validator compiled once per [`ActionSpec`] (in its [`SpecCache`](crate::spec::SpecCache)).
//!
//! The public entry points ([`validate_item`], [`validate_params`]) and the
//! call's own checks share the functions here.

use biolm_catalog::validate::{Validator, Violation};
use serde::Serialize;
use serde_json::Value;

use crate::outcome::{ItemError, ItemErrorKind};
use crate::spec::ActionSpec;
use crate::Error;

/// Checks one item against the action's request schema, as a call does
/// before sending. The error names the item's index and the field path.
pub fn validate_item<I: Serialize>(spec: &ActionSpec, index: usize, item: &I) -> Result<(), Error> {
    let checker = checker(spec)?;
    match prepare_item(checker, index, item, None) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::InvalidItem {
            index,
            field: e.field,
            message: e.message,
        }),
    }
}

/// Checks params against the action's request schema, as a call does before sending.
pub fn validate_params<P: Serialize>(spec: &ActionSpec, params: &P) -> Result<(), Error> {
    let value = serde_json::to_value(params).map_err(|e| Error::Serialize {
        what: "params".into(),
        source: e,
    })?;
    check_params(spec, &value, true).map(|_| ())
}

/// Checks a call's params (`value`, `Null` when none were set; `given` says
/// whether they were): `Ok(true)` when the action requires params (so they
/// are sent even when empty).
pub(crate) fn check_params(spec: &ActionSpec, value: &Value, given: bool) -> Result<bool, Error> {
    let Some(checker) = checker(spec)? else {
        return Ok(false);
    };
    let required = checker.params_required();
    if required && !given {
        return Err(Error::InvalidParams {
            slug: spec.slug.to_string(),
            action: spec.action.to_string(),
            message: "this action requires params: set them with `.params(..)`".into(),
        });
    }
    let problems = checker.check_params(if params_empty(value) {
        &Value::Null
    } else {
        value
    });
    warn_ignored_params(spec, checker, value);
    if problems.is_empty() {
        return Ok(required);
    }
    let (_, message) = join(&problems);
    Err(Error::InvalidParams {
        slug: spec.slug.to_string(),
        action: spec.action.to_string(),
        message,
    })
}

/// Whether params serialize to nothing worth sending (`null` or `{}`).
pub(crate) fn params_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// The spec's compiled validator: `Ok(None)` when the spec has no schema.
pub(crate) fn checker(spec: &ActionSpec) -> Result<Option<&Validator>, Error> {
    let Some(text) = spec.request_schema.as_deref() else {
        return Ok(None);
    };
    let compiled = spec.cache.validator.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(text).map_err(|e| format!("the schema is not JSON: {e}"))?;
        Validator::for_request(&schema).map_err(|e| e.to_string())
    });
    match compiled {
        Ok(c) => Ok(Some(c)),
        Err(message) => Err(Error::Schema {
            slug: spec.slug.to_string(),
            action: spec.action.to_string(),
            message: message.clone(),
        }),
    }
}

/// Warns (`tracing::warn!`) about params this variant's model drops without using them
/// (`x-biolm-ignored-params`: params of another variant of the family). They are sent
/// as given; the server accepts them. Returns their names.
pub(crate) fn warn_ignored_params(
    spec: &ActionSpec,
    validator: &Validator,
    params: &Value,
) -> Vec<String> {
    let ignored = validator.ignored_params(params);
    if !ignored.is_empty() {
        tracing::warn!(
            slug = %spec.slug,
            action = %spec.action,
            params = %ignored.join(", "),
            "{} ignores these params (they belong to another variant of the family); sent anyway, the server drops them",
            spec.slug
        );
    }
    ignored
}

/// The first violation's field path (if any) and all violations as one message.
pub(crate) fn join(problems: &[Violation]) -> (Option<String>, String) {
    let field = problems
        .first()
        .map(Violation::dotted_path)
        .filter(|f| !f.is_empty());
    let msg = problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    (field, msg)
}

/// One validated, serialized input item.
#[derive(Debug)]
pub(crate) struct Entry {
    pub index: usize,
    pub json: String,
}

/// Serializes and validates one item.
pub(crate) fn prepare_item<I: Serialize>(
    checker: Option<&biolm_catalog::validate::Validator>,
    index: usize,
    item: &I,
    params: Option<&serde_json::Value>,
) -> Result<Entry, ItemError> {
    let invalid = |field: Option<String>, message: String| ItemError {
        index,
        kind: ItemErrorKind::Invalid,
        field,
        status: None,
        request_id: None,
        message,
    };
    match checker {
        None => serde_json::to_string(item)
            .map(|json| Entry { index, json })
            .map_err(|e| invalid(None, format!("cannot be serialized to JSON: {e}"))),
        Some(c) => {
            let value = serde_json::to_value(item)
                .map_err(|e| invalid(None, format!("cannot be serialized to JSON: {e}")))?;
            // With params, request-level rules (params naming parts of the item) apply too.
            let problems = match params {
                Some(p) => c.check_item_with_params(&value, p),
                None => c.check_item(&value),
            };
            if !problems.is_empty() {
                let (field, message) = join(&problems);
                // The error shows the field before the message (`items[3].sequence: ...`):
                // drop the message's own copy of it.
                let message = match &field {
                    Some(f) => message
                        .strip_prefix(&format!("{f}: "))
                        .map(str::to_owned)
                        .unwrap_or(message),
                    None => message,
                };
                return Err(invalid(
                    field,
                    format!("{message}; the item was not sent, fix it and re-run"),
                ));
            }
            serde_json::to_string(&value)
                .map(|json| Entry { index, json })
                .map_err(|e| invalid(None, format!("cannot be serialized to JSON: {e}")))
        }
    }
}
