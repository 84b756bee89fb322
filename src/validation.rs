//! Client-side validation of items and params against an action's request
//! schema, with the validator compiled once per [`ActionSpec`] (in its [`SpecCache`](crate::spec::SpecCache)).

use biolm_catalog::validate::{Validator, Violation};
use serde_json::Value;

use crate::spec::ActionSpec;
use crate::Error;

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
