//! The type model: Rust type expressions, fields and definitions.

use serde_json::Value;

/// Whether a type is sent (request) or received (response).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dir {
    /// Part of a request body: closed enums, unknown fields refused.
    Request,
    /// Part of a response body: open enums, unknown fields tolerated.
    Response,
}

/// A Rust type expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// `String`.
    Str,
    /// `i64`.
    Int,
    /// `f64`.
    Num,
    /// `bool`.
    Bool,
    /// `serde_json::Value`: only for open dicts and unconstrained schemas.
    Value,
    /// `Vec<T>`.
    Vec(Box<Ty>),
    /// A tuple, from `prefixItems`.
    Tuple(Vec<Ty>),
    /// `BTreeMap<K, V>`, from `additionalProperties`, `propertyNames` or `patternProperties`.
    Map(Box<Ty>, Box<Ty>),
    /// `Option<T>`.
    Opt(Box<Ty>),
    /// `Box<T>`, for recursive types.
    Boxed(Box<Ty>),
    /// A type defined in the same module.
    Named(String),
}

impl Ty {
    /// How a doc comment names a value of this type: "a string", "a list of
    /// numbers", "a `MpnnGenerateResponseItem` object".
    pub fn phrase(&self) -> String {
        match self {
            Ty::Str => "a string".into(),
            Ty::Int => "an integer".into(),
            Ty::Num => "a number".into(),
            Ty::Bool => "a boolean".into(),
            Ty::Value => "any JSON value".into(),
            Ty::Vec(t) => format!("a list of {}", plural(&t.phrase())),
            Ty::Tuple(ts) => format!(
                "a list of exactly {} values ({})",
                ts.len(),
                ts.iter().map(Ty::phrase).collect::<Vec<_>>().join(", ")
            ),
            Ty::Map(_, v) => format!("a map to {}", plural(&v.phrase())),
            Ty::Opt(t) => format!("{} or null", t.phrase()),
            Ty::Boxed(t) => t.phrase(),
            Ty::Named(n) => format!("a `{n}`"),
        }
    }

    /// The Rust source of the type (`Vec<String>`, `Option<Box<Node>>`), as
    /// `emit::ty_tokens` writes it without spaces; used in doc comments.
    pub fn rust(&self) -> String {
        match self {
            Ty::Str => "String".into(),
            Ty::Int => "i64".into(),
            Ty::Num => "f64".into(),
            Ty::Bool => "bool".into(),
            Ty::Value => "serde_json::Value".into(),
            Ty::Vec(t) => format!("Vec<{}>", t.rust()),
            Ty::Tuple(ts) => format!(
                "({})",
                ts.iter()
                    .map(|t| format!("{},", t.rust()))
                    .collect::<String>()
            ),
            Ty::Map(k, v) => format!("std::collections::BTreeMap<{},{}>", k.rust(), v.rust()),
            Ty::Opt(t) => format!("Option<{}>", t.rust()),
            Ty::Boxed(t) => format!("Box<{}>", t.rust()),
            Ty::Named(n) => n.clone(),
        }
    }

    /// The type without an outer `Option`.
    pub fn strip_opt(&self) -> &Ty {
        match self {
            Ty::Opt(inner) => inner.strip_opt(),
            other => other,
        }
    }
}

/// "a string" -> "strings", "a list of numbers" -> "lists of numbers",
/// "an integer or null" -> "integers or nulls" (for "a list of ...").
fn plural(phrase: &str) -> String {
    let words = phrase
        .strip_prefix("a ")
        .or_else(|| phrase.strip_prefix("an "))
        .unwrap_or(phrase);
    match words.split_once(' ') {
        _ if words == "any JSON value" => "JSON values".into(),
        Some((head, rest)) if head.starts_with('`') => {
            format!("{head} values {rest}").trim_end().into()
        }
        Some((head, rest)) => format!("{head}s {rest}"),
        None if words.starts_with('`') => format!("{words} values"),
        None => format!("{words}s"),
    }
}

/// One struct field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Rust identifier.
    pub ident: String,
    /// JSON property name.
    pub json: String,
    /// Rust type (an `Option` when the field is optional or nullable).
    pub ty: Ty,
    /// Whether the schema lists the field in `required`.
    pub required: bool,
    /// Doc comment lines.
    pub doc: Vec<String>,
    /// The field holds a constant (its type is a [`Def::Const`]): a request
    /// constructor sets it, the caller never passes it.
    pub fixed: bool,
    /// The schema marks the field `deprecated`.
    pub deprecated: bool,
    /// The schema allows `null` for the field (`Optional[X]`), as opposed to
    /// the `Option` of a field that may be left out.
    pub nullable: bool,
}

