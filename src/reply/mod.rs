//! Reading the server's replies: a 2xx body mapped to items ([`decode_body`]), an
//! error body mapped to items, params and general messages ([`errors`]), and
//! what either means for a batch ([`Decision`]).

mod decode;
mod errors;

pub(crate) use decode::decode_body;
#[cfg(feature = "cache")]
pub(crate) use decode::result;
pub(crate) use errors::ErrorReport;

use crate::outcome::{ItemError, ItemErrorKind, Outcome};

/// Why a whole batch (or what is left of it) failed.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) kind: ItemErrorKind,
    pub(crate) status: Option<u16>,
    pub(crate) request_id: Option<String>,
    pub(crate) field: Option<String>,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn for_item(&self, index: usize) -> ItemError {
        ItemError {
            index,
            kind: self.kind,
            field: self.field.clone(),
            status: self.status,
            request_id: self.request_id.clone(),
            message: self.message.clone(),
        }
    }
}

/// What to do after the attempts on one batch.
pub(crate) enum Decision<R> {
    /// Every position has its outcome (by batch position).
    Done(Vec<Outcome<R>>),
    /// Some positions have outcomes; the rest (`None`) must be re-sent as a batch.
    Partial(Vec<Option<Outcome<R>>>),
    /// The error names no item: re-send every item alone (or fail them with this).
    ResendEach(Failure),
    /// Every item fails with this.
    FailAll(Failure),
}

impl<R> Decision<R> {
    pub(crate) fn with_status(self, status: u16, rid: Option<String>) -> Decision<R> {
        let fix = |mut e: ItemError| {
            if e.status.is_none() {
                e.status = Some(status);
            }
            if e.request_id.is_none() {
                e.request_id = rid.clone();
            }
            e
        };
        let fix_o = |o: Outcome<R>| match o {
            Outcome::Failed(e) => Outcome::Failed(fix(e)),
            o => o,
        };
        match self {
            Decision::Done(v) => Decision::Done(v.into_iter().map(fix_o).collect()),
            Decision::Partial(v) => {
                Decision::Partial(v.into_iter().map(|o| o.map(fix_o)).collect())
            }
            Decision::ResendEach(mut f) => {
                f.status.get_or_insert(status);
                if f.request_id.is_none() {
                    f.request_id = rid;
                }
                Decision::ResendEach(f)
            }
            Decision::FailAll(mut f) => {
                f.status.get_or_insert(status);
                if f.request_id.is_none() {
                    f.request_id = rid;
                }
                Decision::FailAll(f)
            }
        }
    }
}
