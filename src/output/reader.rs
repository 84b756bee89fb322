//! A strict JSON reader that decodes one result straight into columns
//! ([`Col`]), by the columns' shapes: no `serde_json::Value`, no visitor per
//! number. It is the hot path of the columnar outputs (embeddings are lists
//! of thousands of floats per residue).
//!
//! Numbers take a fast path: the decimal digits are read as an integer `m`
//! with a power of ten `e`, and when `m < 2^53` and `|e| <= 22` both are
//! exact in float64, so `m * 10^e` (or `m / 10^-e`) is one correctly rounded
//! float64 operation: the float64 nearest the decimal, as a correct parser
//! gives. Float32 columns take that float64 and round it to float32, as
//! before (parse as float64, then cast), so values are the same bit for bit.
//! Any other number (more digits, larger exponents) goes to the standard
//! library's correct parser.
//!
//! The reader is as strict as `serde_json`: the JSON grammar (no trailing
//! commas, no leading zeros, no control characters in strings, nothing after
//! the value), and each value must fit its column; errors name the field
//! (`field `x`: invalid type: string, expected a number at byte 120`).

use super::columns::{Col, TextBuf, Validity};
use super::decimal::{quick, ratio_f32, with_sign, POW10};
use crate::json_check::two_halves;

/// Deepest nesting of a value read as JSON text.
const MAX_DEPTH: usize = 128;

/// Decodes the JSON text `json` into one new entry of `col`. On an error the
/// column may hold part of the value: the caller cuts it back.
pub(super) fn read_into(col: &mut Col, json: &str) -> Result<(), String> {
    let mut r = Reader {
        s: json,
        b: json.as_bytes(),
        pos: 0,
        scratch: Vec::new(),
    };
    r.value(col)?;
    r.ws();
    if r.pos != r.b.len() {
        return Err(r.err("trailing characters after the value"));
    }
    Ok(())
}

/// A number as read: its text, and its digits as `m * 10^e` when they fit.
struct Num {
    start: usize,
    end: usize,
    neg: bool,
    /// The significant digits (when `fits`).
    m: u64,
    /// The power of ten.
    e: i64,
    /// Whether all the digits fit `m` (at most 19 of them).
    fits: bool,
    /// Whether the text has a fraction or an exponent.
    is_float: bool,
}

struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    /// The second half of a list of numbers read two halves at once.
    scratch: Vec<f32>,
}

fn found(c: u8) -> &'static str {
    match c {
        b'"' => "string",
        b'[' => "array",
        b'{' => "object",
        b't' | b'f' => "boolean",
        b'-' | b'0'..=b'9' => "number",
        _ => "value",
    }
}

fn expected(col: &Col) -> &'static str {
    match col {
        Col::Bool(..) => "a boolean",
        Col::Int(..) => "a whole number",
        Col::F64(..) | Col::F32(..) => "a number",
        Col::Text(..) => "a string",
        Col::Json(..) => "JSON",
        Col::List(..) => "an array",
        Col::Struct(..) => "an object",
    }
}

