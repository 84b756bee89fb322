//! Building a client's transport from its builder's settings: the HTTP client
//! (TLS roots, timeouts, compression), the token header, the target.
//!
//! This is the client layer's side of the transport: `transport.rs` knows
//! nothing of the builder.

use reqwest::header::HeaderValue;

use crate::config::ClientBuilder;
use crate::transport::{Target, Transport, USER_AGENT};
use crate::Error;

/// With [`ClientBuilder::http_client`], the builder's settings that live in
/// the HTTP client would be silently ignored: refuse them.
fn refuse_http_settings(b: &ClientBuilder) -> Result<(), Error> {
    if b.http_settings.is_empty() {
        return Ok(());
    }
    let mut names: Vec<&str> = b.http_settings.clone();
    names.sort_unstable();
    names.dedup();
    let list = names
        .iter()
        .map(|n| format!("ClientBuilder::{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(Error::Config(format!(
        "ClientBuilder::http_client was given together with {list}, which the HTTP client \
         itself holds: set {} on the reqwest::Client you pass instead (or drop http_client)",
        if names.len() == 1 { "it" } else { "them" }
    )))
}

/// The HTTP client the builder's settings describe.
fn http_client(b: &ClientBuilder, target: Target) -> Result<reqwest::Client, Error> {
    let accept_gzip = b.accept_gzip.unwrap_or(target == Target::Platform);
    let mut builder = reqwest::Client::builder()
        .gzip(accept_gzip)
        .user_agent(USER_AGENT)
        .connect_timeout(b.connect_timeout)
        .pool_max_idle_per_host(b.concurrency.max(16))
        .tcp_nodelay(true);
    if let Some(path) = &b.ca_bundle {
        let pem = std::fs::read(path).map_err(|e| Error::CaBundle {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| Error::CaBundle {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if certs.is_empty() {
            return Err(Error::CaBundle {
                path: path.clone(),
                message: "no certificate found".into(),
            });
        }
        for c in certs {
            builder = builder.add_root_certificate(c);
        }
    }
    builder.build().map_err(Error::HttpClient)
}

/// The transport a builder describes, for the normalised base URL `base`.
pub(crate) fn transport(b: &ClientBuilder, base: String) -> Result<Transport, Error> {
    let target = b.target.unwrap_or_else(|| Target::detect(&base));
    let http = match &b.http_client {
        Some(http) => {
            refuse_http_settings(b)?;
            http.clone()
        }
        None => http_client(b, target)?,
    };
    let auth = match &b.token {
        Some(t) if !t.is_empty() => {
            let mut v = HeaderValue::from_str(&format!("Token {}", t.expose())).map_err(|_| {
                Error::Config("the token contains characters not allowed in an HTTP header".into())
            })?;
            v.set_sensitive(true);
            Some(v)
        }
        _ => None,
    };
    let compress = b.compression.unwrap_or(target == Target::Platform);
    Ok(Transport::from_parts(
        http,
        base,
        target,
        auth,
        compress,
        b.max_response_bytes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_per_target() {
        let b = ClientBuilder::new();
        let p = transport(&b, "http://h/api/v3".into()).unwrap();
        assert_eq!(
            p.url("esmfold", "predict", "fold"),
            "http://h/api/v3/esmfold/predict/"
        );
        assert!(p.compresses());
        let g = transport(&b, "http://h/api/v1".into()).unwrap();
        assert_eq!(
            g.url("esmfold", "predict", "fold"),
            "http://h/api/v1/esmfold/fold"
        );
        assert!(!g.compresses());
    }
}
