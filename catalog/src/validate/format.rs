//! `format`: the string formats pydantic emits, accepted and refused as pydantic 2.12
//! does when it parses JSON (not as RFC 3339 / RFC 3986 read strictly).
//!
//! Where pydantic's verdict for a string depends on what the schema cannot say (for
//! `format: base64` it decodes the text and, for `Base64Str`, also needs UTF-8), the
//! rule here is the more common one and is described on the variant. JSON numbers
//! that pydantic coerces (a unix timestamp for a `date-time`) fail `type: string`
//! before a format is looked at: that is lax coercion, not the format.
//!
//! Formats not listed here are annotations, as JSON Schema says: [`Format::parse`]
//! returns `None` and the keyword is ignored.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A format the validator checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `datetime`: `YYYY-MM-DD[(T|t| )HH:MM[:SS[.f]][Z|±HH:MM|±HHMM]]`, or a unix timestamp
    /// written as a decimal string.
    DateTime,
    /// `date`: `YYYY-MM-DD`, a date-time whose time is midnight, or a timestamp string
    /// of a midnight.
    Date,
    /// `time`: `HH:MM[:SS[.f]][offset]`.
    Time,
    /// `timedelta`: ISO 8601 (`P1DT2H`, `-PT1S`) or `[N day[s],] [H]H:MM[:SS[.f]]`.
    Duration,
    /// `UUID`: hyphenated, 32 hex digits, `{...}` or `urn:uuid:...`.
    Uuid,
    /// `AnyUrl` (and `HttpUrl`): an absolute URL as the WHATWG parser reads it.
    Uri,
    /// A URI reference (not emitted by pydantic): no whitespace or control characters.
    UriReference,
    /// `EmailStr` (`email-validator`): also accepts `Name <addr>`.
    Email,
    /// `NameEmail`: `Name <addr>` or a plain address.
    NameEmail,
    /// `IPv4Address`.
    Ipv4,
    /// `IPv6Address` (with an optional `%scope`).
    Ipv6,
    /// `IPvAnyAddress`.
    IpAny,
    /// `IPv4Network` (host bits must be zero).
    Ipv4Network,
    /// `IPv6Network` (host bits must be zero).
    Ipv6Network,
    /// `IPvAnyNetwork`.
    IpAnyNetwork,
    /// `IPv4Interface`.
    Ipv4Interface,
    /// `IPv6Interface`.
    Ipv6Interface,
    /// `IPvAnyInterface`.
    IpAnyInterface,
    /// A DNS host name (JSON Schema's `hostname`).
    Hostname,
    /// `re.Pattern`: a regular expression that compiles.
    Regex,
    /// `Base64Bytes` / `Base64Str`: Python's non-validating base64 decoding (characters
    /// outside the alphabet are skipped; the padding must be complete).
    Base64,
    /// `bytes` with `val_json_bytes='base64'`: standard or URL-safe alphabet, padding
    /// optional but correct when present, no stray characters, canonical last character.
    Base64Url,
    /// `bytes` without base64: any string.
    Binary,
}

