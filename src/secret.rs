//! The API token, kept out of every `Debug`, `Display`, error and log line,
//! and [`Redactor`], which takes it and the secrets of a base URL (a password,
//! query values) out of any text that leaves the process.

use std::borrow::Cow;
use std::fmt;

/// An API token. Its `Debug` and `Display` print `Token(***)`, never the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token string (surrounding whitespace is removed).
    pub fn new(value: impl Into<String>) -> Token {
        let value: String = value.into();
        Token(value.trim().to_owned())
    }

    /// The secret value: only for building the `Authorization` header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the token is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl From<String> for Token {
    fn from(s: String) -> Token {
        Token::new(s)
    }
}

impl From<&str> for Token {
    fn from(s: &str) -> Token {
        Token::new(s)
    }
}

/// Shortest secret that is replaced in text: shorter ones would mangle
/// ordinary words and numbers, and are no secret worth the name.
const MIN_SECRET: usize = 4;

/// Replaces known secrets in text by `***`: the token, and the password,
/// user name and query values of a base URL (`http://user:pw@host/?key=...`).
/// One redaction step for every message, error field and output line.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest first, so that a secret holding another is replaced whole.
    secrets: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    /// A redactor that knows no secret yet.
    pub fn new() -> Redactor {
        Redactor::default()
    }

    fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.len() >= MIN_SECRET && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_owned());
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Adds a token (its text, as sent in the `Authorization` header).
    pub fn with_token(mut self, token: &str) -> Redactor {
        self.add(token);
        self
    }

    /// Adds the secrets of a URL, as written and percent-decoded: the
    /// password (with its user name), a user name without password (then it
    /// is the credential, `https://TOKEN@host`), and the values of query
    /// parameters whose name says secret (`key`, `token`, `secret`, `sig`,
    /// `pass`, `auth`, `cred`, `session`, `code`). Other query values
    /// (`?format=json`) are not: replacing such words everywhere would
    /// mangle results.
    pub fn with_url(mut self, url: &str) -> Redactor {
        let Ok(u) = reqwest::Url::parse(url.trim()) else {
            return self;
        };
        let add_both = |r: &mut Redactor, v: &str| {
            r.add(v);
            if let Ok(decoded) = percent_decode(v) {
                r.add(&decoded);
            }
        };
        match u.password() {
            Some(pw) => {
                self.add(&format!("{}:{pw}", u.username()));
                add_both(&mut self, pw);
            }
            None if u.username().len() >= 8 => add_both(&mut self, u.username()),
            None => {}
        }
        if let Some(q) = u.query() {
            for pair in q.split('&') {
                if let Some((k, v)) = pair.split_once('=') {
                    let k = k.to_ascii_lowercase();
                    let secret = [
                        "key", "token", "secret", "sig", "pass", "auth", "cred", "session", "code",
                    ]
                    .iter()
                    .any(|w| k.contains(w));
                    if secret {
                        add_both(&mut self, v);
                    }
                }
            }
        }
        self
    }

    /// Whether it knows no secret.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every known secret replaced by `***` (borrowed when there is none).
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), "***"));
            }
        }
        out
    }

    /// Redacts a string in place.
    pub fn redact_in_place(&self, text: &mut String) {
        if let Cow::Owned(t) = self.redact(text) {
            *text = t;
        }
    }
}

fn percent_decode(s: &str) -> Result<String, ()> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).ok_or(())?;
            let hex = std::str::from_utf8(hex).map_err(|_| ())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

/// A URL fit to print: its password and query values replaced by `***`.
pub fn display_url(url: &str) -> String {
    Redactor::new().with_url(url).redact(url).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redactor_takes_out_the_token_and_url_secrets() {
        let r = Redactor::new()
            .with_token("sk-abcdef")
            .with_url("http://alice:pa%24%24word@host:9/api/v3?key=qwerty12&v=1");
        let text = "sk-abcdef at http://alice:pa%24%24word@host:9/api/v3?key=qwerty12&v=1 pa$$word";
        let out = r.redact(text);
        for leak in ["sk-abcdef", "pa%24%24word", "pa$$word", "qwerty12", "alice"] {
            assert!(!out.contains(leak), "{leak} in {out}");
        }
        assert!(
            out.contains("host:9/api/v3") && out.contains("v=1"),
            "{out}"
        );
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
        // Query values that are no secret are not replaced anywhere.
        let r = Redactor::new().with_url("https://h/api/v3?format=json&api_key=k3y-value");
        assert_eq!(r.redact("json k3y-value"), "json ***");
        assert_eq!(
            display_url("https://u:secretpw@h/api/v3?key=abcd"),
            "https://***@h/api/v3?key=***"
        );
    }

    #[test]
    fn token_is_never_printed() {
        let t = Token::new("s3cr3t-value");
        assert_eq!(format!("{t:?}"), "Token(***)");
        assert_eq!(format!("{t}"), "Token(***)");
        assert_eq!(format!("{:?}", Some(t.clone())), "Some(Token(***))");
        assert_eq!(t.expose(), "s3cr3t-value");
    }
}
