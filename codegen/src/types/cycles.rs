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

    /// The final pass over a module's definitions: wraps fields and arms that
    /// make a type contain itself (without a `Vec` or map in between) in `Box`,
    /// so recursive schemas compile, and records the JSON field names of each
    /// untagged union's struct arms (their `shapes`, used to decode by shape).
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
                Def::Tagged { name, arms, .. } => (name, arms.iter().map(|a| &a.ty).collect()),
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
                Some(Def::Tagged { arms, .. }) => {
                    if let Some(a) = arms.get_mut(fi) {
                        a.ty = boxed(a.ty.clone());
                    }
                }
                _ => {}
            }
        }
        self.record_shapes();
    }

    /// Fills the `shapes` of every union whose arms serde's first match would
    /// pick differently from pydantic's smart mode (see
    /// [`needs_shape_decoding`]); other unions keep empty shapes and derive.
    fn record_shapes(&mut self) {
        let arm_of = |defs: &[Def], ty: &Ty, dir: Dir| -> Arm {
            let mut cur = ty.clone();
            for _ in 0..=defs.len() {
                cur = match cur {
                    Ty::Boxed(inner) | Ty::Opt(inner) => *inner,
                    Ty::Named(n) => match defs.iter().find(|d| d.name() == n) {
                        Some(Def::Alias { ty, .. }) => ty.clone(),
                        Some(Def::Struct {
                            fields,
                            closed,
                            extra,
                            ..
                        }) => {
                            return Arm {
                                fields: fields
                                    .iter()
                                    .map(|f| (f.json.clone(), f.required))
                                    .collect(),
                                tolerant: dir == Dir::Response || !closed || extra.is_some(),
                            }
                        }
                        _ => return Arm::default(),
                    },
                    _ => return Arm::default(),
                };
            }
            Arm::default()
        };
        let all: Vec<Option<Vec<Vec<String>>>> = self
            .defs
            .iter()
            .map(|d| match d {
                Def::Union { arms, dir, .. } => {
                    let arms: Vec<Arm> = arms
                        .iter()
                        .map(|(_, t)| arm_of(&self.defs, t, *dir))
                        .collect();
                    needs_shape_decoding(&arms).then(|| {
                        arms.into_iter()
                            .map(|a| a.fields.into_iter().map(|(j, _)| j).collect())
                            .collect()
                    })
                }
                _ => None,
            })
            .collect();
        for (d, s) in self.defs.iter_mut().zip(all) {
            if let (Def::Union { shapes, .. }, Some(s)) = (d, s) {
                *shapes = s;
            }
        }
    }
}

/// One arm of an untagged union, as far as decoding by shape is concerned.
#[derive(Debug, Clone, Default)]
pub(super) struct Arm {
    /// `(JSON name, required)` of a struct arm; empty for other arms.
    fields: Vec<(String, bool)>,
    /// The arm accepts unknown keys (a response, or a schema without
    /// `additionalProperties: false`).
    tolerant: bool,
}

/// Whether first-match decoding of a union can pick another arm than
/// pydantic's smart mode, which takes the accepting arm with the most fields
/// set (the first on a tie). For struct arms `i < j` where `i` tolerates
/// unknown keys, the worst input holds both arms' required keys and `j`'s
/// other fields: when `j` then knows more of its keys than `i`, a first match
/// would wrongly stop at `i`. An arm that refuses unknown keys cannot take
/// such an input.
pub(super) fn needs_shape_decoding(arms: &[Arm]) -> bool {
    for (i, a) in arms.iter().enumerate() {
        if !a.tolerant || a.fields.is_empty() {
            continue;
        }
        for b in arms.iter().skip(i + 1) {
            if b.fields.is_empty() {
                continue;
            }
            let (a, b) = (&a.fields, &b.fields);
            let has = |x: &[(String, bool)], k: &str| x.iter().any(|(j, _)| j == k);
            let mut keys: Vec<&str> = Vec::new();
            for (k, req) in a.iter().chain(b.iter()) {
                if *req && !keys.contains(&k.as_str()) {
                    keys.push(k);
                }
            }
            for (k, _) in b {
                if !has(a, k) && !keys.contains(&k.as_str()) {
                    keys.push(k);
                }
            }
            let score = |x: &[(String, bool)]| keys.iter().filter(|k| has(x, k)).count();
            if score(b) > score(a) {
                return true;
            }
        }
    }
    false
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
        Def::Tagged { arms, .. } => arms.iter().for_each(|a| direct_refs(&a.ty, &mut out)),
        Def::Alias { ty, .. } => direct_refs(ty, &mut out),
        Def::Enum { .. } | Def::Const { .. } => {}
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

#[cfg(test)]
mod tests {
    use super::*;

    fn arm(fields: &[(&str, bool)]) -> Arm {
        Arm {
            fields: fields.iter().map(|(k, r)| (k.to_string(), *r)).collect(),
            tolerant: true,
        }
    }

    #[test]
    fn shape_decoding_only_where_first_match_can_be_wrong() {
        // A superset arm first (mpnn): first match is already pydantic's pick.
        let sc = arm(&[("sequence", true), ("pdb_packed", true)]);
        let plain = arm(&[("sequence", true)]);
        assert!(!needs_shape_decoding(&[sc.clone(), plain.clone()]));
        // The subset arm first: `{sequence, pdb_packed}` would decode as `plain`.
        assert!(needs_shape_decoding(&[plain.clone(), sc]));
        // Optional extras in the later arm: pydantic prefers it when they are set.
        let opt = arm(&[("sequence", true), ("score", false)]);
        assert!(needs_shape_decoding(&[plain, opt]));
        // Disjoint required keys (Circle / Square): no ambiguity.
        let circle = arm(&[("radius", true)]);
        let square = arm(&[("side", true)]);
        assert!(!needs_shape_decoding(&[circle, square]));
        // Non-struct arms never need it.
        assert!(!needs_shape_decoding(&[Arm::default(), Arm::default()]));
        // An earlier arm that refuses unknown keys cannot take the later arm's input.
        let closed = Arm {
            tolerant: false,
            ..arm(&[("sequence", true)])
        };
        assert!(!needs_shape_decoding(&[
            closed,
            arm(&[("sequence", true), ("score", false)])
        ]));
    }
}
