//! Building a client's transport from its builder's settings: the HTTP client
//! (TLS roots, timeouts, compression), the token header, the target.
//!
//! This is the client layer's side of the transport: `transport.rs` knows
//! nothing of the builder.

use reqwest::header::HeaderValue;

use crate::config::ClientBuilder;
use crate::transport::{Target, Transport, USER_AGENT};
use crate::Error;

/// The transport a builder describes, for the normalised base URL `base`.
pub(crate) fn transport(b: &ClientBuilder, base: String) -> Result<Transport, Error> {
    let target = b.target.unwrap_or_else(|| Target::detect(&base));
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
    let http = builder.build().map_err(Error::HttpClient)?;
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
