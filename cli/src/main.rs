//! The `biolm` command line.

mod input;
mod schema;

fn main() {}