impl<'a> Reader<'a> {
    fn err(&self, msg: &str) -> String {
        format!("{msg} at byte {}", self.pos)
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.pos) {
            self.pos += 1;
        }
    }

    #[inline]
    fn peek(&mut self) -> Result<u8, String> {
        self.ws();
        self.b
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.err("unexpected end of the value"))
    }

    fn literal(&mut self, word: &str) -> Result<(), String> {
        if self.b[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn mismatch(&self, col: &Col, c: u8) -> String {
        self.err(&format!(
            "invalid type: {}, expected {}",
            found(c),
            expected(col)
        ))
    }

    /// One value into `col` (a new entry).
    fn value(&mut self, col: &mut Col) -> Result<(), String> {
        let c = self.peek()?;
        if c == b'n' {
            self.literal("null")?;
            col.push_null();
            return Ok(());
        }
        let number_column = matches!(col, Col::Int(..) | Col::F64(..) | Col::F32(..));
        if number_column && !matches!(c, b'-' | b'0'..=b'9') {
            return Err(self.mismatch(col, c));
        }
        match col {
            Col::Json(t, v) => {
                let start = self.pos;
                self.skip(0)?;
                t.push(&self.s[start..self.pos]);
                v.push(true);
            }
            Col::Bool(x, v) => {
                let b = match c {
                    b't' => self.literal("true").map(|()| true)?,
                    b'f' => self.literal("false").map(|()| false)?,
                    _ => return Err(self.mismatch(col, c)),
                };
                x.push(b);
                v.push(true);
            }
            Col::Int(x, v) => {
                let n = self.number()?;
                x.push(self.whole(&n)?);
                v.push(true);
            }
            Col::F64(x, v) => {
                let n = self.number()?;
                x.push(self.float(&n)?);
                v.push(true);
            }
            Col::F32(x, v) => {
                let n = self.number()?;
                x.push(self.float(&n)? as f32);
                v.push(true);
            }
            Col::Text(t, v) => {
                if c != b'"' {
                    return Err(self.mismatch(col, c));
                }
                self.string_into(t)?;
                v.push(true);
            }
            Col::List(o, v, child) => {
                if c != b'[' {
                    return Err(self.mismatch(col, c));
                }
                self.pos += 1;
                let mut i = 0usize;
                if let Col::F32(x, cv) = child.as_mut() {
                    self.floats(x, cv)?;
                    o.push(x.len() as i64);
                } else {
                    if self.peek()? == b']' {
                        self.pos += 1;
                    } else {
                        loop {
                            self.value(child).map_err(|e| format!("[{i}]: {e}"))?;
                            i += 1;
                            match self.peek()? {
                                b',' => self.pos += 1,
                                b']' => {
                                    self.pos += 1;
                                    break;
                                }
                                _ => return Err(self.err("expected `,` or `]`")),
                            }
                        }
                    }
                    o.push(child.len() as i64);
                }
                v.push(true);
            }
            Col::Struct(fs, v) => {
                if c != b'{' {
                    return Err(self.mismatch(col, c));
                }
                self.pos += 1;
                let n = v.len();
                let mut seen = vec![false; fs.len()];
                if self.peek()? == b'}' {
                    self.pos += 1;
                } else {
                    let mut key = TextBuf::default();
                    loop {
                        if self.peek()? != b'"' {
                            return Err(self.err("expected a field name"));
                        }
                        key.clear();
                        self.string_into(&mut key)?;
                        let k = key.last();
                        let Some(i) = fs.iter().position(|(name, _)| name == k) else {
                            return Err(format!("field `{k}` is not in the response schema"));
                        };
                        if std::mem::replace(&mut seen[i], true) {
                            return Err(format!("field `{k}` appears twice"));
                        }
                        if self.peek()? != b':' {
                            return Err(self.err("expected `:`"));
                        }
                        self.pos += 1;
                        let field = &mut fs[i];
                        self.value(&mut field.1)
                            .map_err(|e| format!("field `{}`: {e}", field.0))?;
                        match self.peek()? {
                            b',' => self.pos += 1,
                            b'}' => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.err("expected `,` or `}`")),
                        }
                    }
                }
                for ((_, c), seen) in fs.iter_mut().zip(seen) {
                    if !seen {
                        c.push_null();
                    }
                    debug_assert_eq!(c.len(), n + 1);
                }
                v.push(true);
            }
        }
        Ok(())
    }

    /// The rest of a list of numbers (after its `[`) into a float32 buffer:
    /// the hot loop. Numbers of the common form (`-?D+(.D+)?`, at most 19
    /// digits) are read by [`quick`]; any other text takes the general path.
    fn floats(&mut self, x: &mut Vec<f32>, cv: &mut Validity) -> Result<(), String> {
        if let Some(n) = self.floats_two_way(x) {
            cv.push_valid(n);
            return Ok(());
        }
        // Values read since the last entry of `cv`, pushed in one go.
        let mut valid = 0usize;
        let r = self.floats_counted(x, cv, &mut valid);
        cv.push_valid(valid);
        r
    }

    /// A long list of numbers of the common form, each followed by a comma
    /// (the last by `]`), read as two halves at once
    /// ([`two_halves`], shared with the engine's check). Returns how many numbers were
    /// read, with `pos` after the `]`; `None`, with nothing read, for any
    /// other list (spaces, nulls, exponents, an error), which the general
    /// path then reads.
    fn floats_two_way(&mut self, x: &mut Vec<f32>) -> Option<usize> {
        let b = self.b;
        let start = self.pos;
        let base = x.len();
        let mut second = std::mem::take(&mut self.scratch);
        second.clear();
        let read = |i: usize, x: &mut Vec<f32>| -> Option<usize> {
            let (m, k, neg, e) = quick(b, i)?;
            let f = ratio_f32(m, k);
            x.push(with_sign(f, neg));
            Some(e)
        };
        let list_end = two_halves(b, start, |p| read(p, x), |p| read(p, &mut second));
        let n = list_end.map(|end| {
            x.extend_from_slice(&second);
            self.pos = end + 1;
            x.len() - base
        });
        if n.is_none() {
            x.truncate(base);
        }
        self.scratch = second;
        n
    }

    fn floats_counted(
        &mut self,
        x: &mut Vec<f32>,
        cv: &mut Validity,
        valid: &mut usize,
    ) -> Result<(), String> {
        if self.peek()? == b']' {
            self.pos += 1;
            return Ok(());
        }
        let mut i = 0usize;
        loop {
            self.ws();
            if let Some((m, k, neg, end)) = quick(self.b, self.pos) {
                let f = ratio_f32(m, k);
                x.push(with_sign(f, neg));
                *valid += 1;
                self.pos = end;
            } else {
                let c = self.peek()?;
                if c == b'n' {
                    self.literal("null")?;
                    cv.push_valid(std::mem::take(valid));
                    x.push(0.0);
                    cv.push(false);
                } else if matches!(c, b'-' | b'0'..=b'9') {
                    let n = self.number()?;
                    let f = self.float(&n)?;
                    x.push(f as f32);
                    *valid += 1;
                } else {
                    return Err(format!(
                        "[{i}]: {}",
                        self.err(&format!("invalid type: {}, expected a number", found(c)))
                    ));
                }
            }
            i += 1;
            match self.b.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => match self.peek()? {
                    b',' => self.pos += 1,
                    b']' => {
                        self.pos += 1;
                        return Ok(());
                    }
                    _ => return Err(self.err("expected `,` or `]`")),
                },
            }
        }
    }

    #[inline]
    fn digits(&mut self, m: &mut u64, count: &mut u32) -> usize {
        let start = self.pos;
        while let Some(&d) = self.b.get(self.pos) {
            if !d.is_ascii_digit() {
                break;
            }
            if *count < 19 {
                *m = *m * 10 + u64::from(d - b'0');
            }
            *count += 1;
            self.pos += 1;
        }
        self.pos - start
    }

    /// A number by the JSON grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    #[inline]
    fn number(&mut self) -> Result<Num, String> {
        let start = self.pos;
        let neg = self.b.get(self.pos) == Some(&b'-');
        if neg {
            self.pos += 1;
        }
        let mut m = 0u64;
        // Significant digits (leading zeros of `0.000123` are not counted).
        let mut count = 0u32;
        let int_digits = match self.b.get(self.pos) {
            Some(b'0') => {
                self.pos += 1;
                1
            }
            Some(b'1'..=b'9') => self.digits(&mut m, &mut count),
            _ => return Err(self.err("invalid number")),
        };
        debug_assert!(int_digits > 0);
        let mut e: i64 = 0;
        let mut is_float = false;
        if self.b.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            is_float = true;
            let before = count;
            let n = if m == 0 {
                // Leading zeros of the fraction only move the point.
                let z = self.pos;
                while self.b.get(self.pos) == Some(&b'0') {
                    self.pos += 1;
                }
                let zeros = self.pos - z;
                e -= zeros as i64;
                zeros + self.digits(&mut m, &mut count)
            } else {
                self.digits(&mut m, &mut count)
            };
            if n == 0 {
                return Err(self.err("invalid number: no digit after `.`"));
            }
            // (Only used when every digit fits: then these are all in `m`.)
            e -= i64::from(count - before);
        }
        if let Some(b'e' | b'E') = self.b.get(self.pos) {
            self.pos += 1;
            is_float = true;
            let eneg = match self.b.get(self.pos) {
                Some(b'-') => {
                    self.pos += 1;
                    true
                }
                Some(b'+') => {
                    self.pos += 1;
                    false
                }
                _ => false,
            };
            let ds = self.pos;
            let mut x: i64 = 0;
            while let Some(&d) = self.b.get(self.pos) {
                if !d.is_ascii_digit() {
                    break;
                }
                x = (x * 10 + i64::from(d - b'0')).min(1 << 40);
                self.pos += 1;
            }
            if self.pos == ds {
                return Err(self.err("invalid number: no digit in the exponent"));
            }
            e += if eneg { -x } else { x };
        }
        Ok(Num {
            start,
            end: self.pos,
            neg,
            m,
            e,
            fits: count <= 19,
            is_float,
        })
    }

    /// The float64 nearest the number.
    #[inline]
    fn float(&self, n: &Num) -> Result<f64, String> {
        if n.fits && n.m < (1u64 << 53) && (-22..=22).contains(&n.e) {
            let m = n.m as f64;
            let v = if n.e >= 0 {
                m * POW10[n.e as usize]
            } else {
                m / POW10[(-n.e) as usize]
            };
            return Ok(if n.neg { -v } else { v });
        }
        match self.s[n.start..n.end].parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.err("number out of range")),
        }
    }

    /// The number as an int64 (a whole number without fraction or exponent).
    fn whole(&self, n: &Num) -> Result<i64, String> {
        if n.is_float {
            return Err(self.err("invalid type: floating point number, expected a whole number"));
        }
        self.s[n.start..n.end]
            .parse::<i64>()
            .map_err(|_| self.err("invalid value: expected a whole number within int64"))
    }

    /// A string (at its `"`) appended, unescaped, to `t`.
    fn string_into(&mut self, t: &mut TextBuf) -> Result<(), String> {
        let start = self.pos;
        self.pos += 1;
        let mut escaped = false;
        loop {
            match self.b.get(self.pos) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    self.pos += 2;
                }
                Some(&c) if c < 0x20 => {
                    return Err(self.err("control character in a string"));
                }
                Some(_) => self.pos += 1,
            }
        }
        self.pos += 1;
        let text = &self.s[start..self.pos];
        if escaped {
            let s: String = serde_json::from_str(text).map_err(|e| self.err(&e.to_string()))?;
            t.push(&s);
        } else {
            t.push(&text[1..text.len() - 1]);
        }
        Ok(())
    }

    /// Passes over one value, checking it.
    fn skip(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        let c = self.peek()?;
        match c {
            b'n' => self.literal("null"),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'"' => {
                let mut scratch = TextBuf::default();
                self.string_into(&mut scratch)
            }
            b'-' | b'0'..=b'9' => self.number().map(drop),
            b'[' | b'{' => {
                let (close, object) = if c == b'[' {
                    (b']', false)
                } else {
                    (b'}', true)
                };
                self.pos += 1;
                if self.peek()? == close {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    if object {
                        if self.peek()? != b'"' {
                            return Err(self.err("expected a field name"));
                        }
                        let mut scratch = TextBuf::default();
                        self.string_into(&mut scratch)?;
                        if self.peek()? != b':' {
                            return Err(self.err("expected `:`"));
                        }
                        self.pos += 1;
                    }
                    self.skip(depth + 1)?;
                    match self.peek()? {
                        b',' => self.pos += 1,
                        x if x == close => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(self.err("expected `,` or a closing bracket")),
                    }
                }
            }
            _ => Err(self.err("expected a value")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::columns::Shape;
    use super::*;
    use crate::json_check::leading_digits;

    fn f32s(json: &str) -> Result<Vec<f32>, String> {
        let mut c = Col::new(&Shape::List(Box::new(Shape::Float32)));
        read_into(&mut c, json)?;
        let Col::List(_, _, child) = c else {
            unreachable!()
        };
        let Col::F32(x, _) = *child else {
            unreachable!()
        };
        Ok(x)
    }

    #[test]
    fn numbers_are_the_float64_nearest_then_float32_as_a_correct_parser_gives() {
        let texts = [
            "0",
            "-0",
            "0.0",
            "-0.0123",
            "0.1234",
            "1",
            "12345",
            "-3.25e2",
            "1E-3",
            "7e+1",
            "0.000001",
            "123456789012345678901234567890",
            "1e300",
            "-1e-300",
            "4.9406564584124654e-324",
            "0.30000000000000004",
            "3.4028235e38",
            "1.17549435e-38",
            "9007199254740993",
            "0.1000000000000000055511151231257827",
            "100000000000000000000000",
            "2.5e-45",
        ];
        for t in texts {
            let want = t.parse::<f64>().unwrap();
            let got = f32s(&format!("[{t}]")).unwrap();
            assert_eq!(got[0].to_bits(), (want as f32).to_bits(), "{t}");
            let mut c = Col::new(&Shape::Float64);
            read_into(&mut c, t).unwrap();
            let Col::F64(x, _) = c else { unreachable!() };
            assert_eq!(x[0].to_bits(), want.to_bits(), "{t}");
        }
    }

    #[test]
    fn four_decimal_numbers_round_trip_exactly_through_float32() {
        // Every number of the sandbox's form in a range, against the standard parser.
        let mut text = String::from("[");
        let mut want = Vec::new();
        for k in -20000i32..20000 {
            let t = format!(
                "{}{}.{:04}",
                if k < 0 { "-" } else { "" },
                k.abs() / 7,
                (k.abs() * 37) % 10000
            );
            want.push(t.parse::<f64>().unwrap() as f32);
            text.push_str(&t);
            text.push(',');
        }
        text.pop();
        text.push(']');
        let got = f32s(&text).unwrap();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.to_bits(), w.to_bits());
        }
    }

    #[test]
    fn eight_digits_at_once_agree_with_one_at_a_time() {
        for text in [
            "12345678",
            "00000000",
            "99999999",
            "1234567x",
            "1x",
            "x1234567",
            "0123456:",
            "123/4567",
            "9:",
            "12345\u{ff}78",
            "1234567\u{fa}",
        ] {
            let mut bytes = text.as_bytes().to_vec();
            bytes.resize(8, b',');
            let n = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            let want = text[..n].parse::<u64>().unwrap_or(0);
            assert_eq!(leading_digits(&bytes), (n, want), "{text}");
        }
        // Fractions of every length around the eight-byte steps, against the standard parser.
        let digits = "31415926535897932384";
        for len in 1..=digits.len() {
            for tail in ["", ",", "]", "e1"] {
                let t = format!("-0.{}{tail}", &digits[..len]);
                let number = t.trim_end_matches([',', ']']);
                let want = number.parse::<f64>().unwrap() as f32;
                let got = f32s(&format!("[{number}]")).unwrap()[0];
                assert_eq!(got.to_bits(), want.to_bits(), "{t}");
            }
        }
    }

    #[test]
    fn the_grammar_is_checked_strictly() {
        for bad in [
            "[1,]", "[01]", "[1.]", "[.5]", "[1e]", "[-]", "[1 2]", "[1", "[1]x", "[+1]", "[NaN]",
            "[\"1\"]", "[[1]]", "[1.5e+]", "[,1]",
        ] {
            assert!(f32s(bad).is_err(), "{bad} was accepted");
        }
        assert_eq!(f32s(" [ 1 , -2.5 ,3e0 ] ").unwrap(), vec![1.0, -2.5, 3.0]);
        assert_eq!(f32s("[]").unwrap(), Vec::<f32>::new());
        let mut j = Col::new(&Shape::Json);
        for bad in [
            "{\"a\":1,}",
            "[1,,2]",
            "\"a\u{1}\"",
            "{1:2}",
            "tru",
            "\"\\x\"",
        ] {
            assert!(read_into(&mut j, bad).is_err(), "{bad} was accepted");
        }
        read_into(
            &mut j,
            " {\"a\": [1, {\"b\": null}], \"c\": \"\\u00e9\\n\"} ",
        )
        .unwrap();
        let Col::Json(t, _) = &j else { unreachable!() };
        assert_eq!(
            t.last(),
            "{\"a\": [1, {\"b\": null}], \"c\": \"\\u00e9\\n\"}"
        );
    }

    #[test]
    fn errors_name_the_field_and_the_position() {
        let shape = Shape::Struct(vec![
            ("name".into(), Shape::Text),
            ("n".into(), Shape::Int),
            (
                "e".into(),
                Shape::List(Box::new(Shape::List(Box::new(Shape::Float32)))),
            ),
        ]);
        let mut c = Col::new(&shape);
        read_into(
            &mut c,
            r#"{"name": "a\"b", "n": -7, "e": [[1], [2, null]]}"#,
        )
        .unwrap();
        let e = read_into(&mut Col::new(&shape), r#"{"e": [[1], [2, "x"]]}"#).unwrap_err();
        assert!(
            e.starts_with("field `e`: [1]: [1]: invalid type: string, expected a number"),
            "{e}"
        );
        let e = read_into(&mut Col::new(&shape), r#"{"n": 1.5}"#).unwrap_err();
        assert!(
            e.contains("field `n`") && e.contains("expected a whole number"),
            "{e}"
        );
        let e = read_into(&mut Col::new(&shape), r#"{"n": 9223372036854775808}"#).unwrap_err();
        assert!(e.contains("within int64"), "{e}");
        let Col::Struct(fs, _) = &c else {
            unreachable!()
        };
        let Col::Text(t, _) = &fs[0].1 else {
            unreachable!()
        };
        assert_eq!(t.last(), "a\"b");
        let Col::Int(n, _) = &fs[1].1 else {
            unreachable!()
        };
        assert_eq!(n, &vec![-7]);
    }
}
