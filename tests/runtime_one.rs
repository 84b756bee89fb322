//! Single-item calls (`*_one`) and the action's compiled-in schema, async and
//! blocking, against the sandbox over loopback.

mod support;

use biolm::esm2::Esm2EncodeItem;
use biolm::{blocking, Error, ItemErrorKind};
use biolm_sandbox::Sandbox;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encode_one_returns_the_result_or_the_items_error() {
    bounded(60, async {
        let sb = sandbox(config()).await;
        let client = builder(&sb.base_url()).build().unwrap();
        let r = client
            .esm2_8m()
            .encode_one(Esm2EncodeItem::new(seq(3)))
            .await
            .unwrap();
        let dims = r
            .embeddings
            .as_ref()
            .and_then(|e| e.first())
            .map(|e| e.embedding.len());
        assert_eq!(dims, Some(320), "{r:?}");
        // An invalid item is the item's error, not a call error of another kind.
        let e = client
            .esm2_8m()
            .encode_one(Esm2EncodeItem::new("M".repeat(3000)))
            .await
            .unwrap_err();
        let Error::Item(item) = &e else {
            panic!("an item error expected: {e:?}")
        };
        assert_eq!(item.kind, ItemErrorKind::Invalid);
        assert_eq!(item.field.as_deref(), Some("sequence"));
        assert_eq!(sb.stats().requests, 1, "the invalid item is never sent");
    })
    .await;
}

#[test]
fn the_request_schema_comes_from_the_handle() {
    let client = biolm::Client::builder().build().unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(client.esm2_8m().encode_request_schema()).unwrap();
    assert!(schema.pointer("/properties/items").is_some(), "{schema}");
    let spec = client.esm2_8m().variant().action("encode").unwrap();
    assert_eq!(
        Some(client.esm2_8m().encode_request_schema()),
        spec.request_schema.as_deref()
    );
    let response: serde_json::Value =
        serde_json::from_str(client.esm2_8m().encode_response_schema()).unwrap();
    assert!(
        response.pointer("/properties/results").is_some(),
        "{response}"
    );
    let blocking = biolm::blocking::Client::builder().build().unwrap();
    assert_eq!(
        blocking.esm2_8m().encode_response_schema(),
        client.esm2_8m().encode_response_schema()
    );
}

/// Result types stay `#[non_exhaustive]` (a newer server may add fields), yet a
/// user builds one for a test of their own code with `new` and `with_*`, and it
/// is the JSON the server sends.
#[test]
fn results_are_built_for_tests_of_user_code() {
    use biolm::esm2::{Esm2EncodeResult, LayerEmbedding};
    fn first_layer_mean(r: &Esm2EncodeResult) -> Option<f64> {
        let e = &r.embeddings.as_ref()?.first()?.embedding;
        Some(e.iter().sum::<f64>() / e.len() as f64)
    }
    let r = Esm2EncodeResult::new(3).with_embeddings([LayerEmbedding::new(6, [1.0, 3.0])]);
    assert_eq!(first_layer_mean(&r), Some(2.0));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"sequence_index": 3, "embeddings": [{"layer": 6, "embedding": [1.0, 3.0]}]})
    );
    let back: Esm2EncodeResult = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn blocking_handles_wrap_the_async_ones() {
    let sb = Sandbox::start_blocking(config()).unwrap();
    let client = blocking::Client::from_builder(builder(&sb.base_url())).unwrap();
    let r = client
        .esm2_8m()
        .encode_one(Esm2EncodeItem::new(seq(1)))
        .send()
        .unwrap();
    assert!(r.embeddings.is_some());
    assert_eq!(
        client.esm2_8m().encode_request_schema(),
        client.as_async().esm2_8m().encode_request_schema()
    );
    assert_eq!(client.esm2_8m().variant().slug, "esm2-8m");
    let out = client.esm2_8m().encode(items(3)).send().unwrap();
    assert!(out.iter().all(biolm::Outcome::is_success));
}

#[test]
fn list_setters_take_any_iterable_of_convertible_values() {
    use biolm::esm2::Esm2EncodeParams;
    let from_array = Esm2EncodeParams::new().with_repr_layers([-1i32, 6]);
    let from_vec = Esm2EncodeParams::new().with_repr_layers(vec![-1i64, 6]);
    let from_iter =
        Esm2EncodeParams::new().with_repr_layers((0..2).map(|i| if i == 0 { -1 } else { 6 }));
    assert_eq!(from_array, from_vec);
    assert_eq!(from_vec, from_iter);
    assert_eq!(
        serde_json::to_value(&from_array).unwrap()["repr_layers"],
        serde_json::json!([-1, 6])
    );
}
