//! Async quickstart: fold a few proteins with ESMFold and embed them with ESM-2.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! With `BIOLM_TOKEN` set this calls the hosted BioLM platform; without it, it
//! starts the local sandbox, whose results are synthetic.

mod common;

use biolm::esm2::{Esm2EncodeIncludeOptions, Esm2EncodeItem, Esm2EncodeParams};
use biolm::esmfold::EsmfoldPredictItem;
use biolm::Outcome;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let conn = common::connect().await?;
    let fasta =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/proteins.fasta");
    let summary = run(&conn.client, &common::read_fasta(&fasta)?).await?;
    println!("{summary}");
    Ok(())
}

/// Folds and embeds `records`; returns a short report, one line per record.
pub async fn run(
    client: &biolm::Client,
    records: &[(String, String)],
) -> Result<String, Box<dyn std::error::Error>> {
    // Items are checked against the model's schema before anything is sent.
    let folds = client
        .esmfold()
        .predict(
            records
                .iter()
                .map(|(_, seq)| EsmfoldPredictItem::new(seq.clone()))
                .collect::<Vec<_>>(),
        )
        .await?;

    let params = Esm2EncodeParams::new().with_include(vec![Esm2EncodeIncludeOptions::Mean]);
    let embeddings = client
        .esm2_8m()
        .encode(
            records
                .iter()
                .map(|(_, seq)| Esm2EncodeItem::new(seq.clone()))
                .collect::<Vec<_>>(),
        )
        .params(params)
        .await?;

    let mut report = String::new();
    for (((id, _), fold), emb) in records.iter().zip(&folds).zip(&embeddings) {
        let fold = match fold {
            Outcome::Success(f) => format!("pLDDT {:.2}, pTM {:.2}", f.mean_plddt, f.ptm),
            other => format!("fold failed: {other:?}"),
        };
        let emb = match emb {
            Outcome::Success(e) => {
                let dim = e
                    .embeddings
                    .as_ref()
                    .and_then(|layers| layers.first())
                    .map_or(0, |l| l.embedding.len());
                format!("embedding of {dim} numbers")
            }
            other => format!("embedding failed: {other:?}"),
        };
        report.push_str(&format!("{id}: {fold}; {emb}\n"));
    }
    Ok(report)
}
