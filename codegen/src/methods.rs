//! Per-family handles, client accessors and the `CATALOG` statics.
//!
//! Variants of a family share one handle type unless a variant's effective
//! request schema (after its overrides) differs in item type, params type or
//! batch limit: such variants get their own handle (named after their first
//! slug) with their own params type, so `ligand_mpnn().generate(..)` only
//! accepts the parameters that variant accepts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use biolm_catalog::{Action, Family};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use crate::emit::{def_tokens, doc_attrs, ty_tokens};
use crate::error::CodegenError;
use crate::normalize::{const_ident, pascal_ident, pointer_segment, snake_ident, unique};
use crate::options::{Home, Options};
use crate::types::{fingerprint, Dir, Doc, ModuleTypes, Ty};

/// Names the runtime's clients (`Client`, `blocking::Client`) already use, and a few
/// they may use; variant accessors avoid them. The `biolm` crate's
/// `tests/reserved_names.rs` checks the list against the runtime's source, so it cannot
/// drift.
pub const CLIENT_METHODS: &[&str] = &[
    "as_async",
    "base_url",
    "block",
    "block_one",
    "blocking",
    "builder",
    "cache",
    "call",
    "call_one",
    "call_stream",
    "catalog",
    "clone",
    "config",
    "from_builder",
    "from_env",
    "new",
    "spec",
    "stats",
    "target",
    "untyped",
];

/// Batch size used when a request schema sets no `maxItems` (the server then
/// accepts any batch size; this keeps each request small).
pub const FALLBACK_MAX_ITEMS: u64 = 8;

/// One action of one handle.
#[derive(Debug, Clone)]
pub struct ActionPlan {
    /// Index of the action in the family (and in each `VariantSpec::actions`).
    pub index: usize,
    /// Platform action name.
    pub name: String,
    /// Rust method name.
    pub method: String,
    /// Request item type.
    pub item: Ty,
    /// Params type (`None`: the action takes no params, `crate::NoParams`).
    pub params: Option<Ty>,
    /// Per-item result type.
    pub result: Ty,
    /// Batch limit.
    pub max_items: u64,
    /// `(CONST_NAME, value)` limits of the item's string fields.
    pub item_limits: Vec<(String, u64)>,
    /// The schema's description of the request's `items` list (kept for tools; the
    /// method's doc comment is written from the Rust types instead).
    pub doc: Vec<String>,
    /// The request schema lists `params` as required: the method takes them as an argument.
    pub params_required: bool,
    /// The action's response JSON Schema, compact JSON (the handle's `*_response_schema`).
    pub response_schema: String,
}

/// Variants sharing one handle type.
#[derive(Debug, Clone)]
pub struct HandleGroup {
    /// Handle type name.
    pub name: String,
    /// Slugs of its variants.
    pub slugs: Vec<String>,
    /// Its actions.
    pub actions: Vec<ActionPlan>,
}

/// Everything generated for one family.
#[derive(Debug)]
pub struct FamilyPlan {
    /// Family name (cargo feature).
    pub feature: String,
    /// Module identifier.
    pub module: String,
    /// Module docs.
    pub doc: Vec<String>,
    /// The module's types.
    pub types: ModuleTypes,
    /// Handle types.
    pub handles: Vec<HandleGroup>,
    /// slug -> handle name.
    pub handle_of: BTreeMap<String, String>,
}

/// Per (variant, action) facts for the catalog.
#[derive(Debug, Clone)]
pub struct SpecPlan {
    /// Platform name.
    pub action: String,
    /// Gateway name.
    pub gateway: String,
    /// Batch limit.
    pub max_items: u64,
    /// Least items per request.
    pub min_items: u64,
    /// Several results per item.
    pub multi_result: bool,
    /// Server rate limit.
    pub throttle: Option<String>,
    /// `false` when the action samples (`x-biolm-deterministic: false`).
    pub deterministic: bool,
    /// Effective request schema, compact JSON.
    pub schema: String,
}

