//! The one redaction step of everything the command line writes: status
//! lines on stderr, result lines on stdout and in output files, structure
//! files. It takes out the token and the base URL's secrets (password, query
//! values) and, for the terminal, control characters (escape codes in an id
//! or a server message are shown escaped, never obeyed).

use std::borrow::Cow;
use std::sync::OnceLock;

use biolm::secret::Redactor;
use biolm::RawResult;

static REDACTOR: OnceLock<Redactor> = OnceLock::new();

/// Sets the secrets of this run (once; later calls are ignored).
pub fn init(redactor: Redactor) {
    let _ = REDACTOR.set(redactor);
}

fn redactor() -> Option<&'static Redactor> {
    REDACTOR.get().filter(|r| !r.is_empty())
}

/// `s` without the run's secrets.
pub fn text(s: &str) -> String {
    match redactor() {
        Some(r) => r.redact(s).into_owned(),
        None => s.to_owned(),
    }
}

/// A line for the terminal: without secrets, and with control characters
/// (escape codes, carriage returns, other C0/C1 codes; not tab) written as
/// `\u{..}`, so that an id or a server message cannot drive the terminal.
pub fn terminal(s: &str) -> String {
    let s = text(s);
    if !s.chars().any(|c| c.is_control() && c != '\t' && c != '\n') {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() && c != '\t' && c != '\n' {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// A raw JSON result without the run's secrets (borrowed when it has none).
pub fn raw(r: &RawResult) -> Cow<'_, RawResult> {
    let Some(red) = redactor() else {
        return Cow::Borrowed(r);
    };
    match red.redact(r.get()) {
        Cow::Borrowed(_) => Cow::Borrowed(r),
        // `***` replaces a run of characters inside a JSON string or token
        // that contained the secret; should that ever break the JSON, the
        // result is replaced by a string saying so, never kept.
        Cow::Owned(t) => Cow::Owned(RawResult::from_json(t).unwrap_or_else(|_| {
            RawResult::from_json("\"[result withheld: it held a secret]\"".into())
                .unwrap_or_else(|_| r.clone())
        })),
    }
}

/// An item error without the run's secrets, in every field.
pub fn item_error(e: &mut biolm::ItemError) {
    if let Some(r) = redactor() {
        r.redact_in_place(&mut e.message);
        if let Some(f) = e.field.as_mut() {
            r.redact_in_place(f);
        }
        if let Some(x) = e.request_id.as_mut() {
            r.redact_in_place(x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_control_characters() {
        assert_eq!(
            terminal("a\u{1b}[31mred\rb\tc"),
            "a\\u{1b}[31mred\\u{d}b\tc"
        );
        assert_eq!(terminal("plain"), "plain");
    }
}
