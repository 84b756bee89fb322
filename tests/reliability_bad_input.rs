//! Bad input at the library level (issue 6, part 3): a table of bad items and
//! params. Each gives a clear error naming the item index and the field path
//! (or the params field), and the sandbox receives nothing for what the client
//! rejects. File-level cases (FASTA, CSV, JSONL, bytes) are in
//! `cli/tests/reliability_bad_input.rs`.

mod support;

use std::collections::BTreeMap;

use biolm::{Client, Error, ItemErrorKind, Outcome};
use biolm_sandbox::Sandbox;
use serde_json::{json, Value};
use support::*;

/// What a bad case must produce.
enum Expect {
    /// The item at `index` fails locally; the message names `field` and has `words`.
    Item {
        index: usize,
        field: &'static str,
        words: &'static [&'static str],
    },
    /// The call fails with `Error::InvalidParams` naming `field` and `words`.
    Params {
        field: &'static str,
        words: &'static [&'static str],
    },
}

struct Case {
    name: &'static str,
    slug: &'static str,
    action: &'static str,
    items: Vec<Value>,
    params: Option<Value>,
    expect: Expect,
}

fn item(
    name: &'static str,
    slug: &'static str,
    action: &'static str,
    items: Vec<Value>,
    index: usize,
    field: &'static str,
    words: &'static [&'static str],
) -> Case {
    Case {
        name,
        slug,
        action,
        items,
        params: None,
        expect: Expect::Item {
            index,
            field,
            words,
        },
    }
}

fn params(
    name: &'static str,
    slug: &'static str,
    action: &'static str,
    items: Vec<Value>,
    params: Value,
    field: &'static str,
    words: &'static [&'static str],
) -> Case {
    Case {
        name,
        slug,
        action,
        items,
        params: Some(params),
        expect: Expect::Params { field, words },
    }
}

fn s(sequence: &str) -> Value {
    json!({ "sequence": sequence })
}

/// Good esm2 items around a bad one at `at`.
fn around(at: usize, n: usize, bad: Value) -> Vec<Value> {
    (0..n)
        .map(|i| {
            if i == at {
                bad.clone()
            } else {
                s(&short_seq(i))
            }
        })
        .collect()
}

fn ab(heavy: &str, light: &str) -> Value {
    json!({"heavy_chain": heavy, "light_chain": light})
}

fn molecules(m: Value) -> Value {
    json!({ "molecules": m })
}

