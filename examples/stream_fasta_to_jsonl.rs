//! Stream a FASTA file of any size through ESM-2 into a resumable JSONL file.
//!
//! ```text
//! cargo run --release --example stream_fasta_to_jsonl -- input.fasta out.jsonl
//! ```
//!
//! Records are read lazily, so memory stays bounded by the requests in flight
//! whatever the file's length. Each output line carries the record's index;
//! re-running the same command after an interruption (Ctrl-C, a crash) finishes
//! the missing items only. Without `BIOLM_TOKEN` the local sandbox answers.

mod common;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use biolm::esm2::Esm2EncodeItem;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (input, output) = match args.as_slice() {
        [_, input, output] => (input.clone(), output.clone()),
        _ => {
            let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/proteins.fasta");
            (data.display().to_string(), "embeddings.jsonl".to_string())
        }
    };
    let conn = common::connect().await?;
    let summary = run(&conn.client, Path::new(&input), Path::new(&output)).await?;
    eprintln!("{summary:?}");
    Ok(())
}

/// Lazily yields the sequences of a FASTA file (one record at a time).
pub fn fasta_sequences(
    path: &Path,
) -> std::io::Result<impl Iterator<Item = String> + Send + 'static> {
    let mut lines = BufReader::new(File::open(path)?).lines();
    let mut pending: Option<String> = None;
    Ok(std::iter::from_fn(move || loop {
        match lines.next() {
            Some(Ok(line)) => {
                let line = line.trim();
                if line.starts_with('>') {
                    if let Some(seq) = pending.replace(String::new()) {
                        if !seq.is_empty() {
                            return Some(seq);
                        }
                    }
                } else if let Some(seq) = pending.as_mut() {
                    seq.push_str(line);
                }
            }
            // A read error ends the stream; the examples keep error handling short.
            Some(Err(_)) | None => return pending.take().filter(|s| !s.is_empty()),
        }
    }))
}

/// Embeds every record of `input` into `output` (JSONL), resuming a previous run.
pub async fn run(
    client: &biolm::Client,
    input: &Path,
    output: &Path,
) -> Result<biolm::JsonlSummary, Box<dyn std::error::Error>> {
    let esm = client.esm2_8m();
    let items = fasta_sequences(input)?.map(Esm2EncodeItem::new);
    Ok(esm.encode(items).write_jsonl(output).await?)
}
