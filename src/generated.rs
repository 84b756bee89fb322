//! The generated model layer: `CATALOG`, per-family modules and the client
//! accessors, written by `biolm-codegen` from the schema directory at build time
//! (see `build.rs`).
#![allow(
    clippy::too_many_arguments,
    clippy::large_enum_variant,
    clippy::enum_variant_names,
    clippy::upper_case_acronyms,
    clippy::type_complexity,
    clippy::new_without_default,
    clippy::doc_lazy_continuation,
    clippy::too_long_first_doc_paragraph,
    clippy::module_inception,
    rustdoc::broken_intra_doc_links,
    rustdoc::invalid_html_tags,
    rustdoc::bare_urls
)]

include!(concat!(env!("OUT_DIR"), "/biolm_generated.rs"));

#[cfg(test)]
mod tests {
    //! The generated layer's contract: catalog facts, serde rules of request and
    //! response types, and typed calls through the sandbox over loopback.

    use super::*;

    #[test]
    fn the_allowed_lints_are_codegens_list() {
        let own = include_str!("generated.rs");
        let list = biolm_codegen::scaffold::allow_attribute();
        assert!(
            own.contains(&list),
            "src/generated.rs must allow exactly biolm_codegen::scaffold::GENERATED_CODE_LINTS:\n{list}"
        );
    }

    fn spec(slug: &str, action: &str) -> &'static crate::spec::ActionSpec {
        CATALOG
            .iter()
            .find(|v| v.slug == slug)
            .and_then(|v| v.action(action))
            .unwrap_or_else(|| panic!("{slug}/{action} not in CATALOG"))
    }

    #[test]
    fn catalog_lists_every_pair_with_its_batch_limit() {
        assert_eq!(CATALOG.len(), 69);
        assert_eq!(CATALOG.iter().map(|v| v.actions.len()).sum::<usize>(), 120);
        let enc = spec("esm2-8m", "encode");
        assert_eq!(
            (enc.max_items, enc.min_items, enc.multi_result),
            (8, 1, false)
        );
        assert_eq!(spec("esmfold", "fold").max_items, 2);
        assert_eq!(spec("ablang2", "encode").max_items, 32);
        assert!(spec("progen2-oas", "generate").multi_result);
        for v in CATALOG {
            for a in v.actions {
                assert_eq!(a.slug, v.slug);
                let schema: serde_json::Value =
                    serde_json::from_str(a.request_schema.as_deref().unwrap_or("null")).unwrap();
                assert_eq!(
                    schema
                        .pointer("/properties/items/maxItems")
                        .and_then(serde_json::Value::as_u64)
                        .unwrap_or(8),
                    a.max_items as u64,
                    "{}/{}",
                    a.slug,
                    a.action
                );
            }
        }
        // mpnn variants carry their own (stricter) params in their effective schema.
        assert_ne!(
            spec("protein-mpnn", "generate").request_schema,
            spec("ligand-mpnn", "generate").request_schema
        );
    }

    #[cfg(feature = "esm2")]
    #[test]
    fn request_types_omit_unset_fields_and_refuse_unknown_ones() {
        use esm2::*;
        assert_eq!(
            serde_json::to_string(&Esm2EncodeParams::new()).unwrap(),
            "{}"
        );
        let p = Esm2EncodeParams::new().with_include(vec![Esm2EncodeIncludeOptions::PerResidue]);
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"include":["per_residue"]}"#
        );
        let item = Esm2EncodeItem::new("MKT");
        assert_eq!(Esm2EncodeItem::from("MKT"), item);
        assert_eq!(
            serde_json::to_string(&item).unwrap(),
            r#"{"sequence":"MKT"}"#
        );
        assert!(serde_json::from_str::<Esm2EncodeItem>(r#"{"sequence":"A","colour":1}"#).is_err());
        assert_eq!(esm2::Esm2::ENCODE_MAX_ITEMS, 8);
        assert_eq!(esm2::Esm2::ENCODE_SEQUENCE_MAX_LENGTH, 2048);
    }

    #[cfg(feature = "esm2")]
    #[test]
    fn response_types_tolerate_fields_they_do_not_know() {
        let r: esm2::Esm2LogProbResult =
            serde_json::from_str(r#"{"log_prob": -1.5, "added_later": [1]}"#).unwrap();
        assert_eq!(r.log_prob, -1.5);
    }

    #[cfg(feature = "mpnn")]
    #[test]
    fn mpnn_results_fall_back_instead_of_failing() {
        let r: mpnn::MpnnGenerateResult = serde_json::from_str(r#"{"something": "new"}"#).unwrap();
        assert!(matches!(r, mpnn::MpnnGenerateResult::Other(_)), "{r:?}");
    }

    fn schema_dir() -> std::path::PathBuf {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        root.join(option_env!("BIOLM_SCHEMA_DIR").unwrap_or("schemas"))
    }

    #[cfg(feature = "esm2")]
    #[tokio::test]
    async fn typed_handle_calls_the_sandbox() {
        let sandbox =
            biolm_sandbox::Sandbox::start(biolm_sandbox::SandboxConfig::new(schema_dir()))
                .await
                .unwrap();
        let client = crate::Client::builder()
            .base_url(sandbox.base_url())
            .token("test")
            .build()
            .unwrap();
        let items: Vec<esm2::Esm2EncodeItem> = (0..19)
            .map(|i| esm2::Esm2EncodeItem::new("MKTAYIAKQR".repeat(1 + i % 3)))
            .collect();
        let params =
            esm2::Esm2EncodeParams::new().with_include(vec![esm2::Esm2EncodeIncludeOptions::Mean]);
        let outcomes = client.esm2_8m().encode(items).params(params).await.unwrap();
        assert_eq!(outcomes.len(), 19);
        for o in &outcomes {
            let r = o.ok().unwrap_or_else(|| panic!("{o:?}"));
            assert!(
                r.embeddings.as_ref().is_some_and(|e| !e.is_empty()),
                "{r:?}"
            );
        }
        // 19 items in batches of at most 8: 3 requests.
        let stats = sandbox.stats();
        assert_eq!((stats.requests, stats.items), (3, 19), "{stats:?}");
        assert_eq!(client.esm2_8m().variant().slug, "esm2-8m");
    }

    #[cfg(feature = "progen2")]
    #[test]
    fn blocking_handle_keeps_several_results_per_item() {
        let sandbox =
            biolm_sandbox::Sandbox::start_blocking(biolm_sandbox::SandboxConfig::new(schema_dir()))
                .unwrap();
        let builder = crate::Client::builder()
            .base_url(sandbox.base_url())
            .token("test");
        let client = crate::blocking::Client::from_builder(builder).unwrap();
        let items = vec![
            progen2::Progen2GenerateItem::new("MKTAYIAK"),
            progen2::Progen2GenerateItem::new("MQV"),
        ];
        let params = progen2::Progen2GenerateParams::new()
            .with_num_samples(2)
            .with_max_length(32);
        let outcomes = client
            .progen2_oas()
            .generate(items)
            .params(params)
            .send()
            .unwrap();
        assert_eq!(outcomes.len(), 2);
        for o in &outcomes {
            let samples = o.ok().unwrap_or_else(|| panic!("{o:?}"));
            assert_eq!(samples.len(), 2, "{samples:?}");
        }
    }
}