impl Format {
    /// The format called `name`, or `None` for a format that is only an annotation.
    pub(crate) fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "date-time" => Format::DateTime,
            "date" => Format::Date,
            "time" => Format::Time,
            "duration" => Format::Duration,
            "uuid" => Format::Uuid,
            "uri" => Format::Uri,
            "uri-reference" => Format::UriReference,
            "email" => Format::Email,
            "name-email" => Format::NameEmail,
            "ipv4" => Format::Ipv4,
            "ipv6" => Format::Ipv6,
            "ipvanyaddress" => Format::IpAny,
            "ipv4network" => Format::Ipv4Network,
            "ipv6network" => Format::Ipv6Network,
            "ipvanynetwork" => Format::IpAnyNetwork,
            "ipv4interface" => Format::Ipv4Interface,
            "ipv6interface" => Format::Ipv6Interface,
            "ipvanyinterface" => Format::IpAnyInterface,
            "hostname" => Format::Hostname,
            "regex" => Format::Regex,
            "base64" => Format::Base64,
            "base64url" => Format::Base64Url,
            "binary" => Format::Binary,
            _ => return None,
        })
    }

    /// Every format name the validator checks.
    pub(crate) const NAMES: &'static [&'static str] = &[
        "date-time",
        "date",
        "time",
        "duration",
        "uuid",
        "uri",
        "uri-reference",
        "email",
        "name-email",
        "ipv4",
        "ipv6",
        "ipvanyaddress",
        "ipv4network",
        "ipv6network",
        "ipvanynetwork",
        "ipv4interface",
        "ipv6interface",
        "ipvanyinterface",
        "hostname",
        "regex",
        "base64",
        "base64url",
        "binary",
    ];

    /// The name used in messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::DateTime => "date-time",
            Format::Date => "date",
            Format::Time => "time",
            Format::Duration => "duration",
            Format::Uuid => "UUID",
            Format::Uri => "URL",
            Format::UriReference => "URI reference",
            Format::Email => "email address",
            Format::NameEmail => "name and email address",
            Format::Ipv4 => "IPv4 address",
            Format::Ipv6 => "IPv6 address",
            Format::IpAny => "IP address",
            Format::Ipv4Network => "IPv4 network",
            Format::Ipv6Network => "IPv6 network",
            Format::IpAnyNetwork => "IP network",
            Format::Ipv4Interface => "IPv4 interface",
            Format::Ipv6Interface => "IPv6 interface",
            Format::IpAnyInterface => "IP interface",
            Format::Hostname => "host name",
            Format::Regex => "regular expression",
            Format::Base64 => "base64 text",
            Format::Base64Url => "base64 text",
            Format::Binary => "byte string",
        }
    }

    /// Checks `s`; the error says what is wrong, in a few words.
    pub(crate) fn check(self, s: &str) -> Result<(), &'static str> {
        match self {
            Format::DateTime => date_time(s),
            Format::Date => date(s),
            Format::Time => {
                let rest = time(s.as_bytes())?;
                offset(rest)
            }
            Format::Duration => duration(s),
            Format::Uuid => uuid(s),
            Format::Uri => uri(s),
            Format::UriReference => {
                if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    Err("it contains whitespace or a control character")
                } else {
                    Ok(())
                }
            }
            Format::Email => email(s),
            Format::NameEmail => email(s),
            Format::Ipv4 => ipv4(s).map(drop),
            Format::Ipv6 => ipv6(s).map(drop),
            Format::IpAny => ipv4(s).map(drop).or_else(|_| ipv6(s).map(drop)),
            Format::Ipv4Network => network(s, false, true),
            Format::Ipv6Network => network(s, true, true),
            Format::IpAnyNetwork => network(s, false, true).or_else(|_| network(s, true, true)),
            Format::Ipv4Interface => network(s, false, false),
            Format::Ipv6Interface => network(s, true, false),
            Format::IpAnyInterface => network(s, false, false).or_else(|_| network(s, true, false)),
            Format::Hostname => hostname(s),
            Format::Regex => super::pattern::Pattern::new(s)
                .map(drop)
                .map_err(|_| "it does not compile"),
            Format::Base64 => base64_lax(s),
            Format::Base64Url => base64_strict(s),
            Format::Binary => Ok(()),
        }
    }
}

// ------------------------------------------------------------------ dates and times

fn digits(b: &[u8], n: usize) -> Option<u32> {
    let part = b.get(..n)?;
    let mut v = 0u32;
    for &c in part {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

fn leap(y: u32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// `YYYY-MM-DD` at the start of `b`; returns the rest.
fn date_part(b: &[u8]) -> Result<&[u8], &'static str> {
    let (Some(y), Some(b'-'), Some(m), Some(b'-'), Some(d)) = (
        digits(b, 4),
        b.get(4),
        b.get(5..).and_then(|r| digits(r, 2)),
        b.get(7),
        b.get(8..).and_then(|r| digits(r, 2)),
    ) else {
        return Err("expected YYYY-MM-DD");
    };
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap(y) => 29,
        2 => 28,
        _ => return Err("the month is not 1 to 12"),
    };
    if d == 0 || d > days {
        return Err("the day does not exist in that month");
    }
    Ok(&b[10..])
}

/// `HH:MM[:SS[(.|,)f+]]` at the start of `b`; returns the rest.
fn time(b: &[u8]) -> Result<&[u8], &'static str> {
    let (Some(h), Some(b':'), Some(m)) = (
        digits(b, 2),
        b.get(2),
        b.get(3..).and_then(|r| digits(r, 2)),
    ) else {
        return Err("expected HH:MM[:SS]");
    };
    if h > 23 {
        return Err("the hour is not 0 to 23");
    }
    if m > 59 {
        return Err("the minute is not 0 to 59");
    }
    let mut rest = &b[5..];
    if rest.first() == Some(&b':') {
        let Some(s) = digits(&rest[1..], 2) else {
            return Err("expected two digits of seconds");
        };
        if s > 59 {
            return Err("the second is not 0 to 59");
        }
        rest = &rest[3..];
        if matches!(rest.first(), Some(b'.' | b',')) {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return Err("expected digits after the decimal point");
            }
            rest = &rest[1 + n..];
        }
    }
    Ok(rest)
}