impl Field {
    /// How a request decodes the field when it must be strict where `Option`
    /// would be lenient: a required nullable field must be present (serde
    /// would take a missing `Option` as `None`), an optional field that is not
    /// nullable must not be `null` (pydantic refuses `null` for `x: int = 5`).
    pub fn strict_decoding(&self) -> Option<StrictDecoding> {
        match (self.required, self.nullable, self.fixed) {
            (_, _, true) => None,
            (true, true, false) => Some(StrictDecoding::Present),
            (false, false, false) => Some(StrictDecoding::NotNull),
            _ => None,
        }
    }
}

/// See [`Field::strict_decoding`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictDecoding {
    /// The key must be present (its value may be `null`).
    Present,
    /// The key may be absent, but not `null`.
    NotNull,
}

/// A generated type definition.
#[derive(Debug, Clone)]
pub enum Def {
    /// A struct from an object schema with `properties`.
    Struct {
        /// Type name.
        name: String,
        /// Doc lines.
        doc: Vec<String>,
        /// Request or response.
        dir: Dir,
        /// Fields in schema order.
        fields: Vec<Field>,
        /// The type of the fields beyond the named ones, when the schema allows
        /// them (`additionalProperties: true` or a schema, pydantic's
        /// `extra='allow'`): a flattened `BTreeMap<String, extra>` field `extra`.
        extra: Option<Ty>,
        /// The schema refuses unknown fields (`additionalProperties: false`,
        /// pydantic's `extra='forbid'`): request types then deny them too.
        /// Without it pydantic ignores unknown keys, and so do the types.
        closed: bool,
    },
    /// An enum of JSON values: `(variant ident, JSON value)`. All strings give
    /// a serde-derived enum; integers, booleans, null or a mix give hand-written
    /// `Serialize`/`Deserialize` impls that write each variant's own value.
    Enum {
        /// Type name.
        name: String,
        /// Doc lines.
        doc: Vec<String>,
        /// Request (closed) or response (with an `Unknown(..)` fallback).
        dir: Dir,
        /// Variants.
        values: Vec<(String, Value)>,
    },
    /// A unit-like type holding one constant (`const`): it serializes as that
    /// value and accepts nothing else, so a caller cannot get it wrong.
    Const {
        /// Type name.
        name: String,
        /// Doc lines.
        doc: Vec<String>,
        /// The constant.
        value: Value,
    },
    /// An untagged union of several shapes.
    Union {
        /// Type name.
        name: String,
        /// Doc lines.
        doc: Vec<String>,
        /// Request or response (responses get an `Other(Value)` fallback arm).
        dir: Dir,
        /// `(variant ident, type)` in try order.
        arms: Vec<(String, Ty)>,
        /// Per arm, the JSON field names of the arm when it is a struct (else
        /// empty), filled by [`crate::types::ModuleTypes::box_cycles`]: with two
        /// or more struct arms the union decodes by shape (the arm that accepts
        /// the value and knows most of its keys, first on a tie), as pydantic's
        /// smart mode picks the arm with the most fields set.
        shapes: Vec<Vec<String>>,
    },
    /// An internally tagged union (`oneOf` + `discriminator`, or arms that each
    /// fix one required property to a distinct constant): `#[serde(tag = ..)]`,
    /// the arm structs do not contain the tag.
    Tagged {
        /// Type name.
        name: String,
        /// Doc lines.
        doc: Vec<String>,
        /// Request (closed) or response (an `Unknown(Value)` arm for unknown tags).
        dir: Dir,
        /// The JSON property holding the tag.
        tag: String,
        /// The arms in schema order.
        arms: Vec<TaggedArm>,
    },
    /// `pub type name = ty;`.
    Alias {
        /// Alias name.
        name: String,
        /// Doc lines.
        doc: Vec<String>,
        /// Aliased type.
        ty: Ty,
    },
}

/// One arm of a [`Def::Tagged`].
#[derive(Debug, Clone)]
pub struct TaggedArm {
    /// Variant identifier.
    pub ident: String,
    /// The tag values selecting this arm; the first is written.
    pub tags: Vec<String>,
    /// The arm's type (a struct without the tag, or a nested tagged union).
    pub ty: Ty,
}

impl Def {
    /// The defined name.
    pub fn name(&self) -> &str {
        match self {
            Def::Struct { name, .. }
            | Def::Enum { name, .. }
            | Def::Const { name, .. }
            | Def::Tagged { name, .. }
            | Def::Union { name, .. }
            | Def::Alias { name, .. } => name,
        }
    }
}