/// Where the schemas of one action live, for error messages.
pub fn action_location(
    family: &Family,
    index: usize,
    action: &Action,
    part: &str,
) -> (PathBuf, String) {
    if family.source.is_file() || family.source.extension().is_some_and(|e| e == "json") {
        (family.source.clone(), format!("/actions/{index}/{part}"))
    } else {
        (
            family
                .source
                .join(format!("{}.{part}.json", action.gateway_name)),
            String::new(),
        )
    }
}

/// Names a family module may not take: crates the generated code names, and the
/// runtime's own modules, which the generated items are re-exported beside. The `biolm`
/// crate's `tests/reserved_names.rs` checks that every module of the runtime is here.
pub const RESERVED_MODULES: &[&str] = &[
    "alloc",
    "blocking",
    "budget",
    "build",
    "cache",
    "call",
    "catalog",
    "client",
    "clock",
    "config",
    "core",
    "de",
    "engine",
    "error",
    "file_lock",
    "generated",
    "hooks",
    "inner",
    "json_check",
    "jsonl",
    "outcome",
    "output",
    "progress",
    "rate_limit",
    "raw_result",
    "reachability",
    "reply",
    "retry",
    "secret",
    "serde",
    "serde_json",
    "shard",
    "spec",
    "std",
    "tests",
    "transport",
    "validation",
];

/// The Rust module of a family: its `snake_case` name, with `_model` appended
/// when that would shadow a crate or a runtime module (`serde` -> `serde_model`).
pub fn module_name(family: &str) -> String {
    let m = snake_ident(family);
    if RESERVED_MODULES.contains(&m.as_str()) {
        format!("{m}_model")
    } else {
        m
    }
}

/// Catalog facts for one (variant, action).
pub fn spec_plan(
    family: &Family,
    index: usize,
    action: &Action,
    effective: &Value,
) -> Result<SpecPlan, CodegenError> {
    let (file, base) = action_location(family, index, action, "request");
    // No `maxItems`: the server takes batches of any size; send FALLBACK_MAX_ITEMS at a time.
    let max_items = match effective.pointer("/properties/items/maxItems") {
        None => FALLBACK_MAX_ITEMS,
        Some(v) => v.as_u64().filter(|n| *n >= 1).ok_or_else(|| {
            CodegenError::new(
                file.clone(),
                format!("{base}/properties/items/maxItems"),
                "`maxItems` must be a whole number of at least 1",
            )
        })?,
    };
    let min_items = effective
        .pointer("/properties/items/minItems")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    Ok(SpecPlan {
        action: action.name.clone(),
        gateway: action.gateway_name.clone(),
        max_items,
        min_items,
        multi_result: is_multi_result(&action.response),
        throttle: action.throttle_rate.clone(),
        deterministic: action
            .extensions
            .get("x-biolm-deterministic")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        schema: effective.to_string(),
    })
}

/// Whether each item's result is a list (`results.items` is an array schema).
pub fn is_multi_result(response: &Value) -> bool {
    let Some(items) = response.pointer("/properties/results/items") else {
        return false;
    };
    let items = match items
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
    {
        Some(name) => response
            .get("$defs")
            .and_then(|d| d.get(name))
            .unwrap_or(items),
        None => items,
    };
    items.get("type").and_then(Value::as_str) == Some("array")
}

/// Signature of a variant for handle grouping: per action, item and params fingerprints and batch limit.
fn signature(doc: &Value) -> String {
    let item = doc
        .pointer("/properties/items/items")
        .map(|s| fingerprint(doc, s))
        .unwrap_or_default();
    let params = doc
        .pointer("/properties/params")
        .map(|s| fingerprint(doc, s))
        .unwrap_or_default();
    let max = doc
        .pointer("/properties/items/maxItems")
        .map(Value::to_string)
        .unwrap_or_default();
    format!("{item}\u{2}{params}\u{2}{max}")
}