/// Nothing, `Z`, `±HH:MM` or `±HHMM` (the whole of `b`).
fn offset(b: &[u8]) -> Result<(), &'static str> {
    match b {
        [] | [b'Z' | b'z'] => Ok(()),
        [b'+' | b'-', rest @ ..] => {
            let (h, m) = match rest {
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    (digits(&[*h1, *h2], 2), digits(&[*m1, *m2], 2))
                }
                _ => return Err("the time zone offset must be Z, ±HH:MM or ±HHMM"),
            };
            match (h, m) {
                (Some(h), Some(m)) if h < 24 && m < 60 => Ok(()),
                _ => Err("the time zone offset is out of range"),
            }
        }
        _ => Err("unexpected text after the time"),
    }
}

/// A unix timestamp written as a decimal string (`"1700000000"`, `"1.5"`), as
/// pydantic's datetime parser accepts; returns the whole seconds.
fn timestamp(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|c| c.is_ascii_digit())
        || !frac.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    // `.5` and `5.` are numbers too.
    let int = if int.is_empty() { "0" } else { int };
    let frac = if frac.is_empty() { "0" } else { frac };
    let value: f64 = format!("{int}.{frac}").parse().ok()?;
    Some(if s.starts_with('-') { -value } else { value })
}

fn date_time(s: &str) -> Result<(), &'static str> {
    if timestamp(s).is_some() {
        return Ok(());
    }
    let b = s.as_bytes();
    let rest = date_part(b)?;
    match rest.first() {
        None => Ok(()),
        Some(b'T' | b't' | b' ' | b'_') => offset(time(&rest[1..])?),
        Some(_) => Err("expected T or a space between the date and the time"),
    }
}

fn date(s: &str) -> Result<(), &'static str> {
    if let Some(ts) = timestamp(s) {
        // Over 2e10 the number is read as milliseconds.
        let secs = if ts.abs() > 2e10 { ts / 1000.0 } else { ts };
        return if secs % 86_400.0 == 0.0 {
            Ok(())
        } else {
            Err("a timestamp for a date must be a midnight")
        };
    }
    let b = s.as_bytes();
    let rest = date_part(b)?;
    match rest.first() {
        None => Ok(()),
        Some(b'T' | b't' | b' ' | b'_') => {
            let t = &rest[1..];
            let after = time(t)?;
            offset(after)?;
            let clock = &t[..t.len() - after.len()];
            if clock
                .iter()
                .all(|&c| matches!(c, b'0' | b':' | b'.' | b','))
            {
                Ok(())
            } else {
                Err("a date-time given for a date must be at midnight")
            }
        }
        Some(_) => Err("unexpected text after the date"),
    }
}

fn number_then(b: &[u8]) -> Option<(usize, &[u8])> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let mut rest = &b[n..];
    if matches!(rest.first(), Some(b'.' | b',')) {
        let f = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        rest = &rest[1 + f..];
    }
    Some((n, rest))
}

fn duration(s: &str) -> Result<(), &'static str> {
    let b = s.as_bytes();
    let b = match b.first() {
        Some(b'+' | b'-') => &b[1..],
        _ => b,
    };
    if let Some(iso) = b.strip_prefix(b"P") {
        let mut rest = iso;
        let mut units = 0;
        let mut in_time = false;
        let mut fraction = false;
        while let Some(&c) = rest.first() {
            if c == b'T' && !in_time {
                in_time = true;
                rest = &rest[1..];
                continue;
            }
            if fraction {
                return Err("only the last unit may have a fraction");
            }
            let Some((n, after)) = number_then(rest) else {
                return Err("expected a number before each unit");
            };
            fraction = after.len() + n < rest.len();
            let allowed: &[u8] = if in_time { b"HMS" } else { b"YMWD" };
            match after.first() {
                Some(u) if allowed.contains(u) => {
                    units += 1;
                    rest = &after[1..];
                }
                _ => return Err("expected a unit (Y, M, W, D, or H, M, S after T)"),
            }
        }
        return if units == 0 {
            Err("a duration needs at least one unit")
        } else {
            Ok(())
        };
    }
    // `[N d|day|days[,]] [H...]:MM[:SS[.f]]` (any number of hour digits)
    let mut rest = b;
    let mut parts = 0;
    if let Some((_, after)) = number_then(rest) {
        let after_space = after.strip_prefix(b" ").unwrap_or(after);
        let unit = [&b"days"[..], b"day", b"d"].into_iter().find(|u| {
            after_space
                .get(..u.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(u))
        });
        if let Some(u) = unit {
            parts += 1;
            rest = &after_space[u.len()..];
            if u.len() == 1 && !rest.is_empty() {
                return Err("nothing may follow the short form `Nd`");
            }
            rest = rest.strip_prefix(b",").unwrap_or(rest);
            while rest.first() == Some(&b' ') {
                rest = &rest[1..];
            }
        }
    }
    if !rest.is_empty() {
        let h = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if rest.get(h) != Some(&b':') {
            return Err("expected ISO 8601 (P1DT2H) or [days,] HH:MM[:SS]");
        }
        // Without days the hours are unbounded (check the rest as a clock from 00);
        // after days they must be 0 to 23.
        if parts > 0 {
            let hours = rest[..h].iter().fold(0u64, |acc, &c| {
                acc.saturating_mul(10).saturating_add(u64::from(c - b'0'))
            });
            if hours > 23 {
                return Err("after days, the hours must be 0 to 23");
            }
        }
        let mut clock = b"00".to_vec();
        clock.extend_from_slice(&rest[h..]);
        let after = time(&clock).map_err(|_| "expected [days,] HH:MM[:SS]")?;
        if !after.is_empty() {
            return Err("unexpected text after the time");
        }
        parts += 1;
    }
    if parts == 0 {
        Err("expected ISO 8601 (P1DT2H) or [days,] HH:MM[:SS]")
    } else {
        Ok(())
    }
}