fn cases() -> Vec<Case> {
    let protein = json!({"name": "A", "type": "protein", "sequence": "MKTAYIAKQR"});
    vec![
        item(
            "empty sequence",
            "esm2-8m",
            "encode",
            vec![s("")],
            0,
            "sequence",
            &["0 characters", "1 required"],
        ),
        item(
            "over-long sequence",
            "esm2-8m",
            "encode",
            around(3, 5, s(&"A".repeat(2049))),
            3,
            "sequence",
            &["2048"],
        ),
        item(
            "wrong alphabet",
            "esm2-8m",
            "encode",
            around(1, 4, s("MKTA1YIAK")),
            1,
            "sequence",
            &["'1'", "position 5"],
        ),
        item(
            "space inside a sequence",
            "esm2-8m",
            "encode",
            vec![s("MKT AYI")],
            0,
            "sequence",
            &["position 4"],
        ),
        item(
            "unicode letter",
            "esm2-8m",
            "encode",
            vec![s("MKTÅYI")],
            0,
            "sequence",
            &["position 4"],
        ),
        item(
            "unknown item field",
            "esm2-8m",
            "encode",
            vec![json!({"sequence": "MKT", "seq": "MKT"})],
            0,
            "seq",
            &["seq"],
        ),
        item(
            "missing required field",
            "esm2-8m",
            "encode",
            around(2, 3, json!({})),
            2,
            "sequence",
            &["required"],
        ),
        item(
            "wrong type",
            "esm2-8m",
            "encode",
            vec![json!({"sequence": 42})],
            0,
            "sequence",
            &["string"],
        ),
        item(
            "null field",
            "esm2-8m",
            "encode",
            vec![json!({"sequence": null})],
            0,
            "sequence",
            &["string"],
        ),
        item(
            "item is a string",
            "esm2-8m",
            "encode",
            vec![json!("MKTAYIAKQR")],
            0,
            "",
            &["object"],
        ),
        item(
            "item is a list",
            "esm2-8m",
            "encode",
            vec![json!(["MKTAYIAKQR"])],
            0,
            "",
            &["object"],
        ),
        item(
            "bad item deep in a batch",
            "esm2-8m",
            "encode",
            around(13, 20, s("MKTAB!")),
            13,
            "sequence",
            &["'!'"],
        ),
        item(
            "huge single item",
            "esm2-8m",
            "encode",
            vec![s(&"M".repeat(10_000_000))],
            0,
            "sequence",
            &["2048"],
        ),
        params(
            "unknown include option",
            "esm2-8m",
            "encode",
            vec![s("MKT")],
            json!({"include": ["mean", "everything"]}),
            "include",
            &["everything", "mean"],
        ),
        params(
            "unknown params field",
            "esm2-8m",
            "encode",
            vec![s("MKT")],
            json!({"layers": [6]}),
            "layers",
            &["layers"],
        ),
        params(
            "params field of the wrong type",
            "esm2-8m",
            "encode",
            vec![s("MKT")],
            json!({"repr_layers": "all"}),
            "repr_layers",
            &["must be a list"],
        ),
        params(
            "params not an object",
            "esm2-8m",
            "encode",
            vec![s("MKT")],
            json!([1, 2]),
            "",
            &["object"],
        ),
        params(
            "temperature at the exclusive minimum",
            "progen2-oas",
            "generate",
            vec![json!({"context": "MKT"})],
            json!({"temperature": 0.0}),
            "temperature",
            &["must be greater than 0"],
        ),
        params(
            "num_samples over the maximum",
            "progen2-oas",
            "generate",
            vec![json!({"context": "MKT"})],
            json!({"num_samples": 4}),
            "num_samples",
            &["more than the maximum 3"],
        ),
        params(
            "max_length under the minimum",
            "progen2-oas",
            "generate",
            vec![json!({"context": "MKT"})],
            json!({"max_length": 5}),
            "max_length",
            &["less than the minimum 12"],
        ),
        params(
            "float where an integer is due",
            "progen2-oas",
            "generate",
            vec![json!({"context": "MKT"})],
            json!({"num_samples": 1.5}),
            "num_samples",
            &["must be an integer", "1.5"],
        ),
        item(
            "ambiguous residue for progen2",
            "progen2-oas",
            "generate",
            vec![json!({"context": "MKTX"})],
            0,
            "context",
            &["'X'"],
        ),
        item(
            "too many chain breaks",
            "esmfold",
            "predict",
            vec![s("MKT:AYI:AKQ:RQI:SFV")],
            0,
            "sequence",
            &[":"],
        ),
        item(
            "consecutive chain breaks",
            "esmfold",
            "predict",
            vec![s("MKTAYI::AKQR")],
            0,
            "sequence",
            &[":"],
        ),
        item(
            // The server counts characters (771, `:` separators included), not residues.
            "too many characters for esmfold",
            "esmfold",
            "predict",
            vec![s("MK"), s(&"A".repeat(772))],
            1,
            "sequence",
            &["771"],
        ),
        item(
            "missing light chain",
            "ablang2",
            "encode",
            vec![json!({"heavy_chain": "EVQLVESGG"})],
            0,
            "light_chain",
            &["required"],
        ),
        item(
            "empty heavy chain",
            "ablang2",
            "encode",
            vec![ab("EVQLVESGG", "DIQMTQSP"), ab("", "DIQMTQSP")],
            1,
            "heavy_chain",
            &["0 characters", "1 required"],
        ),
        item(
            "nested enum value",
            "chai1",
            "fold",
            vec![molecules(json!([protein, {"name": "B", "type": "banana"}]))],
            0,
            "molecules[1].type",
            &["banana"],
        ),
        item(
            "nested required field",
            "chai1",
            "fold",
            vec![molecules(json!([{"type": "protein", "sequence": "MKT"}]))],
            0,
            "molecules[0].name",
            &["required"],
        ),
        item(
            "nested list of the wrong type",
            "chai1",
            "fold",
            vec![molecules(json!("MKTAYIAKQR"))],
            0,
            "molecules",
            &["must be a list"],
        ),
        item(
            "empty structure",
            "protein-mpnn",
            "generate",
            vec![json!({"pdb": ""})],
            0,
            "pdb",
            &["0 characters", "1 required"],
        ),
    ]
}

