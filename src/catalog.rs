//! The generated catalog of every model variant and action.

use crate::spec::VariantSpec;

/// Every variant of the catalog (whatever cargo features are on).
pub fn variants() -> &'static [VariantSpec] {
    crate::generated::CATALOG
}

/// The variant with this slug.
pub fn find(slug: &str) -> Option<&'static VariantSpec> {
    variants().iter().find(|v| v.slug == slug)
}
