//! `pattern` and `patternProperties`: regular expressions with ECMA-262 syntax (the
//! `regress` crate), compiled once per schema node.
//!
//! pydantic checks `pattern` with Rust's `regex` crate (Python's `re` for lookarounds
//! and backreferences), where `\d` and `\w` are Unicode classes; ECMA-262 makes them
//! ASCII. To agree with pydantic, a pattern is first rewritten for a Unicode-mode
//! ECMA regex (`\d` -> `\p{Nd}`, `\w` -> the Unicode word class, `(?P<n>` -> `(?<n>`,
//! a leading `(?i)`/`(?s)`/`(?m)` -> flags, `\A`/`\z` -> `^`/`$`); when the rewritten
//! pattern does not compile in Unicode mode (whose escapes are stricter), the original
//! is compiled as plain ECMA-262. Matching has *search* semantics, like JSON Schema and
//! pydantic: an unanchored pattern matches anywhere in the string.

use std::fmt;

/// Rust `regex`'s `\w`: Alphabetic, marks, decimal numbers, connector punctuation, joiners.
const WORD: &str = r"\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}";

/// One compiled pattern.
#[derive(Clone)]
pub(crate) struct Pattern {
    source: String,
    regex: regress::Regex,
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.source)
    }
}

impl Pattern {
    /// Compiles `source`; the error says what is wrong with it.
    pub(crate) fn new(source: &str) -> Result<Pattern, String> {
        let (flags, rewritten) = rewrite(source);
        let regex = match regress::Regex::with_flags(&rewritten, format!("u{flags}").as_str()) {
            Ok(r) => r,
            Err(_) => regress::Regex::with_flags(source, flags.as_str())
                .map_err(|e| format!("not a valid regular expression: {e}"))?,
        };
        Ok(Pattern {
            source: source.to_string(),
            regex,
        })
    }

    /// Whether the pattern matches anywhere in `text`.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.regex.find(text).is_some()
    }

    /// The pattern as written in the schema.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }
}

/// Whether pydantic can only have compiled `source` with Python's `re` (Rust's `regex`
/// has no look-around and no backreferences, and pydantic refuses such a pattern
/// unless the model says `regex_engine='python-re'`).
fn needs_python_re(source: &str) -> bool {
    ["(?=", "(?!", "(?<=", "(?<!", "(?P="]
        .iter()
        .any(|p| source.contains(p))
        || source
            .as_bytes()
            .windows(2)
            .any(|w| w[0] == b'\\' && (b'1'..=b'9').contains(&w[1]))
}

/// The pattern rewritten for a Unicode-mode ECMA regex, and the flags taken from a
/// leading inline group such as `(?i)`. For a pattern only Python's `re` compiles,
/// `$` also matches before a final newline, as it does there.
fn rewrite(source: &str) -> (String, String) {
    let python = needs_python_re(source);
    let mut flags = String::new();
    let mut rest = source;
    if let Some(after) = rest.strip_prefix("(?") {
        if let Some(end) = after.find(')') {
            let inline = &after[..end];
            if !inline.is_empty() && inline.chars().all(|c| matches!(c, 'i' | 's' | 'm')) {
                flags = inline.to_string();
                rest = &after[end + 1..];
            }
        }
    }
    let mut out = String::with_capacity(rest.len() + 16);
    let mut in_class = false;
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    out.push('\\');
                    break;
                };
                match (e, in_class) {
                    ('d', _) => out.push_str(r"\p{Nd}"),
                    ('D', _) => out.push_str(r"\P{Nd}"),
                    ('w', false) => {
                        out.push('[');
                        out.push_str(WORD);
                        out.push(']');
                    }
                    ('w', true) => out.push_str(WORD),
                    ('W', false) => {
                        out.push_str("[^");
                        out.push_str(WORD);
                        out.push(']');
                    }
                    ('A', false) => out.push('^'),
                    ('z', false) => out.push('$'),
                    // Unicode mode refuses identity escapes of characters that need none.
                    (e, _) if e.is_ascii_punctuation() && !"^$\\.*+?()[]{}|/-".contains(e) => {
                        out.push(e)
                    }
                    ('-', false) => out.push('-'),
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A `]` right after `[` or `[^` is a literal in Rust and Python.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str(r"\]");
                    chars.next();
                }
            }
            '[' if in_class && chars.peek() == Some(&':') => {
                // A POSIX class of Rust's regex (`[[:alpha:]]`): ASCII ranges.
                let ahead: String = chars.clone().take(12).collect();
                let class = ahead
                    .strip_prefix(':')
                    .and_then(|a| a.split_once(":]"))
                    .and_then(|(name, _)| posix_class(name).map(|r| (name.len(), r)));
                match class {
                    Some((len, ranges)) => {
                        out.push_str(ranges);
                        for _ in 0..len + 3 {
                            chars.next();
                        }
                    }
                    None => out.push('['),
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '(' if !in_class && chars.peek() == Some(&'?') => {
                out.push('(');
                out.push('?');
                chars.next();
                if chars.peek() == Some(&'P') {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        // `(?P<name>` (Python/Rust) is `(?<name>` in ECMA-262.
                    } else {
                        out.push('P');
                    }
                }
            }
            '$' if python && !in_class => out.push_str(r"(?=\n?$)"),
            c => out.push(c),
        }
    }
    (flags, out)
}

