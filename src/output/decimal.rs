//! Decimal text to float32, fast: the common numbers of embeddings
//! (`-?D+(.D+)?`, at most 19 digits) read as an integer and a power of ten,
//! then rounded as parsing into float64 and casting would round them.

use crate::json_check::{leading_digits, POW10_INT};

/// Powers of ten exact in float64.
pub(super) const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Reciprocal powers of ten, each the float64 nearest.
const INV10: [f64; 23] = [
    1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14,
    1e-15, 1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22,
];

/// `(m / 10^k) as f32` with the division done in float64 (so the same
/// float32 as parsing the decimal into float64 and casting), for `m < 2^53`
/// and `k <= 22`, without a division in the common case: `m * fl(10^-k)` is
/// within 2.5 float64 ulps of the exact quotient, hence within 3 ulps of the
/// correctly rounded one, and both round to the same float32 unless they are
/// near a float32 rounding midpoint (the 29 bits float32 drops are then
/// close to `1 << 28`): there, the division decides.
///
/// Away from a midpoint the float32 is rounded from the float64's bits with
/// integer operations, and `m` is made a float64 by its bits ([`exact_f64`]):
/// the processor's conversions (`cvtsi2sd`, `cvtsd2ss`) write only part of
/// their register, so each waits for the previous number's, which chained
/// every number of a list into one sequence (a third of the reader's time).
/// The value is always a normal float32 (`1e-22 <= m / 10^k < 2^53`) or zero.
#[inline(always)]
pub(super) fn ratio_f32(m: u64, k: usize) -> f32 {
    let q = exact_f64(m) * INV10[k];
    let bits = q.to_bits();
    let dropped = bits & ((1 << 29) - 1);
    if dropped.abs_diff(1 << 28) <= 8 {
        return (m as f64 / POW10[k]) as f32;
    }
    if m == 0 {
        return 0.0;
    }
    // Rebias the exponent (1023 to 127) and keep 23 of the 52 fraction
    // bits, rounding to nearest (no tie: `dropped` is not near `1 << 28`);
    // a carry out of the fraction goes into the exponent, as it should.
    let exponent = ((bits >> 52) & 0x7ff) as u32 - (1023 - 127);
    let fraction = ((bits >> 29) & 0x7f_ffff) as u32;
    let up = u32::from(dropped > 1 << 28);
    f32::from_bits(((exponent << 23) | fraction) + up)
}

/// `m` (below 2^53) as a float64, exactly; below 2^52 by placing its bits in
/// the fraction of 2^52 and subtracting 2^52 (no conversion instruction).
#[inline(always)]
fn exact_f64(m: u64) -> f64 {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    if m < 1 << 52 {
        f64::from_bits(m | TWO_52.to_bits()) - TWO_52
    } else {
        m as f64
    }
}

/// The digits at `b[i..]`, one at a time, appended to `m` (wrapping: the
/// caller counts the digits); returns the position after them.
#[inline(always)]
fn digits_into(b: &[u8], mut i: usize, m: &mut u64) -> usize {
    while let Some(&d) = b.get(i) {
        let v = d.wrapping_sub(b'0');
        if v > 9 {
            break;
        }
        *m = m.wrapping_mul(10).wrapping_add(u64::from(v));
        i += 1;
    }
    i
}

/// The number at `b[i..]` as `(m, k, negative, end)` (its value is
/// `m / 10^k`) when it has the common form `-?D+(.D+)?` with at most 19
/// digits, `m < 2^53` and `k <= 22` (so both are exact in float64); `end` is
/// the position after it. `None` for any other text (which may still be a
/// number: the general path reads it, or says what is wrong).
#[inline(always)]
pub(super) fn quick(b: &[u8], mut i: usize) -> Option<(u64, usize, bool, usize)> {
    let neg = b.get(i) == Some(&b'-');
    i += usize::from(neg);
    let start = i;
    let mut m: u64 = 0;
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits_into(b, i, &mut m),
        _ => return None,
    }
    let mut frac = 0usize;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let fs = i;
        // Eight bytes at a time while they are all digits.
        while let Some(chunk) = b.get(i..i + 8) {
            let (n, value) = leading_digits(chunk);
            m = m.wrapping_mul(POW10_INT[n]).wrapping_add(value);
            i += n;
            if n < 8 {
                break;
            }
        }
        i = digits_into(b, i, &mut m);
        frac = i - fs;
        if frac == 0 {
            return None;
        }
    }
    // Digits (with a leading zero), so that `m` did not wrap; then exact in float64.
    let digits = i - start - usize::from(frac > 0);
    if digits > 19 || m >= 1 << 53 || frac > 22 || matches!(b.get(i), Some(b'e' | b'E')) {
        return None;
    }
    Some((m, frac, neg, i))
}

/// `f` (not negative) negated when `negative`, without a branch: the signs
/// of embeddings are as good as random, so a branch on them is mispredicted
/// half the time, which cost more than the rest of reading the number.
#[inline(always)]
pub(super) fn with_sign(f: f32, negative: bool) -> f32 {
    f32::from_bits(f.to_bits() | (u32::from(negative) << 31))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_sign_negates_as_minus_does() {
        for f in [0.0f32, 0.3525, 1.0, f32::MAX, f32::MIN_POSITIVE] {
            assert_eq!(with_sign(f, true).to_bits(), (-f).to_bits());
            assert_eq!(with_sign(f, false).to_bits(), f.to_bits());
        }
    }

    #[test]
    fn float32_without_division_equals_float64_division_then_cast() {
        let want = |m: u64, k: usize| (m as f64 / POW10[k]) as f32;
        // A small deterministic generator (xorshift): many magnitudes and digit counts.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..200_000 {
            let bits = next() % 53 + 1;
            let m = next() >> (64 - bits);
            let k = (next() % 23) as usize;
            assert_eq!(ratio_f32(m, k).to_bits(), want(m, k).to_bits(), "{m}e-{k}");
        }
        // Decimals right next to float32 rounding midpoints take the division.
        let mut near = 0;
        for i in 0..20_000u32 {
            let y = f32::from_bits(0x3F80_0000 + i * 331);
            let mid = (f64::from(y) + f64::from(f32::from_bits(y.to_bits() + 1))) / 2.0;
            let k = 15;
            let m = (mid * POW10[k]).round() as u64;
            let q = m as f64 * INV10[k];
            near += usize::from((q.to_bits() & ((1 << 29) - 1)).abs_diff(1 << 28) <= 8);
            assert_eq!(ratio_f32(m, k).to_bits(), want(m, k).to_bits(), "{m}e-{k}");
        }
        assert!(near > 100, "only {near} cases near a midpoint");
    }
}
