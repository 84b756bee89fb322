//! Schema-to-Rust code generation for the BioLM SDK.
//!
//! [`generate`] turns a [`SchemaSet`] (loaded by `biolm-catalog` from either the
//! project layout or the reference layout) into the text of
//! `biolm_generated.rs`: per-family modules of request/response types and
//! handles, client accessors, and the always-present `CATALOG` static. The
//! pieces live one concern per file, like typify's generator:
//!
//! - [`normalize`]: Rust-safe identifiers, duplicate enum values, "X or null";
//! - [`types`]: schema to type model (structs, enums, unions, tuples, maps);
//! - [`methods`]: handles, accessors and catalog statics;
//! - [`emit`]: tokens and formatted text;
//! - [`diff`]: breaking/compatible changes between two schema sets;
//! - `fetch` (feature `cli`): downloading schemas from a server.
//!
//! The generator never panics on schema input: every problem is a
//! [`CodegenError`] naming the file and the JSON pointer.

#![deny(missing_docs)]
#[cfg(feature = "cli")]
pub mod command;
pub mod diff;
pub mod emit;
mod error;
#[cfg(feature = "cli")]
pub mod fetch;
pub mod methods;
pub mod normalize;
pub mod options;
pub mod scaffold;
pub mod types;

use std::path::Path;
use std::time::{Duration, Instant};

use biolm_catalog::SchemaSet;
use quote::quote;

pub use error::CodegenError;
pub use options::{Gates, Home, Options};

/// The generated file and facts about it.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The formatted Rust source of `biolm_generated.rs`.
    pub code: String,
    /// How many `serde_json::Value` occurrences the code contains (open dicts).
    pub value_count: usize,
    /// Families generated.
    pub families: usize,
    /// (variant, action) pairs in `CATALOG`.
    pub pairs: usize,
    /// Time spent generating (planning, tokens and formatting).
    pub elapsed: Duration,
}

/// Generates the SDK layer for `set`, every family behind its cargo feature
/// (`generate_with` chooses otherwise).
pub fn generate(set: &SchemaSet) -> Result<Generated, CodegenError> {
    generate_with(set, &Options::default())
}

/// Every problem of the schema set that the validator, the sandbox or the generator
/// would meet, each naming its file and JSON pointer: request schemas the validator
/// cannot compile, keywords the project does not know in request and response schemas
/// (`biolm_catalog::keywords`), and families the generator cannot plan. A problem in a
/// schema several variants share is reported once.
pub fn schema_problems(set: &SchemaSet) -> Vec<CodegenError> {
    let mut out: Vec<CodegenError> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    // Keyed without the variant, so a shared schema's problem is listed once.
    let mut push = |e: CodegenError, who: &str| {
        if seen.insert((e.file.clone(), e.pointer.clone(), e.message.clone())) {
            out.push(CodegenError::new(
                e.file,
                e.pointer,
                format!("{who}{}", e.message),
            ));
        }
    };
    // Variants share their family's schemas unless they override them: each distinct
    // effective request is compiled once, each response audited once.
    let mut requests_seen = std::collections::BTreeSet::new();
    for f in &set.families {
        for (vi, v) in f.variants.iter().enumerate() {
            for a in &f.actions {
                let who = format!("{}/{}: ", v.slug, a.name);
                let request = v.effective_request(a);
                if !requests_seen.insert(request.to_string()) {
                    continue;
                }
                let (file, base) = methods::action_location(f, 0, a, "request");
                for e in biolm_catalog::validate::Validator::problems(&request) {
                    push(
                        CodegenError::new(&file, format!("{base}{}", e.pointer), e.message),
                        &who,
                    );
                }
                if vi > 0 {
                    continue;
                }
                let (file, base) = methods::action_location(f, 0, a, "response");
                for e in biolm_catalog::keywords::audit(&a.response) {
                    push(
                        CodegenError::new(&file, format!("{base}{}", e.pointer), e.message),
                        &who,
                    );
                }
            }
        }
        if let Err(e) = methods::plan_family(f) {
            push(e, "");
        }
    }
    out
}