// ------------------------------------------------------------------ identifiers

fn uuid(s: &str) -> Result<(), &'static str> {
    let body = s
        .strip_prefix("urn:uuid:")
        .or_else(|| s.strip_prefix('{').and_then(|r| r.strip_suffix('}')))
        .unwrap_or(s);
    let b = body.as_bytes();
    let ok = match b.len() {
        32 => b.iter().all(u8::is_ascii_hexdigit),
        36 => b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        }),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err("expected 32 hex digits, optionally as 8-4-4-4-12")
    }
}

const SPECIAL_SCHEMES: &[&str] = &["http", "https", "ws", "wss", "ftp", "file"];

fn uri(s: &str) -> Result<(), &'static str> {
    let s = s.trim_matches(|c: char| c <= ' ');
    let Some((scheme, rest)) = s.split_once(':') else {
        return Err("it has no scheme (such as https:)");
    };
    let mut sc = scheme.chars();
    if !sc.next().is_some_and(|c| c.is_ascii_alphabetic())
        || !sc.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return Err("it has no valid scheme (such as https:)");
    }
    if !SPECIAL_SCHEMES
        .iter()
        .any(|sp| sp.eq_ignore_ascii_case(scheme))
    {
        // Other schemes (mailto:, urn:) take almost any text; an authority is checked if given.
        return match rest.strip_prefix("//") {
            Some(after) => authority(after, false),
            None => Ok(()),
        };
    }
    let after = rest.trim_start_matches(['/', '\\']);
    if scheme.eq_ignore_ascii_case("file") {
        // `file:` has a host only after `//` (and it may be empty).
        return match rest.strip_prefix("//") {
            Some(after) => authority(after, false),
            None => Ok(()),
        };
    }
    authority(after, true)
}

/// The `host[:port]` at the start of `s` (up to `/`, `?`, `#`).
/// `special`: a scheme with a required host (all special schemes but `file:`).
fn authority(s: &str, special: bool) -> Result<(), &'static str> {
    let end = s.find(['/', '?', '#', '\\']).unwrap_or(s.len());
    let auth = &s[..end];
    let host_port = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let Some((inner, after)) = v6.split_once(']') else {
            return Err("an IPv6 host is not closed with ]");
        };
        if inner.parse::<Ipv6Addr>().is_err() {
            return Err("the IPv6 host is not valid");
        }
        if !after.is_empty() && !after.starts_with(':') {
            return Err("unexpected text after the IPv6 host");
        }
        ("v6", after.strip_prefix(':'))
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() && (special || port.is_some()) {
        return Err("it has no host");
    }
    if host.chars().any(|c| {
        c <= ' '
            || matches!(
                c,
                '#' | '%' | '/' | ':' | '<' | '>' | '?' | '@' | '[' | '\\' | ']' | '^' | '|'
            )
    }) {
        return Err("the host contains a character hosts cannot have");
    }
    if let Some(p) = port {
        if !p.is_empty()
            && (!p.bytes().all(|c| c.is_ascii_digit())
                || p.parse::<u32>().map_or(true, |n| n > 65535))
        {
            return Err("the port is not a number from 0 to 65535");
        }
    }
    if special && host != "v6" && ends_in_number(host) && whatwg_ipv4(host).is_none() {
        return Err("the host ends in a number but is not a valid IPv4 address");
    }
    // Spaces in the path are percent-encoded by the WHATWG parser: allowed.
    Ok(())
}

