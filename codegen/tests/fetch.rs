//! `fetch` against the sandbox over loopback (gateway and platform styles), and
//! the OpenAPI splitter on the reference catalog's real `openapi.json`.

mod common;

use std::path::{Path, PathBuf};

use biolm_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

fn reference_dir() -> PathBuf {
    common::reference_dir()
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn gateway_fetch_from_sandbox_round_trips_every_pair() {
    let sandbox = Sandbox::start_blocking(SandboxConfig::new(reference_dir())).unwrap();
    let out = tempfile::tempdir().unwrap();
    let report = biolm_codegen::fetch::fetch_gateway(&sandbox.gateway_url(), out.path()).unwrap();
    assert_eq!(report.pairs.len(), 120);
    // The fetched request schema is the one the sandbox serves for that pair.
    let fetched = read(&out.path().join("esm2-8m/encode.request.json"));
    assert_eq!(
        fetched,
        read(&reference_dir().join("esm2-8m/encode.request.json"))
    );
    // mpnn variants carry their own params (override applied by the server).
    let ligand = read(&out.path().join("ligand-mpnn/generate.request.json"));
    assert!(
        ligand.to_string().contains("LigandMPNNGenerateParams"),
        "{ligand}"
    );
    // The fetched directory loads and generates.
    let set = biolm_catalog::load_dir(out.path()).unwrap();
    assert_eq!(set.pair_count(), 120);
    let generated = biolm_codegen::generate(&set).unwrap();
    assert!(generated.code.contains("pub fn esm2_8m(&self)"));
}

#[test]
fn platform_fetch_from_sandbox_reads_the_schema_endpoint() {
    let sandbox = Sandbox::start_blocking(SandboxConfig::new(reference_dir())).unwrap();
    let out = tempfile::tempdir().unwrap();
    let pairs = vec![
        ("esm2-8m".to_string(), "encode".to_string()),
        ("progen2-oas".to_string(), "generate".to_string()),
    ];
    let report =
        biolm_codegen::fetch::fetch_platform(&sandbox.base_url(), &pairs, out.path()).unwrap();
    assert_eq!(report.pairs, pairs);
    let fetched = read(&out.path().join("progen2-oas/generate.request.json"));
    assert_eq!(
        fetched,
        read(&reference_dir().join("progen2-oas/generate.request.json"))
    );
    let set = biolm_catalog::load_dir(out.path()).unwrap();
    let a = set.family("esm2-8m").unwrap().action("encode").unwrap();
    assert_eq!(a.max_items(), Some(8));
}

#[test]
fn unknown_platform_pair_is_an_error_naming_the_url() {
    let sandbox = Sandbox::start_blocking(SandboxConfig::new(reference_dir())).unwrap();
    let out = tempfile::tempdir().unwrap();
    let pairs = vec![("no-such-model".to_string(), "encode".to_string())];
    let err =
        biolm_codegen::fetch::fetch_platform(&sandbox.base_url(), &pairs, out.path()).unwrap_err();
    assert!(
        err.to_string().contains("/schema/no-such-model/encode/"),
        "{err}"
    );
}

#[test]
fn reference_openapi_splits_into_the_per_file_schemas() {
    let doc = read(&reference_dir().join("openapi.json"));
    let models = biolm_codegen::fetch::split_openapi(&doc).unwrap();
    let esm2 = models.get("esm2-8m").unwrap();
    let (_, req, resp) = esm2.iter().find(|(a, _, _)| a == "encode").unwrap();
    let file_req = read(&reference_dir().join("esm2-8m/encode.request.json"));
    let file_resp = read(&reference_dir().join("esm2-8m/encode.response.json"));
    assert_eq!(
        req.pointer("/properties/items/maxItems"),
        file_req.pointer("/properties/items/maxItems")
    );
    assert_eq!(
        req.pointer("/$defs/ESM2EncodeRequestItem"),
        file_req.pointer("/$defs/ESM2EncodeRequestItem")
    );
    assert_eq!(
        resp.pointer("/$defs/LayerEmbedding"),
        file_resp.pointer("/$defs/LayerEmbedding")
    );
}
