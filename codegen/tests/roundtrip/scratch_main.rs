//! Serde behaviour of the types generated for the construct corpus, run by
//! `tests/construct_roundtrip.rs` in a scratch crate (`gen.rs` is generated,
//! `labels.rs` is built from `corpus/constructs/labels.json`).
#![allow(clippy::all, dead_code)]
mod de;
mod gen;
mod labels;
use gen::*;
use serde_json::json;

fn rt<T: serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug>(v: serde_json::Value) -> Result<T, String> {
    let t: T = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    let back = serde_json::to_value(&t).map_err(|e| e.to_string())?;
    assert_eq!(back, v, "round trip of {t:?}");
    Ok(t)
}

fn main() {
    use discriminated_union::*;
    // request: tag selects arm, deny_unknown_fields still refuses unknown fields and accepts the tag
    let p: DiscriminatedUnionPredictItemPet = rt(json!({"kind": "dog", "good": true})).unwrap();
    assert!(matches!(p, DiscriminatedUnionPredictItemPet::Dog(_)));
    let p: DiscriminatedUnionPredictItemPet = rt(json!({"kind": "cat", "lives": 3})).unwrap();
    assert!(matches!(p, DiscriminatedUnionPredictItemPet::Cat(_)));
    // extra='ignore' (no additionalProperties): unknown keys dropped, as pydantic does
    let p: DiscriminatedUnionPredictItemPet = serde_json::from_value(json!({"kind": "cat", "lives": 3, "zzz": 1})).unwrap();
    assert_eq!(serde_json::to_value(&p).unwrap(), json!({"kind": "cat", "lives": 3}));
    assert!(rt::<DiscriminatedUnionPredictItemPet>(json!({"kind": "cow"})).is_err());
    assert!(rt::<DiscriminatedUnionPredictItemPet>(json!({"lives": 3})).is_err());
    let s = serde_json::to_value(DiscriminatedUnionPredictItemPet::Fish(FishPredict::new(4))).unwrap();
    assert_eq!(s, json!({"kind": "fish", "fins": 4}));
    // response: unknown fields tolerated, unknown tag -> Unknown
    let r: DiscriminatedUnionPredictResultPet = serde_json::from_value(json!({"kind": "cat", "lives": 3, "new": 1})).unwrap();
    assert!(matches!(r, DiscriminatedUnionPredictResultPet::Cat(_)));
    let r: DiscriminatedUnionPredictResultPet = serde_json::from_value(json!({"kind": "cow", "moo": 1})).unwrap();
    assert!(matches!(r, DiscriminatedUnionPredictResultPet::Unknown(_)));
    assert_eq!(serde_json::to_value(&r).unwrap(), json!({"kind": "cow", "moo": 1}));
    let r: DiscriminatedUnionPredictResultPet = serde_json::from_value(json!({"kind": "dog"})).unwrap();
    assert_eq!(serde_json::to_value(&r).unwrap(), json!({"kind": "dog"}));
    assert!(serde_json::from_value::<DiscriminatedUnionPredictResultPet>(json!({"kind": "cat"})).is_err());

    // nested
    {
        use nested_discriminated_union::*;
        let v = json!({"pet_type": "cat", "color": "black", "black_name": "x"});
        let p: NestedDiscriminatedUnionPredictItemPet = rt(v.clone()).unwrap();
        assert!(matches!(p, NestedDiscriminatedUnionPredictItemPet::Cat(NestedDiscriminatedUnionPredictItemPetCat::Black(_))));
        assert!(rt::<NestedDiscriminatedUnionPredictItemPet>(json!({"pet_type": "cat", "color": "black"})).is_err());
        let p: NestedDiscriminatedUnionPredictItemPet = rt(json!({"pet_type": "dog", "name": "rex"})).unwrap();
        assert!(matches!(p, NestedDiscriminatedUnionPredictItemPet::Dog(_)));
        let r: NestedDiscriminatedUnionPredictResultPet = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
        let r: NestedDiscriminatedUnionPredictResultPet = serde_json::from_value(json!({"pet_type": "cat", "color": "red"})).unwrap();
        assert!(matches!(r, NestedDiscriminatedUnionPredictResultPet::Cat(NestedDiscriminatedUnionPredictResultPetCat::Unknown(_))));
    }
    // int enum
    {
        use enum_int::*;
        assert_eq!(rt::<LevelPredict>(json!(5)).unwrap(), LevelPredict::V5);
        assert!(rt::<LevelPredict>(json!(6)).is_err());
        assert!(rt::<LevelPredict>(json!("5")).is_err());
        assert_eq!(rt::<Level>(json!(7)).unwrap(), Level::Unknown(7));
    }
    {
        use literal_mixed::*;
        for v in [json!("auto"), json!(0), json!(1), json!(true), json!(null)] {
            rt::<LiteralMixedPredictItemV>(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"));
        }
        assert!(rt::<LiteralMixedPredictItemV>(json!(false)).is_err());
        assert!(rt::<LiteralMixedPredictItemV>(json!("x")).is_err());
        assert!(matches!(serde_json::from_value::<LiteralMixedPredictResultV>(json!("x")).unwrap(), LiteralMixedPredictResultV::Unknown(_)));
        let item: LiteralMixedPredictItem = rt(json!({"v": null})).unwrap();
        let _ = item;
    }
    {
        use const_literal::*;
        let item = ConstLiteralPredictItem::new();
        assert_eq!(serde_json::to_value(&item).unwrap(), json!({"kind": "sequence"}));
        assert!(rt::<ConstLiteralPredictItem>(json!({"kind": "other"})).is_err());
        rt::<ConstLiteralPredictItem>(json!({"kind": "sequence", "version": 2})).unwrap();
        assert!(rt::<ConstLiteralPredictItem>(json!({"kind": "sequence", "version": 3})).is_err());
    }
    {
        use callable_discriminator::*;
        let s: CallableDiscriminatorPredictItemShape = rt(json!({"side": 2.0})).unwrap();
        assert!(matches!(s, CallableDiscriminatorPredictItemShape::SquarePredict(_)));
    }
    {
        use union_smart::*;
        assert!(matches!(rt::<UnionSmartPredictItemY>(json!(1)).unwrap(), UnionSmartPredictItemY::Integer(1)));
        assert!(matches!(rt::<UnionSmartPredictItemY>(json!(1.0)).unwrap(), UnionSmartPredictItemY::Number(_)));
    }
    {
        use extra_allow::*;
        let i: ExtraAllowPredictItem = rt(json!({"a": 1, "b": "x"})).unwrap();
        assert_eq!(i.extra.len(), 1);
        let i = ExtraAllowPredictItem::new(1).with_extra("z", json!(2));
        assert_eq!(serde_json::to_value(&i).unwrap(), json!({"a": 1, "z": 2}));
    }
    {
        use union_models::*;
        let r: UnionModelsPredictResultTarget = serde_json::from_value(json!({"value": 1.0, "id": "A", "residues": []})).unwrap();
        assert!(matches!(r, UnionModelsPredictResultTarget::Chain(_)), "{r:?}");
        let r: UnionModelsPredictResultTarget = serde_json::from_value(json!({"value": 1.0, "extra": 1})).unwrap();
        assert!(matches!(r, UnionModelsPredictResultTarget::Measurement(_)), "{r:?}");
        let r: UnionModelsPredictResultTarget = serde_json::from_value(json!("odd")).unwrap();
        assert!(matches!(r, UnionModelsPredictResultTarget::Other(_)), "{r:?}");
        let t: UnionModelsPredictItemTarget = serde_json::from_value(json!({"kind": "cat", "lives": 1})).unwrap();
        assert!(matches!(t, UnionModelsPredictItemTarget::Cat(_)), "{t:?}");
        let t: UnionModelsPredictItemTarget = serde_json::from_value(json!({"value": 2.0, "unit": "nm"})).unwrap();
        assert!(matches!(t, UnionModelsPredictItemTarget::MeasurementPredict(_)), "{t:?}");
        let t: UnionModelsPredictItemTarget = serde_json::from_value(json!({"value": 2.0, "id": "A", "residues": []})).unwrap();
        assert!(matches!(t, UnionModelsPredictItemTarget::ChainPredict(_)), "{t:?}");
        assert!(serde_json::from_value::<UnionModelsPredictItemTarget>(json!({"nothing": 1})).is_err());
    }
    {
        // A closed discriminated union: the tag is accepted, unknown fields refused.
        use closed_tagged::*;
        let u: ClosedTaggedPredictItemU = rt(json!({"kind": "a", "x": 1})).unwrap();
        assert!(matches!(u, ClosedTaggedPredictItemU::A(_)), "{u:?}");
        assert!(rt::<ClosedTaggedPredictItemU>(json!({"kind": "a", "x": 1, "zzz": 2})).is_err());
        assert!(rt::<ClosedTaggedPredictItemU>(json!({"kind": "b", "x": 1})).is_err());
        assert!(rt::<ClosedTaggedPredictItemU>(json!({"kind": "c"})).is_err());
        // A recursive tagged union.
        let r: U = rt(json!({"kind": "c", "z": 1, "next": {"kind": "c", "z": 2, "next": {"kind": "a", "x": 3}}})).unwrap();
        assert!(matches!(r, U::C(_)), "{r:?}");
        // Negative and fractional enum values, a negative const.
        let i: ClosedTaggedPredictItem = rt(json!({"u": {"kind": "b", "y": 2}, "n": -1, "c": -3, "f": -1.5})).unwrap();
        assert_eq!(i.n, Some(ClosedTaggedPredictItemN::Minus1));
        assert!(rt::<ClosedTaggedPredictItem>(json!({"u": {"kind": "b", "y": 2}, "c": -2})).is_err());
        assert!(rt::<ClosedTaggedPredictItem>(json!({"u": {"kind": "b", "y": 2}, "f": 1.5})).is_err());
    }
    labels::check();
    println!("all round trips ok");
}
