//! Strings from ECMA-262 regular expressions: a small parser of the pattern syntax
//! (literals, escapes, classes, groups, alternation, quantifiers) and a generator
//! that walks it with a seeded generator. Assertions (`^`, `$`, `\b`, lookarounds)
//! and backreferences generate nothing; callers check each result against the
//! pattern with `regress` and keep only those that match.

use super::rng::Rng;

/// Compiles `pattern` for matching as JSON Schema does (ECMA-262, Unicode mode when
/// the pattern allows it, else the legacy syntax); the error is regress's.
pub(crate) fn compile_regex(pattern: &str) -> Result<regress::Regex, String> {
    regress::Regex::with_flags(pattern, "u")
        .or_else(|_| regress::Regex::new(pattern))
        .map_err(|e| format!("`{pattern}` is not an ECMA-262 regular expression: {e}"))
}

#[derive(Debug, Clone)]
enum Re {
    Char(char),
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    Seq(Vec<Re>),
    Alt(Vec<Re>),
    Repeat {
        re: Box<Re>,
        min: usize,
        max: Option<usize>,
    },
    /// Zero-width: anchors, word boundaries, lookarounds, backreferences.
    Assert,
}

/// The dot: any character but line terminators (generated as printable ASCII).
fn dot() -> Re {
    Re::Class {
        negated: true,
        ranges: vec![('\n', '\n'), ('\r', '\r')],
    }
}

const DIGITS: &[(char, char)] = &[('0', '9')];
const WORD: &[(char, char)] = &[('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')];
const SPACE: &[(char, char)] = &[(' ', ' '), ('\t', '\t'), ('\n', '\n'), ('\r', '\r')];

struct Parser {
    chars: Vec<char>,
    at: usize,
    depth: usize,
}

/// A parsed pattern, ready to generate strings.
#[derive(Debug, Clone)]
pub(crate) struct Generator {
    re: Re,
}

impl Generator {
    /// Parses `pattern`; the error says what is not understood.
    pub(crate) fn new(pattern: &str) -> Result<Generator, String> {
        let mut p = Parser {
            chars: pattern.chars().collect(),
            at: 0,
            depth: 0,
        };
        let re = p.alt()?;
        if p.at < p.chars.len() {
            return Err(format!("unbalanced `)` at character {}", p.at + 1));
        }
        Ok(Generator { re })
    }

    /// One string; `extra` bounds how many repetitions past the minimum a quantifier adds.
    pub(crate) fn generate(&self, rng: &mut Rng, extra: usize) -> Option<String> {
        let mut out = String::new();
        gen(&self.re, rng, extra, &mut out, 0).then_some(out)
    }
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn alt(&mut self) -> Result<Re, String> {
        self.depth += 1;
        if self.depth > 64 {
            return Err("the pattern nests groups more than 64 deep".into());
        }
        let mut arms = vec![self.seq()?];
        while self.eat('|') {
            arms.push(self.seq()?);
        }
        self.depth -= 1;
        Ok(if arms.len() == 1 {
            arms.pop().unwrap_or(Re::Seq(Vec::new()))
        } else {
            Re::Alt(arms)
        })
    }

