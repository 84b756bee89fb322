//! Command-line settings of `biolm-sandbox serve` (also flattened into `biolm sandbox serve`).

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{FaultKind, Faults, Latency, LatencyScope, SandboxConfig};
use crate::error::SandboxError;

/// Settings of a sandbox started from the command line.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Schema directory: a project `schemas/` dir or a reference corpus with index.json.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "schemas",
        env = "BIOLM_SANDBOX_SCHEMAS"
    )]
    pub schemas: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free port and prints it).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Delay before each answer, in milliseconds: `50`, or a range `10-200` drawn uniformly.
    #[arg(long, value_name = "MS|MIN-MAX")]
    pub latency_ms: Option<String>,
    /// Apply the latency once per item instead of once per request.
    #[arg(long)]
    pub latency_per_item: bool,
    /// Most model calls per second; beyond that, 429 with Retry-After.
    #[arg(long, value_name = "PER_SECOND")]
    pub throttle: Option<f64>,
    /// Require `Authorization: Token <TOKEN>` on model calls.
    #[arg(long, env = "BIOLM_SANDBOX_TOKEN")]
    pub token: Option<String>,
    /// Share of model calls that fail (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Fault kinds to draw from, comma-separated (reset,500,502,503,429,stall,truncated,partial,wrong-count); all when empty.
    #[arg(long, value_delimiter = ',', value_name = "KIND,...")]
    pub fault_kinds: Vec<FaultKind>,
    /// Seed of the fault and latency draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// How long a `stall` fault sleeps, in seconds.
    #[arg(long, default_value_t = 60.0)]
    pub stall_secs: f64,
    /// Never gzip responses, even when the client accepts gzip.
    #[arg(long)]
    pub no_gzip: bool,
    /// Answer 401 to schema requests that carry a token (as the hosted platform does).
    #[arg(long)]
    pub schema_rejects_token: bool,
    /// Also enforce each action's `throttle_rate` from its schema (per model and action).
    #[arg(long)]
    pub schema_throttle: bool,
    /// Send Retry-After as an HTTP date instead of seconds.
    #[arg(long)]
    pub retry_after_date: bool,
    /// Do not decode gzip request bodies on /api/v1 (as a FastAPI gateway): they fail as invalid JSON.
    #[arg(long)]
    pub gateway_rejects_gzip: bool,
    /// Serve /api/v1 strictly as a catalog gateway: no trailing slash, gateway action
    /// names only, gzip bodies refused (422 json_invalid), FastAPI error bodies.
    #[arg(long)]
    pub strict_gateway: bool,
    /// Largest synthetic response, in MiB (larger ones get 413).
    #[arg(long, default_value_t = 512)]
    pub max_response_mib: usize,
    /// Embedding width for variants whose schemas state none.
    #[arg(long, default_value_t = 320)]
    pub default_embedding_dim: usize,
}

/// Longest `--latency-ms` accepted: one hour.
const MAX_LATENCY_MS: f64 = 3_600_000.0;
/// Longest `--stall-secs` accepted: one day.
const MAX_STALL_SECS: f64 = 86_400.0;

/// A number of milliseconds from the command line: finite, zero or more, at most an hour.
fn parse_ms(s: &str) -> Result<Duration, SandboxError> {
    let ms: f64 = s.trim().parse().map_err(|_| {
        SandboxError::Config(format!(
            "--latency-ms `{s}` is not a number of milliseconds (use `50` or a range `10-200`)"
        ))
    })?;
    bounded_secs(ms / 1000.0, MAX_LATENCY_MS / 1000.0).ok_or_else(|| {
        SandboxError::Config(format!(
            "--latency-ms `{s}` must be a number of milliseconds from 0 to {MAX_LATENCY_MS} (one hour)"
        ))
    })
}

/// `secs` as a duration when it is a finite number in `0..=max`.
fn bounded_secs(secs: f64, max: f64) -> Option<Duration> {
    if !(secs.is_finite() && (0.0..=max).contains(&secs)) {
        return None;
    }
    Duration::try_from_secs_f64(secs).ok()
}

/// `--latency-ms`: `50` (fixed) or `10-200` (uniform); `1e-3` is a number, not a range.
fn parse_latency(spec: &str) -> Result<Latency, SandboxError> {
    if spec.trim().parse::<f64>().is_ok() {
        return Ok(Latency::Fixed(parse_ms(spec)?));
    }
    let split = spec
        .char_indices()
        .skip(1)
        .find(|&(i, c)| c == '-' && !spec[..i].ends_with(['e', 'E']))
        .map(|(i, _)| (&spec[..i], &spec[i + 1..]));
    match split {
        Some((a, b)) => {
            let (min, max) = (parse_ms(a)?, parse_ms(b)?);
            if max < min {
                return Err(SandboxError::Config(format!(
                    "--latency-ms range `{spec}` has its maximum below its minimum"
                )));
            }
            Ok(Latency::Uniform { min, max })
        }
        None => Ok(Latency::Fixed(parse_ms(spec)?)),
    }
}

