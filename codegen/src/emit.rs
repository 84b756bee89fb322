//! Rust tokens for the type model, and the final file text (via prettyplease).

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::error::CodegenError;
use crate::types::{Def, Dir, Field, StrictDecoding, TaggedArm, Ty};
use serde_json::Value;

/// `#[doc = ...]` attributes, one per line.
pub fn doc_attrs(lines: &[String]) -> TokenStream {
    let mut out = TokenStream::new();
    for l in lines {
        // A doc line must not end a code block or open HTML by accident; schema text is plain.
        let l = l.replace('\r', "");
        out.extend(quote! { #[doc = #l] });
    }
    out
}

/// Doc attributes from `lines`, or from `fallback` when the schema gave no
/// text: every generated public item is documented, whatever the schema says.
fn doc_or(lines: &[String], fallback: impl FnOnce() -> String) -> TokenStream {
    if lines.iter().any(|l| !l.trim().is_empty()) {
        doc_attrs(lines)
    } else {
        doc_attrs(&[format!(" {}", fallback())])
    }
}

/// Tokens of a type expression.
pub fn ty_tokens(ty: &Ty) -> TokenStream {
    match ty {
        Ty::Str => quote! { String },
        Ty::Int => quote! { i64 },
        Ty::Num => quote! { f64 },
        Ty::Bool => quote! { bool },
        Ty::Value => quote! { serde_json::Value },
        Ty::Vec(t) => {
            let t = ty_tokens(t);
            quote! { Vec<#t> }
        }
        Ty::Tuple(ts) => {
            let ts = ts.iter().map(ty_tokens);
            quote! { (#(#ts,)*) }
        }
        Ty::Map(k, v) => {
            let (k, v) = (ty_tokens(k), ty_tokens(v));
            quote! { std::collections::BTreeMap<#k, #v> }
        }
        Ty::Opt(t) => {
            let t = ty_tokens(t);
            quote! { Option<#t> }
        }
        Ty::Boxed(t) => {
            let t = ty_tokens(t);
            quote! { Box<#t> }
        }
        Ty::Named(n) => {
            let n = format_ident!("{}", n);
            quote! { #n }
        }
    }
}

/// The argument type and conversion for a constructor or setter taking `ty`.
fn arg(ty: &Ty) -> (TokenStream, TokenStream) {
    match ty {
        Ty::Str => (quote! { impl Into<String> }, quote! { .into() }),
        // Lists take any iterable of anything convertible (`["A", "B"]`, a `Vec<String>`).
        Ty::Vec(inner) => {
            let t = ty_tokens(inner);
            (
                quote! { impl IntoIterator<Item = impl Into<#t>> },
                quote! { .into_iter().map(Into::into).collect() },
            )
        }
        Ty::Boxed(inner) => {
            let t = ty_tokens(inner);
            (t, quote! {})
        }
        other => (ty_tokens(other), quote! {}),
    }
}

fn wrap_boxed(ty: &Ty, value: TokenStream) -> TokenStream {
    match ty {
        Ty::Boxed(_) => quote! { Box::new(#value) },
        _ => value,
    }
}

/// A response field that is a plain list of numbers (an embedding, a score per
/// residue) is read through the runtime's `crate::de` helpers, which size the
/// vector exactly instead of growing it by doubling: for thousands of results
/// per call that saves a third of their memory and most reallocations.
fn number_list_attr(ty: &Ty, dir: Dir) -> TokenStream {
    if dir != Dir::Response {
        return quote! {};
    }
    match ty {
        Ty::Vec(inner) if matches!(**inner, Ty::Num) => {
            quote! { #[serde(deserialize_with = "crate::de::f64_vec")] }
        }
        Ty::Opt(opt) if matches!(&**opt, Ty::Vec(inner) if matches!(**inner, Ty::Num)) => {
            quote! { #[serde(deserialize_with = "crate::de::opt_f64_vec")] }
        }
        _ => quote! {},
    }
}

fn field_tokens(f: &Field, dir: Dir, owner: &str) -> TokenStream {
    let ident = format_ident!("{}", f.ident);
    let ty = ty_tokens(&f.ty);
    let doc = doc_or(&f.doc, || {
        format!("The `{}` field: {}.", f.json, f.ty.phrase())
    });
    let rename = if f.ident == f.json {
        quote! {}
    } else {
        let j = &f.json;
        quote! { #[serde(rename = #j)] }
    };
    let skip = if !f.required {
        quote! { #[serde(default, skip_serializing_if = "Option::is_none")] }
    } else {
        quote! {}
    };
    // Requests decode as pydantic validates: `Option` alone would take a
    // missing required nullable key, or a `null` for a non-nullable one.
    let strict = match (dir, f.strict_decoding()) {
        (Dir::Request, Some(StrictDecoding::Present)) => {
            quote! { #[serde(deserialize_with = "Option::deserialize")] }
        }
        (Dir::Request, Some(StrictDecoding::NotNull)) => {
            let path = format!("{owner}::{NOT_NULL_FN}");
            quote! { #[serde(deserialize_with = #path)] }
        }
        _ => quote! {},
    };
    let numbers = number_list_attr(&f.ty, dir);
    quote! { #doc #rename #skip #strict #numbers pub #ident: #ty, }
}

/// The private associated function of a request struct that reads an optional
/// field refusing `null` (see [`Field::strict_decoding`]).
const NOT_NULL_FN: &str = "deserialize_not_null";

/// Tokens of one definition.
pub fn def_tokens(def: &Def) -> TokenStream {
    match def {
        Def::Struct {
            name,
            doc,
            dir,
            fields,
            extra,
            closed,
        } => struct_tokens(name, doc, *dir, fields, extra.as_ref(), *closed),
        Def::Const { name, doc, value } => const_tokens(name, doc, value),
        Def::Tagged {
            name,
            doc,
            dir,
            tag,
            arms,
        } => tagged_tokens(name, doc, *dir, tag, arms),
        Def::Enum {
            name,
            doc,
            dir,
            values,
        } if !values.iter().all(|(_, v)| v.is_string()) => {
            value_enum_tokens(name, doc, *dir, values)
        }
        Def::Enum {
            name,
            doc,
            dir,
            values,
        } => {
            let values: Vec<(&String, &str)> = values
                .iter()
                .map(|(v, j)| (v, j.as_str().unwrap_or_default()))
                .collect();
            let ident = format_ident!("{}", name);
            let doc = doc_or(doc, || {
                let listed: Vec<String> = values.iter().map(|(_, j)| format!("`{j}`")).collect();
                format!("One of {}.", listed.join(", "))
            });
            let vars = values.iter().map(|(v, json)| {
                let v = format_ident!("{}", v);
                let d = format!(" `{json}`");
                quote! { #[doc = #d] #[serde(rename = #json)] #v, }
            });
            let names = values.iter().map(|(v, json)| {
                let v = format_ident!("{}", v);
                quote! { #ident::#v => #json, }
            });
            let (unknown, unknown_name) = match dir {
                Dir::Request => (quote! {}, quote! {}),
                Dir::Response => (
                    quote! {
                        /// A value this SDK version does not know (the server is newer).
                        #[serde(untagged)]
                        Unknown(String),
                    },
                    quote! { #ident::Unknown(s) => s, },
                ),
            };
            let non_exhaustive = match dir {
                Dir::Request => quote! {},
                Dir::Response => quote! { #[non_exhaustive] },
            };
            quote! {
                #doc
                #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
                #non_exhaustive
                pub enum #ident { #(#vars)* #unknown }
                impl #ident {
                    /// The value as sent on the wire.
                    pub fn as_str(&self) -> &str { match self { #(#names)* #unknown_name } }
                }
                impl std::fmt::Display for #ident {
                    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
                }
            }
        }
        Def::Union {
            name,
            doc,
            dir,
            arms,
            shapes,
        } => {
            let ident = format_ident!("{}", name);
            let doc = doc_or(doc, || {
                let shapes: Vec<String> = arms.iter().map(|(_, ty)| ty.phrase()).collect();
                format!(
                    "One of {} JSON shapes: {}.",
                    shapes.len(),
                    shapes.join("; ")
                )
            });
            let vars = arms.iter().map(|(v, ty)| {
                let v = format_ident!("{}", v);
                let t = ty_tokens(ty);
                let mut d = ty.phrase();
                if let Some(first) = d.get(..1) {
                    d = format!(" {}{}.", first.to_uppercase(), &d[1..]);
                }
                quote! { #[doc = #d] #v(#t), }
            });
            let (other, non_exhaustive) = match dir {
                Dir::Request => (quote! {}, quote! {}),
                Dir::Response => (
                    quote! {
                        /// A shape this SDK version does not know (the server is newer).
                        Other(serde_json::Value),
                    },
                    quote! { #[non_exhaustive] },
                ),
            };
            if shapes.iter().filter(|s| !s.is_empty()).count() < 2 {
                return quote! {
                    #doc
                    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
                    #[serde(untagged)]
                    #non_exhaustive
                    pub enum #ident { #(#vars)* #other }
                };
            }
            // Two or more struct arms: decode by shape, as pydantic's smart mode
            // does: of the arms that accept the value, the one that knows most
            // of its keys; the first of those on a tie.
            let tries = arms.iter().zip(shapes).map(|((v, ty), fields)| {
                let v = format_ident!("{}", v);
                let t = ty_tokens(ty);
                quote! {
                    if let Ok(x) = serde_json::from_value::<#t>(value.clone()) {
                        let score = known(&[#(#fields),*]);
                        if best.as_ref().is_none_or(|(b, _)| score > *b) {
                            best = Some((score, #ident::#v(x)));
                        }
                    }
                }
            });
            let none = match dir {
                Dir::Request => {
                    let msg = format!("the value matches no shape of `{name}`");
                    quote! { Err(serde::de::Error::custom(#msg)) }
                }
                Dir::Response => quote! { Ok(#ident::Other(value)) },
            };
            quote! {
                #doc
                #[derive(Debug, Clone, PartialEq, Serialize)]
                #[serde(untagged)]
                #non_exhaustive
                pub enum #ident { #(#vars)* #other }
                impl<'de> Deserialize<'de> for #ident {
                    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                        let value = <serde_json::Value as Deserialize>::deserialize(deserializer)?;
                        let keys: Vec<&str> = value
                            .as_object()
                            .map(|o| o.keys().map(String::as_str).collect())
                            .unwrap_or_default();
                        let known = |fields: &[&str]| keys.iter().filter(|k| fields.contains(k)).count();
                        let mut best: Option<(usize, #ident)> = None;
                        #(#tries)*
                        match best {
                            Some((_, x)) => Ok(x),
                            None => #none,
                        }
                    }
                }
            }
        }
        Def::Alias { name, doc, ty } => {
            let ident = format_ident!("{}", name);
            let doc = doc_or(doc, || format!("Values of this name are {}.", ty.phrase()));
            let t = ty_tokens(ty);
            quote! { #doc pub type #ident = #t; }
        }
    }
}

fn struct_tokens(
    name: &str,
    doc: &[String],
    dir: Dir,
    fields: &[Field],
    extra: Option<&Ty>,
    closed: bool,
) -> TokenStream {
    let ident = format_ident!("{}", name);
    // `extra='allow'`: the fields beyond the named ones, flattened (serde
    // cannot combine `flatten` with `deny_unknown_fields`: the schema allows
    // them anyway).
    let (extra_field, extra_init, extra_setter, deny) = match extra {
        Some(t) => {
            let t = ty_tokens(t);
            (
                quote! {
                    /// Fields beyond the named ones (the schema allows any).
                    #[serde(flatten)]
                    pub extra: std::collections::BTreeMap<String, #t>,
                },
                quote! { extra: Default::default(), },
                quote! {
                    /// Adds a field beyond the named ones.
                    pub fn with_extra(mut self, key: impl Into<String>, value: #t) -> Self {
                        self.extra.insert(key.into(), value);
                        self
                    }
                },
                quote! {},
            )
        }
        None if closed => (
            quote! {},
            quote! {},
            quote! {},
            quote! { #[serde(deny_unknown_fields)] },
        ),
        // pydantic's default `extra='ignore'`: unknown keys are dropped.
        None => (quote! {}, quote! {}, quote! {}, quote! {}),
    };
    let doc = doc_or(doc, || {
        let listed: Vec<String> = fields.iter().map(|f| format!("`{}`", f.json)).collect();
        match listed.is_empty() {
            true => "A JSON object with no fixed fields.".to_string(),
            false => format!("A JSON object with the fields {}.", listed.join(", ")),
        }
    });
    let fs = fields.iter().map(|f| field_tokens(f, dir, name));
    let not_null = if dir == Dir::Request
        && fields
            .iter()
            .any(|f| f.strict_decoding() == Some(StrictDecoding::NotNull))
    {
        let f = format_ident!("{}", NOT_NULL_FN);
        quote! {
            /// Reads an optional field that may be left out but not be `null`.
            fn #f<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
                T::deserialize(deserializer).map(Some)
            }
        }
    } else {
        quote! {}
    };
    let required: Vec<&Field> = fields.iter().filter(|f| f.required && !f.fixed).collect();
    let all_optional = required.is_empty();
    let params = required.iter().map(|f| {
        let i = format_ident!("{}", f.ident);
        let (t, _) = arg(&f.ty);
        quote! { #i: #t }
    });
    let inits = fields.iter().map(|f| {
        let i = format_ident!("{}", f.ident);
        if f.fixed && f.required {
            return quote! { #i: Default::default(), };
        }
        if f.required {
            let (_, conv) = arg(&f.ty);
            if conv.is_empty() && !matches!(f.ty, Ty::Boxed(_)) {
                return quote! { #i, };
            }
            let v = wrap_boxed(&f.ty, quote! { #i #conv });
            quote! { #i: #v, }
        } else {
            quote! { #i: None, }
        }
    });
    let setters = fields.iter().filter(|f| !f.required && !f.fixed).map(|f| {
        let i = format_ident!("{}", f.ident);
        let setter = format_ident!("with_{}", f.ident.trim_end_matches('_'));
        let inner = match &f.ty {
            Ty::Opt(t) => t.as_ref(),
            t => t,
        };
        let (t, conv) = arg(inner);
        let v = wrap_boxed(inner, quote! { value #conv });
        let d = format!(" Sets `{}`.", f.json);
        let deprecated = if f.deprecated {
            quote! { #[deprecated(note = "the schema marks this field deprecated")] }
        } else {
            quote! {}
        };
        quote! { #[doc = #d] #deprecated pub fn #setter(mut self, value: #t) -> Self { self.#i = Some(#v); self } }
    });
    let new_doc = match (dir, all_optional) {
        (Dir::Request, true) => {
            " A value with every field unset (the server applies its defaults).".to_string()
        }
        (Dir::Request, false) => {
            " A value with the required fields set and every optional field unset.".to_string()
        }
        // Results come from the server; this is for tests of code that handles them.
        (Dir::Response, _) => " A value with the required fields set and every optional field \
             unset, for tests of code that handles results (the SDK decodes real ones)."
            .to_string(),
    };
    let constructors = quote! {
        #[doc = #new_doc]
        pub fn new(#(#params),*) -> Self { #ident { #(#inits)* #extra_init } }
        #(#setters)*
        #extra_setter
    };
    match dir {
        Dir::Response => quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            #[non_exhaustive]
            pub struct #ident { #(#fs)* #extra_field }
            impl #ident {
                #constructors
            }
        },
        Dir::Request => {
            let default = if all_optional {
                quote! { Default, }
            } else {
                quote! {}
            };
            // One required text field (a sequence, a SMILES, a PDB): build from the text.
            let from_text = match required.as_slice() {
                [only] if only.ty == Ty::Str => {
                    let f = format_ident!("{}", only.ident);
                    let d1 = format!(" An item with `{}` set to this text.", only.json);
                    quote! {
                        impl From<String> for #ident {
                            #[doc = #d1]
                            fn from(#f: String) -> Self { #ident::new(#f) }
                        }
                        impl From<&str> for #ident {
                            #[doc = #d1]
                            fn from(#f: &str) -> Self { #ident::new(#f) }
                        }
                    }
                }
                _ => quote! {},
            };
            quote! {
                #from_text
                #doc
                #[derive(Debug, Clone, PartialEq, #default Serialize, Deserialize)]
                #deny
                pub struct #ident { #(#fs)* #extra_field }
                impl #ident {
                    #constructors
                    #not_null
                }
            }
        }
    }
}

/// `serializer.serialize_*(..)` writing the JSON value `v`.
fn value_ser(v: &Value) -> TokenStream {
    match v {
        Value::String(s) => quote! { serializer.serialize_str(#s) },
        Value::Bool(b) => quote! { serializer.serialize_bool(#b) },
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => {
                let i = Literal::i64_unsuffixed(i);
                quote! { serializer.serialize_i64(#i) }
            }
            (None, Some(u), _) => {
                let u = Literal::u64_unsuffixed(u);
                quote! { serializer.serialize_u64(#u) }
            }
            (_, _, Some(f)) => {
                let f = Literal::f64_unsuffixed(f);
                quote! { serializer.serialize_f64(#f) }
            }
            _ => quote! { serializer.serialize_unit() },
        },
        _ => quote! { serializer.serialize_unit() },
    }
}

/// A condition on `value: &serde_json::Value` that holds when it equals `v`.
fn value_test(v: &Value) -> TokenStream {
    match v {
        Value::String(s) => quote! { value.as_str() == Some(#s) },
        Value::Bool(b) => quote! { value.as_bool() == Some(#b) },
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => {
                // JSON Schema (and pydantic) equate `4.0` with `4`.
                let f = Literal::f64_unsuffixed(i as f64);
                let i = Literal::i64_unsuffixed(i);
                quote! { value.as_i64() == Some(#i) || (value.is_f64() && value.as_f64() == Some(#f)) }
            }
            (None, Some(u), _) => {
                let u = Literal::u64_unsuffixed(u);
                quote! { value.as_u64() == Some(#u) }
            }
            (_, _, Some(f)) => {
                let f = Literal::f64_unsuffixed(f);
                quote! { value.is_f64() && value.as_f64() == Some(#f) }
            }
            _ => quote! { false },
        },
        _ => quote! { value.is_null() },
    }
}

/// An enum whose values are not all strings (integers, booleans, null, or a
/// mix): each variant serializes as its own JSON value. All-integer enums read
/// an `i64` (responses keep an unknown one in `Unknown(i64)`); other enums
/// read any JSON value (responses keep an unknown one in `Unknown(Value)`).
fn value_enum_tokens(
    name: &str,
    doc: &[String],
    dir: Dir,
    values: &[(String, Value)],
) -> TokenStream {
    let ident = format_ident!("{}", name);
    let doc = doc_or(doc, || {
        let listed: Vec<String> = values.iter().map(|(_, j)| format!("`{j}`")).collect();
        format!("One of {}.", listed.join(", "))
    });
    let ints = values.iter().all(|(_, v)| v.is_i64());
    let vars = values.iter().map(|(v, json)| {
        let v = format_ident!("{}", v);
        let d = format!(" `{json}`");
        quote! { #[doc = #d] #v, }
    });
    let sers = values.iter().map(|(v, json)| {
        let v = format_ident!("{}", v);
        let s = value_ser(json);
        quote! { #ident::#v => #s, }
    });
    let texts = values.iter().map(|(v, json)| {
        let v = format_ident!("{}", v);
        let t = json.to_string();
        quote! { #ident::#v => f.write_str(#t), }
    });
    let listed: Vec<String> = values.iter().map(|(_, j)| j.to_string()).collect();
    let expected = format!("one of {}", listed.join(", "));
    let (unknown_var, unknown_ser, unknown_text, fallback, derives, non_exhaustive) = match (
        dir, ints,
    ) {
        (Dir::Request, true) => (
            quote! {},
            quote! {},
            quote! {},
            quote! { Err(serde::de::Error::custom(format!("expected {}, found {value}", #expected))) },
            quote! { #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)] },
            quote! {},
        ),
        (Dir::Request, false) => (
            quote! {},
            quote! {},
            quote! {},
            quote! { Err(serde::de::Error::custom(format!("expected {}, found {value}", #expected))) },
            quote! { #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)] },
            quote! {},
        ),
        (Dir::Response, true) => (
            quote! {
                /// A value this SDK version does not know (the server is newer).
                Unknown(i64),
            },
            quote! { #ident::Unknown(n) => serializer.serialize_i64(*n), },
            quote! { #ident::Unknown(n) => write!(f, "{n}"), },
            quote! { Ok(#ident::Unknown(value)) },
            quote! { #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)] },
            quote! { #[non_exhaustive] },
        ),
        (Dir::Response, false) => (
            quote! {
                /// A value this SDK version does not know (the server is newer).
                Unknown(serde_json::Value),
            },
            quote! { #ident::Unknown(v) => v.serialize(serializer), },
            quote! { #ident::Unknown(v) => write!(f, "{v}"), },
            quote! { Ok(#ident::Unknown(value)) },
            quote! { #[derive(Debug, Clone, PartialEq)] },
            quote! { #[non_exhaustive] },
        ),
    };
    let reads = values.iter().map(|(v, json)| {
        let v = format_ident!("{}", v);
        if ints {
            let n = Literal::i64_unsuffixed(json.as_i64().unwrap_or_default());
            quote! { #n => Ok(#ident::#v), }
        } else {
            let t = value_test(json);
            quote! { if #t { return Ok(#ident::#v); } }
        }
    });
    let de_body = if ints {
        quote! {
            // An integral float (`4.0`) is the integer, as for JSON Schema and pydantic.
            #[derive(Deserialize)]
            #[serde(untagged)]
            enum Wire { Int(i64), Float(f64) }
            let value = match <Wire as Deserialize>::deserialize(deserializer)? {
                Wire::Int(n) => n,
                Wire::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e18 => x as i64,
                Wire::Float(x) => {
                    return Err(serde::de::Error::custom(format!("expected {}, found {x}", #expected)))
                }
            };
            match value { #(#reads)* _ => #fallback }
        }
    } else {
        quote! {
            let value = <serde_json::Value as Deserialize>::deserialize(deserializer)?;
            #(#reads)*
            #fallback
        }
    };
    quote! {
        #doc
        #derives
        #non_exhaustive
        pub enum #ident { #(#vars)* #unknown_var }
        impl Serialize for #ident {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self { #(#sers)* #unknown_ser }
            }
        }
        impl<'de> Deserialize<'de> for #ident {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #de_body
            }
        }
        impl std::fmt::Display for #ident {
            /// The value as JSON text.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self { #(#texts)* #unknown_text }
            }
        }
    }
}

/// A unit-like type for a `const`: serializes as the constant, reads only it.
fn const_tokens(name: &str, doc: &[String], value: &Value) -> TokenStream {
    let ident = format_ident!("{}", name);
    let text = value.to_string();
    let mut lines: Vec<String> = doc.to_vec();
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines.push(format!(
        " Always `{text}`: the only value the schema allows (`{name}::default()` or `{name}`)."
    ));
    let doc = doc_attrs(&lines);
    let ser = value_ser(value);
    let test = value_test(value);
    let msg = format!("expected {text}, found {{value}}");
    quote! {
        #doc
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct #ident;
        impl #ident {
            /// The constant as JSON text.
            pub const JSON: &'static str = #text;
        }
        impl Serialize for #ident {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                #ser
            }
        }
        impl<'de> Deserialize<'de> for #ident {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <serde_json::Value as Deserialize>::deserialize(deserializer)?;
                if #test { Ok(#ident) } else { Err(serde::de::Error::custom(format!(#msg))) }
            }
        }
    }
}

/// An internally tagged union: `#[serde(tag = ..)]`, one variant per arm
/// renamed to its tag value (other values it accepts are aliases). Requests
/// derive both directions. Responses derive `Serialize` and read through a
/// hand-written `Deserialize`: the tag picks the arm, an unknown or missing
/// tag gives `Unknown(Value)` (a newer server never breaks decoding).
fn tagged_tokens(
    name: &str,
    doc: &[String],
    dir: Dir,
    tag: &str,
    arms: &[TaggedArm],
) -> TokenStream {
    let ident = format_ident!("{}", name);
    let doc = doc_or(doc, || {
        let listed: Vec<String> = arms
            .iter()
            .map(|a| format!("`{}`", a.tags.join("`/`")))
            .collect();
        format!("Tagged by `{tag}`: {}.", listed.join(", "))
    });
    let vars = arms.iter().map(|a| {
        let v = format_ident!("{}", a.ident);
        let t = ty_tokens(&a.ty);
        let first = a.tags.first().cloned().unwrap_or_default();
        let aliases = a
            .tags
            .iter()
            .skip(1)
            .map(|x| quote! { #[serde(alias = #x)] });
        let d = format!(" `{tag}` = `{}`.", a.tags.join("` or `"));
        quote! { #[doc = #d] #[serde(rename = #first)] #(#aliases)* #v(#t), }
    });
    match dir {
        Dir::Request => quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            #[serde(tag = #tag)]
            pub enum #ident { #(#vars)* }
        },
        Dir::Response => {
            let reads = arms.iter().map(|a| {
                let v = format_ident!("{}", a.ident);
                let tags = &a.tags;
                quote! {
                    #(Some(#tags))|* => serde_json::from_value(value)
                        .map(#ident::#v)
                        .map_err(serde::de::Error::custom),
                }
            });
            quote! {
                #doc
                #[derive(Debug, Clone, PartialEq, Serialize)]
                #[serde(tag = #tag)]
                #[non_exhaustive]
                pub enum #ident {
                    #(#vars)*
                    /// An arm this SDK version does not know (the server is newer).
                    #[serde(untagged)]
                    Unknown(serde_json::Value),
                }
                impl<'de> Deserialize<'de> for #ident {
                    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                        let value = <serde_json::Value as Deserialize>::deserialize(deserializer)?;
                        let tag = value.get(#tag).and_then(serde_json::Value::as_str).map(str::to_owned);
                        match tag.as_deref() {
                            #(#reads)*
                            _ => Ok(#ident::Unknown(value)),
                        }
                    }
                }
            }
        }
    }
}

/// Formats tokens as a Rust file.
pub fn format_file(tokens: TokenStream) -> Result<String, CodegenError> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| {
        CodegenError::new(
            "<generated>",
            "",
            format!("internal error: generated code does not parse: {e}"),
        )
    })?;
    Ok(prettyplease::unparse(&file))
}