/// The WHATWG rule: a host whose last label is a number is parsed as IPv4.
fn ends_in_number(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let last = host.rsplit('.').next().unwrap_or("");
    (!last.is_empty() && last.bytes().all(|c| c.is_ascii_digit()))
        || last
            .strip_prefix("0x")
            .or_else(|| last.strip_prefix("0X"))
            .is_some_and(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
}

/// The WHATWG IPv4 parser: 1 to 4 parts, each decimal, octal (`0..`) or hex (`0x..`);
/// every part but the last at most 255, the last filling the remaining bytes.
fn whatwg_ipv4(host: &str) -> Option<u32> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let parts: Vec<&str> = host.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut numbers = Vec::with_capacity(parts.len());
    for p in &parts {
        let n = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            if h.is_empty() {
                0
            } else {
                u64::from_str_radix(h, 16).ok()?
            }
        } else if p.len() > 1 && p.starts_with('0') {
            u64::from_str_radix(&p[1..], 8).ok()?
        } else if p.is_empty() {
            return None;
        } else {
            p.parse::<u64>().ok()?
        };
        numbers.push(n);
    }
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|&n| n > 255) {
        return None;
    }
    let room = 8 * (5 - numbers.len() as u32);
    if *last >= 1u64 << room.min(63) {
        return None;
    }
    let mut v = *last;
    for (i, &n) in init.iter().enumerate() {
        v += n << (8 * (3 - i as u32));
    }
    u32::try_from(v).ok()
}

/// Domains `email-validator` refuses as special-use.
const SPECIAL_USE: &[&str] = &["arpa", "invalid", "local", "localhost", "onion", "test"];

fn email(s: &str) -> Result<(), &'static str> {
    let s = s.trim();
    let addr = match (s.rfind('<'), s.strip_suffix('>')) {
        (Some(open), Some(inner)) => {
            display_name(s[..open].trim())?;
            inner.get(open + 1..).unwrap_or("")
        }
        _ => s,
    };
    let Some((local, domain)) = addr.rsplit_once('@') else {
        return Err("it has no @");
    };
    if local.is_empty() || local.chars().count() > 64 {
        return Err("the part before @ is empty or too long");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("the part before @ has a misplaced dot");
    }
    if !local
        .chars()
        .all(|c| !c.is_ascii() || c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-.".contains(c))
    {
        return Err("the part before @ has a character that is not allowed");
    }
    if addr.chars().count() > 254 {
        return Err("it is longer than 254 characters");
    }
    if !domain.contains('.') {
        return Err("the domain needs a dot");
    }
    for l in domain.split('.') {
        if l.is_empty() || l.chars().count() > 63 {
            return Err("the domain has an empty or too long part");
        }
        if l.starts_with('-') || l.ends_with('-') {
            return Err("a domain part starts or ends with a hyphen");
        }
        if !l
            .chars()
            .all(|c| !c.is_ascii() || c.is_ascii_alphanumeric() || c == '-')
        {
            return Err("the domain has a character that is not allowed");
        }
    }
    let tld = domain.rsplit('.').next().unwrap_or("");
    if tld.bytes().all(|c| c.is_ascii_digit()) {
        return Err("the domain's last part is a number");
    }
    if tld.chars().last().is_some_and(|c| c.is_ascii_digit()) {
        return Err("the domain does not end in a top-level domain");
    }
    if SPECIAL_USE.iter().any(|sp| sp.eq_ignore_ascii_case(tld)) {
        return Err("the domain is a special-use name");
    }
    Ok(())
}

/// The name before `<addr>`: a quoted string, or words of `atext` characters.
fn display_name(name: &str) -> Result<(), &'static str> {
    if name.len() >= 2 && name.starts_with('"') && name.ends_with('"') {
        return Ok(());
    }
    if name
        .chars()
        .all(|c| !c.is_ascii() || c.is_ascii_alphanumeric() || " !#$%&'*+-/=?^_`{|}~".contains(c))
    {
        Ok(())
    } else {
        Err("the display name has a character that must be quoted")
    }
}

fn hostname(s: &str) -> Result<(), &'static str> {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() || s.len() > 253 {
        return Err("it is empty or longer than 253 characters");
    }
    for l in s.split('.') {
        if l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-') {
            return Err("a label is empty, too long, or starts or ends with a hyphen");
        }
        if !l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
            return Err("a label has a character other than letters, digits and hyphens");
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ IP addresses

fn ipv4(s: &str) -> Result<Ipv4Addr, &'static str> {
    s.parse::<Ipv4Addr>()
        .map_err(|_| "expected four numbers 0-255 without leading zeros")
}

