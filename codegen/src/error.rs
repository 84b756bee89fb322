//! The generator's error type.

/// A schema the generator cannot turn into Rust.
///
/// The same type as a schema file that cannot be loaded
/// ([`biolm_catalog::LoadError`]): it always names the file and the JSON pointer
/// of the offending schema node, and says what is wrong and what to change.
pub type CodegenError = biolm_catalog::LoadError;
