//! Changes between two schema sets, each marked breaking or compatible.
//!
//! Breaking: a removed variant, action or field, a new required request field,
//! a narrowed limit, a changed type, a removed enum value. Compatible: anything
//! added that a caller need not use (a variant, an action, an optional field,
//! an enum value) and widened limits.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use biolm_catalog::{Action, SchemaSet, Variant};
use serde_json::Value;

use crate::normalize::strip_null;

/// How a change affects existing callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Existing code or requests may stop working.
    Breaking,
    /// Existing code and requests keep working.
    Compatible,
}

/// One difference between two schema sets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// Breaking or compatible.
    pub severity: Severity,
    /// Where: `slug/action request /pointer` (or just the slug).
    pub location: String,
    /// What changed, in words.
    pub what: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self.severity {
            Severity::Breaking => "breaking",
            Severity::Compatible => "compatible",
        };
        write!(f, "{s}: {}: {}", self.location, self.what)
    }
}

/// The schemas one variant really serves for one action.
///
/// In the project layout a variant's differences are its `overrides`
/// ([`biolm_catalog::Variant::effective_request`]). In the reference layout
/// (`index.json` + one directory per slug) every slug has its own files, while
/// the loaded family keeps only its first variant's: this reads the variant's
/// own request and response files (through the `index.json` beside the
/// family's directory), so an edit to `esm2-650m` alone is seen.
struct VariantFiles {
    /// `slug -> action -> files` of a reference-layout directory.
    by_slug: BTreeMap<String, BTreeMap<String, OwnFiles>>,
}

/// A variant's own `(request, response)` files for one action, where readable.
type OwnFiles = (Option<Value>, Option<Value>);

impl VariantFiles {
    fn of(set: &SchemaSet) -> VariantFiles {
        let mut by_slug = BTreeMap::new();
        let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
        for f in &set.families {
            if let Some(parent) = f.source.parent() {
                dirs.insert(parent.to_path_buf());
            }
        }
        for dir in dirs {
            let Some(index) = read(&dir.join("index.json")) else {
                continue;
            };
            for rec in index.as_array().into_iter().flatten() {
                let Some(slug) = rec.get("slug").and_then(Value::as_str) else {
                    continue;
                };
                let mut actions = BTreeMap::new();
                for (action, files) in rec
                    .get("schema_files")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    let file = |k: &str| {
                        files
                            .get(k)
                            .and_then(Value::as_str)
                            .and_then(|p| read(&dir.join(p)))
                    };
                    actions.insert(action.clone(), (file("request"), file("response")));
                }
                by_slug.insert(slug.to_string(), actions);
            }
        }
        VariantFiles { by_slug }
    }

    /// The request and response `variant` serves for `action`.
    fn schemas(&self, variant: &Variant, action: &Action) -> (Value, Value) {
        let own = self
            .by_slug
            .get(&variant.slug)
            .and_then(|a| a.get(&action.name).or_else(|| a.get(&action.gateway_name)));
        let overridden = variant.overrides.contains_key(&action.name)
            || variant.overrides.contains_key(&action.gateway_name);
        let request = match own {
            Some((Some(r), _)) if !overridden => r.clone(),
            _ => variant.effective_request(action),
        };
        let response = match own {
            Some((_, Some(r))) => r.clone(),
            _ => action.response.clone(),
        };
        (request, response)
    }
}

