//! A fast check that bytes are one well-formed JSON value, and the split of a
//! response body `{"results": [...]}` into its results by that check.
//!
//! It is the engine's path for results kept as JSON text
//! ([`RawResult`](crate::RawResult)): large results (embeddings are lists of
//! thousands of numbers) are checked once, in one pass without building
//! values, digits eight at a time, and handed on as slices of the body.
//!
//! The check is *sound*, not complete: whatever it accepts is JSON by RFC 8259
//! (the grammar `serde_json` reads: no trailing commas, no leading zeros, no
//! control characters in strings, escapes as the grammar allows); text it
//! does not accept (invalid, or merely unusual: nesting deeper than
//! [`MAX_DEPTH`], a body with other keys than `results`) makes the caller fall
//! back to `serde_json`, which then reads it or says what is wrong. UTF-8 is
//! not checked here: the caller checks the whole body once.

/// Deepest nesting the check follows (deeper text goes to `serde_json`).
pub(crate) const MAX_DEPTH: usize = 128;

/// Powers of ten as integers (up to 10^8).
#[cfg(feature = "parquet")]
pub(crate) const POW10_INT: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// The eight bytes of `chunk` (at least eight long) as a little-endian word.
#[inline(always)]
fn word(chunk: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&chunk[..8]);
    u64::from_le_bytes(bytes)
}

/// How many of the eight bytes of `c` (little-endian) are ASCII digits before
/// the first that is not: eight bytes at once (SWAR), no branch per digit.
#[inline(always)]
fn digit_run(c: u64) -> usize {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    // A byte is a digit when its high nibble is 3, also after adding 6
    // (0x3A..=0x3F carry into 4). A carry out of a byte >= 0xFA only
    // disturbs the bytes after it, which are past a non-digit anyway.
    let bad = ((c & HIGH) ^ THREES) | ((c.wrapping_add(0x0606_0606_0606_0606) & HIGH) ^ THREES);
    (bad.trailing_zeros() / 8) as usize
}

/// How many of the eight bytes `chunk` starts with are ASCII digits, and
/// their value (the first digit the most significant).
#[cfg(feature = "parquet")]
#[inline(always)]
pub(crate) fn leading_digits(chunk: &[u8]) -> (usize, u64) {
    let c = word(chunk);
    let n = digit_run(c);
    if n == 0 {
        return (0, 0);
    }
    // The digits' values, the first digit in the lowest byte; the bytes
    // past them are shifted out (the leading bytes become zero digits).
    let v = c.wrapping_sub(0x3030_3030_3030_3030) << (8 * (8 - n));
    // Pairs, then fours, then eight digits (as fast_float does).
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    let v = (v & MASK)
        .wrapping_mul(MUL1)
        .wrapping_add(((v >> 16) & MASK).wrapping_mul(MUL2))
        >> 32;
    (n, v)
}

/// The position after the run of ASCII digits at `b[i..]`.
#[inline(always)]
fn digits_end(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let n = digit_run(word(chunk));
        i += n;
        if n < 8 {
            return i;
        }
    }
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// The position after the number at `b[i..]`, by the JSON grammar
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
#[inline(always)]
fn number_end(b: &[u8], mut i: usize) -> Option<usize> {
    i += usize::from(b.get(i) == Some(&b'-'));
    match b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i = digits_end(b, i + 1),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = digits_end(b, start);
        if i == start {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        i += usize::from(matches!(b.get(i), Some(b'+' | b'-')));
        let start = i;
        i = digits_end(b, start);
        if i == start {
            return None;
        }
    }
    Some(i)
}

