//! Local BioLM-compatible sandbox server.
