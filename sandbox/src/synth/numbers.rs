//! Integers and numbers inside their limits: `minimum`/`maximum`, exclusive bounds
//! and `multipleOf` (on floats too), written as short decimals.

use serde_json::Value;

use super::domain::{number_range, IntRole};
use super::rng::Rng;

/// A generator of integers.
#[derive(Debug, Clone)]
pub(crate) struct IntSpec {
    pub(crate) min: i64,
    pub(crate) max: i64,
    /// Values are multiples of this (1 when the schema sets none).
    pub(crate) step: i64,
    pub(crate) role: IntRole,
    /// The limits come from the schema (else they only bound generic values).
    pub(crate) explicit: bool,
}

/// A generator of numbers.
#[derive(Debug, Clone)]
pub(crate) enum NumSpec {
    /// A number in `lo..=hi` ten-thousandths.
    Ticks { lo: i64, hi: i64 },
    /// One of these JSON number texts (tight or huge limits, `multipleOf`).
    Pool(Vec<String>),
}

fn num(s: &Value, key: &str) -> Option<f64> {
    s.get(key).and_then(Value::as_f64)
}

/// Lower and upper bounds of a schema: `(value, exclusive)`.
fn bounds(s: &Value) -> (Option<(f64, bool)>, Option<(f64, bool)>) {
    let mut lo = num(s, "minimum").map(|m| (m, false));
    if let Some(x) = num(s, "exclusiveMinimum") {
        if lo.is_none_or(|(m, _)| x >= m) {
            lo = Some((x, true));
        }
    }
    let mut hi = num(s, "maximum").map(|m| (m, false));
    if let Some(x) = num(s, "exclusiveMaximum") {
        if hi.is_none_or(|(m, _)| x <= m) {
            hi = Some((x, true));
        }
    }
    (lo, hi)
}

fn above(v: f64, lo: Option<(f64, bool)>) -> bool {
    match lo {
        None => true,
        Some((m, false)) => v >= m,
        Some((m, true)) => v > m,
    }
}

fn below(v: f64, hi: Option<(f64, bool)>) -> bool {
    match hi {
        None => true,
        Some((m, false)) => v <= m,
        Some((m, true)) => v < m,
    }
}

/// Compiles an integer schema.
pub(crate) fn integer(s: &Value, name: &str, in_array: bool) -> Result<IntSpec, String> {
    let role = super::domain::int_role(name, in_array);
    let (lo, hi) = bounds(s);
    let clamp = |x: f64| x.clamp(-9.0e18, 9.0e18) as i64;
    let min = lo.map(|(m, ex)| {
        let c = m.ceil();
        clamp(if ex && c == m { c + 1.0 } else { c })
    });
    let max = hi.map(|(m, ex)| {
        let f = m.floor();
        clamp(if ex && f == m { f - 1.0 } else { f })
    });
    let explicit = min.is_some() || max.is_some();
    let (mut min, mut max) = match (min, max) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, a.saturating_add(100)),
        (None, Some(b)) => (b.saturating_sub(100).min(b.max(0)), b),
        (None, None) => (0, 99),
    };
    let mut step = 1i64;
    if let Some(m) = s.get("multipleOf") {
        let m = m
            .as_f64()
            .filter(|m| *m > 0.0 && m.is_finite())
            .ok_or("`multipleOf` must be a positive number".to_string())?;
        if m.fract() != 0.0 || m > 1.0e15 {
            return Err(format!(
                "`multipleOf: {m}` on an integer is not a whole number the synthesizer can step by"
            ));
        }
        step = m as i64;
        let kmin = min.div_euclid(step) + i64::from(min.rem_euclid(step) != 0);
        let kmax = max.div_euclid(step);
        if !explicit || kmin > kmax {
            // Unbounded: widen to at least one multiple.
            if lo.is_none() && hi.is_none() {
                min = 0;
                max = step.saturating_mul(5);
            }
        }
        min = min
            .div_euclid(step)
            .saturating_add(i64::from(min.rem_euclid(step) != 0))
            .saturating_mul(step);
        max = max.div_euclid(step).saturating_mul(step);
    }
    if min > max {
        return Err(format!(
            "no integer{} lies between the schema's bounds",
            if step > 1 {
                format!(" multiple of {step}")
            } else {
                String::new()
            }
        ));
    }
    Ok(IntSpec {
        min,
        max,
        step,
        role,
        explicit,
    })
}

impl IntSpec {
    /// A value for this spec; `role_value` is what the role asks for, if anything.
    pub(crate) fn pick(&self, role_value: Option<i64>, rng: &mut Rng) -> i64 {
        let fits = |v: i64| v >= self.min && v <= self.max && v.rem_euclid(self.step) == 0;
        match role_value {
            Some(v) if !self.explicit && self.step == 1 || fits(v) => v,
            _ => {
                let k = rng.range_i64(self.min / self.step, self.max / self.step);
                k.saturating_mul(self.step)
            }
        }
    }

