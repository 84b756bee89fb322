//! Synthetic results tied to the request where the schema ties them.

mod common;

use biolm_sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Value};

#[tokio::test]
async fn ablang2_generate_keeps_each_chains_length() {
    let sb = Sandbox::start(SandboxConfig::new(common::reference_dir()))
        .await
        .unwrap();
    let heavy = "EVQLVESGGGLVQPGGSLRLS*AAS"; // 25 residues, one to restore
    let light = "DIQMTQSPSSLSASVGDRVT*TC"; // 23 residues
    assert_eq!((heavy.len(), light.len()), (25, 23));
    let body = json!({"items": [
        {"heavy_chain": heavy, "light_chain": light},
        {"heavy_chain": "EVQL*", "light_chain": "DIQMTQSP"},
    ]});
    let resp: Value = reqwest::Client::new()
        .post(format!("{}/ablang2/generate/", sb.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lens: Vec<(usize, usize)> = resp["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["heavy_chain"].as_str().unwrap().len(),
                r["light_chain"].as_str().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(lens, vec![(25, 23), (5, 8)], "{resp}");
}