/// Generates the code for `set` with `options`: for the runtime crate itself or for a
/// user's crate (see [`options`]). A schema set with problems (see [`schema_problems`])
/// is refused with all of them, so that nothing unusable reaches run time.
pub fn generate_with(set: &SchemaSet, options: &Options) -> Result<Generated, CodegenError> {
    if set.families.is_empty() {
        return Err(CodegenError::new(
            "<schemas>",
            "",
            "the schema set has no model families: nothing to generate (is this the right directory?)",
        ));
    }
    let problems = schema_problems(set);
    if let Some(first) = problems.first() {
        if problems.len() > 1 {
            let all: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
            return Err(CodegenError::new(
                first.file.clone(),
                first.pointer.clone(),
                format!(
                    "{} ({} problems in the schema set; all of them:\n  {})",
                    first.message,
                    problems.len(),
                    all.join("\n  ")
                ),
            ));
        }
        return Err(first.clone());
    }
    let start = Instant::now();
    let mut planned = Vec::with_capacity(set.families.len());
    // Two families whose names map to one module (`my-model`, `my_model`)
    // would define it twice: refuse, naming both.
    let mut modules_seen: std::collections::BTreeMap<String, &str> = Default::default();
    for family in &set.families {
        let module = methods::module_name(&family.name);
        if let Some(first) = modules_seen.insert(module.clone(), &family.name) {
            return Err(CodegenError::new(
                family.source.clone(),
                "/family",
                format!(
                    "family `{}` has the same Rust module name (`{module}`) as family `{first}`; rename one of them",
                    family.name
                ),
            ));
        }
    }
    for family in &set.families {
        let (plan, specs) = methods::plan_family(family)?;
        planned.push((family, plan, specs));
    }
    let mut modules = proc_macro2::TokenStream::new();
    for (_, plan, _) in &planned {
        modules.extend(methods::family_tokens(plan, options));
    }
    let catalog = methods::catalog_tokens(&planned, options);
    let root = match &options.home {
        Home::Runtime => quote! {
            /// Parameters of an action that takes none (serialises as `{}`).
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            pub struct NoParams {}
        },
        Home::External { runtime } => {
            let rt = syn::Ident::new(&runtime.replace('-', "_"), proc_macro2::Span::call_site());
            quote! {
                // The runtime items the generated code names as `crate::...`.
                pub use ::#rt::{blocking, Call, Client, Error, NoParams, One, Outcome};
                #[doc(hidden)]
                pub use ::#rt::{de, spec};
            }
        }
    };
    let tokens = quote! {
        #root
        #catalog
        #modules
    };
    let code = emit::format_file(tokens)?;
    let value_count = code.matches("serde_json::Value").count();
    Ok(Generated {
        code,
        value_count,
        families: set.families.len(),
        pairs: set.pair_count(),
        elapsed: start.elapsed(),
    })
}

/// The formatted module of one family alone (types and handles, no catalog),
/// as used by the snapshot tests.
pub fn generate_family_module(family: &biolm_catalog::Family) -> Result<String, CodegenError> {
    let (plan, _) = methods::plan_family(family)?;
    emit::format_file(methods::family_tokens(&plan, &Options::default()))
}

/// Loads the schema directory `dir` (either layout) and generates from it.
pub fn generate_dir(dir: &Path) -> Result<Generated, CodegenError> {
    generate_dir_with(dir, &Options::default())
}

/// Loads the schema directory `dir` (either layout) and generates from it with `options`.
pub fn generate_dir_with(dir: &Path, options: &Options) -> Result<Generated, CodegenError> {
    let set = biolm_catalog::load_dir(dir)?;
    generate_with(&set, options)
}