/// Plans one family: its types, handles and per-variant specs.
pub fn plan_family(family: &Family) -> Result<(FamilyPlan, Vec<Vec<SpecPlan>>), CodegenError> {
    let fam = pascal_ident(&family.name);
    let module = module_name(&family.name);
    // Two actions whose names map to one Rust name would give one handle two
    // methods of that name (`log-prob` and `log_prob`): refuse, naming both.
    let mut method_names: BTreeMap<String, &str> = BTreeMap::new();
    for (i, a) in family.actions.iter().enumerate() {
        if let Some(first) = method_names.insert(snake_ident(&a.name), &a.name) {
            let (file, base) = action_location(family, i, a, "request");
            let pointer = if base.is_empty() {
                String::new()
            } else {
                format!("/actions/{i}/name")
            };
            return Err(CodegenError::new(
                file,
                pointer,
                format!(
                    "action `{}` has the same Rust name (`{}`) as action `{first}`; rename one of them",
                    a.name,
                    snake_ident(&a.name)
                ),
            ));
        }
    }
    // Effective request per variant per action.
    let mut effective: Vec<Vec<Value>> = Vec::with_capacity(family.variants.len());
    let mut specs: Vec<Vec<SpecPlan>> = Vec::with_capacity(family.variants.len());
    for v in &family.variants {
        let mut per_action = Vec::with_capacity(family.actions.len());
        let mut per_spec = Vec::with_capacity(family.actions.len());
        for (i, a) in family.actions.iter().enumerate() {
            let eff = v.effective_request(a);
            per_spec.push(spec_plan(family, i, a, &eff)?);
            per_action.push(eff);
        }
        effective.push(per_action);
        specs.push(per_spec);
    }
    // Group variants by signature.
    let family_sig: Vec<String> = family
        .actions
        .iter()
        .map(|a| signature(&a.request))
        .collect();
    let mut groups: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
    for (vi, eff) in effective.iter().enumerate() {
        let sig: Vec<String> = eff.iter().map(signature).collect();
        match groups.iter_mut().find(|(s, _)| *s == sig) {
            Some((_, members)) => members.push(vi),
            None => groups.push((sig, vec![vi])),
        }
    }
    // The family's own group first, so its canonical names are the plain ones.
    groups
        .sort_by_key(|(sig, members)| (*sig != family_sig, members.first().copied().unwrap_or(0)));

    let mut reserved: BTreeSet<String> = BTreeSet::new();
    let mut handle_names = Vec::with_capacity(groups.len());
    for (sig, members) in &groups {
        let base = if *sig == family_sig {
            fam.clone()
        } else {
            let first = members
                .first()
                .and_then(|i| family.variants.get(*i))
                .map(|v| v.slug.as_str())
                .unwrap_or("");
            pascal_ident(first)
        };
        handle_names.push(unique(&crate::normalize::type_name(&base), &mut reserved));
    }
    reserved.insert("NoParams".to_string());
    let mut types = ModuleTypes::for_family(&family.name, reserved);

    // Per-item results, shared by every handle of the family.
    let mut results: Vec<Ty> = Vec::with_capacity(family.actions.len());
    for (i, a) in family.actions.iter().enumerate() {
        let (file, base) = action_location(family, i, a, "response");
        let mut doc = Doc::new(&a.response, file, base, Dir::Response, &a.name);
        let canonical = format!("{fam}{}Result", pascal_ident(&a.name));
        let results_schema = a.response.pointer("/properties/results").ok_or_else(|| {
            doc.err(
                "/properties",
                "the response schema has no `results` property",
            )
        })?;
        let ty = if let Some(items) = results_schema.get("items") {
            types.role(
                &mut doc,
                items,
                "/properties/results/items",
                &canonical,
                &format!("Per-item result of `{}`", a.name),
            )?
        } else if let Some(arms) = results_schema.get("anyOf").and_then(Value::as_array) {
            // Several list shapes (esm1v): the per-item result is the union of their items.
            let mut item_arms = Vec::with_capacity(arms.len());
            for (k, arm) in arms.iter().enumerate() {
                let item = arm.get("items").ok_or_else(|| {
                    doc.err(
                        &format!("/properties/results/anyOf/{k}"),
                        "each shape of `results` must be an array with `items`",
                    )
                })?;
                item_arms.push(item.clone());
            }
            let synthetic = serde_json::json!({ "anyOf": item_arms, "description": results_schema.get("description").cloned().unwrap_or(Value::Null) });
            types.role(
                &mut doc,
                &synthetic,
                "/properties/results",
                &canonical,
                &format!("Per-item result of `{}`", a.name),
            )?
        } else {
            return Err(doc.err(
                "/properties/results",
                "`results` must be an array schema with `items`",
            ));
        };
        results.push(ty);
    }

    let mut handles = Vec::with_capacity(groups.len());
    let mut handle_of = BTreeMap::new();
    for ((_, members), hname) in groups.iter().zip(handle_names) {
        let Some(&first) = members.first() else {
            continue;
        };
        let mut actions = Vec::with_capacity(family.actions.len());
        for (i, a) in family.actions.iter().enumerate() {
            let Some(req) = effective.get(first).and_then(|e| e.get(i)) else {
                continue;
            };
            let (file, base) = action_location(family, i, a, "request");
            let mut doc = Doc::new(req, file, base, Dir::Request, &a.name);
            let act = pascal_ident(&a.name);
            let item_schema = req.pointer("/properties/items/items").ok_or_else(|| {
                doc.err(
                    "/properties/items",
                    "the request schema has no `items.items` (the item schema)",
                )
            })?;
            let item = types.role(
                &mut doc,
                item_schema,
                "/properties/items/items",
                &format!("{hname}{act}Item"),
                &format!("Request item of `{}`", a.name),
            )?;
            let params = match req.pointer("/properties/params") {
                None => None,
                Some(p) => {
                    let p = crate::normalize::strip_null(p)
                        .and_then(|s| s.arms.first().map(|(_, a)| *a))
                        .unwrap_or(p);
                    Some(types.role(
                        &mut doc,
                        p,
                        "/properties/params",
                        &format!("{hname}{act}Params"),
                        &format!("Parameters of `{}`", a.name),
                    )?)
                }
            };
            let max_items = req
                .pointer("/properties/items/maxItems")
                .and_then(Value::as_u64)
                .unwrap_or(FALLBACK_MAX_ITEMS);
            let item_limits = item_limits(req, item_schema, &a.name);
            let params_required = params.is_some()
                && req
                    .get("required")
                    .and_then(Value::as_array)
                    .is_some_and(|r| r.iter().any(|n| n == "params"));
            let doc_lines =
                crate::types::describe(req.pointer("/properties/items").unwrap_or(&Value::Null));
            actions.push(ActionPlan {
                index: i,
                name: a.name.clone(),
                method: snake_ident(&a.name),
                item,
                params,
                result: results.get(i).cloned().unwrap_or(Ty::Value),
                max_items,
                item_limits,
                doc: doc_lines,
                params_required,
                response_schema: a.response.to_string(),
            });
        }
        let slugs: Vec<String> = members
            .iter()
            .filter_map(|i| family.variants.get(*i))
            .map(|v| v.slug.clone())
            .collect();
        for s in &slugs {
            handle_of.insert(s.clone(), hname.clone());
        }
        handles.push(HandleGroup {
            name: hname,
            slugs,
            actions,
        });
    }
    types.box_cycles();

    let mut doc = vec![format!(
        " {} ({} variants).",
        family.display_name,
        family.variants.len()
    )];
    if let Some(d) = &family.description {
        doc.push(String::new());
        doc.extend(d.lines().map(|l| format!(" {l}")));
    }
    Ok((
        FamilyPlan {
            feature: family.name.clone(),
            module,
            doc,
            types,
            handles,
            handle_of,
        },
        specs,
    ))
}

