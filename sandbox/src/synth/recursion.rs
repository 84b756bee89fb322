//! Bounding recursion: for every plan node, the fewest nesting levels a finite
//! value of it needs (its height). Past the recursion budget the generator takes,
//! at every node, a child of smaller height (the null arm, an empty list, only the
//! required fields), so a value always ends, and ends valid.

use super::plan::Node;

/// No finite value.
pub(crate) const NEVER: u32 = u32::MAX;

fn up(h: u32) -> u32 {
    h.saturating_add(1)
}

/// The height of every node (fixpoint over the graph; cycles settle from their exits).
pub(crate) fn heights(nodes: &[Node]) -> Vec<u32> {
    let mut h = vec![NEVER; nodes.len()];
    loop {
        let mut changed = false;
        for (id, node) in nodes.iter().enumerate() {
            let get = |i: usize| h.get(i).copied().unwrap_or(NEVER);
            let v = match node {
                Node::Null
                | Node::Any
                | Node::Bool
                | Node::Int(_)
                | Node::Num(_)
                | Node::Str(_)
                | Node::Choice(_) => 0,
                Node::Array { item, min, .. } => {
                    if *min == 0 {
                        1
                    } else {
                        up(get(*item))
                    }
                }
                Node::Tuple {
                    prefix, rest, min, ..
                } => {
                    let mut worst = 0;
                    for i in 0..*min {
                        let child = match prefix.get(i) {
                            Some(p) => get(*p),
                            None => rest.map_or(NEVER, get),
                        };
                        worst = worst.max(child);
                    }
                    up(worst)
                }
                Node::Object(spec) => {
                    let mut worst = spec
                        .fields
                        .iter()
                        .filter(|f| f.required)
                        .map(|f| get(f.node))
                        .max()
                        .unwrap_or(0);
                    let n_required = spec.fields.iter().filter(|f| f.required).count();
                    let need = spec.min_props.saturating_sub(n_required);
                    if need > 0 {
                        let mut hs: Vec<u32> = spec.entries.iter().map(|e| get(e.node)).collect();
                        hs.sort_unstable();
                        worst = worst.max(hs.get(need - 1).copied().unwrap_or(NEVER));
                    }
                    up(worst)
                }
                Node::Union { arms, .. } => up(arms.iter().map(|a| get(*a)).min().unwrap_or(NEVER)),
                Node::Ref(t) => up(get(*t)),
                Node::Results(item) | Node::JsonText(item) => up(get(*item)),
            };
            if v < h[id] {
                h[id] = v;
                changed = true;
            }
        }
        if !changed {
            return h;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::domain::Len;

    #[test]
    fn cycles_settle_from_their_exits() {
        // 0: Union[Ref(2), Null]; 1: Null; 2: Ref(3); 3: Array of 0 with min 1.
        let nodes = vec![
            Node::Union {
                arms: vec![2, 1],
                random: false,
            },
            Node::Null,
            Node::Ref(3),
            Node::Array {
                item: 0,
                len: Len::Fixed(2),
                min: 1,
                max: usize::MAX,
                unique: false,
            },
        ];
        assert_eq!(heights(&nodes), vec![1, 0, 3, 2]);
        // A required self-reference has no finite value.
        let never = vec![Node::Array {
            item: 0,
            len: Len::Fixed(2),
            min: 1,
            max: usize::MAX,
            unique: false,
        }];
        assert_eq!(heights(&never), vec![NEVER]);
    }
}