impl ServeArgs {
    /// The address to bind, `host:port`.
    pub fn bind_addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The [`SandboxConfig`] these settings describe.
    pub fn to_config(&self) -> Result<SandboxConfig, SandboxError> {
        let latency = match self.latency_ms.as_deref() {
            None => Latency::None,
            Some(spec) => parse_latency(spec)?,
        };
        let stall = bounded_secs(self.stall_secs, MAX_STALL_SECS).ok_or_else(|| {
            SandboxError::Config(format!(
                "--stall-secs {} must be a number of seconds from 0 to {MAX_STALL_SECS} (one day)",
                self.stall_secs
            ))
        })?;
        if !(self.fault_rate.is_finite() && (0.0..=1.0).contains(&self.fault_rate)) {
            return Err(SandboxError::Config(format!(
                "--fault-rate {} must be a share from 0 to 1",
                self.fault_rate
            )));
        }
        if let Some(t) = self.throttle {
            if !(t.is_finite() && t > 0.0) {
                return Err(SandboxError::Config(format!(
                    "--throttle {t} must be a positive number of requests per second"
                )));
            }
        }
        let mut config = SandboxConfig::new(self.schemas.clone());
        config.latency = latency;
        config.latency_scope = if self.latency_per_item {
            LatencyScope::PerItem
        } else {
            LatencyScope::PerRequest
        };
        config.throttle = self.throttle;
        config.token = self.token.clone();
        config.faults = Faults {
            rate: self.fault_rate,
            kinds: self.fault_kinds.clone(),
            seed: self.seed,
            stall,
        };
        config.gzip_responses = !self.no_gzip;
        config.schema_rejects_token = self.schema_rejects_token;
        config.default_embedding_dim = self.default_embedding_dim;
        config.schema_throttle = self.schema_throttle;
        config.retry_after_date = self.retry_after_date;
        config.gateway_rejects_gzip = self.gateway_rejects_gzip;
        config.max_response_bytes = self.max_response_mib.saturating_mul(1024 * 1024);
        config.strict_gateway = self.strict_gateway;
        Ok(config)
    }

    /// Binds, serves until Ctrl-C, and reports the URLs and start-up time on stderr.
    pub async fn run(&self) -> Result<(), SandboxError> {
        let config = self.to_config()?;
        self.serve(config, &self.schemas.display().to_string())
            .await
    }

    /// Binds [`bind_addr`](Self::bind_addr), serves `config` until Ctrl-C and
    /// prints where (`from` names the schemas in the banner).
    ///
    /// The banner goes to standard error; a closed or full standard error
    /// (a parent that read the URL and went away) never stops the server.
    pub async fn serve(&self, config: SandboxConfig, from: &str) -> Result<(), SandboxError> {
        let started = std::time::Instant::now();
        let addr = self.bind_addr();
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|source| SandboxError::Bind {
                addr: addr.clone(),
                source,
            })?;
        let sandbox = crate::Sandbox::start_on(config, listener).await?;
        for problem in sandbox.problems() {
            status(format_args!("biolm sandbox: warning: skipping {problem}"));
        }
        status(format_args!(
            "biolm sandbox: {} model actions from {from} ready in {:.0} ms (synthetic results; no model is run)",
            sandbox.pair_count(),
            started.elapsed().as_secs_f64() * 1000.0
        ));
        status(format_args!(
            "  platform API: {}   (export BIOLM_BASE_API_URL=...)",
            sandbox.base_url()
        ));
        status(format_args!("  gateway API:  {}", sandbox.gateway_url()));
        let _ = tokio::signal::ctrl_c().await;
        status(format_args!("biolm sandbox: stopping"));
        sandbox.shutdown();
        Ok(())
    }
}

/// Writes one status line to standard error, ignoring write errors:
/// unlike `eprintln!`, it does not panic when the reader has gone.
fn status(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_specs() {
        assert_eq!(
            parse_latency("50").ok(),
            Some(Latency::Fixed(Duration::from_millis(50)))
        );
        assert_eq!(
            parse_latency("1e-3").ok(),
            Some(Latency::Fixed(Duration::from_micros(1)))
        );
        assert_eq!(
            parse_latency("10-200").ok(),
            Some(Latency::Uniform {
                min: Duration::from_millis(10),
                max: Duration::from_millis(200)
            })
        );
        for bad in [
            "1e300", "NaN", "inf", "-5", "-inf", "200-10", "x", "", "5-1e300",
        ] {
            let err = parse_latency(bad).err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.contains("--latency-ms")),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn stall_bounds() {
        assert_eq!(
            bounded_secs(60.0, MAX_STALL_SECS),
            Some(Duration::from_secs(60))
        );
        for bad in [1e300, f64::NAN, f64::INFINITY, -1.0] {
            assert_eq!(bounded_secs(bad, MAX_STALL_SECS), None, "{bad}");
        }
    }
}