    /// How many distinct values it can take (saturating).
    pub(crate) fn cardinality(&self) -> u64 {
        ((self.max as i128 - self.min as i128) / self.step as i128 + 1).clamp(0, u64::MAX as i128)
            as u64
    }
}

const TICKS: f64 = 10_000.0;
/// Largest magnitude written as ten-thousandths.
const TICK_LIMIT: f64 = 9.0e14;

/// Parses a JSON number text back, as a validator would read it.
fn read(text: &str) -> f64 {
    text.parse().unwrap_or(f64::NAN)
}

fn ticks_text(t: i64) -> String {
    let mut out = Vec::new();
    write_ticks(&mut out, t);
    String::from_utf8(out).unwrap_or_default()
}

fn float_text(v: f64) -> Option<String> {
    serde_json::Number::from_f64(v).map(|n| {
        let t = n.to_string();
        if t.contains(['.', 'e', 'E']) {
            t
        } else {
            format!("{t}.0")
        }
    })
}

/// Compiles a number schema.
pub(crate) fn number(s: &Value, name: &str) -> Result<NumSpec, String> {
    let (lo, hi) = bounds(s);
    if let Some(m) = s.get("multipleOf") {
        let m = m
            .as_f64()
            .filter(|m| *m > 0.0 && m.is_finite())
            .ok_or("`multipleOf` must be a positive number".to_string())?;
        return multiples(m, lo, hi);
    }
    let (dlo, dhi) = number_range(name);
    let huge = |b: Option<(f64, bool)>| b.is_some_and(|(x, _)| x.abs() > TICK_LIMIT);
    if !huge(lo) && !huge(hi) {
        let mut lo_t = match lo {
            Some((m, ex)) => {
                let t = (m * TICKS).ceil() as i64;
                if ex && (t as f64) == m * TICKS {
                    t + 1
                } else {
                    t
                }
            }
            None => i64::MIN,
        };
        let mut hi_t = match hi {
            Some((m, ex)) => {
                let t = (m * TICKS).floor() as i64;
                if ex && (t as f64) == m * TICKS {
                    t - 1
                } else {
                    t
                }
            }
            None => i64::MAX,
        };
        // Rounding in `m * 10000` may land one tick outside: step back in.
        while lo_t != i64::MIN && !above(read(&ticks_text(lo_t)), lo) {
            lo_t += 1;
        }
        while hi_t != i64::MAX && !below(read(&ticks_text(hi_t)), hi) {
            hi_t -= 1;
        }
        let (dlo, dhi) = ((dlo * TICKS) as i64, (dhi * TICKS) as i64);
        let (lo_t, hi_t) = match (lo_t != i64::MIN, hi_t != i64::MAX) {
            (true, true) => (lo_t, hi_t),
            (true, false) => (
                lo_t,
                if lo_t >= dhi {
                    lo_t + 10_000
                } else {
                    dhi.max(lo_t)
                },
            ),
            (false, true) => (
                if hi_t <= dlo {
                    hi_t - 10_000
                } else {
                    dlo.min(hi_t)
                },
                hi_t,
            ),
            (false, false) => (dlo, dhi),
        };
        if lo_t <= hi_t {
            return Ok(NumSpec::Ticks { lo: lo_t, hi: hi_t });
        }
    }
    // Tight or huge limits: a few exact values between them.
    let a = lo.map_or(f64::MIN / 4.0, |b| b.0);
    let b = hi.map_or(f64::MAX / 4.0, |b| b.0);
    let mut pool = Vec::new();
    for v in [
        a,
        b,
        a / 2.0 + b / 2.0,
        a + (b - a) / 4.0,
        b - (b - a) / 4.0,
    ] {
        if let Some(t) = float_text(v) {
            let r = read(&t);
            if r.is_finite() && above(r, lo) && below(r, hi) && !pool.contains(&t) {
                pool.push(t);
            }
        }
    }
    if pool.is_empty() {
        return Err("no number lies between the schema's bounds".to_string());
    }
    Ok(NumSpec::Pool(pool))
}