/// The rest of a long list of numbers from `b[i..]` (where a number starts),
/// each followed by a comma and the last by `]`, walked as two halves at
/// once: the list's end and a comma near its middle are found first
/// (`memchr`), so the halves' numbers are two independent chains of
/// instructions, which the processor overlaps (one number's end decides where
/// the next starts, so a single chain leaves it waiting). `first` and
/// `second` read the number at a position of their half and return where it
/// ends. Returns the position of the `]`; `None` for any other text (a short
/// list, spaces, nested values, a number either reader refuses), which the
/// caller then reads one value at a time. Used by the check here and by the
/// Parquet output's float reader.
#[inline(always)]
pub(crate) fn two_halves(
    b: &[u8],
    i: usize,
    mut first: impl FnMut(usize) -> Option<usize>,
    mut second: impl FnMut(usize) -> Option<usize>,
) -> Option<usize> {
    let len = memchr::memchr(b']', b.get(i..)?)?;
    if len < 128 {
        return None;
    }
    let end = i + len;
    let cut = i + len / 2 + memchr::memchr(b',', &b[i + len / 2..end])?;
    // The first half's numbers end at commas up to `cut` (a comma); the
    // second half's at commas, the last at `end`.
    let (mut a, mut c) = (i, cut + 1);
    while a <= cut && c <= end {
        let ea = first(a)?;
        let ec = second(c)?;
        if b[ea] != b',' || (b[ec] != b',' && ec != end) {
            return None;
        }
        a = ea + 1;
        c = ec + 1;
    }
    while a <= cut {
        let ea = first(a)?;
        if b[ea] != b',' {
            return None;
        }
        a = ea + 1;
    }
    while c <= end {
        let ec = second(c)?;
        if b[ec] != b',' && ec != end {
            return None;
        }
        c = ec + 1;
    }
    Some(end)
}

/// The position after the string whose opening quote is at `b[i]`: no
/// control characters, escapes as the grammar allows.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut i = i + 1;
    loop {
        let rest = b.get(i..)?;
        let at = memchr::memchr2(b'"', b'\\', rest)?;
        if rest[..at].iter().any(|&c| c < 0x20) {
            return None;
        }
        i += at;
        if b[i] == b'"' {
            return Some(i + 1);
        }
        // An escape.
        match b.get(i + 1)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
            b'u' => {
                let hex = b.get(i + 2..i + 6)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                i += 6;
            }
            _ => return None,
        }
    }
}

#[inline(always)]
fn ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(i) {
        i += 1;
    }
    i
}

/// The position after a literal `word` at `b[i..]`.
fn literal(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    b.get(i..)?.starts_with(word).then_some(i + word.len())
}

/// The position after an object key and its `:` (whitespace skipped),
/// starting at the key's quote.
fn key(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let i = ws(b, string_end(b, i)?);
    (b.get(i) == Some(&b':')).then_some(i + 1)
}

/// The position after the one JSON value that starts at `b[i..]` (leading
/// whitespace skipped, trailing whitespace not), or `None` when the text is
/// not accepted (see the [module](self)).
pub(crate) fn value_end(b: &[u8], i: usize) -> Option<usize> {
    // The open containers: `true` for an array, `false` for an object.
    let mut open: Vec<bool> = Vec::new();
    let mut i = i;
    loop {
        // A value at `i`.
        i = ws(b, i);
        match *b.get(i)? {
            b'[' => {
                i = ws(b, i + 1);
                if b.get(i) == Some(&b']') {
                    i += 1;
                } else {
                    open.push(true);
                    if open.len() > MAX_DEPTH {
                        return None;
                    }
                    continue;
                }
            }
            b'{' => {
                i = ws(b, i + 1);
                if b.get(i) == Some(&b'}') {
                    i += 1;
                } else {
                    open.push(false);
                    if open.len() > MAX_DEPTH {
                        return None;
                    }
                    i = key(b, i)?;
                    continue;
                }
            }
            b'"' => i = string_end(b, i)?,
            b't' => i = literal(b, i, b"true")?,
            b'f' => i = literal(b, i, b"false")?,
            b'n' => i = literal(b, i, b"null")?,
            _ => i = number_end(b, i)?,
        }
        // After a value: the next element, or the ends of containers.
        loop {
            let Some(&array) = open.last() else {
                return Some(i);
            };
            // The hot path: a list of numbers without spaces.
            if array {
                if b.get(i) == Some(&b',') {
                    if let Some(end) =
                        two_halves(b, i + 1, |p| number_end(b, p), |p| number_end(b, p))
                    {
                        i = end;
                    }
                }
                while b.get(i) == Some(&b',') && matches!(b.get(i + 1), Some(b'-' | b'0'..=b'9')) {
                    i = number_end(b, i + 1)?;
                }
            }
            i = ws(b, i);
            match (*b.get(i)?, array) {
                (b',', true) => {
                    i += 1;
                    break;
                }
                (b',', false) => {
                    i = key(b, ws(b, i + 1))?;
                    break;
                }
                (b']', true) | (b'}', false) => {
                    i += 1;
                    open.pop();
                }
                _ => return None,
            }
        }
    }
}