/// `<ACTION>_<FIELD>_MAX_LENGTH` constants for the item's string fields.
fn item_limits(doc: &Value, item: &Value, action: &str) -> Vec<(String, u64)> {
    let item = match item
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
    {
        Some(name) => doc.get("$defs").and_then(|d| d.get(name)).unwrap_or(item),
        None => item,
    };
    let mut out = Vec::new();
    if let Some(props) = item.get("properties").and_then(Value::as_object) {
        for (name, p) in props {
            let p = crate::normalize::strip_null(p)
                .and_then(|s| s.arms.first().map(|(_, a)| *a))
                .unwrap_or(p);
            if let Some(max) = p.get("maxLength").and_then(Value::as_u64) {
                out.push((
                    format!("{}_{}_MAX_LENGTH", const_ident(action), const_ident(name)),
                    max,
                ));
            }
        }
    }
    out
}

/// A Rust type as a doc comment shows it (`Vec<Foo>`).
fn ty_text(ty: &Ty) -> String {
    ty_tokens(ty)
        .to_string()
        .replace(' ', "")
        .replace(',', ", ")
}

/// What a generated action method does, in the terms of the Rust API: how items are
/// sent, what is checked, what comes back, how params are given.
fn method_doc(a: &ActionPlan, max_const: &str) -> Vec<String> {
    let mut doc = vec![
        format!(
            " Runs `{}` on every item: sent {} per request (`Self::{max_const}`), each item checked",
            a.name, a.max_items
        ),
        " against the schema before sending; one outcome per input item, in input order".into(),
        format!(
            " (`Outcome<{}>`). Await the returned call for a `Vec`, or stream it.",
            ty_text(&a.result)
        ),
        String::new(),
        format!(" Items: `{}`.", ty_text(&a.item)),
    ];
    match (&a.params, a.params_required) {
        (Some(p), true) => doc.push(format!(
            " Params: `{}`, required by the server, so they are the second argument.",
            ty_text(p)
        )),
        (Some(p), false) => doc.push(format!(
            " Params (optional): `{}`, set with `.params(..)` on the returned call.",
            ty_text(p)
        )),
        (None, _) => {}
    }
    doc
}

