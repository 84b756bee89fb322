//! Static descriptions of the catalog's models and actions.
//!
//! The generated layer emits one [`VariantSpec`] per model variant (slug) and one
//! [`ActionSpec`] per (variant, action) pair, as `static` items. The runtime reads
//! everything it needs from them: the URL path on each target, the batch limit,
//! and the request schema used for client-side validation. Specs for models the
//! generated layer does not know can be built at run time (see
//! [`ActionSpec::untyped`]), which is how the untyped escape hatch works.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

/// One deployable model variant, such as `esm2-650m`.
#[derive(Debug)]
pub struct VariantSpec {
    /// URL slug of the variant.
    pub slug: &'static str,
    /// Family the variant belongs to (its Rust module and cargo feature).
    pub family: &'static str,
    /// Human name.
    pub display_name: &'static str,
    /// Embedding dimension, where the schema set records one.
    pub embedding_dim: Option<u32>,
    /// The variant's actions.
    pub actions: &'static [ActionSpec],
}

impl VariantSpec {
    /// The action called `name` (platform or gateway name).
    pub fn action(&self, name: &str) -> Option<&ActionSpec> {
        self.actions
            .iter()
            .find(|a| a.action == name || a.gateway_action == name)
    }
}

/// One (variant, action) pair: everything the runtime needs to call it.
#[derive(Debug)]
pub struct ActionSpec {
    /// URL slug of the variant.
    pub slug: Cow<'static, str>,
    /// Family the variant belongs to.
    pub family: Cow<'static, str>,
    /// Action name on the hosted platform (`/api/v3/{slug}/{action}/`).
    pub action: Cow<'static, str>,
    /// Action name on a catalog gateway (`/api/v1/{slug}/{gateway_action}`).
    pub gateway_action: Cow<'static, str>,
    /// Most items per request (the schema's `items.maxItems`).
    pub max_items: usize,
    /// Fewest items per request (the schema's `items.minItems`).
    pub min_items: usize,
    /// Whether one input item may yield several results (`generate` with samples).
    pub multi_result: bool,
    /// The server's rate limit when the schema states one, like `"20/second"`.
    pub throttle_rate: Option<Cow<'static, str>>,
    /// `false` when the action samples (`x-biolm-deterministic: false` in its
    /// schema): its results vary between calls unless params set a `seed`,
    /// so the result cache reuses them only for seeded calls.
    pub deterministic: bool,
    /// The effective request JSON Schema of this variant, as JSON text; `None`
    /// for untyped calls to actions without a schema (nothing is checked locally).
    pub request_schema: Option<Cow<'static, str>>,
    /// Lazily compiled validator for `request_schema`.
    pub cache: SpecCache,
}

/// Lazily built, shared state of an [`ActionSpec`] (its compiled validator).
///
/// Created empty with [`SpecCache::new`] in `static` items.
#[derive(Debug, Default)]
pub struct SpecCache {
    pub(crate) validator: OnceLock<Result<biolm_catalog::validate::Validator, String>>,
}

impl SpecCache {
    /// An empty cache.
    pub const fn new() -> Self {
        SpecCache {
            validator: OnceLock::new(),
        }
    }
}

impl ActionSpec {
    /// A spec for a `slug/action` pair the generated layer does not know:
    /// `max_items` items per request, no local validation.
    pub fn untyped(
        slug: impl Into<String>,
        action: impl Into<String>,
        max_items: usize,
    ) -> ActionSpec {
        let action = action.into();
        ActionSpec {
            slug: Cow::Owned(slug.into()),
            family: Cow::Borrowed(""),
            gateway_action: Cow::Owned(action.clone()),
            action: Cow::Owned(action),
            max_items: max_items.max(1),
            min_items: 1,
            multi_result: false,
            throttle_rate: None,
            deterministic: true,
            request_schema: None,
            cache: SpecCache::new(),
        }
    }
}

/// What the accessor of a model whose cargo feature is off returns; such an
/// accessor never compiles (its error names the feature to enable).
#[doc(hidden)]
#[derive(Debug)]
pub struct FeatureOff;

/// An [`ActionSpec`] from the generated catalog or built at run time.
#[derive(Debug, Clone)]
pub(crate) enum SpecRef {
    Static(&'static ActionSpec),
    Owned(Arc<ActionSpec>),
}

impl SpecRef {
    pub(crate) fn get(&self) -> &ActionSpec {
        match self {
            SpecRef::Static(s) => s,
            SpecRef::Owned(s) => s,
        }
    }
}