    fn seq(&mut self) -> Result<Re, String> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            let atom = self.quantified(atom)?;
            items.push(atom);
        }
        Ok(Re::Seq(items))
    }

    fn number(&mut self) -> Option<usize> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        if self.at == start {
            return None;
        }
        self.chars[start..self.at]
            .iter()
            .collect::<String>()
            .parse()
            .ok()
    }

    fn quantified(&mut self, atom: Re) -> Result<Re, String> {
        let (min, max) = match self.peek() {
            Some('*') => {
                self.at += 1;
                (0, None)
            }
            Some('+') => {
                self.at += 1;
                (1, None)
            }
            Some('?') => {
                self.at += 1;
                (0, Some(1))
            }
            Some('{') => {
                let save = self.at;
                self.at += 1;
                let Some(min) = self.number() else {
                    self.at = save;
                    return Ok(atom);
                };
                let max = if self.eat(',') {
                    self.number()
                } else {
                    Some(min)
                };
                if !self.eat('}') {
                    self.at = save;
                    return Ok(atom);
                }
                if max.is_some_and(|m| m < min) {
                    return Err("a `{min,max}` quantifier with max below min".into());
                }
                (min, max)
            }
            _ => return Ok(atom),
        };
        self.eat('?'); // lazy: same strings
        if matches!(self.peek(), Some('*' | '+' | '?')) {
            return Err("a quantifier follows a quantifier".into());
        }
        Ok(Re::Repeat {
            re: Box::new(atom),
            min: min.min(1000),
            max: max.map(|m| m.min(1000)),
        })
    }

    fn atom(&mut self) -> Result<Re, String> {
        let Some(c) = self.peek() else {
            return Err("the pattern ends early".into());
        };
        self.at += 1;
        Ok(match c {
            '(' => {
                let mut assert = false;
                if self.eat('?') {
                    if self.eat(':') {
                    } else if self.eat('=') || self.eat('!') {
                        assert = true;
                    } else if self.eat('<') {
                        if self.eat('=') || self.eat('!') {
                            assert = true;
                        } else {
                            while self.peek().is_some_and(|c| c != '>') {
                                self.at += 1;
                            }
                            if !self.eat('>') {
                                return Err("an unterminated group name".into());
                            }
                        }
                    } else {
                        return Err("an unknown `(?` group".into());
                    }
                }
                let inner = self.alt()?;
                if !self.eat(')') {
                    return Err("an unclosed `(`".into());
                }
                if assert {
                    Re::Assert
                } else {
                    inner
                }
            }
            '[' => self.class()?,
            '.' => dot(),
            '^' | '$' => Re::Assert,
            '\\' => self.escape(false)?,
            '*' | '+' | '?' => return Err(format!("nothing to repeat before `{c}`")),
            c => Re::Char(c),
        })
    }

    fn hex(&mut self, n: usize) -> Option<char> {
        let s: String = self.chars.get(self.at..self.at + n)?.iter().collect();
        let v = u32::from_str_radix(&s, 16).ok()?;
        self.at += n;
        char::from_u32(v)
    }

    /// After a `\`: an escape outside (or, `in_class`, inside) a class.
    fn escape(&mut self, in_class: bool) -> Result<Re, String> {
        let Some(c) = self.peek() else {
            return Err("the pattern ends with `\\`".into());
        };
        self.at += 1;
        let class = |negated: bool, r: &[(char, char)]| Re::Class {
            negated,
            ranges: r.to_vec(),
        };
        Ok(match c {
            'd' => class(false, DIGITS),
            'D' => class(true, DIGITS),
            'w' => class(false, WORD),
            'W' => class(true, WORD),
            's' => class(false, SPACE),
            'S' => class(true, SPACE),
            'b' if in_class => Re::Char('\u{8}'),
            'b' | 'B' => Re::Assert,
            '1'..='9' if !in_class => {
                self.number();
                Re::Assert
            }
            'n' => Re::Char('\n'),
            't' => Re::Char('\t'),
            'r' => Re::Char('\r'),
            'f' => Re::Char('\u{c}'),
            'v' => Re::Char('\u{b}'),
            '0' => Re::Char('\0'),
            'x' => Re::Char(self.hex(2).ok_or("a bad `\\x` escape")?),
            'u' => {
                if self.eat('{') {
                    let start = self.at;
                    while self.peek().is_some_and(|c| c != '}') {
                        self.at += 1;
                    }
                    let s: String = self.chars[start..self.at].iter().collect();
                    self.eat('}');
                    let v = u32::from_str_radix(&s, 16).map_err(|_| "a bad `\\u{}` escape")?;
                    Re::Char(char::from_u32(v).ok_or("a bad `\\u{}` code point")?)
                } else {
                    Re::Char(self.hex(4).ok_or("a bad `\\u` escape")?)
                }
            }
            'p' | 'P' => {
                if self.eat('{') {
                    while self.peek().is_some_and(|c| c != '}') {
                        self.at += 1;
                    }
                    self.eat('}');
                }
                // Letters for \p{..}; the caller's check drops what does not match.
                class(c == 'P', &[('a', 'z'), ('A', 'Z')])
            }
            'c' => {
                self.at += 1;
                Re::Char('\u{1}')
            }
            c => Re::Char(c),
        })
    }

    fn class(&mut self) -> Result<Re, String> {
        let negated = self.eat('^');
        let mut ranges: Vec<(char, char)> = Vec::new();
        let mut negated_parts: Vec<(char, char)> = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err("an unclosed `[`".into());
            };
            self.at += 1;
            if c == ']' {
                break;
            }
            let lo = if c == '\\' {
                match self.escape(true)? {
                    Re::Char(x) => x,
                    Re::Class {
                        negated: false,
                        ranges: r,
                    } => {
                        ranges.extend(r);
                        continue;
                    }
                    Re::Class {
                        negated: true,
                        ranges: r,
                    } => {
                        negated_parts.extend(r);
                        continue;
                    }
                    _ => continue,
                }
            } else {
                c
            };
            if self.peek() == Some('-') && self.chars.get(self.at + 1).is_some_and(|&n| n != ']') {
                self.at += 1;
                let Some(n) = self.peek() else {
                    return Err("an unclosed `[`".into());
                };
                self.at += 1;
                let hi = if n == '\\' {
                    match self.escape(true)? {
                        Re::Char(x) => x,
                        _ => return Err("a class range ends in a class escape".into()),
                    }
                } else {
                    n
                };
                if hi < lo {
                    return Err(format!("the class range `{lo}-{hi}` is out of order"));
                }
                ranges.push((lo, hi));
            } else {
                ranges.push((lo, lo));
            }
        }
        if !negated_parts.is_empty() {
            // [\D...]: printable ASCII outside the negated parts joins the set.
            for b in 0x20u8..0x7f {
                let c = char::from(b);
                if !negated_parts.iter().any(|&(l, h)| l <= c && c <= h) {
                    ranges.push((c, c));
                }
            }
        }
        Ok(Re::Class { negated, ranges })
    }
}