/// Tokens of the handles (async and blocking) of one family.
pub fn handle_tokens(plan: &FamilyPlan) -> TokenStream {
    let mut asyncs = TokenStream::new();
    let mut blockings = TokenStream::new();
    for h in &plan.handles {
        let name = format_ident!("{}", h.name);
        let slugs = h
            .slugs
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let hdoc = format!(
            " Calls the {} variant(s) {slugs}. Get one from the client's per-variant accessor.",
            h.name
        );
        let bdoc = format!(
            " Blocking twin of [`super::{}`]: same methods, each returning a blocking call.",
            h.name
        );
        let mut consts = TokenStream::new();
        let mut methods = TokenStream::new();
        let mut bmethods = TokenStream::new();
        for a in &h.actions {
            let cname = format_ident!("{}_MAX_ITEMS", const_ident(&a.name));
            let max = Literal::usize_unsuffixed(usize::try_from(a.max_items).unwrap_or(usize::MAX));
            let cdoc = format!(
                " Most items one `{}` request may carry (the schema's `maxItems`).",
                a.name
            );
            consts.extend(quote! { #[doc = #cdoc] pub const #cname: usize = #max; });
            for (c, v) in &a.item_limits {
                let c = format_ident!("{}", c);
                let v = Literal::usize_unsuffixed(usize::try_from(*v).unwrap_or(usize::MAX));
                let d = " Longest value the schema allows for this item field, in characters.";
                consts.extend(quote! { #[doc = #d] pub const #c: usize = #v; });
            }
            let method = format_ident!("{}", a.method);
            let item = ty_tokens(&a.item);
            let params = match &a.params {
                Some(p) => ty_tokens(p),
                None => quote! { crate::NoParams },
            };
            let result = ty_tokens(&a.result);
            let idx = Literal::usize_unsuffixed(a.index);
            let mdoc = doc_attrs(&method_doc(a, &cname.to_string()));
            let (params_arg, with_params) = if a.params_required {
                (quote! { , params: #params }, quote! { .params(params) })
            } else {
                (quote! {}, quote! {})
            };
            let params_pass = if a.params_required {
                quote! { , params }
            } else {
                quote! {}
            };
            let one = format_ident!("{}_one", a.method);
            let schema = format_ident!("{}_request_schema", a.method);
            let one_doc = format!(
                " `{}` on a single item: `.await` gives its result, or the item's error as \
                 [`crate::Error::Item`]. See [`Self::{}`].",
                a.name, a.method
            );
            let schema_doc = format!(
                " The JSON Schema of a `{}` request to this variant, as compiled into the crate.",
                a.name
            );
            let response_schema = format_ident!("{}_response_schema", a.method);
            let response_doc = format!(
                " The JSON Schema of a `{}` response (`{{\"results\": [...]}}`), as compiled into the crate.",
                a.name
            );
            let response_text = Literal::string(&a.response_schema);
            methods.extend(quote! {
                #mdoc
                pub fn #method<T>(&self, items: T #params_arg) -> crate::Call<#item, #params, #result>
                where T: IntoIterator<Item = #item>, T::IntoIter: Send + 'static {
                    self.client.call(&self.variant.actions[#idx], items) #with_params
                }
                #[doc = #one_doc]
                pub fn #one(&self, item: #item #params_arg) -> crate::One<#item, #params, #result> {
                    self.client.call_one(&self.variant.actions[#idx], item) #with_params
                }
                #[doc = #schema_doc]
                pub fn #schema(&self) -> &'static str {
                    self.variant.actions[#idx].request_schema.as_deref().unwrap_or("{}")
                }
                #[doc = #response_doc]
                pub fn #response_schema(&self) -> &'static str {
                    #response_text
                }
            });
            bmethods.extend(quote! {
                #mdoc
                pub fn #method<T>(&self, items: T #params_arg) -> crate::blocking::Call<#item, #params, #result>
                where T: IntoIterator<Item = #item>, T::IntoIter: Send + 'static {
                    self.client.block(self.inner.#method(items #params_pass))
                }
                #[doc = #one_doc]
                pub fn #one(&self, item: #item #params_arg) -> crate::blocking::One<#item, #params, #result> {
                    self.client.block_one(self.inner.#one(item #params_pass))
                }
                #[doc = #schema_doc]
                pub fn #schema(&self) -> &'static str {
                    self.inner.#schema()
                }
                #[doc = #response_doc]
                pub fn #response_schema(&self) -> &'static str {
                    self.inner.#response_schema()
                }
            });
        }
        asyncs.extend(quote! {
            #[doc = #hdoc]
            #[derive(Clone)]
            pub struct #name { client: crate::Client, variant: &'static crate::spec::VariantSpec }
            impl std::fmt::Debug for #name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.debug_struct(stringify!(#name)).field("variant", &self.variant.slug).finish()
                }
            }
            impl #name {
                pub(crate) fn new(client: crate::Client, variant: &'static crate::spec::VariantSpec) -> Self {
                    #name { client, variant }
                }
                /// The variant this handle calls.
                pub fn variant(&self) -> &'static crate::spec::VariantSpec { self.variant }
                #consts
                #methods
            }
        });
        blockings.extend(quote! {
            #[doc = #bdoc]
            pub struct #name { client: crate::blocking::Client, inner: super::#name }
            impl std::fmt::Debug for #name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.debug_struct(stringify!(#name)).field("variant", &self.inner.variant().slug).finish()
                }
            }
            impl #name {
                pub(crate) fn new(client: crate::blocking::Client, variant: &'static crate::spec::VariantSpec) -> Self {
                    let inner = super::#name::new(client.as_async().clone(), variant);
                    #name { client, inner }
                }
                /// The variant this handle calls.
                pub fn variant(&self) -> &'static crate::spec::VariantSpec { self.inner.variant() }
                #consts
                #bmethods
            }
        });
    }
    quote! {
        #asyncs
        /// Blocking handles of this family.
        pub mod blocking {
            #[allow(unused_imports)]
            use super::*;
            #blockings
        }
    }
}

