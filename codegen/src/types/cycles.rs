//! Recursion: alias cycles and `Box` for types that contain themselves.

use std::collections::{BTreeMap, BTreeSet};

use super::*;

impl ModuleTypes {
    pub(super) fn alias_cycle(&self, name: &str, ty: &Ty) -> bool {
        let mut cur = ty.strip_opt().clone();
        for _ in 0..=self.defs.len() {
            match cur {
                Ty::Named(ref n) if n == name => return true,
                Ty::Named(ref n) => match self.defs.iter().find(|d| d.name() == n) {
                    Some(Def::Alias { ty, .. }) => cur = ty.strip_opt().clone(),
                    _ => return false,
                },
                _ => return false,
            }
        }
        true
    }

    /// Converts a schema in the role of a request item, params or per-item
    /// result: a `$ref` takes the `canonical` name when it is new, an inline
    /// schema is named `canonical`. Returns the type to use in signatures; adds
    /// `pub type <canonical> = ...` when the type already had another name.
    pub fn box_cycles(&mut self) {
        let edges: BTreeMap<String, BTreeSet<String>> = self
            .defs
            .iter()
            .map(|d| (d.name().to_string(), direct_refs_of(d)))
            .collect();
        let reaches = |from: &str, to: &str| -> bool {
            let mut seen = BTreeSet::new();
            let mut stack = vec![from.to_string()];
            while let Some(n) = stack.pop() {
                if n == to {
                    return true;
                }
                if seen.insert(n.clone()) {
                    if let Some(next) = edges.get(&n) {
                        stack.extend(next.iter().cloned());
                    }
                }
            }
            false
        };
        let mut boxes: Vec<(usize, usize)> = Vec::new();
        for (di, d) in self.defs.iter().enumerate() {
            let (name, tys): (&str, Vec<&Ty>) = match d {
                Def::Struct { name, fields, .. } => (name, fields.iter().map(|f| &f.ty).collect()),
                Def::Union { name, arms, .. } => (name, arms.iter().map(|a| &a.1).collect()),
                _ => continue,
            };
            for (fi, ty) in tys.into_iter().enumerate() {
                let mut refs = BTreeSet::new();
                direct_refs(ty, &mut refs);
                if refs.iter().any(|r| reaches(r, name)) {
                    boxes.push((di, fi));
                }
            }
        }
        for (di, fi) in boxes {
            match self.defs.get_mut(di) {
                Some(Def::Struct { fields, .. }) => {
                    if let Some(f) = fields.get_mut(fi) {
                        f.ty = boxed(f.ty.clone());
                    }
                }
                Some(Def::Union { arms, .. }) => {
                    if let Some(a) = arms.get_mut(fi) {
                        a.1 = boxed(a.1.clone());
                    }
                }
                _ => {}
            }
        }
    }
}

pub(super) fn boxed(ty: Ty) -> Ty {
    match ty {
        Ty::Opt(inner) => Ty::Opt(Box::new(boxed(*inner))),
        other => Ty::Boxed(Box::new(other)),
    }
}

pub(super) fn direct_refs_of(d: &Def) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match d {
        Def::Struct { fields, .. } => fields.iter().for_each(|f| direct_refs(&f.ty, &mut out)),
        Def::Union { arms, .. } => arms.iter().for_each(|a| direct_refs(&a.1, &mut out)),
        Def::Alias { ty, .. } => direct_refs(ty, &mut out),
        Def::Enum { .. } => {}
    }
    out
}

/// Named types a type contains by value (not behind `Vec`, map or `Box`).
pub(super) fn direct_refs(ty: &Ty, out: &mut BTreeSet<String>) {
    match ty {
        Ty::Named(n) => {
            out.insert(n.clone());
        }
        Ty::Opt(inner) => direct_refs(inner, out),
        Ty::Tuple(items) => items.iter().for_each(|t| direct_refs(t, out)),
        _ => {}
    }
}
