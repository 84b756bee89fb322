//! The API token, kept out of every `Debug`, `Display`, error and log line.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_never_printed() {
        let t = Token::new("s3cr3t-value");
        assert_eq!(format!("{t:?}"), "Token(***)");
        assert_eq!(format!("{t}"), "Token(***)");
        assert_eq!(format!("{:?}", Some(t.clone())), "Some(Token(***))");
        assert_eq!(t.expose(), "s3cr3t-value");
    }
}
