//! BioLM SDK.