/// Exact multiples of `m` between the bounds: `k * m` whose remainder by `m` is exactly 0.
fn multiples(m: f64, lo: Option<(f64, bool)>, hi: Option<(f64, bool)>) -> Result<NumSpec, String> {
    let kmin = lo.map_or(0.0, |(x, _)| (x / m).ceil() - 1.0);
    let kmax = hi.map_or(kmin + 40.0, |(x, _)| (x / m).floor() + 1.0);
    let kmin = kmin.max(-1.0e15);
    let kmax = kmax.min(1.0e15);
    let mut pool: Vec<String> = Vec::new();
    let try_k = |k: f64, pool: &mut Vec<String>| {
        let v = k * m;
        if let Some(t) = float_text(v) {
            let r = read(&t);
            if r.is_finite() && r % m == 0.0 && above(r, lo) && below(r, hi) && !pool.contains(&t) {
                pool.push(t);
            }
        }
    };
    if kmax >= kmin {
        let span = kmax - kmin;
        for i in 0..=16 {
            let k = (kmin + span * f64::from(i) / 16.0).round();
            try_k(k, &mut pool);
        }
        // Powers of two times m are always exact.
        for j in 0..64 {
            let p = f64::from(2u32).powi(j);
            try_k(p, &mut pool);
            try_k(-p, &mut pool);
        }
        try_k(0.0, &mut pool);
    }
    pool.truncate(12);
    if pool.is_empty() {
        return Err(format!(
            "no exact multiple of {m} lies between the schema's bounds"
        ));
    }
    Ok(NumSpec::Pool(pool))
}

impl NumSpec {
    /// Writes one value.
    pub(crate) fn write(&self, rng: &mut Rng, out: &mut Vec<u8>) {
        match self {
            NumSpec::Ticks { lo, hi } => write_ticks(out, rng.range_i64(*lo, *hi)),
            NumSpec::Pool(p) => {
                if let Some(t) = p.get(rng.below(p.len() as u64) as usize) {
                    out.extend_from_slice(t.as_bytes());
                }
            }
        }
    }

    /// How many distinct values it can take (saturating).
    pub(crate) fn cardinality(&self) -> u64 {
        match self {
            NumSpec::Ticks { lo, hi } => {
                (*hi as i128 - *lo as i128 + 1).clamp(0, u64::MAX as i128) as u64
            }
            NumSpec::Pool(p) => p.len() as u64,
        }
    }
}

/// Writes a number given in ten-thousandths, without trailing zeros (`-0.125`, `3.0`).
pub(crate) fn write_ticks(out: &mut Vec<u8>, t: i64) {
    let neg = t < 0;
    let a = t.unsigned_abs();
    let (int, mut frac) = (a / 10_000, a % 10_000);
    if neg {
        out.push(b'-');
    }
    out.extend_from_slice(itoa::Buffer::new().format(int).as_bytes());
    out.push(b'.');
    if frac == 0 {
        out.push(b'0');
        return;
    }
    let mut digits = 4;
    while frac % 10 == 0 {
        frac /= 10;
        digits -= 1;
    }
    let mut buf = [b'0'; 4];
    let mut k = digits;
    while k > 0 {
        k -= 1;
        buf[k] = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    out.extend_from_slice(&buf[..digits]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn written(t: i64) -> String {
        ticks_text(t)
    }

    #[test]
    fn ticks_are_short_decimals() {
        assert_eq!(written(0), "0.0");
        assert_eq!(written(1_250), "0.125");
        assert_eq!(written(-30_000), "-3.0");
        assert_eq!(written(12_345), "1.2345");
        assert_eq!(written(-5), "-0.0005");
    }

    #[test]
    fn float_multiples_are_exact() {
        let NumSpec::Pool(p) = number(
            &json!({"multipleOf": 0.1, "minimum": 0.2, "maximum": 1.0}),
            "x",
        )
        .unwrap() else {
            panic!("a pool")
        };
        for t in p {
            let v: f64 = t.parse().unwrap();
            assert!(v % 0.1 == 0.0 && (0.2..=1.0).contains(&v), "{t}");
        }
    }

    #[test]
    fn exclusive_and_tight_bounds() {
        let spec = number(
            &json!({"exclusiveMinimum": 0, "exclusiveMaximum": 0.00001}),
            "x",
        )
        .unwrap();
        let mut rng = Rng::new(1);
        let mut out = Vec::new();
        spec.write(&mut rng, &mut out);
        let v: f64 = String::from_utf8(out).unwrap().parse().unwrap();
        assert!(v > 0.0 && v < 0.00001);
        assert!(number(&json!({"minimum": 2, "maximum": 1}), "x").is_err());
        assert!(number(&json!({"minimum": 1e300}), "x").is_ok());
        let i = integer(
            &json!({"exclusiveMinimum": 3, "exclusiveMaximum": 5}),
            "x",
            false,
        )
        .unwrap();
        assert_eq!((i.min, i.max), (4, 4));
        let i = integer(
            &json!({"multipleOf": 7, "minimum": 10, "maximum": 30}),
            "x",
            false,
        )
        .unwrap();
        assert_eq!((i.min, i.max, i.step), (14, 28, 7));
        assert!(integer(
            &json!({"multipleOf": 7, "minimum": 1, "maximum": 6}),
            "x",
            false
        )
        .is_err());
    }
}
