//! Downloading schemas (filled below).
