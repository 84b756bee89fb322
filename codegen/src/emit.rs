//! Rust tokens for the type model, and the final file text (via prettyplease).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::error::CodegenError;
use crate::methods::{handle_tokens, FamilyPlan};
use crate::options::Options;
use crate::types::{Def, Dir, Field, Ty};

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

fn field_tokens(f: &Field, dir: Dir) -> TokenStream {
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
    let numbers = number_list_attr(&f.ty, dir);
    quote! { #doc #rename #skip #numbers pub #ident: #ty, }
}

/// Tokens of one definition.
pub fn def_tokens(def: &Def) -> TokenStream {
    match def {
        Def::Struct {
            name,
            doc,
            dir,
            fields,
        } => struct_tokens(name, doc, *dir, fields),
        Def::Enum {
            name,
            doc,
            dir,
            values,
        } => {
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
            quote! {
                #doc
                #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
                #[serde(untagged)]
                #non_exhaustive
                pub enum #ident { #(#vars)* #other }
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

fn struct_tokens(name: &str, doc: &[String], dir: Dir, fields: &[Field]) -> TokenStream {
    let ident = format_ident!("{}", name);
    let doc = doc_or(doc, || {
        let listed: Vec<String> = fields.iter().map(|f| format!("`{}`", f.json)).collect();
        match listed.is_empty() {
            true => "A JSON object with no fixed fields.".to_string(),
            false => format!("A JSON object with the fields {}.", listed.join(", ")),
        }
    });
    let fs = fields.iter().map(|f| field_tokens(f, dir));
    match dir {
        Dir::Response => quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            #[non_exhaustive]
            pub struct #ident { #(#fs)* }
        },
        Dir::Request => {
            let required: Vec<&Field> = fields.iter().filter(|f| f.required).collect();
            let all_optional = required.is_empty();
            let default = if all_optional {
                quote! { Default, }
            } else {
                quote! {}
            };
            let params = required.iter().map(|f| {
                let i = format_ident!("{}", f.ident);
                let (t, _) = arg(&f.ty);
                quote! { #i: #t }
            });
            let inits = fields.iter().map(|f| {
                let i = format_ident!("{}", f.ident);
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
            let setters = fields.iter().filter(|f| !f.required).map(|f| {
                let i = format_ident!("{}", f.ident);
                let setter = format_ident!("with_{}", f.ident.trim_end_matches('_'));
                let inner = match &f.ty {
                    Ty::Opt(t) => t.as_ref(),
                    t => t,
                };
                let (t, conv) = arg(inner);
                let v = wrap_boxed(inner, quote! { value #conv });
                let d = format!(" Sets `{}`.", f.json);
                quote! { #[doc = #d] pub fn #setter(mut self, value: #t) -> Self { self.#i = Some(#v); self } }
            });
            let new_doc = if all_optional {
                " A value with every field unset (the server applies its defaults).".to_string()
            } else {
                " A value with the required fields set and every optional field unset.".to_string()
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
                #[serde(deny_unknown_fields)]
                pub struct #ident { #(#fs)* }
                impl #ident {
                    #[doc = #new_doc]
                    pub fn new(#(#params),*) -> Self { #ident { #(#inits)* } }
                    #(#setters)*
                }
            }
        }
    }
}

/// Tokens of one family module (behind its cargo feature when `options` gate it).
pub fn family_tokens(plan: &FamilyPlan, options: &Options) -> TokenStream {
    let module = format_ident!("{}", plan.module);
    let feature = &plan.feature;
    let mut doc = plan.doc.clone();
    let gate = if options.gated(feature) {
        doc.push(String::new());
        doc.push(format!(" Enabled by the `{feature}` cargo feature."));
        quote! { #[cfg(feature = #feature)] }
    } else {
        quote! {}
    };
    let doc = doc_attrs(&doc);
    let defs = plan.types.defs.iter().map(def_tokens);
    let handles = handle_tokens(plan);
    quote! {
        #gate
        #doc
        pub mod #module {
            #[allow(unused_imports)]
            use serde::{Deserialize, Serialize};
            #(#defs)*
            #handles
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