/// Runs one case; hard failures panic, wording misses go to `problems`.
async fn run_case(client: &Client, sb: &Sandbox, case: &Case, problems: &mut Vec<String>) {
    sb.reset_stats();
    let spec = spec(case.slug, case.action);
    let mut call = client.call::<Value, Value, Value, _>(spec, case.items.clone());
    if let Some(p) = &case.params {
        call = call.params(p.clone());
    }
    let result = call.await;
    let n = case.items.len() as u64;
    let name = case.name;
    match &case.expect {
        Expect::Item {
            index,
            field,
            words,
        } => {
            let out = result.unwrap_or_else(|e| panic!("{name}: call-level error {e}"));
            assert_eq!(out.len(), case.items.len(), "{name}: one outcome per item");
            for (i, o) in out.iter().enumerate() {
                if i == *index {
                    let e = o
                        .error()
                        .unwrap_or_else(|| panic!("{name}: item {i} should fail, got {o:?}"));
                    let text = e.to_string();
                    eprintln!("{name}: {text}");
                    assert_eq!(e.kind, ItemErrorKind::Invalid, "{name}: {text}");
                    assert_eq!(e.index, *index, "{name}");
                    let want = if field.is_empty() {
                        format!("items[{index}]: ")
                    } else {
                        format!("items[{index}].{field}: ")
                    };
                    assert!(
                        text.starts_with(&want),
                        "{name}: {text:?} should start with {want:?}"
                    );
                    if !field.is_empty() {
                        assert!(
                            !text.contains(&format!("{field}: {field}: ")),
                            "{name}: the field is named once: {text}"
                        );
                        assert_eq!(e.field.as_deref(), Some(*field), "{name}: {text}");
                    }
                    for w in *words {
                        if !text.contains(w) {
                            problems.push(format!("{name}: {text:?} lacks {w:?}"));
                        }
                    }
                    assert!(
                        text.contains("not sent"),
                        "{name}: says the item was not sent: {text}"
                    );
                    assert!(
                        text.len() < 1000,
                        "{name}: the message quotes too much ({} bytes)",
                        text.len()
                    );
                    // validate_item agrees, with the same index and field.
                    match biolm::validate_item(spec, *index, &case.items[*index]) {
                        Err(Error::InvalidItem {
                            index: vi,
                            field: vf,
                            ..
                        }) => {
                            assert_eq!(vi, *index, "{name}");
                            assert_eq!(vf.as_deref().unwrap_or(""), *field, "{name}");
                        }
                        other => panic!("{name}: validate_item gave {other:?}"),
                    }
                } else {
                    assert!(
                        matches!(o, Outcome::Success(_)),
                        "{name}: good item {i} should succeed: {o:?}"
                    );
                    biolm::validate_item(spec, i, &case.items[i]).unwrap();
                }
            }
            let st = sb.stats();
            assert_eq!(st.items, n - 1, "{name}: the sandbox received the bad item");
            if n == 1 {
                assert_eq!(st.requests, 0, "{name}: a request was sent for nothing");
            }
        }
        Expect::Params { field, words } => {
            let err = result.expect_err(name);
            let text = err.to_string();
            eprintln!("{name}: {text}");
            assert!(
                matches!(err, Error::InvalidParams { .. }),
                "{name}: {err:?}"
            );
            assert!(
                text.contains(&format!("{}/{}", case.slug, case.action)),
                "{name}: names the model and action: {text}"
            );
            if !field.is_empty() {
                assert!(
                    text.contains(&format!(": {field}")),
                    "{name}: names the field {field}: {text}"
                );
            }
            for w in *words {
                if !text.contains(w) {
                    problems.push(format!("{name}: {text:?} lacks {w:?}"));
                }
            }
            assert!(
                biolm::validate_params(spec, case.params.as_ref().unwrap()).is_err(),
                "{name}: validate_params agrees"
            );
            assert_eq!(
                sb.stats().requests,
                0,
                "{name}: nothing is sent with bad params"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_item_and_param_is_named_and_never_sent() {
    bounded(120, async {
        let sb = sandbox(config()).await;
        let client = Client::builder()
            .base_url(sb.base_url())
            .token("t")
            .retry(capped_retry(2))
            .build()
            .unwrap();
        let cases = cases();
        assert!(cases.len() >= 30, "{} cases", cases.len());
        let mut problems = Vec::new();
        for case in &cases {
            run_case(&client, &sb, case, &mut problems).await;
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    })
    .await
}

/// An item that cannot be serialized to JSON fails alone, with its index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unserializable_item_fails_alone() {
    bounded(30, async {
        let sb = sandbox(config()).await;
        let client = Client::builder()
            .base_url(sb.base_url())
            .token("t")
            .build()
            .unwrap();
        #[derive(serde::Serialize)]
        #[serde(untagged)]
        enum It {
            Good(Value),
            Bad(BTreeMap<Vec<u8>, u8>),
        }
        let items = vec![
            It::Good(s("MKT")),
            It::Bad(BTreeMap::from([(vec![1, 2], 3)])),
            It::Good(s("GLIEV")),
        ];
        let out = client
            .call::<_, (), Value, _>(spec("esm2-8m", "encode"), items)
            .await
            .unwrap();
        assert!(out[0].is_success() && out[2].is_success(), "{out:?}");
        let e = out[1].error().unwrap_or_else(|| panic!("{:?}", out[1]));
        eprintln!("{e}");
        assert_eq!(e.kind, ItemErrorKind::Invalid);
        assert!(e.to_string().starts_with("items[1]: "), "{e}");
        assert!(e.message.contains("JSON"), "{e}");
        assert_eq!(sb.stats().items, 2, "the bad item was not sent");
    })
    .await
}

/// No items: no request, no outcome, no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_batch_sends_nothing() {
    bounded(30, async {
        let sb = sandbox(config()).await;
        let client = Client::builder()
            .base_url(sb.base_url())
            .token("t")
            .build()
            .unwrap();
        let out = client
            .call::<Value, Value, Value, _>(spec("esm2-8m", "encode"), Vec::new())
            .await
            .unwrap();
        assert!(out.is_empty());
        let out = client
            .esm2_8m()
            .encode(Vec::<biolm::esm2::Esm2EncodeItem>::new())
            .await
            .unwrap();
        assert!(out.is_empty());
        assert_eq!(sb.stats().requests, 0);
    })
    .await
}

/// A model or action the catalog does not know is not in `catalog::find`; sent
/// untyped, the server's 404 fails every item with a message naming the URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_model_slug_or_action() {
    bounded(30, async {
        assert!(biolm::catalog::find("esm2-9000").is_none());
        assert!(biolm::catalog::find("esm2-8m")
            .and_then(|v| v.action("fold"))
            .is_none());
        let sb = sandbox(config()).await;
        let client = Client::builder()
            .base_url(sb.base_url())
            .token("t")
            .retry(capped_retry(3))
            .build()
            .unwrap();
        for (slug, action) in [("esm2-9000", "encode"), ("esm2-8m", "fold")] {
            sb.reset_stats();
            let u = client.untyped(slug, action);
            assert!(!u.is_known());
            let out = u.call(vec![s("MKT"), s("GLIEV")]).await.unwrap();
            for (i, o) in out.iter().enumerate() {
                let e = o.error().unwrap_or_else(|| panic!("{o:?}"));
                eprintln!("{e}");
                assert_eq!(e.kind, ItemErrorKind::NotFound);
                assert_eq!(e.index, i);
                assert!(e.message.contains(&format!("/{slug}/{action}/")), "{e}");
                assert!(e.message.contains("404"), "{e}");
            }
            assert_eq!(
                sb.stats().requests,
                1,
                "a 404 is neither retried nor re-sent"
            );
        }
    })
    .await
}

/// Bad client configuration is refused before anything is sent, naming what is wrong.
#[test]
fn bad_configuration_is_refused() {
    for (url, words) in [
        ("", "empty"),
        ("   ", "empty"),
        ("ftp://biolm.ai/api/v3", "scheme"),
        ("http://exa mple.com/api/v3", "not a URL"),
    ] {
        let e = Client::builder().base_url(url).build().unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, Error::Config(_)), "{url:?}: {e:?}");
        assert!(text.contains(words), "{url:?}: {text}");
    }
    let e = Client::builder()
        .base_url("http://127.0.0.1:9/api/v3")
        .token("abc\ndef")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("token"), "{e}");
    assert!(
        !e.to_string().contains("abc"),
        "the token is not quoted: {e}"
    );
    let e = Client::builder()
        .base_url("http://127.0.0.1:9/api/v3")
        .ca_bundle("/nonexistent/ca.pem")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
}
