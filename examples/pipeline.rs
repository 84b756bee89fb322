//! A concurrent multi-model pipeline: fold sequences with ESMFold and, as each
//! structure arrives, embed its sequence with ESM-2 650M, both on one client
//! (one connection pool and one concurrency limit shared by both models).
//!
//! ```text
//! cargo run --example pipeline
//! ```

mod common;

use biolm::esm2::Esm2EncodeItem;
use biolm::esmfold::EsmfoldPredictItem;
use biolm::Outcome;
use futures_util::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let conn = common::connect().await?;
    let fasta =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/proteins.fasta");
    let records = common::read_fasta(&fasta)?;
    for line in run(&conn.client, records).await? {
        println!("{line}");
    }
    Ok(())
}

/// Folds every record, then embeds each folded sequence as soon as its fold is
/// done; returns one line per record, in input order.
pub async fn run(
    client: &biolm::Client,
    records: Vec<(String, String)>,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let items: Vec<EsmfoldPredictItem> = records
        .iter()
        .map(|(_, s)| EsmfoldPredictItem::new(s.clone()))
        .collect();
    let mut folds = client.esmfold().predict(items).stream();
    let esm = client.esm2_650m();
    let mut lines = vec![String::new(); records.len()];
    let mut embeds = Vec::new();
    // Start an embedding call for each structure as soon as it completes.
    while let Some(next) = folds.next().await {
        // A call-level error (bad params, an unreachable server) ends the stream with Err.
        let (index, outcome) = next?;
        let (id, seq) = records[index].clone();
        match outcome {
            Outcome::Success(fold) => {
                let esm = esm.clone();
                embeds.push(tokio::spawn(async move {
                    let emb = esm.encode([Esm2EncodeItem::new(seq)]).await;
                    (index, id, fold.mean_plddt, emb)
                }));
            }
            other => lines[index] = format!("{id}: fold failed: {other:?}"),
        }
    }
    for task in embeds {
        let (index, id, plddt, emb) = task.await?;
        let emb = match emb?.into_iter().next() {
            Some(Outcome::Success(e)) => {
                format!("{} layer(s) embedded", e.embeddings.map_or(0, |l| l.len()))
            }
            Some(other) => format!("embedding failed: {other:?}"),
            None => "no outcome".to_string(),
        };
        lines[index] = format!("{id}: folded (pLDDT {plddt:.2}); {emb}");
    }
    Ok(lines)
}