/// The marker trait of a cargo feature that is off (`dna-chisel` -> `Feature_dna_chisel`).
fn feature_marker(feature: &str, markers: &mut BTreeMap<String, String>) -> String {
    let n = markers.len();
    markers
        .entry(feature.to_string())
        .or_insert_with(|| {
            // A cargo feature may hold `-`, `.` or `+`: kept readable, made unique by its number.
            let readable: String = feature
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            format!("Feature{n}_{readable}")
        })
        .clone()
}

/// The client accessor of variant `slug`: its snake-case name, made unique among the
/// names `taken` so far (which start as [`CLIENT_METHODS`]).
fn accessor_name(slug: &str, taken: &mut BTreeSet<String>) -> String {
    let mut base = snake_ident(slug);
    if taken.contains(&base) {
        base.push_str("_model");
    }
    unique(&base, taken)
}

/// The client accessor method of every variant of `set`, by slug, as the generated
/// code names them (`esm2-650m` -> `esm2_650m`).
pub fn accessor_names(set: &biolm_catalog::SchemaSet) -> BTreeMap<String, String> {
    let mut taken: BTreeSet<String> = CLIENT_METHODS.iter().map(|s| s.to_string()).collect();
    let mut out = BTreeMap::new();
    for family in &set.families {
        for v in &family.variants {
            out.insert(v.slug.clone(), accessor_name(&v.slug, &mut taken));
        }
    }
    out
}