/// The spans of the results of a response body that is exactly
/// `{"results": [r0, r1, ...]}` (whitespace allowed), each result checked
/// by [`value_end`]; `None` for any other body (other keys, an error report,
/// text not accepted), which the caller reads with `serde_json`.
pub(crate) fn split_results(b: &[u8]) -> Option<Vec<(usize, usize)>> {
    let mut i = ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = ws(b, i + 1);
    i = literal(b, i, b"\"results\"")?;
    i = ws(b, i);
    if b.get(i) != Some(&b':') {
        return None;
    }
    i = ws(b, i + 1);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    i = ws(b, i + 1);
    let mut spans = Vec::new();
    if b.get(i) == Some(&b']') {
        i += 1;
    } else {
        loop {
            let start = ws(b, i);
            let end = value_end(b, start)?;
            spans.push((start, end));
            i = ws(b, end);
            match b.get(i)? {
                b',' => i += 1,
                b']' => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    i = ws(b, i);
    if b.get(i) != Some(&b'}') {
        return None;
    }
    (ws(b, i + 1) == b.len()).then_some(spans)
}

/// Whether `text` is exactly one JSON value (whitespace around it allowed)
/// by this check; `false` also for text it leaves to `serde_json`.
pub(crate) fn is_one_value(text: &[u8]) -> bool {
    value_end(text, 0).is_some_and(|end| ws(text, end) == text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_accepts(s: &str) -> bool {
        serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok()
    }

    const VALID: &[&str] = &[
        "0",
        "-0",
        "1",
        "-12.5e+3",
        "1E9",
        "0.123456789012345678901234567890",
        "12345678901234567890123",
        "[]",
        "{}",
        " [ 1 , 2 ,3 ] ",
        "[[],[[]],{}]",
        r#"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
        r#"{ "a" : [ -0.1234 , 5e-7 ] , "b" : "x\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00" }"#,
        "\"ünïcödé ✓\"",
        "[0.3525,-0.7267,-0.0987,0.0136,0.512,1,-1,0]",
        "[123456789,1234567890123456789,12345678.87654321]",
        "\n\t\r 5 \n",
    ];

    const INVALID: &[&str] = &[
        "",
        " ",
        "01",
        "-",
        "1.",
        ".5",
        "1e",
        "1e+",
        "+1",
        "[1,]",
        "[,1]",
        "[1 2]",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{a:1}",
        "{\"a\":}",
        "[1}",
        "{\"a\":1]",
        "[",
        "]",
        "[1,2",
        "\"abc",
        "\"a\u{1}b\"",
        "\"\\x\"",
        "\"\\u12G4\"",
        "\"\\u12\"",
        "tru",
        "nul",
        "True",
        "[1] [2]",
        "1 2",
        "NaN",
        "[Infinity]",
        "[-]",
        "[0.1234,-]",
        "[0.1234,,1]",
        "[00.5]",
    ];

    #[test]
    fn valid_json_is_accepted_as_serde_json_accepts_it() {
        for s in VALID {
            assert!(
                serde_accepts(s),
                "serde_json rejects {s:?} (a bad test case)"
            );
            assert!(is_one_value(s.as_bytes()), "rejected valid JSON {s:?}");
        }
    }

    #[test]
    fn invalid_json_is_never_accepted() {
        for s in INVALID {
            assert!(
                !serde_accepts(s),
                "serde_json accepts {s:?} (a bad test case)"
            );
            assert!(!is_one_value(s.as_bytes()), "accepted invalid JSON {s:?}");
        }
    }

    /// Every prefix and every one-byte change of valid texts: whatever the
    /// check accepts, `serde_json` accepts too.
    #[test]
    fn whatever_is_accepted_serde_json_accepts() {
        let bytes = b"0123456789-+.eE,:[]{}\" \\/tfnulaxu\n";
        for s in VALID {
            for end in 0..=s.len() {
                let Some(prefix) = s.get(..end) else { continue };
                if is_one_value(prefix.as_bytes()) {
                    assert!(serde_accepts(prefix), "accepted {prefix:?}");
                }
            }
            for at in 0..s.len() {
                for &c in bytes {
                    let mut t = s.as_bytes().to_vec();
                    t[at] = c;
                    let Ok(t) = String::from_utf8(t) else {
                        continue;
                    };
                    assert_eq!(
                        is_one_value(t.as_bytes()),
                        serde_accepts(&t),
                        "check and serde_json disagree on {t:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn nesting_past_the_limit_is_left_to_serde_json() {
        let nested = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        let deep = nested(MAX_DEPTH + 1);
        assert!(!is_one_value(deep.as_bytes()));
        assert!(serde_json::from_str::<serde_json::Value>(&deep).is_err());
        let ok = nested(MAX_DEPTH - 1);
        assert!(is_one_value(ok.as_bytes()));
    }

    #[test]
    fn a_results_body_splits_into_its_results() {
        let body = br#" { "results" : [ {"a":[1,2]} , 3 ,"x,]" ] } "#;
        let spans = split_results(body).unwrap();
        let parts: Vec<&[u8]> = spans.iter().map(|&(s, e)| &body[s..e]).collect();
        assert_eq!(parts, [&br#"{"a":[1,2]}"#[..], b"3", br#""x,]""#]);
        assert_eq!(split_results(br#"{"results":[]}"#), Some(vec![]));
        for other in [
            &br#"{"results":[1],"error":"x"}"#[..],
            br#"{"error":"x","results":[1]}"#,
            br#"{"results":[1,]}"#,
            br#"{"results":[1]} x"#,
            br#"{"results":{}}"#,
            br#"[1]"#,
        ] {
            assert_eq!(
                split_results(other),
                None,
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }

    #[test]
    fn digits_eight_at_a_time_agree_with_one_at_a_time() {
        for s in [
            "",
            "1",
            "12345678",
            "123456789",
            "1234a",
            "99999999999999999x",
        ] {
            let want = s.bytes().take_while(u8::is_ascii_digit).count();
            assert_eq!(digits_end(s.as_bytes(), 0), want, "{s}");
        }
    }

    /// Long lists of numbers (past the eight-byte steps), with random
    /// changes: the check and `serde_json` agree on every one.
    #[test]
    fn random_number_lists_agree_with_serde_json() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let alphabet = b"0123456789-+.eE, ]x";
        for _ in 0..3000 {
            let mut t = String::from("[");
            for k in 0..next(40) {
                if k > 0 {
                    t.push(',');
                }
                if next(2) == 0 {
                    t.push('-');
                }
                match next(4) {
                    0 => t.push('0'),
                    _ => t.push_str(&(1 + next(99_999)).to_string()),
                }
                if next(4) > 0 {
                    t.push('.');
                    t.push_str(&format!(
                        "{:0w$}",
                        next(1_000_000_000),
                        w = 1 + next(12) as usize
                    ));
                }
                if next(8) == 0 {
                    t.push_str(["e5", "E-12", "e+0"][next(3) as usize]);
                }
            }
            t.push(']');
            let mut bytes = t.into_bytes();
            for _ in 0..next(3) {
                let at = next(bytes.len() as u64) as usize;
                bytes[at] = alphabet[next(alphabet.len() as u64) as usize];
            }
            let t = String::from_utf8(bytes).unwrap();
            assert_eq!(is_one_value(t.as_bytes()), serde_accepts(&t), "{t}");
        }
    }
}
