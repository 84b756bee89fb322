//! [`ClientBuilder`]: the async builder's settings, building a blocking client.

use std::path::PathBuf;
use std::time::Duration;

use crate::hooks::{AttemptInfo, RequestInfo};
use crate::rate_limit::RateLimit;
use crate::retry::RetryPolicy;
use crate::secret::Token;
use crate::{Error, Target};

/// A builder of a [`blocking::Client`](super::Client), with the same settings
/// as the async [`crate::ClientBuilder`] (each setter is documented there).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ClientBuilder {
    inner: crate::ClientBuilder,
}

/// Setters forwarded to the async builder.
macro_rules! forward {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            $(#[$doc])*
            pub fn $name(self, $($arg: $ty),*) -> Self {
                ClientBuilder { inner: self.inner.$name($($arg),*) }
            }
        )*
    };
}

impl ClientBuilder {
    /// A builder with the defaults (see [`crate::ClientBuilder::new`]).
    pub fn new() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A builder seeded from the environment (see [`crate::ClientBuilder::from_env`]).
    pub fn from_env() -> ClientBuilder {
        ClientBuilder {
            inner: crate::ClientBuilder::from_env(),
        }
    }

    forward! {
        /// See [`crate::ClientBuilder::base_url`].
        base_url(url: impl Into<String>);
        /// See [`crate::ClientBuilder::token`].
        token(token: impl Into<Token>);
        /// See [`crate::ClientBuilder::target`].
        target(target: Target);
        /// See [`crate::ClientBuilder::connect_timeout`].
        connect_timeout(d: Duration);
        /// See [`crate::ClientBuilder::request_timeout`].
        request_timeout(d: Duration);
        /// See [`crate::ClientBuilder::model_timeout`].
        model_timeout(slug: impl Into<String>, d: Duration);
        /// See [`crate::ClientBuilder::concurrency`].
        concurrency(n: usize);
        /// See [`crate::ClientBuilder::rate_limit`].
        rate_limit(limit: RateLimit);
        /// See [`crate::ClientBuilder::obey_throttle_rates`].
        obey_throttle_rates(yes: bool);
        /// See [`crate::ClientBuilder::retry`].
        retry(policy: RetryPolicy);
        /// See [`crate::ClientBuilder::compression`].
        compression(on: bool);
        /// See [`crate::ClientBuilder::accept_compressed_responses`].
        accept_compressed_responses(on: bool);
        /// See [`crate::ClientBuilder::ca_bundle`].
        ca_bundle(pem_file: impl Into<PathBuf>);
        /// See [`crate::ClientBuilder::untyped_batch_size`].
        untyped_batch_size(n: usize);
        /// See [`crate::ClientBuilder::max_response_bytes`].
        max_response_bytes(n: usize);
        /// See [`crate::ClientBuilder::http_client`].
        http_client(client: reqwest::Client);
        /// See [`crate::ClientBuilder::on_request`].
        on_request(hook: impl Fn(&mut RequestInfo<'_>) + Send + Sync + 'static);
        /// See [`crate::ClientBuilder::on_response`].
        on_response(hook: impl Fn(&AttemptInfo<'_>) + Send + Sync + 'static);
    }

    /// Builds the blocking client (see [`crate::ClientBuilder::build`]).
    pub fn build(self) -> Result<super::Client, Error> {
        super::Client::from_builder(self.inner)
    }
}

impl From<crate::ClientBuilder> for ClientBuilder {
    fn from(inner: crate::ClientBuilder) -> Self {
        ClientBuilder { inner }
    }
}
