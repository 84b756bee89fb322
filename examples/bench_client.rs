//! The SDK side of `benches/compare.py`: embed every record of a FASTA file with
//! esm2-8m through the async or the blocking client, and print a JSON summary.
//!
//! ```text
//! cargo run --release --example bench_client -- MODE FILE.fasta BASE_URL [CONCURRENCY]
//! ```
//!
//! MODE is `async` (a tokio multi-thread runtime, as `#[tokio::main]` makes),
//! `async-current-thread` (a single-threaded tokio runtime) or `blocking`.

use std::path::Path;

use biolm::esm2::Esm2EncodeItem;

fn read_sequences(path: &Path) -> std::io::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)?;
    let mut seqs: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with('>') {
            seqs.push(String::new());
        } else if let Some(s) = seqs.last_mut() {
            s.push_str(line.trim());
        }
    }
    Ok(seqs)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, mode, fasta, base_url, rest @ ..] = args.as_slice() else {
        return Err("usage: bench_client async|async-current-thread|blocking FILE.fasta BASE_URL [CONCURRENCY]".into());
    };
    let concurrency: usize = rest.first().map_or(Ok(16), |c| c.parse())?;
    let items: Vec<Esm2EncodeItem> = read_sequences(Path::new(fasta))?
        .into_iter()
        .map(Esm2EncodeItem::new)
        .collect();
    let n = items.len();
    let builder = biolm::Client::builder()
        .base_url(base_url.as_str())
        .token("bench")
        .concurrency(concurrency);
    let start = std::time::Instant::now();
    let outcomes = match mode.as_str() {
        "async" | "async-current-thread" => {
            let rt = if mode == "async" {
                tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()?
            } else {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?
            };
            rt.block_on(async move {
                let client = builder.build()?;
                client.esm2_8m().encode(items).await
            })?
        }
        "blocking" => {
            let client = biolm::blocking::Client::from_builder(builder)?;
            client.esm2_8m().encode(items).send()?
        }
        other => {
            return Err(
                format!("unknown mode `{other}` (async, async-current-thread or blocking)").into(),
            )
        }
    };
    let ok = outcomes.iter().filter(|o| o.is_success()).count();
    let dims: usize = outcomes
        .iter()
        .filter_map(|o| o.ok())
        .filter_map(|r| r.embeddings.as_ref())
        .filter_map(|layers| layers.first())
        .map(|l| l.embedding.len())
        .sum();
    println!(
        "{{\"mode\":\"{mode}\",\"items\":{n},\"ok\":{ok},\"failed\":{},\"floats\":{dims},\"wall_s\":{:.3}}}",
        n - ok,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
