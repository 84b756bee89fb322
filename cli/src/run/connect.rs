//! The client a run uses: from flags and the environment, or a local sandbox.

use super::*;

pub(super) fn env_nonempty(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
}

/// Builds the client: against an in-process sandbox with `--sandbox`, else from the
/// environment and `--base-url`, refusing to go on without a token for the platform.
pub(super) async fn client(args: &RunArgs) -> Result<(biolm::Client, Option<Sandbox>), CliError> {
    let (mut builder, sandbox) = if args.sandbox {
        let set = embedded::schema_set().map_err(|e| CliError::Usage(e.to_string()))?;
        let sandbox = Sandbox::start(SandboxConfig::new(SchemaSource::Set(Arc::new(set))))
            .await
            .map_err(|e| CliError::Usage(format!("cannot start the local sandbox: {e}")))?;
        note!(
            "biolm: synthetic results from the local sandbox at {} (no model is run; set BIOLM_TOKEN and drop --sandbox for real results)",
            sandbox.base_url()
        );
        (
            biolm::ClientBuilder::new().base_url(sandbox.base_url()),
            Some(sandbox),
        )
    } else {
        let mut b = biolm::ClientBuilder::from_env();
        let url = args
            .base_url
            .clone()
            .or_else(|| env_nonempty(&["BIOLM_BASE_API_URL", "BIOLMAI_BASE_API_URL"]))
            .unwrap_or_else(|| biolm::config::DEFAULT_BASE_URL.to_string());
        if let Some(u) = &args.base_url {
            b = b.base_url(u.clone());
        }
        if env_nonempty(&["BIOLM_TOKEN", "BIOLMAI_TOKEN"]).is_some() {
            if let Some(host) = plain_http_remote(&url) {
                note!(
                    "biolm: warning: the token goes over plain http to {host}, unencrypted: anyone on the way can read it; use https://"
                );
            }
        }
        if biolm::Target::detect(&url) == biolm::Target::Platform
            && env_nonempty(&["BIOLM_TOKEN", "BIOLMAI_TOKEN"]).is_none()
        {
            return Err(CliError::Usage(format!(
                "no API token: {url} needs one. Get a token at https://biolm.ai (account settings), then \
                 `export BIOLM_TOKEN=<your token>` and run again. To try the command without an account, add \
                 --sandbox: it runs against a local sandbox with synthetic results."
            )));
        }
        (b, None)
    };
    if let Some(b) = args.result_budget {
        builder = builder.result_budget(b);
    }
    if let Some(path) = &args.cache {
        let cache = biolm::cache::Cache::open(path)?;
        builder = builder.cache(if args.sandbox { cache.sandbox() } else { cache });
    }
    if let Some(n) = args.concurrency {
        if n == 0 {
            return Err(CliError::Usage("--concurrency 0: give at least 1".into()));
        }
        builder = builder.concurrency(n);
    }
    if let Some(t) = &args.timeout {
        builder = builder.request_timeout(parse_seconds("--timeout", t)?);
    }
    if let Some(n) = args.max_attempts {
        if n == 0 {
            return Err(CliError::Usage(
                "--max-attempts 0: give at least 1 (1 sends each request once, never retrying)"
                    .into(),
            ));
        }
        builder = builder.retry(biolm::RetryPolicy {
            max_attempts: n,
            ..biolm::RetryPolicy::default()
        });
    }
    if let Some(r) = &args.rate_limit {
        let limit: biolm::RateLimit = r
            .parse()
            .map_err(|e| CliError::Usage(format!("--rate-limit: {e}")))?;
        builder = builder.rate_limit(limit);
    }
    Ok((builder.build()?, sandbox))
}

/// The host of an `http://` URL that is not a loopback address (where a
/// token would travel unencrypted over a network).
pub(super) fn plain_http_remote(url: &str) -> Option<String> {
    let rest = url.trim().strip_prefix("http://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = hostport.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        hostport.split(':').next()?
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (!loopback).then(|| host.to_string())
}

/// A positive, finite number of seconds (`90`, `2.5`) given to `flag`.
pub(super) fn parse_seconds(flag: &str, text: &str) -> Result<Duration, CliError> {
    let bad = |why: &str| CliError::Usage(format!("{flag} {text:?}: {why}"));
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| bad("not a number of seconds (like 90 or 2.5)"))?;
    if !(secs.is_finite() && secs > 0.0) {
        return Err(bad("give a positive number of seconds"));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| bad("too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_to_a_remote_host_is_told_apart_from_loopback_and_https() {
        assert_eq!(
            plain_http_remote("http://user:pw@api.example.org:8000/api/v3?key=x"),
            Some("api.example.org".into())
        );
        assert_eq!(
            plain_http_remote("http://10.0.0.5/api/v3"),
            Some("10.0.0.5".into())
        );
        for quiet in [
            "https://biolm.ai/api/v3",
            "http://127.0.0.1:9/api/v3",
            "http://localhost:8000/api/v1",
            "http://[::1]:8000/api/v3",
        ] {
            assert_eq!(plain_http_remote(quiet), None, "{quiet}");
        }
    }
}