/// The `CATALOG` static, its schema constants and the client accessors (inherent
/// methods of the runtime's clients at home, extension traits in a user's crate).
pub fn catalog_tokens(
    families: &[(&Family, FamilyPlan, Vec<Vec<SpecPlan>>)],
    options: &Options,
) -> TokenStream {
    let external = matches!(options.home, Home::External { .. });
    let mut schema_consts: BTreeMap<String, String> = BTreeMap::new();
    let mut const_items = TokenStream::new();
    let mut variants = TokenStream::new();
    let mut accessors = TokenStream::new();
    let mut baccessors = TokenStream::new();
    let mut trait_decls = TokenStream::new();
    let mut btrait_decls = TokenStream::new();
    let mut taken: BTreeSet<String> = CLIENT_METHODS.iter().map(|s| s.to_string()).collect();
    let mut index = 0usize;
    let mut markers = TokenStream::new();
    let mut marked: BTreeSet<String> = BTreeSet::new();
    let mut marker_names: BTreeMap<String, String> = BTreeMap::new();
    for (family, plan, specs) in families {
        let fam_name = &family.name;
        let feature = &plan.feature;
        let gate = if options.gated(feature) {
            quote! { #[cfg(feature = #feature)] }
        } else {
            quote! {}
        };
        let module = format_ident!("{}", plan.module);
        for (v, vspecs) in family.variants.iter().zip(specs) {
            let slug = &v.slug;
            let display = &v.display_name;
            let dim = match v.embedding_dim().and_then(|d| u32::try_from(d).ok()) {
                Some(d) => quote! { Some(#d) },
                None => quote! { None },
            };
            let mut actions = TokenStream::new();
            for s in vspecs {
                let next = schema_consts.len();
                let cname = schema_consts.entry(s.schema.clone()).or_insert_with(|| {
                    let c = format!("SCHEMA_{next}");
                    let ident = format_ident!("{}", c);
                    let text = Literal::string(&s.schema);
                    const_items.extend(quote! { const #ident: &str = #text; });
                    c
                });
                let cident = format_ident!("{}", cname);
                let (action, gateway) = (&s.action, &s.gateway);
                let max =
                    Literal::usize_unsuffixed(usize::try_from(s.max_items).unwrap_or(usize::MAX));
                let min =
                    Literal::usize_unsuffixed(usize::try_from(s.min_items).unwrap_or(usize::MAX));
                let multi = s.multi_result;
                let deterministic = s.deterministic;
                let throttle = match &s.throttle {
                    Some(t) => quote! { Some(Cow::Borrowed(#t)) },
                    None => quote! { None },
                };
                actions.extend(quote! {
                    crate::spec::ActionSpec {
                        slug: Cow::Borrowed(#slug),
                        family: Cow::Borrowed(#fam_name),
                        action: Cow::Borrowed(#action),
                        gateway_action: Cow::Borrowed(#gateway),
                        max_items: #max,
                        min_items: #min,
                        multi_result: #multi,
                        throttle_rate: #throttle,
                        deterministic: #deterministic,
                        request_schema: Some(Cow::Borrowed(#cident)),
                        cache: crate::spec::SpecCache::new(),
                    },
                });
            }
            // Each variant's actions live in their own static: a `&[...]` temporary
            // holding the specs' lazily built caches may not be borrowed for 'static.
            let actions_ident = format_ident!("ACTIONS_{}", index);
            let n_actions = Literal::usize_unsuffixed(vspecs.len());
            const_items.extend(quote! {
                static #actions_ident: [crate::spec::ActionSpec; #n_actions] = [#actions];
            });
            variants.extend(quote! {
                crate::spec::VariantSpec {
                    slug: #slug,
                    family: #fam_name,
                    display_name: #display,
                    embedding_dim: #dim,
                    actions: &#actions_ident,
                },
            });
            if let Some(handle) = plan.handle_of.get(slug) {
                let method = format_ident!("{}", accessor_name(slug, &mut taken));
                let h = format_ident!("{}", handle);
                let idx = Literal::usize_unsuffixed(index);
                let adoc = format!(" {display} (`{slug}`): typed calls to this variant.");
                let vis = if external {
                    quote! {}
                } else {
                    quote! { pub }
                };
                let gated = options.gated(feature) && !external;
                let adoc = if gated {
                    format!("{adoc}\n\n Enabled by the `{feature}` cargo feature.")
                } else {
                    adoc
                };
                accessors.extend(quote! {
                    #gate
                    #[doc = #adoc]
                    #vis fn #method(&self) -> #module::#h { #module::#h::new(self.clone(), &CATALOG[#idx]) }
                });
                baccessors.extend(quote! {
                    #gate
                    #[doc = #adoc]
                    #vis fn #method(&self) -> #module::blocking::#h { #module::blocking::#h::new(self.clone(), &CATALOG[#idx]) }
                });
                if gated {
                    // Without the feature the accessor still exists, and calling it
                    // fails to compile with a message naming the feature to enable.
                    let marker = format_ident!("{}", feature_marker(feature, &mut marker_names));
                    let off = quote! {
                        #[cfg(not(feature = #feature))]
                        #[doc(hidden)]
                        pub fn #method<'a>(&'a self) -> crate::spec::FeatureOff
                        where crate::spec::FeatureOff: __features::#marker<'a> {
                            crate::spec::FeatureOff
                        }
                    };
                    accessors.extend(off.clone());
                    baccessors.extend(off);
                    if marked.insert(feature.clone()) {
                        let message = format!(
                            "this model is not compiled in: enable the `{feature}` cargo feature of `biolm`"
                        );
                        let note = format!(
                            "in Cargo.toml: biolm = {{{{ version = \"..\", features = [\"{feature}\"] }}}} (or \"all-models\")"
                        );
                        markers.extend(quote! {
                            #[cfg(not(feature = #feature))]
                            #[diagnostic::on_unimplemented(message = #message, label = "needs a cargo feature", note = #note)]
                            pub trait #marker<'a> {}
                        });
                    }
                }
                if external {
                    trait_decls.extend(quote! {
                        #[doc = #adoc]
                        fn #method(&self) -> #module::#h;
                    });
                    btrait_decls.extend(quote! {
                        #[doc = #adoc]
                        fn #method(&self) -> #module::blocking::#h;
                    });
                }
            }
            index += 1;
        }
    }
    let _ = pointer_segment;
    let accessor_items = if external {
        quote! {
            /// Typed per-variant accessors of this crate's models on the async client:
            /// `use` this trait, then call `client.<variant>().<action>(items)`.
            pub trait ClientExt { #trait_decls }
            impl ClientExt for crate::Client { #accessors }
            /// Typed per-variant accessors of this crate's models on the blocking client.
            pub trait BlockingClientExt { #btrait_decls }
            impl BlockingClientExt for crate::blocking::Client { #baccessors }
        }
    } else {
        quote! {
            impl crate::Client { #accessors }
            impl crate::blocking::Client { #baccessors }
            /// Markers of the cargo features that are off: the accessors of their
            /// models name the feature in the compile error.
            #[doc(hidden)]
            #[allow(non_camel_case_types, dead_code)]
            pub mod __features { #markers }
        }
    };
    quote! {
        use std::borrow::Cow;
        #const_items
        /// Every variant and action of the schema set the crate was built from,
        /// whatever cargo features are enabled (untyped calls and the CLI use it).
        pub static CATALOG: &[crate::spec::VariantSpec] = &[#variants];
        #accessor_items
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
