//! Deterministic shards of a call's input ([`crate::jsonl::merge`] joins
//! their outputs).
//!
//! A [`Shard`] `I/N` (numbered from 0: `0/3`, `1/3`, `2/3`) takes the items
//! whose input index `k` has `k % N == I`. The rule needs no count of the
//! input and no coordination: N processes reading the same input (a file, a
//! stream) each take their share as it streams by, whatever order they run
//! in, and together they cover every item exactly once. Contiguous ranges
//! would need the item count before the first item is sent (a second pass
//! over a stream) and would give the last shard the odd remainder; the modulo
//! rule also spreads slow and fast regions of an input over all shards.
//!
//! Items keep their index in the whole input: a shard's output
//! ([`crate::Call::write_jsonl`], `biolm run --shard I/N -o FILE`) has the
//! same job fingerprint as an unsharded run, records `"shard":{"index":I,"count":N}`
//! in its header, and holds lines for its own items only. [`merge`] checks the
//! shards of one job and joins them, in input order, into the file an
//! unsharded run writes (see [`merge`] for what "the same" means).
//!
//! [`merge`]: crate::jsonl::merge

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Shard `index` of `count`: the input items whose index `k` has `k % count == index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shard {
    index: usize,
    count: usize,
}

impl Shard {
    /// The whole input: shard 0 of 1.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count` (`0 <= index < count`); anything else is
    /// [`Error::InvalidShard`].
    pub fn new(index: usize, count: usize) -> Result<Shard, Error> {
        if count == 0 {
            return Err(Error::InvalidShard(format!(
                "{index}/{count}: there must be at least one shard (N >= 1)"
            )));
        }
        if index >= count {
            return Err(Error::InvalidShard(format!(
                "{index}/{count}: shards are numbered from 0, so with {count} shards give 0/{count} to {}/{count}",
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }

    /// This shard's number, from 0.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The number of shards.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Whether input item `item` (its index in the whole input) is in this shard.
    pub fn contains(&self, item: usize) -> bool {
        item % self.count == self.index
    }

    /// How many of `total` input items are in this shard.
    pub fn len_of(&self, total: usize) -> usize {
        if total > self.index {
            (total - self.index - 1) / self.count + 1
        } else {
            0
        }
    }

    /// The input index of this shard's `local`-th item (both from 0).
    pub fn global(&self, local: usize) -> usize {
        local * self.count + self.index
    }

    /// The position in this shard of input item `item` (which must be in it).
    pub fn local(&self, item: usize) -> usize {
        item / self.count
    }

    /// Keeps the items of this shard from `input` (read in input order).
    pub(crate) fn select<I: Send + 'static>(
        self,
        input: futures_util::stream::BoxStream<'static, I>,
    ) -> futures_util::stream::BoxStream<'static, I> {
        use futures_util::StreamExt;
        input
            .enumerate()
            .filter_map(move |(k, item)| std::future::ready(self.contains(k).then_some(item)))
            .boxed()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = Error;

    /// `I/N`, like `0/8`.
    fn from_str(s: &str) -> Result<Shard, Error> {
        let bad = || {
            Error::InvalidShard(format!(
                "{s:?}: give I/N, shard I of N numbered from 0, like 0/8"
            ))
        };
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let i: usize = i.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        Shard::new(i, n)
    }
}

/// The message of a resume refused because the file is of another shard.
pub(crate) fn resume_mismatch(found: Option<Shard>, wanted: Option<Shard>) -> String {
    let name = |s: Option<Shard>| match s {
        Some(s) => format!("shard {s}"),
        None => "the whole input (no shard)".to_string(),
    };
    format!(
        "holds {} of this job, but this run is {}; refusing to resume (the file is left as it was) — \
         give each shard its own output path",
        name(found),
        name(wanted)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_index_exactly_once() {
        for n in [1usize, 2, 3, 8] {
            for total in [0usize, 1, 2, 7, 8, 9, 100] {
                let mut seen = vec![0u32; total];
                let mut sum = 0;
                for i in 0..n {
                    let s = Shard::new(i, n).unwrap();
                    sum += s.len_of(total);
                    for (k, c) in seen.iter_mut().enumerate() {
                        if s.contains(k) {
                            *c += 1;
                            assert_eq!(s.global(s.local(k)), k);
                        }
                    }
                    assert_eq!(
                        (0..total).filter(|k| s.contains(*k)).count(),
                        s.len_of(total)
                    );
                }
                assert!(seen.iter().all(|c| *c == 1), "n={n} total={total}");
                assert_eq!(sum, total);
            }
        }
    }

    #[test]
    fn parse_and_refuse() {
        assert_eq!("2/8".parse::<Shard>().unwrap(), Shard::new(2, 8).unwrap());
        assert_eq!(Shard::new(2, 8).unwrap().to_string(), "2/8");
        for bad in ["3/3", "0/0", "x/3", "1", "-1/3", "1/3/4"] {
            let e = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(e.contains("shard"), "{bad}: {e}");
        }
        assert!("3/3"
            .parse::<Shard>()
            .unwrap_err()
            .to_string()
            .contains("0/3 to 2/3"));
    }
}
