//! `allOf`: merging schemas.