fn ipv6(s: &str) -> Result<Ipv6Addr, &'static str> {
    let addr = match s.split_once('%') {
        Some((a, scope)) if !scope.is_empty() => a,
        Some(_) => return Err("an empty scope after %"),
        None => s,
    };
    addr.parse::<Ipv6Addr>().map_err(|_| "not an IPv6 address")
}

/// `addr[/prefix]`; with `strict`, the host bits must be zero (a network).
fn network(s: &str, v6: bool, strict: bool) -> Result<(), &'static str> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let (bits, width) = if v6 {
        (u128::from(ipv6(addr)?), 128u32)
    } else {
        (u128::from(u32::from(ipv4(addr)?)), 32u32)
    };
    let len = match prefix {
        None => width,
        Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|c| c.is_ascii_digit()) => p
            .parse::<u32>()
            .map_err(|_| "the prefix length is not a number")?,
        Some(_) => return Err("the prefix length is not a number"),
    };
    if len > width {
        return Err("the prefix length is too long");
    }
    if strict && len < width {
        let host_mask = if width - len >= 128 {
            u128::MAX
        } else {
            (1u128 << (width - len)) - 1
        };
        if bits & host_mask != 0 {
            return Err("it has host bits set");
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ base64

fn b64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Python's `base64.b64decode` without `validate`: characters outside the standard
/// alphabet are skipped; the data must end on a whole group or be padded to one.
fn base64_lax(s: &str) -> Result<(), &'static str> {
    let mut data = 0usize;
    let mut pads = 0usize;
    for c in s.bytes() {
        match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' => {
                if pads > 0 && data % 4 == 0 {
                    // The padding closed a group; Python stops at the padding.
                    break;
                }
                data += 1;
            }
            b'=' => pads += 1,
            _ => {}
        }
    }
    match data % 4 {
        0 => Ok(()),
        1 => Err("the number of data characters is one more than a multiple of 4"),
        2 if pads >= 2 => Ok(()),
        3 if pads >= 1 => Ok(()),
        _ => Err("incorrect padding"),
    }
}

