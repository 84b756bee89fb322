//! Changes between two schema sets (placeholder replaced below).
