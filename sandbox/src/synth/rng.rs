//! Deterministic randomness: a 64-bit FNV-1a hasher for request content and a
//! SplitMix64 generator seeded from it.

use serde_json::Value;

/// FNV-1a over bytes, finished with a SplitMix64 mix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hasher(u64);

impl Hasher {
    pub(crate) fn new() -> Self {
        Hasher(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }

    pub(crate) fn write_u64(&mut self, v: u64) {
        self.write(&v.to_le_bytes());
    }

    pub(crate) fn finish(&self) -> u64 {
        mix(self.0)
    }

    /// Feeds a JSON value in a canonical form (object keys sorted), so two
    /// spellings of the same value hash alike.
    pub(crate) fn write_value(&mut self, v: &Value) {
        match v {
            Value::Null => self.write(b"n"),
            Value::Bool(b) => self.write(if *b { b"t" } else { b"f" }),
            Value::Number(n) => {
                self.write(b"#");
                if let Some(i) = n.as_i64() {
                    self.write(&i.to_le_bytes());
                } else if let Some(u) = n.as_u64() {
                    self.write(&u.to_le_bytes());
                } else if let Some(f) = n.as_f64() {
                    self.write(&f.to_bits().to_le_bytes());
                }
            }
            Value::String(s) => {
                self.write(b"s");
                self.write_u64(s.len() as u64);
                self.write(s.as_bytes());
            }
            Value::Array(a) => {
                self.write(b"[");
                self.write_u64(a.len() as u64);
                for x in a {
                    self.write_value(x);
                }
            }
            Value::Object(o) => {
                self.write(b"{");
                self.write_u64(o.len() as u64);
                if o.len() == 1 {
                    for (k, x) in o {
                        self.write(k.as_bytes());
                        self.write_value(x);
                    }
                } else {
                    let mut keys: Vec<(&String, &Value)> = o.iter().collect();
                    keys.sort_by(|a, b| a.0.cmp(b.0));
                    for (k, x) in keys {
                        self.write_u64(k.len() as u64);
                        self.write(k.as_bytes());
                        self.write_value(x);
                    }
                }
            }
        }
    }
}

/// The SplitMix64 finaliser.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SplitMix64: small, fast, and good enough for synthetic numbers.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n == 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// An integer in `lo..=hi` (`lo` when the range is empty).
    pub(crate) fn range_i64(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi as i128 - lo as i128 + 1) as u128;
        if span > u128::from(u64::MAX) {
            return self.next_u64() as i64;
        }
        (lo as i128 + self.below(span as u64) as i128) as i64
    }

    /// A float in `0..1`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_does_not_change_the_hash() {
        let a: Value = serde_json::from_str(r#"{"a":1,"b":[true,null,"x"]}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"b":[true,null,"x"],"a":1}"#).unwrap();
        let c: Value = serde_json::from_str(r#"{"b":[true,null,"y"],"a":1}"#).unwrap();
        let h = |v: &Value| {
            let mut h = Hasher::new();
            h.write_value(v);
            h.finish()
        };
        assert_eq!(h(&a), h(&b));
        assert_ne!(h(&a), h(&c));
    }

    #[test]
    fn ranges_stay_inside() {
        let mut r = Rng::new(7);
        for _ in 0..10_000 {
            let x = r.range_i64(-3, 5);
            assert!((-3..=5).contains(&x));
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert_eq!(r.range_i64(4, 4), 4);
        assert_eq!(r.below(0), 0);
    }
}