/// pydantic-core's base64 decoding of JSON bytes: the standard or the URL-safe
/// alphabet (not both), padding optional (even partial) but never too much, nothing
/// else, and no stray bits in the last character.
fn base64_strict(s: &str) -> Result<(), &'static str> {
    let b = s.as_bytes();
    let data = b.iter().rposition(|&c| c != b'=').map_or(0, |i| i + 1);
    let pads = b.len() - data;
    let body = &b[..data];
    let mut last = 0u8;
    let (mut standard, mut url_safe) = (false, false);
    for &c in body {
        last = b64_value(c).ok_or("it has a character outside the base64 alphabet")?;
        standard |= matches!(c, b'+' | b'/');
        url_safe |= matches!(c, b'-' | b'_');
    }
    if standard && url_safe {
        return Err("it mixes the standard (+/) and URL-safe (-_) alphabets");
    }
    let rem = data % 4;
    if rem == 1 {
        return Err("the number of data characters is one more than a multiple of 4");
    }
    // Padding is optional, and may be partial, but never more than the group needs.
    if pads > (4 - rem) % 4 {
        return Err("incorrect padding");
    }
    let stray = match rem {
        2 => last & 0x0F,
        3 => last & 0x03,
        _ => 0,
    };
    if stray != 0 {
        return Err("the last character has bits that encode nothing");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Format;

    /// (format, value, pydantic 2.12.5's verdict), measured with `validate_json`.
    #[test]
    fn verdicts_match_pydantic() {
        let cases: &[(&str, &str, bool)] = &[
            ("date-time", "2024-01-02T03:04:05Z", true),
            ("date-time", "2024-01-02T03:04:05", true),
            ("date-time", "2024-01-02 03:04:05", true),
            ("date-time", "2024-01-02t03:04:05z", true),
            ("date-time", "2024-01-02", true),
            ("date-time", "2024-01-02T03:04", true),
            ("date-time", "2024-01-02T03", false),
            ("date-time", "2024-01-02T03:04:05.123456789+05:30", true),
            ("date-time", "2024-01-02T03:04:05+0530", true),
            ("date-time", "2024-01-02T03:04:05+05", false),
            ("date-time", "2024-13-02T03:04:05", false),
            ("date-time", "2024-02-30T00:00:00", false),
            ("date-time", "2024-01-02T24:00:00", false),
            ("date-time", "2024-01-02T23:59:60", false),
            ("date-time", "1700000000", true),
            ("date-time", "1700000000.5", true),
            ("date-time", "0", true),
            ("date-time", "now", false),
            ("date-time", "2024-01-02T03:04:05.Z", false),
            ("date-time", "  2024-01-02T03:04:05", false),
            ("date-time", "2024-1-02T03:04:05", false),
            ("date-time", "+2024-01-02T03:04:05", false),
            ("date-time", "2024-01-02T03:04:05-00:00", true),
            ("date-time", "", false),
            ("date-time", "2024-01-02T03:04:05Zjunk", false),
            ("date-time", "20240102T030405", false),
            ("date", "2024-01-02", true),
            ("date", "2024-02-29", true),
            ("date", "2023-02-29", false),
            ("date", "2024-01-02T00:00:00", true),
            ("date", "2024-01-02T00:00:00Z", true),
            ("date", "2024-01-02T01:00:00", false),
            ("date", "1700000000", false),
            ("date", "1704153600", true),
            ("date", "2024-1-2", false),
            ("date", "20240102", false),
            ("date", "0", true),
            ("time", "03:04:05", true),
            ("time", "03:04", true),
            ("time", "03", false),
            ("time", "03:04:05Z", true),
            ("time", "03:04:05+01:00", true),
            ("time", "03:04:05.123", true),
            ("time", "24:00:00", false),
            ("time", "23:59:60", false),
            ("time", "3:04:05", false),
            ("time", "030405", false),
            ("time", "3600", false),
            ("time", "T03:04:05", false),
            ("duration", "P1D", true),
            ("duration", "PT1H", true),
            ("duration", "P1DT2H3M4.5S", true),
            ("duration", "PT0S", true),
            ("duration", "P", false),
            ("duration", "PT", false),
            ("duration", "P1Y", true),
            ("duration", "P1W", true),
            ("duration", "-P1D", true),
            ("duration", "+P1D", true),
            ("duration", "1 day, 02:03:04", true),
            ("duration", "02:03:04", true),
            ("duration", "1d", true),
            ("duration", "P1.5D", true),
            ("duration", "3600", false),
            ("duration", "P1DT", true),
            ("duration", "p1d", false),
            ("duration", "12:00", true),
            ("duration", "1:00:00", true),
            ("duration", "-PT1S", true),
            ("duration", "1D", true),
            ("duration", "300:00:01", true),
            ("duration", "2 days, :00:00", true),
            ("duration", "P1Y2.3W4DT5H9M7.5S", false),
            ("date-time", "+5", true),
            ("date-time", "17000000.", true),
            ("date", ".0", true),
            ("email", ".ame <a@example.com>", false),
            ("email", "Name ]<a@example.com>", false),
            ("email", "x@y.io4", false),
            ("uri", "http://1227.0.0.1", false),
            ("uri", "http://127.1/", true),
            ("uri", "http://0x7f.0.0.1/", true),
            ("uri", "https://[::1]6", false),
            ("uri", "fixle://:/x", false),
            ("uri", "file:// x", false),
            ("uri", "file:///x", true),
            ("uri", "file:/6[//x", true),
            ("uri", "file://host/x", true),
            ("uri", "http://a.b.0x", false),
            ("uri", "http://256.0.0.1", false),
            ("uri", "http://4294967295/", true),
            ("uri", "http://4294967296/", false),
            ("uri", "http://1.2.3.4.5/", false),
            ("uri", "http://01.2.3.4/", true),
            ("uri", "http://09.2.3.4/", false),
            ("duration", "1 day, 23:00:00", true),
            ("duration", "1 day, 24:00:00", false),
            ("duration", "1 day 015:00:00", true),
            ("duration", "2 days, 000:00", true),
            ("duration", "24:00:00", true),
            ("duration", "1d 5:00", false),
            ("duration", "1 DAY, 01:00:00", true),
            ("uuid", "12345678-1234-5678-1234-567812345678", true),
            ("uuid", "12345678123456781234567812345678", true),
            ("uuid", "{12345678-1234-5678-1234-567812345678}", true),
            (
                "uuid",
                "urn:uuid:12345678-1234-5678-1234-567812345678",
                true,
            ),
            ("uuid", "12345678-1234-5678-1234-56781234567G", false),
            ("uuid", "ABCDEF01-1234-5678-1234-567812345678", true),
            ("uuid", "12345678-1234-5678-1234-5678123456789", false),
            ("uuid", "1234-5678", false),
            ("uuid", " 12345678-1234-5678-1234-567812345678", false),
            ("uuid", "12345678-1234-5678-1234_567812345678", false),
            ("uri", "https://example.com", true),
            ("uri", "http://x", true),
            ("uri", "ftp://a.b/c", true),
            ("uri", "mailto:a@b.c", true),
            ("uri", "example.com", false),
            ("uri", "//example.com", false),
            ("uri", "/path", false),
            ("uri", "urn:isbn:123", true),
            ("uri", "https://", false),
            ("uri", "http://exa mple.com", false),
            ("uri", "file:///tmp/x", true),
            ("uri", "a:b", true),
            ("uri", "1http://x", false),
            ("uri", "https://例え.jp", true),
            ("uri", "https://[::1]:80/", true),
            ("uri", "https://example.com:99999", false),
            ("uri", "x", false),
            ("uri", "http://a b", false),
            ("uri", " https://example.com", true),
            ("email", "a@example.com", true),
            ("email", "a@b", false),
            ("email", "a@b.c", true),
            ("email", "A B <a@example.com>", true),
            ("email", "a.example.com", false),
            ("email", "a@@example.com", false),
            ("email", "a@example..com", false),
            ("email", "a@localhost", false),
            ("email", "a+b@example.co.uk", true),
            ("email", "a@123.123.123.123", false),
            ("email", "a@[1.2.3.4]", false),
            ("email", "\"a b\"@example.com", false),
            ("email", "é@example.com", true),
            ("email", "a@example.com ", true),
            ("email", "a@exämple.com", true),
            ("email", "a@example.test", false),
            ("email", "a@example.invalid", false),
            ("email", "a@example.local", false),
            ("email", "", false),
            ("name-email", "<a@example.com>", true),
            ("name-email", "A <b>", false),
            ("ipv4", "1.2.3.4", true),
            ("ipv4", "256.1.1.1", false),
            ("ipv4", "1.2.3", false),
            ("ipv4", "01.2.3.4", false),
            ("ipv4", "1.2.3.4/32", false),
            ("ipv4", "0.0.0.0", true),
            ("ipv4", " 1.2.3.4", false),
            ("ipv4", "16909060", false),
            ("ipv4", "::1", false),
            ("ipv6", "::1", true),
            ("ipv6", "::", true),
            ("ipv6", "1:2:3:4:5:6:7:8", true),
            ("ipv6", "1::2::3", false),
            ("ipv6", "::ffff:1.2.3.4", true),
            ("ipv6", "fe80::1%eth0", true),
            ("ipv6", "1:2:3:4:5:6:7:8:9", false),
            ("ipv6", "[::1]", false),
            ("ipv6", "1", false),
            ("ipv6", "1.2.3.4", false),
            ("ipv6", "FE80::1", true),
            ("ipvanyaddress", "1.2.3.4", true),
            ("ipvanyaddress", "::1", true),
            ("ipvanyaddress", "x", false),
            ("base64", "aGVsbG8=", true),
            ("base64", "aGVsbG8", false),
            ("base64", "aGVs bG8=", true),
            ("base64", "aGVsbG8=\n", true),
            ("base64", "a", false),
            ("base64", "ab", false),
            ("base64", "abc", false),
            ("base64", "-_-_", true),
            ("base64", "aGVsbG8==", true),
            ("base64", "@@@@", true),
            ("base64", "", true),
            ("base64url", "aGVsbG8=", true),
            ("base64url", "aGVsbG8", true),
            ("base64url", "-_-_", true),
            ("base64url", "+/+/", true),
            ("base64url", "a", false),
            ("base64url", "ab", false),
            ("base64url", "abc", true),
            ("base64url", "", true),
            ("base64url", "aGVs bG8=", false),
            ("base64url", "@@@@", false),
            ("base64url", "aGVsbG8==", false),
            ("base64url", "YQ", true),
            ("base64url", "YR==", false),
            ("base64url", "YQ==", true),
            ("base64url", "YQ=", true),
            ("base64url", "YQ===", false),
            ("base64url", "+_8=", false),
            ("base64url", "-/8=", false),
            ("base64url", "+/8=", true),
            ("base64url", "-_8", true),
            ("base64url", "YQ==\n", false),
            ("binary", "anything", true),
            ("regex", "a+", true),
            ("regex", "(", false),
            ("regex", "[a-z", false),
            ("regex", "(?P<x>a)", true),
            ("regex", "(?<=a)b", true),
            ("regex", "a{2,1}", false),
        ];
        let mut wrong = Vec::new();
        for &(name, value, want) in cases {
            let f = Format::parse(name).unwrap_or_else(|| panic!("{name}"));
            let got = f.check(value);
            if got.is_ok() != want {
                wrong.push(format!("{name} {value:?}: pydantic {want}, got {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn unknown_formats_are_annotations() {
        assert!(Format::parse("color").is_none());
        for name in Format::NAMES {
            assert!(Format::parse(name).is_some(), "{name}");
        }
    }
}