fn in_ranges(ranges: &[(char, char)], c: char) -> bool {
    ranges.iter().any(|&(l, h)| l <= c && c <= h)
}

fn gen(re: &Re, rng: &mut Rng, extra: usize, out: &mut String, depth: usize) -> bool {
    if depth > 200 || out.len() > 4096 {
        return false;
    }
    match re {
        Re::Char(c) => {
            out.push(*c);
            true
        }
        Re::Assert => true,
        Re::Class { negated, ranges } => {
            let printable: Vec<char> = (0x20u8..0x7f)
                .map(char::from)
                .filter(|&c| in_ranges(ranges, c) != *negated)
                .collect();
            if let Some(&c) = printable.get(rng.below(printable.len() as u64) as usize) {
                out.push(c);
                return true;
            }
            if *negated || ranges.is_empty() {
                return false;
            }
            let (lo, hi) = ranges[rng.below(ranges.len() as u64) as usize];
            let v = rng.range_i64(i64::from(u32::from(lo)), i64::from(u32::from(hi)));
            match char::from_u32(v as u32) {
                Some(c) => out.push(c),
                None => out.push(lo),
            }
            true
        }
        Re::Seq(items) => items.iter().all(|x| gen(x, rng, extra, out, depth + 1)),
        Re::Alt(arms) => {
            let k = rng.below(arms.len() as u64) as usize;
            arms.get(k)
                .is_some_and(|a| gen(a, rng, extra, out, depth + 1))
        }
        Re::Repeat { re, min, max } => {
            let top = match max {
                Some(m) => (*m).min(min + extra),
                None => min + extra,
            };
            let n = rng.range_i64(*min as i64, top as i64) as usize;
            (0..n).all(|_| gen(re, rng, extra, out, depth + 1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(p: &str) -> Vec<String> {
        let g = Generator::new(p).unwrap();
        let re = compile_regex(p).unwrap();
        let mut rng = Rng::new(9);
        let mut ok = Vec::new();
        for i in 0..40 {
            if let Some(s) = g.generate(&mut rng, i % 6) {
                if re.find(&s).is_some() {
                    ok.push(s);
                }
            }
        }
        ok
    }

    #[test]
    fn generated_strings_match() {
        for p in [
            "^esm1v-n[1-5]$",
            r"^[A-Z]{2,4}-\d{3}$",
            "^(foo|bar)+baz?$",
            r"^[^\s@]+@[^\s@]+\.[a-z]{2,}$",
            r"^(?!^[-+.]*$)[+-]?0*\d*\.?\d*$",
            r"^\p{L}+$",
            "^(?:[a-f0-9]{8})$",
            r"^\u0041\x42[.]$",
        ] {
            assert!(samples(p).len() > 5, "{p}: {:?}", samples(p));
        }
    }

    #[test]
    fn bad_patterns_are_refused() {
        for p in ["(a", "[a-", "a{3,1}", "*a", "a**"] {
            assert!(Generator::new(p).is_err(), "{p}");
        }
    }
}