/// The ASCII ranges of a POSIX class name (`alpha` in `[[:alpha:]]`).
fn posix_class(name: &str) -> Option<&'static str> {
    Some(match name {
        "alnum" => "0-9A-Za-z",
        "alpha" => "A-Za-z",
        "ascii" => r"\x00-\x7F",
        "blank" => r"\t ",
        "cntrl" => r"\x00-\x1F\x7F",
        "digit" => "0-9",
        "graph" => "!-~",
        "lower" => "a-z",
        "print" => " -~",
        "punct" => r"!-\/:-@\[-`{-~",
        "space" => r"\t\n\v\f\r ",
        "upper" => "A-Z",
        "word" => "0-9A-Za-z_",
        "xdigit" => "0-9A-Fa-f",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    fn m(p: &str, s: &str) -> bool {
        Pattern::new(p)
            .unwrap_or_else(|e| panic!("{p}: {e}"))
            .is_match(s)
    }

    #[test]
    fn corpus_pattern() {
        let p = r"^[A-Za-z0-9_\-]+$";
        assert!(m(p, "chain_A-1"));
        assert!(!m(p, "chain A"));
        assert!(!m(p, ""));
    }

    #[test]
    fn search_semantics() {
        assert!(m("ab+", "xxabbby"));
        assert!(!m("^ab+$", "xxabbby"));
        assert!(m("^a.c$", "abc"));
        assert!(!m("^a.c$", "a\nc"));
    }

    #[test]
    fn ecma_constructs() {
        assert!(m(r"^(a|bc){2,3}$", "abca"));
        assert!(!m(r"^(a|bc){2,3}$", "a"));
        assert!(m(r"^(?!^[-+.]*$)[+-]?0*\d*\.?\d*$", "12.5"));
        assert!(!m(r"^(?!^[-+.]*$)[+-]?0*\d*\.?\d*$", "+."));
        assert!(m(r"^(?P<x>a)\k<x>$", "aa"));
        assert!(m(r"(?i)^abc$", "ABC"));
        assert!(m(r"^[\w-]+$", "é_x-1"));
        assert!(m(r"^\w+$", "naïve"));
        assert!(m(r"^\d+$", "٣٤"), "pydantic's \\d is Unicode");
        assert!(m(r"^[^]a]+$", "bc"));
        assert!(!m(r"^[^]a]+$", "b]"));
        assert!(m(r"^\p{Lu}", "Éa"));
        assert!(
            m(r"^\-?\d+$", "-12"),
            "identity escapes outside Unicode mode"
        );
        // Rust's regex: `$` is the end of the text; Python's re (look-around patterns):
        // also before a final newline.
        assert!(!m(r"^[a-z]+$", "abc\n"));
        // POSIX classes (Rust's regex), ASCII only.
        assert!(m(r"^[[:alpha:]_]+$", "ab_C"));
        assert!(!m(r"^[[:alpha:]]+$", "é"));
        assert!(m(r"^[[:punct:][:digit:]]+$", "1-]!"));
        assert!(m(r"^(?=.*\d)[a-z\d]{3,}$", "ab1\n"));
        assert!(!m(r"^(?=.*\d)[a-z\d]{3,}$", "ab1\n\n"));
    }

    #[test]
    fn bad_patterns_are_errors() {
        for p in ["(", "[a-z", "a{2,1}", "*a"] {
            assert!(Pattern::new(p).is_err(), "{p}");
        }
    }
}
