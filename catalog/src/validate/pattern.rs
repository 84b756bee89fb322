//! A small regular-expression matcher for `patternProperties` keys.
//!
//! Supports what the catalog's schemas use and a little more: `^` and `$` anchors,
//! literal characters, `\` escapes of punctuation and `\d`, `.`, character classes
//! `[a-z0-9_]` (ranges, negation with `[^...]`), and the quantifiers `?`, `*`, `+`
//! on a single atom. Anything else (groups, alternation, counted repetition) is
//! refused when the schema is compiled, so a pattern is never half understood.
//! Matching is ECMA-262 `search` semantics: unanchored patterns match anywhere.

/// One compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    anchored_start: bool,
    anchored_end: bool,
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone)]
struct Piece {
    atom: Atom,
    min: usize,
    max: Option<usize>,
}

#[derive(Debug, Clone)]
enum Atom {
    Char(char),
    Any,
    Digit,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Char(x) => *x == c,
            Atom::Any => c != '\n',
            Atom::Digit => c.is_ascii_digit(),
            Atom::Class { negated, ranges } => {
                ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
            }
        }
    }
}

impl Pattern {
    /// Compiles `source`; the error says which construct is not supported.
    pub(crate) fn new(source: &str) -> Result<Pattern, String> {
        let mut chars: Vec<char> = source.chars().collect();
        let anchored_start = chars.first() == Some(&'^');
        if anchored_start {
            chars.remove(0);
        }
        let anchored_end =
            chars.last() == Some(&'$') && !(chars.len() >= 2 && chars[chars.len() - 2] == '\\');
        if anchored_end {
            chars.pop();
        }
        let mut pieces = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let atom = match c {
                '.' => {
                    i += 1;
                    Atom::Any
                }
                '\\' => {
                    let e = *chars.get(i + 1).ok_or("a pattern cannot end with `\\`")?;
                    i += 2;
                    match e {
                        'd' => Atom::Digit,
                        e if e.is_ascii_punctuation() => Atom::Char(e),
                        e => return Err(format!("the escape `\\{e}` is not supported")),
                    }
                }
                '[' => {
                    let (atom, next) = parse_class(&chars, i + 1)?;
                    i = next;
                    atom
                }
                '(' | ')' | '|' | '{' | '}' | '^' | '$' | '*' | '+' | '?' => {
                    return Err(format!(
                    "`{c}` at position {i} is not supported (only literals, `.`, classes and ?*+)"
                ))
                }
                c => {
                    i += 1;
                    Atom::Char(c)
                }
            };
            let (min, max) = match chars.get(i) {
                Some('?') => (0, Some(1)),
                Some('*') => (0, None),
                Some('+') => (1, None),
                _ => (1, Some(1)),
            };
            if max != Some(1) || min != 1 {
                i += 1;
            }
            pieces.push(Piece { atom, min, max });
        }
        Ok(Pattern {
            anchored_start,
            anchored_end,
            pieces,
        })
    }

    /// Whether `text` matches (anywhere, unless anchored).
    pub(crate) fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        if self.anchored_start {
            return self.match_at(&chars, 0, 0);
        }
        (0..=chars.len()).any(|start| self.match_at(&chars, 0, start))
    }

    fn match_at(&self, text: &[char], piece: usize, pos: usize) -> bool {
        let Some(p) = self.pieces.get(piece) else {
            return !self.anchored_end || pos == text.len();
        };
        let mut count = 0;
        let mut end = pos;
        // Greedy: take as many as allowed, then back off.
        while p.max.is_none_or(|m| count < m) && end < text.len() && p.atom.matches(text[end]) {
            count += 1;
            end += 1;
        }
        loop {
            if count >= p.min && self.match_at(text, piece + 1, pos + count) {
                return true;
            }
            if count == 0 {
                return false;
            }
            count -= 1;
        }
    }
}

fn parse_class(chars: &[char], mut i: usize) -> Result<(Atom, usize), String> {
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *chars.get(i).ok_or("a character class `[` is not closed")?;
        if c == ']' && !first {
            return Ok((Atom::Class { negated, ranges }, i + 1));
        }
        first = false;
        let lo = if c == '\\' {
            i += 1;
            *chars.get(i).ok_or("a pattern cannot end with `\\`")?
        } else {
            c
        };
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|&n| n != ']') {
            let hi = chars[i + 2];
            if hi < lo {
                return Err(format!("the range `{lo}-{hi}` is backwards"));
            }
            ranges.push((lo, hi));
            i += 3;
        } else {
            ranges.push((lo, lo));
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    #[test]
    fn corpus_pattern() {
        let p = Pattern::new("^esm1v-n[1-5]$").unwrap();
        assert!(p.is_match("esm1v-n1"));
        assert!(p.is_match("esm1v-n5"));
        assert!(!p.is_match("esm1v-n6"));
        assert!(!p.is_match("esm1v-n12"));
        assert!(!p.is_match("xesm1v-n1"));
    }

    #[test]
    fn quantifiers_and_unanchored() {
        let p = Pattern::new("a[0-9]+b?").unwrap();
        assert!(p.is_match("xxa12"));
        assert!(p.is_match("a1b"));
        assert!(!p.is_match("ab"));
        let p = Pattern::new("^\\d*$").unwrap();
        assert!(p.is_match(""));
        assert!(p.is_match("123"));
        assert!(!p.is_match("12a"));
        let p = Pattern::new("^[^a-c]$").unwrap();
        assert!(p.is_match("d"));
        assert!(!p.is_match("b"));
    }

    #[test]
    fn unsupported_is_an_error() {
        assert!(Pattern::new("(a|b)").is_err());
        assert!(Pattern::new("a{2}").is_err());
        assert!(Pattern::new("[abc").is_err());
        assert!(Pattern::new("abc\\").is_err());
    }
}