fn read(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Every change from `old` to `new`, sorted (breaking first). Every variant
/// is compared with its own schemas (overrides and, in the reference layout,
/// its own files), not only its family's.
pub fn diff_sets(old: &SchemaSet, new: &SchemaSet) -> Vec<Change> {
    let (old_files, new_files) = (VariantFiles::of(old), VariantFiles::of(new));
    let mut out = Vec::new();
    let mut push = |severity, location: String, what: String| {
        out.push(Change {
            severity,
            location,
            what,
        })
    };
    for of in &old.families {
        for ov in &of.variants {
            let Some((nf, nv)) = new.variant(&ov.slug) else {
                push(
                    Severity::Breaking,
                    ov.slug.clone(),
                    "variant removed".into(),
                );
                continue;
            };
            for oa in &of.actions {
                let Some(na) = nf.action(&oa.name).or_else(|| nf.action(&oa.gateway_name)) else {
                    push(
                        Severity::Breaking,
                        format!("{}/{}", ov.slug, oa.name),
                        "action removed".into(),
                    );
                    continue;
                };
                let loc = format!("{}/{}", ov.slug, oa.name);
                let (oreq, oresp) = old_files.schemas(ov, oa);
                let (nreq, nresp) = new_files.schemas(nv, na);
                let mut w = Walker {
                    out: Vec::new(),
                    old_root: &oreq,
                    new_root: &nreq,
                    seen: BTreeSet::new(),
                };
                w.compare(&oreq, &nreq, &format!("{loc} request "), Side::Request, 0);
                let mut r = Walker {
                    out: Vec::new(),
                    old_root: &oresp,
                    new_root: &nresp,
                    seen: BTreeSet::new(),
                };
                r.compare(
                    &oresp,
                    &nresp,
                    &format!("{loc} response "),
                    Side::Response,
                    0,
                );
                for c in w.out.into_iter().chain(r.out) {
                    push(c.severity, c.location, c.what);
                }
            }
            for na in &nf.actions {
                if of
                    .action(&na.name)
                    .or_else(|| of.action(&na.gateway_name))
                    .is_none()
                {
                    push(
                        Severity::Compatible,
                        format!("{}/{}", ov.slug, na.name),
                        "action added".into(),
                    );
                }
            }
        }
    }
    for nf in &new.families {
        for nv in &nf.variants {
            if old.variant(&nv.slug).is_none() {
                push(
                    Severity::Compatible,
                    nv.slug.clone(),
                    "variant added".into(),
                );
            }
        }
    }
    out.sort();
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Response,
}

struct Walker<'a> {
    out: Vec<Change>,
    old_root: &'a Value,
    new_root: &'a Value,
    seen: BTreeSet<(String, String)>,
}

const LIMITS_UPPER: &[&str] = &["maxLength", "maxItems", "maximum", "exclusiveMaximum"];
const LIMITS_LOWER: &[&str] = &["minLength", "minItems", "minimum", "exclusiveMinimum"];

impl<'a> Walker<'a> {
    fn change(&mut self, severity: Severity, loc: &str, ptr: &str, what: String) {
        let ptr = if ptr.is_empty() { "/" } else { ptr };
        self.out.push(Change {
            severity,
            location: format!("{loc}{ptr}"),
            what,
        });
    }

    fn deref<'v>(root: &'v Value, mut s: &'v Value) -> &'v Value {
        for _ in 0..32 {
            match s
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
            {
                Some(name) => match root.get("$defs").and_then(|d| d.get(name)) {
                    Some(t) => s = t,
                    None => return s,
                },
                None => return s,
            }
        }
        s
    }

    fn kind(s: &Value) -> String {
        if let Some(t) = s.get("type") {
            return t.to_string();
        }
        if s.get("enum").is_some() {
            return "enum".into();
        }
        if let Some(a) = s
            .get("anyOf")
            .or_else(|| s.get("oneOf"))
            .and_then(Value::as_array)
        {
            return format!("union of {}", a.len());
        }
        if s.get("properties").is_some() {
            return "\"object\"".into();
        }
        "any".into()
    }

    fn compare(&mut self, old: &Value, new: &Value, loc: &str, side: Side, depth: usize) {
        self.compare_at(old, new, loc, "", side, depth);
    }

