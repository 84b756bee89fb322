//! A call on a single item: its result, or the item's error.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Call;
use crate::{Error, Outcome};

/// A call of one action on a single item, built by [`crate::Client::call_one`]
/// or a generated `*_one` method. `.await` it for the item's result; a failed
/// item is [`Error::Item`] (with its kind, field, status and message), a
/// failed call any other [`Error`].
#[must_use = "a call does nothing until it is awaited"]
pub struct One<I, P, R> {
    call: Call<I, P, R>,
}

impl<I, P, R> std::fmt::Debug for One<I, P, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("One").field("call", &self.call).finish()
    }
}

impl<I, P, R> One<I, P, R>
where
    I: Serialize + Send + Sync + 'static,
    P: Serialize + Send + Sync + 'static,
    R: DeserializeOwned + Send + 'static,
{
    pub(crate) fn new(call: Call<I, P, R>) -> Self {
        One { call }
    }

    /// The action's params (see [`Call::params`]).
    pub fn params(self, params: P) -> Self {
        One {
            call: self.call.params(params),
        }
    }

    /// The call behind this one, to set anything else a [`Call`] offers.
    pub fn into_call(self) -> Call<I, P, R> {
        self.call
    }
}

/// The single outcome of a one-item call as a result.
pub(crate) fn single<R>(outcomes: Vec<Outcome<R>>) -> Result<R, Error> {
    match outcomes.into_iter().next() {
        Some(Outcome::Success(r)) => Ok(r),
        Some(Outcome::Failed(e)) => Err(Error::Item(e)),
        Some(Outcome::NotAttempted) | None => {
            Err(Error::Interrupted("the item got no outcome".into()))
        }
    }
}

impl<I, P, R> IntoFuture for One<I, P, R>
where
    I: Serialize + Send + Sync + 'static,
    P: Serialize + Send + Sync + 'static,
    R: DeserializeOwned + Send + 'static,
{
    type Output = Result<R, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        let call = self.call.into_future();
        Box::pin(async move { single(call.await?) })
    }
}