    fn compare_at(
        &mut self,
        old: &Value,
        new: &Value,
        loc: &str,
        ptr: &str,
        side: Side,
        depth: usize,
    ) {
        if depth > 48 {
            return;
        }
        let key = (
            format!("{loc}{ptr}"),
            old.get("$ref").map(Value::to_string).unwrap_or_default(),
        );
        if old.get("$ref").is_some() && !self.seen.insert(key) {
            return;
        }
        let old = Self::deref(self.old_root, old);
        let new = Self::deref(self.new_root, new);
        let (old, old_null) = unwrap_nullable(old);
        let (new, new_null) = unwrap_nullable(new);
        let old = Self::deref(self.old_root, old);
        let new = Self::deref(self.new_root, new);
        if old_null != new_null {
            // Accepting null in a request, or no longer sending it in a response, is safe.
            let widening = (side == Side::Request) == new_null;
            let sev = if widening {
                Severity::Compatible
            } else {
                Severity::Breaking
            };
            let what = if new_null {
                "now nullable"
            } else {
                "no longer nullable"
            };
            self.change(sev, loc, ptr, what.into());
        }
        let (ok, nk) = (Self::kind(old), Self::kind(new));
        if ok != nk {
            self.change(
                Severity::Breaking,
                loc,
                ptr,
                format!("type changed from {ok} to {nk}"),
            );
            return;
        }
        self.compare_enums(old, new, loc, ptr);
        self.compare_limits(old, new, loc, ptr, side);
        if let (Some(op), Some(np)) = (
            old.get("properties").and_then(Value::as_object),
            new.get("properties").and_then(Value::as_object),
        ) {
            let req = |s: &Value| -> BTreeSet<String> {
                s.get("required")
                    .and_then(Value::as_array)
                    .map(|r| {
                        r.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let (oreq, nreq) = (req(old), req(new));
            for (name, os) in op {
                let p = format!("{ptr}/{name}");
                match np.get(name) {
                    None => self.change(Severity::Breaking, loc, &p, "field removed".into()),
                    Some(ns) => {
                        let (was, is) = (oreq.contains(name), nreq.contains(name));
                        if was != is {
                            let sev = match (side, is) {
                                (Side::Request, true) | (Side::Response, false) => {
                                    Severity::Breaking
                                }
                                _ => Severity::Compatible,
                            };
                            let what = if is {
                                "field became required"
                            } else {
                                "field became optional"
                            };
                            self.change(sev, loc, &p, what.into());
                        }
                        self.compare_at(os, ns, loc, &p, side, depth + 1);
                    }
                }
            }
            for name in np.keys().filter(|n| !op.contains_key(*n)) {
                let p = format!("{ptr}/{name}");
                if side == Side::Request && nreq.contains(name) {
                    self.change(Severity::Breaking, loc, &p, "new required field".into());
                } else {
                    self.change(Severity::Compatible, loc, &p, "optional field added".into());
                }
            }
        }
        if let (Some(oi), Some(ni)) = (old.get("items"), new.get("items")) {
            self.compare_at(oi, ni, loc, &format!("{ptr}/items"), side, depth + 1);
        }
        for key in ["additionalProperties"] {
            if let (Some(o @ Value::Object(_)), Some(n @ Value::Object(_))) =
                (old.get(key), new.get(key))
            {
                self.compare_at(o, n, loc, &format!("{ptr}/{key}"), side, depth + 1);
            }
        }
        for key in ["anyOf", "oneOf", "prefixItems"] {
            if let (Some(oa), Some(na)) = (
                old.get(key).and_then(Value::as_array),
                new.get(key).and_then(Value::as_array),
            ) {
                for (i, (o, n)) in oa.iter().zip(na).enumerate() {
                    self.compare_at(o, n, loc, &format!("{ptr}/{key}/{i}"), side, depth + 1);
                }
            }
        }
    }

    fn compare_enums(&mut self, old: &Value, new: &Value, loc: &str, ptr: &str) {
        let (Some(oe), Some(ne)) = (
            old.get("enum").and_then(Value::as_array),
            new.get("enum").and_then(Value::as_array),
        ) else {
            return;
        };
        for v in oe.iter().filter(|v| !ne.contains(v)) {
            self.change(
                Severity::Breaking,
                loc,
                ptr,
                format!("enum value {v} removed"),
            );
        }
        let mut added = BTreeSet::new();
        for v in ne.iter().filter(|v| !oe.contains(v)) {
            if added.insert(v.to_string()) {
                self.change(
                    Severity::Compatible,
                    loc,
                    ptr,
                    format!("enum value {v} added"),
                );
            }
        }
    }

    fn compare_limits(&mut self, old: &Value, new: &Value, loc: &str, ptr: &str, side: Side) {
        let num = |s: &Value, k: &str| s.get(k).and_then(Value::as_f64);
        for (keys, upper) in [(LIMITS_UPPER, true), (LIMITS_LOWER, false)] {
            for k in keys {
                let (o, n) = (num(old, k), num(new, k));
                let narrowed = match (o, n) {
                    (None, None) => continue,
                    (Some(a), Some(b)) if a == b => continue,
                    (None, Some(_)) => true,
                    (Some(_), None) => false,
                    (Some(a), Some(b)) => (b < a) == upper,
                };
                // A narrower request limit refuses inputs that used to pass; a
                // response limit only describes what the server sends.
                let sev = if narrowed && side == Side::Request {
                    Severity::Breaking
                } else {
                    Severity::Compatible
                };
                let fmt = |x: Option<f64>| x.map_or("none".to_string(), |v| v.to_string());
                let how = if narrowed { "narrowed" } else { "widened" };
                self.change(
                    sev,
                    loc,
                    ptr,
                    format!("`{k}` {how} from {} to {}", fmt(o), fmt(n)),
                );
            }
        }
    }
}

fn unwrap_nullable(s: &Value) -> (&Value, bool) {
    if let Some(stripped) = strip_null(s) {
        if let [(_, one)] = stripped.arms.as_slice() {
            return (one, true);
        }
    }
    (s, false)
}
